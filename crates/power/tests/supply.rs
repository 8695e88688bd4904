//! The site's supply against its load: on-site generators, battery and grid connection.
//! Properties at every sample (import = load − generation − battery; import never below the
//! export allowed; import above the connection always flagged) and the defects of the earlier
//! turbine dispatch (an islanded site passing while its import went negative; the grid code's
//! applicability decided from the mitigated peak; import above the connection never flagged).

#[path = "support/scenario.rs"]
mod scenario;
use power::analysis::{analyse, Inputs, Mitigation, Prices, Window};
use power::draw::{Cluster, GpuDraw, Group};
use power::profile::{RunInterval, RunState, StepShape};
use power::storage::{run_storage, Storage, Turbines};
use power::supply::{base_load_import, commit, follow, over_connection, Connection, Mode};
use power::trace::Trace;
use proptest::prelude::*;
use scenario::preset;

/// A 100k-H100 synchronous job (~129 MW peak at the meter), 2 s steps of 80 % compute, 10 min at
/// 10 ms with a 2-min restart, on `connection` with `turbines` and `battery`.
fn site(connection: Connection, turbines: Option<Turbines>, battery: Option<Storage>) -> Inputs {
    let iv = |a: f64, b: f64, state| RunInterval {
        start_s: a,
        end_s: b,
        state,
    };
    let run = vec![
        iv(0.0, 200.0, RunState::Training),
        iv(200.0, 320.0, RunState::Restart),
        iv(320.0, 600.0, RunState::Training),
    ];
    Inputs {
        cluster: Cluster {
            groups: vec![Group {
                name: "hall".into(),
                gpus: 100_000.0,
                gpu: GpuDraw::from_tdp(700.0, 0.2, 0.9),
                host_w_per_gpu: 420.0,
                other_it_w_per_gpu: 127.5,
                offset_s: 0.0,
                spare: false,
                stage: 0,
            }],
            pue: 1.14,
        },
        step: StepShape::synthetic(2.0, 0.8, 0.0),
        window: Window::place(&run, 600.0, 0.01),
        run,
        code: preset("ercot-large-load").expect("preset"),
        mitigation: Mitigation {
            turbines,
            battery,
            ..Default::default()
        },
        prices: Prices {
            electricity_usd_per_j: 62.3 / 3.6e9,
            battery_usd_per_j: 291.0 / 3.6e6,
            battery_min_duration_s: Prices::BATTERY_MIN_DURATION_S,
            battery_life_s: 15.0 * 3.15576e7,
            rack_storage_usd_per_j: Prices::RACK_STORAGE_USD_PER_J,
            rack_storage_life_s: 5.0 * 3.15576e7,
            gpu_hour_usd: 1.5,
        },
        connection,
    }
}

/// Aeroderivative units (catalogue `aeroderivative`: 46 MW, 50 %/min, 25 % minimum load).
fn aero(capacity_w: f64) -> Turbines {
    Turbines {
        capacity_w,
        ramp_w_per_s: 0.5 / 60.0 * capacity_w,
        unit_w: 46e6,
        min_load_fraction: 0.25,
    }
}

fn grid(import_w: f64) -> Connection {
    Connection {
        import_w: Some(import_w),
        export_w: 0.0,
    }
}

/// The islanded site: `grid = "0 W"`, 200 MW of turbines, no battery. The earlier
/// dispatch followed the load within the ramp limit and let the import go to −44 MW, swinging
/// 92 MW, and the verdict was "passes". Now the import never goes below zero, what the turbines
/// cannot follow is load not served or generation curtailed, and the site fails.
#[test]
fn an_islanded_site_without_storage_fails_and_never_exports() {
    let (a, _) = analyse(&site(grid(0.0), Some(aero(200e6)), None), false);
    let x = a.supply.as_ref().expect("supply check");
    assert!(x.islanded);
    assert!(!a.applies, "no grid code applies to an islanded site");
    assert!(
        x.min_import_w >= 0.0,
        "export from an island: {}",
        x.min_import_w
    );
    assert!(x.over_connection_s > 0.0, "load not served is flagged");
    assert!(!x.passes);
}

/// With a battery the generators follow the load's average and the battery the swing: the island
/// holds (no load shed, nothing curtailed, the import stays at zero).
#[test]
fn an_islanded_site_with_a_battery_follows_the_load() {
    let b = Storage::site_battery(150e6, 600e6 * 3600.0, 0.85);
    let (a, _) = analyse(&site(grid(0.0), Some(aero(200e6)), Some(b)), false);
    let x = a.supply.as_ref().expect("supply check");
    assert!(x.passes, "{x:?}");
    assert_eq!(x.over_connection_s, 0.0);
    assert_eq!(x.curtailed_j, 0.0);
    assert!(x.peak_import_w.abs() < 1.0 && x.min_import_w.abs() < 1.0);
    let k = x.commitment.expect("committed");
    assert_eq!(k.mode, Mode::LoadFollowing);
    // 3 units of 46 MW carry a 129 MW peak
    assert_eq!(k.units, 3);
}

