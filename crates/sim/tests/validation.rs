//! Validation against published figures (validation/reliability.toml) with stated tolerances.

use sim::params::*;

const DATA: &str = include_str!("../../../validation/reliability.toml");

fn data() -> toml::Table {
    toml::from_str(DATA).expect("validation/reliability.toml parses")
}

fn num(t: &toml::Table, sec: &str, key: &str) -> f64 {
    let v = &t[sec][key];
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .unwrap_or_else(|| panic!("{sec}.{key} is a number"))
}

/// `gpus` H100 training Llama 3 405B (the shared test scenario), seed 7, with `reliability`.
fn scenario(gpus: u64, reliability: &str) -> spec::Scenario {
    spec::builder::ScenarioBuilder::h100_llama3_405b(gpus)
        .seed(7)
        .table("reliability", reliability)
        .build()
        .expect("scenario parses")
}

/// The reliability model of a scenario on its own: the catalogue preset with the scenario's
/// overrides, at the 6·N·tokens / 40 % MFU step (the published rows below are about failures and
/// restarts; the step model's step is the pipeline's business, tested there).
fn params(s: &spec::Scenario) -> Params {
    pipeline::bind::sim_params(s, &pipeline::Placement::of(s), None)
        .expect("parameters")
        .0
}

#[test]
fn calibration_llama3_interruptions_and_effective_training_time() {
    // calibration check: the rates are Table 5's counts over the same 54 days, so the count replays
    // its input; the ETTR rests on the assumed restart chain
    let d = data();
    let s = scenario(16_384, "preset = \"llama3\"\nlength = \"54 d\"");
    let p = params(&s);
    assert_eq!(p.job_gpus, 16_384);
    let sm = sim::monte::run(&p, 24, &|| {});
    let want = num(&d, "llama3", "unexpected_interruptions");
    let tol = num(&d, "llama3", "tolerance_interruptions");
    let err = (sm.interruptions.mean - want) / want;
    assert!(
        err.abs() <= tol,
        "interruptions {} vs {want} ({:+.1}%)",
        sm.interruptions.mean,
        err * 100.0
    );
    let ett = num(&d, "llama3", "effective_training_time_min");
    assert!(sm.ettr.mean > ett, "ETTR {} not above {ett}", sm.ettr.mean);
    // the mix follows Table 5's counts: GPU 268 of 419 with SDC (here GPU classes 262 + SDC 6)
    let gpu = sm.interruptions.by_cause["gpu"];
    assert!((gpu - 262.0).abs() / 262.0 < 0.2, "gpu {gpu}");
    // planned maintenance: 47 in 54 days, less those absorbed while the job was already down
    assert!(sm.interruptions.planned_mean > 40.0 && sm.interruptions.planned_mean <= 47.0);
}

#[test]
fn calibration_kokolis_job_mttf_versus_size() {
    // calibration check: the meta-rsc presets are fitted to these two MTTFs
    let d = data();
    let tol = num(&d, "kokolis", "tolerance");
    let day = 86400.0;
    // 8 GPUs (one node), ten years per replica so each sees ~80 failures
    let s = scenario(8, "preset = \"meta-rsc-high\"\nlength = \"3650 d\"");
    let p = params(&s);
    let sm = sim::monte::run(&p, 64, &|| {});
    let want = num(&d, "kokolis", "mttf_8_gpus_days") * day;
    let err = (sm.job_mttf_s - want) / want;
    assert!(
        err.abs() <= tol,
        "8 GPUs: MTTF {:.1} d vs {:.1} d",
        sm.job_mttf_s / day,
        want / day
    );
    let s = scenario(1024, "preset = \"meta-rsc-high\"\nlength = \"60 d\"");
    let p = params(&s);
    let sm = sim::monte::run(&p, 64, &|| {});
    let want = num(&d, "kokolis", "mttf_1024_gpus_hours") * 3600.0;
    let err = (sm.job_mttf_s - want) / want;
    assert!(
        err.abs() <= tol,
        "1,024 GPUs: MTTF {:.2} h vs {:.2} h",
        sm.job_mttf_s / 3600.0,
        want / 3600.0
    );
}

