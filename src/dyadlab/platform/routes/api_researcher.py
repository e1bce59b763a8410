"""The researcher API: login, studies, invitations, compliance and export.

Access is per study (:mod:`dyadlab.platform.services.access`): every route under
``/studies/{study_id}`` takes its study through one dependency of
:mod:`~dyadlab.platform.routes.deps` that checks the researcher's role in that study. A
researcher who is not a member gets 404, exactly like a study that does not exist; a
member whose role does not allow the action gets 403. ``admin`` and ``owner`` accounts
can create studies (and own them). Every export is written to the audit log.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi import Path as PathParam

from dyadlab.exceptions import ProtocolError
from dyadlab.platform.errors import InvalidError
from dyadlab.platform.routes.deps import (
    SESSION_COOKIE,
    AdminResearcher,
    AppSettings,
    ComplianceStudy,
    CreatorResearcher,
    CurrentResearcher,
    DbSession,
    ExportStudy,
    InviteStudy,
    MembersStudy,
    Now,
    ReadStudy,
    WithdrawStudy,
    csrf_token,
    researcher_token,
    set_session_cookie,
)
from dyadlab.platform.schemas import (
    ComplianceOut,
    CoupleInviteOut,
    ErrorOut,
    InviteIn,
    InviteOut,
    LoginIn,
    LoginOut,
    MemberIn,
    MemberOut,
    ResearcherCreate,
    ResearcherOut,
    ResearcherUpdate,
    StudyCreate,
    StudyDetailOut,
    StudyOut,
    WithdrawIn,
    WithdrawOut,
)
from dyadlab.platform.services import (
    access,
    compliance,
    export,
    invitations,
    researchers,
    studies,
    withdrawal,
)
from dyadlab.platform.tables import Researcher

router = APIRouter(prefix="/api/v1", tags=["researcher"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not logged in."},
    403: {
        "model": ErrorOut,
        "description": "Your role in this study does not allow it (or CSRF).",
    },
    404: {"model": ErrorOut, "description": "No such study, or you are not one of its members."},
    422: {"model": ErrorOut, "description": "Invalid content."},
}


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _researcher_out(r: Researcher) -> ResearcherOut:
    return ResearcherOut(id=r.id, email=r.email, role=r.role, active=r.active)  # type: ignore[arg-type]


@router.post(
    "/auth/login",
    response_model=LoginOut,
    tags=["auth"],
    responses={429: {"model": ErrorOut, "description": "Too many attempts."}, **_ERRORS},
)
def login(
    body: LoginIn, request: Request, response: Response, session: DbSession, settings: AppSettings
) -> LoginOut:
    """Log in; sets the ``dyadlab_session`` cookie and returns the same token."""
    researcher = researchers.authenticate(
        session,
        body.email,
        body.password,
        client=_client(request),
        max_failures=settings.login_max_failures,
        window_s=settings.login_window_s,
    )
    session.commit()
    token = researchers.new_session_token(settings.secret_key, researcher)
    set_session_cookie(response, settings, token)
    return LoginOut(
        token=token,
        csrf_token=csrf_token(settings.secret_key, token),
        researcher=_researcher_out(researcher),
    )


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
def logout(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """Log out: every session token of this researcher (cookie or bearer) stops working."""
    token = researcher_token(request)
    researcher = (
        researchers.session_researcher(
            session, settings.secret_key, token, settings.session_max_age_s
        )
        if token
        else None
    )
    if researcher is not None:
        researchers.end_sessions(session, researcher, client=_client(request))
        session.commit()
    out = Response(status_code=status.HTTP_204_NO_CONTENT)
    out.delete_cookie(SESSION_COOKIE, path="/")
    return out


@router.get("/auth/me", response_model=ResearcherOut, tags=["auth"], responses=_ERRORS)
def whoami(researcher: CurrentResearcher) -> ResearcherOut:
    """The logged-in researcher."""
    return _researcher_out(researcher)


def _study_out(summary: studies.StudySummary, role: str | None) -> StudyOut:
    s = summary.study
    return StudyOut(
        id=s.id,
        role=role,  # type: ignore[arg-type]
        title=s.title,
        protocol_hash=s.protocol_hash,
        created_at=s.created_at,
        n_couples=summary.n_couples,
        n_persons=summary.n_persons,
        n_responses=summary.n_responses,
    )


@router.get("/studies", response_model=list[StudyOut], responses=_ERRORS)
def list_studies(session: DbSession, researcher: CurrentResearcher) -> list[StudyOut]:
    """The studies you are a member of, with their counts and your role."""
    roles = access.member_roles(session, researcher.id)
    return [
        _study_out(s, roles.get(s.study.id))
        for s in studies.list_studies(session, member=researcher.id)
    ]


@router.post(
    "/studies",
    response_model=StudyDetailOut,
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
)
def create_study(
    body: StudyCreate, request: Request, session: DbSession, researcher: CreatorResearcher
) -> StudyDetailOut:
    """Create a study from a protocol (the YAML content as a JSON object); you become its
    owner."""
    from dyadlab.platform.protocol import parse_protocol

    try:
        protocol = parse_protocol(body.protocol)
    except ProtocolError as exc:
        raise InvalidError(str(exc), code="invalid_protocol") from exc
    study = studies.create_study(session, protocol, created_by=researcher.id)
    researchers.audit(
        session,
        "create_study",
        researcher_id=researcher.id,
        study_id=study.id,
        client=_client(request),
        detail={"protocol_hash": study.protocol_hash},
    )
    session.commit()
    return StudyDetailOut(
        **_study_out(studies.StudySummary(study, 0, 0, 0), "owner").model_dump(),
        protocol=study.protocol,
    )


@router.get("/studies/{study_id}", response_model=StudyDetailOut, responses=_ERRORS)
def read_study(
    study: ReadStudy, session: DbSession, researcher: CurrentResearcher
) -> StudyDetailOut:
    """One study with its protocol, counts and your role."""
    summary = studies.study_summary(session, study.id)
    role = access.member_roles(session, researcher.id).get(study.id)
    return StudyDetailOut(**_study_out(summary, role).model_dump(), protocol=study.protocol)


@router.post(
    "/studies/{study_id}/invitations",
    response_model=InviteOut,
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
)
def invite(
    study: InviteStudy,
    body: InviteIn,
    request: Request,
    session: DbSession,
    settings: AppSettings,
    researcher: CurrentResearcher,
    now: Now,
) -> InviteOut:
    """Invite new couples (owners and collaborators); the partners' links are shown here
    once."""
    made = invitations.invite_couples(
        session,
        study.id,
        body.couples,
        base_url=settings.base_url,
        start_date=body.start_date,
        tz=body.tz or settings.default_tz,
        language=body.language,
        now=now,
        roles=body.roles,
    )
    researchers.audit(
        session,
        "invite",
        researcher_id=researcher.id,
        study_id=study.id,
        client=_client(request),
        detail={"couples": body.couples},
    )
    session.commit()
    return InviteOut(couples=[CoupleInviteOut.model_validate(c.to_dict()) for c in made])


@router.get("/studies/{study_id}/compliance", response_model=ComplianceOut, responses=_ERRORS)
def study_compliance(
    study: ComplianceStudy,
    session: DbSession,
    settings: AppSettings,
    now: Now,
    threshold: float | None = Query(default=None, ge=0, le=1),
) -> ComplianceOut:
    """Compliance per person, per couple and per couple-day; couples below the threshold
    (default 80%) are flagged."""
    report = compliance.study_compliance(
        session,
        study.id,
        threshold=settings.compliance_threshold if threshold is None else threshold,
        now=now,
    )
    return ComplianceOut.model_validate(report.to_dict())


@router.get(
    "/studies/{study_id}/export",
    responses={200: {"content": {"application/zip": {}}}, **_ERRORS},
    response_class=Response,
)
def study_export(
    study: ExportStudy,
    request: Request,
    session: DbSession,
    researcher: CurrentResearcher,
    now: Now,
    format: Literal["individual", "pairwise", "dyad"] = "individual",
    file: Literal["csv", "parquet", "sav"] = "csv",
) -> Response:
    """A ZIP with the data file, its codebook, compliance figures and withdrawals.

    Owners, collaborators and analysts; every export is written to the audit log.
    """
    with tempfile.TemporaryDirectory(prefix="dyadlab-export-") as tmp:
        out = Path(tmp) / f"study{study.id}_{format}.{file}"
        result = export.export_study(session, study.id, layout=format, out=out, now=now)
        researchers.audit(
            session,
            "export",
            researcher_id=researcher.id,
            study_id=study.id,
            client=_client(request),
            detail={"format": format, "file": file, "rows": result.n_rows},
        )
        session.commit()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in result.files:
                archive.write(path, arcname=path.name)
    name = f"study{study.id}_{format}_{file}.zip"
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/studies/{study_id}/persons/{person_id}/withdraw",
    response_model=WithdrawOut,
    responses=_ERRORS,
)
def withdraw_person(
    study: WithdrawStudy,
    person_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    body: WithdrawIn,
    session: DbSession,
    researcher: CurrentResearcher,
    now: Now,
) -> WithdrawOut:
    """Record a participant's withdrawal on their behalf (e.g. asked by e-mail), with
    deletion of their data if they asked for it (owners only). Written to the audit
    log."""
    person = withdrawal.study_person(session, study.id, person_id)
    result = withdrawal.withdraw(
        session, person, delete_data=body.delete_data, now=now, researcher_id=researcher.id
    )
    session.commit()
    return WithdrawOut(
        status="withdrawn",
        data_deleted=result.data_deleted,
        deleted_responses=result.deleted_responses,
    )


_MEMBER_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorOut, "description": "The study would lose its only owner."},
    **_ERRORS,
}


def _member_out(member: access.Member) -> MemberOut:
    return MemberOut.model_validate(member.to_dict())


@router.get("/studies/{study_id}/members", response_model=list[MemberOut], responses=_ERRORS)
def list_members(study: ReadStudy, session: DbSession) -> list[MemberOut]:
    """The study's members and their roles (every member may see them)."""
    return [_member_out(m) for m in access.list_members(session, study.id)]


