"""Episode notes as a REFI-QDA project (``.qdpx``) for qualitative coding.

A ``.qdpx`` file is a zip archive holding ``project.qde`` (XML in the namespace
``urn:QDA-XML:project:1.0`` of the REFI-QDA standard 1.5) and the sources in
``Sources/``. ATLAS.ti, MAXQDA, NVivo, QDA Miner, Transana and QualCoder import it.

What is exported:

- each episode with a non-empty ``note`` becomes a text source (``Sources/<guid>.txt``)
  named ``<person> <episode> (<type>)``, with the variables ``person, partner, type,
  start, end, certainty`` as the respondent gave them;
- the code book has one code per episode type, and each note is coded as a whole with
  its episode's type, so that notes can be retrieved by type at once;
- each person is a case that holds their notes.

The GUIDs are derived from the person and episode ids, so exporting the same episodes
again gives the same project (byte for byte, given the same ``created`` time). Notes
are among the most sensitive data there are: export only pseudonymous ids and partner
pseudonyms, never names.

Examples
--------
>>> import dyadlab as dl
>>> frame, truth = dl.history.simulate_episodes(2, rng=0, imprecise=0)
>>> path = dl.history.to_qdpx(frame, "notes.qdpx", until=truth.until)
>>> notes = dl.history.read_qdpx_notes(path)
>>> notes["note"].tolist() == frame["note"].tolist()
True
"""

from __future__ import annotations

import datetime as _dt
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from dyadlab.exceptions import DyadicDataError, FileFormatError
from dyadlab.history.episodes import Episodes, read_episodes

__all__ = ["NAMESPACE", "read_qdpx_notes", "to_qdpx"]

