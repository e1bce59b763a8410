"""Benchmark: diary power over a grid, locally and on Dask, and the cost of one refit.

Target (issue 18): a grid of 4 couple counts × 3 day counts × 1,000 replications
(at most 200 couples, at most 28 days) in at most 60 s on this 2-core machine.

Printed:

1. the grid run in this process (``dl.power.diary``): wall and CPU seconds and
   replications per second;
2. the same grid on a Dask ``LocalCluster`` of 1 and of 2 worker processes (one
   thread each; cluster start-up and a warm-up run not timed), the speed-up of 2
   workers over 1, and whether the numbers equal the local run;
3. the time of one REML refit at one setting (100 couples × 21 days), three ways:
   the batched fit power.diary uses (``_diary_fastfit``, all replications of a chunk at
   once), ``dl.diary`` on each data set, and ``nlme::lme`` with the same model
   (``benchmarks/_rscript.py``), with the ratios. PowerLAPIM refits with ``nlme::lme``
   one data set at a time;
4. the time of one Laplace refit of a yes/no diary (``family="binomial"``, the same
   design) against ``lme4::glmer`` on the same data sets;
5. a yes/no grid point (40 couples × 14 days, ``--binomial-reps`` replications, one
   Laplace refit each) in this process and on a ``LocalCluster`` of 1 and of 2 workers:
   CPU-bound work in chunks of 10, where a second worker should nearly halve the wall
   time; the numbers must equal the local run's.

The machine is shared: wall time suffers from other jobs, CPU time less so.
Run: ``python benchmarks/power_diary.py`` (``--no-dask``, ``--no-r`` to skip parts,
``--replications R`` for a smaller grid).
"""

from __future__ import annotations

import os

# one BLAS thread per process, so 1 vs 2 workers compares processes, not BLAS threads
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _rscript import run_r_on_frame  # noqa: E402

import dyadlab as dl  # noqa: E402
from dyadlab.models._diary_fastfit import fit_batch, sufficient_stats, true_theta  # noqa: E402
from dyadlab.models._diary_sim import DiaryParams, simulate, to_frame  # noqa: E402

COUPLES = [50, 100, 150, 200]
DAYS = [14, 21, 28]
SETTING = {"actor": 0.1, "partner": 0.05, "icc": 0.3, "r_e": 0.3, "cor_intercepts": 0.3}
REFIT_COUPLES, REFIT_DAYS = 100, 21
BATCH_REPS, DIARY_REPS, LME_REPS = 100, 5, 5
KEYS = {"y": "y", "x": "x", "dyad": "dyad", "person": "person", "time": "time", "role": "role"}

R_SCRIPT = r"""
suppressPackageStartupMessages(library(nlme))
d <- read.csv("{path}")
times <- c()
for (r in unique(d$rep)) {
  w <- d[d$rep == r, ]
  p <- w[, c("dyad", "time", "person", "x")]
  names(p) <- c("dyad", "time", "pp", "x_partner")
  m <- merge(w, p, by = c("dyad", "time"))
  m <- m[m$person != m$pp, ]
  m$role <- factor(m$role)
  t0 <- proc.time()
  fit <- lme(y ~ 0 + role + role:x + role:x_partner, random = ~ 0 + role | dyad, data = m,
             correlation = corCompSymm(form = ~ 1 | dyad/time),
             weights = varIdent(form = ~ 1 | role), method = "REML")
  times <- c(times, (proc.time() - t0)[["elapsed"]])
}
cat(sprintf("%.6f\n", mean(times)))
"""


def timed(func: Any, *args: Any, **kwargs: Any) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call, and its result."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = func(*args, **kwargs)
    return time.perf_counter() - w0, time.process_time() - c0, out


def grid(reps: int, client: Any = None) -> Any:
    return dl.power.diary(
        **SETTING,
        couples=COUPLES,
        days=DAYS,
        replications=reps,
        seed=2026,
        client=client,
        progress=False,
    )


