"""Seeded simulations give the same numbers on a 2-process Dask LocalCluster as locally."""

from __future__ import annotations

import pytest

import dyadlab as dl

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_power_diary_dask_equals_local(client):
    kw = {
        "actor": 0.1,
        "partner": 0.05,
        "couples": [20, 30],
        "days": [7],
        "replications": 200,
        "seed": 11,
        "progress": False,
    }
    local = dl.power.diary(**kw)
    remote = dl.power.diary(**kw, client=client)
    assert len(local.grid) == 2
    assert remote.grid == local.grid


def test_power_apim_montecarlo_dask_equals_local(client):
    kw = {"actor": 0.3, "partner": 0.15, "r_x": 0.3, "r_e": 0.3, "dyads": [40, 80]}
    local = dl.power.apim(**kw, method="montecarlo", replications=500, rng=3)
    remote = dl.power.apim(**kw, method="montecarlo", replications=500, rng=3, client=client)
    assert len(local.curve) == 2
    assert remote.curve == local.curve
