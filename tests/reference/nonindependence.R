# Reference values for dyadlab.nonindependence().
#
# Run from the repository root:  Rscript tests/reference/nonindependence.R
# Writes tests/reference/fixtures/nonindependence.json and the simulated data sets
# tests/reference/data/nonindep_*.csv.  Shared data are read from ../shared/data.
#
# What is computed (from first principles, with the formulas written out):
#
# Distinguishable dyads (role given): partner correlation per variable
#   r   = cor(x_role1, x_role2) over dyads complete on the variable (and covariates);
#   the plain version is stats::cor.test(x1, x2) (t test, n - 2 df, Fisher-z CI).
#   Partial version: residuals of lm(x1 ~ Z) and lm(x2 ~ Z), Z = the covariates of
#   both partners (a dyad-level covariate enters once); r = cor(res1, res2),
#   k = rank(Z), t = r * sqrt((n - 2 - k) / (1 - r^2)) on n - 2 - k df,
#   CI = tanh(atanh(r) -/+ z_{.975} / sqrt(n - 3 - k))  (what ppcor::pcor.test and
#   cor.test would give for the residualised variables with the right df).
#
# Indistinguishable dyads (no role), Kenny, Kashy & Cook (2006, ch. 2):
#   m = (x1 + x2) / 2, d = x1 - x2, M = mean of all 2n scores
#   MS_B = 2 * sum((m - M)^2) / (n - 1),  MS_W = sum(d^2) / (2n)
#   ICC  = (MS_B - MS_W) / (MS_B + MS_W)
#   F    = MS_B / MS_W on (n - 1, n) df if ICC >= 0, else MS_W / MS_B on (n, n - 1);
#   p    = 2 * P(F_{df1,df2} > F) (two-tailed), capped at 1;
#   CI   = ((F_L - 1) / (F_L + 1), (F_U - 1) / (F_U + 1)), F0 = MS_B / MS_W,
#          F_L = F0 / qf(.975, n - 1, n), F_U = F0 * qf(.975, n, n - 1).
#   Pairwise (double-entry) correlation (Griffin & Gonzalez 1995):
#   r_p  = cor(c(x1, x2), c(x2, x1)) = (SS_B - SS_W) / (SS_B + SS_W),
#   Z = r_p * sqrt(n), p = 2 * pnorm(-|Z|), CI = tanh(atanh(r_p) -/+ 1.96 / sqrt(n)).
#   Partial versions: the between stratum (dyad means m regressed on the dyad means of
#   the covariates, with intercept; k_b columns) and the within stratum (differences d
#   regressed on the covariates' differences, no intercept; k_w columns):
#   SS_B = 2 * RSS_between, SS_W = RSS_within / 2,
#   MS_B = SS_B / (n - 1 - k_b), MS_W = SS_W / (n - k_w), F on (n - 1 - k_b, n - k_w).
#   Equivalences checked here (and recorded in the fixture):
#     without covariates, F (for ICC >= 0; 1/F for ICC < 0) == the F of
#       anova(lm(y ~ factor(dyad))), whose one-tailed p is half the ICC's p;
#     ICC (partial ICC) == rho of nlme::gls(y ~ zbar + zdev, correlation =
#       corCompSymm(form = ~1 | dyad), method = "REML");
#     r_p (partial r_p) == rho of the same gls with method = "ML".
#   (y ~ zbar + zdev spans the same columns as y ~ z + z_partner.)
#
# Omnibus test of distinguishability (Kenny et al. 2006, ch. 6): on the dyad-wide data
#   (listwise complete dyads) lavaan::sem(saturated, estimator = "ML",
#   meanstructure = TRUE) vs lavaan::sem(I-SAT) where means, variances, within-person
#   covariances and cross-partner cross-variable covariances are equal across roles;
#   lavaan::anova(fit_sat, fit_isat) gives chi-square, df = p(p + 1), p.