def local_grid(reps: int) -> Any:
    n = len(COUPLES) * len(DAYS) * reps
    wall, cpu, res = timed(grid, reps)
    verdict = "meets" if wall <= 60 else "MISSES"
    print(
        f"grid {len(COUPLES)} couple counts × {len(DAYS)} day counts × {reps} replications "
        f"(≤ {max(COUPLES)} couples, ≤ {max(DAYS)} days), this process:"
    )
    print(f"  {wall:.1f} s wall ({cpu:.1f} s CPU), {n / wall:,.0f} replications/s")
    print(f"  target ≤ 60 s: {verdict}")
    return res


def on_clusters(run: Any, warm_up: Any, local: Any) -> None:
    """Time ``run(client)`` on a LocalCluster of 1 and of 2 worker processes (one thread
    each; cluster start-up and ``warm_up(client)`` not timed) and compare with ``local``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("  Dask: distributed is not installed (pip install 'dyadlab[dask]'); skipped")
        return
    walls = {}
    for workers in (1, 2):
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        with cluster, Client(cluster) as client:
            warm_up(client)  # imports on the workers
            cpu0 = client.run(time.process_time)
            wall, _, res = timed(run, client)
            cpu = sum(v - cpu0[k] for k, v in client.run(time.process_time).items())
        walls[workers] = wall
        print(
            f"  LocalCluster, {workers} worker(s): {wall:.1f} s wall, {cpu:.1f} s CPU in the "
            f"workers; equal to local: {res.grid == local.grid}"
        )
    print(f"  speed-up of 2 workers over 1: {walls[1] / walls[2]:.2f}× (wall)")


def dask_grid(reps: int, local: Any) -> None:
    def warm_up(client: Any) -> Any:
        return dl.power.diary(
            actor=0.1,
            partner=0.05,
            couples=[20],
            days=[7],
            replications=100,
            seed=1,
            client=client,
            progress=False,
        )

    on_clusters(lambda client: grid(reps, client), warm_up, local)
    _load()


def refit_times(use_r: bool) -> None:
    p = DiaryParams.standardised(SETTING["actor"], SETTING["partner"], icc=SETTING["icc"])
    sim = simulate(
        p, couples=REFIT_COUPLES, days=REFIT_DAYS, reps=BATCH_REPS, rng=np.random.default_rng(7)
    )
    print(f"one REML refit at {REFIT_COUPLES} couples × {REFIT_DAYS} days:")

    def batched() -> Any:
        return fit_batch(sufficient_stats(sim), start=true_theta(p))

    batched()  # warm-up
    wall, cpu, _ = min((timed(batched) for _ in range(3)), key=lambda t: t[0])
    t_batch = wall / BATCH_REPS
    print(
        f"  batched fit ({BATCH_REPS} at once):  {1e3 * t_batch:8.2f} ms per refit "
        f"({1e3 * cpu / BATCH_REPS:.2f} ms CPU)"
    )
    frames = [to_frame(sim, r) for r in range(DIARY_REPS)]
    dl.diary(frames[0], **KEYS)  # warm-up
    wall, cpu, _ = timed(lambda: [dl.diary(f, **KEYS) for f in frames])
    t_diary = wall / DIARY_REPS
    print(
        f"  dl.diary, one data set at a time: {1e3 * t_diary:8.2f} ms per refit "
        f"({t_diary / t_batch:.0f}× the batched fit)"
    )
    if not use_r:
        return
    data = pd.concat([to_frame(sim, r).assign(rep=r) for r in range(LME_REPS)], ignore_index=True)
    out = run_r_on_frame(R_SCRIPT, data)
    if out is None:
        print("  nlme::lme: Rscript not available; skipped")
        return
    t_lme = out[0]
    print(
        f"  nlme::lme, one at a time:        {1e3 * t_lme:8.2f} ms per refit "
        f"({t_lme / t_batch:.0f}× the batched fit, {t_lme / t_diary:.1f}× dl.diary)"
    )
    cells = len(COUPLES) * len(DAYS)
    print(
        f"  (the grid's {cells * 1000:,} refits with lme at this setting's speed: "
        f"about {cells * 1000 * t_lme / 60:.0f} min)"
    )


GLMER_SCRIPT = r"""
suppressPackageStartupMessages(library(lme4))
d <- read.csv("{path}")
times <- c()
for (r in unique(d$rep)) {
  w <- d[d$rep == r, ]
  p <- w[, c("dyad", "time", "person", "x")]
  names(p) <- c("dyad", "time", "pp", "x_partner")
  m <- merge(w, p, by = c("dyad", "time"))
  m <- m[m$person != m$pp, ]
  m$role <- factor(m$role)
  t0 <- proc.time()
  fit <- glmer(y ~ 0 + role + role:x + role:x_partner + (0 + role | dyad), data = m,
               family = binomial)
  times <- c(times, (proc.time() - t0)[["elapsed"]])
}
cat(sprintf("%.6f\n", mean(times)))
"""


def binomial_refit_times(use_r: bool) -> None:
    from dyadlab.models._power_diary import _glmm_tests

    p = DiaryParams(
        actor=(0.4, 0.4), partner=(0.2, 0.2), sd_intercept=(1.0, 1.0), family="binomial"
    )
    reps = LME_REPS
    sim = simulate(
        p, couples=REFIT_COUPLES, days=REFIT_DAYS, reps=reps, rng=np.random.default_rng(8)
    )
    print(f"one Laplace refit of a yes/no diary at {REFIT_COUPLES} couples × {REFIT_DAYS} days:")
    _glmm_tests(sim, True, 0.05)  # warm-up
    wall, _, _ = timed(_glmm_tests, sim, True, 0.05)
    t_fit = wall / reps
    print(f"  dyadlab (power.diary's refit):   {1e3 * t_fit:8.2f} ms per refit")
    if not use_r:
        return
    data = pd.concat([to_frame(sim, r).assign(rep=r) for r in range(reps)], ignore_index=True)
    out = run_r_on_frame(GLMER_SCRIPT, data)
    if out is None:
        print("  lme4::glmer: Rscript or lme4 not available; skipped")
        return
    print(
        f"  lme4::glmer, one at a time:      {1e3 * out[0]:8.2f} ms per refit "
        f"({out[0] / t_fit:.1f}× dyadlab)"
    )


BINOMIAL = {"actor": 0.4, "partner": 0.2, "intercept": -1.0, "couples": [40], "days": [14]}


def dask_binomial(reps: int) -> None:
    def run(client: Any = None, **change: Any) -> Any:
        return dl.power.diary(
            **{**BINOMIAL, **change},
            replications=reps if not change else 100,
            seed=7,
            family="binomial",
            client=client,
            progress=False,
        )

    print(f"yes/no grid point, 40 couples × 14 days × {reps} replications (Laplace refits):")
    wall, cpu, local = timed(run)
    print(f"  this process: {wall:.1f} s wall ({cpu:.1f} s CPU), {reps / wall:.1f} refits/s")
    on_clusters(run, lambda client: run(client, couples=[10], days=[5]), local)


def _load() -> None:
    one, five, _ = os.getloadavg()
    print(f"(load average {one:.1f} / {five:.1f} on {os.cpu_count()} cores: with load above the")
    print(" core count, wall times and the speed-up measure the other jobs as much as dyadlab)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=1000)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-binomial", action="store_true")
    ap.add_argument("--binomial-reps", type=int, default=200)
    args = ap.parse_args()
    _load()
    local = local_grid(args.replications)
    if not args.no_dask:
        dask_grid(args.replications, local)
    refit_times(not args.no_r)
    if not args.no_binomial:
        binomial_refit_times(not args.no_r)
        if not args.no_dask:
            dask_binomial(args.binomial_reps)


if __name__ == "__main__":
    main()
