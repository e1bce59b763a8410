# Reference fixtures for dyadlab.diary(family = "binomial" | "poisson" | "negative_binomial"):
# lme4::glmer (Laplace, and nAGQ on a one-random-effect model) and glmmTMB (nbinom2) fits
# of the two-intercept dyadic GLMM.
#
# Run from the repository root:  Rscript tests/reference/diary_glmm.R
# Writes tests/reference/fixtures/diary_glmm.json and the simulated data sets
# tests/reference/data/glmm_*.csv (made here with set.seed, small).
#
# Distinguishable (design.md):
#   glmer(y ~ 0 + role + role:x + role:x_partner + (0 + role | dyad), family = binomial)
# Indistinguishable (one random-intercept SD, correlation rho >= 0 between partners):
#   glmer(y ~ x + x_partner + (1 | dyad) + (1 | dyad:person), family = binomial)
#   so that sd^2 = var(dyad) + var(dyad:person) and rho = var(dyad) / sd^2.
# Negative binomial: the same formulas in glmmTMB(..., family = nbinom2).
#
# glmer's default PIRLS tolerance (tolPwrss = 1e-7) can stop its Laplace deviance short of
# the optimum (log-likelihood ~0.002 low on such data), so the fixtures use
# glmerControl(tolPwrss = 1e-12, optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)); each
# case also records the default fit's log-likelihood (loglik_default_control).
suppressPackageStartupMessages({
  library(lme4)
  library(glmmTMB)
  library(jsonlite)
})

ctrl <- glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(maxfun = 1e5))
ctrl_txt <- 'glmerControl(optimizer = "bobyqa", tolPwrss = 1e-12, optCtrl = list(maxfun = 1e5))'

add_partner <- function(d, dyad, person, time, vars) {
  p <- d[, c(dyad, person, time, vars)]
  names(p)[names(p) %in% vars] <- paste0(vars, "_partner")
  names(p)[names(p) == person] <- ".pp"
  m <- merge(d, p, by = c(dyad, time), all.x = TRUE, sort = FALSE)
  m <- m[is.na(m$.pp) | m[[person]] != m$.pp, ]
  m$.pp <- NULL
  alone <- d[!(paste(d[[person]], d[[time]]) %in% paste(m[[person]], m[[time]])), ]
  for (v in vars) alone[[paste0(v, "_partner")]] <- if (nrow(alone)) NA_real_ else numeric(0)
  m <- rbind(m, alone[, names(m)])
  m <- m[order(m[[dyad]], m[[person]], m[[time]]), ]
  rownames(m) <- NULL
  m
}

center_person <- function(d, person, x) {
  pm <- ave(d[[x]], d[[person]], FUN = function(v) mean(v, na.rm = TRUE))
  gm <- mean(d[[x]], na.rm = TRUE)
  d[[paste0(x, "_within")]] <- d[[x]] - pm
  d[[paste0(x, "_between")]] <- pm - gm
  d
}

