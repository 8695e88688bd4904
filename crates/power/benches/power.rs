//! Speed budget (DESIGN section 7): a 1 GW cluster, 1 hour at 10 ms: trace, FFT and every grid check
//! within 0.2 s on one core; the same with a 64-stage pipelined job (256 stage groups). And one
//! mitigation search (`--solve`) on the default scenario's inputs (as `megacluster power` builds
//! them), the fast search against the exhaustive one it reproduces.
//!
//! `cargo bench -p power --bench power`

use criterion::{criterion_group, criterion_main, Criterion};
use power::analysis::{analyse, Inputs, Mitigation, Prices, Window};
use power::draw::{Cluster, GpuDraw, Group};
use power::grid;
use power::profile::{steady_run, PhaseDraw, RunInterval, RunState, StepShape};
use power::storage::{Storage, Turbines};
use power::trace::{it_trace, GpuMitigation};
use std::hint::black_box;

#[path = "../tests/support/scenario.rs"]
mod scenario;
use scenario::preset;

/// ~1 GW of facility power: 700 k H100 at 1,050 W rack draw + 127.5 W other IT, PUE 1.14
/// → 700e3 x (630 + 420 + 127.5) x 1.14 = 0.94 GW at the compute peak.
fn gw_inputs() -> Inputs {
    let gpu = GpuDraw::from_tdp(700.0, 0.2, 0.9);
    let groups = (0..4)
        .map(|i| Group {
            name: format!("hall-{i}"),
            gpus: 175_000.0,
            gpu,
            host_w_per_gpu: 420.0,
            other_it_w_per_gpu: 127.5,
            offset_s: 0.0,
            spare: false,
            stage: 0,
        })
        .collect();
    let mut run = steady_run(1500.0);
    run.push(RunInterval {
        start_s: 1500.0,
        end_s: 1800.0,
        state: RunState::Restart,
    });
    run.push(RunInterval {
        start_s: 1800.0,
        end_s: 3600.0,
        state: RunState::Training,
    });
    Inputs {
        cluster: Cluster { groups, pue: 1.14 },
        step: StepShape::synthetic(2.0, 0.8, 0.0),
        run,
        window: Window {
            t0_s: 0.0,
            duration_s: 3600.0,
            dt_s: 0.01,
        },
        code: preset("ercot-large-load").expect("preset"),
        mitigation: Mitigation::default(),
        prices: Prices {
            electricity_usd_per_j: 80.0 / 3.6e9,
            battery_usd_per_j: 291.0 / 3.6e6,
            battery_min_duration_s: Prices::BATTERY_MIN_DURATION_S,
            battery_life_s: 15.0 * 3.15576e7,
            rack_storage_usd_per_j: Prices::RACK_STORAGE_USD_PER_J,
            rack_storage_life_s: 5.0 * 3.15576e7,
            gpu_hour_usd: 1.5,
        },
        connection: Default::default(),
    }
}

/// The same cluster running a 64-stage pipelined job: every hall is 64 stage groups of
/// 175,000 / 64 GPUs, and the step is the default scenario's (Llama 3 405B, pp 64, 1.25 s).
fn gw_pipelined_inputs() -> Inputs {
    let mut inp = gw_inputs();
    let p = 64;
    inp.cluster.groups = inp
        .cluster
        .groups
        .iter()
        .flat_map(|g| {
            (0..p).map(move |s| Group {
                name: format!("{} stage {}/{p}", g.name, s + 1),
                gpus: g.gpus / p as f64,
                stage: s,
                ..g.clone()
            })
        })
        .collect();
    let ph = |name: &str, ms: f64, activity: f64| PhaseDraw {
        name: name.into(),
        duration_s: ms * 1e-3,
        activity,
    };
    inp.step = StepShape {
        phases: vec![
            ph("pipeline_fill", 126.1, 0.1),
            ph("forward", 277.9, 1.0),
            ph("backward", 561.3, 1.0),
            ph("tp_comm", 15.0, 0.2),
            ph("cp_comm", 10.9, 0.2),
            ph("pp_comm", 1.6, 0.2),
            ph("pipeline_drain", 126.1, 0.1),
            ph("dp_comm", 126.5, 0.2),
            ph("optimizer", 0.5, 0.5),
        ],
        pipeline_stages: p,
    };
    inp
}

fn trace_fft_checks(inp: &Inputs) -> bool {
    let w = inp.window;
    let n = w.samples();
    let it = it_trace(
        &inp.cluster,
        &inp.step,
        &inp.run,
        w.t0_s,
        w.dt_s,
        n,
        &GpuMitigation::none(),
    )
    .it;
    let fac = it.facility(inp.cluster.pue);
    let (m, _) = grid::metrics(&fac, &inp.code);
    grid::check(&inp.code, &m).0
}

fn bench(c: &mut Criterion) {
    let inp = gw_inputs();
    let mut g = c.benchmark_group("power_1gw_1h_10ms");
    g.sample_size(20);
    g.bench_function("trace_fft_checks", |b| {
        b.iter(|| black_box(trace_fft_checks(&inp)))
    });
    let piped = gw_pipelined_inputs();
    g.bench_function("trace_fft_checks_64_stages", |b| {
        b.iter(|| black_box(trace_fft_checks(&piped)))
    });
    g.bench_function("full_analysis_64_stages_raw_and_mitigated", |b| {
        let mut inp = piped.clone();
        inp.mitigation.gpu.floor_fraction = 0.9;
        b.iter(|| black_box(analyse(&inp, false).0.passes))
    });
    g.bench_function("full_analysis_raw_and_mitigated", |b| {
        let mut inp = inp.clone();
        inp.mitigation.gpu.floor_fraction = 0.9;
        b.iter(|| black_box(analyse(&inp, false).0.passes))
    });
    g.bench_function("full_analysis_every_mitigation", |b| {
        // Floor, filler, rack storage, a site battery and turbines: every stage of the chain.
        let mut inp = inp.clone();
        inp.mitigation.gpu.floor_fraction = 0.5;
        inp.mitigation.gpu.filler_activity = Some(0.8);
        inp.mitigation.rack_storage_j_per_gpu = 65.0;
        inp.mitigation.battery = Some(Storage::site_battery(300e6, 600e6 * 3600.0, 0.85));
        inp.mitigation.turbines = Some(Turbines {
            capacity_w: 200e6,
            ramp_w_per_s: 50e6 / 60.0,
            unit_w: 0.0,
            min_load_fraction: 0.0,
        });
        b.iter(|| black_box(analyse(&inp, false).0.passes))
    });
    g.finish();
}

/// One mitigation search on the default scenario's inputs (30 min at 10 ms, 98,304 job GPUs in 64
/// pipeline stages, ERCOT): 37 combinations, 16 battery searches.
fn bench_solve(c: &mut Criterion) {
    let inp = scenario::inputs(None);
    let mut g = c.benchmark_group("mitigation_solve_default_scenario");
    g.sample_size(10);
    g.bench_function("fast", |b| {
        b.iter(|| black_box(power::solve::solve(&inp).best))
    });
    g.bench_function("exhaustive", |b| {
        b.iter(|| black_box(power::solve::solve_exhaustive(&inp).best))
    });
    g.finish();
}

criterion_group!(benches, bench, bench_solve);
criterion_main!(benches);
