"""The one warning path of dyadlab's methods: :func:`emit` and the convergence wording.

Kept apart from :mod:`dyadlab.models._result` (which re-exports both) so that a command
that warns without building a table, such as the analytic power analysis, loads neither
pandas nor SciPy.

Examples
--------
>>> convergence_warnings(func="f", converged=False)
['f(): the fit did not converge; the estimates may not be the ML estimates.']
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence

from dyadlab._validation import outside_stacklevel
from dyadlab.exceptions import DyadlabWarning

__all__ = ["convergence_warnings", "emit"]


def emit(messages: Sequence[str], category: type[DyadlabWarning] = DyadlabWarning) -> list[str]:
    """Issue each message as a warning of ``category``; return them for ``.warnings``.

    The one warning rule of dyadlab's models: every message a result carries in
    ``.warnings`` (and in its JSON) is issued once as a Python warning —
    :class:`~dyadlab.exceptions.ConvergenceWarning` for a fit that did not converge or a
    variance at its boundary (see :func:`convergence_warnings`),
    :class:`~dyadlab.exceptions.DyadlabWarning` for everything else (rows left out, few
    dyads, …). The warning points at the user's line that called the model.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     kept = emit(["3 rows were left out."])
    >>> kept, caught[0].category.__name__
    (['3 rows were left out.'], 'DyadlabWarning')
    """
    level = outside_stacklevel()
    for message in messages:
        _warnings.warn(message, category, stacklevel=level)
    return list(messages)


def convergence_warnings(
    *,
    func: str,
    converged: bool,
    detail: str = "",
    boundary: Sequence[str] = (),
    estimation: str = "ML",
    hint: str = "the model may be over-specified for these data",
) -> list[str]:
    """The messages of a fit that did not converge or has variances at their boundary.

    One wording for every model; pass the result to ``emit(..., ConvergenceWarning)``.

    Examples
    --------
    >>> msgs = convergence_warnings(func="diary", converged=True, estimation="REML",
    ...                             boundary=["sd_intercept at zero"])
    >>> msgs
    ['diary(): sd_intercept at zero; the model may be over-specified for these data.']
    """
    out = []
    if not converged:
        why = f" ({detail})" if detail else ""
        out.append(
            f"{func}(): the fit did not converge{why}; the estimates may not be the "
            f"{estimation} estimates."
        )
    out += [f"{func}(): {b}; {hint}." for b in boundary]
    return out
