"""One recording from one device: channels, sampling rates, units, clock and events.

Every reader (:mod:`dyadlab.physio.readers`) returns a :class:`Recording`, so that the
analyses never see a file format. Each channel keeps its own sampling rate and its
own sample times on the device's clock; event markers are a table of ``time_s`` (same
clock) and ``label``.

Examples
--------
>>> import numpy as np
>>> rec = Recording.from_arrays({"vpa": np.zeros(200), "scl": np.ones(20)},
...                             sampling_rates={"vpa": 100.0, "scl": 10.0},
...                             units={"vpa": "mV", "scl": "uS"})
>>> rec.channels, rec.duration("vpa")
(['vpa', 'scl'], 2.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import closest
from dyadlab.exceptions import DyadicDataError

__all__ = ["Recording", "empty_events"]


def empty_events() -> pd.DataFrame:
    """An empty event table (columns ``time_s``, ``label``).

    Examples
    --------
    >>> list(empty_events().columns)
    ['time_s', 'label']
    """
    return pd.DataFrame({"time_s": pd.Series(dtype=float), "label": pd.Series(dtype=str)})


@dataclass
class Recording:
    """Signals of one device on that device's clock.

    Attributes
    ----------
    signals : dict of str to ndarray
        One 1-D float array per channel.
    sampling_rates : dict of str to float
        Samples per second of each channel (nominal, or effective for XDF streams).
    units : dict of str to str
        Physical unit of each channel (``""`` when the file gives none).
    times : dict of str to ndarray
        Sample times in seconds on the device clock, one array per channel.
    events : DataFrame
        Event markers: ``time_s`` (device clock) and ``label``.
    clock : str
        What the times are measured on (``"device"``, ``"lsl"``, or after
        :func:`~dyadlab.physio.align` the reference device's name).
    source : str
        The file (or ``"arrays"``) the recording came from.
    info : dict
        Reader details worth keeping (start date, XDF clock-offset fits, …).
    """

    signals: dict[str, np.ndarray]
    sampling_rates: dict[str, float]
    units: dict[str, str]
    times: dict[str, np.ndarray]
    events: pd.DataFrame = field(default_factory=empty_events)
    clock: str = "device"
    source: str = "arrays"
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_arrays(
        cls,
        signals: Mapping[str, Sequence[float] | np.ndarray],
        *,
        sampling_rates: Mapping[str, float] | float,
        units: Mapping[str, str] | None = None,
        start: float = 0.0,
        events: pd.DataFrame | None = None,
        clock: str = "device",
        source: str = "arrays",
        info: dict[str, Any] | None = None,
    ) -> Recording:
        """Build a recording from regularly sampled arrays that start at ``start`` seconds."""
        sigs = {str(k): np.asarray(v, dtype=float).ravel() for k, v in signals.items()}
        if not sigs:
            raise DyadicDataError("Recording: no channels were given; pass at least one signal.")
        if isinstance(sampling_rates, Mapping):
            rates = {k: float(sampling_rates[k]) for k in sigs if k in sampling_rates}
            missing = [k for k in sigs if k not in rates]
            if missing:
                raise DyadicDataError(
                    f"Recording: no sampling rate for channel(s) {missing}; give one per channel."
                )
        else:
            rates = dict.fromkeys(sigs, float(sampling_rates))
        for name, rate in rates.items():
            if not np.isfinite(rate) or rate <= 0:
                raise DyadicDataError(
                    f"Recording: channel {name!r} has sampling rate {rate!r}; it must be a "
                    "positive number of samples per second."
                )
        times = {k: start + np.arange(len(v)) / rates[k] for k, v in sigs.items()}
        return cls(
            signals=sigs,
            sampling_rates=rates,
            units={k: (units or {}).get(k, "") for k in sigs},
            times=times,
            events=empty_events() if events is None else _events_frame(events),
            clock=clock,
            source=source,
            info=dict(info or {}),
        )

    @property
    def channels(self) -> list[str]:
        """Channel names in file order."""
        return list(self.signals)

    def _name(self, channel: str) -> str:
        if channel in self.signals:
            return channel
        hint = closest(channel, self.signals)
        fix = f" Did you mean {hint!r}?" if hint else f" It has: {', '.join(self.signals)}."
        raise DyadicDataError(f"Recording from {self.source}: no channel {channel!r}.{fix}")

    def signal(self, channel: str) -> np.ndarray:
        """The samples of ``channel``."""
        return self.signals[self._name(channel)]

    def time(self, channel: str) -> np.ndarray:
        """The sample times of ``channel`` in seconds on :attr:`clock`."""
        return self.times[self._name(channel)]

    def rate(self, channel: str) -> float:
        """The sampling rate of ``channel`` in Hz."""
        return self.sampling_rates[self._name(channel)]

    def duration(self, channel: str) -> float:
        """Number of samples of ``channel`` divided by its sampling rate, in seconds."""
        return len(self.signal(channel)) / self.rate(channel)

    def common_rate(self, channels: Sequence[str]) -> float:
        """The one sampling rate ``channels`` share; raise naming them if they differ.

        Examples
        --------
        >>> rec = Recording.from_arrays({"a": [0.0] * 4, "b": [0.0] * 2},
        ...                             sampling_rates={"a": 4.0, "b": 2.0})
        >>> rec.common_rate(["a", "b"])
        Traceback (most recent call last):
        ...
        dyadlab.exceptions.DyadicDataError: Recording from arrays: sampling-rate mismatch ...
        """
        rates = {c: self.rate(c) for c in channels}
        if len(set(rates.values())) > 1:
            shown = ", ".join(f"{c!r} at {r:g} Hz" for c, r in rates.items())
            raise DyadicDataError(
                f"Recording from {self.source}: sampling-rate mismatch between channels "
                f"({shown}); resample them to one rate first (dyadlab.physio.resample)."
            )
        return next(iter(rates.values()))

    def to_frame(self, channels: Sequence[str] | None = None) -> pd.DataFrame:
        """Channels that share one rate as a table with a ``time_s`` column."""
        names = list(channels) if channels is not None else self.channels
        self.common_rate(names)
        first = names[0]
        n = min(len(self.signal(c)) for c in names)
        out = {"time_s": self.time(first)[:n]}
        out.update({c: self.signal(c)[:n] for c in names})
        return pd.DataFrame(out)

    def shifted(self, offset: float, drift: float = 0.0, *, clock: str | None = None) -> Recording:
        """The recording with every time ``t`` mapped to ``offset + (1 + drift) * t``.

        Used by :func:`~dyadlab.physio.align` to put a device on a reference clock.
        """

        def move(t: np.ndarray) -> np.ndarray:
            return offset + (1.0 + drift) * np.asarray(t, dtype=float)

        events = self.events.copy()
        events["time_s"] = move(events["time_s"].to_numpy(dtype=float))
        return replace(
            self,
            times={k: move(v) for k, v in self.times.items()},
            events=events,
            clock=clock or self.clock,
        )

    def __repr__(self) -> str:
        chans = ", ".join(
            f"{c} ({self.sampling_rates[c]:g} Hz, {self.units.get(c) or '-'})" for c in self.signals
        )
        return f"Recording({self.source}: {chans}; {len(self.events)} events; clock {self.clock!r})"


def _events_frame(events: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("time_s", "label") if c not in events.columns]
    if missing:
        raise DyadicDataError(
            f"Recording: the events table needs columns 'time_s' and 'label'; missing {missing}."
        )
    out = events[["time_s", "label"]].copy()
    out["time_s"] = pd.to_numeric(out["time_s"], errors="raise").astype(float)
    out["label"] = out["label"].astype(str)
    return out.sort_values("time_s", kind="stable").reset_index(drop=True)
