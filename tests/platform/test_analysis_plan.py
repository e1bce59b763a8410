"""The protocol's ``analysis`` section: checked when the study is created, part of the hash,
read from YAML and from an XLSForm ``analysis`` sheet."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dyadlab.exceptions import ProtocolError
from dyadlab.platform.protocol import example_protocol, load_protocol, parse_protocol, write_xlsform

PLAN = [
    {"model": "diary", "y": "relationship_satisfaction", "x": ["desire", "conflict"]},
    {"model": "truth_bias", "judgment": "partner_desire", "truth": "desire"},
    {"model": "nonindependence", "var": ["desire", "relationship_satisfaction"]},
]


def _content(plan: Any) -> dict[str, Any]:
    content = example_protocol().to_dict()
    content["analysis"] = plan
    return content


def test_example_protocol_has_a_plan_that_round_trips() -> None:
    protocol = example_protocol()
    assert [e["model"] for e in protocol.analysis] == [
        "nonindependence",
        "apim",
        "diary",
        "diary",
        "truth_bias",
    ]
    assert parse_protocol(protocol.to_dict()) == protocol


def test_plan_entries_are_normalised() -> None:
    protocol = parse_protocol(_content(PLAN))
    assert protocol.analysis[2] == {
        "model": "nonindependence",
        "variables": ["desire", "relationship_satisfaction"],
    }
    single = parse_protocol(_content([{"model": "diary", "y": "desire", "x": "conflict"}]))
    assert single.analysis == [{"model": "diary", "y": "desire", "x": ["conflict"]}]


def test_plan_is_part_of_the_hash_and_no_plan_keeps_the_old_hash() -> None:
    with_plan = parse_protocol(_content(PLAN))
    other = parse_protocol(_content(PLAN[:2]))
    content = _content(PLAN)
    del content["analysis"]
    without = parse_protocol(content)
    assert len({with_plan.content_hash, other.content_hash, without.content_hash}) == 3
    assert "analysis" not in without.to_dict()  # protocols without a plan keep their hash
    assert parse_protocol({**content, "analysis": []}).content_hash == without.content_hash


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (
            [{"model": "diary", "y": "relationship_satisfacton", "x": "desire"}],
            "analysis[0].y: there is no item 'relationship_satisfacton'; did you mean "
            "'relationship_satisfaction'?",
        ),
        (
            [{"model": "diary", "y": "desire", "x": ["conflict", "mood"]}],
            "analysis[0].x: there is no item 'mood'",
        ),
        (
            [{"model": "diry", "y": "desire", "x": "conflict"}],
            "analysis[0].model: unknown model 'diry'; did you mean 'diary'?",
        ),
        (
            [{"model": "diary", "y": "desire", "x": "note"}],
            "analysis[0].x: item 'note' is a text item; a model needs numbers",
        ),
        (
            [{"model": "diary", "y": "desire", "x": "conflict", "centre": "person"}],
            "analysis[0].centre: diary takes no argument 'centre'; did you mean 'center'?",
        ),
        (
            [{"model": "diary", "y": "desire", "x": "conflict", "center": "grand"}],
            "analysis[0].center: 'grand' is not allowed. Allowed: none, person.",
        ),
        (
            [{"model": "diary", "y": ["desire", "conflict"], "x": "conflict"}],
            "analysis[0].y: must name one item",
        ),
        (
            [{"model": "diary", "y": "desire", "x": "conflict", "random_slopes": "yes"}],
            "analysis[0].random_slopes: must be true or false",
        ),
        ([{"model": "diary", "y": "desire"}], "analysis[0]: diary needs 'x'"),
        (
            [{"model": "diary", "y": "desire", "x": "sexual_satisfaction"}],
            "a model's items must be answered together, in one questionnaire",
        ),
        (
            [{"model": "apim", "y": "sexual_satisfaction", "x": "approach_motive"}],
            "questionnaire 'after_sex' is event-contingent, so its answers have no fixed",
        ),
        (
            [{"model": "diary", "y": "had_sex", "x": "desire"}],
            "analysis[0].y: item 'had_sex' is yes/no; add family: binomial",
        ),
        (
            [{"model": "diary", "y": "desire", "x": "conflict", "family": "binomial"}],
            "analysis[0].family: binomial needs a yes/no outcome",
        ),
        (
            [{"model": "truth_bias", "judgment": "desire", "truth": "desire"}],
            "analysis[0].judgment: item 'desire' is not a judgment of the partner",
        ),
        (
            [{"model": "truth_bias", "judgment": "partner_desire", "truth": "partner_desire"}],
            "analysis[0].truth: item 'partner_desire' is a judgment of the partner",
        ),
        (
            [PLAN[0], {**PLAN[0], "name": "a"}, {**PLAN[0], "name": "a"}],
            "analysis[2].name: name 'a' is used by another model of the plan",
        ),
        ("diary", "analysis: must be a list"),
        (
            [{"model": "nonindependence", "var": ["desire"], "variables": ["conflict"]}],
            "analysis[0].variables: variables is given twice",
        ),
    ],
)
def test_a_bad_plan_is_refused_with_its_place(plan: Any, expected: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse_protocol(_content(plan))
    assert expected in str(err.value)


def test_a_diary_model_needs_more_than_one_day() -> None:
    content = _content([PLAN[0]])
    content["schedule"][0]["days"] = 1
    with pytest.raises(ProtocolError, match="asked on 1 day only; a diary model needs"):
        parse_protocol(content)
    content["analysis"] = [{"model": "apim", "y": "relationship_satisfaction", "x": "desire"}]
    assert parse_protocol(content).analysis[0]["model"] == "apim"


def test_plan_is_checked_only_on_an_otherwise_valid_protocol() -> None:
    content = _content(PLAN)
    content["questionnaires"][0]["items"][0]["type"] = "sldier"
    with pytest.raises(ProtocolError) as err:
        parse_protocol(content)
    assert str(err.value).startswith("questionnaires[0].items[0].type")
    assert "more problem" not in str(err.value)  # no follow-on errors from the plan


def test_xlsform_analysis_sheet_round_trips_and_names_rows(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "diary.xlsx"
    write_xlsform(example_protocol(), path)
    assert load_protocol(path) == example_protocol()
    book = openpyxl.load_workbook(path)
    sheet = book["analysis"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=4, column=header.index("x") + 1, value="desire conflcit")
    book.save(path)
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert str(err.value) == (
        "analysis sheet, row 4, column x: there is no item 'conflcit'; did you mean 'conflict'?"
    )


def test_xlsform_analysis_sheet_reads_switches_and_levels(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "diary.xlsx"
    write_xlsform(example_protocol(), path)
    book = openpyxl.load_workbook(path)
    del book["analysis"]
    sheet = book.create_sheet("analysis")
    sheet.append(["model", "y", "x", "random_slopes", "level"])
    sheet.append(["diary", "desire", "conflict, relationship_satisfaction", "yes", "0.9"])
    book.save(path)
    assert load_protocol(path).analysis == [
        {
            "model": "diary",
            "y": "desire",
            "x": ["conflict", "relationship_satisfaction"],
            "random_slopes": True,
            "level": 0.9,
        }
    ]


def test_study_with_a_missing_item_in_its_plan_is_refused(client, db) -> None:
    from tests.platform.conftest import login

    headers = login(client, db)
    bad = _content([{"model": "diary", "y": "relationship_satisfaction", "x": "mood"}])
    r = client.post("/api/v1/studies", json={"protocol": bad}, headers=headers)
    assert r.status_code == 422
    assert "analysis[0].x: there is no item 'mood'" in r.text
    good = client.post("/api/v1/studies", json={"protocol": _content(PLAN)}, headers=headers)
    assert good.status_code == 201, good.text
    assert good.json()["protocol_hash"] == parse_protocol(_content(PLAN)).content_hash


def test_cli_refuses_a_protocol_with_a_missing_item(tmp_path, monkeypatch, capsys) -> None:
    import yaml

    from dyadlab.cli import main

    monkeypatch.setenv("DYADLAB_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    path = tmp_path / "plan.yaml"
    plan = [{"model": "truth_bias", "judgment": "partner_desir", "truth": "desire"}]
    path.write_text(yaml.safe_dump(_content(plan)), encoding="utf-8")
    assert main(["study", "create", str(path)]) == 1
    err = capsys.readouterr().err
    assert "analysis[0].judgment: there is no item 'partner_desir'" in err
    assert "Traceback" not in err
    assert main(["protocol", "check", str(path), "--json"]) == 1
    capsys.readouterr()
    path.write_text(yaml.safe_dump(_content(PLAN)), encoding="utf-8")
    assert main(["protocol", "check", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["analysis"][1]["model"] == "truth_bias"


def test_upload_page_refuses_an_xlsform_whose_plan_names_a_missing_item(
    client, db, tmp_path: Path
) -> None:
    import openpyxl

    from tests.platform.test_pages_researcher import _csrf, _login

    path = tmp_path / "diary.xlsx"
    write_xlsform(example_protocol(), path)
    book = openpyxl.load_workbook(path)
    sheet = book["analysis"]
    header = [c.value for c in sheet[1]]
    sheet.cell(row=6, column=header.index("truth") + 1, value="desir")
    book.save(path)
    _login(client, db)
    r = client.post(
        "/r/studies",
        data={"csrf": _csrf(client.get("/r/studies").text)},
        files={"protocol": ("diary.xlsx", path.read_bytes(), "application/octet-stream")},
    )
    assert r.status_code == 422
    assert "analysis sheet, row 6, column truth: there is no item" in r.text
    assert "did you mean" in r.text
