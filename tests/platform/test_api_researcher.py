"""The researcher API: login (argon2, rate limit), roles, studies, invitations, audit."""

from __future__ import annotations

import yaml
from sqlalchemy import func, select

from dyadlab.platform.tables import AuditLog, Person
from tests.platform.conftest import ANALYST, OWNER, add_member, login


def test_login_wrong_password_and_rate_limit(client, db, settings):
    login(client, db)  # creates the owner account
    for _ in range(settings.login_max_failures):
        r = client.post("/api/v1/auth/login", json={"email": OWNER[0], "password": "wrong!"})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "login_failed"
    r = client.post("/api/v1/auth/login", json={"email": OWNER[0], "password": OWNER[1]})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    actions = db.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    checked = [a for a in actions if a != "login_attempt"]  # each attempt is counted first
    assert checked == ["login"] + ["login_failed"] * settings.login_max_failures + ["login_locked"]
    assert actions.count("login_attempt") == 1 + settings.login_max_failures


def test_unknown_email_gives_the_same_answer(client, db):
    login(client, db)
    r = client.post("/api/v1/auth/login", json={"email": "x@y.z", "password": "whatever1234"})
    wrong = client.post("/api/v1/auth/login", json={"email": OWNER[0], "password": "nope12345678"})
    assert r.status_code == wrong.status_code == 401
    assert r.json() == wrong.json()


