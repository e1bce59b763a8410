"""The history interview's data model: fuzzy dates, pseudonyms, the edit log, spells,
the consistency probes, the export and deletion on withdrawal (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, inspect, select

from dyadlab.platform.db import downgrade_database, make_engine, upgrade_database
from dyadlab.platform.services import history
from dyadlab.platform.services.history_dates import FuzzyDateError, parse_when
from dyadlab.platform.services.withdrawal import withdraw
from dyadlab.platform.tables import (
    HistoryEdit,
    HistoryEpisode,
    HistoryInterview,
    HistoryPartner,
    Person,
)
from tests.platform.conftest import make_study, researcher_id

TODAY = date(2026, 3, 3)
HISTORY_TABLES = {
    "history_interviews",
    "history_landmarks",
    "history_partners",
    "history_episodes",
    "history_milestones",
    "history_edits",
    "history_tlfb_days",
}


@pytest.mark.parametrize(
    ("typed", "value", "precision", "earliest", "latest", "export"),
    [
        ("2019-03-15", "2019-03-15", "day", "2019-03-15", "2019-03-15", "2019-03-15"),
        ("15-3-2019", "2019-03-15", "day", "2019-03-15", "2019-03-15", "2019-03-15"),
        ("2019-3", "2019-03", "month", "2019-03-01", "2019-03-31", "2019-03"),
        ("2-2020", "2020-02", "month", "2020-02-01", "2020-02-29", "2020-02"),
        ("summer 2019", "2019-summer", "season", "2019-06-01", "2019-08-31", "2019-07"),
        ("Zomer 2019", "2019-summer", "season", "2019-06-01", "2019-08-31", "2019-07"),
        ("najaar 2018", "2018-autumn", "season", "2018-09-01", "2018-11-30", "2018-10"),
        ("winter 2019", "2019-winter", "season", "2019-12-01", "2020-02-29", "2020-01"),
        ("2019", "2019", "year", "2019-01-01", "2019-12-31", "2019"),
        # born May 2003: age 16 runs May 2019 - April 2020, its 7th month is Nov 2019
        ("age 16", "age 16", "age", "2019-05-01", "2020-04-30", "2019-11"),
        ("16 jaar", "age 16", "age", "2019-05-01", "2020-04-30", "2019-11"),
    ],
)
def test_fuzzy_dates(typed, value, precision, earliest, latest, export):
    got = parse_when(typed, birth="2003-05")
    assert (got.value, got.precision, got.export) == (value, precision, export)
    assert (got.earliest.isoformat(), got.latest.isoformat()) == (earliest, latest)
    again = history.stored(got.value, got.precision, birth="2003-05")
    assert again == got


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("yesterday", "not a date I can read; write e.g. 2019-03-15"),
        ("2019-13", "month must be 1 to 12"),
        ("30-02-2019", "is not a date"),
        ("monsoon 2019", "'monsoon' is not a season"),
        ("1850", "year must be between 1900 and 2100"),
        ("age 16", "enter the respondent's birth month first"),
    ],
)
def test_unreadable_dates_say_what_works(typed, message):
    with pytest.raises(FuzzyDateError, match=message):
        parse_when(typed)


@pytest.mark.parametrize(
    ("pseudonym", "refused"),
    [
        ("P1", False),
        ("J.", False),
        ("the neighbour", False),
        ("Emma", False),  # a single first name cannot be told from a pseudonym
        ("Tinder match", False),
        ("Jan de Vries", True),
        ("Emma Jansen", True),
        ("Anna van der Berg", True),
        ("emma@example.org", True),
        ("06 12345678", True),
        ("", True),
        ("x" * 41, True),
    ],
)
def test_pseudonyms_refuse_obvious_names(pseudonym, refused):
    problem = history.pseudonym_problem(pseudonym)
    assert (problem is not None) == refused
    if problem:
        _assert_translated(
            history.HistoryInputError(
                "pseudonym", problem, history._pseudonym_key(problem), limit=40
            )
        )


@pytest.fixture
def interview(session, protocol_path):
    couple = make_study(session, protocol_path)[0]
    person = session.get(Person, couple.person_ids[0])
    by = researcher_id(session)
    row = history.start_interview(session, couple.study_id, person, by=by, birth="2003-05")
    session.commit()
    return couple, row, by


def _add(session, row, entity, by, **form):
    return history.add_item(session, row, entity, form, by=by, today=TODAY)


def test_every_change_is_logged_with_who_when_why(session, interview):
    _couple, row, by = interview
    partner = _add(session, row, "partner", by, pseudonym="P1")
    ep = _add(
        session,
        row,
        "episode",
        by,
        partner=str(partner.id),
        type="dating",
        start="2019-03",
        end="2019-06",
        certainty="4",
    )
    with pytest.raises(history.HistoryInputError, match="reason: say why") as exc:
        history.update_item(
            session,
            row,
            "episode",
            ep.id,
            {"partner": str(partner.id), "type": "dating", "start": "2019-02", "end": "2019-06"},
            by=by,
            today=TODAY,
        )
    assert exc.value.field == "reason"
    history.update_item(
        session,
        row,
        "episode",
        ep.id,
        {
            "partner": str(partner.id),
            "type": "dating",
            "start": "2019-02",
            "end": "2019-06",
            "certainty": "4",
            "reason": "respondent remembered Valentine's day",
        },
        by=by,
        today=TODAY,
    )
    from dyadlab.platform.services import history_tlfb

    cell = history_tlfb.cell_name(date(2026, 3, 1), partner.id)
    history_tlfb.save(session, row, {cell: "1"}, days=30, today=TODAY, by=by)
    assert history.remove_item(session, row, "partner", partner.id, {"reason": "duplicate"}, by=by)
    session.commit()
    edits = session.scalars(select(HistoryEdit).order_by(HistoryEdit.id)).all()
    got = [(e.entity, e.action, e.reason, e.researcher_id) for e in edits]
    assert got == [
        ("interview", "create", None, by),
        ("partner", "create", None, by),
        ("episode", "create", None, by),
        ("episode", "update", "respondent remembered Valentine's day", by),
        ("tlfb", "update", None, by),
        ("episode", "delete", "duplicate", by),
        ("tlfb", "delete", "duplicate", by),
        ("partner", "delete", "duplicate", by),
    ]
    update = edits[3]
    assert history_tlfb.cells(session, row) == {}
    assert (update.before["start_value"], update.after["start_value"]) == ("2019-03", "2019-02")
    assert all(e.at is not None and e.at.tzinfo is not None for e in edits)
    with pytest.raises(RuntimeError, match="append-only"):
        update.reason = "rewritten"
        session.flush()


def test_a_change_of_type_is_a_new_spell(session, interview):
    _couple, row, by = interview
    partner = _add(session, row, "partner", by, pseudonym="P1")
    ep = _add(
        session,
        row,
        "episode",
        by,
        partner=str(partner.id),
        type="dating",
        start="2019-03",
        ongoing="on",
    )
    with pytest.raises(history.HistoryInputError, match="new spell"):
        history.update_item(
            session,
            row,
            "episode",
            ep.id,
            {
                "partner": str(partner.id),
                "type": "romantic",
                "start": "2019-03",
                "ongoing": "on",
                "reason": "x",
            },
            by=by,
            today=TODAY,
        )
    new = history.change_type(
        session, row, ep.id, {"type": "romantic", "when": "2019-09"}, by=by, today=TODAY
    )
    session.commit()
    spells = session.scalars(select(HistoryEpisode).order_by(HistoryEpisode.id)).all()
    got = [(s.type, s.start_value, s.end_value, s.ongoing, s.previous_id) for s in spells]
    assert got == [
        ("dating", "2019-03", "2019-09", False, None),
        ("romantic", "2019-09", None, True, ep.id),
    ]
    assert new is spells[1]
    with pytest.raises(history.HistoryInputError, match="outside this spell"):
        history.change_type(
            session, row, ep.id, {"type": "casual", "when": "2021"}, by=by, today=TODAY
        )


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"start": "2019-06", "end": "2019-03"}, "end", "before the start"),
        ({"start": "2019-06", "end": "2019-09", "ongoing": "on"}, "end", "has no end"),
        ({"start": "2019-06"}, "end", "give an end, or tick 'ongoing'"),
        ({"start": "2027", "ongoing": "on"}, "start", "in the future"),
        ({"start": "2001", "ongoing": "on"}, "start", "before the respondent was born"),
        ({"start": "soon", "ongoing": "on"}, "start", "not a date I can read"),
        ({"start": "2019", "ongoing": "on", "certainty": "9"}, "certainty", "1 to 5"),
        ({"start": "2019", "ongoing": "on", "type": "marriage"}, "type", "'marriage' is not"),
        ({"start": "2019", "ongoing": "on", "partner": "99999"}, "partner", "from the roster"),
    ],
)
def test_impossible_episodes_are_refused_naming_the_field(session, interview, form, field, message):
    _couple, row, by = interview
    partner = _add(session, row, "partner", by, pseudonym="P1")
    full = {"partner": str(partner.id), "type": "dating", **form}
    with pytest.raises(history.HistoryInputError, match=message) as exc:
        _add(session, row, "episode", by, **full)
    assert exc.value.field == field
    _assert_translated(exc.value)


def _assert_translated(exc):
    """The pages can say the error in every language (its key and values fit)."""
    from dyadlab.platform.history_i18n import HISTORY_MESSAGES

    assert exc.key, exc.message
    for messages in HISTORY_MESSAGES.values():
        assert messages[f"err_{exc.key}"].format(**exc.values)


def test_probes_find_what_to_ask(session, interview):
    couple, row, by = interview  # born May 2003
    a = _add(session, row, "partner", by, pseudonym="A")
    b = _add(session, row, "partner", by, pseudonym="B")
    early = _add(
        session,
        row,
        "episode",
        by,
        partner=str(a.id),
        type="dating",
        start="2014-06",
        end="2014-08",
    )  # age 11: young
    first = _add(
        session,
        row,
        "episode",
        by,
        partner=str(a.id),
        type="romantic",
        start="2018-01",
        end="2019-12",
    )  # gap of 3+ years before it
    other = _add(
        session,
        row,
        "episode",
        by,
        partner=str(b.id),
        type="casual",
        start="2019-06",
        end="2019-07",
    )  # overlaps `first` with another partner
    same = _add(
        session, row, "episode", by, partner=str(a.id), type="fwb", start="2019-10", end="2020-03"
    )  # overlaps `first`: same partner
    vague = _add(
        session, row, "episode", by, partner=str(b.id), type="online", start="2020", end="2020"
    )  # "2020" may or may not overlap `same`: no probe
    kiss = _add(
        session, row, "milestone", by, kind="first_kiss", partner=str(b.id), when="2017"
    )  # B's episodes are 2019-2020: outside
    session.commit()
    loaded = history.load_interview(session, couple.study_id, couple.person_ids[0])
    got = {(p.kind, p.refs) for p in history.probes(loaded, TODAY)}
    assert got == {
        ("young", (f"episode:{early.id}",)),
        ("gap", (f"episode:{early.id}", f"episode:{first.id}")),
        ("overlap", (f"episode:{first.id}", f"episode:{other.id}")),
        ("same_partner_overlap", (f"episode:{first.id}", f"episode:{same.id}")),
        ("milestone_outside", (f"milestone:{kiss.id}",)),
    }
    assert vague.id not in {
        int(r.split(":")[1])
        for p in history.probes(loaded, TODAY)
        for r in p.refs
        if r.startswith("episode")
    }


def test_export_follows_the_episodes_contract(session, interview):
    couple, row, by = interview
    a = _add(session, row, "partner", by, pseudonym="=cmd|calc")
    b = _add(session, row, "partner", by, pseudonym="P2")
    _add(
        session,
        row,
        "episode",
        by,
        partner=str(a.id),
        type="romantic",
        start="15-3-2019",
        end="summer 2020",
        certainty="5",
        notes="met at school",
    )
    _add(
        session,
        row,
        "episode",
        by,
        partner=str(b.id),
        type="one_time",
        start="age 20",
        ongoing="on",
        certainty="2",
    )
    session.commit()
    rows = history.export_rows(session, couple.study_id)
    text = history.export_csv(rows)
    got = list(csv.DictReader(io.StringIO(text)))
    person = str(couple.person_ids[0])
    assert got == [
        {
            "person": person,
            "partner": f"p{person}-1",
            "type": "romantic",
            "start": "2019-03-15",
            "end": "2020-07",
            "start_precision": "day",
            "end_precision": "season",
            "certainty": "5",
        },
        {
            "person": person,
            "partner": f"p{person}-2",
            "type": "one_time",
            "start": "2023-11",
            "end": "",
            "start_precision": "age",
            "end_precision": "",
            "certainty": "2",
        },
    ]
    assert "cmd" not in text and "met at school" not in text  # pseudonyms, notes: JSON only
    assert rows[0]["partner_pseudonym"] == "=cmd|calc" and rows[0]["notes"] == "met at school"
    _add(
        session,
        row,
        "milestone",
        by,
        kind="first_intercourse",
        partner=str(a.id),
        when="winter 2019",
        certainty="4",
    )
    _add(session, row, "milestone", by, kind="first_sexting", when="age 15")
    _add(session, row, "landmark", by, kind="move", label="To Utrecht", start="2021", end="2021")
    session.commit()
    more = history.export_more(session, couple.study_id)
    assert more["persons"] == [{"person": person, "birth": "2003-05"}]
    assert more["milestones"] == [
        # born May 2003: age 15 is May 2018 - April 2019, placed in its 7th month
        {
            "person": person,
            "partner": "",
            "milestone": "first_sexting",
            "date": "2018-11",
            "precision": "age",
            "certainty": 3,
        },
        {
            "person": person,
            "partner": f"p{person}-1",
            "milestone": "first_intercourse",
            "date": "2020-01",
            "precision": "season",
            "certainty": 4,
        },
    ]
    assert more["landmarks"] == [
        {
            "person": person,
            "kind": "move",
            "label": "To Utrecht",
            "start": "2021",
            "end": "2021",
            "start_precision": "year",
            "end_precision": "year",
        }
    ]


def test_withdrawal_with_deletion_deletes_the_interview(session, interview):
    couple, row, by = interview
    partner = _add(session, row, "partner", by, pseudonym="P1")
    _add(
        session,
        row,
        "episode",
        by,
        partner=str(partner.id),
        type="dating",
        start="2019",
        ongoing="on",
        notes="SECRET",
    )
    other = session.get(Person, couple.person_ids[1])
    theirs = history.start_interview(session, couple.study_id, other, by=by)
    _add(session, theirs, "partner", by, pseudonym="Q")
    session.commit()
    person = session.get(Person, couple.person_ids[0])
    withdraw(session, person, delete_data=False)
    session.commit()
    assert session.scalar(select(func.count()).select_from(HistoryEpisode)) == 1
    withdraw(session, person, delete_data=True)
    session.commit()
    left = session.scalars(select(HistoryInterview.person_id)).all()
    assert left == [couple.person_ids[1]]  # the partner's own interview stays
    assert session.scalar(select(func.count()).select_from(HistoryEpisode)) == 0
    assert [p.pseudonym for p in session.scalars(select(HistoryPartner))] == ["Q"]
    edits = session.scalars(select(HistoryEdit.interview_id)).all()
    assert set(edits) == {theirs.id}


def test_migration_0006_up_down_up_after_0008(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine, "0008")
    assert not HISTORY_TABLES & set(inspect(engine).get_table_names())
    upgrade_database(engine, "0006")
    assert set(inspect(engine).get_table_names()) >= HISTORY_TABLES
    downgrade_database(engine, "0008")
    tables = set(inspect(engine).get_table_names())
    assert not HISTORY_TABLES & tables and "analysis_runs" in tables
    upgrade_database(engine, "0006")
    assert set(inspect(engine).get_table_names()) >= HISTORY_TABLES
    engine.dispose()


def test_the_calendar_stores_counts_and_logs_changes(session, interview):
    from dyadlab.platform.services import history_tlfb
    from dyadlab.platform.tables import HistoryCalendarDay

    couple, row, by = interview
    a = _add(session, row, "partner", by, pseudonym="A")
    days = history_tlfb.window(TODAY, 30)
    assert (len(days), days[0], days[-1]) == (30, date(2026, 2, 1), date(2026, 3, 2))
    first, last = history_tlfb.cell_name(days[0], a.id), history_tlfb.cell_name(days[-1], None)
    form = {first: "2", last: "1", "c-2026-01-01-0": "5", f"c-2026-03-01-{a.id + 99}": "3"}
    assert history_tlfb.save(session, row, form, days=30, today=TODAY, by=by) == 2
    assert history_tlfb.cells(session, row) == {(days[0], a.id): 2, (days[-1], None): 1}
    # outside the window and another interview's partner: ignored; 0 deletes; same: no log
    assert (
        history_tlfb.save(session, row, {first: "0", last: "1"}, days=30, today=TODAY, by=by) == 1
    )
    assert history_tlfb.cells(session, row) == {(days[-1], None): 1}
    with pytest.raises(history.HistoryInputError, match="not a number from 0 to 20") as exc:
        history_tlfb.save(session, row, {first: "lots"}, days=30, today=TODAY, by=by)
    assert exc.value.field == first
    _assert_translated(exc.value)
    with pytest.raises(history.HistoryInputError, match="days: choose 30, 60, 90"):
        history_tlfb.save(session, row, {}, days=45, today=TODAY, by=by)
    session.commit()
    logs = session.scalars(select(HistoryEdit).where(HistoryEdit.entity == "tlfb")).all()
    assert [(e.before, e.after) for e in logs] == [
        ({first: 0, last: 0}, {first: 2, last: 1}),
        ({first: 2}, {first: 0}),
    ]
    assert history_tlfb.calendar_rows(session, couple.study_id) == [
        {
            "person": str(couple.person_ids[0]),
            "partner": "other",
            "day": "2026-03-02",
            "contacts": 1,
        }
    ]
    person = session.get(Person, couple.person_ids[0])
    withdraw(session, person, delete_data=True)
    session.commit()
    assert session.scalars(select(HistoryCalendarDay)).all() == []
