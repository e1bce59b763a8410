"""Read and write protocols as XLSForm-compatible spreadsheets (``.xlsx``).

Sheets (names are case-insensitive; the first row holds the column names):

``survey`` (required)
    One row per item. Each questionnaire is a group: a ``begin_group`` row (``name`` is
    the questionnaire's name, ``label::LANG`` its optional title), its items, and an
    ``end_group`` row. Groups cannot be nested and every item must be inside one.
    Columns: ``type``, ``name``, ``label::en``, ``label::nl`` (also ``label::English (en)``,
    or ``label`` for the default language), ``required``, ``relevant``, ``constraint``,
    ``constraint_message::LANG``, ``about`` (``self`` or ``partner``), ``appearance``,
    ``parameters``, and the dyadlab columns ``min`` and ``max``.
    Types: ``select_one LIST`` (single choice; a Likert item with ``appearance`` =
    ``likert``), ``select_multiple LIST``, ``range`` (a slider; ``parameters`` =
    ``start=0 end=100 step=1``), ``integer``, ``decimal``, ``text``, ``date``, ``time``,
    and the dyadlab names ``slider``, ``likert LIST``, ``single LIST``,
    ``multiple LIST`` and ``yes_no``.
    The columns ``hint``, ``guidance_hint`` and ``media::…`` are read and ignored (the
    pages do not show hints yet); any other column must be empty.
``choices``
    ``list_name``, ``name`` (the stored value), ``label::LANG``.
``settings`` (one row)
    ``form_title`` (the study's title), ``default_language`` (``nl`` or ``Dutch (nl)``),
    and the dyadlab columns ``languages`` (``en nl``; otherwise the languages of the
    label columns, in order), ``roles`` (two words, or empty), ``consent_version`` and
    ``consent_text::LANG``. ``form_id`` and ``version`` are accepted and ignored.
``schedule`` (dyadlab)
    One row per schedule entry, with the columns of
    :class:`~dyadlab.platform.protocol.ScheduleEntry` (``questionnaire``, ``type``,
    ``time``, ``window_minutes``, ``reminders_after_minutes`` as ``60 180``, …).
    Times may be text (``20:00``) or Excel time cells.

Errors name the sheet and row (``survey sheet, row 7``) and, where it helps, the column.

Examples
--------
>>> import tempfile, pathlib
>>> from dyadlab.platform.protocol import example_protocol, load_protocol
>>> path = pathlib.Path(tempfile.mkdtemp()) / "diary.xlsx"
>>> write_xlsform(example_protocol(), path)
>>> load_protocol(path).content_hash == example_protocol().content_hash
True
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dyadlab._validation import closest
from dyadlab.exceptions import ProtocolError

if TYPE_CHECKING:
    from dyadlab.platform.protocol import Protocol

__all__ = ["read_xlsform", "write_xlsform"]

_XLS_TYPES = ("select_one", "select_multiple", "range")
_LIST_TYPES = {
    "select_one": "single",
    "select_multiple": "multiple",
    "likert": "likert",
    "single": "single",
    "multiple": "multiple",
}
_PLAIN_TYPES = {
    "range": "slider",
    "slider": "slider",
    "integer": "integer",
    "decimal": "decimal",
    "text": "text",
    "date": "date",
    "time": "time",
    "yes_no": "yes_no",
}
_ALL_TYPES = (*_LIST_TYPES, *_PLAIN_TYPES, "begin_group", "end_group")
_SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "about",
    "appearance",
    "parameters",
    "min",
    "max",
)
_IGNORED = ("hint", "guidance_hint", "media", "image", "audio", "video", "required_message")
_SCHEDULE_COLUMNS = (
    "questionnaire",
    "type",
    "time",
    "window_minutes",
    "reminders_after_minutes",
    "days",
    "max_per_day",
    "prompts_per_day",
    "block_start",
    "block_end",
    "min_gap_minutes",
    "triggers_partner",
    "trigger_window_minutes",
)
_LANG_IN_PARENS = re.compile(r"\(([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)?)\)\s*$")

Origins = dict[tuple[Any, ...], str]


def _load(path: Path) -> Any:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - the platform extra brings it
        raise ProtocolError(
            "reading .xlsx protocols needs openpyxl: pip install 'dyadlab[platform]'"
        ) from exc
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ProtocolError(
            f"{path.name}: cannot be read as an .xlsx spreadsheet ({type(exc).__name__}: {exc})."
        ) from None


def _cell(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return value.strftime("%H:%M") if value.date() == _dt.date(1899, 12, 30) else value
    if isinstance(value, _dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _rows(sheet: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number, {column: value}) for the non-empty rows of a sheet."""
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return
    columns = [str(c).strip() if c is not None else "" for c in header]
    for number, row in enumerate(rows, start=2):
        values = {
            col: _cell(v)
            for col, v in zip(columns, row, strict=False)
            if col and _cell(v) is not None
        }
        if values:
            yield number, values


