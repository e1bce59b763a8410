"""Simulated couples' data with known parameters, for tests, benchmarks and the demo.

Each simulator draws from one documented Gaussian model, returns data in individual
(long) format — one row per person, or per person-occasion — and stores the parameters
it used in ``df.attrs["truth"]``:

- :func:`simulate_apim` — cross-sectional actor–partner interdependence model;
- :func:`simulate_diary` — daily diaries: random intercepts, within-occasion and AR(1)
  residual dependence, optional random slopes and missing person-days;
- :func:`simulate_truth_bias` — partners judging each other (West & Kenny, 2011).

``df.attrs["truth"]["effects"]`` is a list of rows ``{"effect", "predictor", "role",
"value"}`` named like the rows of a model's ``.estimates``, so that
``pandas.DataFrame(truth["effects"])`` can be merged with them.

All randomness comes from ``rng=`` (an int seed or a :class:`numpy.random.Generator`);
the same seed always gives the same data. Every draw is vectorised over dyads, so
10,000 couples × 56 days take well under a second of arithmetic.

Examples
--------
>>> df = simulate_apim(500, actor=0.5, partner=0.2, rng=1)
>>> df.columns.tolist()
['dyad', 'person', 'role', 'x', 'y']
>>> df.attrs["truth"]["actor"]
{'wife': 0.5, 'husband': 0.5}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_range
from dyadlab.exceptions import OptionError

__all__ = ["simulate_apim", "simulate_diary", "simulate_truth_bias"]

RngLike = int | np.random.Generator | np.random.SeedSequence | None
PerRole = float | Sequence[float]


# --- argument checks --------------------------------------------------------------------


def _rng(rng: Any, *, func: str) -> np.random.Generator:
    if isinstance(rng, bool) or not (
        rng is None
        or isinstance(rng, int | np.integer | np.random.Generator | np.random.SeedSequence)
    ):
        raise OptionError(
            f"{func}(): rng={rng!r} is not allowed; give an int seed or a "
            "numpy.random.Generator (e.g. rng=1 or rng=numpy.random.default_rng(1))."
        )
    if isinstance(rng, int | np.integer) and rng < 0:
        raise OptionError(f"{func}(): rng={rng!r} is not allowed; a seed must be 0 or more.")
    return np.random.default_rng(rng)


def _count(argument: str, value: Any, *, func: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise OptionError(
            f"{func}(): {argument}={value!r} is not allowed; it must be a whole number of at "
            f"least {low}."
        )
    return int(value)


def _roles(roles: Any, *, func: str) -> tuple[str, str]:
    if (
        isinstance(roles, str)
        or not isinstance(roles, Sequence)
        or len(roles) != 2
        or str(roles[0]) == str(roles[1])
    ):
        raise OptionError(
            f"{func}(): roles={roles!r} is not allowed; give two different names, "
            "e.g. roles=('wife', 'husband')."
        )
    return str(roles[0]), str(roles[1])


def _per_role(argument: str, value: Any, *, func: str, positive: bool = False) -> np.ndarray:
    """Return a length-2 float array from a scalar (both roles) or a per-role pair."""
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else np.array([np.nan])
    if arr.ndim == 0:
        arr = np.repeat(arr, 2)
    if arr.shape != (2,) or not np.all(np.isfinite(arr)) or (positive and np.any(arr <= 0)):
        what = "a positive number" if positive else "a number"
        raise OptionError(
            f"{func}(): {argument}={value!r} is not allowed; give {what} or a pair of them, "
            f"one per role (e.g. {argument}=(0.5, 0.3))."
        )
    return arr


def _effects(argument: str, value: Any, n_predictors: int, *, func: str) -> np.ndarray:
    """Return a (2, n_predictors) array: scalar, per-role pair, or (2, p) array."""
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else np.array([np.nan])
    if arr.ndim == 0:
        arr = np.full((2, n_predictors), float(arr))
    elif arr.shape == (2,):
        arr = np.repeat(arr[:, None], n_predictors, axis=1)
    if arr.shape != (2, n_predictors) or not np.all(np.isfinite(arr)):
        raise OptionError(
            f"{func}(): {argument}={value!r} is not allowed; give a number, a pair (one per "
            f"role), or a 2 x {n_predictors} array (role x predictor)."
        )
    return arr


def _correlation(argument: str, value: Any, *, func: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise OptionError(
            f"{func}(): {argument}={value!r} is not allowed; give a correlation strictly "
            "between -1 and 1."
        )
    return float(
        check_range(argument, float(value), func=func, low=-1.0, high=1.0, inclusive=False)
    )


def _covariance(argument: str, value: Any, *, func: str) -> np.ndarray:
    """Return a symmetric positive semi-definite 2x2 matrix (a scalar v means v * I)."""
    arr = np.asarray(value, dtype=float) if not isinstance(value, str) else np.array([np.nan])
    if arr.ndim == 0:
        arr = float(arr) * np.eye(2)
    ok = arr.shape == (2, 2) and bool(np.all(np.isfinite(arr)))
    if ok and not np.allclose(arr, arr.T):
        raise OptionError(
            f"{func}(): {argument}={value!r} is not symmetric. Give a covariance matrix "
            "[[var_1, cov], [cov, var_2]]."
        )
    if not ok or np.linalg.eigvalsh(arr).min() < -1e-12:
        raise OptionError(
            f"{func}(): {argument}={value!r} is not a positive semi-definite 2 x 2 covariance "
            "matrix. Give [[var_1, cov], [cov, var_2]] with variances >= 0 and "
            "cov**2 <= var_1 * var_2."
        )
    return arr


def _same_for_both(values: Mapping[str, np.ndarray], *, func: str) -> None:
    """Indistinguishable dyads: both members must have the same parameters."""
    for name, arr in values.items():
        if not np.allclose(arr[0], arr[1]):
            raise OptionError(
                f"{func}(): {name} differs between the two members ({arr.tolist()}), but "
                "distinguishable=False makes the members interchangeable. Give one value "
                "or set distinguishable=True."
            )


def _slope_sds(value: Any, names: Sequence[str], *, func: str, argument: str) -> np.ndarray:
    """Random-effect SDs from None, a mapping name -> SD, or a sequence in ``names`` order."""
    if value is None:
        return np.zeros(len(names))
    if isinstance(value, Mapping):
        unknown = sorted(set(map(str, value)) - set(names))
        if unknown:
            raise OptionError(
                f"{func}(): {argument} names {unknown[0]!r}; allowed: "
                f"{', '.join(repr(n) for n in names)}."
            )
        arr = np.array([float(value.get(n, 0.0)) for n in names])
    else:
        arr = np.asarray(value, dtype=float).reshape(-1)
    if arr.shape != (len(names),) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise OptionError(
            f"{func}(): {argument}={value!r} is not allowed; give standard deviations >= 0 "
            f"for {', '.join(repr(n) for n in names)}, as a dict or in that order."
        )
    return arr


# --- shared building blocks -------------------------------------------------------------


def _bivariate(
    rng: np.random.Generator, shape: tuple[int, ...], sd: np.ndarray, r: float
) -> np.ndarray:
    """Draw pairs of shape ``shape + (2,)`` with SDs ``sd`` (per member) and correlation r."""
    z = rng.standard_normal((*shape, 2))
    first = z[..., 0]
    second = r * z[..., 0] + np.sqrt(1.0 - r * r) * z[..., 1]
    out: np.ndarray = np.stack([first, second], axis=-1) * sd
    return out


def _frame(
    columns: dict[str, np.ndarray],
    *,
    n_dyads: int,
    n_times: int | None,
    roles: tuple[str, str],
    distinguishable: bool,
) -> pd.DataFrame:
    """Build the individual-format frame from (n_dyads, [n_times,] 2) arrays.

    Rows are ordered by dyad, then time, then member; person ids are 1..2n, the first
    member of dyad d being person 2d - 1.
    """
    shape = (n_dyads, 2) if n_times is None else (n_dyads, n_times, 2)
    dyad = np.broadcast_to(np.arange(1, n_dyads + 1).reshape(-1, *([1] * (len(shape) - 1))), shape)
    member = np.broadcast_to(np.arange(2), shape)
    out: dict[str, Any] = {"dyad": dyad.ravel(), "person": (2 * dyad + member - 1).ravel()}
    if distinguishable:
        out["role"] = pd.array(np.asarray(roles, dtype=object)[member.ravel()], dtype="str")
    if n_times is not None:
        out["time"] = np.broadcast_to(np.arange(n_times)[None, :, None], shape).ravel()
    for name, values in columns.items():
        out[name] = np.asarray(values).reshape(shape).ravel()
    return pd.DataFrame(out)


def _role_dict(values: np.ndarray, roles: tuple[str, str], distinguishable: bool) -> Any:
    if not distinguishable:
        return float(values[0])
    return {roles[0]: float(values[0]), roles[1]: float(values[1])}


def _effect_rows(
    effects: Mapping[str, np.ndarray],
    predictors: Sequence[str | None],
    roles: tuple[str, str],
    distinguishable: bool,
) -> list[dict[str, Any]]:
    """Rows ``{effect, predictor, role, value}``; one per role, or pooled if indistinguishable."""
    rows = []
    for effect, values in effects.items():
        arr = np.asarray(values, dtype=float).reshape(2, -1)
        for k, predictor in enumerate(predictors if arr.shape[1] > 1 else predictors[:1]):
            members = range(2) if distinguishable else range(1)
            for j in members:
                rows.append(
                    {
                        "effect": effect,
                        "predictor": predictor,
                        "role": roles[j] if distinguishable else None,
                        "value": float(arr[j, k]),
                    }
                )
    return rows


# --- APIM ---------------------------------------------------------------------------------


def simulate_apim(
    n_dyads: int,
    *,
    actor: PerRole = 0.4,
    partner: PerRole = 0.2,
    intercept: PerRole = 0.0,
    r_x: float = 0.3,
    r_e: float = 0.4,
    sd_x: PerRole = 1.0,
    sd_e: PerRole = 1.0,
    distinguishable: bool = True,
    roles: Sequence[str] = ("wife", "husband"),
    n_predictors: int = 1,
    rng: RngLike = None,
) -> pd.DataFrame:
    """Simulate cross-sectional dyads from the actor–partner interdependence model.

    Parameters
    ----------
    n_dyads : int
        Number of dyads (at least 1).
    actor, partner : float, pair, or 2 x n_predictors array
        Actor and partner effects: one value for both members, one per role
        (``(wife, husband)``), or one per role and predictor.
    intercept, sd_e : float or pair
        Intercept and residual SD of y, for both members or per role.
    r_x : float
        Correlation of the partners' x (each predictor), in (-1, 1).
    r_e : float
        Correlation of the partners' residuals, in (-1, 1).
    sd_x : float or pair
        SD of x, for both members or per role. Every x has mean 0.
    distinguishable : bool
        If False, members are interchangeable: per-role values must be equal and the
        ``role`` column is left out.
    roles : pair of str
        Role names, first member first.
    n_predictors : int
        Number of predictors; columns ``x`` if 1, else ``x1``, ``x2``, …
        (independent of each other).
    rng : int or numpy.random.Generator, optional
        Seed or generator; the only source of randomness.

    Returns
    -------
    pandas.DataFrame
        One row per person, ordered by dyad, first member first: ``dyad`` (1..n),
        ``person`` (1..2n), ``role`` (if distinguishable), ``x`` or ``x1``…, ``y``.
        ``df.attrs["truth"]`` holds every parameter and ``"effects"``, rows
        ``{effect, predictor, role, value}`` for ``intercept``, ``actor``, ``partner``.

    Raises
    ------
    OptionError
        An argument out of range, e.g. ``n_dyads < 1`` or ``|r_e| >= 1``.

    Notes
    -----
    For dyad :math:`i`, member :math:`j` with partner :math:`j'` and predictor :math:`k`:

    .. math::

        y_{ij} = \\beta_{0j} + \\sum_k a_{jk} x_{ijk} + \\sum_k p_{jk} x_{ij'k} + e_{ij},

    :math:`(x_{i1k}, x_{i2k})` bivariate normal with means 0, SDs ``sd_x`` and
    correlation ``r_x``; :math:`(e_{i1}, e_{i2})` bivariate normal with means 0, SDs
    ``sd_e`` and correlation ``r_e``; all independent across dyads (Kenny, Kashy &
    Cook, 2006, ch. 7).

    Examples
    --------
    >>> df = simulate_apim(3, actor=(0.5, 0.4), partner=0.1, rng=7)
    >>> df.shape
    (6, 5)
    >>> df.attrs["truth"]["partner"]
    {'wife': 0.1, 'husband': 0.1}
    """
    func = "simulate_apim"
    n_dyads = _count("n_dyads", n_dyads, func=func)
    n_predictors = _count("n_predictors", n_predictors, func=func)
    role_names = _roles(roles, func=func)
    a = _effects("actor", actor, n_predictors, func=func)
    p = _effects("partner", partner, n_predictors, func=func)
    b0 = _per_role("intercept", intercept, func=func)
    sx = _per_role("sd_x", sd_x, func=func, positive=True)
    se = _per_role("sd_e", sd_e, func=func, positive=True)
    rx = _correlation("r_x", r_x, func=func)
    re = _correlation("r_e", r_e, func=func)
    if not distinguishable:
        _same_for_both(
            {"actor": a, "partner": p, "intercept": b0, "sd_x": sx, "sd_e": se}, func=func
        )
    gen = _rng(rng, func=func)

    x = _bivariate(gen, (n_predictors, n_dyads), sx, rx)  # (k, i, j)
    e = _bivariate(gen, (n_dyads,), se, re)  # (i, j)
    y = b0 + e + np.einsum("jk,kij->ij", a, x) + np.einsum("jk,kij->ij", p, x[..., ::-1])

    names = ["x"] if n_predictors == 1 else [f"x{k + 1}" for k in range(n_predictors)]
    columns = {name: x[k] for k, name in enumerate(names)}
    columns["y"] = y
    df = _frame(
        columns, n_dyads=n_dyads, n_times=None, roles=role_names, distinguishable=distinguishable
    )
    per_predictor = (
        (lambda m: _role_dict(m[:, 0], role_names, distinguishable))
        if n_predictors == 1
        else (
            lambda m: {
                name: _role_dict(m[:, k], role_names, distinguishable)
                for k, name in enumerate(names)
            }
        )
    )
    df.attrs["truth"] = {
        "model": "apim",
        "n_dyads": n_dyads,
        "distinguishable": bool(distinguishable),
        "roles": list(role_names) if distinguishable else None,
        "predictors": names,
        "actor": per_predictor(a),
        "partner": per_predictor(p),
        "intercept": _role_dict(b0, role_names, distinguishable),
        "r_x": rx,
        "r_e": re,
        "sd_x": _role_dict(sx, role_names, distinguishable),
        "sd_e": _role_dict(se, role_names, distinguishable),
        "effects": _effect_rows({"intercept": b0}, [None], role_names, distinguishable)
        + _effect_rows({"actor": a, "partner": p}, names, role_names, distinguishable),
    }
    return df


# --- diary ----------------------------------------------------------------------------------


def _draw_covariance(rng: np.random.Generator, cov: np.ndarray, n: int) -> np.ndarray:
    """Draw n pairs from N(0, cov); cov may be singular (e.g. no random intercepts)."""
    values, vectors = np.linalg.eigh(cov)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    out: np.ndarray = rng.standard_normal((n, 2)) @ root.T
    return out


def _ar1_residuals(
    rng: np.random.Generator, n_dyads: int, n_days: int, sigma: np.ndarray, rho: float, phi: float
) -> np.ndarray:
    """Residuals (n_dyads, n_days, 2) with Cov(e_jt, e_j's) = Sigma_jj' * phi**|t - s|.

    A stationary bivariate AR(1) with the same coefficient for both members: the first
    day is drawn from N(0, Sigma), later days add innovations from N(0, (1 - phi²) Sigma).
    """
    innovations = _bivariate(rng, (n_dyads, n_days), sigma, rho)
    if phi == 0.0:
        return innovations
    e = np.empty_like(innovations)
    e[:, 0] = innovations[:, 0]
    scale = np.sqrt(1.0 - phi * phi)
    for t in range(1, n_days):
        e[:, t] = phi * e[:, t - 1] + scale * innovations[:, t]
    return e


def simulate_diary(
    n_dyads: int,
    n_days: int,
    *,
    actor: PerRole = 0.3,
    partner: PerRole = 0.15,
    intercept: PerRole = 0.0,
    tau: Any = ((0.5, 0.2), (0.2, 0.5)),
    sigma: PerRole = 1.0,
    rho: float = 0.3,
    ar1: float = 0.0,
    kronecker: bool = False,
    x_icc: float = 0.3,
    sd_x: float = 1.0,
    r_x: float = 0.0,
    random_slopes: Any = None,
    missing: float = 0.0,
    distinguishable: bool = True,
    roles: Sequence[str] = ("wife", "husband"),
    rng: RngLike = None,
) -> pd.DataFrame:
    """Simulate a couples' daily-diary study (both partners report every day).

    Parameters
    ----------
    n_dyads, n_days : int
        Number of couples and of days (each at least 1).
    actor, partner, intercept : float or pair
        Fixed effects, for both members or per role.
    tau : 2 x 2 array or float
        Covariance matrix of the members' random intercepts (a float v means v * I);
        positive semi-definite (all zeros: no random intercepts).
    sigma : float or pair
        Residual SD per role.
    rho : float
        Correlation of the partners' residuals on the same day, in (-1, 1).
    ar1 : float
        AR(1) coefficient of each person's residuals over days, in (-1, 1).
    kronecker : bool
        Must be True to combine ``rho != 0`` with ``ar1 != 0``; the residuals then follow
        the unstructured 2 x 2 ⊗ AR(1) structure. With False, give one of the two:
        ``rho`` alone (partners correlated within a day, ``--residual cs``) or ``ar1``
        alone (AR(1) within person, partners independent, ``--residual ar1``).
    x_icc : float
        Share of the variance of x that lies between persons, in [0, 1].
    sd_x : float
        Total SD of x (mean 0).
    r_x : float
        Correlation of the partners' x, at both the person and the day level.
    random_slopes : dict or pair, optional
        SDs of the person-specific deviations of the actor and partner slopes,
        ``{"actor": 0.1, "partner": 0.05}`` or ``(0.1, 0.05)``. Default: none.
    missing : float
        Share of person-days removed at random, in [0, 1): exactly
        ``round(missing * n_rows)`` rows go, leaving unbalanced data.
    distinguishable : bool
        If False, per-role values must be equal (and ``tau``'s variances too); the
        ``role`` column is left out.
    roles : pair of str
        Role names, first member first.
    rng : int or numpy.random.Generator, optional
        Seed or generator; the only source of randomness.

    Returns
    -------
    pandas.DataFrame
        One row per person-day, ordered by dyad, day, member: ``dyad``, ``person``,
        ``role`` (if distinguishable), ``time`` (0..n_days-1), ``x``, ``y``.
        ``df.attrs["truth"]`` holds every parameter, ``n_removed`` and ``effects``.

    Raises
    ------
    OptionError
        An argument out of range: ``n_dyads < 1``, ``|rho| >= 1``, a ``tau`` that is not
        a covariance matrix, ``rho`` and ``ar1`` both set without ``kronecker=True``, …

    Notes
    -----
    For dyad :math:`i`, member :math:`j` (partner :math:`j'`), day :math:`t`:

    .. math::

        x_{ijt} = b_{ij} + w_{ijt}, \\qquad
        y_{ijt} = \\beta_{0j} + u_{ij} + (a_j + \\alpha_{ij}) x_{ijt}
                  + (p_j + \\pi_{ij}) x_{ij't} + e_{ijt},

    with :math:`(b_{i1}, b_{i2})` normal with variance ``x_icc * sd_x**2`` and
    :math:`(w_{i1t}, w_{i2t})` with variance ``(1 - x_icc) * sd_x**2``, each pair
    correlated ``r_x``; :math:`(u_{i1}, u_{i2}) \\sim N(0, \\tau)`;
    :math:`\\alpha_{ij}, \\pi_{ij}` independent normal with the ``random_slopes`` SDs;
    and :math:`\\operatorname{Cov}(e_{ijt}, e_{ij's}) = \\Sigma_{jj'}\\,\\phi^{|t-s|}`,
    :math:`\\Sigma = [[\\sigma_1^2, \\rho\\sigma_1\\sigma_2], [\\cdot, \\sigma_2^2]]`,
    :math:`\\phi` = ``ar1`` (a stationary process from day 0). Missing person-days are
    removed after y is made, so a partner's x still acts on days it is not observed.
    This is the model behind ``nlme::lme(y ~ 0 + role + role:x + role:x_partner,
    random = ~ 0 + role | dyad, ...)`` (Bolger & Laurenceau, 2013, ch. 8).

    Examples
    --------
    >>> df = simulate_diary(50, 14, ar1=0.3, rho=0.0, missing=0.1, rng=3)
    >>> df.columns.tolist()
    ['dyad', 'person', 'role', 'time', 'x', 'y']
    >>> len(df), df.attrs["truth"]["n_removed"]
    (1260, 140)
    """
    func = "simulate_diary"
    n_dyads = _count("n_dyads", n_dyads, func=func)
    n_days = _count("n_days", n_days, func=func)
    role_names = _roles(roles, func=func)
    a = _per_role("actor", actor, func=func)
    p = _per_role("partner", partner, func=func)
    b0 = _per_role("intercept", intercept, func=func)
    s = _per_role("sigma", sigma, func=func, positive=True)
    cov_u = _covariance("tau", tau, func=func)
    rho = _correlation("rho", rho, func=func)
    phi = _correlation("ar1", ar1, func=func)
    rx = _correlation("r_x", r_x, func=func)
    check_range("x_icc", float(x_icc), func=func, low=0.0, high=1.0)
    sx = float(_per_role("sd_x", sd_x, func=func, positive=True)[0])
    check_range("missing", float(missing), func=func, low=0.0)
    check_range("missing", float(missing), func=func, high=1.0, inclusive=False)
    slopes = _slope_sds(random_slopes, ("actor", "partner"), func=func, argument="random_slopes")
    if rho != 0.0 and phi != 0.0 and not kronecker:
        raise OptionError(
            f"{func}(): rho={rho!r} and ar1={phi!r} are both set, which needs kronecker=True "
            "(residuals unstructured 2 x 2 ⊗ AR(1)). Set kronecker=True, or rho=0 for AR(1) "
            "within person, or ar1=0 for partners correlated within a day."
        )
    if not distinguishable:
        _same_for_both(
            {
                "actor": a,
                "partner": p,
                "intercept": b0,
                "sigma": s,
                "the variance in tau": np.diag(cov_u),
            },
            func=func,
        )
    gen = _rng(rng, func=func)

    between = _bivariate(gen, (n_dyads,), np.sqrt(x_icc) * sx * np.ones(2), rx)
    within = _bivariate(gen, (n_dyads, n_days), np.sqrt(1.0 - x_icc) * sx * np.ones(2), rx)
    x = between[:, None, :] + within  # (i, t, j)
    u = _draw_covariance(gen, cov_u, n_dyads)  # (i, j)
    slope_a = a + slopes[0] * gen.standard_normal((n_dyads, 2))
    slope_p = p + slopes[1] * gen.standard_normal((n_dyads, 2))
    e = _ar1_residuals(gen, n_dyads, n_days, s, rho, phi)
    y = (b0 + u)[:, None, :] + slope_a[:, None, :] * x + slope_p[:, None, :] * x[..., ::-1] + e

    df = _frame(
        {"x": x, "y": y},
        n_dyads=n_dyads,
        n_times=n_days,
        roles=role_names,
        distinguishable=distinguishable,
    )
    n_rows = len(df)
    n_removed = round(float(missing) * n_rows)
    if n_removed >= n_rows:
        raise OptionError(
            f"{func}(): missing={missing!r} would remove all {n_rows} person-days. Give a "
            "smaller share, or more dyads or days."
        )
    if n_removed:
        keep = np.ones(n_rows, dtype=bool)
        keep[gen.choice(n_rows, size=n_removed, replace=False)] = False
        df = df.loc[keep].reset_index(drop=True)
    df.attrs["truth"] = {
        "model": "diary",
        "n_dyads": n_dyads,
        "n_days": n_days,
        "distinguishable": bool(distinguishable),
        "roles": list(role_names) if distinguishable else None,
        "actor": _role_dict(a, role_names, distinguishable),
        "partner": _role_dict(p, role_names, distinguishable),
        "intercept": _role_dict(b0, role_names, distinguishable),
        "tau": cov_u.tolist(),
        "sigma": _role_dict(s, role_names, distinguishable),
        "rho": rho,
        "ar1": phi,
        "kronecker": bool(kronecker),
        "x_icc": float(x_icc),
        "sd_x": sx,
        "r_x": rx,
        "random_slopes": {"actor": float(slopes[0]), "partner": float(slopes[1])},
        "missing": float(missing),
        "n_removed": int(n_removed),
        "effects": _effect_rows({"intercept": b0}, [None], role_names, distinguishable)
        + _effect_rows({"actor": a, "partner": p}, ["x"], role_names, distinguishable),
    }
    return df


# --- truth and bias -------------------------------------------------------------------------


def simulate_truth_bias(
    n_dyads: int,
    n_occasions: int = 1,
    *,
    truth_force: PerRole = 0.5,
    assumed_similarity: PerRole = 0.2,
    directional_bias: PerRole = 0.3,
    truth_mean: float = 0.0,
    truth_sd: PerRole = 1.0,
    r_truth: float = 0.3,
    truth_icc: float = 0.5,
    error_sd: PerRole = 1.0,
    r_error: float = 0.2,
    random_sd: Any = None,
    distinguishable: bool = True,
    roles: Sequence[str] = ("wife", "husband"),
    rng: RngLike = None,
) -> pd.DataFrame:
    """Simulate partners judging each other: the truth and bias model of West & Kenny.

    Each person reports on themselves (``truth``) and judges their partner on the same
    attribute (``judgment``); the partner's self-report is the truth the judgment aims at.

    Parameters
    ----------
    n_dyads : int
        Number of couples (at least 1).
    n_occasions : int
        Occasions per person (1: cross-sectional; more: e.g. daily judgments).
    truth_force, assumed_similarity, directional_bias : float or pair
        Fixed effects t, s and d of the model below, for both members or per role.
    truth_mean : float
        Population mean M of the truth (the same for both members).
    truth_sd : float or pair
        SD of the truth per role.
    r_truth : float
        Correlation of the partners' truths (at the person and the occasion level).
    truth_icc : float
        With several occasions: share of the truth's variance between persons, in [0, 1].
    error_sd : float or pair
        SD of the judgment error per role.
    r_error : float
        Correlation of the partners' judgment errors on the same occasion.
    random_sd : dict or triple, optional
        SDs of person-specific deviations of ``directional_bias``, ``truth_force`` and
        ``assumed_similarity`` (dict with those keys, or a triple in that order).
    distinguishable : bool
        If False, per-role values must be equal and the ``role`` column is left out.
    roles : pair of str
        Role names, first member first.
    rng : int or numpy.random.Generator, optional
        Seed or generator; the only source of randomness.

    Returns
    -------
    pandas.DataFrame
        One row per person (per occasion), ordered by dyad, occasion, member: ``dyad``,
        ``person``, ``role`` (if distinguishable), ``time`` (0..n_occasions-1; only if
        ``n_occasions > 1``), ``judgment`` (of the partner), ``truth`` (own
        self-report). ``df.attrs["truth"]`` holds every parameter and ``effects`` rows
        named ``directional_bias``, ``truth`` (truth force) and ``assumed_similarity``.

    Raises
    ------
    OptionError
        An argument out of range, e.g. ``n_dyads < 1`` or ``|r_error| >= 1``.

    Notes
    -----
    For dyad :math:`i`, member :math:`j` judging partner :math:`j'` at occasion
    :math:`t`, with truths :math:`T_{ijt} = M + B_{ij} + W_{ijt}`:

    .. math::

        J_{ijt} = M + (d_j + \\delta_{ij}) + (t_j + \\tau_{ij})(T_{ij't} - M)
                  + (s_j + \\sigma_{ij})(T_{ijt} - M) + \\varepsilon_{ijt}.

    :math:`(B_{i1}, B_{i2})` are normal with SDs ``sqrt(truth_icc) * truth_sd``,
    :math:`(W_{i1t}, W_{i2t})` with SDs ``sqrt(1 - truth_icc) * truth_sd`` (with one
    occasion, B is absent and W has SD ``truth_sd``), each pair correlated
    ``r_truth``; :math:`(\\varepsilon_{i1t}, \\varepsilon_{i2t})` are normal with SDs
    ``error_sd`` and correlation ``r_error``, independent over occasions;
    :math:`\\delta, \\tau, \\sigma` are person-level normal deviations with the
    ``random_sd`` SDs. So with judgment and truth centred on M, the intercept is the
    directional bias d, the slope of the partner's truth is the truth force t and the
    slope of the judge's own truth is the assumed similarity s (West & Kenny, 2011).
    A model centres on the sample mean of truth, which differs from M by sampling
    error only.

    References
    ----------
    West, T. V., & Kenny, D. A. (2011). The truth and bias model of judgment.
    Psychological Review, 118(2), 357–378.

    Examples
    --------
    >>> df = simulate_truth_bias(100, truth_force=0.6, rng=5)
    >>> df.columns.tolist()
    ['dyad', 'person', 'role', 'judgment', 'truth']
    >>> df.attrs["truth"]["truth_force"]
    {'wife': 0.6, 'husband': 0.6}
    """
    func = "simulate_truth_bias"
    n_dyads = _count("n_dyads", n_dyads, func=func)
    n_occasions = _count("n_occasions", n_occasions, func=func)
    role_names = _roles(roles, func=func)
    t = _per_role("truth_force", truth_force, func=func)
    s = _per_role("assumed_similarity", assumed_similarity, func=func)
    d = _per_role("directional_bias", directional_bias, func=func)
    sd_truth = _per_role("truth_sd", truth_sd, func=func, positive=True)
    sd_error = _per_role("error_sd", error_sd, func=func, positive=True)
    mean = float(_per_role("truth_mean", truth_mean, func=func)[0])
    r_t = _correlation("r_truth", r_truth, func=func)
    r_e = _correlation("r_error", r_error, func=func)
    check_range("truth_icc", float(truth_icc), func=func, low=0.0, high=1.0)
    names = ("directional_bias", "truth_force", "assumed_similarity")
    random = _slope_sds(random_sd, names, func=func, argument="random_sd")
    if not distinguishable:
        _same_for_both(
            {
                "truth_force": t,
                "assumed_similarity": s,
                "directional_bias": d,
                "truth_sd": sd_truth,
                "error_sd": sd_error,
            },
            func=func,
        )
    gen = _rng(rng, func=func)

    icc = float(truth_icc) if n_occasions > 1 else 0.0
    person_level = _bivariate(gen, (n_dyads,), np.sqrt(icc) * sd_truth, r_t)
    occasion_level = _bivariate(gen, (n_dyads, n_occasions), np.sqrt(1.0 - icc) * sd_truth, r_t)
    dev = person_level[:, None, :] + occasion_level  # T - M, (i, t, j)
    person = gen.standard_normal((3, n_dyads, 2)) * random[:, None, None]
    bias = (d + person[0])[:, None, :]
    force = (t + person[1])[:, None, :]
    similarity = (s + person[2])[:, None, :]
    error = _bivariate(gen, (n_dyads, n_occasions), sd_error, r_e)
    judgment = mean + bias + force * dev[..., ::-1] + similarity * dev + error

    df = _frame(
        {"judgment": judgment, "truth": mean + dev},
        n_dyads=n_dyads,
        n_times=n_occasions if n_occasions > 1 else None,
        roles=role_names,
        distinguishable=distinguishable,
    )
    df.attrs["truth"] = {
        "model": "truth_bias",
        "n_dyads": n_dyads,
        "n_occasions": n_occasions,
        "distinguishable": bool(distinguishable),
        "roles": list(role_names) if distinguishable else None,
        "truth_force": _role_dict(t, role_names, distinguishable),
        "assumed_similarity": _role_dict(s, role_names, distinguishable),
        "directional_bias": _role_dict(d, role_names, distinguishable),
        "truth_mean": mean,
        "truth_sd": _role_dict(sd_truth, role_names, distinguishable),
        "r_truth": r_t,
        "truth_icc": icc,
        "error_sd": _role_dict(sd_error, role_names, distinguishable),
        "r_error": r_e,
        "random_sd": dict(zip(names, map(float, random), strict=True)),
        "effects": _effect_rows(
            {"directional_bias": d, "truth": t, "assumed_similarity": s},
            [None],
            role_names,
            distinguishable,
        ),
    }
    return df
