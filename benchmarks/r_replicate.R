# The R side of benchmarks/replicate_tables.py: the design-table workload on JKn replicates.
#
#   Rscript benchmarks/r_replicate.R replicate.csv results.csv N_TABLES N_ITEMS
#
# Times as.svrepdesign(type = "JKn") and, per table, svychisq(statistic = "F") and, per item,
# svyciprop(method = "logit"), after reading; writes name,value rows (seconds first).
suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")
args <- commandArgs(trailingOnly = TRUE)
n_tables <- as.integer(args[3])
n_items <- as.integer(args[4])
data <- read.csv(args[1], na.strings = "", stringsAsFactors = FALSE)
start <- proc.time()[["elapsed"]]
lin <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = data)
rep <- as.svrepdesign(lin, type = "JKn")
names <- character(0)
values <- numeric(0)
for (t in seq_len(n_tables) - 1) {
  f <- as.formula(sprintf("~row%d + phase", t))
  test <- svychisq(f, rep, statistic = "F")
  names <- c(names, sprintf("chisq/row%d", t)); values <- c(values, unname(test$statistic))
}
for (i in seq_len(n_items) - 1) {
  sub <- subset(rep, !is.na(data[[sprintf("item%d", i)]]))
  ci <- attr(svyciprop(as.formula(sprintf("~item%d", i)), sub, method = "logit"), "ci")
  names <- c(names, sprintf("ciprop/item%d/low", i), sprintf("ciprop/item%d/high", i))
  values <- c(values, unname(ci[1]), unname(ci[2]))
}
seconds <- proc.time()[["elapsed"]] - start
write.csv(data.frame(name = c("seconds", names), value = c(seconds, values)), args[2],
          row.names = FALSE)
