"""Protocols as XLSForm spreadsheets and REDCap data dictionaries."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from dyadlab.exceptions import ProtocolError
from dyadlab.platform._redcap import REDCAP_COLUMNS, to_redcap_dictionary
from dyadlab.platform._xlsform import write_xlsform
from dyadlab.platform.protocol import example_protocol, load_protocol, parse_protocol

Sheets = dict[str, list[list[Any]]]

SURVEY_HEADER = [
    "type",
    "name",
    "label::English (en)",
    "label::Dutch (nl)",
    "relevant",
    "required",
    "about",
    "appearance",
    "parameters",
    "hint",
    "constraint",
]


def _survey() -> list[list[Any]]:
    return [
        list(SURVEY_HEADER),
        ["begin_group", "evening", "Evening", "Avond"],
        [
            "range",
            "desire",
            "Desire?",
            "Verlangen?",
            None,
            "yes",
            None,
            None,
            "start=0 end=10 step=1",
        ],
        [
            "range",
            "partner_desire",
            "Partner?",
            "Partner?",
            None,
            "TRUE",
            "partner",
            None,
            "start=0 end=10",
        ],
        ["select_one agree5", "satisfied", "Satisfied?", "Tevreden?", None, None, None, "likert"],
        ["yes_no", "conflict", "Conflict?", "Conflict?"],
        [
            "select_multiple topics",
            "topics",
            "Topics?",
            "Onderwerpen?",
            "${conflict} = 'yes'",
            None,
            None,
            None,
            None,
            "Pick all that apply",
        ],
        [
            "integer",
            "minutes",
            "Minutes?",
            "Minuten?",
            "selected(${topics}, 'money')",
            None,
            None,
            None,
            None,
            None,
            ". >= 0",
        ],
        ["end_group"],
        ["begin group", "after_sex"],
        ["decimal", "hours", "Hours?", "Uren?"],
        ["date", "when", "When?", "Wanneer?"],
        ["time", "bed", "Bed?", "Bed?"],
        ["text", "note", "Note?", "Notitie?"],
        ["end group"],
    ]


def _choices() -> list[list[Any]]:
    rows: list[list[Any]] = [["list_name", "name", "label::English (en)", "label::Dutch (nl)"]]
    rows += [["agree5", i, f"A{i}", f"N{i}"] for i in range(1, 6)]
    rows += [["topics", "money", "Money", "Geld"], ["topics", "chores", "Chores", "Huishouden"]]
    return rows


def _sheets() -> Sheets:
    return {
        "survey": _survey(),
        "choices": _choices(),
        "settings": [
            [
                "form_title",
                "form_id",
                "default_language",
                "roles",
                "consent_version",
                "consent_text::en",
                "consent_text::nl",
            ],
            ["Spreadsheet study", "s1", "Dutch (nl)", "a b", 2, "I agree", "Ik doe mee"],
        ],
        "schedule": [
            [
                "questionnaire",
                "type",
                "time",
                "window_minutes",
                "reminders_after_minutes",
                "days",
                "max_per_day",
            ],
            ["evening", "daily", dt.time(20, 0), 240, "60 180", 21, None],
            ["after_sex", "event", None, None, None, None, 2],
        ],
    }


def _write(path: Path, sheets: Sheets) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _xlsx_error(tmp_path: Path, sheets: Sheets) -> str:
    with pytest.raises(ProtocolError) as info:
        load_protocol(_write(tmp_path / "form.xlsx", sheets))
    return str(info.value)


# --------------------------------------------------------------------------- XLSForm
def test_xlsform_round_trip_of_the_example(tmp_path: Path) -> None:
    protocol = example_protocol()
    path = tmp_path / "diary.xlsx"
    write_xlsform(protocol, path)
    again = load_protocol(path)
    assert again == protocol
    assert again.content_hash == protocol.content_hash


def test_xlsform_reads_xlsform_names(tmp_path: Path) -> None:
    p = load_protocol(_write(tmp_path / "form.xlsx", _sheets()))
    assert p.title == "Spreadsheet study"
    assert p.languages == ["en", "nl"] and p.default_language == "nl"
    assert p.roles == ["a", "b"] and p.consent_version == 2
    assert p.consent_text == {"en": "I agree", "nl": "Ik doe mee"}
    evening = p.questionnaire("evening")
    assert evening.label == {"en": "Evening", "nl": "Avond"}
    types = {i.name: i.type for q in p.questionnaires for i in q.items}
    assert types == {
        "desire": "slider",
        "partner_desire": "slider",
        "satisfied": "likert",
        "conflict": "yes_no",
        "topics": "multiple",
        "minutes": "integer",
        "hours": "decimal",
        "when": "date",
        "bed": "time",
        "note": "text",
    }
    desire = evening.item("desire")
    assert (desire.min, desire.max, desire.step, desire.required) == (0, 10, 1, True)
    assert evening.item("partner_desire").about == "partner"
    assert evening.item("partner_desire").required
    assert evening.item("minutes").constraint == ". >= 0"
    daily, event = p.schedule
    assert (daily.time, daily.window_minutes, daily.reminders_after_minutes, daily.days) == (
        "20:00",
        240,
        [60, 180],
        21,
    )
    assert (event.type, event.max_per_day) == ("event", 2)
    cleaned = p.validate_answers(
        "evening",
        {"desire": 3, "partner_desire": 4, "conflict": "yes", "topics": "money", "minutes": 20},
    )
    assert cleaned["topics"] == ["money"] and cleaned["minutes"] == 20


def test_xlsform_languages_from_label_columns(tmp_path: Path) -> None:
    sheets = _sheets()
    del sheets["settings"]
    p = load_protocol(_write(tmp_path / "form.xlsx", sheets))
    assert p.languages == ["en", "nl"] and p.default_language == "en"
    assert p.title == "form"


def _replace(sheets: Sheets, sheet: str, row: int, col: int, value: Any) -> Sheets:
    sheets[sheet][row][col] = value
    return sheets


XLSX_ERRORS: list[tuple[str, Any, str]] = [
    (
        "unknown type",
        lambda s: _replace(s, "survey", 4, 0, "barcode"),
        "survey sheet, row 5, column type: 'barcode' (satisfied): a browser page cannot scan",
    ),
    (
        "unknown type with suggestion",
        lambda s: _replace(s, "survey", 4, 0, "selct_one agree5"),
        "did you mean 'select_one'",
    ),
    (
        "unknown choice list",
        lambda s: _replace(s, "survey", 4, 0, "select_one agree7"),
        "form.xlsx: [row : 5] List name not in choices sheet: agree7",
    ),
    (
        "duplicate item name",
        lambda s: _replace(s, "survey", 11, 1, "desire"),
        "survey sheet, row 12, column name: duplicate item name 'desire' (also survey sheet, "
        "row 3)",
    ),
    (
        "relevant names unknown item",
        lambda s: _replace(s, "survey", 6, 4, "${conflit} = 'yes'"),
        "[row : 7] On the 'survey' sheet, the 'relevant' value is invalid. Reference variables "
        "must contain a name from the 'survey' sheet. Could not find the name 'conflit'.",
    ),
    (
        "min >= max",
        lambda s: _replace(s, "survey", 2, 8, "start=10 end=0"),
        "survey sheet, row 3, column min: min (10) must be smaller than max (0)",
    ),
    (
        "schedule names unknown questionnaire",
        lambda s: _replace(s, "schedule", 1, 0, "evenning"),
        "schedule sheet, row 2, column questionnaire: schedule names unknown questionnaire",
    ),
    (
        "schedule reminder after window",
        lambda s: _replace(s, "schedule", 1, 4, "60 300"),
        "schedule sheet, row 2, column reminders_after_minutes",
    ),
    (
        "unknown schedule column",
        lambda s: _replace(s, "schedule", 0, 6, "max_per_dya"),
        "schedule sheet, row 3: unknown column 'max_per_dya'; did you mean 'max_per_day'?",
    ),
    (
        "choice without list",
        lambda s: _replace(s, "choices", 2, 0, None),
        "choices sheet, row 3: list_name is empty",
    ),
    (
        "duplicate choice",
        lambda s: _replace(s, "choices", 2, 1, 1),
        "[row : 3] On the 'choices' sheet, the 'name' value is invalid. Choice names must be "
        "unique",
    ),
    (
        "unsupported column",
        lambda s: _replace(s, "survey", 0, 9, "calculation") and _replace(s, "survey", 6, 9, "1+1"),
        "survey sheet, row 7, column choices: choices apply to likert, single and multiple",
    ),
    (
        "item outside a group",
        lambda s: s["survey"].append(["text", "late", "Late", "Laat"]) or s,
        "survey sheet, row 16: item 'late' is outside the questionnaires",
    ),
    (
        "nested group",
        lambda s: _replace(s, "survey", 8, 0, "begin_group"),
        "[row : 9] Question or group with no name.",
    ),
    (
        "group never closed",
        lambda s: s["survey"].pop() and s,
        "[row : 10] Unmatched 'begin_group'. No matching 'end_group' was found",
    ),
    (
        "end without begin",
        lambda s: s["survey"].append(["end_group"]) or s,
        "[row : 16] Unmatched 'end_group'. No matching 'begin_group' was found",
    ),
    (
        "relevant on a group",
        lambda s: s["survey"].__setitem__(
            9, ["begin group", "after_sex", None, None, "${conflict} = 'yes'"]
        ),
        "survey sheet, row 11, column relevant: \"${conflict} = 'yes'\" refers to unknown item",
    ),
    (
        "select without list",
        lambda s: _replace(s, "survey", 4, 0, "select_one"),
        "survey sheet, row 5, column type: 'select_one' (satisfied) is not an item type",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in XLSX_ERRORS], ids=[n for n, _, _ in XLSX_ERRORS]
)
def test_xlsform_errors_name_sheet_and_row(tmp_path: Path, change: Any, expected: str) -> None:
    sheets = _sheets()
    change(sheets)
    message = _xlsx_error(tmp_path, sheets)
    assert expected in message, message


def test_xlsform_file_problems(tmp_path: Path) -> None:
    message = _xlsx_error(tmp_path, {"surveys": [["type"]]})
    assert "has no 'survey' sheet" in message and "did you mean 'surveys'" in message
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(ProtocolError, match=r"broken\.xlsx: cannot be read as an XLSForm"):
        load_protocol(broken)


# --------------------------------------------------------------------------- REDCap
def test_redcap_export_and_import_round_trip(tmp_path: Path) -> None:
    protocol = example_protocol()
    path = tmp_path / "dictionary.csv"
    rows = to_redcap_dictionary(protocol, path, language="en")
    assert list(rows[0]) == list(REDCAP_COLUMNS)
    assert rows[0]["Variable / Field Name"] == "record_id"
    with path.open(encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == list(REDCAP_COLUMNS)
    again = load_protocol(path)
    assert again.languages == ["en"]
    assert again.title == "dictionary"
    assert again.schedule == []

    def strip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "label_nl"} for r in rows]

    assert strip(again.codebook()) == strip(protocol.codebook())
    assert again.choices.keys() == protocol.choices.keys()


def _redcap(tmp_path: Path, fields: list[list[str]]) -> Path:
    path = tmp_path / "project.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REDCAP_COLUMNS)
        writer.writerow(["record_id", "daily", "", "text", "Record ID"] + [""] * 13)
        for field in fields:
            writer.writerow(field + [""] * (len(REDCAP_COLUMNS) - len(field)))
    return path


def _field(
    name: str,
    kind: str,
    label: str,
    choices: str = "",
    validation: str = "",
    logic: str = "",
    required: str = "",
    form: str = "daily",
) -> list[str]:
    return [name, form, "", kind, label, choices, "", validation, "", "", "", logic, required]


REDCAP_FIELDS = [
    _field("reasons", "checkbox", "Why?", "1, Closeness | 2, Duty | 3, Pleasure", required="y"),
    _field("duty_note", "notes", "Say more", logic="[reasons(2)] = '1'"),
    _field("conflict", "yesno", "Conflict?"),
    _field("fights", "text", "How many?", validation="integer", logic="[conflict] = '1'"),
    _field(
        "mood",
        "dropdown",
        "Mood",
        "1, Low | 2, High",
        logic="[reasons(3)] <> '1' AND [conflict] = '0'",
    ),
    _field("also", "radio", "Also", "1, Low | 2, High"),
    _field("when", "text", "When?", validation="date_ymd", form="weekly"),
    _field("hours", "text", "Hours?", validation="number", form="weekly"),
    _field("vas", "slider", "Closeness", "far | | close", form="weekly"),
]


def test_redcap_import(tmp_path: Path) -> None:
    p = load_protocol(_redcap(tmp_path, REDCAP_FIELDS))
    assert [q.name for q in p.questionnaires] == ["daily", "weekly"]
    daily = p.questionnaire("daily")
    assert [i.name for i in daily.items] == [
        "reasons",
        "duty_note",
        "conflict",
        "fights",
        "mood",
        "also",
    ]
    assert daily.item("reasons").type == "multiple" and daily.item("reasons").required
    assert daily.item("duty_note").relevant == "selected(${reasons}, '2')"
    assert daily.item("fights").relevant == "${conflict} = 'yes'"
    assert daily.item("mood").relevant == "not(selected(${reasons}, '3')) and ${conflict} = 'no'"
    assert daily.item("mood").choices == daily.item("also").choices == "mood_choices"
    weekly = p.questionnaire("weekly")
    assert [i.type for i in weekly.items] == ["date", "decimal", "slider"]
    assert (weekly.item("vas").min, weekly.item("vas").max) == (0, 100)
    cleaned = p.validate_answers("daily", {"reasons": ["2"], "duty_note": "x", "conflict": "no"})
    assert cleaned == {"reasons": [2], "duty_note": "x", "conflict": "no"}


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            _field("info", "sql", "Welcome", "select 1"),
            "REDCap dictionary, row 3: field 'info' has type 'sql'",
        ),
        (
            _field("total", "calc", "Total", "datediff([a], 'today', 'y')"),
            "row 3: calculation \"datediff([a], 'today', 'y')\"",
        ),
        (
            _field("total", "calc", "Total", "[a] + [b]"),
            "row 3 (calculation): '${a} + ${b}' refers to unknown item 'a'",
        ),
        (
            _field("x", "text", "X", logic="[event_1_arm_1][conflict] = '1'"),
            "row 3: branching logic",
        ),
        (
            _field("x", "text", "X", logic="datediff([a], [b], 'd') > 1"),
            "unknown function datediff()",
        ),
        (_field("x", "radio", "X", "1 Low | 2 High"), "row 3: choice '1 Low' of field 'x'"),
        (
            _field("x", "text", "X", logic="[nothere] = '1'"),
            "REDCap dictionary, row 3 (relevant): \"${nothere} = '1'\" refers to unknown item",
        ),
    ],
)
def test_redcap_errors_name_the_row(tmp_path: Path, field: list[str], expected: str) -> None:
    with pytest.raises(ProtocolError) as info:
        load_protocol(_redcap(tmp_path, [field]))
    assert expected in str(info.value)


def test_redcap_not_a_dictionary(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ProtocolError, match="has no column 'variable / field name'"):
        load_protocol(path)


def test_redcap_export_refuses_what_redcap_cannot_say() -> None:
    content = example_protocol().to_dict()
    content["questionnaires"][0]["items"][4]["relevant"] = "count-selected(${conflict}) > 0"
    with pytest.raises(ProtocolError, match="cannot be written as REDCap branching logic"):
        to_redcap_dictionary(parse_protocol(content))


def test_redcap_calc_descriptive_and_file_fields(tmp_path: Path) -> None:
    fields = [
        _field("intro", "descriptive", "Welcome"),
        _field("weight", "text", "Weight", validation="number"),
        _field("height", "text", "Height", validation="number"),
        _field("bmi", "calc", "BMI", "round(([weight]*10000)/(([height])^(2)),1)"),
        _field("scan", "file", "A scan"),
    ]
    p = load_protocol(_redcap(tmp_path, fields))
    items = {i.name: i for q in p.questionnaires for i in q.items}
    assert items["intro"].type == "note" and items["scan"].type == "file"
    assert items["bmi"].calculation == ("round((${weight}*10000) div (pow((${height}), (2))),1)")
    clean = p.validate_answers(p.questionnaires[0].name, {"weight": "70", "height": "175"})
    assert clean["bmi"] == 22.9
    signature = _field("sig", "file", "Sign here", validation="signature")
    with pytest.raises(ProtocolError, match="row 3: field 'sig' is a signature"):
        load_protocol(_redcap(tmp_path, [signature]))
