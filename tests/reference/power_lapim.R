# Reference power from PowerLAPIM's own code, for dyadlab.power.diary
# (tests/models/test_power_diary_reference.py, case family "power_lapim").
#
# Run from the repository root with a checkout of PowerLAPIM (Lafit et al. 2022,
# https://github.com/ginettelafit/PowerLAPIM; GPL-2, so it is NOT part of this
# repository: clone it anywhere and pass its folder):
#
#   Rscript tests/reference/power_lapim.R /path/to/PowerLAPIM [couples=8,12] [workers=2] \
#       [reps=1000] [out=tests/reference/fixtures/power_lapim.json]
#
# The script sources PowerLAPIM's R/ files and calls the app's own entry point,
# Sim.model.Dyad.IL(Model = 1, ...): the L-APIM for distinguishable dyads with linear
# actor and partner effects of a daily predictor X (no lag), simulated with MASS::mvrnorm
# and refitted per replication with nlme::lme (REML, corCompSymm over dyad/Obs,
# varIdent by gender), power = share of replications with p < alpha. Nothing of
# PowerLAPIM is changed; two things around it are:
#   * `library()` skips tidyverse and shinyjs (loaded but unused by Model 1, and not
#     installed here); dplyr, which Model 1 uses, is loaded;
#   * PowerLAPIM's `plan(multisession)` calls are neutralised and the plan is set to
#     list(sequential, multisession(workers)): couple counts one after another, the
#     replications of each on `workers` processes. PowerLAPIM seeds every replication
#     with future.seed = 0xBEEF, so the numbers do not depend on the plan.
# PowerLAPIM's Model 1 only runs with is.center.X = TRUE (with FALSE, Sim.Dyad.Model.1
# fails: "Y.F[chunk[[i]], ]: incorrect number of dimensions"): X is person-mean centred
# before Y is simulated and again before the fit.
#
# Writes (or updates, case by case) a fixture with one case per couple count. The
# stored fixture came from two runs, couples=8 (3 workers) and couples=12 (2 workers),
# 1,000 replications each, on 2026-12-06 (about 18 and 33 minutes on a loaded 2-core
# machine); the two files were joined into tests/reference/fixtures/power_lapim.json.

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript tests/reference/power_lapim.R /path/to/PowerLAPIM [key=value ...]")
lapim_dir <- normalizePath(args[1])
opt <- list(couples = "8,12", workers = "2", reps = "1000",
            out = "tests/reference/fixtures/power_lapim.json")
for (kv in args[-1]) {
  parts <- strsplit(kv, "=", fixed = TRUE)[[1]]
  opt[[parts[1]]] <- parts[2]
}

suppressPackageStartupMessages({
  base::library(nlme)
  base::library(MASS)
  base::library(dplyr)
  base::library(future)
  base::library(future.apply)
  base::library(jsonlite)
})

library <- function(package, ...) {
  name <- as.character(substitute(package))
  if (name %in% c("tidyverse", "shinyjs")) return(invisible(NULL))
  base::library(name, character.only = TRUE, ...)
}
plan <- function(...) invisible(NULL)  # PowerLAPIM's plan(multisession): ours is set below
for (f in c("Sim.model.Dyad.IL", "Summary.model.Dyad.IL", "Sim.Dyad.Model.1",
            "Performance.Dyad.Model.1")) {
  source(file.path(lapim_dir, "R", paste0(f, ".R")))
}
future::plan(list(future::sequential,
                  future::tweak(future::multisession, workers = as.integer(opt$workers))))

lapim_commit <- tryCatch(
  system2("git", c("-C", shQuote(lapim_dir), "rev-parse", "HEAD"), stdout = TRUE),
  error = function(e) NA_character_, warning = function(w) NA_character_)
if (nzchar(Sys.getenv("POWERLAPIM_COMMIT"))) {
  lapim_commit <- Sys.getenv("POWERLAPIM_COMMIT")  # e.g. a bare mirror read with git show
}

