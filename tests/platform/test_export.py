"""Compliance and export: individual/pairwise/dyad files that dl.diary() fits as they are."""

from __future__ import annotations

import uuid
import warnings
import zipfile
from datetime import timedelta
from io import BytesIO

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

import dyadlab as dl
from dyadlab.exceptions import OptionError
from dyadlab.io import read_table
from dyadlab.platform.services.compliance import study_compliance
from dyadlab.platform.services.export import export_study
from dyadlab.platform.services.responses import submit_response
from dyadlab.platform.services.withdrawal import withdraw
from dyadlab.platform.tables import AuditLog, Person
from tests.platform.conftest import EVENING_DAY3, START, evening_answers, login, make_study


def _consent_all(db, couples):
    for person in db.scalars(select(Person)):
        person.status, person.consent_version = "active", 1
    db.commit()


def _answer(db, person_id, day, answers, *, questionnaire="evening"):
    """Answer on diary ``day`` at 20:30 Amsterdam (CET in early March)."""
    now = EVENING_DAY3 + timedelta(days=day - 3)
    result = submit_response(
        db,
        db.get(Person, person_id),
        submission_id=uuid.uuid4(),
        questionnaire=questionnaire,
        answers=answers,
        now=now,
    )
    db.commit()
    return result


@pytest.fixture
def small_study(db, protocol_path):
    """One couple: both answer day 3, only A answers day 4; 'now' is day 5 noon."""
    made = make_study(db, protocol_path)[0]
    _consent_all(db, [made])
    a, b = made.person_ids
    _answer(db, a, 3, evening_answers(30))
    _answer(db, b, 3, evening_answers(50))
    _answer(db, a, 4, evening_answers(35))
    sex = {"sexual_satisfaction": 90, "approach_motive": 7, "avoidance_motive": 1}
    _answer(db, b, 4, sex, questionnaire="after_sex")
    now = EVENING_DAY3 + timedelta(days=2, hours=-8)
    return made, now


def test_compliance_per_person_couple_and_day(db, small_study):
    made, now = small_study
    report = study_compliance(db, made.study_id, now=now)
    persons = report.persons.set_index("person_id")
    a, b = made.person_ids
    assert persons.loc[a, "due"] == 4 and persons.loc[a, "answered"] == 2
    assert persons.loc[b, "due"] == 4 and persons.loc[b, "answered"] == 1
    assert persons.loc[b, "events"] == 1
    assert persons.loc[a, "rate"] == pytest.approx(0.5)
    assert persons.loc[a, "median_latency_min"] == pytest.approx(30.0)
    days = report.days.set_index("diary_day")
    assert days["complete"].to_dict() == {1: False, 2: False, 3: True, 4: False}
    assert days.loc[4, "persons_answered"] == 1
    couple = report.couples.iloc[0]
    assert (couple["days_due"], couple["days_complete"]) == (4, 1)
    assert couple["rate"] == pytest.approx(0.25)
    assert report.flagged_couples == [made.couple_id]
    assert report.to_dict()["flagged_couples"] == [made.couple_id]


def test_individual_export_rows_and_columns(db, small_study, tmp_path):
    made, now = small_study
    result = export_study(db, made.study_id, layout="individual", out=tmp_path / "d.csv", now=now)
    df = pd.read_csv(tmp_path / "d.csv")
    assert list(df.columns[:19]) == [
        "dyad", "person", "role", "diary_day", "prompt_number", "occasion", "questionnaire",
        "prompt_key", "kind", "scheduled", "sent", "started", "finished", "received", "tz",
        "local_time", "status", "withdrawn", "redacted",
    ]  # fmt: skip
    assert {"desire", "partner_desire", "relationship_satisfaction"} <= set(df.columns)
    assert len(df) == 8 == result.n_rows  # 2 persons x 4 due days
    assert df.groupby("person")["diary_day"].apply(list).tolist() == [[1, 2, 3, 4]] * 2
    a = df[df["person"] == made.person_ids[0]].set_index("diary_day")
    assert a["status"].tolist() == ["missed", "missed", "completed", "completed"]
    assert a.loc[3, "desire"] == 30
    assert np.isnan(a.loc[1, "desire"])
    assert a.loc[3, "scheduled"].startswith("2026-03-03 19:00")
    assert a.loc[1, "scheduled"].startswith("2026-03-01 19:00")  # missed rows keep the plan
    assert (df["occasion"] == df["diary_day"]).all()
    assert set(df["role"]) == {"partner_a", "partner_b"}
    events = pd.read_csv(tmp_path / "d_events.csv")
    assert len(events) == 1 and events.loc[0, "sexual_satisfaction"] == 90
    codebook = pd.read_csv(tmp_path / "d_codebook.csv")
    assert "desire" in set(codebook["item"])
    couples = pd.read_csv(tmp_path / "d_compliance_couples.csv")
    assert bool(couples.loc[0, "flagged"])
    assert result.compliance["prompts_due"] == 8 and result.compliance["prompts_answered"] == 3


