"""dl.power.diary against PowerLAPIM's Model 1 simulated and refitted with nlme::lme in R.

The fixture (tests/reference/power_diary.R) is R's own Monte Carlo power, so the two
estimates agree within their combined Monte Carlo error, not exactly.
"""

from __future__ import annotations

import math

import pytest

import dyadlab as dl
from tests.reference.fixtures import assert_within_mc_error, cases

CASES = cases("power_diary")
KEYS = ["actor_f", "actor_m", "partner_f", "partner_m"]


def _dyadlab_power(case):
    a = case.args
    sd_x = a["sd_x"]
    # dyadlab's x has unit variance: an effect per unit of x is an effect per SD / sd_x
    res = dl.power.diary(
        actor=(a["actor"][0] * sd_x[0], a["actor"][1] * sd_x[1]),
        partner=(a["partner"][0] * sd_x[1], a["partner"][1] * sd_x[0]),
        intercept=tuple(a["intercept"]),
        sd_intercept=tuple(a["sd_intercept"]),
        sd_residual=tuple(a["sd_residual"]),
        cor_intercepts=a["cor_intercepts"],
        r_e=a["r_e"],
        r_x=a["r_x"],
        couples=[a["couples"]],
        days=[a["days"]],
        alpha=a["alpha"],
        replications=4000,
        seed=18,
        progress=False,
    )
    row = res.grid[0]
    by_role = row["power_by_role"]
    got = [by_role["actor"][0], by_role["actor"][1], by_role["partner"][0], by_role["partner"][1]]
    n = row["replications"]
    return got, [math.sqrt(max(p * (1 - p), 1e-12) / n) for p in got]


def test_there_are_reference_cases():
    assert CASES, "tests/reference/fixtures/power_diary.json has no cases"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_power_by_role_equals_lme_simulation_within_mc_error(case):
    got, got_se = _dyadlab_power(case)
    expected = [case.expected["power"][k] for k in KEYS]
    expected_se = [case.expected["mc_se"][k] for k in KEYS]
    assert_within_mc_error(got, got_se, expected, expected_se, case, "power by role")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_zero_effect_is_significant_at_rate_alpha_in_both(case):
    # the reference's own sanity: a zero partner effect rejects at about alpha in R too
    role = {"f": 0, "m": 1}
    zero = [k for k in KEYS if case.args[k.split("_")[0]][role[k.split("_")[1]]] == 0]
    assert zero, "the reference case should include a zero effect"
    for k in zero:
        p, se = case.expected["power"][k], case.expected["mc_se"][k]
        assert abs(p - case.args["alpha"]) <= 3 * max(se, 0.007), (k, p)