def _language(column: str, default: str) -> str:
    """Return the language of a column such as ``label::en`` or ``label::Dutch (nl)``."""
    if "::" not in column:
        return default
    tag = column.split("::", 1)[1].strip()
    match = _LANG_IN_PARENS.search(tag)
    return (match.group(1) if match else tag).lower()


def _base(column: str) -> str:
    return column.split("::", 1)[0].strip().lower()


def _translations(values: dict[str, Any], base: str, default: str) -> dict[str, str]:
    return {_language(col, default): str(v) for col, v in values.items() if _base(col) == base}


def read_xlsform(path: Path) -> tuple[dict[str, Any], Origins]:
    """Read an XLSForm spreadsheet into protocol content and the origin of each part.

    Returns
    -------
    mapping : dict
        Content in the YAML shape, for :func:`~dyadlab.platform.protocol.parse_protocol`.
    origins : dict
        Path tuple -> ``"survey sheet, row 7"`` (and ``", column type"`` for fields).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from dyadlab.platform.protocol import example_protocol
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "diary.xlsx"
    >>> write_xlsform(example_protocol(), path)
    >>> mapping, origins = read_xlsform(path)
    >>> mapping["questionnaires"][0]["items"][0]["type"], origins[("questionnaires", 0, "items", 0)]
    ('slider', 'survey sheet, row 3')
    """
    book = _load(path)
    try:
        return _read_book(book, path)
    finally:
        book.close()


def _read_book(book: Any, path: Path) -> tuple[dict[str, Any], Origins]:
    sheets = {str(name).strip().lower(): book[name] for name in book.sheetnames}
    if "survey" not in sheets:
        hint = closest("survey", list(sheets))
        raise ProtocolError(
            f"{path.name}: has no 'survey' sheet (sheets: {', '.join(book.sheetnames)})"
            + (f"; did you mean {hint!r}?" if hint else ".")
        )
    origins: Origins = {}
    settings = _read_settings(sheets.get("settings"), origins)
    default = str(settings.get("default_language") or "en")
    mapping: dict[str, Any] = {"study": settings.get("study") or path.stem}
    for key in ("default_language", "languages", "dyad", "consent"):
        if key in settings:
            mapping[key] = settings[key]
    questionnaires, label_languages = _read_survey(sheets["survey"], default, origins)
    if "languages" not in mapping and label_languages:
        mapping["languages"] = label_languages
        if "default_language" not in mapping:
            mapping["default_language"] = label_languages[0]
            default = label_languages[0]
    mapping["questionnaires"] = questionnaires
    if "choices" in sheets:
        mapping["choices"] = _read_choices(sheets["choices"], default, origins)
    if "schedule" in sheets:
        mapping["schedule"] = _read_schedule(sheets["schedule"], origins)
    if "analysis" in sheets:
        from dyadlab.platform._xlsform_analysis import read_analysis_sheet

        mapping["analysis"] = read_analysis_sheet(sheets["analysis"], origins)
    return mapping, origins