def test_pairwise_and_dyad_exports(db, small_study, tmp_path):
    made, now = small_study
    export_study(db, made.study_id, layout="pairwise", out=tmp_path / "p.parquet", now=now)
    pw = read_table(tmp_path / "p.parquet")
    assert len(pw) == 8
    row = pw[(pw["person"] == made.person_ids[0]) & (pw["diary_day"] == 3)].iloc[0]
    assert row["desire"] == 30 and row["desire_partner"] == 50
    export_study(db, made.study_id, layout="dyad", out=tmp_path / "w.csv", now=now)
    wide = pd.read_csv(tmp_path / "w.csv")
    assert len(wide) == 4
    assert {"desire_partner_a", "desire_partner_b"} <= set(wide.columns)


def test_sav_export_has_variable_and_value_labels(db, small_study, tmp_path):
    made, now = small_study
    export_study(db, made.study_id, layout="individual", out=tmp_path / "d.sav", now=now)
    df = read_table(tmp_path / "d.sav")
    assert "How much did you desire sex" in df.attrs["variable_labels"]["desire"]
    assert df.attrs["value_labels"]["relationship_satisfaction"][7.0] == "Strongly agree"


def test_yes_no_items_are_coded_one_zero_everywhere(db, small_study, tmp_path):
    made, now = small_study
    export_study(db, made.study_id, layout="individual", out=tmp_path / "d.csv", now=now)
    df = pd.read_csv(tmp_path / "d.csv")
    answered = df[df["status"] == "completed"]
    assert pd.api.types.is_numeric_dtype(df["conflict"]) and pd.api.types.is_numeric_dtype(
        df["had_sex"]
    )
    assert set(answered["conflict"]) == {0} and set(answered["had_sex"]) == {1}
    assert pd.api.types.is_numeric_dtype(df["relationship_satisfaction"])
    assert set(answered["relationship_satisfaction"]) == {6}
    codebook = pd.read_csv(tmp_path / "d_codebook.csv").set_index("item")
    assert codebook.loc["conflict", "choices"] == "1=Yes; 0=No"
    assert codebook.loc["relationship_satisfaction", "choices"].startswith("1=Strongly disagree")
    export_study(db, made.study_id, layout="individual", out=tmp_path / "d.sav", now=now)
    sav = read_table(tmp_path / "d.sav")
    assert sav.attrs["value_labels"]["had_sex"] == {1.0: "Yes", 0.0: "No"}
    assert sorted(sav["had_sex"].dropna().unique()) == [1.0]
    export_study(db, made.study_id, layout="pairwise", out=tmp_path / "p.parquet", now=now)
    pw = read_table(tmp_path / "p.parquet")
    row = pw[(pw["person"] == made.person_ids[0]) & (pw["diary_day"] == 3)].iloc[0]
    assert row["conflict"] == 0 and row["conflict_partner"] == 0 and row["had_sex_partner"] == 1
    export_study(db, made.study_id, layout="pairwise", out=tmp_path / "p.sav", now=now)
    labels = read_table(tmp_path / "p.sav").attrs
    assert labels["value_labels"]["had_sex_partner"] == {1.0: "Yes", 0.0: "No"}
    assert labels["variable_labels"]["had_sex_partner"].endswith("(partner)")
    export_study(db, made.study_id, layout="dyad", out=tmp_path / "w.sav", now=now)
    labels = read_table(tmp_path / "w.sav").attrs
    assert labels["value_labels"]["conflict_partner_a"] == {1.0: "Yes", 0.0: "No"}
    assert labels["value_labels"]["relationship_satisfaction_partner_b"][7.0] == "Strongly agree"


def test_export_notes_withdrawal_and_deletion(db, small_study, tmp_path):
    made, now = small_study
    withdraw(db, db.get(Person, made.person_ids[1]), delete_data=True, now=now)
    db.commit()
    result = export_study(db, made.study_id, out=tmp_path / "d.csv", now=now)
    df = pd.read_csv(tmp_path / "d.csv")
    assert set(df["person"]) == {made.person_ids[0]}
    a3 = df[df["diary_day"] == 3].iloc[0]
    assert np.isnan(a3["partner_desire"]) and a3["redacted"] == "partner_desire"
    notes = pd.read_csv(tmp_path / "d_withdrawals.csv")
    assert notes["person"].tolist() == [made.person_ids[1]]
    assert bool(notes.loc[0, "data_deleted"])
    assert result.withdrawals[0]["data_deleted"] is True


