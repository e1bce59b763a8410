"""The result object every dyadlab model returns.

One class, :class:`ModelResult`, holds what design.md promises for every model: a tidy
``estimates`` table, ``variance_components``, ``fit``, ``tests``, ``warnings``, a readable
``summary()`` and a JSON-ready ``to_dict()`` (the object ``dyadlab <model> --json``
prints). A result is immutable (a frozen dataclass). Each model subclasses it and reads
its own outputs through typed attributes (``ApimResult.k`` a DataFrame, ``r_call`` the R
call reproduced); ``extra`` is the read-only mapping of those outputs as the JSON gives
them, kept for older code (``res.extra["k"]`` still works).

Examples
--------
>>> import pandas as pd
>>> est = estimates_frame([{"effect": "actor", "predictor": "x", "role": None,
...                         "estimate": 0.5, "se": 0.1}])
>>> float(est.loc[0, "statistic"])
5.0
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy import special

from dyadlab.models._emit import convergence_warnings, emit

__all__ = [
    "ESTIMATE_COLUMNS",
    "VARIANCE_COLUMNS",
    "ModelResult",
    "ReadOnlyMapping",
    "convergence_warnings",
    "emit",
    "estimates_frame",
    "jsonable",
    "present",
]


def present(module: str, function: str) -> Callable[..., Any]:
    """``dyadlab.report.<module>.<function>``, looked up when a result is drawn or reported.

    Presenting sits above the models: ``models/`` never imports ``report/``
    (tests/test_layers.py); a result's ``plot()`` and ``report()`` hand themselves to it.
    """
    return cast("Callable[..., Any]", getattr(import_module(f"dyadlab.report.{module}"), function))


ESTIMATE_COLUMNS = [
    "effect",
    "predictor",
    "role",
    "estimate",
    "se",
    "statistic",
    "df",
    "p",
    "ci_low",
    "ci_high",
]
VARIANCE_COLUMNS = ["name", "role", "estimate"]


def estimates_frame(rows: Sequence[Mapping[str, Any]], *, level: float = 0.95) -> pd.DataFrame:
    """Build a tidy estimates table, filling statistic, p and CI from estimate and se.

    Rows with ``df`` None (or NaN) use the normal distribution (z); rows with a number
    in ``df`` use Student's t. Values already given in a row are kept.
    """
    out = []
    for row in rows:
        r = {c: row.get(c) for c in ESTIMATE_COLUMNS}
        est, se = r["estimate"], r["se"]
        df = r["df"]
        df = None if df is None or (isinstance(df, float) and math.isnan(df)) else float(df)
        r["df"] = df
        if se is not None and est is not None and np.isfinite(se) and se > 0:
            stat = r["statistic"] if r["statistic"] is not None else est / se
            # the special functions behind scipy.stats' norm and t (the same values;
            # a distribution method costs ~100 µs a call, these ~1 µs)
            if df is None:
                p = 2 * special.ndtr(-abs(stat))
                crit = special.ndtri(0.5 + level / 2)
            else:
                p = 2 * special.stdtr(df, -abs(stat))
                crit = special.stdtrit(df, 0.5 + level / 2)
            r["statistic"] = float(stat)
            r["p"] = float(p) if r["p"] is None else r["p"]
            if r["ci_low"] is None:
                r["ci_low"] = float(est - crit * se)
            if r["ci_high"] is None:
                r["ci_high"] = float(est + crit * se)
        out.append(r)
    # column by column: numbers straight to float arrays (a frame of records converted
    # afterwards costs ten times as much for a table this small)
    columns: dict[str, Any] = {}
    for c in ESTIMATE_COLUMNS:
        values = [r[c] for r in out]
        if c in _NUMERIC_COLUMNS:
            try:
                columns[c] = np.array([np.nan if v is None else v for v in values], dtype=float)
            except (TypeError, ValueError):  # not a number: missing, as pandas would coerce
                columns[c] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
                columns[c] = columns[c].to_numpy(dtype=float)
        else:
            columns[c] = np.empty(len(values), dtype=object)
            columns[c][:] = values
    return pd.DataFrame(columns, columns=ESTIMATE_COLUMNS, copy=False)


_NUMERIC_COLUMNS = frozenset(["estimate", "se", "statistic", "df", "p", "ci_low", "ci_high"])


def jsonable(value: Any) -> Any:
    """Turn numpy/pandas values into JSON-ready Python values; NaN and inf become None."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, list | tuple | np.ndarray | pd.Series):
        return [jsonable(v) for v in list(value)]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if math.isfinite(f) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, float):
        if value != 0 and abs(value) < 10 ** (-digits):
            return f"{value:.1e}"
        return f"{value:.{digits}f}"
    return str(value)