suppressPackageStartupMessages({
  library(lavaan)
  library(nlme)
  library(jsonlite)
})

shared <- file.path("..", "shared", "data")
out_data <- file.path("tests", "reference", "data")
out_fix <- file.path("tests", "reference", "fixtures", "nonindependence.json")
dir.create(out_data, showWarnings = FALSE, recursive = TRUE)
dir.create(dirname(out_fix), showWarnings = FALSE, recursive = TRUE)

level <- 0.95
zcrit <- qnorm(0.5 + level / 2)

# ---------------------------------------------------------------- simulated data
set.seed(20261124)
n <- 80
roles <- c("patient", "caregiver")
# latent dyad factor drives partner correlation; roles differ in means and variances
g <- rnorm(n)
age_p <- round(rnorm(n, 60, 8))
age_c <- round(age_p + rnorm(n, -3, 6))
duration <- round(runif(n, 1, 40), 1)
distress_p <- 5 + 0.6 * g + 0.03 * (age_p - 60) + rnorm(n, 0, 1.0)
distress_c <- 4 + 0.5 * g + 0.02 * duration + rnorm(n, 0, 0.8)
support_p <- 3 + 0.3 * g - 0.2 * distress_p + rnorm(n, 0, 0.7)
support_c <- 3.2 + 0.2 * g - 0.1 * distress_c + rnorm(n, 0, 0.7)
simd <- data.frame(
  dyad = rep(sprintf("D%03d", 1:n), each = 2),
  person = as.vector(rbind(sprintf("D%03dp", 1:n), sprintf("D%03dc", 1:n))),
  role = rep(roles, n),
  distress = round(as.vector(rbind(distress_p, distress_c)), 4),
  support = round(as.vector(rbind(support_p, support_c)), 4),
  age = as.vector(rbind(age_p, age_c)),
  duration = rep(duration, each = 2)
)
simd$distress[c(7, 40, 41)] <- NA
simd$support[c(12, 99)] <- NA
simd$age[c(150)] <- NA
write.csv(simd, file.path(out_data, "nonindep_sim_distinguishable.csv"),
  row.names = FALSE, na = ""
)

set.seed(20261125)
n <- 60
a <- rnorm(n)
b <- rnorm(n) # opposite-signed dyad effect -> negative ICC for 'chores'
stress1 <- round(rnorm(n, 3, 1), 2)
stress2 <- round(rnorm(n, 3, 1), 2)
years <- round(runif(n, 0.5, 25), 1)
close1 <- 4 + 0.7 * a - 0.3 * stress1 + 0.02 * years + rnorm(n, 0, 0.8)
close2 <- 4 + 0.7 * a - 0.3 * stress2 + 0.02 * years + rnorm(n, 0, 0.8)
chores1 <- 50 + 8 * b + rnorm(n, 0, 6)
chores2 <- 50 - 8 * b + rnorm(n, 0, 6)
simi <- data.frame(
  pair = rep(1:n, each = 2),
  member = rep(c("a", "b"), n),
  closeness = round(as.vector(rbind(close1, close2)), 4),
  chores = round(as.vector(rbind(chores1, chores2)), 3),
  stress = as.vector(rbind(stress1, stress2)),
  years = rep(years, each = 2)
)
simi$closeness[c(5, 77)] <- NA
simi$chores[c(30)] <- NA
simi$stress[c(101)] <- NA
write.csv(simi, file.path(out_data, "nonindep_sim_indistinguishable.csv"),
  row.names = FALSE, na = ""
)

# ------------------------------------------------------------------- helpers
# Dyad-wide matrix of column `v` with the two members in columns 1 and 2.  With a
# role, column 1 is the first role in `role_order`; without, the data's row order.
wide <- function(d, dyad, v, role = NULL, role_order = NULL) {
  ids <- unique(d[[dyad]])
  m <- matrix(NA_real_, length(ids), 2)
  for (i in seq_along(ids)) {
    rows <- d[d[[dyad]] == ids[i], , drop = FALSE]
    if (!is.null(role)) rows <- rows[match(role_order, as.character(rows[[role]])), ]
    m[i, ] <- rows[[v]]
  }
  rownames(m) <- ids
  m
}

