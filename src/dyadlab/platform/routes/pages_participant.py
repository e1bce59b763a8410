"""The participant's pages: personal link, consent, today's questionnaires, the
questionnaire form, settings, withdrawal and the quick exit.

Addresses (none names the study's topic; the questionnaire is addressed by its number)::

    GET  /p/{token}        stores the session cookie, then moves on to /s/ (see _pages)
    GET  /s/               today's open questionnaires (consent first if needed)
    GET  /s/consent        consent text of the current version; POST records it
    GET  /s/q/{n}          the form of questionnaire n (1-based); POST stores the answers
    GET  /s/settings       language, time zone, reminder e-mail; POST saves them
    GET  /s/withdraw       stop taking part (optionally deleting the data); POST does it
    GET  /exit             the quick-exit page: neutral content, ends the session

The pages work without JavaScript (the form posts to ``/s/q/{n}``; the server applies
the skip logic to the posted answers, then validates them). With JavaScript
(``static/participant.js``) the skip logic runs in the browser, the draft is kept on the
device and the answers are posted to ``/api/v1/me/responses`` with a client-made UUID
until the server acknowledges them. Every page is in the person's language, has the
neutral title "Study" ("Onderzoek") and a quick-exit link, and is sent with
``Cache-Control: no-store``. Only the asking person's own state is ever read here; no
page shows or hints at the partner's answers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import uuid
import zoneinfo
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

from dyadlab._validation import closest
from dyadlab.platform._expressions import ExpressionError, fill_references, parse_expression
from dyadlab.platform.errors import ConflictError, ForbiddenError, InvalidError
from dyadlab.platform.i18n import Translator, label_in, translator
from dyadlab.platform.protocol import MAX_UPLOAD_BYTES, UPLOAD_TYPES
from dyadlab.platform.routes._messages import answer_error_text, problem_text
from dyadlab.platform.routes._pages import (
    CSRF_FIELD,
    PARTICIPANT_COOKIE,
    PARTICIPANT_MAX_AGE_S,
    csrf_ok,
    render,
)
from dyadlab.platform.routes.deps import AppSettings, DbSession, Now
from dyadlab.platform.services import consent, participants, responses, withdrawal
from dyadlab.platform.services.participants import person_by_token, person_context
from dyadlab.platform.services.studies import study_protocol
from dyadlab.platform.tables import Person

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_DUTCH_DECIMAL = re.compile(r"^\s*-?\d+,\d+\s*$")
_LANGUAGE_NAMES = (("nl", "Nederlands"), ("en", "English"))
_DEFAULT_TITLES = {
    "en": {
        "daily": "Daily questions",
        "random": "Short questions",
        "event": "Report",
        "trigger": "Extra questions",
    },
    "nl": {
        "daily": "Dagelijkse vragen",
        "random": "Korte vragen",
        "event": "Melding",
        "trigger": "Extra vragen",
    },
}


async def _read_form(request: Request) -> AsyncIterator[FormData]:
    form = await request.form()
    try:
        yield form
    finally:
        await form.close()  # the temporary files of a multipart form (uploads)


PostedForm = Annotated[FormData, Depends(_read_form)]


@cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


# --------------------------------------------------------------------------- helpers
def person_key(person: Person) -> str:
    """An opaque, stable key per person for the browser's storage (not a secret)."""
    return hashlib.sha256(f"dyadlab-device:{person.token_hash}".encode()).hexdigest()[:20]


def _current_person(request: Request, session: DbSession) -> Person | None:
    token = request.cookies.get(PARTICIPANT_COOKIE)
    return person_by_token(session, token) if token else None


CurrentPersonOrNone = Annotated[Person | None, Depends(_current_person)]


def _context(request: Request, person: Person | None, **extra: Any) -> dict[str, Any]:
    language = person.language if person is not None else _browser_language(request)
    t = translator(language)
    return {
        "t": t,
        "lang": t.language,
        "person_key": person_key(person) if person is not None else "",
        "nav": person is not None and person.status == "active",
        **extra,
    }


def _browser_language(request: Request) -> str:
    accept = request.headers.get("accept-language", "").lower()
    return "nl" if accept.startswith("nl") else "en"


