"""Ray's cost per shard and the speed-up from one to two workers, on this machine.

    python python/bench/ray_overhead.py [--points 4096] [--cpus 2] [--runs 5]

Speed-up: the default scenario with its layout fixed (no layout search per point), sections
plan,train,simulate(2 replicas), about a millisecond a point; the local sweep on 1 and on 2
threads, then the Ray sweep in 1 and in 2 shards (one CPU each, a local Ray of --cpus CPUs).
Overhead: 64 points of the plan section alone (microseconds each) in 1 shard and in 64 shards;
the extra wall time divided by the 63 extra shards is what each shard costs (the task scheduled,
the base and grid sent, the grid parsed and the points checked in the worker, the rows pickled
back). Every figure is the median of --runs runs.
"""

import argparse
import statistics
import time

import ray

import megacluster as mc
import megacluster.ray as mray

FIXED = 'parallelism = { tp = 8, pp = 64, cp = 8, dp = 24, microbatch = 1, schedule = "zero-bubble", zero = 1 }'


def median(f, n=5):
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        t.append(time.perf_counter() - t0)
    return statistics.median(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=4096)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    base = mc.load().toml.replace('parallelism = "auto"', FIXED).replace("global_batch = 16777216", "global_batch = 16711680")
    grid = {"site[0].hall[0].gpus": {"range": [100000, 100000 + 8 * (a.points - 1)], "step": 8}}
    small = {"site[0].hall[0].gpus": {"range": [100000, 100000 + 8 * 63], "step": 8}}
    kw = dict(sections="plan,train,simulate", replicas=2)
    ray.init(num_cpus=a.cpus, include_dashboard=False, log_to_driver=False)
    mray.sweep(base, grid, shards=a.cpus, **kw)  # warm-up: workers started, the package imported
    m = lambda f: median(f, a.runs)  # noqa: E731
    l1 = m(lambda: mc.sweep(base, grid, threads=1, **kw))
    l2 = m(lambda: mc.sweep(base, grid, threads=2, **kw))
    r1 = m(lambda: mray.sweep(base, grid, shards=1, **kw))
    r2 = m(lambda: mray.sweep(base, grid, shards=2, **kw))
    o1 = m(lambda: mray.sweep(base, small, shards=1, sections="plan"))
    o64 = m(lambda: mray.sweep(base, small, shards=64, sections="plan"))
    n = a.points
    print(f"{n} points, plan,train(fixed),simulate(2 replicas); medians of {a.runs} runs")
    print(f"local, 1 thread : {l1:.2f} s ({n / l1:,.0f} points/s)")
    print(f"local, 2 threads: {l2:.2f} s ({n / l2:,.0f} points/s), speed-up {l1 / l2:.2f}x")
    print(f"ray, 1 shard    : {r1:.2f} s ({n / r1:,.0f} points/s)")
    print(f"ray, 2 shards   : {r2:.2f} s ({n / r2:,.0f} points/s), speed-up {r1 / r2:.2f}x over 1 shard")
    print(f"64 points of plan: 1 shard {o1 * 1e3:.0f} ms, 64 shards {o64 * 1e3:.0f} ms: {(o64 - o1) / 63 * 1e3:.1f} ms per shard")
    ray.shutdown()


if __name__ == "__main__":
    main()
