# Reference fixtures for dyadlab.observe: psych::cohen.kappa and psych::ICC on
# simulated codings and ratings, and nlme::lme for the couple-level model of Yule's Q.
#
# Run from the repository root:  Rscript tests/reference/observe.R
# Writes tests/reference/fixtures/observe.json and the simulated data sets
# tests/reference/data/observe_*.csv (made here with set.seed, small).
suppressPackageStartupMessages({
  library(psych)
  library(nlme)
  library(jsonlite)
})
pk <- list(psych = as.character(packageVersion("psych")),
           nlme = as.character(packageVersion("nlme")),
           jsonlite = as.character(packageVersion("jsonlite")))
today <- as.character(Sys.Date())
cases <- list()
case <- function(name, model, call, file, args, expected) {
  list(name = name, model = model, call = call, script = "tests/reference/observe.R",
       r_version = R.version.string, packages = pk, generated = today,
       data = paste0("repo:tests/reference/data/", file), args = args, expected = expected)
}

# --- Cohen's kappa: two coders, a true code plus coder noise -----------------------
sim_codes <- function(n, k, err, seed) {
  set.seed(seed)
  truth <- sample(seq_len(k), n, replace = TRUE, prob = rev(seq_len(k)))
  noisy <- function() ifelse(runif(n) < err, pmin(k, pmax(1, truth + sample(c(-1, 1), n, TRUE))), truth)
  data.frame(unit = rep(seq_len(n), 2), coder = rep(c("A", "B"), each = n),
             code = c(noisy(), noisy()))
}
for (spec in list(list("cohen_3cat", 120, 3, 0.25, 11), list("cohen_5cat", 200, 5, 0.4, 12))) {
  d <- sim_codes(spec[[2]], spec[[3]], spec[[4]], spec[[5]])
  file <- paste0("observe_", spec[[1]], ".csv")
  write.csv(d, file.path("tests/reference/data", file), row.names = FALSE)
  x <- cbind(d$code[d$coder == "A"], d$code[d$coder == "B"])
  ck <- cohen.kappa(x)  # quadratic weights by default
  cases[[length(cases) + 1]] <- case(
    spec[[1]], "observe_cohen", "psych::cohen.kappa(cbind(codeA, codeB))", file,
    list(unit = "unit", coder = "coder", code = "code"),
    list(kappa = ck$kappa, var_kappa = ck$var.kappa,
         ci_low = ck$confid[1, 1], ci_high = ck$confid[1, 3],
         weighted_kappa = ck$weighted.kappa))
}

# --- ICCs: 40 targets rated by 4 raters with rater bias -------------------------------
set.seed(21)
n <- 40; k <- 4
target <- rnorm(n, 0, 1.2)
bias <- c(0, 0.4, -0.3, 0.8)
x <- outer(target, bias, "+") + matrix(rnorm(n * k, 0, 0.8), n, k)
d <- data.frame(target = rep(seq_len(n), k), rater = rep(paste0("r", seq_len(k)), each = n),
                rating = round(as.vector(x), 3))
write.csv(d, "tests/reference/data/observe_icc.csv", row.names = FALSE)
xm <- matrix(d$rating, n, k)
ic <- ICC(xm, lmer = FALSE)$results
cases[[length(cases) + 1]] <- case(
  "icc_sim", "observe_icc", "psych::ICC(x, lmer = FALSE)", "observe_icc.csv",
  list(target = "target", rater = "rater", value = "rating"),
  list(effect = ic$type, estimate = ic$ICC, statistic = ic$F, df1 = ic$df1, df2 = ic$df2,
       p = ic$p, ci_low = ic[["lower bound"]], ci_high = ic[["upper bound"]]))

# --- couple-level model of per-couple Yule's Q: random intercept per couple -----------
set.seed(31)
nc <- 60
u <- rnorm(nc, 0, 0.15)
q <- data.frame(couple = rep(seq_len(nc), each = 2),
                direction = rep(c("A_to_B", "B_to_A"), nc))
