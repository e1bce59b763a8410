"""Benchmark: relationship histories — episodes file → monthly sequences → OM distances.

From :func:`dyadlab.history.simulate_episodes` (1 to 4 episodes a person over 6½ years,
30% of the dates imprecise), written as one CSV. Timed (wall clock and the process's CPU
time, one run after a warm-up of the imports):

1. read + sequences: the CSV → :func:`dyadlab.history.read_episodes` →
   :func:`dyadlab.history.sequences` (one state per month) for ``--persons`` persons;
2. distances: optimal matching (substitution 2, indel 1) between the sequences of the
   first ``--om-persons`` persons, then Ward's clustering into 4 groups.

Wall-clock time depends on what else the machine runs; the CPU time is the
load-independent figure.

Run: ``python benchmarks/history.py [--persons 5000] [--om-persons 300]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import dyadlab as dl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--om-persons", type=int, default=300)
    args = parser.parse_args()
    warnings.simplefilter("ignore", dl.DyadlabWarning)
    frame, truth = dl.history.simulate_episodes(args.persons, rng=2026)
    small, small_truth = dl.history.simulate_episodes(5, rng=1)
    dl.history.cluster(
        dl.history.distances(dl.history.sequences(small, until=small_truth.until)), k=2
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "episodes.csv"
        frame.to_csv(path, index=False)
        c0, t0 = time.process_time(), time.perf_counter()
        res = dl.history.sequences(path, until=truth.until)
        c1, t1 = time.process_time(), time.perf_counter()
    assert res.as_dict() == truth.sequences
    first = dl.history.SequenceResult(res.sequences[: args.om_persons], unit=res.unit)
    dist = dl.history.distances(first)
    dl.history.cluster(dist, k=4)
    c2, t2 = time.process_time(), time.perf_counter()
    months = sum(len(s.states) for s in res.sequences)
    print(
        f"read + sequences: {len(frame)} episodes of {args.persons} persons "
        f"({months} person-months): {t1 - t0:.2f} s wall, {c1 - c0:.2f} s CPU"
    )
    print(
        f"OM distances + Ward: {args.om_persons} persons "
        f"({args.om_persons * (args.om_persons - 1) // 2} pairs): {t2 - t1:.2f} s wall, "
        f"{c2 - c1:.2f} s CPU"
    )


if __name__ == "__main__":
    main()
