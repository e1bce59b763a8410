"""``dl.survey.relationship_type``: the couple's composition from both partners' sex.

Every respondent gets exactly one type — ``man-woman``, ``man-man``, ``woman-woman``,
``single`` or ``other/unknown`` — so that nobody silently falls out of a comparison:
non-binary partners, a partner whose sex is not recorded, or a value the codes do not
know are kept as ``other/unknown`` and counted.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"sex": ["man", "woman", "woman", "man", "non-binary"],
...                    "partner_sex": ["woman", "woman", None, "man", "man"],
...                    "partnered": [True, True, False, True, True]})
>>> relationship_type(df, sex="sex", partner_sex="partner_sex", partnered="partnered").tolist()
['man-woman', 'woman-woman', 'single', 'man-man', 'other/unknown']
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns

__all__ = ["RELATIONSHIP_TYPES", "relationship_type"]

#: the types, in the order tables and plots show them
RELATIONSHIP_TYPES = ("man-woman", "man-man", "woman-woman", "single", "other/unknown")

_MAN = ("man", "male", "m", "1")
_WOMAN = ("woman", "female", "f", "w", "2")
_SINGLE = ("none", "no partner", "single")


def _norm(values: pd.Series) -> pd.Series:
    return values.map(lambda v: None if pd.isna(v) else str(v).strip().lower())


def _as_bool(values: pd.Series) -> pd.Series:
    def conv(v: Any) -> bool | None:
        if pd.isna(v):
            return None
        s = str(v).strip().lower()
        if s in ("true", "1", "yes", "y", "1.0"):
            return True
        if s in ("false", "0", "no", "n", "0.0"):
            return False
        return None

    return values.map(conv)


def relationship_type(
    data: pd.DataFrame,
    *,
    sex: str,
    partner_sex: str,
    partnered: str | None = None,
    man: Iterable[str] = _MAN,
    woman: Iterable[str] = _WOMAN,
) -> pd.Series:
    """Classify each respondent's relationship from their own and their partner's sex.

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    sex, partner_sex : str
        Columns with the respondent's and the partner's sex (or gender).
    partnered : str, optional
        Column saying whether the respondent has a partner (bool, 0/1, yes/no). Without
        it, a missing partner sex (or "none", "single", "no partner") means single.
    man, woman : iterable of str
        The values (case-insensitive) that mean man and woman; anything else — a
        non-binary partner, an unknown or missing value — is "other/unknown".

    Returns
    -------
    pandas.Series
        Categorical, named ``relationship_type``, index of ``data``, categories
        ``man-woman, man-man, woman-woman, single, other/unknown``; no row is dropped
        (use ``.value_counts()`` to report them all).

    Examples
    --------
    >>> df = pd.DataFrame({"sex": ["m", "f"], "partner_sex": ["f", None]})
    >>> relationship_type(df, sex="sex", partner_sex="partner_sex").tolist()
    ['man-woman', 'single']
    """
    check_columns(data, [sex, partner_sex, partnered], func="survey.relationship_type")
    men = {str(v).lower() for v in man}
    women = {str(v).lower() for v in woman}
    own = _norm(data[sex])
    other = _norm(data[partner_sex])

    def kind(s: pd.Series) -> np.ndarray:
        return np.select([s.isin(men), s.isin(women)], ["man", "woman"], default="other")

    a, b = kind(own), kind(other)
    pair = np.char.add(np.char.add(a.astype(str), "-"), b.astype(str))
    mapping = {
        "man-woman": "man-woman",
        "woman-man": "man-woman",
        "man-man": "man-man",
        "woman-woman": "woman-woman",
    }
    out = pd.Series([mapping.get(p, "other/unknown") for p in pair], index=data.index)
    if partnered is None:
        single = other.isna() | other.isin(_SINGLE)
    else:
        has = _as_bool(data[partnered])
        single = has.eq(False)  # a missing answer is not "single"
        out[has.isna()] = "other/unknown"
    out[single.to_numpy(dtype=bool)] = "single"
    return pd.Series(
        pd.Categorical(out, categories=list(RELATIONSHIP_TYPES)),
        index=data.index,
        name="relationship_type",
    )
