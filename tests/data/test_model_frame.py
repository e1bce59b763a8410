"""The one data-to-model step: member order of roles, DyadicData input, rows left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dyadlab.data import DyadicData, to_dyad
from dyadlab.data.model_frame import model_frame

# the second dyad lists its members the other way round, so row order decides nothing
ROLES = {
    "text": ["w", "h", "h", "w"],
    "one_two": [2, 1, 1, 2],
    "zero_one": [1, 0, 0, 1],
    "minus_one": [1, -1, -1, 1],
    "nine_ten": [10, 9, 9, 10],
}
#: member 0's role by value and by text: only 9/10 tells the two apart
FIRST = {
    "text": ("h", "h"),
    "one_two": (1, 1),
    "zero_one": (0, 0),
    "minus_one": (-1, -1),
    "nine_ten": (9, 10),
}


def _frame(roles: list[object]) -> pd.DataFrame:
    return pd.DataFrame(
        {"d": [1, 1, 2, 2], "r": roles, "y": [1.0, 2.0, 3.0, 4.0], "x": [0.5, 1.5, 2.5, 3.0]}
    )


@pytest.mark.parametrize("kind", sorted(ROLES))
@pytest.mark.parametrize("order", ["value", "text"])
def test_role_order_for_string_and_numeric_roles(kind: str, order: str) -> None:
    df = _frame(ROLES[kind])
    before = df.copy()
    mf = model_frame(df, dyad="d", role="r", func="t", order=order)  # type: ignore[arg-type]
    first = FIRST[kind][0 if order == "value" else 1]
    assert mf.roles[0] == first and type(mf.roles[0]) is type(first)
    assert mf.member.tolist() == [int(r != first) for r in ROLES[kind]]
    # member 0 is column 0 of the dyad-wide arrays; by value, as to_dyad orders them
    y = mf.wide(["y"])["y"]
    assert y[:, 0].tolist() == [v for v, r in zip(df["y"], df["r"], strict=True) if r == first]
    if order == "value":
        wide = to_dyad(df, dyad="d", role="r", variables=["y"])
        assert list(wide.columns)[-2:] == [f"y_{mf.roles[0]}", f"y_{mf.roles[1]}"]
    pd.testing.assert_frame_equal(df, before)


def test_categorical_roles_keep_their_category_order() -> None:
    df = _frame(ROLES["text"]).assign(r=lambda d: pd.Categorical(d["r"], ["w", "h"]))
    assert model_frame(df, dyad="d", role="r", func="t").roles == ("w", "h")


def test_indistinguishable_members_by_person_id_or_row_order() -> None:
    df = pd.DataFrame({"d": [1, 1, 2, 2], "p": [10, 9, 3, 4], "y": [1.0, 2.0, 3.0, 4.0]})
    by_value = model_frame(df, dyad="d", person="p", func="t")
    by_text = model_frame(df, dyad="d", person="p", func="t", order="text")
    by_row = model_frame(df, dyad="d", func="t")
    assert by_value.member.tolist() == [1, 0, 0, 1]
    assert by_text.member.tolist() == [0, 1, 0, 1]
    assert by_row.member.tolist() == [0, 1, 0, 1]
    assert by_value.roles == by_text.roles == ()
    assert by_text.wide(["y"])["y"].tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert by_value.wide(["y"])["y"].tolist() == [[2.0, 1.0], [3.0, 4.0]]


def test_dyadic_data_gives_the_keys() -> None:
    df = _frame(ROLES["one_two"])
    dd = DyadicData(df, dyad="d", role="r")
    from_dd = model_frame(dd, func="t")
    from_df = model_frame(df, dyad="d", role="r", func="t")
    assert (from_dd.dyad, from_dd.role, from_dd.roles) == ("d", "r", (1, 2))
    np.testing.assert_array_equal(from_dd.member, from_df.member)
    for v in ("y", "x"):
        np.testing.assert_array_equal(from_dd.wide([v])[v], from_df.wide([v])[v])
    np.testing.assert_array_equal(from_dd.partner_values("x"), [1.5, 0.5, 3.0, 2.5])


def test_rows_without_dyad_id_are_counted_and_the_input_kept() -> None:
    df = pd.DataFrame({"d": [1, 1, None, 2, None], "y": [1.0, 2.0, 3.0, 4.0, 5.0]})
    before = df.copy()
    mf = model_frame(df, dyad="d", func="t", drop_missing_dyad=True)
    assert dict(mf.left_out) == {"no dyad id": 2}
    assert mf.rows.index.tolist() == [0, 1, 3]
    assert mf.present.tolist() == [[True, True], [True, False]]
    assert mf.partner.tolist() == [1, 0, -1]
    assert dict(model_frame(before, dyad="d", func="t").left_out) == {}
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("shuffle", [False, True])
def test_wide_arrays_equal_the_reshape_of_to_dyad(shuffle: bool) -> None:
    # gathered from the rows (no time): the values to_dyad's reshape gives, also with
    # persons without a partner, integer and missing values, and rows in any order
    rng = np.random.default_rng(11)
    n = 60
    df = pd.DataFrame(
        {
            "d": np.repeat(np.arange(n), 2),
            "r": np.tile(["w", "h"], n),
            "y": rng.normal(size=2 * n),
            "k": rng.integers(0, 5, size=2 * n),
        }
    )
    df.loc[rng.random(2 * n) < 0.1, "y"] = np.nan
    df = df.drop(index=rng.choice(2 * n, size=9, replace=False))
    if shuffle:
        df = df.sample(frac=1.0, random_state=2)
    mf = model_frame(df, dyad="d", role="r", func="t")
    wide = to_dyad(df, dyad="d", role="r", variables=["y", "k"])
    got = mf.wide(["y", "k"])
    for v in ("y", "k"):
        expected = wide[[f"{v}_h", f"{v}_w"]].to_numpy(dtype=float)
        np.testing.assert_array_equal(got[v], expected)
    assert mf.dyad_index.tolist() == wide["d"].tolist() == mf.dyad_ids
    assert mf.present.tolist() == wide[["r_h", "r_w"]].notna().to_numpy().tolist()
    with pytest.raises(ValueError, match="no time"):
        _ = model_frame(df.assign(t=1), dyad="d", role="r", time="t", func="t").positions


def test_partners_are_matched_within_occasion() -> None:
    df = pd.DataFrame(
        {"d": [1, 1, 1, 1], "t": [1, 2, 2, 1], "r": ["a", "b", "a", "b"], "x": [1.0, 2, 3, 4]}
    )
    mf = model_frame(df, dyad="d", role="r", time="t", func="t")
    assert mf.partner_values("x").tolist() == [4.0, 3.0, 2.0, 1.0]
    assert mf.wide(["x"])["x"].tolist() == [[1.0, 4.0], [3.0, 2.0]]  # by occasion


# --- every model reports the roles in today's order and accepts a DyadicData -------------

#: the role each model reports first today (truth_bias orders the roles by their text)
BY_VALUE = {"text": "h", "one_two": "1", "zero_one": "0", "minus_one": "-1", "nine_ten": "9"}
MODEL_FIRST = {
    "apim": BY_VALUE,
    "apim_mediation": BY_VALUE,
    "nonindependence": BY_VALUE,
    "diary": BY_VALUE,
    "truth_bias": {**BY_VALUE, "nine_ten": "10"},
}


def _dyads(kind: str, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    x = rng.normal(size=2 * n)
    return pd.DataFrame(
        {
            "d": np.repeat(np.arange(n), 2),
            "r": np.tile(ROLES[kind][:2], n),
            "x": x,
            "m": 0.4 * x + rng.normal(size=2 * n),
            "y": 0.5 * x + rng.normal(size=2 * n),
        }
    )


def _diary(kind: str, n: int = 30, t: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    size = n * t * 2
    d = np.repeat(np.arange(n), 2 * t)
    r = np.tile(ROLES[kind][:2], n * t)
    x, truth = rng.normal(size=size), rng.normal(size=size)
    return pd.DataFrame(
        {
            "d": d,
            "p": d * 2 + (r == ROLES[kind][1]),
            "t": np.tile(np.repeat(np.arange(t), 2), n),
            "r": r,
            "x": x,
            "y": 0.5 * x + rng.normal(size=size),
            "truth": truth,
            "judg": 0.3 * truth + rng.normal(size=size),
        }
    )


def _fit(model: str, data: pd.DataFrame | DyadicData, **keys: str) -> object:
    import dyadlab as dl

    if model == "apim":
        return dl.apim(data, y="y", x="x", **keys)
    if model == "apim_mediation":
        return dl.apim_mediation(data, x="x", m="m", y="y", bootstrap=0, **keys)
    if model == "nonindependence":
        return dl.nonindependence(data, variables=["y"], **keys)
    if model == "diary":
        return dl.diary(data, y="y", x="x", **keys)
    return dl.truth_bias(data, judgment="judg", truth="truth", **keys)


#: models that take a DyadicData (its keys) instead of a DataFrame and key names
TAKES_DYADIC_DATA = set(MODEL_FIRST)


@pytest.mark.filterwarnings("ignore::dyadlab.exceptions.DyadlabWarning")
@pytest.mark.parametrize("kind", sorted(ROLES))
@pytest.mark.parametrize("model", sorted(MODEL_FIRST))
def test_models_report_roles_in_todays_order(model: str, kind: str) -> None:
    keys = {"dyad": "d", "role": "r"}
    df = _dyads(kind)
    if model == "diary":
        df, keys = _diary(kind), keys | {"person": "p", "time": "t"}
    elif model == "truth_bias":  # one judgment per person: no random effects, quick
        df, keys = _diary(kind, n=60, t=1), keys | {"person": "p"}
    before = df.copy()
    res = _fit(model, df, **keys)
    assert res.roles[0] == MODEL_FIRST[model][kind]  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(df, before)
    if model in TAKES_DYADIC_DATA:
        via_dd = _fit(model, DyadicData(df, **keys))
        pd.testing.assert_frame_equal(via_dd.estimates, res.estimates)  # type: ignore[attr-defined]
        assert via_dd.roles == res.roles  # type: ignore[attr-defined]