# The setting: a 21-day couples' diary, effects per unit of X (PowerLAPIM's inputs).
# Partner A = "F" (role 1 in dyadlab), partner B = "M" (role 2).
par <- list(T.obs = 21,
            c.F = 3.0, c.M = 3.2,
            a.FF = 0.15, p.MF = 0.08, a.MM = 0.10, p.FM = 0.0,
            sigma.eps.F = 1.0, sigma.eps.M = 1.1, rho.eps.FM = 0.3,
            sigma.nu.F = 0.6, sigma.nu.M = 0.7, rho.nu.F.M = 0.4,
            mu.XF = 2.0, sigma.XF = 1.0, mu.XM = 2.5, sigma.XM = 1.2, rho.X = 0.2,
            is.center.X = TRUE, alpha = 0.05, is.REML = TRUE)
reps <- as.integer(opt$reps)

t0 <- proc.time()[["elapsed"]]
# Every argument of the app's function is given (future's static inspection of globals
# needs them all, as the Shiny app passes them all); those Model 1 does not use are NA.
lapim_args <- sapply(names(formals(Sim.model.Dyad.IL)), function(a) NA, simplify = FALSE)
lapim_args[names(par)] <- par
lapim_args$Model <- 1
lapim_args$N.dyad <- opt$couples
lapim_args$R <- reps
res <- do.call(Sim.model.Dyad.IL, lapim_args)
secs <- proc.time()[["elapsed"]] - t0
print(res$power.curve)
print(res$replicates)

meta <- list(
  script = "tests/reference/power_lapim.R",
  r_version = R.version.string,
  packages = list(PowerLAPIM = paste0("github.com/ginettelafit/PowerLAPIM@", lapim_commit),
                  nlme = as.character(packageVersion("nlme")),
                  MASS = as.character(packageVersion("MASS")),
                  dplyr = as.character(packageVersion("dplyr")),
                  future.apply = as.character(packageVersion("future.apply"))),
  generated = format(Sys.Date())
)
call <- paste0(
  "PowerLAPIM::Sim.model.Dyad.IL(Model = 1, N.dyad = \"", opt$couples, "\", T.obs = ",
  par$T.obs, ", R = ", reps, ", alpha = ", par$alpha, ", is.center.X = TRUE, is.REML = TRUE, ",
  "...) (future.seed = 0xBEEF; nlme::lme REML per replication)")

pc <- res$power.curve
n_ok <- as.integer(sub("^\\( *([0-9]+) *,.*$", "\\1", res$replicates))
cases <- list()
for (i in seq_len(nrow(pc))) {
  n <- pc[i, "N dyad"]
  cases[[i]] <- c(list(
    name = sprintf("powerlapim_model1_%dx%d", as.integer(n), par$T.obs),
    model = "power_diary", call = call, data = "none",
    args = list(couples = as.integer(n), days = par$T.obs, alpha = par$alpha,
                intercept = c(par$c.F, par$c.M),
                actor = c(par$a.FF, par$a.MM), partner = c(par$p.MF, par$p.FM),
                sd_residual = c(par$sigma.eps.F, par$sigma.eps.M), r_e = par$rho.eps.FM,
                sd_intercept = c(par$sigma.nu.F, par$sigma.nu.M),
                cor_intercepts = par$rho.nu.F.M,
                mu_x = c(par$mu.XF, par$mu.XM), sd_x = c(par$sigma.XF, par$sigma.XM),
                r_x = par$rho.X, center_x = TRUE, seed = "0xBEEF (PowerLAPIM's future.seed)"),
    expected = list(
      power = list(actor_f = pc[i, "a.FF"], actor_m = pc[i, "a.MM"],
                   partner_f = pc[i, "p.MF"], partner_m = pc[i, "p.FM"]),
      mc_se = list(actor_f = pc[i, "a.FF.se"], actor_m = pc[i, "a.MM.se"],
                   partner_f = pc[i, "p.MF.se"], partner_m = pc[i, "p.FM.se"]),
      replications = n_ok[i], requested = reps, seconds_all_counts = secs,
      workers = as.integer(opt$workers))), meta)
}

old <- if (file.exists(opt$out)) fromJSON(opt$out, simplifyVector = FALSE)$cases else list()
names_new <- vapply(cases, function(c) c$name, "")
keep <- Filter(function(c) !(c$name %in% names_new), old)
all_cases <- c(keep, cases)
all_cases <- all_cases[order(vapply(all_cases, function(c) c$args$couples, 0L))]
write_json(list(cases = all_cases), opt$out, digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", length(all_cases), "cases to", opt$out, "in", round(secs, 1), "s\n")
