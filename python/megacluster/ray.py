"""Sweeps on a Ray cluster: the shards of one sweep as Ray tasks, gathered into one DataFrame.

On a laptop::

    import ray, megacluster.ray
    ray.init()                                   # a local Ray
    df = megacluster.ray.sweep("base.toml", "grid.toml", shards=8)

On a cluster, start Ray on the machines (``ray start --head`` on one, ``ray start
--address=HEAD:6379`` on the others, each with this package installed) and run the same code
with ``ray.init(address="auto")``. The base scenario and the grid travel as text; extra catalogue
files a scenario names must be readable on every node.

Shard ``i`` of ``K`` takes every K-th point from ``i`` and each point's seed comes from (seed,
point), so the gathered frame is the local sweep's, row for row.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence, Union

from . import SECTIONS, Scenario, _base, _core, _frame, _grid

__all__ = ["sweep"]


def _shard(base_file, base_src, base_path, grid_file, grid_src, sections, replicas, solve, common_seed, shard, threads, catalogs):
    return _core.sweep(
        base_file,
        base_src,
        base_path,
        grid_file,
        grid_src,
        sections=sections,
        replicas=replicas,
        solve=solve,
        common_seed=common_seed,
        shard=shard,
        threads=threads,
        catalogs=catalogs,
    )


def sweep(
    base: Union[None, str, Scenario],
    grid: Union[str, Mapping[str, Any]],
    shards: Optional[int] = None,
    *,
    sections: Union[str, Sequence[str]] = SECTIONS,
    replicas: int = 8,
    solve: bool = False,
    common_seed: bool = False,
    num_cpus: int = 1,
    catalogs: Iterable[str] = (),
) -> "Any":
    """:func:`megacluster.sweep` with its points split into ``shards`` Ray tasks (default: one
    per CPU of the cluster), each task using ``num_cpus`` threads. Starts a local Ray when none
    is running."""
    import ray

    if not ray.is_initialized():
        ray.init()
    bfile, bsrc, bpath, bcats = _base(base, catalogs)
    gfile, gsrc = _grid(grid)
    if shards is None:
        shards = max(1, int(ray.cluster_resources().get("CPU", 1) // max(1, num_cpus)))
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    secs = sections if isinstance(sections, str) else ",".join(sections)
    task = ray.remote(num_cpus=num_cpus)(_shard)
    refs = [
        task.remote(bfile, bsrc, bpath, gfile, gsrc, secs, replicas, solve, common_seed, (i, shards), num_cpus, list(bcats) or list(catalogs))
        for i in range(shards)
    ]
    parts = ray.get(refs)
    columns = parts[0][0]
    data = {name: [] for name, _ in columns}
    for _, d in parts:
        for name, _ in columns:
            data[name].extend(d[name])
    order = sorted(range(len(data["point"])), key=data["point"].__getitem__)
    data = {k: [v[i] for i in order] for k, v in data.items()}
    return _frame(columns, data)
