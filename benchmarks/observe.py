"""Benchmark: observation pipeline — import, all agreement statistics, per-couple lag tables.

200 couples × 2 coders × 20 minutes of event codes (both partners' turns, ~52,000 events
per coder, from :func:`dyadlab.observe.simulate_sessions`), written as one CSV per coder.
Timed (wall clock, one run after a warm-up of the imports):

1. import: both coders' CSV files → :func:`dyadlab.observe.read_csv` (checked against
   the code book: unknown codes, onsets after offsets, overlaps within a family);
2. agreement: time-unit κ per family (tolerance 0 and 2 s), event-aligned κ (2 s), and
   Cohen's κ, Fleiss' κ, Gwet's AC1 and Krippendorff's α on the one-second time units
   (≈ 480,000 units × 2 coders);
3. sequential: lag-1 tables of every couple and pooled (coder A's events in onset order),
   5-s time-window tables of every couple and pooled, demand → withdraw per couple in
   both directions and the couple-level model of its Yule's Q.

Target (issue 14): the three together ≤ 3 s. The R reference (``psych::cohen.kappa`` on
the same time units) is timed on the same table and the ratio printed.

Wall-clock time depends on what else the machine runs; the process's CPU time is printed
beside it as the load-independent figure.

Run: ``python benchmarks/observe.py`` (``--no-r`` skips R).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from _rscript import run_r_on_frame

import dyadlab as dl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--couples", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--no-r", action="store_true")
    args = parser.parse_args()
    sim = dl.observe.simulate_sessions(args.couples, minutes=args.minutes, rng=2026)
    book = sim.codebook
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for coder in ("A", "B"):
            p = Path(tmp) / f"coder_{coder}.csv"
            sim.for_coder(coder).drop(columns=["family", "coder"]).to_csv(p, index=False)
            paths.append((coder, p))
        # warm-up: imports of pandas/scipy and the modules, on a tiny data set
        small = dl.observe.simulate_sessions(2, minutes=1, rng=1)
        dl.observe.time_unit_kappa(small)
        dl.observe.agreement(dl.observe.time_units(small), unit="unit", coder="coder", code="code")
        dl.observe.sequential(small.for_coder("A"), session="session", code="code")
        dl.observe.couple_model(dl.observe.demand_withdraw(small, coder="A"))

        c0 = time.process_time()
        t0 = time.perf_counter()
        import pandas as pd

        frames = [dl.observe.read_csv(p, book, coder=c).events for c, p in paths]
        sessions = dl.observe.coded_sessions(pd.concat(frames, ignore_index=True), book)
        t1 = time.perf_counter()
        results = {
            "time_unit_kappa": dl.observe.time_unit_kappa(sessions).loc[0, "kappa"],
            "time_unit_kappa_tol2": dl.observe.time_unit_kappa(sessions, tolerance=2).loc[
                0, "kappa"
            ],
            "event_kappa": dl.observe.event_kappa(sessions, tolerance=2.0).loc[0, "kappa"],
        }
        units = dl.observe.time_units(sessions)
        for method in ("cohen", "fleiss", "gwet", "krippendorff"):
            res = dl.observe.agreement(
                units, unit="unit", coder="coder", code="code", method=method
            )
            results[method] = res.estimates.loc[0, "estimate"]
        t2 = time.perf_counter()
        coder_a = sessions.for_coder("A")
        seq = dl.observe.sequential(coder_a, session="session", code="code", order="onset")
        win = dl.observe.window_table(
            coder_a, session="session", code="code", onset="onset", offset="offset", window=5
        )
        dw = dl.observe.demand_withdraw(sessions, coder="A", window=5)
        model = dl.observe.couple_model(dw, predictors=["direction"])
        t3 = time.perf_counter()
        cpu = time.process_time() - c0
    n_events = len(sessions.events)
    print(
        f"{args.couples} couples × 2 coders × {args.minutes:g} min: {n_events} events, "
        f"{len(units) // 2} time units per coder, {len(seq.table)} lag-table rows, "
        f"{len(win.table)} window-table rows, {len(dw.table)} demand-withdraw rows"
    )
    results["demand_withdraw_q"] = dw.estimates["estimate"].iloc[-1]
    results["couple_model_icept"] = model.estimates["estimate"].iloc[0]
    for k, v in results.items():
        print(f"  {k:22s} {v:.4f}")
    total = t3 - t0
    print(
        f"import {t1 - t0:.2f} s, agreement {t2 - t1:.2f} s, sequential {t3 - t2:.2f} s; "
        f"total {total:.2f} s wall (target ≤ 3 s: {'met' if total <= 3 else 'MISSED'}), "
        f"{cpu:.2f} s CPU; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    if not args.no_r:
        wide = units.pivot(index="unit", columns="coder", values="code").astype(str)
        t = time.perf_counter()
        t_c = time.perf_counter()
        dl.observe.agreement(units, unit="unit", coder="coder", code="code", method="cohen")
        ours = time.perf_counter() - t_c
        del t
        r = run_r_on_frame(
            "suppressPackageStartupMessages(library(psych)); d <- read.csv('{path}');"
            "t <- system.time(k <- cohen.kappa(cbind(d$A, d$B)))[['elapsed']];"
            "cat(k$kappa, t)",
            wide,
        )
        if r:
            print(
                f"Cohen's κ on the time units: dyadlab {ours:.2f} s (κ = {results['cohen']:.6f}), "
                f"psych::cohen.kappa {r[1]:.2f} s (κ = {r[0]:.6f}); ratio {r[1] / ours:.1f}×"
            )


if __name__ == "__main__":
    main()
