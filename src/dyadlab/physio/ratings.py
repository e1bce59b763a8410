"""Read the platform's continuous-rating export as signals, one per person and session.

``dyadlab export STUDY --ratings --out ratings.csv`` writes one row per sample (``dyad,
person, role, session, rating, t_ms, value`` and the clock columns) and the session
markers beside it (``ratings_markers.csv``). :func:`read_ratings` turns that file into
one :class:`~dyadlab.physio.Recording` per person and session: the channel is named
by the rating (e.g. ``arousal``), its times are the export's server-aligned seconds
since the session's start (``clock="server"``, so the two partners of a session are on
one clock already), its rate is the median sampling step, and the markers are its
events (``start``, ``stop``, stimuli).

Examples
--------
>>> import pandas as pd
>>> pd.DataFrame({"dyad": 1, "person": [7, 7, 7], "role": "a", "session": 3,
...               "rating": "arousal", "t_ms": [0.0, 100.0, 200.0],
...               "value": [0.0, 5.0, 10.0]}).to_csv("ratings.csv", index=False)
>>> rec = read_ratings("ratings.csv")[(3, 7)]
>>> rec.channels, rec.rate("arousal"), rec.clock, rec.info["role"]
(['arousal'], 10.0, 'server', 'a')
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from dyadlab.exceptions import FileFormatError
from dyadlab.physio.recording import Recording, empty_events

__all__ = ["RATINGS_COLUMNS", "read_ratings"]

#: The columns a ratings export must have.
RATINGS_COLUMNS = ("dyad", "person", "role", "session", "rating", "t_ms", "value")
_CLOCK_COLUMNS = ("clock_offset_ms", "clock_drift_ppm", "clock_rtt_ms")


def _markers(path: Path) -> pd.DataFrame | None:
    beside = path.with_name(f"{path.stem}_markers{path.suffix}")
    if not beside.is_file():
        return None
    return pd.read_csv(beside) if beside.suffix.lower() == ".csv" else pd.read_parquet(beside)


def read_ratings(
    path: str | Path, *, session: int | None = None, person: int | None = None
) -> dict[tuple[int, int], Recording]:
    """Read a platform ratings export (``.csv`` or ``.parquet``) into recordings.

    Parameters
    ----------
    path : str or Path
        The file ``dyadlab export STUDY --ratings --out FILE`` wrote. Its markers file
        (``FILE_markers.csv``) is read too when it is beside it.
    session, person : int, optional
        Only this session's / person's traces.

    Returns
    -------
    dict
        ``(session, person)`` -> :class:`~dyadlab.physio.Recording` with one channel
        (the rating's name), times in seconds since the session's start on the server's
        clock, ``info`` with ``dyad``, ``role``, ``rating``, ``session``, ``person``
        and, when the export has them, the clock columns (``clock_offset_ms`` of the
        first sample, ``clock_drift_ppm``, ``clock_rtt_ms``).

    Raises
    ------
    FileFormatError
        If the file does not exist, is not a ratings export (names the missing
        columns), or the selection finds no trace.
    """
    p = Path(path)
    if not p.is_file():
        raise FileFormatError(f"read_ratings(): file {str(p)!r} does not exist.")
    if p.suffix.lower() == ".parquet":
        data = pd.read_parquet(p)
    elif p.suffix.lower() == ".csv":
        data = pd.read_csv(p)
    else:
        raise FileFormatError(
            f"read_ratings(): {p.name!r} is neither .csv nor .parquet; give the file "
            "`dyadlab export STUDY --ratings --out FILE` wrote."
        )
    missing = [c for c in RATINGS_COLUMNS if c not in data.columns]
    if missing:
        raise FileFormatError(
            f"read_ratings(): {p.name!r} is not a ratings export: it has no column(s) "
            f"{', '.join(missing)}. Write one with `dyadlab export STUDY --ratings --out FILE`."
        )
    if session is not None:
        data = data[data["session"] == session]
    if person is not None:
        data = data[data["person"] == person]
    if data.empty:
        raise FileFormatError(
            f"read_ratings(): no samples in {p.name!r} for session={session!r}, person={person!r}."
        )
    markers = _markers(p)
    out: dict[tuple[int, int], Recording] = {}
    for key, own in data.groupby(["session", "person"], sort=True):
        sid, pid = (int(k) for k in cast(tuple[int, int], key))
        own = own.sort_values("t_ms", kind="stable")
        times = own["t_ms"].to_numpy(dtype=float) / 1000.0
        steps = np.diff(times)
        rate = float(1.0 / np.median(steps)) if len(steps) and np.median(steps) > 0 else 1.0
        name = str(own["rating"].iloc[0])
        events = empty_events()
        if markers is not None:
            mine = markers[markers["session"] == sid]
            events = pd.DataFrame(
                {
                    "time_s": mine["t_ms"].to_numpy(dtype=float) / 1000.0,
                    "label": mine["kind"].astype(str).to_numpy(),
                }
            )
        role = own["role"].iloc[0]
        info: dict[str, object] = {
            "dyad": int(own["dyad"].iloc[0]),
            "person": pid,
            "session": sid,
            "role": None if pd.isna(role) else str(role),
            "rating": name,
        }
        for column in _CLOCK_COLUMNS:
            if column in own.columns:
                info[column] = float(own[column].iloc[0])
        out[(sid, pid)] = Recording(
            signals={name: own["value"].to_numpy(dtype=float)},
            sampling_rates={name: rate},
            units={name: ""},
            times={name: times},
            events=events,
            clock="server",
            source=str(p),
            info=info,
        )
    return out
