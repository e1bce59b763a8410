"""dl.apim() against published numbers: Garcia & Kenny's dyadic workshop, Acitelli data.

Source: RandiLGarcia/2day-dyad-workshop, ``Other Programs/R/APIM Output.txt`` (nlme
output printed to 7 digits): satisfaction on other_pos, 148 married couples, wife = -1,
husband = 1. The same numbers are the running example of Kenny, Kashy & Cook (2006).
"""

from __future__ import annotations

import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.data.datasets import load_acitelli

# published value, published SE (7 significant digits)
INDIST = {
    "intercept": (0.6697541, 0.3224381),
    "actor": (0.4004231, 0.0473141),
    "partner": (0.2879705, 0.0473141),
}
DIST = {  # (effect, role) -> value, SE; e.g. partHW = husband's X on the wife's Y
    ("intercept", "1"): (0.6904589, 0.3429034),
    ("intercept", "-1"): (0.6112485, 0.4128195),
    ("actor", "1"): (0.4243866, 0.0677157),
    ("actor", "-1"): (0.3777000, 0.0739222),
    ("partner", "1"): (0.2616498, 0.0614025),
    ("partner", "-1"): (0.3214782, 0.0815225),
}


@pytest.fixture(scope="module")
def acitelli() -> pd.DataFrame:
    return load_acitelli()


def test_indistinguishable_workshop_numbers(acitelli: pd.DataFrame) -> None:
    res = dl.apim(acitelli, y="satisfaction", x="other_pos", dyad="cuplid")
    est = res.estimates.set_index("effect")
    for effect, (value, se) in INDIST.items():
        assert est.loc[effect, "estimate"] == pytest.approx(value, abs=1e-6)
        assert est.loc[effect, "se"] == pytest.approx(se, abs=1e-6)
    vc = res.variance_components.set_index("name")["estimate"]
    assert vc["residual_correlation"] == pytest.approx(0.4693414, abs=1e-6)
    assert vc["residual_variance"] ** 0.5 == pytest.approx(0.4173659, abs=1e-6)
    assert res.fit["loglik"] == pytest.approx(-148.3591, abs=1e-4)
    assert res.fit["aic"] == pytest.approx(306.7183, abs=1e-4)
    assert res.fit["bic"] == pytest.approx(325.1191, abs=1e-4)


@pytest.mark.parametrize("method", ["mlm", "sem"])
def test_two_intercept_workshop_numbers(acitelli: pd.DataFrame, method: str) -> None:
    res = dl.apim(
        acitelli, y="satisfaction", x="other_pos", dyad="cuplid", role="gender", method=method
    )
    est = res.estimates.set_index(["effect", "role"])
    for key, (value, se) in DIST.items():
        # the SEM's ML estimates equal the REML GLS ones here (saturated model)
        assert est.loc[key, "estimate"] == pytest.approx(value, abs=1e-6)
        if method == "mlm":
            assert est.loc[key, "se"] == pytest.approx(se, abs=1e-6)
    if method == "mlm":
        assert res.fit["loglik"] == pytest.approx(-150.1108, abs=1e-4)
        assert res.fit["aic"] == pytest.approx(318.2216, abs=1e-4)
        assert res.fit["bic"] == pytest.approx(351.2505, abs=1e-4)
        vc = res.variance_components
        sd = vc[vc["name"] == "residual_variance"].set_index("role")["estimate"] ** 0.5
        assert sd["-1"] == pytest.approx(0.455478, abs=1e-6)
        assert sd["1"] / sd["-1"] == pytest.approx(0.8306377, abs=1e-6)
    vc = res.variance_components.set_index("name")["estimate"]
    assert vc["residual_correlation"] == pytest.approx(0.4751092, abs=1e-6)
