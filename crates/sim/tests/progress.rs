//! A job that cannot make progress is stopped and said so, in bounded work: before, a replica ran
//! to 1,000× its work (work clamped to three years), simulated millennia, minutes per replica.

use sim::params::*;

/// The default scenario's reliability parameters with `edit` applied.
fn default_params(edit: impl Fn(&mut Params)) -> Params {
    let s = spec::load_scenario(None, &[]).unwrap();
    let mut p = pipeline::bind::sim_params(&s, &pipeline::Placement::of(&s), None)
        .unwrap()
        .0;
    edit(&mut p);
    p.check().unwrap();
    p
}

#[test]
fn failures_faster_than_restarts_stop_early_with_a_note() {
    // every class 2,000× as often: an interruption every few seconds against a restart of minutes
    let p = default_params(|p| {
        for c in &mut p.classes {
            c.rate_per_hour *= 2000.0;
        }
        p.run = RunLength::WorkS(3.0 * 365.25 * 86400.0);
    });
    let (r, _) = sim::simulate_replica(&p, 7, false);
    assert!(r.stalled, "{r:?}");
    assert!(!r.completed);
    // bounded by the no-progress rules, not by 1,000× three years of failures (≈ 10^10)
    let bound = sim::engine::MAX_FAILURES_WITHOUT_TRAINING + sim::engine::MIN_FAILURES_TO_JUDGE;
    assert!(r.failures <= bound + 10, "{} failures", r.failures);
    assert!(r.ettr < 1e-3, "{}", r.ettr);
    let s = sim::monte::run(&p, 3, &|| {});
    assert_eq!(s.stalled_fraction, 1.0);
    let note = s.progress_note.unwrap();
    assert!(note.contains("cannot make progress"), "{note}");
    assert!(
        note.contains("expected progress per failure interval"),
        "{note}"
    );
}

#[test]
fn expected_progress_per_failure_interval_is_the_exponential_excess() {
    // E[max(0, X − u0)] for X ~ Exp(λ): e^(−λ u0)/λ; λ = 1/h, u0 = 1 h → e^-1 h
    let v = sim::monte::progress_per_failure_interval_s(1.0 / 3600.0, 3600.0);
    assert!((v - 3600.0 * (-1.0f64).exp()).abs() < 1e-9, "{v}");
    assert_eq!(
        sim::monte::progress_per_failure_interval_s(0.0, 10.0),
        f64::INFINITY
    );
}

#[test]
fn a_heavy_tailed_lognormal_lifetime_is_bounded() {
    // before: sigma 3 on the default scenario ran past 180 s (failures every few seconds, each
    // restart lost, until 1,000× the work)
    let p = default_params(|p| {
        p.lifetime = Lifetime::Lognormal { sigma: 3.0 };
    });
    let (r, _) = sim::simulate_replica(&p, 1, false);
    let bound = sim::engine::MAX_FAILURES_WITHOUT_TRAINING + sim::engine::MIN_FAILURES_TO_JUDGE;
    assert!(r.failures <= bound + 10, "{} failures", r.failures);
    assert!(r.completed || r.stalled, "{r:?}");
}

#[test]
fn a_healthy_job_is_not_stopped() {
    let p = default_params(|_| {});
    let (r, _) = sim::simulate_replica(&p, 1, false);
    assert!(!r.stalled);
    assert!(r.completed);
    let s = sim::monte::run(&p, 4, &|| {});
    assert_eq!(s.stalled_fraction, 0.0);
    assert!(s.progress_note.is_none());
    // and absent from the JSON, so valid outputs keep their bytes
    let j = serde_json::to_value(&s).unwrap();
    assert!(j.get("stalled_fraction").is_none() && j.get("progress_note").is_none());
}

#[test]
fn auto_standbys_never_exceed_the_job_and_never_saturate() {
    // before: rate_scale = 1e300 with length = "1 s" printed "standby_nodes": u64::MAX (the
    // Poisson quantile of an absurd rate, cast to an integer); now the rate scale is bounded and
    // the rule's standbys never exceed the job's nodes
    let src = format!(
        "{}\n[reliability]\nrate_scale = 1e6\nlength = \"1 s\"\n",
        spec::scenario::DEFAULT_SCENARIO
    );
    let s = spec::parse_scenario("x.toml", &src, &spec::Catalog::embedded()).unwrap();
    let p = pipeline::bind::sim_params(&s, &pipeline::Placement::of(&s), None)
        .unwrap()
        .0;
    assert!(sim::engine::auto_standby_nodes(&p) > p.job_nodes());
    assert!(p.standby_nodes <= p.job_nodes(), "{}", p.standby_nodes);
    let bad = format!(
        "{}\n[reliability]\nrate_scale = 1e300\nlength = \"1 s\"\n",
        spec::scenario::DEFAULT_SCENARIO
    );
    let e = spec::parse_scenario("x.toml", &bad, &spec::Catalog::embedded()).unwrap_err();
    assert_eq!(e.path, "reliability.rate_scale");
    assert!(e.line.is_some());
}

/// The figure after `label` in `note` (written `{:.3e}`).
fn figure_after(note: &str, label: &str) -> f64 {
    let rest = note.split(label).nth(1).unwrap_or_else(|| panic!("{note}"));
    rest.trim_start()
        .split(' ')
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("{note}"))
}

#[test]
fn the_stop_note_gives_the_failures_the_replicas_saw() {
    // before: with a lognormal lifetime of sigma 2.5 or 3 the note quoted the exponential mean
    // rate ("an interruption every 2.122e3 s against a restart of 5.072e2 s; expected progress
    // per failure interval 1.671e3 s"), which says the job can progress, beside the verdict that
    // it cannot; the stopped replicas failed every few seconds
    let p = default_params(|p| {
        p.lifetime = Lifetime::Lognormal { sigma: 3.0 };
    });
    let s = sim::monte::run(&p, 2, &|| {});
    assert_eq!(s.stalled_fraction, 1.0);
    let note = s.progress_note.unwrap();
    let seen = figure_after(&note, "a failure every");
    let restart = figure_after(&note, "against a restart of");
    let progress = figure_after(&note, "expected progress per failure interval");
    assert!(seen < restart, "{note}");
    assert!(progress < 0.01 * restart, "{note}");
    // the model's mean rate is named beside it
    let mean = figure_after(&note, "one every");
    assert!(mean > restart, "{note}");
}
