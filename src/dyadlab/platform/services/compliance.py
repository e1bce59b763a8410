"""Compliance: prompts due and answered, per person, per couple and per couple-day.

Definitions (the standard experience-sampling reporting figures)
-----------------------------------------------------------------
- A **due prompt** is a daily or semi-random prompt whose answer window has closed
  (:func:`dyadlab.platform.schedule.planned_prompts`), up to the end of the study and,
  for a person who withdrew, up to the moment of withdrawal.
  Event-contingent and partner-triggered questionnaires have no due count; their
  responses are counted as ``events``.
- **answered**: due prompts with a stored response (``completed`` or ``late``);
  a prompt answered on the current day counts as due and answered.
- **rate** = answered / due (per person).
- A **couple-day** is complete when both partners answered every due prompt of that
  diary day; the couple's rate is complete couple-days / couple-days due. Couples below
  ``threshold`` (default 0.8) are flagged — for the research team to contact, never
  dropped.
- **latency**: minutes from the prompt's scheduled time to the finished answer (median).
- **reminders_sent**: reminders sent (``deliveries``): one per prompt and offset, whether it
  went by e-mail, Web Push or both.

A person whose data was deleted at withdrawal has no rows; they appear in
``persons`` with ``data_deleted`` true and nothing due.

Examples
--------
>>> report = study_compliance(session, study.id)  # doctest: +SKIP
>>> report.couples[["couple_id", "rate", "flagged"]]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dyadlab.platform.services.studies import get_study, study_protocol
from dyadlab.platform.tables import Couple, Delivery, Person, utcnow

__all__ = [
    "ComplianceReport",
    "due_prompts",
    "load_persons",
    "study_compliance",
]

ANSWERED = ("completed", "late")
_KEYS = ["person_id", "questionnaire", "diary_day", "prompt_number"]


def load_persons(session: Session, study_id: int) -> pd.DataFrame:
    """One row per person of the study with couple information (ordered by couple, id)."""
    rows = session.execute(
        select(
            Person.id,
            Person.couple_id,
            Person.role,
            Person.tz,
            Person.status,
            Person.withdrawn_at,
            Person.data_deleted,
            Couple.start_date,
            Couple.seed,
        )
        .join(Couple, Couple.id == Person.couple_id)
        .where(Couple.study_id == study_id)
        .order_by(Person.couple_id, Person.id)
    ).all()
    columns = [
        "person_id",
        "couple_id",
        "role",
        "tz",
        "status",
        "withdrawn_at",
        "data_deleted",
        "start_date",
        "seed",
    ]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def due_prompts(protocol: Any, persons: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """The daily/semi-random prompts due so far, one row per person-prompt.

    Columns: person_id, questionnaire, diary_day, prompt_number, kind, prompt_key,
    scheduled_utc, window_end_utc.
    """
    from dyadlab.platform.schedule import diary_day, planned_prompts, study_days

    length = study_days(protocol)
    out: list[dict[str, Any]] = []
    # Plan each schedule once: the partners share one, and without semi-random prompts
    # the couple's seed changes nothing, so couples starting the same day share one too.
    plans: dict[tuple[Any, ...], list[Any]] = {}
    seeded = any(entry.type == "random" for entry in protocol.schedule)
    for p in list[Any](persons.itertuples(index=False)):
        if p.data_deleted:
            continue
        until = now if pd.isna(p.withdrawn_at) else min(now, p.withdrawn_at)
        today = diary_day(p.start_date, p.tz, until)
        last = today if length is None else min(today, length)
        if last < 1:
            continue
        plan = (p.start_date, p.tz, int(p.seed) if seeded else 0, last)
        if plan not in plans:
            plans[plan] = planned_prompts(
                protocol, start_date=p.start_date, tz=p.tz, seed=plan[2], last_day=last
            )
        for prompt in plans[plan]:
            end = prompt.window_end_utc
            if prompt.scheduled_utc > until or (end is not None and end > until):
                continue
            out.append(
                {
                    "person_id": p.person_id,
                    "questionnaire": prompt.questionnaire,
                    "diary_day": prompt.diary_day,
                    "prompt_number": prompt.prompt_number,
                    "kind": prompt.kind,
                    "prompt_key": prompt.key,
                    "scheduled_utc": prompt.scheduled_utc,
                    "window_end_utc": end,
                }
            )
    columns = [*_KEYS, "kind", "prompt_key", "scheduled_utc", "window_end_utc"]
    return pd.DataFrame(out, columns=columns)


def _minutes(later: pd.Series, earlier: pd.Series) -> pd.Series:
    a = pd.to_datetime(later, utc=True)
    b = pd.to_datetime(earlier, utc=True)
    return (a - b).dt.total_seconds() / 60.0


@dataclass(frozen=True)
class ComplianceReport:
    """Compliance tables of one study.

    Attributes
    ----------
    persons : DataFrame
        couple_id, person_id, role, status, data_deleted, due, answered, rate,
        events, reminders_sent, median_latency_min
    couples : DataFrame
        couple_id, days_due, days_complete, rate, flagged
    days : DataFrame
        couple_id, diary_day, persons_answered, complete (one row per couple-day due)
    threshold : float
    """

    persons: pd.DataFrame
    couples: pd.DataFrame
    days: pd.DataFrame
    threshold: float

    @property
    def flagged_couples(self) -> list[int]:
        """Ids of the couples below the threshold."""
        return [int(c) for c in self.couples.loc[self.couples["flagged"], "couple_id"]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready records (NaN becomes ``None``)."""

        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for row in df.to_dict(orient="records"):
                out.append(
                    {
                        str(k): (
                            None
                            if isinstance(v, float) and math.isnan(v)
                            else v.item()
                            if isinstance(v, np.generic)
                            else v
                        )
                        for k, v in row.items()
                    }
                )
            return out

        return {
            "threshold": self.threshold,
            "persons": records(self.persons),
            "couples": records(self.couples),
            "days": records(self.days),
            "flagged_couples": self.flagged_couples,
        }


