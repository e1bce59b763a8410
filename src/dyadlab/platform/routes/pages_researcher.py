"""The researcher's pages: login, studies, invitations, compliance and export.

Addresses::

    GET  /r/login                      the login form; POST logs in (rate-limited)
    POST /r/logout                     ends the session
    GET  /r/studies                    the studies you are a member of, with counts
    POST /r/studies                    (owner or admin account) create a study from an
                                       uploaded protocol file (YAML, XLSForm .xlsx or
                                       REDCap .csv); you become its owner
    GET  /r/studies/{id}               the protocol in brief, invitation and export forms
    POST /r/studies/{id}/invite        (owner, collaborator) invite N couples; the links
                                       are shown once
    POST /r/studies/{id}/members       (owner) add a member or change a member's role
    POST /r/studies/{id}/members/{rid}/remove  (owner) remove a member
    GET  /r/studies/{id}/compliance    per couple (flagged below the threshold), per
                                       person, and a couple-by-day heat map (SVG)
    GET  /r/studies/{id}/uploads/{uid} (export permission) one uploaded file (an
                                       ``image``/``audio``/``file`` answer; its id is in
                                       the export), as an attachment, audit-logged

Every study page checks the researcher's role in that study with
:func:`dyadlab.platform.services.access.study_for` (through :func:`_study_or_page`): a
non-member gets the same 404 page as for a study that does not exist, a member whose
role does not allow the action a 403 page naming their role.

Login uses the core's argon2 accounts and rate limit
(:func:`dyadlab.platform.services.researchers.authenticate`) and sets the same
``dyadlab_session`` cookie as ``POST /api/v1/auth/login``; so the export button can link
to ``GET /api/v1/studies/{id}/export``, which writes every export to the audit log.
Forms are protected as described in :mod:`dyadlab.platform.routes._pages`; pages are
sent with ``Cache-Control: no-store`` (invitation links must not stay in a cache).
"""

from __future__ import annotations

import math
import re
import tempfile
import warnings
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData, UploadFile

from dyadlab.exceptions import DyadlabWarning, OptionError, ProtocolError
from dyadlab.platform.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    RateLimitError,
)
from dyadlab.platform.routes._heatmap import CELL_COLOURS, heatmap_svg, heatmap_table
from dyadlab.platform.routes._pages import CSRF_FIELD, csrf_ok, render
from dyadlab.platform.routes.deps import (
    SESSION_COOKIE,
    AppSettings,
    DbSession,
    Now,
    set_session_cookie,
)
from dyadlab.platform.services import (
    access,
    compliance,
    invitations,
    researchers,
    responses,
    studies,
)
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import Researcher, Study

__all__ = ["router"]

router = APIRouter(prefix="/r", include_in_schema=False)

MAX_COUPLES_PER_FORM = 500
MAX_PROTOCOL_BYTES = 1_000_000  # the app refuses larger request bodies (413)
_PROTOCOL_SUFFIXES = (".yaml", ".yml", ".xlsx", ".xls", ".csv")


async def _read_form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(_read_form)]


def _researcher(request: Request, session: DbSession, settings: AppSettings) -> Researcher | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return researchers.session_researcher(
        session, settings.secret_key, token, settings.session_max_age_s
    )


ResearcherOrNone = Annotated[Researcher | None, Depends(_researcher)]


def _to_login() -> RedirectResponse:
    return RedirectResponse("/r/login", status_code=303)


def _page(
    request: Request,
    template: str,
    researcher: Researcher | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return render(
        request,
        template,
        {"lang": "en", "researcher": researcher, **context},
        status_code=status_code,
    )


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _percent(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value) * 100:.0f}%"


def _number(value: Any, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.{digits}f}"


