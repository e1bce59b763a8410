"""Benchmark: 1,000 refits of a diary APIM (a parametric bootstrap), against nlme.

Target (issue 21): 1,000 refits of the distinguishable diary APIM (``residual="cs"``,
REML) on 100 couples × 21 days in at most 5 s.

dyadlab: ``res.refit(res.simulate(1000, rng=1))`` — all replications fitted together
from per-couple sufficient statistics, warm-started at the fitted model; the time
includes drawing the outcomes. Peers, on the first R_REPS of the same outcomes, timed
per fit and scaled linearly to 1,000:

- one ``dl.diary()`` call per replication (what a loop over the public function costs);
- ``nlme::lme`` with the model dl.diary reproduces, one call per replication.

The estimates of the first replications are compared with nlme's. The R part is skipped
without Rscript. Run: ``python benchmarks/diary_refits.py``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _rscript import run_r_on_frame

import dyadlab as dl

COUPLES, DAYS, REPS = 100, 21, 1_000
R_REPS = 20
KEYS = {"y": "y", "x": "x", "dyad": "dyad", "person": "person", "time": "time", "role": "role"}

R_SCRIPT = r"""
suppressPackageStartupMessages(library(nlme))
d <- read.csv("{path}")
p <- d[, c("dyad", "time", "person", "x")]
names(p) <- c("dyad", "time", "pp", "x_partner")
m <- merge(d, p, by = c("dyad", "time"))
m <- m[m$person != m$pp, ]
m$role <- factor(m$role)
ys <- grep("^y_rep", names(m), value = TRUE)
first <- NULL
t <- system.time(for (col in ys) {
  m$y <- m[[col]]
  fit <- lme(y ~ 0 + role + role:x + role:x_partner, random = ~ 0 + role | dyad, data = m,
             correlation = corCompSymm(form = ~ 1 | dyad/time),
             weights = varIdent(form = ~ 1 | role), method = "REML")
  if (is.null(first)) first <- fixef(fit)
})[["elapsed"]]
cat(t / length(ys), first, "\n")
"""


def main() -> None:
    """Time the refits and the peers; print the ratios."""
    warnings.simplefilter("ignore")
    df = dl.simulate_diary(COUPLES, DAYS, rng=3)
    res = dl.diary(df, **KEYS)
    print(f"{REPS:,} refits of the diary APIM, {COUPLES} couples x {DAYS} days (target <= 5 s)")
    t0 = time.perf_counter()
    outcomes = res.simulate(REPS, rng=1)
    boot = res.refit(outcomes)
    t_refit = time.perf_counter() - t0
    print(
        f"  dyadlab res.refit(res.simulate({REPS})): {t_refit:.2f} s "
        f"(batched: {boot.batched}, converged: {int(boot.converged.sum())}/{REPS})"
    )
    t0 = time.perf_counter()
    first = None
    for r in range(R_REPS):
        fit = dl.diary(df.assign(y=outcomes[r]), **KEYS)
        first = fit if first is None else first
    t_loop = (time.perf_counter() - t0) / R_REPS * REPS
    print(f"  dyadlab dl.diary() per replication: ~{t_loop:.1f} s for {REPS:,} (from {R_REPS})")
    print(f"  ratio loop / refit: {t_loop / t_refit:.0f}x")
    assert first is not None
    diff = np.abs(first.estimates["estimate"].to_numpy() - boot.beta[0]).max()
    print(f"  replication 1: refit vs dl.diary max |difference| {diff:.1e}")
    frame = df.copy()
    for r in range(R_REPS):
        frame[f"y_rep{r}"] = outcomes[r]
    numbers = run_r_on_frame(R_SCRIPT, frame)
    if numbers is None:
        print("  R: skipped (Rscript, nlme not available)")
        return
    per_fit, fixef = numbers[0], np.array(numbers[1:])
    t_r = per_fit * REPS
    # nlme's order: roleA, roleB, roleA:x, roleB:x, roleA:x_partner, roleB:x_partner
    print(f"  nlme::lme per replication: ~{t_r:.1f} s for {REPS:,} (from {R_REPS})")
    print(f"  ratio nlme / refit: {t_r / t_refit:.0f}x")
    print(
        f"  replication 1: refit vs nlme max |difference| {np.abs(fixef - boot.beta[0]).max():.1e}"
    )


if __name__ == "__main__":
    main()
