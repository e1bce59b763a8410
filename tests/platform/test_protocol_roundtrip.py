"""Generated protocols survive dict, YAML, XLSForm and REDCap round trips."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dyadlab.platform.protocol import (
    Protocol,
    load_protocol,
    parse_protocol,
    to_redcap_dictionary,
    write_xlsform,
)

_label = st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.?éë]{0,20}[A-Za-z?]", fullmatch=True)
# the types REDCap can say too (the XLSForm-only types have their own round trip)
ITEM_TYPES = ("slider", "likert", "single", "multiple", "yes_no", "integer", "decimal", "text")
ITEM_TYPES += ("time", "date")
_name = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@st.composite
def _protocols(draw: st.DrawFn) -> dict[str, Any]:
    languages = draw(st.sampled_from([["en"], ["nl"], ["en", "nl"], ["nl", "en"]]))

    def labels() -> dict[str, str]:
        return {lang: draw(_label) for lang in languages}

    # item names other than the questionnaires' (q0, q1): XLSForm (pyxform) refuses a
    # referenced name that is also a group's, so such a protocol has no XLSForm to
    # round-trip through
    item_name = _name.filter(lambda n: n not in ("q0", "q1"))
    names = draw(st.lists(item_name, min_size=3, max_size=12, unique=True))
    choices: dict[str, list[dict[str, Any]]] = {
        "scale": [{"value": v, "label": labels()} for v in range(1, draw(st.integers(2, 7)) + 1)],
        "codes": [
            {"value": code, "label": labels()}
            for code in draw(st.lists(_name, min_size=1, max_size=4, unique=True))
        ],
    }
    n_questionnaires = draw(st.integers(1, 2))
    questionnaires: list[dict[str, Any]] = [
        {"name": f"q{i}", "items": []} for i in range(n_questionnaires)
    ]
    for i, name in enumerate(names[: len(names) - 0]):
        q = questionnaires[i % n_questionnaires]
        kind = draw(st.sampled_from(ITEM_TYPES))
        item: dict[str, Any] = {"name": name, "type": kind, "label": labels()}
        if draw(st.booleans()):
            item["required"] = True
        if kind in ("slider", "integer", "decimal") and draw(st.booleans()):
            low = draw(st.integers(-50, 50))
            item.update(min=low, max=low + draw(st.integers(1, 100)))
            if draw(st.booleans()):
                item["constraint"] = f". >= {low}"
        if kind == "likert":
            item["choices"] = "scale"
        elif kind in ("single", "multiple"):
            item["choices"] = draw(st.sampled_from(["scale", "codes"]))
        earlier = [x for x in q["items"] if x["type"] == "yes_no"]
        if earlier and draw(st.booleans()):
            item["relevant"] = f"${{{earlier[-1]['name']}}} = 'yes'"
        if draw(st.booleans()):
            item["about"] = "partner"
        q["items"].append(item)
    questionnaires = [q for q in questionnaires if q["items"]]
    window = draw(st.integers(10, 600))
    schedule = [
        {
            "questionnaire": questionnaires[0]["name"],
            "type": "daily",
            "time": f"{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}",
            "window_minutes": window,
            "reminders_after_minutes": sorted(
                draw(st.sets(st.integers(1, window - 1), max_size=3))
            ),
            "days": draw(st.integers(1, 60)),
        }
    ]
    if len(questionnaires) > 1:
        schedule.append(
            {"questionnaire": questionnaires[1]["name"], "type": "event", "max_per_day": 2}
        )
    return {
        "study": draw(_label),
        "languages": languages,
        "default_language": languages[-1],
        "consent": {"version": draw(st.integers(1, 3)), "text": labels()},
        "questionnaires": questionnaires,
        "choices": choices,
        "schedule": schedule,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_protocols())
def test_round_trips(content: dict[str, Any]) -> None:
    protocol = parse_protocol(content)
    assert parse_protocol(protocol.to_dict()) == protocol
    assert parse_protocol(yaml.safe_load(yaml.safe_dump(protocol.to_dict()))) == protocol
    with tempfile.TemporaryDirectory() as folder:
        xlsx = Path(folder) / "p.xlsx"
        write_xlsform(protocol, xlsx)
        again = load_protocol(xlsx)
        assert again == protocol and again.content_hash == protocol.content_hash
        _check_redcap(protocol, Path(folder) / "p.csv")


def _check_redcap(protocol: Protocol, path: Path) -> None:
    language = protocol.default_language
    to_redcap_dictionary(protocol, path, language=language)
    again = load_protocol(path, language=language)
    assert again.languages == [language]

    def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        skip = ("label_", "choices")
        return [{k: v for k, v in r.items() if not k.startswith(skip)} for r in rows]

    assert comparable(again.codebook()) == comparable(protocol.codebook())
    for q in protocol.questionnaires:
        for item in q.items:
            imported = again.questionnaire(q.name).item(item.name)
            assert imported.label == {language: item.label[language]}
            assert again.choice_labels(imported) == protocol.choice_labels(item, language)
