# Reference numbers for replicate-weight designs and calibration, computed with R's survey
# package.
#
# Run from the repository root:
#   Rscript tests/oracles/r_survey/replicate/make_oracle.R
# It writes, next to this script:
#   clus2_pairs.csv       apiclus2 with its 40 districts paired into 20 pseudo-strata
#   clus1_jk1.csv         apiclus1 with R's JK1 replicate weights (rw1..rw15)
#   clus1_boot.csv        apiclus1 with R's bootstrap replicate weights (rb1..rb50; seeded)
#   clus2_brr.csv         clus2_pairs with R's BRR replicate weights (rh1..rh24)
#   margins_clus1.csv     population counts of stype and sch.wide (from apipop)
#   margins_strat.csv     population counts of sch.wide, awards and api_band (from apipop)
#   reference.csv         one row per reference number: id, value (17 significant digits)
# It also reads ../apistrat.csv and ../apiclus1.csv (written by ../make_oracle.R).
# The Python tests read these files; R is not needed to run them.
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")
here <- "tests/oracles/r_survey/replicate"
data(api)

band <- function(x) as.character(cut(x, c(-Inf, 600, 700, 800, Inf), right = FALSE,
                                     labels = c("lt600", "600to699", "700to799", "800plus")))
strat <- read.csv("tests/oracles/r_survey/apistrat.csv", stringsAsFactors = FALSE)
clus1 <- read.csv("tests/oracles/r_survey/apiclus1.csv", stringsAsFactors = FALSE)

# apiclus2 with pseudo-strata: districts in order of their number, paired.
clus2 <- apiclus2[, c("snum", "dnum", "stype", "sch.wide", "awards", "api00", "api99",
                      "meals", "pw")]
for (v in c("stype", "sch.wide", "awards")) clus2[[v]] <- as.character(clus2[[v]])
clus2$api_band <- band(clus2$api00)
districts <- sort(unique(clus2$dnum))
clus2$pair <- sprintf("p%02d", (match(clus2$dnum, districts) + 1) %/% 2)
write.csv(clus2, file.path(here, "clus2_pairs.csv"), row.names = FALSE, na = "")

ids <- character(0)
vals <- numeric(0)
put <- function(id, value) {
  value <- tryCatch(as.numeric(value), error = function(e) stop("put ", id, ": ", conditionMessage(e)))
  if (length(value) == 0) { cat("no value:", id, "\n"); return(invisible()) }
  if (length(value) == 1) {
    ids <<- c(ids, id); vals <<- c(vals, value)
  } else {
    ids <<- c(ids, paste0(id, "[", seq_along(value), "]")); vals <<- c(vals, value)
  }
}

lin <- list(
  strat = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat),
  clus1 = svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1),
  clus2 = svydesign(id = ~dnum, strata = ~pair, weights = ~pw, data = clus2)
)

# Conversions (as.svrepdesign) and their replicate weights, in full.
conv <- list(
  strat_jkn = as.svrepdesign(lin$strat, type = "JKn"),
  clus1_jk1 = as.svrepdesign(lin$clus1, type = "JK1"),
  clus2_jkn = as.svrepdesign(lin$clus2, type = "JKn"),
  clus2_brr = as.svrepdesign(lin$clus2, type = "BRR"),
  clus2_fay = as.svrepdesign(lin$clus2, type = "Fay", fay.rho = 0.3)
)
for (cn in names(conv)) {
  d <- conv[[cn]]
  w <- weights(d, "analysis")
  put(paste("convert", cn, "dim", sep = "/"), dim(w))
  if (length(w) <= 5000) {
    put(paste("convert", cn, "weights", sep = "/"), as.vector(w))  # column-major
  } else {
    # Large matrices by their replicates' sums and sums of squares.
    put(paste("convert", cn, "colsums", sep = "/"), colSums(w))
    put(paste("convert", cn, "colsumsq", sep = "/"), colSums(w^2))
  }
  put(paste("convert", cn, "scale", sep = "/"), d$scale)
  put(paste("convert", cn, "rscales", sep = "/"), d$rscales)
}

# Replicate weights given as columns (svrepdesign), from R's own conversions.
jk1 <- conv$clus1_jk1
jk1w <- weights(jk1, "analysis"); colnames(jk1w) <- paste0("rw", seq_len(ncol(jk1w)))
write.csv(cbind(clus1, jk1w), file.path(here, "clus1_jk1.csv"), row.names = FALSE, na = "")
set.seed(20161)
boot <- as.svrepdesign(svydesign(id = ~dnum, weights = ~pw, data = clus1), type = "bootstrap",
                       replicates = 50)
