//! Bad `[reliability]` input is a located error naming its field, whichever of `spec` (ranges,
//! names, presets) or the reliability model (pools, checkpoint costs) finds it.

use spec::builder::ScenarioBuilder;

fn load(extra: &str) -> Result<sim::Params, spec::SpecError> {
    let s = ScenarioBuilder::h100_llama3_405b(1024)
        .table("reliability", extra)
        .build()?;
    pipeline::bind::sim_params(&s, &pipeline::Placement::of(&s), None).map(|(p, _)| p)
}

fn field_of(extra: &str) -> (String, String) {
    let e = load(extra).expect_err(extra);
    assert!(e.line.is_some(), "no line for {extra}: {e}");
    (e.path.clone(), e.to_string())
}

#[test]
fn each_bad_value_names_its_field() {
    for (extra, field, words) in [
        (
            "rates = { faulty-gpu = -1e-6 }",
            "reliability.rates.faulty-gpu",
            "not below zero",
        ),
        (
            "rates = { faulty-gpu = nan }",
            "reliability.rates.faulty-gpu",
            "finite",
        ),
        (
            "rate_scale = -2.0",
            "reliability.rate_scale",
            "not below zero",
        ),
        (
            "repair = { p_manual = 1.5 }",
            "reliability.repair.p_manual",
            "[0, 1]",
        ),
        (
            "repair = { p_auto_false = -0.1 }",
            "reliability.repair.p_auto_false",
            "[0, 1]",
        ),
        (
            "sdc = { prevalence = 2 }",
            "reliability.sdc.prevalence",
            "[0, 1]",
        ),
        (
            "bad_nodes = { fraction = 0.1, multiplier = 0.5 }",
            "reliability.bad_nodes.multiplier",
            "at least 1",
        ),
        (
            "job_gpus = 512\nspares = 100",
            "reliability.spares",
            "more than the pool holds",
        ),
        (
            "checkpoint = \"1 s\"",
            "reliability.checkpoint",
            "shorter than its write time",
        ),
        (
            "checkpoint = { memory = \"5 min\", persistent = \"1 min\" }",
            "reliability.checkpoint.persistent",
            "at least",
        ),
        (
            "preset = \"lama3\"",
            "reliability.preset",
            "did you mean `llama3`",
        ),
        (
            "rates = { faulty-gpus = 1e-6 }",
            "reliability.rates.faulty-gpus",
            "did you mean `faulty-gpu`",
        ),
        ("job_gpus = 4096", "reliability.job_gpus", "hold 128"),
        (
            "lifetime = { weibull = -1 }",
            "reliability.lifetime.weibull",
            "greater than zero",
        ),
        (
            "recovery = \"elastic\"",
            "reliability.recovery",
            "did you mean `elastic-dp`",
        ),
        (
            "designs = [\"restart\", \"hotspare\"]",
            "reliability.designs",
            "did you mean `hot-spare`",
        ),
        (
            "containment = { replica_gpus = 4096 }",
            "reliability.containment.replica_gpus",
            "larger than the job",
        ),
        (
            "containment = { detect = \"-5 s\" }",
            "reliability.containment.detect",
            "",
        ),
        (
            "containment = { snapshot_every = 0 }",
            "reliability.containment.snapshot_every",
            "at least 1",
        ),
        (
            "recovery = \"hot-spare\"\ncheckpoint = { memory = \"2 min\", persistent = \"30 min\" }",
            "reliability.checkpoint",
            "persistent checkpoint policy",
        ),
        (
            "goodput_target = 1.5",
            "reliability.goodput_target",
            "(0, 1]",
        ),
    ] {
        let (path, msg) = field_of(extra);
        assert_eq!(path, field, "{extra}: {msg}");
        assert!(msg.contains(words), "{extra}: {msg}");
    }
}

#[test]
fn designs_resolve() {
    let p = load("recovery = \"elastic-dp\"\ncontainment = { detect = \"5 s\", replica_gpus = 128, peer_bandwidth = \"400 Gbps\" }").unwrap();
    assert_eq!(p.containment.design, sim::Design::ElasticDp);
    assert_eq!(p.containment.detect_s, 5.0);
    assert_eq!(p.containment.replica_gpus, 128);
    assert_eq!(p.containment.peer_bytes_per_s, 50e9);
    // the 405B model's training state: 16 B per parameter
    assert!((p.containment.state_bytes - 405e9 * 16.0).abs() < 1e9 * 16.0);
    // every design a scenario names is the model's design of that name, and the model has no other
    let bound: Vec<sim::Design> = spec::reliability::RecoveryDesign::ALL
        .iter()
        .map(|&d| {
            let m = pipeline::bind::design(d);
            assert_eq!(m.name(), d.name());
            m
        })
        .collect();
    assert_eq!(bound, sim::Design::ALL.to_vec());
}

#[test]
fn good_input_resolves() {
    let p = load("preset = \"meta-rsc-low\"\ncheckpoint = { memory = \"2 min\", persistent = \"30 min\" }\nspares = 4\nlifetime = { weibull = 0.8 }\nmaintenance = \"none\"").unwrap();
    assert_eq!(p.standby_nodes, 4);
    assert!(p.maintenance.is_none());
    assert!(matches!(
        p.checkpoint,
        sim::params::Checkpoint::Tiered {
            persist_every: 15,
            ..
        }
    ));
}
