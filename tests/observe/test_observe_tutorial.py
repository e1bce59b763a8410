"""docs/tutorials/observe.md runs, and every ``text`` block after a Python block is
exactly what that block prints (so the numbers quoted in the tutorial cannot drift)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import matplotlib
import pytest

from dyadlab.exceptions import ConvergenceWarning
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED

# the data leave rows out or have small cells on purpose: the DyadlabWarning saying so
# is expected here (tests/models/test_warning_policy.py checks it is issued)
pytestmark = DATA_WARNINGS_EXPECTED

PAGE = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "observe.md"
PAIR = re.compile(r"```python\n(?P<code>.*?)```\s*(?:```text\n(?P<out>.*?)```)?", re.S)


@pytest.fixture(autouse=True)
def _close_figures():
    """Close this module's figures: matplotlib warns (an error here) past 20 open."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_observe_tutorial_prints_what_it_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    pairs = list(PAIR.finditer(PAGE.read_text(encoding="utf-8")))
    checked = 0
    # the page says "the couple variance is estimated at zero (a warning says so)"
    with pytest.warns(ConvergenceWarning, match="couple variance is at"):
        for m in pairs:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(m.group("code"), str(PAGE), "exec"), namespace)  # our own docs
            if m.group("out") is not None:
                got = [line.rstrip() for line in buffer.getvalue().strip("\n").splitlines()]
                want = [line.rstrip() for line in m.group("out").strip("\n").splitlines()]
                assert got == want, f"block:\n{m.group('code')}"
                checked += 1
    assert len(pairs) == 10 and checked == 9
    model = namespace["model"]
    row = model.estimates.set_index("predictor").loc["distressed"]  # type: ignore[attr-defined]
    assert row["ci_low"] > 0  # the simulated difference is found
