"""The researcher's "Analyses" page: runs of the plan as background jobs, who may see them.

The study is the example protocol's (with its plan) with one couple that answered day 3;
with so few data the models say why they cannot be fitted, which is what a report on
the data so far shows. The numbers of a real run are checked in
tests/platform/test_study_analyse.py and, through this page in Chromium, in
tests/platform/e2e/test_analyses_page.py.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dyadlab.platform.tables import AnalysisRun, AuditLog, Study
from tests.platform.conftest import ANALYST, OWNER, add_member, evening_answers, make_study
from tests.platform.test_pages_researcher import _login
from tests.platform.test_privacy import OTHER, _other_researcher, _unnamed

MONITOR = ("monitor@lab.example", "monitor battery horse")


def _answer(client, couple) -> None:
    for i in (0, 1):
        r = client.post(
            "/api/v1/me/responses",
            json={
                "submission_id": str(uuid.uuid4()),
                "questionnaire": "evening",
                "answers": evening_answers(40 + 10 * i),
            },
            headers=couple.headers(i),
        )
        assert r.status_code == 201, r.text


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


def _run(client, study_id: int) -> int:
    page = client.get(f"/r/studies/{study_id}/analyses")
    assert page.status_code == 200
    r = client.post(
        f"/r/studies/{study_id}/analyses",
        data={"csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("#run-", 1)[1])


def _wait(client, study_id: int, run_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get(f"/r/studies/{study_id}/analyses/{run_id}/status").json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {state}")


def test_owner_runs_the_plan_and_gets_the_report(client, couple, db) -> None:
    _answer(client, couple)
    _login(client, db)
    study = db.get(Study, couple.study_id)
    page = client.get(f"/r/studies/{couple.study_id}")
    assert f'href="/r/studies/{couple.study_id}/analyses"' in page.text
    page = client.get(f"/r/studies/{couple.study_id}/analyses")
    assert study.protocol_hash in page.text and "truth_bias" in page.text
    run_id = _run(client, couple.study_id)
    state = _wait(client, couple.study_id, run_id)
    assert state["status"] == "done", state
    assert state["done"] == state["total"] == 6 and state["percent"] == 100
    report = client.get(f"/r/studies/{couple.study_id}/analyses/{run_id}/report")
    assert report.status_code == 200
    assert "sandbox" in report.headers["content-security-policy"]
    assert "attachment" not in report.headers.get("content-disposition", "")
    assert study.protocol_hash in report.text
    assert study.created_at.strftime("%Y-%m-%d %H:%M:%S UTC") in report.text
    assert "Plan 3: Diary APIM" in report.text
    download = client.get(f"/r/studies/{couple.study_id}/analyses/{run_id}/report?download=1")
    assert download.headers["content-disposition"].startswith("attachment; filename=")
    assert download.content == report.content
    listed = client.get(f"/r/studies/{couple.study_id}/analyses").text
    assert f"/analyses/{run_id}/report" in listed
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "analyse")).all()
    assert len(audit) == 1 and audit[0].study_id == couple.study_id
    assert audit[0].researcher_id == study.created_by and audit[0].detail["run"] == run_id


def test_a_run_survives_a_reload_and_a_failure_is_explained(client, couple, db, clock) -> None:
    # before diary day 1 nothing is due: the export has no rows, and the run says so
    clock.now = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    _login(client, db)
    run_id = _run(client, couple.study_id)
    page = client.get(f"/r/studies/{couple.study_id}/analyses")  # "reload" while it runs
    assert f'id="run-{run_id}"' in page.text
    state = _wait(client, couple.study_id, run_id)
    assert state["status"] == "failed"
    assert "has no scheduled prompts yet" in state["message"]
    r = client.get(f"/r/studies/{couple.study_id}/analyses/{run_id}/report")
    assert r.status_code == 404 and "no such finished analysis run" in r.text
    again = client.get(f"/r/studies/{couple.study_id}/analyses").text
    assert f'id="run-{run_id}"' in again and "has no scheduled prompts yet" in again


def test_a_run_without_progress_is_shown_as_stopped(client, couple, db) -> None:
    from dyadlab.platform.services.analysis_runs import STALE_AFTER, run_state, start_run

    run = start_run(db, db.get(Study, couple.study_id), researcher_id=None)
    db.commit()
    assert run_state(run, run.updated_at)["status"] == "queued"
    late = run_state(run, run.updated_at + STALE_AFTER + timedelta(seconds=1))
    assert late["status"] == "failed" and "start it again" in late["message"]


def test_a_second_run_waits_for_the_first(client, couple, db) -> None:
    from dyadlab.platform.services.analysis_runs import start_run

    start_run(db, db.get(Study, couple.study_id), researcher_id=None)  # queued, not launched
    db.commit()
    _login(client, db)
    page = client.get(f"/r/studies/{couple.study_id}/analyses")
    assert "analyses.js" in page.text and "<progress" in page.text
    r = client.post(f"/r/studies/{couple.study_id}/analyses", data={"csrf": _csrf(page.text)})
    assert r.status_code == 409 and "is still going" in r.text
    assert len(db.scalars(select(AnalysisRun)).all()) == 1


def test_csrf_and_roles(client, couple, db) -> None:
    add_member(db, couple.study_id, ANALYST, "analyst")
    add_member(db, couple.study_id, MONITOR, "monitor")
    _login(client, db, ANALYST)
    r = client.post(f"/r/studies/{couple.study_id}/analyses", data={"csrf": "forged"})
    assert r.status_code == 403 and "form has expired" in r.text
    assert db.scalar(select(AnalysisRun.id)) is None
    assert client.get(f"/r/studies/{couple.study_id}/analyses").status_code == 200
    client.cookies.clear()
    _login(client, db, MONITOR, role="analyst")
    for path in ("", "/1/status", "/1/report"):
        r = client.get(f"/r/studies/{couple.study_id}/analyses{path}")
        assert r.status_code == 403 and "does not allow you to export" in r.text


def test_other_researcher_gets_404_even_for_an_existing_run(
    client, couple, db, protocol_path
) -> None:
    _answer(client, couple)
    _login(client, db)
    run_id = _run(client, couple.study_id)
    _wait(client, couple.study_id, run_id)
    other_study = make_study(db, protocol_path)[0].study_id  # OWNER's second study
    client.cookies.clear()
    _other_researcher(client, db, protocol_path)
    _login(client, db, OTHER)
    own = db.scalars(
        select(Study.id).where(Study.id.not_in([couple.study_id, other_study]))
    ).first()
    csrf = _csrf(client.get("/r/studies").text)
    missing = 10**6
    for method, path in (
        ("GET", "/r/studies/{s}/analyses"),
        ("POST", "/r/studies/{s}/analyses"),
        ("GET", "/r/studies/{s}/analyses/{r}/status"),
        ("GET", "/r/studies/{s}/analyses/{r}/report"),
        ("GET", "/r/studies/{s}/analyses/{r}/report?download=1"),
    ):
        data = {"csrf": csrf} if method == "POST" else None
        got = client.request(method, path.format(s=couple.study_id, r=run_id), data=data)
        gone = client.request(method, path.format(s=missing, r=run_id), data=data)
        assert got.status_code == gone.status_code == 404, path
        assert _unnamed(got.text, couple.study_id) == _unnamed(gone.text, missing)
        assert "Diary APIM" not in got.text
    # the run of another study, asked for through the researcher's own study: no such run
    for path in ("/status", "/report"):
        theirs = client.get(f"/r/studies/{own}/analyses/{run_id}{path}")
        nothing = client.get(f"/r/studies/{own}/analyses/{10**6}{path}")
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.text == nothing.text
    assert len(db.scalars(select(AnalysisRun)).all()) == 1  # nothing was started
    assert OWNER  # the owner's account made the one run


def test_partner_tokens_reach_no_analysis(client, couple, db) -> None:
    _answer(client, couple)
    _login(client, db)
    run_id = _run(client, couple.study_id)
    _wait(client, couple.study_id, run_id)
    client.cookies.clear()
    # a partner's own link sets the participant cookie; their token as a bearer header
    client.get(f"/p/{couple.tokens[0]}")
    for path in ("", f"/{run_id}/status", f"/{run_id}/report"):
        url = f"/r/studies/{couple.study_id}/analyses{path}"
        for headers in ({}, couple.headers(0), couple.headers(1)):
            r = client.get(url, headers=headers, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/r/login", (url, headers)
    r = client.post(
        f"/r/studies/{couple.study_id}/analyses", headers=couple.headers(0), follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/r/login"
    assert len(db.scalars(select(AnalysisRun)).all()) == 1


def test_a_study_without_a_plan_says_so(client, db) -> None:
    from dyadlab.platform.protocol import example_protocol, parse_protocol
    from dyadlab.platform.services.studies import create_study
    from tests.platform.conftest import researcher_id

    content = example_protocol().to_dict()
    del content["analysis"]
    study = create_study(db, parse_protocol(content), created_by=researcher_id(db))
    db.commit()
    _login(client, db)
    page = client.get(f"/r/studies/{study.id}/analyses")
    assert page.status_code == 200 and "has no analysis plan" in page.text
    assert "Run the plan" not in page.text
    r = client.post(f"/r/studies/{study.id}/analyses", data={"csrf": _csrf(page.text)})
    assert r.status_code == 409 and "has no analysis plan" in r.text
    assert db.scalar(select(AnalysisRun.id)) is None