fn simple(nodes: u64, per_node_day: f64, u0_s: f64, interval_s: f64, write_s: f64) -> Params {
    Params {
        preset: "closed-form".into(),
        job_gpus: nodes * 8,
        gpus_per_node: 8,
        nodes_per_rack: 2,
        nodes_per_hall: nodes,
        step_s: 1.0,
        classes: vec![FailureClass {
            name: "node".into(),
            cause: Cause::Hardware,
            scope: Scope::Node,
            rate_per_hour: per_node_day / 24.0,
            removes_nodes: true,
            source: "test".into(),
        }],
        lifetime: Lifetime::Exponential,
        bad_nodes: BadNodes {
            fraction: 0.0,
            multiplier: 1.0,
        },
        sdc: Sdc {
            prevalence: 0.0,
            trigger_per_hour: 0.0,
            detect_delay_s: 0.0,
        },
        maintenance: None,
        recovery: Recovery {
            detect_s: 0.0,
            diagnose_s: 0.0,
            standby_swap_s: 0.0,
            host_selection_s: 0.0,
            preemption_wait_s: 0.0,
            restart_fixed_s: u0_s,
            reinit_ref_s: 0.0,
            reinit_ref_gpus: 1.0,
            reinit_exponent: 0.0,
        },
        failures_while_down: true,
        repair: Repair {
            auto_s: 3600.0,
            manual_s: 86400.0,
            p_manual: 0.1,
            p_auto_false: 0.0,
            p_manual_false: 0.0,
        },
        checkpoint: Checkpoint::Fixed { interval_s },
        checkpoint_write_s: write_s,
        checkpoint_load_s: 0.0,
        memory_load_s: 0.0,
        // unconstrained spares
        standby_nodes: nodes,
        cold_nodes: 0,
        spare_nodes: 0,
        run: RunLength::WallS(60.0 * 86400.0),
        seed: 11,
        containment: Containment::default(),
    }
}

#[test]
fn closed_form_ettr_with_exponential_failures_and_unconstrained_spares() {
    let d = data();
    let tol = num(&d, "closed_form_ettr", "tolerance");
    let cases = d["closed_form_ettr"]["cases"].as_array().unwrap();
    for c in cases {
        let c = c.as_table().unwrap();
        let f = |k: &str| {
            c[k].as_float()
                .or_else(|| c[k].as_integer().map(|i| i as f64))
                .unwrap()
        };
        let nodes = f("nodes") as u64;
        let p = simple(
            nodes,
            f("per_node_day"),
            f("u0_min") * 60.0,
            f("interval_min") * 60.0,
            f("write_min") * 60.0,
        );
        p.check().unwrap();
        let sm = sim::monte::run(&p, 32, &|| {});
        let rate = nodes as f64 * f("per_node_day") / 86400.0;
        let cf = sim::formulas::kokolis_ettr(
            rate,
            f("u0_min") * 60.0,
            f("interval_min") * 60.0,
            f("write_min") * 60.0,
        );
        assert_eq!(sm.lost_time_s_by_cause.waiting_for_spares_s, 0.0);
        let err = (sm.ettr.mean - cf) / cf;
        assert!(
            {
                eprintln!(
                    "closed form nodes {nodes}: sim {:.4} cf {cf:.4} err {:+.2}%",
                    sm.ettr.mean,
                    err * 100.0
                );
                err.abs() <= tol
            },
            "nodes {nodes}: simulated {:.4} vs closed form {cf:.4} ({:+.2}%)",
            sm.ettr.mean,
            err * 100.0
        );
    }
}

#[test]
fn airesim_table1_defaults() {
    let d = data();
    let tol = num(&d, "airesim", "tolerance");
    let p = params(
        &spec::builder::ScenarioBuilder::airesim_table1()
            .seed(42)
            .build()
            .unwrap(),
    );
    let sm = sim::monte::run(&p, 8, &|| {});
    let hours = sm.wall_s.mean / 3600.0;
    let want_h = num(&d, "airesim", "mean_training_time_hours");
    assert!(
        ((hours - want_h) / want_h).abs() <= tol,
        "training time {hours:.0} h vs {want_h} h"
    );
    let want_f = num(&d, "airesim", "failures");
    assert!(
        ((sm.interruptions.failures_mean - want_f) / want_f).abs() <= tol,
        "failures {} vs {want_f}",
        sm.interruptions.failures_mean
    );
    assert_eq!(sm.completed_fraction, 1.0);
}

#[test]
fn same_seed_same_result_whatever_the_thread_count() {
    let s = scenario(16_384, "preset = \"llama3\"\nlength = \"20 d\"");
    let p = params(&s);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| sim::monte::run(&p, 12, &|| {}));
    let two = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(|| sim::monte::run(&p, 12, &|| {}));
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
    let mut q = p.clone();
    q.seed += 1;
    let other = sim::monte::run(&q, 12, &|| {});
    assert_ne!(one.ettr.mean, other.ettr.mean);
}