fit_case <- function(name, datafile, d, family, role = TRUE, center = "none",
                     covariates = character(0)) {
  d <- d[order(d$couple, d$pid, d$day), ]
  if (center == "person") {
    d <- center_person(d, "pid", "x")
    xs <- c("x_within", "x_between")
    xterms <- c("x_within", "x_within_partner", "x_between", "x_between_partner")
  } else {
    xs <- "x"
    xterms <- c("x", "x_partner")
  }
  pd <- add_partner(d, "couple", "pid", "day", xs)
  pd$dyad <- factor(pd$couple)
  pd$person <- factor(pd$pid)
  terms <- c(xterms, covariates)
  if (role) {
    pd$role <- factor(pd$role)
    f <- as.formula(paste("y ~ 0 + role +", paste0("role:", terms, collapse = " + "),
                          "+ (0 + role | dyad)"))
  } else {
    f <- as.formula(paste("y ~", paste(terms, collapse = " + "),
                          "+ (1 | dyad) + (1 | dyad:person)"))
  }
  pd <- pd[complete.cases(pd[, c("y", terms)]), ]
  ftxt <- paste(deparse(f, width.cutoff = 500L), collapse = "")
  if (family == "negative_binomial") {
    fit <- glmmTMB(f, data = pd, family = nbinom2)
    call <- paste0("glmmTMB::glmmTMB(", ftxt, ", family = nbinom2)")
    beta <- fixef(fit)$cond
    se <- sqrt(diag(vcov(fit)$cond))
    vc <- VarCorr(fit)$cond
    dispersion <- sigma(fit)
    ll_default <- as.numeric(logLik(fit))
    pkgs <- list(glmmTMB = as.character(packageVersion("glmmTMB")),
                 TMB = as.character(packageVersion("TMB")))
    pearson <- NULL
  } else {
    fam <- if (family == "binomial") binomial else poisson
    fit0 <- glmer(f, data = pd, family = fam)
    fit <- glmer(f, data = pd, family = fam, control = ctrl)
    call <- paste0("lme4::glmer(", ftxt, ", family = ", family, ", control = ", ctrl_txt, ")")
    beta <- fixef(fit)
    se <- sqrt(diag(as.matrix(vcov(fit))))
    vc <- VarCorr(fit)
    dispersion <- NULL
    ll_default <- as.numeric(logLik(fit0))
    pkgs <- list(lme4 = as.character(packageVersion("lme4")))
    # Pearson chi-square / residual df (Bolker's overdisp_fun on conditional residuals)
    rp <- residuals(fit, type = "pearson")
    pearson <- list(chisq = sum(rp^2), df = df.residual(fit),
                    ratio = sum(rp^2) / df.residual(fit))
  }
  if (role) {
    G <- vc[["dyad"]]
    re_sd <- unname(sqrt(diag(G)))
    re_cor <- unname(cov2cor(G)[1, 2])
  } else {
    vd <- as.numeric(vc[["dyad"]])
    vp <- as.numeric(vc[["dyad:person"]])
    re_sd <- sqrt(vd + vp)
    re_cor <- vd / (vd + vp)
  }
  args <- list(y = "y", x = "x", dyad = "couple", person = "pid", time = "day",
               family = family, center = center)
  if (role) args$role <- "role"
  if (length(covariates)) args$covariates <- covariates
  list(
    name = name, model = "diary_glmm", call = call, script = "tests/reference/diary_glmm.R",
    r_version = R.version.string, packages = pkgs, generated = as.character(Sys.Date()),
    data = datafile, args = args,
    expected = list(
      terms = names(beta), estimate = unname(beta), se = unname(se),
      re_sd = re_sd, re_cor = re_cor, dispersion = dispersion,
      loglik = as.numeric(logLik(fit)), loglik_default_control = ll_default,
      aic = AIC(fit), bic = BIC(fit), n_params = attr(logLik(fit), "df"),
      n_obs = nrow(pd), n_dyads = nlevels(droplevels(pd$dyad)),
      pearson = pearson, mean_y = mean(pd$y)
    )
  )
}

# ---- simulated data sets -------------------------------------------------------------
sim <- function(n_dyads, n_days, distinguishable, family, b0, p_miss, seed,
                sd = c(1, 1.3), rho = 0.5, size = 2) {
  set.seed(seed)
  S <- diag(sd) %*% matrix(c(1, rho, rho, 1), 2) %*% diag(sd)
  rows <- vector("list", n_dyads)
  for (i in seq_len(n_dyads)) {
    u <- MASS::mvrnorm(1, c(0, 0), S)
    xm <- rnorm(2, 0, 0.7)
    zc <- rnorm(2)
    x <- matrix(rnorm(2 * n_days), n_days) + rep(xm, each = n_days)
    out <- list()
    for (k in 1:2) {
      b <- if (distinguishable && k == 2) b0 + 0.4 else b0
      eta <- b + 0.5 * x[, k] + 0.25 * x[, 3 - k] + 0.3 * zc[k] + u[k]
      y <- switch(family,
        binomial = rbinom(n_days, 1, plogis(eta)),
        poisson = rpois(n_days, exp(eta)),
        negative_binomial = rnbinom(n_days, mu = exp(eta), size = size))
      out[[k]] <- data.frame(couple = i, pid = paste0(i, "_", k),
                             role = if (k == 1) "w" else "h", day = seq_len(n_days),
                             x = round(x[, k], 3), z = round(zc[k], 3), y = y)
    }
    rows[[i]] <- do.call(rbind, out)
  }
  d <- do.call(rbind, rows)
  if (p_miss > 0) {
    d <- d[runif(nrow(d)) >= p_miss, ]
    d$x[runif(nrow(d)) < p_miss / 3] <- NA
  }
  if (!distinguishable) d$role <- NULL
  d
}