# Covariate matrix of both partners; a covariate equal within every dyad enters once.
cov_matrix <- function(d, dyad, covs, role = NULL, role_order = NULL) {
  cols <- list()
  for (cv in covs) {
    w <- wide(d, dyad, cv, role, role_order)
    if (isTRUE(all(w[, 1] == w[, 2], na.rm = TRUE))) {
      cols[[cv]] <- w[, 1]
    } else {
      cols[[paste0(cv, "_1")]] <- w[, 1]
      cols[[paste0(cv, "_2")]] <- w[, 2]
    }
  }
  as.matrix(as.data.frame(cols))
}

pearson_row <- function(x1, x2, Z, variable) {
  ok <- complete.cases(x1, x2, Z)
  x1 <- x1[ok]; x2 <- x2[ok]; nn <- sum(ok)
  if (ncol(Z) == 0) {
    ct <- cor.test(x1, x2, conf.level = level) # the call reproduced
    r <- unname(ct$estimate); k <- 0
    stat <- unname(ct$statistic); df <- unname(ct$parameter); p <- ct$p.value
    ci <- as.numeric(ct$conf.int)
  } else {
    Zk <- Z[ok, , drop = FALSE]
    f1 <- lm(x1 ~ Zk); f2 <- lm(x2 ~ Zk)
    k <- f1$rank - 1
    r <- cor(resid(f1), resid(f2))
    df <- nn - 2 - k
    stat <- r * sqrt(df / (1 - r^2))
    p <- 2 * pt(-abs(stat), df)
    ci <- tanh(atanh(r) + c(-1, 1) * zcrit / sqrt(nn - 3 - k))
  }
  list(
    row = list(
      effect = "pearson_r", predictor = variable, role = NA, estimate = r,
      se = sqrt((1 - r^2) / df), statistic = stat, df = df, p = p,
      ci_low = ci[1], ci_high = ci[2]
    ),
    n = nn, k = k
  )
}

