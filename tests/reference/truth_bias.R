# Reference fixtures for dyadlab.truth_bias(): the truth and bias model of West & Kenny
# (2011) fitted by nlme.
#
# Run from the repository root:  Rscript tests/reference/truth_bias.R
# Writes tests/reference/fixtures/truth_bias.json and the simulated data sets
# tests/reference/data/tb_*.csv (made here with set.seed, small).
#
# Variables: M = mean of the truth variable over all rows of the data (non-missing),
#   jc = judgment - M, tc_partner = partner's truth - M (same dyad, same time),
#   tc_own = judge's own truth - M. Rows without a partner truth are left out (na.omit).
#
# Distinguishable (role = the judge's role):
#   lme(jc ~ 0 + role + role:tc_partner + role:tc_own,
#       random = list(dyad = pdBlocked(list(pdSymm(~ 0 + role),
#                                           pdDiag(~ 0 + role:tc_partner + role:tc_own)))),
#       correlation = corCompSymm(form = ~ 1 | dyad/time),
#       weights = varIdent(form = ~ 1 | role), method = "REML")
#   i.e. a random intercept (bias) per person, the partners' correlated, and a random
#   truth slope and similarity slope per person with a variance per role.
# Indistinguishable: the partners exchangeable (member = 1 for the dyad's first person,
#   2 for the other; the labels do not matter):
#   lme(jc ~ tc_partner + tc_own,
#       random = list(dyad = pdBlocked(list(pdCompSymm(~ 0 + member),
#                          pdIdent(~ 0 + member:tc_partner), pdIdent(~ 0 + member:tc_own)))),
#       correlation = corCompSymm(form = ~ 1 | dyad/time), method = "REML")
# Why not an unstructured 6 x 6 covariance of all person effects (21 parameters)? On these
#   data nlme stops short of the maximum (its log-likelihood is 0.07 below the optimum
#   dyadlab finds), so it cannot serve as a reference; the slopes' correlations are also
#   rarely estimable in couples' data.
# One judgment per person (no time): no random slopes can be identified; the model is
#   gls(jc ~ 0 + role + role:tc_partner + role:tc_own,
#       correlation = corCompSymm(form = ~ 1 | dyad),
#       weights = varIdent(form = ~ 1 | role), method = "REML")
# Moderators m: + role:m + role:tc_partner:m + role:tc_own:m (pooled: + m + ...).
suppressPackageStartupMessages({
  library(nlme)
  library(jsonlite)
})

shared <- Sys.getenv("DYADLAB_SHARED_DIR", "../shared/data")
ctrl <- lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, msMaxEval = 2000,
                   returnObject = FALSE)

prepare <- function(d, judgment, truth, dyad, person, time, moderators) {
  M <- mean(d[[truth]], na.rm = TRUE)
  d$.key <- if (is.null(time)) d[[dyad]] else paste(d[[dyad]], d[[time]])
  p <- data.frame(.key = d$.key, .pp = d[[person]], .tp = d[[truth]])
  m <- merge(d, p, by = ".key", all.x = TRUE, sort = FALSE)
  m <- m[!is.na(m$.pp) & m[[person]] != m$.pp, ]
  alone <- d[!(paste(d[[person]], d$.key) %in% paste(m[[person]], m$.key)), ]
  if (nrow(alone)) {
    alone$.pp <- NA
    alone$.tp <- NA_real_
    m <- rbind(m, alone[, names(m)])
  }
  m$jc <- m[[judgment]] - M
  m$tc_partner <- m$.tp - M
  m$tc_own <- m[[truth]] - M
  m$dyad <- factor(m[[dyad]])
  m$time <- if (is.null(time)) 1 else m[[time]]
  keep <- complete.cases(m[, c("jc", "tc_partner", "tc_own", moderators)])
  m <- m[keep, ]
  m <- m[order(m[[dyad]], m$time, m[[person]]), ]
  rownames(m) <- NULL
  list(d = m, M = M, n_excluded = sum(!keep))
}

