"""Benchmark: the binary dyadic diary GLMM, dyadlab against lme4::glmer, in one run.

Target (issue 12): 2,000 couples x 28 days, binary outcome, Laplace: dyadlab at least 10x
faster than ``glmer``; times at three sizes, growing linearly in the number of couples.

The model is design.md's ``glmer(y ~ 0 + role + role:x + role:x_partner +
(0 + role | dyad), family = binomial)``. dyadlab's time is the whole ``dl.diary()`` call on
individual-format data (checks and partner variables included); glmer's is the ``glmer``
call alone (R builds the partner variables before the clock starts), with its default
control. The binary outcome is ``y`` of :func:`dyadlab.simulate_diary` above its median.
Run: ``python benchmarks/diary_glmm.py`` (``--no-r`` skips glmer).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _rscript import run_r_on_frame

import dyadlab as dl

KEYS = {"y": "y", "x": "x", "dyad": "dyad", "person": "person", "time": "time", "role": "role"}

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lme4))
d <- read.csv("{path}")
p <- d[, c("dyad", "time", "person", "x")]
names(p) <- c("dyad", "time", "pp", "x_partner")
m <- merge(d, p, by = c("dyad", "time"))
m <- m[m$person != m$pp, ]
m$role <- factor(m$role)
m$dyad <- factor(m$dyad)
t1 <- proc.time()
fit <- glmer(y ~ 0 + role + role:x + role:x_partner + (0 + role | dyad), data = m,
             family = binomial)
t2 <- proc.time()
cat(sprintf("%.6f %.8f\n", (t2 - t1)[["elapsed"]], as.numeric(logLik(fit))))
"""


def binary_diary(n_dyads: int, n_days: int) -> Any:
    df = dl.simulate_diary(n_dyads, n_days, rng=1)
    df["y"] = (df["y"] > df["y"].median()).astype(int)
    return df


def fit_once(df: Any) -> tuple[float, float, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    res = dl.diary(df, **KEYS, family="binomial")
    return time.perf_counter() - w0, time.process_time() - c0, res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="dyadlab diary GLMM benchmark")
    ap.add_argument("--no-r", action="store_true", help="skip glmer")
    args = ap.parse_args(argv)
    print("dyadlab.diary(family='binomial', Laplace) against lme4::glmer — wall seconds\n")
    per, ratios = [], []
    for n in (500, 1000, 2000):
        df = binary_diary(n, 28)
        wall, _cpu, res = min((fit_once(df) for _ in range(2)), key=lambda r: r[0])
        per.append(wall / n)
        line = (
            f"  {n:>5} couples x 28 days ({len(df):>6} rows): dyadlab {wall:6.3f} s "
            f"({1e3 * wall / n:.3f} ms per couple, converged={res.fit['converged']})"
        )
        r = None if args.no_r else run_r_on_frame(R_SCRIPT, df)
        if r is not None:
            glmer_s, loglik = r
            ratios.append(glmer_s / wall)
            line += (
                f"; glmer {glmer_s:7.2f} s; dyadlab {glmer_s / wall:5.1f}x faster; "
                f"loglik glmer {loglik:.4f}, dyadlab {res.fit['loglik']:.4f}"
            )
        print(line)
    print(f"\n  time per couple, largest / smallest size: {per[-1] / per[0]:.2f} (1 = linear)")
    if ratios:
        print(
            f"  2,000 couples x 28 days: dyadlab {ratios[-1]:.1f}x faster than glmer (target 10x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
