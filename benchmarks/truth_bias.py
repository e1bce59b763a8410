"""Benchmark: the truth and bias model (dl.truth_bias), dyadlab against nlme on the same data.

The distinguishable diary model of :mod:`dyadlab.models.truth_bias` (random intercepts,
truth and similarity slopes per person, ``pdBlocked`` covariance, compound-symmetric
residuals with role-specific variances, REML) on data from
:func:`dyadlab.simulate_truth_bias` at 500, 1,000 and 2,000 couples × 28 days; nlme is
run on the 500-couple data set with the call of ``tests/reference/truth_bias.R`` (the
data prepared the same way: variables centred on the mean of the truth, partner's truth
matched by dyad and day). dyadlab's time is the whole ``dl.truth_bias()`` call, including
the checks and the construction of the partner variables; nlme's time is the ``lme`` call
alone. Times are wall-clock and CPU (process) time, best of ``--repeat``; on a machine
shared with other jobs the CPU time is the fairer number.

Run: ``python benchmarks/truth_bias.py`` (``--no-r`` skips nlme).

Measured on the shared 2-core machine (load average 5–10), 2,000 couples: 0.7–0.9 s wall,
0.8–1.1 s CPU (the engine before the einsum combine and the analytic gradient: 0.9–16 s
wall, 1.8–3.7 s CPU); 500 couples: dyadlab 0.46 s, nlme::lme 27.5 s (58× in CPU).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from _rscript import run_r_on_frame

import dyadlab as dl

KEYS = {
    "judgment": "judgment",
    "truth": "truth",
    "dyad": "dyad",
    "person": "person",
    "time": "time",
    "role": "role",
}
RANDOM_SD = (0.5, 0.3, 0.3)

R_SCRIPT = r"""
suppressPackageStartupMessages(library(nlme))
d <- read.csv("{path}")
M <- mean(d$truth)
p <- d[, c("dyad", "time", "person", "truth")]
names(p) <- c("dyad", "time", "pp", "truth_partner")
m <- merge(d, p, by = c("dyad", "time"))
m <- m[m$person != m$pp, ]
m$jc <- m$judgment - M
m$tc_partner <- m$truth_partner - M
m$tc_own <- m$truth - M
m$role <- factor(m$role)
m$dyad <- factor(m$dyad)
m <- m[order(m$dyad, m$time, m$person), ]
ctrl <- lmeControl(maxIter = 500, msMaxIter = 500, niterEM = 100, msMaxEval = 2000)
t0 <- proc.time()
fit <- lme(jc ~ 0 + role + role:tc_partner + role:tc_own,
           random = list(dyad = pdBlocked(list(pdSymm(~ 0 + role),
                                               pdDiag(~ 0 + role:tc_partner + role:tc_own)))),
           correlation = corCompSymm(form = ~ 1 | dyad/time),
           weights = varIdent(form = ~ 1 | role), method = "REML", data = m, control = ctrl)
t1 <- proc.time()
cat(sprintf("%.6f %.6f %.8f\n", (t1 - t0)[["elapsed"]], (t1 - t0)[["user.self"]] +
            (t1 - t0)[["sys.self"]], as.numeric(logLik(fit))))
"""


def fit_once(df: Any) -> tuple[float, float, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    res = dl.truth_bias(df, **KEYS)
    return time.perf_counter() - w0, time.process_time() - c0, res


def best_of(df: Any, repeat: int) -> tuple[float, float, Any]:
    runs = [fit_once(df) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs), runs[-1][2]


def run_nlme(df: Any) -> tuple[float, float, float] | None:
    """nlme's three printed numbers on ``df``, or None without Rscript."""
    numbers = run_r_on_frame(R_SCRIPT, df)
    if numbers is None:
        return None
    first, second, loglik = numbers
    return first, second, loglik


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="dyadlab truth_bias benchmark")
    ap.add_argument("--no-r", action="store_true", help="skip nlme")
    ap.add_argument("--repeat", type=int, default=2, help="runs per size (best is kept)")
    args = ap.parse_args(argv)
    print(f"dyadlab.truth_bias (distinguishable, REML, random_sd={RANDOM_SD}), 28 days")
    print(f"wall / CPU seconds, best of {args.repeat}\n")
    data = {}
    for n in (500, 1000, 2000):
        df = dl.simulate_truth_bias(n, 28, random_sd=RANDOM_SD, rng=1)
        data[n] = df
        wall, cpu, res = best_of(df, args.repeat)
        print(
            f"  {n:>5} couples ({len(df):>6} rows): {wall:6.2f} s wall, {cpu:6.2f} s CPU, "
            f"loglik {res.fit['loglik']:.4f}, converged={res.fit['converged']}"
        )
        if n == 500:
            small = (wall, cpu, res)
    if not args.no_r:
        r = run_nlme(data[500])
        if r is None:
            print("\nnlme: Rscript not found (skipped)")
        else:
            wall, cpu, loglik = r
            print(
                f"\n500 couples, nlme::lme: {wall:.2f} s wall, {cpu:.2f} s CPU; "
                f"dyadlab is {wall / small[0]:.1f}x faster (wall), {cpu / small[1]:.1f}x (CPU); "
                f"loglik nlme {loglik:.4f}, dyadlab {small[2].fit['loglik']:.4f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
