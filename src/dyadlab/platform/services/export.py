"""Export a study's data in individual, pairwise or dyad format, ready for ``dl.diary()``.

Files written next to ``out`` (``study.csv`` gives ``study.csv``, ``study_codebook.csv``,
``study_compliance_persons.csv``, ``study_compliance_couples.csv``,
``study_compliance_days.csv``, ``study_withdrawals.csv`` and, when the protocol has
event-contingent questionnaires, ``study_events.csv`` in the data file's format; when
it has XLSForm repeat groups, ``study_repeats.csv`` in long format, see
:func:`repeat_frame`):

- **individual** (canonical): one row per person and scheduled prompt — answered or
  missed — with the key columns ``dyad, person, role, diary_day, prompt_number,
  occasion, questionnaire, prompt_key, kind, scheduled, sent, started, finished,
  received, tz, local_time, status`` (``completed``, ``late`` or ``missed``),
  ``withdrawn``, ``redacted`` and one column per item. ``occasion`` numbers the study's
  prompt slots 1, 2, … in time order (the same for both partners; with one daily
  questionnaire it equals ``diary_day``). Times are UTC (``local_time`` is the
  wall-clock time in ``tz``).
  ``dl.diary(df, dyad="dyad", person="person", role="role", time="diary_day")`` fits it
  as it is.
- **pairwise**: the individual rows plus ``<item>_partner`` for every item
  (:func:`dyadlab.data.to_pairwise`, partners matched on ``occasion``).
- **dyad**: one row per couple and occasion (with its ``diary_day``, ``prompt_number``
  and ``questionnaire``), every person column and item suffixed by role
  (:func:`dyadlab.data.to_dyad`).

Event-contingent (and partner-triggered) reports have no fixed occasions; they go to the
``_events`` file in individual format, one row per report.

Formats by extension: ``.csv``, ``.parquet``, ``.sav`` (SPSS, with variable labels from
the protocol's English item text and value labels from its choice lists) — through
:func:`dyadlab.io.write_table`.

Coding (one coding for every format, listed in the codebook's ``choices`` column):
yes/no items are 1 (yes) and 0 (no), with value labels {1: Yes, 0: No}; Likert and
single-choice items are their choice values, numbers when the protocol's values are
numbers (then with value labels); multiple choice is the chosen values joined by ``;``;
sliders, integers and decimals are numbers.

Text cells
----------
Every text is written as it was stored, with two exceptions that keep every file
readable and safe to open:

- a character no file format can hold (an unpaired surrogate) or that no program shows
  (NUL and the other control characters except tab and line breaks) is written as
  U+FFFD; the platform refuses such text since it checks its inputs
  (:mod:`dyadlab.platform._inputs`), so only rows stored before can hold one;
- in the CSV files (which spreadsheet programs open), a text cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe
  (``'=HYPERLINK(…)``), as OWASP advises against formula injection
  (:func:`neutralise_cell`): a spreadsheet shows it as text instead of running it.
  Numbers are never changed (``-3`` in a numeric column stays a number); Parquet and
  SPSS files keep the text as it is.

Examples
--------
>>> result = export_study(session, study.id, layout="individual", out="diary.sav")  # doctest: +SKIP
>>> result.files  # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from dyadlab._validation import check_option
from dyadlab.platform._inputs import readable
from dyadlab.platform.services._export_rows import (
    KEY_COLUMNS,
    YES_NO_CODES,
    build_individual,
    item_columns,
    load_tables,
)
from dyadlab.platform.services.compliance import _reminder_counts, compute_compliance
from dyadlab.platform.services.studies import get_study, study_protocol
from dyadlab.platform.tables import utcnow

__all__ = ["LAYOUTS", "YES_NO_CODES", "ExportResult", "export_study", "neutralise_cell"]

LAYOUTS = ("individual", "pairwise", "dyad")
FILE_FORMATS = (".csv", ".parquet", ".sav")
_TIME_LABELS = {
    "dyad": "Couple id",
    "person": "Person id",
    "role": "Role in the couple (empty: indistinguishable)",
    "diary_day": "Diary day (1 = first day)",
    "prompt_number": "Prompt number within the day",
    "occasion": "Scheduled occasion (1, 2, … in time order)",
    "questionnaire": "Questionnaire",
    "scheduled": "Scheduled time (UTC)",
    "sent": "First reminder sent (UTC)",
    "started": "Started (UTC, client clock)",
    "finished": "Finished (UTC)",
    "received": "Received by the server (UTC)",
    "tz": "Participant's time zone (IANA)",
    "local_time": "Finished, local wall-clock time",
    "status": "completed / late / missed",
    "withdrawn": "Person withdrew from the study",
    "redacted": "Items removed because the partner withdrew with deletion",
}


def _labels(protocol: Any, columns: list[str]) -> tuple[dict[str, str], dict[str, dict[Any, str]]]:
    """Variable and value labels of ``columns``: the items' own columns and the derived
    ones of the pairwise and dyad layouts (``<item>_partner``, ``<item>_<role>``)."""
    lang = "en" if "en" in protocol.languages else protocol.default_language
    variable: dict[str, str] = {c: _TIME_LABELS[c] for c in columns if c in _TIME_LABELS}
    values: dict[str, dict[Any, str]] = {}
    item_text: dict[str, str] = {}
    item_values: dict[str, dict[Any, str]] = {}
    colmap = item_columns(protocol)
    for q in protocol.questionnaires:
        for item in q.items:
            col = colmap[(q.name, item.name)]
            item_text[col] = item.label.get(lang) or next(iter(item.label.values()), col)
            pairs = _coded_choices(protocol, item, lang)
            if pairs and all(isinstance(v, int) and not isinstance(v, bool) for v, _ in pairs):
                item_values[col] = {float(v): label for v, label in pairs}
    for col in columns:
        if col in item_text:
            base, suffix = col, ""
        else:
            base = max((c for c in item_text if col.startswith(f"{c}_")), key=len, default="")
            suffix = f" ({col[len(base) + 1 :]})" if base else ""
        if not base or col in variable:
            continue
        variable[col] = item_text[base] + suffix
        if base in item_values:
            values[col] = item_values[base]
    return variable, values


def _coded_choices(protocol: Any, item: Any, language: str) -> list[tuple[Any, str]]:
    """(value in the export, label) pairs of a choice or yes/no item."""
    pairs: list[tuple[Any, str]] = protocol.choice_labels(item, language)
    if item.type == "yes_no":
        return [(YES_NO_CODES[str(v)], label) for v, label in pairs]
    return pairs


def _codebook(protocol: Any) -> pd.DataFrame:
    """The protocol's codebook with the export's coding in ``choices``."""
    lang = "en" if "en" in protocol.languages else protocol.default_language
    rows = protocol.codebook()
    for row in rows:
        item = protocol.questionnaire(row["questionnaire"]).item(row["item"])
        if item.type == "yes_no":
            pairs = _coded_choices(protocol, item, lang)
            row["choices"] = "; ".join(f"{v}={label}" for v, label in pairs)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    files: list[Path]
    n_rows: int
    n_event_rows: int
    layout: str
    withdrawals: list[dict[str, Any]] = field(default_factory=list)
    compliance: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dyadlab export --json``."""
        return {
            "layout": self.layout,
            "files": [str(p) for p in self.files],
            "rows": self.n_rows,
            "event_rows": self.n_event_rows,
            "withdrawals": self.withdrawals,
            "compliance": self.compliance,
        }


