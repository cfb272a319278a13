# Reference numbers for the statistics engine, computed with R's survey package and base R.
#
# Run from the repository root:
#   Rscript tests/oracles/r_survey/make_oracle.R
# It writes, next to this script:
#   apistrat.csv, apiclus1.csv  the data used (from the 'api' data shipped with survey)
#   reference.csv               one row per reference number: id, value (17 significant digits)
# The Python tests read these files; R is not needed to run them.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

out_dir <- "tests/oracles/r_survey"
data(api)

band <- function(x) as.character(cut(x, c(-Inf, 600, 700, 800, Inf), right = FALSE,
                                     labels = c("lt600", "600to699", "700to799", "800plus")))
prep <- function(d) {
  d$api_band <- band(d$api00)
  d$stype <- as.character(d$stype)
  for (v in c("sch.wide", "comp.imp", "both", "awards", "yr.rnd")) d[[v]] <- as.character(d[[v]])
  # A check-all style block: four 0/1 indicators, missing (not shown the question) for
  # year-round schools.
  seen <- d$yr.rnd == "No"
  for (v in c("sch.wide", "comp.imp", "both", "awards")) {
    item <- ifelse(d[[v]] == "Yes", 1, 0)
    item[!seen] <- NA
    d[[paste0("ca_", gsub(".", "_", v, fixed = TRUE))]] <- item
  }
  d$ca_any <- ifelse(seen, as.numeric(d$ca_sch_wide + d$ca_comp_imp + d$ca_both + d$ca_awards > 0), NA)
  d
}
keep <- c("snum", "dnum", "stype", "sch.wide", "comp.imp", "both", "awards", "yr.rnd",
          "api00", "enroll", "meals", "pw", "fpc", "api_band",
          "ca_sch_wide", "ca_comp_imp", "ca_both", "ca_awards", "ca_any")
strat <- prep(apistrat)[, keep]
clus1 <- prep(apiclus1)[, keep]
write.csv(strat, file.path(out_dir, "apistrat.csv"), row.names = FALSE, na = "")
write.csv(clus1, file.path(out_dir, "apiclus1.csv"), row.names = FALSE, na = "")

designs <- list(
  strat_fpc = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat),
  strat_nofpc = svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat),
  clus1_fpc = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1),
  clus1_nofpc = svydesign(id = ~dnum, weights = ~pw, data = clus1)
)

ids <- character(0)
vals <- numeric(0)
put <- function(id, value) {
  value <- as.numeric(value)
  if (length(value) == 1) {
    ids <<- c(ids, id); vals <<- c(vals, value)
  } else {
    ids <<- c(ids, paste0(id, "[", seq_along(value), "]")); vals <<- c(vals, value)
  }
}
skipped <- character(0)
ci_methods <- c("logit", "likelihood", "asin", "beta", "mean", "xlogit")

for (dn in names(designs)) {
  d <- designs[[dn]]
  put(paste(dn, "degf", sep = "/"), degf(d))
  # Weighted two-way counts, column-major as R stores them; the test states the layout.
  for (pair in list(c("sch.wide", "stype"), c("api_band", "stype"))) {
    f <- as.formula(paste("~", pair[1], "+", pair[2]))
    tab <- svytable(f, d)
    for (r in rownames(tab)) for (cc in colnames(tab))
      put(paste(dn, "svytable", pair[1], pair[2], r, cc, sep = "/"), tab[r, cc])
    for (stat in c("F", "Chisq", "Wald", "adjWald")) {
      t <- svychisq(f, d, statistic = stat)
      key <- paste(dn, "svychisq", pair[1], pair[2], stat, sep = "/")
      put(paste(key, "statistic", sep = "/"), t$statistic)
      put(paste(key, "parameter", sep = "/"), t$parameter)
      put(paste(key, "p_value", sep = "/"), t$p.value)
    }
  }
  # Proportions with intervals, overall and by domain.
  for (spec in list(c("sch.wide", "Yes"), c("api_band", "800plus"), c("awards", "Yes"))) {
    v <- spec[1]; lev <- spec[2]
    f <- as.formula(sprintf("~I(%s == '%s')", v, lev))
    m <- svymean(f, d)
    put(paste(dn, "svymean", v, lev, "All", "estimate", sep = "/"), coef(m)[2])
    put(paste(dn, "svymean", v, lev, "All", "se", sep = "/"), SE(m)[2])
    for (meth in ci_methods) {
      ci <- svyciprop(f, d, method = meth)
      key <- paste(dn, "svyciprop", v, lev, "All", meth, sep = "/")
      put(paste(key, "estimate", sep = "/"), coef(ci))
      put(paste(key, "ci", sep = "/"), attr(ci, "ci"))
    }
    for (g in sort(unique(d$variables$stype))) {
      sub <- subset(d, stype == g)
      m <- svymean(f, sub)
      put(paste(dn, "svymean", v, lev, g, "estimate", sep = "/"), coef(m)[2])
      put(paste(dn, "svymean", v, lev, g, "se", sep = "/"), SE(m)[2])
      if (v == "sch.wide") put(paste(dn, "degf_domain", g, sep = "/"), degf(sub))
      for (meth in ci_methods) {
        # R's profile search can stop with an error for extreme domains; those cases
        # are left out (and counted in the log) rather than guessed.
        ci <- tryCatch(svyciprop(f, sub, method = meth), error = function(e) NULL)
        if (is.null(ci)) { skipped <<- c(skipped, paste(dn, v, lev, g, meth)); next }
        key <- paste(dn, "svyciprop", v, lev, g, meth, sep = "/")
        put(paste(key, "estimate", sep = "/"), coef(ci))
        put(paste(key, "ci", sep = "/"), attr(ci, "ci"))
      }
    }
  }
  # Check-all block: base is those who answered (not year-round schools).
  answered <- subset(d, !is.na(ca_sch_wide))
  for (item in c("ca_sch_wide", "ca_comp_imp", "ca_both", "ca_awards", "ca_any")) {
    m <- svymean(as.formula(paste("~", item)), answered)
    put(paste(dn, "checkall", item, "estimate", sep = "/"), coef(m))
    put(paste(dn, "checkall", item, "se", sep = "/"), SE(m))
    ci <- svyciprop(as.formula(paste("~", item)), answered, method = "logit")
    put(paste(dn, "checkall", item, "logit", sep = "/"), attr(ci, "ci"))
  }
  # Numeric summary by group.
  m <- svyby(~api00, ~stype, d, svymean)
  for (g in rownames(m)) {
    put(paste(dn, "svyby_mean", "api00", g, "estimate", sep = "/"), m[g, "api00"])
    put(paste(dn, "svyby_mean", "api00", g, "se", sep = "/"), m[g, "se"])
  }
  m <- svymean(~api00, d)
  put(paste(dn, "svymean_num", "api00", "All", "estimate", sep = "/"), coef(m))
  put(paste(dn, "svymean_num", "api00", "All", "se", sep = "/"), SE(m))
}

