"""Coded sessions: every reader's output, checked against the code book.

One row per coded event: ``session, coder, partner, role, code, family, onset, offset``
(seconds; ``offset`` is missing for point events). Partners are identified by their id
and an optional role string as it appears in the data — never an assumed gender — so
same-sex couples need nothing special.

Examples
--------
>>> import pandas as pd
>>> ev = pd.DataFrame({"session": [1, 1], "coder": ["A", "A"], "partner": ["p1", "p2"],
...                    "code": ["talk", "listen"], "onset": [0.0, 0.0], "offset": [5.0, 5.0]})
>>> s = coded_sessions(ev)
>>> s.events.columns.tolist()
['session', 'coder', 'partner', 'role', 'code', 'family', 'onset', 'offset']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, show_ids
from dyadlab.exceptions import DyadicDataError
from dyadlab.observe.codebook import CodeBook

__all__ = ["EVENT_COLUMNS", "CodedSessions", "coded_sessions"]

EVENT_COLUMNS = ["session", "coder", "partner", "role", "code", "family", "onset", "offset"]


@dataclass(frozen=True)
class CodedSessions:
    """Checked coded events of one or more sessions, coders and partners."""

    events: pd.DataFrame
    codebook: CodeBook | None = None

    @property
    def sessions(self) -> list[object]:
        return list(pd.unique(self.events["session"]))

    @property
    def coders(self) -> list[object]:
        return list(pd.unique(self.events["coder"]))

    def for_coder(self, coder: object) -> pd.DataFrame:
        return self.events[self.events["coder"] == coder]


def _where(ev: pd.DataFrame, mask: np.ndarray) -> str:
    r = ev[mask].iloc[0]
    return (
        f"session {show_ids([r['session']])}, coder {show_ids([r['coder']])}, time {r['onset']:g} s"
    )


def coded_sessions(events: pd.DataFrame, codebook: CodeBook | None = None) -> CodedSessions:
    """Check and normalise coded events (see module docstring); raise naming the event.

    Raises
    ------
    DyadicDataError
        An onset after its offset, a code not in the code book, or overlapping codes of
        one family for one partner — each naming the session, coder and time.
    """
    func = "coded_sessions"
    check_columns(events, ["session", "coder", "partner", "code", "onset"], func=func)
    ev = events.copy()
    if "role" not in ev:
        ev["role"] = None
    if "offset" not in ev:
        ev["offset"] = np.nan
    ev["onset"] = pd.to_numeric(ev["onset"], errors="coerce")
    ev["offset"] = pd.to_numeric(ev["offset"], errors="coerce")
    if ev["onset"].isna().any():
        bad = ev["onset"].isna().to_numpy()
        r = ev[bad].iloc[0]
        raise DyadicDataError(
            f"{func}(): {int(bad.sum())} events have no numeric onset (first: session "
            f"{show_ids([r['session']])}, coder {show_ids([r['coder']])}, code {r['code']!r})."
        )
    ev["code"] = ev["code"].astype(str)
    after = (ev["offset"] < ev["onset"]).to_numpy()
    if after.any():
        raise DyadicDataError(
            f"{func}(): {int(after.sum())} events end before they start (first: "
            f"{_where(ev, after)}). Swap or correct onset and offset."
        )
    if codebook is not None:
        fam = codebook.code_family_map()
        unknown = ~ev["code"].isin(list(fam)).to_numpy()
        if unknown.any():
            code = ev.loc[unknown, "code"].iloc[0]
            raise DyadicDataError(
                f"{func}(): code {code!r} is not in the code book ({_where(ev, unknown)}); "
                f"{int(unknown.sum())} events have unknown codes. Add it to the code book "
                "or correct the code."
            )
        ev["family"] = ev["code"].map(fam)
    elif "family" not in ev:
        ev["family"] = "codes"
    ev = ev.sort_values(["session", "coder", "partner", "family", "onset"], kind="stable")
    ev = ev.reset_index(drop=True)[EVENT_COLUMNS]
    _check_overlaps(ev, func)
    return CodedSessions(ev, codebook)


def _check_overlaps(ev: pd.DataFrame, func: str) -> None:
    """States of one family for one partner may not overlap (vectorised over all)."""
    state = ev["offset"].notna().to_numpy()
    if state.sum() < 2:
        return
    st = ev[state]
    keys = st[["session", "coder", "partner", "family"]]
    same = (keys.iloc[1:].to_numpy() == keys.iloc[:-1].to_numpy()).all(axis=1)
    overlap = same & (st["onset"].to_numpy()[1:] < st["offset"].to_numpy()[:-1] - 1e-9)
    if overlap.any():
        i = int(np.flatnonzero(overlap)[0]) + 1
        r = st.iloc[i]
        prev = st.iloc[i - 1]
        raise DyadicDataError(
            f"{func}(): codes {prev['code']!r} and {r['code']!r} of family "
            f"{r['family']!r} overlap for partner {show_ids([r['partner']])} (session "
            f"{show_ids([r['session']])}, coder {show_ids([r['coder']])}, time "
            f"{r['onset']:g} s); {int(overlap.sum())} overlaps in all. Codes of one family "
            "are mutually exclusive: end one before the next starts."
        )
