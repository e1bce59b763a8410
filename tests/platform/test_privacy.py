"""Privacy: a partner's token never reaches the other partner's data.

Every participant route is exercised with partner A's token after partner B has
answered; B's data must never show, and B's response must answer 404 exactly like a
response that does not exist. A test below fails when a participant route is added
without being listed here.
"""

from __future__ import annotations

import statistics
import time
import uuid

from sqlalchemy import func, select

from dyadlab.platform.tables import Person, Response, Study, StudyMember
from tests.platform.conftest import evening_answers

TESTED_ROUTES = {
    ("GET", "/api/v1/me"),
    ("PATCH", "/api/v1/me"),
    ("POST", "/api/v1/me/consent"),
    ("GET", "/api/v1/me/prompts"),
    ("POST", "/api/v1/me/responses"),
    ("GET", "/api/v1/me/responses"),
    ("GET", "/api/v1/me/responses/{submission_id}"),
    ("POST", "/api/v1/me/withdraw"),
    ("GET", "/api/v1/me/push"),
    ("PUT", "/api/v1/me/push"),
    ("DELETE", "/api/v1/me/push"),
}


def _b_answers(client, couple):
    sid = uuid.uuid4()
    client.patch("/api/v1/me", json={"email": "b-secret@example.org"}, headers=couple.headers(1))
    answers = evening_answers(desire=97)
    r = client.post(
        "/api/v1/me/responses",
        json={"submission_id": str(sid), "questionnaire": "evening", "answers": answers},
        headers=couple.headers(1),
    )
    assert r.status_code == 201
    return sid


def test_every_participant_route_is_covered(app):
    paths = app.openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1/me")
        for method in operations
    }
    assert routes == TESTED_ROUTES


def test_me_shows_only_own_settings(client, couple):
    _b_answers(client, couple)
    text = client.get("/api/v1/me", headers=couple.headers(0)).text
    assert "b-secret" not in text
    r = client.patch("/api/v1/me", json={"tz": "Asia/Tokyo"}, headers=couple.headers(0))
    assert r.status_code == 200
    b = client.get("/api/v1/me", headers=couple.headers(1)).json()
    assert b["tz"] == "Europe/Amsterdam"


def test_prompts_do_not_reveal_the_partners_answer(client, couple):
    before = client.get("/api/v1/me/prompts", headers=couple.headers(0)).json()
    _b_answers(client, couple)
    after = client.get("/api/v1/me/prompts", headers=couple.headers(0)).json()
    assert before == after


def test_list_shows_only_own_responses(client, couple):
    _b_answers(client, couple)
    assert client.get("/api/v1/me/responses", headers=couple.headers(0)).json() == {"responses": []}


def test_partners_response_is_404_like_a_missing_one(client, couple):
    sid = _b_answers(client, couple)
    partner = client.get(f"/api/v1/me/responses/{sid}", headers=couple.headers(0))
    missing = client.get(f"/api/v1/me/responses/{uuid.uuid4()}", headers=couple.headers(0))
    malformed = client.get("/api/v1/me/responses/not-a-uuid", headers=couple.headers(0))
    assert partner.status_code == missing.status_code == malformed.status_code == 404
    assert partner.content == missing.content == malformed.content
    drop = {"date", "content-length"}
    assert {k: v for k, v in partner.headers.items() if k not in drop} == {
        k: v for k, v in missing.headers.items() if k not in drop
    }
    own = client.get(f"/api/v1/me/responses/{sid}", headers=couple.headers(1))
    assert own.status_code == 200


def test_partners_response_timing_matches_a_missing_one(client, couple):
    sid = _b_answers(client, couple)
    partner_t, missing_t = [], []
    for _ in range(25):
        for target, sink in ((sid, partner_t), (uuid.uuid4(), missing_t)):
            t0 = time.perf_counter()
            client.get(f"/api/v1/me/responses/{target}", headers=couple.headers(0))
            sink.append(time.perf_counter() - t0)
    # One indexed query in both cases; allow generous noise on a shared machine (the
    # bound catches a path that skips or adds real work, not microseconds).
    a, b = statistics.median(partner_t), statistics.median(missing_t)
    assert abs(a - b) < max(0.02, 0.5 * max(a, b))


def test_reusing_the_partners_submission_id_creates_own_response(client, couple, db):
    sid = _b_answers(client, couple)
    r = client.post(
        "/api/v1/me/responses",
        json={
            "submission_id": str(sid),
            "questionnaire": "evening",
            "answers": evening_answers(10),
        },
        headers=couple.headers(0),
    )
    assert r.status_code == 201
    assert r.json()["answers"]["desire"] == 10
    rows = db.scalars(select(Response).where(Response.submission_id == sid)).all()
    assert sorted(row.answers["desire"] for row in rows) == [10, 97]


