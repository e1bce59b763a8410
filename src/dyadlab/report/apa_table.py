"""APA 7 tables of any dyadlab result, and of several results side by side.

:func:`apa_table` turns a result into an :class:`ApaTable`: labelled columns (*b*,
*SE*, 95% CI, *t* or *z*, *df*, *p*; *OR* / *IRR* for a binomial or Poisson model),
rows grouped by effect (intercepts, actor, partner, k, variance components, fit), role
labels from ``labels=``, and notes under the table (N, estimator, rows left out, the
tests, the R call the numbers reproduce). :func:`compare_table` puts several results in
one table, one column per model, as R's ``modelsummary`` does. The table is rendered by
:mod:`dyadlab.report.apa_render` as HTML, Word, LaTeX, Markdown or CSV; every cell keeps
the unrounded number it shows (``ApaTable.frame()``), which is what the CSV holds.

Examples
--------
>>> import dyadlab as dl
>>> from dyadlab.data.datasets import load_acitelli
>>> res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid",
...               role="gender")
>>> table = apa_table(res, labels={-1: "wife", 1: "husband"})
>>> [g.title for g in table.groups][:3]
['Intercepts', 'Actor effects', 'Partner effects']
>>> row = table.groups[2].rows[0]
>>> row.label, row.cells["p"]
('tension, husband → wife', '.003')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dyadlab.report.apa_format import (
    decimals_for,
    format_df,
    format_number,
    format_p,
    is_number,
    stars,
)
from dyadlab.report.apa_labels import (
    Labels,
    effect_title,
    fit_label,
    is_bounded,
    variance_label,
)

__all__ = [
    "ApaGroup",
    "ApaRow",
    "ApaTable",
    "Column",
    "apa_table",
    "compare_table",
    "reproduces",
    "standardized_effects",
]


@dataclass(frozen=True)
class Column:
    """A table column: its key, its header text and whether the header is italic (APA
    italicises statistical symbols: *b*, *SE*, *t*, *p*)."""

    key: str
    header: str
    italic: bool = False


@dataclass
class ApaRow:
    """One row: its label, the formatted cells by column key and the raw numbers."""

    label: str
    cells: dict[str, str]
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApaGroup:
    """Rows under a heading (``Actor effects``, ``Variance components`` …)."""

    title: str
    rows: list[ApaRow]


@dataclass
class ApaTable:
    """A publication table: title, columns, grouped rows and notes.

    ``stub`` is the header of the first (label) column. Render it with
    :func:`dyadlab.report.apa_render.render_table`, or ``.to_html()``,
    ``.to_markdown()``, ``.to_latex()``, ``.to_csv()``, ``.to_docx()``.
    """

    title: str
    columns: list[Column]
    groups: list[ApaGroup]
    notes: list[str] = field(default_factory=list)
    stub: str = "Effect"
    number: int | None = None

    def frame(self) -> pd.DataFrame:
        """The raw numbers behind the table, one row per table row (what the CSV holds)."""
        records = []
        for group in self.groups:
            for row in group.rows:
                records.append({"group": group.title, "label": row.label, **row.raw})
        return pd.DataFrame.from_records(records)

    def _render(self, fmt: str) -> Any:
        from dyadlab.report.apa_render import render_table

        return render_table(self, fmt)

    def to_html(self) -> str:
        """The table as an HTML fragment (a ``<figure>`` with caption, table and note)."""
        return str(self._render("html"))

    def to_markdown(self) -> str:
        """The table as a Markdown pipe table with its title and note."""
        return str(self._render("markdown"))

    def to_latex(self) -> str:
        """The table as a LaTeX ``table`` with ``booktabs`` rules."""
        return str(self._render("latex"))

    def to_csv(self) -> str:
        """The unrounded numbers as CSV."""
        return str(self._render("csv"))

    def to_docx(self) -> bytes:
        """The table as a Word document (.docx bytes)."""
        out = self._render("docx")
        assert isinstance(out, bytes)
        return out

    def _repr_html_(self) -> str:
        return self.to_html()


_EST_LABEL = {
    "nonindependence": ("r", True),
}


def _stat_column(est: pd.DataFrame, model: str = "") -> Column:
    if model == "observe_icc":  # Shrout & Fleiss: the F test of each ICC
        return Column("statistic", "F", italic=True)
    has_df = bool(est["df"].notna().any()) if "df" in est.columns else False
    return Column("statistic", "t" if has_df else "z", italic=True)


def _ratio_rows(result: Any) -> tuple[str, dict[tuple[Any, Any, Any], dict[str, Any]]]:
    for key, name in (("odds_ratios", "OR"), ("rate_ratios", "IRR")):
        rows = result.extra.get(key) if isinstance(result.extra, Mapping) else None
        if rows:
            return name, {(r.get("effect"), r.get("predictor"), r.get("role")): r for r in rows}
    return "", {}


def _other_role(roles: Sequence[str], role: Any) -> str | None:
    rs = [str(r) for r in roles]
    if len(rs) == 2 and str(role) in rs:
        return rs[1 - rs.index(str(role))]
    return None


def _row_label(result: Any, row: Any, names: Labels) -> str:
    effect = str(row.effect)
    predictor = None if _missing(row.predictor) else names.var(row.predictor)
    role = None if _missing(row.role) else str(row.role)
    group = getattr(row, "group", None)
    # truth and bias: the group names the effect; its predictor columns are internal names
    base = "" if result.model == "truth_bias" or not predictor else predictor
    if role is not None:
        other = _other_role(result.roles, role)
        if effect.startswith("partner") and other is not None and result.model != "apim_mediation":
            who = f"{names.role(other)} → {names.role(role)}"
        else:
            who = names.role(role)
        base = f"{base}, {who}" if base else who
    if not _missing(group):
        base = f"{base} ({group})" if base else str(group)
    return base or ("All" if effect == "intercept" else effect_title(effect))


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def reproduces(result: Any) -> str:
    """The R call whose numbers ``result`` reproduces, or ``""`` when not known."""
    extra = result.extra if isinstance(result.extra, Mapping) else {}
    if extra.get("reproduces"):
        return str(extra["reproduces"])
    model, method = result.model, str(result.call.get("method", ""))
    if model == "apim":
        if method == "sem":
            return 'lavaan::sem(..., estimator = "ML")' + (
                "" if result.distinguishable else " with equality constraints (Olsen & Kenny, 2006)"
            )
        if result.distinguishable:
            return (
                "nlme::gls(y ~ 0 + role + role:x + role:x_partner, correlation = "
                "corCompSymm(form = ~1 | dyad), weights = varIdent(form = ~1 | role), "
                'method = "REML")'
            )
        return (
            "nlme::gls(y ~ x + x_partner, correlation = corCompSymm(form = ~1 | dyad), "
            'method = "REML")'
        )
    if model == "apim_mediation":
        return 'lavaan::sem(model, estimator = "ML", se = "standard")'
    if model == "truth_bias":
        return "nlme::lme / nlme::gls with judgment and truth centred on the mean of truth"
    if model == "nonindependence":
        return "cor.test() per variable; the distinguishability test as a lavaan::sem() comparison"
    return ""


def _n_text(result: Any) -> str:
    extra = result.extra if isinstance(result.extra, Mapping) else {}
    persons = extra.get("n_persons")
    if str(result.model).startswith("survey"):
        return f"N = {result.n_obs} respondents"
    if not result.n_dyads:
        return f"N = {result.n_obs} observations"
    if result.model in ("apim", "apim_mediation", "nonindependence") and persons is None:
        return f"N = {result.n_dyads} dyads ({result.n_obs} persons)"
    if persons is not None:
        return f"N = {result.n_dyads} dyads, {persons} persons, {result.n_obs} observations"
    return f"N = {result.n_dyads} dyads, {result.n_obs} observations"


def _left_out(result: Any) -> str:
    extra = result.extra if isinstance(result.extra, Mapping) else {}
    parts = []
    dropped = extra.get("n_rows_dropped") or extra.get("n_dyads_dropped")
    if dropped:
        unit = "dyads" if "n_dyads_dropped" in extra else "rows"
        parts.append(f"{dropped} {unit} left out for missing values")
    per_variable = extra.get("n_excluded_dyads")  # nonindependence: dyads per variable
    if isinstance(per_variable, dict):
        why = [f"{v}: {n}" for v, n in per_variable.items() if n]
        if why:
            parts.append("dyads left out for a missing value (" + ", ".join(why) + ")")
    excluded = extra.get("excluded")
    if isinstance(excluded, dict):
        why = [f"{n} ({k.replace('_', ' ')})" for k, n in excluded.items() if n]
        if why:
            parts.append("rows left out: " + ", ".join(why))
    return "; ".join(parts)


def _test_text(test: Mapping[str, Any]) -> str:
    name = str(test.get("name", "test")).replace("_", " ")
    method = {"likelihood_ratio": "LR", "wald": "Wald"}.get(str(test.get("method", "")), "")
    if is_number(test.get("df2")):  # an F test
        stat = f"F({format_df(test.get('df'))}, {format_df(test.get('df2'))})"
    else:
        stat = "χ²" + (f"({format_df(test.get('df'))})" if is_number(test.get("df")) else "")
    value = format_number(test.get("statistic"), 2)
    label = f"{name} ({method})" if method else name
    return f"{label}, {stat} = {value}, p {_p_relation(test.get('p'))}"


def _p_relation(p: Any) -> str:
    text = format_p(p)
    return text if text.startswith(("<", ">")) else f"= {text}"


#: models whose actor and partner effects get a standardised β when the data are given
_BETA_MODELS = ("apim", "diary")


def standardized_effects(result: Any, data: pd.DataFrame) -> dict[tuple[str, str, Any], float]:
    """β = b × SD(x) / SD(y) of the actor and partner effects of an APIM or Gaussian diary
    model, keyed by ``(effect, predictor, role)``.

    The SDs are those of each role's scores in ``data`` (for a partner effect, x's SD
    among the partners), over all the dyads' persons or person-occasions; pooled over
    both members for indistinguishable dyads. With complete data this is lavaan's
    ``std.all`` for the distinguishable APIM. Empty for other models (and for the
    binomial or Poisson diary model, whose link scale has no β).

    Examples
    --------
    >>> import dyadlab as dl
    >>> df = dl.simulate_apim(80, rng=1)
    >>> res = dl.apim(df, y="y", x="x", dyad="dyad", role="role")
    >>> beta = standardized_effects(res, df)
    >>> b = float(res.estimates.query("effect == 'actor' and role == 'wife'")["estimate"].iloc[0])
    >>> sd = df.groupby("role")[["x", "y"]].std()
    >>> expected = b * sd.loc["wife", "x"] / sd.loc["wife", "y"]
    >>> bool(abs(beta[("actor", "x", "wife")] - expected) < 1e-12)
    True
    """
    extra = result.extra if isinstance(result.extra, Mapping) else {}
    if result.model not in _BETA_MODELS or extra.get("family") not in (None, "gaussian"):
        return {}
    y, role = result.call.get("y"), result.call.get("role")
    if y is None or y not in data.columns:
        return {}
    roles = data[role].astype(str) if role is not None and role in data.columns else None
    out: dict[tuple[str, str, Any], float] = {}
    for row in result.estimates.itertuples(index=False):
        effect, x = str(row.effect), row.predictor
        if effect not in ("actor", "partner") or _missing(x) or str(x) not in data.columns:
            continue
        if result.distinguishable and roles is not None and not _missing(row.role):
            own = roles == str(row.role)
            sd_y = data.loc[own, y].std()
            sd_x = data.loc[own if effect == "actor" else ~own, str(x)].std()
        else:
            sd_y, sd_x = data[y].std(), data[str(x)].std()
        if is_number(sd_y) and is_number(sd_x) and sd_y > 0:
            key_role = None if _missing(row.role) else str(row.role)
            out[(effect, str(x), key_role)] = float(row.estimate) * float(sd_x) / float(sd_y)
    return out


def _estimate_header(result: Any) -> Column:
    if result.model == "nonindependence":
        return Column("estimate", "r", italic=True)
    if result.model in ("apim", "diary", "truth_bias", "apim_mediation", "survey_glm"):
        return Column("estimate", "b", italic=True)
    return Column("estimate", "Estimate")


def apa_table(
    result: Any,
    *,
    labels: Mapping[Any, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    data: pd.DataFrame | None = None,
) -> ApaTable:
    """The APA 7 table of a dyadlab result.

    Parameters
    ----------
    result : ModelResult
        Any dyadlab model's result (APIM, diary, GLMM, truth and bias,
        nonindependence, mediation, survey, observation, physiology).
    labels : mapping, optional
        Display names for roles and variables, e.g. ``{-1: "wife", 1: "husband",
        "tension": "Tension"}``; keys are compared as strings.
    title : str, optional
        The table's title (default: from the model and its outcome).
    number : int, optional
        The table's number ("Table 1").
    data : DataFrame, optional
        The data the model was fitted to: adds the standardised effects (β column) of
        an APIM or Gaussian diary model, see :func:`standardized_effects`.

    Returns
    -------
    ApaTable
        Groups in the order of the result's ``effect`` column, then k (APIM),
        variance components and fit; notes with N, the estimator, rows left out,
        the tests and the R call reproduced.

    Examples
    --------
    >>> import dyadlab as dl
    >>> res = dl.apim(dl.simulate_apim(50, rng=1), y="y", x="x", dyad="dyad", role="role")
    >>> t = apa_table(res)
    >>> [c.header for c in t.columns]
    ['b', 'SE', '95% CI', 'z', 'p']
    """
    names = Labels(labels)
    est = result.estimates.copy()
    has_df = "df" in est.columns and bool(est["df"].notna().any())
    ratio_name, ratios = _ratio_rows(result)
    betas = standardized_effects(result, data) if data is not None else {}
    pct = f"{result.level:.0%}"
    columns = [
        _estimate_header(result),
        Column("se", "SE", italic=True),
        Column("ci", f"{pct} CI"),
    ]
    if betas:
        columns.append(Column("beta", "β"))
    if ratio_name:
        columns.append(Column("ratio", ratio_name, italic=True))
    columns.append(_stat_column(est, str(result.model)))
    if has_df:
        columns.append(Column("df", "df", italic=True))
    columns.append(Column("p", "p", italic=True))

    groups: dict[str, ApaGroup] = {}
    for row in est.itertuples(index=False):
        effect = str(row.effect)
        bounded = is_bounded(effect)
        d = decimals_for(row.se, row.estimate)
        lz = not bounded

        def num(v: Any, d: int = d, lz: bool = lz) -> str:
            return format_number(v, d, leading_zero=lz)

        cells = {
            "estimate": num(row.estimate),
            "se": format_number(row.se, d),
            "ci": f"[{num(row.ci_low)}, {num(row.ci_high)}]" if is_number(row.ci_low) else "",
            "statistic": format_number(row.statistic, 2),
            "df": format_df(row.df),
            "p": format_p(row.p),
        }
        raw = {
            "effect": effect,
            "predictor": None if _missing(row.predictor) else str(row.predictor),
            "role": None if _missing(row.role) else str(row.role),
            "estimate": row.estimate,
            "se": row.se,
            "ci_low": row.ci_low,
            "ci_high": row.ci_high,
            "statistic": row.statistic,
            "df": row.df,
            "p": row.p,
        }
        beta = betas.get((effect, raw["predictor"], raw["role"]))
        if beta is not None:
            cells["beta"] = format_number(beta, 2)
            raw["beta"] = beta
        if ratio_name:
            key = (effect, raw["predictor"], raw["role"])
            r = ratios.get(key)
            if r is not None:
                cells["ratio"] = format_number(r.get("ratio"), max(2, d))
                raw["ratio"] = r.get("ratio")
        group = groups.setdefault(effect, ApaGroup(effect_title(effect), []))
        group.rows.append(ApaRow(_row_label(result, row, names), cells, raw))
    out = list(groups.values())

    extra = result.extra if isinstance(result.extra, Mapping) else {}
    k_rows = extra.get("k")
    if isinstance(k_rows, pd.DataFrame):
        k_rows = k_rows.to_dict("records")
    if k_rows:
        rows = []
        for k in k_rows:
            d = decimals_for(k.get("se"), k.get("estimate"))
            who = "" if _missing(k.get("role")) else f", {names.role(k['role'])}"
            ci = (
                f"[{format_number(k.get('ci_low'), d)}, {format_number(k.get('ci_high'), d)}]"
                if is_number(k.get("ci_low"))
                else ""
            )
            rows.append(
                ApaRow(
                    f"{names.var(k.get('predictor'))}{who}",
                    {
                        "estimate": format_number(k.get("estimate"), d),
                        "se": format_number(k.get("se"), d),
                        "ci": ci,
                    },
                    {
                        "effect": "k",
                        "predictor": k.get("predictor"),
                        "role": k.get("role"),
                        "estimate": k.get("estimate"),
                        "se": k.get("se"),
                        "ci_low": k.get("ci_low"),
                        "ci_high": k.get("ci_high"),
                    },
                )
            )
        out.append(ApaGroup("k = partner / actor", rows))

    vc = result.variance_components
    if vc is not None and len(vc):
        rows = []
        for comp in vc.to_dict("records"):
            value = comp.get("estimate")
            if not is_number(value):
                continue
            name = str(comp.get("name"))
            bounded = is_bounded(name)
            d = 2 if bounded else decimals_for(None, value, minimum=2)
            d = max(d, 2)
            lz = not bounded
            role = comp.get("role")
            label = variance_label(name)
            if not _missing(role):
                label = f"{label}, {names.role(role)}"
            ci = ""
            if is_number(comp.get("ci_low")) and is_number(comp.get("ci_high")):
                ci = (
                    f"[{format_number(comp['ci_low'], d, leading_zero=lz)}, "
                    f"{format_number(comp['ci_high'], d, leading_zero=lz)}]"
                )
            rows.append(
                ApaRow(
                    label,
                    {"estimate": format_number(value, d, leading_zero=lz), "ci": ci},
                    {
                        "effect": "variance_component",
                        "predictor": name,
                        "role": None if _missing(role) else str(role),
                        "estimate": value,
                        "ci_low": comp.get("ci_low"),
                        "ci_high": comp.get("ci_high"),
                    },
                )
            )
        if rows:
            out.append(ApaGroup("Variance components", rows))

    fit_rows = []
    for stat in ("loglik", "aic", "bic", "n_params", "chisq", "rmsea", "cfi"):
        value = result.fit.get(stat) if isinstance(result.fit, dict) else None
        if not is_number(value):
            continue
        d = 0 if stat == "n_params" else 2
        fit_rows.append(
            ApaRow(
                fit_label(stat),
                {"estimate": format_number(value, d, leading_zero=stat not in ("rmsea", "cfi"))},
                {"effect": "fit", "predictor": stat, "estimate": value},
            )
        )
    if fit_rows:
        out.append(ApaGroup("Model fit", fit_rows))

    notes = [_n_text(result) + f"; estimator: {result.estimation}."]
    if betas:
        notes.append(
            "β = b × SD(x) / SD(y), the SDs of each role's scores"
            + ("" if result.distinguishable else " (pooled over both members)")
            + "."
        )
    if ratio_name:
        what = "odds ratio" if ratio_name == "OR" else "incidence rate ratio"
        notes.append(f"Estimates on the link scale; {ratio_name} = {what}, exp(b).")
    left = _left_out(result)
    if left:
        notes.append(left[0].upper() + left[1:] + ".")
    if result.tests:
        notes.append("Tests: " + "; ".join(_test_text(t) for t in result.tests) + ".")
    if k_rows:
        patterns = [
            f"{names.var(k.get('predictor'))}"
            + ("" if _missing(k.get("role")) else f" ({names.role(k['role'])})")
            + f": {k.get('pattern_text') or k.get('pattern')}"
            for k in k_rows
            if k.get("pattern_text") or k.get("pattern")
        ]
        if patterns:
            notes.append(
                "Pattern suggested by k (Kenny & Ledermann, 2010): " + "; ".join(patterns) + "."
            )
    call = reproduces(result)
    if call:
        notes.append(f"Reproduces R: {call}.")
    y = result.call.get("y") or result.call.get("judgment")
    default_title = _MODEL_TITLES.get(
        result.model,
        "Design-based estimates"
        if str(result.model).startswith("survey")
        else result.model.replace("_", " ").capitalize(),
    )
    if y:
        default_title += f" of {names.var(y)}"
    return ApaTable(
        title=title or default_title,
        columns=columns,
        groups=out,
        notes=notes,
        stub="Effect",
        number=number,
    )


_MODEL_TITLES = {
    "apim": "Actor–partner interdependence model",
    "diary": "Dyadic multilevel model",
    "truth_bias": "Truth and bias model",
    "nonindependence": "Nonindependence",
    "apim_mediation": "APIM mediation model",
    "observe_icc": "Intraclass correlations",
    "observe_agreement": "Agreement between coders",
    "observe_sequential": "Sequential analysis",
    "physio_concordance": "Subjective–genital concordance",
}


def compare_table(
    results: Sequence[Any] | Mapping[str, Any],
    *,
    labels: Mapping[Any, str] | None = None,
    title: str = "Models compared",
    number: int | None = None,
) -> ApaTable:
    """Several results side by side: one column per model, ``b (SE)`` with stars.

    Rows are matched by their group and label, so the same effect of two models shares
    a row; the last rows give N and the fit of each model.

    Parameters
    ----------
    results : sequence of results, or mapping name → result
        The models; unnamed ones are called "Model 1", "Model 2" …
    labels : mapping, optional
        As in :func:`apa_table`.

    Examples
    --------
    >>> import dyadlab as dl
    >>> df = dl.simulate_apim(50, rng=1)
    >>> a = dl.apim(df, y="y", x="x", dyad="dyad", role="role")
    >>> b = dl.apim(df, y="y", x="x", dyad="dyad")
    >>> t = compare_table({"Distinguishable": a, "Indistinguishable": b})
    >>> [c.header for c in t.columns]
    ['Distinguishable', 'Indistinguishable']
    """
    named = (
        dict(results)
        if isinstance(results, Mapping)
        else {f"Model {i + 1}": r for i, r in enumerate(results)}
    )
    columns = [Column(f"m{i}", name) for i, name in enumerate(named)]
    groups: dict[str, dict[str, ApaRow]] = {}
    for i, result in enumerate(named.values()):
        single = apa_table(result, labels=labels)
        for group in single.groups:
            if group.title == "Model fit":
                continue
            rows = groups.setdefault(group.title, {})
            for row in group.rows:
                target = rows.setdefault(row.label, ApaRow(row.label, {}, {}))
                value, se = row.raw.get("estimate"), row.raw.get("se")
                d = decimals_for(se, value)
                lz = not is_bounded(
                    str(row.raw.get("effect", "")) + str(row.raw.get("predictor", ""))
                )
                cell = format_number(value, d, leading_zero=lz) + stars(row.raw.get("p"))
                if is_number(se):
                    cell += f" ({format_number(se, d)})"
                target.cells[f"m{i}"] = cell
                target.raw[f"m{i}_estimate"] = value
                target.raw[f"m{i}_se"] = se
                target.raw[f"m{i}_p"] = row.raw.get("p")
    out = [ApaGroup(title, list(rows.values())) for title, rows in groups.items()]
    info = ApaGroup("Model information", [])
    for label, attr in (
        ("Dyads", "n_dyads"),
        ("Observations", "n_obs"),
        ("Log-likelihood", "loglik"),
        ("AIC", "aic"),
        ("BIC", "bic"),
    ):
        row = ApaRow(label, {}, {})
        for i, result in enumerate(named.values()):
            value = getattr(result, attr) if attr.startswith("n_") else result.fit.get(attr)
            if is_number(value):
                d = 0 if label in ("Dyads", "Observations") else 2
                row.cells[f"m{i}"] = format_number(value, d)
                row.raw[f"m{i}_estimate"] = value
        if row.cells:
            info.rows.append(row)
    if info.rows:
        out.append(info)
    estimators = "; ".join(f"{n}: {r.model}, {r.estimation}" for n, r in named.items())
    notes = [
        "Unstandardised estimates with standard errors in parentheses. "
        "* p < .05. ** p < .01. *** p < .001.",
        f"Models: {estimators}.",
    ]
    return ApaTable(title=title, columns=columns, groups=out, notes=notes, number=number)
