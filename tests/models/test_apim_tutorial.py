"""docs/tutorials/apim.md: every Python block runs, in order, in one namespace."""

from __future__ import annotations

import re

import matplotlib

from tests.reference.fixtures import REPO

TUTORIAL = REPO / "docs" / "tutorials" / "apim.md"


def test_tutorial_code_runs() -> None:
    matplotlib.use("Agg")
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(), flags=re.S)
    assert len(blocks) >= 8
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(TUTORIAL), "exec"), namespace)  # runs our own docs
    sem = namespace["sem"]
    ks = {k["role"]: k for k in sem.extra["k"]}  # type: ignore[attr-defined]
    assert round(ks["-1"]["estimate"], 2) == 0.85
    assert round(ks["1"]["estimate"], 2) == 0.62
    assert ks["-1"]["pattern"] == ks["1"]["pattern"] == "couple"
    fit = namespace["isem"].fit  # type: ignore[attr-defined]
    assert round(fit["chisq"], 3) == round(fit["chisq_isat"], 3) == 9.255
    assert round(fit["chisq_inull"], 3) == 158.937
    assert fit["df_adjusted"] == 0