def _message(
    request: Request,
    person: Person | None,
    heading_key: str,
    *paragraph_keys: str,
    status_code: int = 200,
) -> HTMLResponse:
    t = translator(person.language if person is not None else _browser_language(request))
    return render(
        request,
        "participant/message.html",
        _context(
            request,
            person,
            heading=t(heading_key),
            paragraphs=[t(k) for k in paragraph_keys],
        ),
        status_code=status_code,
    )


def _no_session(request: Request) -> HTMLResponse:
    return _message(request, None, "site_title", "no_session", status_code=401)


def _csrf_failed(request: Request, person: Person | None) -> HTMLResponse:
    return _message(request, person, "site_title", "csrf_failed", status_code=403)


def _see_other(path: str) -> RedirectResponse:
    response = RedirectResponse(path, status_code=303)
    response.headers["cache-control"] = "no-store"
    return response


def _needs_consent(session: DbSession, person: Person) -> bool:
    _couple, study = person_context(session, person)
    current = study_protocol(study).consent_version
    return person.status != "active" or person.consent_version != current


def _gate(request: Request, session: DbSession, person: Person | None) -> Response | None:
    """The page to show instead when the person cannot use the study pages now."""
    if person is None:
        return _no_session(request)
    if person.status == "withdrawn":
        return _message(request, person, "withdrawn_title", "withdrawn")
    if _needs_consent(session, person):
        return _see_other("/s/consent")
    return None


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _local_hhmm(moment: datetime | None, tz: str) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def _title(protocol: Any, questionnaire: Any, kind: str, t: Translator) -> str:
    if questionnaire.label:
        return label_in(questionnaire.label, t.language, protocol.default_language)
    return _DEFAULT_TITLES[t.language].get(kind, _DEFAULT_TITLES[t.language]["daily"])


def _kind_of(protocol: Any, name: str) -> str:
    entry = protocol.schedule_entry(name)
    return "daily" if entry is None else str(entry.type)


@dataclass(frozen=True)
class _PromptView:
    questionnaire: int
    title: str
    until: str | None


def _prompt_views(
    session: DbSession, person: Person, now: datetime, t: Translator
) -> tuple[list[_PromptView], list[_PromptView]]:
    _couple, study = person_context(session, person)
    protocol = study_protocol(study)
    numbers = {q.name: i + 1 for i, q in enumerate(protocol.questionnaires)}
    scheduled: list[_PromptView] = []
    events: list[_PromptView] = []
    seen: set[str] = set()
    for prompt in responses.open_prompts_for(session, person, now=now):
        if prompt.questionnaire in seen:
            continue
        seen.add(prompt.questionnaire)
        q = protocol.questionnaire(prompt.questionnaire)
        view = _PromptView(
            numbers[q.name],
            _title(protocol, q, prompt.kind, t),
            _local_hhmm(prompt.window_end_utc, person.tz),
        )
        (events if prompt.kind == "event" else scheduled).append(view)
    return scheduled, events


# --------------------------------------------------------------------------- link, exit
@router.get("/p/{token}", response_class=HTMLResponse)
def open_link(token: str, request: Request, session: DbSession, settings: AppSettings) -> Response:
    """Store the personal token in the session cookie and move on to ``/s/``."""
    person = person_by_token(session, token)
    if person is None:
        return _message(request, None, "link_invalid_title", "link_invalid", status_code=404)
    response = render(request, "participant/opening.html", _context(request, person))
    response.set_cookie(
        PARTICIPANT_COOKIE,
        token,
        max_age=PARTICIPANT_MAX_AGE_S,
        httponly=True,
        secure=settings.https,
        samesite="strict",
        path="/",
    )
    return response


@router.get("/exit", response_class=HTMLResponse)
def quick_exit(request: Request, person: CurrentPersonOrNone) -> Response:
    """The neutral quick-exit page; ends the participant session on this device.

    With the session still in its cookie, the page names the person's device key so that
    the script deletes their drafts and unsent answers from the browser's storage even
    when the quick-exit link was followed before the script had run.
    """
    forget = person_key(person) if person is not None else ""
    response = render(request, "participant/exit.html", {"lang": "en", "forget": forget})
    response.delete_cookie(PARTICIPANT_COOKIE, path="/")
    return response