def _read_settings(sheet: Any, origins: Origins) -> dict[str, Any]:
    if sheet is None:
        return {}
    rows = list(_rows(sheet))
    if not rows:
        return {}
    if len(rows) > 1:
        raise ProtocolError(f"settings sheet, row {rows[1][0]}: the settings sheet has one row")
    number, values = rows[0]
    where = f"settings sheet, row {number}"
    out: dict[str, Any] = {}
    allowed = (
        "form_title",
        "form_id",
        "version",
        "default_language",
        "languages",
        "roles",
        "consent_version",
        "consent_text",
        "instance_name",
        "style",
    )
    for col in values:
        if _base(col) not in allowed:
            hint = closest(_base(col), allowed)
            raise ProtocolError(
                f"{where}: unknown column {col!r}"
                + (f"; did you mean {hint!r}?" if hint else f". Columns: {', '.join(allowed)}.")
            )
    if "form_title" in values:
        out["study"] = values["form_title"]
        origins[("study",)] = f"{where}, column form_title"
    if "default_language" in values:
        text = str(values["default_language"])
        match = _LANG_IN_PARENS.search(text)
        out["default_language"] = match.group(1).lower() if match else text
        origins[("default_language",)] = f"{where}, column default_language"
    if "languages" in values:
        out["languages"] = str(values["languages"]).replace(",", " ").split()
        origins[("languages",)] = f"{where}, column languages"
    if "roles" in values:
        out["dyad"] = {"size": 2, "roles": str(values["roles"]).replace(",", " ").split()}
        origins[("dyad",)] = f"{where}, column roles"
    consent: dict[str, Any] = {}
    if "consent_version" in values:
        consent["version"] = values["consent_version"]
    texts = _translations(values, "consent_text", out.get("default_language", "en"))
    if texts:
        consent["text"] = texts
    if consent:
        out["consent"] = consent
        origins[("consent",)] = where
    return out


def _read_survey(
    sheet: Any, default: str, origins: Origins
) -> tuple[list[dict[str, Any]], list[str]]:
    questionnaires: list[dict[str, Any]] = []
    languages: list[str] = []
    current: dict[str, Any] | None = None
    opened = 0
    for number, values in _rows(sheet):
        where = f"survey sheet, row {number}"
        for col in values:
            base = _base(col)
            if base == "label":
                lang = _language(col, default)
                if lang not in languages:
                    languages.append(lang)
            elif base not in _SURVEY_COLUMNS and base not in _IGNORED:
                hint = closest(base, _SURVEY_COLUMNS)
                raise ProtocolError(
                    f"{where}: column {col!r} is not supported"
                    + (f"; did you mean {hint!r}?" if hint else "")
                    + f". Survey columns: {', '.join(_SURVEY_COLUMNS)}."
                )
        raw_type = str(values.get("type") or "").strip()
        parts = raw_type.replace("begin group", "begin_group").replace("end group", "end_group")
        words = parts.split()
        kind = words[0].lower() if words else ""
        qi = len(questionnaires) - 1
        if kind in ("begin_group", "end_group"):
            _check_group_row(values, where, kind)
        if kind == "begin_group":
            if current is not None:
                raise ProtocolError(
                    f"{where}: groups cannot be nested (the group of row {opened} is still "
                    "open); each top-level group is one questionnaire, so close it with end_group"
                )
            current = {"name": values.get("name")}
            labels = _translations(values, "label", default)
            if labels:
                current["label"] = labels
            current["items"] = []
            questionnaires.append(current)
            opened = number
            origins[("questionnaires", qi + 1)] = where
            continue
        if kind == "end_group":
            if current is None:
                raise ProtocolError(f"{where}: end_group without a begin_group before it")
            current = None
            continue
        if current is None:
            raise ProtocolError(
                f"{where}: item {values.get('name')!r} is outside a questionnaire; put the "
                "items of each questionnaire between a begin_group and an end_group row"
            )
        ii = len(current["items"])
        path = ("questionnaires", qi, "items", ii)
        origins[path] = where
        current["items"].append(_survey_item(values, words, where, default, origins, path))
    if current is not None:
        raise ProtocolError(
            f"survey sheet, row {opened}: the group {current['name']!r} is never closed; "
            "add an end_group row after its last item"
        )
    return questionnaires, languages


