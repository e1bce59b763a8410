"""relationship_type keeps and reports everyone, other/unknown included."""

from __future__ import annotations

import numpy as np
import pandas as pd

import dyadlab as dl


def test_every_combination() -> None:
    df = pd.DataFrame(
        {
            "sex": ["Man", "woman", "F", "M", "non-binary", "man", None, "woman", "woman"],
            "partner_sex": ["female", "male", "f", "m", "man", None, "woman", "unknown", None],
            "partnered": [1, 1, 1, 1, 1, 0, 1, 1, None],
        }
    )
    got = dl.survey.relationship_type(
        df, sex="sex", partner_sex="partner_sex", partnered="partnered"
    )
    assert got.tolist() == [
        "man-woman",
        "man-woman",
        "woman-woman",
        "man-man",
        "other/unknown",
        "single",
        "other/unknown",
        "other/unknown",
        "other/unknown",
    ]
    assert len(got) == len(df) and got.index.equals(df.index)
    counts = got.value_counts()
    assert counts.sum() == len(df) and list(counts.index.categories) == [
        "man-woman",
        "man-man",
        "woman-woman",
        "single",
        "other/unknown",
    ]


def test_without_partnered_a_missing_partner_means_single() -> None:
    df = pd.DataFrame({"sex": ["m", "w", "m"], "partner_sex": [np.nan, "none", "x"]})
    got = dl.survey.relationship_type(df, sex="sex", partner_sex="partner_sex")
    assert got.tolist() == ["single", "single", "other/unknown"]


def test_custom_codes() -> None:
    df = pd.DataFrame({"sex": [1, 2, 2], "partner_sex": [2, 2, 3]})
    got = dl.survey.relationship_type(
        df, sex="sex", partner_sex="partner_sex", man=["1"], woman=["2"]
    )
    assert got.tolist() == ["man-woman", "woman-woman", "other/unknown"]
