# Reference numbers for report tables under replicate weights and after calibration, and for
# the design-based test of change between two independent samples, computed with R's survey
# package.
#
# Run from the repository root:
#   Rscript tests/oracles/r_survey/replicate/make_oracle_tables.R
# It reads the fixtures written by make_oracle.R (clus2_pairs.csv, clus1_jk1.csv,
# clus2_brr.csv, margins_clus1.csv, margins_strat.csv, ../apistrat.csv, ../apiclus1.csv) and
# writes reference_tables.csv next to this script: id, value (17 significant digits).
#
# A report table is a single-choice table (api_band by stype, or by sch.wide) with every
# cell's share, standard error and svyciprop interval on the subset of its column, and the
# svychisq test of the table; and a check-all table (0/1 items by stype) with each item's
# cells and its svychisq test. The Python tests read these numbers; R is not needed to run
# them.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")
here <- "tests/oracles/r_survey/replicate"

ids <- character(0)
vals <- numeric(0)
put <- function(id, value) {
  value <- as.numeric(value)
  if (length(value) == 0) { cat("no value:", id, "\n"); return(invisible()) }
  if (length(value) == 1) {
    ids <<- c(ids, id); vals <<- c(vals, value)
  } else {
    ids <<- c(ids, paste0(id, "[", seq_along(value), "]")); vals <<- c(vals, value)
  }
}

clus2 <- read.csv(file.path(here, "clus2_pairs.csv"), stringsAsFactors = FALSE)
brr <- read.csv(file.path(here, "clus2_brr.csv"), stringsAsFactors = FALSE)
jk1 <- read.csv(file.path(here, "clus1_jk1.csv"), stringsAsFactors = FALSE)
strat <- read.csv("tests/oracles/r_survey/apistrat.csv", stringsAsFactors = FALSE)
clus1 <- read.csv("tests/oracles/r_survey/apiclus1.csv", stringsAsFactors = FALSE)
margins_clus1 <- read.csv(file.path(here, "margins_clus1.csv"), stringsAsFactors = FALSE)
margins_strat <- read.csv(file.path(here, "margins_strat.csv"), stringsAsFactors = FALSE)
items <- function(d) {
  d$ca_sch_wide <- as.numeric(d$sch.wide == "Yes")
  d$ca_awards <- as.numeric(d$awards == "Yes")
  d$ca_meals <- as.numeric(d$meals > 50)
  d
}
clus2 <- items(clus2); brr <- items(brr); jk1 <- items(jk1)
strat <- items(strat); clus1 <- items(clus1)
popdf <- function(m, v) {
  x <- m[m$variable == v, c("level", "count")]
  names(x) <- c(v, "Freq")
  x
}

jk1_scale <- 14 / 15
designs <- list(
  # converted from the linearisation design, as [settings.design.replicates] without columns
  clus2_jkn = as.svrepdesign(svydesign(id = ~dnum, strata = ~pair, weights = ~pw, data = clus2),
                             type = "JKn"),
  clus2_fay = as.svrepdesign(svydesign(id = ~dnum, strata = ~pair, weights = ~pw, data = clus2),
                             type = "Fay", fay.rho = 0.5),
  # replicate-weight columns supplied with the data
  brr = svrepdesign(data = brr, repweights = "^rh[0-9]+$", weights = ~pw, type = "BRR",
                    combined.weights = TRUE),
  jk1 = svrepdesign(data = jk1, repweights = "^rw[0-9]+$", weights = ~pw, type = "JK1",
                    scale = jk1_scale, combined.weights = TRUE),
  # calibrated linearisation designs
  clus1_ps = postStratify(svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1),
                          ~stype, popdf(margins_clus1, "stype")),
  strat_rake = rake(svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat),
                    list(~sch.wide, ~awards),
                    list(popdf(margins_strat, "sch.wide"), popdf(margins_strat, "awards")))
)
# The banner of each design's tables (calibrated designs: a variable not calibrated on).
banner <- list(clus2_jkn = "stype", clus2_fay = "stype", brr = "stype", jk1 = "stype",
               clus1_ps = "sch.wide", strat_rake = "stype")
