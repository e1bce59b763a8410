"""Read and write protocols as XLSForm spreadsheets (``.xlsx``, ``.xls``).

Reading uses the reference implementation's parser (pyxform's workbook reader and
``workbook_to_json``), so spellings, upper-case headers, ``label::English (en)``,
``label:English``, old type names (``select one``, ``select all that apply``), comment
and blank rows are read as every XLSForm tool reads them. The result is mapped onto a
dyadlab protocol:

- A form whose every question sits inside top-level groups (the dyadlab layout) has one
  questionnaire per top-level group; any other form is **one questionnaire** named after
  its ``form_id``. Groups inside a questionnaire are its *sections* (their labels are
  shown as headings; a group's ``relevant`` applies to every item in it).
- ``select_one`` (``appearance=likert`` -> Likert), ``select_multiple``, ``rank``,
  ``range`` (a slider), ``integer``, ``decimal``, ``text``, ``date``, ``time``,
  ``dateTime``, ``note``, ``calculate``, ``acknowledge``, ``geopoint``, and the dyadlab
  types ``slider``, ``likert LIST``, ``single LIST``, ``multiple LIST``, ``yes_no``.
- Columns: ``label``, ``hint``, ``guidance_hint``, ``required`` (yes, or an expression),
  ``relevant``, ``constraint``, ``constraint_message``, ``calculation``, ``default``,
  ``choice_filter``, ``appearance``, ``parameters`` and the dyadlab columns ``about``,
  ``min`` and ``max``. ``or_other`` adds the choice ``other`` and an item
  ``NAME_other`` asked when it is chosen (as pyxform does).
- Metadata (``start``, ``end``, ``today``) is recorded by the platform anyway and
  skipped; device and phone identifiers (``deviceid``, ``phonenumber``, …) are never
  collected and are skipped with a warning.
- Anything a phone browser cannot do (``barcode``, ``osm``, ``geotrace``, external
  choice files, …) is refused with its row, its name and what to use instead
  (:data:`REFUSED_TYPES`).
- Columns and settings dyadlab does not use are ignored with one
  :class:`~dyadlab.exceptions.DyadlabWarning` naming them.

Languages are codes: ``label::English (en)`` and ``label::en`` give ``en``, and common
language names (``label::English``, ``label::Français``) are recognised
(:data:`LANGUAGE_NAMES`). A label missing in one language shows the default language's
text. Settings: ``form_title`` (the study's title), ``default_language`` and the dyadlab
columns ``languages``, ``roles``, ``consent_version`` and ``consent_text::LANG``; the
dyadlab sheet ``schedule`` (``.xlsx`` only) has one row per
:class:`~dyadlab.platform.protocol.ScheduleEntry`.

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
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dyadlab._validation import closest
from dyadlab.exceptions import DyadlabWarning, ProtocolError

if TYPE_CHECKING:
    from dyadlab.platform.protocol import Protocol

__all__ = [
    "LANGUAGE_NAMES",
    "REFUSED_TYPES",
    "SUPPORTED_TYPES",
    "read_xlsform",
    "write_xlsform",
]

#: Language names (lower case) read as codes in ``label::NAME`` columns.
LANGUAGE_NAMES: dict[str, str] = {
    "english": "en",
    "dutch": "nl",
    "nederlands": "nl",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "german": "de",
    "deutsch": "de",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "portuguese": "pt",
    "português": "pt",
    "italian": "it",
    "swahili": "sw",
    "kiswahili": "sw",
    "arabic": "ar",
    "chinese": "zh",
    "hindi": "hi",
    "bengali": "bn",
    "bangla": "bn",
    "urdu": "ur",
    "russian": "ru",
    "turkish": "tr",
    "polish": "pl",
    "swedish": "sv",
    "danish": "da",
    "norwegian": "no",
    "finnish": "fi",
    "greek": "el",
    "hebrew": "he",
    "japanese": "ja",
    "korean": "ko",
    "indonesian": "id",
    "vietnamese": "vi",
    "thai": "th",
    "amharic": "am",
    "hausa": "ha",
    "yoruba": "yo",
    "somali": "so",
    "nepali": "ne",
    "tagalog": "tl",
    "ukrainian": "uk",
    "romanian": "ro",
    "czech": "cs",
    "hungarian": "hu",
    "persian": "fa",
    "farsi": "fa",
}

#: XLSForm types dyadlab asks: type -> what the participant pages show.
SUPPORTED_TYPES: dict[str, str] = {
    "select_one": "single choice (Likert with appearance likert)",
    "select_multiple": "multiple choice",
    "select_one_external": "single choice, its list from the external_choices sheet",
    "rank": "the choices put in order",
    "range": "slider",
    "integer": "whole number",
    "decimal": "number",
    "text": "text",
    "date": "date",
    "time": "time",
    "dateTime": "date and time",
    "note": "text shown, no answer",
    "calculate": "computed by the page and again by the server",
    "acknowledge": "an OK box",
    "geopoint": "latitude and longitude, typed or read on a button press",
    "image": "photo upload (at most 600 KB)",
    "audio": "sound upload (at most 600 KB)",
    "file": "file upload (at most 600 KB)",
    "begin_group": "a section (the top-level groups of a form with a schedule sheet are "
    "its questionnaires)",
    "begin_repeat": "numbered copies of its items (repeat_count, at most repeat_max = 5)",
    "start": "skipped: the platform records when a form is opened and sent",
    "end": "skipped: the platform records when a form is opened and sent",
    "today": "skipped: the platform records the date",
    "deviceid": "skipped with a warning: never collected",
    "phonenumber": "skipped with a warning: never collected",
    "username": "skipped with a warning: never collected",
    "email": "skipped with a warning: never collected",
    "audit": "skipped with a warning: not recorded",
    "hidden": "skipped with a warning: nothing fills it in a browser",
}

#: XLSForm types a phone browser cannot offer: type -> what to use instead.
REFUSED_TYPES: dict[str, str] = {
    "barcode": "a browser page cannot scan a barcode; use a text item for the code",
    "geotrace": "drawing a line on a map is not available; use geopoint or text",
    "geoshape": "drawing a shape on a map is not available; use geopoint or text",
    "osm": "OpenStreetMap tagging needs ODK Collect; use geopoint or text",
    "video": "video uploads are too large for a phone connection; use audio or file",
    "loop": "loops over a choice list are not supported; write one item per choice",
    "select_one_external": "its list is not on an external_choices sheet of the workbook; "
    "put the choices on the choices sheet",
    "select_from_file": "choices from a file beside the form are not supported yet; put "
    "the choices on the choices sheet",
    "start-geopoint": "a location taken in the background is not available; ask a geopoint item",
    "background-audio": "recording in the background is not possible in a browser",
    "background-geopoint": "a location taken in the background is not available; ask a "
    "geopoint item",
    "xml-external": "external secondary instances are not supported",
    "csv-external": "external secondary instances are not supported",
    "intent": "external Android apps cannot be started from a browser; leave the item out",
}
#: Metadata the platform records anyway (the submission's own times): skipped quietly.
_RECORDED_META = ("start", "end", "today", "instanceID")
#: Metadata about the device or person the platform never collects: skipped with a warning.
_NEVER_META = (
    "deviceid",
    "subscriberid",
    "simserial",
    "phonenumber",
    "username",
    "email",
    "audit",
    "uri:deviceid",
    "uri:subscriberid",
    "uri:simserial",
    "uri:phonenumber",
    "uri:username",
    "uri:email",
)
#: Element keys of pyxform's JSON that the mapping uses or that carry no content.
_USED_KEYS = {
    "type",
    "name",
    "label",
    "hint",
    "guidance_hint",
    "bind",
    "control",
    "choices",
    "itemset",
    "query",
    "list_name",
    "parameters",
    "choice_filter",
    "default",
    "children",
    "about",
    "min",
    "max",
}
_USED_BIND = {"required", "relevant", "constraint", "calculate", "jr:constraintMsg", "type"}
_NOTE_TYPES = ("note", "q note", "add note prompt")
_DYADLAB_TYPES = {  # dyadlab type -> what pyxform reads in its place
    "slider": "decimal",
    "yes_no": "text",
    "likert": "select_one",
    "single": "select_one",
    "multiple": "select_multiple",
}
_SETTINGS_USED = (
    "form_title",
    "default_language",
    "languages",
    "roles",
    "consent_version",
    "consent_text",
)
#: Settings read by pyxform itself, or naming the ODK form (not used by the platform).
_SETTINGS_QUIET = ("form_id", "id_string", "version", "clean_text_values")
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
_LANG_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_REF = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}")
_RELATIVE = re.compile(r"(?<![\w$}])\.\./([A-Za-z_][A-Za-z0-9_]*)")
_TRUE = ("yes", "true", "true()", "1", "y")
_FALSE = ("no", "false", "false()", "0", "n", "")

Origins = dict[tuple[Any, ...], str]


# --------------------------------------------------------------------------- reading
def _definition(path: Path) -> Any:
    """Read the workbook with pyxform's reader (``.xlsx``, ``.xls``)."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl: "Unknown extension is not supported"
            return get_xlsform(path)
    except PyXFormError as exc:
        raise ProtocolError(
            f"{path.name}: cannot be read as an XLSForm spreadsheet ({exc})."
        ) from None
    except Exception as exc:  # the readers raise many types for a damaged file
        raise ProtocolError(
            f"{path.name}: cannot be read as an XLSForm spreadsheet ({type(exc).__name__}: {exc})."
        ) from None


