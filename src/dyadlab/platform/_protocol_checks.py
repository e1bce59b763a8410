"""Check a protocol's content and turn it into the fields of :class:`Protocol`.

Every problem is recorded with its path (``questionnaires[0].items[2].choices``), which
the spreadsheet and REDCap readers map to a sheet and row through ``origins``. The first
problem is raised as :class:`~dyadlab.exceptions.ProtocolError`, with the number of
further problems.

Defaults filled in here (so that :meth:`Protocol.to_dict` shows them): ``languages``
``[default_language]`` or ``["en"]``; ``default_language`` the first language; a slider
runs from 0 to 100; a ``daily`` window is 120 minutes, a ``random`` one 30 minutes and
its minimum gap equals its window; a ``trigger_window_minutes`` of 120 when
``triggers_partner`` is given; ``required`` is false.
"""

from __future__ import annotations

import math
import re
import reprlib
from collections.abc import Mapping, Sequence
from typing import Any

from dyadlab._validation import closest
from dyadlab.exceptions import ProtocolError
from dyadlab.platform._expressions import ExpressionError, parse_choice_filter, parse_expression

__all__ = ["YES_NO_LABELS", "build_protocol_kwargs", "path_text"]

#: Built-in labels of yes/no items per language (other languages fall back to English).
YES_NO_LABELS: dict[str, tuple[str, str]] = {"en": ("Yes", "No"), "nl": ("Ja", "Nee")}

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_TOP_KEYS = (
    "study",
    "languages",
    "default_language",
    "dyad",
    "consent",
    "schedule",
    "questionnaires",
    "choices",
    "analysis",
    "rating_sessions",
)
_ITEM_KEYS = (
    "name",
    "type",
    "label",
    "required",
    "min",
    "max",
    "step",
    "choices",
    "relevant",
    "constraint",
    "constraint_message",
    "about",
    "hint",
    "guidance_hint",
    "required_if",
    "calculation",
    "default",
    "choice_filter",
    "section",
    "repeat",
    "repeat_index",
)
_ENTRY_KEYS = (
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
_CHOICE_TYPES = ("likert", "single", "multiple", "rank")
_RANGE_TYPES = ("slider", "integer", "decimal")
_SCHEDULE_TYPES = ("daily", "random", "event")
_ONLY = {  # schedule fields -> the types that may use them
    "time": ("daily",),
    "window_minutes": ("daily", "random"),
    "reminders_after_minutes": ("daily", "random"),
    "max_per_day": ("event",),
    "prompts_per_day": ("random",),
    "block_start": ("random",),
    "block_end": ("random",),
    "min_gap_minutes": ("random",),
}

Path = tuple[str | int, ...]


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 100
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxtuple = 2, 4, 4, 4
_REPR.maxlong = 40


def _r(value: Any) -> str:
    """A short excerpt of ``value`` for a message: its repr, cut inside long texts, lists
    and mappings (a protocol's value can be megabytes), at most about 120 characters.

    Examples
    --------
    >>> _r("sldier")
    "'sldier'"
    >>> len(_r(["lol" * 1000] * 1000)) < 130
    True
    """
    text = _REPR.repr(value)
    return text if len(text) <= 120 else text[:119] + "…"


def path_text(path: Path) -> str:
    """Write a path tuple as ``questionnaires[0].items[2].choices``."""
    text = ""
    for part in path:
        if not isinstance(part, int) and len(part) > 40:  # a key can be megabytes long
            part = part[:39] + "…"
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


class _Problems:
    def __init__(self, origins: Mapping[Path, str]) -> None:
        self.origins = origins
        self.found: list[str] = []

    def where(self, path: Path) -> str:
        for cut in range(len(path), 0, -1):
            origin = self.origins.get(path[:cut])
            if origin is not None:
                rest = path[cut:]
                return origin + (f" ({path_text(rest)})" if rest else "")
        return path_text(path)

    def add(self, path: Path, message: str) -> None:
        self.found.append(f"{self.where(path)}: {message}")

    def raise_if_any(self) -> None:
        if self.found:
            more = len(self.found) - 1
            plural = "s" if more > 1 else ""
            suffix = f" ({more} more problem{plural} after this one)" if more else ""
            raise ProtocolError(self.found[0] + suffix)


def _suggest(value: str, options: Sequence[str]) -> str:
    hint = closest(value, options)
    return f"; did you mean {_r(hint)}?" if hint else ""


def _suggest_listing(value: str, options: Sequence[str], listing: str) -> str:
    """Return "; did you mean 'x'? Allowed: a, b." (or ". Allowed: a, b.")."""
    return (_suggest(value, options) or ".") + f" {listing}: {', '.join(options) or 'none'}."


def _keys(raw: Mapping[str, Any], allowed: Sequence[str], path: Path, p: _Problems) -> None:
    for key in raw:
        if key not in allowed:
            p.add(
                (*path, str(key)),
                f"unknown key {_r(key)}{_suggest_listing(str(key), allowed, 'Allowed')}",
            )


def _mapping(value: Any, path: Path, p: _Problems, what: str) -> Mapping[str, Any]:
    if isinstance(value, Mapping):
        return value
    p.add(path, f"must be a mapping ({what}), got {type(value).__name__}")
    return {}


def _list(value: Any, path: Path, p: _Problems, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    p.add(path, f"must be a list ({what}), got {type(value).__name__}")
    return []


def _text(value: Any, path: Path, p: _Problems, *, required: bool = False) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            p.add(path, "is missing; it is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        p.add(path, f"must be text, got {_r(value)}")
        return None
    return str(value).strip()


def _name(value: Any, path: Path, p: _Problems) -> str | None:
    name = _text(value, path, p, required=True)
    if name is not None and not _NAME.match(name):
        p.add(
            path,
            f"name {_r(name)} is not allowed; use letters, digits and _ only, starting with a "
            "letter (it becomes a column name in the export)",
        )
        return None
    return name


def _integer(value: Any, path: Path, p: _Problems, *, low: int = 0) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        p.add(path, f"must be a whole number, got {_r(value)}")
        return None
    number: float
    try:
        number = float(value)
    except (TypeError, ValueError):
        p.add(path, f"must be a whole number, got {_r(value)}")
        return None
    if not number.is_integer() or number < low:
        p.add(path, f"must be a whole number of at least {low}, got {_r(value)}")
        return None
    return int(number)


def _number(value: Any, path: Path, p: _Problems) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        p.add(path, f"must be a number, got {_r(value)}")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        p.add(path, f"must be a number, got {_r(value)}")
        return None
    if math.isnan(number) or math.isinf(number):
        p.add(path, f"must be a finite number, got {_r(value)}")
        return None
    return number


def _bool(value: Any, path: Path, p: _Problems) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("yes", "true", "1", "y", "true()"):
        return True
    if text in ("no", "false", "0", "n", "false()"):
        return False
    p.add(path, f"must be yes or no (true/false), got {_r(value)}")
    return False


def _time(value: Any, path: Path, p: _Problems) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        p.add(
            path,
            f'got the number {value}; write a time in quotes as "HH:MM" (YAML reads an '
            "unquoted 20:00 as a number)",
        )
        return None
    text = str(value).strip()
    if len(text) == 4 and text[1] == ":":
        text = "0" + text
    if not _HHMM.match(text):
        p.add(path, f"must be a time written HH:MM (00:00 to 23:59), got {_r(value)}")
        return None
    return text


def _labels(
    value: Any, path: Path, p: _Problems, languages: list[str], default: str, *, required: bool
) -> dict[str, str]:
    if value is None or value == "" or value == {}:
        if required:
            p.add(path, f"is missing; give a label in {', '.join(languages)}")
        return {}
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        labels = {default: str(value)}
    elif isinstance(value, Mapping):
        labels = {}
        for lang, text in value.items():
            if str(lang) not in languages:
                p.add(
                    (*path, str(lang)),
                    f"language {_r(lang)} is not among the protocol's languages "
                    f"({', '.join(languages)}){_suggest(str(lang), languages)}",
                )
            elif text is None or not str(text).strip():
                continue
            else:
                labels[str(lang)] = str(text)
    else:
        p.add(path, f"must be text or a mapping of language: text, got {_r(value)}")
        return {}
    missing = [lang for lang in languages if lang not in labels]
    if missing:
        p.add(path, f"missing label in declared language {', '.join(map(repr, missing))}")
    return labels


def _choice_value(value: Any, path: Path, p: _Problems) -> int | str | None:
    if isinstance(value, bool) or value is None or value == "":
        p.add(path, f"must be a number or a short code, got {_r(value)}")
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        p.add(path, f"must be a whole number or a code, got {_r(value)}")
        return None
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text) and str(int(text)) == text:
        return int(text)
    if not re.fullmatch(r"[\w.-]+", text):  # letters of any script, no spaces
        p.add(path, f"choice value {_r(text)} must be a number or a code without spaces")
        return None
    return text


# --------------------------------------------------------------------------- top level
def build_protocol_kwargs(
    raw: Mapping[str, Any], origins: Mapping[Path, str], *, item_types: Sequence[str]
) -> dict[str, Any]:
    """Check a protocol mapping and return keyword arguments for ``Protocol``."""
    if not isinstance(raw, Mapping):
        raise ProtocolError(
            f"a protocol must be a mapping with keys {', '.join(_TOP_KEYS)}; "
            f"got {type(raw).__name__}."
        )
    p = _Problems(origins)
    _keys(raw, _TOP_KEYS, (), p)
    title = _text(raw.get("study"), ("study",), p, required=True)

    languages: list[str] = []
    raw_languages = raw.get("languages")
    for i, lang in enumerate(_list(raw_languages, ("languages",), p, "language codes")):
        text = str(lang).strip()
        if not _LANG.match(text):
            p.add(("languages", i), f"{_r(lang)} is not a language code such as 'en' or 'nl'")
        elif text in languages:
            p.add(("languages", i), f"language {_r(text)} is listed twice")
        else:
            languages.append(text)
    default = _text(raw.get("default_language"), ("default_language",), p)
    if not languages:
        if raw_languages is not None:
            p.add(("languages",), "must list at least one language code")
        languages = [default or "en"]
    if default is None:
        default = languages[0]
    elif default not in languages:
        p.add(
            ("default_language",),
            f"{_r(default)} is not in languages ({', '.join(languages)})"
            f"{_suggest(default, languages)}",
        )

    roles: list[str] | None = None
    if raw.get("dyad") is not None:
        dyad = _mapping(raw["dyad"], ("dyad",), p, "size and roles")
        _keys(dyad, ("size", "roles"), ("dyad",), p)
        size = _integer(dyad.get("size", 2), ("dyad", "size"), p)
        if size is not None and size != 2:
            p.add(("dyad", "size"), f"must be 2 (a couple), got {size}")
        if dyad.get("roles") is not None:
            raw_roles = _list(dyad["roles"], ("dyad", "roles"), p, "two role labels")
            roles = [str(r).strip() for r in raw_roles]
            if len(roles) != 2 or len(set(roles)) != 2 or not all(roles):
                p.add(
                    ("dyad", "roles"),
                    "must name two different roles (e.g. [partner_a, partner_b]), got "
                    f"{_r(raw_roles)}; leave roles out for indistinguishable couples",
                )
                roles = None

    consent = _mapping(raw.get("consent") or {}, ("consent",), p, "version and text")
    _keys(consent, ("version", "text"), ("consent",), p)
    version = _integer(consent.get("version", 1), ("consent", "version"), p, low=1) or 1
    consent_text = _labels(
        consent.get("text"), ("consent", "text"), p, languages, default, required=False
    )

    choices = _check_choices(raw.get("choices"), p, languages, default)
    questionnaires = _check_questionnaires(
        raw.get("questionnaires"), p, languages, default, choices, item_types
    )
    schedule = _check_schedule(raw.get("schedule"), p, [q["name"] for q in questionnaires])
    from dyadlab.platform._analysis_plan import check_analysis

    # the plan names items: checked once the questionnaires are (no follow-on errors)
    analysis = (
        [] if p.found else check_analysis(raw.get("analysis"), p, questionnaires, schedule, choices)
    )
    from dyadlab.platform._rating_checks import check_rating_sessions

    ratings = check_rating_sessions(
        raw.get("rating_sessions"), p, languages, default, [q["name"] for q in questionnaires]
    )
    p.raise_if_any()
    return {
        "title": title,
        "languages": languages,
        "default_language": default,
        "roles": roles,
        "consent_version": version,
        "consent_text": consent_text,
        "schedule": schedule,
        "questionnaires": questionnaires,
        "choices": choices,
        "analysis": analysis,
        "rating_sessions": ratings,
    }


def _check_choices(
    raw: Any, p: _Problems, languages: list[str], default: str
) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    lists = _mapping(raw or {}, ("choices",), p, "list name: choices")
    for list_name, options in lists.items():
        path: Path = ("choices", str(list_name))
        if not _NAME.match(str(list_name)):
            p.add(path, f"choice list name {_r(list_name)} must use letters, digits and _ only")
            continue
        entries = _list(options, path, p, "choices with value and label")
        if not entries:
            p.add(path, "choice list is empty; give at least one choice")
        seen: list[tuple[Any, ...]] = []
        parsed: list[dict[str, Any]] = []
        for j, entry in enumerate(entries):
            epath: Path = (*path, j)
            option = _mapping(entry, epath, p, "value and label")
            _keys(option, ("value", "label", "properties"), epath, p)
            value = _choice_value(option.get("value"), (*epath, "value"), p)
            label = _labels(
                option.get("label"), (*epath, "label"), p, languages, default, required=True
            )
            if value is None:
                continue
            properties = _mapping(option.get("properties") or {}, (*epath, "properties"), p, "")
            # a value may repeat when the choices' other columns tell the copies apart
            # (XLSForm's allow_choice_duplicates, for a choice_filter)
            key = (value, tuple(sorted((str(k), str(v)) for k, v in properties.items())))
            if key in seen:
                p.add(
                    (*epath, "value"), f"duplicate choice value {_r(value)} in list {_r(list_name)}"
                )
                continue
            seen.append(key)
            parsed.append(
                {
                    "value": value,
                    "label": label,
                    **(
                        {"properties": {str(k): str(v) for k, v in properties.items()}}
                        if properties
                        else {}
                    ),
                }
            )
        result[str(list_name)] = parsed
    return result


def _check_questionnaires(
    raw: Any,
    p: _Problems,
    languages: list[str],
    default: str,
    choices: dict[str, list[dict[str, Any]]],
    item_types: Sequence[str],
) -> list[dict[str, Any]]:
    entries = _list(raw, ("questionnaires",), p, "questionnaires with name and items")
    if raw is None or (isinstance(raw, list) and not raw):
        p.add(("questionnaires",), "a protocol needs at least one questionnaire")
    result: list[dict[str, Any]] = []
    q_names: dict[str, int] = {}
    item_places: dict[str, str] = {}
    for i, entry in enumerate(entries):
        path: Path = ("questionnaires", i)
        q = _mapping(entry, path, p, "name, label and items")
        _keys(q, ("name", "label", "items", "sections"), path, p)
        name = _name(q.get("name"), (*path, "name"), p)
        if name is not None:
            if name in q_names:
                p.add((*path, "name"), f"duplicate questionnaire name {_r(name)}")
            q_names[name] = i
        label = _labels(q.get("label"), (*path, "label"), p, languages, default, required=False)
        sections = {
            str(key): _labels(
                text, (*path, "sections", str(key)), p, languages, default, required=False
            )
            for key, text in _mapping(
                q.get("sections") or {}, (*path, "sections"), p, "section name: label"
            ).items()
        }
        items = _list(q.get("items"), (*path, "items"), p, "items")
        if not items:
            p.add((*path, "items"), "a questionnaire needs at least one item")
        parsed: list[dict[str, Any]] = []
        for j, raw_item in enumerate(items):
            ipath: Path = (*path, "items", j)
            item = _check_item(raw_item, ipath, p, languages, default, choices, item_types)
            if item is None:
                continue
            if item["name"] in item_places:
                p.add(
                    (*ipath, "name"),
                    f"duplicate item name {_r(item['name'])} (also {item_places[item['name']]}); "
                    "item names must be unique in the protocol",
                )
                continue
            item_places[item["name"]] = p.where(ipath)
            parsed.append(item)
        _check_logic(parsed, path, p)
        result.append(
            {
                "name": name or f"questionnaire_{i}",
                "label": label,
                "items": parsed,
                **({"sections": sections} if sections else {}),
            }
        )
    return result


def _check_item(
    raw: Any,
    path: Path,
    p: _Problems,
    languages: list[str],
    default: str,
    choices: dict[str, list[dict[str, Any]]],
    item_types: Sequence[str],
) -> dict[str, Any] | None:
    item = _mapping(raw, path, p, "name, type, label, …")
    _keys(item, _ITEM_KEYS, path, p)
    name = _name(item.get("name"), (*path, "name"), p)
    kind = _text(item.get("type"), (*path, "type"), p, required=True)
    if kind is not None and kind not in item_types:
        p.add(
            (*path, "type"),
            f"unknown item type {_r(kind)}{_suggest_listing(kind, item_types, 'Allowed')}",
        )
        kind = None
    label = _labels(
        item.get("label"), (*path, "label"), p, languages, default, required=kind != "calculate"
    )
    out: dict[str, Any] = {"name": name, "type": kind, "label": label}
    required = item.get("required")
    if isinstance(required, str) and required.strip().lower() not in _BOOL_WORDS:
        out["required"] = False  # an expression: asked as required_if
        out["required_if"] = _expression_text(required, (*path, "required"), p)
    else:
        out["required"] = _bool(required, (*path, "required"), p)
        if item.get("required_if") is not None:
            out["required_if"] = _expression_text(
                item.get("required_if"), (*path, "required_if"), p
            )
    for key in ("hint", "guidance_hint"):
        if item.get(key) is not None:
            out[key] = _labels(item.get(key), (*path, key), p, languages, default, required=False)
    for key in ("default", "section", "choice_filter", "repeat"):
        text = _text(item.get(key), (*path, key), p)
        if text is not None:
            out[key] = text
    if item.get("repeat_index") is not None:
        out["repeat_index"] = _integer(item.get("repeat_index"), (*path, "repeat_index"), p, low=1)
    calculation = item.get("calculation")
    if kind == "calculate" and calculation is None:
        p.add((*path, "calculation"), "a calculate item needs a calculation (an expression)")
    elif calculation is not None:
        if kind != "calculate":
            p.add((*path, "calculation"), f"applies to calculate items, not to {_r(kind)}")
        out["calculation"] = _expression_text(calculation, (*path, "calculation"), p)
    if out.get("choice_filter") and kind not in _CHOICE_TYPES:
        p.add((*path, "choice_filter"), f"applies to choice items, not to {_r(kind)}")
    elif out.get("choice_filter"):
        try:
            parse_choice_filter(out["choice_filter"])
        except ExpressionError as exc:
            p.add((*path, "choice_filter"), str(exc))
    about = _text(item.get("about"), (*path, "about"), p) or "self"
    if about not in ("self", "partner"):
        p.add((*path, "about"), f"must be 'self' or 'partner', got {_r(about)}")
    out["about"] = about
    low = _number(item.get("min"), (*path, "min"), p)
    high = _number(item.get("max"), (*path, "max"), p)
    step = _number(item.get("step"), (*path, "step"), p)
    list_name = _text(item.get("choices"), (*path, "choices"), p)
    if kind in _RANGE_TYPES:
        if kind == "slider":
            low = 0.0 if low is None else low
            high = 100.0 if high is None else high
        if kind == "integer":
            for key, bound in (("min", low), ("max", high)):
                if bound is not None and not bound.is_integer():
                    p.add((*path, key), f"must be a whole number for an integer item, got {bound}")
        if low is not None and high is not None and low >= high:
            p.add((*path, "min"), f"min ({low:g}) must be smaller than max ({high:g})")
        if step is not None and (kind != "slider" or step <= 0):
            p.add((*path, "step"), "step applies to sliders only and must be positive")
        out.update(min=low, max=high, step=step)
    elif kind is not None:
        for key, value in (("min", low), ("max", high), ("step", step)):
            if value is not None:
                p.add(
                    (*path, key),
                    f"{key} applies to slider, integer and decimal items, not to {_r(kind)}",
                )
    if kind in _CHOICE_TYPES:
        if list_name is None:
            p.add((*path, "choices"), f"a {kind} item needs choices (the name of a choice list)")
        elif list_name not in choices:
            p.add(
                (*path, "choices"),
                f"unknown choice list {_r(list_name)}"
                + _suggest_listing(list_name, list(choices), "Defined lists"),
            )
        elif kind == "likert" and not all(isinstance(c["value"], int) for c in choices[list_name]):
            p.add(
                (*path, "choices"),
                f"a likert item needs numeric choice values, but list {_r(list_name)} has codes; "
                "use type single for unordered codes",
            )
        out["choices"] = list_name
    elif list_name is not None and kind is not None:
        p.add(
            (*path, "choices"),
            f"choices apply to likert, single and multiple items, not {_r(kind)}",
        )
    for key in ("relevant", "constraint"):
        text = _text(item.get(key), (*path, key), p)
        if text is not None:
            try:
                parse_expression(text)
            except ExpressionError as exc:
                p.add((*path, key), str(exc))
                text = None
        out[key] = text
    if item.get("constraint_message") is not None:
        out["constraint_message"] = _labels(
            item.get("constraint_message"),
            (*path, "constraint_message"),
            p,
            languages,
            default,
            required=False,
        )
    if name is None or kind is None:
        return None
    return out


_BOOL_WORDS = ("yes", "true", "1", "y", "no", "false", "0", "n", "", "true()", "false()")


def _expression_text(value: Any, path: Path, p: _Problems) -> str | None:
    text = _text(value, path, p)
    if text is None:
        return None
    try:
        parse_expression(text)
    except ExpressionError as exc:
        p.add(path, str(exc))
        return None
    return text


def _check_logic(items: list[dict[str, Any]], path: Path, p: _Problems) -> None:
    names = [i["name"] for i in items]
    for j, item in enumerate(items):
        ipath: Path = (*path, "items", j)
        for key in ("relevant", "constraint", "required_if", "calculation"):
            if item.get(key) is None:
                continue
            expr = parse_expression(item[key])
            if key == "relevant" and expr.uses_current:
                p.add(
                    (*ipath, key),
                    f"'.' (the item's own answer) cannot decide whether the item is asked; "
                    f"refer to earlier items as ${{name}} in {_r(expr.text)}",
                )
            for ref in sorted(expr.references):
                if ref not in names:
                    p.add(
                        (*ipath, key),
                        f"{_r(expr.text)} refers to unknown item {_r(ref)}"
                        + _suggest_listing(ref, names, "Items of this questionnaire"),
                    )
                elif key == "relevant" and names.index(ref) >= j:
                    p.add(
                        (*ipath, key),
                        f"{_r(expr.text)} refers to item {_r(ref)}, which is not before this item; "
                        "skip logic can only depend on earlier items",
                    )


def _check_schedule(raw: Any, p: _Problems, questionnaires: list[str]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    scheduled: dict[str, int] = {}
    for i, entry in enumerate(_list(raw, ("schedule",), p, "schedule entries")):
        path: Path = ("schedule", i)
        e = _mapping(entry, path, p, "questionnaire, type, …")
        _keys(e, _ENTRY_KEYS, path, p)
        q = _text(e.get("questionnaire"), (*path, "questionnaire"), p, required=True)
        if q is not None and q not in questionnaires:
            p.add(
                (*path, "questionnaire"),
                f"schedule names unknown questionnaire {_r(q)}"
                + _suggest_listing(q, questionnaires, "Questionnaires"),
            )
        elif q is not None and q in scheduled:
            p.add(
                (*path, "questionnaire"),
                f"questionnaire {_r(q)} is already scheduled in schedule[{scheduled[q]}]; "
                "give each questionnaire one schedule entry",
            )
        if q is not None:
            scheduled.setdefault(q, i)
        kind = _text(e.get("type"), (*path, "type"), p, required=True)
        if kind is not None and kind not in _SCHEDULE_TYPES:
            p.add(
                (*path, "type"),
                f"unknown schedule type {_r(kind)}"
                + _suggest_listing(kind, _SCHEDULE_TYPES, "Allowed"),
            )
            kind = None
        out: dict[str, Any] = {"questionnaire": q, "type": kind}
        for key, types in _ONLY.items():
            if e.get(key) not in (None, []) and kind is not None and kind not in types:
                p.add(
                    (*path, key), f"{key} applies to {' and '.join(types)} entries, not {_r(kind)}"
                )
        out["days"] = _integer(e.get("days"), (*path, "days"), p, low=1)
        if kind == "daily":
            out["time"] = _time(e.get("time"), (*path, "time"), p)
            if out["time"] is None and e.get("time") is None:
                p.add((*path, "time"), 'a daily entry needs a time, e.g. "20:00"')
            out["window_minutes"] = _window(e, path, p, 120)
            if out["window_minutes"] > 1440:
                p.add(
                    (*path, "window_minutes"),
                    f"{out['window_minutes']} is longer than a day (1440 minutes); a daily "
                    "window must close before the next day's prompt",
                )
        elif kind == "random":
            out.update(_check_random(e, path, p))
        elif kind == "event":
            out["max_per_day"] = _integer(e.get("max_per_day"), (*path, "max_per_day"), p, low=1)
        offsets = [
            _integer(v, (*path, "reminders_after_minutes", k), p, low=1)
            for k, v in enumerate(_list(e.get("reminders_after_minutes"), path, p, "minutes"))
        ]
        clean = [v for v in offsets if v is not None]
        if clean != sorted(set(clean)):
            p.add((*path, "reminders_after_minutes"), f"must increase, without repeats: {clean}")
        window = out.get("window_minutes")
        if window is not None and any(v >= window for v in clean):
            p.add(
                (*path, "reminders_after_minutes"),
                f"{clean} has a reminder at or after the window closes ({window} minutes); "
                "a reminder must come while the questionnaire is open",
            )
        out["reminders_after_minutes"] = clean
        target = _text(e.get("triggers_partner"), (*path, "triggers_partner"), p)
        if target is not None and target not in questionnaires:
            p.add(
                (*path, "triggers_partner"),
                f"names unknown questionnaire {_r(target)}{_suggest(target, questionnaires)}",
            )
        out["triggers_partner"] = target
        trigger_window = _integer(
            e.get("trigger_window_minutes"), (*path, "trigger_window_minutes"), p, low=1
        )
        if target is None and trigger_window is not None:
            p.add((*path, "trigger_window_minutes"), "applies only with triggers_partner")
        out["trigger_window_minutes"] = trigger_window or (120 if target else None)
        result.append(out)
    return result


def _window(e: Mapping[str, Any], path: Path, p: _Problems, default: int) -> int:
    window = _integer(e.get("window_minutes"), (*path, "window_minutes"), p, low=1)
    return default if window is None else window


def _check_random(e: Mapping[str, Any], path: Path, p: _Problems) -> dict[str, Any]:
    k = _integer(e.get("prompts_per_day"), (*path, "prompts_per_day"), p, low=1)
    if k is None and e.get("prompts_per_day") is None:
        p.add((*path, "prompts_per_day"), "a random entry needs prompts_per_day (e.g. 5)")
    start = _time(e.get("block_start"), (*path, "block_start"), p)
    end = _time(e.get("block_end"), (*path, "block_end"), p)
    for key, value in (("block_start", start), ("block_end", end)):
        if value is None and e.get(key) is None:
            p.add((*path, key), f'a random entry needs {key} (e.g. "09:00")')
    window = _window(e, path, p, 30)
    gap = _integer(e.get("min_gap_minutes"), (*path, "min_gap_minutes"), p)
    gap = window if gap is None else gap
    if window > gap:
        p.add(
            (*path, "window_minutes"),
            f"{window} is longer than min_gap_minutes ({gap}); the windows of two prompts "
            "would overlap",
        )
    if start is not None and end is not None and k is not None:
        span = _minutes(end) - _minutes(start)
        if span <= 0:
            p.add((*path, "block_end"), f"{end} must be later than block_start {start}")
        elif span // k < max(gap, 1):
            p.add(
                (*path, "min_gap_minutes"),
                f"{k} prompts between {start} and {end} give blocks of {span // k} minutes, "
                f"shorter than the minimum gap of {gap}; widen the blocks or ask fewer prompts",
            )
    return {
        "prompts_per_day": k,
        "block_start": start,
        "block_end": end,
        "window_minutes": window,
        "min_gap_minutes": gap,
    }


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)
