# Reference values of the standardised APIM effects (beta) that the APA tables print
# (tests/report/test_apa_beta.py).
#
# Run from the repository root:  Rscript tests/reference/apim_standardized.R
# Writes tests/reference/fixtures/apim_standardized.json.
#
# lavaan::sem() on the dyad-wide Acitelli data (distinguishable APIM, complete data);
# standardizedSolution(fit, type = "std.all") gives beta = b * SD(x) / SD(y) with the
# model-implied SDs, which equal the sample SDs here: the APIM is saturated in the
# outcomes' and predictors' covariances.
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})

aci <- read.csv("src/dyadlab/data/datasets/acitelli.csv")
roles <- sort(unique(aci$gender))
ids <- unique(aci$cuplid)
w <- data.frame(cuplid = ids)
for (v in c("satisfaction", "tension")) for (m in 1:2) {
  s <- aci[aci$gender == roles[m], ]
  w[[paste0(v, "_", m)]] <- s[[v]][match(ids, s$cuplid)]
}
model <- "
satisfaction_1 ~ a1*tension_1 + p1*tension_2
satisfaction_2 ~ a2*tension_2 + p2*tension_1
satisfaction_1 ~~ satisfaction_2
"
fit <- sem(model, data = w, meanstructure = TRUE)
std <- standardizedSolution(fit, type = "std.all")
rows <- list()
for (m in 1:2) {
  for (eff in c("actor", "partner")) {
    lab <- paste0(if (eff == "actor") "a" else "p", m)
    pe <- parameterEstimates(fit)
    row <- which(pe$label == lab)
    rows[[length(rows) + 1]] <- list(effect = eff, predictor = "tension",
      role = format(roles[m], scientific = FALSE, trim = TRUE),
      estimate = pe$est[row], beta = std$est.std[row])
  }
}
case <- list(name = "acitelli_tension_sem_std_all", model = "apim_standardized",
  call = paste0("standardizedSolution(lavaan::sem(model, data = wide, meanstructure = TRUE), ",
                "type = \"std.all\")  # model:", model),
  script = "tests/reference/apim_standardized.R",
  r_version = R.version.string,
  packages = list(lavaan = as.character(packageVersion("lavaan"))),
  generated = as.character(Sys.Date()),
  data = "repo:src/dyadlab/data/datasets/acitelli.csv",
  args = list(y = "satisfaction", x = "tension", dyad = "cuplid", role = "gender"),
  expected = list(effects = rows))
writeLines(toJSON(list(cases = list(case)), auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/fixtures/apim_standardized.json")
