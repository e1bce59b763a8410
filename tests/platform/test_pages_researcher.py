"""Researcher pages: login (rate-limited), studies, invitations shown once, compliance
with the heat map and flags, and the logged export behind the export form."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from dyadlab.platform.routes._heatmap import heatmap_svg
from dyadlab.platform.services.consent import give_consent
from dyadlab.platform.services.researchers import create_researcher
from dyadlab.platform.services.responses import submit_response
from dyadlab.platform.tables import AuditLog, Person, Researcher
from tests.platform.conftest import ANALYST, OWNER, evening_answers, make_study

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _csrf(text: str) -> str:
    match = _CSRF.search(text)
    assert match
    return match.group(1)


def _login(client, db, who=OWNER, role="owner"):
    if db.scalars(select(Researcher).where(Researcher.email == who[0])).first() is None:
        create_researcher(db, who[0], who[1], role=role)
        db.commit()
    page = client.get("/r/login")
    r = client.post(
        "/r/login",
        data={"csrf": _csrf(page.text), "email": who[0], "password": who[1]},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return r


def test_pages_need_a_login(client):
    for path in ("/r/", "/r/studies", "/r/studies/1", "/r/studies/1/compliance"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/r/login", path


def test_login_sets_the_session_and_wrong_passwords_are_rate_limited(client, db, settings):
    create_researcher(db, OWNER[0], OWNER[1], role="owner")
    db.commit()
    page = client.get("/r/login")
    assert '<label for="password">' in page.text and 'autocomplete="current-password"' in page.text
    csrf = _csrf(page.text)
    no_csrf = client.post("/r/login", data={"email": OWNER[0], "password": OWNER[1]})
    assert no_csrf.status_code == 403
    for _ in range(settings.login_max_failures):
        r = client.post("/r/login", data={"csrf": csrf, "email": OWNER[0], "password": "nope"})
        assert r.status_code == 401
        assert "Wrong e-mail address or password" in r.text and 'role="alert"' in r.text
    r = client.post("/r/login", data={"csrf": csrf, "email": OWNER[0], "password": OWNER[1]})
    assert r.status_code == 429


def test_login_then_studies_and_logout(client, db, protocol_path):
    made = make_study(db, protocol_path)[0]
    r = _login(client, db)
    cookie = r.headers["set-cookie"]
    assert "dyadlab_session=" in cookie and "HttpOnly" in cookie
    page = client.get("/r/studies")
    assert page.status_code == 200
    assert f'href="/r/studies/{made.study_id}"' in page.text
    assert "Daily intimacy in couples" in page.text
    token = client.cookies.get("dyadlab_session")
    r = client.post("/r/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/r/studies", follow_redirects=False).status_code == 303
    client.cookies.set("dyadlab_session", token)  # a copied cookie no longer works
    assert client.get("/r/studies", follow_redirects=False).status_code == 303


def test_owner_invites_couples_and_sees_the_links_once(client, db, protocol_path):
    made = make_study(db, protocol_path)[0]
    _login(client, db)
    page = client.get(f"/r/studies/{made.study_id}")
    assert "Invite couples" in page.text
    r = client.post(
        f"/r/studies/{made.study_id}/invite",
        data={"csrf": _csrf(page.text), "couples": "2", "start_date": "2026-03-01", "tz": ""},
    )
    assert r.status_code == 200, r.text
    links = re.findall(r"http://testserver/p/[A-Za-z0-9_-]{43}", r.text)
    assert len(set(links)) == 4
    assert r.headers["cache-control"] == "no-store"
    again = client.get(f"/r/studies/{made.study_id}").text
    assert not any(link in again for link in links)
    # a link works for its participant
    client.cookies.clear()
    assert client.get(links[0].replace("http://testserver", "")).status_code == 200
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "invite")).all()
    assert [row.detail for row in audit] == [{"study": "Daily intimacy in couples", "couples": 2}]


def test_invite_form_chooses_the_couples_roles(client, db, protocol_path):
    made = make_study(db, protocol_path)[0]
    _login(client, db)
    page = client.get(f"/r/studies/{made.study_id}")
    assert '<option value="partner_b,partner_b">' in page.text
    assert '<option value="none">No roles (indistinguishable)</option>' in page.text
    for choice, expected in (("partner_b,partner_b", ["partner_b"] * 2), ("none", [None, None])):
        r = client.post(
            f"/r/studies/{made.study_id}/invite",
            data={"csrf": _csrf(page.text), "couples": "1", "roles": choice},
        )
        assert r.status_code == 200, r.text
        new = db.scalars(select(Person).order_by(Person.id.desc()).limit(2)).all()
        assert [p.role for p in reversed(new)] == expected
    r = client.post(
        f"/r/studies/{made.study_id}/invite",
        data={"csrf": _csrf(page.text), "couples": "1", "roles": "man,woman"},
    )
    assert r.status_code == 422 and "does not name" in r.text


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"couples": "0"}, 422, "from 1 to 500"),
        ({"couples": "2", "start_date": "1 March"}, 422, "YYYY-MM-DD"),
        ({"couples": "1", "tz": "Mars/Olympus"}, 422, "IANA"),
    ],
)
def test_invite_form_errors(client, db, protocol_path, data, status, message):
    made = make_study(db, protocol_path)[0]
    _login(client, db)
    page = client.get(f"/r/studies/{made.study_id}")
    r = client.post(f"/r/studies/{made.study_id}/invite", data={"csrf": _csrf(page.text), **data})
    assert r.status_code == status
    assert message in r.text


def test_analyst_cannot_invite_and_csrf_is_checked(client, db, protocol_path):
    made = make_study(db, protocol_path, members={ANALYST: "analyst"})[0]
    _login(client, db, ANALYST, role="analyst")
    page = client.get(f"/r/studies/{made.study_id}")
    assert "Invite couples" not in page.text
    r = client.post(f"/r/studies/{made.study_id}/invite", data={"couples": "1"})
    assert r.status_code == 403
    r = client.post(
        f"/r/studies/{made.study_id}/invite", data={"csrf": _csrf(page.text), "couples": "1"}
    )
    assert r.status_code == 403 and "(analyst) does not allow you to invite couples" in r.text
    assert client.get("/r/studies/999").status_code == 404


def test_compliance_page_flags_couples_and_draws_the_heat_map(client, db, protocol_path, clock):
    couples = make_study(db, protocol_path, couples=2)
    for c, couple in enumerate(couples):
        for p, person_id in enumerate(couple.person_ids):
            person = db.get(Person, person_id)
            give_consent(db, person, version=1)
            for day in (1, 2):
                if c == 1 and p == 1 and day == 2:
                    continue  # couple 2 misses one partner's answer on day 2
                submit_response(
                    db,
                    person,
                    submission_id=uuid.uuid4(),
                    questionnaire="evening",
                    answers=evening_answers(),
                    now=datetime(2026, 3, day, 19, 30, tzinfo=UTC),
                )
    db.commit()
    clock.now = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # days 1 and 2 are due
    _login(client, db)
    page = client.get(f"/r/studies/{couples[0].study_id}/compliance")
    assert page.status_code == 200
    text = page.text
    assert "1 of 2 couples below 80%" in text
    assert text.count("<rect ") == 4 + 3  # 2 couples x 2 days, and 3 legend swatches
    assert f"couple {couples[1].couple_id}, day 2: 1 of 2 answered" in text
    assert re.search(rf'<tr class="flagged"><td>{couples[1].couple_id}</td>', text)
    lower = client.get(f"/r/studies/{couples[0].study_id}/compliance?threshold=40").text
    assert "0 of 2 couples below 40%" in lower


def test_export_form_downloads_a_logged_zip(client, db, protocol_path):
    made = make_study(db, protocol_path, members={ANALYST: "analyst"})[0]
    _login(client, db, ANALYST, role="analyst")
    page = client.get(f"/r/studies/{made.study_id}").text
    action = re.search(r'<form method="get" action="([^"]+/export)"', page).group(1)
    r = client.get(action, params={"format": "pairwise", "file": "csv"})
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert any(name.endswith(".csv") for name in archive.namelist())
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "export")).all()
    assert len(audit) == 1 and audit[0].detail["format"] == "pairwise"
    assert audit[0].study_id == made.study_id
    assert audit[0].detail["study"] == "Daily intimacy in couples"


def test_monitor_sees_compliance_but_no_export_form(client, db, protocol_path):
    made = make_study(db, protocol_path, members={ANALYST: "monitor"})[0]
    _login(client, db, ANALYST, role="analyst")
    page = client.get(f"/r/studies/{made.study_id}").text
    assert "your role: monitor" in page
    assert "/export" not in page and "Invite couples" not in page
    assert client.get(f"/r/studies/{made.study_id}/compliance").status_code == 200
    assert client.get(f"/api/v1/studies/{made.study_id}/export").status_code == 403
    listed = client.get("/r/studies").text
    assert "<td>monitor</td>" in listed


def test_heatmap_cells_and_text_alternatives():
    days = pd.DataFrame(
        {
            "couple_id": [1, 1, 2, 2],
            "diary_day": [1, 2, 1, 2],
            "persons_answered": [2, 0, 2, 1],
            "complete": [True, False, True, False],
        }
    )
    couples = pd.DataFrame(
        {"couple_id": [1, 2], "rate": [0.5, 0.5], "flagged": [True, True], "days_due": [2, 2]}
    )
    svg = heatmap_svg(days, couples, threshold=0.8)
    assert svg.count("<rect ") == 4
    assert 'role="img"' in svg and "<desc" in svg and "2 couples are below 80%" in svg
    assert "couple 2, day 2: 1 of 2 answered" in svg
    assert svg.count("▲") == 2
    empty = heatmap_svg(days.iloc[0:0], couples.iloc[0:0], threshold=0.8)
    assert empty.startswith("<svg") and "<rect" not in empty


def test_owner_creates_a_study_from_a_protocol_file(client, db, protocol_path):
    _login(client, db)
    page = client.get("/r/studies").text
    assert 'enctype="multipart/form-data"' in page
    csrf = _csrf(page)
    bad = (
        protocol_path.read_text()
        .replace("type: sldier", "")
        .replace("type: slider", "type: sldier", 1)
    )
    r = client.post(
        "/r/studies",
        data={"csrf": csrf},
        files={"protocol": ("diary.yaml", bad.encode(), "application/x-yaml")},
    )
    assert r.status_code == 422
    assert "questionnaires[0].items[0].type" in r.text and "slider" in r.text
    r = client.post(
        "/r/studies",
        data={"csrf": csrf},
        files={"protocol": ("notes.txt", b"x", "text/plain")},
    )
    assert r.status_code == 422 and ".xlsx" in r.text
    r = client.post(
        "/r/studies",
        data={"csrf": csrf},
        files={"protocol": ("diary.yaml", protocol_path.read_bytes(), "application/x-yaml")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    study_page = client.get(r.headers["location"])
    assert "Daily intimacy in couples" in study_page.text and "evening" in study_page.text
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "create_study")).one()
    assert audit.detail["file"] == "diary.yaml"


def test_analyst_cannot_create_a_study(client, db, protocol_path):
    _login(client, db, ANALYST, role="analyst")
    page = client.get("/r/studies").text
    assert "New study" not in page
    r = client.post(
        "/r/studies",
        data={"csrf": _csrf(page)},
        files={"protocol": ("diary.yaml", protocol_path.read_bytes(), "application/x-yaml")},
    )
    assert r.status_code == 403


def test_owner_manages_members_on_the_study_page(client, db, protocol_path):
    made = make_study(db, protocol_path)[0]
    create_researcher(db, ANALYST[0], ANALYST[1], role="analyst")
    db.commit()
    _login(client, db)
    url = f"/r/studies/{made.study_id}"
    page = client.get(url).text
    assert 'action="' + url + '/members"' in page and '<label for="member-role">' in page
    csrf = _csrf(page)
    r = client.post(f"{url}/members", data={"csrf": csrf, "email": ANALYST[0], "role": "monitor"})
    assert r.status_code == 200 and f"<td>{ANALYST[0]}</td><td>monitor</td>" in r.text
    r = client.post(
        f"{url}/members", data={"csrf": csrf, "email": "x@lab.example", "role": "monitor"}
    )
    assert r.status_code == 404 and "no researcher account" in r.text
    r = client.post(f"{url}/members", data={"csrf": csrf, "email": ANALYST[0], "role": "boss"})
    assert r.status_code == 422 and "&#39;boss&#39;" in r.text
    owner_id = db.scalars(select(Researcher.id).where(Researcher.email == OWNER[0])).one()
    r = client.post(f"{url}/members/{owner_id}/remove", data={"csrf": csrf})
    assert r.status_code == 409 and "only owner" in r.text
    analyst_id = db.scalars(select(Researcher.id).where(Researcher.email == ANALYST[0])).one()
    client.cookies.clear()
    _login(client, db, ANALYST, role="analyst")
    page = client.get(url).text
    assert "your role: monitor" in page and "/members/" not in page  # no forms
    r = client.post(f"{url}/members/{owner_id}/remove", data={"csrf": _csrf(page)})
    assert r.status_code == 403 and "manage this study" in r.text
    client.cookies.clear()
    _login(client, db)
    r = client.post(
        f"{url}/members/{analyst_id}/remove", data={"csrf": _csrf(client.get(url).text)}
    )
    assert r.status_code == 200 and f"<td>{ANALYST[0]}</td>" not in r.text
    actions = db.scalars(select(AuditLog.action).where(AuditLog.study_id == made.study_id)).all()
    assert [a for a in actions if a.startswith("member")] == ["member_add", "member_remove"]
