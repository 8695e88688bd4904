//! Property tests of the invariants a whole run must keep, on scenarios from the fuzz generator
//! (the valid ones) and on a power template with battery, turbines and floor together; each goes
//! scenario → pipeline → model outputs, never through a copy of a model's loop.

use proptest::prelude::*;
use rand::SeedableRng;

/// The first generated scenario from `seed` on that parses.
fn valid_scenario(seed: u64) -> spec::Scenario {
    for k in 0..10_000u64 {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(seed.wrapping_mul(10_007).wrapping_add(k));
        let src = fuzz::generate::scenario(&mut rng);
        if let Ok(mut s) = spec::parse_scenario("gen.toml", &src, fuzz::catalog()) {
            s.reliability.replicas = Some(2);
            return s;
        }
    }
    panic!("no valid scenario in 10,000 tries from seed {seed}");
}

fn finite_non_negative(what: &str, v: f64) -> Result<(), TestCaseError> {
    prop_assert!(v.is_finite() && v >= 0.0, "{what} = {v}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn a_whole_run_keeps_its_invariants(seed in any::<u64>()) {
        let s = valid_scenario(seed);
        let installed = s.total_gpus();
        let halls: u64 = s.sites.iter().flat_map(|x| &x.halls).map(|h| h.gpus).sum();
        prop_assert_eq!(halls, installed);
        let p = pipeline::Pipeline::with_options(s, report::run::options(false));
        // plan: GPUs are the halls'; capex, opex and TCO are finite and not negative
        let plan = p.plan();
        prop_assert_eq!(plan.gpus, installed);
        finite_non_negative("capex_usd", plan.capex_usd)?;
        finite_non_negative("opex_usd_per_year", plan.opex_usd_per_year)?;
        finite_non_negative("tco_usd_per_year", plan.tco_usd_per_year)?;
        finite_non_negative("tco_usd_per_gpu_hour", plan.tco_usd_per_gpu_hour)?;
        // step: the layout's GPUs are the job's, within the installed; MFU, HFU in (0, 1]
        if let Ok(Some(t)) = p.step() {
            let c = &t.profile.config;
            let layout = c.tp as u64 * c.pp as u64 * c.cp as u64 * c.dp as u64;
            prop_assert_eq!(layout, t.cluster.gpus);
            prop_assert!(t.cluster.gpus <= installed);
            prop_assert!(t.profile.step_time_s > 0.0 && t.profile.step_time_s.is_finite());
            prop_assert!(t.profile.mfu > 0.0 && t.profile.mfu <= 1.0, "MFU {}", t.profile.mfu);
            prop_assert!(t.profile.hfu > 0.0 && t.profile.hfu <= 1.0, "HFU {}", t.profile.hfu);
        }
        // reliability: ETTR in [0, 1]
        if let Ok(r) = p.reliability() {
            prop_assert!((0.0..=1.0).contains(&r.summary.ettr.mean), "{:?}", r.summary.ettr);
        }
        // multi-site: every strategy's efficiencies in [0, 1]
        if let Ok(Some(m)) = p.multisite() {
            for st in &m.analysis.strategies {
                let o = &st.outcome;
                for (what, v) in [
                    ("efficiency", o.efficiency),
                    ("throughput_efficiency", o.throughput_efficiency),
                    ("quality_efficiency", o.quality_efficiency),
                ] {
                    prop_assert!((0.0..=1.0).contains(&v), "{} {what} = {v}", o.name);
                }
            }
        }
        // and no NaN, infinity or negative physical figure anywhere (the fuzz target's checks)
        let mut found = fuzz::check::findings("plan", plan);
        if let Ok(pw) = p.power() {
            found.extend(fuzz::check::findings("power", &pw.study));
        }
        prop_assert!(found.is_empty(), "{found:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]
    #[test]
    fn state_of_charge_stays_within_the_battery_with_turbines_and_floor(
        power_mw in 1.0f64..600.0,
        energy_mwh in 0.001f64..50.0,
        eff in 0.5f64..=1.0,
        floor in 0.0f64..0.9,
        turbine_mw_per_min in 1.0f64..200.0,
        soc_lo in 0.0f64..0.4,
        soc_hi in 0.6f64..=1.0,
    ) {
        let src = format!(
            "name = \"soc\"\n[[site]]\nname = \"a\"\ngrid = \"300 MW\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 16384\nfabric = \"roce-400g-3tier\"\n\
             [power]\nwindow = \"10 min\"\nresolution = \"100 ms\"\n[power.mitigation]\ngpu_floor = {floor}\n\
             battery = {{ power = \"{power_mw} MW\", energy = \"{energy_mwh} MWh\", efficiency = {eff} }}\n\
             soc_min = {soc_lo}\nsoc_max = {soc_hi}\nturbine_ramp = \"{turbine_mw_per_min} MW/min\"\n"
        );
        let s = spec::parse_scenario("soc.toml", &src, fuzz::catalog()).unwrap();
        let options = pipeline::Options { traces: true, ..report::run::options(true) };
        let p = pipeline::Pipeline::with_options(s, options);
        let pw = p.power().unwrap();
        let tr = pw.traces.as_ref().unwrap();
        let cap = energy_mwh * 3.6e9;
        let tol = 1e-9 * cap + 1e-6;
        for (i, soc) in tr.scenario.battery_soc_j.iter().enumerate() {
            prop_assert!(soc.is_finite(), "soc[{i}] = {soc}");
            prop_assert!(*soc >= soc_lo * cap - tol && *soc <= soc_hi * cap + tol,
                "soc[{i}] = {soc} J outside [{}, {}]", soc_lo * cap, soc_hi * cap);
        }
        let found = fuzz::check::findings("power", &pw.study);
        prop_assert!(found.is_empty(), "{found:?}");
    }
}

#[test]
fn the_same_bytes_at_one_and_many_threads() {
    let run = |threads: usize, src: &str| {
        let s = spec::parse_scenario("t.toml", src, fuzz::catalog()).unwrap();
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let p = pipeline::Pipeline::with_options(s, report::run::options(false));
                let (r, _) = report::run::report(&p, false).unwrap();
                report::run::json_text(&r).unwrap()
            })
    };
    for (name, src) in [fuzz::SEEDS[0], fuzz::SEEDS[6]] {
        let one = run(1, src);
        let many = run(4, src);
        assert!(
            one == many,
            "{name}: the report differs between 1 and 4 threads"
        );
    }
}
