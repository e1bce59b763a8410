# Reference values for dyadlab.apim (tests/models/test_apim*.py).
#
# Run from the repository root:  Rscript tests/reference/apim.R
# Writes tests/reference/fixtures/apim_sem.json, apim_mlm.json, apim_isem.json and the
# simulated data sets tests/reference/data/apim_*.csv (made here with set.seed).
#
# distinguishable, method = "sem":  lavaan::sem() on the dyad-wide data (member 1 = first
#   role in sorted order), y_r ~ actor + partner (+ covariates), residuals correlated,
#   x exogenous (fixed.x = TRUE), meanstructure, missing = "ml" (lavaan drops dyads with
#   a missing x when fixed.x = TRUE). Tests: anova(constrained, free) and lavTestWald().
# indistinguishable, method = "sem": Olsen & Kenny (2006) -- intercepts, actor, partner,
#   residual variances and the means/variances/covariances of the x's equal across the
#   arbitrary member labels (fixed.x = FALSE).
# method = "mlm": nlme::gls() REML with corCompSymm(~1 | dyad) (+ varIdent(~1 | role)).
suppressPackageStartupMessages({library(lavaan); library(nlme); library(jsonlite)})

shared <- Sys.getenv("DYADLAB_SHARED_DIR", "../shared/data")
pk <- list(lavaan = as.character(packageVersion("lavaan")),
           nlme = as.character(packageVersion("nlme")))
today <- as.character(Sys.Date())

# ---- simulated data -------------------------------------------------------------------
sim_dyads <- function(n, roles, a, p, rx = 0.3, re = 0.4, seed = 1, b0 = c(1, 2), s2 = 1.3) {
  set.seed(seed)
  x1 <- rnorm(n); x2 <- rx * x1 + sqrt(1 - rx^2) * rnorm(n)
  e1 <- rnorm(n); e2 <- re * e1 + sqrt(1 - re^2) * rnorm(n)
  y1 <- b0[1] + a[1] * x1 + p[1] * x2 + e1
  y2 <- b0[2] + a[2] * x2 + p[2] * x1 + s2 * e2
  data.frame(dyad = rep(seq_len(n), each = 2), role = rep(roles, n),
             x = round(as.vector(rbind(x1, x2)), 4), y = round(as.vector(rbind(y1, y2)), 4))
}
d1 <- sim_dyads(120, c("wife", "husband"), a = c(0.5, 0.3), p = c(0.2, 0.25), seed = 11)
set.seed(12)
d1$y[sample(nrow(d1), 24)] <- NA
d1$x[sample(nrow(d1), 6)] <- NA
write.csv(d1, "tests/reference/data/apim_dist_missing.csv", row.names = FALSE, na = "")

d2 <- sim_dyads(150, c(1, 2), a = c(0.4, 0.4), p = c(0.15, 0.15), seed = 21,
                b0 = c(1, 1), s2 = 1)
names(d2)[names(d2) == "role"] <- "member"
d2 <- d2[, c("dyad", "x", "y")]
write.csv(d2, "tests/reference/data/apim_indist.csv", row.names = FALSE)

set.seed(31)
n3 <- 130
d3 <- sim_dyads(n3, c("A", "B"), a = c(0.4, 0.6), p = c(0.1, 0.3), seed = 31)
d3$z <- round(0.4 * d3$x + rnorm(2 * n3), 4)
d3$age <- round(rnorm(2 * n3, 40, 8), 1)
d3$length <- rep(round(runif(n3, 1, 20), 1), each = 2)
d3$y <- round(d3$y + 0.3 * d3$z - 0.02 * d3$age + 0.05 * d3$length, 4)
write.csv(d3, "tests/reference/data/apim_two_predictors.csv", row.names = FALSE)

d4 <- sim_dyads(140, c("F", "M"), a = c(0.4, 0.5), p = c(0.2, 0.1), seed = 41)
set.seed(42)
d4$years <- rep(round(rnorm(140, 0, 5), 2), each = 2)
d4$y <- round(d4$y + 0.05 * d4$years * d4$x, 4)
write.csv(d4, "tests/reference/data/apim_moderator.csv", row.names = FALSE)

