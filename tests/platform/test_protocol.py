"""Protocols from YAML and dicts: loading, every ProtocolError message, answers, codebook."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dyadlab.exceptions import ProtocolError
from dyadlab.platform.protocol import (
    ANSWER_ERROR_CODES,
    AnswerError,
    Protocol,
    example_protocol,
    load_protocol,
    parse_protocol,
    write_xlsform,
)

SHARED_EXAMPLE = Path(__file__).parents[3] / "shared" / "examples" / "daily_diary.yaml"


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return example_protocol()


def _content() -> dict[str, Any]:
    return copy.deepcopy(example_protocol().to_dict())


def _error(change: Callable[[dict[str, Any]], None]) -> str:
    content = _content()
    change(content)
    with pytest.raises(ProtocolError) as info:
        parse_protocol(content)
    return str(info.value)


# --------------------------------------------------------------------------- loading
def test_example_loads_as_it_is(protocol: Protocol) -> None:
    assert protocol.title == "Daily intimacy in couples"
    assert protocol.languages == ["en", "nl"]
    assert protocol.default_language == "nl"
    assert protocol.roles == ["partner_a", "partner_b"]
    assert protocol.consent_version == 1
    assert set(protocol.consent_text) == {"en", "nl"}
    evening = protocol.questionnaire("evening")
    assert [i.name for i in evening.items] == [
        "desire",
        "partner_desire",
        "relationship_satisfaction",
        "conflict",
        "conflict_intensity",
        "had_sex",
    ]
    assert evening.item("partner_desire").about == "partner"
    assert evening.item("desire").about == "self"
    assert evening.item("desire").min == 0 and evening.item("desire").max == 100
    daily, event = protocol.schedule
    assert (daily.type, daily.time, daily.window_minutes, daily.days) == ("daily", "20:00", 240, 28)
    assert daily.reminders_after_minutes == [60, 180]
    assert (event.type, event.max_per_day) == ("event", 3)
    assert [c.value for c in protocol.choices["agree7"]] == list(range(1, 8))


def test_packaged_example_equals_shared_example(tmp_path: Path) -> None:
    if not SHARED_EXAMPLE.exists():
        pytest.skip("../shared/examples is not available")
    copied = tmp_path / "diary.yml"
    shutil.copy(SHARED_EXAMPLE, copied)
    # the packaged example adds a preregistered analysis plan (issue 23); the rest is equal
    packaged = example_protocol()
    assert packaged.analysis
    assert load_protocol(copied) == packaged.model_copy(update={"analysis": []})


def test_to_dict_round_trips_and_hash_is_stable(protocol: Protocol) -> None:
    content = protocol.to_dict()
    json.dumps(content)  # JSON-ready
    again = parse_protocol(content)
    assert again == protocol
    assert again.content_hash == protocol.content_hash
    assert len(protocol.content_hash) == 64
    changed = _content()
    changed["study"] = "Another title"
    assert parse_protocol(changed).content_hash != protocol.content_hash


def test_protocol_is_frozen(protocol: Protocol) -> None:
    with pytest.raises(ValueError, match="frozen"):
        protocol.title = "x"  # type: ignore[misc]


def test_single_language_labels_may_be_plain_text() -> None:
    p = parse_protocol(
        {
            "study": "s",
            "questionnaires": [
                {"name": "q", "items": [{"name": "a", "type": "text", "label": "A"}]}
            ],
        }
    )
    assert p.languages == ["en"] and p.questionnaire("q").item("a").label == {"en": "A"}
    assert p.schedule == [] and p.roles is None


def test_defaults_are_filled_and_shown() -> None:
    content = _content()
    content["schedule"] = [
        {"questionnaire": "evening", "type": "daily", "time": "9:30"},
        {
            "questionnaire": "after_sex",
            "type": "random",
            "prompts_per_day": 4,
            "block_start": "09:00",
            "block_end": "21:00",
        },
    ]
    p = parse_protocol(content)
    daily, random = p.schedule
    assert daily.time == "09:30" and daily.window_minutes == 120
    assert random.window_minutes == 30 and random.min_gap_minutes == 30
    assert p.to_dict()["schedule"][0]["window_minutes"] == 120


# --------------------------------------------------------------------------- errors
def _item(content: dict[str, Any], q: int, i: int) -> dict[str, Any]:
    item: dict[str, Any] = content["questionnaires"][q]["items"][i]
    return item


ERROR_CASES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    (
        "unknown item type",
        lambda c: _item(c, 0, 0).update(type="sldier"),
        ["questionnaires[0].items[0].type", "unknown item type 'sldier'", "did you mean 'slider'"],
    ),
    (
        "unknown choice list",
        lambda c: _item(c, 0, 2).update(choices="agree5"),
        ["questionnaires[0].items[2].choices", "unknown choice list 'agree5'", "agree7"],
    ),
    (
        "duplicate item names",
        lambda c: _item(c, 1, 3).update(name="desire"),
        ["questionnaires[1].items[3].name", "duplicate item name 'desire'", "items[0]"],
    ),
    (
        "relevant refers to unknown item",
        lambda c: _item(c, 0, 4).update(relevant="${conflikt} = 'yes'"),
        ["questionnaires[0].items[4].relevant", "unknown item 'conflikt'", "'conflict'"],
    ),
    (
        "relevant refers to a later item",
        lambda c: _item(c, 0, 0).update(relevant="${had_sex} = 'yes'"),
        ["questionnaires[0].items[0].relevant", "not before this item"],
    ),
    (
        "relevant uses its own answer",
        lambda c: _item(c, 0, 4).update(relevant=". > 2"),
        ["questionnaires[0].items[4].relevant", "'.'"],
    ),
    (
        "bad expression",
        lambda c: _item(c, 0, 4).update(relevant="${conflict} = = 'yes'"),
        ["questionnaires[0].items[4].relevant", "position 15", "unexpected '='"],
    ),
    (
        "unknown function",
        lambda c: _item(c, 0, 4).update(constraint="count_selected(.) < 2"),
        ["questionnaires[0].items[4].constraint", "did you mean count-selected()"],
    ),
    (
        "schedule names unknown questionnaire",
        lambda c: c["schedule"][0].update(questionnaire="evning"),
        ["schedule[0].questionnaire", "unknown questionnaire 'evning'", "did you mean 'evening'"],
    ),
    (
        "missing label in declared language",
        lambda c: _item(c, 0, 3)["label"].pop("nl"),
        ["questionnaires[0].items[3].label", "missing label in declared language 'nl'"],
    ),
    (
        "label in an undeclared language",
        lambda c: _item(c, 0, 3)["label"].update(de="Streit?"),
        ["questionnaires[0].items[3].label.de", "'de' is not among the protocol's languages"],
    ),
    (
        "missing choice label",
        lambda c: c["choices"]["agree7"][2]["label"].pop("en"),
        ["choices.agree7[2].label", "missing label in declared language 'en'"],
    ),
    (
        "min >= max",
        lambda c: _item(c, 0, 0).update(min=100, max=10),
        ["questionnaires[0].items[0].min", "min (100) must be smaller than max (10)"],
    ),
    (
        "min on a text item",
        lambda c: _item(c, 1, 3).update(min=1),
        ["questionnaires[1].items[3].min", "not to 'text'"],
    ),
    (
        "unknown key",
        lambda c: _item(c, 0, 0).update(requird=True),
        ["questionnaires[0].items[0].requird", "unknown key 'requird'", "'required'"],
    ),
    (
        "unknown top-level key",
        lambda c: c.update(languags=["en"]),
        ["languags", "did you mean 'languages'"],
    ),
    (
        "default language not declared",
        lambda c: c.update(default_language="de"),
        ["default_language", "'de' is not in languages (en, nl)"],
    ),
    (
        "unquoted time",
        lambda c: c["schedule"][0].update(time=1200),
        ["schedule[0].time", 'in quotes as "HH:MM"'],
    ),
    (
        "impossible time",
        lambda c: c["schedule"][0].update(time="25:00"),
        ["schedule[0].time", "HH:MM"],
    ),
    (
        "reminder after the window",
        lambda c: c["schedule"][0].update(reminders_after_minutes=[60, 300]),
        ["schedule[0].reminders_after_minutes", "window closes (240 minutes)"],
    ),
    (
        "reminders not increasing",
        lambda c: c["schedule"][0].update(reminders_after_minutes=[90, 60]),
        ["schedule[0].reminders_after_minutes", "must increase"],
    ),
    (
        "field of another schedule type",
        lambda c: c["schedule"][1].update(time="20:00"),
        ["schedule[1].time", "applies to daily entries, not 'event'"],
    ),
    (
        "unknown schedule type",
        lambda c: c["schedule"][0].update(type="dayly"),
        ["schedule[0].type", "did you mean 'daily'"],
    ),
    (
        "questionnaire scheduled twice",
        lambda c: c["schedule"].append(dict(c["schedule"][0])),
        ["schedule[2].questionnaire", "already scheduled in schedule[0]"],
    ),
    (
        "random blocks shorter than the gap",
        lambda c: c["schedule"].__setitem__(
            1,
            {
                "questionnaire": "after_sex",
                "type": "random",
                "prompts_per_day": 6,
                "block_start": "09:00",
                "block_end": "12:00",
                "min_gap_minutes": 45,
            },
        ),
        ["schedule[1].min_gap_minutes", "blocks of 30 minutes, shorter than the minimum gap"],
    ),
    (
        "random window longer than the gap",
        lambda c: c["schedule"].__setitem__(
            1,
            {
                "questionnaire": "after_sex",
                "type": "random",
                "prompts_per_day": 3,
                "block_start": "09:00",
                "block_end": "21:00",
                "window_minutes": 60,
                "min_gap_minutes": 30,
            },
        ),
        ["schedule[1].window_minutes", "would overlap"],
    ),
    (
        "trigger names unknown questionnaire",
        lambda c: c["schedule"][1].update(triggers_partner="after_sexx"),
        ["schedule[1].triggers_partner", "did you mean 'after_sex'"],
    ),
    (
        "likert with codes",
        lambda c: (
            c["choices"].update(codes=[{"value": "a", "label": {"en": "A", "nl": "A"}}])
            or _item(c, 0, 2).update(choices="codes")
        ),
        ["questionnaires[0].items[2].choices", "numeric choice values"],
    ),
    (
        "duplicate choice value",
        lambda c: c["choices"]["agree7"][1].update(value=1),
        ["choices.agree7[1].value", "duplicate choice value 1"],
    ),
    (
        "choices on a slider",
        lambda c: _item(c, 0, 0).update(choices="agree7"),
        ["questionnaires[0].items[0].choices", "not 'slider'"],
    ),
    (
        "likert without choices",
        lambda c: _item(c, 0, 2).pop("choices"),
        ["questionnaires[0].items[2].choices", "needs choices"],
    ),
    (
        "bad item name",
        lambda c: _item(c, 0, 0).update(name="my desire"),
        ["questionnaires[0].items[0].name", "letters, digits and _"],
    ),
    (
        "duplicate questionnaire",
        lambda c: c["questionnaires"][1].update(name="evening"),
        ["questionnaires[1].name", "duplicate questionnaire name 'evening'"],
    ),
    (
        "dyad of three",
        lambda c: c["dyad"].update(size=3),
        ["dyad.size", "must be 2"],
    ),
    (
        "one role",
        lambda c: c["dyad"].update(roles=["a"]),
        ["dyad.roles", "two different roles"],
    ),
    (
        "no questionnaires",
        lambda c: c.update(questionnaires=[]),
        ["questionnaires", "at least one questionnaire"],
    ),
    (
        "missing title",
        lambda c: c.pop("study"),
        ["study: is missing"],
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [(c, e) for _, c, e in ERROR_CASES], ids=[n for n, _, _ in ERROR_CASES]
)
def test_protocol_error_names_place_and_problem(
    change: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    message = _error(change)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_several_problems_are_counted() -> None:
    def change(c: dict[str, Any]) -> None:
        _item(c, 0, 0)["type"] = "sldier"
        _item(c, 0, 2)["choices"] = "agree5"

    message = _error(change)
    assert message.startswith("questionnaires[0].items[0].type")
    assert message.endswith("(1 more problem after this one)")


def test_load_protocol_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError, match="does not exist"):
        load_protocol(tmp_path / "nope.yaml")
    other = tmp_path / "protocol.json"
    other.write_text("{}")
    with pytest.raises(ProtocolError, match=r"suffix '\.json'.*\.xlsx"):
        load_protocol(other)
    broken = tmp_path / "broken.yaml"
    broken.write_text("study: x\nlanguages: [en\n")
    with pytest.raises(ProtocolError, match=r"broken\.yaml, line \d+, column \d+: not valid YAML"):
        load_protocol(broken)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just text\n")
    with pytest.raises(ProtocolError, match="must be a YAML mapping"):
        load_protocol(scalar)


# --------------------------------------------------------------------------- answers
GOOD = {"desire": 40, "partner_desire": "55.5", "conflict": "no"}


def test_validate_answers_types_values(protocol: Protocol) -> None:
    answers = {
        **GOOD,
        "conflict": True,
        "conflict_intensity": "4",
        "relationship_satisfaction": 6.0,
        "had_sex": "YES",
    }
    cleaned = protocol.validate_answers("evening", answers)
    assert cleaned == {
        "desire": 40.0,
        "partner_desire": 55.5,
        "relationship_satisfaction": 6,
        "conflict": "yes",
        "conflict_intensity": 4,
        "had_sex": "yes",
    }
    assert isinstance(cleaned["relationship_satisfaction"], int)
    assert list(cleaned) == [n for n in cleaned]  # item order


def test_non_relevant_items_left_out_but_answers_to_them_refused(protocol: Protocol) -> None:
    cleaned = protocol.validate_answers("evening", {**GOOD, "conflict_intensity": None})
    assert "conflict_intensity" not in cleaned
    with pytest.raises(AnswerError) as info:
        protocol.validate_answers("evening", {**GOOD, "conflict_intensity": 3})
    assert info.value.errors == [
        {
            "item": "conflict_intensity",
            "message": "this item is not asked here because its condition "
            "\"${conflict} = 'yes'\" is false; remove the answer",
            "code": "not_relevant",
        }
    ]
    assert "'conflict_intensity'" in str(info.value)


@pytest.mark.parametrize(
    ("answers", "item", "fragment"),
    [
        ({**GOOD, "desire": 101}, "desire", "between 0 and 100, got 101"),
        ({**GOOD, "desire": "lots"}, "desire", "must be a number"),
        ({**GOOD, "desire": True}, "desire", "must be a number"),
        ({"partner_desire": 3, "conflict": "no"}, "desire", "an answer is required"),
        ({**GOOD, "desire": ""}, "desire", "an answer is required"),
        ({**GOOD, "relationship_satisfaction": 8}, "relationship_satisfaction", "not one of"),
        ({**GOOD, "relationship_satisfaction": 2.5}, "relationship_satisfaction", "not one of"),
        ({**GOOD, "conflict": "maybe"}, "conflict", "must be 'yes' or 'no'"),
        ({**GOOD, "desirre": 3}, "desirre", "did you mean 'desire'"),
    ],
)
def test_validate_answers_errors(
    protocol: Protocol, answers: dict[str, Any], item: str, fragment: str
) -> None:
    with pytest.raises(AnswerError) as info:
        protocol.validate_answers("evening", answers)
    first = info.value.errors[0]
    assert first["item"] == item
    assert fragment in first["message"]
    assert f"answer to {item!r}" in str(info.value)


@pytest.mark.parametrize(
    ("answers", "item", "code", "params"),
    [
        ({**GOOD, "desire": 101}, "desire", "between", {"min": 0, "max": 100}),
        ({**GOOD, "desire": "lots"}, "desire", "not_a_number", None),
        ({**GOOD, "desire": "1,000"}, "desire", "ambiguous_number", None),
        ({**GOOD, "desire": ""}, "desire", "required", None),
        (
            {**GOOD, "relationship_satisfaction": 8},
            "relationship_satisfaction",
            "not_a_choice",
            None,
        ),
        (
            {**GOOD, "relationship_satisfaction": 2.5},
            "relationship_satisfaction",
            "not_a_choice",
            None,
        ),
        ({**GOOD, "conflict": "maybe"}, "conflict", "not_a_choice", None),
        ({**GOOD, "conflict_intensity": 2}, "conflict_intensity", "not_relevant", None),
        ({**GOOD, "desirre": 3}, "desirre", "unknown_item", None),
    ],
)
def test_validate_answers_error_codes(
    protocol: Protocol, answers: dict[str, Any], item: str, code: str, params: Any
) -> None:
    """Every problem has a code (and its values) for the pages to say it in any language."""
    with pytest.raises(AnswerError) as info:
        protocol.validate_answers("evening", answers)
    first = info.value.errors[0]
    assert (first["item"], first["code"], first.get("params")) == (item, code, params)
    assert first["code"] in ANSWER_ERROR_CODES
    assert set(first.get("params") or {}) == set(ANSWER_ERROR_CODES[code])


def test_validate_answers_error_codes_other_types() -> None:
    p = _typed_protocol()
    cases = {
        "n": ("2.5", "not_whole", None),
        "mood": ("sad", "not_a_choice", None),
        "moods": ("calm calm", "duplicate_choice", None),
        "why": ("x" * 5001, "too_long", {"length": 5001, "max": 5000}),
        "day": ("29-03-2026", "not_a_date", None),
        "bed": ("late", "not_a_time", None),
    }
    for name, (raw, code, params) in cases.items():
        answers = {"moods": ["tense"], name: raw} if name == "why" else {name: raw}
        with pytest.raises(AnswerError) as info:
            p.validate_answers("q", answers)
        first = info.value.errors[0]
        assert (first["item"], first["code"], first.get("params")) == (name, code, params)
    with pytest.raises(AnswerError) as info:
        p.validate_answers("q", ["not", "a", "mapping"])  # type: ignore[arg-type]
    assert info.value.errors[0]["code"] == "wrong_type"


def test_constraint_message_in_the_persons_language() -> None:
    content = _typed_protocol().to_dict()
    content["languages"] = ["en", "nl"]
    hours = content["questionnaires"][0]["items"][-1]
    hours["constraint_message"] = {"en": "Too many hours.", "nl": "Te veel uren."}
    for item in content["questionnaires"][0]["items"]:
        item["label"] = {"en": item["label"]["en"], "nl": item["label"]["en"]}
    for option in content["choices"]["moods"]:
        option["label"] = {"en": option["label"]["en"], "nl": option["label"]["en"]}
    p = parse_protocol(content)
    for language, text in (("nl", "Te veel uren."), ("en", "Too many hours.")):
        with pytest.raises(AnswerError) as info:
            p.validate_answers("q", {"n": 5, "hours": 23}, language=language)
        problem = info.value.errors[0]
        assert problem == {
            "item": "hours",
            "message": text,
            "code": "constraint",
            "params": {"message": text},
        }
    # no message of the protocol's own: the condition, in English, without params
    del hours["constraint_message"]
    with pytest.raises(AnswerError) as info:
        parse_protocol(content).validate_answers("q", {"n": 5, "hours": 23}, language="nl")
    problem = info.value.errors[0]
    assert problem["code"] == "constraint" and "params" not in problem
    assert "does not meet the condition" in problem["message"]


def test_required_only_when_relevant() -> None:
    content = _content()
    _item(content, 0, 4)["required"] = True
    p = parse_protocol(content)
    assert "conflict_intensity" not in p.validate_answers("evening", GOOD)
    with pytest.raises(AnswerError, match=r"'conflict_intensity'.*required"):
        p.validate_answers("evening", {**GOOD, "conflict": "yes"})


def _typed_protocol() -> Protocol:
    return parse_protocol(
        {
            "study": "types",
            "languages": ["en"],
            "choices": {
                "moods": [
                    {"value": "calm", "label": "Calm"},
                    {"value": "tense", "label": "Tense"},
                    {"value": "happy", "label": "Happy"},
                ]
            },
            "questionnaires": [
                {
                    "name": "q",
                    "items": [
                        {"name": "n", "type": "integer", "label": "N", "min": 0, "max": 10},
                        {"name": "x", "type": "decimal", "label": "X"},
                        {"name": "mood", "type": "single", "choices": "moods", "label": "M"},
                        {"name": "moods", "type": "multiple", "choices": "moods", "label": "Ms"},
                        {
                            "name": "why",
                            "type": "text",
                            "label": "Why?",
                            "relevant": (
                                "selected(${moods}, 'tense') and count-selected(${moods}) < 3"
                            ),
                        },
                        {"name": "day", "type": "date", "label": "D"},
                        {"name": "bed", "type": "time", "label": "T"},
                        {
                            "name": "hours",
                            "type": "decimal",
                            "label": "H",
                            "constraint": ". >= 0 and . <= 24 - ${n}",
                            "constraint_message": {"en": "Too many hours."},
                        },
                    ],
                }
            ],
        }
    )


def test_validate_answers_other_types() -> None:
    p = _typed_protocol()
    cleaned = p.validate_answers(
        "q",
        {
            "n": "3",
            "x": "2,5",
            "mood": "calm",
            "moods": "happy tense",
            "why": "work",
            "day": "2026-03-29",
            "bed": "23:15:00",
            "hours": 20,
        },
    )
    assert cleaned == {
        "n": 3,
        "x": 2.5,
        "mood": "calm",
        "moods": ["tense", "happy"],
        "why": "work",
        "day": "2026-03-29",
        "bed": "23:15",
        "hours": 20.0,
    }


@pytest.mark.parametrize(
    ("answers", "item", "fragment"),
    [
        ({"n": 2.5}, "n", "whole number"),
        ({"n": 11}, "n", "between 0 and 10"),
        ({"mood": "sad"}, "mood", "'sad' is not one of the choices of 'moods'"),
        ({"moods": ["calm", "calm"]}, "moods", "twice"),
        ({"moods": 3}, "moods", "list of choices"),
        ({"moods": ["calm"], "why": "x"}, "why", "not asked here"),
        ({"day": "29-03-2026"}, "day", "YYYY-MM-DD"),
        ({"bed": "late"}, "bed", "HH:MM"),
        ({"n": 5, "hours": 20}, "hours", "Too many hours."),
        ({"x": "nan"}, "x", "must be a number"),
        ({"x": "1,000"}, "x", "ambiguous"),
        ({"n": "2,000"}, "n", "ambiguous"),
        ({"x": "2,5,1"}, "x", "must be a number"),
        ({"x": "1_000"}, "x", "must be a number"),
        ({"x": float("inf")}, "x", "finite"),
        ({"why": 5, "moods": ["tense"]}, "why", "must be text"),
    ],
)
def test_validate_answers_other_type_errors(
    answers: dict[str, Any], item: str, fragment: str
) -> None:
    with pytest.raises(AnswerError) as info:
        _typed_protocol().validate_answers("q", answers)
    assert info.value.errors[0]["item"] == item
    assert fragment in info.value.errors[0]["message"]


def test_constraint_default_message_and_unknown_questionnaire(protocol: Protocol) -> None:
    content = _content()
    _item(content, 0, 0)["constraint"] = ". != 50"
    p = parse_protocol(content)
    with pytest.raises(AnswerError, match=r"50\.0 does not meet the condition '\. != 50'"):
        p.validate_answers("evening", {**GOOD, "desire": 50})
    with pytest.raises(ProtocolError, match="Did you mean 'after_sex'"):
        protocol.validate_answers("after_sexx", {})
    with pytest.raises(AnswerError, match="must be an object"):
        protocol.validate_answers("evening", ["desire"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- codebook
def test_codebook(protocol: Protocol) -> None:
    rows = protocol.codebook()
    assert [r["item"] for r in rows][:2] == ["desire", "partner_desire"]
    assert len(rows) == 10
    sat = rows[2]
    assert sat["choices"].startswith("1=Strongly disagree; 2=Disagree;")
    assert sat["choices"].endswith("7=Strongly agree")
    assert rows[3]["choices"] == "yes=Yes; no=No"
    assert rows[1]["about"] == "partner"
    assert rows[4]["relevant"] == "${conflict} = 'yes'"
    assert set(rows[0]) >= {
        "questionnaire",
        "item",
        "type",
        "label_en",
        "label_nl",
        "choices",
        "min",
        "max",
        "required",
        "relevant",
        "about",
    }
    assert protocol.choice_labels(protocol.questionnaire("evening").item("conflict"), "nl") == [
        ("yes", "Ja"),
        ("no", "Nee"),
    ]


def test_constraint_message_per_language_from_an_xlsform(tmp_path) -> None:
    """``constraint_message::nl`` / ``::en`` columns give the message in each language."""
    content = example_protocol().to_dict()
    item = content["questionnaires"][0]["items"][0]
    item["constraint"] = ". != 13"
    item["constraint_message"] = {"en": "Not 13.", "nl": "Niet 13."}
    path = tmp_path / "diary.xlsx"
    write_xlsform(parse_protocol(content), path)
    loaded = load_protocol(path)
    answers = {"desire": 13, "partner_desire": 5}
    for language, text in (("nl", "Niet 13."), ("en", "Not 13.")):
        with pytest.raises(AnswerError) as info:
            loaded.validate_answers("evening", answers, language=language)
        assert info.value.errors[0]["params"] == {"message": text}
