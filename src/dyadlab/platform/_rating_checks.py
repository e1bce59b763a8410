"""Check a protocol's ``rating_sessions`` section (continuous ratings on the phone).

A rating session is one continuously rated item: both partners move a slider on their
own phone while the value is sampled ``rate_hz`` times a second, for at most
``max_minutes``. In YAML::

    rating_sessions:
      - name: arousal
        label: {en: "How sexually aroused do you feel right now?",
                nl: "Hoe seksueel opgewonden voel je je nu?"}
        anchors:                       # optional: the words at both ends of the slider
          min: {en: "Not at all", nl: "Helemaal niet"}
          max: {en: "Extremely", nl: "Extreem"}
        min: 0                         # default 0
        max: 100                       # default 100
        rate_hz: 10                    # default 10; 1 to 50
        max_minutes: 30                # default 30; 1 to 240
        orientation: vertical          # vertical (default) or horizontal
        stimulus:                      # optional: a video's chapters, as markers
          chapters:
            - {label: "neutral", start_s: 0}
            - {label: "erotic", start_s: 180}

The chapters become ``stimulus`` markers of a session when a researcher starts it (or
presses start for a session a partner started), at the start plus ``start_s`` seconds
on the server's clock: the researcher starts the video and the session together.
Chapter starts increase strictly and lie within ``max_minutes``.

Defaults filled in here are shown by :meth:`Protocol.to_dict`. The section is left out
of :meth:`Protocol.to_dict` when a protocol has no rating sessions, so the content hash
of every protocol without one is unchanged.

Examples
--------
>>> from dyadlab.platform.protocol import parse_protocol
>>> p = parse_protocol({"study": "s", "questionnaires": [{"name": "q", "items": [
...     {"name": "a", "type": "slider", "label": "A"}]}],
...     "rating_sessions": [{"name": "arousal", "label": "Aroused?"}]})
>>> r = p.rating_session("arousal")
>>> r.min, r.max, r.rate_hz, r.max_minutes, r.orientation
(0.0, 100.0, 10.0, 30, 'vertical')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from dyadlab.platform._protocol_checks import (
    Path,
    _integer,
    _keys,
    _labels,
    _list,
    _mapping,
    _name,
    _number,
    _Problems,
    _r,
    _suggest,
    _text,
)

__all__ = [
    "RATING_KEYS",
    "RatingChapter",
    "RatingSession",
    "RatingStimulus",
    "check_rating_sessions",
    "rating_sessions_to_dict",
]

#: The keys a rating session may have.
RATING_KEYS = (
    "name",
    "label",
    "anchors",
    "min",
    "max",
    "rate_hz",
    "max_minutes",
    "orientation",
    "stimulus",
)
_CHAPTER_KEYS = ("label", "start_s")
_MAX_LABEL = 200  # the markers' label column
_ORIENTATIONS = ("vertical", "horizontal")
_MAX_RATE_HZ = 50.0
_MAX_MINUTES = 240


class RatingChapter(BaseModel):
    """One chapter of a rating session's stimulus: its label and its start (seconds
    after the session's start)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    start_s: float


class RatingStimulus(BaseModel):
    """A rating session's stimulus: the chapters of the video shown during it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chapters: list[RatingChapter] = []


class RatingSession(BaseModel):
    """One continuously rated item of a protocol (``rating_sessions`` in YAML).

    Examples
    --------
    >>> RatingSession(name="arousal", label={"en": "Aroused?"}).period_ms
    100.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    label: dict[str, str]
    anchors: dict[str, dict[str, str]] = {}
    min: float = 0.0
    max: float = 100.0
    rate_hz: float = 10.0
    max_minutes: int = 30
    orientation: Literal["vertical", "horizontal"] = "vertical"
    stimulus: RatingStimulus | None = None

    @property
    def period_ms(self) -> float:
        """Milliseconds between two samples (``1000 / rate_hz``)."""
        return 1000.0 / self.rate_hz


