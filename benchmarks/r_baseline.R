# The R baseline of `pulsecheck bench`: the same design-based tables, with R's survey package.
#
#   Rscript benchmarks/r_baseline.R design.csv plan.tsv results.csv [JKn]
#
# With JKn, the replicate-weight case: each PSU's group within its stratum
# (((psu - 1) %/% 10) %% 4, as benchmarks/design_tables.py) is the PSU, and the design is
# converted to JKn replicate weights (as.svrepdesign, timed with the design) before the same
# tables.
#
# design.csv  the comparison file written by the benchmark (answers, phase, stratum, psu, w)
# plan.tsv    one line per table: "chisq<TAB>row<TAB>col" or "ciprop<TAB>item"
# results.csv one line per step: step, seconds, and the headline numbers for comparison
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

args <- commandArgs(trailingOnly = TRUE)
plan <- read.delim(args[2], header = FALSE, sep = "\t", colClasses = "character",
                   col.names = c("kind", "a", "b"), fill = TRUE)
rows <- list()
put <- function(step, seconds, name = "", statistic = NA, p_value = NA, estimate = NA,
                ci_low = NA, ci_high = NA) {
  rows[[length(rows) + 1]] <<- data.frame(step = step, name = name, seconds = seconds,
                                          statistic = statistic, p_value = p_value,
                                          estimate = estimate, ci_low = ci_low,
                                          ci_high = ci_high)
}
timed <- function(expr) {
  start <- proc.time()[["elapsed"]]
  value <- force(expr)
  list(value = value, seconds = proc.time()[["elapsed"]] - start)
}

# Answers are text (blank = missing); design columns are numbers.
r <- timed(read.csv(args[1], colClasses = "character", na.strings = "", check.names = FALSE))
data <- r$value
data$stratum <- as.integer(data$stratum)
data$psu <- as.integer(data$psu)
data$w <- as.numeric(data$w)
put("read", r$seconds)

replicates <- length(args) >= 4
if (replicates) {
  data$rpsu <- ((data$psu - 1) %/% 10) %% 4 + 1
  r <- timed(as.svrepdesign(svydesign(id = ~rpsu, strata = ~stratum, weights = ~w,
                                      nest = TRUE, data = data), type = args[4]))
} else {
  r <- timed(svydesign(id = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = data))
}
design <- r$value
put("design", r$seconds)

for (i in seq_len(nrow(plan))) {
  if (plan$kind[i] == "chisq") {
    formula <- as.formula(sprintf("~`%s` + `%s`", plan$a[i], plan$b[i]))
    r <- timed(svychisq(formula, design, statistic = "F"))
    put("chisq", r$seconds, paste(plan$a[i], plan$b[i], sep = " x "),
        statistic = unname(r$value$statistic), p_value = unname(r$value$p.value))
  } else {
    data_item <- as.numeric(data[[plan$a[i]]])
    sub <- subset(update(design, bench_item = data_item), !is.na(bench_item))
    r <- timed(svyciprop(~bench_item, sub, method = "logit"))
    ci <- attr(r$value, "ci")
    put("ciprop", r$seconds, plan$a[i], estimate = as.numeric(r$value),
        ci_low = unname(ci[1]), ci_high = unname(ci[2]))
  }
}
write.csv(do.call(rbind, rows), args[3], row.names = FALSE)
