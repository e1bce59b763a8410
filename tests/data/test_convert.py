"""Conversions individual ⇄ pairwise ⇄ dyad: worked examples, dtypes, unbalanced data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dyadlab.data import from_dyad, from_pairwise, to_dyad, to_pairwise
from dyadlab.data.convert import partner_positions
from dyadlab.exceptions import DyadicDataError
from tests.reference.fixtures import data_path


@pytest.fixture
def diary() -> pd.DataFrame:
    """Two couples over three days; person 2 misses day 2, person 4 misses day 3."""
    return pd.DataFrame(
        {
            "couple": [1, 1, 1, 1, 1, 2, 2, 2, 2, 2],
            "pid": ["a", "a", "a", "b", "b", "c", "c", "c", "d", "d"],
            "day": [1, 2, 3, 1, 3, 1, 2, 3, 1, 2],
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, np.nan, 8.0, 9.0, 10.0],
            "n": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        }
    )


def test_to_pairwise_cross_sectional_keeps_rows_order_and_index():
    df = pd.DataFrame(
        {"couple": [2, 1, 2, 1], "sat": [1.0, 2.0, 3.0, 4.0], "g": ["m", "w", "w", "m"]},
        index=[10, 11, 12, 13],
    )
    out = to_pairwise(df, dyad="couple", role="g")
    assert list(out.index) == [10, 11, 12, 13]
    assert out["sat_partner"].tolist() == [3.0, 4.0, 1.0, 2.0]
    assert "g_partner" not in out
    pd.testing.assert_frame_equal(out[df.columns], df)


def test_to_pairwise_diary_unbalanced(diary):
    out = to_pairwise(diary, dyad="couple", person="pid", time="day")
    np.testing.assert_allclose(
        out["y_partner"], [4, np.nan, 5, 1, 3, 9, 10, np.nan, 6, np.nan], equal_nan=True
    )
    # an integer variable becomes float only because some partners are missing
    assert out["n_partner"].dtype == np.float64
    balanced = diary[diary["day"] == 1]
    assert (
        to_pairwise(balanced, dyad="couple", person="pid", time="day")["n_partner"].dtype
        == np.int64
    )


def test_to_pairwise_variables_and_suffix(diary):
    out = to_pairwise(diary, dyad="couple", person="pid", time="day", variables=["y"], suffix="_P")
    assert list(out.columns) == [*diary.columns, "y_P"]
    assert list(diary.columns) == ["couple", "pid", "day", "y", "n"]  # input unchanged


def test_to_pairwise_refuses_pairwise_input():
    df = pd.DataFrame({"couple": [1, 1], "x": [1, 2], "x_partner": [2, 1]})
    with pytest.raises(DyadicDataError, match=r"'x_partner' is already in the data.*from_pairwise"):
        to_pairwise(df, dyad="couple")


def test_extension_dtypes_are_kept():
    df = pd.DataFrame(
        {
            "couple": pd.Categorical(["a", "a", "b"]),
            "k": pd.array([1, None, 3], dtype="Int64"),
            "s": pd.array(["x", "y", "z"], dtype="string"),
            "c": pd.Categorical(["lo", "hi", "hi"]),
        }
    )
    out = to_pairwise(df, dyad="couple")
    assert out["k_partner"].dtype == "Int64"
    assert out["s_partner"].dtype == "string"
    assert isinstance(out["c_partner"].dtype, pd.CategoricalDtype)
    assert out["s_partner"].tolist()[:2] == ["y", "x"]
    assert pd.isna(out["s_partner"].iloc[2])


def test_partner_positions():
    df = pd.DataFrame({"d": [5, 6, 5, 7, 6], "t": [1, 1, 1, 1, 2]})
    assert partner_positions(df, dyad="d").tolist() == [2, 4, 0, -1, 1]
    assert partner_positions(df, dyad="d", time="t").tolist() == [2, -1, 0, -1, -1]


def test_from_pairwise_round_trip_and_check(diary):
    pw = to_pairwise(diary, dyad="couple", person="pid", time="day")
    pd.testing.assert_frame_equal(from_pairwise(pw, dyad="couple", person="pid", time="day"), diary)
    bad = pw.copy()
    bad.loc[3, "y_partner"] = 99.0
    with pytest.raises(
        DyadicDataError, match=r"'y_partner' does not hold the partner's 'y' in 1 row \(dyads 1\)"
    ):
        from_pairwise(bad, dyad="couple", person="pid", time="day")
    assert "y_partner" not in from_pairwise(
        bad, dyad="couple", person="pid", time="day", check=False
    )


def test_from_pairwise_partner_without_row():
    df = pd.DataFrame({"couple": [1, 1, 2], "x": [1.0, 2.0, 3.0], "x_partner": [2.0, 1.0, 4.0]})
    with pytest.raises(
        DyadicDataError, match=r"the partner has no row.*add the missing partner rows"
    ):
        from_pairwise(df, dyad="couple")


def test_from_pairwise_without_partner_columns():
    with pytest.raises(DyadicDataError, match=r"no partner columns.*suffix="):
        from_pairwise(pd.DataFrame({"couple": [1, 1], "x": [1, 2]}), dyad="couple")


def test_to_dyad_distinguishable_numeric_roles():
    df = pd.DataFrame({"couple": [3, 3, 1, 1], "g": [1, -1, -1, 1], "sat": [1.0, 2.0, 3.0, 4.0]})
    wide = to_dyad(df, dyad="couple", role="g")
    assert list(wide.columns) == ["couple", "g_-1", "g_1", "sat_-1", "sat_1"]
    assert wide["couple"].tolist() == [3, 1]
    assert wide["sat_-1"].tolist() == [2.0, 3.0]
    assert wide["g_1"].dtype == np.int64
    back = from_dyad(wide, dyad="couple", role="g")
    expected = df.iloc[[1, 0, 2, 3]].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected)


def test_to_dyad_indistinguishable_numbered_by_sorted_person():
    df = pd.DataFrame({"couple": [1, 1, 2, 2], "pid": [9, 4, 5, 8], "x": [1.0, 2.0, 3.0, 4.0]})
    wide = to_dyad(df, dyad="couple", person="pid")
    assert wide["pid_1"].tolist() == [4, 5]
    assert wide["x_1"].tolist() == [2.0, 3.0]
    assert wide["x_2"].tolist() == [1.0, 4.0]


def test_to_dyad_without_person_uses_row_order():
    df = pd.DataFrame({"couple": [1, 2, 1, 2], "x": [1.0, 2.0, 3.0, 4.0]})
    wide = to_dyad(df, dyad="couple")
    assert wide.to_dict("list") == {"couple": [1, 2], "x_1": [1.0, 2.0], "x_2": [3.0, 4.0]}
    back = from_dyad(wide, dyad="couple")
    assert back["x"].tolist() == [1.0, 3.0, 2.0, 4.0]


def test_to_dyad_diary_unbalanced_round_trip(diary):
    wide = to_dyad(diary, dyad="couple", person="pid", time="day")
    assert len(wide) == 6
    assert wide["pid_2"].isna().sum() == 2
    assert np.isnan(wide.loc[(wide["couple"] == 1) & (wide["day"] == 2), "y_2"]).all()
    back = from_dyad(wide, dyad="couple", person="pid", time="day")
    pd.testing.assert_frame_equal(back, diary)


def test_from_dyad_read_from_file_restores_integer_keys(diary, tmp_path):
    diary = diary.assign(pid=diary["pid"].map({"a": 1, "b": 2, "c": 3, "d": 4}))
    wide = to_dyad(diary, dyad="couple", person="pid", time="day", variables=["y"])
    assert wide["pid_2"].dtype == np.float64  # missing members make the column float
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    back = from_dyad(pd.read_csv(path), dyad="couple", person="pid", time="day")
    assert back["pid"].dtype == np.int64
    assert back["pid"].tolist() == [1, 1, 1, 2, 2, 3, 3, 3, 4, 4]


def test_from_dyad_dyad_level_columns_are_shared():
    wide = pd.DataFrame({"couple": [1, 2], "years": [3, 5], "x_1": [1.0, 2.0], "x_2": [3.0, 4.0]})
    back = from_dyad(wide, dyad="couple")
    assert back["years"].tolist() == [3, 3, 5, 5]
    assert back["x"].tolist() == [1.0, 3.0, 2.0, 4.0]


def test_from_dyad_bad_labels():
    wide = pd.DataFrame({"couple": [1], "x_a": [1.0]})
    with pytest.raises(DyadicDataError, match="need 2 different member labels"):
        from_dyad(wide, dyad="couple", labels=["a"])
    with pytest.raises(DyadicDataError, match="column 'g_b' is not in the data"):
        from_dyad(wide.assign(g_a="a"), dyad="couple", role="g", labels=["a", "b"])


def test_to_dyad_name_clash():
    df = pd.DataFrame({"couple": [1, 1], "pid": [1, 2], "x": [1, 2], "x_1": [3, 4]})
    wide = to_dyad(df, dyad="couple", person="pid")
    assert {"x_1", "x_2", "x_1_1", "x_1_2"} <= set(wide.columns)
    df2 = pd.DataFrame({"couple": [1, 1], "g": ["1_a", "a"], "x": [1, 2], "x_1": [3, 4]})
    with pytest.raises(DyadicDataError, match="would both be named 'x_1_a'"):
        to_dyad(df2, dyad="couple", role="g")


def test_acitelli_pairwise_matches_published_pairwise_file():
    individual = pd.read_csv(data_path("shared:acitelli_individual.csv"))
    published = pd.read_csv(data_path("shared:acitelli_pairwise.csv"))
    ours = to_pairwise(individual, dyad="cuplid", role="gender")
    names = {
        "self_pos": "SelfPos",
        "other_pos": "OtherPos",
        "satisfaction": "Satisfaction",
        "tension": "Tension",
        "simhob": "SimHob",
    }
    ours = ours.sort_values(["cuplid", "gender"]).reset_index(drop=True)
    published = published.sort_values(["CoupleID", "Partnum"]).reset_index(drop=True)
    assert ours["cuplid"].tolist() == published["CoupleID"].tolist()
    for ours_name, theirs in names.items():
        np.testing.assert_allclose(ours[ours_name], published[f"{theirs}_A"], rtol=1e-12)
        np.testing.assert_allclose(
            ours[f"{ours_name}_partner"], published[f"{theirs}_P"], rtol=1e-12
        )


def test_million_rows_convert_fast():
    """to_pairwise is vectorised: 200k diary rows take well under a second."""
    import time

    n = 200_000
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "dyad": np.repeat(np.arange(n // 20), 20),
            "pid": np.tile(np.repeat([1, 2], 10), n // 20),
            "day": np.tile(np.arange(10), n // 10),
            "y": rng.normal(size=n),
        }
    )
    start = time.perf_counter()
    out = to_pairwise(df, dyad="dyad", person="pid", time="day")
    assert time.perf_counter() - start < 5.0
    np.testing.assert_array_equal(out["y_partner"].to_numpy()[:10], df["y"].to_numpy()[10:20])


def test_to_dyad_metadata_is_json_ready(diary):
    import json

    diary = diary.assign(g=pd.Categorical(["f", "f", "f", "m", "m"] * 2, categories=["m", "f"]))
    wide = to_dyad(diary, dyad="couple", person="pid", role="g", time="day")
    json.dumps(wide.attrs)
    back = from_dyad(wide, dyad="couple", person="pid", role="g", time="day")
    assert back["g"].dtype == diary["g"].dtype
    assert list(back.columns) == list(diary.columns)


def test_first_positions_equal_numpy_unique_on_first_appearance_codes() -> None:
    from dyadlab.data.convert import _first_positions

    rng = np.random.default_rng(11)
    for n in (1, 2, 7, 500):
        codes, _ = pd.factorize(rng.integers(0, max(n // 3, 1), size=n))
        assert _first_positions(codes).tolist() == np.unique(codes, return_index=True)[1].tolist()
