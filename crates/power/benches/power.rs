//! Speed budget (DESIGN section 7): a 1 GW cluster, 1 hour at 10 ms: trace, FFT and every grid check
//! within 0.2 s on one core.
//!
//! `cargo bench -p power --bench power`

use criterion::{criterion_group, criterion_main, Criterion};
use power::analysis::{analyse, Inputs, Mitigation, Prices, Window};
use power::draw::{Cluster, GpuDraw, Group};
use power::grid::{self, preset};
use power::profile::{steady_run, RunInterval, RunState, StepShape};
use power::storage::{Storage, Turbines};
use power::trace::{it_trace, GpuMitigation};
use std::hint::black_box;

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
    }
}

fn bench(c: &mut Criterion) {
    let inp = gw_inputs();
    let mut g = c.benchmark_group("power_1gw_1h_10ms");
    g.sample_size(20);
    g.bench_function("trace_fft_checks", |b| {
        b.iter(|| {
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
            black_box(grid::check(&inp.code, &m))
        })
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
        });
        b.iter(|| black_box(analyse(&inp, false).0.passes))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
