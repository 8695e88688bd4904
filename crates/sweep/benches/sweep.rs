//! Sweep throughput (points per second on every core): `cargo bench -p sweep`.
//!
//! The base is the built-in default scenario (100k H100, Llama-3-405B-class job) with the layout
//! the layout search picks for it written in as a fixed layout; the grid sweeps the hall's GPU
//! count over 64 to 4,096 values from 100k so every point is a different design.

/// The CLI's allocator (crates/megacluster/src/main.rs), so the figures are what it gets.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;
use sweep::{Grid, RunOptions, Sections, Shard, Sweep};

/// The default scenario's layout ("auto" picks it), fixed.
const FIXED: &str = r#"parallelism = { tp = 8, pp = 64, cp = 8, dp = 24, microbatch = 1, schedule = "zero-bubble", zero = 1 }"#;

fn base(fixed: bool) -> String {
    let s = spec::scenario::DEFAULT_SCENARIO.to_string();
    if fixed {
        s.replace("parallelism = \"auto\"", FIXED)
            .replace("global_batch = 16777216", "global_batch = 16711680")
    } else {
        s
    }
}

fn sweep_of(points: u64, fixed: bool, extra: &str) -> Sweep {
    // 98,304 job GPUs need at least that many in the hall: 100k to 100k + points × 8
    let grid = format!(
        "\"site[0].hall[0].gpus\" = {{ range = [100000, {}], step = 8 }}\n{extra}",
        100_000 + (points - 1) * 8
    );
    let g = Grid::parse("bench-grid.toml", &grid).expect("grid");
    let s = Sweep::new("<default>", &base(fixed), spec::Catalog::embedded(), g).expect("sweep");
    assert_eq!(s.len(), points);
    s
}

fn run(s: &Sweep, o: &RunOptions) {
    let t = s.run(o, Shard::all(), &|_, _, _| {}).expect("runs");
    assert!(t.rows.iter().all(|r| r.last() == Some(&sweep::Cell::Null)));
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10).measurement_time(Duration::from_secs(20));

    let all = RunOptions {
        sections: Sections::parse("plan,train,simulate,power").expect("sections"),
        replicas: 8,
        ..RunOptions::default()
    };
    let s = sweep_of(64, true, "");
    g.throughput(Throughput::Elements(s.len()));
    g.bench_function(
        "plan,train(fixed),simulate(8),power(no solve): 64 points",
        |b| b.iter(|| run(&s, &all)),
    );
    // the same with the power study's trace window at 2 minutes (96 steps) instead of 30
    let s = sweep_of(256, true, "\"power.window\" = \"2 min\"\n");
    g.throughput(Throughput::Elements(s.len()));
    g.bench_function("same, power window 2 min: 256 points", |b| {
        b.iter(|| run(&s, &all))
    });

    let pt = RunOptions {
        sections: Sections::parse("plan,train").expect("sections"),
        ..RunOptions::default()
    };
    let s = sweep_of(4096, true, "");
    g.throughput(Throughput::Elements(s.len()));
    g.bench_function("plan,train(fixed): 4096 points", |b| {
        b.iter(|| run(&s, &pt))
    });

    let s = sweep_of(4096, true, "");
    g.bench_function("validate only: 4096 points", |b| {
        b.iter(|| s.validate(Shard::all(), &|_, _, _| {}).expect("valid"))
    });

    let s = sweep_of(2, false, "");
    g.throughput(Throughput::Elements(s.len()));
    g.bench_function("plan,train(search): 2 points", |b| b.iter(|| run(&s, &pt)));
    g.finish();
}

criterion_group!(sweep_benches, benches);
criterion_main!(sweep_benches);
