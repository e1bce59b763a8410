"""When each questionnaire is open: diary days, prompts, windows and reminders.

A couple shares one schedule. Day 1 is the couple's start date, and diary day *d* is the
local calendar date ``start_date + d - 1`` in the person's own IANA time zone; both
partners get the same local wall-clock times (the semi-random ones come from a seed per
couple), so partners in one zone share every prompt and partners in two zones each get
them at the same local time.

Schedule types (see :class:`~dyadlab.platform.protocol.ScheduleEntry`):

``daily``
    One prompt a diary day at ``time`` (local), open for ``window_minutes``.
``random`` (experience sampling)
    ``prompts_per_day`` prompts between ``block_start`` and ``block_end``. The span is
    cut into that many equal blocks (whole minutes) and one prompt falls in each, at
    least ``min_gap_minutes`` apart: in block *i* ``[s, e)`` the prompt is drawn
    uniformly from the minutes ``s + ceil(g/2) .. e - floor(g/2)``, so two prompts in
    neighbouring blocks are at least *g* apart. The draw is a pure function of
    ``(seed, questionnaire, diary day)`` (SHA-256, not Python's ``random``), so it is
    the same on every machine and for both partners.
``event``
    Open all day, every diary day, until the person has reported ``max_per_day``
    events that day.
cross-partner trigger
    When one partner submits a questionnaire whose entry has ``triggers_partner``, that
    questionnaire opens for the other partner for ``trigger_window_minutes``. The
    trigger is passed in as ``triggered`` (questionnaire -> UTC time of the trigger).
    Triggered prompts get no reminders: a reminder would tell the person when their
    partner reported something.

A study lasts as long as the longest ``days`` of its entries; an entry without ``days``
runs for the whole study (for ever if no entry gives ``days``).

Times
-----
Every prompt carries its UTC time, the IANA zone and the local wall time. Windows are
lengths of real time (a 240-minute window is 4 hours even across a clock change).

**Daylight-saving rule.** A local time that does not exist (the hour skipped when clocks
spring forward) moves forward by the gap: 02:30 on 29 March 2026 in Europe/Amsterdam
becomes 03:30 CEST (01:30 UTC). A local time that occurs twice (clocks fall back) is its
first occurrence: 02:30 on 25 October 2026 in Europe/Amsterdam is 02:30 CEST (00:30
UTC). All other times keep their local wall time on clock-change days (a 20:00 prompt
is at 20:00 local, whatever the UTC offset). If moving a random prompt out of the
skipped hour brings it within ``min_gap_minutes`` of the next one, the next one moves
later so that the gap holds in real time.

Examples
--------
>>> from datetime import date, datetime, UTC
>>> from dyadlab.platform.protocol import example_protocol
>>> p = example_protocol()
>>> now = datetime(2026, 3, 29, 19, 0, tzinfo=UTC)  # 21:00 in Amsterdam, DST day
>>> [x.key for x in open_prompts(p, start_date=date(2026, 3, 27), tz="Europe/Amsterdam",
...                              now=now, seed=7)]
['evening:d3:p1', 'after_sex:d3:e1']
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import zoneinfo
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache

from dyadlab._validation import closest
from dyadlab.exceptions import OptionError
from dyadlab.platform.protocol import Protocol, ScheduleEntry

__all__ = [
    "Prompt",
    "Reminder",
    "day_prompts",
    "diary_day",
    "local_time",
    "open_prompts",
    "planned_prompts",
    "random_minutes",
    "reminders_due",
    "study_days",
    "to_utc",
]

UTC = _dt.UTC


@dataclass(frozen=True)
class Prompt:
    """One opening of a questionnaire for one person.

    Attributes
    ----------
    key : str
        Unique per person and stable: ``"evening:d3:p1"`` (daily and random: day and
        prompt number), ``"after_sex:d3:e2"`` (the 2nd event of day 3),
        ``"partner_q:d3:t1774812600"`` (a cross-partner trigger at that UNIX time).
    questionnaire : str
    kind : str
        ``"daily"``, ``"random"``, ``"event"`` or ``"trigger"``.
    diary_day : int
        1-based diary day.
    prompt_number : int
        1-based number of the prompt within its questionnaire and day.
    scheduled_utc : datetime
        When it opens (aware, UTC); for events the start of the diary day.
    window_end_utc : datetime or None
        When it closes (None for events, which stay open all day).
    scheduled_local : datetime
        ``scheduled_utc`` as a naive local wall time in ``tz``.
    tz : str
        The IANA time zone.

    Examples
    --------
    >>> from dyadlab.platform.protocol import example_protocol
    >>> (prompt,) = day_prompts(example_protocol(), start_date=_dt.date(2026, 3, 1),
    ...                         tz="America/New_York", day=8)
    >>> prompt.key, prompt.scheduled_local.time(), prompt.scheduled_utc.hour
    ('evening:d8:p1', datetime.time(20, 0), 0)
    """

    key: str
    questionnaire: str
    kind: str
    diary_day: int
    prompt_number: int
    scheduled_utc: _dt.datetime
    window_end_utc: _dt.datetime | None
    scheduled_local: _dt.datetime
    tz: str


@dataclass(frozen=True)
class Reminder:
    """A reminder to send now: for prompt ``prompt_key``, ``offset_minutes`` after it opened.

    ``offset_minutes`` 0 is the notice when the prompt opens; ``questionnaire`` is for
    the caller's bookkeeping and must not appear in the message (see
    :func:`dyadlab.platform.notify.reminder_text`); ``window_end_utc`` is when the prompt
    closes (use the time left as a Web Push ``ttl``, so no notice arrives later).

    Examples
    --------
    >>> Reminder("evening:d3:p1", 60, _dt.datetime(2026, 3, 29, 19, tzinfo=UTC)).offset_minutes
    60
    """

    prompt_key: str
    offset_minutes: int
    due_utc: _dt.datetime
    questionnaire: str = ""
    window_end_utc: _dt.datetime | None = None


# --------------------------------------------------------------------------- time zones
@lru_cache(maxsize=256)
def _zone(tz: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        hint = closest(str(tz), sorted(zoneinfo.available_timezones()))
        raise OptionError(
            f"schedule: tz={tz!r} is not an IANA time zone; use a name such as "
            "'Europe/Amsterdam'" + (f". Did you mean {hint!r}?" if hint else ".")
        ) from None


def _check_aware(now: _dt.datetime, argument: str = "now") -> _dt.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise OptionError(
            f"schedule: {argument}={now!r} has no time zone; pass an aware datetime, "
            "e.g. datetime.now(UTC)."
        )
    return now.astimezone(UTC)


def to_utc(local: _dt.datetime, tz: str) -> _dt.datetime:
    """Return the UTC instant of a naive local wall time, by the daylight-saving rule.

    Examples
    --------
    >>> to_utc(_dt.datetime(2026, 3, 29, 2, 30), "Europe/Amsterdam")  # skipped hour
    datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.timezone.utc)
    >>> to_utc(_dt.datetime(2026, 10, 25, 2, 30), "Europe/Amsterdam")  # occurs twice
    datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.timezone.utc)
    """
    # fold=0 takes the offset in force before a transition: a skipped time lands one gap
    # later, an ambiguous time is its first occurrence.
    return local.replace(tzinfo=_zone(tz), fold=0).astimezone(UTC)


def local_time(when: _dt.datetime, tz: str) -> _dt.datetime:
    """Return an aware instant as a naive local wall time in ``tz``.

    Examples
    --------
    >>> local_time(_dt.datetime(2026, 7, 1, 18, 0, tzinfo=UTC), "Europe/Amsterdam")
    datetime.datetime(2026, 7, 1, 20, 0)
    """
    return _check_aware(when, "when").astimezone(_zone(tz)).replace(tzinfo=None)


def diary_day(start_date: _dt.date, tz: str, when: _dt.datetime) -> int:
    """Return the diary day (1 = ``start_date``) of an instant, in local time ``tz``.

    Days before the start are 0 or negative.

    Examples
    --------
    >>> diary_day(_dt.date(2026, 3, 1), "America/New_York",
    ...           _dt.datetime(2026, 3, 3, 3, 0, tzinfo=UTC))  # 22:00 on 2 March in New York
    2
    """
    return (local_time(when, tz).date() - start_date).days + 1


def study_days(protocol: Protocol) -> int | None:
    """Return the length of the study in days (the longest ``days``), or None if open-ended.

    Examples
    --------
    >>> from dyadlab.platform.protocol import example_protocol
    >>> study_days(example_protocol())
    28
    """
    days = [e.days for e in protocol.schedule if e.days is not None]
    return max(days) if days else None


def _entry_days(protocol: Protocol, entry: ScheduleEntry) -> int | None:
    return entry.days if entry.days is not None else study_days(protocol)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


# --------------------------------------------------------------------------- random times
def random_minutes(entry: ScheduleEntry, *, seed: int, day: int) -> list[int]:
    """Return the local prompt times of a ``random`` entry on ``day``, in minutes after midnight.

    Examples
    --------
    >>> from dyadlab.platform.protocol import ScheduleEntry
    >>> e = ScheduleEntry(questionnaire="q", type="random", prompts_per_day=3,
    ...                   block_start="09:00", block_end="18:00", min_gap_minutes=60,
    ...                   window_minutes=30)
    >>> times = random_minutes(e, seed=1, day=1)
    >>> len(times), all(b - a >= 60 for a, b in zip(times, times[1:]))
    (3, True)
    >>> times == random_minutes(e, seed=1, day=1)
    True
    """
    if entry.block_start is None or entry.block_end is None or entry.prompts_per_day is None:
        raise OptionError(f"random_minutes(): entry for {entry.questionnaire!r} is not random.")
    k = entry.prompts_per_day
    start, end = _minutes(entry.block_start), _minutes(entry.block_end)
    gap = entry.min_gap_minutes or 0
    digest = b""
    counter = 0
    while len(digest) < 8 * k:
        digest += hashlib.sha256(f"{seed}|{entry.questionnaire}|{day}|{counter}".encode()).digest()
        counter += 1
    times: list[int] = []
    for i in range(k):
        s = start + (i * (end - start)) // k
        e = start + ((i + 1) * (end - start)) // k
        low, high = s + (gap - gap // 2), e - gap // 2
        if high < low:  # blocks shorter than the gap (the protocol check prevents it)
            low = high = (s + e) // 2
        u = int.from_bytes(digest[8 * i : 8 * i + 8], "big") / 2.0**64
        times.append(low + int(u * (high - low + 1)))
    return times


# --------------------------------------------------------------------------- planned prompts
def _prompt(
    entry: ScheduleEntry,
    *,
    day: int,
    number: int,
    when_utc: _dt.datetime,
    window: int | None,
    tz: str,
    kind: str,
    key: str,
) -> Prompt:
    return Prompt(
        key=key,
        questionnaire=entry.questionnaire,
        kind=kind,
        diary_day=day,
        prompt_number=number,
        scheduled_utc=when_utc,
        window_end_utc=None if window is None else when_utc + _dt.timedelta(minutes=window),
        scheduled_local=local_time(when_utc, tz),
        tz=tz,
    )


def day_prompts(
    protocol: Protocol, *, start_date: _dt.date, tz: str, day: int, seed: int = 0
) -> list[Prompt]:
    """Return the planned ``daily`` and ``random`` prompts of diary day ``day``, by time.

    Parameters
    ----------
    protocol : Protocol
    start_date : date
        The couple's day 1.
    tz : str
        The person's IANA time zone.
    day : int
        The diary day (1-based); days outside the study give an empty list.
    seed : int
        The couple's seed for the semi-random times.

    Examples
    --------
    >>> from dyadlab.platform.protocol import example_protocol
    >>> [p.scheduled_local.hour for p in day_prompts(example_protocol(),
    ...     start_date=_dt.date(2026, 3, 27), tz="Europe/Amsterdam", day=3)]
    [20]
    """
    _zone(tz)
    prompts: list[Prompt] = []
    if day < 1:
        return prompts
    date = start_date + _dt.timedelta(days=day - 1)
    midnight = _dt.datetime.combine(date, _dt.time())
    for entry in protocol.schedule:
        last = _entry_days(protocol, entry)
        if entry.type == "event" or (last is not None and day > last):
            continue
        if entry.type == "daily" and entry.time is not None:
            when = to_utc(midnight + _dt.timedelta(minutes=_minutes(entry.time)), tz)
            prompts.append(
                _prompt(
                    entry,
                    day=day,
                    number=1,
                    when_utc=when,
                    window=entry.window_minutes,
                    tz=tz,
                    kind="daily",
                    key=f"{entry.questionnaire}:d{day}:p1",
                )
            )
        elif entry.type == "random":
            gap = _dt.timedelta(minutes=entry.min_gap_minutes or 0)
            previous: _dt.datetime | None = None
            for number, minute in enumerate(random_minutes(entry, seed=seed, day=day), 1):
                when = to_utc(midnight + _dt.timedelta(minutes=minute), tz)
                if previous is not None and when < previous + gap:
                    when = previous + gap  # a clock change squeezed the gap; keep it
                previous = when
                prompts.append(
                    _prompt(
                        entry,
                        day=day,
                        number=number,
                        when_utc=when,
                        window=entry.window_minutes,
                        tz=tz,
                        kind="random",
                        key=f"{entry.questionnaire}:d{day}:p{number}",
                    )
                )
    return sorted(prompts, key=lambda p: (p.scheduled_utc, p.key))


def planned_prompts(
    protocol: Protocol,
    *,
    start_date: _dt.date,
    tz: str,
    seed: int = 0,
    first_day: int = 1,
    last_day: int | None = None,
) -> list[Prompt]:
    """Return every planned ``daily`` and ``random`` prompt from ``first_day`` to ``last_day``.

    ``last_day`` defaults to the study's length; an open-ended study needs it.

    Examples
    --------
    >>> from dyadlab.platform.protocol import example_protocol
    >>> len(planned_prompts(example_protocol(), start_date=_dt.date(2026, 3, 1),
    ...                     tz="Europe/Amsterdam"))
    28
    """
    last = study_days(protocol) if last_day is None else last_day
    if last is None:
        raise OptionError(
            "planned_prompts(): the protocol gives no number of days; pass last_day=."
        )
    prompts: list[Prompt] = []
    for day in range(max(first_day, 1), last + 1):
        prompts.extend(day_prompts(protocol, start_date=start_date, tz=tz, day=day, seed=seed))
    return prompts


# --------------------------------------------------------------------------- open now
def open_prompts(
    protocol: Protocol,
    *,
    start_date: _dt.date,
    tz: str,
    now: _dt.datetime,
    answered: Collection[str] = (),
    events_today: Mapping[str, int] | None = None,
    triggered: Collection[str] | Mapping[str, _dt.datetime] = (),
    seed: int = 0,
    questionnaire: str | None = None,
) -> list[Prompt]:
    """Return the questionnaires open to one person at ``now``.

    Parameters
    ----------
    protocol : Protocol
    start_date : date
        The couple's day 1.
    tz : str
        The person's IANA time zone.
    now : datetime
        Aware datetime (any zone; compared in UTC).
    answered : collection of str
        Prompt keys this person has already answered (closed for them).
    events_today : mapping, optional
        Event questionnaire -> number of events this person reported on this diary day.
    triggered : mapping or collection
        Cross-partner triggers: questionnaire -> UTC time the partner's submission
        opened it (open for the triggering entry's ``trigger_window_minutes``; a naive
        time is read as UTC, since SQLite returns stored times without zone). A plain
        collection of names means "open now, no window" (the caller tracks expiry).
    seed : int
        The couple's seed for the semi-random times.
    questionnaire : str, optional
        Only this questionnaire's prompts (the same ones, found with less work).

    Returns
    -------
    list of Prompt
        Daily and random prompts inside their window, then event questionnaires under
        their cap, then triggered ones, each ordered by time.

    Examples
    --------
    >>> from dyadlab.platform.protocol import example_protocol
    >>> now = _dt.datetime(2026, 3, 29, 12, 0, tzinfo=UTC)
    >>> [p.key for p in open_prompts(example_protocol(), start_date=_dt.date(2026, 3, 27),
    ...  tz="Europe/Amsterdam", now=now, events_today={"after_sex": 3})]
    []
    """
    now = _check_aware(now)
    today = diary_day(start_date, tz, now)
    done = set(answered)
    result: list[Prompt] = []
    timed = questionnaire is None or any(
        e.questionnaire == questionnaire and e.type != "event" for e in protocol.schedule
    )
    for day in range(today - 2, today + 1) if timed else ():
        for prompt in day_prompts(protocol, start_date=start_date, tz=tz, day=day, seed=seed):
            window_end = prompt.window_end_utc
            if (
                questionnaire in (None, prompt.questionnaire)
                and prompt.key not in done
                and prompt.scheduled_utc <= now
                and window_end is not None
                and now < window_end
            ):
                result.append(prompt)
    counts = events_today or {}
    day_start = to_utc(
        _dt.datetime.combine(start_date + _dt.timedelta(days=today - 1), _dt.time()), tz
    )
    for entry in protocol.schedule:
        if questionnaire not in (None, entry.questionnaire):
            continue
        last = _entry_days(protocol, entry)
        if entry.type != "event" or today < 1 or (last is not None and today > last):
            continue
        count = int(counts.get(entry.questionnaire, 0))
        if entry.max_per_day is not None and count >= entry.max_per_day:
            continue
        key = f"{entry.questionnaire}:d{today}:e{count + 1}"
        if key not in done:
            result.append(
                _prompt(
                    entry,
                    day=today,
                    number=count + 1,
                    when_utc=day_start,
                    window=None,
                    tz=tz,
                    kind="event",
                    key=key,
                )
            )
    result.extend(
        p
        for p in _triggered(protocol, triggered, now=now, tz=tz, start_date=start_date, done=done)
        if questionnaire in (None, p.questionnaire)
    )
    return result


def _triggered(
    protocol: Protocol,
    triggered: Collection[str] | Mapping[str, _dt.datetime],
    *,
    now: _dt.datetime,
    tz: str,
    start_date: _dt.date,
    done: set[str],
) -> list[Prompt]:
    windows: dict[str, int] = {}
    for entry in protocol.schedule:
        if entry.triggers_partner is not None:
            length = entry.trigger_window_minutes or 120
            windows[entry.triggers_partner] = max(length, windows.get(entry.triggers_partner, 0))
    prompts: list[Prompt] = []
    window: int | None
    for name in sorted(triggered):
        questionnaire = protocol.questionnaire(name)
        entry = ScheduleEntry(questionnaire=questionnaire.name, type="event")
        if isinstance(triggered, Mapping):
            at = triggered[name]
            # databases such as SQLite drop the zone; a naive trigger time is UTC
            at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
            window = windows.get(name, 120)
            if not at <= now < at + _dt.timedelta(minutes=window):
                continue
            day = diary_day(start_date, tz, at)
            key = f"{name}:d{day}:t{int(at.timestamp())}"
        else:
            at, window, day = now, None, diary_day(start_date, tz, now)
            key = f"{name}:d{day}:t"
        if key in done:
            continue
        prompts.append(
            _prompt(
                entry, day=day, number=1, when_utc=at, window=window, tz=tz, kind="trigger", key=key
            )
        )
    return prompts


# --------------------------------------------------------------------------- reminders
def reminders_due(
    protocol: Protocol,
    *,
    start_date: _dt.date,
    tz: str,
    now: _dt.datetime,
    answered: Collection[str] = (),
    seed: int = 0,
) -> list[Reminder]:
    """Return the reminders to send now: at most one per open, unanswered prompt.

    A prompt's notices are due at 0 minutes (it opens) and at each of the entry's
    ``reminders_after_minutes``. For each open, unanswered ``daily`` or ``random``
    prompt the latest notice that is due is returned; earlier ones that were missed
    (e.g. while the scheduler was down) are superseded, so a person never gets a burst.
    Nothing is returned once the window has closed. The caller records each
    ``(person, prompt_key, offset_minutes)`` it sends so that nothing is sent twice.

    Examples
    --------
    >>> from dyadlab.platform.protocol import example_protocol
    >>> now = _dt.datetime(2026, 3, 29, 19, 30, tzinfo=UTC)  # 21:30 in Amsterdam
    >>> [(r.prompt_key, r.offset_minutes) for r in reminders_due(example_protocol(),
    ...  start_date=_dt.date(2026, 3, 27), tz="Europe/Amsterdam", now=now)]
    [('evening:d3:p1', 60)]
    """
    now = _check_aware(now)
    entries = {e.questionnaire: e for e in protocol.schedule}
    reminders: list[Reminder] = []
    for prompt in open_prompts(
        protocol, start_date=start_date, tz=tz, now=now, answered=answered, seed=seed
    ):
        if prompt.kind not in ("daily", "random") or prompt.window_end_utc is None:
            continue
        entry = entries[prompt.questionnaire]
        due = [
            offset
            for offset in (0, *entry.reminders_after_minutes)
            if prompt.scheduled_utc + _dt.timedelta(minutes=offset) <= now
        ]
        offset = due[-1]
        at = prompt.scheduled_utc + _dt.timedelta(minutes=offset)
        if at < prompt.window_end_utc:
            reminders.append(
                Reminder(prompt.key, offset, at, prompt.questionnaire, prompt.window_end_utc)
            )
    return reminders