def test_routes_need_login(client):
    for path in ("/api/v1/studies", "/api/v1/auth/me", "/api/v1/studies/1/compliance"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.json()["error"]["code"] == "login_required"
    r = client.get("/api/v1/studies", headers={"Authorization": "Bearer forged.token.value"})
    assert r.status_code == 401


def test_create_study_invite_and_use_the_link(client, db, protocol_path):
    headers = login(client, db)
    protocol = yaml.safe_load(protocol_path.read_text(encoding="utf-8"))
    r = client.post("/api/v1/studies", json={"protocol": protocol}, headers=headers)
    assert r.status_code == 201, r.text
    study = r.json()
    assert study["title"] == "Daily intimacy in couples"
    assert len(study["protocol_hash"]) == 64
    r = client.post(
        f"/api/v1/studies/{study['id']}/invitations",
        json={"couples": 2, "start_date": "2026-03-01"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    couples = r.json()["couples"]
    assert len(couples) == 2
    partners = couples[0]["partners"]
    assert [p["role"] for p in partners] == ["partner_a", "partner_b"]
    assert partners[0]["url"] == f"http://testserver/p/{partners[0]['token']}"
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {partners[1]['token']}"}
    ).json()
    assert me["role"] == "partner_b"
    listed = client.get("/api/v1/studies", headers=headers).json()
    assert [(s["id"], s["n_couples"], s["n_persons"]) for s in listed] == [(study["id"], 2, 4)]
    detail = client.get(f"/api/v1/studies/{study['id']}", headers=headers).json()
    assert detail["protocol"]["study"] == "Daily intimacy in couples"


def test_invalid_protocol_names_the_path(client, db, protocol_path):
    headers = login(client, db)
    protocol = yaml.safe_load(protocol_path.read_text(encoding="utf-8"))
    protocol["questionnaires"][0]["items"][2]["choices"] = "agree5"
    r = client.post("/api/v1/studies", json={"protocol": protocol}, headers=headers)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_protocol"
    assert "agree5" in err["message"]


def test_analyst_reads_but_cannot_create(client, db, protocol_path):
    owner = login(client, db)
    protocol = yaml.safe_load(protocol_path.read_text(encoding="utf-8"))
    study = client.post("/api/v1/studies", json={"protocol": protocol}, headers=owner).json()
    assert study["role"] == "owner"
    analyst = login(client, db, ANALYST, role="analyst")
    assert client.get("/api/v1/studies", headers=analyst).json() == []  # not a member yet
    add_member(db, study["id"], ANALYST, "analyst")
    listed = client.get("/api/v1/studies", headers=analyst).json()
    assert [(s["id"], s["role"]) for s in listed] == [(study["id"], "analyst")]
    detail = client.get(f"/api/v1/studies/{study['id']}", headers=analyst).json()
    assert detail["role"] == "analyst"
    r = client.post("/api/v1/studies", json={"protocol": protocol}, headers=analyst)
    assert r.status_code == 403 and "owner or admin account" in r.json()["error"]["message"]
    r = client.post(
        f"/api/v1/studies/{study['id']}/invitations", json={"couples": 1}, headers=analyst
    )
    assert r.status_code == 403 and "(analyst)" in r.json()["error"]["message"]


def test_collaborator_invites_and_monitor_sees_only_compliance(client, db, protocol_path):
    owner = login(client, db)
    protocol = yaml.safe_load(protocol_path.read_text(encoding="utf-8"))
    study = client.post("/api/v1/studies", json={"protocol": protocol}, headers=owner).json()
    url = f"/api/v1/studies/{study['id']}"
    member = login(client, db, ANALYST, role="analyst")
    add_member(db, study["id"], ANALYST, "collaborator")
    r = client.post(f"{url}/invitations", json={"couples": 1}, headers=member)
    assert r.status_code == 201
    assert client.get(f"{url}/export", headers=member).status_code == 200
    add_member(db, study["id"], ANALYST, "monitor")
    assert client.get(f"{url}/compliance", headers=member).status_code == 200
    assert client.get(url, headers=member).status_code == 200
    r = client.get(f"{url}/export", headers=member)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = client.post(f"{url}/invitations", json={"couples": 1}, headers=member)
    assert r.status_code == 403


def test_missing_study_is_404(client, db):
    headers = login(client, db)
    r = client.get("/api/v1/studies/999", headers=headers)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_cookie_session_needs_csrf_header_for_changes(client, db, protocol_path):
    login(client, db)  # the client keeps the cookie
    assert client.get("/api/v1/auth/me").json()["email"] == OWNER[0]
    protocol = yaml.safe_load(protocol_path.read_text(encoding="utf-8"))
    r = client.post("/api/v1/studies", json={"protocol": protocol})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "csrf"
    token = client.post(
        "/api/v1/auth/login", json={"email": OWNER[0], "password": OWNER[1]}
    ).json()["csrf_token"]
    r = client.post("/api/v1/studies", json={"protocol": protocol}, headers={"X-CSRF-Token": token})
    assert r.status_code == 201
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_session_cookie_flags(client, db):
    login(client, db)
    r = client.post("/api/v1/auth/login", json={"email": OWNER[0], "password": OWNER[1]})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_invite_audit_row(client, db, protocol_path):
    headers = login(client, db)
    protocol = yaml.safe_load(protocol_path.read_text(encoding="utf-8"))
    study = client.post("/api/v1/studies", json={"protocol": protocol}, headers=headers).json()
    client.post(f"/api/v1/studies/{study['id']}/invitations", json={"couples": 3}, headers=headers)
    n = db.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "invite"))
    assert n == 1


def test_invite_with_per_couple_roles(client, db, protocol_path):
    headers = login(client, db)
    protocol = yaml.safe_load(protocol_path.read_text(encoding="utf-8"))
    study = client.post("/api/v1/studies", json={"protocol": protocol}, headers=headers).json()
    url = f"/api/v1/studies/{study['id']}/invitations"
    roles = [["partner_a", "partner_b"], ["partner_b", "partner_b"], None]
    r = client.post(url, json={"couples": 3, "roles": roles}, headers=headers)
    assert r.status_code == 201, r.text
    got = [[p["role"] for p in c["partners"]] for c in r.json()["couples"]]
    assert got == [["partner_a", "partner_b"], ["partner_b", "partner_b"], [None, None]]
    stored = db.execute(select(Person.couple_id, Person.role).order_by(Person.id)).all()
    assert [role for _, role in stored] == ["partner_a", "partner_b"] + ["partner_b"] * 2 + [
        None,
        None,
    ]
    token = r.json()["couples"][2]["partners"][0]["token"]
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["role"]
        is None
    )