# ---- helpers --------------------------------------------------------------------------
# format() pads character vectors to one width ("wife   "); only numbers need it
fmt_role <- function(v) if (is.numeric(v)) format(v, scientific = FALSE, trim = TRUE) else as.character(v)

# individual -> dyad-wide, member 1 = first sorted role (or first row of the dyad)
to_wide <- function(d, dyad, role, vars) {
  if (is.null(role)) {
    d$.m <- ave(seq_len(nrow(d)), d[[dyad]], FUN = seq_along)
    roles <- c(1, 2)
  } else {
    roles <- sort(unique(d[[role]]))
    d$.m <- match(d[[role]], roles)
  }
  ids <- unique(d[[dyad]])
  w <- data.frame(dyad = ids)
  for (v in vars) for (m in 1:2) {
    s <- d[d$.m == m, ]
    w[[paste0(v, "_", m)]] <- s[[v]][match(ids, s[[dyad]])]
  }
  list(wide = w, roles = roles)
}

# terms of the APIM for outcome member r: list of (column, effect, predictor)
apim_terms <- function(r, x, pcov, dcov, mod, mod_within) {
  o <- 3 - r
  t <- list()
  add <- function(col, effect, pred) t[[length(t) + 1]] <<- list(col = col, effect = effect, pred = pred)
  for (v in x) add(paste0(v, "_", r), "actor", v)
  for (v in x) add(paste0(v, "_", o), "partner", v)
  for (v in pcov) { add(paste0(v, "_", r), "actor", v); add(paste0(v, "_", o), "partner", v) }
  for (v in dcov) add(paste0(v, "_1"), "actor", v)
  if (!is.null(mod)) {
    if (mod_within) {
      add(paste0(mod, "_", r), "actor", mod); add(paste0(mod, "_", o), "partner", mod)
      for (v in x) {
        add(paste0(v, "_", r, "_x_", mod, "_", r), paste0("actor:", mod), v)
        add(paste0(v, "_", o, "_x_", mod, "_", r), paste0("partner:", mod), v)
      }
    } else {
      add(paste0(mod, "_1"), "actor", mod)
      for (v in x) {
        add(paste0(v, "_", r, "_x_", mod, "_1"), paste0("actor:", mod), v)
        add(paste0(v, "_", o, "_x_", mod, "_1"), paste0("partner:", mod), v)
      }
    }
  }
  t
}

add_products <- function(w, x, mod, mod_within) {
  if (is.null(mod)) return(w)
  for (r in 1:2) for (o in 1:2) for (v in x) {
    mm <- if (mod_within) paste0(mod, "_", r) else paste0(mod, "_1")
    w[[paste0(v, "_", o, "_x_", mm)]] <- w[[paste0(v, "_", o)]] * w[[mm]]
  }
  w
}

# lavaan syntax; equal = character vector of what is equal across members
sem_syntax <- function(x, pcov, dcov, mod, mod_within, equal = character(0), exo = NULL) {
  lines <- c(); map <- list()
  for (r in 1:2) {
    tr <- apim_terms(r, x, pcov, dcov, mod, mod_within)
    rhs <- c()
    for (k in seq_along(tr)) {
      t <- tr[[k]]
      key <- paste0(gsub(":", "_", t$effect), "_", t$pred)
      eq <- (t$effect %in% c("actor", "partner") && t$pred %in% x && t$effect %in% equal) ||
        ("all" %in% equal)
      lab <- if (eq) paste0("b_", key) else paste0("b", r, "_", key)
      rhs <- c(rhs, paste0(lab, "*", t$col))
      map[[length(map) + 1]] <- list(label = lab, effect = t$effect, predictor = t$pred, member = r)
    }
    lines <- c(lines, paste0("y_", r, " ~ ", paste(rhs, collapse = " + ")))
    il <- if (any(c("intercept", "all") %in% equal)) "i" else paste0("i", r)
    lines <- c(lines, paste0("y_", r, " ~ ", il, "*1"))
    map[[length(map) + 1]] <- list(label = il, effect = "intercept", predictor = NA, member = r)
    vl <- if (any(c("variance", "all") %in% equal)) "v" else paste0("v", r)
    lines <- c(lines, paste0("y_", r, " ~~ ", vl, "*y_", r))
  }
  lines <- c(lines, "y_1 ~~ c12*y_2")
  if (!is.null(exo)) lines <- c(lines, exo)
  list(syntax = paste(lines, collapse = "\n"), map = map)
}

