# Reference fixtures for dyadlab.history.time_to_event: survival::survfit (Kaplan–Meier,
# log-log confidence intervals), survival::coxph (Efron ties) and survival::survdiff
# (log-rank) on simulated ages at a first milestone, with censoring at the interview.
#
# Run from the repository root:  Rscript tests/reference/history.R
# Writes tests/reference/fixtures/history.json and tests/reference/data/history_*.csv.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
pk <- list(survival = as.character(packageVersion("survival")),
           jsonlite = as.character(packageVersion("jsonlite")))
today <- as.character(Sys.Date())
cases <- list()

sim <- function(n, seed) {
  set.seed(seed)
  x <- round(rnorm(n), 2)
  group <- sample(c("a", "b"), n, replace = TRUE)
  rate <- 0.12 * exp(0.5 * x + 0.6 * (group == "b"))
  onset <- 12 + rexp(n, rate)            # no first event before age 12
  interview <- runif(n, 15, 26)          # age at the interview (censoring)
  age <- round(pmin(onset, interview), 1)  # rounded: ties, as ages in years are
  data.frame(person = paste0("p", seq_len(n)), age = age,
             event = as.integer(onset <= interview), x = x, group = group)
}

for (spec in list(list("first_event_n150", 150, 31), list("first_event_n60", 60, 32))) {
  d <- sim(spec[[2]], spec[[3]])
  file <- paste0("history_", spec[[1]], ".csv")
  write.csv(d, file.path("tests/reference/data", file), row.names = FALSE)
  km <- survfit(Surv(age, event) ~ 1, data = d, conf.type = "log-log")
  cox <- coxph(Surv(age, event) ~ x + group, data = d, ties = "efron")
  s <- summary(cox)
  lr <- survdiff(Surv(age, event) ~ group, data = d)
  cases[[length(cases) + 1]] <- list(
    name = spec[[1]], model = "history_time_to_event",
    call = paste("survfit(Surv(age, event) ~ 1, conf.type = 'log-log');",
                 "coxph(Surv(age, event) ~ x + group, ties = 'efron');",
                 "survdiff(Surv(age, event) ~ group)"),
    script = "tests/reference/history.R", r_version = R.version.string, packages = pk,
    generated = today, data = paste0("repo:tests/reference/data/", file),
    args = list(time = "age", event = "event", covariates = c("x", "group"), by = "group"),
    expected = list(
      km = list(time = km$time, n_risk = km$n.risk, n_event = km$n.event,
                n_censor = km$n.censor, survival = km$surv, ci_low = km$lower,
                ci_high = km$upper),
      median = unname(summary(km)$table["median"]),
      cox = list(predictor = rownames(s$coefficients), estimate = unname(s$coefficients[, "coef"]),
                 se = unname(s$coefficients[, "se(coef)"]), statistic = unname(s$coefficients[, "z"]),
                 p = unname(s$coefficients[, "Pr(>|z|)"]),
                 ci_low = unname(log(s$conf.int[, "lower .95"])),
                 ci_high = unname(log(s$conf.int[, "upper .95"])),
                 loglik = cox$loglik[2], concordance = unname(cox$concordance["concordance"])),
      logrank = list(statistic = lr$chisq, df = length(lr$n) - 1,
                     p = pchisq(lr$chisq, length(lr$n) - 1, lower.tail = FALSE))
    ))
}
writeLines(toJSON(list(cases = cases), auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/fixtures/history.json")