# ICC and pairwise r for one variable (indistinguishable), optionally partial.
indist_rows <- function(d, dyad, v, covs) {
  x <- wide(d, dyad, v)
  Z <- if (length(covs)) cov_matrix(d, dyad, covs) else matrix(nrow = nrow(x), ncol = 0)
  # complete dyads: both members' variable and all covariate columns
  Zfull <- if (length(covs)) {
    do.call(cbind, lapply(covs, function(cv) wide(d, dyad, cv)))
  } else {
    matrix(nrow = nrow(x), ncol = 0)
  }
  ok <- complete.cases(x, Zfull)
  x <- x[ok, , drop = FALSE]; nn <- nrow(x)
  m <- (x[, 1] + x[, 2]) / 2; dd <- x[, 1] - x[, 2]
  if (length(covs)) {
    Zw <- do.call(cbind, lapply(covs, function(cv) wide(d, dyad, cv)[ok, , drop = FALSE]))
    pairs <- seq(1, ncol(Zw), by = 2)
    zb <- (Zw[, pairs, drop = FALSE] + Zw[, pairs + 1, drop = FALSE]) / 2
    zd <- Zw[, pairs, drop = FALSE] - Zw[, pairs + 1, drop = FALSE]
    zd <- zd[, colSums(zd^2) > 0, drop = FALSE]
    fb <- lm(m ~ zb); kb <- fb$rank - 1; rss_b <- sum(resid(fb)^2)
    if (ncol(zd)) {
      fw <- lm(dd ~ 0 + zd); kw <- fw$rank; rss_w <- sum(resid(fw)^2)
    } else {
      kw <- 0; rss_w <- sum(dd^2)
    }
  } else {
    kb <- 0; kw <- 0
    rss_b <- sum((m - mean(c(x[, 1], x[, 2])))^2); rss_w <- sum(dd^2)
  }
  ssb <- 2 * rss_b; ssw <- rss_w / 2
  msb <- ssb / (nn - 1 - kb); msw <- ssw / (nn - kw)
  icc <- (msb - msw) / (msb + msw)
  df1 <- nn - 1 - kb; df2 <- nn - kw
  if (icc >= 0) {
    f <- msb / msw; fd1 <- df1; fd2 <- df2
  } else {
    f <- msw / msb; fd1 <- df2; fd2 <- df1
  }
  p_f <- min(1, 2 * pf(f, fd1, fd2, lower.tail = FALSE))
  f0 <- msb / msw
  fl <- f0 / qf(0.5 + level / 2, df1, df2); fu <- f0 * qf(0.5 + level / 2, df2, df1)
  rp <- (ssb - ssw) / (ssb + ssw)
  if (!length(covs)) {
    # first principles: the double-entry Pearson correlation
    rp_de <- cor(c(x[, 1], x[, 2]), c(x[, 2], x[, 1]))
    stopifnot(abs(rp_de - rp) < 1e-12)
  }
  zst <- rp * sqrt(nn)
  # nlme::gls checks: REML rho == ICC, ML rho == r_p
  long <- data.frame(
    dyad = rep(seq_len(nn), each = 2), y = as.vector(t(x))
  )
  form <- y ~ 1
  if (length(covs)) {
    zbl <- zb[rep(seq_len(nn), each = 2), , drop = FALSE]
    long$zb <- zbl
    form <- y ~ zb
    if (ncol(zd)) {
      sgn <- rep(c(0.5, -0.5), nn)
      long$zd <- zd[rep(seq_len(nn), each = 2), , drop = FALSE] * sgn
      form <- y ~ zb + zd
    }
  }
  rho <- function(method) {
    g <- gls(form, data = long, correlation = corCompSymm(form = ~ 1 | dyad), method = method)
    unname(coef(g$modelStruct$corStruct, unconstrained = FALSE))
  }
  # without covariates, the one-way ANOVA of R gives the same F (for ICC >= 0)
  aov_f <- NULL
  if (!length(covs)) {
    a <- anova(lm(y ~ factor(dyad), data = long))
    aov_f <- list(
      f = a[["F value"]][1], df1 = a[["Df"]][1], df2 = a[["Df"]][2], p = a[["Pr(>F)"]][1]
    )
  }
  list(
    aov = aov_f,
    rows = list(
      list(
        effect = "icc", predictor = v, role = NA, estimate = icc, se = NA,
        statistic = f, df = NA, p = p_f,
        ci_low = (fl - 1) / (fl + 1), ci_high = (fu - 1) / (fu + 1)
      ),
      list(
        effect = "pairwise_r", predictor = v, role = NA, estimate = rp,
        se = 1 / sqrt(nn), statistic = zst, df = NA, p = 2 * pnorm(-abs(zst)),
        ci_low = tanh(atanh(rp) - zcrit / sqrt(nn)),
        ci_high = tanh(atanh(rp) + zcrit / sqrt(nn))
      )
    ),
    n = nn,
    f_df = c(fd1, fd2),
    ms = c(ms_between = msb, ms_within = msw),
    gls = list(rho_reml = rho("REML"), rho_ml = rho("ML"))
  )
}