# exogenous-variable constraints of the indistinguishable model (fixed.x = FALSE)
exo_syntax <- function(cols, null = FALSE) {
  swap <- function(col) {
    if (grepl("_1$", col) && !(col %in% dyadcols)) sub("_1$", "_2", col)
    else if (grepl("_2$", col)) sub("_2$", "_1", col) else col
  }
  # product columns: v_o_x_m_r -> swap both member tags
  swapp <- function(col) {
    if (grepl("_x_", col)) {
      parts <- strsplit(col, "_x_")[[1]]
      paste0(swap(parts[1]), "_x_", swap(parts[2]))
    } else swap(col)
  }
  lines <- c()
  canon <- function(a, b) paste(sort(c(a, b)), collapse = "__")
  for (i in seq_along(cols)) {
    a <- cols[i]
    key <- min(canon(a, a), canon(swapp(a), swapp(a)))
    lines <- c(lines, paste0(a, " ~ m_", gsub("[^A-Za-z0-9]", "", key), "*1"))
    for (j in if (null) i else i:length(cols)) {
      b <- cols[j]
      key <- min(canon(a, b), canon(swapp(a), swapp(b)))
      lines <- c(lines, paste0(a, " ~~ s_", gsub("[^A-Za-z0-9]", "", key), "*", b))
    }
  }
  lines
}

est_table <- function(fit, map, roles, indist) {
  pe <- parameterEstimates(fit)
  pe <- pe[pe$label != "", ]
  rows <- list()
  seen <- c()
  for (m in map) {
    if (indist) {
      if (m$label %in% seen) next
      seen <- c(seen, m$label)
    }
    r <- pe[pe$label == m$label, ][1, ]
    rows[[length(rows) + 1]] <- list(
      effect = m$effect, predictor = if (is.na(m$predictor)) NULL else m$predictor,
      role = if (indist) NULL else fmt_role(roles[m$member]),
      estimate = r$est, se = r$se, statistic = r$z, p = r$pvalue)
  }
  rows
}

varcomp <- function(fit, roles, indist) {
  pe <- parameterEstimates(fit)
  v1 <- pe$est[pe$lhs == "y_1" & pe$rhs == "y_1" & pe$op == "~~"]
  v2 <- pe$est[pe$lhs == "y_2" & pe$rhs == "y_2" & pe$op == "~~"]
  c12 <- pe$est[pe$lhs == "y_1" & pe$rhs == "y_2" & pe$op == "~~"]
  list(residual_variance = if (indist) v1 else setNames(list(v1, v2), fmt_role(roles)),
       residual_covariance = c12, residual_correlation = c12 / sqrt(v1 * v2))
}

fitinfo <- function(fit) {
  fm <- fitMeasures(fit, c("logl", "npar", "aic", "bic", "chisq", "df", "pvalue", "rmsea", "cfi"))
  as.list(setNames(as.numeric(fm), names(fm)))
}

