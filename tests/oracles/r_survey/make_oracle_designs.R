# Reference numbers for multistage designs, the lonely-PSU rules, design effects, totals,
# quantiles, p.adjust and the likelihood interval at the edges, from R's survey package.
#
# Run from the repository root:
#   Rscript tests/oracles/r_survey/make_oracle_designs.R
# It writes, next to this script:
#   apiclus2.csv            the two-stage sample of the 'api' data shipped with survey
#   edges.csv               small invented designs (one and two design df, tiny domains)
#   reference_designs.csv   id, value (17 significant digits)
# The api data: R package survey (Thomas Lumley), licence GPL-2 | GPL-3; see SOURCES.md.
suppressPackageStartupMessages(library(survey))
out_dir <- "tests/oracles/r_survey"
data(api)

ids <- character(0); vals <- numeric(0)
put <- function(id, value) {
  value <- as.numeric(value)
  if (length(value) == 1) { ids <<- c(ids, id); vals <<- c(vals, value) }
  else { ids <<- c(ids, paste0(id, "[", seq_along(value), "]")); vals <<- c(vals, value) }
}
ci_methods <- c("logit", "likelihood", "asin", "beta", "mean", "xlogit")

clus2 <- apiclus2[, c("cds", "stype", "dnum", "snum", "api00", "sch.wide", "awards",
                      "enroll", "fpc1", "fpc2", "pw")]
clus2$stype <- as.character(clus2$stype)
clus2$sch.wide <- as.character(clus2$sch.wide)
clus2$awards <- as.character(clus2$awards)
clus2$yes <- as.numeric(clus2$sch.wide == "Yes")
write.csv(clus2, file.path(out_dir, "apiclus2.csv"), row.names = FALSE, na = "")
strat <- read.csv(file.path(out_dir, "apistrat.csv"), stringsAsFactors = FALSE)
strat$yes <- as.numeric(strat$sch.wide == "Yes")
# A lonely stratum: the first school of each type in a stratum of its own.
strat$lonely <- strat$stype
strat$lonely[match(c("E", "H"), strat$stype)] <- c("XE", "XH")
# A domain with one PSU in some strata: every elementary school and the first of the others.
strat$dom <- strat$stype == "E" | !duplicated(strat$stype)

estimates <- function(prefix, d, domains) {
  put(paste(prefix, "degf", sep = "/"), degf(d))
  for (g in names(domains)) {
    sub <- if (g == "All") d else subset(d, eval(domains[[g]]))
    key <- paste(prefix, g, sep = "/")
    m <- svymean(~api00, sub, deff = TRUE)
    put(paste(key, "mean", sep = "/"), c(coef(m), SE(m), deff(m)))
    t <- svytotal(~api00, sub, deff = TRUE)
    put(paste(key, "total", sep = "/"), c(coef(t), SE(t), deff(t)))
    m <- svymean(~yes, sub, deff = TRUE)
    put(paste(key, "prop", sep = "/"), c(coef(m), SE(m), deff(m)))
    for (meth in ci_methods) {
      ci <- tryCatch(svyciprop(~yes, sub, method = meth), error = function(e) NULL)
      if (!is.null(ci)) put(paste(key, "ciprop", meth, sep = "/"), attr(ci, "ci"))
    }
    q <- svyquantile(~api00, sub, c(0.25, 0.5, 0.9))
    put(paste(key, "quantile", sep = "/"), as.vector(t(q$api00[, 1:4])))
  }
}

options(survey.lonely.psu = "fail")
doms <- list(All = TRUE, E = quote(stype == "E"), H = quote(stype == "H"))
estimates("clus2_fpc", svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2), doms)
estimates("clus2_fpc_w", svydesign(id = ~dnum + snum, weights = ~pw, fpc = ~fpc1 + fpc2,
                                   data = clus2), doms)
estimates("clus2_nofpc", svydesign(id = ~dnum + snum, weights = ~pw, data = clus2), doms)
t <- svychisq(~sch.wide + stype, svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2))
put("clus2_fpc/svychisq/F", c(t$statistic, t$parameter, t$p.value))

sdoms <- list(All = TRUE, E = quote(stype == "E"), dom = quote(dom))
for (rule in c("certainty", "remove", "adjust", "average")) {
  for (dl in c(FALSE, TRUE)) {
    options(survey.lonely.psu = rule, survey.adjust.domain.lonely = dl)
    tag <- paste0(rule, if (dl) "_domain" else "")
    estimates(paste("lonely_strat", tag, sep = "/"),
              svydesign(id = ~1, strata = ~lonely, weights = ~pw, data = strat), sdoms)
    estimates(paste("lonely_clus", tag, sep = "/"),
              svydesign(id = ~dnum, strata = ~lonely, weights = ~pw, nest = TRUE, data = strat),
              sdoms)
  }
}
options(survey.lonely.psu = "fail", survey.adjust.domain.lonely = FALSE)

# Small designs: one and two design df, domains of two and three respondents.
edges <- data.frame(
  psu = c(1, 1, 1, 2, 2, 2, 3, 3),
  y = c(1, 0, 1, 0, 0, 1, 1, 0),
  w = c(1, 2, 1.5, 1, 3, 2, 2.5, 1),
  g = c("a", "a", "b", "b", "c", "c", "c", "b"))
write.csv(edges, file.path(out_dir, "edges.csv"), row.names = FALSE)
two <- svydesign(id = ~psu, weights = ~w, data = subset(edges, psu < 3))
three <- svydesign(id = ~psu, weights = ~w, data = edges)
for (lev in c(0.9, 0.95, 0.99)) for (meth in ci_methods) {
  for (spec in list(list("df1", two, TRUE), list("df2", three, TRUE),
                    list("df2_b", three, quote(g == "b")), list("df2_c", three, quote(g == "c")))) {
    d <- if (isTRUE(spec[[3]])) spec[[2]] else subset(spec[[2]], eval(spec[[3]]))
    ci <- tryCatch(svyciprop(~y, d, method = meth, level = lev), error = function(e) NULL)
    if (!is.null(ci) && all(is.finite(attr(ci, "ci"))))
      put(paste("edges", spec[[1]], lev, meth, sep = "/"), attr(ci, "ci"))
  }
}

p <- c(0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.04, NA, 0.0001, 0.04)
for (m in c("hochberg", "hommel", "BY")) {
  put(paste("padjust", m, sep = "/"), p.adjust(p[!is.na(p)], m))
  put(paste("padjust2", m, sep = "/"), p.adjust(c(0.02, 0.03), m))
}

write.csv(data.frame(id = ids, value = trimws(formatC(vals, digits = 17, format = "g"))),
          file.path(out_dir, "reference_designs.csv"), row.names = FALSE, quote = TRUE)
cat(sprintf("R %s, survey %s: %d reference numbers written\n", getRversion(),
            packageVersion("survey"), length(ids)))
