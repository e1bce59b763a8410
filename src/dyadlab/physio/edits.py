"""A manual-edit log of beats that a re-run of :func:`~dyadlab.physio.vpa` replays.

Hand-editing beats is part of VPA scoring. Here each edit is a line of a log — add a
missed peak, delete a false one, reject or accept a beat — addressed by time, not by
beat number, so the log still applies when detection settings change. ``vpa(...,
edits=log)`` replays it: ``add``/``delete`` change the peak list before onsets and QC,
``reject``/``accept`` override QC afterwards. Edits that match no beat are reported.

Examples
--------
>>> log = EditLog().reject(12.4, note="movement").add(30.02)
>>> log.to_frame()[["action", "time_s"]].values.tolist()
[['reject', 12.4], ['add', 30.02]]
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from dyadlab._validation import check_option

__all__ = ["ACTIONS", "BeatEdit", "EditLog"]

ACTIONS = ("add", "delete", "reject", "accept")


@dataclass(frozen=True)
class BeatEdit:
    """One edit: ``action`` at the beat whose systolic peak is nearest ``time_s``."""

    action: str
    time_s: float
    note: str = ""


@dataclass
class EditLog:
    """An ordered list of :class:`BeatEdit`; save with :meth:`save`, load with :meth:`load`."""

    edits: list[BeatEdit] = field(default_factory=list)

    def _add(self, action: str, time_s: float, note: str) -> EditLog:
        check_option("action", action, ACTIONS, func="EditLog")
        self.edits.append(BeatEdit(action, float(time_s), note))
        return self

    def add(self, time_s: float, note: str = "") -> EditLog:
        """Add a peak missed by detection (snapped to the local maximum within 0.1 s)."""
        return self._add("add", time_s, note)

    def delete(self, time_s: float, note: str = "") -> EditLog:
        """Delete the detected peak nearest ``time_s``."""
        return self._add("delete", time_s, note)

    def reject(self, time_s: float, note: str = "") -> EditLog:
        """Reject the beat whose peak is nearest ``time_s`` (reason ``manual``)."""
        return self._add("reject", time_s, note)

    def accept(self, time_s: float, note: str = "") -> EditLog:
        """Keep the beat whose peak is nearest ``time_s`` whatever QC said."""
        return self._add("accept", time_s, note)

    def to_frame(self) -> pd.DataFrame:
        """The log as a table: ``action``, ``time_s``, ``note``."""
        return pd.DataFrame([asdict(e) for e in self.edits], columns=["action", "time_s", "note"])

    def save(self, path: str | Path) -> Path:
        """Write the log as JSON (a list of edits)."""
        p = Path(path)
        p.write_text(json.dumps([asdict(e) for e in self.edits], indent=1), encoding="utf-8")
        return p

    @classmethod
    def load(cls, path: str | Path) -> EditLog:
        """Read a log written by :meth:`save`."""
        rows = json.loads(Path(path).read_text(encoding="utf-8"))
        log = cls()
        for row in rows:
            log._add(str(row["action"]), float(row["time_s"]), str(row.get("note", "")))
        return log

    def __len__(self) -> int:
        return len(self.edits)
