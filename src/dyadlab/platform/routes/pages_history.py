"""The interviewer's pages of the relational and sexual history interview.

Addresses (every one needs the ``interview`` permission in the study, except the export,
which needs ``export``; see :mod:`dyadlab.platform.services.access`)::

    GET  /r/studies/{id}/history                         the study's persons and their
                                                         interviews
    GET  /r/studies/{id}/history-export?format=csv|json  the episodes (audit-logged)
    POST /r/studies/{id}/history/{person}/start          start an interview
    GET  /r/studies/{id}/history/{person}                the interview: timeline, questions
                                                         to ask, landmarks, partners,
                                                         episodes per partner, milestones
    POST /r/studies/{id}/history/{person}/settings       birth month, language
    GET  /r/studies/{id}/history/{person}/tlfb?days=30   the Timeline Followback calendar
                                                         of the last 30, 60 or 90 days
    POST /r/studies/{id}/history/{person}/tlfb           save it
    GET  /r/studies/{id}/history/{person}/edits          the edit log: who, when, why, what
    GET  /r/studies/{id}/history/{person}/timeline       the timeline alone, large, to show
                                                         the respondent (no notes, no
                                                         questions, no edit forms)
    POST /r/studies/{id}/history/{person}/{kind}         add a landmark, partner, episode
                                                         or milestone
    POST /r/studies/{id}/history/{person}/{kind}/{item}  change one (a reason is required)
    POST /r/studies/{id}/history/{person}/{kind}/{item}/delete     delete one (reason)
    POST /r/studies/{id}/history/{person}/episode/{item}/spell     type changed: a new spell

The pages work without JavaScript: each form posts, and the server answers with the
page again (``303`` to it after a change, so a reload does not post twice) or, when a
field cannot be stored, with the page and the error next to the form (``422``). The
consistency questions (:func:`dyadlab.platform.services.history.probes`) are worked out
on the server on every page view. Access, CSRF and login follow
:mod:`dyadlab.platform.routes.pages_researcher`: a non-member of the study, and a
person who is not in the study, get the same 404 page as a study that does not exist.
Participants have no page of the interview at all.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from dyadlab.platform.errors import NotFoundError
from dyadlab.platform.history_i18n import history_translator
from dyadlab.platform.i18n import LANGUAGES
from dyadlab.platform.routes._history_timeline import timeline_svg
from dyadlab.platform.routes._pages import CSRF_FIELD, csrf_ok
from dyadlab.platform.routes.deps import DbSession, Now
from dyadlab.platform.routes.pages_researcher import (
    PostedForm,
    ResearcherOrNone,
    _client,
    _page,
    _signed_in_study,
    _text,
    _to_login,
)
from dyadlab.platform.services import history, history_tlfb, researchers
from dyadlab.platform.services.history import HistoryInputError
from dyadlab.platform.services.withdrawal import study_person
from dyadlab.platform.tables import Person, Researcher, Study

__all__ = ["router"]

router = APIRouter(prefix="/r/studies/{study_id}", include_in_schema=False)

_KINDS = ("landmark", "partner", "episode", "milestone")


def _missing(request: Request, researcher: Researcher, study_id: int) -> HTMLResponse:
    return _page(request, "researcher/missing.html", researcher, status_code=404, study_id=study_id)


def _person(
    request: Request,
    session: Session,
    researcher: Researcher | None,
    study_id: int,
    person_id: int,
    form: Any = None,
) -> tuple[Person, Researcher] | Response:
    """The person and the researcher if the researcher is logged in, may interview in
    the study, the person is in it and (for a posted ``form``) the CSRF token is right
    and the person has not withdrawn; else the page to answer with: the login, 404 (for
    both a missing study and a missing person), 403, 409 (withdrawn: nothing changes)."""
    checked = _signed_in_study(request, session, researcher, study_id, "interview")
    if isinstance(checked, Response):
        return checked
    _, researcher = checked
    try:
        person = study_person(session, study_id, person_id)
    except NotFoundError:
        return _missing(request, researcher, study_id)
    if form is not None and not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _expired(request, researcher, study_id)
    if form is not None and person.status == "withdrawn":
        return _page(
            request,
            "researcher/missing.html",
            researcher,
            status_code=409,
            study_id=study_id,
            forbidden=(
                f"Person {person.id} has withdrawn from the study: their interview is kept "
                "as it is (as the consent allows) and can no longer be changed."
            ),
        )
    return person, researcher


def _interview(
    request: Request,
    session: Session,
    researcher: Researcher | None,
    study_id: int,
    person_id: int,
    form: Any = None,
) -> tuple[Person, Researcher, history.Interview] | Response:
    """As :func:`_person`, and the person's interview (the 404 page if it was not
    started)."""
    checked = _person(request, session, researcher, study_id, person_id, form)
    if isinstance(checked, Response):
        return checked
    person, researcher = checked
    loaded = history.load_interview(session, study_id, person.id)
    if loaded is None:
        return _missing(request, researcher, study_id)
    return person, researcher, loaded


#: form field -> the message key of its label (for errors in the interview's language)
_LABELS = {
    "birth": "birth",
    "kind": "kind",
    "label": "label",
    "start": "start_date",
    "end": "end_date",
    "pseudonym": "pseudonym",
    "gender": "gender",
    "partner": "partner",
    "type": "type",
    "certainty": "certainty",
    "exclusivity": "exclusivity",
    "cohabitation": "cohabitation",
    "notes": "notes",
    "when": "when",
    "reason": "reason",
}


def _error_text(exc: HistoryInputError, t: Any) -> str:
    """The error in the pages' language: the field's label, then what is wrong."""
    if not exc.key:
        return exc.message
    label = t(_LABELS[exc.field]) if exc.field in _LABELS else exc.field[2:12]
    return f"{label}: {t('err_' + exc.key, **exc.values)}"


def _form(form: Any) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.get("/history", response_class=HTMLResponse)
def interviews_page(
    study_id: int, request: Request, session: DbSession, researcher: ResearcherOrNone
) -> Response:
    """The study's persons, each with their interview (open) or a form to start it."""
    checked = _signed_in_study(request, session, researcher, study_id, "interview")
    if isinstance(checked, Response):
        return checked
    study, researcher = checked
    return _page(
        request,
        "history/index.html",
        researcher,
        study=study,
        persons=history.interview_persons(session, study.id),
        t=history_translator("en"),
        languages=LANGUAGES,
    )


