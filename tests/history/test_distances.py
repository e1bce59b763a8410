"""Sequence distances against costs worked out by hand (TraMineR is not installed here;
each expected value below is the cheapest edit script, written out in the comment)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.history import cluster, distances, substitution_costs


@pytest.mark.parametrize(
    ("a", "b", "sub", "indel", "expected"),
    [
        # delete the leading x, insert an x at the end: 1 + 1 (two substitutions: 4)
        ("xy", "yx", 2, 1, 2.0),
        # two substitutions at 0.5 beat two indels at 1
        ("xy", "yx", 0.5, 1, 1.0),
        # delete one x
        ("xxy", "xy", 2, 1, 1.0),
        # delete A, insert D: 2; three substitutions would cost 6
        ("ABC", "BCD", 2, 1, 2.0),
        # with indel 2 and substitution 1, the three substitutions (3) beat 4
        ("ABC", "BCD", 1, 2, 3.0),
        # x → y and insert two y: 1 + 2 = 3 (or delete x, insert 3 y: 4)
        ("x", "yyy", 1, 1, 3.0),
        ("x", "yyy", 2, 1, 4.0),
        ("same", "same", 2, 1, 0.0),
        # the empty prefix case: insert every state
        ("z", "zzzz", 2, 1.5, 4.5),
    ],
)
def test_om_by_hand(a, b, sub, indel, expected):
    d = distances({"a": list(a), "b": list(b)}, method="om", sub=sub, indel=indel)
    assert d.loc["a", "b"] == pytest.approx(expected, abs=1e-12)
    assert d.loc["b", "a"] == pytest.approx(expected, abs=1e-12)
    assert d.loc["a", "a"] == 0


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("xxy", "xy", 1),  # LCS "xy" (2): 3 + 2 - 4
        ("xy", "yx", 2),  # LCS length 1: 2 + 2 - 2
        ("ABCBDAB", "BDCABA", 5),  # LCS "BCBA" (4): 7 + 6 - 8
        ("abc", "def", 6),
    ],
)
def test_lcs_by_hand(a, b, expected):
    d = distances({"a": list(a), "b": list(b)}, method="lcs")
    assert d.loc["a", "b"] == expected


def _lcs_length(x, y):
    table = np.zeros((len(x) + 1, len(y) + 1), dtype=int)
    for i, xi in enumerate(x, start=1):
        for j, yj in enumerate(y, start=1):
            table[i, j] = (
                table[i - 1, j - 1] + 1 if xi == yj else max(table[i - 1, j], table[i, j - 1])
            )
    return table[-1, -1]


def test_lcs_matches_the_longest_common_subsequence_on_simulated_sequences():
    _, truth = dl.history.simulate_episodes(12, rng=3, imprecise=0)
    seqs = truth.sequences
    d = distances(seqs, method="lcs")
    for p, q in itertools.combinations(seqs, 2):
        expected = len(seqs[p]) + len(seqs[q]) - 2 * _lcs_length(seqs[p], seqs[q])
        assert d.loc[p, q] == expected


def test_om_matches_a_plain_loop_on_simulated_sequences():
    _, truth = dl.history.simulate_episodes(10, rng=11, imprecise=0)
    seqs = truth.sequences
    costs = substitution_costs(seqs, "jaccard")
    d = distances(seqs, method="om", sub="jaccard", indel=0.8)
    for p, q in itertools.combinations(seqs, 2):
        a, b = seqs[p], seqs[q]
        table = np.zeros((len(a) + 1, len(b) + 1))
        table[:, 0] = np.arange(len(a) + 1) * 0.8
        table[0, :] = np.arange(len(b) + 1) * 0.8
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                table[i, j] = min(
                    table[i - 1, j] + 0.8,
                    table[i, j - 1] + 0.8,
                    table[i - 1, j - 1] + costs.loc[a[i - 1], b[j - 1]],
                )
        assert d.loc[p, q] == pytest.approx(table[-1, -1], abs=1e-9)


def test_jaccard_costs_for_combined_states():
    costs = substitution_costs([["none", "casual", "casual+romantic", "romantic"]], "jaccard")
    assert costs.loc["casual", "casual+romantic"] == 1.0  # shares 1 of 2 types
    assert costs.loc["casual", "romantic"] == 2.0
    assert costs.loc["none", "casual"] == 2.0
    d = distances({"a": ["casual", "casual"], "b": ["casual+romantic", "casual"]}, sub="jaccard")
    assert d.loc["a", "b"] == 1.0  # one substitution at 1 beats delete + insert (2)


def test_trate_costs_and_distance_by_hand():
    # transitions: x→x 1, x→y 1 (rates from x: 1/2, 1/2); y→x 1 (rate from y: 1)
    seqs = {"a": ["x", "x", "y"], "b": ["y", "x"]}
    costs = substitution_costs(seqs, "trate")
    assert costs.loc["x", "y"] == pytest.approx(2 - 0.5 - 1.0)
    # x→y (0.5), x = x, delete y (1): 1.5
    assert distances(seqs, sub="trate").loc["a", "b"] == pytest.approx(1.5)


def test_hamming_counts_differences():
    d = distances({"a": list("xyz"), "b": list("xzz"), "c": list("abc")}, method="hamming")
    assert d.loc["a", "b"] == 1 and d.loc["a", "c"] == 3
    with pytest.raises(DyadicDataError, match="one length"):
        distances({"a": list("xy"), "b": list("x")}, method="hamming")


def test_cost_tables_and_errors():
    table = pd.DataFrame([[0, 3], [3, 0]], index=["x", "y"], columns=["x", "y"])
    assert distances({"a": ["x"], "b": ["y"]}, sub=table).loc["a", "b"] == 2.0  # indels win
    assert distances({"a": ["x"], "b": ["y"]}, sub={("x", "y"): 1.5}).loc["a", "b"] == 1.5
    with pytest.raises(DyadicDataError, match="no substitution cost"):
        distances({"a": ["x"], "b": ["z"]}, sub={("x", "y"): 1})
    with pytest.raises(OptionError, match="method='ham'"):
        distances({"a": ["x"]}, method="ham")
    with pytest.raises(OptionError, match="indel"):
        distances({"a": ["x"]}, indel=0)
    with pytest.raises(DyadicDataError, match="no sequences"):
        distances({})


def test_duplicates_share_their_distances_and_results_are_labelled():
    res = dl.history.SequenceResult(
        [
            dl.history.Sequence("p1", "2019-01", ["x", "y"]),
            dl.history.Sequence("p2", "2019-05", ["x", "y"]),
            dl.history.Sequence("p3", "2019-01", ["y"]),
        ]
    )
    d = distances(res)
    assert list(d.index) == ["p1", "p2", "p3"]
    assert d.loc["p1", "p2"] == 0 and d.loc["p1", "p3"] == d.loc["p2", "p3"] == 1


def test_clusters_recover_two_groups_of_histories():
    seqs = {f"r{i}": ["romantic"] * (20 + i) for i in range(5)}
    seqs |= {f"c{i}": ["casual", "none"] * (4 + i) for i in range(5)}
    labels = cluster(distances(seqs), k=2)
    assert labels.name == "cluster"
    assert set(labels[[f"r{i}" for i in range(5)]]) == {1}
    assert set(labels[[f"c{i}" for i in range(5)]]) == {2}
    with pytest.raises(OptionError, match="k=11"):
        cluster(distances(seqs), k=11)
