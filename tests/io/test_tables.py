"""read_table / write_table: round trips for every format, labels, and every error."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dyadlab as dl
from dyadlab.exceptions import DyadlabWarning, FileFormatError, OptionError
from dyadlab.io import MissingFileError, read_table, supported_extensions, write_table

TEXT_EXTENSIONS = [".csv", ".tsv", ".tab", ".txt", ".csv.gz", ".tsv.bz2", ".csv.zip"]
BINARY_EXTENSIONS = [".parquet", ".pq", ".sav", ".zsav", ".dta", ".xlsx"]
LABEL_EXTENSIONS = [".sav", ".zsav", ".dta", ".parquet"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "couple": [1, 1, 2, 2],
            "role": ["wife", "husband", "wife", "husband"],
            "sat": [5.5, np.nan, 6.25, 3.0],
            "days": [10, 12, 14, 9],
        }
    )


@pytest.mark.parametrize("ext", TEXT_EXTENSIONS + BINARY_EXTENSIONS)
def test_round_trip_keeps_values(tmp_path: Path, ext: str) -> None:
    df = _frame()
    path = tmp_path / f"data{ext}"
    write_table(df, path)
    got = read_table(path)
    assert list(got.columns) == list(df.columns)
    # SPSS and Stata store every number as a double
    pd.testing.assert_frame_equal(
        got, df, check_dtype=ext not in {".sav", ".zsav", ".dta"}, check_like=False
    )


def test_public_names_are_lazy_exports() -> None:
    assert dl.read_table is read_table
    assert dl.write_table is write_table
    assert ".zsav" in supported_extensions()


def test_compressed_csv_is_really_compressed(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    write_table(_frame(), path)
    with gzip.open(path, "rt") as handle:
        assert handle.readline().strip() == "couple,role,sat,days"


def test_tsv_is_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    write_table(_frame(), path)
    assert path.read_text().splitlines()[0] == "couple\trole\tsat\tdays"


@pytest.mark.parametrize("ext", [".sav", ".dta"])
def test_missing_text_comes_back_empty_in_spss_and_stata(tmp_path: Path, ext: str) -> None:
    df = pd.DataFrame({"note": ["a", None, "ccc"], "x": [1.0, 2.0, np.nan]})
    write_table(df, tmp_path / f"d{ext}")
    got = read_table(tmp_path / f"d{ext}")
    assert got["note"].tolist() == ["a", "", "ccc"]
    assert np.isnan(got["x"].iloc[2])


@pytest.mark.parametrize("ext", LABEL_EXTENSIONS)
def test_labels_round_trip_from_arguments(tmp_path: Path, ext: str) -> None:
    df = _frame()
    df["gender"] = [1, 2, 1, 2]
    variable_labels = {"sat": "Relationship satisfaction (1-7)", "gender": "Gender"}
    value_labels = {"gender": {1: "woman", 2: "man"}}
    path = tmp_path / f"d{ext}"
    write_table(df, path, variable_labels=variable_labels, value_labels=value_labels)
    got = read_table(path)
    assert got.attrs["variable_labels"] == variable_labels
    assert got.attrs["value_labels"] == value_labels
    key = next(iter(got.attrs["value_labels"]["gender"]))
    assert type(key) is int


@pytest.mark.parametrize("ext", LABEL_EXTENSIONS)
def test_labels_are_taken_from_attrs(tmp_path: Path, ext: str) -> None:
    df = _frame()
    df.attrs["variable_labels"] = {"days": "Days in study", "gone": "a dropped column"}
    df.attrs["value_labels"] = {"days": {10: "ten"}}
    write_table(df, tmp_path / f"d{ext}")
    got = read_table(tmp_path / f"d{ext}")
    assert got.attrs["variable_labels"] == {"days": "Days in study"}
    assert got.attrs["value_labels"] == {"days": {10: "ten"}}


def test_arguments_override_attrs(tmp_path: Path) -> None:
    df = _frame()
    df.attrs["variable_labels"] = {"days": "old"}
    write_table(df, tmp_path / "d.sav", variable_labels={"days": "new"})
    assert read_table(tmp_path / "d.sav").attrs["variable_labels"] == {"days": "new"}


def test_spss_to_spss_keeps_labels_through_attrs(tmp_path: Path) -> None:
    df = _frame()
    write_table(df, tmp_path / "a.sav", variable_labels={"sat": "Satisfaction"})
    write_table(read_table(tmp_path / "a.sav"), tmp_path / "b.dta")
    assert read_table(tmp_path / "b.dta").attrs["variable_labels"] == {"sat": "Satisfaction"}


def test_parquet_keeps_fractional_and_text_value_keys(tmp_path: Path) -> None:
    df = pd.DataFrame({"x": [1.5, 2.0], "s": ["a", "b"]})
    labels = {"x": {1.5: "one and a half", 2: "two"}, "s": {"a": "Alpha"}}
    write_table(df, tmp_path / "d.parquet", value_labels=labels)
    assert read_table(tmp_path / "d.parquet").attrs["value_labels"] == labels


def test_formats_without_labels_give_empty_label_dicts(tmp_path: Path) -> None:
    write_table(_frame(), tmp_path / "d.csv")
    got = read_table(tmp_path / "d.csv")
    assert got.attrs == {"variable_labels": {}, "value_labels": {}}


@pytest.mark.parametrize("ext", [".sav", ".dta"])
def test_categorical_becomes_labelled_codes(tmp_path: Path, ext: str) -> None:
    df = pd.DataFrame({"mood": pd.Categorical(["low", "high", None, "low"], ["low", "high"])})
    path = tmp_path / f"d{ext}"
    write_table(df, path)
    got = read_table(path)
    assert got["mood"].tolist()[:2] == [1.0, 2.0]
    assert np.isnan(got["mood"].iloc[2])
    assert got.attrs["value_labels"] == {"mood": {1: "low", 2: "high"}}
    as_category = read_table(path, apply_value_formats=True, formats_as_category=True)
    assert as_category["mood"].astype(object).tolist()[:2] == ["low", "high"]


def test_numeric_categories_are_written_as_their_values(tmp_path: Path) -> None:
    df = pd.DataFrame({"stage": pd.Categorical([3, 1, 3])})
    write_table(df, tmp_path / "d.sav")
    got = read_table(tmp_path / "d.sav")
    assert got["stage"].tolist() == [3.0, 1.0, 3.0]
    assert got.attrs["value_labels"] == {"stage": {1: "1", 3: "3"}}


@pytest.mark.parametrize("ext", [".parquet", ".csv"])
def test_categorical_in_parquet_and_csv(tmp_path: Path, ext: str) -> None:
    df = pd.DataFrame({"mood": pd.Categorical(["low", "high", None])})
    write_table(df, tmp_path / f"d{ext}")
    got = read_table(tmp_path / f"d{ext}")
    if ext == ".parquet":
        assert isinstance(got["mood"].dtype, pd.CategoricalDtype)
    assert got["mood"].iloc[:2].astype(object).tolist() == ["low", "high"]
    assert pd.isna(got["mood"].iloc[2])


def test_parquet_ignores_attrs_that_are_not_json(tmp_path: Path) -> None:
    df = _frame()
    df.attrs["truth"] = {"tau": np.eye(2)}
    write_table(df, tmp_path / "d.parquet")
    assert "truth" not in read_table(tmp_path / "d.parquet").attrs
    assert "truth" in df.attrs  # the caller's frame is untouched


def test_options_pass_through(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("a;b\n1;2\n")
    got = read_table(path, sep=";")
    assert got.to_dict("list") == {"a": [1], "b": [2]}


def test_format_overrides_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    write_table(_frame(), path, format="parquet")
    pd.testing.assert_frame_equal(read_table(path, format=".PARQUET"), _frame())


def test_xlsx_reads_a_named_sheet(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    write_table(_frame(), path, sheet_name="couples")
    pd.testing.assert_frame_equal(read_table(path, sheet_name="couples"), _frame())


# --- hypothesis round trips -------------------------------------------------------------

_numeric_frames = st.integers(min_value=1, max_value=30).flatmap(
    lambda n: st.tuples(
        hnp.arrays(np.float64, n, elements=st.floats(allow_nan=True, allow_infinity=False)),
        hnp.arrays(np.int64, n, elements=st.integers(-(2**53), 2**53)),
    )
)


@pytest.mark.parametrize("ext", [".csv", ".parquet"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(columns=_numeric_frames)
def test_random_numeric_frames_round_trip(
    tmp_path: Path, ext: str, columns: tuple[np.ndarray, np.ndarray]
) -> None:
    df = pd.DataFrame({"x": columns[0], "k": columns[1]})
    path = tmp_path / f"random{ext}"
    write_table(df, path)
    got = read_table(path)
    pd.testing.assert_frame_equal(got, df, check_exact=True, check_dtype=ext == ".parquet")


# --- errors -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["data.json", "data", "data.sav.bak"])
def test_unknown_extension_names_it_and_the_supported_ones(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("{}")
    with pytest.raises(FileFormatError, match=r"read_table\(\): cannot tell the format") as err:
        read_table(path)
    message = str(err.value)
    assert (Path(name).suffix or "no extension") in message
    for ext in (".csv", ".parquet", ".sav", ".dta", ".xlsx"):
        assert ext in message
    with pytest.raises(FileFormatError, match="Supported extensions"):
        write_table(_frame(), path)


def test_bad_format_option_is_an_option_error(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match=r"format='spss' is not allowed.*'sav'"):
        read_table(tmp_path / "x.csv", format="spss")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(MissingFileError, match=r"the file '.*nope\.csv' does not exist") as err:
        read_table(path)
    assert isinstance(err.value, FileNotFoundError)
    assert isinstance(err.value, FileFormatError)


def test_missing_folder_is_mentioned(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="does not exist either"):
        read_table(tmp_path / "no_folder" / "d.sav")


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "d.csv"
    folder.mkdir()
    with pytest.raises(FileFormatError, match="is a folder"):
        read_table(folder)
    with pytest.raises(FileFormatError, match="is a folder"):
        write_table(_frame(), folder)


@pytest.mark.parametrize("ext", TEXT_EXTENSIONS[:4] + BINARY_EXTENSIONS)
def test_empty_file(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"empty{ext}"
    path.write_bytes(b"")
    with pytest.raises(FileFormatError, match="the file is empty"):
        read_table(path)


def test_blank_text_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_text("\n\n")
    with pytest.raises(FileFormatError, match="the file is empty"):
        read_table(path)


@pytest.mark.parametrize("ext", [".sav", ".zsav", ".dta", ".parquet", ".xlsx"])
def test_corrupt_file_is_a_file_format_error(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"corrupt{ext}"
    path.write_text("couple,sat\n1,5\n1,6\n")
    with pytest.raises(
        FileFormatError, match=r"cannot read '.*corrupt.*' as .*Check that the file"
    ) as err:
        read_table(path)
    assert err.value.__cause__ is not None  # the library's own error is kept for debugging


def test_undecodable_text_asks_for_an_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("naam\nJosé\n".encode("utf-16"))
    with pytest.raises(FileFormatError, match="encoding="):
        read_table(path)
    assert read_table(path, encoding="utf-16")["naam"].tolist() == ["José"]


def test_unknown_option_is_an_option_error(tmp_path: Path) -> None:
    write_table(_frame(), tmp_path / "d.sav")
    with pytest.raises(OptionError, match=r"not accepted by the SPSS \(\.sav\) reader"):
        read_table(tmp_path / "d.sav", no_such_option=True)


def test_write_to_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match=r"the folder '.*missing' does not exist"):
        write_table(_frame(), tmp_path / "missing" / "d.csv")


def test_stata_rejects_bad_column_names_cleanly_and_leaves_no_file(tmp_path: Path) -> None:
    df = pd.DataFrame({"relationship satisfaction": [1.0]})
    path = tmp_path / "d.dta"
    with pytest.raises(FileFormatError, match=r"cannot write '.*d\.dta' as Stata.*space"):
        write_table(df, path)
    assert list(tmp_path.iterdir()) == []


def test_stata_rejects_fractional_value_labels(tmp_path: Path) -> None:
    df = pd.DataFrame({"x": [1.5, 2.0]})
    with pytest.raises(FileFormatError, match="as Stata"):
        write_table(df, tmp_path / "d.dta", value_labels={"x": {1.5: "a"}})


@pytest.mark.parametrize("argument", ["variable_labels", "value_labels"])
def test_labels_for_unknown_columns_name_the_closest(tmp_path: Path, argument: str) -> None:
    labels = {"stat": "Satisfaction"} if argument == "variable_labels" else {"stat": {1: "x"}}
    with pytest.raises(OptionError, match=rf"{argument} names column 'stat'.*Did you mean 'sat'"):
        write_table(_frame(), tmp_path / "d.sav", **{argument: labels})


def test_malformed_labels_are_option_errors(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="variable_labels must be a dict"):
        write_table(_frame(), tmp_path / "d.sav", variable_labels=["sat"])  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="value_labels must be a dict"):
        write_table(_frame(), tmp_path / "d.sav", value_labels={"sat": "x"})  # type: ignore[dict-item]


def test_explicit_labels_for_csv_warn(tmp_path: Path) -> None:
    with pytest.warns(DyadlabWarning, match="cannot store variable or value labels"):
        write_table(_frame(), tmp_path / "d.csv", variable_labels={"sat": "Satisfaction"})
    assert (tmp_path / "d.csv").exists()


def test_write_needs_a_dataframe(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="df must be a pandas DataFrame, not dict"):
        write_table({"a": [1]}, tmp_path / "d.csv")  # type: ignore[arg-type]


def test_semicolon_csv_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "excel_nl.csv"
    path.write_text("koppel;tevredenheid\n1;5,5\n1;6,0\n")
    with pytest.warns(
        DyadlabWarning, match=r"separated by ';', not ','. Pass sep=';', decimal=','"
    ):
        read_table(path)
    got = read_table(path, sep=";", decimal=",")
    assert got["tevredenheid"].tolist() == [5.5, 6.0]


def test_one_column_file_without_other_separator_is_quiet(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("score\n1\n2\n")
    assert read_table(path)["score"].tolist() == [1, 2]


def test_home_folder_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_table(_frame(), "~/home.parquet")
    assert (tmp_path / "home.parquet").exists()
    assert len(read_table("~/home.parquet")) == 4
