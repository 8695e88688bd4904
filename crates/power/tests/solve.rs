//! The fast mitigation search (`solve`) gives the exhaustive search's answer (`solve_exhaustive`,
//! every candidate and every bisection step analysed in full) to the last bit: the same
//! candidates in the same order, each with the same battery, verdict, cost and energy overhead
//! (compared bit for bit), hence the same cheapest one. On the default scenario and on every file
//! in `examples/`, built as `megacluster power` builds them, and on random synthetic jobs.

mod support;

use power::analysis::{Inputs, Mitigation, Prices, Window};
use power::draw::{Cluster, GpuDraw, Group};
use power::profile::{RunInterval, RunState, StepShape};
use power::solve::{solve, solve_exhaustive, Candidate, Solution};
use power::storage::{Storage, Turbines};
use proptest::prelude::*;
use std::path::Path;
use support::scenario::preset;

/// Every figure of a candidate as bits (`==` on floats would let 0.0 equal -0.0).
fn bits(c: &Candidate) -> Vec<u64> {
    vec![
        c.floor_fraction.to_bits(),
        c.filler as u64,
        c.rack_storage_j_per_gpu.to_bits(),
        c.battery_power_w.to_bits(),
        c.battery_energy_j.to_bits(),
        c.gpu_ramp_w_per_s.map_or(u64::MAX, f64::to_bits),
        c.passes as u64,
        c.total_usd_per_year.to_bits(),
        c.energy_overhead_fraction.to_bits(),
    ]
}

fn same(fast: &Solution, full: &Solution, what: &str) {
    assert_eq!(
        fast.candidates.len(),
        full.candidates.len(),
        "{what}: candidates tried"
    );
    for (i, (a, b)) in fast.candidates.iter().zip(&full.candidates).enumerate() {
        assert_eq!(
            bits(a),
            bits(b),
            "{what}: candidate {i}\n fast {a:?}\n full {b:?}"
        );
    }
    let opt = |c: &Option<Candidate>| c.as_ref().map(bits);
    assert_eq!(opt(&fast.best), opt(&full.best), "{what}: cheapest");
    assert_eq!(
        fast.best_mitigation, full.best_mitigation,
        "{what}: cheapest mitigation"
    );
    assert_eq!(opt(&fast.battery_only), opt(&full.battery_only), "{what}");
    assert_eq!(opt(&fast.gpu_ramp_only), opt(&full.gpu_ramp_only), "{what}");
    assert_eq!(
        serde_json::to_string(fast).unwrap(),
        serde_json::to_string(full).unwrap(),
        "{what}: as printed"
    );
}

fn scenario(path: Option<&Path>) {
    let inp = support::scenario::inputs(path);
    let what = path.map_or("default scenario".into(), |p| p.display().to_string());
    let fast = solve(&inp);
    let full = solve_exhaustive(&inp);
    same(&fast, &full, &what);
}

#[test]
fn default_scenario_solves_as_the_exhaustive_search() {
    scenario(None);
    // (the default job fails ERCOT unmitigated and a battery of about its swing passes)
    let sol = solve(&support::scenario::inputs(None));
    let best = sol.best.expect("a passing set");
    assert!(best.passes && best.battery_power_w > 0.0);
}

macro_rules! examples {
    ($($name:ident: $file:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join($file);
            scenario(Some(&p));
        }
    )*};
}

examples! {
    anthropic_trainium_solves_as_the_exhaustive_search: "anthropic-trainium.toml",
    deepseek_v3_solves_as_the_exhaustive_search: "deepseek-v3.toml",
    five_regions_solves_as_the_exhaustive_search: "five-regions.toml",
    google_multisite_tpu_solves_as_the_exhaustive_search: "google-multisite-tpu.toml",
    meta_2gw_solves_as_the_exhaustive_search: "meta-2gw.toml",
    meta_llama3_solves_as_the_exhaustive_search: "meta-llama3.toml",
    million_gpus_solves_as_the_exhaustive_search: "million-gpus.toml",
    stargate_abilene_solves_as_the_exhaustive_search: "stargate-abilene.toml",
    xai_colossus_solves_as_the_exhaustive_search: "xai-colossus.toml",
}

#[test]
fn every_example_has_its_equality_test() {
    let files: Vec<String> = support::scenario::examples()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let tested = [
        "anthropic-trainium.toml",
        "deepseek-v3.toml",
        "five-regions.toml",
        "google-multisite-tpu.toml",
        "meta-2gw.toml",
        "meta-llama3.toml",
        "million-gpus.toml",
        "stargate-abilene.toml",
        "xai-colossus.toml",
    ];
    for f in &files {
        assert!(
            tested.contains(&f.as_str()),
            "examples/{f} has no test here"
        );
    }
}

