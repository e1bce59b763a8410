"""Dyadic data: one layout in, any layout out, checked on the way.

Individual (long) format is canonical: one row per person, or per person-occasion,
with a dyad id, an optional person id, an optional role and an optional time.
:class:`DyadicData` validates such data; :func:`to_pairwise`, :func:`to_dyad` and their
inverses convert it losslessly.

Examples
--------
>>> import pandas as pd
>>> from dyadlab.data import DyadicData
>>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "gender": [-1, 1, -1, 1],
...                    "sat": [4.0, 3.5, 5.0, 2.0]})
>>> dd = DyadicData(df, dyad="couple", role="gender")
>>> dd.n_dyads, dd.distinguishable, dd.roles
(2, True, ('-1', '1'))
"""

from __future__ import annotations

from dyadlab.data.convert import from_dyad, from_pairwise, to_dyad, to_pairwise
from dyadlab.data.dyadic_data import DyadicData

__all__ = ["DyadicData", "from_dyad", "from_pairwise", "to_dyad", "to_pairwise"]
