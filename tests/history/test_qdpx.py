"""REFI-QDA export of the episode notes: the archive's structure, references and text."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
import zipfile

import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, FileFormatError

from .conftest import episodes

NS = {"q": "urn:QDA-XML:project:1.0"}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
WHEN = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC)


def _frame():
    frame = episodes(
        ("p1", "romantic", "2019-01", "", "", "", "5"),
        ("p1", "casual", "2019-03", "2019-04", "", "", ""),
        ("p2", "friends_with_benefits", "2020", "2021-02-03", "age", "", "2"),
    )
    frame["note"] = [
        "Met at school; moved in together in 2021 — «still going».",
        "",
        "Line one.\nLine two with <angle> & ampersand.",
    ]
    return frame


def test_archive_structure_and_references(tmp_path):
    path = dl.history.to_qdpx(_frame(), tmp_path / "n.qdpx", until="2024-01-01", created=WHEN)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        root = ET.fromstring(archive.read("project.qde"))
        texts = {n: archive.read(n).decode("utf-8") for n in names if n != "project.qde"}
    assert names[0] == "project.qde" and len(texts) == 2
    assert root.tag == "{urn:QDA-XML:project:1.0}Project"
    children = [c.tag.split("}")[1] for c in root]
    assert children == ["Users", "CodeBook", "Variables", "Cases", "Sources"]
    guids = [e.get("guid") for e in root.iter() if e.get("guid")]
    assert guids and all(GUID.match(g) for g in guids)
    assert len(guids) == len(set(guids))
    targets = [e.get("targetGUID") for e in root.iter() if e.get("targetGUID")]
    assert targets and set(targets) <= set(guids)
    assert root.get("creationDateTime") == "2026-12-06T03:00:00Z"
    codes = [c.get("name") for c in root.iterfind(".//q:Code", NS)]
    assert codes == ["friends_with_benefits", "romantic"]
    sources = list(root.iterfind("q:Sources/q:TextSource", NS))
    assert [s.get("name") for s in sources] == ["p1 e1 (romantic)", "p2 e3 (friends_with_benefits)"]
    for source in sources:
        text = texts["Sources/" + source.get("plainTextPath").removeprefix("internal://")]
        selection = source.find("q:PlainTextSelection", NS)
        assert selection.get("startPosition") == "0"
        assert selection.get("endPosition") == str(len(text))
    cases = {
        c.get("name"): len(c.findall("q:SourceRef", NS)) for c in root.iterfind(".//q:Case", NS)
    }
    assert cases == {"p1": 1, "p2": 1}


def test_notes_and_variables_read_back(tmp_path):
    frame = _frame()
    path = dl.history.to_qdpx(frame, tmp_path / "n.qdpx", until="2024-01-01")
    notes = dl.history.read_qdpx_notes(path)
    assert notes["note"].tolist() == [frame.loc[0, "note"], frame.loc[2, "note"]]
    assert notes["end"].tolist() == ["ongoing", "2021-02-03"]
    assert notes["certainty"].tolist() == ["5", "2"]
    assert notes["codes"].tolist() == ["romantic", "friends_with_benefits"]
    assert notes["start"].tolist() == ["2019-01", "2020"]


def test_same_episodes_same_bytes(tmp_path):
    a = dl.history.to_qdpx(_frame(), tmp_path / "a.qdpx", until="2024-01-01", created=WHEN)
    b = dl.history.to_qdpx(_frame(), tmp_path / "b.qdpx", until="2024-01-01", created=WHEN)
    assert a.read_bytes() == b.read_bytes()


def test_errors(tmp_path):
    frame = _frame().assign(note="")
    with pytest.raises(DyadicDataError, match="no episode has a note"):
        dl.history.to_qdpx(frame, tmp_path / "x.qdpx", until="2024-01-01")
    bad = tmp_path / "bad.qdpx"
    bad.write_text("not a zip")
    with pytest.raises(FileFormatError, match="is not a REFI-QDA project"):
        dl.history.read_qdpx_notes(bad)


# The element order REFI-QDA 1.5's Project.xsd prescribes for what to_qdpx writes
# (xsd:sequence of each type; "*" = any number).
ORDER = {
    "TextSource": [
        "Description",
        "PlainTextContent",
        "PlainTextSelection*",
        "Coding*",
        "NoteRef*",
        "VariableValue*",
    ],
    "PlainTextSelection": ["Description", "Coding*", "NoteRef*"],
    "Coding": ["CodeRef", "NoteRef*"],
    "Case": ["Description", "CodeRef*", "VariableValue*", "SourceRef*", "SelectionRef*"],
    "Code": ["Description", "NoteRef*", "Code*"],
    "VariableValue": ["VariableRef", "TextValue"],
}


def _in_order(tags: list[str], allowed: list[str]) -> bool:
    i = 0
    for tag in tags:
        while i < len(allowed) and allowed[i].rstrip("*") != tag:
            i += 1
        if i == len(allowed):
            return False
        if not allowed[i].endswith("*"):
            i += 1
    return True


def test_elements_follow_the_schema_order(tmp_path):
    path = dl.history.to_qdpx(_frame(), tmp_path / "n.qdpx", until="2024-01-01", created=WHEN)
    with zipfile.ZipFile(path) as archive:
        root = ET.fromstring(archive.read("project.qde"))
    checked = 0
    for element in root.iter():
        name = element.tag.split("}")[1]
        if name in ORDER:
            tags = [c.tag.split("}")[1] for c in element]
            assert _in_order(tags, ORDER[name]), (name, tags)
            checked += 1
    assert checked > 10
    assert not _in_order(["VariableValue", "PlainTextSelection"], ORDER["TextSource"])
    for variable in root.iterfind(".//q:Variable", NS):
        assert variable.get("typeOfVariable") == "Text"
    for code in root.iterfind(".//q:Code", NS):
        assert code.get("isCodable") == "true" and re.fullmatch(r"#[0-9a-f]{6}", code.get("color"))