def _check_group_row(values: dict[str, Any], where: str, kind: str) -> None:
    """Refuse settings on a group row that dyadlab would otherwise ignore."""
    for col in values:
        base = _base(col)
        if base not in ("type", "name", "label", "appearance", *_IGNORED):
            raise ProtocolError(
                f"{where}, column {col}: a {kind} row marks a questionnaire and cannot have "
                f"{base!r}; a questionnaire is asked whenever the schedule opens it, so put "
                "the condition on its items"
            )


def _survey_item(
    values: dict[str, Any],
    words: list[str],
    where: str,
    default: str,
    origins: Origins,
    path: tuple[Any, ...],
) -> dict[str, Any]:
    item: dict[str, Any] = {"name": values.get("name")}
    origins[(*path, "type")] = f"{where}, column type"
    origins[(*path, "choices")] = f"{where}, column type"
    kind = words[0].lower() if words else ""
    if kind in _LIST_TYPES:
        item["type"] = _LIST_TYPES[kind]
        if "likert" in str(values.get("appearance") or "").lower() and kind == "select_one":
            item["type"] = "likert"
        if len(words) != 2:
            raise ProtocolError(
                f"{where}, column type: {' '.join(words)!r} needs the name of one choice list, "
                f"e.g. '{kind} agree7'"
            )
        item["choices"] = words[1]
    elif kind in _PLAIN_TYPES and len(words) == 1:
        item["type"] = _PLAIN_TYPES[kind]
    elif not kind:
        item["type"] = None  # parse_protocol reports the missing type
    else:
        hint = closest(kind, _ALL_TYPES)
        raise ProtocolError(
            f"{where}, column type: unknown item type {' '.join(words)!r}"
            + (f"; did you mean {hint!r}?" if hint else "")
            + f" Allowed: {', '.join(_ALL_TYPES)}."
        )
    parameters = str(values.get("parameters") or "")
    params = dict(p.split("=", 1) for p in parameters.replace(",", " ").split() if "=" in p)
    for key, target in (("start", "min"), ("end", "max"), ("step", "step")):
        if key in params:
            item[target] = params[key]
            origins[(*path, target)] = f"{where}, column parameters"
    for key in ("min", "max", "required", "relevant", "constraint", "about"):
        if key in values:
            item[key] = values[key]
            origins[(*path, key)] = f"{where}, column {key}"
    labels = _translations(values, "label", default)
    item["label"] = labels
    origins[(*path, "label")] = f"{where}, label columns"
    messages = _translations(values, "constraint_message", default)
    if messages:
        item["constraint_message"] = messages
    return item


def _read_choices(sheet: Any, default: str, origins: Origins) -> dict[str, list[dict[str, Any]]]:
    lists: dict[str, list[dict[str, Any]]] = {}
    for number, values in _rows(sheet):
        where = f"choices sheet, row {number}"
        list_name = values.get("list_name") or values.get("list name")
        if list_name is None:
            raise ProtocolError(f"{where}: list_name is empty; every choice belongs to a list")
        options = lists.setdefault(str(list_name), [])
        origins[("choices", str(list_name), len(options))] = where
        options.append(
            {"value": values.get("name"), "label": _translations(values, "label", default)}
        )
    return lists


def _read_schedule(sheet: Any, origins: Origins) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for number, values in _rows(sheet):
        where = f"schedule sheet, row {number}"
        entry: dict[str, Any] = {}
        for col, value in values.items():
            key = col.strip().lower()
            if key not in _SCHEDULE_COLUMNS:
                hint = closest(key, _SCHEDULE_COLUMNS)
                raise ProtocolError(
                    f"{where}: unknown column {col!r}"
                    + (f"; did you mean {hint!r}?" if hint else "")
                    + f". Schedule columns: {', '.join(_SCHEDULE_COLUMNS)}."
                )
            if key == "reminders_after_minutes":
                value = str(value).replace(",", " ").split()
            entry[key] = value
            origins[("schedule", len(entries), key)] = f"{where}, column {key}"
        origins[("schedule", len(entries))] = where
        entries.append(entry)
    return entries


