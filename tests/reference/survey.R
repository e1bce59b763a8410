# Reference values for dyadlab.survey from R's survey package.
#
#   Rscript tests/reference/survey.R      (from the repository root)
#
# Writes tests/reference/data/survey_*.csv (the data every case uses) and
# tests/reference/fixtures/survey.json (one case per R call, with its provenance).
#
# Data: apistrat, apiclus1 and apiclus2 from R's survey package (GPL-2/GPL-3, Thomas
# Lumley); the Academic Performance Index data are public data of the California
# Department of Education. We keep the columns the cases use; dots in names become
# underscores, and sw = (sch.wide == "Yes"). The simulated designs (lonely PSUs,
# missing values, PSU ids restarting in each stratum, two stages with fpc) are drawn
# here with set.seed(13).
suppressMessages(library(survey))
suppressMessages(library(jsonlite))

out_data <- "tests/reference/data"
out_fix <- "tests/reference/fixtures/survey.json"
data(api)

keep_api <- function(d, extra) {
  d$sw <- as.numeric(d$sch.wide == "Yes")
  cols <- c("snum", "dnum", "stype", "pw", extra, "api00", "api99", "ell", "meals",
            "mobility", "enroll", "api.stu", "sw", "awards")
  d <- d[, cols]
  names(d) <- gsub(".", "_", names(d), fixed = TRUE)
  d$stype <- as.character(d$stype)
  d$awards <- as.character(d$awards)
  d
}
write_data <- function(d, name) {
  path <- file.path(out_data, paste0("survey_", name, ".csv"))
  write.csv(d, path, row.names = FALSE, na = "")
  # every case reads the CSV back, so R and dyadlab see the same numbers
  read.csv(path, stringsAsFactors = FALSE)
}

api_strat <- write_data(keep_api(apistrat, "fpc"), "api_strat")
api_clus1 <- write_data(keep_api(apiclus1, "fpc"), "api_clus1")
api_clus2 <- write_data(keep_api(apiclus2, c("fpc1", "fpc2")), "api_clus2")

# --- simulated: lonely PSUs, PSU ids restarting in strata, missing values ----------
set.seed(13)
npsu <- c(1, 3, 2, 4, 1, 3, 2, 5, 2, 3)
rows <- list()
for (h in seq_along(npsu)) for (j in seq_len(npsu[h])) {
  m <- sample(3:12, 1)
  u <- rnorm(1, 0, 0.7)
  x <- rnorm(m)
  g <- sample(c("a", "b", "c"), m, replace = TRUE)
  if (h >= 8) g[seq_len(min(2, m))] <- "d"
  rows[[length(rows) + 1]] <- data.frame(
    s = h, psu = j, w = round(runif(m, 50, 300), 2), x = round(x, 4),
    y = round(2 + 0.5 * x + u + rnorm(m), 4), g = g,
    b = rbinom(m, 1, plogis(-0.3 + 0.8 * x)), cnt = rpois(m, exp(0.4 + 0.3 * x)),
    den = round(runif(m, 1, 4), 3), fpc = npsu[h] * 4)
}
sim <- do.call(rbind, rows)
sim$y[sample(nrow(sim), 12)] <- NA
sim$b[sample(nrow(sim), 6)] <- NA
sim$x[sample(nrow(sim), 4)] <- NA
sim <- write_data(sim, "sim_lonely")

# --- simulated: two stages with fpc at both, some PSUs with one SSU ------------------
set.seed(14)
rows <- list()
for (h in 1:4) for (j in 1:sample(3:4, 1)) {
  nssu <- sample(1:3, 1)
  u <- rnorm(1, 0, 0.5)
  for (k in 1:nssu) {
    m <- sample(2:5, 1)
    rows[[length(rows) + 1]] <- data.frame(
      s = h, psu = 10 * h + j, ssu = k, fpc1 = 12, fpc2 = nssu * 3,
      w = round(runif(m, 20, 80), 2), y = round(5 + u + rnorm(m), 4),
      g = sample(c("p", "q"), m, replace = TRUE))
  }
}
sim2 <- do.call(rbind, rows)
sim2$y[c(3, 17)] <- NA
sim2 <- write_data(sim2, "sim_twostage")