def _lower(row: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).strip().lower(): v for k, v in row.items()}


def _words(value: Any) -> list[str]:
    return str(value or "").replace("select one ", "select_one ").split()


class _Reader:
    """Map pyxform's JSON of one form onto the protocol's YAML shape."""

    def __init__(self, path: Path, data: Any) -> None:
        self.path = path
        self.data = data
        self.origins: Origins = {}
        self.unused: dict[str, str] = {}  # column -> first place it is used
        self.notes: list[str] = []
        self.renamed: dict[str, str] = {}
        self.first_skipped: int | None = None
        self.languages: list[str] = []
        self.rows: dict[str, list[int]] = {}
        self.dyadlab: dict[int, dict[str, Any]] = {}  # row -> dyadlab type/columns
        self.settings = _lower(data.settings[0]) if data.settings else {}
        self.default = self._code(str(self.settings.get("default_language") or "en"), "en")
        sheet_names = {str(n).strip().lower() for n in data.sheet_names or []}
        self.has_schedule = path.suffix.lower() == ".xlsx" and "schedule" in sheet_names
        self.has_analysis = path.suffix.lower() == ".xlsx" and "analysis" in sheet_names

    # ------------------------------------------------------------- languages
    def _code(self, name: str, default: str, where: str = "") -> str:
        text = name.strip()
        if text.lower() == "default":
            return default
        match = _LANG_IN_PARENS.search(text)
        if match:
            return match.group(1).lower()
        if _LANG_CODE.match(text.lower()):
            return text.lower()
        if text.lower() in LANGUAGE_NAMES:
            return LANGUAGE_NAMES[text.lower()]
        raise ProtocolError(
            f"{where or self.path.name}: language {text!r} has no language code; write "
            f"the column as label::{text} (xx) with its two-letter code, e.g. "
            "'label::English (en)'"
        )

    def texts(self, value: Any, where: str) -> dict[str, str]:
        if value is None or value == "":
            return {}
        if not isinstance(value, Mapping):
            value = {"default": value}
        out: dict[str, str] = {}
        for name, text in value.items():
            code = self._code(str(name), self.default, where)
            if code not in self.languages:
                self.languages.append(code)
            if text is not None and str(text).strip():
                out.setdefault(code, str(text))
        return out

    # ------------------------------------------------------------- rows
    def prepare(self) -> None:
        """Number the survey rows, and put the dyadlab types in pyxform's terms."""
        rows = list(self.data.survey or [])
        for index, row in enumerate(rows):
            number = index + 2
            lowered = _lower(row)
            words = _words(lowered.get("type"))
            kind = words[0].lower() if words else ""
            if kind.startswith("end"):
                continue
            name = lowered.get("name")
            if name is not None:
                self.rows.setdefault(str(name).strip(), []).append(number)
            extra: dict[str, Any] = {
                key: lowered[key] for key in ("about", "min", "max", "parameters") if key in lowered
            }
            if kind in _DYADLAB_TYPES:
                extra["kind"] = kind
                type_key = next(k for k in row if str(k).strip().lower() == "type")
                rows[index] = {**row, type_key: " ".join([_DYADLAB_TYPES[kind], *words[1:]])}
            if extra:
                self.dyadlab[number] = extra
        self.data.survey = rows
        for index, row in enumerate(self.data.choices or []):
            lowered = _lower(row)
            if lowered.get("name") is not None and not (
                lowered.get("list_name") or lowered.get("list name")
            ):
                raise ProtocolError(
                    f"choices sheet, row {index + 2}: list_name is empty; every choice "
                    "belongs to a list"
                )

    def row_of(self, name: str) -> int | None:
        numbers = self.rows.get(name)
        return numbers.pop(0) if numbers else None

    def _number_rows(self, elements: list[Any]) -> None:
        """Give every element its survey row (pyxform's JSON keeps the rows' order)."""
        for element in elements:
            if isinstance(element, dict) and element.get("name") is not None:
                element["__row"] = self.row_of(str(element["name"]))
                self._number_rows(element.get("children") or [])

    def number(self, element: Mapping[str, Any]) -> int | None:
        row = element.get("__row")
        return row if isinstance(row, int) else None

    def where(self, number: int | None) -> str:
        return f"survey sheet, row {number}" if number else "survey sheet"

    # ------------------------------------------------------------- structure
    def read(self, form: dict[str, Any]) -> dict[str, Any]:
        for meta in (c for c in form.get("children", []) if _is_meta_group(c)):
            self._number_rows(meta.get("children") or [])
            for child in meta.get("children") or []:
                if child.get("name") != "instanceID":
                    self.notes.append(
                        f"{self.where(self.number(child))}: metadata {child.get('name')!r} "
                        f"({child.get('type')}) is not "
                        "recorded: the participant pages have no such log"
                    )
        children = [c for c in form.get("children", []) if not _is_meta_group(c)]
        self._number_rows(children)
        self.choices = self._choices(form.get("choices") or {})
        tops = [c for c in children if c.get("type") not in _RECORDED_META + _NEVER_META]
        questionnaires: list[dict[str, Any]] = []
        if tops and all(c.get("type") == "group" for c in tops):
            for child in children:
                if child.get("type") != "group":
                    self._item(child, None, [], {"items": []}, -1)
                    continue
                number = self.number(child)
                q = self._questionnaire(child.get("name"), child.get("label"), number)
                questionnaires.append(q)
                self._fill(child, q, len(questionnaires) - 1, None, self._relevant(child))
        elif self.has_schedule:
            outside = next(c for c in tops if c.get("type") != "group")
            number = self.number(outside)
            raise ProtocolError(
                f"{self.where(number)}: item {outside.get('name')!r} is outside the "
                "questionnaires; this form has a schedule sheet, so each top-level group is "
                "one questionnaire: put the item inside one of them"
            )
        else:
            name = str(self.settings.get("form_id") or form.get("id_string") or self.path.stem)
            name = re.sub(r"\W+", "_", name).strip("_") or "form"
            if name[0].isdigit():
                name = "form_" + name
            q = self._questionnaire(name, self.settings.get("form_title"), None)
            questionnaires.append(q)
            self._fill({"children": children}, q, 0, None, [])
        for q in questionnaires:
            if not q["items"]:
                skipped = "; ".join(self.notes) or "it has no rows"
                raise ProtocolError(
                    f"{self.where(self.first_skipped)}: questionnaire {q['name']!r} has no "
                    f"question dyadlab can ask ({skipped})"
                )
        return {"questionnaires": questionnaires, "choices": self.choices}

    def _questionnaire(self, name: Any, label: Any, number: int | None) -> dict[str, Any]:
        q: dict[str, Any] = {"name": name, "items": [], "sections": {}}
        labels = self.texts(label, self.where(number))
        if labels:
            q["label"] = labels
        return q

    def _relevant(self, element: Mapping[str, Any]) -> list[str]:
        text = (element.get("bind") or {}).get("relevant")
        return [_expression(text)] if text else []

    def _fill(
        self,
        group: Mapping[str, Any],
        q: dict[str, Any],
        qi: int,
        section: str | None,
        relevant: list[str],
    ) -> None:
        for child in group.get("children") or []:
            kind = child.get("type")
            if kind == "group":
                number = self.number(child)
                self._note_unused(child, number)
                name = _safe(str(child.get("name")))
                q["sections"][name] = self.texts(child.get("label"), self.where(number))
                self._fill(child, q, qi, name, relevant + self._relevant(child))
            elif kind == "repeat" and "__repeat" not in child:
                self._repeat(child, q, qi, relevant + self._relevant(child))
            else:
                self._item(child, section, relevant, q, qi)

    def _repeat(
        self, element: Mapping[str, Any], q: dict[str, Any], qi: int, relevant: list[str]
    ) -> None:
        """Ask a repeat group as numbered copies of its items (``NAME_1``, ``NAME_2``, …).

        ``repeat_count`` gives the number of copies (a number, or an expression: then up
        to ``repeat_max`` copies, default 5, each asked while the count allows); without
        it, each copy after the first is asked when the participant adds another.
        """
        name = _safe(str(element.get("name")))
        number = self.number(element)
        where = self.where(number)
        self._note_unused(element, number)
        inner = _names(element.get("children") or [])
        if any(c.get("type") == "repeat" for c in _elements(element.get("children") or [])):
            raise ProtocolError(
                f"{where}, column type: repeat {name!r} has a repeat inside it; nested "
                "repeats are not supported: ask the inner repeat as its own questionnaire"
            )
        count = _expression((element.get("control") or {}).get("jr:count") or "")
        most = element.get("repeat_max")
        try:
            most = int(str(most)) if most not in (None, "") else None
        except ValueError:
            raise ProtocolError(
                f"{where}, column repeat_max: must be a whole number, got {most!r}"
            ) from None
        if re.fullmatch(r"\d+", count):
            copies = int(count)
        else:
            copies = most or _REPEAT_MAX
            if most is None:
                self.notes.append(
                    f"{where}: repeat {name!r} is asked at most {copies} times; give its row "
                    "a repeat_max column to allow more"
                )
        label = self.texts(element.get("label"), where) or {self.default: name}
        for k in range(1, copies + 1):
            conditions = list(relevant)
            if count and not re.fullmatch(r"\d+", count):
                conditions.append(f"({count}) >= {k}")
            elif not count and k > 1:
                more = f"{name}_more_{k}"
                more_item = {
                    "type": "text",
                    "name": more,
                    "__row": number,
                    "__kind": "yes_no",
                    "__repeat": (name, k),
                    "label": {
                        lang: _ANOTHER.get(lang, _ANOTHER["en"]).format(label=text)
                        for lang, text in label.items()
                    },
                }
                if k > 2:
                    more_item["bind"] = {"relevant": f"${{{name}_more_{k - 1}}} = 'yes'"}
                self._item(more_item, None, list(relevant), q, qi)
                conditions.append(f"${{{more}}} = 'yes'")
            section = f"{name}_{k}"
            q["sections"][section] = {lang: f"{text} ({k})" for lang, text in label.items()}
            copy = [_renamed(c, inner, k, (name, k)) for c in element.get("children") or []]
            self._fill({"children": copy}, q, qi, section, conditions)

    def _note_unused(self, element: Mapping[str, Any], number: int | None) -> None:
        for key in element:
            if str(key).startswith("__") or (
                key == "repeat_max" and element.get("type") == "repeat"
            ):
                continue
            if key not in _USED_KEYS:
                self.unused.setdefault(str(key), self.where(number))
        for key in element.get("bind") or {}:
            if key not in _USED_BIND:
                self.unused.setdefault(f"bind:{key}", self.where(number))

    # ------------------------------------------------------------- items
    def _item(
        self,
        element: Mapping[str, Any],
        section: str | None,
        relevant: list[str],
        q: dict[str, Any],
        qi: int,
    ) -> None:
        from pyxform.question_type_dictionary import QUESTION_TYPE_DICT

        name = _safe(str(element.get("name")))
        raw_type = str(element.get("type"))
        number = self.number(element)
        where = self.where(number)
        if name != str(element.get("name")):
            self.renamed.setdefault(str(element.get("name")), name)
        spec = QUESTION_TYPE_DICT.get(raw_type, {})
        bind = {**spec.get("bind", {}), **(element.get("bind") or {})}
        control = {**spec.get("control", {}), **(element.get("control") or {})}
        skipped = raw_type in ("hidden", *_RECORDED_META, *_NEVER_META) or bind.get(
            "jr:preload"
        ) in ("timestamp", "date", "uid", "property")
        if skipped and self.first_skipped is None:
            self.first_skipped = number
        if raw_type in _RECORDED_META or bind.get("jr:preload") in ("timestamp", "date", "uid"):
            return
        if raw_type == "hidden":
            self.notes.append(
                f"{where}: hidden field {name!r} is skipped; a browser form has nothing to "
                "fill it with (use calculate to store a value)"
            )
            return
        if raw_type in _NEVER_META or bind.get("jr:preload") == "property":
            self.notes.append(
                f"{where}: metadata {raw_type!r} ({name}) is skipped; dyadlab never records "
                "device or phone identifiers"
            )
            return
        extra = dict(self.dyadlab.get(number or -1, {}))
        if "__kind" in element:
            extra = {"kind": element["__kind"]}
        kind = self._kind(raw_type, element, bind, control, extra, where, name)
        self._note_unused(element, number)
        path = ("questionnaires", qi, "items", len(q["items"]))
        self.origins[path] = where
        item: dict[str, Any] = {"name": name, "type": kind}
        label = self.texts(element.get("label"), where)
        if label or kind not in ("calculate",):
            item["label"] = label or {self.default: name}
        for key in ("hint", "guidance_hint"):
            texts = self.texts(element.get(key), where)
            if texts:
                item[key] = texts
        for key in ("min", "max", "about"):
            if extra.get(key) not in (None, ""):
                item[key] = extra[key]
        if kind in ("single", "multiple", "likert", "rank"):
            item["choices"] = element.get("itemset") or element.get("list_name")
            if element.get("choice_filter"):
                item["choice_filter"] = str(element["choice_filter"])
        if kind == "slider" and raw_type == "range":
            params = element.get("parameters") or {}
            item["min"] = params.get("start", 1)
            item["max"] = params.get("end", 10)
            if "step" in str(extra.get("parameters") or ""):  # pyxform adds step=1
                item["step"] = params["step"]
        required = str(bind.get("required") or "").strip()
        if required.lower() in _TRUE:
            item["required"] = True
        elif required.lower() not in _FALSE:
            item["required"] = _expression(required)
        own = [_expression(bind["relevant"])] if bind.get("relevant") else []
        conditions = relevant + own
        if conditions:
            item["relevant"] = (
                conditions[0]
                if len(conditions) == 1
                else " and ".join(f"({c})" for c in conditions)
            )
        if bind.get("constraint"):
            item["constraint"] = _expression(bind["constraint"])
        messages = self.texts(bind.get("jr:constraintMsg"), where)
        if messages:
            item["constraint_message"] = messages
        if bind.get("calculate"):
            item["calculation"] = _expression(bind["calculate"])
            if kind != "calculate":
                item["type"] = "calculate"
        if element.get("default") not in (None, ""):
            item["default"] = str(element["default"])
        if section is not None:
            item["section"] = section
        if "__repeat" in element:
            item["repeat"], item["repeat_index"] = element["__repeat"]
        for key in item:
            self.origins[(*path, key)] = f"{where}, column {key}"
        q["items"].append(item)

    def _kind(
        self,
        raw_type: str,
        element: Mapping[str, Any],
        bind: Mapping[str, Any],
        control: Mapping[str, Any],
        extra: Mapping[str, Any],
        where: str,
        name: str,
    ) -> str:
        if "kind" in extra:
            return str(extra["kind"])
        tag = control.get("tag")
        bind_type = bind.get("type")
        mediatype = str(control.get("mediatype") or "")
        refused: str | None = None
        if raw_type in REFUSED_TYPES:
            refused = raw_type
        elif raw_type == "select one external":
            list_name = str(element.get("itemset") or "")
            if list_name not in self.choices and not self._external(list_name):
                refused = "select_one_external"
            else:
                return "single"
        elif tag in ("select1", "select", "odk:rank") and not element.get("choices"):
            refused = "select_from_file"
        elif tag == "upload" and mediatype.split("/")[0] in ("image", "audio", "application"):
            return {"application": "file"}.get(mediatype.split("/")[0], mediatype.split("/")[0])
        elif tag == "upload":
            refused = mediatype.split("/")[0] or "file"
        elif bind_type in ("geotrace", "geoshape", "barcode"):
            refused = str(bind_type)
        elif control.get("intent") or element.get("intent"):
            refused = "intent"
        if refused is not None:
            reason = REFUSED_TYPES.get(refused, "is not supported")
            raise ProtocolError(f"{where}, column type: {raw_type!r} ({name}): {reason}")
        appearance = str(control.get("appearance") or "")
        if raw_type == "calculate" or (not tag and "calculate" in bind):
            return "calculate"
        if raw_type in _NOTE_TYPES:
            return "note"
        if tag == "select1":
            return "likert" if "likert" in appearance else "single"
        if tag == "select":
            return "multiple"
        if tag == "odk:rank":
            return "rank"
        if tag == "trigger":
            return "acknowledge"
        if tag == "range":
            return "slider"
        known = {
            "string": "text",
            "int": "integer",
            "decimal": "decimal",
            "date": "date",
            "time": "time",
            "dateTime": "datetime",
            "geopoint": "geopoint",
        }
        if tag == "input" and bind_type in known:
            return known[str(bind_type)]
        from pyxform.question_type_dictionary import QUESTION_TYPE_DICT

        first = raw_type.split()[0] if raw_type.split() else raw_type
        hint = closest(first, [t.replace(" ", "_") for t in QUESTION_TYPE_DICT])
        raise ProtocolError(
            f"{where}, column type: {raw_type!r} ({name}) is not an item type dyadlab can ask"
            + (f"; did you mean {hint!r}?" if hint else "")
        )

    def _external(self, list_name: str) -> bool:
        """Add the list ``list_name`` of the external_choices sheet (in the workbook)."""
        rows = [
            {str(k).strip().lower().replace("list name", "list_name"): v for k, v in r.items()}
            for r in self.data.external_choices or []
        ]
        options = [
            {k: v for k, v in r.items() if k != "list_name"}
            for r in rows
            if str(r.get("list_name")) == list_name
        ]
        if not options:
            return False
        self.choices.update(self._choices({list_name: options}))
        return True

    # ------------------------------------------------------------- choices
    def _choices(self, lists: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for list_name, options in lists.items():
            entries: list[dict[str, Any]] = []
            for j, option in enumerate(options):
                where = f"choices sheet, list {list_name}"
                self.origins[("choices", str(list_name), j)] = where
                entry: dict[str, Any] = {
                    "value": option.get("name"),
                    "label": self.texts(option.get("label"), where)
                    or {self.default: str(option.get("name"))},
                }
                properties = {
                    str(k): str(v)
                    for k, v in option.items()
                    if k not in ("name", "label", "media") and v is not None
                }
                if properties:
                    entry["properties"] = properties
                if option.get("media"):
                    self.unused.setdefault("media (choices)", where)
                entries.append(entry)
            out[str(list_name)] = entries
        return out

    # ------------------------------------------------------------- settings
    def read_settings(self) -> dict[str, Any]:
        where = "settings sheet, row 2"
        out: dict[str, Any] = {}
        values = self.settings
        for col in values:
            base = col.split("::", 1)[0].strip()
            if base not in _SETTINGS_USED and base not in _SETTINGS_QUIET:
                self.unused.setdefault(f"settings {col}", where)
        if values.get("form_title"):
            out["study"] = str(values["form_title"])
            self.origins[("study",)] = f"{where}, column form_title"
        if values.get("default_language"):
            out["default_language"] = self.default
            self.origins[("default_language",)] = f"{where}, column default_language"
        if values.get("languages"):
            out["languages"] = str(values["languages"]).replace(",", " ").split()
            self.origins[("languages",)] = f"{where}, column languages"
        if values.get("roles"):
            out["dyad"] = {"size": 2, "roles": str(values["roles"]).replace(",", " ").split()}
            self.origins[("dyad",)] = f"{where}, column roles"
        consent: dict[str, Any] = {}
        if values.get("consent_version"):
            consent["version"] = values["consent_version"]
        texts: dict[str, str] = {}
        for col, v in values.items():
            if col.split("::", 1)[0].strip() == "consent_text" and v:
                lang = col.split("::", 1)[1] if "::" in col else "default"
                texts[self._code(lang, self.default, where)] = str(v)
        if texts:
            consent["text"] = texts
        if consent:
            out["consent"] = consent
            self.origins[("consent",)] = where
        return out


_REPEAT_MAX = 5
_ANOTHER = {"en": "Add another: {label}?", "nl": "Nog een toevoegen: {label}?"}
_BIND_EXPRESSIONS = ("relevant", "constraint", "calculate", "required")


def _elements(children: list[Any]) -> Iterator[dict[str, Any]]:
    for child in children:
        yield child
        yield from _elements(child.get("children") or [])


def _names(children: list[Any]) -> set[str]:
    return {str(c["name"]) for c in _elements(children) if c.get("name") is not None}


def _renamed(element: dict[str, Any], names: set[str], k: int, repeat: tuple[str, int]) -> Any:
    """A copy of a repeat's element for copy ``k``: names and references get ``_k``."""

    def rename(text: Any) -> str:
        return re.sub(
            r"\$\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}",
            lambda m: f"${{{m.group(1)}_{k}}}" if m.group(1) in names else m.group(0),
            _expression(text),
        )

    copy = {key: value for key, value in element.items() if key != "children"}
    copy["name"] = f"{element['name']}_{k}"
    copy["__repeat"] = repeat
    if element.get("bind"):
        copy["bind"] = {
            key: rename(value) if key in _BIND_EXPRESSIONS else value
            for key, value in element["bind"].items()
        }
    for key in ("choice_filter", "default"):
        if element.get(key):
            copy[key] = rename(element[key])
    if "children" in element:
        copy["children"] = [_renamed(c, names, k, repeat) for c in element["children"]]
    return copy


def _is_meta_group(element: Mapping[str, Any]) -> bool:
    return bool(element.get("type") == "group" and (element.get("control") or {}).get("bodyless"))


def _expression(text: Any) -> str:
    """pyxform's relative references (``../name``, from ``or_other``) as ``${name}``, and
    names with ``-`` or ``.`` as they are in the protocol (:func:`_safe`)."""
    text = _RELATIVE.sub(lambda m: "${" + m.group(1) + "}", str(text).strip())
    return _REF.sub(lambda m: "${" + _safe(m.group(1)) + "}", text)


def _safe(name: str) -> str:
    """An XLSForm name as a column name: ``-`` and ``.`` become ``_``."""
    return re.sub(r"[.-]", "_", name)


def read_xlsform(path: Path) -> tuple[dict[str, Any], Origins]:
    """Read an XLSForm spreadsheet into protocol content and the origin of each part.

    Returns
    -------
    mapping : dict
        Content in the YAML shape, for :func:`~dyadlab.platform.protocol.parse_protocol`.
    origins : dict
        Path tuple -> ``"survey sheet, row 7"`` (and ``", column type"`` for fields).

    Warns
    -----
    DyadlabWarning
        Naming the columns and settings that were ignored, and skipped metadata.

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
    from pyxform.errors import PyXFormError
    from pyxform.xls2json import workbook_to_json

    path = Path(path)
    data = _definition(path)
    sheets = [str(n) for n in data.sheet_names or []]
    if not data.survey and "survey" not in (n.strip().lower() for n in sheets):
        hint = closest("survey", sheets)
        raise ProtocolError(
            f"{path.name}: has no 'survey' sheet (sheets: {', '.join(sheets)})"
            + (f"; did you mean {hint!r}?" if hint else ".")
        )
    reader = _Reader(path, data)
    reader.prepare()
    pyxform_warnings: list[str] = []
    try:
        form = workbook_to_json(
            data,
            form_name=None,
            fallback_form_name=data.fallback_form_name,
            default_language="default",
            warnings=pyxform_warnings,
        )
    except PyXFormError as exc:
        raise ProtocolError(f"{path.name}: {exc}") from None
    except Exception as exc:  # pyxform fails on some malformed forms without a message
        raise ProtocolError(
            f"{path.name}: pyxform cannot read this form ({type(exc).__name__}: {exc}); "
            "check it with ODK's XLSForm checker (getodk.org/xlsform)"
        ) from None
    mapping: dict[str, Any] = {"study": path.stem}
    mapping.update(reader.read_settings())
    content = reader.read(form)
    languages = reader.languages or [reader.default]
    if "languages" not in mapping:
        mapping["languages"] = languages
        mapping.setdefault("default_language", languages[0])
    _fill_translations(content, mapping["languages"], str(mapping["default_language"]))
    mapping.update(content)
    if reader.has_schedule:
        mapping["schedule"] = _read_schedule(path, reader.origins)
    if reader.has_analysis:
        mapping["analysis"] = _read_analysis(path, reader.origins)
    messages = list(reader.notes)
    if reader.renamed:
        listing = ", ".join(f"{old} -> {new}" for old, new in reader.renamed.items())
        messages.append(
            f"{path.name}: names with '-' or '.' are column names with '_' instead: {listing}"
        )
    if reader.unused:
        listing = ", ".join(f"{col!r} ({place})" for col, place in reader.unused.items())
        messages.append(f"{path.name}: ignored what dyadlab does not use: {listing}")
    messages += [  # missing translations are filled in (see _fill_translations)
        f"{path.name}: pyxform: {w}" for w in pyxform_warnings if not w.startswith("Language '")
    ]
    for message in messages:
        warnings.warn(message, DyadlabWarning, stacklevel=2)
    return mapping, reader.origins


def _fill_translations(content: dict[str, Any], languages: list[str], default: str) -> None:
    """Give every label the texts of all languages (the default language's text when
    a translation is missing), as XLSForm tools show them."""

    def fill(texts: Any) -> Any:
        if not isinstance(texts, dict) or not texts:
            return texts
        fallback = texts.get(default) or next(iter(texts.values()))
        return {lang: texts.get(lang, fallback) for lang in languages}

    for q in content["questionnaires"]:
        if "label" in q:
            q["label"] = fill(q["label"])
        q["sections"] = {name: fill(label) for name, label in q["sections"].items() if label}
        if not q["sections"]:
            del q["sections"]
        for item in q["items"]:
            for key in ("label", "hint", "guidance_hint", "constraint_message"):
                if key in item:
                    item[key] = fill(item[key])
    for options in content["choices"].values():
        for option in options:
            option["label"] = fill(option["label"])


def _schedule_rows(sheet: Any) -> Iterator[tuple[int, dict[str, Any]]]:
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


def _cell(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return value.strftime("%H:%M") if value.date() == _dt.date(1899, 12, 30) else value
    if isinstance(value, _dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _read_schedule(path: Path, origins: Origins) -> list[dict[str, Any]]:
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = next(book[n] for n in book.sheetnames if n.strip().lower() == "schedule")
        entries: list[dict[str, Any]] = []
        for number, values in _schedule_rows(sheet):
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
    finally:
        book.close()


def _read_analysis(path: Path, origins: Origins) -> list[dict[str, Any]]:
    """The preregistered plan of the ``analysis`` sheet (see ``_xlsform_analysis``)."""
    import openpyxl

    from dyadlab.platform._xlsform_analysis import read_analysis_sheet

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = next(book[n] for n in book.sheetnames if n.strip().lower() == "analysis")
        return read_analysis_sheet(sheet, origins)
    finally:
        book.close()


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
        *(f"hint::{lang}" for lang in langs),
        *(f"guidance_hint::{lang}" for lang in langs),
        "required",
        "relevant",
        "constraint",
        *(f"constraint_message::{lang}" for lang in langs),
        "calculation",
        "default",
        "choice_filter",
        "about",
        "appearance",
        "parameters",
        "min",
        "max",
    ]
    survey.append(columns)
    names = {"datetime": "dateTime"}
    for q in protocol.questionnaires:
        survey.append(["begin_group", q.name, *(q.label.get(lang) for lang in langs)])
        section: str | None = None
        for item in q.items:
            if item.section != section:
                if section is not None:
                    survey.append(["end_group", section])
                section = item.section
                if section is not None:
                    label = q.sections.get(section, {})
                    survey.append(["begin_group", section, *(label.get(lang) for lang in langs)])
            row: dict[str, Any] = {"name": item.name, "about": item.about}
            row["required"] = "yes" if item.required else item.required_if
            row["relevant"], row["constraint"] = item.relevant, item.constraint
            row["calculation"], row["default"] = item.calculation, item.default
            row["choice_filter"] = item.choice_filter
            for lang in langs:
                row[f"label::{lang}"] = item.label.get(lang)
                row[f"hint::{lang}"] = (item.hint or {}).get(lang)
                row[f"guidance_hint::{lang}"] = (item.guidance_hint or {}).get(lang)
                row[f"constraint_message::{lang}"] = (item.constraint_message or {}).get(lang)
            if item.type in ("likert", "single"):
                row["type"] = f"select_one {item.choices}"
                row["appearance"] = "likert" if item.type == "likert" else None
            elif item.type in ("multiple", "rank"):
                kind = "select_multiple" if item.type == "multiple" else "rank"
                row["type"] = f"{kind} {item.choices}"
            elif item.type == "slider":
                row["type"] = "range"
                params = f"start={_number(item.min)} end={_number(item.max)}"
                if item.step is not None:
                    params += f" step={_number(item.step)}"
                row["parameters"] = params
            else:
                row["type"] = names.get(item.type, item.type)
                row["min"], row["max"] = _number(item.min), _number(item.max)
            survey.append([row.get(c) for c in columns])
        if section is not None:
            survey.append(["end_group", section])
        survey.append(["end_group", q.name])
    choices = book.create_sheet("choices")
    extra = sorted(
        {key for options in protocol.choices.values() for c in options for key in c.properties}
    )
    choices.append(["list_name", "name", *(f"label::{lang}" for lang in langs), *extra])
    for list_name, options in protocol.choices.items():
        for c in options:
            choices.append(
                [
                    list_name,
                    c.value,
                    *(c.label.get(lang) for lang in langs),
                    *(c.properties.get(key) for key in extra),
                ]
            )
    settings = book.create_sheet("settings")
    settings_columns = ["form_title", "default_language", "languages", "roles", "consent_version"]
    settings_columns += [f"consent_text::{lang}" for lang in langs]
    settings_columns += ["clean_text_values"]  # keep the texts' spaces as they are
    settings.append(settings_columns)
    settings.append(
        [
            protocol.title,
            protocol.default_language,
            " ".join(langs),
            " ".join(protocol.roles) if protocol.roles else None,
            protocol.consent_version,
            *(protocol.consent_text.get(lang) for lang in langs),
            "no",
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