def check_rating_sessions(
    raw: Any, p: _Problems, languages: list[str], default: str, taken: Sequence[str]
) -> list[dict[str, Any]]:
    """Check the ``rating_sessions`` list; return the fields of each :class:`RatingSession`.

    ``taken``: names already used by questionnaires (a rating session's name must differ,
    it becomes the ``rating`` column of the export).
    """
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, entry in enumerate(_list(raw, ("rating_sessions",), p, "rating sessions")):
        path: Path = ("rating_sessions", i)
        r = _mapping(entry, path, p, "name, label, min, max, rate_hz, max_minutes")
        _keys(r, RATING_KEYS, path, p)
        name = _name(r.get("name"), (*path, "name"), p)
        if name is not None and (name in seen or name in taken):
            p.add((*path, "name"), f"duplicate name {_r(name)}; give each rating its own name")
        seen.add(name or "")
        label = _labels(r.get("label"), (*path, "label"), p, languages, default, required=True)
        anchors: dict[str, dict[str, str]] = {}
        raw_anchors = _mapping(r.get("anchors") or {}, (*path, "anchors"), p, "min and max labels")
        _keys(raw_anchors, ("min", "max"), (*path, "anchors"), p)
        for end in ("min", "max"):
            if raw_anchors.get(end) is not None:
                anchors[end] = _labels(
                    raw_anchors[end], (*path, "anchors", end), p, languages, default, required=True
                )
        low = _number(r.get("min", 0), (*path, "min"), p)
        high = _number(r.get("max", 100), (*path, "max"), p)
        low = 0.0 if low is None else low
        high = 100.0 if high is None else high
        if high <= low:
            p.add((*path, "max"), f"must be larger than min ({low:g}), got {high:g}")
        rate = _number(r.get("rate_hz", 10), (*path, "rate_hz"), p)
        if rate is not None and not 1 <= rate <= _MAX_RATE_HZ:
            p.add(
                (*path, "rate_hz"),
                f"must be between 1 and {_MAX_RATE_HZ:g} samples a second, got {rate:g}",
            )
            rate = None
        minutes = _integer(r.get("max_minutes", 30), (*path, "max_minutes"), p, low=1)
        if minutes is not None and minutes > _MAX_MINUTES:
            p.add(
                (*path, "max_minutes"),
                f"must be at most {_MAX_MINUTES} minutes, got {minutes}; split a longer "
                "session in parts",
            )
            minutes = None
        orientation = _text(r.get("orientation"), (*path, "orientation"), p) or "vertical"
        if orientation not in _ORIENTATIONS:
            p.add(
                (*path, "orientation"),
                f"must be vertical or horizontal, got {_r(orientation)}"
                f"{_suggest(orientation, _ORIENTATIONS)}",
            )
            orientation = "vertical"
        stimulus = _stimulus(r.get("stimulus"), (*path, "stimulus"), p, minutes or 30)
        result.append(
            {
                "name": name or f"rating_{i}",
                "label": label,
                "anchors": anchors,
                "min": low,
                "max": high,
                "rate_hz": rate or 10.0,
                "max_minutes": minutes or 30,
                "orientation": orientation,
                "stimulus": stimulus,
            }
        )
    return result


def _stimulus(raw: Any, path: Path, p: _Problems, minutes: int) -> dict[str, Any] | None:
    """Check a rating session's ``stimulus`` (``chapters``: label and start_s each)."""
    if raw is None:
        return None
    stimulus = _mapping(raw, path, p, "chapters")
    _keys(stimulus, ("chapters",), path, p)
    chapters: list[dict[str, Any]] = []
    last: float | None = None
    for j, entry in enumerate(_list(stimulus.get("chapters"), (*path, "chapters"), p, "chapters")):
        where: Path = (*path, "chapters", j)
        chapter = _mapping(entry, where, p, "label and start_s")
        _keys(chapter, _CHAPTER_KEYS, where, p)
        label = _text(chapter.get("label"), (*where, "label"), p, required=True)
        if label is not None and len(label) > _MAX_LABEL:
            p.add((*where, "label"), f"must be at most {_MAX_LABEL} characters, got {len(label)}")
        start = _number(chapter.get("start_s"), (*where, "start_s"), p)
        if start is None:
            if "start_s" not in chapter:
                p.add((*where, "start_s"), "is missing; it is required (seconds from the start)")
            continue
        if not 0 <= start < minutes * 60:
            p.add(
                (*where, "start_s"),
                f"must be between 0 and the session's {minutes * 60} seconds (max_minutes "
                f"{minutes}), got {start:g}",
            )
        elif last is not None and start <= last:
            p.add(
                (*where, "start_s"),
                f"must be later than the chapter before it ({last:g} s), got {start:g}; "
                "list the chapters in the order they play",
            )
        last = start
        chapters.append({"label": label or f"chapter_{j + 1}", "start_s": start})
    return {"chapters": chapters}


def rating_sessions_to_dict(sessions: Sequence[RatingSession]) -> list[dict[str, Any]]:
    """The YAML content of the rating sessions (defaults included)."""
    out: list[dict[str, Any]] = []
    for s in sessions:
        data: Mapping[str, Any] = s.model_dump()
        # left out when empty: a protocol without them keeps its content hash
        entry = {k: v for k, v in data.items() if not (k in ("anchors", "stimulus") and not v)}
        out.append(entry)
    return out