# --- the designs ----------------------------------------------------------------------
# each: the R call, the data, the dyadlab arguments of dl.survey.design()
designs <- list(
  api_strat = list(data = "api_strat", r = "svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = d)",
                   py = list(weights = "pw", strata = "stype", fpc = "fpc")),
  api_strat_nofpc = list(data = "api_strat", r = "svydesign(id = ~1, strata = ~stype, weights = ~pw, data = d)",
                         py = list(weights = "pw", strata = "stype")),
  api_clus1 = list(data = "api_clus1", r = "svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = d)",
                   py = list(weights = "pw", cluster = "dnum", fpc = "fpc")),
  api_clus2 = list(data = "api_clus2", r = "svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = d)",
                   py = list(weights = NULL, cluster = c("dnum", "snum"), fpc = c("fpc1", "fpc2"))),
  api_clus2_pw = list(data = "api_clus2", r = "svydesign(id = ~dnum + snum, weights = ~pw, data = d)",
                      py = list(weights = "pw", cluster = c("dnum", "snum"))),
  sim_nest = list(data = "sim_lonely", r = "svydesign(id = ~psu, strata = ~s, weights = ~w, nest = TRUE, data = d)",
                  py = list(weights = "w", strata = "s", cluster = "psu", nest = TRUE)),
  sim_nest_fpc = list(data = "sim_lonely", r = "svydesign(id = ~psu, strata = ~s, weights = ~w, fpc = ~fpc, nest = TRUE, data = d)",
                      py = list(weights = "w", strata = "s", cluster = "psu", fpc = "fpc", nest = TRUE)),
  sim_two = list(data = "sim_twostage", r = "svydesign(id = ~psu + ssu, strata = ~s, weights = ~w, fpc = ~fpc1 + fpc2, data = d)",
                 py = list(weights = "w", strata = "s", cluster = c("psu", "ssu"), fpc = c("fpc1", "fpc2")))
)
frames <- list(api_strat = api_strat, api_clus1 = api_clus1, api_clus2 = api_clus2,
               sim_lonely = sim, sim_twostage = sim2)
make_design <- function(name) {
  spec <- designs[[name]]
  d <- frames[[spec$data]]
  eval(parse(text = spec$r))
}

cases <- list()
add <- function(name, design, lonely, op, r_call, expected) {
  spec <- designs[[design]]
  py <- spec$py
  py$lonely_psu <- lonely
  cases[[length(cases) + 1]] <<- list(
    name = name, model = "survey",
    call = paste0("options(survey.lonely.psu = '", lonely, "'); des <- ", spec$r, "; ", r_call),
    script = "tests/reference/survey.R",
    r_version = R.version.string,
    packages = list(survey = as.character(packageVersion("survey"))),
    generated = as.character(Sys.Date()),
    data = paste0("repo:", file.path(out_data, paste0("survey_", spec$data, ".csv"))),
    args = list(design = py, op = op),
    expected = expected)
}
run <- function(name, design, lonely, op, r_call) {
  options(survey.lonely.psu = lonely)
  des <- make_design(design)
  res <- tryCatch(eval(parse(text = r_call)), error = function(e) stop(name, ": ", conditionMessage(e)))
  add(name, design, lonely, op, r_call, res)
}

# estimates and SEs of svymean / svytotal / svyratio / svyby
stat <- function(x) list(estimate = unname(as.vector(coef(x))), se = unname(as.vector(SE(x))))
byrows <- function(x) list(estimate = unname(as.vector(coef(x))), se = unname(as.vector(as.matrix(SE(x)))),
                           group = as.character(x[[1]]))
ciprop <- function(x) list(estimate = unname(as.vector(x)), se = unname(sqrt(as.vector(attr(x, "var")))),
                           ci_low = unname(attr(x, "ci")[1]), ci_high = unname(attr(x, "ci")[2]))
ciprop_by <- function(x) list(estimate = unname(as.vector(coef(x))), se = unname(as.vector(SE(x))),
                              ci_low = unname(x$ci_l), ci_high = unname(x$ci_u),
                              group = as.character(x[[1]]))
glmrows <- function(m) {
  s <- summary(m)$coefficients
  list(effect = rownames(s), estimate = unname(s[, 1]), se = unname(s[, 2]),
       statistic = unname(s[, 3]), p = unname(s[, 4]), df = m$df.residual)
}
termtest <- function(t) list(statistic = unname(as.vector(t$Ftest)), df = t$df, ddf = t$ddf,
                             p = unname(as.vector(t$p)))
