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


# --- PowerLAPIM's own code (tests/reference/power_lapim.R) ---------------------------------
#
# Sim.model.Dyad.IL(Model = 1) of github.com/ginettelafit/PowerLAPIM, run unchanged at
# 8 and 12 couples x 21 days, 1,000 replications each. PowerLAPIM centres X within
# person (its Model 1 only runs that way); dyadlab's x is not centred but has no
# between-person variance (x_icc = 0), so both tests use the same within-person
# information (the uncentred x adds < 1% of between-couple information here).

LAPIM = cases("power_lapim")
LAPIM_REPS = 2000


def _lapim_power(case, *, swap=False):
    a = case.args
    sd_x = a["sd_x"]
    actor = (a["actor"][0] * sd_x[0], a["actor"][1] * sd_x[1])
    # partner effect on role 1's outcome is per unit of role 2's X, and vice versa
    partner = (a["partner"][0] * sd_x[1], a["partner"][1] * sd_x[0])
    if swap:  # a wrong mapping, to show the comparison can fail
        actor, partner = partner, actor
    res = dl.power.diary(
        actor=actor,
        partner=partner,
        intercept=tuple(a["intercept"]),
        sd_intercept=tuple(a["sd_intercept"]),
        sd_residual=tuple(a["sd_residual"]),
        cor_intercepts=a["cor_intercepts"],
        r_e=a["r_e"],
        r_x=a["r_x"],
        x_icc=0.0,
        couples=[a["couples"]],
        days=[a["days"]],
        alpha=a["alpha"],
        replications=LAPIM_REPS,
        seed=18,
        progress=False,
    )
    row = res.grid[0]
    by_role = row["power_by_role"]
    got = [by_role["actor"][0], by_role["actor"][1], by_role["partner"][0], by_role["partner"][1]]
    n = row["replications"]
    return got, [math.sqrt(max(p * (1 - p), 1e-12) / n) for p in got]


def test_there_are_powerlapim_cases():
    assert len(LAPIM) >= 2, "tests/reference/fixtures/power_lapim.json needs 2 couple counts"
    assert all("PowerLAPIM" in c.provenance for c in LAPIM)


@pytest.mark.parametrize("case", LAPIM, ids=str)
def test_power_by_role_equals_powerlapim_within_mc_error(case):
    assert case.expected["replications"] >= 900  # PowerLAPIM drops fits that failed
    got, got_se = _lapim_power(case)
    expected = [case.expected["power"][k] for k in KEYS]
    expected_se = [case.expected["mc_se"][k] for k in KEYS]
    assert_within_mc_error(got, got_se, expected, expected_se, case, "power by role")


@pytest.mark.parametrize("case", LAPIM, ids=str)
def test_the_powerlapim_case_can_tell_a_wrong_mapping(case):
    # informative reference: the non-zero effects are neither near 0 nor near 1 and
    # actor and partner powers differ by far more than the MC error ...
    p, se = case.expected["power"], case.expected["mc_se"]
    for k in ("actor_f", "actor_m", "partner_f"):
        assert 0.15 < p[k] < 0.9, (k, p[k])
    gap = abs(p["actor_f"] - p["partner_f"])
    assert gap > 6 * math.hypot(se["actor_f"], se["partner_f"]), gap
    # ... so dyadlab with actor and partner swapped disagrees with it
    got, got_se = _lapim_power(case, swap=True)
    expected = [p[k] for k in KEYS]
    expected_se = [se[k] for k in KEYS]
    with pytest.raises(AssertionError, match="combined MC se"):
        assert_within_mc_error(got, got_se, expected, expected_se, case, "power by role")


@pytest.mark.parametrize("case", LAPIM, ids=str)
def test_powerlapim_zero_partner_effect_is_significant_at_rate_alpha(case):
    assert case.args["partner"][1] == 0
    p, se = case.expected["power"]["partner_m"], case.expected["mc_se"]["partner_m"]
    assert abs(p - case.args["alpha"]) <= 3 * max(se, 0.007), p
