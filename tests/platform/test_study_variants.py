"""Other study designs: indistinguishable couples, semi-random (ESM) prompts, and a
cross-partner trigger — through the services, the API and the export."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from dyadlab.platform.protocol import parse_protocol
from dyadlab.platform.schedule import day_prompts
from dyadlab.platform.services.export import export_study
from dyadlab.platform.services.invitations import invite_couples
from dyadlab.platform.services.responses import submit_response
from dyadlab.platform.services.studies import create_study
from dyadlab.platform.tables import Couple, Person

START = date(2026, 3, 1)
TZ = "Europe/Amsterdam"
ESM = {
    "study": "Moments together",
    "languages": ["en"],
    "default_language": "en",
    "dyad": {"size": 2},
    "consent": {"version": 1, "text": {"en": "I agree."}},
    "schedule": [
        {
            "questionnaire": "mood",
            "type": "random",
            "prompts_per_day": 3,
            "block_start": "09:00",
            "block_end": "21:00",
            "min_gap_minutes": 60,
            "window_minutes": 30,
            "days": 7,
        },
        {
            "questionnaire": "conflict_report",
            "type": "event",
            "max_per_day": 5,
            "triggers_partner": "partner_view",
        },
    ],
    "questionnaires": [
        {
            "name": "mood",
            "items": [
                {"name": "closeness", "type": "slider", "min": 0, "max": 10, "required": True,
                 "label": {"en": "How close do you feel?"}},
            ],
        },
        {
            "name": "conflict_report",
            "items": [{"name": "intensity", "type": "integer", "min": 1, "max": 5,
                       "label": {"en": "How intense?"}}],
        },
        {
            "name": "partner_view",
            "items": [{"name": "noticed", "type": "yes_no", "label": {"en": "Did you notice?"}}],
        },
    ],
}  # fmt: skip


@pytest.fixture
def esm(db):
    """An indistinguishable ESM study with one consented couple: (protocol, couple, persons)."""
    protocol = parse_protocol(ESM)
    study = create_study(db, protocol)
    made = invite_couples(db, study.id, 1, base_url="http://t", start_date=START, tz=TZ)[0]
    persons = [db.get(Person, p.person_id) for p in made.partners]
    for person in persons:
        person.status, person.consent_version = "active", 1
    db.commit()
    couple = db.get(Couple, made.couple_id)
    return protocol, study, couple, persons, made


def _submit(db, person, questionnaire, answers, now):
    result = submit_response(
        db, person, submission_id=uuid.uuid4(), questionnaire=questionnaire, answers=answers,
        now=now,
    )  # fmt: skip
    db.commit()
    return result.response


def test_indistinguishable_couples_have_no_roles(esm):
    *_, made = esm
    assert [p.role for p in made.partners] == [None, None]


def test_esm_prompts_export_with_occasions(db, esm, tmp_path):
    protocol, study, couple, persons, _ = esm
    prompts = day_prompts(protocol, start_date=START, tz=TZ, day=1, seed=couple.seed)
    assert [p.key for p in prompts] == ["mood:d1:p1", "mood:d1:p2", "mood:d1:p3"]
    for k, prompt in enumerate(prompts):
        for j, person in enumerate(persons):
            if (k, j) == (2, 1):
                continue  # B misses the third prompt
            row = _submit(db, person, "mood", {"closeness": 5 * j + k}, prompt.scheduled_utc
                          + timedelta(minutes=5))  # fmt: skip
            assert row.prompt_key == prompt.key and row.prompt_number == k + 1
    now = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # 00:30 on day 2: day 1 is over
    result = export_study(db, study.id, layout="individual", out=tmp_path / "esm.csv", now=now)
    df = pd.read_csv(tmp_path / "esm.csv")
    assert result.compliance["time"] == "occasion"
    assert df.groupby("person")["occasion"].apply(list).tolist() == [[1, 2, 3]] * 2
    assert df["status"].tolist() == ["completed"] * 5 + ["missed"]
    assert df["role"].isna().all()
    export_study(db, study.id, layout="pairwise", out=tmp_path / "pw.csv", now=now)
    pw = pd.read_csv(tmp_path / "pw.csv")
    a = pw[pw["person"] == persons[0].id].set_index("occasion")
    assert a["closeness_partner"].tolist()[:2] == [5, 6]
    assert pd.isna(a.loc[3, "closeness_partner"])
    export_study(db, study.id, layout="dyad", out=tmp_path / "wide.csv", now=now)
    wide = pd.read_csv(tmp_path / "wide.csv")
    assert len(wide) == 3 and {"closeness_1", "closeness_2"} <= set(wide.columns)


def test_cross_partner_trigger_through_the_api(client, db, esm):
    *_, made = esm
    a = {"Authorization": f"Bearer {made.partners[0].token}"}
    b = {"Authorization": f"Bearer {made.partners[1].token}"}

    def keys(headers):
        return [
            p["key"] for p in client.get("/api/v1/me/prompts", headers=headers).json()["prompts"]
        ]

    assert not any(k.startswith("partner_view") for k in keys(b))
    body = {"submission_id": str(uuid.uuid4()), "questionnaire": "conflict_report",
            "answers": {"intensity": 3}}  # fmt: skip
    assert client.post("/api/v1/me/responses", json=body, headers=a).status_code == 201
    opened = [k for k in keys(b) if k.startswith("partner_view")]
    assert len(opened) == 1
    assert not any(k.startswith("partner_view") for k in keys(a))
    body = {"submission_id": str(uuid.uuid4()), "questionnaire": "partner_view",
            "answers": {"noticed": "yes"}}  # fmt: skip
    r = client.post("/api/v1/me/responses", json=body, headers=b)
    assert r.status_code == 201, r.text
    assert r.json()["prompt_key"] == opened[0]
    assert not any(k.startswith("partner_view") for k in keys(b))
    # B still cannot read A's report
    assert (
        client.get("/api/v1/me/responses", headers=b).json()["responses"][0]["questionnaire"]
        == "partner_view"
    )


def test_trigger_window_closes(client, db, esm, clock):
    *_, made = esm
    a = {"Authorization": f"Bearer {made.partners[0].token}"}
    b = {"Authorization": f"Bearer {made.partners[1].token}"}
    body = {"submission_id": str(uuid.uuid4()), "questionnaire": "conflict_report",
            "answers": {"intensity": 2}}  # fmt: skip
    assert client.post("/api/v1/me/responses", json=body, headers=a).status_code == 201
    clock.advance(minutes=121)
    body = {"submission_id": str(uuid.uuid4()), "questionnaire": "partner_view",
            "answers": {"noticed": "no"}}  # fmt: skip
    r = client.post("/api/v1/me/responses", json=body, headers=b)
    assert r.status_code == 409
    rows = db.scalars(select(Person.status)).all()
    assert rows == ["active", "active"]