bootw <- weights(boot, "analysis"); colnames(bootw) <- paste0("rb", seq_len(ncol(bootw)))
write.csv(cbind(clus1, bootw), file.path(here, "clus1_boot.csv"), row.names = FALSE, na = "")
brrw <- weights(conv$clus2_brr, "analysis"); colnames(brrw) <- paste0("rh", seq_len(ncol(brrw)))
write.csv(cbind(clus2, brrw), file.path(here, "clus2_brr.csv"), row.names = FALSE, na = "")
c1 <- cbind(clus1, jk1w, bootw)
c2 <- cbind(clus2, brrw)
put("given/jk1/scale", jk1$scale)
put("given/boot/scale", boot$scale)
given <- list(
  jk1 = svrepdesign(data = c1, repweights = "^rw[0-9]+$", weights = ~pw, type = "JK1",
                    scale = jk1$scale, combined.weights = TRUE),
  jk1_mse = svrepdesign(data = c1, repweights = "^rw[0-9]+$", weights = ~pw, type = "JK1",
                        scale = jk1$scale, combined.weights = TRUE, mse = TRUE),
  boot = svrepdesign(data = c1, repweights = "^rb[0-9]+$", weights = ~pw, type = "bootstrap",
                     combined.weights = TRUE),
  brr = svrepdesign(data = c2, repweights = "^rh[0-9]+$", weights = ~pw, type = "BRR",
                    combined.weights = TRUE),
  fay = svrepdesign(data = cbind(clus2, weights(conv$clus2_fay, "analysis")),
                    repweights = "^[0-9]+$", weights = ~pw, type = "Fay", rho = 0.3,
                    combined.weights = TRUE)
)
# The Fay columns are named 1..R by cbind; keep R's copy of the design above only.
designs <- c(given, conv)

ci_methods <- c("logit", "asin", "beta", "mean", "xlogit")
for (dn in names(designs)) {
  d <- designs[[dn]]
  key <- function(...) paste(dn, ..., sep = "/")
  put(key("degf"), degf(d))
  m <- svymean(~api00, d); put(key("mean/api00/estimate"), coef(m)); put(key("mean/api00/se"), SE(m))
  t <- svytotal(~api00, d); put(key("total/api00/estimate"), coef(t)); put(key("total/api00/se"), SE(t))
  m <- svymean(~meals, d); put(key("mean/meals/estimate"), coef(m)); put(key("mean/meals/se"), SE(m))
  # Domains as subsets (svyby's splitting of a design with replicate columns in its data
  # misbehaves in survey 4.1.1; a subset is the definition it applies).
  for (g in c("E", "H", "M")) {
    sub <- subset(d, stype == g)
    m <- svymean(~api00, sub)
    put(key("by/api00", g, "estimate"), coef(m)); put(key("by/api00", g, "se"), SE(m))
    put(key("degf_domain", g), degf(sub))
  }
  for (meth in ci_methods) {
    ci <- svyciprop(~I(sch.wide == "Yes"), d, method = meth)
    put(key("ciprop/All", meth, "estimate"), coef(ci)); put(key("ciprop/All", meth, "se"), SE(ci))
    put(key("ciprop/All", meth, "ci"), attr(ci, "ci"))
    for (g in c("E", "M")) {
      ci <- svyciprop(~I(sch.wide == "Yes"), subset(d, stype == g), method = meth)
      put(key("ciprop", g, meth, "estimate"), coef(ci)); put(key("ciprop", g, meth, "ci"), attr(ci, "ci"))
      put(key("ciprop", g, meth, "se"), SE(ci))
    }
  }
  # Column shares of api_band by stype (the crosstab), and overall.
  lv <- c("600to699", "700to799", "800plus", "lt600")
  for (g in c("E", "H", "M")) {
    m <- svymean(~api_band, subset(d, stype == g))
    for (l in lv) {
      put(key("share/api_band", g, l, "estimate"), coef(m)[paste0("api_band", l)])
      put(key("share/api_band", g, l, "se"), SE(m)[match(paste0("api_band", l), names(coef(m)))])
    }
  }
  m <- svymean(~api_band, d)
  for (l in lv) {
    put(key("share/api_band/All", l, "estimate"), coef(m)[paste0("api_band", l)])
    put(key("share/api_band/All", l, "se"), SE(m)[match(paste0("api_band", l), names(coef(m)))])
  }
  for (pair in list(c("sch.wide", "stype"), c("api_band", "stype"))) {
    f <- as.formula(paste("~", pair[1], "+", pair[2]))
    for (stat in c("F", "Chisq", "Wald", "adjWald")) {
      t <- svychisq(f, d, statistic = stat)
      k <- key("chisq", pair[1], pair[2], stat)
      put(paste(k, "statistic", sep = "/"), t$statistic)
      put(paste(k, "parameter", sep = "/"), t$parameter)
      put(paste(k, "p_value", sep = "/"), t$p.value)
    }
  }
}