# --------------------------------------------------------------------------- login
@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def start(researcher: ResearcherOrNone) -> Response:
    """The studies when logged in, else the login form."""
    return RedirectResponse("/r/studies" if researcher else "/r/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, researcher: ResearcherOrNone) -> Response:
    """The login form."""
    return _page(request, "researcher/login.html", researcher, error=None, email="")


@router.post("/login", response_class=HTMLResponse)
def login_post(
    request: Request, form: PostedForm, session: DbSession, settings: AppSettings
) -> Response:
    """Check the password (argon2, rate-limited) and set the session cookie."""
    email = _text(form, "email")
    if not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _page(
            request,
            "researcher/login.html",
            None,
            status_code=403,
            error="The form has expired. Please try again.",
            email=email,
        )
    password = form.get("password")
    try:
        researcher = researchers.authenticate(
            session,
            email,
            password if isinstance(password, str) else "",
            client=_client(request),
            max_failures=settings.login_max_failures,
            window_s=settings.login_window_s,
        )
    except (AuthError, RateLimitError) as exc:
        return _page(
            request,
            "researcher/login.html",
            None,
            status_code=exc.status,
            error=exc.message,
            email=email,
        )
    session.commit()
    response = RedirectResponse("/r/studies", status_code=303)
    token = researchers.new_session_token(settings.secret_key, researcher)
    set_session_cookie(response, settings, token)
    return response


@router.post("/logout", response_class=HTMLResponse)
def logout(
    request: Request,
    form: PostedForm,
    session: DbSession,
    settings: AppSettings,
    researcher: ResearcherOrNone,
) -> Response:
    """End the session (a form post with the CSRF token); its token stops working."""
    if not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _to_login()
    if researcher is not None:
        researchers.end_sessions(session, researcher, client=_client(request))
        session.commit()
    response = _to_login()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --------------------------------------------------------------------------- studies
def _studies_page(
    request: Request,
    session: DbSession,
    researcher: Researcher,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return _page(
        request,
        "researcher/studies.html",
        researcher,
        status_code=status_code,
        studies=studies.list_studies(session, member=researcher.id),
        roles=access.member_roles(session, researcher.id),
        can_create=researcher.role in ("admin", "owner"),
        error=error,
    )


@router.get("/studies", response_class=HTMLResponse)
def studies_page(request: Request, session: DbSession, researcher: ResearcherOrNone) -> Response:
    """Every study with its numbers of couples, persons and responses."""
    if researcher is None:
        return _to_login()
    return _studies_page(request, session, researcher)


async def _read_protocol_upload(form: FormData) -> tuple[str, bytes] | None:
    upload = form.get("protocol")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return upload.filename, await upload.read(MAX_PROTOCOL_BYTES + 1)


async def _protocol_upload(request: Request) -> tuple[FormData, tuple[str, bytes] | None]:
    form = await request.form()
    try:
        return form, await _read_protocol_upload(form)
    finally:
        await form.close()


ProtocolUpload = Annotated[tuple[FormData, tuple[str, bytes] | None], Depends(_protocol_upload)]


def protocol_from_upload(filename: str, content: bytes) -> tuple[Any, list[str]]:
    """Read an uploaded protocol file with :func:`~dyadlab.platform.protocol.load_protocol`.

    Returns the protocol and what the reader ignored (its warnings: columns, settings
    and metadata of an XLSForm that dyadlab does not use), for the audit log.

    Raises
    ------
    ProtocolError
        An unsupported suffix, a file that is too large, or an invalid protocol (the
        message names the YAML path or the sheet and row).

    Examples
    --------
    >>> protocol_from_upload("diary.docx", b"")
    Traceback (most recent call last):
    ...
    dyadlab.exceptions.ProtocolError: 'diary.docx': a protocol is a YAML file (.yaml, .yml), \
an XLSForm spreadsheet (.xlsx, .xls) or a REDCap data dictionary (.csv).
    """
    from dyadlab.platform.protocol import load_protocol

    suffix = Path(filename).suffix.lower()
    if suffix not in _PROTOCOL_SUFFIXES:
        raise ProtocolError(
            f"{Path(filename).name!r}: a protocol is a YAML file (.yaml, .yml), an XLSForm "
            "spreadsheet (.xlsx, .xls) or a REDCap data dictionary (.csv)."
        )
    if len(content) > MAX_PROTOCOL_BYTES:
        raise ProtocolError(f"{Path(filename).name!r} is larger than 1 MB.")
    with tempfile.TemporaryDirectory(prefix="dyadlab-protocol-") as tmp:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(filename).name) or f"protocol{suffix}"
        path = Path(tmp) / safe
        path.write_bytes(content)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DyadlabWarning)
            protocol = load_protocol(path)
    notes = [str(w.message) for w in caught if issubclass(w.category, DyadlabWarning)]
    return protocol, notes


