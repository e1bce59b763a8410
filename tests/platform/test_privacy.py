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
    ("POST", "/api/v1/me/rating-sessions"),
    ("GET", "/api/v1/me/rating-sessions/{session_id}"),
    ("POST", "/api/v1/me/rating-sessions/{session_id}/samples"),
    ("POST", "/api/v1/me/rating-sessions/{session_id}/stop"),
    ("GET", "/api/v1/me/clock"),
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


def _rating_couples(client, db):
    from tests.platform.conftest import make_study
    from tests.platform.test_ratings import RATINGS_PROTOCOL

    made = make_study(db, RATINGS_PROTOCOL, couples=2)
    for c in made:
        for i in (0, 1):
            client.post("/api/v1/me/consent", json={"version": 1}, headers=c.headers(i))
    return made


def _rating_batch(value, batch_id=None):
    return {
        "batch_id": str(batch_id or uuid.uuid4()),
        "samples": [[1000.0, value], [1100.0, value]],
        "clock": {"offset_ms": 0.0, "rtt_ms": 5.0, "at_ms": 1000.0},
    }


def test_rating_routes_never_show_the_partners_trace(client, db):
    """Partner B rates; A's answers on every rating route carry nothing of B's samples,
    and A reusing B's batch id stores A's own batch (201), not B's acknowledgement."""
    from dyadlab.platform.tables import RatingSample

    ours, _theirs = _rating_couples(client, db)
    a, b = ours.headers(0), ours.headers(1)
    start = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=b)
    sid = start.json()["session_id"]
    before = client.get(f"/api/v1/me/rating-sessions/{sid}", headers=a).json()
    batch_id = uuid.uuid4()
    r = client.post(
        f"/api/v1/me/rating-sessions/{sid}/samples", json=_rating_batch(97.25, batch_id), headers=b
    )
    assert r.status_code == 201
    after = client.get(f"/api/v1/me/rating-sessions/{sid}", headers=a).json()
    assert before == after and "97.25" not in str(after)
    joined = client.post("/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=a)
    assert joined.status_code == 200 and "97.25" not in joined.text
    own = client.post(
        f"/api/v1/me/rating-sessions/{sid}/samples", json=_rating_batch(3, batch_id), headers=a
    )
    assert own.status_code == 201 and own.json()["stored"] == 2
    rows = db.execute(select(RatingSample.person_id, RatingSample.value)).all()
    assert sorted(rows) == sorted(
        [(ours.person_ids[1], 97.25)] * 2 + [(ours.person_ids[0], 3.0)] * 2
    )
    clock_answer = client.get("/api/v1/me/clock", headers=a).json()
    assert set(clock_answer) == {"server_ms"}


def test_another_couples_rating_session_is_404_like_a_missing_one(client, db):
    from dyadlab.platform.tables import RatingSample

    ours, theirs = _rating_couples(client, db)
    sid = client.post(
        "/api/v1/me/rating-sessions", json={"rating": "arousal"}, headers=theirs.headers(0)
    ).json()["session_id"]
    intruder = ours.headers(0)
    for method, suffix, body in (
        ("GET", "", None),
        ("POST", "/samples", _rating_batch(50)),
        ("POST", "/stop", None),
    ):
        got = client.request(
            method, f"/api/v1/me/rating-sessions/{sid}{suffix}", json=body, headers=intruder
        )
        missing = client.request(
            method, f"/api/v1/me/rating-sessions/{10**6}{suffix}", json=body, headers=intruder
        )
        malformed = client.request(
            method, f"/api/v1/me/rating-sessions/x{suffix}", json=body, headers=intruder
        )
        assert got.status_code == missing.status_code == malformed.status_code == 404, suffix
        assert got.content == missing.content == malformed.content
    assert db.scalar(select(func.count(RatingSample.id))) == 0
    state = client.get(f"/api/v1/me/rating-sessions/{sid}", headers=theirs.headers(1)).json()
    assert state["running"] is True  # the intruder's stop did nothing


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
#: Researcher routes of continuous ratings (a study with rating sessions; tested in
#: tests/platform/test_ratings.py::test_researcher_routes_start_and_mark, owner and
#: other researcher alike).
RATING_STUDY_ROUTES = {
    ("POST", "/api/v1/studies/{study_id}/couples/{couple_id}/rating-sessions"),
    ("POST", "/api/v1/studies/{study_id}/rating-sessions/{session_id}/markers"),
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
    assert routes == set(STUDY_ROUTES) | OTHER_RESEARCHER_ROUTES | RATING_STUDY_ROUTES


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
    # with a real upload (partner, other researcher, roles): tests/platform/test_xlsform_pages.py
    ("GET", "/r/studies/{study_id}/uploads/{upload_id}"),
    ("POST", "/r/studies/{study_id}/members"),
    ("POST", "/r/studies/{study_id}/members/{researcher_id}/remove"),
    ("GET", "/r/studies/{study_id}/ratings"),
    ("GET", "/r/studies/{study_id}/ratings/{session_id}"),
    ("GET", "/r/studies/{study_id}/ratings/export"),
    ("POST", "/r/studies/{study_id}/ratings/start"),
    ("POST", "/r/studies/{study_id}/ratings/{session_id}/markers"),
    # with an existing run as well: tests/platform/test_pages_analyses.py
    ("GET", "/r/studies/{study_id}/analyses"),
    ("POST", "/r/studies/{study_id}/analyses"),
    ("GET", "/r/studies/{study_id}/analyses/{run_id}/status"),
    ("GET", "/r/studies/{study_id}/analyses/{run_id}/report"),
}


def test_every_study_page_is_covered():
    from dyadlab.platform.routes import pages_analyses, pages_ratings, pages_researcher

    pages = {
        (method, route.path)
        for router in (
            pages_researcher.router,
            pages_analyses.router,
            pages_ratings.researcher_router,
        )
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
        ids = {"researcher_id": owner_id, "run_id": 1, "session_id": 1, "upload_id": uuid.uuid4()}
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


# --------------------------------------------------------------------------- history
#: Every page of the history interview (GET, or POST with a form that works for a
#: member who may interview); ``{person_id}`` is partner A, ``{item_id}`` one of A's
#: episodes.
HISTORY_PAGES = {
    ("GET", "/r/studies/{study_id}/history"),
    ("GET", "/r/studies/{study_id}/history-export"),
    ("POST", "/r/studies/{study_id}/history/{person_id}/start"),
    ("GET", "/r/studies/{study_id}/history/{person_id}"),
    ("POST", "/r/studies/{study_id}/history/{person_id}/settings"),
    ("GET", "/r/studies/{study_id}/history/{person_id}/tlfb"),
    ("POST", "/r/studies/{study_id}/history/{person_id}/tlfb"),
    ("GET", "/r/studies/{study_id}/history/{person_id}/edits"),
    ("GET", "/r/studies/{study_id}/history/{person_id}/timeline"),
    ("POST", "/r/studies/{study_id}/history/{person_id}/{kind}"),
    ("POST", "/r/studies/{study_id}/history/{person_id}/{kind}/{item_id}"),
    ("POST", "/r/studies/{study_id}/history/{person_id}/{kind}/{item_id}/delete"),
    ("POST", "/r/studies/{study_id}/history/{person_id}/episode/{item_id}/spell"),
}
HISTORY_SECRET = "HISTORY-SECRET-4b1d"
HISTORY_PSEUDONYM = "Pseudo-7c2e"


def test_every_history_page_is_covered():
    from dyadlab.platform.routes.pages_history import router

    pages = {
        (method, route.path) for route in router.routes for method in getattr(route, "methods", ())
    }
    assert pages == HISTORY_PAGES


def _history_of_a(db, couple):
    """Partner A's interview: one partner, one episode with a secret note."""
    from datetime import date

    from dyadlab.platform.services import history

    person = db.get(Person, couple.person_ids[0])
    owner = db.get(Study, couple.study_id).created_by
    row = history.start_interview(db, couple.study_id, person, by=owner, birth="2003-05")
    partner = history.add_item(
        db, row, "partner", {"pseudonym": HISTORY_PSEUDONYM}, by=owner, today=date(2026, 3, 3)
    )
    episode = history.add_item(
        db,
        row,
        "episode",
        {
            "partner": str(partner.id),
            "type": "dating",
            "start": "2019",
            "ongoing": "on",
            "notes": HISTORY_SECRET,
        },
        by=owner,
        today=date(2026, 3, 3),
    )
    db.commit()
    return episode.id


def _history_form(csrf):
    """A form that every history POST accepts from a member who may interview."""
    return {
        "csrf": csrf,
        "kind": "first_kiss",
        "when": "2019",
        "birth": "2003-05",
        "pseudonym": "P2",
        "type": "romantic",
        "start": "2019",
        "ongoing": "on",
        "reason": "test",
    }


def test_other_researcher_gets_404_on_every_history_page(client, couple, db, protocol_path):
    from tests.platform.test_pages_researcher import _login

    item_id = _history_of_a(db, couple)
    _other_researcher(client, db, protocol_path)
    client.cookies.clear()
    _login(client, db, OTHER)
    import re

    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/r/studies").text).group(1)
    for method, path in sorted(HISTORY_PAGES):
        data = _history_form(csrf) if method == "POST" else None
        urls = [
            path.format(
                study_id=study, person_id=couple.person_ids[0], kind="episode", item_id=item_id
            )
            for study in (couple.study_id, 10**6)
        ]
        got, missing = (client.request(method, url, data=data) for url in urls)
        assert got.status_code == missing.status_code == 404, (path, got.status_code)
        assert _unnamed(got.text, couple.study_id) == _unnamed(missing.text, 10**6), path
        assert HISTORY_SECRET not in got.text
    # a person of another study, asked for in the other researcher's own study: 404 too
    own = db.scalars(select(StudyMember.study_id).where(StudyMember.study_id != couple.study_id))
    own_id = next(iter(own))
    r = client.get(f"/r/studies/{own_id}/history/{couple.person_ids[0]}")
    assert r.status_code == 404
    from dyadlab.platform.tables import HistoryEpisode, HistoryInterview

    assert len(db.scalars(select(HistoryInterview)).all()) == 1  # nothing was started
    db.expire_all()
    assert db.get(HistoryEpisode, item_id).notes == HISTORY_SECRET  # nor changed


def test_participants_never_see_an_interview(client, couple, db):
    item_id = _history_of_a(db, couple)
    base = f"/r/studies/{couple.study_id}/history/{couple.person_ids[0]}"
    for which in (0, 1):  # the respondent, and the partner
        client.cookies.clear()
        client.cookies.set("dyadlab_p", couple.tokens[which])
        for url in (
            base,
            f"/r/studies/{couple.study_id}/history",
            f"/r/studies/{couple.study_id}/history-export",
        ):
            r = client.get(url, headers=couple.headers(which), follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/r/login", url
        r = client.post(
            f"{base}/episode/{item_id}/delete",
            data={"reason": "x"},
            headers=couple.headers(which),
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/r/login"
        for url in ("/api/v1/me", "/api/v1/me/responses", "/api/v1/me/prompts", "/s/"):
            r = client.get(url, headers=couple.headers(which))
            assert HISTORY_SECRET not in r.text and HISTORY_PSEUDONYM not in r.text, url
