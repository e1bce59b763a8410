"""Benchmark: the dyadic diary model, dyadlab against nlme, on the same data in one run.

Targets (issue 4), for the design.md model (distinguishable, ``residual="cs"``, REML):

- 2,000 couples × 28 days in at most 0.5 s (nlme::lme took 12.7 s on this kind of
  machine); the ratio is printed;
- 10,000 couples × 56 days (1.12 M person-days) in at most 5 s and 2 GB peak memory;
- time growing linearly in the number of couples (3 sizes printed);
- issue 21: 2,000 couples × 28 days in at most 0.08 s and at least 300× faster than
  ``nlme::lme`` (best of 7 runs for this size).

dyadlab's time is the whole ``dl.diary()`` call on individual-format data, including the
checks and the construction of the partner variables. Times are wall-clock and CPU
(process) time; on a machine shared with other jobs the CPU time is the fairer number.
Peak memory of the large fit is measured in a fresh child process (``ru_maxrss``, which
includes the interpreter, numpy/pandas and the data themselves). The data are simulated
with :func:`dyadlab.simulate_diary`, written to a temporary CSV and read by R.
Run: ``python benchmarks/diary.py`` (``--no-r`` skips nlme, ``--quick`` the large size).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from typing import Any

from _rscript import run_r_on_frame

import dyadlab as dl

KEYS = {"y": "y", "x": "x", "dyad": "dyad", "person": "person", "time": "time", "role": "role"}

R_SCRIPT = r"""
suppressPackageStartupMessages(library(nlme))
d <- read.csv("{path}")
t0 <- proc.time()
p <- d[, c("dyad", "time", "person", "x")]
names(p) <- c("dyad", "time", "pp", "x_partner")
m <- merge(d, p, by = c("dyad", "time"))
m <- m[m$person != m$pp, ]
m$role <- factor(m$role)
t1 <- proc.time()
fit <- lme(y ~ 0 + role + role:x + role:x_partner, random = ~ 0 + role | dyad, data = m,
           correlation = corCompSymm(form = ~ 1 | dyad/time),
           weights = varIdent(form = ~ 1 | role), method = "REML")
t2 <- proc.time()
cat(sprintf("%.6f %.6f %.8f\n", (t2 - t0)[["elapsed"]], (t2 - t1)[["elapsed"]],
            as.numeric(logLik(fit))))
"""


def fit_once(df: Any) -> tuple[float, float, Any]:
    w0, c0 = time.perf_counter(), time.process_time()
    res = dl.diary(df, **KEYS)
    return time.perf_counter() - w0, time.process_time() - c0, res


def best_of(df: Any, repeat: int = 3) -> tuple[float, float, Any]:
    runs = [fit_once(df) for _ in range(repeat)]
    wall = min(r[0] for r in runs)
    cpu = min(r[1] for r in runs)
    return wall, cpu, runs[-1][2]


def run_nlme(df: Any) -> tuple[float, float, float] | None:
    """nlme's three printed numbers on ``df``, or None without Rscript."""
    numbers = run_r_on_frame(R_SCRIPT, df)
    if numbers is None:
        return None
    first, second, loglik = numbers
    return first, second, loglik


def _large_child(queue: Any, n_dyads: int, n_days: int) -> None:
    df = dl.simulate_diary(n_dyads, n_days, rng=3)
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu, res = fit_once(df)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((wall, cpu, rss_data, rss, len(df), bool(res.fit["converged"])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="dyadlab diary benchmark")
    ap.add_argument("--no-r", action="store_true", help="skip nlme")
    ap.add_argument("--quick", action="store_true", help="skip the 10,000 x 56 size")
    args = ap.parse_args(argv)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"dyadlab.diary (residual='cs', REML) — wall / CPU seconds, best of 3; load {load}\n")

    print("Linear growth, 28 days:")
    per = []
    for n in (500, 1000, 2000, 4000):
        df = dl.simulate_diary(n, 28, rng=1)
        wall, cpu, res = best_of(df)
        per.append(cpu / n)
        print(
            f"  {n:>5} couples ({len(df):>7} rows): {wall:6.3f} s wall, {cpu:6.3f} s CPU, "
            f"{1e3 * cpu / n:.3f} ms CPU per couple, converged={res.fit['converged']}"
        )
    print(f"  CPU per couple, largest / smallest size: {per[-1] / per[0]:.2f} (1 = linear)\n")

    df = dl.simulate_diary(2000, 28, rng=1)
    wall, cpu, res = best_of(df, repeat=7)
    print(
        f"2,000 couples x 28 days: dyadlab {wall:.3f} s wall, {cpu:.3f} s CPU "
        "(targets 0.5 s, issue 21: 0.08 s)"
    )
    if not args.no_r:
        r = run_nlme(df)
        if r is not None:
            total, lme_only, loglik = r
            print(
                f"  nlme::lme: {total:.2f} s ({lme_only:.2f} s in lme); "
                f"dyadlab is {total / wall:.0f}x faster (wall; issue 21 target 300x); "
                f"loglik nlme {loglik:.4f}, dyadlab {res.fit['loglik']:.4f}"
            )
    if not args.quick:
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_large_child, args=(queue, 10_000, 56))
        proc.start()
        wall, cpu, rss_data, rss, n_rows, conv = queue.get()
        proc.join()
        print(
            f"\n10,000 couples x 56 days ({n_rows} rows): {wall:.2f} s wall, {cpu:.2f} s CPU "
            f"(target 5 s); peak RSS {rss:.0f} MB (of which {rss_data:.0f} MB before the fit: "
            f"interpreter, libraries, data; target 2 GB); converged={conv}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