q$yules_q <- round(0.3 + 0.1 * (q$direction == "B_to_A") + u[q$couple] + rnorm(2 * nc, 0, 0.2), 4)
write.csv(q, "tests/reference/data/observe_yules_q.csv", row.names = FALSE)
fit <- lme(yules_q ~ direction, random = ~ 1 | couple, data = q, method = "REML")
tt <- summary(fit)$tTable
cases[[length(cases) + 1]] <- case(
  "couple_model_q", "observe_couple_model",
  "nlme::lme(yules_q ~ direction, random = ~ 1 | couple, method = 'REML')",
  "observe_yules_q.csv",
  list(value = "yules_q", couple = "couple", predictors = list("direction")),
  list(estimate = unname(tt[, "Value"]), se = unname(tt[, "Std.Error"]),
       df = unname(tt[, "DF"]), loglik = as.numeric(logLik(fit)),
       sd_couple = as.numeric(VarCorr(fit)[1, "StdDev"]),
       sd_residual = fit$sigma))

# --- couple-level model of Fisher's z of per-couple demand->withdraw Q ------------------
# observe_dw_cells.csv: the 2 x 2 cells of dl.observe.demand_withdraw(window = 5) on 30
# simulated couples (15 weak, 15 strong demand->withdraw; made by dyadlab, as the cells
# come from its window tables); observe_couple_covariates.csv: a couple-level covariate.
# z = atanh(Q) with 1/2 added to every cell (Haldane-Anscombe) = 1/2 log OR.
cells <- read.csv("tests/reference/data/observe_dw_cells.csv")
covs <- read.csv("tests/reference/data/observe_couple_covariates.csv")
cells <- merge(cells, covs, by = "session")
a <- cells$count; b <- cells$given_units - a; c <- cells$target_units - a
d <- cells$units - cells$given_units - cells$target_units + a
cells$z <- 0.5 * log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
for (m in c("REML", "ML")) {
  fit <- lme(z ~ direction + conflict, random = ~ 1 | session, data = cells, method = m)
  tt <- summary(fit)$tTable
  cases[[length(cases) + 1]] <- case(
    paste0("couple_model_dw_z_", m), "observe_couple_model",
    paste0("nlme::lme(atanh(Q_haldane) ~ direction + conflict, random = ~ 1 | session, method = '",
           m, "')"),
    "observe_dw_cells.csv",
    list(value = "yules_q", couple = "session", predictors = list("direction", "conflict"),
         transform = "fisher_z", estimator = m,
         covariates = "repo:tests/reference/data/observe_couple_covariates.csv"),
    list(estimate = unname(tt[, "Value"]), se = unname(tt[, "Std.Error"]),
         df = unname(tt[, "DF"]), loglik = as.numeric(logLik(fit)),
         sd_couple = as.numeric(VarCorr(fit)[1, "StdDev"]),
         sd_residual = fit$sigma))
}

# the same with inverse-variance weights: Var(e) = sigma^2 * v, v = Var(z) by Woolf's formula
cells$v <- 0.25 * (1 / (a + 0.5) + 1 / (b + 0.5) + 1 / (c + 0.5) + 1 / (d + 0.5))
fit <- lme(z ~ direction + conflict, random = ~ 1 | session, data = cells,
           weights = varFixed(~ v), method = "REML")
tt <- summary(fit)$tTable
cases[[length(cases) + 1]] <- case(
  "couple_model_dw_z_varfixed", "observe_couple_model",
  "nlme::lme(atanh(Q_haldane) ~ direction + conflict, random = ~ 1 | session, weights = varFixed(~ v), method = 'REML')",
  "observe_dw_cells.csv",
  list(value = "yules_q", couple = "session", predictors = list("direction", "conflict"),
       transform = "fisher_z", weights = "inverse_variance", estimator = "REML",
       covariates = "repo:tests/reference/data/observe_couple_covariates.csv"),
  list(estimate = unname(tt[, "Value"]), se = unname(tt[, "Std.Error"]),
       df = unname(tt[, "DF"]), loglik = as.numeric(logLik(fit)),
       sd_couple = as.numeric(VarCorr(fit)[1, "StdDev"]),
       sd_residual = fit$sigma))

write_json(list(cases = cases), "tests/reference/fixtures/observe.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE, null = "null")
