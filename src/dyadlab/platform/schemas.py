"""Request and response bodies of the JSON API (pydantic v2).

Separate models for what comes in (``*In``) and what goes out (``*Out``); the OpenAPI
document at ``/api/v1/openapi.json`` is generated from them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dyadlab.platform._inputs import tree_problem
from dyadlab.platform.errors import InvalidError

__all__ = [
    "ComplianceOut",
    "ConsentIn",
    "ConsentOut",
    "CoupleInviteOut",
    "ErrorOut",
    "InviteIn",
    "InviteOut",
    "LoginIn",
    "LoginOut",
    "MeOut",
    "MeUpdate",
    "MemberIn",
    "MemberOut",
    "PromptOut",
    "PromptsOut",
    "PushStatusOut",
    "PushSubscriptionIn",
    "PushSubscriptionOut",
    "RatingBatchIn",
    "RatingBatchOut",
    "RatingClockIn",
    "RatingMarkerIn",
    "RatingMarkerOut",
    "RatingSessionIn",
    "RatingSessionOut",
    "ResearcherCreate",
    "ResearcherOut",
    "ResearcherUpdate",
    "ResponseIn",
    "ResponseOut",
    "ResponsesOut",
    "ServerClockOut",
    "StudyCreate",
    "StudyDetailOut",
    "StudyOut",
    "WithdrawIn",
    "WithdrawOut",
]


class _In(BaseModel):
    """A request body: unknown fields are refused, and so is every text (keys included)
    that holds an unpaired surrogate or a control character other than tab and line
    breaks (:mod:`dyadlab.platform._inputs`), with 422 ``invalid_text`` naming the place
    (an answer by its item name, as the other answer problems)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _check_texts(cls, data: Any) -> Any:
        found = tree_problem(data)
        if found is not None:
            place, problem = found
            item = place.removeprefix("answers.") if place.startswith("answers.") else place
            raise InvalidError(
                f"{place}: {problem}.",
                code="invalid_text",
                details=[{"item": item, "message": problem, "code": "bad_character"}],
            )
        return data


class ErrorItem(BaseModel):
    """One problem, e.g. an answer item and what is wrong with it.

    An answer problem also has a stable ``code`` (``dyadlab.platform.protocol.
    ANSWER_ERROR_CODES``) and, where the message has values in it, ``params`` (e.g.
    ``{"min": 0, "max": 100}``): what the participant pages translate.
    """

    item: str
    message: str
    code: str | None = None
    params: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    """``code`` is stable (for programs); ``message`` is for people."""

    code: str
    message: str
    details: list[ErrorItem] | None = None


class ErrorOut(BaseModel):
    """The one error shape of the API: ``{"error": {"code", "message"}}``."""

    error: ErrorBody


# ----------------------------------------------------------------- participant
class MeOut(BaseModel):
    """The participant's own settings and state."""

    study: str
    role: str | None
    tz: str
    language: str
    status: Literal["invited", "active", "withdrawn"]
    consent_version: int | None
    current_consent_version: int
    consent_text: str
    email: str | None


class MeUpdate(_In):
    """Change one's own time zone (IANA name), language or reminder e-mail address."""

    tz: str | None = Field(default=None, max_length=64)
    language: Literal["en", "nl"] | None = None
    email: str | None = Field(default=None, max_length=320)


class ConsentIn(_In):
    """Consent to this version of the study information."""

    version: int


class ConsentOut(BaseModel):
    """The recorded consent."""

    status: str
    consent_version: int
    at: datetime


class PromptOut(BaseModel):
    """A questionnaire open now."""

    key: str
    questionnaire: str
    kind: str
    diary_day: int
    prompt_number: int
    scheduled_at: datetime | None
    window_end_at: datetime | None
    scheduled_local: str | None = Field(
        description="Local wall-clock time in tz, ISO 8601 without an offset."
    )
    tz: str


class PromptsOut(BaseModel):
    """The questionnaires open to this person now."""

    prompts: list[PromptOut]


class ResponseIn(_In):
    """A submission. ``submission_id`` is made by the client (a UUID) and makes retries safe."""

    submission_id: uuid.UUID
    questionnaire: str = Field(max_length=128)
    answers: dict[str, Any]
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ResponseOut(BaseModel):
    """A stored response.

    Items removed because the partner withdrew with deletion are simply absent: the
    response does not say that anything was removed (the partner's withdrawal is theirs
    to tell); the research team's export lists them in ``redacted``."""

    submission_id: uuid.UUID
    questionnaire: str
    answers: dict[str, Any]
    prompt_key: str
    diary_day: int
    prompt_number: int
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime
    received_at: datetime
    tz: str
    local_time: str = Field(description="Finished, local wall-clock time in tz (no offset).")
    status: str


