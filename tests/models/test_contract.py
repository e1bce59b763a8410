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
  attribute of its class reads (results built on ``ModelResult``).

The public models are discovered, not listed: every public function of ``dyadlab``, its
sub-packages and ``dl.power`` (and every method of the survey designs) whose return
annotation names a ``…Result`` class. A new model without a ``Case`` here fails
``test_every_public_model_has_a_case`` (docs/adding_a_model.md).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
import pickle
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
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

_HISTORY = dl.history.simulate_episodes(40, rng=12)
_UNTIL = _HISTORY[1].until.isoformat()


def _pair_series(n: int = 1800, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = np.cumsum(rng.standard_normal(n))
    return pd.DataFrame({"woman": a, "man": np.roll(a, 7) + rng.standard_normal(n)})


def _vpa_signal() -> pd.DataFrame:
    sig, _ = dl.physio.simulate_vpa(30, sampling_rate=250, rng=1)
    return pd.DataFrame({"t": np.arange(len(sig)) / 250, "vpa_ac": sig})


def _events() -> pd.DataFrame:
    ev = dl.observe.simulate_sessions(6, roles=("woman", "man"), rng=1).events
    return ev[ev["coder"] == "A"].drop(columns="coder").reset_index(drop=True)


def _persons() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person": [f"p{i}" for i in range(1, 41)],
            "birth": [f"{1996 + i % 4}-{1 + i % 12:02d}" for i in range(40)],
            "group": ["a", "b"] * 20,
        }
    )


#: data sets simulated (once per run) rather than stored
GENERATED: dict[str, Callable[[], pd.DataFrame]] = {
    "survey_panel.csv": lambda: dl.survey.simulate_panel(500, rng=21),
    "physio_epochs.csv": lambda: dl.physio.simulate_concordance(
        n_dyads=6, n_epochs=60, r=0.5, lag=1, rng=3
    ),
    "physio_pair.csv": _pair_series,
    "physio_vpa.csv": _vpa_signal,
    "observe_events.csv": _events,
    "history_episodes.csv": lambda: _HISTORY[0],
    "history_persons.csv": _persons,
}


@cache
def _data_path(name: str) -> Path:
    if name not in GENERATED:
        return DATA / name
    path = Path(tempfile.mkdtemp(prefix="dyadlab-contract-")) / name
    GENERATED[name]().to_csv(path, index=False)
    return path


def _survey(estimate: str, *, replicate: bool = False) -> Callable[..., Any]:
    """``design(data, …).<estimate>(**kwargs)`` (of its replicate design if asked)."""

    def fit(data: pd.DataFrame, **kwargs: Any) -> Any:
        design = dl.survey.design(data, weights="weight", strata="stratum", cluster="psu")
        return getattr(design.replicates("JKn") if replicate else design, estimate)(**kwargs)

    return fit


def _columns(func: Callable[..., Any], *columns: str) -> Callable[..., Any]:
    """``func(data[c1], data[c2], …, **kwargs)``: the physiology functions take series."""
    return lambda data, **kwargs: func(*(data[c].to_numpy() for c in columns), **kwargs)


def _pseudo_pairs(data: pd.DataFrame, **kwargs: Any) -> Any:
    """Three dyads cut from one long pair of series."""
    parts = np.array_split(np.arange(len(data)), 3)
    series = {d: {r: data[r].to_numpy()[i] for r in ("woman", "man")} for d, i in enumerate(parts)}
    return dl.physio.pseudo_pair_test(series, **kwargs)


def _episodes_file(data: pd.DataFrame, **kwargs: Any) -> Any:
    """``sequences`` of the file, as the command reads it: its notes name file lines."""
    return dl.history.sequences(_data_path("history_episodes.csv"), until=_UNTIL, **kwargs)


def _time_to_event(data: pd.DataFrame, **kwargs: Any) -> Any:
    ep = dl.history.read_episodes(data, until=_UNTIL)
    ages = dl.history.event_ages(
        dl.history.first_episodes(ep),
        read_table(_data_path("history_persons.csv")),
        event="first_romantic",
        until=ep.until,
    )
    return dl.history.time_to_event(ages, **kwargs)


