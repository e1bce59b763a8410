"""Is the partners' synchrony more than chance? Surrogate tests for WCC summaries.

Two families of surrogates:

* **Within a dyad** (:func:`surrogate_test`): ``b`` is replaced by a series with the
  same properties but no time-locking to ``a`` — a circular shift (by at least one
  window plus the largest lag), a shuffle of segments, or IAAFT (iterative
  amplitude-adjusted Fourier transform, Schreiber & Schmitz 1996: same amplitude
  distribution and nearly the same spectrum).
* **Across dyads** (:func:`pseudo_pair_test`): partners who never interacted are paired.
  Dyads are grouped by their composition (the sorted pair of roles). In a mixed
  composition (e.g. man–woman) pseudo-pairs keep the roles — a woman of one couple with
  a man of another, each in the position (``a`` or ``b``) of her or his role; in a
  same-role composition (woman–woman, man–man, or no roles) roles are ignored and a
  randomly chosen member of one dyad is paired with one of another dyad of the same
  composition.

Both report the observed statistic, the surrogates' mean and SD, an effect size
``(observed − mean) / SD`` and a permutation p ``(1 + #{surrogate ≥ observed}) / (1 +
n)`` (one-sided: more synchrony than chance).

Examples
--------
>>> import numpy as np
>>> x = np.sin(np.linspace(0, 20, 500)) + np.random.default_rng(0).normal(0, .1, 500)
>>> s = iaaft(x, rng=1)
>>> bool(np.allclose(np.sort(s), np.sort(x)))
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dyadlab.exceptions import DyadicDataError
from dyadlab.models._result import jsonable
from dyadlab.physio._synchrony import CONVENTION, synchrony

__all__ = ["SurrogateResult", "iaaft", "pseudo_pair_test", "surrogate_test"]

METHODS = ("circular", "segment", "iaaft")


def iaaft(
    x: np.ndarray, *, max_iter: int = 200, rng: int | np.random.Generator | None = None
) -> np.ndarray:
    """An IAAFT surrogate of ``x``: its exact values, reordered to match its spectrum.

    Alternates imposing ``x``'s Fourier amplitudes (keeping the phases) and ``x``'s
    values (by rank) until the ranks stop changing or ``max_iter`` (Schreiber &
    Schmitz 1996).
    """
    gen = np.random.default_rng(rng)
    x = np.asarray(x, dtype=float)
    sorted_x = np.sort(x)
    amplitude = np.abs(np.fft.rfft(x))
    s = gen.permutation(x)
    ranks = np.argsort(np.argsort(s))
    for _ in range(max_iter):
        phases = np.angle(np.fft.rfft(s))
        spectral = np.fft.irfft(amplitude * np.exp(1j * phases), n=len(x))
        new_ranks = np.argsort(np.argsort(spectral))
        s = sorted_x[new_ranks]
        if np.array_equal(new_ranks, ranks):
            break
        ranks = new_ranks
    return s


def _surrogate(
    b: np.ndarray, method: str, gen: np.random.Generator, min_shift: int, segment: int
) -> np.ndarray:
    n = len(b)
    if method == "circular":
        if n - 2 * min_shift < 1:
            raise DyadicDataError(
                "surrogate_test(): the series is too short for circular shifts of at least "
                "one window plus the largest lag on both sides; use segment or iaaft."
            )
        return np.roll(b, int(gen.integers(min_shift, n - min_shift + 1)))
    if method == "segment":
        k = n // segment
        if k < 2:
            raise DyadicDataError(
                "surrogate_test(): the series holds fewer than two segments; shorten segment."
            )
        parts = [b[i * segment : (i + 1) * segment] for i in range(k)]
        order = gen.permutation(k)
        return np.concatenate([*(parts[i] for i in order), b[k * segment :]])
    return iaaft(b, rng=gen)


@dataclass
class SurrogateResult:
    """Observed WCC summary against its surrogate distribution.

    Attributes
    ----------
    statistic : str
        ``mean_abs_r``, ``mean_peak_r`` or ``mean_r_lag0``.
    observed : float
    surrogates : ndarray
        The statistic in each surrogate (or each random set of pseudo-pairs).
    effect_size : float
        ``(observed − mean(surrogates)) / sd(surrogates)``.
    p : float
        One-sided permutation p: ``(1 + #{surrogate ≥ observed}) / (1 + n)``.
    method : str
    details : dict
        Settings, convention, and for pseudo-pairs the pairs used.
    warnings : list of str
        Notes on the test (each also issued as a ``DyadlabWarning``; none so far).
    """

    statistic: str
    observed: float
    surrogates: np.ndarray
    effect_size: float
    p: float
    method: str
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (``model`` ``physio_surrogates``)."""
        from dyadlab import __version__

        return {
            "model": "physio_surrogates",
            "dyadlab_version": __version__,
            "method": self.method,
            "convention": CONVENTION,
            "estimates": [
                {
                    "effect": self.statistic,
                    "predictor": None,
                    "role": None,
                    "estimate": self.observed,
                    "se": None,
                    "statistic": self.effect_size,
                    "df": None,
                    "p": self.p,
                    "ci_low": None,
                    "ci_high": None,
                }
            ],
            "tests": [
                {
                    "name": f"{self.method}_surrogates",
                    "statistic": self.effect_size,
                    "df": None,
                    "p": self.p,
                }
            ],
            "surrogate_mean": float(np.mean(self.surrogates)),
            "surrogate_sd": float(np.std(self.surrogates, ddof=1)),
            "n_surrogates": len(self.surrogates),
            "details": jsonable(self.details),
            "variance_components": [],
            "fit": {},
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """One readable paragraph."""
        return (
            f"{self.statistic} observed {self.observed:.3f}; {self.method} surrogates "
            f"mean {np.mean(self.surrogates):.3f} (SD {np.std(self.surrogates, ddof=1):.3f}, "
            f"n = {len(self.surrogates)}); effect size {self.effect_size:.2f}, "
            f"permutation p = {self.p:.4f}"
        )

    def __str__(self) -> str:
        return self.summary()


def _finish(observed: float, surr: np.ndarray) -> tuple[float, float]:
    sd = float(np.std(surr, ddof=1))
    effect = (observed - float(np.mean(surr))) / sd if sd > 0 else float("nan")
    p = (1 + int(np.sum(surr >= observed))) / (1 + len(surr))
    return effect, p


def surrogate_test(
    a: np.ndarray,
    b: np.ndarray,
    sampling_rate: float,
    *,
    window: float,
    step: float,
    max_lag: float,
    lag_step: float,
    method: str = "circular",
    n: int = 200,
    statistic: str = "mean_abs_r",
    segment: float | None = None,
    rng: int | np.random.Generator | None = None,
) -> SurrogateResult:
    """Within-dyad surrogate test of a WCC summary (circular shift, segment shuffle, IAAFT).

    ``b`` is replaced ``n`` times by a surrogate; ``a`` stays. ``segment`` (seconds,
    default ``window``) is the length of the shuffled segments.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a = np.convolve(rng.standard_normal(1300), np.ones(5), "valid")[:1200]
    >>> b = np.roll(a, 10) + rng.standard_normal(1200)
    >>> res = surrogate_test(a, b, 10, window=20, step=10, max_lag=3, lag_step=0.5,
    ...                      n=19, rng=1)
    >>> res.p
    0.05
    """
    if method not in METHODS:
        raise DyadicDataError(
            f"surrogate_test(): method={method!r} is not allowed; choose one of {METHODS}."
        )
    settings: dict[str, Any] = {
        "window": window,
        "step": step,
        "max_lag": max_lag,
        "lag_step": lag_step,
    }
    real = synchrony(a, b, sampling_rate, **settings)
    observed = real.statistic(statistic)
    gen = np.random.default_rng(rng)
    y = np.asarray(b, dtype=float)
    fs = float(sampling_rate)
    min_shift = round((window + max_lag) * fs)
    seg = round((segment or window) * fs)
    surr = np.array(
        [
            synchrony(a, _surrogate(y, method, gen, min_shift, seg), fs, **settings).statistic(
                statistic
            )
            for _ in range(int(n))
        ]
    )
    effect, p = _finish(observed, surr)
    return SurrogateResult(
        statistic,
        observed,
        surr,
        effect,
        p,
        method,
        {**settings, "sampling_rate": fs, "segment": seg / fs},
    )


def _composition(roles: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(str(r) for r in roles))


def pseudo_pair_test(
    series: Mapping[Any, Mapping[str, np.ndarray]],
    sampling_rate: float,
    *,
    window: float,
    step: float,
    max_lag: float,
    lag_step: float,
    statistic: str = "mean_abs_r",
    n: int = 1000,
    max_pairs: int = 500,
    rng: int | np.random.Generator | None = None,
) -> SurrogateResult:
    """Real dyads' mean WCC summary against sets of pseudo-pairs from other dyads.

    Parameters
    ----------
    series : mapping
        ``{dyad: {role: series}}`` with exactly two members per dyad, on one grid. For
        a same-sex dyad give both members the same role with a suffix after ``#``
        (``"woman"`` and ``"woman#2"``); the text after ``#`` is ignored. Roles that
        differ within a dyad are kept in pseudo-pairs (series ``a`` is the role first
        in sort order); equal roles are ignored.
    n : int
        Random sets of pseudo-pairs, each as large as the number of real dyads of that
        composition, whose mean gives the null distribution.
    max_pairs : int
        Pseudo-pairs drawn per composition (all of them when fewer exist).

    Returns
    -------
    SurrogateResult
        ``details`` holds ``compositions`` (dyads and pseudo-pairs per composition, and
        whether roles were kept) and ``dyads`` (each real dyad's statistic).
    """
    fs = float(sampling_rate)
    settings: dict[str, Any] = {
        "window": window,
        "step": step,
        "max_lag": max_lag,
        "lag_step": lag_step,
    }
    gen = np.random.default_rng(rng)
    members: dict[Any, list[tuple[str, np.ndarray]]] = {}
    for dyad, parts in series.items():
        if len(parts) != 2:
            raise DyadicDataError(
                f"pseudo_pair_test(): dyad {dyad!r} has {len(parts)} series; give exactly two "
                "(one per partner)."
            )
        members[dyad] = [
            (str(k).split("#")[0], np.asarray(v, dtype=float)) for k, v in parts.items()
        ]
    groups: dict[tuple[str, ...], list[Any]] = {}
    for dyad, mem in members.items():
        groups.setdefault(_composition([r for r, _ in mem]), []).append(dyad)

    def stat(x: np.ndarray, y: np.ndarray) -> float:
        m = min(len(x), len(y))
        return synchrony(x[:m], y[:m], fs, **settings).statistic(statistic)

    real_stats: dict[Any, float] = {}
    pools: dict[tuple[str, ...], np.ndarray] = {}
    info = []
    for comp, dyads in groups.items():
        keep_roles = comp[0] != comp[1]
        if len(dyads) < 2:
            raise DyadicDataError(
                f"pseudo_pair_test(): only one dyad of composition {'–'.join(comp)}; "
                "pseudo-pairs need at least two dyads of the same composition."
            )

        def ordered(d: Any) -> tuple[np.ndarray, np.ndarray]:
            mem = sorted(members[d], key=lambda m: m[0])
            return mem[0][1], mem[1][1]

        for d in dyads:
            x, y = ordered(d)
            real_stats[d] = stat(x, y)
        candidates = [(i, j) for i in dyads for j in dyads if i != j]
        if len(candidates) > max_pairs:
            picks = gen.choice(len(candidates), size=max_pairs, replace=False)
            candidates = [candidates[k] for k in picks]
        values = []
        for i, j in candidates:
            if keep_roles:
                x, _ = ordered(i)  # the first role of the composition from dyad i
                _, y = ordered(j)  # the second role from dyad j
            else:
                x = members[i][int(gen.integers(2))][1]
                y = members[j][int(gen.integers(2))][1]
            values.append(stat(x, y))
        pools[comp] = np.asarray(values)
        info.append(
            {
                "composition": "–".join(comp),
                "roles_kept": keep_roles,
                "n_dyads": len(dyads),
                "n_pseudo_pairs": len(values),
            }
        )
    observed = float(np.mean(list(real_stats.values())))
    total = sum(len(d) for d in groups.values())
    null = np.empty(int(n))
    for k in range(int(n)):
        acc = 0.0
        for comp, dyads in groups.items():
            acc += float(np.sum(gen.choice(pools[comp], size=len(dyads), replace=True)))
        null[k] = acc / total
    effect, p = _finish(observed, null)
    return SurrogateResult(
        statistic,
        observed,
        null,
        effect,
        p,
        "pseudo_pairs",
        {
            **settings,
            "sampling_rate": fs,
            "compositions": info,
            "dyads": pd.DataFrame({"dyad": list(real_stats), statistic: list(real_stats.values())}),
        },
    )
