# Reference values for dyadlab.power.apim (tests/models/test_power.py).
#
# Run from the repository root:  Rscript tests/reference/power.R
# Writes tests/reference/fixtures/power_apim.json with three kinds of case:
#   1. "analytic_*": the APIMPower formula evaluated in R (pt() with ncp), together with
#      a Monte Carlo power from refitting simulated data with lm() (distinguishable) or
#      nlme::gls() with compound symmetry (indistinguishable), as an independent check;
#   2. "published_*": the output of the APIMPower app (Ackerman & Kenny 2016) as
#      published for two sample sizes;
#   3. "fit_*": one simulated data set with the lm()/gls() estimates and SEs, to check
#      dyadlab's vectorised refit of each replication.
suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})

# ---- the analytic formula (documented in dyadlab.models.power.apim) -------------
power_formula <- function(a, p, rx, re, n, alpha, distinguishable) {
  s2 <- 1 - a^2 - p^2 - 2 * a * p * rx
  if (distinguishable) {
    df <- n - 3
    se <- sqrt(s2 / ((n - 2) * (1 - rx^2)))
  } else {
    df <- 2 * n - 3
    se <- 0.5 * sqrt(s2 * (1 + re) / ((n - 1) * (1 + rx)) + s2 * (1 - re) / (n * (1 - rx)))
  }
  crit <- qt(1 - alpha / 2, df)
  pw <- function(b) pt(crit, df, ncp = b / se, lower.tail = FALSE) + pt(-crit, df, ncp = b / se)
  list(actor = pw(a), partner = pw(p), df = df, ncp_actor = a / se, ncp_partner = p / se)
}

simulate_dyads <- function(a, p, rx, re, n) {
  s2 <- 1 - a^2 - p^2 - 2 * a * p * rx
  z1 <- rnorm(n); z2 <- rnorm(n); u1 <- rnorm(n); u2 <- rnorm(n)
  x1 <- z1
  x2 <- rx * z1 + sqrt(1 - rx^2) * z2
  e1 <- sqrt(s2) * u1
  e2 <- sqrt(s2) * (re * u1 + sqrt(1 - re^2) * u2)
  data.frame(x1 = x1, x2 = x2, y1 = a * x1 + p * x2 + e1, y2 = a * x2 + p * x1 + e2)
}

to_long <- function(w) {
  n <- nrow(w)
  data.frame(dyad = rep(seq_len(n), 2), y = c(w$y1, w$y2), x = c(w$x1, w$x2),
             x_partner = c(w$x2, w$x1))
}

gls_call <- "nlme::gls(y ~ x + x_partner, correlation = corCompSymm(form = ~1 | dyad), method = \"REML\")"
lm_call <- "lm(y1 ~ x1 + x2) and lm(y2 ~ x2 + x1), two-sided t tests"

mc_power <- function(a, p, rx, re, n, alpha, distinguishable, reps) {
  hits <- c(actor = 0, partner = 0)
  trials <- 0
  for (r in seq_len(reps)) {
    w <- simulate_dyads(a, p, rx, re, n)
    if (distinguishable) {
      for (k in 1:2) {
        f <- if (k == 1) lm(y1 ~ x1 + x2, data = w) else lm(y2 ~ x2 + x1, data = w)
        pv <- summary(f)$coefficients[2:3, 4]
        hits <- hits + (pv < alpha)
      }
      trials <- trials + 2
    } else {
      f <- gls(y ~ x + x_partner, data = to_long(w),
               correlation = corCompSymm(form = ~1 | dyad), method = "REML")
      pv <- summary(f)$tTable[2:3, 4]
      hits <- hits + (pv < alpha)
      trials <- trials + 1
    }
  }
  pw <- hits / trials
  list(actor = unname(pw["actor"]), partner = unname(pw["partner"]), replications = reps,
       mc_se_actor = sqrt(pw[["actor"]] * (1 - pw[["actor"]]) / reps),
       mc_se_partner = sqrt(pw[["partner"]] * (1 - pw[["partner"]]) / reps))
}

