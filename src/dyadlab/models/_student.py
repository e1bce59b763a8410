"""Student's t in pure Python: the critical value and the power of a two-sided t test.

The analytic power of :func:`dyadlab.power.apim` needs two numbers per effect: the
critical value ``t(1 - alpha/2, df)`` and ``P(|T| > t)`` for a noncentral t. Computing
them here, with :mod:`math` only, keeps NumPy and SciPy out of ``dyadlab power apim``
(issue 21: SciPy's special functions take about 0.2 s to import). The results agree
with ``scipy.special.stdtrit`` and ``nctdtr`` to about 1e-13 (tests/models/test_student.py).

Both rest on the regularized incomplete beta function ``I_x(a, b)``: the two-sided tail
of a central t is ``I_y(df/2, 1/2)`` with ``y = df / (df + t²)``, and since ``T²`` is a
noncentral F with 1 and ``df`` degrees of freedom,

``P(|T| > t) = 1 - sum_j Pois(j; ncp²/2) I_x(j + 1/2, df/2)``,  ``x = t² / (df + t²)``,

summed outwards from the Poisson mode with the usual recurrences in ``a`` (Lenth,
1989, AS 243; Ding, 1992). The factor ``x^a y^b / B(a, b)`` is computed as in TOMS 708
(Didonato & Morris, 1992), from Stirling's series and ``log1p(z) - z``, so that it
stays accurate for the large ``a`` and ``b`` of large studies.

Examples
--------
>>> round(t_quantile(97, 0.975), 6)
1.984723
>>> round(two_sided_power(3.054073969211147, 97, 0.05), 6)
0.856276
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["beta_inc", "t_quantile", "two_sided_power"]

_HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)
_EPS = 1e-16
_TINY = 1e-300


def _stirling_correction(z: float) -> float:
    """``lgamma(z) - ((z - 1/2) ln z - z + ln √(2π))`` for ``z > 0``."""
    if z >= 10.0:
        r = 1.0 / z
        r2 = r * r
        return r * (
            1.0 / 12.0
            - r2
            * (
                1.0 / 360.0
                - r2
                * (
                    1.0 / 1260.0
                    - r2
                    * (1.0 / 1680.0 - r2 * (1.0 / 1188.0 - r2 * (691.0 / 360360.0 - r2 / 156.0)))
                )
            )
        )
    return math.lgamma(z) - ((z - 0.5) * math.log(z) - z + _HALF_LN_2PI)


def _log1pmx(z: float) -> float:
    """``log(1 + z) - z``, accurate also for small ``z`` (``z > -1``)."""
    if abs(z) >= 0.25:
        return math.log1p(z) - z  # pragma: no cover - the callers take logs directly
    # -z²/2 + z³/3 - z⁴/4 + …
    total = 0.0
    power = z * z
    k = 2
    while True:
        term = power / k
        total += -term if k % 2 == 0 else term
        if abs(term) <= 1e-17 * abs(total):
            return total
        power *= z
        k += 1


def _log_beta_factor(a: float, b: float, x: float, y: float) -> float:
    """``log(x^a y^b / B(a, b))`` with ``y = 1 - x`` given separately (TOMS 708 BRCOMP)."""
    d = x * b - y * a  # (a + b) x - a
    # a log(x (a+b)/a) + b log(y (a+b)/b) = a log1pmx(d/a) + b log1pmx(-d/b): the first
    # form where 1 + d/a itself would lose digits, the second where the d's would cancel
    za, zb = d / a, -d / b
    core = a * _log1pmx(za) if abs(za) < 0.25 else a * math.log(x * (a + b) / a) - d
    core += b * _log1pmx(zb) if abs(zb) < 0.25 else b * math.log(y * (a + b) / b) + d
    spread = 0.5 * math.log(a * b / (a + b)) - _HALF_LN_2PI
    correction = _stirling_correction(a) + _stirling_correction(b) - _stirling_correction(a + b)
    return core + spread - correction


def _lentz(num: float, d: float, c: float) -> tuple[float, float]:
    """One modified-Lentz update of ``D`` and ``C`` for the partial numerator ``num``."""
    d = 1.0 + num * d
    c = 1.0 + num / c
    return 1.0 / (d if abs(d) > _TINY else _TINY), (c if abs(c) > _TINY else _TINY)


def _continued_fraction(a: float, b: float, x: float, y: float) -> float:
    """The continued fraction of ``I_x(a, b)`` (modified Lentz), for x < (a+1)/(a+b+2)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = (qab * y + (1.0 - b)) / qap  # 1 - (a+b) x / (a+1), without cancelling when x ≈ 1
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        d, c = _lentz(m * (b - m) * x / ((qam + m2) * (a + m2)), d, c)
        even = d * c
        d, c = _lentz(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), d, c)
        odd = d * c
        h *= even * odd
        # both half-steps: their product can round to 1 long before they do
        if abs(odd - 1.0) <= _EPS and abs(even - 1.0) <= _EPS:
            return h
    raise ArithmeticError(f"incomplete beta: no convergence for a={a}, b={b}, x={x}")


