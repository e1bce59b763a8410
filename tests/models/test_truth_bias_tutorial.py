"""docs/tutorials/truth_bias.md: every Python block runs, in order; the text's numbers hold."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib
import pytest

from tests.reference.fixtures import REPO

TUTORIAL = REPO / "docs" / "tutorials" / "truth_bias.md"


def test_tutorial_code_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # the tutorial saves a figure
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(), flags=re.S)
    assert len(blocks) >= 6
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(TUTORIAL), "exec"), namespace)  # our own docs
    assert os.path.exists(tmp_path / "truth_bias.png")
    res = namespace["res"]
    est = res.estimates.set_index(["effect", "role"])["estimate"]  # type: ignore[attr-defined]
    # the numbers quoted in the tutorial's text
    assert round(est[("truth", "woman")], 3) == 0.470
    assert round(est[("truth", "man")], 3) == 0.387
    assert round(est[("assumed_similarity", "woman")], 3) == 0.235
    assert round(est[("assumed_similarity", "man")], 3) == 0.348
    assert round(est[("directional_bias", "woman")], 1) == -5.1
    assert round(est[("directional_bias", "man")], 1) == 1.5
    assert res.extra["n_excluded"] == 604  # type: ignore[attr-defined]
    assert res.fit["converged"]  # type: ignore[attr-defined]
    mod = namespace["mod"].estimates.set_index(["effect", "role"])["estimate"]  # type: ignore[attr-defined]
    assert round(mod[("directional_bias:conflict", "woman")], 1) == -6.5
    assert abs(mod[("directional_bias:conflict", "man")] + 6.5) < 0.3
    assert round(mod[("directional_bias", "man")], 1) == 2.5
    assert abs(mod[("truth:conflict", "man")]) < 0.05
    pooled = namespace["pooled"]
    assert pooled.estimates["role"].isna().all()  # type: ignore[attr-defined]
