//! The chain agrees with itself, checked from the user's side (`run --json`): the reliability
//! model's failure-free time is `train`'s time to train, a closed form is shown only where it
//! holds (within its own 5 % bound of the simulation) and says "does not apply" elsewhere, and
//! multi-site goodput is the simulation-checked renewal form, never a 0 % from a formula outside
//! its range.

mod common;
use common::*;
use serde_json::Value;

fn run_json(path: &std::path::Path) -> Value {
    let out = bin().args(["run", "--json"]).arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn examples() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_example_agrees_with_itself() {
    let mut closed_forms = 0;
    for path in examples() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let d = run_json(&path);
        let (t, r) = (&d["train"], &d["reliability"]);
        // 1. the reliability runs' time spent training (wall-clock less every lost-time cause) is
        //    the step model's time to train, to a step (the work is whole steps)
        if let Some(train_s) = t["time_to_train_s"].as_f64() {
            let lost: f64 = r["lost_time_s_by_cause"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_f64().unwrap())
                .sum();
            let training = r["wall_s"]["mean"].as_f64().unwrap() - lost;
            let step = t["step_time_s"].as_f64().unwrap();
            // a run of fixed `length` (a month of a million GPUs) lasts exactly that long in
            // every replica and ends before the work does
            let fixed_length = r["wall_s"]["min"] == r["wall_s"]["max"];
            if !fixed_length {
                assert!(
                    (training - train_s).abs() <= step,
                    "{name}: training {training} s against train's {train_s} s (step {step} s)"
                );
            } else {
                assert!(training < train_s, "{name}: {training} s of {train_s} s");
            }
            assert_eq!(r["step_time_s"], t["step_time_s"], "{name}: one step time");
        }
        // 4. Kokolis's first-order closed form: shown within its 5 % bound of the simulated mean,
        //    or null with the reason it does not apply
        let sim = r["ettr"]["mean"].as_f64().unwrap();
        match r["closed_form_ettr"].as_f64() {
            Some(cf) => {
                closed_forms += 1;
                assert!(
                    (cf - sim).abs() <= 0.05 * sim,
                    "{name}: closed form {cf} against simulated {sim}"
                );
            }
            None => {
                let why = r["closed_form_note"].as_str().unwrap_or_default();
                assert!(why.contains("not rare"), "{name}: {why:?}");
            }
        }
        // the multi-site goodput is the renewal form, well above zero where the simulation is
        if let Some(m) = d.get("multisite") {
            for s in m["strategies"].as_array().unwrap() {
                if let Some(g) = s["goodput"].as_f64() {
                    assert!(g > 0.05, "{name}: {} goodput {g}", s["name"]);
                }
            }
        }
    }
    assert!(closed_forms >= 3, "{closed_forms}");
}

/// Five regions: synchronous DP's goodput over all 512,000 GPUs is the renewal closed form that
/// the reliability model checks against its simulation (13.8 %), not the 0.0 % of a formula used
/// beyond its range.
#[test]
fn five_regions_dp_goodput_is_not_zero() {
    let path = examples()
        .into_iter()
        .find(|p| p.ends_with("five-regions.toml"))
        .unwrap();
    let d = run_json(&path);
    let dp = d["multisite"]["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "dp")
        .unwrap()
        .clone();
    let g = dp["goodput"].as_f64().unwrap();
    assert!((g - 0.138).abs() < 0.005, "{g}");
}
