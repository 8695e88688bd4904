//! Reliability replica speed on one core (no rayon inside a replica).
//! Budgets (DESIGN §7): AIReSim default (4,096 servers × 8 GPUs, 256 days, ~11k failures) ≤ 5 ms;
//! 1M GPUs × 100 days ≤ 50 ms, for every recovery design.
//! And the reliability section of a report on the default scenario scaled to 1M GPUs (its job
//! restarts every few minutes: ~31k failures a replica): the 64 replicas with the recommendation's
//! 8 per candidate, in turn and in one pass, and replica 0's recorded timeline (power reads it).
//!
//! `cargo bench -p sim`

use criterion::{black_box, criterion_group, criterion_main, Criterion};

/// The reliability model's parameters of `gpus` H100 training Llama 3 405B (the shared test
/// scenario) over `days` of wall clock, at the model's own 6·N step.
fn llama3(gpus: u64, days: u32) -> sim::Params {
    let s = spec::builder::ScenarioBuilder::h100_llama3_405b(gpus)
        .seed(3)
        .table(
            "reliability",
            &format!("preset = \"llama3\"\nlength = \"{days} d\""),
        )
        .build()
        .expect("scenario");
    params(&s)
}

fn params(s: &spec::Scenario) -> sim::Params {
    pipeline::bind::sim_params(s, &pipeline::Placement::of(s), None)
        .expect("params")
        .0
}

/// The reliability parameters of the built-in default scenario with its hall and job scaled to
/// `gpus` (the job keeps the default's share, 98,304 of 100,000) and its grid in proportion, with
/// the step model's step, as a report binds them.
fn default_at(gpus: u64) -> sim::Params {
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
    let s = spec::scenario::parse_scenario("default-scaled.toml", &src, &spec::Catalog::embedded())
        .expect("scaled scenario");
    let p = pipeline::Pipeline::with_options(s, pipeline::Options::report());
    p.reliability_params()
        .expect("reliability parameters")
        .params
        .clone()
}

fn section(c: &mut Criterion) {
    let p = default_at(1_000_000);
    let mut g = c.benchmark_group("reliability section, default scenario at 1M GPUs");
    g.sample_size(10);
    g.bench_function(
        "64 replicas, then the recommendation (8 per candidate)",
        |b| {
            b.iter(|| {
                let rs = sim::monte::results(black_box(&p), 64, &|| {});
                let mut s = sim::monte::summarize(&p, &rs);
                s.recommendation = Some(sim::monte::recommend(&p, &s, 8, 0.95, &|| {}));
                s
            })
        },
    );
    g.bench_function("the same in one pass", |b| {
        b.iter(|| sim::monte::run_with_recommendation(black_box(&p), 64, Some(8), 0.95, &|| {}))
    });
    g.bench_function("replica 0's timeline", |b| {
        b.iter(|| sim::timeline(black_box(&p), 0))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    let p = params(
        &spec::builder::ScenarioBuilder::airesim_table1()
            .seed(42)
            .build()
            .expect("scenario"),
    );
    let mut seed = 0u64;
    c.bench_function("airesim default replica (4,096 x 8 GPUs, 256 d)", |b| {
        b.iter(|| {
            seed += 1;
            sim::simulate_replica(black_box(&p), seed, false)
        })
    });
    let p = llama3(1 << 20, 100);
    c.bench_function("llama3 rates, 1M GPUs, 100 d replica", |b| {
        b.iter(|| {
            seed += 1;
            sim::simulate_replica(black_box(&p), seed, false)
        })
    });
    // the recovery designs at the same size; a replica of 8,192 GPUs (the step model's layout at
    // 983,040 GPUs: tp 8 · pp 64 · cp 16)
    let base = llama3(1 << 20, 100);
    for d in [
        sim::Design::HotSpare,
        sim::Design::PartialRestart,
        sim::Design::ElasticDp,
        sim::Design::InMemory,
    ] {
        let mut q = sim::designs::with_design(&base, d);
        q.containment.replica_gpus = 8_192;
        let name = format!("{} design, llama3 rates, 1M GPUs, 100 d replica", d.name());
        c.bench_function(&name, |b| {
            b.iter(|| {
                seed += 1;
                sim::simulate_replica(black_box(&q), seed, false)
            })
        });
    }
    let p = llama3(16_384, 54);
    c.bench_function("llama3 16,384 GPUs, 54 d replica", |b| {
        b.iter(|| {
            seed += 1;
            sim::simulate_replica(black_box(&p), seed, false)
        })
    });
}

criterion_group!(benches, bench, section);
criterion_main!(benches);
