"""Benchmark: how long the ``dyadlab`` command takes to start, against its peers.

Targets (issue 21): ``dyadlab --version`` ≤ 0.25 s and ``dyadlab power apim … --json``
(analytic) ≤ 0.5 s. Peers, timed in the same run: ``python -c pass`` (the floor any
Python command pays) and ``Rscript -e 'cat(1)'`` (what an R user waits for). Each command
runs REPEATS times; the median wall time is reported, with its ratio to each peer.

Run: ``python benchmarks/cli_startup.py``. On a loaded machine the figures are indicative.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

REPEATS = 7
POWER = ["power", "apim", "--actor", "0.3", "--partner", "0.15", "--r-x", "0.3", "--r-e", "0.3"]
POWER += ["--dyads", "100", "--json"]


def _dyadlab() -> list[str]:
    """The installed ``dyadlab`` script, or the module run by this interpreter."""
    script = shutil.which("dyadlab")
    return [script] if script else [sys.executable, "-m", "dyadlab.cli"]


def median_seconds(cmd: list[str]) -> float:
    """Median wall time of ``cmd`` over REPEATS runs (one untimed run first)."""
    subprocess.run(cmd, capture_output=True, check=True)
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Time the commands and print medians and ratios against the peers."""
    dyadlab = _dyadlab()
    peers = {"python -c pass": [sys.executable, "-c", "pass"]}
    if shutil.which("Rscript"):
        peers["Rscript -e 'cat(1)'"] = ["Rscript", "-e", "cat(1)"]
    cases = {
        "dyadlab --version": ([*dyadlab, "--version"], 0.25),
        "dyadlab power apim --json": ([*dyadlab, *POWER], 0.5),
        "dyadlab power apim --json (montecarlo)": (
            [*dyadlab, *POWER, "--method", "montecarlo", "--seed", "1"],
            None,
        ),
    }
    peer_t = {name: median_seconds(cmd) for name, cmd in peers.items()}
    for name, t in peer_t.items():
        print(f"{name:42s} {t:6.3f} s  (peer)")
    for name, (cmd, target) in cases.items():
        t = median_seconds(cmd)
        ratios = "  ".join(f"{t / p:5.1f}× {n.split()[0]}" for n, p in peer_t.items())
        goal = f"  target ≤ {target} s: {'met' if t <= target else 'NOT met'}" if target else ""
        print(f"{name:42s} {t:6.3f} s  {ratios}{goal}")


if __name__ == "__main__":
    main()