qrows <- function(x) {
  m <- x[[1]]
  list(estimate = unname(m[, 1]), ci_low = unname(m[, 2]), ci_high = unname(m[, 3]),
       se = unname(m[, 4]))
}
chisq_F <- function(t) list(statistic = unname(t$statistic), df = unname(t$parameter[1]),
                            ddf = unname(t$parameter[2]), p = unname(t$p.value))
chisq_X2 <- function(t) list(statistic = unname(t$statistic), df = unname(t$parameter[1]),
                             p = unname(t$p.value))
contrast <- function(x) list(estimate = unname(as.vector(coef(x))), se = unname(as.vector(SE(x))))
cov_glm <- function(m) list(estimate = unname(as.vector(coef(m))), vcov = unname(as.vector(vcov(m))))

# --- the api designs ---------------------------------------------------------------------
for (dn in c("api_strat", "api_strat_nofpc", "api_clus1", "api_clus2", "api_clus2_pw")) {
  run(paste0(dn, "_mean"), dn, "fail", list(kind = "mean", var = c("api00", "enroll")),
      "stat(svymean(~api00 + enroll, des, na.rm = TRUE))")
  run(paste0(dn, "_mean_api00"), dn, "fail", list(kind = "mean", var = "api00"),
      "stat(svymean(~api00, des))")
  run(paste0(dn, "_total"), dn, "fail", list(kind = "total", var = "enroll"),
      "stat(svytotal(~enroll, des, na.rm = TRUE))")
  run(paste0(dn, "_ratio"), dn, "fail", list(kind = "ratio", var = "api_stu", denominator = "enroll"),
      "stat(svyratio(~api_stu, ~enroll, des, na.rm = TRUE))")
  run(paste0(dn, "_mean_by"), dn, "fail", list(kind = "mean", var = "api00", by = "stype"),
      "byrows(svyby(~api00, ~stype, des, svymean, na.rm = TRUE))")
  run(paste0(dn, "_mean_by_enroll"), dn, "fail", list(kind = "mean", var = "enroll", by = "awards"),
      "byrows(svyby(~enroll, ~awards, des, svymean, na.rm = TRUE))")
  run(paste0(dn, "_total_by"), dn, "fail", list(kind = "total", var = "enroll", by = "stype"),
      "byrows(svyby(~enroll, ~stype, des, svytotal, na.rm = TRUE))")
  run(paste0(dn, "_ratio_by"), dn, "fail", list(kind = "ratio", var = "api_stu", denominator = "enroll", by = "stype"),
      "byrows(svyby(~api_stu, ~stype, denominator = ~enroll, des, svyratio, na.rm = TRUE))")
  for (m in c("logit", "beta")) {
    run(paste0(dn, "_prop_", m), dn, "fail", list(kind = "proportion", var = "sw", method = m),
        paste0("ciprop(svyciprop(~sw, des, method = '", m, "'))"))
    run(paste0(dn, "_prop_by_", m), dn, "fail", list(kind = "proportion", var = "sw", by = "stype", method = m),
        paste0("ciprop_by(svyby(~sw, ~stype, des, svyciprop, method = '", m, "', vartype = c('se', 'ci')))"))
  }
  run(paste0(dn, "_quantile"), dn, "fail", list(kind = "quantile", var = "api00", q = c(0.25, 0.5, 0.9)),
      "qrows(svyquantile(~api00, des, c(0.25, 0.5, 0.9), ci = TRUE))")
  run(paste0(dn, "_quantile_na"), dn, "fail", list(kind = "quantile", var = "enroll", q = c(0.5, 0.75)),
      "qrows(svyquantile(~enroll, des, c(0.5, 0.75), ci = TRUE, na.rm = TRUE))")
  run(paste0(dn, "_quantile_by"), dn, "fail", list(kind = "quantile", var = "api00", q = 0.5, by = "stype"),
      "ciprop_by(svyby(~api00, ~stype, des, svyquantile, quantiles = 0.5, ci = TRUE, vartype = c('se', 'ci')))")
  run(paste0(dn, "_chisq_F"), dn, "fail", list(kind = "chisq", a = "stype", b = "awards", statistic = "F"),
      "chisq_F(svychisq(~stype + awards, des))")
  run(paste0(dn, "_chisq_X2"), dn, "fail", list(kind = "chisq", a = "stype", b = "awards", statistic = "Chisq"),
      "chisq_X2(svychisq(~stype + awards, des, statistic = 'Chisq'))")
  run(paste0(dn, "_contrast"), dn, "fail",
      list(kind = "contrast", var = "api00", by = "stype", weights = c(1, -1, 0)),
      "contrast(svycontrast(svyglm(api00 ~ 0 + stype, des), c(1, -1, 0)))")
  run(paste0(dn, "_joint_vcov"), dn, "fail", list(kind = "joint", var = "api00", by = "stype"),
      "cov_glm(svyglm(api00 ~ 0 + stype, des))")
}