# ---- distinguishable SEM --------------------------------------------------------------
sem_case <- function(name, data_spec, d, dyad, role, y, x, pcov = NULL, dcov = NULL,
                     mod = NULL, mod_within = FALSE, tests = TRUE) {
  vars <- unique(c(y, x, pcov, dcov, mod))
  tw <- to_wide(d, dyad, role, vars)
  w <- tw$wide; roles <- tw$roles
  names(w) <- sub(paste0("^", y, "_"), "y_", names(w))
  w <- add_products(w, x, mod, mod_within)
  s <- sem_syntax(x, pcov, dcov, mod, mod_within)
  call <- "lavaan::sem(model, data = wide, meanstructure = TRUE, missing = \"ml\")"
  fit <- sem(s$syntax, data = w, meanstructure = TRUE, missing = "ml")
  exp <- list(estimates = est_table(fit, s$map, roles, FALSE),
              variance_components = varcomp(fit, roles, FALSE), fit = fitinfo(fit),
              n_dyads = lavInspect(fit, "nobs"), model_syntax = s$syntax)
  if (tests) {
    tl <- list()
    for (what in list(list("equal_actor_effects", "actor"), list("equal_partner_effects", "partner"),
                      list("equal_roles", c("intercept", "actor", "partner", "variance")))) {
      sc <- sem_syntax(x, pcov, dcov, mod, mod_within, equal = what[[2]])
      fc <- sem(sc$syntax, data = w, meanstructure = TRUE, missing = "ml")
      a <- anova(fc, fit)
      # Wald: the same equalities on the free model
      labs <- c()
      if ("intercept" %in% what[[2]]) labs <- c(labs, "i1 == i2")
      for (v in x) for (ef in intersect(c("actor", "partner"), what[[2]]))
        labs <- c(labs, paste0("b1_", ef, "_", v, " == b2_", ef, "_", v))
      if ("variance" %in% what[[2]]) labs <- c(labs, "v1 == v2")
      wt <- lavTestWald(fit, constraints = paste(labs, collapse = "\n"))
      tl[[length(tl) + 1]] <- list(name = what[[1]], kind = "lr", statistic = a[["Chisq diff"]][2],
                                   df = a[["Df diff"]][2], p = a[["Pr(>Chisq)"]][2])
      tl[[length(tl) + 1]] <- list(name = what[[1]], kind = "wald", statistic = wt$stat,
                                   df = wt$df, p = wt$p.value)
    }
    exp$tests <- tl
  }
  args <- list(y = y, x = x, dyad = dyad, role = role, method = "sem")
  if (!is.null(pcov) || !is.null(dcov)) args$covariates <- c(pcov, dcov)
  if (!is.null(mod)) args$moderator <- mod
  list(name = name, model = "apim_sem", call = paste0(call, "  # model:\n", s$syntax),
       script = "tests/reference/apim.R", r_version = R.version.string, packages = pk,
       generated = today, data = data_spec, args = args, expected = exp)
}

# ---- indistinguishable SEM (Olsen & Kenny 2006) --------------------------------------
dyadcols <- c()
isem_case <- function(name, data_spec, d, dyad, y, x, pcov = NULL, dcov = NULL,
                      mod = NULL, mod_within = FALSE) {
  vars <- unique(c(y, x, pcov, dcov, mod))
  w <- to_wide(d, dyad, NULL, vars)$wide
  names(w) <- sub(paste0("^", y, "_"), "y_", names(w))
  w <- add_products(w, x, mod, mod_within)
  dyadcols <<- c(paste0(dcov, "_1"), if (!is.null(mod) && !mod_within) paste0(mod, "_1"))
  s0 <- sem_syntax(x, pcov, dcov, mod, mod_within, equal = "all")
  exo <- unique(unlist(lapply(1:2, function(r) sapply(apim_terms(r, x, pcov, dcov, mod, mod_within), `[[`, "col"))))
  s <- sem_syntax(x, pcov, dcov, mod, mod_within, equal = "all", exo = exo_syntax(exo))
  fit <- sem(s$syntax, data = w, meanstructure = TRUE, missing = "ml", fixed.x = FALSE)
  exp <- list(estimates = est_table(fit, s$map, c(1, 2), TRUE),
              variance_components = varcomp(fit, c(1, 2), TRUE), fit = fitinfo(fit),
              n_dyads = lavInspect(fit, "nobs"))
  if (!anyNA(w)) {
    # Olsen & Kenny's I-SAT (saturated, invariant to swapping the members) and I-NULL
    # (means and variances equal across members, no covariances) models
    vars <- c("y_1", "y_2", exo)
    isat <- sem(paste(exo_syntax(vars), collapse = "\n"), data = w, meanstructure = TRUE)
    inull <- sem(paste(exo_syntax(vars, null = TRUE), collapse = "\n"), data = w,
                 meanstructure = TRUE, orthogonal = TRUE)
    exp$isat <- fitinfo(isat)
    exp$inull <- fitinfo(inull)
  }
  args <- list(y = y, x = x, dyad = dyad, method = "sem")
  if (!is.null(pcov) || !is.null(dcov)) args$covariates <- c(pcov, dcov)
  if (!is.null(mod)) args$moderator <- mod
  list(name = name, model = "apim_isem",
       call = paste0("lavaan::sem(model, data = wide, meanstructure = TRUE, missing = \"ml\", fixed.x = FALSE)  # model:\n", s$syntax),
       script = "tests/reference/apim.R", r_version = R.version.string, packages = pk,
       generated = today, data = data_spec, args = args, expected = exp)
}

