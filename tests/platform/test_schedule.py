"""Schedules: diary days, daylight saving (2026 transitions), random prompts, events,
cross-partner triggers and reminders."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyadlab.exceptions import OptionError
from dyadlab.platform.protocol import Protocol, ScheduleEntry, example_protocol, parse_protocol
from dyadlab.platform.schedule import (
    day_prompts,
    diary_day,
    local_time,
    open_prompts,
    planned_prompts,
    random_minutes,
    reminders_due,
    study_days,
    to_utc,
)

AMS = "Europe/Amsterdam"
NYC = "America/New_York"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _protocol(schedule: list[dict[str, Any]]) -> Protocol:
    content = copy.deepcopy(example_protocol().to_dict())
    content["schedule"] = schedule
    return parse_protocol(content)


def _daily(time: str, window: int = 240, **extra: Any) -> Protocol:
    entry = {"questionnaire": "evening", "type": "daily", "time": time}
    entry.update(window_minutes=window, **extra)
    return _protocol([entry])


ESM = {
    "questionnaire": "evening",
    "type": "random",
    "prompts_per_day": 5,
    "block_start": "09:00",
    "block_end": "21:00",
    "min_gap_minutes": 60,
    "window_minutes": 30,
    "reminders_after_minutes": [10, 20],
    "days": 14,
}


# --------------------------------------------------------------------------- DST
@pytest.mark.parametrize(
    ("tz", "day", "expected_utc"),
    [
        (AMS, date(2026, 3, 28), _utc(2026, 3, 28, 19, 0)),  # CET, +1
        (AMS, date(2026, 3, 29), _utc(2026, 3, 29, 18, 0)),  # CEST from this day, +2
        (AMS, date(2026, 10, 24), _utc(2026, 10, 24, 18, 0)),
        (AMS, date(2026, 10, 25), _utc(2026, 10, 25, 19, 0)),
        (NYC, date(2026, 3, 7), _utc(2026, 3, 8, 1, 0)),  # EST, -5
        (NYC, date(2026, 3, 8), _utc(2026, 3, 9, 0, 0)),  # EDT, -4
        (NYC, date(2026, 10, 31), _utc(2026, 11, 1, 0, 0)),
        (NYC, date(2026, 11, 1), _utc(2026, 11, 2, 1, 0)),
    ],
)
def test_daily_prompt_keeps_local_wall_time_on_dst_days(
    tz: str, day: date, expected_utc: datetime
) -> None:
    start = day - timedelta(days=2)
    (prompt,) = day_prompts(_daily("20:00"), start_date=start, tz=tz, day=3)
    assert prompt.scheduled_local == datetime.combine(day, datetime.min.time()).replace(hour=20)
    assert prompt.scheduled_utc == expected_utc
    assert prompt.window_end_utc == expected_utc + timedelta(minutes=240)
    assert prompt.tz == tz and prompt.diary_day == 3 and prompt.key == "evening:d3:p1"


@pytest.mark.parametrize(
    ("tz", "day", "time", "expected_utc", "expected_local"),
    [
        # spring forward: the skipped local time moves forward by the gap
        (AMS, date(2026, 3, 29), "02:30", _utc(2026, 3, 29, 1, 30), datetime(2026, 3, 29, 3, 30)),
        (NYC, date(2026, 3, 8), "02:30", _utc(2026, 3, 8, 7, 30), datetime(2026, 3, 8, 3, 30)),
        # fall back: an ambiguous local time is its first occurrence
        (
            AMS,
            date(2026, 10, 25),
            "02:30",
            _utc(2026, 10, 25, 0, 30),
            datetime(2026, 10, 25, 2, 30),
        ),
        (NYC, date(2026, 11, 1), "01:30", _utc(2026, 11, 1, 5, 30), datetime(2026, 11, 1, 1, 30)),
    ],
)
def test_dst_rule_for_skipped_and_repeated_times(
    tz: str, day: date, time: str, expected_utc: datetime, expected_local: datetime
) -> None:
    (prompt,) = day_prompts(_daily(time), start_date=day, tz=tz, day=1)
    assert prompt.scheduled_utc == expected_utc
    assert prompt.scheduled_local == expected_local
    hours, minutes = map(int, time.split(":"))
    assert to_utc(
        datetime.combine(day, datetime.min.time()).replace(hour=hours, minute=minutes), tz
    ) == (expected_utc)


def test_window_is_real_time_across_a_clock_change() -> None:
    (prompt,) = day_prompts(_daily("01:00"), start_date=date(2026, 3, 29), tz=AMS, day=1)
    assert prompt.window_end_utc is not None
    assert prompt.window_end_utc - prompt.scheduled_utc == timedelta(hours=4)
    assert local_time(prompt.window_end_utc, AMS) == datetime(2026, 3, 29, 6, 0)


# --------------------------------------------------------------------------- diary days
def test_diary_day_follows_local_date() -> None:
    start = date(2026, 3, 1)
    assert diary_day(start, AMS, _utc(2026, 3, 1, 0, 30)) == 1  # 01:30 local
    assert diary_day(start, AMS, _utc(2026, 2, 28, 22, 59)) == 0
    assert diary_day(start, NYC, _utc(2026, 3, 3, 3, 0)) == 2  # 22:00 on 2 March local
    assert diary_day(start, AMS, _utc(2026, 3, 3, 3, 0)) == 3


def test_study_days_and_planned_prompts() -> None:
    p = example_protocol()
    assert study_days(p) == 28
    plan = planned_prompts(p, start_date=date(2026, 3, 1), tz=AMS)
    assert [x.diary_day for x in plan] == list(range(1, 29))
    assert len({x.key for x in plan}) == 28
    assert day_prompts(p, start_date=date(2026, 3, 1), tz=AMS, day=29) == []
    assert day_prompts(p, start_date=date(2026, 3, 1), tz=AMS, day=0) == []
    open_ended = _daily("20:00")
    assert study_days(open_ended) is None
    with pytest.raises(OptionError, match="pass last_day"):
        planned_prompts(open_ended, start_date=date(2026, 3, 1), tz=AMS)
    assert len(planned_prompts(open_ended, start_date=date(2026, 3, 1), tz=AMS, last_day=3)) == 3


def test_bad_time_zone_and_naive_now() -> None:
    with pytest.raises(OptionError, match="Did you mean 'Europe/Amsterdam'"):
        day_prompts(example_protocol(), start_date=date(2026, 3, 1), tz="Europe/Amsterdm", day=1)
    with pytest.raises(OptionError, match="no time zone"):
        open_prompts(
            example_protocol(), start_date=date(2026, 3, 1), tz=AMS, now=datetime(2026, 3, 2)
        )


# --------------------------------------------------------------------------- open prompts
def _keys(p: Protocol, now: datetime, **kwargs: Any) -> list[str]:
    kwargs.setdefault("start_date", date(2026, 3, 27))
    kwargs.setdefault("tz", AMS)
    return [x.key for x in open_prompts(p, now=now, **kwargs)]


def test_open_prompts_daily_window_and_answered() -> None:
    p = example_protocol()
    assert _keys(p, _utc(2026, 3, 29, 17, 59)) == ["after_sex:d3:e1"]  # 19:59 local
    assert _keys(p, _utc(2026, 3, 29, 18, 0)) == ["evening:d3:p1", "after_sex:d3:e1"]
    assert _keys(p, _utc(2026, 3, 29, 21, 59)) == ["evening:d3:p1", "after_sex:d3:e1"]
    assert _keys(p, _utc(2026, 3, 29, 22, 0)) == ["after_sex:d4:e1"]  # closed at midnight
    assert _keys(p, _utc(2026, 3, 29, 19, 0), answered={"evening:d3:p1"}) == ["after_sex:d3:e1"]
    assert _keys(p, _utc(2026, 3, 26, 19, 0)) == []  # before the start
    assert _keys(p, _utc(2026, 4, 24, 19, 0)) == []  # day 29: the study is over
    prompt = open_prompts(p, start_date=date(2026, 3, 27), tz=AMS, now=_utc(2026, 3, 29, 19, 0))[0]
    assert prompt.window_end_utc == _utc(2026, 3, 29, 22, 0)
    assert prompt.scheduled_local == datetime(2026, 3, 29, 20, 0)


def test_window_past_midnight_stays_on_its_diary_day() -> None:
    p = _daily("22:00", window=240)
    (prompt,) = open_prompts(p, start_date=date(2026, 6, 1), tz=AMS, now=_utc(2026, 6, 2, 23, 30))
    assert prompt.key == "evening:d2:p1" and prompt.diary_day == 2
    assert diary_day(date(2026, 6, 1), AMS, _utc(2026, 6, 2, 23, 30)) == 3


def test_event_cap() -> None:
    p = example_protocol()
    now = _utc(2026, 3, 29, 10, 0)
    assert _keys(p, now, events_today={"after_sex": 2}) == ["after_sex:d3:e3"]
    assert _keys(p, now, events_today={"after_sex": 3}) == []
    (event,) = open_prompts(p, start_date=date(2026, 3, 27), tz=AMS, now=now)
    assert event.kind == "event" and event.window_end_utc is None
    assert event.scheduled_local == datetime(2026, 3, 29, 0, 0)


def _with_partner_check() -> dict[str, Any]:
    """The example protocol's content, whose event report opens ``partner_check`` for
    the partner for 90 minutes."""
    content = copy.deepcopy(example_protocol().to_dict())
    content["questionnaires"].append(
        {
            "name": "partner_check",
            "items": [{"name": "closeness", "type": "slider", "label": {"en": "C", "nl": "C"}}],
        }
    )
    content["schedule"][1].update(triggers_partner="partner_check", trigger_window_minutes=90)
    return content


def test_cross_partner_trigger() -> None:
    p = parse_protocol(_with_partner_check())
    assert p.partner_trigger("after_sex") == "partner_check"
    at = _utc(2026, 3, 29, 10, 0)
    inside = open_prompts(
        p,
        start_date=date(2026, 3, 27),
        tz=AMS,
        now=at + timedelta(minutes=89),
        triggered={"partner_check": at},
    )
    trig = inside[-1]
    assert trig.kind == "trigger" and trig.questionnaire == "partner_check"
    assert trig.window_end_utc == at + timedelta(minutes=90)
    assert trig.key == f"partner_check:d3:t{int(at.timestamp())}"
    later = _keys(p, at + timedelta(minutes=90), triggered={"partner_check": at})
    assert all(not k.startswith("partner_check") for k in later)
    answered = _keys(
        p, at + timedelta(minutes=5), triggered={"partner_check": at}, answered={trig.key}
    )
    assert all(not k.startswith("partner_check") for k in answered)
    plain = _keys(p, at, triggered=["partner_check"])
    assert "partner_check:d3:t" in plain
    # no reminders for triggered prompts (they would reveal the partner's report)
    assert (
        reminders_due(p, start_date=date(2026, 3, 27), tz=AMS, now=at + timedelta(minutes=30)) == []
    )


def test_open_prompts_of_one_questionnaire_are_those_of_all() -> None:
    content = _with_partner_check()
    content["questionnaires"].append(
        {
            "name": "moments",
            "items": [{"name": "mood_now", "type": "slider", "label": {"en": "M", "nl": "M"}}],
        }
    )
    content["schedule"].append({**ESM, "questionnaire": "moments", "window_minutes": 60})
    p = parse_protocol(content)
    names = [q.name for q in p.questionnaires]
    start = date(2026, 3, 27)
    seen = set()
    for hours in range(0, 24 * 4, 1):
        now = _utc(2026, 3, 27, 0, 30) + timedelta(hours=hours)
        state: dict[str, Any] = dict(
            start_date=start,
            tz=AMS,
            now=now,
            seed=7,
            events_today={"after_sex": hours % 4},
            triggered={"partner_check": now - timedelta(minutes=30)},
        )
        every = open_prompts(p, **state)
        for name in names:
            one = open_prompts(p, **state, questionnaire=name)
            assert one == [q for q in every if q.questionnaire == name]
            seen.update(q.kind for q in one)
    assert seen == {"daily", "random", "event", "trigger"}


# --------------------------------------------------------------------------- random prompts
def test_random_prompts_blocks_gap_and_determinism() -> None:
    p = _protocol([ESM])
    a = day_prompts(p, start_date=date(2026, 5, 1), tz=AMS, day=2, seed=11)
    b = day_prompts(p, start_date=date(2026, 5, 1), tz=AMS, day=2, seed=11)
    assert a == b  # the partner with the same couple seed gets the same prompts
    assert [x.prompt_number for x in a] == [1, 2, 3, 4, 5]
    assert [x.key for x in a] == [f"evening:d2:p{n}" for n in range(1, 6)]
    minutes = [x.scheduled_local.hour * 60 + x.scheduled_local.minute for x in a]
    for i, m in enumerate(minutes):  # one prompt in each 144-minute block
        assert 540 + 144 * i <= m < 540 + 144 * (i + 1)
    assert all(y - x >= 60 for x, y in itertools.pairwise(minutes))
    other_day = day_prompts(p, start_date=date(2026, 5, 1), tz=AMS, day=3, seed=11)
    other_seed = day_prompts(p, start_date=date(2026, 5, 1), tz=AMS, day=2, seed=12)
    assert [x.scheduled_local.time() for x in other_day] != [x.scheduled_local.time() for x in a]
    assert [x.scheduled_local.time() for x in other_seed] != [x.scheduled_local.time() for x in a]
    in_new_york = day_prompts(p, start_date=date(2026, 5, 1), tz=NYC, day=2, seed=11)
    assert [x.scheduled_local for x in in_new_york] == [x.scheduled_local for x in a]


def test_random_minutes_needs_a_random_entry() -> None:
    with pytest.raises(OptionError, match="not random"):
        random_minutes(ScheduleEntry(questionnaire="q", type="daily", time="20:00"), seed=1, day=1)


def test_random_minutes_spread_over_the_block() -> None:
    entry = ScheduleEntry(
        questionnaire="q",
        type="random",
        prompts_per_day=1,
        block_start="10:00",
        block_end="12:00",
        min_gap_minutes=0,
        window_minutes=10,
    )
    seen = {random_minutes(entry, seed=s, day=1)[0] for s in range(400)}
    assert min(seen) < 610 and max(seen) > 710  # reaches both ends of the block
    assert all(600 <= m <= 720 for m in seen)


# --------------------------------------------------------------------------- reminders
@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (_utc(2026, 3, 29, 17, 59), []),
        (_utc(2026, 3, 29, 18, 0), [("evening:d3:p1", 0, _utc(2026, 3, 29, 18, 0))]),
        (_utc(2026, 3, 29, 19, 5), [("evening:d3:p1", 60, _utc(2026, 3, 29, 19, 0))]),
        (_utc(2026, 3, 29, 21, 59), [("evening:d3:p1", 180, _utc(2026, 3, 29, 21, 0))]),
        (_utc(2026, 3, 29, 22, 0), []),  # the window has closed
    ],
)
def test_reminders_due(now: datetime, expected: list[tuple[str, int, datetime]]) -> None:
    got = reminders_due(example_protocol(), start_date=date(2026, 3, 27), tz=AMS, now=now)
    assert [(r.prompt_key, r.offset_minutes, r.due_utc) for r in got] == expected
    assert all(r.questionnaire == "evening" for r in got)
    assert all(r.window_end_utc == _utc(2026, 3, 29, 22, 0) for r in got)


def test_no_reminder_once_answered() -> None:
    got = reminders_due(
        example_protocol(),
        start_date=date(2026, 3, 27),
        tz=AMS,
        now=_utc(2026, 3, 29, 19, 5),
        answered={"evening:d3:p1"},
    )
    assert got == []


# --------------------------------------------------------------------------- properties
_DST_DATES = [date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 1)]


@st.composite
def _esm(draw: st.DrawFn) -> dict[str, Any]:
    k = draw(st.integers(1, 8))
    block = draw(st.integers(1, min(240, 1439 // k)))
    gap = draw(st.integers(1, block))
    start = draw(st.integers(0, 1439 - k * block))
    end = start + k * block
    window = draw(st.integers(1, gap))
    reminders = sorted(draw(st.sets(st.integers(1, 200), max_size=3)))
    return {
        "questionnaire": "evening",
        "type": "random",
        "prompts_per_day": k,
        "block_start": f"{start // 60:02d}:{start % 60:02d}",
        "block_end": f"{end // 60:02d}:{end % 60:02d}",
        "min_gap_minutes": gap,
        "window_minutes": window,
        "reminders_after_minutes": [r for r in reminders if r < window],
    }


@settings(max_examples=60, deadline=None)
@given(
    entry=_esm(),
    seed=st.integers(0, 2**31),
    start=st.sampled_from(_DST_DATES),
    tz=st.sampled_from([AMS, NYC]),
)
def test_random_schedule_invariants(entry: dict[str, Any], seed: int, start: date, tz: str) -> None:
    p = _protocol([entry])
    gap = timedelta(minutes=p.schedule[0].min_gap_minutes or 0)
    for day in (1, 2):
        prompts = day_prompts(
            p, start_date=start - timedelta(days=day - 1), tz=tz, day=day, seed=seed
        )
        assert len(prompts) == entry["prompts_per_day"]
        for prompt in prompts:
            assert (
                prompt.window_end_utc is not None and prompt.window_end_utc > prompt.scheduled_utc
            )
            assert local_time(prompt.scheduled_utc, tz) == prompt.scheduled_local
        for first, second in itertools.pairwise(prompts):
            assert second.scheduled_utc - first.scheduled_utc >= gap
            assert first.window_end_utc is not None
            assert first.window_end_utc <= second.scheduled_utc  # windows never overlap


@settings(max_examples=60, deadline=None)
@given(
    minute=st.integers(0, 24 * 60 - 1),
    start=st.sampled_from(_DST_DATES),
    tz=st.sampled_from([AMS, NYC]),
    offset=st.integers(-60, 600),
)
def test_daily_invariants_and_reminders_inside_window(
    minute: int, start: date, tz: str, offset: int
) -> None:
    time = f"{minute // 60:02d}:{minute % 60:02d}"
    p = _daily(time, window=240, reminders_after_minutes=[30, 120, 239])
    (prompt,) = day_prompts(p, start_date=start, tz=tz, day=1)
    wanted = datetime.combine(start, datetime.min.time()) + timedelta(minutes=minute)
    # the wall time is kept, except in the skipped hour, where it moves by the gap (1 h)
    assert prompt.scheduled_local - wanted in (timedelta(0), timedelta(hours=1))
    assert to_utc(prompt.scheduled_local, tz) == prompt.scheduled_utc
    now = prompt.scheduled_utc + timedelta(minutes=offset)
    for reminder in reminders_due(p, start_date=start, tz=tz, now=now):
        assert reminder.due_utc <= now
        assert prompt.window_end_utc is not None and now < prompt.window_end_utc
        assert reminder.due_utc < prompt.window_end_utc