# Calibration. Population counts from apipop, the population the api samples were drawn from.
pop <- apipop
pop$api_band <- band(pop$api00)
counts <- function(v) {
  t <- table(as.character(pop[[v]]))
  data.frame(variable = v, level = names(t), count = as.vector(t))
}
margins_clus1 <- rbind(counts("stype"), counts("sch.wide"))
margins_strat <- rbind(counts("sch.wide"), counts("awards"), counts("api_band"))
write.csv(margins_clus1, file.path(here, "margins_clus1.csv"), row.names = FALSE)
write.csv(margins_strat, file.path(here, "margins_strat.csv"), row.names = FALSE)
popdf <- function(m, v) {
  x <- m[m$variable == v, c("level", "count")]
  names(x) <- c(v, "Freq")
  x
}
cal <- list(
  clus1_ps = postStratify(lin$clus1, ~stype, popdf(margins_clus1, "stype")),
  strat_ps = postStratify(lin$strat, ~api_band, popdf(margins_strat, "api_band")),
  clus1_rake = rake(lin$clus1, list(~stype, ~sch.wide),
                    list(popdf(margins_clus1, "stype"), popdf(margins_clus1, "sch.wide"))),
  strat_rake = rake(lin$strat, list(~sch.wide, ~awards, ~api_band),
                    list(popdf(margins_strat, "sch.wide"), popdf(margins_strat, "awards"),
                         popdf(margins_strat, "api_band")))
)
cal$clus1_rake_trim <- trimWeights(cal$clus1_rake, upper = 50, lower = 30, strict = TRUE)
cal$strat_trim <- trimWeights(lin$strat, upper = 38, lower = 17, strict = FALSE)
cal$strat_trim_strict <- trimWeights(lin$strat, upper = 38, lower = 17, strict = TRUE)
for (cn in names(cal)) {
  d <- cal[[cn]]
  key <- function(...) paste("calib", cn, ..., sep = "/")
  put(key("weights"), weights(d))
  m <- svymean(~api00, d); put(key("mean/api00/estimate"), coef(m)); put(key("mean/api00/se"), SE(m))
  m <- svymean(~I(sch.wide == "Yes"), d)
  put(key("mean/sch_wide_yes/estimate"), coef(m)[2]); put(key("mean/sch_wide_yes/se"), SE(m)[2])
  t <- svytotal(~api00, d); put(key("total/api00/estimate"), coef(t)); put(key("total/api00/se"), SE(t))
  by <- svyby(~api00, ~stype, d, svymean)
  for (g in rownames(by)) {
    put(key("by/api00", g, "estimate"), by[g, "api00"]); put(key("by/api00", g, "se"), by[g, "se"])
  }
  for (meth in c("logit", "asin", "beta", "mean", "xlogit")) {
    for (g in c("All", "E")) {
      sub <- if (g == "All") d else subset(d, stype == g)
      ci <- svyciprop(~I(awards == "Yes"), sub, method = meth)
      put(key("ciprop/awards", g, meth, "estimate"), coef(ci))
      put(key("ciprop/awards", g, meth, "se"), SE(ci))
      put(key("ciprop/awards", g, meth, "ci"), attr(ci, "ci"))
    }
  }
}
# Raking that runs out of passes: R warns (the Python engine refuses, CALIB_003).
nonconv <- withCallingHandlers(
  rake(lin$strat, list(~sch.wide, ~awards, ~api_band),
       list(popdf(margins_strat, "sch.wide"), popdf(margins_strat, "awards"),
            popdf(margins_strat, "api_band")), control = list(maxit = 1, epsilon = 1e-9)),
  warning = function(w) { put("calib/strat_rake_maxit1/warned", 1); invokeRestart("muffleWarning") })

write.csv(data.frame(id = ids, value = trimws(formatC(vals, digits = 17, format = "g"))),
          file.path(here, "reference.csv"), row.names = FALSE, quote = TRUE)
cat(sprintf("R %s, survey %s: %d reference numbers written\n", getRversion(),
            packageVersion("survey"), length(ids)))