NAMESPACE = "urn:QDA-XML:project:1.0"
_NS = {"q": NAMESPACE}
_ROOT = uuid.UUID("6f1d3c52-5a43-4c1e-9a8e-1d2f0c7b9e11")  # dyadlab's namespace for GUIDs
_VARIABLES = ("person", "partner", "type", "start", "end", "certainty")
_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(_ROOT, "\x1f".join(parts)))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def to_qdpx(
    episodes: Any,
    path: str | Path,
    *,
    until: Any = None,
    project: str = "dyadlab relationship history notes",
    user: str = "dyadlab",
    created: _dt.datetime | None = None,
) -> Path:
    """Write the episodes' notes as a REFI-QDA project file.

    Parameters
    ----------
    episodes : Episodes, DataFrame or path
        Episodes with a ``note`` column (episodes with an empty note are left out).
    path : str or Path
        The ``.qdpx`` file to write.
    until : date or str, optional
        As for :func:`read_episodes`, when ``episodes`` is not yet read.
    project, user : str
        The project's name and the name of the user the project records as its creator.
    created : datetime, optional
        The creation time written into the project (default now, UTC).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DyadicDataError
        When no episode has a note.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person": ["p1"], "partner": ["a"], "type": ["dating"],
    ...     "start": ["2019-05"], "end": ["2019-08"], "start_precision": "",
    ...     "end_precision": "", "certainty": "4", "note": ["Met online; ended by text."]})
    >>> to_qdpx(frame, "one.qdpx", until="2020-01-01").name
    'one.qdpx'
    """
    ep = episodes if isinstance(episodes, Episodes) else read_episodes(episodes, until=until)
    table = ep.table[ep.table["note"] != ""]
    if table.empty:
        raise DyadicDataError(
            "to_qdpx(): no episode has a note; give the notes in a column 'note'."
        )
    when = (created or _dt.datetime.now(_dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ET.register_namespace("", NAMESPACE)
    user_guid = _guid("user", user)
    root = ET.Element(
        f"{{{NAMESPACE}}}Project",
        {
            "name": project,
            "origin": _origin(),
            "creatingUserGUID": user_guid,
            "creationDateTime": when,
        },
    )
    users = _sub(root, "Users")
    _sub(users, "User", guid=user_guid, name=user)
    types = sorted(set(table["type"]))
    code_guid = {t: _guid("code", t) for t in types}
    codes = _sub(_sub(root, "CodeBook"), "Codes")
    for i, t in enumerate(types):
        code = _sub(
            codes,
            "Code",
            guid=code_guid[t],
            name=t,
            isCodable="true",
            color=_COLOURS[i % len(_COLOURS)],
        )
        _sub(code, "Description", f"Episodes of type {t} (coded by dyadlab).")
    variables = _sub(root, "Variables")
    variable_guid = {v: _guid("variable", v) for v in _VARIABLES}
    for v in _VARIABLES:
        _sub(variables, "Variable", guid=variable_guid[v], name=v, typeOfVariable="Text")
    cases = _sub(root, "Cases")
    sources = _sub(root, "Sources")
    files: dict[str, str] = {}
    case_sources: dict[str, list[str]] = {}
    for _, row in table.iterrows():
        person, episode = str(row["person"]), str(row["episode"])
        guid = _guid("source", person, episode)
        note = str(row["note"])
        files[f"Sources/{guid}.txt"] = note
        source = _sub(
            sources,
            "TextSource",
            guid=guid,
            name=f"{person} {episode} ({row['type']})",
            plainTextPath=f"internal://{guid}.txt",
            creatingUser=user_guid,
            creationDateTime=when,
        )
        _sub(source, "Description", f"Interviewer's note on episode {episode} of {person}.")
        selection = _sub(
            source,
            "PlainTextSelection",
            guid=_guid("selection", person, episode),
            name=str(row["type"]),
            startPosition="0",
            endPosition=str(len(note)),
            creatingUser=user_guid,
            creationDateTime=when,
        )
        coding = _sub(
            selection,
            "Coding",
            guid=_guid("coding", person, episode),
            creatingUser=user_guid,
            creationDateTime=when,
        )
        _sub(coding, "CodeRef", targetGUID=code_guid[str(row["type"])])
        values = {
            "person": person,
            "partner": str(row["partner"]),
            "type": str(row["type"]),
            "start": str(row["start_given"]),
            "end": str(row["end_given"]) or "ongoing",
            "certainty": "" if pd.isna(row["certainty"]) else str(int(row["certainty"])),
        }
        for v in _VARIABLES:
            value = _sub(source, "VariableValue")
            _sub(value, "VariableRef", targetGUID=variable_guid[v])
            _sub(value, "TextValue", values[v])
        case_sources.setdefault(person, []).append(guid)
    for person, guids in case_sources.items():
        case = _sub(cases, "Case", guid=_guid("case", person), name=person)
        for guid in guids:
            _sub(case, "SourceRef", targetGUID=guid)
    # the standard's order: Users, CodeBook, Variables, Cases, Sources
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    stamp = (when[:4], when[5:7], when[8:10], when[11:13], when[14:16], when[17:19])
    date_time = tuple(int(x) for x in stamp)
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in [("project.qde", xml)] + [
            (n, t.encode("utf-8")) for n, t in files.items()
        ]:
            info = zipfile.ZipInfo(name, date_time=date_time)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out


def _origin() -> str:
    from dyadlab import __version__

    return f"dyadlab {__version__}"


def read_qdpx_notes(path: str | Path) -> pd.DataFrame:
    """The notes of a ``.qdpx`` project written by :func:`to_qdpx`, one row per source.

    Returns
    -------
    DataFrame
        ``source`` (its name), the variables (``person, partner, type, start, end,
        certainty``), ``codes`` (the names of the codes applied, ``;``-joined) and
        ``note`` (the text from ``Sources/``).

    Raises
    ------
    FileFormatError
        A file that is not a zip archive with a REFI-QDA ``project.qde``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person": ["p1"], "partner": ["a"], "type": ["dating"],
    ...     "start": ["2019-05"], "end": [""], "start_precision": "", "end_precision": "",
    ...     "certainty": "", "note": ["Still together."]})
    >>> notes = read_qdpx_notes(to_qdpx(frame, "n.qdpx", until="2020-01-01"))
    >>> notes[["person", "end", "codes", "note"]].values.tolist()
    [['p1', 'ongoing', 'dating', 'Still together.']]
    """
    try:
        with zipfile.ZipFile(path) as archive:
            root = ET.fromstring(archive.read("project.qde"))
            texts = {
                n: archive.read(n).decode("utf-8")
                for n in archive.namelist()
                if n.startswith("Sources/")
            }
    except (zipfile.BadZipFile, KeyError, ET.ParseError) as exc:
        raise FileFormatError(
            f"read_qdpx_notes(): {str(path)!r} is not a REFI-QDA project ({exc})."
        ) from None
    if root.tag != f"{{{NAMESPACE}}}Project":
        raise FileFormatError(f"read_qdpx_notes(): {str(path)!r} has no REFI-QDA Project.")
    variables = {v.get("guid"): v.get("name") for v in root.iterfind("q:Variables/q:Variable", _NS)}
    codes = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", _NS)}
    rows = []
    for source in root.iterfind("q:Sources/q:TextSource", _NS):
        row: dict[str, Any] = {"source": source.get("name")}
        for value in source.iterfind("q:VariableValue", _NS):
            ref = value.find("q:VariableRef", _NS)
            text = value.find("q:TextValue", _NS)
            name = variables.get(None if ref is None else ref.get("targetGUID"))
            row[str(name)] = "" if text is None or text.text is None else text.text
        applied = [
            str(codes.get(ref.get("targetGUID")))
            for ref in source.iterfind("q:PlainTextSelection/q:Coding/q:CodeRef", _NS)
        ]
        row["codes"] = ";".join(applied)
        internal = str(source.get("plainTextPath", "")).removeprefix("internal://")
        row["note"] = texts.get(f"Sources/{internal}", "")
        rows.append(row)
    return pd.DataFrame(rows)
