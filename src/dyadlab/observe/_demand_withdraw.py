"""``dl.observe.demand_withdraw``: one partner demands, the other withdraws within w seconds.

Partners are told apart by their id and, where the data has one, their role as it
appears in the data — never by an assumed gender. When a role takes two different values
in every couple, directions are named by role (``"wife->husband"``); otherwise (same-sex
couples, roles absent or equal within a couple) the partner with the smaller id is
``first`` and the directions are ``"first->second"`` and ``"second->first"``.

Examples
--------
>>> import dyadlab as dl
>>> s = dl.observe.simulate_sessions(4, minutes=5, roles=("woman", "woman"), rng=1)
>>> res = dl.observe.demand_withdraw(s, coder="A", window=5)
>>> res.table[["session", "direction"]].head(2).values.tolist()
[[1, 'first->second'], [1, 'second->first']]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns, check_range, show_ids
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.models._result import ModelResult, emit, estimates_frame, present
from dyadlab.observe._window import session_units
from dyadlab.observe._window_counts import two_by_two, window_counts
from dyadlab.observe.sessions import CodedSessions

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["DW_COLUMNS", "DemandWithdrawResult", "demand_withdraw"]

DW_COLUMNS = [
    "session",
    "direction",
    "demander",
    "withdrawer",
    "demander_role",
    "withdrawer_role",
    "count",
    "given_units",
    "target_units",
    "units",
    "conditional_probability",
    "base_rate",
    "expected",
    "adjusted_residual",
    "p",
    "yules_q",
    "yules_q_se",
    "odds_ratio",
]


class DemandWithdrawResult(ModelResult):
    """Per-couple demand → withdraw tables; ``table`` has one row per couple and direction."""

    @property  # the cell table of this result; its APA table: dyadlab.report.apa_table
    def table(self) -> pd.DataFrame:  # type: ignore[override]
        """One row per couple and direction."""
        return pd.DataFrame(self.extra["table"], columns=DW_COLUMNS)

    @property
    def window(self) -> float:
        """The window after a demand in which a withdrawal counts, in seconds."""
        return float(self.extra["window"])

    def plot(self, ax: Axes | None = None) -> Figure:
        """Each couple's Yule's Q in one direction against the other (a point per couple).

        Returns
        -------
        matplotlib.figure.Figure
        """
        return cast("Figure", present("observe_plots", "demand_withdraw_plot")(self, ax=ax))


def _codes(value: str | Sequence[str], name: str, func: str) -> list[str]:
    out = [value] if isinstance(value, str) else [str(v) for v in value]
    if not out:
        raise OptionError(f"{func}(): {name} must name at least one code.")
    return out


def _partners(
    ev: pd.DataFrame, session: str, partner: str, role: str | None, func: str
) -> tuple[pd.DataFrame, bool]:
    """One row per session: first and second partner (and roles); distinguishable?"""
    cols = [session, partner] + ([role] if role else [])
    people = ev[cols].drop_duplicates([session, partner])
    n = people.groupby(session, sort=False)[partner].size()
    if (n != 2).any():
        bad = n.index[(n != 2).to_numpy()][0]
        k = int(n[bad])
        raise DyadicDataError(
            f"{func}(): session {show_ids([bad])} has {k} partner{'' if k == 1 else 's'} "
            f"({show_ids(list(people.loc[people[session] == bad, partner]))}); demand–withdraw "
            "needs the two partners of a couple. Check the partner column."
        )
    people = people.assign(_key=people[partner].astype(str))
    distinguishable = False
    if role is not None:
        roles = people[role].astype(str)
        per = roles.groupby(people[session], sort=False).nunique()
        distinguishable = bool((per == 2).all()) and roles.nunique() == 2
        if distinguishable:
            people = people.assign(_key=roles)
    people = people.sort_values([session, "_key"], kind="stable")
    first = people.groupby(session, sort=False).nth(0).set_index(session)
    second = people.groupby(session, sort=False).nth(1).set_index(session)
    out = pd.DataFrame(
        {
            "first": first[partner],
            "second": second[partner].reindex(first.index),
            "first_role": first[role] if role else None,
            "second_role": second[role].reindex(first.index) if role else None,
        },
        index=first.index,
    )
    return out, distinguishable


def demand_withdraw(
    data: CodedSessions | pd.DataFrame,
    *,
    window: float = 5.0,
    demand: str | Sequence[str] = "demand",
    withdraw: str | Sequence[str] = "withdraw",
    coder: Any = None,
    session: str = "session",
    partner: str = "partner",
    role: str | None = "role",
    code: str = "code",
    onset: str = "onset",
    offset: str | None = "offset",
    unit: float = 1.0,
    confidence: float = 0.95,
) -> DemandWithdrawResult:
    """Demand → withdraw within ``window`` seconds, both directions, per couple and pooled.

    Parameters
    ----------
    data : CodedSessions or DataFrame
        Coded events with session, partner, code and onset (and optionally role, offset,
        coder) columns, e.g. :func:`~dyadlab.observe.read_csv` output.
    window : float
        Seconds after a demand onset in which a withdraw onset of the other partner
        counts (a whole number of ``unit``).
    demand, withdraw : str or list of str
        The code(s) that count as demand and as withdraw.
    coder : optional
        Use this coder's events (required when the data has more than one coder).
    session, partner, role, code, onset, offset : str
        Column names; ``role`` may be absent from the data (or None).
    unit : float
        Time unit in seconds (1 s by default).
    confidence : float
        Confidence level of the pooled intervals.

    Returns
    -------
    DemandWithdrawResult
        ``table``: per couple and direction, ``demander``/``withdrawer`` (partner ids and
        roles), ``count`` (time units in the demander's window where the withdrawer
        starts withdrawing), ``given_units, target_units, units``,
        ``conditional_probability`` P(withdraw starts | within w s of a demand),
        ``base_rate`` P(withdraw starts in a unit), ``expected, adjusted_residual, p,
        yules_q, yules_q_se, odds_ratio``. ``estimates``: pooled Yule's Q per direction
        (``role`` = the demander's role when roles distinguish the partners) and over
        both directions (``role`` null), ``predictor`` ``"demand->withdraw"``.

    Notes
    -----
    The time-window 2 × 2 table of :func:`~dyadlab.observe.window_table` with the
    demander's demand codes as the given and the other partner's withdraw codes as the
    target (Bakeman & Quera 2011, ch. 10); the pooled rows sum the couples' tables.
    """
    func = "demand_withdraw"
    ev = data.events if isinstance(data, CodedSessions) else data
    check_range("window", window, func=func, low=0.0, inclusive=False)
    check_range("unit", unit, func=func, low=0.0, inclusive=False)
    check_range("confidence", confidence, func=func, low=0.0, high=1.0, inclusive=False)
    if role is not None and role not in ev:
        role = None
    if role is not None and ev[role].isna().all():
        role = None
    if offset is not None and offset not in ev:
        offset = None
    check_columns(ev, [session, partner, code, onset, role, offset], func=func)
    if "coder" in ev:
        coders = list(pd.unique(ev["coder"]))
        if coder is None and len(coders) > 1:
            raise OptionError(
                f"{func}(): the data has coders {show_ids(coders)}; choose one with coder=."
            )
        if coder is not None:
            if coder not in coders:
                raise OptionError(
                    f"{func}(): coder={coder!r} is not in the data; coders are {show_ids(coders)}."
                )
            ev = ev[ev["coder"] == coder]
    width = round(window / unit)
    if width < 1 or abs(width * unit - window) > 1e-9 * max(1.0, window):
        raise OptionError(f"{func}(): window={window!r} must be a whole number of unit={unit!r}.")
    dem, wd = _codes(demand, "demand", func), _codes(withdraw, "withdraw", func)
    present_codes = set(ev[code].astype(str))
    if not (set(dem) & present_codes) or not (set(wd) & present_codes):
        raise OptionError(
            f"{func}(): the data has no {'demand' if not set(dem) & present_codes else 'withdraw'}"
            f" codes ({show_ids(dem if not set(dem) & present_codes else wd)}); codes are "
            f"{show_ids(sorted(present_codes))}. Name them with demand= and withdraw=."
        )
    people, distinguishable = _partners(ev, session, partner, role, func)
    s_idx, onset_unit, n_units, sessions = session_units(
        ev, session=session, onset=onset, offset=offset, unit=unit, func=func
    )
    first = people["first"].reindex(sessions).to_numpy()
    is_second = (ev[partner].to_numpy() != first[s_idx]).astype(np.int64)
    c = ev[code].astype(str)
    kind = np.where(c.isin(dem), 0, np.where(c.isin(wd), 1, -1))
    # codes: 0 first demand, 1 first withdraw, 2 second demand, 3 second withdraw, 4 other
    k_idx = np.where(kind >= 0, 2 * is_second + kind, 4).astype(np.int64)
    counts = window_counts(s_idx, k_idx, onset_unit, n_units, k=5, width=width)
    table = _table(counts, people.reindex(sessions), list(sessions), distinguishable)
    est = _estimates(table, distinguishable, confidence)
    roles = (
        sorted({str(r) for r in people["first_role"]} | {str(r) for r in people["second_role"]})
        if distinguishable
        else []
    )
    call: dict[str, Any] = {"window": window, "demand": dem, "withdraw": wd, "coder": coder}
    call.update({"session": session, "partner": partner, "role": role, "unit": unit})
    warnings = []
    low = table[table["expected"] < 5]
    if len(low):
        warnings.append(
            f"{len(low)} couple × direction tables have expected counts below 5 (first: "
            f"session {show_ids([low['session'].iloc[0]])}); their adjusted residuals are rough "
            "and their Yule's Q uncertain."
        )
    return DemandWithdrawResult(
        model="observe_demand_withdraw",
        estimates=est,
        n_dyads=len(sessions),
        n_obs=len(ev),
        distinguishable=distinguishable,
        roles=roles,
        estimation="time-window sequential (Bakeman & Quera 2011)",
        warnings=emit(warnings),
        level=confidence,
        call=call,
        extra={"window": window, "unit": unit, "table": table},
    )


def _table(
    counts: Any, people: pd.DataFrame, sessions: list[Any], distinguishable: bool
) -> pd.DataFrame:
    n_s = len(sessions)
    # direction 0: first demands → second withdraws; 1: second demands → first withdraws
    joint = np.stack([counts.joint[:, 0, 3], counts.joint[:, 2, 1]], axis=1)
    given = np.stack([counts.given[:, 0], counts.given[:, 2]], axis=1)
    target = np.stack([counts.target[:, 3], counts.target[:, 1]], axis=1)
    units = np.repeat(counts.units[:, None], 2, axis=1)
    st = two_by_two(joint, given, target, units)
    first, second = people["first"].to_numpy(), people["second"].to_numpy()
    r1, r2 = people["first_role"].to_numpy(), people["second_role"].to_numpy()
    if distinguishable:
        d1 = [f"{a}->{b}" for a, b in zip(r1, r2, strict=True)]
        d2 = [f"{b}->{a}" for a, b in zip(r1, r2, strict=True)]
    else:
        d1, d2 = ["first->second"] * n_s, ["second->first"] * n_s
    resid = st["adjusted_residual"]
    se = st["yules_q_se"]
    out = pd.DataFrame(
        {
            "session": np.repeat(np.array(sessions, dtype=object), 2),
            "direction": np.column_stack([d1, d2]).ravel() if n_s else [],
            "demander": np.column_stack([first, second]).ravel(),
            "withdrawer": np.column_stack([second, first]).ravel(),
            "demander_role": np.column_stack([r1, r2]).ravel(),
            "withdrawer_role": np.column_stack([r2, r1]).ravel(),
            "count": joint.ravel(),
            "given_units": given.ravel(),
            "target_units": target.ravel(),
            "units": units.ravel(),
            "conditional_probability": st["transitional_probability"].ravel(),
            "base_rate": (target / units).ravel(),
            "expected": st["expected"].ravel(),
            "adjusted_residual": resid.ravel(),
            "p": 2 * stats.norm.sf(np.abs(resid.ravel())),
            "yules_q": st["yules_q"].ravel(),
            "yules_q_se": np.where(np.isfinite(se) & (se > 0), se, np.nan).ravel(),
            "odds_ratio": st["odds_ratio"].ravel(),
        },
        columns=DW_COLUMNS,
    )
    return out


def _estimates(table: pd.DataFrame, distinguishable: bool, confidence: float) -> pd.DataFrame:
    groups: list[tuple[Any, pd.DataFrame]] = []
    if distinguishable:
        groups += list(table.groupby("demander_role", sort=True))
    else:
        groups += list(table.groupby("direction", sort=True))
    groups.append((None, table))
    rows = []
    for key, part in groups:
        a, g, t, n = (part[c].sum() for c in ("count", "given_units", "target_units", "units"))
        st = two_by_two(np.array(a), np.array(g), np.array(t), np.array(n))
        q, se = float(st["yules_q"]), float(st["yules_q_se"])
        label = "demand->withdraw"
        if key is not None and not distinguishable:
            label = f"demand->withdraw ({key})"
        rows.append(
            {
                "effect": "yules_q",
                "predictor": label,
                "role": str(key) if distinguishable and key is not None else None,
                "estimate": q if np.isfinite(q) else None,
                "se": se if np.isfinite(se) and se > 0 else None,
            }
        )
    return estimates_frame(rows, level=confidence)
