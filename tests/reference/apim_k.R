# Reference values of k = partner / actor with its delta-method standard error
# (tests/models/test_apim_k.py).
#
# Run from the repository root:  Rscript tests/reference/apim_k.R
# Writes tests/reference/fixtures/apim_k.json.
#
# SEM (distinguishable): lavaan::sem() on the dyad-wide data with labelled paths and
#   defined parameters  k1_X := b1_partner_X / b1_actor_X  (member 1 = first sorted role);
#   lavaan gives their standard errors by the delta method from the parameters'
#   covariance matrix, and a Wald (z) interval.
# MLM (nlme::gls REML): nlme has no `:=`; k's standard error is the same delta-method
#   formula, sqrt(g' V g) with g = (-p / a^2, 1 / a) and V = vcov(fit) of (actor, partner),
#   written out here.
suppressPackageStartupMessages({library(lavaan); library(nlme); library(jsonlite)})

pk <- list(lavaan = as.character(packageVersion("lavaan")),
           nlme = as.character(packageVersion("nlme")))
today <- as.character(Sys.Date())
aci <- read.csv("src/dyadlab/data/datasets/acitelli.csv")  # bundled: dyadlab.data.datasets
aci_spec <- "repo:src/dyadlab/data/datasets/acitelli.csv"
sim <- read.csv("tests/reference/data/apim_dist_missing.csv")  # written by apim.R
sim_spec <- "repo:tests/reference/data/apim_dist_missing.csv"
fmt_role <- function(v) if (is.numeric(v)) format(v, scientific = FALSE, trim = TRUE) else as.character(v)

to_wide <- function(d, dyad, role, vars) {
  roles <- sort(unique(d[[role]]))
  ids <- unique(d[[dyad]])
  w <- data.frame(dyad = ids)
  for (v in vars) for (m in 1:2) {
    s <- d[d[[role]] == roles[m], ]
    w[[paste0(v, "_", m)]] <- s[[v]][match(ids, s[[dyad]])]
  }
  list(wide = w, roles = roles)
}

sem_k_case <- function(name, spec, d, dyad, role, y, x) {
  tw <- to_wide(d, dyad, role, c(y, x))
  w <- tw$wide
  names(w) <- sub(paste0("^", y, "_"), "y_", names(w))
  lines <- c()
  for (r in 1:2) {
    o <- 3 - r
    rhs <- c(paste0("b", r, "_actor_", x, "*", x, "_", r), paste0("b", r, "_partner_", x, "*", x, "_", o))
    lines <- c(lines, paste0("y_", r, " ~ ", paste(rhs, collapse = " + ")),
               paste0("y_", r, " ~ i", r, "*1"), paste0("y_", r, " ~~ v", r, "*y_", r))
  }
  lines <- c(lines, "y_1 ~~ c12*y_2")
  for (r in 1:2) for (v in x)
    lines <- c(lines, paste0("k", r, "_", v, " := b", r, "_partner_", v, " / b", r, "_actor_", v))
  model <- paste(lines, collapse = "\n")
  fit <- sem(model, data = w, meanstructure = TRUE, missing = "ml")
  pe <- parameterEstimates(fit)
  rows <- list()
  for (r in 1:2) for (v in x) {
    row <- pe[pe$op == ":=" & pe$lhs == paste0("k", r, "_", v), ]
    stopifnot(nrow(row) == 1)
    rows[[length(rows) + 1]] <- list(role = fmt_role(tw$roles[r]), predictor = v,
      estimate = row$est, se = row$se, ci_low = row$ci.lower, ci_high = row$ci.upper)
  }
  list(name = name, model = "apim_k",
       call = paste0("lavaan::sem(model, data = wide, meanstructure = TRUE, missing = \"ml\"); ",
                     "parameterEstimates(fit)[op == \":=\"]  # model:\n", model),
       script = "tests/reference/apim_k.R", r_version = R.version.string, packages = pk,
       generated = today, data = spec,
       args = list(y = y, x = x, dyad = dyad, role = role, method = "sem"),
       expected = list(k = rows))
}

