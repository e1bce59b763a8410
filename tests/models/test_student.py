"""The pure-Python Student's t (issue 21) against SciPy, across a grid.

``dyadlab.models._student`` replaces ``scipy.special.stdtrit`` and ``nctdtr`` in the
analytic APIM power so that ``dyadlab power apim`` starts without SciPy; these tests
hold it to SciPy's values (which follow Boost) to 1e-12 wherever the power function can
take it: 1 to ~200,000 degrees of freedom, alpha from 1e-6 to 0.5, |ncp| up to 100.
"""

from __future__ import annotations

import math
import random

import pytest
from scipy import special

from dyadlab.models._student import beta_inc, t_quantile, two_sided_power

DFS = [1, 2, 3, 4, 5, 7, 10, 17, 30, 47, 97, 197, 997, 4997, 19997, 99997, 199997]
ALPHAS = [0.5, 0.2, 0.1, 0.05, 0.01, 0.001, 1e-6]
NCPS = [0.0, 1e-8, 0.3, 1.0, 2.0, 2.8, 3.5, 5.0, 8.0, 15.0, 40.0, 100.0, -2.5]


def _scipy_power(ncp: float, df: float, alpha: float) -> float:
    crit = special.stdtrit(df, 1.0 - alpha / 2.0)
    main_tail = float(special.nctdtr(df, -abs(ncp), -crit))  # the side the effect is on
    far_tail = float(special.nctdtr(df, abs(ncp), -crit))
    assert math.isfinite(main_tail), (df, alpha, ncp)
    # nctdtr gives NaN for a tail far beyond the mean, where it underflows: that is 0
    return main_tail + (far_tail if math.isfinite(far_tail) else 0.0)


@pytest.mark.parametrize("df", DFS)
def test_t_quantile_matches_scipy(df: int) -> None:
    for alpha in ALPHAS:
        expected = float(special.stdtrit(df, 1.0 - alpha / 2.0))
        assert t_quantile(df, 1.0 - alpha / 2.0) == pytest.approx(expected, rel=1e-12, abs=0)


@pytest.mark.parametrize("df", DFS)
def test_two_sided_power_matches_scipy(df: int) -> None:
    for alpha in ALPHAS:
        for ncp in NCPS:
            expected = _scipy_power(ncp, df, alpha)
            got = two_sided_power(ncp, df, alpha)
            assert got == pytest.approx(expected, abs=1e-12, rel=0), (df, alpha, ncp)


def test_two_sided_power_matches_scipy_on_random_designs() -> None:
    # the designs dl.power.apim meets: n - 3 or 2n - 3 df, any alpha, ncp ~ effect · √n
    rng = random.Random(21)
    for _ in range(300):
        n = int(10 ** rng.uniform(0.61, 4.5))
        df = rng.choice([n - 3, 2 * n - 3])
        alpha = 10 ** rng.uniform(-5.0, -0.1)
        ncp = rng.uniform(-0.8, 0.8) * math.sqrt(n)
        expected = _scipy_power(ncp, df, alpha)
        assert two_sided_power(ncp, df, alpha) == pytest.approx(expected, abs=1e-12, rel=0)


def test_power_at_no_effect_is_alpha_and_rises_with_the_effect() -> None:
    assert two_sided_power(0.0, 40, 0.05) == pytest.approx(0.05, abs=1e-14)
    powers = [two_sided_power(ncp, 40, 0.05) for ncp in (0.5, 1.0, 2.0, 4.0, 8.0)]
    assert powers == sorted(powers) and powers[-1] > 0.999
    assert two_sided_power(-2.0, 40, 0.05) == two_sided_power(2.0, 40, 0.05)


@pytest.mark.parametrize(
    ("a", "b"), [(0.5, 0.5), (2.0, 3.0), (0.5, 50.0), (50.0, 0.5), (30.5, 48.5), (400.0, 600.0)]
)
def test_beta_inc_matches_scipy(a: float, b: float) -> None:
    for x in (1e-6, 0.01, 0.1, 0.3, 0.4, 0.5, 0.6, 0.9, 0.99, 0.999999):
        expected = float(special.betainc(a, b, x))
        assert beta_inc(a, b, x) == pytest.approx(expected, rel=1e-11, abs=1e-15), x


def test_beta_inc_ends_and_closed_forms() -> None:
    assert beta_inc(2.0, 3.0, 0.0) == 0.0
    assert beta_inc(2.0, 3.0, 1.0) == 1.0
    assert beta_inc(1.0, 1.0, 0.3) == pytest.approx(0.3, rel=1e-15)
    assert t_quantile(1, 0.975) == pytest.approx(1.0 / math.tan(math.pi * 0.025), rel=1e-14)


def test_t_quantile_rejects_a_lower_tail() -> None:
    with pytest.raises(ValueError, match="must be in"):
        t_quantile(10, 0.4)