# --------------------------------------------------------------------------- home, consent
@router.get("/s", response_class=HTMLResponse)
@router.get("/s/", response_class=HTMLResponse)
def home(
    request: Request, session: DbSession, person: CurrentPersonOrNone, now: Now, sent: int = 0
) -> Response:
    """Today's open questionnaires."""
    blocked = _gate(request, session, person)
    if blocked is not None or person is None:
        return blocked or _no_session(request)
    from dyadlab.platform.routes.pages_ratings import rating_links

    t = translator(person.language)
    scheduled, events = _prompt_views(session, person, now, t)
    ratings = rating_links(study_protocol(person_context(session, person)[1]), t.language)
    return render(
        request,
        "participant/home.html",
        _context(
            request, person, scheduled=scheduled, events=events, ratings=ratings, sent=bool(sent)
        ),
    )


def _consent_page(
    request: Request, session: DbSession, person: Person, error: str | None = None
) -> HTMLResponse:
    _couple, study = person_context(session, person)
    protocol = study_protocol(study)
    text = label_in(protocol.consent_text, person.language, protocol.default_language)
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    return render(
        request,
        "participant/consent.html",
        _context(
            request,
            person,
            version=protocol.consent_version,
            consent_paragraphs=paragraphs,
            error=error,
            nav=False,
        ),
        status_code=422 if error else 200,
    )


@router.get("/s/consent", response_class=HTMLResponse)
def consent_page(request: Request, session: DbSession, person: CurrentPersonOrNone) -> Response:
    """The study information and consent form of the protocol's current version."""
    if person is None:
        return _no_session(request)
    if person.status == "withdrawn":
        return _message(request, person, "withdrawn_title", "withdrawn")
    return _consent_page(request, session, person)


@router.post("/s/consent", response_class=HTMLResponse)
def consent_post(
    request: Request,
    form: PostedForm,
    session: DbSession,
    person: CurrentPersonOrNone,
    now: Now,
) -> Response:
    """Record consent (append-only log, with the version) and go to today's page."""
    if person is None:
        return _no_session(request)
    if not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _csrf_failed(request, person)
    if _text(form, "agree") != "yes":
        return _consent_page(
            request, session, person, error=translator(person.language)("consent_required")
        )
    try:
        version = int(_text(form, "version") or "0")
    except ValueError:
        version = 0
    try:
        consent.give_consent(session, person, version=version, now=now)
    except ConflictError as exc:
        t = translator(person.language)
        return _consent_page(request, session, person, error=problem_text(exc.code, t))
    session.commit()
    return _see_other("/s/")


#: A default that is an expression (``today()``, ``${other}``): not filled in as text;
#: the page script evaluates it when the page is loaded (``data-default-expr``).
_DYNAMIC = re.compile(r"\$\{|\(")


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- the form
def _number_in_path(text: str) -> int:
    """The questionnaire number of an address; 0 (no questionnaire) if it is not one."""
    return int(text) if text.isdigit() and len(text) < 6 else 0


def _questionnaire_by_number(protocol: Any, number: int) -> Any | None:
    if 1 <= number <= len(protocol.questionnaires):
        return protocol.questionnaires[number - 1]
    return None


def _piped(text: str | None, values: dict[str, Any]) -> Any:
    """A label or hint with ``${name}`` filled in from ``values`` (XLSForm "piping"),
    kept in ``data-text`` so that the page script fills it in again as answers change.
    Both the text and the template are escaped."""
    if text is None or "${" not in text:
        return text
    return Markup('<span class="piped" data-text="{}">{}</span>').format(
        text, fill_references(text, values)
    )


