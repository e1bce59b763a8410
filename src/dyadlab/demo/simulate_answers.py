"""Simulated participants for the demo: what each partner answers, and when.

A dyadic generative model of a couples' diary with the example protocol's items
(``evening``: desire, partner_desire, relationship_satisfaction, conflict,
conflict_intensity, had_sex; ``after_sex``: sexual_satisfaction, approach_motive,
avoidance_motive). Everything is drawn up front, vectorised over couples and days, from
one seeded generator; the demo then sends the answers through the platform's HTTP API.

The model
---------
Couple *c*, partner *i* (0, 1), diary day *t*:

- **Couples.** About 70% are man–woman couples (roles ``man`` and ``woman``, the
  distinguishable case), the rest same-sex couples (no roles, indistinguishable).
- **Desire** (slider 0–100): ``person mean + shared couple-day shock + own daily noise``;
  person means correlate 0.3 within a couple; men's mean 55, women's 45.
- **Conflict** (yes/no): a couple-day conflict happens with the couple's propensity
  (Beta(2, 10)); each partner reports it with probability 0.92 when it happened and
  0.04 when not; its intensity (1–5) is shared, with a little personal jitter.
- **Relationship satisfaction** (1–7): ``4.2 + person intercept + 0.02 desire
  (actor) + 0.01 partner's desire (partner) - 0.8 own conflict report (actor) - 0.4
  partner's report (partner) + noise``, rounded into 1–7.
- **Judging the partner's desire** (``partner_desire``, West & Kenny's truth and
  bias): ``mean + bias + 0.45 (partner's desire - mean) + 0.3 (own desire - mean) +
  noise``, the two slopes varying over persons (SD 0.12 and 0.1); men underestimate
  their partner's desire (bias -6, cf. Muise et al., 2016), women overestimate a
  little (+2), same-sex partners are unbiased.
- **Sex** (yes/no): a couple-day event more likely with both partners' desire and
  less likely after a conflict; each partner reports it (97% agreement) and files an
  ``after_sex`` report with probability 0.75.

Missed prompts
--------------
Each couple has a compliance level (Beta(40, 1.5), mean 0.96; about 5% of couples are
low-compliance, 0.35–0.6), each person deviates a little from it, compliance falls
slowly over the study, couples are sometimes both away (2% of days), and a few persons
stop answering half-way. Answers arrive 0–4 hours after the 20:00 prompt; about 2% are
sent from an offline phone after midnight (the platform stores them as ``late``).

Examples
--------
>>> plan = simulate_answers(4, 3, rng=1)
>>> sorted(plan.couples["kind"].unique().tolist())
['man-woman', 'same-sex']
>>> plan.submissions[0].questionnaire in ("evening", "after_sex")
True
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dyadlab._validation import check_range

__all__ = ["TRUTH", "AnswerPlan", "Submission", "simulate_answers", "tick_times"]

# The generative model's parameters (also shown beside the estimates in the report).
TRUTH: dict[str, float] = {
    "desire_mean_man": 55.0,
    "desire_mean_woman": 45.0,
    "desire_mean_same_sex": 50.0,
    "sat_intercept": 4.2,
    "sat_actor_desire": 0.02,
    "sat_partner_desire": 0.01,
    "sat_actor_conflict": -0.8,
    "sat_partner_conflict": -0.4,
    "truth_force": 0.45,
    "assumed_similarity": 0.3,
    "bias_man": -6.0,
    "bias_woman": 2.0,
    "bias_same_sex": 0.0,
}

PROMPT_HOUR = 20  # the example protocol's daily prompt, 20:00 local
WINDOW_MIN = 240
TICK_LOCAL = ((22, 0), (23, 59), (24, 45))  # the demo's clock ticks per diary day


@dataclass(frozen=True)
class Submission:
    """One response a simulated participant sends.

    Attributes
    ----------
    couple, partner : int
        0-based couple index and partner (0 or 1) within it.
    day : int
        1-based diary day.
    tick : int
        Which of the day's clock ticks delivers it (0: 22:00, 1: 23:59, 2: 00:45 the
        next morning, i.e. after the window closed: a late answer).
    questionnaire : str
    answers : dict
    finished_minutes : int
        Minutes after the day's 20:00 prompt when the participant finished.
    """

    couple: int
    partner: int
    day: int
    tick: int
    questionnaire: str
    answers: dict[str, Any]
    finished_minutes: int


@dataclass
class AnswerPlan:
    """Everything the simulated couples will do, drawn up front.

    Attributes
    ----------
    couples : DataFrame
        One row per couple: ``couple`` (0-based), ``kind`` (``man-woman`` or
        ``same-sex``), ``role_0``, ``role_1`` (``man``/``woman`` or None), ``compliance``.
    submissions : list of Submission
        In the order they are sent: by day, then tick.
    truth : dict
        The generative model's parameters (:data:`TRUTH`).
    """

    couples: pd.DataFrame
    submissions: list[Submission]
    truth: dict[str, float] = field(default_factory=lambda: dict(TRUTH))
    n_days: int = 0

    def by_tick(self) -> dict[tuple[int, int], list[Submission]]:
        """Submissions grouped by (day, tick), in time order."""
        out: dict[tuple[int, int], list[Submission]] = {}
        for s in self.submissions:
            out.setdefault((s.day, s.tick), []).append(s)
        return dict(sorted(out.items()))


def tick_times(start_date: _dt.date, day: int, tz: str) -> list[_dt.datetime]:
    """The UTC times of the demo clock's ticks on diary ``day`` (see :data:`TICK_LOCAL`)."""
    zone = ZoneInfo(tz)
    date = start_date + _dt.timedelta(days=day - 1)
    midnight = _dt.datetime.combine(date, _dt.time(0, 0))
    return [
        (midnight + _dt.timedelta(hours=hour, minutes=minute))
        .replace(tzinfo=zone)
        .astimezone(_dt.UTC)
        for hour, minute in TICK_LOCAL
    ]


