"""The participant's own API: ``/api/v1/me/...``, authorised by the personal token.

Every route reads and writes only the asking person's rows. Another person's data —
the partner's included — is answered exactly like data that does not exist (404).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response, status

from dyadlab.platform.errors import NotFoundError
from dyadlab.platform.routes.deps import AppSettings, CurrentPerson, DbSession, Now
from dyadlab.platform.schemas import (
    ConsentIn,
    ConsentOut,
    ErrorOut,
    MeOut,
    MeUpdate,
    PromptOut,
    PromptsOut,
    PushStatusOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    ResponseIn,
    ResponseOut,
    ResponsesOut,
    WithdrawIn,
    WithdrawOut,
)
from dyadlab.platform.services import consent, participants, push, responses, withdrawal
from dyadlab.platform.services.studies import study_protocol
from dyadlab.platform.tables import Person

router = APIRouter(prefix="/api/v1/me", tags=["participant"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No or an invalid personal token."},
    404: {"model": ErrorOut, "description": "Not found (or not yours)."},
    409: {"model": ErrorOut, "description": "Not possible now (window closed, withdrawn)."},
    422: {"model": ErrorOut, "description": "Invalid content; the message names the item."},
}


def _me(session: DbSession, person: Person) -> MeOut:
    _couple, study = participants.person_context(session, person)
    protocol = study_protocol(study)
    text = protocol.consent_text.get(person.language) or protocol.consent_text.get(
        protocol.default_language, ""
    )
    return MeOut(
        study=study.title,
        role=person.role,
        tz=person.tz,
        language=person.language,
        status=person.status,  # type: ignore[arg-type]
        consent_version=person.consent_version,
        current_consent_version=protocol.consent_version,
        consent_text=text,
        email=person.email,
    )


@router.get("", response_model=MeOut, responses=_ERRORS)
def read_me(session: DbSession, person: CurrentPerson) -> MeOut:
    """This person's settings, consent state and the consent text in their language."""
    return _me(session, person)


@router.patch("", response_model=MeOut, responses=_ERRORS)
def update_me(body: MeUpdate, session: DbSession, person: CurrentPerson) -> MeOut:
    """Change this person's time zone, language or reminder e-mail address."""
    participants.update_person(
        session, person, tz=body.tz, language=body.language, email=body.email
    )
    session.commit()
    return _me(session, person)


@router.post("/consent", response_model=ConsentOut, responses=_ERRORS)
def give_consent(
    body: ConsentIn, session: DbSession, person: CurrentPerson, now: Now
) -> ConsentOut:
    """Consent to version ``version`` of the study information (appended to the log)."""
    event = consent.give_consent(session, person, version=body.version, now=now)
    session.commit()
    return ConsentOut(status=person.status, consent_version=body.version, at=event.at)


@router.get("/prompts", response_model=PromptsOut, responses=_ERRORS)
def open_prompts(session: DbSession, person: CurrentPerson, now: Now) -> PromptsOut:
    """The questionnaires open to this person now."""
    prompts = responses.open_prompts_for(session, person, now=now)
    return PromptsOut(
        prompts=[
            PromptOut(
                key=p.key,
                questionnaire=p.questionnaire,
                kind=p.kind,
                diary_day=p.diary_day,
                prompt_number=p.prompt_number,
                scheduled_at=p.scheduled_utc,
                window_end_at=p.window_end_utc,
                scheduled_local=p.scheduled_local.isoformat() if p.scheduled_local else None,
                tz=p.tz,
            )
            for p in prompts
        ]
    )


@router.post(
    "/responses",
    response_model=ResponseOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": ResponseOut, "description": "Already stored (a retry)."}, **_ERRORS},
)
def post_response(
    body: ResponseIn,
    session: DbSession,
    settings: AppSettings,
    person: CurrentPerson,
    now: Now,
) -> Response:
    """Store a response: 201 when new, 200 with the stored one when ``submission_id`` was
    seen before (nothing is duplicated)."""
    # The answer's JSON is made before the commit: whatever fails, fails while the row
    # can still be rolled back (a 500 never stands for a stored answer, which the phone
    # would then resend forever).
    result = responses.submit_response(
        session,
        person,
        submission_id=body.submission_id,
        questionnaire=body.questionnaire,
        answers=body.answers,
        started_at=body.started_at,
        finished_at=body.finished_at,
        grace_min=settings.submission_grace_min,
        now=now,
    )
    out = ResponseOut.model_validate(responses.response_to_dict(result.response))
    content = out.model_dump_json().encode("utf-8")
    session.commit()
    code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return Response(content, status_code=code, media_type="application/json")


@router.get("/responses", response_model=ResponsesOut, responses=_ERRORS)
def list_responses(session: DbSession, person: CurrentPerson) -> dict[str, Any]:
    """This person's own responses, oldest first."""
    rows = responses.list_responses(session, person)
    return {"responses": [responses.response_to_dict(r) for r in rows]}


@router.get("/responses/{submission_id}", response_model=ResponseOut, responses=_ERRORS)
def read_response(submission_id: str, session: DbSession, person: CurrentPerson) -> dict[str, Any]:
    """One of this person's own responses; 404 for anything else."""
    row = responses.get_response(session, person, submission_id)
    if row is None:
        raise NotFoundError()
    return responses.response_to_dict(row)


@router.post("/withdraw", response_model=WithdrawOut, responses=_ERRORS)
def withdraw(body: WithdrawIn, session: DbSession, person: CurrentPerson, now: Now) -> WithdrawOut:
    """Leave the study; with ``delete_data`` the answers given so far are deleted too."""
    result = withdrawal.withdraw(session, person, delete_data=body.delete_data, now=now)
    session.commit()
    return WithdrawOut(
        status="withdrawn",
        data_deleted=result.data_deleted,
        deleted_responses=result.deleted_responses,
    )


@router.get("/push", response_model=PushStatusOut, responses=_ERRORS)
def push_status(session: DbSession, settings: AppSettings, person: CurrentPerson) -> PushStatusOut:
    """Whether reminders can come by Web Push, the key to subscribe with, and how many of
    this person's devices are subscribed."""
    return PushStatusOut(
        available=settings.push_enabled,
        public_key=settings.vapid_public_key if settings.push_enabled else None,
        subscriptions=len(push.subscriptions_of(session, person.id)),
    )


@router.put("/push", response_model=PushSubscriptionOut, responses=_ERRORS)
def save_push_subscription(
    body: PushSubscriptionIn,
    session: DbSession,
    settings: AppSettings,
    person: CurrentPerson,
    now: Now,
) -> PushSubscriptionOut:
    """Store this device's subscription (``PushSubscription.toJSON()``), replacing the one
    with the same endpoint; 409 ``push_off`` when the server has no VAPID keys."""
    row = push.save_subscription(
        session,
        person,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        settings=settings,
        now=now,
    )
    session.commit()
    return PushSubscriptionOut(endpoint=row.endpoint, created_at=row.created_at)


@router.delete(
    "/push",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_ERRORS,
)
def delete_push_subscription(
    session: DbSession,
    person: CurrentPerson,
    endpoint: str = Query(max_length=2048, description="The subscription's endpoint."),
) -> Response:
    """Stop reminders to one of this person's devices; 404 if it is not theirs."""
    push.delete_subscription(session, person, endpoint)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
