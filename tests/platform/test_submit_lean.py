"""The lean path of ``POST /api/v1/me/responses`` (``dyadlab.platform.routes.submit_lean``):
it stores and answers exactly as the FastAPI route does, and hands every other request
to the route untouched (issue 21)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, select, text

from dyadlab.platform import db as platform_db
from dyadlab.platform.routes import submit_lean
from dyadlab.platform.services import responses, studies
from dyadlab.platform.services.responses import CoreStore, PsycopgStore
from dyadlab.platform.tables import Person, Response
from tests.platform.conftest import evening_answers, make_study

EVENT = {"sexual_satisfaction": 70, "approach_motive": 3, "avoidance_motive": 5, "note": "ok"}


def _lean(app: FastAPI) -> submit_lean.LeanSubmitMiddleware:
    layer: Any = app.middleware_stack
    while not isinstance(layer, submit_lean.LeanSubmitMiddleware):
        layer = layer.app
    return layer


def _post(client, couple, which=0, *, sid=None, questionnaire="evening", answers=None, **extra):
    body = {
        "submission_id": str(sid or uuid.uuid4()),
        "questionnaire": questionnaire,
        "answers": evening_answers() if answers is None else answers,
        **extra,
    }
    return client.post("/api/v1/me/responses", json=body, headers=couple.headers(which))


def _row(db, submission_id: str) -> dict[str, Any]:
    db.expire_all()
    row = db.scalars(
        select(Response).where(Response.submission_id == uuid.UUID(submission_id))
    ).one()
    skip = {"id", "person_id", "submission_id"}
    return {c.key: getattr(row, c.key) for c in Response.__table__.columns if c.key not in skip}


def _without_id(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "submission_id"}


@pytest.mark.parametrize(
    ("questionnaire", "answers", "extra"),
    [
        ("evening", evening_answers(), {}),
        ("after_sex", EVENT, {"started_at": "2026-03-03T19:20:00Z"}),
        # finished a while ago on an offline phone: stored at that time
        ("after_sex", EVENT, {"finished_at": "2026-03-03T19:10:00+00:00"}),
    ],
)
def test_the_lean_path_answers_and_stores_as_the_route_does(
    app, client, couple, db, monkeypatch, questionnaire, answers, extra
):
    lean = _lean(app)
    served = lean.served
    mine = _post(client, couple, 0, questionnaire=questionnaire, answers=answers, **extra)
    assert mine.status_code == 201, mine.text
    assert lean.served == served + 1

    monkeypatch.setattr(submit_lean, "submit_lean", lambda *a, **k: None)  # the route only
    theirs = _post(client, couple, 1, questionnaire=questionnaire, answers=answers, **extra)
    assert theirs.status_code == 201, theirs.text
    assert lean.served == served + 1

    assert _without_id(mine.json()) == _without_id(theirs.json())
    assert mine.headers["content-type"] == theirs.headers["content-type"]
    assert mine.headers["cache-control"] == theirs.headers["cache-control"] == "no-store"
    assert _row(db, mine.json()["submission_id"]) == _row(db, theirs.json()["submission_id"])
    owners = db.scalars(
        select(Response.person_id).where(
            Response.submission_id.in_(
                [uuid.UUID(mine.json()["submission_id"]), uuid.UUID(theirs.json()["submission_id"])]
            )
        )
    ).all()
    assert sorted(owners) == sorted(couple.person_ids)  # each under the token's person


def test_everything_else_is_answered_by_the_route(app, client, couple, db, clock, protocol_path):
    lean = _lean(app)
    served = lean.served
    sid = str(uuid.uuid4())
    assert _post(client, couple, 0, sid=sid).status_code == 201
    served += 1
    assert lean.served == served

    retry = _post(client, couple, 0, sid=sid)
    assert retry.status_code == 200  # a retry: the stored one
    assert retry.json()["submission_id"] == sid

    stranger = client.post(
        "/api/v1/me/responses",
        json={"submission_id": str(uuid.uuid4()), "questionnaire": "evening", "answers": {}},
        headers={"Authorization": "Bearer not-a-token"},
    )
    assert stranger.status_code == 401
    assert _post(client, couple, 1, answers={"desire": 500}).json()["error"]["code"] == (
        "invalid_answer"
    )
    assert _post(client, couple, 1, questionnaire="nope").json()["error"]["code"] == (
        "unknown_questionnaire"
    )
    assert _post(client, couple, 1, colour="red").status_code == 422  # unknown field
    assert _post(client, couple, 1, finished_at="2026-03-03T19:30:00").status_code == 422
    assert _post(client, couple, 0).json()["error"]["code"] == "not_open"  # answered
    not_json = client.post(
        "/api/v1/me/responses",
        content=b"submission_id=1",
        headers={**couple.headers(1), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert not_json.status_code == 422

    invited = make_study(db, protocol_path)[0]  # no consent yet
    assert _post(client, invited, 0).json()["error"]["code"] == "consent_required"

    r = client.post("/api/v1/me/withdraw", json={"delete_data": False}, headers=couple.headers(1))
    assert r.status_code == 200, r.text
    assert _post(client, couple, 1).json()["error"]["code"] == "withdrawn"

    clock.advance(hours=16)  # noon: the evening window is closed
    closed = _post(client, couple, 0)
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "not_open"
    assert lean.served == served  # none of them took the lean path
    assert db.scalar(select(Response.id).where(Response.person_id == couple.person_ids[1])) is None


def test_a_withdrawal_or_a_new_token_is_seen_at_once(app, client, couple, db):
    lean = _lean(app)
    assert _post(client, couple, 0, questionnaire="after_sex", answers=EVENT).status_code == 201
    person = db.get(Person, couple.person_ids[0])
    assert person is not None
    person.token_hash = "0" * 64  # the token is revoked
    db.commit()
    served = lean.served
    r = _post(client, couple, 0, questionnaire="after_sex", answers=EVENT)
    assert r.status_code == 401
    assert lean.served == served


def test_a_protocol_not_parsed_yet_goes_to_the_route_once(app, client, couple, monkeypatch):
    lean = _lean(app)
    monkeypatch.setattr(studies, "_PROTOCOLS", {})
    served, passed = lean.served, lean.passed
    assert _post(client, couple, 0, questionnaire="after_sex", answers=EVENT).status_code == 201
    assert (lean.served, lean.passed) == (served, passed + 1)  # the route parsed it
    assert _post(client, couple, 0, questionnaire="after_sex", answers=EVENT).status_code == 201
    assert (lean.served, lean.passed) == (served + 1, passed + 1)


def _store_of(app: FastAPI, conn: Any) -> Any:
    if app.state.engine.dialect.driver == "psycopg":
        dbapi = conn.connection.dbapi_connection
        dbapi.autocommit = True
        return PsycopgStore(dbapi, app.state.engine.dialect)
    return CoreStore(conn)


def test_a_lost_race_stores_nothing_and_goes_to_the_route(app, client, couple, clock, db):
    token = couple.tokens[0]
    sid = uuid.uuid4()
    fields: dict[str, Any] = dict(
        submission_id=sid,
        questionnaire="after_sex",
        answers=dict(EVENT),
        started_at=None,
        finished_at=None,
        now=clock.now,
        grace_min=120,
        render=submit_lean._render,
    )
    with app.state.engine.connect() as conn:
        store = _store_of(app, conn)
        assert responses.submit_lean(store, token, **fields) is not None
        assert responses.submit_lean(store, token, **fields) is None  # seen: a retry

        class Blind:  # reads as if the first post had not landed yet: a race
            def read(self, token_hash: str) -> Any:
                return [row[:8] + (None,) * 7 for row in store.read(token_hash)[:1]]

            def insert(self, values: dict[str, Any]) -> bool:
                return bool(store.insert(values))

        assert responses.submit_lean(Blind(), token, **fields) is None  # refused by the key
        if isinstance(store, PsycopgStore):
            conn.connection.dbapi_connection.autocommit = False
    assert db.scalar(select(Response.id).where(Response.submission_id == sid)) is not None
    r = _post(client, couple, 0, sid=sid, questionnaire="after_sex", answers=EVENT)
    assert r.status_code == 200


@pytest.mark.postgres
def test_a_dead_connection_is_replaced_before_use(app, client, couple, monkeypatch):
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    engine = app.state.engine
    engine.dispose()
    with engine.connect() as conn:  # the pool's only connection
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(engine.url)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    monkeypatch.setattr(platform_db, "PING_AFTER_IDLE_S", 0.0)  # it has been idle: pinged
    lean = _lean(app)
    served = lean.served
    r = _post(client, couple, 0, questionnaire="after_sex", answers=EVENT)
    assert r.status_code == 201, r.text
    assert lean.served == served + 1


def test_clock_skew_and_late_answers_match_the_route(app, client, couple, clock):
    # finished_at in the future beyond the allowed skew: the route's 422, not stored
    ahead = (clock.now + timedelta(minutes=30)).isoformat()
    r = _post(client, couple, 0, questionnaire="after_sex", answers=EVENT, finished_at=ahead)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_time"