# --- design-based GLMs -----------------------------------------------------------------------
ctl <- "control = glm.control(epsilon = 1e-13, maxit = 100)"
# glm.fit's sandwich uses the working weights of its last iteration's start; a refit
# started at the solution puts them at the converged coefficients (else SEs carry the
# ~sqrt(epsilon) error of the deviance-based stopping rule)
refit <- function(m, des) {
  cl <- m$call
  cl$design <- quote(des)
  cl$start <- unname(coef(m))
  eval(cl)
}
glm_cases <- list(
  list("api_strat", "gaussian", "api00", c("ell", "meals", "mobility"), "ell"),
  list("api_clus1", "gaussian", "api00", c("ell", "meals", "stype"), "stype"),
  list("api_clus2", "gaussian", "api00", c("ell", "meals", "enroll", "stype"), "stype"),
  list("api_strat", "quasibinomial", "sw", c("ell", "meals", "stype"), "stype"),
  list("api_clus1", "quasibinomial", "sw", c("api99", "stype"), "api99"),
  list("api_strat", "poisson", "enroll", c("meals", "stype"), "stype")
)
for (gc in glm_cases) {
  f <- paste(gc[[3]], "~", paste(gc[[4]], collapse = " + "))
  r <- paste0("svyglm(", f, ", des, family = ", gc[[2]], "(), ", ctl, ")")
  nm <- paste(gc[[1]], gc[[2]], gc[[3]], sep = "_")
  run(paste0(nm, "_glm"), gc[[1]], "fail", list(kind = "glm", y = gc[[3]], x = gc[[4]], family = gc[[2]]),
      paste0("glmrows(refit(", r, ", des))"))
  run(paste0(nm, "_termtest"), gc[[1]], "fail",
      list(kind = "termtest", y = gc[[3]], x = gc[[4]], family = gc[[2]], term = gc[[5]]),
      paste0("termtest(regTermTest(refit(", r, ", des), ~", gc[[5]], "))"))
}

# --- simulated: lonely PSUs, missing values, nest --------------------------------------------
for (lonely in c("remove", "certainty", "adjust", "average")) {
  for (dn in c("sim_nest", "sim_nest_fpc")) {
    p <- paste(dn, lonely, sep = "_")
    run(paste0(p, "_mean"), dn, lonely, list(kind = "mean", var = c("y", "x")),
        "stat(svymean(~y + x, des, na.rm = TRUE))")
    run(paste0(p, "_mean_by"), dn, lonely, list(kind = "mean", var = "y", by = "g"),
        "byrows(svyby(~y, ~g, des, svymean, na.rm = TRUE))")
    run(paste0(p, "_total_by"), dn, lonely, list(kind = "total", var = "cnt", by = "g"),
        "byrows(svyby(~cnt, ~g, des, svytotal, na.rm = TRUE))")
    run(paste0(p, "_ratio_by"), dn, lonely, list(kind = "ratio", var = "y", denominator = "den", by = "g"),
        "byrows(svyby(~y, ~g, denominator = ~den, des, svyratio, na.rm = TRUE))")
    run(paste0(p, "_prop_by"), dn, lonely, list(kind = "proportion", var = "b", by = "g", method = "logit"),
        "ciprop_by(svyby(~b, ~g, des, svyciprop, method = 'logit', vartype = c('se', 'ci'), na.rm = TRUE))")
    run(paste0(p, "_prop_beta"), dn, lonely, list(kind = "proportion", var = "b", method = "beta"),
        "ciprop(svyciprop(~b, des, method = 'beta', na.rm = TRUE))")
    run(paste0(p, "_quantile_by"), dn, lonely, list(kind = "quantile", var = "y", q = 0.5, by = "g"),
        "ciprop_by(svyby(~y, ~g, des, svyquantile, quantiles = 0.5, ci = TRUE, vartype = c('se', 'ci'), na.rm = TRUE))")
    run(paste0(p, "_chisq_F"), dn, lonely, list(kind = "chisq", a = "g", b = "b", statistic = "F"),
        "chisq_F(svychisq(~g + b, des))")
    run(paste0(p, "_glm"), dn, lonely, list(kind = "glm", y = "y", x = c("x", "g"), family = "gaussian"),
        paste0("glmrows(refit(svyglm(y ~ x + g, des, ", ctl, "), des))"))
    run(paste0(p, "_glm_pois"), dn, lonely, list(kind = "glm", y = "cnt", x = c("x"), family = "poisson"),
        paste0("glmrows(refit(svyglm(cnt ~ x, des, family = poisson(), ", ctl, "), des))"))
    run(paste0(p, "_glm_qb"), dn, lonely, list(kind = "glm", y = "b", x = c("x"), family = "quasibinomial"),
        paste0("glmrows(refit(svyglm(b ~ x, des, family = quasibinomial(), ", ctl, "), des))"))
    run(paste0(p, "_termtest"), dn, lonely,
        list(kind = "termtest", y = "y", x = c("x", "g"), family = "gaussian", term = "g"),
        paste0("termtest(regTermTest(refit(svyglm(y ~ x + g, des, ", ctl, "), des), ~g))"))
  }
  p <- paste("sim_two", lonely, sep = "_")
  run(paste0(p, "_mean"), "sim_two", lonely, list(kind = "mean", var = "y"),
      "stat(svymean(~y, des, na.rm = TRUE))")
  run(paste0(p, "_mean_by"), "sim_two", lonely, list(kind = "mean", var = "y", by = "g"),
      "byrows(svyby(~y, ~g, des, svymean, na.rm = TRUE))")
  run(paste0(p, "_total"), "sim_two", lonely, list(kind = "total", var = "y"),
      "stat(svytotal(~y, des, na.rm = TRUE))")
}

