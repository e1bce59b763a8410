# Reference fixtures for dyadlab.diary(): nlme::lme fits of the two-intercept diary APIM.
#
# Run from the repository root:  Rscript tests/reference/diary.R
# Writes tests/reference/fixtures/diary.json and the simulated data sets
# tests/reference/data/diary_*.csv (made here with set.seed, small).
#
# Distinguishable (design.md):
#   lme(y ~ 0 + role + role:x + role:x_partner, random = ~ 0 + role | dyad,
#       correlation = corCompSymm(form = ~ 1 | dyad/time),
#       weights = varIdent(form = ~ 1 | role), method = "REML")
# Indistinguishable:
#   lme(y ~ x + x_partner, random = list(dyad = pdCompSymm(~ 0 + member)),
#       correlation = corCompSymm(form = ~ 1 | dyad/time), method = "REML")
# AR(1): correlation = corAR1(form = ~ time | dyad/person) instead of corCompSymm.
suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})

shared <- Sys.getenv("DYADLAB_SHARED_DIR", "../shared/data")
ctrl <- lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, returnObject = FALSE)

# partner variables: match dyad and time, the other person
add_partner <- function(d, dyad, person, time, vars) {
  p <- d[, c(dyad, person, time, vars)]
  names(p)[names(p) %in% vars] <- paste0(vars, "_partner")
  names(p)[names(p) == person] <- ".pp"
  m <- merge(d, p, by = c(dyad, time), all.x = TRUE, sort = FALSE)
  m <- m[is.na(m$.pp) | m[[person]] != m$.pp, ]
  m$.pp <- NULL
  # a person-occasion without a partner row gets NA partner values (row kept)
  alone <- d[!(paste(d[[person]], d[[time]]) %in% paste(m[[person]], m[[time]])), ]
  for (v in vars) alone[[paste0(v, "_partner")]] <- if (nrow(alone)) NA_real_ else numeric(0)
  m <- rbind(m, alone[, names(m)])
  m <- m[order(m[[dyad]], m[[person]], m[[time]]), ]
  rownames(m) <- NULL
  m
}

# person-mean centring as design.md: within = x - person mean (non-missing occasions),
# between = person mean - grand mean of all person-occasions
center_person <- function(d, person, x) {
  pm <- ave(d[[x]], d[[person]], FUN = function(v) mean(v, na.rm = TRUE))
  gm <- mean(d[[x]], na.rm = TRUE)
  d[[paste0(x, "_within")]] <- d[[x]] - pm
  d[[paste0(x, "_between")]] <- pm - gm
  d
}

