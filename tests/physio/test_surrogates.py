"""Surrogates: IAAFT keeps values and spectrum; tests find real coupling, keep their size
under independence, and pseudo-pairs keep roles for mixed-sex and ignore them for
same-sex couples."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dyadlab.exceptions import DyadicDataError
from dyadlab.physio import iaaft, pseudo_pair_test, surrogate_test
from dyadlab.physio._synchrony import synchrony

SETTINGS = {"window": 20.0, "step": 10.0, "max_lag": 3.0, "lag_step": 0.5}


def _ar1(rng: np.random.Generator, n: int, phi: float = 0.9) -> np.ndarray:
    e = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = e[0]
    for t in range(1, n):
        out[t] = phi * out[t - 1] + np.sqrt(1 - phi**2) * e[t]
    return out


def test_iaaft_keeps_values_and_spectrum_and_breaks_coupling() -> None:
    rng = np.random.default_rng(0)
    x = _ar1(rng, 2048) ** 3  # skewed values, red spectrum
    s = iaaft(x, rng=1)
    np.testing.assert_array_equal(np.sort(s), np.sort(x))
    amp_x = np.abs(np.fft.rfft(x))[1:]
    amp_s = np.abs(np.fft.rfft(s))[1:]
    assert np.corrcoef(np.log(amp_x), np.log(amp_s))[0, 1] > 0.95
    assert abs(np.corrcoef(x, s)[0, 1]) < 0.2


@pytest.mark.parametrize("method", ["circular", "segment", "iaaft"])
def test_real_coupling_is_found(method: str) -> None:
    rng = np.random.default_rng(3)
    a = _ar1(rng, 1200)
    b = np.roll(a, 10) + 0.5 * rng.standard_normal(1200)
    res = surrogate_test(a, b, 10, method=method, n=39, rng=2, **SETTINGS)
    assert res.p == pytest.approx(1 / 40)
    assert res.effect_size > 3
    d = json.loads(json.dumps(res.to_dict()))
    assert d["tests"][0]["name"] == f"{method}_surrogates"
    assert "positive lag means a leads" in d["convention"]


def test_circular_shift_test_holds_its_size_under_independence() -> None:
    rng = np.random.default_rng(4)
    ps = []
    for k in range(40):
        a, b = _ar1(rng, 800), _ar1(rng, 800)
        ps.append(surrogate_test(a, b, 10, n=19, rng=k, **SETTINGS).p)
    rate = np.mean(np.asarray(ps) <= 0.05)
    assert rate <= 0.15
    assert 0.3 < np.mean(ps) < 0.7  # p roughly uniform


def test_bad_method_and_short_series() -> None:
    a = np.arange(300.0)
    with pytest.raises(DyadicDataError, match="method='shuffle' is not allowed"):
        surrogate_test(a, a, 10, method="shuffle", **SETTINGS)
    with pytest.raises(DyadicDataError, match="too short for circular shifts"):
        surrogate_test(a, np.sin(a), 10, method="circular", n=3, **SETTINGS)


def _couples(rng: np.random.Generator, n_mixed: int, n_same: int, n: int = 600) -> dict:
    """Mixed couples: every woman shares a film-locked component W, every man M (W, M
    independent); within a couple the partners share a couple-specific signal. Pairing
    women with women across couples would look synchronous through W."""
    film_w, film_m = _ar1(rng, n), _ar1(rng, n)
    series: dict = {}
    for d in range(n_mixed):
        shared = _ar1(rng, n)
        series[f"m{d}"] = {
            "woman": shared + 1.5 * film_w + 0.5 * rng.standard_normal(n),
            "man": shared + 1.5 * film_m + 0.5 * rng.standard_normal(n),
        }
    for d in range(n_same):
        shared = _ar1(rng, n)
        series[f"w{d}"] = {
            "woman": shared + 0.5 * rng.standard_normal(n),
            "woman#2": np.roll(shared, 5) + 0.5 * rng.standard_normal(n),
        }
    return series, film_w


def test_pseudo_pairs_keep_roles_for_mixed_and_ignore_them_for_same_sex() -> None:
    rng = np.random.default_rng(5)
    series, _ = _couples(rng, n_mixed=6, n_same=5)
    res = pseudo_pair_test(series, 10, n=500, rng=1, statistic="mean_r_lag0", **SETTINGS)
    comps = {c["composition"]: c for c in res.details["compositions"]}
    assert comps["man–woman"]["roles_kept"] is True
    assert comps["woman–woman"]["roles_kept"] is False
    assert comps["man–woman"]["n_pseudo_pairs"] == 30
    assert comps["woman–woman"]["n_pseudo_pairs"] == 20
    assert res.p < 0.01 and res.effect_size > 3
    # with roles kept the null sits near zero; woman-with-woman pairs would not
    women = [series[f"m{d}"]["woman"] for d in range(6)]
    ww = np.mean(
        [
            synchrony(women[i], women[j], 10, **SETTINGS).statistic("mean_r_lag0")
            for i in range(6)
            for j in range(6)
            if i != j
        ]
    )
    assert ww > 0.4
    assert abs(np.mean(res.surrogates)) < 0.1
    assert len(res.details["dyads"]) == 11


def test_pseudo_pairs_need_two_dyads_per_composition() -> None:
    rng = np.random.default_rng(6)
    series, _ = _couples(rng, n_mixed=3, n_same=1)
    with pytest.raises(DyadicDataError, match="only one dyad of composition woman–woman"):
        pseudo_pair_test(series, 10, n=10, **SETTINGS)
    with pytest.raises(DyadicDataError, match="has 1 series"):
        pseudo_pair_test({"a": {"woman": np.zeros(10)}, "b": {}}, 10, n=10, **SETTINGS)
