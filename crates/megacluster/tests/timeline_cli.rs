//! The reliability and power sections run the job the step model describes: its step time and
//! its batch, so the training they simulate lasts what `train` says it lasts.

mod common;
use common::*;

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = bin().args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The default scenario with no failures, no maintenance and no corruption: the reliability
/// model's wall clock is then the training (and a few checkpoint writes of seconds each).
fn failure_free() -> std::path::PathBuf {
    let src = spec::scenario::DEFAULT_SCENARIO.to_string()
        + "\n[reliability]\nrate_scale = 0\nmaintenance = \"none\"\nsdc = { prevalence = 0 }\n";
    write("failure-free.toml", &src)
}

/// `train` says the default job takes 13.45 days on the step model's 1.246 s step at its
/// 16,711,680-token batch; the reliability model without failures must take as long. (It took
/// 11.28 days when its work was sized from the 6·N / 40 % MFU estimate of 1.05 s per step and
/// the requested 16,777,216-token batch, with the step model's step swapped in afterwards.)
#[test]
fn failure_free_wall_time_is_the_step_models_time_to_train() {
    let p = failure_free();
    let p = p.to_str().unwrap();
    let t = json_of(&["train", p]);
    let train_s = num(&t["time_to_train_s"]);
    let step_s = num(&t["step_time_s"]);
    let r = json_of(&["simulate", p, "--replicas", "2"]);
    assert_eq!(num(&r["interruptions"]["mean"]), 0.0);
    assert_eq!(num(&r["step_time_s"]), step_s);
    let wall = num(&r["wall_s"]["mean"]);
    // whole steps (at most one step more) plus the weekly checkpoints' writes
    let writes = num(&r["checkpoint_write_s"]) * (wall / num(&r["checkpoint_interval_s"])).ceil();
    assert!(
        wall >= train_s && wall <= train_s + step_s + writes + 1e-6,
        "wall {:.4} d, train {:.4} d",
        wall / 86400.0,
        train_s / 86400.0
    );
}

/// The power section's run is the reliability section's replica 0: its step is the step model's,
/// and it trains at least the step model's time to train, plus the part-steps that interruptions
/// cut short (under a step each, some 600 of them: well under 0.1 %). It trained 11.28 days of
/// the step model's 13.46 when the timeline came from the 6·N / 40 % MFU step.
#[test]
fn power_timeline_trains_for_the_step_models_time() {
    let t = json_of(&["train"]);
    let train_s = num(&t["time_to_train_s"]);
    let step_s = num(&t["step_time_s"]);
    let pw = json_of(&["power"]);
    assert_eq!(num(&pw["step_s"]), step_s);
    let training = num(&pw["run"]["states"]["training_s"]);
    assert!(
        training >= train_s && training <= train_s * 1.001,
        "power trains {:.4} d, train says {:.4} d",
        training / 86400.0,
        train_s / 86400.0
    );
}
