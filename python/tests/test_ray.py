"""Sweeps on a local Ray cluster (two CPUs): the gathered frame is the local sweep's."""

import pandas as pd
import pytest
import ray  # a hard import: the Ray test fails, never skips, where Ray is missing

import megacluster as mc
import megacluster.ray as mray

GRID = {
    "site[0].hall[0].gpus": ["100k", "120k", "140k"],
    "job.tokens": {"range": ["10T", "40T"], "step": "10T"},
    "reliability.preset": ["llama3", "meta-rsc-low"],
}


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.parametrize("shards", [1, 2, 5])
def test_ray_sweep_equals_the_local_sweep(cluster, shards):
    local = mc.sweep(None, GRID, sections="plan,train,simulate", replicas=2)
    remote = mray.sweep(None, GRID, shards=shards, sections="plan,train,simulate", replicas=2)
    assert len(local) == 24 and local["error"].isna().all()
    pd.testing.assert_frame_equal(remote, local)
