"""The Timeline Followback (TLFB) calendar of the history interview.

For the last 30, 60 or 90 days (:data:`WINDOWS`, ending the day before the interview),
the interviewer fills in, day by day, the number of sexual contacts with each partner on
the roster and with anyone else (Sobell & Sobell's calendar method, as used for sexual
behaviour by Weinhardt et al. 1998). The episodes that ran on a day are shown beside it
as recall anchors. Empty or 0 means none; a day is stored only when it had contacts
(:class:`~dyadlab.platform.tables.HistoryCalendarDay`). Every save writes one row to the
edit log with the cells before and after.

Form fields are named ``c-<YYYY-MM-DD>-<partner id>`` (``0`` for someone not on the
roster), see :func:`cell_name`.

References
----------
Weinhardt, L. S., Carey, M. P., Maisto, S. A., Carey, K. B., Cohen, M. M., & Wickramasinghe,
S. M. (1998). Reliability of the timeline follow-back sexual behavior interview. *Annals
of Behavioral Medicine, 20*(1), 25–30.

Examples
--------
>>> from datetime import date
>>> window(date(2026, 3, 3), 30)[0], window(date(2026, 3, 3), 30)[-1]
(datetime.date(2026, 2, 1), datetime.date(2026, 3, 2))
>>> cell_name(date(2026, 3, 2), None)
'c-2026-03-02-0'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dyadlab.platform.services.history import HistoryInputError, _log
from dyadlab.platform.tables import (
    HistoryCalendarDay,
    HistoryInterview,
    HistoryPartner,
)

__all__ = ["MAX_CONTACTS", "WINDOWS", "calendar_rows", "cell_name", "cells", "save", "window"]

WINDOWS: tuple[int, ...] = (30, 60, 90)
MAX_CONTACTS = 20
_CELL = re.compile(r"c-(\d{4}-\d{2}-\d{2})-(\d{1,9})")


def window(today: date, days: int) -> list[date]:
    """The ``days`` days before ``today``, oldest first."""
    return [today - timedelta(days=n) for n in range(days, 0, -1)]


def cell_name(day: date, partner_id: int | None) -> str:
    """The form field of one cell."""
    return f"c-{day.isoformat()}-{partner_id or 0}"


def cells(session: Session, interview: HistoryInterview) -> dict[tuple[date, int | None], int]:
    """``{(day, partner id or None): contacts}`` of every stored cell."""
    rows = session.scalars(
        select(HistoryCalendarDay).where(HistoryCalendarDay.interview_id == interview.id)
    ).all()
    return {(r.day, r.partner_id): r.contacts for r in rows}


def save(
    session: Session,
    interview: HistoryInterview,
    form: Mapping[str, str],
    *,
    days: int,
    today: date,
    by: int | None,
) -> int:
    """Store the calendar's cells from a form; the number of cells changed (logged).

    Only cells inside the window and for partners of this interview are read; a cell
    that is not a whole number from 0 to :data:`MAX_CONTACTS` raises
    :class:`~dyadlab.platform.services.history.HistoryInputError` naming it.
    """
    if days not in WINDOWS:
        raise HistoryInputError("days", f"days: choose {', '.join(map(str, WINDOWS))}.")
    allowed_days = set(window(today, days))
    partners = set(
        session.scalars(
            select(HistoryPartner.id).where(HistoryPartner.interview_id == interview.id)
        ).all()
    )
    wanted: dict[tuple[date, int | None], int] = {}
    for name, raw in form.items():
        match = _CELL.fullmatch(name)
        if match is None:
            continue
        day, pid = date.fromisoformat(match.group(1)), int(match.group(2))
        if day not in allowed_days or (pid and pid not in partners):
            continue
        text = raw.strip()
        if not text:
            value = 0
        elif text.isdigit() and int(text) <= MAX_CONTACTS:
            value = int(text)
        else:
            raise HistoryInputError(
                name,
                f"{day.isoformat()}: {text!r} is not a number from 0 to {MAX_CONTACTS}.",
                "contacts",
                value=text,
                most=MAX_CONTACTS,
            )
        wanted[(day, pid or None)] = value
    stored = {
        (row.day, row.partner_id): row
        for row in session.scalars(
            select(HistoryCalendarDay).where(HistoryCalendarDay.interview_id == interview.id)
        )
    }
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in wanted.items():
        row = stored.get(key)
        old = row.contacts if row else 0
        if old == value:
            continue
        label = cell_name(*key)
        before[label], after[label] = old, value
        if row is None:
            session.add(
                HistoryCalendarDay(
                    interview_id=interview.id, day=key[0], partner_id=key[1], contacts=value
                )
            )
        elif value == 0:
            session.delete(row)
        else:
            row.contacts = value
    if after:
        session.flush()
        _log(
            session,
            interview,
            "tlfb",
            interview.id,
            "update",
            by=by,
            reason=None,
            before=before,
            after=after,
        )
    return len(after)


def calendar_rows(session: Session, study_id: int) -> list[dict[str, Any]]:
    """Every stored cell of the study's calendars: ``person``, ``partner`` (as in the
    episodes export, ``p<person>-<number>``; ``other`` for someone not on the roster),
    ``day`` and ``contacts`` (for the JSON export)."""
    rows = session.execute(
        select(HistoryInterview.person_id, HistoryPartner.number, HistoryCalendarDay)
        .join(HistoryInterview, HistoryInterview.id == HistoryCalendarDay.interview_id)
        .outerjoin(HistoryPartner, HistoryPartner.id == HistoryCalendarDay.partner_id)
        .where(HistoryInterview.study_id == study_id)
        .order_by(HistoryInterview.person_id, HistoryCalendarDay.day, HistoryPartner.number)
    ).all()
    return [
        {
            "person": str(person),
            "partner": f"p{person}-{number}" if number is not None else "other",
            "day": cell.day.isoformat(),
            "contacts": cell.contacts,
        }
        for person, number, cell in rows
    ]
