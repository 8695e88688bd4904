//! Energy conservation of the whole power trace through scenario → study, with a site battery,
//! on-site generation and a GPU floor together, on random scenarios (the Llama 3 405B job on
//! 16,384 of 24,576 H100, as `examples/meta-llama3.toml`, with its pipelined step shape and its
//! reliability timeline): what the site takes from the grid and its generators, plus what the
//! battery gives back less what it takes in, is the IT energy of the window with the mitigations
//! times the facility overhead (PUE, held at its mean over the window), to round-off; the
//! consumed energy the study reports is that plus the battery's round-trip losses; the state of
//! charge stays within the battery's bounds; every energy is a finite non-negative number.

use proptest::prelude::*;

/// The scenario: `grid_mw` of grid connection (0: islanded), `generation_mw` of on-site
/// turbines (0: none), a site battery of `battery_mw` for `battery_h` hours at `efficiency`, a
/// GPU floor at `floor` of TDP, the power window of `window_min` minutes at 10 ms.
fn scenario(
    seed: u64,
    grid_mw: f64,
    generation_mw: f64,
    (battery_mw, battery_h, efficiency): (f64, f64, f64),
    floor: f64,
    window_min: f64,
) -> spec::scenario::Scenario {
    let generation = if generation_mw > 0.0 {
        format!("generation = \"{generation_mw} MW\"\n")
    } else {
        String::new()
    };
    let src = format!(
        r#"name = "conservation"
seed = {seed}

[[site]]
name = "site"
grid = "{grid_mw} MW"
{generation}battery = {{ power = "{battery_mw} MW", energy = "{energy} MWh", efficiency = "{eff}%" }}
electricity = "us-average"
cooling = "direct-liquid"

[[site.hall]]
system = "hgx-h100"
gpus = 24576
fabric = "roce-400g-3tier"

[job]
model = "llama3-405b"
tokens = "15.6T"
seq = 8192
global_batch = 16777216
precision = "bf16"
gpus = 16384
parallelism = {{ tp = 8, pp = 16, cp = 1, dp = 128, microbatch = 1, schedule = "interleaved", interleave = 4, zero = 2, recompute = "full" }}

[power]
window = "{window_min} min"
mitigation = {{ gpu_floor = "{floor_pct}%" }}
"#,
        energy = battery_mw * battery_h,
        eff = efficiency * 100.0,
        floor_pct = floor * 100.0,
    );
    let dir = std::env::temp_dir().join(format!("megacluster-conservation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let path = dir.join(format!("s-{seed}-{}.toml", src.len()));
    std::fs::write(&path, src).expect("scenario written");
    let s = spec::load_scenario(Some(&path), &[]).expect("scenario loads");
    let _ = std::fs::remove_file(&path);
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn the_site_supplies_the_it_energy_times_the_facility_overhead(
        seed in 1u64..1000,
        // the job draws ~25-35 MW of facility power: from islanded to a grid short of the peak
        // (the generators follow the load) to one that carries it (they run as base load)
        grid_mw in prop_oneof![Just(0.0), 10.0f64..60.0],
        generation_mw in prop_oneof![Just(0.0), 5.0f64..60.0],
        battery_mw in 1.0f64..40.0,
        battery_h in 0.01f64..2.0,
        efficiency in 0.7f64..1.0,
        floor in prop_oneof![Just(0.0), 0.3f64..0.9],
        window_min in 2.0f64..6.0,
    ) {
        // (an islanded site needs generation)
        let generation_mw = if grid_mw == 0.0 { generation_mw.max(20.0) } else { generation_mw };
        let s = scenario(
            seed,
            grid_mw,
            generation_mw,
            (battery_mw, battery_h, efficiency),
            floor,
            window_min,
        );
        let options = pipeline::Options {
            solve: pipeline::Solve::Never,
            traces: false,
            climates: false,
            recommend: false,
            ..pipeline::Options::report()
        };
        let pl = pipeline::Pipeline::with_options(s, options);
        let pw = pl.power().expect("power section");
        let inp = &pw.setup.inputs;
        let a = &pw.study.analysis;
        let m = &inp.mitigation;
        prop_assert!(m.battery.is_some() && (m.gpu.floor_fraction - floor).abs() < 1e-12);
        prop_assert_eq!(m.turbines.is_some(), generation_mw > 0.0);

        // the IT trace of the window with the GPU mitigations, built alone
        let n = inp.window.samples();
        let dt = inp.window.duration_s / n as f64;
        let it = power::trace::it_power_trace(
            &inp.cluster, &inp.step, &inp.run, inp.window.t0_s, dt, n, &m.gpu,
        );
        let pue = inp.cluster.pue;
        let facility_j = it.energy_j() * pue;
        prop_assert!(facility_j > 0.0 && facility_j.is_finite());

        let grid_j = a.mitigated.mean_w * a.window.duration_s;
        let generation_j = a.turbines_energy_j.unwrap_or(0.0);
        let b = a.battery.as_ref().expect("battery summary");
        for (name, x) in [
            ("generation", generation_j),
            ("discharged", b.discharged_j),
            ("charged", b.charged_j),
            ("losses", b.losses_j),
        ] {
            prop_assert!(x.is_finite() && x >= 0.0, "{} = {}", name, x);
        }
        if let Some(sc) = &a.supply {
            prop_assert!(sc.curtailed_j >= 0.0 && sc.over_connection_j >= 0.0);
        }
        // (round-off: sums of 10^4-10^5 samples of ~30 MW; the battery's bound checks compare
        // within a relative 1e-9 too)
        let tol = 1e-9 * facility_j + 1e-9 * (b.charged_j + b.discharged_j) + 1.0;
        let supplied = grid_j + generation_j + b.discharged_j - b.charged_j;
        prop_assert!(
            (supplied - facility_j).abs() <= tol,
            "grid {} + generation {} + discharged {} - charged {} = {} against IT x PUE {}",
            grid_j, generation_j, b.discharged_j, b.charged_j, supplied, facility_j
        );
        // what the study calls consumed: supplied less what is left in store, i.e. the load
        // plus the battery's round-trip losses
        prop_assert!(
            (a.window_mitigated_j - b.losses_j - facility_j).abs() <= tol,
            "consumed {} - losses {} against IT x PUE {}",
            a.window_mitigated_j, b.losses_j, facility_j
        );
        // the state of charge within its bounds
        let bat = m.battery.expect("battery");
        let (lo, hi) = (bat.soc_min_fraction * bat.energy_j, bat.soc_max_fraction * bat.energy_j);
        let slack = 1e-9 * bat.energy_j;
        prop_assert!(b.soc_min_j >= lo - slack && b.soc_max_j <= hi + slack,
            "state of charge {}..{} outside {}..{}", b.soc_min_j, b.soc_max_j, lo, hi);
        prop_assert!(b.soc_min_j <= b.soc_max_j);
    }
}