fit_case <- function(name, datafile, d, y, x, dyad, person, time, role = NULL,
                     residual = "cs", method = "REML", center = "none",
                     random_slopes = FALSE) {
  d <- d[order(d[[dyad]], d[[person]], d[[time]]), ]
  if (center == "person") {
    d <- center_person(d, person, x)
    xs <- c(paste0(x, "_within"), paste0(x, "_between"))
  } else {
    xs <- x
  }
  pd <- add_partner(d, dyad, person, time, xs)
  pd$dyad <- factor(pd[[dyad]])
  pd$time <- pd[[time]]
  pd$person <- factor(pd[[person]])
  pd$y <- pd[[y]]
  corr <- if (residual == "cs") {
    corCompSymm(form = ~ 1 | dyad / time)
  } else {
    corAR1(form = ~ time | dyad / person)
  }
  xterms <- c(rbind(xs, paste0(xs, "_partner")))
  if (center == "person") {
    xterms <- c(paste0(x, "_within"), paste0(x, "_within_partner"),
                paste0(x, "_between"), paste0(x, "_between_partner"))
  }
  if (!is.null(role)) {
    pd$role <- factor(pd[[role]])
    f <- as.formula(paste("y ~ 0 + role +", paste0("role:", xterms, collapse = " + ")))
    rf <- if (random_slopes) {
      as.formula(paste("~ 0 + role +", paste0("role:", xterms[1:2], collapse = " + "), "| dyad"))
    } else {
      ~ 0 + role | dyad
    }
    fitcall <- paste0("lme(FORMULA, random = ", deparse(rf), ", correlation = CORR, weights = varIdent(form = ~ 1 | role), method = METHOD, na.action = na.omit)")
    fit <- lme(f, data = pd, random = rf, correlation = corr,
               weights = varIdent(form = ~ 1 | role), method = method,
               na.action = na.omit, control = ctrl)
  } else {
    pd$member <- factor(ave(as.integer(pd$person), pd$dyad,
                            FUN = function(v) as.integer(factor(v))))
    f <- as.formula(paste("y ~", paste(xterms, collapse = " + ")))
    fitcall <- "lme(FORMULA, random = list(dyad = pdCompSymm(~ 0 + member)), correlation = CORR, method = METHOD, na.action = na.omit)"
    fit <- lme(f, data = pd, random = list(dyad = pdCompSymm(~ 0 + member)),
               correlation = corr, method = method, na.action = na.omit, control = ctrl)
  }
  corrtxt <- if (residual == "cs") "corCompSymm(form = ~ 1 | dyad/time)" else
    "corAR1(form = ~ time | dyad/person)"
  fitcall <- sub("FORMULA", deparse(f, width.cutoff = 500L), fitcall)
  fitcall <- sub("CORR", corrtxt, fitcall)
  fitcall <- sub("METHOD", paste0('"', method, '"'), fitcall)
  tt <- summary(fit)$tTable
  vc <- as.matrix(pdMatrix(fit$modelStruct$reStruct)[[1]]) * fit$sigma^2
  sds <- sqrt(diag(vc))
  cors <- cov2cor(vc)
  vi <- if (!is.null(role)) coef(fit$modelStruct$varStruct, unconstrained = FALSE,
                                 allCoef = TRUE) else NULL
  corpar <- coef(fit$modelStruct$corStruct, unconstrained = FALSE)
  args <- list(y = y, x = x, dyad = dyad, person = person, time = time,
               center = center, residual = residual, estimator = method)
  if (!is.null(role)) args$role <- role
  if (random_slopes) args$random_slopes <- TRUE
  list(
    name = name, model = "diary", call = fitcall, script = "tests/reference/diary.R",
    r_version = R.version.string,
    packages = list(nlme = as.character(packageVersion("nlme"))),
    generated = as.character(Sys.Date()), data = datafile, args = args,
    expected = list(
      terms = rownames(tt),
      estimate = unname(tt[, "Value"]), se = unname(tt[, "Std.Error"]),
      df = unname(tt[, "DF"]), t = unname(tt[, "t-value"]),
      re_sd = unname(sds), re_names = colnames(vc),
      re_cor = unname(cors[lower.tri(cors)]),
      re_cor_matrix = unname(cors),
      sigma = fit$sigma,
      varident = if (is.null(vi)) NULL else as.list(vi),
      cor_param = unname(corpar),
      loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit),
      n_obs = fit$dims$N, n_dyads = fit$dims$ngrps[["dyad"]]
    )
  )
}

# ---- simulated data sets (small, saved in the repository) -------------------------
sim_diary <- function(n_dyads, n_days, distinguishable, p_miss, seed) {
  set.seed(seed)
  rows <- list()
  for (i in seq_len(n_dyads)) {
    u <- MASS::mvrnorm(1, c(0, 0), matrix(c(1, 0.5, 0.5, 1.4), 2))
    xm <- rnorm(2, 0, 0.7)
    for (t in seq_len(n_days)) {
      e <- MASS::mvrnorm(1, c(0, 0), matrix(c(1, 0.3, 0.3, 1.3), 2))
      x <- xm + rnorm(2)
      for (k in 1:2) {
        b0 <- if (distinguishable && k == 2) 3.5 else 3
        y <- b0 + 0.4 * x[k] + 0.2 * x[3 - k] + u[k] + e[k]
        rows[[length(rows) + 1]] <- data.frame(
          couple = i, pid = paste0(i, "_", k),
          role = if (k == 1) "w" else "h", day = t,
          x = round(x[k], 3), y = round(y, 3))
      }
    }
  }
  d <- do.call(rbind, rows)
  if (p_miss > 0) {
    drop <- runif(nrow(d)) < p_miss
    d <- d[!drop, ]
    miss_x <- runif(nrow(d)) < p_miss / 3
    d$x[miss_x] <- NA
  }
  if (!distinguishable) d$role <- NULL
  d
}

