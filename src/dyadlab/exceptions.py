"""The exceptions and warnings dyadlab raises.

::

    Exception
    ├── DyadlabError                      every error dyadlab raises on purpose
    │   ├── DyadicDataError (ValueError)  the data cannot be used as given
    │   ├── OptionError (ValueError)      an argument has a value that is not allowed
    │   ├── FileFormatError (ValueError)  a file cannot be read or written
    │   └── ProtocolError (ValueError)    a study protocol is invalid
    Warning
    └── DyadlabWarning (UserWarning)      results are usable but need a look
        └── ConvergenceWarning            the optimiser did not converge, or a variance
                                          ended at its boundary (zero)

Every model warns through one rule: each message in a result's ``.warnings`` (and in its
JSON) is also issued once as a Python warning of one of these two categories.

Every message names what is wrong, where, and how to fix it, so that the command line
can print it as one readable line.

Examples
--------
>>> from dyadlab.exceptions import DyadicDataError
>>> isinstance(DyadicDataError("dyad 3 has one member"), ValueError)
True
"""

from __future__ import annotations

__all__ = [
    "ConvergenceWarning",
    "DyadicDataError",
    "DyadlabError",
    "DyadlabWarning",
    "FileFormatError",
    "OptionError",
    "ProtocolError",
]


class DyadlabError(Exception):
    """Base class of every error dyadlab raises on purpose."""


class DyadicDataError(DyadlabError, ValueError):
    """The data cannot be used as given (structure, types, missing columns)."""


class OptionError(DyadlabError, ValueError):
    """An argument has a value that is not allowed."""


class FileFormatError(DyadlabError, ValueError):
    """A file cannot be read or written in the format asked for."""


class ProtocolError(DyadlabError, ValueError):
    """A study protocol (YAML or XLSForm) is invalid."""


class DyadlabWarning(UserWarning):
    """Results are usable but something deserves the user's attention."""


class ConvergenceWarning(DyadlabWarning):
    """A fit did not converge, or a variance parameter ended at its boundary.

    The estimates are returned but may not be the (RE)ML estimates, or the model may be
    over-specified for the data (for example a random-intercept variance of zero).
    Silence it like any warning, e.g. ``warnings.simplefilter("ignore",
    dl.ConvergenceWarning)``; the message stays in the result's ``.warnings``.
    """