mlm_k_case <- function(name, spec, d, dyad, role, y, x) {
  for (v in x) {
    pv <- rep(NA_real_, nrow(d))
    for (i in seq_len(nrow(d))) {
      j <- which(d[[dyad]] == d[[dyad]][i] & seq_len(nrow(d)) != i)
      if (length(j) == 1) pv[i] <- d[[v]][j]
    }
    d[[paste0(v, "_partner")]] <- pv
  }
  rhs <- c(x, paste0(x, "_partner"))
  d$dyadf <- factor(d[[dyad]])
  if (is.null(role)) {
    f <- as.formula(paste(y, "~", paste(rhs, collapse = " + ")))
    fit <- gls(f, data = d, correlation = corCompSymm(form = ~1 | dyadf), method = "REML",
               na.action = na.omit)
    groups <- list(list(role = NULL, prefix = ""))
    call <- paste0("nlme::gls(", deparse(f), ", correlation = corCompSymm(form = ~1 | dyad), method = \"REML\", na.action = na.omit)")
  } else {
    d$rolef <- factor(d[[role]])
    f <- as.formula(paste(y, "~ 0 + rolef +", paste(paste0("rolef:", rhs), collapse = " + ")))
    fit <- gls(f, data = d, correlation = corCompSymm(form = ~1 | dyadf),
               weights = varIdent(form = ~1 | rolef), method = "REML", na.action = na.omit)
    groups <- lapply(levels(d$rolef), function(l) list(role = l, prefix = paste0("rolef", l, ":")))
    call <- paste0("nlme::gls(", paste(deparse(f), collapse = ""), ", correlation = corCompSymm(form = ~1 | dyad), weights = varIdent(form = ~1 | role), method = \"REML\", na.action = na.omit)")
  }
  b <- coef(fit); V <- vcov(fit)
  rows <- list()
  for (g in groups) for (v in x) {
    ia <- paste0(g$prefix, v); ip <- paste0(g$prefix, v, "_partner")
    a <- b[[ia]]; p <- b[[ip]]
    grad <- c(-p / a^2, 1 / a)
    se <- sqrt(as.numeric(t(grad) %*% V[c(ia, ip), c(ia, ip)] %*% grad))
    rows[[length(rows) + 1]] <- list(role = g$role, predictor = v, estimate = p / a, se = se,
                                     df = fit$dims$N - fit$dims$p)
  }
  args <- list(y = y, x = x, dyad = dyad, method = "mlm")
  if (!is.null(role)) args$role <- role
  list(name = name, model = "apim_k",
       call = paste0(call, "; k = p / a, se = sqrt(g' vcov(fit) g), g = (-p / a^2, 1 / a)"),
       script = "tests/reference/apim_k.R", r_version = R.version.string, packages = pk,
       generated = today, data = spec, args = args, expected = list(k = rows))
}

cases <- list(
  sem_k_case("acitelli_tension_sem", aci_spec, aci, "cuplid", "gender", "satisfaction", "tension"),
  sem_k_case("acitelli_other_pos_sem", aci_spec, aci, "cuplid", "gender", "satisfaction", "other_pos"),
  sem_k_case("acitelli_two_predictors_sem", aci_spec, aci, "cuplid", "gender", "satisfaction", c("tension", "other_pos")),
  sem_k_case("sim_missing_sem", sim_spec, sim, "dyad", "role", "y", "x"),
  mlm_k_case("acitelli_tension_mlm_dist", aci_spec, aci, "cuplid", "gender", "satisfaction", "tension"),
  mlm_k_case("acitelli_tension_mlm_indist", aci_spec, aci, "cuplid", NULL, "satisfaction", "tension")
)
write(toJSON(list(cases = cases), auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE),
      "tests/reference/fixtures/apim_k.json")