def _series(a: float, b: float, x: float) -> float:
    """``sum_j (a+b)_j / (a+1)_j x^j``: ``I_x(a, b) = x^a y^b / (a B(a, b))`` times this.

    All terms are positive, so the sum keeps full precision; it is used where it needs
    few terms (``x <= 1/2`` and ``(a + b) x`` not far above ``a``).
    """
    total = term = 1.0
    j = 0
    while j < 1_000_000:
        ratio = (a + b + j) * x / (a + 1.0 + j)
        term *= ratio
        total += term
        j += 1
        ratio = (a + b + j) * x / (a + 1.0 + j)
        if ratio < 1.0 and term * ratio <= 1e-17 * (1.0 - ratio) * total:
            return total
    raise ArithmeticError(f"incomplete beta: no convergence for a={a}, b={b}, x={x}")


def beta_inc(a: float, b: float, x: float, y: float | None = None) -> float:
    """Regularized incomplete beta ``I_x(a, b)``; give ``y = 1 - x`` when known exactly.

    Examples
    --------
    >>> round(beta_inc(2.0, 3.0, 0.5), 12)  # 11/16
    0.6875
    """
    y = 1.0 - x if y is None else y
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    factor = math.exp(_log_beta_factor(a, b, x, y))
    # the positive series where it is short; the continued fraction elsewhere
    if x <= 0.5 and (a + b) * x <= a + 200.0:
        return factor * _series(a, b, x) / a
    if y <= 0.5 and (a + b) * y <= b + 200.0:
        complement = factor * _series(b, a, y) / b
        # 1 - complement loses the digits of a small I_x: there the continued fraction,
        # which converges well in the tail
        if complement <= 0.999 or x >= (a + 1.0) / (a + b + 2.0):
            return 1.0 - complement
    if x < (a + 1.0) / (a + b + 2.0):
        return factor * _continued_fraction(a, b, x, y) / a
    return 1.0 - factor * _continued_fraction(b, a, y, x) / b


def _two_sided_tail(t: float, df: float) -> float:
    """``P(|T| > t)`` for a central t with ``df`` degrees of freedom, ``t >= 0``."""
    t2 = t * t
    return beta_inc(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2))


def t_quantile(df: float, p: float) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (``p > 1/2``).

    Newton's method on the two-sided tail, from the Cornish–Fisher expansion.

    Examples
    --------
    >>> round(t_quantile(1, 0.975), 6)  # tan(0.475 π)
    12.706205
    """
    if not 0.5 < p < 1.0:
        raise ValueError(f"t_quantile: p={p!r} must be in (1/2, 1).")
    alpha = 2.0 * (1.0 - p)
    z = NormalDist().inv_cdf(p)
    z2 = z * z
    t = z * (
        1.0
        + (z2 + 1.0) / (4.0 * df)
        + (5.0 * z2 * z2 + 16.0 * z2 + 3.0) / (96.0 * df * df)
        + (3.0 * z2**3 + 19.0 * z2 * z2 + 17.0 * z2 - 15.0) / (384.0 * df**3)
    )
    log_norm = math.lgamma(0.5 * (df + 1.0)) - math.lgamma(0.5 * df) - 0.5 * math.log(df * math.pi)
    for _ in range(200):
        density = math.exp(log_norm - 0.5 * (df + 1.0) * math.log1p(t * t / df))
        step = (_two_sided_tail(t, df) - alpha) / (2.0 * density)
        new = t + step
        if new <= 0.0:
            new = 0.5 * t  # the tail is convex in t: from the left Newton never overshoots
        if abs(new - t) <= 2e-16 * new:
            return new
        t = new
    return t


def _poisson_mode(lam: float) -> tuple[int, float]:
    """The mode ``k`` of a Poisson(``lam``) and its probability (Loader's saddle point)."""
    k = math.floor(lam)
    if k == 0:
        return 0, math.exp(-lam)
    z = (k - lam) / lam
    bd0 = lam * ((1.0 + z) * _log1pmx(z) + z * z)  # k log(k/lam) + lam - k
    return k, math.exp(-_stirling_correction(k) - bd0) / math.sqrt(2.0 * math.pi * k)


def two_sided_power(ncp: float, df: float, alpha: float) -> float:
    """``P(|T| > t(1 - alpha/2, df))`` for a noncentral t with ``ncp`` and ``df``.

    Examples
    --------
    >>> round(two_sided_power(0.0, 10, 0.05), 12)
    0.05
    """
    crit = t_quantile(df, 1.0 - alpha / 2.0)
    c2 = crit * crit
    x, y = c2 / (df + c2), df / (df + c2)
    b = 0.5 * df
    lam = 0.5 * ncp * ncp
    k, p_mode = _poisson_mode(lam)
    a = k + 0.5
    i_mode = beta_inc(a, b, x, y)
    # T(a) = x^a y^b / (a B(a, b)) = I_x(a, b) - I_x(a + 1, b)
    t_mode = math.exp(_log_beta_factor(a, b, x, y)) / a
    total = p_mode * i_mode
    # upwards from the mode: p and I both fall
    p, i, t, j = p_mode, i_mode, t_mode, k
    while True:
        i -= t
        t *= x * (j + 0.5 + b) / (j + 1.5)
        j += 1
        p *= lam / j
        term = p * max(i, 0.0)
        total += term
        if term <= 1e-18 * total or p == 0.0:
            break
    # downwards from the mode: I rises, p falls
    p, i, t, j = p_mode, i_mode, t_mode, k
    while j > 0 and p > 1e-18 * total:
        t *= (j + 0.5) / (x * (j - 0.5 + b))  # T(a - 1) from T(a)
        i += t
        p *= j / lam
        j -= 1
        total += p * i
    return min(max(1.0 - total, 0.0), 1.0)
