//! Planner speed: one full plan of the default scenario (parse excluded).

use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let s = spec::load_scenario(None, &[]).expect("default scenario");
    let inputs = pipeline::bind::plan_inputs(&s);
    c.bench_function("plan default scenario", |b| {
        b.iter(|| plan::plan(black_box(&inputs)))
    });
    c.bench_function("parse default scenario", |b| {
        b.iter(|| spec::load_scenario(None, &[]).expect("default scenario"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