fit_case <- function(name, datafile, d, judgment, truth, dyad, person, time = NULL,
                     role = NULL, moderators = character(0), method = "REML",
                     person_arg = TRUE, similarity = TRUE) {
  pr <- prepare(d, judgment, truth, dyad, person, time, moderators)
  pd <- pr$d
  mods <- if (length(moderators)) moderators else NULL
  if (!is.null(role)) {
    pd$role <- factor(pd[[role]])
    terms <- c("0", "role", "role:tc_partner", "role:tc_own")
    for (mm in mods) terms <- c(terms, paste0("role:", mm), paste0("role:tc_partner:", mm),
                                paste0("role:tc_own:", mm))
  } else {
    terms <- c("tc_partner", "tc_own")
    for (mm in mods) terms <- c(terms, mm, paste0("tc_partner:", mm), paste0("tc_own:", mm))
  }
  # similarity = FALSE: no assumed similarity (fixed or random)
  if (!similarity) terms <- terms[!grepl("tc_own", terms)]
  f <- as.formula(paste("jc ~", paste(terms, collapse = " + ")))
  ftxt <- deparse(f, width.cutoff = 500L)
  if (is.null(time)) {
    if (!is.null(role)) {
      fit <- gls(f, data = pd, correlation = corCompSymm(form = ~ 1 | dyad),
                 weights = varIdent(form = ~ 1 | role), method = method)
      call <- paste0("gls(", ftxt, ", correlation = corCompSymm(form = ~ 1 | dyad), ",
                     "weights = varIdent(form = ~ 1 | role), method = \"", method, "\")")
    } else {
      fit <- gls(f, data = pd, correlation = corCompSymm(form = ~ 1 | dyad), method = method)
      call <- paste0("gls(", ftxt, ", correlation = corCompSymm(form = ~ 1 | dyad), ",
                     "method = \"", method, "\")")
    }
    re <- NULL
  } else if (!is.null(role)) {
    slopes <- if (similarity) "role:tc_partner + role:tc_own" else "role:tc_partner"
    fit <- lme(f, data = pd,
               random = list(dyad = pdBlocked(list(pdSymm(~ 0 + role),
                                                   pdDiag(as.formula(paste("~ 0 +", slopes)))))),
               correlation = corCompSymm(form = ~ 1 | dyad / time),
               weights = varIdent(form = ~ 1 | role), method = method, control = ctrl)
    call <- paste0("lme(", ftxt, ", random = list(dyad = pdBlocked(list(pdSymm(~ 0 + role), ",
                   "pdDiag(~ 0 + ", slopes, ")))), ",
                   "correlation = corCompSymm(form = ~ 1 | dyad/time), ",
                   "weights = varIdent(form = ~ 1 | role), method = \"", method, "\")")
    V <- as.matrix(pdMatrix(fit$modelStruct$reStruct)[[1]]) * fit$sigma^2
    re <- list(names = colnames(V), cov = unname(V))
  } else {
    pd$member <- factor(ave(seq_len(nrow(pd)), pd$dyad, FUN = function(i) {
      p <- as.character(pd[[person]][i])
      ifelse(p == sort(unique(p))[1], 1, 2)
    }))
    fit <- lme(f, data = pd,
               random = list(dyad = pdBlocked(list(pdCompSymm(~ 0 + member),
                                                   pdIdent(~ 0 + member:tc_partner),
                                                   pdIdent(~ 0 + member:tc_own)))),
               correlation = corCompSymm(form = ~ 1 | dyad / time), method = method,
               control = ctrl)
    call <- paste0("lme(", ftxt, ", random = list(dyad = pdBlocked(list(pdCompSymm(~ 0 + ",
                   "member), pdIdent(~ 0 + member:tc_partner), pdIdent(~ 0 + member:tc_own)))), ",
                   "correlation = corCompSymm(form = ~ 1 | dyad/time), method = \"",
                   method, "\")")
    V <- as.matrix(pdMatrix(fit$modelStruct$reStruct)[[1]]) * fit$sigma^2
    re <- list(names = colnames(V), cov = unname(V))
  }
  s <- summary(fit)
  tt <- s$tTable
  vi <- if (!is.null(role)) coef(fit$modelStruct$varStruct, unconstrained = FALSE,
                                 allCoef = TRUE) else NULL
  corpar <- coef(fit$modelStruct$corStruct, unconstrained = FALSE)
  df <- if (inherits(fit, "lme")) unname(tt[, "DF"]) else rep(NA_real_, nrow(tt))
  args <- list(judgment = judgment, truth = truth, dyad = dyad, estimator = method)
  if (person_arg) args$person <- person
  if (!is.null(time)) args$time <- time
  if (!is.null(role)) args$role <- role
  if (length(moderators)) args$moderators <- as.list(moderators)
  if (!similarity) args$similarity <- FALSE
  message(name, ": ok (", nrow(pd), " rows)")
  list(
    name = name, model = "truth_bias", call = call, script = "tests/reference/truth_bias.R",
    r_version = R.version.string,
    packages = list(nlme = as.character(packageVersion("nlme"))),
    generated = as.character(Sys.Date()), data = datafile, args = args,
    expected = list(
      truth_mean = pr$M, n_excluded = pr$n_excluded,
      terms = rownames(tt),
      estimate = unname(tt[, "Value"]), se = unname(tt[, "Std.Error"]), df = df,
      random = re, sigma = fit$sigma,
      varident = if (is.null(vi)) NULL else as.list(vi),
      cor_param = unname(corpar),
      loglik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit),
      n_obs = nrow(pd), n_dyads = length(unique(pd$dyad))
    )
  )
}

