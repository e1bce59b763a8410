"""Subjective–genital concordance (Chivers et al. 2010), within and between persons,
and the dyadic step: an epoch-level APIM through :func:`dyadlab.diary`.

Within person, concordance is the correlation over epochs of a person's subjective
arousal with her or his genital response. Epochs are autocorrelated, so each
person's Fisher z gets the standard error of an AR(1)-adjusted effective sample size
``n_eff = n (1 − φ_s φ_g) / (1 + φ_s φ_g)`` (Bartlett 1935; Pyper & Peterman 1998),
with ``φ`` the lag-1 autocorrelations of the two series; persons are pooled by the
inverse-variance mean of their z (weights ``n_eff − 3``). Between persons, it is the
correlation of person means. Lags shift the subjective series against the genital one.

Examples
--------
>>> import dyadlab as dl
>>> data = dl.physio.simulate_concordance(n_dyads=10, n_epochs=120, r=0.5, rng=1)
>>> res = dl.physio.concordance(data, subjective="subjective", genital="genital",
...                             person="person", dyad="dyad", time="epoch", lags=[0, 1])
>>> res.estimates["effect"].tolist()
['within_z', 'within_r', 'between_r']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns, check_numeric
from dyadlab.exceptions import DyadicDataError
from dyadlab.models._result import ModelResult, emit, estimates_frame, present

if TYPE_CHECKING:
    from dyadlab.models.diary import DiaryResult

__all__ = ["ConcordanceResult", "concordance", "concordance_apim", "simulate_concordance"]


@dataclass(frozen=True)
class ConcordanceResult(ModelResult):
    """:class:`~dyadlab.models._result.ModelResult` of :func:`concordance` with
    ``persons`` (per-person r, n_eff) and ``lags`` (pooled r per lag) in ``extra``."""

    @property
    def persons(self) -> pd.DataFrame:
        """One row per person and lag: ``person, lag, n, phi_subjective, phi_genital,
        n_eff, r, z, se_z``."""
        return pd.DataFrame(self.extra["persons"])

    @property
    def lag_convention(self) -> str:
        """What a positive lag means, in words."""
        return str(self.extra["lag_convention"])

    @property
    def lags(self) -> pd.DataFrame:
        """Pooled within-person r per lag: ``lag, r, ci_low, ci_high, z, se_z, p, n_persons``."""
        return pd.DataFrame(self.extra["lags"])

    def plot(self, **kwargs: Any) -> Any:
        """Forest plot of per-person concordance with the pooled estimate."""
        return present("physio_plots", "plot_concordance")(self, **kwargs)


def _lag1(x: np.ndarray) -> float:
    x = x - x.mean()
    den = float(np.dot(x, x))
    return float(np.dot(x[1:], x[:-1]) / den) if den > 0 else 0.0


def effective_n(n: int, phi_a: float, phi_b: float) -> float:
    """Bartlett's AR(1) effective sample size of a correlation between two series.

    Examples
    --------
    >>> round(effective_n(100, 0.5, 0.5), 1)
    60.0
    """
    prod = phi_a * phi_b
    return float(min(n, max(0.0, n * (1 - prod) / (1 + prod))))


def _person_r(frame: pd.DataFrame, s: str, g: str, time: str, lag: int) -> dict[str, float]:
    """r of subjective at t with genital at t − lag (a positive lag: genital leads)."""
    gen = frame[[time, g]].copy()
    gen[time] = gen[time] + lag
    both = frame[[time, s]].merge(gen, on=time).dropna()
    x, y = both[s].to_numpy(float), both[g].to_numpy(float)
    n = len(both)
    if n < 4 or np.std(x) == 0 or np.std(y) == 0:
        return {
            "n": n,
            "phi_subjective": np.nan,
            "phi_genital": np.nan,
            "n_eff": np.nan,
            "r": np.nan,
            "z": np.nan,
            "se_z": np.nan,
        }
    r = float(np.corrcoef(x, y)[0, 1])
    phi_s, phi_g = _lag1(x), _lag1(y)
    n_eff = effective_n(n, phi_s, phi_g)
    z = float(np.arctanh(np.clip(r, -0.999999, 0.999999)))
    se = 1 / np.sqrt(n_eff - 3) if n_eff > 3 else np.nan
    return {
        "n": n,
        "phi_subjective": phi_s,
        "phi_genital": phi_g,
        "n_eff": n_eff,
        "r": r,
        "z": z,
        "se_z": float(se),
    }


def concordance(
    data: pd.DataFrame,
    *,
    subjective: str,
    genital: str,
    person: str,
    time: str,
    dyad: str | None = None,
    lags: Sequence[int] = (0,),
    lag: int | None = None,
    level: float = 0.95,
) -> ConcordanceResult:
    """Within-person (pooled Fisher z, AR(1)-adjusted n) and between-person concordance.

    Parameters
    ----------
    data : DataFrame
        One row per person-epoch.
    subjective, genital : str
        The two response columns (e.g. binned slider ratings and epoch VPA).
    person, time : str
        Person id and integer epoch index.
    dyad : str, optional
        Dyad id (for reporting; persons are identified by (dyad, person) when given).
    lags : sequence of int
        Lags (epochs) at which pooled concordance is computed; at lag L the subjective
        value at epoch t is paired with the genital value at t − L (L > 0: genital leads).
    lag : int, optional
        The lag of the headline ``estimates`` (default: 0 if among ``lags``, else the
        first of them).

    Returns
    -------
    ConcordanceResult
        ``estimates``: ``within_z`` (pooled Fisher z, its se, z test), ``within_r``
        (tanh of it, CI back-transformed), ``between_r`` (r of person means, t test on
        n − 2 df, Fisher CI); ``persons`` and ``lags`` tables.

    References
    ----------
    Chivers, M. L., Seto, M. C., Lalumière, M. L., Laan, E., & Grimbos, T. (2010).
    Agreement of self-reported and genital measures of sexual arousal in men and women:
    A meta-analysis. *Archives of Sexual Behavior, 39*, 5–56.
    """
    func = "concordance"
    check_columns(data, [subjective, genital, person, time, dyad], func=func)
    check_numeric(data, [subjective, genital, time], func=func)
    lags = [int(v) for v in lags]
    if not lags:
        raise DyadicDataError("concordance(): lags is empty; give at least one lag, e.g. [0].")
    head = (0 if 0 in lags else lags[0]) if lag is None else int(lag)
    if head not in lags:
        lags = [head, *lags]
    key = [dyad, person] if dyad else [person]
    frame = data[[*key, time, subjective, genital]].copy()
    if frame.duplicated([*key, time]).any():
        raise DyadicDataError(
            f"concordance(): some person has two rows for one {time!r}; give one row per "
            "person-epoch."
        )
    rows = []
    for ids, g in frame.groupby(key, sort=True):
        ident = ids if isinstance(ids, tuple) else (ids,)
        for L in lags:
            out = _person_r(g, subjective, genital, time, L)
            rows.append({**dict(zip(key, ident, strict=True)), "lag": L, **out})
    persons = pd.DataFrame(rows)
    crit = stats.norm.ppf(0.5 + level / 2)
    lag_rows = []
    for L in lags:
        p = persons.loc[(persons["lag"] == L) & persons["se_z"].notna()]
        w = 1 / p["se_z"] ** 2
        if len(p) == 0:
            lag_rows.append(
                {
                    "lag": L,
                    "r": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "z": np.nan,
                    "se_z": np.nan,
                    "p": np.nan,
                    "n_persons": 0,
                }
            )
            continue
        z = float(np.sum(w * p["z"]) / np.sum(w))
        se = float(1 / np.sqrt(np.sum(w)))
        lag_rows.append(
            {
                "lag": L,
                "r": float(np.tanh(z)),
                "ci_low": float(np.tanh(z - crit * se)),
                "ci_high": float(np.tanh(z + crit * se)),
                "z": z,
                "se_z": se,
                "p": float(2 * stats.norm.sf(abs(z / se))),
                "n_persons": len(p),
            }
        )
    lag_table = pd.DataFrame(lag_rows)
    warns = []
    dropped = persons.loc[(persons["lag"] == head) & persons["se_z"].isna()]
    if len(dropped):
        warns.append(
            f"{len(dropped)} person(s) left out of the pooled within-person r: fewer than 4 "
            "epochs, no variance, or an effective n of 3 or less."
        )
    h = lag_table.loc[lag_table["lag"] == head].iloc[0]
    means = frame.groupby(key)[[subjective, genital]].mean().dropna()
    n_p = len(means)
    est_rows: list[dict[str, Any]] = [
        {"effect": "within_z", "predictor": subjective, "estimate": h["z"], "se": h["se_z"]},
        {
            "effect": "within_r",
            "predictor": subjective,
            "estimate": h["r"],
            "se": None,
            "statistic": h["z"] / h["se_z"] if h["se_z"] > 0 else None,
            "p": h["p"],
            "ci_low": h["ci_low"],
            "ci_high": h["ci_high"],
        },
    ]
    if n_p >= 4:
        rb = float(np.corrcoef(means[subjective], means[genital])[0, 1])
        t = rb * np.sqrt((n_p - 2) / (1 - rb**2))
        se_b = 1 / np.sqrt(n_p - 3)
        est_rows.append(
            {
                "effect": "between_r",
                "predictor": subjective,
                "estimate": rb,
                "se": None,
                "statistic": t,
                "df": n_p - 2,
                "p": float(2 * stats.t.sf(abs(t), n_p - 2)),
                "ci_low": float(np.tanh(np.arctanh(rb) - crit * se_b)),
                "ci_high": float(np.tanh(np.arctanh(rb) + crit * se_b)),
            }
        )
    else:
        warns.append(f"between-person r needs at least 4 persons; there are {n_p}.")
    warns = emit(warns)
    n_dyads = int(frame[dyad].nunique()) if dyad else 0
    return ConcordanceResult(
        model="physio_concordance",
        estimates=estimates_frame(est_rows, level=level),
        n_dyads=n_dyads,
        n_obs=len(frame),
        distinguishable=False,
        roles=[],
        estimation="Fisher z, AR(1)-adjusted n",
        fit={"n_persons": int(n_p), "lag": head},
        warnings=warns,
        level=level,
        call={
            "subjective": subjective,
            "genital": genital,
            "person": person,
            "time": time,
            "dyad": dyad,
            "lags": lags,
        },
        extra={
            "persons": persons,
            "lags": lag_table,
            "lag_convention": "at lag L the subjective value at epoch t is paired with the "
            "genital value at epoch t - L; L > 0 means the genital response leads",
        },
    )


def concordance_apim(
    data: pd.DataFrame,
    *,
    subjective: str,
    genital: str,
    dyad: str,
    person: str,
    time: str,
    role: str | None = None,
    outcome: str = "genital",
    center: str = "person",
    residual: str = "ar1",
    level: float = 0.95,
) -> DiaryResult:
    """Epoch-level dyadic APIM: each partner's subjective arousal on both partners'
    genital arousal, fitted by :func:`dyadlab.diary` (two-intercept multilevel APIM).

    With ``outcome="genital"`` (default) the model is ``genital_i,t = actor ×
    subjective_i,t + partner × subjective_partner,t + …``: does my own, and does my
    partner's, felt arousal go with my genital response in that epoch? With
    ``outcome="subjective"`` the roles of the two measures swap. ``center="person"``
    splits each predictor into within-person (epoch) and between-person parts;
    ``residual="ar1"`` models the epochs' autocorrelation. Same-sex couples: leave
    ``role`` out (indistinguishable dyads).

    Returns
    -------
    DiaryResult
        As :func:`dyadlab.diary`; ``extra["concordance_outcome"]`` names the outcome.

    Examples
    --------
    >>> import dyadlab as dl
    >>> d = dl.physio.simulate_concordance(n_dyads=12, n_epochs=30, r=0.4, rng=2)
    >>> res = dl.physio.concordance_apim(d, subjective="subjective", genital="genital",
    ...                                  dyad="dyad", person="person", time="epoch",
    ...                                  role="role", residual="cs")
    >>> sorted(set(res.estimates["effect"]))[:2]
    ['actor_between', 'actor_within']
    """
    from dyadlab.models.diary import diary

    if outcome not in ("genital", "subjective"):
        raise DyadicDataError(
            f"concordance_apim(): outcome={outcome!r} is not allowed; choose 'genital' or "
            "'subjective'."
        )
    y, x = (genital, subjective) if outcome == "genital" else (subjective, genital)
    check_columns(data, [subjective, genital, dyad, person, time, role], func="concordance_apim")
    res = diary(
        data,
        y=y,
        x=x,
        dyad=dyad,
        person=person,
        time=time,
        role=role,
        center=center,
        residual=residual,
        level=level,
    )
    return replace(res, extra={**res.extra, "concordance_outcome": outcome})


def simulate_concordance(
    *,
    n_dyads: int = 20,
    n_epochs: int = 120,
    r: float = 0.5,
    lag: int = 0,
    phi: float = 0.6,
    actor: float = 0.0,
    partner: float = 0.0,
    roles: tuple[str, str] = ("woman", "man"),
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Person-epoch data with known concordance.

    Each person's genital series is AR(1) with coefficient ``phi``; her subjective
    series correlates ``r`` with it ``lag`` epochs later (see
    :func:`~dyadlab.physio.simulate_rating`). With ``actor``/``partner`` non-zero the
    genital series instead follows ``actor × own subjective + partner × partner's
    subjective + AR(1) noise`` (for the dyadic APIM).

    Examples
    --------
    >>> d = simulate_concordance(n_dyads=2, n_epochs=5, rng=0)
    >>> d.shape, list(d.columns)
    ((20, 6), ['dyad', 'person', 'role', 'epoch', 'subjective', 'genital'])
    """
    from dyadlab.physio.simulate import simulate_rating

    gen = np.random.default_rng(rng)

    def ar1(n: int) -> np.ndarray:
        e = gen.standard_normal(n) * np.sqrt(1 - phi**2)
        out = np.empty(n)
        out[0] = gen.standard_normal()
        for t in range(1, n):
            out[t] = phi * out[t - 1] + e[t]
        return out

    rows = []
    for d in range(n_dyads):
        if actor or partner:
            subj = [ar1(n_epochs) for _ in range(2)]
            gens = [actor * subj[k] + partner * subj[1 - k] + ar1(n_epochs) for k in range(2)]
        else:
            gens = [ar1(n_epochs) for _ in range(2)]
            subj = [simulate_rating(g, r=r, lag=lag, rng=gen) for g in gens]
        for k in range(2):
            rows.append(
                pd.DataFrame(
                    {
                        "dyad": d,
                        "person": k,
                        "role": roles[k],
                        "epoch": np.arange(n_epochs),
                        "subjective": subj[k],
                        "genital": gens[k],
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)