# ---- MLM (nlme::gls) ------------------------------------------------------------------
mlm_case <- function(name, data_spec, d, dyad, role, y, x, pcov = NULL, dcov = NULL,
                     mod = NULL, mod_within = FALSE) {
  d$.ord <- ave(seq_len(nrow(d)), d[[dyad]], FUN = seq_along)
  # partner values
  for (v in unique(c(x, pcov, mod))) {
    pv <- rep(NA_real_, nrow(d))
    for (i in seq_len(nrow(d))) {
      j <- which(d[[dyad]] == d[[dyad]][i] & seq_len(nrow(d)) != i)
      if (length(j) == 1) pv[i] <- d[[v]][j]
    }
    d[[paste0(v, "_partner")]] <- pv
  }
  rhs <- c(x, paste0(x, "_partner"))
  if (!is.null(pcov)) rhs <- c(rhs, pcov, paste0(pcov, "_partner"))
  if (!is.null(dcov)) rhs <- c(rhs, dcov)
  if (!is.null(mod)) {
    if (mod_within) rhs <- c(rhs, mod, paste0(mod, "_partner")) else rhs <- c(rhs, mod)
    rhs <- c(rhs, paste0(x, ":", mod), paste0(x, "_partner:", mod))
  }
  d$dyadf <- factor(d[[dyad]])
  if (is.null(role)) {
    f <- as.formula(paste(y, "~", paste(rhs, collapse = " + ")))
    fit <- gls(f, data = d, correlation = corCompSymm(form = ~1 | dyadf), method = "REML",
               na.action = na.omit)
    call <- paste0("nlme::gls(", deparse(f), ", correlation = corCompSymm(form = ~1 | dyad), method = \"REML\", na.action = na.omit)")
  } else {
    d$rolef <- factor(d[[role]])
    f <- as.formula(paste(y, "~ 0 + rolef +", paste(paste0("rolef:", rhs), collapse = " + ")))
    fit <- gls(f, data = d, correlation = corCompSymm(form = ~1 | dyadf),
               weights = varIdent(form = ~1 | rolef), method = "REML", na.action = na.omit)
    call <- paste0("nlme::gls(", paste(deparse(f), collapse = ""), ", correlation = corCompSymm(form = ~1 | dyad), weights = varIdent(form = ~1 | role), method = \"REML\", na.action = na.omit)")
  }
  tt <- summary(fit)$tTable
  rows <- list()
  for (nm in rownames(tt)) {
    role_v <- NULL; term <- nm
    if (!is.null(role)) {
      parts <- strsplit(nm, ":")[[1]]
      role_v <- sub("^rolef", "", parts[1])
      term <- if (length(parts) == 1) "(Intercept)" else paste(parts[-1], collapse = ":")
    }
    if (term == "(Intercept)") { eff <- "intercept"; pred <- NULL }
    else {
      tp <- strsplit(term, ":")[[1]]
      base <- tp[1]; isp <- grepl("_partner$", base); base <- sub("_partner$", "", base)
      eff <- if (isp) "partner" else "actor"; pred <- base
      if (length(tp) == 2) eff <- paste0(eff, ":", tp[2])
    }
    rows[[length(rows) + 1]] <- list(effect = eff, predictor = pred, role = role_v,
                                     estimate = tt[nm, 1], se = tt[nm, 2], statistic = tt[nm, 3], p = tt[nm, 4])
  }
  sig <- fit$sigma
  rho <- as.numeric(coef(fit$modelStruct$corStruct, unconstrained = FALSE))
  if (!is.null(role)) {
    vf <- coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
    sds <- sig * vf
    sds <- as.list(setNames(as.numeric(sds), names(vf)))
  } else sds <- sig
  exp <- list(estimates = rows, df = fit$dims$N - fit$dims$p, residual_sd = sds,
              residual_correlation = rho, loglik = as.numeric(logLik(fit)),
              aic = AIC(fit), bic = BIC(fit), n_obs = fit$dims$N)
  args <- list(y = y, x = x, dyad = dyad, method = "mlm")
  if (!is.null(role)) args$role <- role
  if (!is.null(pcov) || !is.null(dcov)) args$covariates <- c(pcov, dcov)
  if (!is.null(mod)) args$moderator <- mod
  list(name = name, model = "apim_mlm", call = call, script = "tests/reference/apim.R",
       r_version = R.version.string, packages = pk, generated = today, data = data_spec,
       args = args, expected = exp)
}

