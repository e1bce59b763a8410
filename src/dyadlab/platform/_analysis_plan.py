"""Check a protocol's ``analysis`` section: the preregistered analysis plan.

The plan is a list of models with their arguments as the Python functions take them
(:func:`dyadlab.nonindependence`, :func:`dyadlab.apim`, :func:`dyadlab.diary`,
:func:`dyadlab.truth_bias`), naming the protocol's items instead of data columns::

    analysis:
      - model: diary
        y: relationship_satisfaction
        x: [desire, conflict]
        center: person
      - model: truth_bias
        judgment: partner_desire
        truth: desire
      - model: nonindependence
        variables: [desire, relationship_satisfaction]

The key columns (``dyad``, ``person``, ``role``, ``time``) come from the export and are
not written. ``var`` is accepted for ``variables`` (the command line's name); ``name``
(an identifier, the result's key) and ``title`` (free text) are optional.

The checks, each a message naming the entry and the argument: the model is known; the
required arguments are there and no unknown one is; an item exists (with the closest name
as a hint); an item is a number (slider, Likert, integer, decimal, yes/no, or a single
choice with numeric values); a model's items are answered at the same occasions (one
questionnaire, scheduled daily or at random — event reports have no fixed occasions —
and on more than one day for the diary model); the diary's ``family`` fits its outcome
(yes/no for binomial, a count for poisson); a truth-and-bias judgment is an item marked
``about: partner`` and its truth one about oneself.

Examples
--------
>>> from dyadlab.platform.protocol import example_protocol, parse_protocol
>>> raw = example_protocol().to_dict()
>>> raw["analysis"] = [{"model": "diary", "y": "relationship_satisfacton", "x": "desire"}]
>>> parse_protocol(raw)
Traceback (most recent call last):
...
dyadlab.exceptions.ProtocolError: analysis[0].y: there is no item 'relationship_satisfacton'; \
did you mean 'relationship_satisfaction'?
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["PLAN_MODELS", "REQUIRED_ARGUMENTS", "check_analysis"]

#: Argument kinds: "item", "items" (one or a list), "bool", "level" (0 < x < 1), or a
#: tuple of the allowed texts.
PLAN_MODELS: dict[str, dict[str, Any]] = {
    "nonindependence": {"variables": "items", "covariates": "items", "level": "level"},
    "apim": {
        "y": "item",
        "x": "items",
        "covariates": "items",
        "moderator": "item",
        "method": ("sem", "mlm"),
        "level": "level",
    },
    "diary": {
        "y": "item",
        "x": "items",
        "center": ("none", "person"),
        "residual": ("cs", "ar1", "kronecker"),
        "family": ("gaussian", "binomial", "poisson", "negative_binomial"),
        "covariates": "items",
        "random_slopes": "bool",
        "estimator": ("REML", "ML"),
        "level": "level",
    },
    "truth_bias": {
        "judgment": "item",
        "truth": "item",
        "similarity": "bool",
        "moderators": "items",
        "estimator": ("REML", "ML"),
        "level": "level",
    },
}
#: The arguments each model needs.
REQUIRED_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "nonindependence": ("variables",),
    "apim": ("y", "x"),
    "diary": ("y", "x"),
    "truth_bias": ("judgment", "truth"),
}
_ALIASES = {"var": "variables"}
_COMMON = ("model", "name", "title")
_NUMERIC = ("slider", "likert", "integer", "decimal", "yes_no")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _item_kind(item: Mapping[str, Any], choices: Mapping[str, Any]) -> str | None:
    """Why ``item`` is not a number, or None if it is."""
    kind = item.get("type")
    if kind in _NUMERIC:
        return None
    if kind == "single":
        values = [c.get("value") for c in choices.get(item.get("choices") or "", [])]
        if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return None
        return "a single choice with text values"
    return {"multiple": "a multiple choice"}.get(str(kind), f"a {kind} item")


def check_analysis(
    raw: Any,
    p: Any,
    questionnaires: Sequence[Mapping[str, Any]],
    schedule: Sequence[Mapping[str, Any]],
    choices: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Check the ``analysis`` section; record problems in ``p`` and return the entries.

    Each returned entry is ``{"model": …, <argument>: …}`` with ``var`` written
    ``variables`` and an item list always a list.
    """
    from dyadlab.platform._protocol_checks import _list, _r, _suggest, _suggest_listing

    if raw is None:
        return []
    entries = _list(raw, ("analysis",), p, "models with their arguments")
    items: dict[str, tuple[str, Mapping[str, Any]]] = {
        item["name"]: (q["name"], item) for q in questionnaires for item in q["items"]
    }
    kinds = {e.get("questionnaire"): e.get("type") for e in schedule}
    days = {e.get("questionnaire"): e.get("days") for e in schedule}
    result: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, raw_entry in enumerate(entries):
        path: tuple[str | int, ...] = ("analysis", i)
        if not isinstance(raw_entry, Mapping):
            p.add(path, f"must be a mapping (model and arguments), got {type(raw_entry).__name__}")
            continue
        model = raw_entry.get("model")
        if model not in PLAN_MODELS:
            p.add(
                (*path, "model"),
                f"unknown model {_r(model)}"
                + _suggest_listing(str(model), list(PLAN_MODELS), "Allowed"),
            )
            continue
        spec = PLAN_MODELS[model]
        before = len(p.found)
        entry: dict[str, Any] = {"model": model}
        used: list[tuple[str, str]] = []  # (argument, item name)
        seen: set[str] = set()
        for key, value in raw_entry.items():
            arg = _ALIASES.get(str(key), str(key))
            where = (*path, arg)
            if arg == "model":
                continue
            if arg in seen:
                p.add(where, f"{arg} is given twice (as var and as variables); keep one")
                continue
            seen.add(arg)
            if arg == "name":
                if not isinstance(value, str) or not _NAME.match(value):
                    p.add(where, f"name {_r(value)} must use letters, digits and _ only")
                elif value in names:
                    p.add(where, f"name {_r(value)} is used by another model of the plan")
                else:
                    names.add(value)
                    entry["name"] = value
                continue
            if arg == "title":
                if not isinstance(value, str) or not value.strip():
                    p.add(where, "title must be a text")
                else:
                    entry["title"] = value.strip()
                continue
            if arg not in spec:
                allowed = [*spec, *_COMMON[1:]]
                p.add(
                    (*path, str(key)),
                    f"{model} takes no argument {_r(key)}"
                    + _suggest_listing(str(key), allowed, "Allowed"),
                )
                continue
            kind = spec[arg]
            if kind in ("item", "items"):
                values = [value] if isinstance(value, str) else value
                if kind == "item" and not isinstance(value, str):
                    p.add(where, f"must name one item, got {_r(value)}")
                    continue
                if not isinstance(values, list) or not values:
                    p.add(where, f"must name an item or a list of items, got {_r(value)}")
                    continue
                ok = True
                for name in values:
                    if not isinstance(name, str) or name not in items:
                        p.add(
                            where, f"there is no item {_r(name)}" + _suggest(str(name), list(items))
                        )
                        ok = False
                        continue
                    why = _item_kind(items[name][1], choices)
                    if why is not None:
                        p.add(
                            where,
                            f"item {_r(name)} is {why}; a model needs numbers (slider, likert, "
                            "integer, decimal, yes_no, or a single choice with numeric values)",
                        )
                        ok = False
                        continue
                    used.append((arg, name))
                if ok:
                    entry[arg] = value if kind == "item" else list(values)
            elif kind == "bool":
                if not isinstance(value, bool):
                    p.add(where, f"must be true or false, got {_r(value)}")
                else:
                    entry[arg] = value
            elif kind == "level":
                if (
                    not isinstance(value, int | float)
                    or isinstance(value, bool)
                    or not 0 < value < 1
                ):
                    p.add(where, f"must be a number between 0 and 1 (e.g. 0.95), got {_r(value)}")
                else:
                    entry[arg] = float(value)
            elif value not in kind:
                p.add(
                    where,
                    f"{_r(value)} is not allowed" + _suggest_listing(str(value), kind, "Allowed"),
                )
            else:
                entry[arg] = value
        given = {_ALIASES.get(str(k), str(k)) for k in raw_entry}
        for arg in REQUIRED_ARGUMENTS[model]:
            if arg not in given:
                p.add(path, f"{model} needs {_r(arg)}; add it (an item name)")
        if len(p.found) == before:  # the design is checked on an entry without problems
            _check_design(entry, used, items, kinds, days, path, p)
        result.append(entry)
    return result