def test_export_options_are_checked(db, small_study, tmp_path):
    made, _ = small_study
    with pytest.raises(OptionError, match="layout"):
        export_study(db, made.study_id, layout="wide", out=tmp_path / "d.csv")
    with pytest.raises(OptionError, match="out"):
        export_study(db, made.study_id, out=tmp_path / "d.xlsx")


def test_export_route_zip_and_audit(client, db, small_study):
    made, _ = small_study
    headers = login(client, db)
    r = client.get(
        f"/api/v1/studies/{made.study_id}/export?format=individual&file=csv", headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(BytesIO(r.content)).namelist()
    assert f"study{made.study_id}_individual.csv" in names
    assert any(n.endswith("_codebook.csv") for n in names)
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "export")).one()
    assert audit.study_id == made.study_id and audit.detail["format"] == "individual"
    r = client.get(f"/api/v1/studies/{made.study_id}/compliance", headers=headers)
    assert r.status_code == 200
    assert r.json()["threshold"] == 0.8


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_diary_fits_the_export_without_reshaping(db, protocol_path, tmp_path):
    rng = np.random.default_rng(11)
    couples = make_study(db, protocol_path, couples=12)
    _consent_all(db, couples)
    for c in couples:
        for day in range(1, 8):
            for person_id in c.person_ids:
                if rng.random() < 0.1:
                    continue  # a missed day
                desire = int(rng.integers(0, 101))
                answers = evening_answers(desire)
                answers["relationship_satisfaction"] = int(
                    np.clip(round(2 + desire / 25 + rng.normal(0, 1)), 1, 7)
                )
                _answer(db, person_id, day, answers)
    now = EVENING_DAY3 + timedelta(days=5)  # day 8 at 20:30: days 1-7 are over
    export_study(db, couples[0].study_id, out=tmp_path / "diary.csv", now=now)
    df = pd.read_csv(tmp_path / "diary.csv")
    with warnings.catch_warnings(record=True) as caught:  # days not answered are counted
        warnings.simplefilter("always")
        res = dl.diary(
            df, y="relationship_satisfaction", x="desire", dyad="dyad", person="person",
            time="diary_day", role="role",
        )  # fmt: skip
    assert [str(w.message) for w in caught] == res.warnings
    actor = res.estimates[res.estimates["effect"] == "actor"]
    assert (actor["estimate"] > 0).all()
    assert res.n_dyads == 12


def test_sent_time_of_a_missed_prompt(db, small_study, tmp_path):
    from dyadlab.platform.tables import Delivery

    made, now = small_study
    sent = EVENING_DAY3 - timedelta(days=2)  # day 1, 20:30 local
    db.add(
        Delivery(
            person_id=made.person_ids[0], prompt_key="evening:d1:p1", offset_minutes=0,
            due_utc=sent, sent_utc=sent, status="sent",
        )
    )  # fmt: skip
    db.commit()
    export_study(db, made.study_id, out=tmp_path / "d.csv", now=now)
    df = pd.read_csv(tmp_path / "d.csv")
    row = df[(df["person"] == made.person_ids[0]) & (df["diary_day"] == 1)].iloc[0]
    assert row["status"] == "missed"
    assert row["sent"].startswith("2026-03-01 19:30")
    other = df[(df["person"] == made.person_ids[1]) & (df["diary_day"] == 1)].iloc[0]
    assert pd.isna(other["sent"])


def test_pairwise_and_dyad_after_a_deletion(db, small_study, tmp_path):
    from dyadlab.platform.services.invitations import invite_couples

    made, now = small_study
    other = invite_couples(
        db, made.study_id, 1, base_url="http://t", start_date=START, tz="Europe/Amsterdam"
    )[0]
    db.commit()
    _consent_all(db, None)
    for k, partner in enumerate(other.partners):
        _answer(db, partner.person_id, 3, evening_answers(10 + k))
    withdraw(db, db.get(Person, made.person_ids[1]), delete_data=True, now=now)
    db.commit()
    export_study(db, made.study_id, layout="pairwise", out=tmp_path / "p.csv", now=now)
    pw = pd.read_csv(tmp_path / "p.csv")
    assert len(pw) == 12
    assert pw.loc[pw["dyad"] == made.couple_id, "desire_partner"].isna().all()
    export_study(db, made.study_id, layout="dyad", out=tmp_path / "w.csv", now=now)
    wide = pd.read_csv(tmp_path / "w.csv").set_index(["dyad", "diary_day"])
    assert len(wide) == 8
    first = wide.loc[made.couple_id]
    assert first["desire_partner_a"].tolist()[2:] == [30, 35]
    assert first["desire_partner_b"].isna().all()
    assert wide.loc[(other.couple_id, 3), ["desire_partner_a", "desire_partner_b"]].tolist() == [
        10,
        11,
    ]