# Unweighted tests on the stratified sample's rows.
tabs <- list(
  sch_wide_by_awards = table(strat$sch.wide, strat$awards),
  band_by_stype = table(strat$api_band, strat$stype),
  clus1_band_by_stype = table(clus1$api_band, clus1$stype),
  small_3x3 = matrix(c(3, 1, 0, 2, 4, 1, 0, 2, 5), nrow = 3)
)
for (tn in names(tabs)) {
  tab <- tabs[[tn]]
  put(paste("srs", tn, "table", sep = "/"), as.vector(tab))  # column-major
  put(paste("srs", tn, "dim", sep = "/"), dim(tab))
  for (corr in c(TRUE, FALSE)) {
    t <- suppressWarnings(chisq.test(tab, correct = corr))
    key <- paste("srs", tn, "chisq", if (corr) "yates" else "none", sep = "/")
    put(paste(key, "statistic", sep = "/"), t$statistic)
    put(paste(key, "df", sep = "/"), t$parameter)
    put(paste(key, "p_value", sep = "/"), t$p.value)
  }
  put(paste("srs", tn, "fisher", "p_value", sep = "/"), fisher.test(tab, workspace = 2e8)$p.value)
}

# Binomial intervals.
xn <- list(c(0, 10), c(1, 10), c(3, 17), c(10, 10), c(7, 50), c(25, 60), c(199, 200), c(1, 1))
for (p in xn) {
  x <- p[1]; n <- p[2]
  key <- paste("binom", x, n, sep = "/")
  put(paste(key, "clopper_pearson", sep = "/"), binom.test(x, n)$conf.int)
  put(paste(key, "wilson", sep = "/"), prop.test(x, n, correct = FALSE)$conf.int)
  put(paste(key, "wilson_cc", sep = "/"), prop.test(x, n, correct = TRUE)$conf.int)
  put(paste(key, "clopper_pearson_90", sep = "/"), binom.test(x, n, conf.level = 0.9)$conf.int)
  put(paste(key, "wilson_90", sep = "/"), prop.test(x, n, correct = FALSE, conf.level = 0.9)$conf.int)
}

# Cochran-Armitage trend test.
t <- prop.trend.test(c(15, 10, 8, 4), c(20, 20, 20, 20))
put("trend/equal_n/statistic", t$statistic); put("trend/equal_n/p_value", t$p.value)
t <- prop.trend.test(c(2, 9, 14, 20), c(11, 25, 30, 26), score = c(1, 2, 4, 8))
put("trend/scored/statistic", t$statistic); put("trend/scored/p_value", t$p.value)
yes <- table(strat$api_band, strat$sch.wide)
t <- prop.trend.test(yes[c("lt600", "600to699", "700to799", "800plus"), "Yes"],
                     rowSums(yes)[c("lt600", "600to699", "700to799", "800plus")])
put("trend/api_band_sch_wide/statistic", t$statistic); put("trend/api_band_sch_wide/p_value", t$p.value)

# Multiple-comparison adjustment.
p <- c(0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.04)
put("padjust/input", p)
for (m in c("holm", "BH", "bonferroni")) put(paste("padjust", m, sep = "/"), p.adjust(p, m))

write.csv(data.frame(id = ids, value = trimws(formatC(vals, digits = 17, format = "g"))),
          file.path(out_dir, "reference.csv"), row.names = FALSE, quote = TRUE)
if (length(skipped)) cat("skipped (R error):", skipped, sep = "\n  ")
cat(sprintf("R %s, survey %s: %d reference numbers written\n", getRversion(),
            packageVersion("survey"), length(ids)))
