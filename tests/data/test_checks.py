"""Every bad input gets a DyadicDataError that names it and says how to fix it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dyadlab.data import DyadicData, to_dyad, to_pairwise
from dyadlab.data.checks import (
    check_analysis_variables,
    check_distinguishable,
    check_dyads,
    check_keys,
    check_not_empty,
    dyads_without_distinct_roles,
)
from dyadlab.exceptions import DyadicDataError


def couples(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "couple": np.repeat(np.arange(1, n + 1), 2),
            "pid": np.arange(1, 2 * n + 1),
            "gender": np.tile(["w", "m"], n),
            "sat": np.linspace(1.0, 5.0, 2 * n),
            "x": np.arange(2 * n, dtype=float) ** 2,
        }
    )


def test_empty_frame():
    empty = couples().iloc[:0]
    with pytest.raises(DyadicDataError, match=r"DyadicData\(\): data is empty \(0 rows\)"):
        DyadicData(empty, dyad="couple")


def test_not_a_frame():
    with pytest.raises(DyadicDataError, match="must be a pandas DataFrame, not dict"):
        check_not_empty({"a": [1]}, func="f")  # type: ignore[arg-type]


def test_missing_column_names_the_closest():
    with pytest.raises(
        DyadicDataError, match=r"column 'cuple' is not in the data\. Did you mean 'couple'"
    ):
        DyadicData(couples(), dyad="cuple")


def test_key_given_twice():
    with pytest.raises(
        DyadicDataError, match="'couple' is given for more than one of dyad, person"
    ):
        check_keys(couples(), dyad="couple", person="couple", func="f")


@pytest.mark.parametrize("key", ["couple", "pid", "gender"])
def test_missing_key_values_name_the_rows(key):
    df = couples().astype({key: object})
    df.loc[[3, 5], key] = None
    with pytest.raises(
        DyadicDataError, match=rf"column '{key}' has 2 missing values \(rows 3, 5\)"
    ):
        DyadicData(df, dyad="couple", person="pid", role="gender")


def test_missing_time_value():
    df = couples().assign(day=1.0)
    df.loc[0, "day"] = np.nan
    with pytest.raises(DyadicDataError, match=r"time column 'day' has 1 missing value \(rows 0\)"):
        to_pairwise(df, dyad="couple", person="pid", time="day")


def test_dyad_of_one_person():
    df = couples().drop(index=[3, 7])
    with pytest.raises(
        DyadicDataError,
        match=(
            r"2 dyads have only 1 \(first: 2, 4\)\. Remove these dyads, or"
            r" pass allow_incomplete=True"
        ),
    ):
        DyadicData(df, dyad="couple")
    assert DyadicData(df, dyad="couple", allow_incomplete=True).n_dyads == 4


def test_dyad_of_three_persons_cross_sectional():
    df = couples()
    df.loc[2, "couple"] = 1  # couple 1 gets 3 persons, couple 2 keeps 1
    with pytest.raises(
        DyadicDataError, match=r"2 persons per dyad, but 1 dyad has more \(first: 1\)"
    ):
        DyadicData(df, dyad="couple", person="pid")
    with pytest.raises(DyadicDataError, match=r"first: 1\)\. Check the dyad ids"):
        to_pairwise(df, dyad="couple")


def test_first_five_ids_then_count():
    df = pd.DataFrame({"couple": np.repeat(np.arange(8), 3), "x": np.arange(24.0)})
    with pytest.raises(
        DyadicDataError, match=r"8 dyads have more \(first: 0, 1, 2, 3, 4 and 3 more\)"
    ):
        DyadicData(df, dyad="couple")


def test_diary_three_persons_per_dyad():
    df = pd.DataFrame(
        {"couple": [1] * 6, "pid": [1, 2, 1, 3, 1, 2], "day": [1, 1, 2, 2, 3, 3], "y": range(6)}
    )
    with pytest.raises(
        DyadicDataError, match=r"exactly 2 persons per dyad, but 1 dyad has more \(first: 1\)"
    ):
        DyadicData(df, dyad="couple", person="pid", time="day")


def test_diary_without_person_three_rows_at_an_occasion():
    df = pd.DataFrame({"couple": [1, 1, 1, 2, 2], "day": [1, 1, 1, 1, 1], "y": range(5)})
    with pytest.raises(
        DyadicDataError,
        match=(
            r"2 rows per dyad at one occasion, but 1 dyad has more \(first"
            r": 1\)\. Pass person=COLUMN"
        ),
    ):
        to_pairwise(df, dyad="couple", time="day")


def test_duplicate_person_occasions():
    df = pd.DataFrame(
        {"couple": [1, 1, 1, 2, 2], "pid": [1, 1, 2, 3, 4], "day": [1, 1, 1, 1, 1], "y": range(5)}
    )
    with pytest.raises(
        DyadicDataError,
        match=(
            r"duplicate person-occasions: 2 rows repeat .* \(dyads 1\)\. E"
            r"ach person may have one row per value of 'day'"
        ),
    ):
        DyadicData(df, dyad="couple", person="pid", time="day")


def test_duplicate_persons_cross_sectional():
    df = couples()
    df.loc[1, "pid"] = 1
    with pytest.raises(
        DyadicDataError,
        match=(
            r"duplicate persons: 2 rows .* \(dyads 1\)\. Each person may h"
            r"ave one row; for repeated measures pass time=COLUMN"
        ),
    ):
        check_dyads(df, dyad="couple", person="pid", func="f")


def test_role_not_splitting_dyads():
    df = couples()
    df.loc[[4, 5], "gender"] = "w"
    assert dyads_without_distinct_roles(df, dyad="couple", role="gender") == [3]
    with pytest.raises(
        DyadicDataError,
        match=(
            r"must take 2 different values within every dyad, but 1 dyad d"
            r"oes not \(first: 3\)\. Leave role out"
        ),
    ):
        check_distinguishable(df, dyad="couple", role="gender", func="apim")
    with pytest.raises(DyadicDataError, match=r"to_dyad\(\): .*first: 3"):
        to_dyad(df, dyad="couple", role="gender")


def test_role_with_three_values():
    df = couples()
    df.loc[[0], "gender"] = "nb"
    with pytest.raises(
        DyadicDataError, match=r"must take exactly 2 values .* it takes 3 \('m', 'nb', 'w'\)"
    ):
        check_distinguishable(df, dyad="couple", role="gender", func="f")


def test_role_changing_within_person():
    df = pd.DataFrame(
        {"couple": [1] * 4, "pid": [1, 2, 1, 2], "day": [1, 1, 2, 2], "g": ["w", "m", "m", "w"]}
    )
    with pytest.raises(
        DyadicDataError, match=r"'g' must be the same in all rows of a person, but 2 persons"
    ):
        DyadicData(df, dyad="couple", person="pid", role="g", time="day")


def test_diary_needs_person_or_role():
    df = pd.DataFrame({"couple": [1, 1], "day": [1, 1], "y": [1.0, 2.0]})
    with pytest.raises(DyadicDataError, match=r"need person=COLUMN or role=COLUMN"):
        DyadicData(df, dyad="couple", time="day")


def test_analysis_variable_missing_column():
    with pytest.raises(
        DyadicDataError, match=r"apim\(\): column 'stat' is not in the data\. Did you mean 'sat'"
    ):
        check_analysis_variables(couples(), ["stat"], func="apim")


def test_analysis_variable_not_numeric():
    df = couples().assign(sat=lambda d: d["sat"].astype(str).where(d.index != 2, "high"))
    with pytest.raises(
        DyadicDataError,
        match=r"column 'sat' must be numeric, but 1 value is not \('high' in row 2\)",
    ):
        check_analysis_variables(df, ["sat"], func="apim")


def test_analysis_variable_constant():
    df = couples().assign(x=2.0)
    with pytest.raises(
        DyadicDataError, match=r"column 'x' is constant \(every value is 2.0\).*Leave it out"
    ):
        check_analysis_variables(df, ["sat", "x"], func="apim")


def test_analysis_variable_all_missing():
    df = couples().assign(x=np.nan)
    with pytest.raises(DyadicDataError, match=r"column 'x' has no values \(all missing\)"):
        check_analysis_variables(df, ["x"], func="apim")


def test_analysis_variables_pass():
    check_analysis_variables(
        couples().assign(flag=[True, False] * 4), ["sat", "x", "flag"], func="f"
    )


def test_non_string_key_argument():
    with pytest.raises(DyadicDataError, match="dyad must be a column name"):
        DyadicData(couples(), dyad=["couple"])  # type: ignore[arg-type]


def test_diary_without_person_needs_a_splitting_role():
    df = pd.DataFrame(
        {"couple": [1, 1, 2, 2], "g": ["w", "m", "w", "w"], "day": [1, 1, 1, 1], "y": range(4)}
    )
    with pytest.raises(
        DyadicDataError,
        match=r"told apart by role 'g', but in 1 dyads both .* \(first: 2\)\. Pass person=COLUMN",
    ):
        DyadicData(df, dyad="couple", role="g", time="day")


def test_diary_without_person_counts_persons_by_role():
    df = pd.DataFrame(
        {"couple": [1, 1, 2, 2], "g": ["w", "m", "w", "w"], "day": [1, 1, 1, 2], "y": range(4)}
    )
    with pytest.raises(
        DyadicDataError, match=r"2 persons per dyad, but 1 dyad has only 1 \(first: 2\)"
    ):
        DyadicData(df, dyad="couple", role="g", time="day")
    dd = DyadicData(df, dyad="couple", role="g", time="day", allow_incomplete=True)
    assert dd.n_persons == 3


def test_codes_once_factorizes_a_key_once_and_forgets_after_the_block() -> None:
    from dyadlab.data.checks import _FACTORIZED, codes_once, factorize_key

    df = pd.DataFrame({"couple": [3, 3, 1, 1, 2], "role": ["w", "h", "h", "w", "w"]})
    with codes_once():
        check_dyads(df, dyad="couple", allow_incomplete=True, func="t")
        codes = factorize_key(df, "couple")[0]
        assert factorize_key(df, "couple")[0] is codes  # the same array: not hashed again
        assert codes.tolist() == [0, 0, 1, 1, 2]
        with codes_once():  # nested: the outer codes are shared
            assert factorize_key(df, "couple")[0] is codes
        other = df.copy()
        assert factorize_key(other, "couple")[0] is not codes  # per frame
    assert _FACTORIZED.get() is None
    assert factorize_key(df, "couple")[0] is not codes


def test_sorted_codes_derived_from_kept_unsorted_codes_equal_pandas() -> None:
    from dyadlab.data.checks import codes_once, factorize_key

    df = pd.DataFrame({"id": ["b", "c", "a", "b", "c"], "mixed": [1, "a", 2, "a", 1]})
    for column in ["id", "mixed"]:
        expected = pd.factorize(df[column], sort=column == "id")
        with codes_once():
            factorize_key(df, column)  # the unsorted codes are kept first
            codes, uniques = factorize_key(df, column, sort=column == "id")
        assert codes.tolist() == expected[0].tolist()
        assert list(uniques) == list(expected[1])
    with codes_once():
        factorize_key(df, "mixed")
        codes, uniques = factorize_key(df, "mixed", sort=True)  # mixed types: pandas' own
    assert codes.tolist() == pd.factorize(df["mixed"], sort=True)[0].tolist()


def test_nested_codes_number_persons_within_dyads() -> None:
    from dyadlab.data.checks import codes_once, nested_codes

    df = pd.DataFrame({"couple": [5, 5, 3, 3, 5], "person": [1, 2, 1, 2, 1]})
    assert nested_codes(df, "couple", "person").tolist() == [0, 1, 2, 3, 0]
    with codes_once():
        first = nested_codes(df, "couple", "person")
        assert nested_codes(df, "couple", "person") is first


# sorted numeric keys (runs) and two-valued numeric columns (roles) are factorized
# without pandas' hash table: the same codes, uniques (values, dtype, first-seen -0.0)
FACTORIZE_CASES = {
    "sorted ids": np.repeat(np.arange(1, 6), 2),
    "sorted with gaps and singles": np.array([2, 2, 5, 9, 9, 10]),
    "sorted floats": np.array([1.0, 1.0, 2.5, 2.5, 3.0]),
    "sorted int32": np.array([0, 0, 1, 3, 3], dtype=np.int32),
    "one value": np.array([7, 7, 7]),
    "signed zeros": np.array([-0.0, 0.0, 1.0, 1.0]),
    "zeros out of order": np.array([0.0, 1.0, -0.0, 1.0]),
    "role 2/1": np.array([2, 1, 1, 2, 2, 1]),
    "role -1/1": np.array([1, -1, -1, 1]),
    "role uint8": np.array([0, 255, 255, 0], dtype=np.uint8),
    "extreme int64": np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min] * 2),
    "float role with a NaN": np.array([1.0, 2.0, np.nan, 1.0]),
    "sorted with a NaN": np.array([1.0, 1.0, 2.0, np.nan]),
    "NaN first": np.array([np.nan, 1.0, 2.0, 1.0]),
    "three values": np.array([3, 1, 2, 1, 3]),
    "unsorted ids": np.array([4, 4, 1, 1, 3, 3]),
}


@pytest.mark.parametrize("name", sorted(FACTORIZE_CASES))
@pytest.mark.parametrize("sort", [False, True])
def test_factorize_shortcuts_equal_pandas(name: str, sort: bool) -> None:
    from dyadlab.data.checks import _factorize

    series = pd.Series(FACTORIZE_CASES[name], name="key")
    codes, uniques = _factorize(series, sort)
    expected_codes, expected_uniques = pd.factorize(series, sort=sort)
    assert codes.dtype == expected_codes.dtype
    assert codes.tolist() == expected_codes.tolist()
    assert type(uniques) is type(expected_uniques)
    assert uniques.dtype == expected_uniques.dtype
    assert [repr(v) for v in uniques.tolist()] == [repr(v) for v in expected_uniques.tolist()]
