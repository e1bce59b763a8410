"""Numbers as APA 7 prints them: p-values, decimals chosen from the SE, true minus signs.

One place for how a number looks in a publication table, a path diagram or a methods
paragraph:

- ``format_p``: ``< .001``, ``.043``, ``> .999`` (no leading zero: p cannot exceed 1);
- ``decimals_for``: enough decimals that the SE shows two significant digits, at least
  two — so a per-unit effect on a 0–100 scale prints ``0.0213``, never ``0.02``;
- ``format_number``: a fixed number of decimals with a true minus sign (U+2212), and
  without the leading zero for quantities bounded by 1 (correlations, p, κ);
- ``stars``: ``***`` p < .001, ``**`` p < .01, ``*`` p < .05.

Examples
--------
>>> format_p(5.4e-213), format_p(0.0432), format_p(0.9996)
('< .001', '.043', '> .999')
>>> d = decimals_for(0.0041, 0.0213)
>>> d, format_number(0.0213, d), format_number(-0.416, 2)
(4, '0.0213', '−0.42')
>>> format_number(0.4392, 2, leading_zero=False)
'.44'
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "MINUS",
    "decimals_for",
    "format_df",
    "format_number",
    "format_p",
    "is_number",
    "stars",
]

#: the minus sign APA tables print (U+2212), not the hyphen
MINUS = "\u2212"
#: most decimals a table prints, however small the SE
MAX_DECIMALS = 6


def is_number(value: Any) -> bool:
    """True for a finite int or float (not bool, None or NaN)."""
    if isinstance(value, bool) or value is None:
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def decimals_for(se: Any, estimate: Any = None, *, minimum: int = 2) -> int:
    """Decimals that show the SE with two significant digits (at least ``minimum``).

    Without a usable SE, the estimate's own size decides (two significant digits).
    """
    ref = se if is_number(se) and float(se) > 0 else None
    if ref is None and is_number(estimate) and float(estimate) != 0:
        ref = estimate
    if ref is None:
        return minimum
    digits = 1 - math.floor(math.log10(abs(float(ref))))
    return max(minimum, min(MAX_DECIMALS, digits))


def format_number(value: Any, decimals: int = 2, *, leading_zero: bool = True) -> str:
    """``value`` with ``decimals`` decimals and a true minus sign; empty when missing.

    ``leading_zero=False`` drops the zero before the point (APA: for numbers that
    cannot exceed 1, such as correlations and proportions).
    """
    if not is_number(value):
        return ""
    text = f"{float(value):.{decimals}f}"
    if text.lstrip("-").strip("0.") == "":  # -0.00 → 0.00
        text = text.lstrip("-")
    if not leading_zero:
        if text.startswith("0."):
            text = text[1:]
        elif text.startswith("-0."):
            text = "-" + text[2:]
    return text.replace("-", MINUS)


def format_p(p: Any) -> str:
    """A p-value as APA prints it: ``< .001``, three decimals, ``> .999``; empty if missing."""
    if not is_number(p):
        return ""
    value = float(p)
    if value < 0.001:
        return "< .001"
    if value > 0.999:
        return "> .999"
    return format_number(value, 3, leading_zero=False)


def format_df(df: Any) -> str:
    """Degrees of freedom: an integer as such, a fractional df with one decimal."""
    if not is_number(df):
        return ""
    value = float(df)
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 else f"{value:.1f}"


def stars(p: Any) -> str:
    """Significance marks: ``***`` p < .001, ``**`` p < .01, ``*`` p < .05."""
    if not is_number(p):
        return ""
    value = float(p)
    return "***" if value < 0.001 else "**" if value < 0.01 else "*" if value < 0.05 else ""