#[test]
fn cost_does_not_follow_gpu_count_and_no_nan_at_million_gpus() {
    // 1M GPUs at Llama 3 per-node rates: a failure every ~3 minutes; the run must still end, with
    // finite numbers, ETTR in [0, 1] and lost time summing to the wall time
    let s = scenario(1 << 20, "preset = \"llama3\"\nlength = \"5 d\"");
    let p = params(&s);
    let (r, _) = sim::simulate_replica(&p, 1, false);
    // a cycle is a training stretch (MTBI on average) then a restart of at least u0, so the job
    // trains at most MTBI / (MTBI + u0) of the time (lost work and failures during restarts
    // only lower it): at 1M GPUs the restart is longer than the time between interruptions
    let mtbi = 1.0 / sim::engine::job_interrupt_rate_per_s(&p, p.job_nodes());
    let u0 = sim::monte::restart_overhead_s(&p);
    assert!(u0 > mtbi, "u0 {u0} s, MTBI {mtbi} s");
    let bound = mtbi / (mtbi + u0);
    assert!(r.ettr < bound, "ETTR {} above {bound}", r.ettr);
    assert!((r.ettr - r.useful_s / r.wall_s).abs() < 1e-12);
    let total = r.useful_s + r.lost.total_s();
    assert!(
        (total - r.wall_s).abs() < 1e-6 * r.wall_s,
        "{total} vs {}",
        r.wall_s
    );
    assert!(r.unexpected_interruptions > 1000);
}

// ---------------------------------------------------------------------------------------------
// Recovery designs

fn run_design(p: &Params, d: Design, n: u64) -> sim::Summary {
    sim::monte::run(&sim::designs::with_design(p, d), n, &|| {})
}

#[test]
fn closed_forms_of_every_design_match_the_monte_carlo() {
    let d = data();
    let tol = num(&d, "closed_forms", "tolerance");
    for c in d["closed_forms"]["cases"].as_array().unwrap() {
        let c = c.as_table().unwrap();
        let f = |k: &str| {
            c[k].as_float()
                .or_else(|| c[k].as_integer().map(|i| i as f64))
                .unwrap()
        };
        let nodes = f("nodes") as u64;
        let mut p = simple(
            nodes,
            f("per_node_day"),
            f("u0_min") * 60.0,
            f("interval_min") * 60.0,
            f("write_s"),
        );
        p.run = RunLength::WallS(30.0 * 86400.0);
        for design in Design::ALL {
            let mut q = sim::designs::with_design(&p, design);
            if design != Design::Restart {
                q.containment.replica_gpus = 1024;
                q.containment.state_bytes = 6.48e12;
                q.containment.snapshot_block_s = 0.02;
                q.step_s = 2.0;
            }
            q.check().unwrap();
            let sm = sim::monte::run(&q, 16, &|| {});
            let cf = sim::designs::closed_form(&q).value().expect("applies");
            let err = (sm.ettr.mean - cf) / cf;
            eprintln!(
                "closed form {} nodes {nodes}: sim {:.4} cf {cf:.4} err {:+.2}%",
                design.name(),
                sm.ettr.mean,
                err * 100.0
            );
            assert!(
                err.abs() <= tol,
                "{} at {nodes} nodes: simulated {:.4} vs closed form {cf:.4}",
                design.name(),
                sm.ettr.mean
            );
        }
    }
}

#[test]
fn kokolis_closed_form_says_where_it_does_not_apply() {
    // AIReSim draws failures only while computing: the formula's wall-clock rate does not hold
    let p = params(
        &spec::builder::ScenarioBuilder::airesim_table1()
            .seed(1)
            .build()
            .unwrap(),
    );
    let sm = sim::monte::run(&p, 2, &|| {});
    assert_eq!(sm.closed_form_ettr, None);
    assert!(sm
        .closed_form_note
        .as_deref()
        .unwrap()
        .contains("only while the job computes"));
    // 1M GPUs at Llama 3's rates: failures are not rare against the restart
    let s = scenario(1 << 20, "preset = \"llama3\"\nlength = \"2 d\"");
    let p = params(&s);
    let sm = sim::monte::run(&p, 2, &|| {});
    assert_eq!(sm.closed_form_ettr, None);
    assert!(sm.closed_form_note.as_deref().unwrap().contains("not rare"));
    // where it applies it still prints its figure
    let s = scenario(16_384, "preset = \"llama3\"\nlength = \"10 d\"");
    let p = params(&s);
    let sm = sim::monte::run(&p, 2, &|| {});
    assert!(sm.closed_form_ettr.unwrap() > 0.85);
    assert!((sim::formulas::kokolis_max_loss() - 0.2702).abs() < 1e-3);
}

