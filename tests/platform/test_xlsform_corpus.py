"""Real XLSForms written by others (tests/platform/data/xlsforms, see its README).

Each form pyxform reads is either accepted -- its items, choices, skip logic and
languages equal to what pyxform reads, every column dyadlab does not use named in a
warning -- or refused with its sheet and row. The share accepted is measured.
"""

from __future__ import annotations

import re
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from dyadlab.exceptions import DyadlabWarning, ProtocolError
from dyadlab.platform._xlsform import _USED_BIND, _USED_KEYS, _safe
from dyadlab.platform.protocol import Protocol, load_protocol

CORPUS = Path(__file__).parent / "data" / "xlsforms"
FORMS = sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (".xls", ".xlsx"))
#: The share of the forms pyxform reads that dyadlab accepts (issue 22 asks for 70%;
#: measured 49 of 69).
MIN_ACCEPTED = 0.70
_SKIPPED_TYPES = {"start", "end", "today", "deviceid", "phonenumber", "username", "email"}
_SKIPPED_TYPES |= {"subscriberid", "simserial", "audit", "hidden", "calculate"}


@cache
def _pyxform(path: Path) -> dict[str, Any] | None:
    """pyxform's JSON of the form, or None if pyxform refuses it (without ODK Validate)."""
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = get_xlsform(path)
            form = workbook_to_json(data, fallback_form_name=data.fallback_form_name, warnings=[])
            create_survey_element_from_dict(form).to_xml(validate=False)
            return workbook_to_json(
                get_xlsform(path), fallback_form_name=data.fallback_form_name, warnings=[]
            )
    except Exception:
        return None


READ = [p for p in FORMS if _pyxform(p) is not None]


@cache
def _dyadlab(path: Path) -> tuple[Protocol | None, str, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            protocol: Protocol | None = load_protocol(path)
            refusal = ""
        except ProtocolError as exc:
            protocol, refusal = None, str(exc)
    messages = [str(w.message) for w in caught if issubclass(w.category, DyadlabWarning)]
    return protocol, refusal, messages


def _questions(elements: list[Any], out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for element in elements:
        kind = element.get("type")
        if kind in ("group", "repeat"):
            if not (element.get("control") or {}).get("bodyless"):
                _questions(element.get("children") or [], out)
        elif kind not in _SKIPPED_TYPES or (element.get("bind") or {}).get("calculate"):
            out.append(element)
    return out


def _texts(value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, dict):
        return {str(v) for v in value.values() if v is not None and str(v).strip()}
    return {str(value)}


def test_the_corpus_is_there() -> None:
    assert len(FORMS) >= 60 and len(READ) >= 50, (len(FORMS), len(READ))


@pytest.mark.parametrize("path", READ, ids=[p.name for p in READ])
def test_form_is_read_as_pyxform_reads_it_or_refused_by_row(path: Path) -> None:
    protocol, refusal, messages = _dyadlab(path)
    if protocol is None:
        assert re.search(r"(survey|choices|settings) sheet, row \d+|\[row : \d+\]", refusal), (
            refusal
        )
        return
    form = _pyxform(path)
    assert form is not None
    expected = _questions(form["children"], [])
    items = [i for q in protocol.questionnaires for i in q.items]
    asked = [i for i in items if not re.fullmatch(rf"{i.repeat}_more_\d+", i.name or "")]
    names = {re.sub(rf"_{i.repeat_index}$", "", i.name) if i.repeat else i.name for i in asked}
    assert names == {_safe(str(e["name"])) for e in expected}
    by_name: dict[str, Any] = {}
    for item in asked:
        by_name.setdefault(re.sub(rf"_{item.repeat_index}$", "", item.name), item)
    for element in expected:
        item = by_name[_safe(str(element["name"]))]
        if element.get("label") is not None:
            assert set(item.label.values()) <= _texts(element["label"]) | {item.name}
        relevant = (element.get("bind") or {}).get("relevant")
        if relevant and not item.repeat:
            own = re.sub(r"\.\./([A-Za-z_]\w*)", r"${\1}", relevant.strip())
            assert item.relevant is not None and own in item.relevant.replace(".", ".")
        if element.get("choices") and item.choices:
            values = [str(c.value) for c in protocol.choices[item.choices]]
            assert values == [str(c["name"]) for c in element["choices"]]
    unused = {
        str(key)
        for e in _questions(form["children"], [])
        for key in e
        if key not in _USED_KEYS and not str(key).startswith("__")
    }
    unused |= {
        f"bind:{key}"
        for e in _questions(form["children"], [])
        for key in e.get("bind") or {}
        if key not in _USED_BIND
    }
    text = " ".join(messages)
    for key in unused:  # nothing is lost silently
        assert repr(key) in text, (key, messages)


def test_share_of_real_forms_accepted() -> None:
    accepted = [p.name for p in READ if _dyadlab(p)[0] is not None]
    share = len(accepted) / len(READ)
    print(f"accepted {len(accepted)} of {len(READ)} forms pyxform reads ({share:.0%})")
    assert share >= MIN_ACCEPTED, f"{len(accepted)} of {len(READ)} ({share:.0%})"