@router.post("/studies", response_class=HTMLResponse)
def create_study_post(
    request: Request, upload: ProtocolUpload, session: DbSession, researcher: ResearcherOrNone
) -> Response:
    """Create a study from an uploaded protocol file (owners only)."""
    if researcher is None:
        return _to_login()
    form, file = upload
    if not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _studies_page(
            request,
            session,
            researcher,
            error="The form has expired. Please reload the page and try again.",
            status_code=403,
        )
    if researcher.role not in ("admin", "owner"):
        return _studies_page(
            request,
            session,
            researcher,
            error="Only an owner or admin account can create studies.",
            status_code=403,
        )
    if file is None:
        return _studies_page(
            request, session, researcher, error="Choose a protocol file.", status_code=422
        )
    try:
        protocol, ignored = protocol_from_upload(*file)
    except ProtocolError as exc:
        return _studies_page(request, session, researcher, error=str(exc), status_code=422)
    study = studies.create_study(session, protocol, created_by=researcher.id)
    researchers.audit(
        session,
        "create_study",
        researcher_id=researcher.id,
        study_id=study.id,
        client=_client(request),
        detail={
            "file": Path(file[0]).name,
            "protocol_hash": study.protocol_hash,
            **({"ignored": ignored} if ignored else {}),
        },
    )
    session.commit()
    return RedirectResponse(f"/r/studies/{study.id}", status_code=303)


def _schedule_rows(protocol: Any) -> list[dict[str, str]]:
    rows = []
    for entry in protocol.schedule:
        if entry.type == "daily":
            when = f"daily at {entry.time}, open {entry.window_minutes} min"
        elif entry.type == "random":
            when = (
                f"{entry.prompts_per_day} random prompts a day between {entry.block_start} "
                f"and {entry.block_end}"
            )
        else:
            cap = f", at most {entry.max_per_day} a day" if entry.max_per_day else ""
            when = f"when it happens{cap}"
        days = f"{entry.days} days" if entry.days else "until the study ends"
        rows.append({"questionnaire": entry.questionnaire, "when": when, "days": days})
    return rows


