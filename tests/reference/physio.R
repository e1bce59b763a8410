# Reference fixtures for dyadlab.physio: nlme::lme for the multilevel concordance slope
# (random intercept and slope per person) on simulated person-epoch data.
#
# Run from the repository root:  Rscript tests/reference/physio.R
# Writes tests/reference/fixtures/physio_slope.json and tests/reference/data/physio_*.csv.
suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})
pk <- list(nlme = as.character(packageVersion("nlme")),
           jsonlite = as.character(packageVersion("jsonlite")))
today <- as.character(Sys.Date())
cases <- list()
for (spec in list(list("slope_18x40", 18, 40, 41, "REML"), list("slope_25x30_ml", 25, 30, 42, "ML"))) {
  set.seed(spec[[4]])
  np <- spec[[2]]; ne <- spec[[3]]
  u0 <- rnorm(np, 0, 0.5); u1 <- rnorm(np, 0, 0.25)
  d <- data.frame(person = rep(seq_len(np), each = ne), epoch = rep(seq_len(ne), np))
  d$subjective <- round(rnorm(np * ne), 4)
  d$genital <- round(0.2 + u0[d$person] + (0.4 + u1[d$person]) * d$subjective +
                     rnorm(np * ne, 0, 0.8), 4)
  file <- paste0("physio_", spec[[1]], ".csv")
  write.csv(d, file.path("tests/reference/data", file), row.names = FALSE)
  fit <- lme(genital ~ subjective, random = ~ subjective | person, data = d,
             method = spec[[5]])
  tt <- summary(fit)$tTable
  G <- getVarCov(fit)
  cases[[length(cases) + 1]] <- list(
    name = spec[[1]], model = "physio_concordance_slope",
    call = sprintf("nlme::lme(genital ~ subjective, random = ~ subjective | person, method = '%s')", spec[[5]]),
    script = "tests/reference/physio.R", r_version = R.version.string, packages = pk,
    generated = today, data = paste0("repo:tests/reference/data/", file),
    args = list(subjective = "subjective", genital = "genital", person = "person",
                time = "epoch", estimator = spec[[5]]),
    expected = list(estimate = unname(tt[, "Value"]), se = unname(tt[, "Std.Error"]),
                    df = unname(tt[, "DF"]), loglik = as.numeric(logLik(fit)),
                    sd_intercept = sqrt(G[1, 1]), sd_slope = sqrt(G[2, 2]),
                    cor = G[1, 2] / sqrt(G[1, 1] * G[2, 2]), sd_residual = fit$sigma))
}
write_json(list(cases = cases), "tests/reference/fixtures/physio_slope.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE, null = "null")
