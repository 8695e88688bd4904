//! The whole chain in-process, as `megacluster run` evaluates it and without printing: the
//! plan, the step model with its layout search, the reliability Monte Carlo, the recovery
//! designs, replica 0's timeline, the power study with its mitigation search, and the multi-site
//! section, each once (the pipeline memoises them). On the built-in default scenario, on
//! `examples/five-regions.toml`, and on the default scenario scaled to 10k, 100k and 1M GPUs
//! (how each section's cost grows with the GPU count).
//!
//! `cargo bench -p pipeline --bench chain`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use pipeline::{Options, Pipeline};
use spec::scenario::Scenario;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

fn default_scenario() -> Scenario {
    spec::load_scenario(None, &[]).expect("the default scenario loads")
}

fn example(name: &str) -> Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    spec::load_scenario(Some(&p), &[]).expect("example loads")
}

/// The default scenario with its one hall (and its job) at `gpus` and its grid connection in
/// proportion (150 MW per 100k); the job keeps the default's share of spares (98,304 of 100,000).
fn default_at(gpus: u64) -> Scenario {
    let src = spec::scenario::DEFAULT_SCENARIO
        .replace("gpus = \"100k\"", &format!("gpus = {gpus}"))
        .replace(
            "grid = \"150 MW\"",
            &format!("grid = \"{} MW\"", 150 * gpus / 100_000),
        )
        .replace(
            "gpus = 98304",
            &format!(
                "gpus = {}",
                (gpus as f64 * 0.98304 / 1024.0).floor() as u64 * 1024
            ),
        );
    let dir = std::env::temp_dir().join(format!("megacluster-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let path = dir.join(format!("default-{gpus}.toml"));
    std::fs::write(&path, src).expect("scaled scenario written");
    spec::load_scenario(Some(&path), &[]).expect("scaled scenario loads")
}

/// Every section `run` prints, once, evaluated as `run` evaluates them
/// ([`Pipeline::evaluate_report`]: the Monte Carlo and the recovery designs beside the power study
/// once the step is known).
fn whole(s: &Scenario) {
    let p = Pipeline::with_options(s.clone(), Options::report());
    p.evaluate_report();
    black_box(p.plan());
    black_box(p.step().expect("step"));
    black_box(p.reliability().expect("reliability"));
    black_box(p.designs().expect("designs"));
    black_box(p.power().expect("power"));
    black_box(p.multisite().expect("multisite"));
}

fn chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("run");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    let d = default_scenario();
    g.bench_function("default scenario", |b| b.iter(|| whole(&d)));
    let five = example("five-regions.toml");
    g.bench_function("five-regions", |b| b.iter(|| whole(&five)));
    g.finish();
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("sections at 10k, 100k, 1M GPUs");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    for gpus in [10_000u64, 100_000, 1_000_000] {
        let s = default_at(gpus);
        // each section on a fresh pipeline, with the sections it needs evaluated outside the timing
        g.bench_function(format!("plan {gpus}"), |b| {
            b.iter(|| black_box(Pipeline::new(s.clone()).plan().capex_usd))
        });
        // each section with the sections it needs evaluated first, outside the timing
        let fresh = || Pipeline::with_options(s.clone(), Options::report());
        g.bench_function(format!("step (layout search) {gpus}"), |b| {
            b.iter_batched(
                fresh,
                |p| black_box(p.step().expect("step").is_some()),
                BatchSize::PerIteration,
            )
        });
        let stepped = || {
            let p = fresh();
            p.step().expect("step");
            p
        };
        g.bench_function(format!("reliability {gpus}"), |b| {
            b.iter_batched(
                stepped,
                |p| black_box(p.reliability().expect("reliability").summary.ettr.mean),
                BatchSize::PerIteration,
            )
        });
        let simulated = || {
            let p = stepped();
            p.reliability().expect("reliability");
            p
        };
        g.bench_function(format!("designs {gpus}"), |b| {
            b.iter_batched(
                simulated,
                |p| black_box(p.designs().expect("designs").is_some()),
                BatchSize::PerIteration,
            )
        });
        g.bench_function(format!("power (timeline, study, solve) {gpus}"), |b| {
            b.iter_batched(
                simulated,
                |p| black_box(p.power().expect("power").sites.len()),
                BatchSize::PerIteration,
            )
        });
        g.bench_function(format!("whole run {gpus}"), |b| b.iter(|| whole(&s)));
    }
    g.finish();
}

criterion_group!(benches, chain, scaling);
criterion_main!(benches);