# ---- simulated data sets (small, saved in the repository) -------------------------
# West & Kenny's model with person-specific bias, truth force and similarity.
sim_tb <- function(n_dyads, n_time, distinguishable, p_miss, seed, moderator = FALSE) {
  set.seed(seed)
  rows <- list()
  M <- 50
  for (i in seq_len(n_dyads)) {
    B <- MASS::mvrnorm(1, c(0, 0), 64 * matrix(c(1, 0.3, 0.3, 1), 2))
    close <- round(rnorm(2, 0, 1), 2)
    dev <- matrix(rnorm(6), 2) %*% diag(c(3, 0.12, 0.08))
    for (t in seq_len(n_time)) {
      tr <- M + B + MASS::mvrnorm(1, c(0, 0), 100 * matrix(c(1, 0.3, 0.3, 1), 2))
      e <- MASS::mvrnorm(1, c(0, 0), 36 * matrix(c(1, 0.25, 0.25, 1.3), 2))
      for (k in 1:2) {
        d0 <- if (distinguishable && k == 2) -2 else 3
        tf <- if (distinguishable && k == 2) 0.35 else 0.5
        sm <- if (distinguishable && k == 2) 0.3 else 0.2
        if (moderator) {
          tf <- tf + 0.1 * close[k]
          d0 <- d0 - 1.5 * close[k]
        }
        j <- M + d0 + dev[k, 1] + (tf + dev[k, 2]) * (tr[3 - k] - M) +
          (sm + dev[k, 3]) * (tr[k] - M) + e[k]
        rows[[length(rows) + 1]] <- data.frame(
          couple = i, pid = paste0(i, "_", k), role = if (k == 1) "wife" else "husband",
          day = t, judgment = round(j, 2), truth = round(tr[k], 2), closeness = close[k])
      }
    }
  }
  d <- do.call(rbind, rows)
  if (!moderator) d$closeness <- NULL
  if (p_miss > 0) {
    d <- d[runif(nrow(d)) >= p_miss, ]
    d$truth[runif(nrow(d)) < p_miss / 3] <- NA
  }
  if (!distinguishable) d$role <- NULL
  d
}

sims <- list(
  tb_diary_dist = sim_tb(40, 14, TRUE, 0.08, 4101),
  tb_diary_indist = sim_tb(40, 14, FALSE, 0.05, 4202),
  tb_items_mod = sim_tb(36, 20, TRUE, 0, 4303, moderator = TRUE)
)
names(sims$tb_items_mod)[names(sims$tb_items_mod) == "day"] <- "item"
for (nm in names(sims)) {
  write.csv(sims[[nm]], file.path("tests/reference/data", paste0(nm, ".csv")),
            row.names = FALSE, na = "")
}

rd <- function(nm) paste0("repo:tests/reference/data/", nm, ".csv")
run <- function(...) {
  tryCatch(fit_case(...), error = function(e) {
    message(list(...)[[1]], ": ", conditionMessage(e))
    NULL
  })
}
aci <- read.csv("src/dyadlab/data/datasets/acitelli.csv")  # bundled: dyadlab.data.datasets
aci$person <- paste0(aci$cuplid, "_", aci$gender)
cases <- list(
  run("diary_dist_reml", rd("tb_diary_dist"), sims$tb_diary_dist, "judgment", "truth",
      "couple", "pid", time = "day", role = "role"),
  run("diary_dist_ml", rd("tb_diary_dist"), sims$tb_diary_dist, "judgment", "truth",
      "couple", "pid", time = "day", role = "role", method = "ML"),
  run("diary_dist_nosimilarity_reml", rd("tb_diary_dist"), sims$tb_diary_dist, "judgment",
      "truth", "couple", "pid", time = "day", role = "role", similarity = FALSE),
  run("diary_indist_ml", rd("tb_diary_indist"), sims$tb_diary_indist, "judgment", "truth",
      "couple", "pid", time = "day", method = "ML"),
  run("diary_indist_reml", rd("tb_diary_indist"), sims$tb_diary_indist, "judgment", "truth",
      "couple", "pid", time = "day"),
  run("items_dist_moderator_reml", rd("tb_items_mod"), sims$tb_items_mod, "judgment",
      "truth", "couple", "pid", time = "item", role = "role", moderators = "closeness"),
  run("items_indist_moderator_reml", rd("tb_items_mod"), sims$tb_items_mod, "judgment",
      "truth", "couple", "pid", time = "item", moderators = "closeness"),
  run("acitelli_cross_dist_reml", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "other_pos",
      "self_pos", "cuplid", "person", role = "gender", person_arg = FALSE),
  run("acitelli_cross_indist_reml", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "other_pos",
      "self_pos", "cuplid", "person", person_arg = FALSE)
)
cases <- Filter(Negate(is.null), cases)
write_json(list(cases = cases), "tests/reference/fixtures/truth_bias.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null", na = "null")
message("wrote ", length(cases), " cases")