# lavaan syntax: saturated and I-SAT for variables vs (suffixes _1, _2)
lavaan_models <- function(vs) {
  obs <- c(paste0(vs, "_1"), paste0(vs, "_2"))
  sat <- c()
  for (i in seq_along(obs)) {
    sat <- c(sat, paste0(obs[i], " ~ 1"), paste0(obs[i], " ~~ ", obs[i]))
    if (i < length(obs)) {
      for (j in (i + 1):length(obs)) sat <- c(sat, paste0(obs[i], " ~~ ", obs[j]))
    }
  }
  isat <- c()
  for (a in seq_along(vs)) {
    va <- vs[a]
    isat <- c(
      isat,
      sprintf("%s_1 ~ m_%s*1", va, va), sprintf("%s_2 ~ m_%s*1", va, va),
      sprintf("%s_1 ~~ v_%s*%s_1", va, va, va), sprintf("%s_2 ~~ v_%s*%s_2", va, va, va),
      sprintf("%s_1 ~~ %s_2", va, va)
    )
    if (a < length(vs)) {
      for (b in (a + 1):length(vs)) {
        vb <- vs[b]
        isat <- c(
          isat,
          sprintf("%s_1 ~~ w_%s_%s*%s_1", va, va, vb, vb),
          sprintf("%s_2 ~~ w_%s_%s*%s_2", va, va, vb, vb),
          sprintf("%s_1 ~~ c_%s_%s*%s_2", va, va, vb, vb),
          sprintf("%s_2 ~~ c_%s_%s*%s_1", va, va, vb, vb)
        )
      }
    }
  }
  list(sat = paste(sat, collapse = "\n"), isat = paste(isat, collapse = "\n"))
}

distinguishability <- function(d, dyad, vs, role, role_order) {
  w <- as.data.frame(do.call(cbind, lapply(vs, function(v) {
    m <- wide(d, dyad, v, role, role_order)
    colnames(m) <- paste0(v, c("_1", "_2"))
    m
  })))
  w <- w[complete.cases(w), ]
  mods <- lavaan_models(vs)
  fit_sat <- sem(mods$sat, data = w, estimator = "ML", meanstructure = TRUE)
  fit_isat <- sem(mods$isat, data = w, estimator = "ML", meanstructure = TRUE)
  a <- anova(fit_sat, fit_isat)
  list(
    test = list(
      name = "distinguishability", statistic = a[["Chisq diff"]][2],
      df = a[["Df diff"]][2], p = a[["Pr(>Chisq)"]][2], n_dyads = nrow(w),
      loglik_saturated = as.numeric(logLik(fit_sat)),
      loglik_indistinguishable = as.numeric(logLik(fit_isat))
    ),
    lavaan_isat = mods$isat
  )
}

versions <- list(
  lavaan = as.character(packageVersion("lavaan")),
  nlme = as.character(packageVersion("nlme")),
  jsonlite = as.character(packageVersion("jsonlite"))
)

read_spec <- function(spec) {
  parts <- strsplit(spec, ":", fixed = TRUE)[[1]]
  path <- if (parts[1] == "shared") file.path(shared, parts[2]) else parts[2]
  read.csv(path, stringsAsFactors = FALSE)
}

