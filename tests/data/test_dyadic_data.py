"""DyadicData: validation, structure attributes, mixed studies, conversions, summaries."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from dyadlab.data import DyadicData, to_dyad, to_pairwise
from dyadlab.exceptions import DyadicDataError


@pytest.fixture
def mixed() -> pd.DataFrame:
    """Three couples; couple 2 is two women (gender does not tell them apart)."""
    return pd.DataFrame(
        {
            "couple": [1, 1, 2, 2, 3, 3],
            "pid": [11, 12, 21, 22, 31, 32],
            "gender": ["w", "m", "w", "w", "m", "w"],
            "sat": [4.0, 3.5, np.nan, 2.0, np.nan, np.nan],
            "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )


@pytest.fixture
def diary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "couple": ["a"] * 5 + ["b"] * 6,
            "pid": [1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 4],
            "role": pd.Categorical(["f", "f", "f", "m", "m", "f", "f", "f", "m", "m", "m"]),
            "day": [1, 2, 3, 1, 3, 1, 2, 3, 1, 2, 3],
            "y": np.arange(11.0),
        }
    )


def test_input_left_unchanged_and_copied(mixed):
    before = mixed.copy()
    dd = DyadicData(mixed, dyad="couple", person="pid", role="gender")
    pd.testing.assert_frame_equal(mixed, before)
    dd.data.loc[0, "sat"] = -1.0
    assert mixed.loc[0, "sat"] == 4.0


def test_attributes_distinguishable(diary):
    dd = DyadicData(diary, dyad="couple", person="pid", role="role", time="day")
    assert (dd.n_dyads, dd.n_persons, dd.n_obs) == (2, 4, 11)
    assert dd.distinguishable and dd.roles == ("f", "m")
    assert dd.variables == ("y",)
    assert dd.keys == ("couple", "pid", "role", "day")
    assert dd.is_diary and dd.same_role_dyads == []
    assert dd.dyad_ids == ["a", "b"]
    assert "Distinguishable" in dd.distinguishability
    dd.require_distinguishable(func="diary")
    assert len(dd) == 11
    assert repr(dd).startswith("DyadicData(2 dyads, 4 persons, 11 rows; dyad='couple'")


def test_mixed_study_is_accepted_but_not_distinguishable(mixed):
    dd = DyadicData(mixed, dyad="couple", person="pid", role="gender")
    assert not dd.distinguishable
    assert dd.roles == ("m", "w")
    assert dd.same_role_dyads == [2]
    assert "first: 2" in dd.distinguishability
    with pytest.raises(
        DyadicDataError,
        match=(
            r"apim\(\): column 'gender' must take 2 different values withi"
            r"n every dyad, but 1 dyad does not \(first: 2\)"
        ),
    ):
        dd.require_distinguishable(func="apim")
    # to_dyad numbers the members and keeps gender as a variable
    wide = dd.to_dyad()
    assert {"gender_1", "gender_2", "pid_1", "sat_2"} <= set(wide.columns)
    assert wide["gender_1"].tolist() == ["w", "w", "m"]


def test_no_role_requires_distinguishable_raises(mixed):
    dd = DyadicData(mixed, dyad="couple", person="pid")
    assert not dd.distinguishable and dd.roles == () and dd.same_role_dyads == []
    with pytest.raises(DyadicDataError, match="needs distinguishable dyads, but no role was given"):
        dd.require_distinguishable(func="apim")


def test_conversions_match_functions(diary):
    dd = DyadicData(diary, dyad="couple", person="pid", role="role", time="day")
    keys = {"dyad": "couple", "person": "pid", "role": "role", "time": "day"}
    pd.testing.assert_frame_equal(dd.to_pairwise(), to_pairwise(diary, **keys))
    pd.testing.assert_frame_equal(dd.to_dyad(), to_dyad(diary, **keys))
    pd.testing.assert_frame_equal(dd.to_individual(), diary)


def test_from_pairwise_and_from_dyad(diary):
    dd = DyadicData(diary, dyad="couple", person="pid", role="role", time="day")
    again = DyadicData.from_pairwise(dd.to_pairwise(), **dd._key_args())
    pd.testing.assert_frame_equal(again.data, diary)
    wide = DyadicData.from_dyad(dd.to_dyad(), **dd._key_args())
    expected = diary.sort_values(["couple", "role", "day"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(wide.data, expected)
    assert wide.distinguishable


def test_missing_counts(mixed):
    miss = DyadicData(mixed, dyad="couple", person="pid", role="gender").missing()
    assert miss.by_variable.to_dict() == {"sat": 3, "x": 0}
    assert miss.by_dyad.to_dict() == {3: 2, 2: 1}
    assert miss.by_dyad.index.name == "couple"
    assert (miss.total, miss.n_cells) == (3, 12)
    assert str(miss) == "3 of 12 values missing (sat 3); 2 dyads, most: 3 (2), 2 (1)"


def test_describe_mixed(mixed):
    info = DyadicData(mixed, dyad="couple", person="pid", role="gender").describe()
    assert info.composition == {"m/w": 2, "w/w": 1}
    assert info.persons_per_role == {"m": 2, "w": 4}
    assert info.missing_worst_dyads == [{"dyad": 3, "n_missing": 2}, {"dyad": 2, "n_missing": 1}]
    assert info.n_dyads_with_missing == 2
    assert info.occasions is None and not info.distinguishable
    text = str(info)
    assert "3 dyads, 6 persons, 6 rows" in text
    assert "Dyads by composition: m/w: 2, w/w: 1" in text
    assert "most: 3 (2), 2 (1)" in text
    json.dumps(info.to_dict())


def test_describe_diary(diary):
    info = DyadicData(diary, dyad="couple", person="pid", role="role", time="day").describe()
    assert info.occasions == {"min": 2.0, "median": 3.0, "max": 3.0, "n_times": 3.0}
    assert info.composition == {"f/m": 2}
    assert info.persons_per_role == {"f": 2, "m": 2}
    assert "Occasions per person: min 2, median 3, max 3" in str(info)


def test_describe_indistinguishable_incomplete():
    df = pd.DataFrame({"couple": [1, 1, 2], "x": [1.0, 2.0, 3.0]})
    info = DyadicData(df, dyad="couple", allow_incomplete=True).describe()
    assert info.composition == {"2 persons": 1, "1 person": 1}
    assert "Indistinguishable" in info.distinguishability
    assert "Dyads with missing values: 0" in str(info)
