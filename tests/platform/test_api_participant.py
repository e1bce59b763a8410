"""The participant API: consent, open prompts, idempotent responses, own data only."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from dyadlab.platform.tables import ConsentEvent, Response
from tests.platform.conftest import TZ, evening_answers, make_study


def _post(client, couple, which=0, *, sid=None, answers=None, questionnaire="evening", **extra):
    body = {
        "submission_id": str(sid or uuid.uuid4()),
        "questionnaire": questionnaire,
        "answers": evening_answers() if answers is None else answers,
        **extra,
    }
    return client.post("/api/v1/me/responses", json=body, headers=couple.headers(which))


def test_me_and_consent(client, db, protocol_path):
    made = make_study(db, protocol_path)[0]
    me = client.get("/api/v1/me", headers=made.headers(0)).json()
    assert me["status"] == "invited"
    assert me["tz"] == TZ
    assert me["current_consent_version"] == 1
    assert "partner never sees my answers" in me["consent_text"] or me["language"] == "nl"
    r = client.post("/api/v1/me/consent", json={"version": 2}, headers=made.headers(0))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "consent_version"
    r = client.post("/api/v1/me/consent", json={"version": 1}, headers=made.headers(0))
    assert r.status_code == 200
    assert r.json()["status"] == "active"
    assert db.scalar(select(func.count(ConsentEvent.id))) == 1


def test_answer_needs_consent(client, db, protocol_path):
    made = make_study(db, protocol_path)[0]
    r = _post(client, made)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "consent_required"


def test_update_me(client, couple):
    r = client.patch(
        "/api/v1/me", json={"tz": "America/New_York", "language": "en"}, headers=couple.headers(0)
    )
    assert r.status_code == 200, r.text
    assert r.json()["tz"] == "America/New_York"
    r = client.patch("/api/v1/me", json={"tz": "Europe/Amsterdamm"}, headers=couple.headers(0))
    assert r.status_code == 422
    assert "Europe/Amsterdam" in r.json()["error"]["message"]
    r = client.patch("/api/v1/me", json={"language": "fr"}, headers=couple.headers(0))
    assert r.status_code == 422


def test_open_prompts(client, couple, clock):
    r = client.get("/api/v1/me/prompts", headers=couple.headers(0))
    assert r.status_code == 200
    keys = [p["key"] for p in r.json()["prompts"]]
    assert keys == ["evening:d3:p1", "after_sex:d3:e1"]
    clock.advance(hours=-8)  # 12:30 local: the evening window is closed
    r = client.get("/api/v1/me/prompts", headers=couple.headers(0))
    keys = [p["key"] for p in r.json()["prompts"]]
    assert keys == ["after_sex:d3:e1"]


def test_post_response_201_then_200_without_duplicate(client, couple, db):
    sid = uuid.uuid4()
    first = _post(client, couple, sid=sid)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["submission_id"] == str(sid)
    assert body["prompt_key"] == "evening:d3:p1"
    assert body["diary_day"] == 3
    assert body["tz"] == TZ
    assert body["local_time"].startswith("2026-03-03T20:30")
    assert body["finished_at"] == "2026-03-03T19:30:00Z"
    again = _post(client, couple, sid=sid, answers=evening_answers(desire=1))
    assert again.status_code == 200
    assert again.json() == body  # the stored one, not the new answers
    assert db.scalar(select(func.count(Response.id))) == 1


def test_second_answer_to_same_prompt_is_refused(client, couple):
    assert _post(client, couple).status_code == 201
    r = _post(client, couple)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "not_open"


def test_invalid_answer_names_the_item(client, couple):
    answers = evening_answers()
    answers["desire"] = 140
    r = _post(client, couple, answers=answers)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_answer"
    assert "desire" in err["message"]
    assert err["details"][0]["item"] == "desire"


def test_missing_required_item(client, couple):
    answers = evening_answers()
    del answers["partner_desire"]
    r = _post(client, couple, answers=answers)
    assert r.status_code == 422
    assert "partner_desire" in r.json()["error"]["message"]


def test_unknown_questionnaire(client, couple):
    r = _post(client, couple, questionnaire="morning")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "unknown_questionnaire"


def test_late_answer_is_refused_with_a_clear_message(client, couple, clock):
    clock.advance(hours=4)  # 00:30 local, the window closed at midnight
    r = _post(client, couple)
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "not_open"
    assert "not stored" in err["message"]


def test_offline_answer_within_grace_is_accepted_as_late(client, couple, clock):
    finished = clock.now.isoformat()
    clock.advance(hours=4)  # received after the window closed, finished inside it
    r = _post(client, couple, finished_at=finished)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "late"
    assert r.json()["diary_day"] == 3


def test_finished_in_the_future_is_refused(client, couple, clock):
    r = _post(client, couple, finished_at="2030-01-01T00:00:00Z")
    assert r.status_code == 422


def test_event_questionnaire_and_daily_cap(client, couple):
    answers = {"sexual_satisfaction": 80, "approach_motive": 6, "avoidance_motive": 1}
    keys = []
    for _ in range(3):
        r = _post(client, couple, questionnaire="after_sex", answers=answers)
        assert r.status_code == 201, r.text
        keys.append(r.json()["prompt_key"])
    assert keys == ["after_sex:d3:e1", "after_sex:d3:e2", "after_sex:d3:e3"]
    r = _post(client, couple, questionnaire="after_sex", answers=answers)
    assert r.status_code == 409
    assert "reached" in r.json()["error"]["message"]


def test_list_and_read_own_responses(client, couple):
    sid = uuid.uuid4()
    assert _post(client, couple, sid=sid).status_code == 201
    rows = client.get("/api/v1/me/responses", headers=couple.headers(0)).json()["responses"]
    assert [r["submission_id"] for r in rows] == [str(sid)]
    one = client.get(f"/api/v1/me/responses/{sid}", headers=couple.headers(0))
    assert one.status_code == 200
    assert one.json()["answers"]["desire"] == 60


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}],
    ids=["none", "unknown", "basic"],
)
def test_no_or_bad_token_is_401(client, couple, headers):
    r = client.get("/api/v1/me/responses", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"


def test_error_shape_for_unknown_route_and_bad_body(client, couple):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "Not found."}}
    r = client.post("/api/v1/me/responses", json={"answers": {}}, headers=couple.headers(0))
    assert r.status_code == 422
    assert set(r.json()["error"]) >= {"code", "message"}
    assert r.json()["error"]["code"] == "invalid_request"