def _item_view(
    protocol: Any, item: Any, language: str, value: Any, error: str | None
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "name": item.name,
        "type": item.type,
        "label": label_in(item.label, language, protocol.default_language),
        "required": item.required,
        "relevant": item.relevant,
        "error": error,
        "choices": [(str(v), text) for v, text in protocol.choice_labels(item, language)],
        "min_text": "" if item.min is None else _number_text(item.min),
        "max_text": "" if item.max is None else _number_text(item.max),
    }
    for key in ("hint", "guidance_hint"):
        texts = getattr(item, key)
        view[key] = label_in(texts, language, protocol.default_language) if texts else None
    view["required_if"] = item.required_if
    view["choice_filter"] = item.choice_filter
    view["props"] = [
        json.dumps(
            {
                "@name": c.value,
                "@label": label_in(c.label, protocol.default_language, protocol.default_language),
                **{f"@{k}": v for k, v in c.properties.items()},
            }
        )
        for c in (protocol.choices.get(item.choices or "", []) if item.choice_filter else [])
    ]
    view["calculation"] = item.calculation
    literal = item.default is not None and not _DYNAMIC.search(item.default)
    view["default"] = item.default if literal else None
    view["default_expr"] = item.default if item.default is not None and not literal else None
    if value is None and literal:
        value = item.default.split() if item.type == "multiple" else item.default
    if item.type == "multiple":
        view["value"] = [str(v) for v in value] if isinstance(value, list) else []
    elif item.type == "rank":
        order = [str(v) for v in value] if isinstance(value, list) else []
        view["rank"] = [
            (v, text, order.index(v) + 1 if v in order else None) for v, text in view["choices"]
        ]
        view["value"] = order
    else:
        view["value"] = "" if value is None else str(value)
    if item.type == "slider":
        low = 0.0 if item.min is None else float(item.min)
        high = 100.0 if item.max is None else float(item.max)
        step = float(item.step) if item.step else 1.0
        middle = low + math.floor((high - low) / 2 / step) * step
        view.update(
            min_text=_number_text(low),
            max_text=_number_text(high),
            step_text=_number_text(step),
            mid_text=_number_text(middle),
            whole_steps=float(step).is_integer() and float(low).is_integer(),
        )
    return view


