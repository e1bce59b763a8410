"""``dyadlab export STUDY --history --out FILE``: the episodes as CSV or JSON, audited."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest
from sqlalchemy import select

from dyadlab.platform.db import make_engine, make_sessionmaker, upgrade_database
from dyadlab.platform.services import history
from dyadlab.platform.tables import AuditLog, Person
from tests.platform.conftest import make_study
from tests.platform.test_cli_platform import cli  # noqa: F401  (the fixture)


@pytest.fixture
def study_with_history(database_url, protocol_path):
    engine = make_engine(database_url)
    upgrade_database(engine)
    with make_sessionmaker(engine)() as session:
        couple = make_study(session, protocol_path)[0]
        person = session.get(Person, couple.person_ids[0])
        row = history.start_interview(session, couple.study_id, person, by=None, birth="2003-05")
        today = date(2026, 3, 3)
        partner = history.add_item(
            session, row, "partner", {"pseudonym": "P1"}, by=None, today=today
        )
        history.add_item(
            session,
            row,
            "episode",
            {
                "partner": str(partner.id),
                "type": "romantic",
                "start": "2019",
                "end": "spring 2021",
                "certainty": "4",
                "notes": "a note",
            },
            by=None,
            today=today,
        )
        session.commit()
    yield couple, engine
    engine.dispose()


def test_export_history_csv_and_json(cli, study_with_history, tmp_path):  # noqa: F811
    couple, engine = study_with_history
    out = tmp_path / "episodes.csv"
    code, stdout, err = cli("export", couple.study_id, "--history", "--out", out, "--json")
    assert code == 0, err
    assert json.loads(stdout) == {
        "study_id": couple.study_id,
        "history": True,
        "file": str(out),
        "n_rows": 1,
    }
    person = str(couple.person_ids[0])
    assert list(csv.DictReader(out.read_text(encoding="utf-8").splitlines())) == [
        {
            "person": person,
            "partner": f"p{person}-1",
            "type": "romantic",
            "start": "2019",
            "end": "2021-04",
            "start_precision": "year",
            "end_precision": "season",
            "certainty": "4",
        }
    ]
    code, _, err = cli("export", couple.study_id, "--history", "--out", tmp_path / "e.json")
    assert code == 0, err
    body = json.loads((tmp_path / "e.json").read_text(encoding="utf-8"))
    assert body["episodes"][0]["notes"] == "a note"
    with make_sessionmaker(engine)() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.action == "export")).all()
        assert [r.detail["format"] for r in rows] == ["history_csv", "history_json"]
        assert all(r.subject.startswith("cli:") for r in rows)


def test_export_history_errors_are_one_line(cli, study_with_history, tmp_path):  # noqa: F811
    couple, _ = study_with_history
    code, _, err = cli("export", couple.study_id, "--history", "--out", tmp_path / "e.xlsx")
    assert code == 2 and "must end in .csv or .json" in err and "Traceback" not in err
    code, _, err = cli("export", 999, "--history", "--out", tmp_path / "e.csv")
    assert code == 1 and "There is no study 999." in err