fn byterobust_params() -> Params {
    let d = data();
    let detect = num(&d, "byterobust", "detect_s");
    let failover = num(&d, "byterobust", "failover_s");
    let gpus = num(&d, "byterobust", "gpus") as u64;
    let days = num(&d, "byterobust", "days");
    // the failover after detection is swap + fixed restart + re-initialisation + load from memory;
    // the re-initialisation at 9,600 GPUs (NCCLX law, 4.5 s) comes out of the fixed part
    let reinit = sim::formulas::reinit_s(4.0, 8192.0, 0.721, gpus as f64);
    let s = scenario(
        gpus,
        &format!(
            "preset = \"llama3\"\nlength = \"{days} d\"\nrecovery = \"in-memory\"\nrestart = {{ detect = \"{detect} s\", diagnose = \"0 s\", standby_swap = \"0 s\", fixed = \"{:.2} s\" }}",
            failover - reinit
        ),
    );
    params(&s)
}

#[test]
fn validation_byterobust_97_percent_ettr_over_three_months_on_9600_gpus() {
    let d = data();
    let p = byterobust_params();
    assert_eq!(p.containment.design, Design::InMemory);
    let sm = sim::monte::run(&p, 32, &|| {});
    let want = num(&d, "byterobust", "ettr");
    let tol = num(&d, "byterobust", "tolerance_points") / 100.0;
    eprintln!(
        "ByteRobust: in-memory {:.4} (p5 {:.4}), restart with the same chain {:.4}",
        sm.ettr.mean,
        sm.ettr.p5,
        run_design(&p, Design::Restart, 32).ettr.mean
    );
    let l = &sm.lost_time_s_by_cause;
    let w = sm.wall_s.mean;
    eprintln!(
        "ByteRobust lost: work {:.2} %, restart {:.2} %, waiting {:.2} %, writes {:.2} %, maintenance {:.2} %",
        100.0 * l.lost_work_s / w,
        100.0 * l.restart_s / w,
        100.0 * l.waiting_for_spares_s / w,
        100.0 * l.checkpoint_write_s / w,
        100.0 * l.planned_maintenance_s / w
    );
    assert!(
        (sm.ettr.mean - want).abs() <= tol,
        "ETTR {:.4} vs {want}",
        sm.ettr.mean
    );
}

#[test]
fn validation_byterobust_failover_and_blocking_times_are_as_documented() {
    let d = data();
    // the restart design's chain at 10,000 GPUs against ByteRobust's "often more than 10 minutes":
    // the model restarts faster (a documented miss, validation/reliability.md)
    let s = scenario(10_240, "preset = \"llama3\"");
    let p = params(&s);
    let u0_min = sim::monte::restart_overhead_s(&p) / 60.0;
    let requeue = num(&d, "byterobust", "requeue_failover_min");
    eprintln!("restart chain at 10,240 GPUs: {u0_min:.2} min vs > {requeue} min");
    assert!((u0_min - 8.15).abs() < 0.05, "{u0_min}");
    assert!(u0_min < requeue);
    // every-step snapshot: the state per GPU over the host copy rate against the measured 0.04 s
    let params = num(&d, "byterobust", "blocking_params");
    let gpus = num(&d, "byterobust", "blocking_gpus");
    let model = sim::formulas::transfer_s(
        sim::formulas::checkpoint_state_bytes(params) / gpus,
        sim::input::HOST_COPY_BYTES_PER_S,
        0.0,
    );
    let want = num(&d, "byterobust", "blocking_s");
    eprintln!("snapshot blocking {model:.4} s vs {want} s");
    assert!((model - 0.0219).abs() < 0.0005 && model < want);
}

#[test]
fn validation_megascale_over_90_percent_with_over_100_restarts() {
    let d = data();
    let gpus = num(&d, "megascale", "gpus") as u64;
    let days = num(&d, "megascale", "days");
    let dd = num(&d, "megascale", "detect_diagnose_s");
    let reinit = num(&d, "megascale", "reinit_s");
    let state = num(&d, "megascale", "model_params") * 16.0;
    let s = scenario(
        gpus,
        &format!(
            "preset = \"llama3\"\nlength = \"{days} d\"\ncheckpoint_state = {state}\nrestart = {{ detect = \"60 s\", diagnose = \"{} s\", reinit = \"{reinit} s\", reinit_gpus = {gpus} }}",
            dd - 60.0
        ),
    );
    let p = params(&s);
    let sm = sim::monte::run(&p, 32, &|| {});
    eprintln!(
        "MegaScale: ETTR {:.4} (p5 {:.4}), {:.1} restarts",
        sm.ettr.mean, sm.ettr.p5, sm.interruptions.mean
    );
    assert!(sm.ettr.p5 > num(&d, "megascale", "ettr_min"));
    assert!(sm.interruptions.p5 > num(&d, "megascale", "restarts_min"));
}

