"""One contract over every public model (design.md, "Every model returns a result object").

For each model, on data that exercises its warnings where it has any:

- ``.estimates`` starts with the tidy columns (``ESTIMATE_COLUMNS``), at least one row;
- ``summary()`` is a non-empty str;
- ``to_dict()`` is strict JSON (no NaN) and equals what ``dyadlab … --json`` prints for
  the same call, run in-process through the Typer app;
- the input DataFrame is left unchanged;
- every message in ``.warnings`` was also issued, once, as a DyadlabWarning (or its
  subclass ConvergenceWarning), and nothing else was issued;
- the result is immutable (a frozen dataclass, ``extra`` read-only) and every typed
  attribute of its class reads.

A new model adds one ``Case`` here (docs/adding_a_model.md).
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import dyadlab as dl
from dyadlab.cli import app
from dyadlab.exceptions import DyadlabWarning
from dyadlab.io import read_table
from dyadlab.models._result import ESTIMATE_COLUMNS, ModelResult
from tests.reference.fixtures import REPO

DATA = REPO / "tests" / "reference" / "data"

#: data sets simulated (once per run) rather than stored
GENERATED: dict[str, Callable[[], pd.DataFrame]] = {
    "survey_panel.csv": lambda: dl.survey.simulate_panel(500, rng=21),
}


@cache
def _data_path(name: str) -> Path:
    if name not in GENERATED:
        return DATA / name
    path = Path(tempfile.mkdtemp(prefix="dyadlab-contract-")) / name
    GENERATED[name]().to_csv(path, index=False)
    return path


def _survey_mean(data: pd.DataFrame, **kwargs: Any) -> Any:
    design = dl.survey.design(data, weights="weight", strata="stratum", cluster="psu")
    return design.mean(**kwargs)


@dataclass(frozen=True)
class Case:
    """A model call: ``fit(read_table(data), **kwargs)``, and the same call on the CLI
    (``argv`` with ``{data}`` for the file; None where the model has no command)."""

    name: str
    fit: Callable[..., Any]
    data: str | None
    kwargs: dict[str, Any] = field(hash=False)
    argv: list[str] | None = field(hash=False)
    estimates: bool = True  # power analyses have no estimates table

    def __str__(self) -> str:
        return self.name


def _flags(**options: Any) -> list[str]:
    out: list[str] = []
    for key, value in options.items():
        for v in value if isinstance(value, list) else [value]:
            out += [f"--{key.replace('_', '-')}"] + ([] if v is True else [str(v)])
    return out


_DIARY = {"y": "y", "x": "x", "dyad": "couple", "person": "pid", "time": "day"}
_M = ["--method", "cohen"]
_REPS = ["--replications", "100", "--seed", "0"]
_DESIGN = _flags(weights="weight", strata="stratum", cluster="psu")
_TB = {"judgment": "judgment", "truth": "truth", "dyad": "couple", "person": "pid"}

CASES = [
    Case(
        "apim_sem_distinguishable",
        dl.apim,
        "apim_dist_missing.csv",
        {"y": "y", "x": "x", "dyad": "dyad", "role": "role", "method": "sem"},
        ["apim", "{data}", *_flags(y="y", x="x", dyad="dyad", role="role", method="sem")],
    ),
    Case(
        "apim_mlm_distinguishable",
        dl.apim,
        "apim_dist_missing.csv",
        {"y": "y", "x": "x", "dyad": "dyad", "role": "role", "method": "mlm"},
        ["apim", "{data}", *_flags(y="y", x="x", dyad="dyad", role="role", method="mlm")],
    ),
    Case(
        "apim_mlm_indistinguishable",
        dl.apim,
        "apim_indist.csv",
        {"y": "y", "x": "x", "dyad": "dyad", "method": "mlm"},
        ["apim", "{data}", *_flags(y="y", x="x", dyad="dyad", indistinguishable=True)],
    ),
    Case(
        "apim_sem_indistinguishable",
        dl.apim,
        "apim_indist.csv",
        {"y": "y", "x": "x", "dyad": "dyad", "method": "sem"},
        [
            "apim",
            "{data}",
            *_flags(y="y", x="x", dyad="dyad", indistinguishable=True, method="sem"),
        ],
    ),
    Case(
        "diary_gaussian",
        dl.diary,
        "diary_sim_unbalanced.csv",
        {**_DIARY, "role": "role"},
        ["diary", "{data}", *_flags(**_DIARY, role="role")],
    ),
    Case(
        "diary_gaussian_ml_indistinguishable",
        dl.diary,
        "diary_sim_unbalanced.csv",
        {**_DIARY, "estimator": "ML"},
        ["diary", "{data}", *_flags(**_DIARY, indistinguishable=True, estimator="ML")],
    ),
    Case(
        "diary_binomial",
        dl.diary,
        "glmm_bin_unbalanced.csv",
        {**_DIARY, "role": "role", "family": "binomial"},
        ["diary", "{data}", *_flags(**_DIARY, role="role", family="binomial")],
    ),
    Case(
        "diary_poisson",
        dl.diary,
        "glmm_pois.csv",
        {**_DIARY, "role": "role", "family": "poisson"},
        ["diary", "{data}", *_flags(**_DIARY, role="role", family="poisson")],
    ),
    Case(
        "truth_bias",
        dl.truth_bias,
        "tb_diary_dist.csv",
        {**_TB, "time": "day", "role": "role"},
        ["truth-bias", "{data}", *_flags(**_TB, time="day", role="role")],
    ),
    Case(
        "apim_mediation",
        dl.apim_mediation,
        "med_sim.csv",
        {"x": "stress", "m": "support", "y": "wellbeing", "dyad": "couple", "role": "role"},
        None,  # no command yet
    ),
    Case(
        "nonindependence_distinguishable",
        dl.nonindependence,
        "nonindep_sim_distinguishable.csv",
        {"variables": ["distress", "support"], "dyad": "dyad", "role": "role"},
        [
            "nonindependence",
            "{data}",
            *_flags(var=["distress", "support"], dyad="dyad", role="role"),
        ],
    ),
    Case(
        "nonindependence_indistinguishable",
        dl.nonindependence,
        "nonindep_sim_indistinguishable.csv",
        {"variables": ["closeness", "chores"], "dyad": "pair"},
        ["nonindependence", "{data}", *_flags(var=["closeness", "chores"], dyad="pair")],
    ),
    Case(
        "observe_agreement",
        dl.observe.agreement,
        "observe_cohen_3cat.csv",
        {"unit": "unit", "coder": "coder", "code": "code", "method": "cohen"},
        ["observe", "agreement", "{data}", *_flags(unit="unit", coder="coder", code="code"), *_M],
    ),
    Case(
        "observe_icc",
        dl.observe.icc,
        "observe_icc.csv",
        {"target": "target", "rater": "rater", "value": "rating"},
        ["observe", "icc", "{data}", *_flags(target="target", rater="rater", value="rating")],
    ),
    Case(
        "survey_mean",
        _survey_mean,
        "survey_panel.csv",
        {"var": ["loneliness"], "by": "relationship"},
        ["survey", "mean", "{data}", *_flags(var="loneliness", by="relationship"), *_DESIGN],
    ),
    Case(
        "power_apim",
        dl.power.apim,
        None,
        {"actor": 0.3, "partner": 0.15, "r_x": 0.3, "r_e": 0.3, "dyads": 100},
        ["power", "apim", *_flags(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=100)],
        estimates=False,
    ),
    Case(
        "power_diary",
        dl.power.diary,
        None,
        {"actor": 0.1, "partner": 0.05, "couples": [20], "days": [7], "replications": 100}
        | {"seed": 0, "progress": False},
        ["power", "diary", *_flags(actor=0.1, partner=0.05, couples=20, days=7), *_REPS],
        estimates=False,
    ),
]


def _call(case: Case) -> tuple[Any, pd.DataFrame | None, list[warnings.WarningMessage]]:
    frame = read_table(_data_path(case.data)) if case.data else None
    args = [] if frame is None else [frame]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = case.fit(*args, **case.kwargs)
    return result, frame, caught


@pytest.fixture(scope="module")
def fitted() -> dict[str, tuple[Any, pd.DataFrame | None, list[warnings.WarningMessage]]]:
    return {}


def _result(case: Case, cache: dict[str, Any]) -> tuple[Any, Any, list[Any]]:
    if case.name not in cache:
        cache[case.name] = _call(case)
    return cache[case.name]  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_estimates_summary_and_json(case: Case, fitted: dict[str, Any]) -> None:
    result, _, _ = _result(case, fitted)
    if case.estimates:
        # the tidy columns first, in order; a model may add its own after them
        # (survey: group, n)
        assert list(result.estimates.columns)[: len(ESTIMATE_COLUMNS)] == ESTIMATE_COLUMNS
        assert len(result.estimates) > 0
    text = result.summary()
    assert isinstance(text, str) and text.strip()
    d = result.to_dict()
    assert json.loads(json.dumps(d, allow_nan=False)) == d


@pytest.mark.parametrize("case", CASES, ids=str)
def test_input_is_not_mutated(case: Case) -> None:
    if case.data is None:
        pytest.skip("the model takes no data frame")
    frame = read_table(_data_path(case.data))
    before = frame.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        case.fit(frame, **case.kwargs)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_warnings_are_mirrored(case: Case, fitted: dict[str, Any]) -> None:
    result, _, caught = _result(case, fitted)
    assert all(issubclass(w.category, DyadlabWarning) for w in caught), [
        f"{w.category.__name__}: {w.message}" for w in caught
    ]
    assert [str(w.message) for w in caught] == list(result.warnings)
    assert result.to_dict()["warnings"] == list(result.warnings)


@pytest.mark.parametrize("case", [c for c in CASES if c.estimates], ids=str)
def test_result_is_frozen_and_typed(case: Case, fitted: dict[str, Any]) -> None:
    result, _, _ = _result(case, fitted)
    assert isinstance(result, ModelResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.n_obs = 0
    with pytest.raises(TypeError):
        result.extra["model"] = "changed"
    # every typed attribute a result class adds reads from this result
    for klass in type(result).__mro__[: type(result).__mro__.index(ModelResult)]:
        for name, attr in vars(klass).items():
            if isinstance(attr, property) and not name.startswith("_"):
                getattr(result, name)
    assert result.r_call is None or result.r_call.startswith(("nlme::", "lme4::", "lavaan::"))
    # a frozen result still pickles (Dask workers, caches) and round-trips its JSON
    assert pickle.loads(pickle.dumps(result)).to_dict() == result.to_dict()


def test_some_case_warns() -> None:
    """The mirror test above must not pass vacuously: some cases do leave rows out."""
    names = {"apim_sem_distinguishable", "diary_gaussian", "truth_bias"}
    for case in (c for c in CASES if c.name in names):
        assert _call(case)[0].warnings, case.name


@pytest.mark.parametrize("case", [c for c in CASES if c.argv is not None], ids=str)
def test_to_dict_equals_the_cli_json(case: Case, fitted: dict[str, Any], tmp_path: Path) -> None:
    result, _, _ = _result(case, fitted)
    assert case.argv is not None
    data = str(_data_path(case.data)) if case.data else ""
    argv = [a.replace("{data}", data) for a in case.argv]
    run = CliRunner().invoke(app, [*argv, "--json"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout) == json.loads(json.dumps(result.to_dict()))
