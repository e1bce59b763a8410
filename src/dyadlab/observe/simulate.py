"""Simulated coded sessions of couples: two coders coding both partners' turns.

Each couple talks in turns (partners alternate with probability 0.8); each turn is one
code of the family ``behaviour`` drawn from a Markov chain where a partner's
``demand`` makes the other partner's ``withdraw`` more likely (strength
``demand_withdraw``). The second coder recodes each turn with probability ``error`` and
moves its boundaries by up to ``jitter`` seconds.

Examples
--------
>>> s = simulate_sessions(2, minutes=1, rng=3)
>>> sorted(s.events["coder"].unique())
['A', 'B']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dyadlab.observe.codebook import CodeBook
from dyadlab.observe.sessions import CodedSessions, coded_sessions

__all__ = ["CODES", "simulate_sessions"]

CODES = ["demand", "withdraw", "positive", "neutral"]


def simulate_sessions(
    n_couples: int,
    *,
    minutes: float = 20.0,
    mean_turn: float = 4.0,
    error: float = 0.1,
    jitter: float = 0.4,
    demand_withdraw: float = 0.5,
    roles: tuple[str, str] | None = None,
    rng: int | np.random.Generator | None = None,
) -> CodedSessions:
    """Simulate ``n_couples`` sessions coded by coders ``"A"`` and ``"B"``.

    ``roles`` labels the partners (e.g. ``("woman", "woman")`` for a same-sex couple);
    partner ids are ``"<couple>-1"`` and ``"<couple>-2"``.
    """
    gen = np.random.default_rng(rng)
    length = minutes * 60.0
    n_turns = int(np.ceil(length / mean_turn * 1.5)) + 5
    k = len(CODES)
    base = np.full((k, k), 1.0)
    trans = base.copy()
    trans[0, 1] += demand_withdraw * k  # demand → partner withdraws
    trans /= trans.sum(axis=1, keepdims=True)
    cum = np.cumsum(trans, axis=1)
    codes = np.empty((n_couples, n_turns), dtype=np.int64)
    codes[:, 0] = gen.integers(0, k, n_couples)
    u = gen.random((n_couples, n_turns))
    for t in range(1, n_turns):
        codes[:, t] = (u[:, t, None] > cum[codes[:, t - 1]]).sum(axis=1)
    switch = gen.random((n_couples, n_turns)) < 0.8
    switch[:, 0] = False
    who = np.cumsum(switch, axis=1) % 2
    dur = np.maximum(gen.exponential(mean_turn, (n_couples, n_turns)), 1.0) + 0.5
    off = np.cumsum(dur, axis=1)
    on = off - dur
    keep = off <= length
    couple = np.repeat(np.arange(1, n_couples + 1), n_turns).reshape(n_couples, n_turns)
    frames = []
    for coder in ("A", "B"):
        c = codes.copy()
        o1, o2 = on.copy(), off.copy()
        if coder == "B":
            wrong = gen.random(c.shape) < error
            c[wrong] = gen.integers(0, k, int(wrong.sum()))
            shift = gen.uniform(-jitter, jitter, c.shape)
            o2 = off + shift
            o1 = np.concatenate([on[:, :1], o2[:, :-1]], axis=1)
        r = np.array(roles, dtype=object)[who[keep]] if roles else None
        frames.append(
            pd.DataFrame(
                {
                    "session": couple[keep],
                    "coder": coder,
                    "partner": [
                        f"{s}-{w + 1}" for s, w in zip(couple[keep], who[keep], strict=True)
                    ],
                    "role": r,
                    "code": np.array(CODES, dtype=object)[c[keep]],
                    "onset": np.round(o1[keep], 2),
                    "offset": np.round(o2[keep], 2),
                }
            )
        )
    # partners alternate but a partner may hold consecutive turns; merge nothing
    return coded_sessions(pd.concat(frames, ignore_index=True), CodeBook({"behaviour": CODES}))