def test_invite_roles_are_checked(client, db, protocol_path):
    headers = login(client, db)
    protocol = yaml.safe_load(protocol_path.read_text(encoding="utf-8"))
    study = client.post("/api/v1/studies", json={"protocol": protocol}, headers=headers).json()
    url = f"/api/v1/studies/{study['id']}/invitations"
    r = client.post(url, json={"couples": 2, "roles": [None]}, headers=headers)
    assert r.status_code == 422 and "one entry per couple" in r.json()["error"]["message"]
    r = client.post(url, json={"couples": 1, "roles": [["partner_a"]]}, headers=headers)
    assert r.status_code == 422
    r = client.post(url, json={"couples": 1, "roles": [["man", "partner_a"]]}, headers=headers)
    assert r.status_code == 422
    assert "'man'" in r.json()["error"]["message"] and "partner_a" in r.json()["error"]["message"]
    assert db.scalar(select(func.count(Person.id))) == 0


def test_openapi_documents_invitation_roles(client):
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["InviteIn"]
    assert "roles" in schema["properties"]
    assert "null for a couple" in schema["properties"]["roles"]["description"]


def test_logout_revokes_the_bearer_token(client, db):
    headers = login(client, db)
    client.cookies.clear()  # bearer only
    other = client.post("/api/v1/auth/login", json={"email": OWNER[0], "password": OWNER[1]})
    other_headers = {"Authorization": f"Bearer {other.json()['token']}"}
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    for stale in (headers, other_headers):  # every session of the researcher ends
        r = client.get("/api/v1/auth/me", headers=stale)
        assert r.status_code == 401 and r.json()["error"]["code"] == "login_required"
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204  # no error
    fresh = login(client, db)
    assert client.get("/api/v1/auth/me", headers=fresh).status_code == 200
    actions = db.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions.count("logout") == 1


def test_cookie_logout_revokes_the_cookie_token(client, db):
    login(client, db)
    token = client.cookies.get("dyadlab_session")
    assert client.post("/api/v1/auth/logout").status_code == 204
    client.cookies.clear()
    r = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    client.cookies.set("dyadlab_session", token)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_owner_manages_members_through_the_api(client, db, protocol_path):
    owner = login(client, db)
    protocol = yaml.safe_load(protocol_path.read_text(encoding="utf-8"))
    study = client.post("/api/v1/studies", json={"protocol": protocol}, headers=owner).json()
    url = f"/api/v1/studies/{study['id']}/members"
    analyst = login(client, db, ANALYST, role="analyst")
    r = client.put(url, json={"email": ANALYST[0], "role": "collaborator"}, headers=owner)
    assert r.status_code == 200 and r.json()["role"] == "collaborator"
    got = [(m["email"], m["role"]) for m in client.get(url, headers=analyst).json()]
    assert got == [(OWNER[0], "owner"), (ANALYST[0], "collaborator")]
    r = client.put(url, json={"email": ANALYST[0], "role": "owner"}, headers=analyst)
    assert r.status_code == 403  # a collaborator cannot make themselves owner
    r = client.put(url, json={"email": ANALYST[0], "role": "chief"}, headers=owner)
    assert r.status_code == 422
    owner_id = client.get("/api/v1/auth/me", headers=owner).json()["id"]
    r = client.delete(f"{url}/{owner_id}", headers=owner)
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_owner"
    analyst_id = client.get("/api/v1/auth/me", headers=analyst).json()["id"]
    assert client.delete(f"{url}/{analyst_id}", headers=owner).status_code == 204
    assert client.get(url, headers=analyst).status_code == 404  # no longer a member
    rows = db.scalars(select(AuditLog).where(AuditLog.action.like("member%"))).all()
    assert [(r.action, r.study_id, r.subject) for r in rows] == [
        ("member_add", study["id"], ANALYST[0]),
        ("member_remove", study["id"], ANALYST[0]),
    ]