def _quietly(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """A step before the model: its notes belong to its own result, not the model's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        return func(*args, **kwargs)


def _read_wide(data: pd.DataFrame, **kwargs: Any) -> Any:
    wide = dl.history.to_wide(_quietly(dl.history.sequences, data, until=_UNTIL))
    return dl.history.read_wide(wide, **kwargs)


def _couple_model(data: pd.DataFrame, **kwargs: Any) -> Any:
    table = _quietly(dl.observe.demand_withdraw, data, window=5.0)
    return dl.observe.couple_model(table, **kwargs)


@dataclass(frozen=True)
class Case:
    """A model call: ``fit(read_table(data), **kwargs)``, and the same call on the CLI
    (``argv`` with ``{data}`` for the file, ``{file:NAME}`` for another data set; None
    where the model has no command). ``model`` is the public function it exercises."""

    name: str
    model: str
    fit: Callable[..., Any]
    data: str | None
    kwargs: dict[str, Any] = field(hash=False)
    argv: list[str] | None = field(hash=False)

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

_APIM = {"y": "y", "x": "x", "dyad": "dyad"}
_SYNC = {"window": 30.0, "step": 5.0, "max_lag": 5.0, "lag_step": 0.5}
_SYNC_FLAGS = _flags(a="woman", b="man", rate=10, window=30, step=5, max_lag=5, lag_step=0.5)
_EPOCHS = {"subjective": "subjective", "genital": "genital", "person": "person"}
_EPOCHS |= {"time": "epoch", "dyad": "dyad"}
_PANEL = "survey_panel.csv"

CASES = [
    Case(
        "apim_sem_distinguishable",
        "dyadlab.apim",
        dl.apim,
        "apim_dist_missing.csv",
        {**_APIM, "role": "role", "method": "sem"},
        ["apim", "{data}", *_flags(**_APIM, role="role", method="sem")],
    ),
    Case(
        "apim_mlm_distinguishable",
        "dyadlab.apim",
        dl.apim,
        "apim_dist_missing.csv",
        {**_APIM, "role": "role", "method": "mlm"},
        ["apim", "{data}", *_flags(**_APIM, role="role", method="mlm")],
    ),
    Case(
        "apim_mlm_indistinguishable",
        "dyadlab.apim",
        dl.apim,
        "apim_indist.csv",
        {**_APIM, "method": "mlm"},
        ["apim", "{data}", *_flags(**_APIM, indistinguishable=True)],
    ),
    Case(
        "apim_sem_indistinguishable",
        "dyadlab.apim",
        dl.apim,
        "apim_indist.csv",
        {**_APIM, "method": "sem"},
        ["apim", "{data}", *_flags(**_APIM, indistinguishable=True, method="sem")],
    ),
    Case(
        "diary_gaussian",
        "dyadlab.diary",
        dl.diary,
        "diary_sim_unbalanced.csv",
        {**_DIARY, "role": "role"},
        ["diary", "{data}", *_flags(**_DIARY, role="role")],
    ),
    Case(
        "diary_gaussian_ml_indistinguishable",
        "dyadlab.diary",
        dl.diary,
        "diary_sim_unbalanced.csv",
        {**_DIARY, "estimator": "ML"},
        ["diary", "{data}", *_flags(**_DIARY, indistinguishable=True, estimator="ML")],
    ),
    Case(
        "diary_binomial",
        "dyadlab.diary",
        dl.diary,
        "glmm_bin_unbalanced.csv",
        {**_DIARY, "role": "role", "family": "binomial"},
        ["diary", "{data}", *_flags(**_DIARY, role="role", family="binomial")],
    ),
    Case(
        "diary_poisson",
        "dyadlab.diary",
        dl.diary,
        "glmm_pois.csv",
        {**_DIARY, "role": "role", "family": "poisson"},
        ["diary", "{data}", *_flags(**_DIARY, role="role", family="poisson")],
    ),
    Case(
        "truth_bias",
        "dyadlab.truth_bias",
        dl.truth_bias,
        "tb_diary_dist.csv",
        {**_TB, "time": "day", "role": "role"},
        ["truth-bias", "{data}", *_flags(**_TB, time="day", role="role")],
    ),
    Case(
        "apim_mediation",
        "dyadlab.apim_mediation",
        dl.apim_mediation,
        "med_sim.csv",
        {"x": "stress", "m": "support", "y": "wellbeing", "dyad": "couple", "role": "role"},
        None,  # no command yet
    ),
    Case(
        "nonindependence_distinguishable",
        "dyadlab.nonindependence",
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
        "dyadlab.nonindependence",
        dl.nonindependence,
        "nonindep_sim_indistinguishable.csv",
        {"variables": ["closeness", "chores"], "dyad": "pair"},
        ["nonindependence", "{data}", *_flags(var=["closeness", "chores"], dyad="pair")],
    ),
    Case(
        "power_apim",
        "dyadlab.power.apim",
        dl.power.apim,
        None,
        {"actor": 0.3, "partner": 0.15, "r_x": 0.3, "r_e": 0.3, "dyads": 100},
        ["power", "apim", *_flags(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=100)],
    ),
    Case(
        "power_diary",
        "dyadlab.power.diary",
        dl.power.diary,
        None,
        {"actor": 0.1, "partner": 0.05, "couples": [20], "days": [7], "replications": 100}
        | {"seed": 0, "progress": False},
        ["power", "diary", *_flags(actor=0.1, partner=0.05, couples=20, days=7), *_REPS],
    ),
    Case(
        "observe_agreement",
        "dyadlab.observe.agreement",
        dl.observe.agreement,
        "observe_cohen_3cat.csv",
        {"unit": "unit", "coder": "coder", "code": "code", "method": "cohen"},
        ["observe", "agreement", "{data}", *_flags(unit="unit", coder="coder", code="code"), *_M],
    ),
    Case(
        "observe_icc",
        "dyadlab.observe.icc",
        dl.observe.icc,
        "observe_icc.csv",
        {"target": "target", "rater": "rater", "value": "rating"},
        ["observe", "icc", "{data}", *_flags(target="target", rater="rater", value="rating")],
    ),
    Case(
        "observe_sequential",
        "dyadlab.observe.sequential",
        dl.observe.sequential,
        "observe_events.csv",
        {"session": "session", "code": "code", "order": "onset"},
        ["observe", "sequential", "{data}", *_flags(session="session", code="code", order="onset")],
    ),
    Case(
        "observe_window_table",
        "dyadlab.observe.window_table",
        dl.observe.window_table,
        "observe_events.csv",
        {"session": "session", "code": "code", "onset": "onset", "offset": "offset"}
        | {"window": 5.0},
        None,
    ),
    Case(
        "observe_demand_withdraw",
        "dyadlab.observe.demand_withdraw",
        dl.observe.demand_withdraw,
        "observe_events.csv",
        {"window": 5.0},
        None,
    ),
    Case(
        "observe_couple_model",
        "dyadlab.observe.couple_model",
        _couple_model,
        "observe_events.csv",
        {"predictors": ["direction"]},
        None,
    ),
    Case(
        "physio_concordance",
        "dyadlab.physio.concordance",
        dl.physio.concordance,
        "physio_epochs.csv",
        {**_EPOCHS, "lags": [0, 1]},
        [
            "physio",
            "concordance",
            "{data}",
            *_flags(**_EPOCHS, lag=[0, 1]),
        ],
    ),
    Case(
        "physio_concordance_slope",
        "dyadlab.physio.concordance_slope",
        dl.physio.concordance_slope,
        "physio_epochs.csv",
        _EPOCHS,
        None,
    ),
    Case(
        "physio_concordance_apim",
        "dyadlab.physio.concordance_apim",
        dl.physio.concordance_apim,
        "physio_epochs.csv",
        {**_EPOCHS, "role": "role"},
        None,
    ),
    Case(
        "physio_vpa",
        "dyadlab.physio.vpa",
        _columns(dl.physio.vpa, "vpa_ac"),
        "physio_vpa.csv",
        {"sampling_rate": 250},
        ["physio", "vpa", "{data}", *_flags(signal="vpa_ac", rate=250)],
    ),
    Case(
        "physio_synchrony",
        "dyadlab.physio.synchrony",
        _columns(dl.physio.synchrony, "woman", "man"),
        "physio_pair.csv",
        {"sampling_rate": 10, **_SYNC},
        ["physio", "synchrony", "{data}", *_SYNC_FLAGS],
    ),
    Case(
        "physio_surrogate_test",
        "dyadlab.physio.surrogate_test",
        _columns(dl.physio.surrogate_test, "woman", "man"),
        "physio_pair.csv",
        {"sampling_rate": 10, **_SYNC, "method": "circular", "n": 19, "rng": 1},
        ["physio", "surrogates", "{data}", *_SYNC_FLAGS, *_flags(n=19, seed=1)],
    ),
    Case(
        "physio_pseudo_pair_test",
        "dyadlab.physio.pseudo_pair_test",
        _pseudo_pairs,
        "physio_pair.csv",
        {"sampling_rate": 10, **_SYNC, "n": 19, "rng": 1},
        None,
    ),
    Case(
        "history_sequences",
        "dyadlab.history.sequences",
        _episodes_file,
        "history_episodes.csv",
        {"unit": "month"},
        ["history", "sequences", "{data}", *_flags(unit="month", until=_UNTIL)],
    ),
    Case(
        "history_read_wide",
        "dyadlab.history.read_wide",
        _read_wide,
        "history_episodes.csv",
        {},
        None,  # `dyadlab history wide` writes the table read_wide reads
    ),
    Case(
        "history_time_to_event",
        "dyadlab.history.time_to_event",
        _time_to_event,
        "history_episodes.csv",
        {"covariates": ["group"], "by": "group"},
        [
            "history",
            "time-to-event",
            "{data}",
            *_flags(persons="{file:history_persons.csv}", event="first_romantic"),
            *_flags(until=_UNTIL, by="group", covariate="group"),
        ],
    ),
    Case(
        "survey_mean",
        "dyadlab.survey.SurveyDesign.mean",
        _survey("mean"),
        _PANEL,
        {"var": ["loneliness"], "by": "relationship"},
        ["survey", "mean", "{data}", *_flags(var="loneliness", by="relationship"), *_DESIGN],
    ),
    Case(
        "survey_total",
        "dyadlab.survey.SurveyDesign.total",
        _survey("total"),
        _PANEL,
        {"var": ["lonely_often"]},
        ["survey", "total", "{data}", *_flags(var="lonely_often"), *_DESIGN],
    ),
    Case(
        "survey_proportion",
        "dyadlab.survey.SurveyDesign.proportion",
        _survey("proportion"),
        _PANEL,
        {"var": "lonely_often", "by": "sex"},
        ["survey", "proportion", "{data}", *_flags(var="lonely_often", by="sex"), *_DESIGN],
    ),
    Case(
        "survey_glm",
        "dyadlab.survey.SurveyDesign.glm",
        _survey("glm"),
        _PANEL,
        {"y": "loneliness", "x": ["age", "relationship"]},
        ["survey", "glm", "{data}", *_flags(y="loneliness", x=["age", "relationship"]), *_DESIGN],
    ),
    Case(
        "survey_glm_quasibinomial",
        "dyadlab.survey.SurveyDesign.glm",
        _survey("glm"),
        _PANEL,
        {"y": "lonely_often", "x": ["age"], "family": "quasibinomial"},
        [
            "survey",
            "glm",
            "{data}",
            *_flags(y="lonely_often", x="age", family="quasibinomial"),
            *_DESIGN,
        ],
    ),
    Case(
        "survey_ratio",
        "dyadlab.survey.SurveyDesign.ratio",
        _survey("ratio"),
        _PANEL,
        {"numerator": "depression", "denominator": "loneliness"},
        None,
    ),
    Case(
        "survey_quantile",
        "dyadlab.survey.SurveyDesign.quantile",
        _survey("quantile"),
        _PANEL,
        {"var": "loneliness", "q": [0.25, 0.5]},
        None,
    ),
    Case(
        "survey_chisq",
        "dyadlab.survey.SurveyDesign.chisq",
        _survey("chisq"),
        _PANEL,
        {"a": "sex", "b": "relationship"},
        None,
    ),
    *[
        Case(
            f"survey_replicate_{estimate}",
            f"dyadlab.survey.ReplicateDesign.{estimate}",
            _survey(estimate, replicate=True),
            _PANEL,
            kwargs,
            None,
        )
        for estimate, kwargs in [
            ("mean", {"var": ["loneliness"]}),
            ("total", {"var": ["lonely_often"]}),
            ("proportion", {"var": "lonely_often"}),
            ("ratio", {"numerator": "depression", "denominator": "loneliness"}),
            ("glm", {"y": "loneliness", "x": ["age"]}),
        ]
    ],
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


def _public_functions() -> dict[str, Callable[..., Any]]:
    """Every public function of dyadlab, its analysis sub-packages and ``dl.power``, and
    the public methods of the survey designs, by dotted name."""
    spaces: dict[str, Any] = {"dyadlab": dl, "dyadlab.power": dl.power}
    for sub in sorted(dl._SUBPACKAGES - {"report"}):  # report presents results
        spaces[f"dyadlab.{sub}"] = importlib.import_module(f"dyadlab.{sub}")
    out: dict[str, Callable[..., Any]] = {}
    for prefix, space in spaces.items():
        names = getattr(space, "__all__", [n for n in vars(space) if not n.startswith("_")])
        for name in names:
            obj = getattr(space, name)
            if inspect.isfunction(obj):
                out[f"{prefix}.{name}"] = obj
    for klass in (dl.survey.SurveyDesign, dl.survey.ReplicateDesign):
        for name, obj in vars(klass).items():
            if inspect.isfunction(obj) and not name.startswith("_"):
                out[f"dyadlab.survey.{klass.__name__}.{name}"] = obj
    return out


def _returns_a_result(func: Callable[..., Any]) -> bool:
    """Whether ``func``'s return annotation names a result class (``…Result``)."""
    annotation = inspect.signature(func).return_annotation
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return bool(re.search(r"\b\w*Result\b", str(text)))


PUBLIC_MODELS = sorted(n for n, f in _public_functions().items() if _returns_a_result(f))


def test_every_public_model_has_a_case() -> None:
    missing = set(PUBLIC_MODELS) - {c.model for c in CASES}
    assert not missing, f"add a Case to tests/models/test_contract.py for {sorted(missing)}"
    # and the discovery finds what it must (it cannot pass on an empty list)
    assert {"dyadlab.apim", "dyadlab.diary", "dyadlab.power.diary"} <= set(PUBLIC_MODELS)
    assert {"dyadlab.survey.SurveyDesign.glm", "dyadlab.physio.concordance_slope"} <= set(
        PUBLIC_MODELS
    )


def test_every_case_names_a_public_model() -> None:
    stale = {c.model for c in CASES} - set(PUBLIC_MODELS)
    assert not stale, f"these cases name no public model (renamed?): {sorted(stale)}"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_estimates_summary_and_json(case: Case, fitted: dict[str, Any]) -> None:
    result, _, _ = _result(case, fitted)
    if isinstance(result, ModelResult):
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


@pytest.mark.parametrize("case", CASES, ids=str)
def test_result_is_frozen_and_typed(case: Case, fitted: dict[str, Any]) -> None:
    result, _, _ = _result(case, fitted)
    if not isinstance(result, ModelResult):
        pytest.skip(f"{type(result).__name__} has no estimates table (not a ModelResult)")
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


def _close(got: Any, want: Any) -> bool:
    """JSON values equal, numbers up to the last bits (sums in another memory order)."""
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(_close(got[k], want[k]) for k in got)
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(_close(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(got, float) and isinstance(want, float | int) and not isinstance(want, bool):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    return bool(got == want)


@pytest.mark.parametrize("case", [c for c in CASES if c.argv is not None], ids=str)
def test_to_dict_equals_the_cli_json(case: Case, fitted: dict[str, Any]) -> None:
    result, _, _ = _result(case, fitted)
    assert case.argv is not None
    data = str(_data_path(case.data)) if case.data else ""
    argv = [
        re.sub(r"\{file:([^}]+)\}", lambda m: str(_data_path(m.group(1))), a).replace(
            "{data}", data
        )
        for a in case.argv
    ]
    run = CliRunner().invoke(app, [*argv, "--json"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    got, want = json.loads(run.stdout), json.loads(json.dumps(result.to_dict()))
    assert _close(got, want), (got, want)