@router.put(
    "/studies/{study_id}/members",
    response_model=MemberOut,
    responses=_MEMBER_ERRORS,
)
def put_member(
    study: MembersStudy,
    body: MemberIn,
    request: Request,
    session: DbSession,
    researcher: CurrentResearcher,
) -> MemberOut:
    """Add an account to the study with a role, or change its role (owners only). The
    account must exist (an admin creates it). Written to the audit log."""
    member = access.add_member(
        session, study.id, body.email, body.role, by=researcher.id, client=_client(request)
    )
    session.commit()
    return _member_out(member)


@router.delete(
    "/studies/{study_id}/members/{researcher_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_MEMBER_ERRORS,
)
def delete_member(
    study: MembersStudy,
    researcher_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    request: Request,
    session: DbSession,
    researcher: CurrentResearcher,
) -> Response:
    """Remove a member from the study (owners only; a study keeps at least one owner).
    Written to the audit log."""
    access.remove_member(
        session, study.id, researcher_id, by=researcher.id, client=_client(request)
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- accounts
@router.get(
    "/researchers", response_model=list[ResearcherOut], tags=["accounts"], responses=_ERRORS
)
def list_accounts(session: DbSession, admin: AdminResearcher) -> list[ResearcherOut]:
    """Every researcher account (admins only)."""
    return [_researcher_out(r) for r in researchers.list_researchers(session)]


@router.post(
    "/researchers",
    response_model=ResearcherOut,
    status_code=status.HTTP_201_CREATED,
    tags=["accounts"],
    responses={**_ERRORS, 409: {"model": ErrorOut, "description": "The account exists."}},
)
def create_account(
    body: ResearcherCreate, request: Request, session: DbSession, admin: AdminResearcher
) -> ResearcherOut:
    """Create an account (admins only). It sees no study until an owner adds it."""
    account = researchers.create_researcher(session, body.email, body.password, role=body.role)
    researchers.audit(
        session,
        "account_add",
        researcher_id=admin.id,
        subject=account.email,
        client=_client(request),
        detail={"role": account.role},
    )
    session.commit()
    return _researcher_out(account)


@router.patch(
    "/researchers/{researcher_id}",
    response_model=ResearcherOut,
    tags=["accounts"],
    responses=_ERRORS,
)
def update_account(
    researcher_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
    body: ResearcherUpdate,
    session: DbSession,
    admin: AdminResearcher,
) -> ResearcherOut:
    """Activate or deactivate an account (admins only); deactivating ends its sessions."""
    account = researchers.set_active(session, researcher_id, body.active, by=admin.id)
    session.commit()
    return _researcher_out(account)
