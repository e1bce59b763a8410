"""The result of a survey estimate: a ModelResult with ``group``, ``n`` and the covariance.

Rows are estimates (a mean per ``by`` group, a GLM coefficient); ``group`` is the
``by`` value as a string (None without ``by``) and ``n`` the respondents the estimate
uses. ``vcov`` is the joint design covariance of all rows, so that contrasts between
groups (:meth:`SurveyResult.contrast`) respect that groups share PSUs.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.survey.simulate_panel(600, rng=2)
>>> d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
>>> res = d.mean("loneliness", by="relationship")
>>> list(res.estimates["group"])
['man-man', 'man-woman', 'other/unknown', 'single', 'woman-woman']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab.exceptions import OptionError
from dyadlab.models._result import (
    ESTIMATE_COLUMNS,
    ModelResult,
    estimates_frame,
    jsonable,
    present,
)

__all__ = ["SURVEY_COLUMNS", "SurveyResult", "critical"]

#: ``estimates`` columns of a survey result
SURVEY_COLUMNS = [*ESTIMATE_COLUMNS, "group", "n"]


def _text(value: Any) -> str:
    """A table cell for a label or a count: empty for None and NaN."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, float | np.floating | np.integer):
        return str(int(value))
    return str(value)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


@dataclass(frozen=True)
class SurveyResult(ModelResult):
    """Design-based estimates (see :mod:`dyadlab.survey`).

    ``estimates`` has the columns of every dyadlab result plus ``group`` (the ``by``
    value as a string, or None) and ``n`` (respondents used). ``vcov`` is the joint
    design covariance of the rows of ``estimates``.
    """

    vcov: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def design(self) -> dict[str, Any]:
        """The design as used: weights, strata, clusters, fpc, df and the lonely-PSU rule."""
        return dict(self.extra.get("design", {}))

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict ``dyadlab survey … --json`` prints."""
        out = super().to_dict()
        out["estimates"] = jsonable(self.estimates[SURVEY_COLUMNS])
        return out

    def labels(self) -> list[str]:
        """One label per row: the group, or ``effect[:group]`` where that is ambiguous."""
        groups = [None if g is None or g != g else str(g) for g in self.estimates["group"]]
        effects = [str(e) for e in self.estimates["effect"]]
        preds = [str(p) for p in self.estimates["predictor"]]
        if all(g is not None for g in groups) and len(set(groups)) == len(groups):
            return [str(g) for g in groups]
        if all(g is None for g in groups):
            keys = effects if len(set(effects)) == len(effects) else preds
            return keys
        return [f"{p}:{g}" for p, g in zip(preds, groups, strict=True)]

    def contrast(
        self, weights: Mapping[str, float] | Sequence[float], *, name: str = "contrast"
    ) -> SurveyResult:
        """A linear combination of the rows with its design SE (R ``svycontrast``).

        Parameters
        ----------
        weights : mapping label -> coefficient, or one coefficient per row
            Labels as :meth:`labels` gives them (the ``by`` groups for one variable).
        name : str
            The ``effect`` of the new row.

        Examples
        --------
        >>> diff = res.contrast({"man-man": 1, "man-woman": -1})  # doctest: +SKIP
        """
        labels = self.labels()
        if isinstance(weights, Mapping):
            unknown = [k for k in weights if k not in labels]
            if unknown:
                raise OptionError(
                    f"contrast(): {unknown[0]!r} is not an estimate here; choose among "
                    f"{', '.join(repr(k) for k in labels)}."
                )
            c = np.array([float(weights.get(k, 0.0)) for k in labels])
        else:
            c = np.asarray(weights, dtype=float)
            if c.shape != (len(labels),):
                raise OptionError(
                    f"contrast(): give {len(labels)} coefficients (one per row: "
                    f"{', '.join(labels)}), not {c.size}."
                )
        est = float(c @ self.estimates["estimate"].to_numpy())
        se = float(np.sqrt(max(c @ self.vcov @ c, 0.0)))
        df = self.estimates["df"].iloc[0]
        row = {
            "effect": name,
            "predictor": " ".join(f"{v:+g}*{k}" for k, v in zip(labels, c, strict=True) if v),
            "role": None,
            "estimate": est,
            "se": se,
            "df": None if pd.isna(df) else float(df),
        }
        frame = estimates_frame([row], level=self.level)
        frame["group"] = None
        frame["n"] = np.nan
        return SurveyResult(
            model=self.model,
            estimates=frame,
            n_dyads=0,
            n_obs=self.n_obs,
            distinguishable=False,
            roles=[],
            estimation=self.estimation,
            level=self.level,
            call={**self.call, "contrast": dict(zip(labels, c.tolist(), strict=True))},
            extra=dict(self.extra),
            vcov=np.array([[se**2]]),
        )

    def suppression(self, *, min_n: int = 30, max_rse: float = 0.30) -> pd.DataFrame:
        """The estimates with ``rse`` and a ``suppress`` flag (n < min_n or RSE > max_rse).

        RSE is the relative standard error, se / |estimate|: the usual rule for
        publishing survey estimates (e.g. NCHS: suppress below 30 cases or above 30%).

        Examples
        --------
        >>> res.suppression()[["group", "n", "rse", "suppress"]]  # doctest: +SKIP
        """
        out = self.estimates.copy()
        with np.errstate(divide="ignore", invalid="ignore"):
            out["rse"] = out["se"] / out["estimate"].abs()
        few = out["n"] < min_n
        noisy = ~(out["rse"] <= max_rse)
        out["suppress"] = few | noisy
        out["reason"] = [
            "; ".join(r for r, on in ((f"n < {min_n}", f), (f"RSE > {max_rse:.0%}", s)) if on)
            or None
            for f, s in zip(few, noisy, strict=True)
        ]
        return out

    def plot(self, **kwargs: Any) -> Any:
        """A forest plot of the estimates with their CIs (``dyadlab.report.survey_plot``)."""
        return present("survey_plot", "forest_plot")(self, **kwargs)

    def report(
        self,
        path: str | Path,
        *,
        title: str | None = None,
        data_path: str | Path | None = None,
        figures_dir: str | Path | None = None,
    ) -> Path:
        """Write an HTML report: summary, forest plot, estimates with suppression flags.

        Examples
        --------
        >>> res.report("loneliness.html", data_path="panel.csv")  # doctest: +SKIP
        """
        write = present("survey_report", "write_survey_report")
        return Path(write(self, path, title=title, data_path=data_path, figures_dir=figures_dir))

    def summary(self) -> str:
        """A readable table of the estimates, tests and design."""
        design = self.extra.get("design", {})
        head = (
            f"dyadlab {self.model} — {self.estimation}; {design.get('n_obs', self.n_obs)} "
            f"respondents, {design.get('n_strata', '?')} strata, {design.get('n_psu', '?')} "
            f"PSUs, design df {design.get('df', '?')}"
        )
        pct = f"{self.level:.0%}"
        header = ["effect", "predictor", "group", "n", "estimate", "se", "df", "p", f"{pct} CI"]
        rows = []
        for r in self.estimates.itertuples(index=False):
            rows.append(
                [
                    str(r.effect),
                    "" if r.predictor is None else str(r.predictor),
                    _text(r.group),
                    _text(r.n),
                    _fmt(r.estimate),
                    _fmt(r.se),
                    _fmt(r.df, 3),
                    _fmt(r.p, 3),
                    f"[{_fmt(r.ci_low)}, {_fmt(r.ci_high)}]",
                ]
            )
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
        lines = [head, ""]
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
        if self.tests:
            lines += ["", "Tests:"]
            for t in self.tests:
                ddf = t.get("ddf")
                dfs = _fmt(t.get("df"), 3) + ("" if ddf is None else f" and {_fmt(ddf, 3)}")
                lines.append(
                    f"  {t['name']}: statistic = {_fmt(t.get('statistic'))} on {dfs} df, "
                    f"p = {_fmt(t.get('p'), 3)}"
                )
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)


def critical(df: Any, level: float) -> np.ndarray:
    """Two-sided critical values of Student's t on ``df`` (normal where df is not finite)."""
    q = 0.5 + level / 2
    d = np.asarray(df, dtype=float)
    ok = np.isfinite(d) & (d > 0)
    return np.asarray(np.where(ok, stats.t.ppf(q, np.where(ok, d, 1.0)), stats.norm.ppf(q)))