sims <- list(
  glmm_bin_balanced = sim(80, 14, TRUE, "binomial", -0.5, 0, 1201),
  glmm_bin_unbalanced = sim(90, 14, TRUE, "binomial", -0.3, 0.15, 1202),
  glmm_bin_indist = sim(80, 14, FALSE, "binomial", -0.4, 0, 1203),
  glmm_bin_indist_unbalanced = sim(90, 12, FALSE, "binomial", -0.2, 0.15, 1204),
  glmm_bin_rare = sim(150, 21, TRUE, "binomial", -4.0, 0, 1205, sd = c(0.8, 0.9)),
  glmm_pois = sim(80, 14, TRUE, "poisson", 0.2, 0.1, 1206, sd = c(0.6, 0.7)),
  glmm_pois_indist = sim(80, 14, FALSE, "poisson", 0.3, 0, 1207, sd = c(0.6, 0.6)),
  glmm_nb = sim(80, 14, TRUE, "negative_binomial", 0.5, 0.1, 1208, sd = c(0.6, 0.7)),
  glmm_nb_indist = sim(80, 14, FALSE, "negative_binomial", 0.5, 0, 1209, sd = c(0.6, 0.6))
)
for (nm in names(sims)) {
  write.csv(sims[[nm]], file.path("tests/reference/data", paste0(nm, ".csv")),
            row.names = FALSE, na = "")
}
rd <- function(nm) paste0("repo:tests/reference/data/", nm, ".csv")

run <- function(name, nm, family, ...) {
  r <- tryCatch(fit_case(name, rd(nm), sims[[nm]], family, ...),
                error = function(e) { message(name, ": ", conditionMessage(e)); NULL })
  if (!is.null(r)) message(name, ": ok (mean y ", round(r$expected$mean_y, 3), ")")
  r
}

# ---- adaptive Gauss-Hermite quadrature: one random intercept per group ---------------
agq_case <- function(nagq) {
  d <- read.csv("tests/reference/data/glmm_agq.csv")
  d$group <- factor(d$group)
  fit <- glmer(y ~ x + (1 | group), data = d, family = binomial, nAGQ = nagq, control = ctrl)
  list(
    name = paste0("agq_", nagq), model = "glmm_agq",
    call = paste0("lme4::glmer(y ~ x + (1 | group), family = binomial, nAGQ = ", nagq,
                  ", control = ", ctrl_txt, ")"),
    script = "tests/reference/diary_glmm.R", r_version = R.version.string,
    packages = list(lme4 = as.character(packageVersion("lme4"))),
    generated = as.character(Sys.Date()), data = rd("glmm_agq"),
    args = list(y = "y", x = "x", group = "group", nagq = nagq),
    expected = list(terms = names(fixef(fit)), estimate = unname(fixef(fit)),
                    se = unname(sqrt(diag(as.matrix(vcov(fit))))),
                    re_sd = sqrt(as.numeric(VarCorr(fit)$group)),
                    loglik = as.numeric(logLik(fit)), n_obs = nrow(d))
  )
}
set.seed(1210)
ng <- 120
agq <- data.frame(group = rep(seq_len(ng), each = 5), x = round(rnorm(ng * 5), 3))
agq$y <- rbinom(nrow(agq), 1, plogis(-0.3 + 0.8 * agq$x + rep(rnorm(ng, 0, 1.8), each = 5)))
write.csv(agq, "tests/reference/data/glmm_agq.csv", row.names = FALSE)

cases <- list(
  run("bin_balanced", "glmm_bin_balanced", "binomial"),
  run("bin_balanced_covariate", "glmm_bin_balanced", "binomial", covariates = "z"),
  run("bin_balanced_center", "glmm_bin_balanced", "binomial", center = "person"),
  run("bin_unbalanced", "glmm_bin_unbalanced", "binomial"),
  run("bin_indist", "glmm_bin_indist", "binomial", role = FALSE),
  run("bin_indist_unbalanced", "glmm_bin_indist_unbalanced", "binomial", role = FALSE),
  run("bin_rare", "glmm_bin_rare", "binomial"),
  run("pois", "glmm_pois", "poisson"),
  run("pois_indist", "glmm_pois_indist", "poisson", role = FALSE),
  run("pois_on_nb_data", "glmm_nb", "poisson"),
  run("nb", "glmm_nb", "negative_binomial"),
  run("nb_indist", "glmm_nb_indist", "negative_binomial", role = FALSE),
  agq_case(1),
  agq_case(9)
)
cases <- Filter(Negate(is.null), cases)
write_json(list(cases = cases), "tests/reference/fixtures/diary_glmm.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null")
message("wrote ", length(cases), " cases")