dir.create(dirname(out_fix), showWarnings = FALSE)
# --- replicate weights ------------------------------------------------------------------
# Replicate weights made by R (as.svrepdesign) are written as columns rw1, rw2, …; each
# case reads them back with svrepdesign(), as a public-use file would be read.
g17 <- function(x) sprintf("%.17g", x)
rep_cases <- function(label, frame, base, r, type, extra = "") {
  rw <- unclass(as.matrix(weights(r, "analysis")))
  colnames(rw) <- paste0("rw", seq_len(ncol(rw)))
  frame <- write_data(cbind(frame, as.data.frame(rw)), label)
  frames[[label]] <<- frame
  rs <- if (length(unique(r$rscales)) == 1) g17(r$rscales[1]) else
    paste0("c(", paste(g17(r$rscales), collapse = ", "), ")")
  rcall <- paste0("svrepdesign(data = d, weights = ~", base, ", repweights = 'rw[0-9]+', type = '",
                  type, "', scale = ", g17(r$scale), ", rscales = ", rs, extra, ")")
  designs[[label]] <<- list(data = label, r = rcall, rep = TRUE,
                            py = list(weights = base, repweights = "rw[0-9]+", type = type,
                                      scale = r$scale, rscales = r$rscales))
  if (type == "Fay") designs[[label]]$py$rho <<- 0.3
  label
}
set.seed(15)
nb <- 8
rows <- list()
for (h in 1:nb) for (j in 1:2) {
  m <- sample(4:9, 1)
  rows[[length(rows) + 1]] <- data.frame(s = h, psu = 2 * h + j, w = round(runif(m, 10, 40), 2),
    y = round(rnorm(m, 3 + 0.2 * h), 4), z = round(rnorm(m), 4), grp = sample(c("u", "v"), m, TRUE),
    b = rbinom(m, 1, 0.4))
}
simb <- do.call(rbind, rows)
simb <- write_data(simb, "sim_brr")
frames$sim_brr <- simb
options(survey.lonely.psu = "fail")
dstrat0 <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = api_strat)
dclus10 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = api_clus1)
dbrr0 <- svydesign(id = ~psu, strata = ~s, weights = ~w, data = simb)
set.seed(16)
reps <- c(
  rep_cases("rep_clus1_jk1", api_clus1, "pw", as.svrepdesign(dclus10, type = "JK1", compress = FALSE), "JK1"),
  rep_cases("rep_strat_jkn", api_strat, "pw", as.svrepdesign(dstrat0, type = "JKn", compress = FALSE), "JKn"),
  rep_cases("rep_strat_boot", api_strat, "pw", as.svrepdesign(dstrat0, type = "bootstrap", replicates = 50, compress = FALSE), "bootstrap"),
  rep_cases("rep_brr", simb, "w", as.svrepdesign(dbrr0, type = "BRR", compress = FALSE), "BRR"),
  rep_cases("rep_fay", simb, "w", as.svrepdesign(dbrr0, type = "Fay", fay.rho = 0.3, compress = FALSE), "Fay", ", rho = 0.3")
)
for (dn in reps[1:3]) {
  run(paste0(dn, "_mean"), dn, "fail", list(kind = "mean", var = c("api00", "enroll")),
      "stat(svymean(~api00 + enroll, des, na.rm = TRUE))")
  run(paste0(dn, "_mean_by"), dn, "fail", list(kind = "mean", var = "api00", by = "stype"),
      "byrows(svyby(~api00, ~stype, des, svymean, na.rm = TRUE))")
  run(paste0(dn, "_total_by"), dn, "fail", list(kind = "total", var = "enroll", by = "stype"),
      "byrows(svyby(~enroll, ~stype, des, svytotal, na.rm = TRUE))")
  run(paste0(dn, "_ratio"), dn, "fail", list(kind = "ratio", var = "api_stu", denominator = "enroll"),
      "stat(svyratio(~api_stu, ~enroll, des, na.rm = TRUE))")
  for (m in c("logit", "beta"))
    run(paste0(dn, "_prop_by_", m), dn, "fail", list(kind = "proportion", var = "sw", by = "stype", method = m),
        paste0("ciprop_by(svyby(~sw, ~stype, des, svyciprop, method = '", m, "', vartype = c('se', 'ci')))"))
  run(paste0(dn, "_glm"), dn, "fail", list(kind = "glm", y = "api00", x = c("ell", "meals", "stype"), family = "gaussian"),
      paste0("glmrows(svyglm(api00 ~ ell + meals + stype, des, ", ctl, "))"))
  run(paste0(dn, "_glm_qb"), dn, "fail", list(kind = "glm", y = "sw", x = c("ell", "stype"), family = "quasibinomial"),
      paste0("glmrows(svyglm(sw ~ ell + stype, des, family = quasibinomial(), ", ctl, "))"))
  run(paste0(dn, "_termtest"), dn, "fail",
      list(kind = "termtest", y = "api00", x = c("ell", "meals", "stype"), family = "gaussian", term = "stype"),
      paste0("termtest(regTermTest(svyglm(api00 ~ ell + meals + stype, des, ", ctl, "), ~stype))"))
}
for (dn in reps[4:5]) {
  run(paste0(dn, "_mean_by"), dn, "fail", list(kind = "mean", var = c("y", "z"), by = "grp"),
      "byrows(svyby(~y + z, ~grp, des, svymean))")
  run(paste0(dn, "_total"), dn, "fail", list(kind = "total", var = "b"),
      "stat(svytotal(~b, des))")
  run(paste0(dn, "_glm"), dn, "fail", list(kind = "glm", y = "y", x = c("z", "grp"), family = "gaussian"),
      paste0("glmrows(svyglm(y ~ z + grp, des, ", ctl, "))"))
}
# jackknife replicates made from a Taylor design (as.svrepdesign), by dyadlab and by R
for (spec in list(c("api_clus1", "JK1", "fail"), c("api_strat", "JKn", "fail"),
                  c("sim_nest", "JKn", "remove"), c("sim_nest", "JKn", "adjust"),
                  c("sim_nest", "JKn", "average"), c("sim_nest_fpc", "JKn", "remove"))) {
  nm <- paste("jack", spec[1], spec[2], spec[3], sep = "_")
  v <- if (startsWith(spec[1], "api")) "api00" else "y"
  g <- if (startsWith(spec[1], "api")) "stype" else "g"
  run(paste0(nm, "_mean_by"), spec[1], spec[3], list(kind = "mean", var = v, by = g, replicates = spec[2]),
      paste0("byrows(svyby(~", v, ", ~", g, ", as.svrepdesign(des, type = '", spec[2], "'), svymean, na.rm = TRUE))"))
}

provenance <- paste(
  "survey_api_*.csv: apistrat, apiclus1, apiclus2 from R's survey package (GPL-2 | GPL-3,",
  "Thomas Lumley); Academic Performance Index data of the California Department of",
  "Education. survey_sim_*.csv: simulated by tests/reference/survey.R (set.seed(13), (14)).")
write_json(list(data_provenance = provenance, cases = cases), out_fix, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null")
cat("wrote", length(cases), "cases to", out_fix, "\n")
