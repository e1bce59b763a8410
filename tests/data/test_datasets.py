"""The shipped data sets load as documented and equal their public source."""

from __future__ import annotations

import pandas as pd

from dyadlab.data import DyadicData
from dyadlab.data.datasets import load_acitelli
from tests.reference.fixtures import data_path


def test_acitelli_equals_the_shared_copy():
    shared = pd.read_csv(data_path("shared:acitelli_individual.csv"))
    pd.testing.assert_frame_equal(load_acitelli(), shared)


def test_acitelli_is_148_distinguishable_couples():
    dd = DyadicData(load_acitelli(), dyad="cuplid", role="gender")
    assert (dd.n_dyads, dd.n_obs, dd.distinguishable, dd.roles) == (148, 296, True, ("-1", "1"))
    assert dd.missing().total == 0
