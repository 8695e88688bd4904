//! `megacluster power` end to end: bad `[power]` input is a located error naming the field (exit 2,
//! nothing on stdout, no panic); the default scenario's figures are what the physics says;
//! `--solve` returns a passing combination; `--svg` writes the charts.

mod common;
use common::*;

use serde_json::Value;

/// A small scenario with no job (synthetic step shape), then `extra` appended.
fn scenario(extra: &str) -> String {
    format!(
        "name = \"power test\"\n[[site]]\nname = \"memphis\"\ngrid = \"150 MW\"\ncooling = \"direct-liquid\"\n\
         [[site.hall]]\nsystem = \"hgx-h100\"\ngpus = \"100k\"\nfabric = \"roce-400g-3tier\"\n{extra}"
    )
}

/// `power` (and `validate`) on `body` must fail with code 2, write nothing to stdout, not panic,
/// and say every one of `needles`.
fn rejects(name: &str, body: &str, needles: &[&str]) {
    rejects_with(&["power", "validate"], name, body, needles);
}

#[test]
fn floor_outside_0_to_100_percent() {
    rejects(
        "floor-high.toml",
        &scenario("[power]\nmitigation = { gpu_floor = \"150%\" }\n"),
        &["floor-high.toml:11:", "power.mitigation.gpu_floor", "1.5"],
    );
    rejects(
        "floor-negative.toml",
        &scenario("[power.mitigation]\ngpu_floor = -0.1\n"),
        &[
            "floor-negative.toml:11:",
            "power.mitigation.gpu_floor",
            "-0.1",
        ],
    );
}

#[test]
fn battery_with_power_but_no_energy() {
    rejects(
        "battery-zero.toml",
        &scenario("[power.mitigation.battery]\npower = \"100 MW\"\nenergy = \"0 MWh\"\n"),
        &[
            "battery-zero.toml:12:",
            "power.mitigation.battery.energy",
            "needs energy above zero",
        ],
    );
    // The site's own battery too.
    let site = "name = \"x\"\n[[site]]\nname = \"a\"\ngrid = \"150 MW\"\nbattery = { power = \"50 MW\", energy = \"0 MWh\" }\n\
                [[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"ib-ndr-3tier\"\n";
    rejects(
        "site-battery-zero.toml",
        site,
        &[
            "site-battery-zero.toml:5:",
            "site[0].battery.energy",
            "greater than zero",
        ],
    );
}

#[test]
fn efficiency_above_one() {
    rejects(
        "eff.toml",
        &scenario("[power.mitigation.battery]\npower = \"100 MW\"\nenergy = \"200 MWh\"\nefficiency = \"105%\"\n"),
        &["eff.toml:13:", "power.mitigation.battery.efficiency", "(0, 1]", "1.05"],
    );
}

#[test]
fn band_low_above_high() {
    rejects(
        "band.toml",
        &scenario("[power]\ngrid = { band = [\"20 Hz\", \"0.1 Hz\"] }\n"),
        &["band.toml:11:", "power.grid.band", "below its high edge"],
    );
}

#[test]
fn unknown_grid_code_with_hint() {
    rejects(
        "code.toml",
        &scenario("[power]\ngrid_code = \"ercot-large-lod\"\n"),
        &["code.toml:11:", "power.grid_code", "ercot-large-load"],
    );
}

fn json_of(args: &[&str]) -> Value {
    let out = bin().args(args).arg("--json").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {err}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: not JSON: {e}"))
}

fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("`{k}` missing or not a number in {v}"))
}