/// A synthetic job: `halls` halls of H100 (one of them partly spares), a restart and checkpoint
/// writes in a short window, a grid code, optionally turbines and a pipelined step.
#[allow(clippy::too_many_arguments)]
fn synthetic(
    gpus: f64,
    halls: usize,
    offset_s: f64,
    stages: u32,
    restart_at_s: f64,
    code: &str,
    turbines_w: f64,
    ramp_limit: Option<f64>,
) -> Inputs {
    let gpu = GpuDraw::from_tdp(700.0, 0.2, 0.9);
    let mut groups = vec![];
    for h in 0..halls {
        let n = gpus / halls as f64;
        let per = if stages > 1 { stages } else { 1 };
        for s in 0..per {
            groups.push(Group {
                name: format!("hall {h} stage {s}"),
                gpus: n / per as f64,
                gpu,
                host_w_per_gpu: 420.0,
                other_it_w_per_gpu: 127.5,
                offset_s: h as f64 * offset_s,
                spare: false,
                stage: s,
            });
        }
    }
    groups.push(Group {
        name: "spares".into(),
        gpus: gpus * 0.02,
        gpu,
        host_w_per_gpu: 420.0,
        other_it_w_per_gpu: 127.5,
        offset_s: 0.0,
        spare: true,
        stage: 0,
    });
    let iv = |a: f64, b: f64, state| RunInterval {
        start_s: a,
        end_s: b,
        state,
    };
    let run = vec![
        iv(0.0, 40.0, RunState::Training),
        iv(40.0, 43.0, RunState::CheckpointWrite),
        iv(43.0, restart_at_s, RunState::Training),
        iv(restart_at_s, restart_at_s + 50.0, RunState::Restart),
        iv(restart_at_s + 50.0, 400.0, RunState::Training),
    ];
    let step = if stages > 1 {
        let ph = |name: &str, s: f64, a: f64| power::profile::PhaseDraw {
            name: name.into(),
            duration_s: s,
            activity: a,
        };
        StepShape {
            phases: vec![
                ph("pipeline_fill", 0.12, 0.1),
                ph("forward", 0.3, 1.0),
                ph("backward", 0.55, 1.0),
                ph("tp_comm", 0.02, 0.2),
                ph("pipeline_drain", 0.12, 0.1),
                ph("dp_comm", 0.13, 0.2),
                ph("optimizer", 0.01, 0.5),
            ],
            pipeline_stages: stages,
        }
    } else {
        StepShape::synthetic(2.0, 0.8, 0.0)
    };
    let mut mitigation = Mitigation {
        filler_slowdown_fraction: Mitigation::FILLER_SLOWDOWN,
        ..Default::default()
    };
    if turbines_w > 0.0 {
        mitigation.turbines = Some(Turbines {
            capacity_w: turbines_w,
            ramp_w_per_s: 50e6 / 60.0,
            unit_w: 0.0,
            min_load_fraction: 0.0,
        });
        mitigation.battery = Some(Storage::site_battery(1.0, 1.0, 0.9));
    }
    if let Some(r) = ramp_limit {
        mitigation.gpu.ramp_up_w_per_s = Some(r);
        mitigation.gpu.ramp_down_w_per_s = Some(r);
    }
    Inputs {
        cluster: Cluster { groups, pue: 1.2 },
        step,
        window: Window::place(&run, 300.0, 0.01),
        run,
        code: preset(code).expect("preset"),
        mitigation,
        prices: Prices {
            electricity_usd_per_j: 80.0 / 3.6e9,
            battery_usd_per_j: 291.0 / 3.6e6,
            battery_min_duration_s: Prices::BATTERY_MIN_DURATION_S,
            battery_life_s: 15.0 * 3.15576e7,
            rack_storage_usd_per_j: Prices::RACK_STORAGE_USD_PER_J,
            rack_storage_life_s: 5.0 * 3.15576e7,
            gpu_hour_usd: 2.0,
        },
        connection: Default::default(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random sizes, hall offsets, pipelines, restart times, grid codes (the band rule of the
    /// strict code included), turbines and GPU ramp limits.
    #[test]
    fn random_jobs_solve_as_the_exhaustive_search(
        gpus in 5_000.0f64..400_000.0,
        halls in 1usize..4,
        offset_s in 0.0f64..0.7,
        stages in prop_oneof![Just(1u32), Just(4u32)],
        restart_at_s in 60.0f64..250.0,
        code in prop_oneof![
            Just("ercot-large-load"),
            Just("strict-generator-following"),
            Just("utility-band-example"),
        ],
        turbines_w in prop_oneof![Just(0.0f64), 1e6f64..60e6],
        ramp_limit in prop_oneof![Just(None), (2.0f64..40.0).prop_map(Some)],
    ) {
        let inp = synthetic(gpus, halls, offset_s, stages, restart_at_s, code, turbines_w, ramp_limit);
        let fast = solve(&inp);
        let full = solve_exhaustive(&inp);
        same(&fast, &full, &format!("{gpus} GPUs, {halls} halls, {stages} stages, {code}"));
    }
}

/// The early-exit verdict `grid::passes` agrees with the full metrics and checks on every preset
/// with a band rule, and the band-energy bound it uses never falls below the FFT's share.
#[test]
fn passes_is_checks_verdict() {
    for name in [
        "ercot-large-load",
        "strict-generator-following",
        "utility-band-example",
    ] {
        let code = preset(name).expect("preset");
        for w in support::traces::traces() {
            for scale in [0.5, 1.0, 3.0] {
                let t = power::Trace {
                    t0_s: 0.0,
                    dt_s: 0.01,
                    w: w.iter().map(|x| x * scale).collect(),
                };
                let (m, sp) = power::grid::metrics(&t, &code);
                let (_, checks) = power::grid::check(&code, &m);
                assert_eq!(
                    power::grid::passes(&t, &code),
                    checks.iter().all(|r| r.passes),
                    "{name} {scale}"
                );
                let (lo, hi) = code.band_hz();
                if let Some(b) = power::spectrum::band_fraction_bound(&t.w, t.dt_s, lo) {
                    assert!(b >= sp.band_energy_fraction(lo, hi), "{name}");
                }
            }
        }
    }
}