meta <- list(
  script = "tests/reference/power.R",
  r_version = R.version.string,
  packages = list(nlme = as.character(packageVersion("nlme")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  generated = format(Sys.Date())
)

cases <- list()
set.seed(20261124)
designs <- list(
  list(name = "analytic_dist_n100", a = 0.3, p = 0.15, rx = 0.3, re = 0.3, n = 100,
       alpha = 0.05, distinguishable = TRUE, reps = 4000),
  list(name = "analytic_dist_n40_neg", a = 0.25, p = -0.2, rx = -0.2, re = 0.5, n = 40,
       alpha = 0.05, distinguishable = TRUE, reps = 4000),
  list(name = "analytic_dist_n60_alpha01", a = 0.2, p = 0.3, rx = 0.5, re = 0.1, n = 60,
       alpha = 0.01, distinguishable = TRUE, reps = 4000),
  list(name = "analytic_indist_n50", a = 0.3, p = 0.15, rx = 0.3, re = 0.3, n = 50,
       alpha = 0.05, distinguishable = FALSE, reps = 600),
  list(name = "analytic_indist_n40_neg", a = 0.25, p = 0.2, rx = -0.2, re = 0.5, n = 40,
       alpha = 0.05, distinguishable = FALSE, reps = 600)
)
for (d in designs) {
  f <- power_formula(d$a, d$p, d$rx, d$re, d$n, d$alpha, d$distinguishable)
  mc <- mc_power(d$a, d$p, d$rx, d$re, d$n, d$alpha, d$distinguishable, d$reps)
  cases[[length(cases) + 1]] <- c(list(
    name = d$name, model = "power_apim",
    call = paste0("power_formula(a, p, rx, re, n, alpha) [pt(crit, df, ncp)]; Monte Carlo: ",
                  if (d$distinguishable) lm_call else gls_call),
    data = "none",
    args = list(actor = d$a, partner = d$p, r_x = d$rx, r_e = d$re, dyads = d$n,
                alpha = d$alpha, distinguishable = d$distinguishable),
    expected = list(actor = f$actor, partner = f$partner, df = f$df,
                    ncp_actor = f$ncp_actor, ncp_partner = f$ncp_partner,
                    montecarlo = mc)), meta)
}

# ---- published APIMPower output ------------------------------------------------
# APIMPower ("Power Given N", distinguishable, effect size d, X a 50/50 dichotomy,
# predictor and error variance ratios 1, r_x = r_e = .30, alpha = .10), actor d = .186,
# partner d = .260; output text files apimpower-200dyads.txt and
# apimpower-154effectivedyads.txt in github.com/christopherseaman/challa.
# d is the raw effect over the error SD; with var(X) = .25 and error variance 1 the
# standardised betas are d * .5 / sd(Y), var(Y) = .25 (a^2 + p^2 + 2 a p r_x) + 1.
da <- 0.186; dp <- 0.260
sdy <- sqrt(0.25 * (da^2 + dp^2 + 2 * da * dp * 0.3) + 1)
for (pub in list(list(n = 200, actor = 0.346, partner = 0.538, ncp_a = 1.248, ncp_p = 1.745),
                 list(n = 154, actor = 0.292, partner = 0.452, ncp_a = 1.094, ncp_p = 1.529))) {
  cases[[length(cases) + 1]] <- c(list(
    name = paste0("published_apimpower_n", pub$n), model = "power_apim",
    call = "APIMPower app (Ackerman & Kenny 2016), Power Given N, distinguishable, d effect sizes",
    data = "none",
    args = list(actor = da * 0.5 / sdy, partner = dp * 0.5 / sdy, r_x = 0.3, r_e = 0.3,
                dyads = pub$n, alpha = 0.10, distinguishable = TRUE),
    expected = list(actor = pub$actor, partner = pub$partner, ncp_actor = pub$ncp_a,
                    ncp_partner = pub$ncp_p, df = pub$n - 3, decimals = 3)), meta)
}

# ---- one data set refitted by lm() and gls() -----------------------------------
set.seed(7)
w <- simulate_dyads(0.3, 0.2, 0.4, 0.5, 40)
f1 <- summary(lm(y1 ~ x1 + x2, data = w))$coefficients
f2 <- summary(lm(y2 ~ x2 + x1, data = w))$coefficients
g <- gls(y ~ x + x_partner, data = to_long(w), correlation = corCompSymm(form = ~1 | dyad),
         method = "REML")
gt <- summary(g)$tTable
cases[[length(cases) + 1]] <- c(list(
  name = "fit_one_dataset", model = "power_apim",
  call = paste(lm_call, ";", gls_call),
  data = "inline",
  args = list(x1 = w$x1, x2 = w$x2, y1 = w$y1, y2 = w$y2),
  expected = list(
    lm = list(actor1 = f1["x1", 1], partner1 = f1["x2", 1], se_actor1 = f1["x1", 2],
              se_partner1 = f1["x2", 2], actor2 = f2["x2", 1], partner2 = f2["x1", 1],
              se_actor2 = f2["x2", 2], se_partner2 = f2["x1", 2]),
    gls = list(intercept = gt["(Intercept)", 1], actor = gt["x", 1], partner = gt["x_partner", 1],
               se_actor = gt["x", 2], se_partner = gt["x_partner", 2],
               sigma2 = g$sigma^2,
               rho = unname(coef(g$modelStruct$corStruct, unconstrained = FALSE)),
               df = nrow(to_long(w)) - 3))), meta)

write_json(list(cases = cases), "tests/reference/fixtures/power_apim.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", length(cases), "cases\n")
