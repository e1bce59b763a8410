"""Benchmark: how long the ``dyadlab`` command takes to start, against its peers.

Targets (issue 21): ``dyadlab --version`` ≤ 0.25 s and ``dyadlab power apim … --json``
(analytic) ≤ 0.5 s. Peers, timed in the same run: ``python -c pass`` (the floor any
Python command pays) and ``Rscript -e 'cat(1)'`` (what an R user waits for). Each command
runs REPEATS times; the median and the minimum wall time are reported, with the
median's ratio to each peer, and the minimum CPU time (user + system) of the child,
which a busy machine inflates much less than the wall time. The load average is printed
first: on a loaded machine the wall figures are indicative, the CPU ones closer.

The children always run with compiled bytecode, as an installed dyadlab does: when
``PYTHONDONTWRITEBYTECODE`` is set (a development shell), it is lifted for them and the
bytecode goes to a temporary ``PYTHONPYCACHEPREFIX``, so the source tree stays clean and
compiling dyadlab's modules (~0.1 s) is not counted.

Run: ``python benchmarks/cli_startup.py`` (``REPEATS=15`` in the environment for more runs).
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

REPEATS = int(os.environ.get("REPEATS", "7"))
POWER = ["power", "apim", "--actor", "0.3", "--partner", "0.15", "--r-x", "0.3", "--r-e", "0.3"]
POWER += ["--dyads", "100", "--json"]


def _dyadlab() -> list[str]:
    """The installed ``dyadlab`` script, or the module run by this interpreter."""
    script = shutil.which("dyadlab")
    return [script] if script else [sys.executable, "-m", "dyadlab.cli"]


class Timing(NamedTuple):
    """Wall seconds (median, minimum) and the least CPU seconds over the runs."""

    median: float
    least: float
    cpu: float


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _child_env(cache: str) -> dict[str, str]:
    env = dict(os.environ)
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        env.setdefault("PYTHONPYCACHEPREFIX", cache)
    return env


ENV = _child_env(tempfile.mkdtemp(prefix="dyadlab-bench-pyc-"))


def time_command(cmd: list[str]) -> Timing:
    """Wall and CPU time of ``cmd`` over REPEATS runs (one untimed run first)."""
    subprocess.run(cmd, capture_output=True, check=True, env=ENV)
    walls, cpus = [], []
    for _ in range(REPEATS):
        cpu = _child_cpu()
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=ENV)
        walls.append(time.perf_counter() - start)
        cpus.append(_child_cpu() - cpu)
    return Timing(statistics.median(walls), min(walls), min(cpus))


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
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {REPEATS} runs each")
    print(f"{'':42s} {'median':>8s} {'min':>8s} {'CPU min':>8s}")
    peer_t = {name: time_command(cmd) for name, cmd in peers.items()}
    for name, t in peer_t.items():
        print(f"{name:42s} {t.median:6.3f} s {t.least:6.3f} s {t.cpu:6.3f} s  (peer)")
    for name, (cmd, target) in cases.items():
        t = time_command(cmd)
        ratios = "  ".join(f"{t.median / p.median:5.1f}× {n.split()[0]}" for n, p in peer_t.items())
        goal = (
            f"  target ≤ {target} s: {'met' if t.median <= target else 'NOT met'}" if target else ""
        )
        print(f"{name:42s} {t.median:6.3f} s {t.least:6.3f} s {t.cpu:6.3f} s  {ratios}{goal}")


if __name__ == "__main__":
    main()