/// The grid-connected case: 150 MW of grid and 300 MW of generation. The grid code's
/// applicability is decided from the unmitigated import (129 MW ≥ 75 MW), not from what is left
/// after the generation; the load's swing stays on the grid, so the site fails the ramp rule.
#[test]
fn the_code_applies_from_the_unmitigated_peak() {
    let (a, _) = analyse(&site(grid(150e6), Some(aero(300e6)), None), false);
    assert!(a.raw.peak_w > 75e6);
    assert!(a.applies);
    assert!(!a.passes, "the swing stays on the grid: ramps fail");
    let x = a.supply.as_ref().unwrap();
    assert_eq!(x.commitment.unwrap().mode, Mode::BaseLoad);
    assert!(x.min_import_w >= 0.0);
    // The same with units small enough to take the import below the threshold: still applies.
    let mut small = aero(300e6);
    small.unit_w = 10e6;
    let (b, _) = analyse(&site(grid(150e6), Some(small), None), false);
    assert!(b.mitigated.peak_w < 75e6, "{}", b.mitigated.peak_w);
    assert!(b.applies && !b.passes);
}

/// A 1 kW connection under 129 MW of import is flagged (the earlier analysis said nothing).
#[test]
fn import_above_the_connection_is_flagged() {
    let (a, _) = analyse(&site(grid(1e3), None, None), false);
    let x = a.supply.as_ref().expect("a connection is given");
    assert!(x.over_connection_s > 590.0, "{}", x.over_connection_s);
    assert!((x.over_connection_peak_w - (a.mitigated.peak_w - 1e3)).abs() < 1.0);
    assert!(!x.passes);
    // a connection that carries the load passes
    let (b, _) = analyse(&site(grid(150e6), None, None), false);
    assert!(b.supply.unwrap().passes);
}

/// A pseudo-random load: a training swing with steps in level.
fn load(seed: u64, n: usize, level: f64, swing: f64) -> Trace {
    let mut x = seed | 1;
    let mut base = level;
    let w = (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 500 == 0 {
                base = level * (0.4 + (x % 1000) as f64 / 1000.0);
            }
            base + swing * (((i / 60) % 2) as f64)
        })
        .collect();
    Trace {
        t0_s: 0.0,
        dt_s: 0.01,
        w,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// At every sample: import = load − generation − battery; import ≥ −(export allowed); import
    /// above the connection is counted by the check, and only then.
    #[test]
    fn supply_balances_and_respects_the_connection(
        seed in 0u64..1_000_000,
        level in 10e6f64..300e6,
        swing in 0.0f64..80e6,
        cap in 0.0f64..600e6,
        unit in 1e6f64..100e6,
        ramp in 0.01f64..1.0,
        min in 0.0f64..0.5,
        grid_frac in 0.0f64..2.0,
        export in 0.0f64..50e6,
        bat_w in 0.0f64..200e6,
        bat_h in 0.1f64..4.0,
    ) {
        let l = load(seed, 4000, level, swing);
        let t = Turbines {
            capacity_w: cap,
            ramp_w_per_s: ramp / 60.0 * cap,
            unit_w: unit,
            min_load_fraction: min,
        };
        let c = Connection { import_w: Some(grid_frac * level), export_w: export };
        let b = (bat_w > 0.0).then(|| Storage::site_battery(bat_w, bat_w * bat_h * 3600.0, 0.85));
        let k = commit(&l, &t, &c);
        let (import, generation, battery) = match k.mode {
            Mode::LoadFollowing => {
                let r = follow(&l, &k, b.as_ref(), &c);
                (r.import, r.generation, r.battery)
            }
            Mode::BaseLoad => {
                // the battery upstream of the flat generation, as the analysis runs it
                let up = match &b {
                    Some(b) => run_storage(&l, b, None, None).upstream,
                    None => l.clone(),
                };
                let (import, cut) = base_load_import(&up, k.committed_w, c.export_w);
                let gen = Trace {
                    t0_s: 0.0,
                    dt_s: 0.01,
                    w: cut.w.iter().map(|x| k.committed_w - x).collect(),
                };
                let bat = Trace {
                    t0_s: 0.0,
                    dt_s: 0.01,
                    w: l.w.iter().zip(&up.w).map(|(a, u)| a - u).collect(),
                };
                (import, gen, bat)
            }
        };
        let mut over = 0.0;
        for i in 0..l.w.len() {
            let scale = 1e-9 * (l.w[i].abs() + generation.w[i].abs() + battery.w[i].abs() + 1.0);
            let id = l.w[i] - generation.w[i] - battery.w[i] - import.w[i];
            prop_assert!(id.abs() <= scale, "sample {i}: load − generation − battery − import = {id}");
            prop_assert!(import.w[i] >= -c.export_w - scale, "sample {i}: import {} below −export {}", import.w[i], c.export_w);
            prop_assert!(generation.w[i] >= -scale);
            if import.w[i] > c.import_w.unwrap() * (1.0 + 1e-9) + 1e-6 {
                over += 0.01;
            }
        }
        let (flagged, _, _) = over_connection(&import, &c);
        prop_assert!((flagged - over).abs() < 1e-9, "flagged {flagged} s, over {over} s");
    }
}