def _check_design(
    entry: Mapping[str, Any],
    used: list[tuple[str, str]],
    items: Mapping[str, tuple[str, Mapping[str, Any]]],
    kinds: Mapping[Any, Any],
    days: Mapping[Any, Any],
    path: tuple[str | int, ...],
    p: Any,
) -> None:
    """Whether the study's design lets the model be fitted (see the module notes)."""
    from dyadlab.platform._protocol_checks import _r

    model = entry["model"]
    where = {name: items[name][0] for _, name in used}
    sources = sorted(set(where.values()))
    if len(sources) > 1:
        listed = ", ".join(f"{n} ({where[n]})" for n in dict.fromkeys(n for _, n in used))
        p.add(
            path,
            f"{model}: the items come from questionnaires {', '.join(map(repr, sources))} "
            f"({listed}); a model's items must be answered together, in one questionnaire",
        )
        return
    if not sources:
        return
    source = sources[0]
    kind = kinds.get(source)
    if kind not in ("daily", "random"):
        how = "event-contingent" if kind == "event" else "not scheduled"
        p.add(
            path,
            f"{model}: questionnaire {source!r} is {how}, so its answers have no fixed "
            "occasions to analyse; use items of a questionnaire scheduled daily or at random",
        )
        return
    if model == "diary" and kind == "daily" and days.get(source) == 1:
        p.add(
            path,
            f"diary: questionnaire {source!r} is asked on 1 day only; a diary model needs "
            "repeated occasions (more days, or the apim model for one occasion)",
        )
        return
    if model == "diary":
        family = entry.get("family", "gaussian")
        y = items[entry["y"]][1]
        if family == "gaussian" and y.get("type") == "yes_no":
            p.add(
                (*path, "y"),
                f"item {entry['y']!r} is yes/no; add family: binomial to fit it (a "
                "gaussian diary model needs a numeric outcome)",
            )
        elif family == "binomial" and y.get("type") != "yes_no":
            p.add(
                (*path, "family"),
                f"binomial needs a yes/no outcome, but item {entry['y']!r} is "
                f"{y.get('type')}; leave family out for a numeric outcome",
            )
        elif family in ("poisson", "negative_binomial") and y.get("type") != "integer":
            p.add(
                (*path, "family"),
                f"{family} needs a count outcome (an integer item), but item "
                f"{entry['y']!r} is {y.get('type')}",
            )
    if model == "truth_bias":
        judgment = items[entry["judgment"]][1]
        truth = items[entry["truth"]][1]
        if judgment.get("about", "self") != "partner":
            p.add(
                (*path, "judgment"),
                f"item {entry['judgment']!r} is not a judgment of the partner; mark it "
                "about: partner in its questionnaire (truth and bias compares a judgment "
                "of the partner with the partner's own answer)",
            )
        if truth.get("about", "self") == "partner":
            p.add(
                (*path, "truth"),
                f"item {entry['truth']!r} is a judgment of the partner; the truth must be "
                f"what each person reports about themselves (not {_r('about: partner')})",
            )
