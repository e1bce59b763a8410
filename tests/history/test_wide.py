"""TraMineR-style wide export, read back into the same sequences."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, DyadlabWarning
from dyadlab.history import Sequence, SequenceResult


@pytest.mark.parametrize("align", ["calendar", "start"])
@pytest.mark.parametrize("seed", range(5))
def test_simulated_sequences_survive_a_csv_round_trip(tmp_path, align, seed):
    frame, truth = dl.history.simulate_episodes(15, rng=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.history.sequences(frame, until=truth.until)
    path = tmp_path / "wide.csv"
    res.to_wide(align=align).to_csv(path, index=False)
    back = dl.history.read_wide(path)
    assert back.as_dict() == truth.sequences
    assert [s.start for s in back.sequences] == [s.start for s in res.sequences]


def test_calendar_columns_by_hand():
    res = SequenceResult(
        [Sequence("a", "2019-11", ["casual", "none", "romantic"]), Sequence("b", "2020-01", ["x"])]
    )
    wide = res.to_wide()
    assert list(wide.columns) == ["person", "start", "2019-11", "2019-12", "2020-01"]
    assert (
        wide.iloc[1].tolist()[:4] == ["b", "2020-01", None, None] or wide.iloc[1].isna().sum() == 2
    )
    start = res.to_wide(align="start")
    assert list(start.columns) == ["person", "start", "t1", "t2", "t3"]
    assert start.iloc[1, 2] == "x" and pd.isna(start.iloc[1, 3])


state = st.sampled_from(["none", "casual", "romantic", "casual+romantic", "dating"])
sequence = st.tuples(
    st.integers(2015, 2025), st.integers(1, 12), st.lists(state, min_size=1, max_size=30)
).filter(lambda t: t[2][0] != "none" and t[2][-1] != "none")


@settings(max_examples=60, deadline=None)
@given(st.lists(sequence, min_size=1, max_size=6), st.sampled_from(["calendar", "start"]))
def test_any_sequences_round_trip(items, align):
    res = SequenceResult(
        [Sequence(f"p{i}", f"{y}-{m:02d}", states) for i, (y, m, states) in enumerate(items)]
    )
    back = dl.history.read_wide(res.to_wide(align=align))
    assert back.sequences == res.sequences


@pytest.mark.parametrize(
    ("wide", "message"),
    [
        (pd.DataFrame({"id": ["a"], "2019-01": ["x"]}), "no column 'person'"),
        (pd.DataFrame({"person": ["a"], "t1": ["x"]}), "no column 'start'"),
        (pd.DataFrame({"person": ["a"], "Jan": ["x"]}), "column 'Jan' is neither a month label"),
        (
            pd.DataFrame({"person": ["a"], "2019-01": ["x"], "2019-02": [""], "2019-03": ["y"]}),
            "no state in column '2019-02', inside",
        ),
        (pd.DataFrame({"person": ["a"], "2019-01": [None]}), "has no states"),
    ],
)
def test_bad_wide_tables_are_named(wide, message):
    with pytest.raises(DyadicDataError, match=message):
        dl.history.read_wide(wide)


def test_quarters_round_trip():
    res = SequenceResult([Sequence("a", "2019Q4", ["x", "none", "y"])], unit="quarter")
    wide = res.to_wide()
    assert list(wide.columns)[2:] == ["2019Q4", "2020Q1", "2020Q2"]
    assert dl.history.read_wide(wide, unit="quarter").sequences == res.sequences


def test_a_table_written_by_r_reads_back(tmp_path):
    # write.csv(wide) in R: a first column of row names without a name, NA for empty cells
    path = tmp_path / "from_r.csv"
    path.write_text(
        '"","person","start","2019-11","2019-12","2020-01"\n'
        '"1","a","2019-11","casual","none","romantic"\n'
        '"2","b","2020-01",NA,NA,"casual+romantic"\n',
        encoding="utf-8",
    )
    back = dl.history.read_wide(path)
    assert back.as_dict() == {"a": ["casual", "none", "romantic"], "b": ["casual+romantic"]}
    assert [s.start for s in back.sequences] == ["2019-11", "2020-01"]