#[test]
fn default_scenario_json_keys_and_physics() {
    let j = json_of(&["power"]);
    for k in [
        "peak_w",
        "swing_w",
        "max_ramp_w_per_s",
        "band_energy_fraction",
        "mitigation_energy_overhead_fraction",
        "min_w",
        "mean_w",
        "peak_it_w",
        "pue",
        "window_s",
        "resolution_s",
    ] {
        assert!(num(&j, k).is_finite(), "{k}");
    }
    assert!(j["passes"].is_boolean());
    assert!(j["rules"].is_array() && !j["rules"].as_array().unwrap().is_empty());
    assert!(j["raw"]["peak_w"].is_f64());
    assert!(j["cooling"]["annual_pue"].is_f64());
    // The default scenario has a job: the step model gives the step, the reliability model the run.
    assert_eq!(j["step_source"], "step model");
    assert_eq!(j["timeline_source"], "reliability timeline");

    // Physics. H100 (TDP 700 W): compute draw 0.9 TDP = 630 W, idle 0.2 TDP = 140 W; host
    // 8.4/10.2 of the 10.2 kW node per GPU less 630 W = 420 W; other IT 10 % of 10.2 kW / 8 =
    // 127.5 W. Job GPUs peak at 630 + 420 + 127.5 = 1,177.5 W; spares (`[job] gpus` below the
    // installed 100k) sit at 140 + 547.5 = 687.5 W.
    let gpus = num(&j, "gpus");
    let job = num(&j, "job_gpus");
    assert_eq!(gpus, 100_000.0);
    assert!(job > 0.0 && job <= gpus);
    let peak_it = job * 1177.5 + (gpus - job) * 687.5;
    assert!(
        (num(&j, "peak_it_w") - peak_it).abs() < 1.0,
        "{} vs {peak_it}",
        num(&j, "peak_it_w")
    );
    // The window holds the first restart (the job drops to idle), so the swing is every job GPU
    // going from compute to idle draw: job x 490 W. The facility overhead is held at its mean.
    assert!(num(&j["run"]["states"], "restart_s") > 0.0);
    let swing = num(&j, "swing_w");
    assert!(
        (swing - job * 490.0).abs() < 1e-6 * job * 490.0,
        "swing {swing}"
    );
    assert!((num(&j, "peak_w") - num(&j, "min_w") - swing).abs() < 1e-3);
    // Peak facility = peak IT + (PUE - 1) x mean IT, and mean facility = PUE x mean IT.
    let pue = num(&j, "pue");
    let mean_it = num(&j, "mean_w") / pue;
    let expect_peak = num(&j, "peak_it_w") + (pue - 1.0) * mean_it;
    assert!(
        (num(&j, "peak_w") - expect_peak).abs() < 1e-6 * expect_peak,
        "{} vs {expect_peak}",
        num(&j, "peak_w")
    );
    // Metered over 1 s means, no ramp can exceed the whole swing per metering window; the
    // restart's drop (and each step's edge) is far beyond ERCOT's 50 MW/min (833 kW/s), so the
    // unmitigated job fails and, with no mitigation, the mitigation costs nothing.
    let ramp = num(&j, "max_ramp_w_per_s");
    let window = num(&j, "ramp_window_s");
    assert!(ramp <= swing / window * (1.0 + 1e-9), "ramp {ramp}");
    assert!(ramp > 10.0 * 50e6 / 60.0, "ramp {ramp}");
    let ramp_rule = j["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "ramp_down")
        .unwrap()
        .clone();
    assert_eq!(ramp_rule["passes"], false, "{ramp_rule}");
    assert_eq!(j["passes"], false);
    assert_eq!(num(&j, "mitigation_energy_overhead_fraction"), 0.0);
    // Energy in the window = mean power x window.
    let e = num(&j, "window_raw_j");
    assert!((e - num(&j, "mean_w") * num(&j, "window_s")).abs() < 1e-9 * e);
}

#[test]
fn no_job_uses_the_synthetic_step_and_says_so() {
    let p = write("nojob.toml", &scenario(""));
    let j = json_of(&["power", p.to_str().unwrap()]);
    assert_eq!(j["step_source"], "synthetic");
    assert_eq!(num(&j, "step_s"), 2.0);
    let notes = j["notes"].to_string();
    assert!(notes.contains("synthetic"), "{notes}");
    let out = bin().arg("power").arg(&p).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("synthetic: 2 phases"));
}

