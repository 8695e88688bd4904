"""Ray's cost per shard and the speed-up from one to two workers, on this machine.

    python python/bench/ray_overhead.py [--points 4096] [--cpus 2]

The base is the default scenario with its layout fixed (no layout search per point); sections
plan,train,simulate(2 replicas), so a point costs about a millisecond. It times (median of five):
the local sweep on 1 and on 2 threads; the Ray sweep in 1 and in 2 shards (one CPU each, a local
Ray of --cpus CPUs); and 64 shards of the same points, whose extra time over 2 shards, divided by
the 62 extra shards, is the overhead per shard (task scheduling, the worker's call into Rust, the
rows pickled back).
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
    a = ap.parse_args()
    base = mc.load().toml.replace('parallelism = "auto"', FIXED).replace("global_batch = 16777216", "global_batch = 16711680")
    grid = {"site[0].hall[0].gpus": {"range": [100000, 100000 + 8 * (a.points - 1)], "step": 8}}
    kw = dict(sections="plan,train,simulate", replicas=2)
    ray.init(num_cpus=a.cpus, include_dashboard=False, log_to_driver=False)
    mray.sweep(base, grid, shards=a.cpus, **kw)  # warm-up: workers started, the package imported
    l1 = median(lambda: mc.sweep(base, grid, threads=1, **kw))
    l2 = median(lambda: mc.sweep(base, grid, threads=2, **kw))
    r1 = median(lambda: mray.sweep(base, grid, shards=1, **kw))
    r2 = median(lambda: mray.sweep(base, grid, shards=2, **kw))
    r64 = median(lambda: mray.sweep(base, grid, shards=64, **kw))
    n = a.points
    print(f"{n} points, plan,train(fixed),simulate(2 replicas)")
    print(f"local, 1 thread : {l1:.2f} s ({n / l1:,.0f} points/s)")
    print(f"local, 2 threads: {l2:.2f} s ({n / l2:,.0f} points/s), speed-up {l1 / l2:.2f}x")
    print(f"ray, 1 shard    : {r1:.2f} s ({n / r1:,.0f} points/s)")
    print(f"ray, 2 shards   : {r2:.2f} s ({n / r2:,.0f} points/s), speed-up {r1 / r2:.2f}x over 1 shard")
    print(f"ray, 64 shards  : {r64:.2f} s: overhead {(r64 - r2) / 62 * 1e3:.1f} ms per shard")
    ray.shutdown()


if __name__ == "__main__":
    main()