def _form_page(
    request: Request,
    session: DbSession,
    person: Person,
    now: datetime,
    number: int,
    *,
    values: dict[str, Any] | None = None,
    errors: list[dict[str, Any]] | None = None,
    notice: str | None = None,
    submission_id: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    _couple, study = person_context(session, person)
    protocol = study_protocol(study)
    questionnaire = _questionnaire_by_number(protocol, number)
    t = translator(person.language)
    prompts = [
        p
        for p in responses.open_prompts_for(session, person, now=now)
        if questionnaire is not None and p.questionnaire == questionnaire.name
    ]
    if questionnaire is None or (not prompts and notice is None):
        return _message(request, person, "site_title", "questionnaire_closed", status_code=404)
    values = values or {}
    # every problem in the person's language (the services' messages are English)
    errors = [{**e, "message": answer_error_text(e, t)} for e in errors or []]
    by_item = {str(e.get("item")): str(e.get("message", "")) for e in errors}
    items = [
        _item_view(protocol, item, t.language, values.get(item.name), by_item.get(item.name))
        for item in questionnaire.items
    ]
    for view in items:
        for key in ("label", "hint", "guidance_hint"):
            view[key] = _piped(view[key], values)
        view["choices"] = [(v, _piped(text, values)) for v, text in view["choices"]]
    section = None
    for item, view in zip(questionnaire.items, items, strict=True):
        if item.section != section and item.section in questionnaire.sections:
            texts = questionnaire.sections[item.section]
            view["section_label"] = label_in(texts, t.language, protocol.default_language)
        section = item.section
    kind = prompts[0].kind if prompts else _kind_of(protocol, questionnaire.name)
    return render(
        request,
        "participant/form.html",
        _context(
            request,
            person,
            title=_title(protocol, questionnaire, kind, t),
            until=_local_hhmm(prompts[0].window_end_utc, person.tz) if prompts else None,
            questionnaire=number,
            questionnaire_name=questionnaire.name,
            kind=_kind_of(protocol, questionnaire.name),
            items=items,
            item_names={i["name"] for i in items},
            item_titles={i["name"]: i["label"] for i in items},
            uploads=any(i.type in UPLOAD_TYPES for i in questionnaire.items),
            upload_max=f"{MAX_UPLOAD_BYTES // 1000} KB",
            errors=errors,
            error_message=None,
            notice=notice,
            submission_id=submission_id or str(uuid.uuid4()),
        ),
        status_code=status_code,
    )


@router.get("/s/q/{number}", response_class=HTMLResponse)
def questionnaire_page(
    number: str, request: Request, session: DbSession, person: CurrentPersonOrNone, now: Now
) -> Response:
    """The form of questionnaire ``number`` (1-based), if it is open for this person."""
    blocked = _gate(request, session, person)
    if blocked is not None or person is None:
        return blocked or _no_session(request)
    return _form_page(request, session, person, now, _number_in_path(number))


def posted_answers(questionnaire: Any, form: FormData, *, language: str = "en") -> dict[str, Any]:
    """The answers in a posted form, with the skip logic applied as the browser would.

    Empty fields are left out; answers to items whose ``relevant`` condition is false
    given the earlier answers are dropped, exactly as the page script hides them (the
    form without JavaScript shows every question). On a Dutch page a decimal answer
    written with the Dutch decimal comma (``2,5``) is read as ``2.5``, as the script does;
    the server itself accepts only a decimal point.

    Examples
    --------
    >>> from starlette.datastructures import FormData
    >>> from dyadlab.platform.protocol import example_protocol
    >>> evening = example_protocol().questionnaire("evening")
    >>> posted_answers(evening, FormData([("conflict", "no"), ("conflict_intensity", "4")]))
    {'conflict': 'no'}
    """
    raw: dict[str, Any] = {}
    for item in questionnaire.items:
        if item.type == "multiple":
            chosen = [v for v in form.getlist(item.name) if isinstance(v, str) and v]
            if chosen:
                raw[item.name] = chosen
            continue
        if item.type == "rank":
            ranked = _ranked(item.name, form)
            if ranked:
                raw[item.name] = ranked
            continue
        if item.type in UPLOAD_TYPES:
            given = _uploaded(form.get(item.name))
            if given is not None:
                raw[item.name] = given
            continue
        value = form.get(item.name)
        if isinstance(value, str) and value.strip():
            raw[item.name] = value if item.type == "text" else value.strip()
            if item.type == "decimal" and language == "nl" and _DUTCH_DECIMAL.match(value):
                raw[item.name] = value.strip().replace(",", ".")
    kept: dict[str, Any] = {}
    for item in questionnaire.items:
        if item.relevant:
            try:
                shown = parse_expression(item.relevant).is_true(kept)
            except ExpressionError:
                shown = True
            if not shown:
                continue
        if item.type == "calculate" and item.calculation:
            try:  # for the skip logic of later items; the server computes it again
                value = parse_expression(item.calculation).evaluate({**raw, **kept})
            except ExpressionError:
                continue
            if value not in (None, "") and value == value:  # not NaN
                kept[item.name] = value
            continue
        if item.name in raw:
            kept[item.name] = raw[item.name]
    return kept


def _uploaded(value: Any) -> dict[str, Any] | None:
    """A file posted in a multipart form as the API's file answer (base64), or None.

    At most one byte more than the limit is read: validate_answers names the size."""
    if isinstance(value, str) or value is None or not getattr(value, "filename", ""):
        return None
    data = value.file.read(MAX_UPLOAD_BYTES + 1)
    if not data:
        return None
    return {
        "filename": value.filename,
        "content_type": value.content_type or "application/octet-stream",
        "data": base64.b64encode(data).decode("ascii"),
    }


def _ranked(name: str, form: FormData) -> list[str]:
    """A rank item's choices in the order of the places given (``NAME__VALUE`` = place);
    a place that is not a number is kept last, so that the server names the problem."""
    prefix = f"{name}__"
    places: list[tuple[float, str]] = []
    for key, value in form.multi_items():
        if key.startswith(prefix) and isinstance(value, str) and value.strip():
            text = value.strip()
            place = float(text) if text.isdigit() else float("inf")
            places.append((place, key[len(prefix) :]))
    return [choice for _, choice in sorted(places)]


@router.post("/s/q/{number}", response_class=HTMLResponse)
def questionnaire_post(
    number: str,
    request: Request,
    form: PostedForm,
    session: DbSession,
    settings: AppSettings,
    person: CurrentPersonOrNone,
    now: Now,
) -> Response:
    """Store the answers of a form posted without JavaScript (idempotent by its id)."""
    if person is None:
        return _no_session(request)
    if not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _csrf_failed(request, person)
    blocked = _gate(request, session, person)
    if blocked is not None:
        return blocked
    _couple, study = person_context(session, person)
    protocol = study_protocol(study)
    position = _number_in_path(number)
    questionnaire = _questionnaire_by_number(protocol, position)
    if questionnaire is None:
        return _message(request, person, "site_title", "questionnaire_closed", status_code=404)
    answers = posted_answers(questionnaire, form, language=person.language)
    try:
        submission_id = uuid.UUID(_text(form, "submission_id") or "")
    except ValueError:
        submission_id = uuid.uuid4()
    t = translator(person.language)
    again: dict[str, Any] = {"values": answers, "submission_id": str(submission_id)}
    try:
        responses.submit_response(
            session,
            person,
            submission_id=submission_id,
            questionnaire=questionnaire.name,
            answers=answers,
            grace_min=settings.submission_grace_min,
            now=now,
        )
    except InvalidError as exc:
        errors = exc.details or [{"item": "", "code": exc.code}]
        return _form_page(
            request, session, person, now, position, errors=errors, status_code=422, **again
        )
    except ConflictError as exc:
        notice = problem_text(exc.code, t, kind=_kind_of(protocol, questionnaire.name))
        return _form_page(
            request, session, person, now, position, notice=notice, status_code=409, **again
        )
    except ForbiddenError:
        return _see_other("/s/consent")
    session.commit()
    return _see_other("/s/?sent=1")


# --------------------------------------------------------------------------- settings
def _settings_page(
    request: Request, person: Person, *, saved: bool = False, error: str | None = None
) -> HTMLResponse:
    return render(
        request,
        "participant/settings.html",
        _context(
            request,
            person,
            me=person,
            languages=_LANGUAGE_NAMES,
            zones=_zones(),
            saved=saved,
            error=error,
        ),
        status_code=422 if error else 200,
    )


@router.get("/s/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, session: DbSession, person: CurrentPersonOrNone, saved: int = 0
) -> Response:
    """Language, time zone and reminder e-mail address."""
    blocked = _gate(request, session, person)
    if blocked is not None or person is None:
        return blocked or _no_session(request)
    return _settings_page(request, person, saved=bool(saved))


@router.post("/s/settings", response_class=HTMLResponse)
def settings_post(
    request: Request, form: PostedForm, session: DbSession, person: CurrentPersonOrNone
) -> Response:
    """Save this person's language, time zone and e-mail address."""
    if person is None:
        return _no_session(request)
    if not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _csrf_failed(request, person)
    blocked = _gate(request, session, person)
    if blocked is not None:
        return blocked
    try:
        participants.update_person(
            session,
            person,
            tz=(_text(form, "tz") or "").strip() or None,
            language=_text(form, "language") or None,
            email=_text(form, "email"),
        )
    except InvalidError as exc:
        session.rollback()
        t = translator(person.language)
        return _settings_page(request, person, error=_settings_error(exc, form, t))
    session.commit()
    return _see_other("/s/settings?saved=1")


def _settings_error(exc: InvalidError, form: FormData, t: Translator) -> str:
    """A settings problem in the person's language (a time zone name that does not exist
    gets the closest existing one as a suggestion)."""
    if exc.code == "invalid_timezone":
        tz = (_text(form, "tz") or "").strip()
        hint = closest(tz, _zones())
        text = t("timezone_unknown", tz=tz)
        return f"{text} {t('timezone_suggestion', hint=hint)}" if hint else text
    if exc.code == "invalid_language":
        return t("language_unknown")
    if exc.code == "invalid_email":
        return t("email_invalid")
    return t("page_error")


# --------------------------------------------------------------------------- withdrawal
@router.get("/s/withdraw", response_class=HTMLResponse)
def withdraw_page(request: Request, session: DbSession, person: CurrentPersonOrNone) -> Response:
    """Explain withdrawal and offer to delete the data given so far."""
    if person is None:
        return _no_session(request)
    if person.status == "withdrawn":
        return _message(request, person, "withdrawn_title", "withdrawn")
    return render(request, "participant/withdraw.html", _context(request, person))


@router.post("/s/withdraw", response_class=HTMLResponse)
def withdraw_post(
    request: Request, form: PostedForm, session: DbSession, person: CurrentPersonOrNone, now: Now
) -> Response:
    """Withdraw this person (append-only log), deleting their data if they asked."""
    if person is None:
        return _no_session(request)
    if not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _csrf_failed(request, person)
    delete_data = _text(form, "delete_data") == "yes"
    try:
        result = withdrawal.withdraw(session, person, delete_data=delete_data, now=now)
    except ConflictError:
        return _message(request, person, "withdrawn_title", "withdrawn")
    session.commit()
    keys = ("withdrawn", "withdrawn_deleted") if result.data_deleted else ("withdrawn",)
    return _message(request, person, "withdrawn_title", *keys)
