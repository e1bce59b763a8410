"""Benchmark: Monte Carlo APIM power, dyadlab against R, in one run.

Target (issue 3): 10,000 replications at 100 dyads in at most 2 s.

dyadlab simulates all replications and refits them with array arithmetic
(``dl.power.apim(method="montecarlo")``). R does the same work the usual way, one
replication at a time in a loop:

- distinguishable dyads: per replication ``lm(y1 ~ x1 + x2)`` and ``lm(y2 ~ x2 + x1)``
  with ``summary()`` p values — R_LM_REPS replications, timed, scaled linearly to 10,000;
- indistinguishable dyads: per replication ``nlme::gls(y ~ x + x_partner, correlation =
  corCompSymm(form = ~1 | dyad), method = "REML")`` with ``summary()`` — R_GLS_REPS
  replications, timed, scaled linearly to 10,000.

The R part is skipped when Rscript is not installed. Run: ``python benchmarks/power.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import dyadlab as dl

N_DYADS = 100
REPS = 10_000
R_LM_REPS = 1_000
R_GLS_REPS = 200
DESIGN = {"actor": 0.3, "partner": 0.15, "r_x": 0.3, "r_e": 0.3}

R_SCRIPT = r"""
suppressPackageStartupMessages(library(nlme))
set.seed(1)
a <- 0.3; p <- 0.15; rx <- 0.3; re <- 0.3; n <- {n}
s2 <- 1 - a^2 - p^2 - 2 * a * p * rx
sim <- function() {{
  z1 <- rnorm(n); z2 <- rnorm(n); u1 <- rnorm(n); u2 <- rnorm(n)
  x1 <- z1; x2 <- rx * z1 + sqrt(1 - rx^2) * z2
  e1 <- sqrt(s2) * u1; e2 <- sqrt(s2) * (re * u1 + sqrt(1 - re^2) * u2)
  data.frame(x1 = x1, x2 = x2, y1 = a * x1 + p * x2 + e1, y2 = a * x2 + p * x1 + e2)
}}
t_lm <- system.time({{
  hits <- 0
  for (r in seq_len({lm_reps})) {{
    w <- sim()
    p1 <- summary(lm(y1 ~ x1 + x2, data = w))$coefficients[2:3, 4]
    p2 <- summary(lm(y2 ~ x2 + x1, data = w))$coefficients[2:3, 4]
    hits <- hits + (p1[1] < 0.05) + (p2[1] < 0.05)
  }}
}})[["elapsed"]]
t_gls <- system.time({{
  for (r in seq_len({gls_reps})) {{
    w <- sim()
    long <- data.frame(dyad = rep(seq_len(n), 2), y = c(w$y1, w$y2), x = c(w$x1, w$x2),
                       x_partner = c(w$x2, w$x1))
    f <- gls(y ~ x + x_partner, data = long, correlation = corCompSymm(form = ~1 | dyad),
             method = "REML")
    pv <- summary(f)$tTable[2:3, 4]
  }}
}})[["elapsed"]]
cat(t_lm, t_gls, hits / (2 * {lm_reps}), "\n")
"""


def _time_dyadlab(distinguishable: bool) -> tuple[float, float]:
    dl.power.apim(**DESIGN, dyads=N_DYADS, method="montecarlo", replications=200, rng=0)  # warm
    t0 = time.perf_counter()
    res = dl.power.apim(
        **DESIGN,
        dyads=N_DYADS,
        method="montecarlo",
        replications=REPS,
        distinguishable=distinguishable,
        rng=1,
    )
    return time.perf_counter() - t0, res.power["actor"]


def main() -> None:
    print(f"Monte Carlo APIM power: {REPS:,} replications at {N_DYADS} dyads")
    t_dist, pw_dist = _time_dyadlab(True)
    t_ind, pw_ind = _time_dyadlab(False)
    print(
        f"  dyadlab, distinguishable (2 OLS fits per replication): {t_dist:6.3f} s "
        f"(actor power {pw_dist:.3f}; target <= 2 s: {'met' if t_dist <= 2 else 'MISSED'})"
    )
    print(
        f"  dyadlab, indistinguishable (REML CS GLS per replication): {t_ind:6.3f} s "
        f"(actor power {pw_ind:.3f}; target <= 2 s: {'met' if t_ind <= 2 else 'MISSED'})"
    )
    if shutil.which("Rscript") is None:
        print("  R: Rscript not found, R part skipped")
        return
    script = R_SCRIPT.format(n=N_DYADS, lm_reps=R_LM_REPS, gls_reps=R_GLS_REPS)
    out = subprocess.run(
        ["Rscript", "-e", script], capture_output=True, text=True, check=True
    ).stdout.split()
    r_lm, r_gls, r_power = float(out[0]), float(out[1]), float(out[2])
    r_lm_10k = r_lm * REPS / R_LM_REPS
    r_gls_10k = r_gls * REPS / R_GLS_REPS
    print(
        f"  R lm() loop: {R_LM_REPS:,} replications in {r_lm:.2f} s -> {r_lm_10k:.1f} s "
        f"for {REPS:,} (scaled; actor power {r_power:.3f}); ratio R/dyadlab = "
        f"{r_lm_10k / t_dist:.0f}x"
    )
    print(
        f"  R nlme::gls() loop: {R_GLS_REPS:,} replications in {r_gls:.2f} s -> "
        f"{r_gls_10k:.1f} s for {REPS:,} (scaled); ratio R/dyadlab = {r_gls_10k / t_ind:.0f}x"
    )


if __name__ == "__main__":
    main()