@router.get("/history-export")
def export_history(
    study_id: int,
    request: Request,
    session: DbSession,
    researcher: ResearcherOrNone,
    format: str = "csv",
) -> Response:
    """The study's episodes as CSV (the columns of ``dyadlab.history``) or JSON (with
    pseudonyms, notes, spells and the calendar days); written to the audit log."""
    checked = _signed_in_study(request, session, researcher, study_id, "export")
    if isinstance(checked, Response):
        return checked
    study, researcher = checked
    if format not in ("csv", "json"):
        return _page(
            request,
            "researcher/missing.html",
            researcher,
            status_code=422,
            study_id=study_id,
            forbidden=f"format {format!r}: choose csv or json.",
        )
    rows = history.export_rows(session, study.id)
    researchers.audit(
        session,
        "export",
        researcher_id=researcher.id,
        study_id=study.id,
        client=_client(request),
        detail={"format": f"history_{format}", "rows": len(rows)},
    )
    session.commit()
    name = f"study{study.id}_history_episodes.{format}"
    if format == "csv":
        body, media = history.export_csv(rows), "text/csv; charset=utf-8"
    else:
        calendar = history_tlfb.calendar_rows(session, study.id)
        more = history.export_more(session, study.id)
        content = {"study_id": study.id, "episodes": rows, **more, "calendar": calendar}
        body = json.dumps(content, ensure_ascii=False, indent=1)
        media = "application/json"
    return Response(
        body,
        media_type=media,
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


@router.post("/history/{person_id}/start", response_class=HTMLResponse)
def start_post(
    study_id: int,
    person_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
) -> Response:
    """Start the interview of ``person_id`` (or open it, if it was started)."""
    checked = _person(request, session, researcher, study_id, person_id, form)
    if isinstance(checked, Response):
        return checked
    person, researcher = checked
    try:
        history.start_interview(
            session,
            study_id,
            person,
            by=researcher.id,
            birth=_text(form, "birth"),
            language=_text(form, "language"),
        )
    except HistoryInputError as exc:
        session.rollback()
        return _page(
            request,
            "history/index.html",
            researcher,
            status_code=422,
            study=session.get(Study, study_id),
            persons=history.interview_persons(session, study_id),
            t=history_translator("en"),
            languages=LANGUAGES,
            error={"person": person_id, "message": _error_text(exc, history_translator("en"))},
        )
    session.commit()
    return RedirectResponse(f"/r/studies/{study_id}/history/{person_id}", status_code=303)


def _expired(request: Request, researcher: Researcher, study_id: int) -> HTMLResponse:
    return _page(
        request,
        "researcher/missing.html",
        researcher,
        status_code=403,
        study_id=study_id,
        forbidden="The form has expired. Please reload the page and try again.",
    )


def _interview_page(
    request: Request,
    session: Session,
    researcher: Researcher,
    study_id: int,
    person: Person,
    now: Any,
    *,
    error: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    loaded = history.load_interview(session, study_id, person.id)
    if loaded is None:
        return RedirectResponse(f"/r/studies/{study_id}/history", status_code=303)
    today = now.date()
    t = history_translator(loaded.row.language)
    return _page(
        request,
        "history/interview.html",
        researcher,
        status_code=status_code,
        lang=t.language,
        t=t,
        study_id=study_id,
        iv=loaded,
        probes=_probe_texts(loaded, history.probes(loaded, today), t),
        timeline=Markup(timeline_svg(loaded, today, t)),  # numbers and escaped text only
        types=history.EPISODE_TYPES,
        opts=_options(loaded, t),
        error=error,
    )


def _options(loaded: history.Interview, t: Any) -> dict[str, list[tuple[str, str]]]:
    """(value, text) of every menu of the interview page, in its language."""

    def menu(prefix: str, values: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(v, t(f"{prefix}_{v}")) for v in values]

    return {
        "landmark": menu("landmark", history.LANDMARK_KINDS),
        "type": menu("type", history.EPISODE_TYPES),
        "milestone": menu("milestone", history.MILESTONES),
        "gender": menu("gender", history.GENDERS),
        "exclusivity": menu("exclusivity", history.EXCLUSIVITY),
        "yes_no": [("yes", t("yes")), ("no", t("no"))],
        "language": [(lang, {"en": "English", "nl": "Nederlands"}[lang]) for lang in LANGUAGES],
        "partner": [(str(p.id), f"{p.number}. {p.pseudonym}") for p in loaded.partners],
    }


def _probe_texts(loaded: history.Interview, found: list[history.Probe], t: Any) -> list[str]:
    """The questions in words, naming episodes as "Dating with P1 (2019-03)"."""
    partners = {p.id: p.pseudonym for p in loaded.partners}
    names: dict[str, str] = {}
    for ep, start, _ in loaded.episodes:
        who = partners.get(ep.partner_id, "?")
        names[f"episode:{ep.id}"] = f"{t('type_' + ep.type)} – {who} ({start.value})"
    for m, when in loaded.milestones:
        who = f" – {partners[m.partner_id]}" if m.partner_id in partners else ""
        names[f"milestone:{m.id}"] = f"{t('milestone_' + m.kind)}{who} ({when.value})"
    texts = []
    for p in found:
        refs = [names.get(r, r) for r in p.refs]
        if p.kind == "young":
            texts.append(t("probe_young", age=p.values["age"], what=refs[0]))
        elif p.kind == "gap":
            texts.append(t("probe_gap", start=p.values["from"], end=p.values["to"]))
        elif p.kind in ("overlap", "same_partner_overlap"):
            texts.append(t(f"probe_{p.kind}", a=refs[0], b=refs[1]))
        else:
            texts.append(t("probe_milestone_outside", what=refs[0]))
    return texts


@router.get("/history/{person_id}", response_class=HTMLResponse)
def interview_page(
    study_id: int,
    person_id: int,
    request: Request,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """The interview of ``person_id``."""
    checked = _person(request, session, researcher, study_id, person_id)
    if isinstance(checked, Response):
        return checked
    person, researcher = checked
    return _interview_page(request, session, researcher, study_id, person, now)


def _change(
    request: Request,
    form: Any,
    session: Session,
    researcher: Researcher | None,
    study_id: int,
    person_id: int,
    now: Any,
    form_id: str,
    change: Any,
) -> Response:
    """Check login, access (404), CSRF; run ``change(interview, fields, researcher_id)``;
    answer with a 303 to the page (at ``#form_id``'s section), or the page with the error (422)."""
    checked = _interview(request, session, researcher, study_id, person_id, form)
    if isinstance(checked, Response):
        return checked
    person, researcher, loaded = checked
    fields = _form(form)
    try:
        found = change(loaded.row, fields, researcher.id)
    except HistoryInputError as exc:
        session.rollback()
        t = history_translator(loaded.row.language)
        message = _error_text(exc, t)
        error = {"form": form_id, "field": exc.field, "message": message, "values": fields}
        return _interview_page(
            request, session, researcher, study_id, person, now, error=error, status_code=422
        )
    if found is None or found is False:
        session.rollback()
        return _missing(request, researcher, study_id)
    session.commit()
    anchor = f"#{form_id.split('-')[1]}s" if "-" in form_id else ""
    return RedirectResponse(f"/r/studies/{study_id}/history/{person_id}{anchor}", status_code=303)


@router.post("/history/{person_id}/settings", response_class=HTMLResponse)
def settings_post(
    study_id: int,
    person_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """Change the birth month or the interview's language."""

    def change(row: Any, fields: dict[str, str], by: int) -> bool:
        history.update_interview(
            session,
            row,
            by=by,
            birth=fields.get("birth", ""),
            language=fields.get("language", ""),
            reason=fields.get("reason", ""),
        )
        return True

    return _change(request, form, session, researcher, study_id, person_id, now, "settings", change)


@router.get("/history/{person_id}/edits", response_class=HTMLResponse)
def edits_page(
    study_id: int,
    person_id: int,
    request: Request,
    session: DbSession,
    researcher: ResearcherOrNone,
) -> Response:
    """The interview's edit log, newest first."""
    checked = _interview(request, session, researcher, study_id, person_id)
    if isinstance(checked, Response):
        return checked
    _, researcher, loaded = checked
    t = history_translator(loaded.row.language)
    return _page(
        request,
        "history/edits.html",
        researcher,
        lang=t.language,
        t=t,
        study_id=study_id,
        iv=loaded,
        edits=history.edit_log(session, loaded.row),
    )


@router.get("/history/{person_id}/timeline", response_class=HTMLResponse)
def timeline_page(
    study_id: int,
    person_id: int,
    request: Request,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """The timeline alone, for interviewer and respondent to look at together."""
    checked = _interview(request, session, researcher, study_id, person_id)
    if isinstance(checked, Response):
        return checked
    _, researcher, loaded = checked
    t = history_translator(loaded.row.language)
    return _page(
        request,
        "history/timeline.html",
        researcher,
        lang=t.language,
        t=t,
        study_id=study_id,
        iv=loaded,
        types=history.EPISODE_TYPES,
        timeline=Markup(timeline_svg(loaded, now.date(), t)),  # numbers and escaped text
    )


def _tlfb_page(
    request: Request,
    session: Session,
    researcher: Researcher,
    study_id: int,
    person: Person,
    now: Any,
    days: int,
    *,
    error: dict[str, Any] | None = None,
    saved: bool = False,
) -> Response:
    loaded = history.load_interview(session, study_id, person.id)
    if loaded is None:
        return RedirectResponse(f"/r/studies/{study_id}/history", status_code=303)
    t = history_translator(loaded.row.language)
    today = now.date()
    stored = history_tlfb.cells(session, loaded.row)
    weekdays = t("weekdays").split()
    columns: list[tuple[int | None, str]] = [(p.id, p.pseudonym) for p in loaded.partners]
    columns.append((None, t("tlfb_other")))
    rows = []
    for day in history_tlfb.window(today, days):
        running = []
        for ep, start, end in loaded.episodes:
            if start.earliest <= day <= (end.latest if end else today):
                partner = loaded.partner(ep.partner_id)
                running.append(f"{t('type_' + ep.type)} – {partner.pseudonym if partner else '?'}")
        cells = []
        for pid, name in columns:
            field = history_tlfb.cell_name(day, pid)
            value = (
                error["values"].get(field, "")
                if error
                else (str(stored[(day, pid)]) if (day, pid) in stored else "")
            )
            label = t("tlfb_cell", partner=name, day=f"{weekdays[day.weekday()]} {day.isoformat()}")
            cells.append({"name": field, "value": value, "label": label})
        rows.append(
            {
                "day": day,
                "weekday": weekdays[day.weekday()],
                "weekend": day.weekday() >= 5,
                "running": running,
                "cells": cells,
            }
        )
    return _page(
        request,
        "history/tlfb.html",
        researcher,
        status_code=422 if error else 200,
        lang=t.language,
        t=t,
        study_id=study_id,
        iv=loaded,
        days=days,
        windows=history_tlfb.WINDOWS,
        columns=columns,
        rows=rows,
        error=error,
        saved=saved,
    )


def _days(value: str | None) -> int:
    return int(value) if value in ("30", "60", "90") else 30


@router.get("/history/{person_id}/tlfb", response_class=HTMLResponse)
def tlfb_page(
    study_id: int,
    person_id: int,
    request: Request,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
    days: str | None = None,
    saved: str | None = None,
) -> Response:
    """The Timeline Followback calendar of the last 30, 60 or 90 days."""
    checked = _person(request, session, researcher, study_id, person_id)
    if isinstance(checked, Response):
        return checked
    person, researcher = checked
    return _tlfb_page(
        request, session, researcher, study_id, person, now, _days(days), saved=saved == "1"
    )


@router.post("/history/{person_id}/tlfb", response_class=HTMLResponse)
def tlfb_post(
    study_id: int,
    person_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """Save the calendar (one edit-log row with the cells changed)."""
    checked = _interview(request, session, researcher, study_id, person_id, form)
    if isinstance(checked, Response):
        return checked
    person, researcher, loaded = checked
    days = _days(_text(form, "days"))
    fields = _form(form)
    try:
        history_tlfb.save(
            session, loaded.row, fields, days=days, today=now.date(), by=researcher.id
        )
    except HistoryInputError as exc:
        session.rollback()
        message = _error_text(exc, history_translator(loaded.row.language))
        error = {"field": exc.field, "message": message, "values": fields}
        return _tlfb_page(request, session, researcher, study_id, person, now, days, error=error)
    session.commit()
    return RedirectResponse(
        f"/r/studies/{study_id}/history/{person_id}/tlfb?days={days}&saved=1", status_code=303
    )


@router.post("/history/{person_id}/{kind}", response_class=HTMLResponse)
def add_post(
    study_id: int,
    person_id: int,
    kind: str,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """Add a landmark, partner, episode or milestone."""
    if kind not in _KINDS:
        return _unknown(request, researcher, study_id)
    form_id = f"add-{kind}" + (f"-{_text(form, 'partner')}" if kind == "episode" else "")

    def change(row: Any, fields: dict[str, str], by: int) -> Any:
        return history.add_item(session, row, kind, fields, by=by, today=now.date())

    return _change(request, form, session, researcher, study_id, person_id, now, form_id, change)


def _unknown(request: Request, researcher: Researcher | None, study_id: int) -> Response:
    if researcher is None:
        return _to_login()
    return _missing(request, researcher, study_id)


@router.post("/history/{person_id}/{kind}/{item_id}", response_class=HTMLResponse)
def edit_post(
    study_id: int,
    person_id: int,
    kind: str,
    item_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """Change a landmark, partner, episode or milestone (a reason is required)."""
    if kind not in _KINDS:
        return _unknown(request, researcher, study_id)
    form_id = f"edit-{kind}-{item_id}"

    def change(row: Any, fields: dict[str, str], by: int) -> Any:
        return history.update_item(session, row, kind, item_id, fields, by=by, today=now.date())

    return _change(request, form, session, researcher, study_id, person_id, now, form_id, change)


@router.post("/history/{person_id}/{kind}/{item_id}/delete", response_class=HTMLResponse)
def delete_post(
    study_id: int,
    person_id: int,
    kind: str,
    item_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """Delete a landmark, partner (with their episodes and milestones), episode or
    milestone (a reason is required)."""
    if kind not in _KINDS:
        return _unknown(request, researcher, study_id)
    form_id = f"delete-{kind}-{item_id}"

    def change(row: Any, fields: dict[str, str], by: int) -> Any:
        return history.remove_item(session, row, kind, item_id, fields, by=by)

    return _change(request, form, session, researcher, study_id, person_id, now, form_id, change)


@router.post("/history/{person_id}/episode/{item_id}/spell", response_class=HTMLResponse)
def spell_post(
    study_id: int,
    person_id: int,
    item_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """The type of an episode changed: end this spell and start a new one."""
    form_id = f"spell-episode-{item_id}"

    def change(row: Any, fields: dict[str, str], by: int) -> Any:
        return history.change_type(session, row, item_id, fields, by=by, today=now.date())

    return _change(request, form, session, researcher, study_id, person_id, now, form_id, change)
