"""The platform's episodes export is what ``dyadlab.history`` reads (issue 17's contract):
an interview made through the service, exported as CSV and as JSON, turned into monthly
state sequences. The states are worked out by hand below. Skipped until
``dyadlab.history`` is part of the package."""

from __future__ import annotations

from datetime import date

import pytest

from dyadlab.exceptions import DyadlabWarning
from dyadlab.platform.services import history
from dyadlab.platform.tables import Person
from tests.platform.conftest import make_study

dl_history = pytest.importorskip("dyadlab.history")


def test_the_export_turns_into_the_expected_sequences(session, protocol_path, tmp_path):
    import json

    couple = make_study(session, protocol_path)[0]
    person = session.get(Person, couple.person_ids[0])
    row = history.start_interview(session, couple.study_id, person, by=None, birth="2003-05")
    today = date(2026, 3, 1)
    p1 = history.add_item(session, row, "partner", {"pseudonym": "P1"}, by=None, today=today)
    p2 = history.add_item(session, row, "partner", {"pseudonym": "P2"}, by=None, today=today)
    dating = history.add_item(
        session,
        row,
        "episode",
        {"partner": str(p1.id), "type": "dating", "start": "summer 2019", "ongoing": "on"},
        by=None,
        today=today,
    )
    history.add_item(
        session,
        row,
        "episode",
        {"partner": str(p2.id), "type": "casual", "start": "2019-10", "end": "2019-11"},
        by=None,
        today=today,
    )
    history.change_type(
        session, row, dating.id, {"type": "romantic", "when": "2020-01"}, by=None, today=today
    )
    session.commit()
    rows = history.export_rows(session, couple.study_id)
    (tmp_path / "ep.csv").write_text(history.export_csv(rows), encoding="utf-8")
    (tmp_path / "ep.json").write_text(json.dumps({"episodes": rows}, default=str), encoding="utf-8")
    # summer 2019 is exported as 2019-07; the dating spell ends in 2020-01 where the
    # romantic one starts (a month counts for every episode it touches); until March 2020.
    expected = [
        "dating",
        "dating",
        "dating",
        "casual+dating",
        "casual+dating",
        "dating",
        "dating+romantic",
        "romantic",
        "romantic",
    ]
    for name in ("ep.csv", "ep.json"):
        with pytest.warns(DyadlabWarning, match="season"):
            result = dl_history.sequences(tmp_path / name, unit="month", until="2020-03-31")
        (seq,) = result.to_dict()["sequences"]
        assert (seq["person"], seq["start"]) == (str(person.id), "2019-07")
        assert seq["states"] == expected, name