def _study_page(
    request: Request,
    session: DbSession,
    researcher: Researcher,
    study_id: int,
    *,
    invited: list[Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    study = access.study_for(session, researcher, study_id, "read")
    summary = studies.study_summary(session, study.id)
    protocol = studies.study_protocol(study)
    settings: Settings = request.app.state.settings
    role = access.member_roles(session, researcher.id).get(study.id)
    can = {action: access.allowed(role, action) for action in access.PERMISSIONS}
    return _page(
        request,
        "researcher/study.html",
        researcher,
        status_code=status_code,
        study=study,
        summary=summary,
        protocol=protocol,
        schedule=_schedule_rows(protocol),
        role=role,
        can=can,
        uploads=responses.study_uploads(session, study.id) if can["export"] else [],
        members=access.list_members(session, study.id),
        study_roles=access.STUDY_ROLES,
        invited=invited,
        error=error,
        default_tz=settings.default_tz,
        role_options=_role_options(protocol.roles),
    )


def _role_options(roles: list[str] | None) -> list[tuple[str, str]]:
    """(form value, text) of the invitation form's roles menu; "" is the protocol's."""
    if not roles:
        return [("", "No roles (indistinguishable)")]
    a, b = roles
    return [
        ("", f"{a} and {b} (the protocol's roles)"),
        (f"{a},{a}", f"{a} and {a}"),
        (f"{b},{b}", f"{b} and {b}"),
        ("none", "No roles (indistinguishable)"),
    ]


def _form_roles(choice: str, n: int) -> list[list[str] | None] | None:
    """Per-couple roles from the form's menu value (see :func:`_role_options`)."""
    if not choice:
        return None
    if choice == "none":
        return [None] * n
    return [choice.split(",")] * n


def _study_or_page(
    request: Request, session: DbSession, researcher: Researcher, study_id: int, action: str
) -> Study | HTMLResponse:
    """The study if ``researcher`` may do ``action`` in it, else the page to answer with:
    404 (no such study, or not a member: one page for both) or 403 (the role does not
    allow it)."""
    try:
        return access.study_for(session, researcher, study_id, action)
    except NotFoundError:
        return _page(
            request, "researcher/missing.html", researcher, status_code=404, study_id=study_id
        )
    except ForbiddenError as exc:
        return _page(
            request,
            "researcher/missing.html",
            researcher,
            status_code=403,
            study_id=study_id,
            forbidden=exc.message,
        )


def _signed_in_study(
    request: Request,
    session: DbSession,
    researcher: Researcher | None,
    study_id: int,
    action: str,
) -> tuple[Study, Researcher] | Response:
    """The study and the researcher if one is logged in and may do ``action`` in the
    study, else the page to answer with: the login, or :func:`_study_or_page`'s 404/403."""
    if researcher is None:
        return _to_login()
    found = _study_or_page(request, session, researcher, study_id, action)
    if not isinstance(found, Study):
        return found
    return found, researcher


@router.get("/studies/{study_id}", response_class=HTMLResponse)
def study_page(
    study_id: int, request: Request, session: DbSession, researcher: ResearcherOrNone
) -> Response:
    """One study: protocol in brief, invitation form (owners, collaborators) and export
    (owners, collaborators, analysts)."""
    checked = _signed_in_study(request, session, researcher, study_id, "read")
    if isinstance(checked, Response):
        return checked
    _, researcher = checked
    return _study_page(request, session, researcher, study_id)


@router.post("/studies/{study_id}/invite", response_class=HTMLResponse)
def invite_post(
    study_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    settings: AppSettings,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """Invite couples (owners, collaborators); the personal links are shown on this page
    only."""
    if researcher is None:
        return _to_login()
    refused = _form_refused(request, session, researcher, study_id, form, "invite")
    if refused is not None:
        return refused
    try:
        n = int(_text(form, "couples"))
        if not 1 <= n <= MAX_COUPLES_PER_FORM:
            raise ValueError
    except ValueError:
        return _study_page(
            request,
            session,
            researcher,
            study_id,
            error=f"Number of couples: give a whole number from 1 to {MAX_COUPLES_PER_FORM}.",
            status_code=422,
        )
    start_text = _text(form, "start_date")
    try:
        start = date.fromisoformat(start_text) if start_text else None
    except ValueError:
        return _study_page(
            request,
            session,
            researcher,
            study_id,
            error=f"Start date {start_text!r}: write it as YYYY-MM-DD, or leave it empty.",
            status_code=422,
        )
    try:
        made = invitations.invite_couples(
            session,
            study_id,
            n,
            base_url=settings.base_url,
            start_date=start,
            tz=_text(form, "tz") or settings.default_tz,
            now=now,
            roles=_form_roles(_text(form, "roles"), n),
        )
    except InvalidError as exc:
        session.rollback()
        return _study_page(
            request, session, researcher, study_id, error=exc.message, status_code=422
        )
    except OptionError as exc:
        session.rollback()
        message = str(exc).removeprefix("invite_couples(): ")
        return _study_page(request, session, researcher, study_id, error=message, status_code=422)
    researchers.audit(
        session,
        "invite",
        researcher_id=researcher.id,
        study_id=study_id,
        client=_client(request),
        detail={"couples": n},
    )
    session.commit()
    return _study_page(request, session, researcher, study_id, invited=made)


# --------------------------------------------------------------------------- members
def _form_refused(
    request: Request,
    session: DbSession,
    researcher: Researcher,
    study_id: int,
    form: FormData,
    action: str,
) -> Response | None:
    """The page refusing a study form, or None: membership (404), CSRF, then ``action``'s
    permission (403, shown on the study page)."""
    found = _study_or_page(request, session, researcher, study_id, "read")
    if not isinstance(found, Study):
        return found
    if not csrf_ok(request, _text(form, CSRF_FIELD)):
        return _study_page(
            request,
            session,
            researcher,
            study_id,
            error="The form has expired. Please reload the page and try again.",
            status_code=403,
        )
    try:
        access.study_for(session, researcher, study_id, action)
    except ForbiddenError as exc:
        return _study_page(
            request, session, researcher, study_id, error=exc.message, status_code=403
        )
    return None


def _members_change(
    request: Request,
    form: FormData,
    session: DbSession,
    researcher: Researcher | None,
    study_id: int,
    change: Any,
) -> Response:
    """Check login, membership (404), CSRF and the ``members`` permission (403), then
    run ``change()``; errors are shown on the study page."""
    if researcher is None:
        return _to_login()
    refused = _form_refused(request, session, researcher, study_id, form, "members")
    if refused is not None:
        return refused
    try:
        change()
    except (ForbiddenError, NotFoundError, ConflictError) as exc:
        session.rollback()
        return _study_page(
            request, session, researcher, study_id, error=exc.message, status_code=exc.status
        )
    except OptionError as exc:
        session.rollback()
        message = str(exc).removeprefix("add_member(): ")
        return _study_page(request, session, researcher, study_id, error=message, status_code=422)
    session.commit()
    return RedirectResponse(f"/r/studies/{study_id}#members", status_code=303)


@router.post("/studies/{study_id}/members", response_class=HTMLResponse)
def member_add_post(
    study_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
) -> Response:
    """Add a member to the study, or change a member's role (owners only)."""
    return _members_change(
        request,
        form,
        session,
        researcher,
        study_id,
        lambda: access.add_member(
            session,
            study_id,
            _text(form, "email"),
            _text(form, "role"),
            by=researcher.id if researcher else None,
            client=_client(request),
        ),
    )


@router.post("/studies/{study_id}/members/{researcher_id}/remove", response_class=HTMLResponse)
def member_remove_post(
    study_id: int,
    researcher_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
) -> Response:
    """Remove a member from the study (owners only; the last owner stays)."""
    return _members_change(
        request,
        form,
        session,
        researcher,
        study_id,
        lambda: access.remove_member(
            session,
            study_id,
            researcher_id,
            by=researcher.id if researcher else None,
            client=_client(request),
        ),
    )


# --------------------------------------------------------------------------- compliance
def _parse_threshold(raw: str | None, default: float) -> float:
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    if value > 1:
        value = value / 100
    return min(max(value, 0.0), 1.0)


@router.get("/studies/{study_id}/uploads/{upload_id}", response_class=Response)
def upload_download(
    study_id: int,
    upload_id: str,
    request: Request,
    session: DbSession,
    researcher: ResearcherOrNone,
) -> Response:
    """One uploaded file of the study (its id is in the export), as an attachment.

    Like an export: for owners, collaborators and analysts (the ``export`` permission),
    written to the audit log. A file of another study, a malformed id and a missing file
    all give the same 404 page."""
    checked = _signed_in_study(request, session, researcher, study_id, "export")
    if isinstance(checked, Response):
        return checked
    study, researcher = checked
    upload = responses.upload_in_study(session, study.id, upload_id)
    if upload is None:
        return _page(
            request, "researcher/missing.html", researcher, status_code=404, study_id=study_id
        )
    researchers.audit(
        session,
        "export",
        researcher_id=researcher.id,
        study_id=study.id,
        subject=f"upload:{upload.id}",
        client=_client(request),
        detail={"format": "upload", "item": upload.item, "bytes": upload.size},
    )
    session.commit()
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", upload.filename).strip("._") or "upload"
    return Response(
        upload.data,
        media_type=upload.content_type,
        headers={
            "Content-Disposition": (
                f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(upload.filename)}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@router.get("/studies/{study_id}/compliance", response_class=HTMLResponse)
def compliance_page(
    study_id: int,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    researcher: ResearcherOrNone,
    now: Now,
    threshold: str | None = None,
) -> Response:
    """Compliance per couple (flagged below the threshold), per person and per day."""
    checked = _signed_in_study(request, session, researcher, study_id, "compliance")
    if isinstance(checked, Response):
        return checked
    study, researcher = checked
    level = _parse_threshold(threshold, settings.compliance_threshold)
    report = compliance.study_compliance(session, study.id, threshold=level, now=now)
    couples = [
        {
            "couple_id": int(r.couple_id),
            "days_due": int(r.days_due),
            "days_complete": int(r.days_complete),
            "rate": _percent(r.rate),
            "flagged": bool(r.flagged),
        }
        for r in list[Any](report.couples.itertuples(index=False))
    ]
    persons = [
        {
            "couple_id": int(r.couple_id),
            "person_id": int(r.person_id),
            "role": r.role or "–",
            "status": r.status,
            "due": int(r.due),
            "answered": int(r.answered),
            "rate": _percent(r.rate),
            "events": int(r.events),
            "reminders": int(r.reminders_sent),
            "latency": _number(r.median_latency_min),
        }
        for r in list[Any](report.persons.itertuples(index=False))
    ]
    svg = heatmap_svg(
        report.days,
        report.couples,
        threshold=level,
        title=f"Complete couple-days of study {study.id}",
    )
    return _page(
        request,
        "researcher/compliance.html",
        researcher,
        study=study,
        threshold=level,
        threshold_text=_percent(level),
        couples=couples,
        persons=persons,
        flagged=report.flagged_couples,
        heatmap=Markup(svg),  # built from numbers and escaped text only
        heatmap_table=Markup(heatmap_table(report.days, report.couples, threshold=level)),
        colours=CELL_COLOURS,
    )