def _label(value: Any) -> str:
    """A table cell for a text column: empty for None and NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


class ReadOnlyMapping(Mapping[str, Any]):
    """A mapping that cannot be changed (and, unlike ``MappingProxyType``, pickles).

    Examples
    --------
    >>> m = ReadOnlyMapping({"k": 1})
    >>> m["k"], dict(m) == {"k": 1}
    (1, True)
    >>> m["k"] = 2
    Traceback (most recent call last):
    ...
    TypeError: 'ReadOnlyMapping' object does not support item assignment
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"ReadOnlyMapping({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (ReadOnlyMapping, (self._data,))


@dataclass(frozen=True)
class ModelResult:
    """What a dyadlab model returns.

    Attributes
    ----------
    model : str
        The model's name as the CLI's JSON gives it (``"apim"``, ``"diary"``, …).
    estimates : pandas.DataFrame
        Columns ``effect, predictor, role, estimate, se, statistic, df, p, ci_low,
        ci_high``. ``role`` is the role of the person whose outcome is modelled, a string
        as it appears in the data, or None for pooled effects.
    n_dyads, n_obs : int
        Dyads and rows (persons or person-occasions) used in the fit.
    distinguishable : bool
        Whether roles distinguish the two members of every dyad.
    roles : list of str
        The role values, as strings, in the order used.
    estimation : str
        ``"ML"``, ``"REML"`` or another method's name.
    variance_components : pandas.DataFrame
        Columns ``name, role, estimate`` (and more where a model has them).
    fit : dict
        ``loglik, aic, bic, n_params, converged`` and model-specific entries.
    tests : list of dict
        ``name, statistic, df, p`` of the tests the model reports.
    warnings : list of str
        Everything the user should know about this fit.
    level : float
        The confidence level of ``ci_low`` / ``ci_high``.
    call : dict
        The arguments of the call, for reproducibility (the JSON's last key, ``call``;
        REML or ML is ``estimator``).
    extra : mapping
        Model-specific JSON-ready fields, placed in ``to_dict()`` after ``estimates``;
        read-only. Read them through the subclass's typed attributes (``ApimResult.k``,
        ``DiaryResult.excluded``, …): item access (``res.extra["k"]``) is kept for older
        code only.
    r_call : str or None
        The R call whose numbers this result reproduces (the JSON's ``reproduces`` where
        a model gives it), or None.

    The result is frozen: ``res.n_obs = 3`` raises ``FrozenInstanceError``; derive a
    changed copy with :func:`dataclasses.replace`.
    """

    model: str
    estimates: pd.DataFrame
    n_dyads: int
    n_obs: int
    distinguishable: bool
    roles: list[str]
    estimation: str
    variance_components: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=VARIANCE_COLUMNS)
    )
    fit: dict[str, Any] = field(default_factory=dict)
    tests: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    level: float = 0.95
    call: dict[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", ReadOnlyMapping(self.extra))

    @property
    def r_call(self) -> str | None:
        """The R call whose numbers this result reproduces, or None where none is named."""
        call = self.extra.get("reproduces")
        return None if call is None else str(call)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict that ``dyadlab <model> --json`` prints."""
        from dyadlab import __version__

        out: dict[str, Any] = {
            "model": self.model,
            "dyadlab_version": __version__,
            "n_dyads": int(self.n_dyads),
            "n_obs": int(self.n_obs),
            "distinguishable": bool(self.distinguishable),
            "roles": [str(r) for r in self.roles],
            "estimation": self.estimation,
            "estimates": jsonable(self.estimates[ESTIMATE_COLUMNS]),
        }
        for key, value in self.extra.items():
            out[key] = jsonable(value)
        out["tests"] = jsonable(self.tests)
        out["variance_components"] = jsonable(self.variance_components)
        out["fit"] = jsonable(self.fit)
        out["warnings"] = [str(w) for w in self.warnings]
        out["call"] = jsonable(self.call)
        return out

    def to_json(self, **kwargs: Any) -> str:
        """Return :meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), **kwargs)

    def summary(self) -> str:
        """Return a readable text table of the estimates, tests and fit."""
        lines = [
            f"dyadlab {self.model} — {self.estimation}, {self.n_dyads} dyads, {self.n_obs} rows, "
            + ("distinguishable" if self.distinguishable else "indistinguishable")
            + (f" (roles: {', '.join(self.roles)})" if self.roles else ""),
            "",
        ]
        pct = f"{self.level:.0%}"
        header = ["effect", "predictor", "role", "estimate", "se", "stat", "p", f"{pct} CI"]
        table = []
        for r in self.estimates.itertuples(index=False):
            table.append(
                [
                    str(r.effect),
                    _label(r.predictor),
                    _label(r.role),
                    _fmt(r.estimate),
                    _fmt(r.se),
                    _fmt(r.statistic, 2),
                    _fmt(r.p),
                    f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
                ]
            )
        widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        for row in table:
            lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
        if len(self.variance_components):
            lines += ["", "Variance components:"]
            for vc in self.variance_components.itertuples(index=False):
                role = "" if vc.role is None else f" [{vc.role!s}]"
                lines.append(f"  {vc.name!s}{role}: {_fmt(vc.estimate, 4)}")
        if self.tests:
            lines += ["", "Tests:"]
            for t in self.tests:
                lines.append(
                    f"  {t['name']}: statistic = {_fmt(t.get('statistic'))}, "
                    f"df = {_fmt(t.get('df'), 0)}, p = {_fmt(t.get('p'))}"
                )
        if self.fit:
            shown = ", ".join(
                f"{k} = {_fmt(v) if isinstance(v, float) else str(v)}" for k, v in self.fit.items()
            )
            lines += ["", f"Fit: {shown}"]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def report(
        self,
        path: str | Path,
        *,
        title: str | None = None,
        data_path: str | Path | None = None,
        figures_dir: str | Path | None = None,
    ) -> Path:
        """Write a self-contained HTML report of this result and return its path.

        The report holds the summary, the estimates, the variance components, the tests
        and, where the model has one, its plot; its footer gives dyadlab's version, the
        data file's SHA-256 (when ``data_path`` is given), the call and the date.

        Examples
        --------
        >>> res.report("apim.html", data_path="couples.csv")  # doctest: +SKIP
        """
        write = present("result_report", "write_result_report")
        return Path(write(self, path, title=title, data_path=data_path, figures_dir=figures_dir))

    def table(
        self,
        *,
        style: str = "apa",
        format: str = "html",
        labels: Mapping[Any, str] | None = None,
        title: str | None = None,
        number: int | None = None,
        path: str | Path | None = None,
    ) -> Any:
        """Return this result's publication table (APA 7) as text, or Word bytes.

        ``format`` is ``"html"``, ``"markdown"``, ``"latex"`` (booktabs), ``"csv"`` (the
        unrounded numbers) or ``"docx"`` (bytes; needs ``pip install
        'dyadlab[publish]'``). ``labels`` names roles and variables, e.g.
        ``{-1: "wife", 1: "husband"}``. With ``path`` the table is written there and the
        path is returned. See :func:`dyadlab.report.publish.result_table`.

        Examples
        --------
        >>> res.table(format="latex", labels={-1: "wife", 1: "husband"})  # doctest: +SKIP
        """
        make = present("publish", "result_table")
        return make(
            self,
            style=style,
            format=format,
            labels=labels,
            title=title,
            number=number,
            path=path,
        )

    def _repr_html_(self) -> str:
        return str(present("publish", "result_table")(self, format="html"))