sims <- list(
  diary_sim_balanced = sim_diary(30, 8, TRUE, 0, 101),
  diary_sim_unbalanced = sim_diary(36, 9, TRUE, 0.15, 202),
  diary_sim_indist = sim_diary(32, 8, FALSE, 0, 303),
  diary_sim_indist_unbalanced = sim_diary(40, 7, FALSE, 0.15, 404)
)
for (nm in names(sims)) {
  write.csv(sims[[nm]], file.path("tests/reference/data", paste0(nm, ".csv")),
            row.names = FALSE, na = "")
}

kashy <- read.csv(file.path(shared, "kashy_individual.csv"))
kashy_u <- read.csv(file.path(shared, "kashy_unbalanced.csv"))
bl <- read.csv(file.path(shared, "bl_individual.csv"))

K <- list(y = "satisf", x = "conflict", dyad = "dyadid", person = "person", time = "day")
B <- list(y = "reldis", x = "wrkstrs", dyad = "coupleid", person = "person", time = "time")
S <- list(y = "y", x = "x", dyad = "couple", person = "pid", time = "day")

run <- function(name, file, d, v, ...) {
  r <- tryCatch(fit_case(name, file, d, v$y, v$x, v$dyad, v$person, v$time, ...),
                error = function(e) { message(name, ": ", conditionMessage(e)); NULL })
  if (!is.null(r)) message(name, ": ok")
  r
}
rd <- function(nm) paste0("repo:tests/reference/data/", nm, ".csv")
cases <- list(
  run("kashy_cs_reml", "shared:kashy_individual.csv", kashy, K, role = "gender"),
  run("kashy_cs_ml", "shared:kashy_individual.csv", kashy, K, role = "gender", method = "ML"),
  run("kashy_ar1_reml", "shared:kashy_individual.csv", kashy, K, role = "gender", residual = "ar1"),
  run("kashy_center_reml", "shared:kashy_individual.csv", kashy, K, role = "gender", center = "person"),
  run("kashy_random_slopes_reml", "shared:kashy_individual.csv", kashy, K, role = "gender",
      random_slopes = TRUE),
  run("kashy_indist_reml", "shared:kashy_individual.csv", kashy, K),
  run("kashy_unbalanced_cs_reml", "shared:kashy_unbalanced.csv", kashy_u, K, role = "gender"),
  run("kashy_unbalanced_ar1_ml", "shared:kashy_unbalanced.csv", kashy_u, K, role = "gender",
      residual = "ar1", method = "ML"),
  run("bl_cs_reml", "shared:bl_individual.csv", bl, B, role = "gender"),
  run("bl_ar1_reml", "shared:bl_individual.csv", bl, B, role = "gender", residual = "ar1"),
  run("sim_balanced_cs_reml", rd("diary_sim_balanced"), sims$diary_sim_balanced, S, role = "role"),
  run("sim_balanced_cs_ml", rd("diary_sim_balanced"), sims$diary_sim_balanced, S, role = "role",
      method = "ML"),
  run("sim_unbalanced_cs_reml", rd("diary_sim_unbalanced"), sims$diary_sim_unbalanced, S,
      role = "role"),
  run("sim_unbalanced_center_ml", rd("diary_sim_unbalanced"), sims$diary_sim_unbalanced, S,
      role = "role", center = "person", method = "ML"),
  run("sim_unbalanced_ar1_reml", rd("diary_sim_unbalanced"), sims$diary_sim_unbalanced, S,
      role = "role", residual = "ar1"),
  run("sim_indist_cs_reml", rd("diary_sim_indist"), sims$diary_sim_indist, S),
  run("sim_indist_cs_ml", rd("diary_sim_indist"), sims$diary_sim_indist, S, method = "ML"),
  run("sim_indist_unbalanced_cs_reml", rd("diary_sim_indist_unbalanced"),
      sims$diary_sim_indist_unbalanced, S),
  run("sim_indist_unbalanced_ar1_reml", rd("diary_sim_indist_unbalanced"),
      sims$diary_sim_indist_unbalanced, S, residual = "ar1")
)
cases <- Filter(Negate(is.null), cases)
write_json(list(cases = cases), "tests/reference/fixtures/diary.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null")
message("wrote ", length(cases), " cases")