make_case <- function(name, data, args) {
  d <- read_spec(data)
  vs <- args$variables; dyad <- args$dyad
  covs <- if (is.null(args$covariates)) character(0) else args$covariates
  est <- list(); n_used <- list(); extra <- list(); tests <- list()
  if (!is.null(args$role)) {
    role_order <- as.character(sort(unique(d[[args$role]])))
    Z <- if (length(covs)) {
      cov_matrix(d, dyad, covs, args$role, role_order)
    } else {
      matrix(nrow = length(unique(d[[dyad]])), ncol = 0)
    }
    for (v in vs) {
      pr <- pearson_row(
        wide(d, dyad, v, args$role, role_order)[, 1],
        wide(d, dyad, v, args$role, role_order)[, 2], Z, v
      )
      est[[length(est) + 1]] <- pr$row
      n_used[[v]] <- pr$n
    }
    dt <- distinguishability(d, dyad, vs, args$role, role_order)
    tests <- list(dt$test)
    extra$roles <- role_order
    extra$lavaan_isat_model <- dt$lavaan_isat
    call <- paste0(
      if (length(covs)) "partial r of lm() residuals (df n-2-k)" else "cor.test(x_role1, x_role2)",
      "; anova(sem(sat, estimator='ML', meanstructure=TRUE), sem(isat, ...))"
    )
  } else {
    gls_rho <- list(); f_df <- list(); ms <- list(); anova_f <- list()
    for (v in vs) {
      ir <- indist_rows(d, dyad, v, covs)
      est <- c(est, ir$rows)
      n_used[[v]] <- ir$n
      f_df[[v]] <- ir$f_df
      ms[[v]] <- as.list(ir$ms)
      gls_rho[[v]] <- ir$gls
      if (!is.null(ir$aov)) anova_f[[v]] <- ir$aov
    }
    if (length(anova_f)) extra$anova_f <- anova_f
    extra$f_df <- f_df
    extra$mean_squares <- ms
    extra$gls_rho <- gls_rho
    call <- paste0(
      "ICC = (MSB-MSW)/(MSB+MSW), r_p = (SSB-SSW)/(SSB+SSW) from first principles",
      if (length(covs)) " on stratum residuals (between: lm(m ~ zbar), within: lm(d ~ 0 + zdiff))" else "",
      "; checks: nlme::gls(y ~ ", if (length(covs)) "zbar + zdev" else "1",
      ", correlation = corCompSymm(form = ~1 | dyad), method = 'REML') rho == icc,",
      " method = 'ML' rho == pairwise_r"
    )
  }
  list(
    name = name, model = "nonindependence", call = call,
    script = "tests/reference/nonindependence.R", r_version = R.version.string,
    packages = versions, generated = format(Sys.Date()), data = data, args = args,
    expected = c(list(estimates = est, tests = tests, n_dyads_used = n_used), extra)
  )
}

cases <- list(
  make_case("acitelli_distinguishable", "repo:src/dyadlab/data/datasets/acitelli.csv", list(
    variables = c("satisfaction", "tension", "other_pos"), dyad = "cuplid", role = "gender"
  )),
  make_case("acitelli_distinguishable_one_variable", "repo:src/dyadlab/data/datasets/acitelli.csv", list(
    variables = c("satisfaction"), dyad = "cuplid", role = "gender"
  )),
  make_case("acitelli_partial_distinguishable", "repo:src/dyadlab/data/datasets/acitelli.csv", list(
    variables = c("satisfaction", "tension"), dyad = "cuplid", role = "gender",
    covariates = c("other_pos", "Yearsmar")
  )),
  make_case("acitelli_indistinguishable", "repo:src/dyadlab/data/datasets/acitelli.csv", list(
    variables = c("satisfaction", "tension", "other_pos"), dyad = "cuplid"
  )),
  make_case("acitelli_partial_indistinguishable", "repo:src/dyadlab/data/datasets/acitelli.csv", list(
    variables = c("satisfaction"), dyad = "cuplid", covariates = c("other_pos", "Yearsmar")
  )),
  make_case("dres_indistinguishable", "shared:dres_individual.csv", list(
    variables = c("quality", "sexsat"), dyad = "couple", person = "person"
  )),
  make_case("sim_distinguishable", "repo:tests/reference/data/nonindep_sim_distinguishable.csv", list(
    variables = c("distress", "support"), dyad = "dyad", person = "person", role = "role"
  )),
  make_case("sim_partial_distinguishable", "repo:tests/reference/data/nonindep_sim_distinguishable.csv", list(
    variables = c("distress", "support"), dyad = "dyad", person = "person", role = "role",
    covariates = c("age", "duration")
  )),
  make_case("sim_indistinguishable", "repo:tests/reference/data/nonindep_sim_indistinguishable.csv", list(
    variables = c("closeness", "chores"), dyad = "pair"
  )),
  make_case("sim_partial_indistinguishable", "repo:tests/reference/data/nonindep_sim_indistinguishable.csv", list(
    variables = c("closeness", "chores"), dyad = "pair", covariates = c("stress", "years")
  ))
)

write_json(list(cases = cases), out_fix,
  digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"
)
cat("wrote", out_fix, "with", length(cases), "cases\n")
