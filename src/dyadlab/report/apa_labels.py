"""Words for the names a result uses: effects, variance components, fit, roles.

The tables, the methods paragraphs and the path diagrams label a result with these, so
``actor`` reads "Actor effects", ``varident_ratio`` reads "Residual SD ratio
(varIdent)" and the role ``-1`` reads "wife" when ``labels={-1: "wife"}`` is given.

Examples
--------
>>> effect_title("actor"), effect_title("actor:tension"), effect_title("a_actor")
('Actor effects', 'Actor × tension', 'a path, actor')
>>> Labels({-1: "wife", "tension": "Tension"}).role("-1")
'wife'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Labels", "effect_title", "fit_label", "is_bounded", "variance_label"]

_EFFECTS = {
    "intercept": "Intercepts",
    "actor": "Actor effects",
    "partner": "Partner effects",
    "actor_within": "Actor effects, within person",
    "partner_within": "Partner effects, within person",
    "actor_between": "Actor effects, between persons",
    "partner_between": "Partner effects, between persons",
    "directional_bias": "Directional bias",
    "truth": "Truth force",
    "assumed_similarity": "Assumed similarity",
    "pearson_r": "Correlation between partners",
    "icc": "Intraclass correlation",
    "pairwise_r": "Pairwise correlation",
    "a_actor": "a path, actor",
    "a_partner": "a path, partner",
    "b_actor": "b path, actor",
    "b_partner": "b path, partner",
    "direct_actor": "Direct effect, actor",
    "direct_partner": "Direct effect, partner",
    "indirect_actor_actor": "Indirect effect, actor–actor",
    "indirect_partner_partner": "Indirect effect, partner–partner",
    "indirect_actor_partner": "Indirect effect, actor–partner",
    "indirect_partner_actor": "Indirect effect, partner–actor",
    "total_indirect_actor": "Total indirect effect, actor",
    "total_indirect_partner": "Total indirect effect, partner",
    "total_actor": "Total effect, actor",
    "total_partner": "Total effect, partner",
    "cohen_kappa": "Cohen's κ",
    "fleiss_kappa": "Fleiss' κ",
    "gwet_ac1": "Gwet's AC1",
    "krippendorff_alpha": "Krippendorff's α",
    "yules_q": "Yule's Q",
    "within_z": "Within-person concordance (Fisher z)",
    "within_r": "Within-person concordance (r)",
    "between_r": "Between-person concordance (r)",
    "mean": "Means",
    "total": "Totals",
    "proportion": "Proportions",
}

_VARIANCE = {
    "residual_variance": "Residual variance",
    "residual_covariance": "Residual covariance",
    "residual_correlation": "Residual correlation",
    "sd_intercept": "SD of intercepts",
    "cor_intercepts": "Correlation of intercepts",
    "sd_residual": "Residual SD",
    "varident_ratio": "Residual SD ratio (varIdent)",
    "random_intercept_sd": "SD of random intercepts",
    "random_intercept_correlation": "Correlation of random intercepts",
    "ar1_phi": "Autocorrelation (AR1)",
    "residual_sd": "Residual SD",
}

_FIT = {
    "loglik": "Log-likelihood",
    "aic": "AIC",
    "bic": "BIC",
    "n_params": "Parameters",
    "chisq": "χ²",
    "rmsea": "RMSEA",
    "cfi": "CFI",
}

#: effects and components whose values cannot exceed 1 (printed without a leading zero)
_BOUNDED_WORDS = (
    "yules_q",
    "correlation",
    "cor_",
    "pearson_r",
    "icc",
    "pairwise_r",
    "kappa",
    "alpha",
    "ac1",
    "proportion",
    "ICC",
)


def is_bounded(name: str) -> bool:
    """Whether ``name`` (an effect or variance component) is bounded by 1 in absolute value."""
    return str(name).endswith("_r") or any(word in str(name) for word in _BOUNDED_WORDS)


def effect_title(effect: str) -> str:
    """The group heading of an ``effect`` name."""
    if effect in _EFFECTS:
        return _EFFECTS[effect]
    if ":" in effect:
        base, moderator = effect.split(":", 1)
        return f"{base.replace('_', ' ').capitalize()} × {moderator}"
    return effect.replace("_", " ").capitalize() if effect.islower() else effect


def variance_label(name: str) -> str:
    """The row label of a variance component ``name``."""
    if name in _VARIANCE:
        return _VARIANCE[name]
    for key, text in _VARIANCE.items():
        if name.startswith(key + "_"):
            return f"{text} ({name[len(key) + 1 :]})"
    if name.startswith("sd_"):
        return "SD of " + name[3:].replace("_", " ")
    if name.startswith("cor_"):
        return "Correlation of " + name[4:].replace("_", " ")
    return name.replace("_", " ").capitalize()


def fit_label(name: str) -> str:
    """The row label of a fit statistic."""
    return _FIT.get(name, name.replace("_", " "))


def _key(value: Any) -> str:
    """A label key as text; ``1.0`` (how SPSS stores the code 1) is ``"1"``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Labels:
    """Display names for roles and variables: ``labels`` maps a value to its text.

    Keys are compared as strings, so ``{-1: "wife"}`` labels the role ``"-1"``.
    """

    def __init__(self, labels: Mapping[Any, str] | None = None) -> None:
        self._map = {_key(k): str(v) for k, v in (labels or {}).items()}

    def role(self, role: Any) -> str:
        """The label of a role value (the value itself when none is given)."""
        return self._map.get(_key(role), str(role))

    def var(self, name: Any) -> str:
        """The label of a variable name."""
        return self._map.get(str(name), str(name))

    def mapping(self) -> dict[str, str]:
        """The labels as a plain dict (keys as strings)."""
        return dict(self._map)