def compute_compliance(
    protocol: Any,
    persons: pd.DataFrame,
    responses: pd.DataFrame,
    reminders: pd.Series,
    *,
    now: datetime,
    threshold: float = 0.8,
) -> tuple[ComplianceReport, pd.DataFrame]:
    """Compliance from loaded tables; also returns the merged due/answered prompt table."""
    due = due_prompts(protocol, persons, now)
    scheduled = responses[responses["kind"].isin(["daily", "random"])]
    merged = due.merge(
        scheduled[[*_KEYS, "status", "finished_utc", "scheduled_utc"]].rename(
            columns={"scheduled_utc": "response_scheduled_utc"}
        ),
        on=_KEYS,
        how="outer",
    )
    merged["answered"] = merged["status"].isin(ANSWERED)
    merged["scheduled_utc"] = merged["scheduled_utc"].where(
        merged["scheduled_utc"].notna(), merged["response_scheduled_utc"]
    )
    merged["latency_min"] = _minutes(merged["finished_utc"], merged["scheduled_utc"])
    per_person = merged.groupby("person_id").agg(
        due=("answered", "size"),
        answered=("answered", "sum"),
        median_latency_min=("latency_min", "median"),
    )
    events = responses[~responses["kind"].isin(["daily", "random"])].groupby("person_id").size()
    people = persons[["couple_id", "person_id", "role", "status", "data_deleted"]].copy()
    people = people.merge(per_person, left_on="person_id", right_index=True, how="left")
    people["due"] = people["due"].fillna(0).astype(int)
    people["answered"] = people["answered"].fillna(0).astype(int)
    people["rate"] = np.where(
        people["due"] > 0, people["answered"] / people["due"].clip(lower=1), np.nan
    )
    people["events"] = people["person_id"].map(events).fillna(0).astype(int)
    people["reminders_sent"] = people["person_id"].map(reminders).fillna(0).astype(int)
    people = people[
        [
            "couple_id",
            "person_id",
            "role",
            "status",
            "data_deleted",
            "due",
            "answered",
            "rate",
            "events",
            "reminders_sent",
            "median_latency_min",
        ]
    ]

    merged = merged.merge(persons[["person_id", "couple_id"]], on="person_id", how="left")
    per_person_day = merged.groupby(["couple_id", "diary_day", "person_id"]).agg(
        all_answered=("answered", "all")
    )
    partners = persons.groupby("couple_id")["person_id"].size()
    days = (
        per_person_day.groupby(level=["couple_id", "diary_day"])
        .agg(persons_answered=("all_answered", "sum"), persons_due=("all_answered", "size"))
        .reset_index()
    )
    days["complete"] = (days["persons_answered"] == days["persons_due"]) & (
        days["persons_due"] == days["couple_id"].map(partners)
    )
    days = days[["couple_id", "diary_day", "persons_answered", "complete"]]
    days["persons_answered"] = days["persons_answered"].astype(int)
    couple_ids = pd.Series(sorted(persons["couple_id"].unique()), name="couple_id", dtype="int64")
    per_couple = days.groupby("couple_id").agg(
        days_due=("complete", "size"), days_complete=("complete", "sum")
    )
    couples = pd.DataFrame({"couple_id": couple_ids}).merge(
        per_couple, left_on="couple_id", right_index=True, how="left"
    )
    couples["days_due"] = couples["days_due"].fillna(0).astype(int)
    couples["days_complete"] = couples["days_complete"].fillna(0).astype(int)
    couples["rate"] = np.where(
        couples["days_due"] > 0,
        couples["days_complete"] / couples["days_due"].clip(lower=1),
        np.nan,
    )
    couples["flagged"] = (couples["days_due"] > 0) & (couples["rate"] < threshold)
    report = ComplianceReport(
        persons=people.reset_index(drop=True),
        couples=couples.reset_index(drop=True),
        days=days.reset_index(drop=True),
        threshold=threshold,
    )
    return report, merged


def _reminder_counts(session: Session, study_id: int) -> pd.Series:
    sent = (  # one reminder per prompt and offset, however many channels carried it
        select(Delivery.person_id, Delivery.prompt_key, Delivery.offset_minutes)
        .join(Person, Person.id == Delivery.person_id)
        .join(Couple, Couple.id == Person.couple_id)
        .where(Couple.study_id == study_id, Delivery.status == "sent")
        .distinct()
        .subquery()
    )
    rows = session.execute(select(sent.c.person_id, func.count()).group_by(sent.c.person_id)).all()
    return pd.Series({int(p): int(n) for p, n in rows}, dtype="int64")


def study_compliance(
    session: Session, study_id: int, *, threshold: float = 0.8, now: datetime | None = None
) -> ComplianceReport:
    """Compliance of a study now (see the module docstring for the definitions)."""
    # The export's loader (imported here: it imports load_persons from this module).
    from dyadlab.platform.services._export_rows import load_tables

    study = get_study(session, study_id)
    tables = load_tables(session, study_id)
    report, _ = compute_compliance(
        study_protocol(study),
        tables.persons,
        tables.responses,
        _reminder_counts(session, study_id),
        now=now or utcnow(),
        threshold=threshold,
    )
    return report