# ---- cases ----------------------------------------------------------------------------
aci <- read.csv("src/dyadlab/data/datasets/acitelli.csv")  # bundled: dyadlab.data.datasets
dres <- read.csv(file.path(shared, "dres_individual.csv"))
rd <- function(f) read.csv(file.path("tests/reference/data", f))

sem_cases <- list(
  sem_case("acitelli_other_pos", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "gender", "satisfaction", "other_pos"),
  sem_case("acitelli_tension", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "gender", "satisfaction", "tension"),
  sem_case("acitelli_two_predictors", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "gender", "satisfaction", c("tension", "other_pos")),
  sem_case("acitelli_yearsmar_moderator", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "gender", "satisfaction", "other_pos", mod = "Yearsmar", tests = FALSE),
  sem_case("sim_dist_missing", "repo:tests/reference/data/apim_dist_missing.csv", rd("apim_dist_missing.csv"), "dyad", "role", "y", "x"),
  sem_case("sim_two_predictors_covariates", "repo:tests/reference/data/apim_two_predictors.csv", rd("apim_two_predictors.csv"), "dyad", "role", "y", c("x", "z"), pcov = "age", dcov = "length"),
  sem_case("sim_moderator", "repo:tests/reference/data/apim_moderator.csv", rd("apim_moderator.csv"), "dyad", "role", "y", "x", mod = "years", tests = FALSE),
  sem_case("acitelli_simhob_within_moderator", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "gender", "satisfaction", "other_pos", mod = "simhob", mod_within = TRUE, tests = FALSE)
)
write_json(list(cases = sem_cases), "tests/reference/fixtures/apim_sem.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null")

isem_cases <- list(
  isem_case("acitelli_other_pos_indist", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "satisfaction", "other_pos"),
  isem_case("sim_indist", "repo:tests/reference/data/apim_indist.csv", rd("apim_indist.csv"), "dyad", "y", "x"),
  isem_case("dres_indist", "shared:dres_individual.csv", dres, "couple", "sexsat", "quality"),
  isem_case("acitelli_two_predictors_dyad_covariate_indist", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "satisfaction", c("other_pos", "tension"), dcov = "Yearsmar")
)
write_json(list(cases = isem_cases), "tests/reference/fixtures/apim_isem.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null")

mlm_cases <- list(
  mlm_case("acitelli_other_pos_dist", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "gender", "satisfaction", "other_pos"),
  mlm_case("acitelli_tension_indist", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", NULL, "satisfaction", "tension"),
  mlm_case("acitelli_two_predictors_indist", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", NULL, "satisfaction", c("tension", "other_pos")),
  mlm_case("dres_indist", "shared:dres_individual.csv", dres, "couple", NULL, "sexsat", "quality"),
  mlm_case("sim_indist", "repo:tests/reference/data/apim_indist.csv", rd("apim_indist.csv"), "dyad", NULL, "y", "x"),
  mlm_case("sim_dist_missing", "repo:tests/reference/data/apim_dist_missing.csv", rd("apim_dist_missing.csv"), "dyad", "role", "y", "x"),
  mlm_case("sim_two_predictors_covariates", "repo:tests/reference/data/apim_two_predictors.csv", rd("apim_two_predictors.csv"), "dyad", "role", "y", c("x", "z"), pcov = "age", dcov = "length"),
  mlm_case("sim_moderator_indist", "repo:tests/reference/data/apim_moderator.csv", rd("apim_moderator.csv"), "dyad", NULL, "y", "x", mod = "years"),
  mlm_case("acitelli_simhob_within_moderator_indist", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", NULL, "satisfaction", "other_pos", mod = "simhob", mod_within = TRUE),
  mlm_case("acitelli_simhob_within_moderator_dist", "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "gender", "satisfaction", "other_pos", mod = "simhob", mod_within = TRUE)
)
write_json(list(cases = mlm_cases), "tests/reference/fixtures/apim_mlm.json", digits = NA, auto_unbox = TRUE, pretty = TRUE, null = "null")
cat("done\n")