#[test]
fn solve_returns_a_passing_combination() {
    let j = json_of(&["power", "--solve"]);
    let best = &j["solve"]["best"];
    assert_eq!(best["passes"], true, "{best}");
    let a = &j["solve"]["best_analysis"];
    assert_eq!(a["passes"], true);
    for r in a["rules"].as_array().unwrap() {
        assert_eq!(r["passes"], true, "{r}");
    }
    // Cheapest: no passing candidate costs less.
    let cost = num(best, "total_usd_per_year");
    for c in j["solve"]["candidates"].as_array().unwrap() {
        if c["passes"] == true {
            assert!(num(c, "total_usd_per_year") >= cost);
        }
    }
    // The scenario itself (no mitigation) still fails.
    assert_eq!(j["passes"], false);
    // The GPU ramp limit at ERCOT's 50 MW/min over PUE 1.14 and 98,304 job GPUs: 7.44 W/s per
    // GPU, which holds the meter within the ramp rule.
    let ramp = &j["solve"]["gpu_ramp_only"];
    let r = num(ramp, "gpu_ramp_w_per_s");
    assert!((r - 50e6 / 60.0 / 1.14 / 98_304.0).abs() < 0.01, "{r}");
    assert_eq!(ramp["passes"], true, "{ramp}");
    assert!(num(ramp, "total_usd_per_year") > cost);
}

#[test]
fn mitigations_from_the_scenario_pass_a_strict_code() {
    // A 90 % floor holds every GPU at the compute draw, through the restart too: flat.
    let p = write(
        "floor.toml",
        &scenario("[power]\ngrid_code = \"strict-generator-following\"\nmitigation = { gpu_floor = \"90%\" }\n"),
    );
    let j = json_of(&["power", p.to_str().unwrap()]);
    assert_eq!(j["raw"]["passes"], false);
    assert_eq!(j["passes"], true, "{}", j["rules"]);
    assert!(num(&j, "swing_w") < 1.0);
    assert!(num(&j, "mitigation_energy_overhead_fraction") > 0.0);
}

#[test]
fn svg_charts_are_written() {
    let d = dir().join("svg");
    let _ = std::fs::remove_dir_all(&d);
    let out = bin().args(["power", "--svg"]).arg(&d).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(files.len() >= 4, "{files:?}");
    for f in &files {
        let s = std::fs::read_to_string(f).unwrap();
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"), "{f:?}");
        assert!(!s.contains("NaN") && !s.contains("inf"), "{f:?}");
    }
}

#[test]
fn window_too_many_samples() {
    // A day at 1 ms is 8.64e7 samples: refused before anything is allocated, naming the field.
    rejects(
        "window.toml",
        &scenario("[power]\nwindow = \"1 d\"\nresolution = \"1 ms\"\n"),
        &["window.toml:12:", "power.resolution", "at most 10000000"],
    );
    // The resolution alone, against the default 30-minute window.
    rejects(
        "resolution.toml",
        &scenario("[power]\nresolution = \"0.1 ms\"\n"),
        &[
            "resolution.toml:11:",
            "power.resolution",
            "18000000 samples",
        ],
    );
}

/// A multi-site scenario: every site is studied against its own grid connection, and a
/// one-site scenario has no `sites` table.
#[test]
fn every_site_of_a_multi_site_scenario_has_its_own_verdict() {
    let path = format!(
        "{}/../../examples/five-regions.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let j = json_of(&["power", &path]);
    let sites = j["sites"].as_array().expect("`sites` array");
    assert_eq!(sites.len(), 5);
    for s in sites {
        assert_eq!(num(s, "job_gpus"), 102_400.0, "{s}");
        // 102,400 GB200 at 1.833 kW IT and PUE 1.14 swing tens of MW: a large load.
        assert!(num(s, "peak_w") > 150e6 && num(s, "swing_w") > 10e6, "{s}");
        assert!(s["passes"].is_boolean() && s["raw_passes"].is_boolean());
        assert!(num(s, "annual_pue") > 1.0);
    }
    // Every site repeats the multi-site model's synchronous step: the whole job's step in one
    // site plus the exposed cross-site synchronisation.
    let m = json_of(&["multisite", &path]);
    let dp = m["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "dp")
        .expect("dp strategy");
    let step = num(&j, "step_s");
    assert!((step / num(dp, "step_s") - 1.0).abs() < 1e-9, "{step} s");
    assert!(step > num(&m, "single_site_step_s"));
    // The first site's row agrees with the section's own figures.
    assert_eq!(num(&sites[0], "peak_w"), num(&j, "peak_w"));
    assert!(json_of(&["power"]).get("sites").is_none());
}
