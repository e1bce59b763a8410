"""Concordance: known r and lag recovered, AR(1)-adjusted n keeps the null at 5 %, and the
dyadic APIM goes through dl.diary."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, DyadlabWarning
from dyadlab.physio import concordance, concordance_apim, simulate_concordance
from dyadlab.physio._concordance import effective_n


def test_known_r_and_lag_are_recovered() -> None:
    data = simulate_concordance(n_dyads=20, n_epochs=120, r=0.5, lag=2, rng=1)
    res = concordance(
        data,
        subjective="subjective",
        genital="genital",
        person="person",
        dyad="dyad",
        time="epoch",
        lags=range(-3, 6),
    )
    lags = res.lags
    assert lags.loc[lags["r"].idxmax(), "lag"] == 2
    best = lags.set_index("lag").loc[2]
    assert best["ci_low"] < 0.5 < best["ci_high"]
    assert abs(best["r"] - 0.5) < 0.05
    # the headline lag is 0 by default; at lag 0 the expected r is 0.5 * phi**2 = 0.18
    within = res.estimates.set_index("effect").loc["within_r"]
    assert abs(within["estimate"] - 0.5 * 0.6**2) < 0.06
    assert res.fit["lag"] == 0
    assert len(res.persons) == 40 * 9
    assert "genital response leads" in res.to_dict()["lag_convention"]


def test_per_person_r_and_pooling_by_hand() -> None:
    data = simulate_concordance(n_dyads=3, n_epochs=50, r=0.4, rng=2)
    res = concordance(
        data, subjective="subjective", genital="genital", person="person", dyad="dyad", time="epoch"
    )
    zs, ws = [], []
    for (_, _), g in data.groupby(["dyad", "person"]):
        x, y = g["subjective"].to_numpy(), g["genital"].to_numpy()
        r = np.corrcoef(x, y)[0, 1]
        # the lag-1 autocorrelation as used in time-series analysis (full-series mean and
        # variance) differs from corrcoef of the shifted pairs by O(1/n)
        phi = [
            float(np.dot(v[1:] - v.mean(), v[:-1] - v.mean()) / np.sum((v - v.mean()) ** 2))
            for v in (x, y)
        ]
        # never more than n: a negative product would otherwise inflate n
        n_eff = min(50, 50 * (1 - phi[0] * phi[1]) / (1 + phi[0] * phi[1]))
        zs.append(np.arctanh(r))
        ws.append(n_eff - 3)
    pooled = np.sum(np.array(ws) * zs) / np.sum(ws)
    est = res.estimates.set_index("effect")
    assert est.loc["within_z", "estimate"] == pytest.approx(pooled)
    assert est.loc["within_z", "se"] == pytest.approx(1 / np.sqrt(np.sum(ws)))
    assert est.loc["within_r", "estimate"] == pytest.approx(np.tanh(pooled))
    means = data.groupby(["dyad", "person"])[["subjective", "genital"]].mean()
    assert est.loc["between_r", "estimate"] == pytest.approx(
        np.corrcoef(means["subjective"], means["genital"])[0, 1]
    )
    assert est.loc["between_r", "df"] == 4


def test_effective_n_keeps_the_false_positive_rate_near_5_percent() -> None:
    # two independent AR(1) series (phi 0.8) per person: the naive n rejects r = 0 far
    # too often, the AR(1)-adjusted n about 5 % of the time
    rng = np.random.default_rng(11)
    n, persons, phi = 150, 600, 0.8
    e = rng.standard_normal((persons, 2, n))
    x = np.empty_like(e)
    x[..., 0] = e[..., 0]
    for t in range(1, n):
        x[..., t] = phi * x[..., t - 1] + np.sqrt(1 - phi**2) * e[..., t]
    data = pd.DataFrame(
        {
            "person": np.repeat(np.arange(persons), n),
            "epoch": np.tile(np.arange(n), persons),
            "subjective": x[:, 0, :].ravel(),
            "genital": x[:, 1, :].ravel(),
        }
    )
    p = concordance(
        data, subjective="subjective", genital="genital", person="person", time="epoch"
    ).persons
    adjusted = (np.abs(p["z"] / p["se_z"]) > 1.96).mean()
    naive = (np.abs(p["z"] * np.sqrt(p["n"] - 3)) > 1.96).mean()
    assert 0.025 < adjusted < 0.085
    assert naive > 0.15
    assert effective_n(100, 0.0, 0.9) == 100


def test_bad_input() -> None:
    data = simulate_concordance(n_dyads=2, n_epochs=10, rng=0)
    with pytest.raises(DyadicDataError, match="Did you mean 'genital'"):
        concordance(
            data, subjective="subjective", genital="genitals", person="person", time="epoch"
        )
    with pytest.raises(DyadicDataError, match="two rows for one 'epoch'"):
        concordance(
            data, subjective="subjective", genital="genital", person="person", time="epoch"
        )  # person ids repeat across dyads without dyad=
    with pytest.warns(DyadlabWarning, match="at least 4 persons"):
        concordance(
            data.loc[data["dyad"] == 0],
            subjective="subjective",
            genital="genital",
            person="person",
            time="epoch",
        )


def test_dyadic_apim_is_dl_diary_on_the_person_epochs() -> None:
    data = simulate_concordance(n_dyads=20, n_epochs=40, actor=0.5, partner=0.2, rng=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = concordance_apim(
            data,
            subjective="subjective",
            genital="genital",
            dyad="dyad",
            person="person",
            time="epoch",
            role="role",
        )
        direct = dl.diary(
            data,
            y="genital",
            x="subjective",
            dyad="dyad",
            person="person",
            time="epoch",
            role="role",
            center="person",
            residual="ar1",
        )
    pd.testing.assert_frame_equal(res.estimates, direct.estimates)
    est = res.estimates.set_index(["effect", "role"])["estimate"]
    for role in ("woman", "man"):
        assert abs(est[("actor_within", role)] - 0.5) < 0.1
        assert abs(est[("partner_within", role)] - 0.2) < 0.1
    assert res.extra["concordance_outcome"] == "genital"
    with pytest.raises(DyadicDataError, match="outcome='vpa'"):
        concordance_apim(
            data,
            subjective="subjective",
            genital="genital",
            dyad="dyad",
            person="person",
            time="epoch",
            outcome="vpa",
        )