/// Gemini: the rate multiplier at which whole-job restart gives `target` (bisection on the Monte
/// Carlo with common random numbers).
fn fit_rate_scale(base: &Params, target: f64) -> f64 {
    let at = |k: f64| {
        let mut q = base.clone();
        for c in &mut q.classes {
            c.rate_per_hour *= k;
        }
        q.standby_nodes = sim::engine::auto_standby_nodes(&q);
        (q.clone(), sim::monte::run(&q, 16, &|| {}).ettr.mean)
    };
    let (mut lo, mut hi) = (1.0, 8.0);
    for _ in 0..14 {
        let mid = 0.5 * (lo + hi);
        if at(mid).1 > target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn validation_gemini_redundant_in_memory_replicas_85_to_97_percent() {
    let d = data();
    let gpus = num(&d, "gemini", "gpus") as u64;
    let days = num(&d, "gemini", "days");
    let s = scenario(gpus, &format!("preset = \"llama3\"\nlength = \"{days} d\""));
    let p = params(&s);
    // calibration: the rate at which whole-job restart from persistent checkpoints gives 85 %
    let before = num(&d, "gemini", "goodput_before");
    let k = fit_rate_scale(&p, before);
    let mut q = p.clone();
    for c in &mut q.classes {
        c.rate_per_hour *= k;
    }
    q.standby_nodes = sim::engine::auto_standby_nodes(&q);
    let restart = sim::monte::run(&q, 32, &|| {});
    // validation: hot spares swapped in by the optical switches (10 s), state from the replica
    let hot = run_design(&q, Design::HotSpare, 32);
    let after = num(&d, "gemini", "goodput_after");
    eprintln!(
        "Gemini: rate × {k:.2}: restart {:.4}, hot-spare {:.4} (p5 {:.4}), in-memory {:.4}, elastic {:.4}",
        restart.ettr.mean,
        hot.ettr.mean,
        hot.ettr.p5,
        run_design(&q, Design::InMemory, 32).ettr.mean,
        run_design(&q, Design::ElasticDp, 32).ettr.mean
    );
    let l = &hot.lost_time_s_by_cause;
    let w = hot.wall_s.mean;
    eprintln!(
        "Gemini hot-spare lost: work {:.2} %, restart {:.2} %, waiting {:.2} %, contained {:.2} %, writes {:.2} %, maintenance {:.2} %",
        100.0 * l.lost_work_s / w,
        100.0 * l.restart_s / w,
        100.0 * l.waiting_for_spares_s / w,
        100.0 * l.contained_recovery_s / w,
        100.0 * l.checkpoint_write_s / w,
        100.0 * l.planned_maintenance_s / w
    );
    assert!((restart.ettr.mean - before).abs() < 0.01);
    // a documented miss: the model keeps whole-job failures (software, SDC) and runs short of
    // spares; the figure stays as in validation/reliability.md
    assert!((hot.ettr.mean - 0.945).abs() < 0.01, "{}", hot.ettr.mean);
    assert!(hot.ettr.mean < after);
}

#[test]
fn designs_at_a_million_gpus_rank_as_documented() {
    // the case: the default job scaled to 983,040 GPUs, 8,192-GPU replicas
    let s = scenario(983_040, "preset = \"llama3\"\nlength = \"5 d\"");
    let mut p = params(&s);
    p.step_s = 0.427;
    p.containment.replica_gpus = 8192;
    let e = |d: Design| run_design(&p, d, 8).ettr.mean;
    let (restart, hot, partial, elastic, memory) = (
        e(Design::Restart),
        e(Design::HotSpare),
        e(Design::PartialRestart),
        e(Design::ElasticDp),
        e(Design::InMemory),
    );
    eprintln!("1M: restart {restart:.3} hot {hot:.3} partial {partial:.3} elastic {elastic:.3} in-memory {memory:.3}");
    assert!(restart < 0.10 && memory < 0.10);
    assert!(partial > 2.0 * restart);
    assert!(hot > partial && elastic > partial);
}
