"""docs/bringing_a_form.md: its support table is what the reader does, row by row, and
its example output is current."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from dyadlab.exceptions import DyadlabWarning, ProtocolError
from dyadlab.platform._xlsform import REFUSED_TYPES, SUPPORTED_TYPES
from dyadlab.platform.protocol import load_protocol

PAGE = Path(__file__).resolve().parents[2] / "docs" / "bringing_a_form.md"
CORPUS = Path(__file__).parent / "data" / "xlsforms" / "pyxform" / "example_xls"
_ROW = re.compile(r"^\| `([^`]+)`[^|]*\| (supported|skipped|refused) \| `([^`]+)`([^|]*)\|(.*)\|$")


def _table() -> list[tuple[str, str, str, str, str]]:
    rows = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line.strip())
        if match:
            rows.append(tuple(g.strip() for g in match.groups()))
    return rows  # type: ignore[return-value]


TABLE = _table()


def test_the_table_lists_every_type_the_reader_knows() -> None:
    listed = {row[0] for row in TABLE}
    assert set(SUPPORTED_TYPES) - {"select_one_external"} <= listed
    refused = {row[0] for row in TABLE if row[1] == "refused"}
    missing = set(REFUSED_TYPES) - refused - {"repeat", "loop", "select_one_external"}
    missing -= {"select_from_file", "background-geopoint", "xml-external", "csv-external"}
    missing -= {"intent"}
    assert not missing, missing
    assert "intent" in refused and "select_one_from_file" in refused


def _form(path: Path, example: str, extra: str) -> Path:
    header = ["type", "name", "label", "calculation", "intent"]
    kind = example
    row: list[Any] = [kind, "audit" if kind == "audit" else "q", "Question"]
    if kind == "calculate":
        row += ["1 + 1"]
    if "intent" in extra:
        row += [None, "ex:org.example.app"]
    survey: list[list[Any]] = [header, ["text", "first", "First"]]
    if kind.startswith("begin_"):
        survey += [row, ["text", "inner", "Inner"], ["end_" + kind[6:], "q"]]
    else:
        survey.append(row)
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    choices += [["ext", "a", "A"], ["ext", "b", "B"]]  # pyxform wants it here too
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in (("survey", survey), ("choices", choices)):
        sheet = book.create_sheet(name)
        for r in rows:
            sheet.append(r)
    if "external" in kind:
        sheet = book.create_sheet("external_choices")
        for r in (["list_name", "name", "label"], ["ext", "a", "A"], ["ext", "b", "B"]):
            sheet.append(r)
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("kind", "status", "example", "extra", "what"), TABLE, ids=[r[0] for r in TABLE]
)
def test_each_row_of_the_table_is_what_the_reader_does(
    tmp_path: Path, kind: str, status: str, example: str, extra: str, what: str
) -> None:
    path = _form(tmp_path / "form.xlsx", example, extra)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            protocol = load_protocol(path)
        except ProtocolError as exc:
            assert status == "refused", str(exc)
            assert "survey sheet, row 3" in str(exc), str(exc)
            assert what.split(";")[0].strip() in str(exc), (what, str(exc))
            return
    assert status != "refused", f"{kind} was accepted"
    names = [i.name for q in protocol.questionnaires for i in q.items]
    if status == "supported":
        assert "q" in names or "inner" in names or any(n.startswith("inner_") for n in names)
    else:
        assert names == ["first"]
        if "warning" in what:
            text = " ".join(str(w.message) for w in caught if w.category is DyadlabWarning)
            assert "row 3" in text, text


def test_the_example_output_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    from dyadlab.cli import main

    assert main(["protocol", "check", str(CORPUS / "tutorial.xls")]) == 0
    printed = capsys.readouterr().out
    block = re.search(
        r"```\n\$ dyadlab protocol check tutorial.xls\n(.*?)```", PAGE.read_text(), re.S
    )
    assert block is not None
    for line in block.group(1).splitlines():
        assert line.strip() in printed, line


def test_check_json_lists_the_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from dyadlab.cli import main

    assert main(["protocol", "check", str(CORPUS / "tutorial.xls"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["questionnaires"][0]["n_items"] == 54
    assert any("'tutorial notes'" in w for w in info["warnings"])
