"""One warning path (``models._result.emit``) for every method, not only the models.

Each note a result keeps in ``.warnings`` is issued once as a DyadlabWarning (a
ConvergenceWarning for a fit that did not converge or a variance at its boundary), and
the two lists are the same. The survey's notes are checked in tests/survey/test_design.py,
the regression models' in tests/models/test_contract.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import ConvergenceWarning, DyadlabWarning


def _events() -> pd.DataFrame:
    """Two short sessions: small tables, so the expected-count notes are due."""
    return pd.DataFrame(
        {
            "s": [1] * 6 + [2] * 6,
            "code": list("abcabb") + list("bcaacb"),
            "on": [0.0, 1, 2, 3, 4, 5] * 2,
            "off": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5] * 2,
        }
    )


def _agreement() -> Any:
    # unit 3 has one code only: it adds no pairs, and the result says so
    df = pd.DataFrame(
        {
            "unit": [1, 1, 2, 2, 3, 4, 4, 5, 5],
            "coder": ["a", "b"] * 2 + ["a"] + ["a", "b"] * 2,
            "code": ["x", "x", "y", "y", "x", "x", "y", "y", "y"],
        }
    )
    return dl.observe.agreement(df, unit="unit", coder="coder", code="code", method="krippendorff")


CALLS: dict[str, tuple[Callable[[], Any], str]] = {
    "observe_agreement": (_agreement, "fewer than 2 codes"),
    "observe_sequential": (
        lambda: dl.observe.sequential(_events(), session="s", code="code"),
        "expected counts are below 5",
    ),
    "observe_window": (
        lambda: dl.observe.window_table(
            _events(), session="s", code="code", onset="on", offset="off", window=1
        ),
        "expected counts are below 5",
    ),
    "power_apim_montecarlo": (
        lambda: dl.power.apim(
            actor=0.3,
            partner=0.15,
            r_x=0.3,
            r_e=0.3,
            dyads=40,
            method="montecarlo",
            replications=50,
            rng=1,
        ),
        "Only 50 replications",
    ),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_notes_are_issued_once_and_kept(name: str) -> None:
    call, words = CALLS[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    assert any(words in w for w in result.warnings), result.warnings
    assert all(issubclass(w.category, DyadlabWarning) for w in caught)
    assert [str(w.message) for w in caught] == list(result.warnings)
    assert caught[0].filename == __file__  # points at the caller's line, not dyadlab's
    for name in dir(type(result)):  # and every typed attribute of the result reads
        if isinstance(getattr(type(result), name, None), property) and not name.startswith("_"):
            getattr(result, name)


def test_a_boundary_variance_of_the_concordance_slope_is_a_convergence_warning() -> None:
    # no person differs in slope or level: the random-effect SDs end at zero
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 40))
    frame = pd.DataFrame(
        {
            "person": np.repeat(np.arange(6), 40),
            "epoch": np.tile(np.arange(40), 6),
            "subjective": x.ravel(),
            "genital": (0.5 * x + rng.normal(size=x.shape)).ravel(),
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = dl.physio.concordance_slope(
            frame, subjective="subjective", genital="genital", person="person", time="epoch"
        )
    kinds = {w.category for w in caught}
    assert [str(w.message) for w in caught] == list(res.warnings)
    assert kinds <= {ConvergenceWarning}
    assert res.warnings, "a zero random-effect variance must be reported"


@pytest.mark.parametrize(
    ("family", "days", "replications"), [("gaussian", 2, 1000), ("binomial", 2, 100)]
)
def test_a_diary_power_replication_that_did_not_converge_is_a_convergence_warning(
    family: str, days: int, replications: int
) -> None:
    # 4 couples over 2 days: some replications cannot be refitted (about 1 in 1,000 of
    # the Gaussian ones)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = dl.power.diary(
            actor=0.5,
            partner=0.3,
            couples=[4],
            days=[days],
            replications=replications,
            seed=0,
            progress=False,
            family=family,
        )
    assert res.warnings and "did not converge" in res.warnings[0]
    assert [w.category for w in caught] == [ConvergenceWarning] * len(res.warnings)
    assert [str(w.message) for w in caught] == list(res.warnings)
    assert res.to_dict()["warnings"] == list(res.warnings)
    assert caught[0].filename == __file__
