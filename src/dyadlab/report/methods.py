"""A methods paragraph per model, and the works it cites, for a researcher to adapt.

:func:`methods_paragraph` describes what was fitted — the model, the estimator, the
residual structure, N — in the words of a methods section, citing the papers that
introduced the model and the R implementation whose numbers dyadlab reproduces.

Examples
--------
>>> import dyadlab as dl
>>> res = dl.apim(dl.simulate_apim(50, rng=1), y="y", x="x", dyad="dyad", role="role")
>>> text, refs = methods_paragraph(res)
>>> text[:62]
'We estimated the actor–partner interdependence model (APIM; Ke'
>>> refs[0][:40]
'Kenny, D. A., Kashy, D. A., & Cook, W. L'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dyadlab.report.apa_labels import Labels

__all__ = ["REFERENCES", "methods_paragraph"]

#: the works the paragraphs cite, in APA 7 style
REFERENCES = {
    "kkc": "Kenny, D. A., Kashy, D. A., & Cook, W. L. (2006). Dyadic data analysis. "
    "Guilford Press.",
    "kl": "Kenny, D. A., & Ledermann, T. (2010). Detecting, measuring, and testing dyadic "
    "patterns in the actor–partner interdependence model. Journal of Family Psychology, "
    "24(3), 359–366. https://doi.org/10.1037/a0019651",
    "lavaan": "Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. "
    "Journal of Statistical Software, 48(2), 1–36. https://doi.org/10.18637/jss.v048.i02",
    "nlme": "Pinheiro, J. C., & Bates, D. M. (2000). Mixed-effects models in S and S-PLUS. "
    "Springer. https://doi.org/10.1007/b98882",
    "lme4": "Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear "
    "mixed-effects models using lme4. Journal of Statistical Software, 67(1), 1–48. "
    "https://doi.org/10.18637/jss.v067.i01",
    "lb": "Laurenceau, J.-P., & Bolger, N. (2005). Using diary methods to study marital "
    "and family processes. Journal of Family Psychology, 19(1), 86–97. "
    "https://doi.org/10.1037/0893-3200.19.1.86",
    "wk": "West, T. V., & Kenny, D. A. (2011). The truth and bias model of judgment. "
    "Psychological Review, 118(2), 357–378. https://doi.org/10.1037/a0022936",
    "lmk": "Ledermann, T., Macho, S., & Kenny, D. A. (2011). Assessing mediation in dyadic "
    "data using the actor–partner interdependence model. Structural Equation Modeling, "
    "18(4), 595–612. https://doi.org/10.1080/10705511.2011.607099",
    "ok": "Olsen, J. A., & Kenny, D. A. (2006). Structural equation modeling with "
    "interchangeable dyads. Psychological Methods, 11(2), 127–141. "
    "https://doi.org/10.1037/1082-989X.11.2.127",
    "lumley": "Lumley, T. (2010). Complex surveys: A guide to analysis using R. Wiley. "
    "https://doi.org/10.1002/9780470580066",
    "sf": "Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: Uses in assessing "
    "rater reliability. Psychological Bulletin, 86(2), 420–428. "
    "https://doi.org/10.1037/0033-2909.86.2.420",
    "bq": "Bakeman, R., & Quera, V. (2011). Sequential analysis and observational methods "
    "for the behavioral sciences. Cambridge University Press.",
}


def _n(result: Any) -> str:
    extra = result.extra if isinstance(result.extra, Mapping) else {}
    persons = extra.get("n_persons")
    if persons is not None:
        return f"{result.n_dyads} dyads ({persons} persons, {result.n_obs} observations)"
    if result.model in ("apim", "apim_mediation", "nonindependence"):
        return f"{result.n_dyads} dyads ({result.n_obs} persons)"
    return f"{result.n_dyads} dyads ({result.n_obs} observations)"


def _roles(result: Any, names: Labels) -> str:
    if not result.distinguishable or not result.roles:
        return "for indistinguishable dyads (pooled effects)"
    return "separately for " + " and ".join(names.role(r) for r in result.roles)


def _xs(result: Any, names: Labels) -> str:
    xs = result.call.get("x") or []
    xs = [xs] if isinstance(xs, str) else list(xs)
    return ", ".join(names.var(x) for x in xs) or "the predictor"


def methods_paragraph(
    result: Any, *, labels: Mapping[Any, str] | None = None
) -> tuple[str, list[str]]:
    """A methods paragraph describing ``result`` and the references it cites.

    Returns ``("", [])`` for a model without a paragraph of its own.
    """
    names = Labels(labels)
    model = result.model
    y = names.var(result.call.get("y", "the outcome"))
    level = f"{result.level:.0%}"
    keys: list[str] = []
    if model == "apim":
        method = result.call.get("method")
        keys = ["kkc", "kl"]
        if method == "sem":
            how = (
                "as a structural equation model estimated by maximum likelihood (the "
                "estimates equal lavaan's; Rosseel, 2012)"
            )
            keys.append("lavaan")
            if not result.distinguishable:
                how += (
                    ", with the equality constraints for indistinguishable dyads of Olsen "
                    "and Kenny (2006)"
                )
                keys.append("ok")
        else:
            how = (
                "as a multilevel model with compound-symmetric residuals within dyads, "
                f"estimated by {result.estimation} (the estimates equal nlme::gls; "
                "Pinheiro & Bates, 2000)"
            )
            keys.append("nlme")
        text = (
            "We estimated the actor–partner interdependence model (APIM; Kenny, Kashy, & "
            f"Cook, 2006) {how}. Each partner's {y} was regressed on their own "
            f"{_xs(result, names)} (actor effect) and their partner's (partner effect), "
            f"{_roles(result, names)}; the partners' residuals were allowed to correlate. "
            "The dyadic pattern was described by k, the ratio of the partner to the actor "
            f"effect (Kenny & Ledermann, 2010), with {level} confidence intervals. The "
            f"analysis used {_n(result)}."
        )
    elif model == "diary" and result.estimation == "Laplace":
        family = str(result.extra.get("family", "binomial"))
        link = str(result.extra.get("link", "logit"))
        keys = ["kkc", "lb", "lme4"]
        text = (
            "We fitted a two-intercept dyadic generalised linear mixed model (Kenny, Kashy, "
            f"& Cook, 2006; Laurenceau & Bolger, 2005) with a {family} distribution and "
            f"{link} link to the daily {y}: actor and partner effects of "
            f"{_xs(result, names)} {_roles(result, names)}, and correlated random "
            "intercepts of the two partners. The model was estimated by maximum "
            "likelihood with the Laplace approximation (the estimates equal lme4::glmer; "
            f"Bates et al., 2015). The analysis used {_n(result)}."
        )
    elif model == "diary":
        residual = {
            "cs": "the partners' residuals correlated within a day",
            "ar1": "first-order autoregressive residuals over days within person",
            "kronecker": "residuals correlated between partners and over days (AR(1))",
        }.get(str(result.extra.get("residual", "cs")), "correlated residuals")
        center = result.extra.get("center")
        centering = (
            " Predictors were centred on each person's mean (within-person effects) and the "
            "person means on the grand mean (between-person effects)."
            if center == "person"
            else ""
        )
        keys = ["kkc", "lb", "nlme"]
        text = (
            "We fitted a two-intercept dyadic multilevel model (Kenny, Kashy, & Cook, 2006; "
            f"Laurenceau & Bolger, 2005) to the daily {y}, with actor and partner effects of "
            f"{_xs(result, names)} {_roles(result, names)}, correlated random intercepts of "
            f"the two partners, and {residual}.{centering} The model was estimated by "
            f"{result.estimation} (the estimates equal nlme::lme; Pinheiro & Bates, 2000). "
            f"The analysis used {_n(result)}."
        )
    elif model == "truth_bias":
        judgment = names.var(result.call.get("judgment", "the judgment"))
        truth = names.var(result.call.get("truth", "the truth"))
        keys = ["wk", "nlme"]
        text = (
            "We fitted the truth and bias model of judgment (West & Kenny, 2011): each "
            f"person's {judgment} of their partner was regressed on the partner's own "
            f"{truth} (truth force) and the judge's own {truth} (assumed similarity), "
            f"{_roles(result, names)}, with judgment and truth centred on the mean of "
            f"{truth} so that the intercept is the directional bias. The model was "
            f"estimated by {result.estimation} (the estimates equal nlme; Pinheiro & Bates, "
            f"2000). The analysis used {_n(result)}."
        )
    elif model == "nonindependence":
        keys = ["kkc"]
        how = (
            "the Pearson correlation between the two partners' scores"
            if result.distinguishable
            else "the pairwise intraclass correlation"
        )
        text = (
            f"Nonindependence was assessed by {how} (Kenny, Kashy, & Cook, 2006, ch. 2)"
            + (
                ", and whether the roles distinguish the partners by the omnibus test of "
                "equal means, variances and covariances (ch. 6)"
                if any(t.get("name") == "distinguishability" for t in result.tests)
                else ""
            )
            + f". The analysis used {_n(result)}."
        )
    elif model == "apim_mediation":
        boot = result.call.get("bootstrap")
        keys = ["lmk", "lavaan"]
        text = (
            "We estimated the APIM mediation model (Ledermann, Macho, & Kenny, 2011) by "
            "maximum likelihood (the estimates equal lavaan's; Rosseel, 2012), with "
            + (
                f"percentile bootstrap confidence intervals ({boot} resamples of dyads) "
                if boot
                else "delta-method confidence intervals "
            )
            + f"for the indirect effects. The analysis used {_n(result)}."
        )
    elif model.startswith("survey"):
        keys = ["lumley"]
        text = (
            "Estimates and their standard errors take the survey design into account "
            "(weights, strata and clusters; Lumley, 2010); the numbers equal those of the "
            f"R package survey. The analysis used {result.n_obs} observations."
        )
    elif model.startswith("observe_icc") or model == "icc":
        keys = ["sf"]
        text = (
            "Inter-rater reliability was assessed by intraclass correlations "
            "(Shrout & Fleiss, 1979)."
        )
    elif "sequential" in model:
        keys = ["bq"]
        text = (
            "Sequential dependencies between codes were described by transitional "
            "probabilities, adjusted residuals and Yule's Q (Bakeman & Quera, 2011)."
        )
    else:
        return "", []
    return text, [REFERENCES[k] for k in keys]
