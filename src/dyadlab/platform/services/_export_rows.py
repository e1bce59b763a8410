"""The export's rows, built column by column (no Python loop over responses or prompts).

:func:`load_tables` reads a study's persons, responses and first reminders with three
queries whose columns go into pandas as they come from the database: times as the
stored text (SQLite) or driver datetimes (PostgreSQL), parsed by ``pd.to_datetime`` in
one call per column; the answers' JSON text parsed in one ``json.loads`` call and made
into one column per item by the ``DataFrame`` constructor.

:func:`build_individual` joins the due prompts (from the compliance computation) with
the responses and codes the answers column by column (see the coding in
:mod:`dyadlab.platform.services.export`).

The dtypes are those of the row-by-row version this replaced (kept file for file by the
golden tests in ``tests/platform/test_export_golden.py``): a time column is
``datetime64[us]``, or ``datetime64[s]`` when it has no value at all; text key columns
are ``object`` with ``""`` for missing; an item column is numeric when every answer in
it is a number, ``str`` when every answer is text.

Examples
--------
>>> tables = load_tables(session, study.id)  # doctest: +SKIP
>>> report, merged = compute_compliance(protocol, tables.persons, tables.responses,
...                                     reminders, now=now)  # doctest: +SKIP
>>> frame, events = build_individual(protocol, tables, merged)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.errors import OutOfBoundsDatetime
from sqlalchemy import Text, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from dyadlab.platform.services.compliance import load_persons
from dyadlab.platform.tables import Couple, Delivery, Person, Response

__all__ = [
    "KEY_COLUMNS",
    "YES_NO_CODES",
    "ExportTables",
    "build_individual",
    "item_columns",
    "load_tables",
]

YES_NO_CODES = {"yes": 1, "no": 0}
"""How yes/no answers (stored as ``"yes"``/``"no"``) are coded in an export."""

KEY_COLUMNS = [
    "dyad",
    "person",
    "role",
    "diary_day",
    "prompt_number",
    "occasion",
    "questionnaire",
    "prompt_key",
    "kind",
    "scheduled",
    "sent",
    "started",
    "finished",
    "received",
    "tz",
    "local_time",
    "status",
    "withdrawn",
    "redacted",
]
_KEYS = ["person_id", "questionnaire", "diary_day", "prompt_number"]
_UTC_COLUMNS = ("scheduled", "sent", "started", "finished", "received")
_TEXT_COLUMNS = ("prompt_key", "kind", "tz", "status", "redacted", "questionnaire")
_SCHEDULED = ["daily", "random"]
_RESPONSE_COLUMNS = [
    "person_id",
    "questionnaire",
    "prompt_key",
    "kind",
    "diary_day",
    "prompt_number",
    "scheduled_utc",
    "sent_utc",
    "started_utc",
    "finished_utc",
    "received_utc",
    "tz",
    "local_time",
    "status",
    "redacted",
]


@dataclass(frozen=True)
class ExportTables:
    """A study's rows as the export reads them.

    Attributes
    ----------
    persons : DataFrame
        As :func:`~dyadlab.platform.services.compliance.load_persons`.
    responses : DataFrame
        One row per stored response (``_RESPONSE_COLUMNS``; times as
        ``datetime64[us, UTC]``, ``local_time`` naive, ``redacted`` the redacted items
        joined by ``;``), ordered by person, diary day, prompt number and id.
    answers : DataFrame
        The stored answers, one column per answered item name, row for row with
        ``responses`` (missing: NaN).
    sent : DataFrame
        ``person_id``, ``prompt_key``, ``sent_utc``: the first reminder sent per prompt.
    """

    persons: pd.DataFrame
    responses: pd.DataFrame
    answers: pd.DataFrame
    sent: pd.DataFrame


def _utc(values: Any) -> pd.Series:
    """Stored naive-UTC times (text or datetimes) as ``datetime64[us, UTC]``.

    A time pandas cannot hold in nanoseconds (before 1677 or after 2262: a broken client
    clock stored before the platform checked times) is read in microseconds, which hold
    the years 1 to 9999; a value that is not a time at all becomes NaT.
    """
    series = pd.Series(values, dtype=object)
    try:
        out = pd.to_datetime(series, utc=True, format="ISO8601")
    except (OutOfBoundsDatetime, OverflowError, ValueError):
        micro = np.full(len(series), np.datetime64("NaT", "us"))
        for k, value in enumerate(series):
            with contextlib.suppress(ValueError, TypeError, OverflowError):
                micro[k] = np.datetime64(value, "us") if value is not None else micro[k]
        out = pd.Series(micro, index=series.index).dt.tz_localize("UTC")
    return out.astype("datetime64[us, UTC]")


def _json_list(texts: Any) -> list[Any]:
    """JSON texts (None for SQL NULL) parsed in one call."""
    return list(json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]"))


def load_tables(session: Session, study_id: int) -> ExportTables:
    """Read what the export of study ``study_id`` needs (see :class:`ExportTables`)."""
    persons = load_persons(session, study_id)
    times = [
        Response.scheduled_utc,
        Response.started_utc,
        Response.finished_utc,
        Response.received_utc,
        Response.local_time,
    ]
    statement = (
        select(
            Response.person_id,
            Response.questionnaire,
            Response.prompt_key,
            Response.kind,
            Response.diary_day,
            Response.prompt_number,
            Response.tz,
            Response.status,
            *(type_coerce(c, Text) for c in times),
            cast(Response.answers, Text),
            cast(Response.redacted_items, Text),
        )
        .join(Person, Person.id == Response.person_id)
        .join(Couple, Couple.id == Person.couple_id)
        .where(Couple.study_id == study_id)
        .order_by(Response.person_id, Response.diary_day, Response.prompt_number, Response.id)
    )
    rows = session.connection().execute(statement).all()
    sent = _first_sent(session, study_id)
    if not rows:
        empty = pd.DataFrame([], columns=_RESPONSE_COLUMNS)
        return ExportTables(persons, empty, pd.DataFrame(index=empty.index), sent)
    columns = list(zip(*rows, strict=True))
    names = ["person_id", "questionnaire", "prompt_key", "kind", "diary_day", "prompt_number"]
    data: dict[str, Any] = {n: list(columns[k]) for k, n in enumerate(names)}
    frame = pd.DataFrame(data)
    frame["scheduled_utc"] = _utc(columns[8])
    frame["started_utc"] = _utc(columns[9])
    frame["finished_utc"] = _utc(columns[10])
    frame["received_utc"] = _utc(columns[11])
    frame["tz"] = pd.Series(list(columns[6]))
    local = pd.to_datetime(pd.Series(columns[12], dtype=object), format="ISO8601")
    frame["local_time"] = local.astype("datetime64[us]")
    frame["status"] = pd.Series(list(columns[7]))
    redacted = np.full(len(frame), "", dtype=object)
    for k, text in enumerate(columns[14]):
        items = None if text is None else json.loads(text)  # JSON null: none either
        if isinstance(items, list):  # rare: only after a partner's withdrawal with deletion
            redacted[k] = ";".join(str(x) for x in items)
    frame["redacted"] = redacted
    pairs = ["person_id", "prompt_key"]
    frame["sent_utc"] = frame[pairs].merge(sent, on=pairs, how="left")["sent_utc"]
    answers = pd.DataFrame(_json_list(columns[13]), dtype=object)
    return ExportTables(persons, frame[_RESPONSE_COLUMNS], answers, sent)


def _first_sent(session: Session, study_id: int) -> pd.DataFrame:
    """The first reminder sent per person and prompt key."""
    rows = (
        session.connection()
        .execute(
            select(
                Delivery.person_id,
                Delivery.prompt_key,
                type_coerce(func.min(Delivery.sent_utc), Text),
            )
            .join(Person, Person.id == Delivery.person_id)
            .join(Couple, Couple.id == Person.couple_id)
            .where(Couple.study_id == study_id, Delivery.status == "sent")
            .group_by(Delivery.person_id, Delivery.prompt_key)
        )
        .all()
    )
    kept = [tuple(r) for r in rows if r[2] is not None]
    columns: list[tuple[Any, ...]] = list(zip(*kept, strict=True)) if kept else [(), (), ()]
    return pd.DataFrame(
        {
            "person_id": pd.Series(list(columns[0]), dtype="int64"),
            "prompt_key": pd.Series(list(columns[1]), dtype=object),
            "sent_utc": _utc(list(columns[2])),
        }
    )


def item_columns(protocol: Any) -> dict[tuple[str, str], str]:
    """(questionnaire, item) -> column name; item names, prefixed only on a clash."""
    names: dict[str, int] = {}
    for q in protocol.questionnaires:
        for item in q.items:
            names[item.name] = names.get(item.name, 0) + 1
    return {
        (q.name, item.name): item.name if names[item.name] == 1 else f"{q.name}_{item.name}"
        for q in protocol.questionnaires
        for item in q.items
    }


def _coded_column(raw: pd.Series, item_type: str) -> pd.Series:
    """An item's stored answers (``object``) as the export codes them: yes/no as 1/0,
    multiple choice and rank orders joined by ``;``, a file as ``name (upload ID)``,
    anything else as it is (answers are stored as
    :meth:`~dyadlab.platform.protocol.Protocol.validate_answers` types them: only
    multiple-choice answers are lists)."""
    if item_type == "yes_no":
        words = raw.isin(list(YES_NO_CODES)).to_numpy()
        if words.any():
            values = raw.to_numpy(dtype=object).copy()
            values[words] = (values[words] == "yes").astype(int).tolist()
            return pd.Series(values, index=raw.index, dtype=object)
    if item_type in ("image", "audio", "file"):  # a reference to the uploads table
        values = raw.to_numpy(dtype=object).copy()
        for k in np.flatnonzero(raw.notna().to_numpy()):
            v = values[k]
            if isinstance(v, dict):
                values[k] = f"{v.get('filename')} (upload {v.get('upload')})"
        return pd.Series(values, index=raw.index, dtype=object)
    if item_type not in ("multiple", "rank"):
        return raw
    values = raw.to_numpy(dtype=object).copy()
    for k in np.flatnonzero(raw.notna().to_numpy()):
        v = values[k]
        if isinstance(v, list):
            values[k] = ";".join(str(x) for x in v)
    return pd.Series(values, index=raw.index, dtype=object)


def _answer_frame(protocol: Any, tables: ExportTables, picked: np.ndarray) -> pd.DataFrame:
    """The item columns of the responses at positions ``picked`` (-1: no response),
    each with the dtype its values infer (numbers, ``str`` or ``object``)."""
    colmap = item_columns(protocol)
    columns = list(dict.fromkeys(colmap.values()))
    answers, questionnaire = tables.answers, tables.responses["questionnaire"].to_numpy()
    coded: dict[str, pd.Series] = {}
    for q in protocol.questionnaires:
        for item in q.items:
            if item.name not in answers.columns:
                continue
            raw = answers[item.name]
            other = (questionnaire != q.name) & raw.notna().to_numpy()
            if other.any():  # an answer under this name from another questionnaire
                raw = raw.where(~other)
            target = colmap[(q.name, item.name)]
            column = _coded_column(raw, item.type)
            if target in coded:
                column = coded[target].where(coded[target].notna(), column)
            coded[target] = column
    out: dict[str, pd.Series] = {}
    for col in columns:
        if col not in coded:
            out[col] = pd.Series(np.nan, index=pd.RangeIndex(len(picked)))
            continue
        values = np.concatenate([[np.nan], coded[col].to_numpy(dtype=object)])[picked + 1]
        out[col] = pd.Series(values.tolist())  # infers the dtype from these values only
    return pd.DataFrame(out, columns=columns)


def _times(values: pd.Series) -> pd.Series:
    """Aware or naive times as naive ``datetime64[us]``; ``[s]`` when there are none."""
    out = pd.to_datetime(values, utc=True).dt.tz_localize(None)
    return out.astype("datetime64[us]" if out.notna().any() else "datetime64[s]")


def _text(values: pd.Series | np.ndarray) -> pd.Series:
    """Text as ``object`` (not ``str``) with ``""`` for missing, as the export has it."""
    series = pd.Series(np.asarray(values, dtype=object), dtype=object)
    return series.where(series.notna(), "")


def _resolve(protocol: Any, tables: ExportTables, base: pd.DataFrame, due: bool) -> pd.DataFrame:
    """Rows of ``base`` completed from the person and, where there is one, the response
    with the same keys (the last stored one): ``due`` prompts (``base`` has ``_KEYS``,
    ``prompt_key``, ``kind`` and the planned ``scheduled_utc``) or event reports
    (``base`` is the responses themselves)."""
    responses, persons = tables.responses, tables.persons
    stored = responses[_KEYS].copy()
    stored["_row"] = np.arange(len(stored))
    stored = stored.drop_duplicates(_KEYS, keep="last")
    keys = base[_KEYS].merge(stored, on=_KEYS, how="left")
    picked = keys["_row"].fillna(-1).to_numpy(dtype=np.int64)
    has = picked >= 0
    resp = responses.reindex(pd.RangeIndex(-1, len(responses))).iloc[picked + 1]
    resp = resp.reset_index(drop=True)  # row -1: all missing
    who = persons.set_index("person_id").loc[base["person_id"].to_numpy()].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "dyad": who["couple_id"].astype("int64").to_numpy(),
            "person": base["person_id"].astype("int64").to_numpy(),
            "role": _text(who["role"].to_numpy(dtype=object)),
            "diary_day": base["diary_day"].astype("int64").to_numpy(),
            "prompt_number": base["prompt_number"].astype("int64").to_numpy(),
        }
    )
    out["occasion"] = 0
    out["questionnaire"] = _text(base["questionnaire"].to_numpy(dtype=object))
    if due:
        prompt_key = np.where(has, resp["prompt_key"], base["prompt_key"])
        kind = np.where(has, resp["kind"], base["kind"])
        planned = pd.to_datetime(base["scheduled_utc"], utc=True).astype("datetime64[us, UTC]")
    else:
        prompt_key, kind = resp["prompt_key"].to_numpy(), resp["kind"].to_numpy()
        planned = pd.Series(pd.NaT, index=out.index, dtype="datetime64[us, UTC]")
    out["prompt_key"] = _text(prompt_key)
    out["kind"] = _text(kind)
    scheduled = planned.where(planned.notna() | ~has, resp["scheduled_utc"])
    out["scheduled"] = _times(scheduled).to_numpy()
    first = tables.sent.rename(columns={"person_id": "person"})
    sent = out[["person", "prompt_key"]].merge(first, on=["person", "prompt_key"], how="left")
    out["sent"] = _times(sent["sent_utc"]).to_numpy()
    for name in ("started", "finished", "received"):
        out[name] = _times(resp[f"{name}_utc"]).to_numpy()
    out["tz"] = _text(np.where(has, resp["tz"], who["tz"]))
    local = resp["local_time"]
    out["local_time"] = local.astype(
        "datetime64[us]" if local.notna().any() else "datetime64[s]"
    ).to_numpy()
    out["status"] = _text(np.where(has, resp["status"], "missed"))
    out["withdrawn"] = (who["status"] == "withdrawn").to_numpy(dtype=bool)
    out["redacted"] = _text(np.where(has, resp["redacted"], ""))
    items = _answer_frame(protocol, tables, picked)
    for col in items.columns:
        converted = pd.to_numeric(items[col], errors="coerce")
        if converted.notna().sum() == items[col].notna().sum():
            items[col] = converted
    return pd.concat([out[KEY_COLUMNS], items], axis=1)


def _empty(columns: list[str]) -> pd.DataFrame:
    """The frame of no rows, with the dtypes an empty export always had."""
    df = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    for col in _UTC_COLUMNS:
        df[col] = pd.to_datetime(df[col], utc=True).dt.tz_localize(None)
    df["local_time"] = pd.to_datetime(df["local_time"])
    for col in ("role", *_TEXT_COLUMNS):
        df[col] = df[col].astype("object")
    df["withdrawn"] = df["withdrawn"].astype(bool)
    return df


def _slots(protocol: Any) -> dict[tuple[str, int], int]:
    """(questionnaire, prompt number) -> its 1-based place within a diary day."""
    slots: dict[tuple[str, int], int] = {}
    for entry in protocol.schedule:
        if entry.type in _SCHEDULED:
            per_day = 1 if entry.type == "daily" else int(entry.prompts_per_day or 1)
            for number in range(1, per_day + 1):
                slots[(entry.questionnaire, number)] = len(slots) + 1
    return slots


def build_individual(
    protocol: Any, tables: ExportTables, merged: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The individual-format frame of scheduled prompts and the frame of event reports.

    Parameters
    ----------
    protocol : Protocol
    tables : ExportTables
        From :func:`load_tables`.
    merged : DataFrame
        The due/answered prompt table of
        :func:`~dyadlab.platform.services.compliance.compute_compliance`: one row per
        scheduled prompt, answered or missed.

    Returns
    -------
    (DataFrame, DataFrame)
        Columns :data:`KEY_COLUMNS` and one per item, sorted by dyad, person and
        occasion (events: by finished time, numbered per person). Missed prompts show
        when their first reminder was sent (``sent``).
    """
    columns = [*KEY_COLUMNS, *dict.fromkeys(item_columns(protocol).values())]
    if merged.empty:
        frame = _empty(columns)
    else:
        frame = _resolve(protocol, tables, merged.reset_index(drop=True), True)
        slots = _slots(protocol)
        index = np.zeros(len(frame), dtype=np.int64)
        if slots:  # each row's place within its diary day (0: not a scheduled slot)
            known = pd.MultiIndex.from_tuples(list(slots))
            where = known.get_indexer(
                pd.MultiIndex.from_arrays([frame["questionnaire"], frame["prompt_number"]])
            )
            index = np.where(where >= 0, np.asarray([*slots.values(), 0])[where], 0)
        frame["occasion"] = (frame["diary_day"] - 1) * max(len(slots), 1) + index
        frame = frame.sort_values(["dyad", "person", "occasion"])
    frame = frame[columns].reset_index(drop=True)
    responses = tables.responses
    reports = responses[~responses["kind"].isin(_SCHEDULED)].reset_index(drop=True)
    if reports.empty:
        events = _empty(columns)
    else:
        events = _resolve(protocol, tables, reports, False)
        events = events.sort_values(["dyad", "person", "finished"])
        events["occasion"] = events.groupby("person").cumcount() + 1
    return frame, events[columns].reset_index(drop=True)