class ResponsesOut(BaseModel):
    """This person's own responses."""

    responses: list[ResponseOut]


class WithdrawIn(_In):
    """Leave the study; ``delete_data`` also deletes the answers given so far."""

    delete_data: bool = False


class WithdrawOut(BaseModel):
    """What the withdrawal did."""

    status: str
    data_deleted: bool
    deleted_responses: int


class RatingSessionIn(_In):
    """Start (or join) the couple's session of a protocol's rating."""

    rating: str = Field(max_length=128, description="The name in the protocol's rating_sessions.")


class RatingSessionOut(BaseModel):
    """A couple's rating session: its times, whether it runs, and the scale."""

    session_id: int
    rating: str
    started_at: datetime
    ends_at: datetime = Field(description="When it ends by itself (the protocol's max_minutes).")
    stopped_at: datetime | None
    running: bool
    min: float
    max: float
    rate_hz: float


class RatingClockIn(_In):
    """The phone's latest estimate of the server's clock minus its own (milliseconds),
    the round trip it came from and the device time it was made at."""

    offset_ms: float = Field(allow_inf_nan=False)
    rtt_ms: float = Field(ge=0, allow_inf_nan=False)
    at_ms: float = Field(allow_inf_nan=False)


class RatingBatchIn(_In):
    """One upload: ``samples`` are ``[t_ms, value]`` pairs, ``t_ms`` on the phone's clock
    (``performance.timeOrigin + performance.now()``). ``batch_id`` is made by the phone
    and makes resending safe."""

    batch_id: uuid.UUID
    samples: list[tuple[float, float]] = Field(max_length=30_000)
    clock: RatingClockIn


class RatingBatchOut(BaseModel):
    """The server has the batch (201 now, 200 before); ``running`` says whether the
    session still runs (the partner or the time may have ended it)."""

    batch_id: uuid.UUID
    stored: int
    running: bool


class RatingMarkerIn(_In):
    """A moment of a running session, for both partners: ``stimulus`` (``label`` names
    it) or ``stop`` (ends the session)."""

    kind: Literal["stimulus", "stop"]
    label: str | None = Field(default=None, max_length=200)


class RatingMarkerOut(BaseModel):
    """A stored marker; ``t_ms`` is server milliseconds since the session's start."""

    session_id: int
    kind: str
    label: str | None
    source: str
    at: datetime
    t_ms: float


class ServerClockOut(BaseModel):
    """The server's clock in Unix milliseconds (for the phone's NTP-style estimate)."""

    server_ms: float


StudyRole = Literal["owner", "collaborator", "analyst", "monitor"]


class MemberIn(_In):
    """Give an account a role in the study (adds it, or changes its role)."""

    email: str = Field(max_length=320, description="The account's e-mail address (its login).")
    role: StudyRole = Field(description="What it may do: docs/reference/access.md.")


class MemberOut(BaseModel):
    """A member of a study."""

    researcher_id: int
    email: str
    role: StudyRole
    added_at: datetime


def _b64url(value: str, name: str, size: int, what: str) -> bytes:
    import base64
    import binascii

    problem = PydanticCustomError(
        "push_key",
        "{name} must be {what}: {size} bytes in base64url, as "
        "PushSubscription.toJSON().keys.{name} gives it",
        {"name": name, "what": what, "size": size},
    )
    text = value.strip()
    if not text or any(c not in _B64URL for c in text.rstrip("=")):
        raise problem
    try:
        raw = base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise problem from None
    if len(raw) != size:
        raise problem
    return raw


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


class PushKeysIn(_In):
    """The browser's keys of a push subscription."""

    p256dh: str = Field(max_length=128, description="The browser's P-256 public key.")
    auth: str = Field(max_length=64, description="The browser's 16-byte auth secret.")

    @field_validator("p256dh")
    @classmethod
    def _point(cls, value: str) -> str:
        raw = _b64url(value, "p256dh", 65, "the browser's public key (an uncompressed P-256 point)")
        from cryptography.hazmat.primitives.asymmetric import ec

        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise PydanticCustomError(
                "push_key", "p256dh is not a point on the P-256 curve; send the browser's key"
            ) from None
        return value.strip()

    @field_validator("auth")
    @classmethod
    def _secret(cls, value: str) -> str:
        _b64url(value, "auth", 16, "the browser's auth secret")
        return value.strip()