def _sibling(out: Path, suffix: str, ext: str | None = None) -> Path:
    return out.with_name(f"{out.stem}_{suffix}{ext or out.suffix}")


def _for_file(df: pd.DataFrame, ext: str) -> pd.DataFrame:
    df = df.copy()
    if ext == ".parquet":
        # Text columns as Arrow ``string`` whatever they hold: an all-empty answer column
        # would otherwise be written as Arrow ``null``, so a study's files would differ
        # in type from one export to the next.
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].astype("string")
    if ext == ".sav":
        for col in df.columns:
            if df[col].dtype == bool:
                df[col] = df[col].astype(int)
    return df


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNWRITABLE = "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]"
_CSV_UNSAFE = re.compile(f"^[=+\\-@\t\r]|{_UNWRITABLE}")
_UNSAFE = re.compile(_UNWRITABLE)


def neutralise_cell(text: str) -> str:
    """``text`` with a leading apostrophe if a spreadsheet would read it as a formula.

    Examples
    --------
    >>> print(neutralise_cell('=HYPERLINK("http://evil.example")'))
    '=HYPERLINK("http://evil.example")
    >>> neutralise_cell("fine - really")
    'fine - really'
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _safe_cells(df: pd.DataFrame, *, csv: bool) -> pd.DataFrame:
    """``df`` with its text cells as the module notes say ("Text cells"); the same frame
    when no cell needs a change."""
    pattern = _CSV_UNSAFE if csv else _UNSAFE
    out = df
    for col in df.columns:
        if df[col].dtype != object:
            continue
        try:
            hits = df[col].str.contains(pattern, na=False).to_numpy(dtype=bool)
        except AttributeError:  # no text in this column
            continue
        if not hits.any():
            continue
        if out is df:
            out = df.copy()
        values = out[col].to_numpy(dtype=object).copy()
        for k in hits.nonzero()[0]:
            text = str(readable(values[k]))
            values[k] = neutralise_cell(text) if csv else text
        out[col] = pd.Series(values, index=out.index, dtype=object)
    return out


def _write(df: pd.DataFrame, path: Path, protocol: Any) -> None:
    from dyadlab.io import write_table

    if path.suffix in (".sav", ".parquet"):
        variable, values = _labels(protocol, [str(c) for c in df.columns])
        df = _for_file(_safe_cells(df, csv=False), path.suffix)
        write_table(df, path, variable_labels=variable, value_labels=values)
    else:
        write_table(_safe_cells(df, csv=True), path)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    _safe_cells(df, csv=True).to_csv(path, index=False)


def _time_column(frame: pd.DataFrame) -> str:
    unique = not frame.duplicated(["person", "diary_day"]).any()
    return "diary_day" if unique else "occasion"


def export_study(
    session: Session,
    study_id: int,
    *,
    layout: str = "individual",
    out: str | Path,
    now: datetime | None = None,
) -> ExportResult:
    """Write a study's data, codebook, compliance and withdrawals (see the module docstring).

    Parameters
    ----------
    session : Session
    study_id : int
    layout : {"individual", "pairwise", "dyad"}
    out : path
        The data file; its extension (``.csv``, ``.parquet``, ``.sav``) picks the format.
    now : datetime, optional
        The moment up to which prompts count as due (default: now).

    Returns
    -------
    ExportResult
    """
    check_option("layout", layout, LAYOUTS, func="export_study")
    out = Path(out).expanduser()
    check_option("out", out.suffix.lower(), FILE_FORMATS, func="export_study")
    now = now or utcnow()
    study = get_study(session, study_id)
    protocol = study_protocol(study)
    tables = load_tables(session, study.id)
    persons = tables.persons
    report, merged = compute_compliance(
        protocol, persons, tables.responses, _reminder_counts(session, study.id), now=now
    )
    frame, events = build_individual(protocol, tables, merged)
    item_cols = [c for c in frame.columns if c not in KEY_COLUMNS]
    time = _time_column(frame)
    if layout != "individual" and not frame.empty:
        from dyadlab.data import to_dyad, to_pairwise

        keys = {"dyad": "dyad", "person": "person", "time": "occasion"}
        if layout == "pairwise":
            data = to_pairwise(frame, **keys, variables=item_cols)
        else:
            role = "role" if _roles_split(frame) else None
            data = to_dyad(frame, **keys, role=role, variables=item_cols)
            # the occasion's own keys are the same for both partners: one column each
            shared = frame[["dyad", "occasion", "diary_day", "prompt_number", "questionnaire"]]
            data = data.merge(shared.drop_duplicates(["dyad", "occasion"]), on=["dyad", "occasion"])
            front = ["dyad", "occasion", "diary_day", "prompt_number", "questionnaire"]
            data = data[front + [c for c in data.columns if c not in front]]
    else:
        data = frame
    files = [out]
    _write(data, out, protocol)
    codebook = _codebook(protocol)
    paths = {
        "codebook": _sibling(out, "codebook", ".csv"),
        "compliance_persons": _sibling(out, "compliance_persons", ".csv"),
        "compliance_couples": _sibling(out, "compliance_couples", ".csv"),
        "compliance_days": _sibling(out, "compliance_days", ".csv"),
        "withdrawals": _sibling(out, "withdrawals", ".csv"),
    }
    _write_csv(codebook, paths["codebook"])
    _write_csv(report.persons, paths["compliance_persons"])
    _write_csv(report.couples, paths["compliance_couples"])
    _write_csv(report.days, paths["compliance_days"])
    gone = persons[persons["status"] == "withdrawn"]
    withdrawals = pd.DataFrame(
        {
            "dyad": gone["couple_id"].astype(int),
            "person": gone["person_id"].astype(int),
            "withdrawn_at": pd.to_datetime(gone["withdrawn_at"], utc=True),
            "data_deleted": gone["data_deleted"].astype(bool),
        }
    )
    _write_csv(withdrawals, paths["withdrawals"])
    files.extend(paths.values())
    if not events.empty:
        ev_path = _sibling(out, "events")
        _write(events, ev_path, protocol)
        files.append(ev_path)
    repeats = repeat_frame(protocol, frame, events)
    if not repeats.empty:
        rep_path = _sibling(out, "repeats")
        _write(repeats, rep_path, protocol)
        files.append(rep_path)
    latency = pd.to_numeric(report.persons["median_latency_min"], errors="coerce").dropna()
    summary = {
        "time": time,
        "prompts_due": int(report.persons["due"].sum()),
        "prompts_answered": int(report.persons["answered"].sum()),
        "median_latency_min": float(latency.median()) if len(latency) else None,
        "flagged_couples": report.flagged_couples,
    }
    return ExportResult(
        files=files,
        n_rows=len(data),
        n_event_rows=len(events),
        layout=layout,
        withdrawals=[
            {
                "dyad": int(r.dyad),
                "person": int(r.person),
                "withdrawn_at": r.withdrawn_at.isoformat(),
                "data_deleted": bool(r.data_deleted),
            }
            for r in list[Any](withdrawals.itertuples(index=False))
        ],
        compliance=summary,
    )


_REPEAT_KEYS = ("dyad", "person", "role", "occasion", "diary_day", "questionnaire", "prompt_key")


def repeat_frame(protocol: Any, *frames: pd.DataFrame) -> pd.DataFrame:
    """The answers inside XLSForm repeat groups in long format: one row per response and
    copy of a repeat that has an answer, with ``repeat`` (the group's name), ``instance``
    (1, 2, …) and one column per item of the group, named without the copy's ``_k``.

    ``frames`` are the individual-format rows (scheduled prompts, event reports). The
    same answers are also in the data file, one column per copy (``name_1``, …).
    """
    colmap = item_columns(protocol)
    groups: dict[str, dict[int, dict[str, str]]] = {}
    for q in protocol.questionnaires:
        for item in q.items:
            if not item.repeat or not item.repeat_index:
                continue
            if re.fullmatch(rf"{re.escape(item.repeat)}_more_\d+", item.name):
                continue  # "add another?", not an item of the group
            base = item.name[: -len(f"_{item.repeat_index}")]
            groups.setdefault(item.repeat, {}).setdefault(item.repeat_index, {})[base] = colmap[
                (q.name, item.name)
            ]
    records: list[dict[str, Any]] = []
    columns: list[str] = []
    for frame in frames:
        keys = [k for k in _REPEAT_KEYS if k in frame.columns]
        columns += [k for k in keys if k not in columns]
        for row in frame.to_dict("records"):
            for repeat, copies in groups.items():
                for instance, items in sorted(copies.items()):
                    values = {base: row.get(col) for base, col in items.items()}
                    if all(v is None or (isinstance(v, float) and v != v) for v in values.values()):
                        continue
                    records.append(
                        {**{k: row[k] for k in keys}, "repeat": repeat, "instance": instance}
                        | values
                    )
    if not records:
        return pd.DataFrame()
    bases = list(dict.fromkeys(b for c in groups.values() for i in c.values() for b in i))
    return pd.DataFrame.from_records(records, columns=[*columns, "repeat", "instance", *bases])


def _roles_split(frame: pd.DataFrame) -> bool:
    """Whether every row has a role and the persons of each couple have different roles
    (a couple with one person left, after a deletion, still counts)."""
    if (frame["role"] == "").any() or frame["role"].nunique() != 2:
        return False
    per_dyad = frame.groupby("dyad").agg(roles=("role", "nunique"), persons=("person", "nunique"))
    return bool((per_dyad["roles"] == per_dyad["persons"]).all())
