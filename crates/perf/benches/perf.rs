//! Step-model speed: one evaluation, and the full layout search of Turing-NLG 530B
//! (`megatron-530b`) on 5,128 A100 (Calculon's optimiser example: batch ≤ 2,520 sequences), and
//! on 5,120 A100 (a GPU count with many more layouts), and the search `parallelism = "auto"` runs
//! on the built-in scenario (Llama 3 405B on 98,304 H100) and on that scenario at 9,216 GPUs.
//! Medians in `validation/perf.md`: `cargo bench -p perf --bench perf`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use perf::fabric::{Fabric, Level};
use perf::step::{Precision, Recompute, Schedule};
use perf::*;

fn a100_cluster(gpus: u64) -> Cluster {
    let cat = spec::Catalog::embedded();
    let a: spec::Accelerator = cat.get("a100-80gb").expect("catalogue");
    Cluster {
        gpus,
        hardware: Hardware::from_accelerator(&a),
        fabric: Fabric {
            levels: vec![
                Level {
                    name: "nvlink3".into(),
                    size: 8,
                    bandwidth_bytes_per_s: 300e9,
                    latency_s: 3e-6,
                    efficiency: perf::fabric::SCALE_UP_EFFICIENCY,
                },
                Level {
                    name: "ib-hdr".into(),
                    size: gpus,
                    bandwidth_bytes_per_s: 25e9,
                    latency_s: 5e-6,
                    efficiency: perf::fabric::SCALE_OUT_EFFICIENCY,
                },
            ],
        }
        .normalised(gpus),
    }
}

fn workload(model: &str, seq: u32, batch: u64) -> Workload {
    let cat = spec::Catalog::embedded();
    let a: spec::ModelArch = cat.get(model).expect("catalogue");
    Workload {
        model: Model::from_arch(&a),
        seq,
        global_batch_seqs: batch,
        tokens: 270e9,
        precision: Precision::Bf16,
        software: Software {
            flash_attention: false,
            dropout: true,
        },
    }
}

fn bench(c: &mut Criterion) {
    let w = workload("megatron-530b", 2048, 280);
    let cl = a100_cluster(280);
    let cfg = Config {
        tp: 8,
        pp: 35,
        cp: 1,
        ep: 1,
        dp: 1,
        microbatch: 1,
        recompute: Recompute::Selective,
        schedule: Schedule::Interleaved,
        interleave: 3,
        zero: 0,
        sequence_parallel: true,
        overlap: Overlap::default(),
    };
    c.bench_function("evaluate_530b_280gpus", |b| {
        b.iter(|| evaluate(black_box(&w), black_box(&cl), black_box(&cfg)))
    });

    let w = workload("megatron-530b", 2048, 2520);
    let cl = a100_cluster(5128);
    let mut sp = Space::new(&cl);
    sp.batch = BatchPolicy::AtMost;
    sp.keep_unfit = true;
    let r = search(&w, &cl, &sp, &|_, _| {});
    eprintln!(
        "530B on 5,128 A100: {} layouts evaluated, {} valid and fitting, {} invalid, {} do not fit",
        r.evaluated, r.valid, r.invalid, r.unfit
    );
    let mut g = c.benchmark_group("search");
    g.sample_size(10);
    g.bench_function("search_530b_5128_a100", |b| {
        b.iter(|| search(black_box(&w), black_box(&cl), black_box(&sp), &|_, _| {}))
    });
    // 5,128 = 8 × 641 leaves few layouts; 5,120 = 2^10 × 5 shows the cost of a rich space.
    let cl = a100_cluster(5120);
    let r = search(&w, &cl, &sp, &|_, _| {});
    eprintln!(
        "530B on 5,120 A100: {} layouts evaluated, {} valid and fitting, {} invalid, {} do not fit",
        r.evaluated, r.valid, r.invalid, r.unfit
    );
    g.bench_function("search_530b_5120_a100", |b| {
        b.iter(|| search(black_box(&w), black_box(&cl), black_box(&sp), &|_, _| {}))
    });

    // The built-in scenario's job as `parallelism = "auto"` searches it (the pipeline's space:
    // nearest batch, top 5), and the same job on 9,216 GPUs (more layouts, most over the memory).
    let cat = spec::Catalog::embedded();
    for (name, gpus) in [
        ("default_98304_h100", None),
        ("default_9216_h100", Some(9216)),
    ] {
        let mut text = spec::scenario::DEFAULT_SCENARIO.to_string();
        if let Some(n) = gpus {
            text = text.replace("gpus = 98304", &format!("gpus = {n}"));
        }
        let sc = spec::parse_scenario("default.toml", &text, &cat).expect("default scenario");
        let st = pipeline::setup(&sc).expect("setup");
        assert_eq!(st.cluster.gpus, gpus.unwrap_or(98304));
        let mut sp = Space::new(&st.cluster);
        sp.top_k = 5;
        g.bench_function(format!("search_{name}"), |b| {
            b.iter(|| {
                search(
                    black_box(&st.workload),
                    black_box(&st.cluster),
                    black_box(&sp),
                    &|_, _| {},
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
