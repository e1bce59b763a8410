"""Small public couples' data sets shipped with dyadlab, for examples and tests.

Only data released under CC0 are shipped (see ``README.md`` beside this file).

Examples
--------
>>> from dyadlab.data.datasets import load_acitelli
>>> df = load_acitelli()
>>> df.shape
(296, 8)
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_acitelli"]


def load_acitelli() -> pd.DataFrame:
    """Acitelli's 148 married couples, one row per person (individual format).

    Returns
    -------
    DataFrame
        296 rows: ``cuplid`` (dyad id), ``Yearsmar`` (years married, centred),
        ``gender`` (-1 wife, 1 husband), ``self_pos`` and ``other_pos`` (how positively
        one sees oneself and the partner), ``satisfaction``, ``tension`` and ``simhob``
        (similar hobbies, 0/1).

    Notes
    -----
    The running example of Kenny, Kashy & Cook (2006) and of Garcia & Kenny's dyadic
    data workshop; from the R package dyadr (``acipair``), licence CC0.

    References
    ----------
    Kenny, D. A., Kashy, D. A., & Cook, W. L. (2006). *Dyadic data analysis*. Guilford.

    Examples
    --------
    >>> from dyadlab.data import DyadicData
    >>> dd = DyadicData(load_acitelli(), dyad="cuplid", role="gender")
    >>> dd.n_dyads, dd.roles
    (148, ('-1', '1'))
    >>> dd.to_pairwise()[["cuplid", "gender", "satisfaction", "satisfaction_partner"]].head(2)
       cuplid  gender  satisfaction  satisfaction_partner
    0       3      -1      4.000000              3.666667
    1       3       1      3.666667              4.000000
    """
    source = resources.files("dyadlab.data.datasets").joinpath("acitelli.csv")
    with resources.as_file(source) as path:
        return pd.read_csv(path)