bands <- c("lt600", "600to699", "700to799", "800plus")
checkall <- c("ca_sch_wide", "ca_awards", "ca_meals")

for (dn in names(designs)) {
  d <- designs[[dn]]
  by <- banner[[dn]]
  key <- function(...) paste("tables", dn, ..., sep = "/")
  groups <- sort(unique(d$variables[[by]]))
  for (g in c("All", groups)) {
    sub <- if (g == "All") d else d[d$variables[[by]] == g, ]
    for (l in bands) {
      f <- as.formula(sprintf("~I(as.numeric(api_band == '%s'))", l))
      for (meth in c("logit", "mean")) {
        ci <- svyciprop(f, sub, method = meth)
        put(key("single", g, l, meth, "estimate"), coef(ci))
        put(key("single", g, l, meth, "se"), SE(ci))
        put(key("single", g, l, meth, "ci"), attr(ci, "ci"))
      }
    }
    for (item in checkall) {
      if (item == "ca_sch_wide" && dn == "strat_rake") next  # calibrated on: no variance
      ci <- svyciprop(as.formula(paste0("~", item)), sub, method = "logit")
      put(key("multi", g, item, "estimate"), coef(ci))
      put(key("multi", g, item, "se"), SE(ci))
      put(key("multi", g, item, "ci"), attr(ci, "ci"))
    }
  }
  for (stat in c("F", "Wald")) {
    t <- svychisq(as.formula(paste("~api_band +", by)), d, statistic = stat)
    put(key("single/chisq", stat, "statistic"), t$statistic)
    put(key("single/chisq", stat, "parameter"), t$parameter)
    put(key("single/chisq", stat, "p_value"), t$p.value)
  }
  for (item in checkall) {
    if (item == "ca_sch_wide" && dn == "strat_rake") next
    t <- svychisq(as.formula(paste0("~", item, " + ", by)), d, statistic = "F")
    put(key("multi/chisq", item, "statistic"), t$statistic)
    put(key("multi/chisq", item, "parameter"), t$parameter)
    put(key("multi/chisq", item, "p_value"), t$p.value)
  }
}

# The test of change between two independent samples (two waves): apistrat as the first wave,
# apiclus1 as the second, stacked as one design stratified by wave (the strata and PSUs of
# each wave kept apart). The difference of the two waves' proportions is svycontrast of
# svyby's domain means, its degrees of freedom degf of the stacked design: the two waves'
# design df added together.
a <- strat; a$wave <- "w1"; a$psu <- paste0("a", a$snum); a$stratum <- paste0("a", a$stype)
b <- clus1; b$wave <- "w2"; b$psu <- paste0("b", b$dnum); b$stratum <- "b"
keep <- c("wave", "psu", "stratum", "pw", "ca_sch_wide", "ca_awards", "ca_meals", "stype")
both <- rbind(a[, keep], b[, keep])
stacked <- svydesign(id = ~psu, strata = ~stratum, weights = ~pw, data = both)
put("change/degf", degf(stacked))
put("change/degf/w1", degf(svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat)))
put("change/degf/w2", degf(svydesign(id = ~dnum, weights = ~pw, data = clus1)))
for (item in checkall) {
  est <- svyby(as.formula(paste0("~", item)), ~wave, stacked, svymean, covmat = TRUE)
  diff <- svycontrast(est, c(w1 = -1, w2 = 1))
  t <- coef(diff) / SE(diff)
  put(paste("change", item, "w1", sep = "/"), coef(est)[1])
  put(paste("change", item, "w2", sep = "/"), coef(est)[2])
  put(paste("change", item, "difference", sep = "/"), coef(diff))
  put(paste("change", item, "se", sep = "/"), SE(diff))
  put(paste("change", item, "p_value", sep = "/"), 2 * pt(-abs(t), degf(stacked)))
}

write.csv(data.frame(id = ids, value = trimws(formatC(vals, digits = 17, format = "g"))),
          file.path(here, "reference_tables.csv"), row.names = FALSE, quote = TRUE)
cat(sprintf("R %s, survey %s: %d reference numbers written\n", getRversion(),
            packageVersion("survey"), length(ids)))
