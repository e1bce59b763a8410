"""Read physiological recordings into one :class:`~dyadlab.physio.Recording`.

Each format is read by the field's own library — EDF/BDF by pyedflib, XDF (Lab
Streaming Layer) by pyxdf with its clock-offset fit and dejitter, BIOPAC AcqKnowledge
``.acq`` by bioread — and CSV/TSV by pandas. dyadlab only maps what they return onto
channels, rates, units, sample times and event markers.

Examples
--------
>>> import pandas as pd
>>> pd.DataFrame({"time": [0.0, 0.01, 0.02], "vpa": [1.0, 2.0, 1.5]}).to_csv(
...     "rec.csv", index=False)
>>> read_csv("rec.csv", time="time").sampling_rates
{'vpa': 100.0}
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyadlab.exceptions import DyadicDataError, FileFormatError
from dyadlab.physio.recording import Recording, empty_events

__all__ = ["read_acq", "read_csv", "read_edf", "read_recording", "read_xdf"]

_RATE_TOLERANCE = 0.01  # relative disagreement allowed between --rate and the time column


def _need(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:  # pragma: no cover - the extra is installed in CI
        raise FileFormatError(
            f"reading this format needs {module}; install it with pip install 'dyadlab[physio]'."
        ) from exc


def _exists(path: str | Path, func: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"{func}(): file {str(p)!r} does not exist.")
    return p


def read_csv(
    path: str | Path,
    *,
    time: str | None = None,
    rate: float | None = None,
    channels: list[str] | None = None,
    event: str | None = None,
    units: dict[str, str] | None = None,
    sep: str | None = None,
) -> Recording:
    """Read a CSV or TSV file with one column per channel.

    Parameters
    ----------
    path : str or Path
        The file; ``.tsv``/``.tab`` files are tab-separated unless ``sep`` is given.
    time : str, optional
        Column of sample times in seconds. The sampling rate is 1 / the median step.
    rate : float, optional
        Sampling rate in Hz. With ``time`` too, the two must agree within 1 %.
    channels : list of str, optional
        Signal columns; by default every numeric column except ``time`` and ``event``.
    event : str, optional
        Column whose non-empty cells are event labels at that sample's time.
    units : dict, optional
        Unit of each channel.

    Raises
    ------
    DyadicDataError
        If neither ``time`` nor ``rate`` is given, if they disagree (sampling-rate
        mismatch), or if the time column is not increasing.
    """
    p = _exists(path, "read_csv")
    if sep is None:
        sep = "\t" if p.suffix.lower() in (".tsv", ".tab") else ","
    frame = pd.read_csv(p, sep=sep)
    for col in [time, event, *(channels or [])]:
        if col is not None and col not in frame.columns:
            raise DyadicDataError(
                f"read_csv(): column {col!r} is not in {p.name}; it has: "
                f"{', '.join(map(str, frame.columns))}."
            )
    if time is None and rate is None:
        raise DyadicDataError(
            f"read_csv(): {p.name} needs a time base; give time=COLUMN (seconds) or rate=HZ."
        )
    start = 0.0
    if time is not None:
        t = pd.to_numeric(frame[time], errors="coerce").to_numpy(dtype=float)
        steps = np.diff(t)
        if len(t) < 2 or not np.all(np.isfinite(t)) or np.any(steps <= 0):
            raise DyadicDataError(
                f"read_csv(): time column {time!r} of {p.name} must hold increasing numbers "
                "(seconds); sort the rows or fix the empty cells."
            )
        found = 1.0 / float(np.median(steps))
        if rate is not None and abs(found - rate) > _RATE_TOLERANCE * rate:
            raise DyadicDataError(
                f"read_csv(): sampling-rate mismatch in {p.name}: rate={rate:g} Hz was given "
                f"but the time column {time!r} steps at {found:g} Hz; fix one of them."
            )
        rate = float(rate) if rate is not None else round(found, 9)
        start = float(t[0])
    assert rate is not None
    skip = {time, event}
    names = channels or [
        str(c) for c in frame.columns if c not in skip and pd.api.types.is_numeric_dtype(frame[c])
    ]
    if not names:
        raise DyadicDataError(f"read_csv(): {p.name} has no numeric signal columns.")
    events = empty_events()
    if event is not None:
        labels = frame[event]
        keep = labels.notna() & (labels.astype(str).str.strip() != "")
        events = pd.DataFrame(
            {"time_s": start + np.flatnonzero(keep.to_numpy()) / rate, "label": labels[keep]}
        )
    return Recording.from_arrays(
        {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in names},
        sampling_rates=rate,
        units=units,
        start=start,
        events=events,
        source=str(p),
    )


def read_edf(path: str | Path) -> Recording:
    """Read an EDF, EDF+ or BDF file with pyedflib (channels, rates, units, annotations).

    Each channel keeps its own sampling rate; EDF+ annotations become events, with
    times in seconds from the start of the recording.
    """
    p = _exists(path, "read_edf")
    pyedflib = _need("pyedflib")
    try:
        reader = pyedflib.EdfReader(str(p))
    except OSError as exc:
        raise FileFormatError(
            f"read_edf(): {p.name} is not a readable EDF/BDF file ({exc})."
        ) from exc
    try:
        labels = [str(s).strip() for s in reader.getSignalLabels()]
        signals: dict[str, np.ndarray] = {}
        rates: dict[str, float] = {}
        units: dict[str, str] = {}
        for i, label in enumerate(labels):
            name = label if label not in signals else f"{label}_{i}"
            signals[name] = reader.readSignal(i)
            rates[name] = float(reader.getSampleFrequency(i))
            units[name] = str(reader.getPhysicalDimension(i)).strip()
        onsets, _durations, texts = reader.readAnnotations()
        start = reader.getStartdatetime()
    finally:
        reader.close()
    events = pd.DataFrame({"time_s": np.asarray(onsets, dtype=float), "label": list(texts)})
    return Recording.from_arrays(
        signals,
        sampling_rates=rates,
        units=units,
        events=events,
        source=str(p),
        info={"start_datetime": start.isoformat()},
    )


def read_xdf(
    path: str | Path,
    *,
    synchronize_clocks: bool = True,
    dejitter_timestamps: bool = True,
) -> Recording:
    """Read an XDF file (Lab Streaming Layer) with pyxdf.

    Numeric streams become channels ``"<stream>/<channel>"`` (the channel label from the
    stream's description, or its index); string streams become events. Times are
    pyxdf's: on the recording computer's LSL clock after its clock-offset fit
    (``synchronize_clocks``) and its jitter removal (``dejitter_timestamps``), which
    also give the effective sampling rate.
    """
    p = _exists(path, "read_xdf")
    pyxdf = _need("pyxdf")
    try:
        streams, _header = pyxdf.load_xdf(
            str(p),
            synchronize_clocks=synchronize_clocks,
            dejitter_timestamps=dejitter_timestamps,
        )
    except Exception as exc:  # pyxdf raises bare Exceptions on malformed files
        raise FileFormatError(f"read_xdf(): {p.name} is not a readable XDF file ({exc}).") from exc
    signals: dict[str, np.ndarray] = {}
    times: dict[str, np.ndarray] = {}
    rates: dict[str, float] = {}
    units: dict[str, str] = {}
    events = []
    fits = {}
    for stream in streams:
        info = stream["info"]
        name = str(info["name"][0])
        stamps = np.asarray(stream["time_stamps"], dtype=float)
        fits[name] = {
            "clock_times": np.asarray(stream.get("clock_times", []), dtype=float).tolist(),
            "clock_values": np.asarray(stream.get("clock_values", []), dtype=float).tolist(),
        }
        if str(info["channel_format"][0]) == "string":
            for t, sample in zip(stamps, stream["time_series"], strict=False):
                events.append({"time_s": float(t), "label": str(sample[0]), "stream": name})
            continue
        data = np.asarray(stream["time_series"], dtype=float)
        if data.size == 0:
            continue
        rate = float(info.get("effective_srate") or 0) or float(info["nominal_srate"][0])
        labels, chan_units = _xdf_channels(info, data.shape[1])
        for j in range(data.shape[1]):
            key = f"{name}/{labels[j]}"
            signals[key] = data[:, j]
            times[key] = stamps
            rates[key] = rate
            units[key] = chan_units[j]
    if not signals:
        raise DyadicDataError(f"read_xdf(): {p.name} holds no numeric stream with samples.")
    ev = pd.DataFrame(events, columns=["time_s", "label", "stream"])
    return Recording(
        signals=signals,
        sampling_rates=rates,
        units=units,
        times=times,
        events=ev[["time_s", "label"]].sort_values("time_s", kind="stable").reset_index(drop=True),
        clock="lsl",
        source=str(p),
        info={
            "synchronize_clocks": synchronize_clocks,
            "dejitter_timestamps": dejitter_timestamps,
            "clock_offsets": fits,
            "event_streams": ev["stream"].tolist(),
        },
    )


def _xdf_channels(info: dict[str, Any], n: int) -> tuple[list[str], list[str]]:
    labels = [str(j) for j in range(n)]
    units = [""] * n
    try:
        chans = info["desc"][0]["channels"][0]["channel"]
        for j, ch in enumerate(chans[:n]):
            labels[j] = str(ch.get("label", [labels[j]])[0])
            units[j] = str(ch.get("unit", [""])[0] or "")
    except (KeyError, IndexError, TypeError):
        pass
    return labels, units


def read_acq(path: str | Path) -> Recording:
    """Read a BIOPAC AcqKnowledge ``.acq`` file with bioread.

    Channels keep their names, units and rates; event markers become events at their
    sample's time (``sample_index / file rate``).
    """
    p = _exists(path, "read_acq")
    bioread = _need("bioread")
    try:
        data = bioread.read_file(str(p))
    except Exception as exc:  # bioread raises its own and struct errors on bad files
        raise FileFormatError(f"read_acq(): {p.name} is not a readable .acq file ({exc}).") from exc
    signals: dict[str, np.ndarray] = {}
    rates: dict[str, float] = {}
    units: dict[str, str] = {}
    for ch in data.channels:
        name = str(ch.name)
        signals[name] = np.asarray(ch.data, dtype=float)
        rates[name] = float(ch.samples_per_second)
        units[name] = str(ch.units or "")
    base = float(data.samples_per_second)
    events = pd.DataFrame(
        {
            "time_s": [m.sample_index / base for m in data.event_markers],
            "label": [str(m.text) for m in data.event_markers],
        }
    )
    return Recording.from_arrays(
        signals, sampling_rates=rates, units=units, events=events, source=str(p)
    )


_BY_SUFFIX = {
    ".csv": read_csv,
    ".tsv": read_csv,
    ".tab": read_csv,
    ".txt": read_csv,
    ".edf": read_edf,
    ".bdf": read_edf,
    ".xdf": read_xdf,
    ".xdfz": read_xdf,
    ".acq": read_acq,
}


def read_recording(path: str | Path, **options: Any) -> Recording:
    """Read any supported file, chosen by its suffix (``.csv .tsv .edf .bdf .xdf .acq``).

    ``options`` go to the format's reader (for CSV: ``time=`` or ``rate=``).
    """
    p = Path(path)
    reader = _BY_SUFFIX.get(p.suffix.lower())
    if reader is None:
        raise FileFormatError(
            f"read_recording(): cannot read {p.name!r}; supported suffixes are "
            f"{', '.join(sorted(_BY_SUFFIX))}."
        )
    result: Recording = reader(p, **options)
    return result
