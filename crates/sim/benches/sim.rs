//! Reliability replica speed on one core (no rayon inside a replica).
//! Budgets (DESIGN §7): AIReSim default (4,096 servers × 8 GPUs, 256 days, ~11k failures) ≤ 5 ms;
//! 1M GPUs × 100 days ≤ 50 ms, for every recovery design.

use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn scenario(gpus: u64, days: u64) -> spec::Scenario {
    let src = format!(
        r#"
name = "bench"
seed = 3
[[site]]
name = "x"
[[site.hall]]
system = "hgx-h100"
gpus = {gpus}
fabric = "roce-400g-3tier"
[job]
model = "llama3-405b"
tokens = "15.6T"
seq = 8192
global_batch = "16M"
[reliability]
preset = "llama3"
length = "{days} d"
"#
    );
    spec::parse_scenario("bench.toml", &src, &spec::Catalog::embedded()).expect("scenario")
}

fn bench(c: &mut Criterion) {
    let p = sim::presets::airesim_default_params(42);
    let mut seed = 0u64;
    c.bench_function("airesim default replica (4,096 x 8 GPUs, 256 d)", |b| {
        b.iter(|| {
            seed += 1;
            sim::simulate_replica(black_box(&p), seed, false)
        })
    });
    let (p, _) = sim::from_scenario(&scenario(1 << 20, 100)).expect("params");
    c.bench_function("llama3 rates, 1M GPUs, 100 d replica", |b| {
        b.iter(|| {
            seed += 1;
            sim::simulate_replica(black_box(&p), seed, false)
        })
    });
    // the recovery designs at the same size; a replica of 8,192 GPUs (the step model's layout at
    // 983,040 GPUs: tp 8 · pp 64 · cp 16)
    let (base, _) = sim::from_scenario(&scenario(1 << 20, 100)).expect("params");
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
    let (p, _) = sim::from_scenario(&scenario(16_384, 54)).expect("params");
    c.bench_function("llama3 16,384 GPUs, 54 d replica", |b| {
        b.iter(|| {
            seed += 1;
            sim::simulate_replica(black_box(&p), seed, false)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
