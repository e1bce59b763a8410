# Reference values for dyadlab.power.diary (tests/models/test_power_diary_reference.py).
#
# Run from the repository root:  Rscript tests/reference/power_diary.R
# Writes tests/reference/fixtures/power_diary.json.
#
# PowerLAPIM's Model 1 (Lafit et al. 2022: the L-APIM for distinguishable dyads, linear
# actor and partner effects of a daily predictor X, no lag) simulated and refitted the
# way the PowerLAPIM app does it, one data set at a time with nlme::lme (REML):
#   Y_Fit = c_F + a_FF X_Fit + p_MF X_Mit + nu_Fi + eps_Fit   (and the same for M),
#   (nu_F, nu_M) ~ N(0, sigma_nu, rho_nu), (eps_F, eps_M) ~ N(0, sigma_eps, rho_eps)
#   independently per day, (X_F, X_M) ~ N(mu_X, sigma_X, rho_X) independently per day,
#   X not centred. Power = share of replications with p < alpha for each effect (nlme's
#   t test). This is an independent implementation in R of that simulation; dyadlab must
#   agree within the combined Monte Carlo error.
suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})

mvn <- function(n, sd, r) {
  s <- diag(sd) %*% matrix(c(1, r, r, 1), 2) %*% diag(sd)
  matrix(rnorm(2 * n), n) %*% chol(s)
}

simulate_couples <- function(n, days, par) {
  nu <- mvn(n, par$sigma_nu, par$rho_nu)
  x <- mvn(n * days, par$sigma_x, par$rho_x)
  x[, 1] <- x[, 1] + par$mu_x[1]
  x[, 2] <- x[, 2] + par$mu_x[2]
  eps <- mvn(n * days, par$sigma_eps, par$rho_eps)
  dyad <- rep(seq_len(n), each = days)
  obs <- rep(seq_len(days), n)
  y_f <- par$c[1] + par$actor[1] * x[, 1] + par$partner[1] * x[, 2] + nu[dyad, 1] + eps[, 1]
  y_m <- par$c[2] + par$actor[2] * x[, 2] + par$partner[2] * x[, 1] + nu[dyad, 2] + eps[, 2]
  data.frame(
    dyad = c(dyad, dyad), obs = c(obs, obs),
    gender = rep(c("F", "M"), each = n * days),
    female = rep(c(1, 0), each = n * days), male = rep(c(0, 1), each = n * days),
    y = c(y_f, y_m), x_actor = c(x[, 1], x[, 2]), x_partner = c(x[, 2], x[, 1])
  )
}

lme_call <- paste(
  "nlme::lme(y ~ -1 + female + female:x_actor + female:x_partner + male + male:x_actor +",
  "male:x_partner, random = ~ -1 + female + male | dyad, correlation =",
  "corCompSymm(form = ~1 | dyad/obs), weights = varIdent(form = ~1 | gender),",
  "method = \"REML\") per replication; power = share of p < alpha"
)

refit_pvalues <- function(d) {
  f <- tryCatch(
    lme(y ~ -1 + female + female:x_actor + female:x_partner + male + male:x_actor +
          male:x_partner,
        random = ~ -1 + female + male | dyad, data = d,
        correlation = corCompSymm(form = ~1 | dyad/obs),
        weights = varIdent(form = ~1 | gender), method = "REML",
        control = lmeControl(maxIter = 200, msMaxIter = 200)),
    error = function(e) NULL)
  if (is.null(f)) return(NULL)
  tt <- summary(f)$tTable
  c(actor_f = tt["female:x_actor", 5], actor_m = tt["x_actor:male", 5],
    partner_f = tt["female:x_partner", 5], partner_m = tt["x_partner:male", 5])
}

mc_power <- function(n, days, par, alpha, reps) {
  hits <- c(actor_f = 0, actor_m = 0, partner_f = 0, partner_m = 0)
  ok <- 0
  failed <- 0
  for (r in seq_len(reps)) {
    p <- refit_pvalues(simulate_couples(n, days, par))
    if (is.null(p)) {
      failed <- failed + 1
      next
    }
    hits <- hits + (p < alpha)
    ok <- ok + 1
  }
  pw <- hits / ok
  list(power = as.list(pw), mc_se = as.list(sqrt(pw * (1 - pw) / ok)),
       replications = ok, failed = failed)
}

meta <- list(
  script = "tests/reference/power_diary.R",
  r_version = R.version.string,
  packages = list(nlme = as.character(packageVersion("nlme")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  generated = format(Sys.Date())
)

settings <- list(
  list(name = "lapim_model1_25x10", couples = 25, days = 10, alpha = 0.05, reps = 1000,
       seed = 20221,
       par = list(c = c(3.0, 3.2), actor = c(0.15, 0.10), partner = c(0.08, 0.0),
                  sigma_eps = c(0.7, 0.8), rho_eps = 0.3,
                  sigma_nu = c(0.5, 0.6), rho_nu = 0.4,
                  mu_x = c(2.0, 2.5), sigma_x = c(1.0, 1.0), rho_x = 0.2))
)

cases <- list()
for (s in settings) {
  set.seed(s$seed)
  t0 <- proc.time()[["elapsed"]]
  mc <- mc_power(s$couples, s$days, s$par, s$alpha, s$reps)
  secs <- proc.time()[["elapsed"]] - t0
  cat(s$name, ":", unlist(mc$power), "in", round(secs, 1), "s\n")
  cases[[length(cases) + 1]] <- c(list(
    name = s$name, model = "power_diary", call = lme_call, data = "none",
    args = list(couples = s$couples, days = s$days, alpha = s$alpha,
                intercept = s$par$c, actor = s$par$actor, partner = s$par$partner,
                sd_residual = s$par$sigma_eps, r_e = s$par$rho_eps,
                sd_intercept = s$par$sigma_nu, cor_intercepts = s$par$rho_nu,
                mu_x = s$par$mu_x, sd_x = s$par$sigma_x, r_x = s$par$rho_x),
    expected = c(mc, list(seconds = secs))), meta)
}

write_json(list(cases = cases), "tests/reference/fixtures/power_diary.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", length(cases), "cases\n")