def test_consent_and_withdraw_touch_only_own_record(client, couple, db):
    _b_answers(client, couple)
    r = client.post("/api/v1/me/withdraw", json={"delete_data": False}, headers=couple.headers(0))
    assert r.status_code == 200
    r = client.post("/api/v1/me/consent", json={"version": 1}, headers=couple.headers(0))
    assert r.status_code == 409
    rows = db.execute(select(Person.id, Person.status).where(Person.id.in_(couple.person_ids)))
    statuses = {person_id: status for person_id, status in rows}
    assert statuses == {couple.person_ids[0]: "withdrawn", couple.person_ids[1]: "active"}
    b_rows = client.get("/api/v1/me/responses", headers=couple.headers(1)).json()["responses"]
    assert len(b_rows) == 1


def test_push_subscriptions_stay_with_their_owner(app, client, couple, db):
    from dyadlab.platform.notify import vapid_env_keys
    from dyadlab.platform.tables import PushSubscription
    from tests.platform.test_notify import _browser_subscription

    private, public = vapid_env_keys()
    app.state.settings = app.state.settings.model_copy(
        update={"vapid_private_key": private, "vapid_public_key": public}
    )
    a, b = couple.headers(0), couple.headers(1)
    sub, _, _ = _browser_subscription("https://fcm.googleapis.com/fcm/send/b-phone")
    before = client.get("/api/v1/me/push", headers=a).json()
    assert client.put("/api/v1/me/push", json=sub, headers=b).status_code == 200
    assert client.get("/api/v1/me/push", headers=a).json() == before  # nothing of B shows
    partner = client.delete("/api/v1/me/push", params={"endpoint": sub["endpoint"]}, headers=a)
    missing = client.delete("/api/v1/me/push", params={"endpoint": "https://x/y"}, headers=a)
    assert partner.status_code == missing.status_code == 404
    assert partner.content == missing.content
    assert db.scalars(select(PushSubscription.person_id)).all() == [couple.person_ids[1]]


# --------------------------------------------------------------------------- researchers
#: Every researcher route of the API with a request that would succeed for the study's
#: owner; another researcher (an owner account, owner of a study of their own) must get
#: the answer of a study that does not exist.
STUDY_ROUTES = {
    ("GET", "/api/v1/studies/{study_id}"): None,
    ("POST", "/api/v1/studies/{study_id}/invitations"): {"couples": 1},
    ("GET", "/api/v1/studies/{study_id}/compliance"): None,
    ("GET", "/api/v1/studies/{study_id}/export"): None,
    ("POST", "/api/v1/studies/{study_id}/persons/{person_id}/withdraw"): {"delete_data": True},
    ("GET", "/api/v1/studies/{study_id}/members"): None,
    ("PUT", "/api/v1/studies/{study_id}/members"): {
        "email": "other@lab.example",
        "role": "monitor",
    },
    ("DELETE", "/api/v1/studies/{study_id}/members/{researcher_id}"): None,
}
#: Researcher routes without a study in the path (tested below on their own).
OTHER_RESEARCHER_ROUTES = {
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
    ("GET", "/api/v1/studies"),
    ("POST", "/api/v1/studies"),
    ("GET", "/api/v1/researchers"),
    ("POST", "/api/v1/researchers"),
    ("PATCH", "/api/v1/researchers/{researcher_id}"),
}
OTHER = ("other@lab.example", "another long passphrase")


def test_every_researcher_route_is_covered(app):
    paths = app.openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if not path.startswith("/api/v1/me")
        for method in operations
    }
    assert routes == set(STUDY_ROUTES) | OTHER_RESEARCHER_ROUTES


def _other_researcher(client, db, protocol_path):
    from tests.platform.conftest import add_member, login, make_study

    own = make_study(db, protocol_path)[0]  # the other researcher's own study
    add_member(db, own.study_id, OTHER, "owner")
    return login(client, db, OTHER, role="owner")


def _unnamed(text, study_id):
    """The answer with the study's id (in "study 12" and "/studies/12") made anonymous."""
    return text.replace(f"study {study_id}", "study N").replace(
        f"/studies/{study_id}", "/studies/N"
    )


def _call(client, method, path, study_id, person_id, body, headers):
    """``path`` for ``study_id``; ``{researcher_id}`` is the other researcher's account."""
    from tests.platform.conftest import researcher_id

    with client.app.state.sessionmaker() as db:
        other_id = researcher_id(db, OTHER)
    url = path.format(study_id=study_id, person_id=person_id, researcher_id=other_id)
    return client.request(method, url, json=body, headers=headers)


def test_other_researcher_gets_404_on_every_study_route(client, couple, db, protocol_path):
    from tests.platform.conftest import login

    _b_answers(client, couple)
    other = _other_researcher(client, db, protocol_path)
    owner = login(client, db)
    missing_id = 10**6
    for (method, path), body in STUDY_ROUTES.items():
        got = _call(client, method, path, couple.study_id, couple.person_ids[1], body, other)
        missing = _call(client, method, path, missing_id, couple.person_ids[1], body, other)
        assert got.status_code == missing.status_code == 404, (path, got.text)
        assert _unnamed(got.text, couple.study_id) == _unnamed(missing.text, missing_id), path
        assert "desire" not in got.text
    # ... and nothing was changed: the owner still finds one couple, both partners active.
    assert client.get("/api/v1/studies", headers=owner).json()[0]["n_couples"] == 1
    statuses = db.scalars(select(Person.status).where(Person.id.in_(couple.person_ids)))
    assert set(statuses) == {"active"}
    for (method, path), body in STUDY_ROUTES.items():  # the owner may do all of it
        r = _call(client, method, path, couple.study_id, couple.person_ids[1], body, owner)
        assert r.status_code in (200, 201, 204), (path, r.text)


