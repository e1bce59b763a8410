"""Reading episodes: every bad row is named by its line (file) or row (frame) and column."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, OptionError

from .conftest import COLUMNS, episodes


@pytest.mark.parametrize(
    ("row", "column", "fragment"),
    [
        (
            ("p", "casual", "2019/03", ""),
            "start",
            "is not a date; write YYYY-MM-DD, YYYY-MM or YYYY",
        ),
        (("p", "casual", "2019-02-30", ""), "start", "is not a calendar date"),
        (("p", "casual", "2019-13", ""), "start", "is not a calendar date"),
        (("p", "casual", "2019-05", "2019-04"), "end", "is before the start"),
        (("p", "casual", "2019-05-03", "2019-05-02"), "end", "is before the start"),
        (("p", "casual", "2019", "2018-12"), "end", "is before the start"),
        (("p", "casual", "2019", "", "month"), "start_precision", "written to the year only"),
        (("p", "casual", "2019", "", "weekly"), "start_precision", "is not a precision"),
        (("p", "casual", "2019", "", "", "", "7"), "certainty", "from 1 to 5"),
        (("p", "casual", "2019", "", "", "", "2.5"), "certainty", "from 1 to 5"),
        (("p", "casual", "2019", "", "", "", "sure"), "certainty", "from 1 to 5"),
        (("p", "", "2019", ""), "type", "is empty"),
        (("", "casual", "2019", ""), "person", "is empty"),
        (("p", "casual", "", ""), "start", "is empty"),
        (("p", "casual+romantic", "2019", ""), "type", "cannot be a type"),
        (("p", "none", "2019", ""), "type", "cannot be a type"),
        (("p", "casual", "2025-01", ""), "start", "is after until (2024-07-10)"),
    ],
)
def test_bad_rows_are_named(tmp_path, row, column, fragment):
    good = ("q", "romantic", "2018-01-05", "2018-02", "", "", "3")
    frame = episodes(good, row)
    with pytest.raises(DyadicDataError) as frame_error:
        dl.history.read_episodes(frame, until="2024-07-10")
    assert f"row 1, column {column!r}: " in str(frame_error.value)
    assert fragment in str(frame_error.value)
    path = tmp_path / "episodes.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DyadicDataError) as file_error:
        dl.history.read_episodes(path, until="2024-07-10")
    assert f"episodes.csv, line 3, column {column!r}: " in str(file_error.value)


def test_missing_column_is_named_with_its_closest_match():
    frame = episodes(("p", "casual", "2019", "")).rename(columns={"start": "begin"})
    with pytest.raises(DyadicDataError, match=r"no column 'start'.*needs the columns person"):
        dl.history.read_episodes(frame)
    frame = episodes(("p", "casual", "2019", "")).rename(columns={"certainty": "certainity"})
    with pytest.raises(DyadicDataError, match="did you mean 'certainity'"):
        dl.history.read_episodes(frame)


def test_bad_until_and_missing_file():
    with pytest.raises(OptionError, match="until='yesterday'"):
        dl.history.read_episodes(episodes(("p", "casual", "2019", "")), until="yesterday")
    with pytest.raises(DyadicDataError, match="there is no file"):
        dl.history.read_episodes("no/such/episodes.csv")


def test_placed_dates_and_filled_columns(tmp_path):
    frame = episodes(
        ("p", "casual", "2019", "2019-09-03"),
        ("p", "romantic", "2019-02", "", "season", "", "5"),
        ("q", "online", "2020-02-29", "2021", "", "age", ""),
    )
    frame["note"] = ["met at a party", "", "chat only"]
    path = tmp_path / "e.csv"
    frame.to_csv(path, index=False)
    for source in (frame, path):
        ep = dl.history.read_episodes(source, until="2022-01-31")
        t = ep.table
        assert list(t["start"].dt.date) == [
            dt.date(2019, 7, 1),
            dt.date(2019, 2, 15),
            dt.date(2020, 2, 29),
        ]
        assert list(t["end"].dt.date) == [
            dt.date(2019, 9, 3),
            dt.date(2022, 1, 31),
            dt.date(2021, 7, 1),
        ]
        assert list(t["start_precision"]) == ["year", "season", "day"]
        assert list(t["end_precision"]) == ["day", "ongoing", "age"]
        assert list(t["ongoing"]) == [False, True, False]
        assert t["certainty"].tolist() == [pd.NA, 5, pd.NA] or t["certainty"].isna().sum() == 2
        assert list(t["episode"]) == ["e1", "e2", "e3"]
        assert list(t["note"]) == ["met at a party", "", "chat only"]
        assert ep.persons == ["p", "q"]
    assert ep.until == dt.date(2022, 1, 31)


def test_a_numeric_year_column_from_a_spreadsheet_is_read_as_a_year():
    frame = episodes(("p", "casual", "2019", "2020"))
    frame["start"] = [2019]
    frame["end"] = [2020.0]
    ep = dl.history.read_episodes(frame, until="2024-01-01")
    assert ep.table.loc[0, "start"].date() == dt.date(2019, 7, 1)
    assert ep.table.loc[0, "end"].date() == dt.date(2020, 7, 1)


def test_until_defaults_to_today():
    ep = dl.history.read_episodes(episodes(("p", "casual", "2019", "")))
    assert ep.until == dt.date.today()
    assert ep.table.loc[0, "end"].date() == dt.date.today()


def test_the_columns_constant_is_the_contract():
    assert list(dl.history.episodes.COLUMNS) == COLUMNS


PLATFORM_ROWS = [
    # as the platform's history export writes them (services/history.py::export_rows):
    # a season as its middle month, an age as the middle month of that year of life
    {
        "person": "17",
        "partner": "p17-1",
        "type": "romantic",
        "start": "2019-07",
        "end": "",
        "start_precision": "season",
        "end_precision": "",
        "certainty": 4,
        "episode": 3,
        "previous": None,
        "ongoing": True,
        "exclusivity": "exclusive",
        "cohabitation": False,
        "partner_pseudonym": "J.",
        "notes": "Met at a festival.",
    },
    {
        "person": "17",
        "partner": "p17-2",
        "type": "other",
        "start": "2018-11",
        "end": "2019-01",
        "start_precision": "age",
        "end_precision": "season",
        "certainty": None,
        "episode": 4,
        "previous": None,
        "ongoing": False,
        "exclusivity": "unclear",
        "cohabitation": False,
        "partner_pseudonym": "T",
        "notes": None,
    },
]


def test_the_platform_json_export_is_read(tmp_path):
    import json

    path = tmp_path / "history.json"
    path.write_text(json.dumps({"study_id": 1, "episodes": PLATFORM_ROWS}), encoding="utf-8")
    ep = dl.history.read_episodes(path, until="2020-02-01")
    t = ep.table
    assert t["episode"].tolist() == ["3", "4"]
    assert t["note"].tolist() == ["Met at a festival.", ""]
    assert t["certainty"].tolist()[0] == 4 and pd.isna(t["certainty"].tolist()[1])
    assert t["start_precision"].tolist() == ["season", "age"]
    assert ep.placement_warnings("month")[0].startswith("1 start date known to the season")


def test_the_platform_csv_export_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "history.csv"
    header = "person,partner,type,start,end,start_precision,end_precision,certainty\n"
    body = "17,p17-1,romantic,2019-07,,season,,4\n17,p17-2,other,2018-11,2019-01,age,season,\n"
    path.write_text("\ufeff" + header + body, encoding="utf-8")
    ep = dl.history.read_episodes(path, until="2020-02-01")
    assert ep.table["type"].tolist() == ["romantic", "other"]
    with pytest.warns(dl.DyadlabWarning):
        res = dl.history.sequences(ep)
    # other: Nov 2018 – Jan 2019; romantic: Jul 2019 – Feb 2020 (ongoing)
    assert res.sequences[0].start == "2018-11"
    assert res.sequences[0].states == ["other"] * 3 + ["none"] * 5 + ["romantic"] * 8


def test_a_json_file_that_is_not_a_list_of_rows(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"study_id": 1}', encoding="utf-8")
    with pytest.raises(DyadicDataError, match="list of rows"):
        dl.history.read_episodes(path)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(DyadicDataError, match="is not JSON"):
        dl.history.read_episodes(path)


def test_types_that_differ_only_in_case_are_warned():
    frame = episodes(("p", "romantic", "2019-01", "2019-02"), ("q", "Romantic", "2019-01", ""))
    ep = dl.history.read_episodes(frame, until="2020-01-01")
    assert ep.notes == [
        "the types 'romantic' and 'Romantic' differ only in case and are counted as "
        "different types; write them alike if they are one."
    ]
