"""REDCap data dictionaries (CSV): import as a protocol, export a protocol's codebook.

Import (:func:`read_redcap_dictionary`, used by ``load_protocol("x.csv")``):

- each *Form Name* becomes a questionnaire, in order of appearance; the first field of
  the dictionary is REDCap's record identifier and is not a question, so it is skipped;
- field types: ``radio`` and ``dropdown`` -> single choice (Likert with the
  ``@DYADLAB-LIKERT`` annotation), ``checkbox`` -> multiple choice, ``yesno`` and
  ``truefalse`` -> yes/no, ``slider`` -> slider (Text Validation Min/Max, default 0-100),
  ``notes`` -> text, ``text`` -> text, or integer / decimal / date / time by its
  validation (``integer``; ``number``…; ``date_ymd``…; ``time``…); ``descriptive`` ->
  a note; ``calc`` -> a calculation (``[x]`` -> ``${x}``, ``/`` -> ``div``, ``^`` ->
  ``pow()``, ``rounddown``/``roundup`` -> ``floor``/``ceiling``; other REDCap functions
  such as ``datediff`` are refused with their row); ``file`` -> a file upload;
  ``sql`` fields and signatures are refused with their row;
- choices ``1, Strongly disagree | 2, Disagree`` become a choice list named
  ``<field>_choices`` (or by ``@DYADLAB-CHOICES=name``), shared by fields with the same
  choices;
- branching logic becomes a ``relevant`` expression: ``[x]`` -> ``${x}``, ``<>`` ->
  ``!=``, ``[x(2)] = '1'`` -> ``selected(${x}, '2')``, and ``'1'``/``'0'`` of yes/no
  fields -> ``'yes'``/``'no'``; longitudinal ``[event][field]`` references and REDCap
  functions are refused with their row;
- *Required Field?* ``y`` -> required; the annotations ``@DYADLAB-ABOUT=partner`` and
  ``@DYADLAB-CONSTRAINT="…"`` carry what REDCap cannot express;
- other text validations (``email``, ``phone``, …) are not checked (the field is text),
  and the presentation columns (*Section Header*, *Field Note*, *Identifier?*, *Custom
  Alignment*, *Question Number*, *Matrix Group Name*, *Matrix Ranking?*) are ignored.

The labels are taken as the protocol's one language (``language=``, default ``en``);
the protocol has no schedule and no consent text -- add them in YAML or XLSForm.

Export (:func:`to_redcap_dictionary`): the codebook of a protocol as REDCap rows, labels
in one language, and the dyadlab annotations above so that an import gives the same
items back.

Examples
--------
>>> from dyadlab.platform.protocol import example_protocol
>>> rows = to_redcap_dictionary(example_protocol(), language="en")
>>> rows[5]["Variable / Field Name"], rows[5]["Branching Logic (Show field only if...)"]
('conflict_intensity', "[conflict] = '1'")
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dyadlab.exceptions import ProtocolError
from dyadlab.platform._expressions import (
    ExpressionError,
    _Binary,
    _Call,
    _Current,
    _Literal,
    _Node,
    _Ref,
    _Unary,
    parse_expression,
)

if TYPE_CHECKING:
    from dyadlab.platform.protocol import Protocol

__all__ = ["REDCAP_COLUMNS", "read_redcap_dictionary", "to_redcap_dictionary"]

#: The columns of a REDCap data dictionary, in REDCap's order.
REDCAP_COLUMNS: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
_KEYS = {  # short name -> how the header starts (lower case)
    "name": "variable / field name",
    "form": "form name",
    "type": "field type",
    "label": "field label",
    "choices": "choices, calculations",
    "validation": "text validation type",
    "min": "text validation min",
    "max": "text validation max",
    "logic": "branching logic",
    "required": "required field",
    "annotation": "field annotation",
}
_UNSUPPORTED = ("sql", "signature")
_SUPPORTED = (
    "text",
    "notes",
    "radio",
    "dropdown",
    "checkbox",
    "yesno",
    "truefalse",
    "slider",
    "calc",
    "descriptive",
    "file",
)
_CONSTRAINT = re.compile(r'@DYADLAB-CONSTRAINT=("(?:[^"\\]|\\.)*")')


def _header_map(header: list[str], where: str) -> dict[str, int]:
    lowered = [h.strip().lower() for h in header]
    found: dict[str, int] = {}
    for key, start in _KEYS.items():
        for i, h in enumerate(lowered):
            if h.startswith(start):
                found[key] = i
                break
    for key in ("name", "form", "type", "label"):
        if key not in found:
            raise ProtocolError(
                f"{where}: has no column {_KEYS[key]!r}; is this a REDCap data dictionary? "
                f"Its columns are: {', '.join(REDCAP_COLUMNS[:6])}, …"
            )
    return found


def read_redcap_dictionary(
    path: Path, *, language: str = "en"
) -> tuple[dict[str, Any], dict[tuple[Any, ...], str]]:
    """Read a REDCap data dictionary (CSV) into protocol content and row origins.

    Returns
    -------
    mapping : dict
        Content in the YAML shape, for :func:`~dyadlab.platform.protocol.parse_protocol`.
    origins : dict
        Path tuple -> ``"REDCap dictionary, row 5"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from dyadlab.platform.protocol import example_protocol
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "dictionary.csv"
    >>> _ = to_redcap_dictionary(example_protocol(), path, language="en")
    >>> mapping, origins = read_redcap_dictionary(path)
    >>> mapping["questionnaires"][0]["items"][4]["relevant"]
    "${conflict} = 'yes'"
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ProtocolError(f"{path.name}: cannot be read as a CSV file ({exc}).") from None
    if not rows:
        raise ProtocolError(f"{path.name}: the REDCap dictionary is empty.")
    columns = _header_map(rows[0], path.name)
    fields: list[tuple[int, dict[str, str]]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {key: (row[i].strip() if i < len(row) else "") for key, i in columns.items()}
        fields.append((number, values))
    kinds = {values["name"]: values["type"].lower() for _, values in fields}
    origins: dict[tuple[Any, ...], str] = {}
    questionnaires: list[dict[str, Any]] = []
    by_form: dict[str, dict[str, Any]] = {}
    choices: dict[str, list[dict[str, Any]]] = {}
    shared: dict[str, str] = {}  # choices text -> list name
    if len(fields) < 2:
        first = repr(fields[0][1]["name"]) if fields else "none"
        raise ProtocolError(
            f"{path.name}: the dictionary has no field to ask besides REDCap's record "
            f"identifier ({first}); add the questionnaire's fields after it"
        )
    for number, values in fields[1:]:  # the first field is REDCap's record identifier
        where = f"REDCap dictionary, row {number}"
        form = values["form"]
        if form not in by_form:
            by_form[form] = {"name": form, "items": []}
            questionnaires.append(by_form[form])
            origins[("questionnaires", len(questionnaires) - 1)] = where
        q = by_form[form]
        path_ = ("questionnaires", questionnaires.index(q), "items", len(q["items"]))
        origins[path_] = where
        item = _field(values, where, language, kinds, choices, shared)
        q["items"].append(item)
    mapping = {
        "study": path.stem,
        "languages": [language],
        "default_language": language,
        "questionnaires": questionnaires,
        "choices": choices,
    }
    return mapping, origins


def _field(
    values: dict[str, str],
    where: str,
    language: str,
    kinds: dict[str, str],
    choices: dict[str, list[dict[str, Any]]],
    shared: dict[str, str],
) -> dict[str, Any]:
    name, kind = values["name"], values["type"].lower()
    annotation = values.get("annotation", "")
    validation = values.get("validation", "").lower()
    item: dict[str, Any] = {"name": name, "label": {language: values["label"]}}
    if kind in _UNSUPPORTED or kind not in _SUPPORTED:
        raise ProtocolError(
            f"{where}: field {name!r} has type {kind!r}, which dyadlab cannot ask; "
            f"supported: {', '.join(_SUPPORTED)}"
        )
    if kind == "file" and validation == "signature":
        raise ProtocolError(
            f"{where}: field {name!r} is a signature, which the participant pages cannot "
            "draw; ask a yes/no or text field instead"
        )
    if kind == "descriptive":
        item["type"] = "note"
    elif kind == "calc":
        item["type"] = "calculate"
        item["calculation"] = _from_calculation(values.get("choices", ""), where, kinds)
    elif kind == "file":
        item["type"] = "file"
    elif kind in ("radio", "dropdown", "checkbox"):
        item["type"] = "multiple" if kind == "checkbox" else "single"
        if kind != "checkbox" and "@DYADLAB-LIKERT" in annotation:
            item["type"] = "likert"
        item["choices"] = _choice_list(values, where, language, choices, shared, annotation)
    elif kind in ("yesno", "truefalse"):
        item["type"] = "yes_no"
    elif kind == "slider":
        item["type"] = "slider"
        item["min"] = values.get("min") or 0
        item["max"] = values.get("max") or 100
    elif kind == "notes" or not validation:
        item["type"] = "text"
    elif validation == "integer":
        item["type"] = "integer"
    elif validation.startswith("number"):
        item["type"] = "decimal"
    elif validation.startswith("date") and not validation.startswith("datetime"):
        item["type"] = "date"
    elif validation.startswith("time"):
        item["type"] = "time"
    else:
        item["type"] = "text"
    if item["type"] in ("integer", "decimal"):
        for key in ("min", "max"):
            if values.get(key):
                item[key] = values[key]
    item["required"] = values.get("required", "").lower() in ("y", "yes", "1")
    about = re.search(r"@DYADLAB-ABOUT=(\w+)", annotation)
    if about:
        item["about"] = about.group(1)
    constraint = _CONSTRAINT.search(annotation)
    if constraint:
        item["constraint"] = json.loads(constraint.group(1))
    logic = values.get("logic", "")
    if logic:
        item["relevant"] = _from_branching(logic, where, kinds)
    return item


def _choice_list(
    values: dict[str, str],
    where: str,
    language: str,
    choices: dict[str, list[dict[str, Any]]],
    shared: dict[str, str],
    annotation: str,
) -> str:
    text = values.get("choices", "")
    named = re.search(r"@DYADLAB-CHOICES=(\w+)", annotation)
    if text in shared and (named is None or named.group(1) == shared[text]):
        return shared[text]
    options: list[dict[str, Any]] = []
    for part in text.split("|"):
        if not part.strip():
            continue
        if "," not in part:
            raise ProtocolError(
                f"{where}: choice {part.strip()!r} of field {values['name']!r} must be "
                "written 'code, label' (choices are separated by |)"
            )
        code, label = part.split(",", 1)
        options.append({"value": code.strip(), "label": {language: label.strip()}})
    if not options:
        raise ProtocolError(f"{where}: field {values['name']!r} has no choices")
    list_name = named.group(1) if named else f"{values['name']}_choices"
    choices[list_name] = options
    shared[text] = list_name
    return list_name


_POWER = re.compile(
    r"(\([^()]*\)|\$\{\w+\}|\d+(?:\.\d+)?)\s*\^\s*(\([^()]*\)|\$\{\w+\}|\d+(?:\.\d+)?)"
)


def _from_calculation(text: str, where: str, kinds: dict[str, str]) -> str:
    """A REDCap calculation as an expression: ``[x]`` -> ``${x}``, ``a/b`` -> ``a div b``,
    ``(a)^(b)`` -> ``pow((a), (b))``; REDCap's own functions (``datediff``, ``sum``, …)
    are refused with the row."""
    expression = _from_branching(text, where, kinds, parse=False).replace("/", " div ")
    while _POWER.search(expression):
        expression = _POWER.sub(r"pow(\1, \2)", expression)
    expression = re.sub(r"\brounddown\(([^(),]*)\)", r"floor(\1)", expression)
    expression = re.sub(r"\broundup\(([^(),]*)\)", r"ceiling(\1)", expression)
    try:
        parse_expression(expression)
    except ExpressionError as exc:
        raise ProtocolError(f"{where}: calculation {text!r}: {exc}") from None
    return expression


def _from_branching(logic: str, where: str, kinds: dict[str, str], *, parse: bool = True) -> str:
    if re.search(r"\]\s*\[", logic):
        raise ProtocolError(
            f"{where}: branching logic {logic!r} refers to another event ([event][field]); "
            "dyadlab protocols have no REDCap events"
        )

    def checkbox(match: re.Match[str]) -> str:
        field, code, op, value = match.group(1), match.group(2), match.group(3), match.group(5)
        chosen = (value == "1") == (op == "=")
        test = f"selected(${{{field}}}, '{code}')"
        return test if chosen else f"not({test})"

    text = re.sub(
        r"\[(\w+)\((\w+)\)\]\s*(=|<>|!=)\s*(['\"]?)([01])\4", checkbox, logic.replace("\n", " ")
    )
    text = re.sub(r"\[(\w+)\]", r"${\1}", text).replace("<>", "!=")
    text = re.sub(r"\b(AND|OR)\b", lambda m: m.group(1).lower(), text)

    def yes_no(match: re.Match[str]) -> str:
        field, op, value = match.group(1), match.group(2), match.group(4)
        if kinds.get(field) not in ("yesno", "truefalse"):
            return match.group(0)
        return f"${{{field}}} {op} '{'yes' if value == '1' else 'no'}'"

    text = re.sub(r"\$\{(\w+)\}\s*(=|!=)\s*(['\"]?)([01])\3", yes_no, text)
    if not parse:
        return text
    try:
        parse_expression(text)
    except ExpressionError as exc:
        raise ProtocolError(f"{where}: branching logic {logic!r}: {exc}") from None
    return text


# --------------------------------------------------------------------------- export
def _to_branching(node: _Node, yes_no: set[str], parent: int = 0) -> str:
    levels = {"or": 0, "and": 1, "=": 2, "!=": 2, "<": 3, "<=": 3, ">": 3, ">=": 3}
    levels.update({"+": 4, "-": 4, "*": 5, "div": 5, "mod": 5})
    if isinstance(node, _Literal):
        return f"'{node.value}'" if isinstance(node.value, str) else repr(node.value)
    if isinstance(node, _Ref):
        return f"[{node.name}]"
    if isinstance(node, _Current):
        raise ProtocolError("'.' cannot be written as REDCap branching logic")
    if isinstance(node, _Unary):
        return "-" + _to_branching(node.operand, yes_no, 6)
    if isinstance(node, _Binary):
        left, right = node.left, node.right
        if (
            node.op in ("=", "!=")
            and isinstance(left, _Ref)
            and left.name in yes_no
            and isinstance(right, _Literal)
            and right.value in ("yes", "no")
        ):
            right = _Literal("1" if right.value == "yes" else "0")
        op = {"!=": "<>", "div": "/", "mod": "%"}.get(node.op, node.op)
        level = levels[node.op]
        text = (
            f"{_to_branching(left, yes_no, level)} {op} {_to_branching(right, yes_no, level + 1)}"
        )
        return f"({text})" if level < parent else text
    if isinstance(node, _Call):
        if node.name == "selected" and isinstance(node.args[0], _Ref):
            code = node.args[1].value if isinstance(node.args[1], _Literal) else None
            if code is not None:
                return f"[{node.args[0].name}({code})] = '1'"
        if node.name == "not":
            return f"not({_to_branching(node.args[0], yes_no)})"
        if node.name in ("true", "false"):
            return "1 = 1" if node.name == "true" else "1 = 0"
    raise ProtocolError(
        f"{getattr(node, 'name', node)!r} cannot be written as REDCap branching logic"
    )


def to_redcap_dictionary(
    protocol: Protocol, path: str | Path | None = None, *, language: str | None = None
) -> list[dict[str, str]]:
    """Return (and optionally write) the protocol's codebook as a REDCap data dictionary.

    Parameters
    ----------
    protocol : Protocol
    path : str or Path, optional
        A ``.csv`` file to write (UTF-8, REDCap's columns).
    language : str, optional
        Language of the labels (default: the protocol's default language).

    Returns
    -------
    list of dict
        One row per field (the first is ``record_id``), keyed by :data:`REDCAP_COLUMNS`.

    Raises
    ------
    ProtocolError
        If a skip-logic expression has no REDCap equivalent (``count-selected`` …).

    Examples
    --------
    >>> from dyadlab.platform.protocol import example_protocol
    >>> row = to_redcap_dictionary(example_protocol(), language="en")[3]
    >>> row["Field Type"], row["Field Annotation"]
    ('radio', '@DYADLAB-CHOICES=agree7 @DYADLAB-LIKERT')
    """
    lang = language or protocol.default_language
    yes_no = {i.name for q in protocol.questionnaires for i in q.items if i.type == "yes_no"}
    first_form = protocol.questionnaires[0].name
    rows: list[dict[str, str]] = [
        {
            **dict.fromkeys(REDCAP_COLUMNS, ""),
            "Variable / Field Name": "record_id",
            "Form Name": first_form,
            "Field Type": "text",
            "Field Label": "Record ID",
        }
    ]
    for q in protocol.questionnaires:
        for item in q.items:
            row = dict.fromkeys(REDCAP_COLUMNS, "")
            row["Variable / Field Name"] = item.name
            row["Form Name"] = q.name
            row["Field Label"] = item.label.get(lang, next(iter(item.label.values()), ""))
            notes: list[str] = []
            kind = item.type
            if kind in ("likert", "single", "multiple"):
                row["Field Type"] = "checkbox" if kind == "multiple" else "radio"
                row["Choices, Calculations, OR Slider Labels"] = " | ".join(
                    f"{value}, {label}" for value, label in protocol.choice_labels(item, lang)
                )
                notes.append(f"@DYADLAB-CHOICES={item.choices}")
                if kind == "likert":
                    notes.append("@DYADLAB-LIKERT")
            elif kind == "yes_no":
                row["Field Type"] = "yesno"
            elif kind == "slider":
                row["Field Type"] = "slider"
                row["Text Validation Type OR Show Slider Number"] = "number"
            else:
                row["Field Type"] = "notes" if kind == "text" else "text"
                validation = {"integer": "integer", "decimal": "number", "date": "date_ymd"}
                row["Text Validation Type OR Show Slider Number"] = validation.get(
                    kind, "time" if kind == "time" else ""
                )
            for column, bound in (
                ("Text Validation Min", item.min),
                ("Text Validation Max", item.max),
            ):
                if bound is not None:
                    row[column] = str(int(bound) if float(bound).is_integer() else bound)
            if item.relevant:
                row["Branching Logic (Show field only if...)"] = _to_branching(
                    parse_expression(item.relevant).root, yes_no
                )
            row["Required Field?"] = "y" if item.required else ""
            if item.about == "partner":
                notes.append("@DYADLAB-ABOUT=partner")
            if item.constraint:
                notes.append(f"@DYADLAB-CONSTRAINT={json.dumps(item.constraint)}")
            row["Field Annotation"] = " ".join(notes)
            rows.append(row)
    if path is not None:
        with Path(path).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(REDCAP_COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
    return rows