def test_other_researcher_does_not_see_the_study_listed(client, couple, db, protocol_path):
    other = _other_researcher(client, db, protocol_path)
    listed = client.get("/api/v1/studies", headers=other).json()
    assert couple.study_id not in [s["id"] for s in listed] and len(listed) == 1
    me = client.get("/api/v1/auth/me", headers=other).json()
    assert me["email"] == OTHER[0]


#: Every researcher page about one study (GET, or POST with a form that would work for
#: the owner).
STUDY_PAGES = {
    ("GET", "/r/studies/{study_id}"),
    ("POST", "/r/studies/{study_id}/invite"),
    ("GET", "/r/studies/{study_id}/compliance"),
    ("POST", "/r/studies/{study_id}/members"),
    ("POST", "/r/studies/{study_id}/members/{researcher_id}/remove"),
    # with an existing run as well: tests/platform/test_pages_analyses.py
    ("GET", "/r/studies/{study_id}/analyses"),
    ("POST", "/r/studies/{study_id}/analyses"),
    ("GET", "/r/studies/{study_id}/analyses/{run_id}/status"),
    ("GET", "/r/studies/{study_id}/analyses/{run_id}/report"),
}


def test_every_study_page_is_covered():
    from dyadlab.platform.routes import pages_analyses, pages_researcher

    pages = {
        (method, route.path)
        for router in (pages_researcher.router, pages_analyses.router)
        for route in router.routes
        if getattr(route, "path", "").startswith("/r/studies/{study_id}")
        for method in getattr(route, "methods", ())
    }
    assert pages == STUDY_PAGES


def test_other_researcher_gets_404_on_every_study_page(client, couple, db, protocol_path):
    import re

    from tests.platform.test_pages_researcher import _login

    _b_answers(client, couple)
    _other_researcher(client, db, protocol_path)
    client.cookies.clear()
    _login(client, db, OTHER)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/r/studies").text).group(1)
    missing_id = 10**6
    for method, path in STUDY_PAGES:
        data = (
            {"csrf": csrf, "couples": "1", "email": OTHER[0], "role": "owner"}
            if method == "POST"
            else None
        )
        owner_id = db.get(Study, couple.study_id).created_by
        ids = {"researcher_id": owner_id, "run_id": 1}
        got = client.request(method, path.format(study_id=couple.study_id, **ids), data=data)
        missing = client.request(method, path.format(study_id=missing_id, **ids), data=data)
        assert got.status_code == missing.status_code == 404, path
        assert _unnamed(got.text, couple.study_id) == _unnamed(missing.text, missing_id), path
    listed = client.get("/r/studies").text
    assert f'href="/r/studies/{couple.study_id}"' not in listed
    members = db.scalars(select(StudyMember).where(StudyMember.study_id == couple.study_id))
    assert [m.role for m in members] == ["owner"]
    assert db.scalar(select(func.count(Person.id)).where(Person.couple_id != couple.couple_id)) == 2


def test_accounts_are_for_admins_only(client, couple, db, protocol_path):
    from tests.platform.conftest import login

    other = _other_researcher(client, db, protocol_path)  # an owner account, not an admin
    body = {"email": "new@lab.example", "password": "a long passphrase", "role": "owner"}
    assert client.get("/api/v1/researchers", headers=other).status_code == 403
    assert client.post("/api/v1/researchers", json=body, headers=other).status_code == 403
    r = client.patch("/api/v1/researchers/1", json={"active": False}, headers=other)
    assert r.status_code == 403
    admin = login(client, db, ("root@lab.example", "an admin passphrase"), role="admin")
    assert client.post("/api/v1/researchers", json=body, headers=admin).status_code == 201
    listed = {r["email"]: r for r in client.get("/api/v1/researchers", headers=admin).json()}
    assert listed["new@lab.example"]["role"] == "owner"
    assert client.get("/api/v1/studies", headers=admin).json() == []  # no study by itself
    r = client.get(f"/api/v1/studies/{couple.study_id}/export", headers=admin)
    assert r.status_code == 404
    other_id = listed[OTHER[0]]["id"]
    r = client.patch(f"/api/v1/researchers/{other_id}", json={"active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get("/api/v1/auth/me", headers=other).status_code == 401  # sessions end
    r = client.post("/api/v1/auth/login", json={"email": OTHER[0], "password": OTHER[1]})
    assert r.status_code == 401
    admin_id = listed["root@lab.example"]["id"]
    r = client.patch(f"/api/v1/researchers/{admin_id}", json={"active": False}, headers=admin)
    assert r.status_code == 409
