"""Withdrawal: append-only log, deletion of own data and of the partner's judgments."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from dyadlab.platform.tables import AuditLog, ConsentEvent, Person, Response
from tests.platform.conftest import evening_answers


def _answer(client, couple, which, desire):
    r = client.post(
        "/api/v1/me/responses",
        json={
            "submission_id": str(uuid.uuid4()),
            "questionnaire": "evening",
            "answers": evening_answers(desire),
        },
        headers=couple.headers(which),
    )
    assert r.status_code == 201, r.text


def test_withdraw_keeping_data(client, couple, db):
    _answer(client, couple, 0, 40)
    r = client.post("/api/v1/me/withdraw", json={"delete_data": False}, headers=couple.headers(0))
    assert r.json() == {"status": "withdrawn", "data_deleted": False, "deleted_responses": 0}
    assert db.scalars(select(Response)).all()
    # no further answers, no prompts
    assert client.get("/api/v1/me/prompts", headers=couple.headers(0)).json() == {"prompts": []}
    r = client.post(
        "/api/v1/me/responses",
        json={"submission_id": str(uuid.uuid4()), "questionnaire": "after_sex", "answers": {}},
        headers=couple.headers(0),
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "withdrawn"


def test_withdraw_with_deletion_removes_own_data_and_partner_judgments(client, couple, db):
    _answer(client, couple, 0, 40)
    _answer(client, couple, 1, 70)
    r = client.post("/api/v1/me/withdraw", json={"delete_data": True}, headers=couple.headers(0))
    assert r.status_code == 200
    assert r.json() == {"status": "withdrawn", "data_deleted": True, "deleted_responses": 1}
    db.expire_all()
    rows = db.scalars(select(Response)).all()
    assert [row.person_id for row in rows] == [couple.person_ids[1]]
    partner_row = rows[0]
    assert "partner_desire" not in partner_row.answers  # B's judgment about A
    assert partner_row.answers["desire"] == 70  # B's own answer stays
    assert partner_row.redacted_items == ["partner_desire"]
    seen_by_b = client.get("/api/v1/me/responses", headers=couple.headers(1)).json()
    # B is not told that A withdrew with deletion (test_partner_is_not_told_of_a_deletion)
    assert "redacted_items" not in seen_by_b["responses"][0]
    person = db.get(Person, couple.person_ids[0])
    assert person.status == "withdrawn" and person.data_deleted and person.withdrawn_at
    kinds = db.scalars(
        select(ConsentEvent.kind)
        .where(ConsentEvent.person_id == person.id)
        .order_by(ConsentEvent.id)
    ).all()
    assert kinds == ["consent", "withdraw"]
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "delete")).one()
    assert audit.subject == f"person:{person.id}"
    again = client.post(
        "/api/v1/me/withdraw", json={"delete_data": True}, headers=couple.headers(0)
    )
    assert again.status_code == 409


def test_withdraw_then_delete_later(client, couple, db):
    _answer(client, couple, 0, 40)
    client.post("/api/v1/me/withdraw", json={"delete_data": False}, headers=couple.headers(0))
    r = client.post("/api/v1/me/withdraw", json={"delete_data": True}, headers=couple.headers(0))
    assert r.status_code == 200
    assert r.json()["deleted_responses"] == 1


def test_research_team_records_a_withdrawal(client, couple, db):
    from tests.platform.conftest import ANALYST, add_member, login

    _answer(client, couple, 0, 40)
    _answer(client, couple, 1, 70)
    owner = login(client, db)
    url = f"/api/v1/studies/{couple.study_id}/persons/{couple.person_ids[1]}/withdraw"
    analyst = login(client, db, ANALYST, role="analyst")
    assert client.post(url, json={"delete_data": True}, headers=analyst).status_code == 404
    for role in ("monitor", "analyst", "collaborator"):  # only the study's owners may
        add_member(db, couple.study_id, ANALYST, role)
        r = client.post(url, json={"delete_data": True}, headers=analyst)
        assert r.status_code == 403 and f"({role})" in r.json()["error"]["message"]
    r = client.post(url, json={"delete_data": True}, headers=owner)
    assert r.status_code == 200, r.text
    assert r.json()["deleted_responses"] == 1
    db.expire_all()
    rows = db.scalars(select(Response)).all()
    assert [row.person_id for row in rows] == [couple.person_ids[0]]
    assert rows[0].redacted_items == ["partner_desire"]
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "delete")).one()
    assert audit.researcher_id is not None
    wrong = f"/api/v1/studies/{couple.study_id + 1}/persons/{couple.person_ids[0]}/withdraw"
    assert client.post(wrong, json={"delete_data": False}, headers=owner).status_code == 404


def test_cli_study_withdraw(couple, database_url, monkeypatch, capsys):
    import json

    from dyadlab.cli import main

    monkeypatch.setenv("DYADLAB_DATABASE_URL", database_url)
    args = ["study", "withdraw", str(couple.study_id), str(couple.person_ids[0])]
    assert main([*args, "--delete-data", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["data_deleted"] is True and out["person_id"] == couple.person_ids[0]
    assert main(["study", "withdraw", str(couple.study_id), "99999"]) == 1
    assert "has no person 99999" in capsys.readouterr().err
