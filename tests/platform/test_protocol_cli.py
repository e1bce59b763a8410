"""``dyadlab protocol check / convert / codebook``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from dyadlab.cli import main
from dyadlab.platform.protocol import example_protocol, load_protocol

EXAMPLE = Path(__file__).parents[2] / "src" / "dyadlab" / "examples" / "daily_diary.yaml"


def test_check_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["protocol", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "valid protocol 'Daily intimacy in couples'" in out
    assert "schedule evening: daily, at 20:00 for 240 min, 28 days" in out
    assert "questionnaire evening: 6 items, 1 about the partner" in out
    assert main(["protocol", "check", str(EXAMPLE), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["content_hash"] == example_protocol().content_hash
    assert info["questionnaires"][0]["about_partner"] == ["partner_desire"]


def test_check_reports_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text().replace("choices: intensity5", "choices: intensity6"))
    assert main(["protocol", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("dyadlab: error: questionnaires[0].items[4].choices: unknown choice")
    assert len(err.strip().splitlines()) == 1


def test_convert_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xlsx, yaml_file = tmp_path / "p.xlsx", tmp_path / "p.yaml"
    assert main(["protocol", "convert", str(EXAMPLE), "--out", str(xlsx)]) == 0
    assert main(["protocol", "convert", str(xlsx), "--out", str(yaml_file)]) == 0
    assert load_protocol(yaml_file) == example_protocol()
    assert main(["protocol", "convert", str(EXAMPLE), "--out", str(tmp_path / "p.json")]) == 2
    assert "must end in .yaml" in capsys.readouterr().err


def test_codebook_redcap_and_plain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dictionary.csv"
    assert main(["protocol", "codebook", str(EXAMPLE), "--out", str(out), "--language", "en"]) == 0
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["Variable / Field Name"] == "record_id" and len(rows) == 11
    assert load_protocol(out).questionnaire("evening").item("conflict").type == "yes_no"
    capsys.readouterr()
    assert main(["protocol", "check", str(out), "--source-language", "nl", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["languages"] == ["nl"]
    capsys.readouterr()
    assert main(["protocol", "codebook", str(EXAMPLE), "--plain", "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)["rows"]
    assert plain == example_protocol().codebook()
