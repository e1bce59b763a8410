"""Argument checks with one message template.

Every check raises with a message of the form
``"{func}(): {argument} {problem}. {how to fix}"`` so that users always learn what is
wrong, in which argument, what was allowed, and what to do.

Examples
--------
>>> check_option("method", "sem", ("sem", "mlm"), func="apim")
'sem'
"""

from __future__ import annotations

import difflib
import sys
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dyadlab.exceptions import DyadicDataError, OptionError

if TYPE_CHECKING:  # pandas loads with the first data check, not with the CLI
    import pandas as pd

__all__ = [
    "check_columns",
    "check_numeric",
    "check_option",
    "check_range",
    "closest",
    "estimator_option",
    "outside_stacklevel",
    "show_ids",
]

_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def outside_stacklevel() -> int:
    """The ``stacklevel`` that points a warning issued by the caller of this function at
    the first frame outside dyadlab (the user's line), however deep dyadlab's calls go."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def estimator_option(estimator: str, method: str | None, *, func: str) -> str:
    """The checked ``estimator`` ("REML" or "ML"), accepting the deprecated ``method=``.

    ``method`` chooses between model families (the APIM's ``"sem"``/``"mlm"``);
    REML or ML is chosen by ``estimator``. The old spelling ``method="ML"`` still
    works, with a :class:`FutureWarning`.

    Examples
    --------
    >>> estimator_option("ML", None, func="diary")
    'ML'
    """
    if method is not None:
        if estimator != "REML" and estimator != method:
            raise OptionError(
                f"{func}(): method={method!r} and estimator={estimator!r} disagree; give "
                "only estimator= (method= is its deprecated old name)."
            )
        warnings.warn(
            f'{func}(): method= is deprecated for REML/ML; use estimator="{method}".',
            FutureWarning,
            stacklevel=outside_stacklevel(),
        )
        estimator = method
    return str(check_option("estimator", estimator, ("REML", "ML"), func=func))


def show_ids(ids: Sequence[Any], limit: int = 5) -> str:
    """The first ``limit`` ids as a message shows them: strings quoted, numbers plain.

    NumPy scalars print as Python numbers (NumPy 2 would write ``np.int64(5)``).

    Examples
    --------
    >>> import numpy as np
    >>> show_ids([np.int64(5), "a", 7, 8, 9, 10])
    "5, 'a', 7, 8, 9 and 1 more"
    """
    items = list(ids)
    shown = ", ".join(
        repr(i) if isinstance(i, str) else str(i.item() if hasattr(i, "item") else i)
        for i in items[:limit]
    )
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate most similar to ``name``, or None if none is close."""
    names = [str(c) for c in candidates]
    lowered = {c.lower(): c for c in names}
    if name.lower() in lowered:
        return lowered[name.lower()]
    match = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return match[0] if match else None


def check_option(argument: str, value: Any, allowed: Sequence[Any], *, func: str) -> Any:
    """Return ``value`` if it is one of ``allowed``; raise :class:`OptionError` if not."""
    if value in allowed:
        return value
    hint = closest(str(value), [str(a) for a in allowed])
    did_you_mean = f" Did you mean {hint!r}?" if hint else ""
    raise OptionError(
        f"{func}(): {argument}={value!r} is not allowed; choose one of "
        f"{', '.join(repr(a) for a in allowed)}.{did_you_mean}"
    )


def check_range(
    argument: str,
    value: float,
    *,
    func: str,
    low: float | None = None,
    high: float | None = None,
    inclusive: bool = True,
) -> float:
    """Return ``value`` if it lies in [low, high] (or (low, high)); raise if not."""
    ok = True
    if low is not None:
        ok = ok and (value >= low if inclusive else value > low)
    if high is not None:
        ok = ok and (value <= high if inclusive else value < high)
    if not ok:
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        brackets = ("[", "]") if inclusive else ("(", ")")
        raise OptionError(
            f"{func}(): {argument}={value!r} is out of range; it must lie in "
            f"{brackets[0]}{lo}, {hi}{brackets[1]}."
        )
    return value


def check_columns(data: pd.DataFrame, columns: Iterable[str | None], *, func: str) -> None:
    """Raise :class:`DyadicDataError` naming the first missing column and its closest match."""
    present = [str(c) for c in data.columns]
    for column in columns:
        if column is None:
            continue
        if column not in data.columns:
            hint = closest(column, present)
            fix = (
                f" Did you mean {hint!r}?"
                if hint
                else f" The data has: {', '.join(present[:12])}{' …' if len(present) > 12 else ''}."
            )
            raise DyadicDataError(f"{func}(): column {column!r} is not in the data.{fix}")


def check_numeric(data: pd.DataFrame, columns: Iterable[str], *, func: str) -> None:
    """Raise :class:`DyadicDataError` if a column holds values that are not numbers."""
    import pandas as pd

    for column in columns:
        series = data[column]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            continue
        converted = pd.to_numeric(series, errors="coerce")
        bad = series[converted.isna() & series.notna()]
        if len(bad):
            examples = ", ".join(repr(v) for v in bad.unique()[:3])
            if len(bad) == 1:
                raise DyadicDataError(
                    f"{func}(): column {column!r} must be numeric, but 1 value is not "
                    f"({examples} in row {show_ids(list(bad.index))}). Recode it as a number "
                    "or as a missing value."
                )
            raise DyadicDataError(
                f"{func}(): column {column!r} must be numeric, but {len(bad)} values are not "
                f"(first: {examples}; rows {show_ids(list(bad.index))}). Recode them as "
                "numbers or as missing values."
            )