def _likert(latent: np.ndarray, low: int, high: int) -> np.ndarray:
    out: np.ndarray = np.clip(np.rint(latent), low, high).astype(int)
    return out


def _couple_kinds(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kind per couple and the two partners' roles ('man', 'woman' or '' for same-sex)."""
    n_same = max(1, round(0.3 * n)) if n >= 2 else 0
    kinds = np.array(["man-woman"] * (n - n_same) + ["same-sex"] * n_same)
    rng.shuffle(kinds)
    role0 = np.where(kinds == "man-woman", "man", "")
    role1 = np.where(kinds == "man-woman", "woman", "")
    # Same-sex couples: half two men, half two women (for their desire means only).
    same_sex_men = rng.random(n) < 0.5
    return kinds, np.stack([role0, role1], axis=1), same_sex_men


def simulate_answers(
    n_couples: int = 100, n_days: int = 28, *, rng: int | np.random.Generator | None = None
) -> AnswerPlan:
    """Draw the answers and answering times of ``n_couples`` couples over ``n_days`` days.

    Parameters
    ----------
    n_couples : int
        Number of couples (at least 2; about 30% are same-sex couples).
    n_days : int
        Diary days (at least 2).
    rng : int or numpy.random.Generator, optional
        Seed or generator; the same seed gives the same plan.

    Returns
    -------
    AnswerPlan

    Examples
    --------
    >>> plan = simulate_answers(3, 2, rng=0)
    >>> plan.n_days
    2
    """
    check_range("n_couples", n_couples, func="simulate_answers", low=2)
    check_range("n_days", n_days, func="simulate_answers", low=2)
    gen = np.random.default_rng(rng)
    n, d = int(n_couples), int(n_days)
    kinds, roles, same_sex_men = _couple_kinds(n, gen)
    t = TRUTH

    # --- persons -------------------------------------------------------------------
    base = np.where(
        roles == "man",
        t["desire_mean_man"],
        np.where(roles == "woman", t["desire_mean_woman"], 0.0),
    )
    same = kinds == "same-sex"
    base[same] = np.where(same_sex_men[same], t["desire_mean_man"], t["desire_mean_woman"])[:, None]
    cov = 144.0 * np.array([[1.0, 0.3], [0.3, 1.0]])
    desire_mean = base + gen.multivariate_normal([0, 0], cov, size=n)
    sat_int = gen.multivariate_normal([0, 0], 0.5 * np.array([[1, 0.5], [0.5, 1]]), size=n)
    bias = np.where(roles == "man", t["bias_man"], np.where(roles == "woman", t["bias_woman"], 0))
    bias = bias + gen.normal(0, 3, size=(n, 2))

    # --- couple-days (n, d) and person-days (n, d, 2) ---------------------------------
    shock = gen.normal(0, 6, size=(n, d))[:, :, None]
    desire = desire_mean[:, None, :] + shock + gen.normal(0, 10, size=(n, d, 2))
    desire = np.clip(np.rint(desire), 0, 100)
    propensity = gen.beta(2, 10, size=n)
    conflict_day = gen.random((n, d)) < propensity[:, None]
    report_p = np.where(conflict_day, 0.92, 0.04)[:, :, None]
    conflict = gen.random((n, d, 2)) < report_p
    intensity = _likert(
        1 + gen.binomial(4, 0.4, size=(n, d))[:, :, None] + gen.normal(0, 0.4, (n, d, 2)), 1, 5
    )
    partner_desire = desire[:, :, ::-1]
    partner_conflict = conflict[:, :, ::-1]
    sat = (
        t["sat_intercept"]
        + sat_int[:, None, :]
        + t["sat_actor_desire"] * desire
        + t["sat_partner_desire"] * partner_desire
        + t["sat_actor_conflict"] * conflict
        + t["sat_partner_conflict"] * partner_conflict
        + gen.multivariate_normal([0, 0], 0.5 * np.array([[1, 0.3], [0.3, 1]]), size=(n, d))
    )
    satisfaction = _likert(sat, 1, 7)
    centre = 50.0
    # Persons differ in how well they read their partner (random slopes).
    truth_force = t["truth_force"] + gen.normal(0, 0.12, size=(n, 2))
    similarity = t["assumed_similarity"] + gen.normal(0, 0.1, size=(n, 2))
    judgment = (
        centre
        + bias[:, None, :]
        + truth_force[:, None, :] * (partner_desire - centre)
        + similarity[:, None, :] * (desire - centre)
        + gen.normal(0, 9, size=(n, d, 2))
    )
    judgment = np.clip(np.rint(judgment), 0, 100)
    logit = -1.4 + 0.035 * (desire.mean(axis=2) - 50) - 0.9 * conflict_day
    sex_day = gen.random((n, d)) < 1 / (1 + np.exp(-logit))
    had_sex = np.where(gen.random((n, d, 2)) < 0.97, sex_day[:, :, None], ~sex_day[:, :, None])

    # --- who answers when -------------------------------------------------------------
    low = gen.random(n) < 0.05
    couple_p = np.where(low, gen.uniform(0.35, 0.6, n), gen.beta(40, 1.5, n))
    person_p = np.clip(couple_p[:, None] + gen.normal(0, 0.04, (n, 2)), 0.05, 0.995)
    fatigue = 1 - 0.002 * np.arange(d)
    p = person_p[:, None, :] * fatigue[None, :, None]
    away = gen.random((n, d)) < 0.02
    answers = (gen.random((n, d, 2)) < p) & ~away[:, :, None]
    stops = gen.random((n, 2)) < 0.03
    stop_day = gen.integers(d // 3, max(d // 3 + 1, 2 * d // 3), size=(n, 2))
    day_index = np.arange(d)[None, :, None]
    answers &= ~(stops[:, None, :] & (day_index >= stop_day[:, None, :]))
    latency = np.minimum(gen.exponential(45, size=(n, d, 2)).astype(int) + 2, WINDOW_MIN - 3)
    late = gen.random((n, d, 2)) < 0.02
    latency = np.where(late, gen.integers(200, WINDOW_MIN - 1, size=(n, d, 2)), latency)
    reports_event = had_sex & (gen.random((n, d, 2)) < 0.75)

    subs: list[Submission] = []
    for c, day, i in zip(*np.nonzero(answers), strict=True):
        minutes = int(latency[c, day, i])
        is_late = bool(late[c, day, i])
        tick = 2 if is_late else (0 if minutes <= 120 else 1)
        ans: dict[str, Any] = {
            "desire": float(desire[c, day, i]),
            "partner_desire": float(judgment[c, day, i]),
            "relationship_satisfaction": int(satisfaction[c, day, i]),
            "conflict": "yes" if conflict[c, day, i] else "no",
            "had_sex": "yes" if had_sex[c, day, i] else "no",
        }
        if conflict[c, day, i]:
            ans["conflict_intensity"] = int(intensity[c, day, i])
        subs.append(Submission(int(c), int(i), int(day) + 1, tick, "evening", ans, minutes))
        if reports_event[c, day, i] and not is_late:
            ev_min = min(minutes + 1, WINDOW_MIN - 2)
            d_own = float(desire[c, day, i])
            ev = {
                "sexual_satisfaction": float(
                    np.clip(np.rint(62 + 0.3 * (d_own - 50) + gen.normal(0, 14)), 0, 100)
                ),
                "approach_motive": int(_likert(np.array(5.2 + gen.normal(0, 1.1)), 1, 7)),
                "avoidance_motive": int(
                    _likert(np.array(2.2 + 0.6 * conflict[c, day, i] + gen.normal(0, 1)), 1, 7)
                ),
            }
            subs.append(
                Submission(
                    int(c), int(i), int(day) + 1, 0 if ev_min <= 120 else 1, "after_sex", ev, ev_min
                )
            )
    subs.sort(key=lambda s: (s.day, s.tick, s.couple, s.partner))
    couples = pd.DataFrame(
        {
            "couple": np.arange(n),
            "kind": kinds,
            "role_0": [r or None for r in roles[:, 0]],
            "role_1": [r or None for r in roles[:, 1]],
            "compliance": couple_p,
        }
    )
    return AnswerPlan(couples=couples, submissions=subs, n_days=d)
