"""Seeded simulations give the same numbers on a 2-process Dask LocalCluster as locally.

One module-scoped cluster for all: power.diary, power.apim's Monte Carlo (several chunks
per sample size) and the APIM k and APIMeM bootstraps (several chunks of resamples).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED

# few Monte Carlo replications on purpose (fast tests): the DyadlabWarning saying so
# is expected here (tests/models/test_warning_policy.py checks it is issued)
pytestmark = DATA_WARNINGS_EXPECTED

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
    # 2,000 dyads: chunks of 1,000 replications, so 3 chunks at that sample size
    kw = {"actor": 0.05, "partner": 0.03, "r_x": 0.3, "r_e": 0.3, "dyads": [40, 2000]}
    local = dl.power.apim(**kw, method="montecarlo", replications=2500, rng=3)
    remote = dl.power.apim(**kw, method="montecarlo", replications=2500, rng=3, client=client)
    assert len(local.curve) == 2
    assert remote.curve == local.curve


def _couples(n=80, seed=5):
    g = np.random.default_rng(seed)
    x = g.normal(size=2 * n)
    xp = x.reshape(n, 2)[:, ::-1].ravel()
    m = 0.4 * x + 0.2 * xp + g.normal(size=2 * n)
    mp = m.reshape(n, 2)[:, ::-1].ravel()
    return pd.DataFrame(
        {
            "couple": np.repeat(np.arange(n), 2),
            "role": np.tile(["f", "m"], n),
            "x": x,
            "m": m,
            "y": 0.5 * x + 0.2 * xp + 0.3 * m + 0.1 * mp + g.normal(size=2 * n),
        }
    )


def test_apim_k_bootstrap_dask_equals_local(client):
    kw = {"y": "y", "x": "x", "dyad": "couple", "role": "role", "bootstrap": 2500, "rng": 7}
    local = dl.apim(_couples(), **kw).extra["k"]
    remote = dl.apim(_couples(), **kw, client=client).extra["k"]
    assert len(local) == 2 and all(k["ci_low"] is not None for k in local)
    assert remote == local


def test_mediation_bootstrap_dask_equals_local(client):
    kw = {"x": "x", "m": "m", "y": "y", "dyad": "couple", "bootstrap": 2500, "rng": 4}
    local = dl.apim_mediation(_couples(), **kw, role="role").estimates
    remote = dl.apim_mediation(_couples(), **kw, role="role", client=client).estimates
    assert local["ci_low"].notna().all()
    pd.testing.assert_frame_equal(remote, local, check_exact=True)


def test_cli_scheduler_runs_on_the_cluster_with_the_local_numbers(client, capsys):
    import json

    from dyadlab.cli import main

    argv = ["power", "diary", "--actor", "0.1", "--partner", "0.05", "--couples", "20"]
    argv += ["--days", "7", "--replications", "200", "--seed", "5", "--json"]
    assert main([*argv, "--scheduler", client.scheduler.address]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    local = json.loads(capsys.readouterr().out)
    assert remote["grid"] and remote == local


def test_cli_power_apim_scheduler_gives_the_local_numbers(client, capsys):
    import json

    from dyadlab.cli import main

    argv = ["power", "apim", "--actor", "0.2", "--partner", "0.1", "--r-x", "0.3", "--r-e", "0.3"]
    argv += ["--dyads", "50", "--method", "montecarlo", "--replications", "500", "--seed", "3"]
    assert main([*argv, "--json", "--scheduler", client.scheduler.address]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert main([*argv, "--json"]) == 0
    assert remote["power"] and remote == json.loads(capsys.readouterr().out)
