//! Reliability replica speed on one core (no rayon inside a replica).
//! Budgets (DESIGN §7): AIReSim default (4,096 servers × 8 GPUs, 256 days, ~11k failures) ≤ 5 ms;
//! 1M GPUs × 100 days ≤ 50 ms, for every recovery design.

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

criterion_group!(benches, bench);
criterion_main!(benches);
