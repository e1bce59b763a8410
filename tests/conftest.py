"""Shared pytest fixtures."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reference.fixtures import shared_data_dir


@pytest.fixture
def shared_data() -> Path:
    """The folder of public couples' data sets (``../shared/data``); skip if absent."""
    path = shared_data_dir()
    if not path.exists():
        pytest.skip("shared data folder is not available")
    return path


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small demo run (8 couples x 5 days, ``--no-serve``) per test session, shared by
    the pytest-xdist workers (file lock); its export is ``data/diary.csv`` as in
    ``demo-output/``."""
    import fcntl

    from dyadlab.cli import main

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = root / "dyadlab-demo-8x5"
    with open(root / "dyadlab-demo-8x5.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "report.html").is_file():
            args = ["demo", "--no-serve", "--out", str(out), "--couples", "8", "--days", "5"]
            assert main(args) == 0
    return out


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    """Close every figure a test left open (matplotlib warns past 20, an error here)."""
    yield
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