# --------------------------------------------------------------------------- writing
def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def write_xlsform(protocol: Protocol, path: str | Path) -> None:
    """Write ``protocol`` as an XLSForm spreadsheet that :func:`load_protocol` reads back.

    Parameters
    ----------
    protocol : Protocol
    path : str or Path
        The ``.xlsx`` file to write (overwritten).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from dyadlab.platform.protocol import example_protocol
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "diary.xlsx"
    >>> write_xlsform(example_protocol(), path)
    >>> path.exists()
    True
    """
    if protocol.rating_sessions:  # no sheet for them yet: refuse rather than drop them
        raise ProtocolError(
            "write_xlsform(): this protocol has rating_sessions, which an XLSForm "
            "spreadsheet cannot hold yet; keep the protocol in YAML."
        )
    import openpyxl

    langs = protocol.languages
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    columns = [
        "type",
        "name",
        *(f"label::{lang}" for lang in langs),
        "required",
        "relevant",
        "constraint",
        *(f"constraint_message::{lang}" for lang in langs),
        "about",
        "appearance",
        "parameters",
        "min",
        "max",
    ]
    survey.append(columns)
    for q in protocol.questionnaires:
        survey.append(["begin_group", q.name, *(q.label.get(lang) for lang in langs)])
        for item in q.items:
            row: dict[str, Any] = {"name": item.name, "about": item.about}
            row["required"] = "yes" if item.required else None
            row["relevant"], row["constraint"] = item.relevant, item.constraint
            for lang in langs:
                row[f"label::{lang}"] = item.label.get(lang)
                row[f"constraint_message::{lang}"] = (item.constraint_message or {}).get(lang)
            if item.type in ("likert", "single"):
                row["type"] = f"select_one {item.choices}"
                row["appearance"] = "likert" if item.type == "likert" else None
            elif item.type == "multiple":
                row["type"] = f"select_multiple {item.choices}"
            elif item.type == "slider":
                row["type"] = "range"
                params = f"start={_number(item.min)} end={_number(item.max)}"
                if item.step is not None:
                    params += f" step={_number(item.step)}"
                row["parameters"] = params
            else:
                row["type"] = item.type
                row["min"], row["max"] = _number(item.min), _number(item.max)
            survey.append([row.get(c) for c in columns])
        survey.append(["end_group", q.name])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", *(f"label::{lang}" for lang in langs)])
    for list_name, options in protocol.choices.items():
        for c in options:
            choices.append([list_name, c.value, *(c.label.get(lang) for lang in langs)])
    settings = book.create_sheet("settings")
    settings_columns = ["form_title", "default_language", "languages", "roles", "consent_version"]
    settings_columns += [f"consent_text::{lang}" for lang in langs]
    settings.append(settings_columns)
    settings.append(
        [
            protocol.title,
            protocol.default_language,
            " ".join(langs),
            " ".join(protocol.roles) if protocol.roles else None,
            protocol.consent_version,
            *(protocol.consent_text.get(lang) for lang in langs),
        ]
    )
    schedule = book.create_sheet("schedule")
    schedule.append(list(_SCHEDULE_COLUMNS))
    for entry in protocol.schedule:
        data = entry.model_dump()
        data["reminders_after_minutes"] = (
            " ".join(str(m) for m in entry.reminders_after_minutes) or None
        )
        schedule.append([data.get(c) for c in _SCHEDULE_COLUMNS])
    from dyadlab.platform._xlsform_analysis import write_analysis_sheet

    write_analysis_sheet(book, protocol)
    book.save(path)