class PushSubscriptionIn(BaseModel):
    """A browser's push subscription: ``PushSubscription.toJSON()`` as it is."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    endpoint: str = Field(
        min_length=1,
        max_length=2048,
        description="The push service's address for this browser (https://).",
    )
    expiration_time: float | None = Field(
        default=None, alias="expirationTime", description="Ignored (browsers send null)."
    )
    keys: PushKeysIn

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
            raise PydanticCustomError(
                "push_endpoint",
                "endpoint must be the https:// address of a browser push service, as "
                "PushSubscription.toJSON().endpoint gives it",
            )
        return value


class PushSubscriptionOut(BaseModel):
    """A stored subscription (the keys are not sent back)."""

    endpoint: str
    created_at: datetime


class PushStatusOut(BaseModel):
    """Whether this server sends Web Push reminders, its public key, and how many of this
    person's devices are subscribed."""

    available: bool
    public_key: str | None = Field(
        description="The VAPID public key for pushManager.subscribe (applicationServerKey)."
    )
    subscriptions: int


# ----------------------------------------------------------------- researcher
class LoginIn(_In):
    """Researcher login."""

    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class ResearcherOut(BaseModel):
    """A researcher account."""

    id: int
    email: str
    role: Literal["admin", "owner", "analyst"]
    active: bool = True


class ResearcherCreate(_In):
    """A new researcher account (admins only)."""

    email: str = Field(max_length=320)
    password: str = Field(min_length=10, max_length=1024)
    role: Literal["admin", "owner", "analyst"] = "analyst"


class ResearcherUpdate(_In):
    """Activate or deactivate an account (admins only)."""

    active: bool


class LoginOut(BaseModel):
    """A session: ``token`` works as a bearer token; the cookie needs ``csrf_token`` in the
    ``X-CSRF-Token`` header of every changing request."""

    token: str
    csrf_token: str
    researcher: ResearcherOut


class StudyCreate(_In):
    """A new study from a protocol (the YAML content as JSON)."""

    protocol: dict[str, Any]


class StudyOut(BaseModel):
    """A study with its counts and your role in it."""

    id: int
    title: str
    protocol_hash: str
    created_at: datetime
    n_couples: int
    n_persons: int
    n_responses: int
    role: Literal["owner", "collaborator", "analyst", "monitor"] | None = Field(
        default=None,
        description="Your role in this study (what it allows: docs/reference/access.md).",
    )


class StudyDetailOut(StudyOut):
    """A study with its protocol."""

    protocol: dict[str, Any]


_RoleLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class InviteIn(_In):
    """Invite ``couples`` new couples.

    Without ``roles`` every couple gets the protocol's roles. With ``roles``, one entry
    per couple gives its composition: two role labels (the same label twice for a
    same-role couple, e.g. ``["woman", "woman"]``) or ``null`` for a couple without
    roles (indistinguishable). When the protocol names roles, only those labels are
    accepted.
    """

    couples: int = Field(ge=1, le=1000)
    start_date: date | None = None
    tz: str | None = None
    language: str | None = None
    roles: list[Annotated[list[_RoleLabel], Field(min_length=2, max_length=2)] | None] | None = (
        Field(
            default=None,
            max_length=1000,
            description=(
                "Per-couple roles, one entry per couple in order: two role labels "
                '(e.g. ["man", "woman"] or ["woman", "woman"]) or null for a couple '
                "without roles. Omit it to give every couple the protocol's roles."
            ),
            examples=[[["man", "woman"], ["woman", "woman"], None]],
        )
    )

    @model_validator(mode="after")
    def _one_entry_per_couple(self) -> Self:
        if self.roles is not None and len(self.roles) != self.couples:
            raise ValueError(
                f"roles has {len(self.roles)} entries for {self.couples} couples; "
                "give one entry per couple"
            )
        return self


class PartnerInviteOut(BaseModel):
    """One partner's personal link (shown once)."""

    person_id: int
    role: str | None
    token: str
    url: str


class CoupleInviteOut(BaseModel):
    """A new couple."""

    couple_id: int
    start_date: date
    partners: list[PartnerInviteOut]


class InviteOut(BaseModel):
    """The new couples and their partners' links."""

    couples: list[CoupleInviteOut]


class ComplianceOut(BaseModel):
    """Compliance per person, per couple and per couple-day (records as JSON objects)."""

    threshold: float
    persons: list[dict[str, Any]]
    couples: list[dict[str, Any]]
    days: list[dict[str, Any]]
    flagged_couples: list[int]
