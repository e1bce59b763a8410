"""Readers of coded sessions: plain CSV, BORIS projects and exports, ELAN, SDIS.

Each returns :class:`~dyadlab.observe.sessions.CodedSessions` (one row per event:
session, coder, partner, role, code, family, onset, offset in seconds), checked against
the code book if one is given.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"session": [1], "coder": ["A"], "partner": ["p1"], "code": ["talk"],
...                    "onset": [0.0], "offset": [2.5]})
>>> read_csv(df).events["offset"].tolist()
[2.5]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyadlab.exceptions import FileFormatError
from dyadlab.observe.codebook import CodeBook
from dyadlab.observe.sessions import CodedSessions, coded_sessions

__all__ = ["read_boris", "read_boris_table", "read_csv", "read_elan", "read_sds"]


def read_csv(
    source: str | Path | pd.DataFrame,
    codebook: CodeBook | None = None,
    *,
    coder: str | None = None,
) -> CodedSessions:
    """Read a CSV (or frame) with columns session, coder, partner, code, onset, offset.

    ``role`` is optional. ``coder`` fills the coder column when the file has none (one
    file per coder).
    """
    frame = source.copy() if isinstance(source, pd.DataFrame) else pd.read_csv(source)
    if coder is not None:
        frame["coder"] = coder
    return coded_sessions(frame, codebook)


def _toggle_states(ev: pd.DataFrame) -> pd.DataFrame:
    """BORIS writes a state event twice (start, stop): pair them per subject and code."""
    ev = ev.sort_values(["session", "partner", "code", "onset"], kind="stable")
    keys = ["session", "partner", "code"]
    size = ev.groupby(keys, sort=False)["onset"].transform("size").to_numpy()
    nth = ev.groupby(keys, sort=False).cumcount().to_numpy()
    unpaired = (size % 2 == 1) & (nth == size - 1)
    if unpaired.any():
        open_ = ev[unpaired].iloc[0]
        raise FileFormatError(
            f"read_boris(): state {open_['code']!r} of subject {open_['partner']!r} starts at "
            f"{open_['onset']:g} s in observation {open_['session']!r} and never stops "
            f"({int(unpaired.sum())} unpaired states in all). Stop it in BORIS, or leave the "
            "observation out with observations=[...]."
        )
    starts = ev[nth % 2 == 0].reset_index(drop=True)
    stops = ev[nth % 2 == 1].reset_index(drop=True)
    starts["offset"] = stops["onset"].to_numpy()
    return pd.DataFrame(starts)


def read_boris(
    path: str | Path,
    codebook: CodeBook | None = None,
    *,
    coder: str | None = None,
    observations: Sequence[str] | None = None,
) -> CodedSessions:
    """Read a BORIS project (``.boris`` JSON): one session per observation.

    Subjects become partners (their names as ids; events without a subject get
    ``"No focal subject"``, as in BORIS's exports); state events (start/stop pairs per
    subject and behaviour) get onset and offset, point events an onset only. The coder
    is ``coder`` or the file's stem. ``observations`` selects observations by id (all by default).

    Format: BORIS's project file (``project_format_version`` 7 and later) —
    ``behaviors_conf`` (older files: ``ethogram``) with each behaviour's ``code`` and
    ``type``, ``subjects_conf`` and ``observations`` whose ``events`` are ``[time,
    subject, code, modifier, comment, …]`` lists with the time in seconds. Tested on
    BORIS's own ``tests/files/test.boris``.
    """
    path = Path(path)
    try:
        project: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        ethogram = project.get("behaviors_conf", project.get("ethogram"))
        all_obs = project["observations"]
        if not isinstance(ethogram, dict) or not isinstance(all_obs, dict):
            raise KeyError("behaviors_conf")
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise FileFormatError(
            f"read_boris(): {path} is not a BORIS project (JSON with 'behaviors_conf' and "
            f"'observations'): {exc}"
        ) from exc
    if observations is not None:
        unknown = [o for o in observations if o not in all_obs]
        if unknown:
            raise FileFormatError(
                f"read_boris(): observations {unknown} are not in {path.name}; it has "
                f"{sorted(all_obs)[:8]}."
            )
        all_obs = {o: all_obs[o] for o in observations}
    state = {str(b["code"]) for b in ethogram.values() if "state" in str(b.get("type", "")).lower()}
    rows = []
    for obs_id, obs in all_obs.items():
        for e in obs.get("events", []):
            try:
                t = float(e[0])
            except (TypeError, ValueError):
                t = float("nan")
            if not np.isfinite(t):
                raise FileFormatError(
                    f"read_boris(): event {e[2]!r} in observation {obs_id!r} has no time "
                    f"({e[0]!r}); image-based observations carry no seconds. Leave it out "
                    "with observations=[...]."
                )
            rows.append((obs_id, str(e[1]) or "No focal subject", str(e[2]), t))
    ev = pd.DataFrame(rows, columns=["session", "partner", "code", "onset"])
    is_state = ev["code"].isin(state).to_numpy()
    states = _toggle_states(ev[is_state]) if is_state.any() else ev[is_state].assign(offset=[])
    points = ev[~is_state].assign(offset=np.nan)
    out = pd.concat([states, points], ignore_index=True)
    out["coder"] = coder or path.stem
    return coded_sessions(out, codebook)


def read_boris_table(
    source: str | Path | pd.DataFrame, codebook: CodeBook | None = None, *, coder: str | None = None
) -> CodedSessions:
    """Read BORIS's tabular export of aggregated events (CSV or TSV).

    Columns used: ``Observation id``, ``Subject``, ``Behavior``, ``Start (s)``,
    ``Stop (s)`` (point events have equal start and stop).
    """
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        frame = pd.read_csv(source, sep=None, engine="python")
    need = ["Observation id", "Subject", "Behavior", "Start (s)", "Stop (s)"]
    missing = [c for c in need if c not in frame]
    if missing:
        raise FileFormatError(
            f"read_boris_table(): the export lacks columns {missing}; export 'aggregated "
            "events' from BORIS."
        )
    ev = pd.DataFrame(
        {
            "session": frame["Observation id"],
            "partner": frame["Subject"].astype(str),
            "code": frame["Behavior"].astype(str),
            "onset": pd.to_numeric(frame["Start (s)"]),
            "offset": pd.to_numeric(frame["Stop (s)"]),
        }
    )
    point = ev["offset"] == ev["onset"]
    ev.loc[point, "offset"] = np.nan
    ev["coder"] = coder or frame.get("Coder", "coder")
    return coded_sessions(ev, codebook)


def read_elan(
    path: str | Path,
    codebook: CodeBook | None = None,
    *,
    partners: dict[str, str] | None = None,
    coder: str | None = None,
    session: str | None = None,
) -> CodedSessions:
    """Read an ELAN ``.eaf`` file (via pympi-ling): tiers are partners, annotations codes.

    ``partners`` maps tier names to partner ids (default: every tier, named as is).
    """
    try:
        import pympi
    except ImportError as exc:  # pragma: no cover - installed with dyadlab[observe]
        raise FileFormatError(
            "read_elan() needs pympi-ling: pip install 'dyadlab[observe]'"
        ) from exc
    path = Path(path)
    eaf = pympi.Elan.Eaf(str(path))
    tiers = partners or {t: t for t in eaf.get_tier_names()}
    rows = []
    for tier, partner in tiers.items():
        for ann in eaf.get_annotation_data_for_tier(tier):
            rows.append((partner, str(ann[2]), ann[0] / 1000.0, ann[1] / 1000.0))
    ev = pd.DataFrame(rows, columns=["partner", "code", "onset", "offset"])
    ev["session"] = session or path.stem
    ev["coder"] = coder or "coder"
    return coded_sessions(ev, codebook)


_SDS_TIMED = re.compile(r"^(?P<code>[^,]+),(?P<on>[\d.:]+)(?:-(?P<off>[\d.:]+))?$")


def _seconds(text: str) -> float:
    parts = [float(p) for p in text.split(":")]
    return float(sum(p * 60**i for i, p in enumerate(reversed(parts))))


def read_sds(
    path: str | Path,
    codebook: CodeBook | None = None,
    *,
    coder: str | None = None,
    partner: str = "dyad",
) -> CodedSessions:
    """Read SDIS data (``.sds``, GSEQ's format): event or timed-event sequences.

    The declaration up to the first ``;`` is skipped; each session ends with ``/`` and
    may start with ``<label>``. Event data: codes in order (onset = event number);
    timed data: ``code,onset-offset`` with times in seconds or ``m:s``.
    """
    path = Path(path)
    text = re.sub(r"%.*", "", path.read_text(encoding="utf-8"))
    if ";" not in text:
        raise FileFormatError(f"read_sds(): {path} has no SDIS declaration ending with ';'.")
    body = text.split(";", 1)[1]
    rows = []
    for number, chunk in enumerate(s for s in body.split("/") if s.strip()):
        label = re.search(r"<([^>]*)>", chunk)
        session = label.group(1).strip() if label else str(number + 1)
        tokens = re.sub(r"<[^>]*>|\([^)]*\)", " ", chunk).split()
        for i, tok in enumerate(tokens):
            m = _SDS_TIMED.match(tok)
            if m:
                off = _seconds(m["off"]) if m["off"] else np.nan
                rows.append((session, m["code"], _seconds(m["on"]), off))
            else:
                rows.append((session, tok, float(i), np.nan))
    ev = pd.DataFrame(rows, columns=["session", "code", "onset", "offset"])
    ev["partner"] = partner
    ev["coder"] = coder or path.stem
    return coded_sessions(ev, codebook)
