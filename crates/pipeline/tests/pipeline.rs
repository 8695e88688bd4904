//! The pipeline evaluates each section once and hands every model the others' outputs: the step
//! model's step and batch to the reliability model, its profile and the reliability timeline to
//! the power model; the job sits where one placement rule puts it.

use pipeline::{Pipeline, Progress, Stage};
use std::sync::{Arc, Mutex};

fn example(file: &str) -> spec::Scenario {
    let p = format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"));
    spec::load_scenario(Some(std::path::Path::new(&p)), &[]).unwrap()
}

/// A pipeline that records every stage it starts.
fn counted(s: spec::Scenario) -> (Pipeline, Arc<Mutex<Vec<Stage>>>) {
    let started = Arc::new(Mutex::new(vec![]));
    let log = Arc::clone(&started);
    let p = Pipeline::new(s).with_progress(move |e| {
        if let Progress::Start(stage) = e {
            log.lock().unwrap().push(stage);
        }
    });
    (p, started)
}

fn count(log: &Arc<Mutex<Vec<Stage>>>, stage: Stage) -> usize {
    log.lock().unwrap().iter().filter(|s| **s == stage).count()
}

/// Every section of a whole report, in report order.
fn all_sections(p: &Pipeline) {
    p.plan();
    p.step().unwrap();
    p.reliability().unwrap();
    p.power().unwrap();
    p.multisite().unwrap();
}

/// `run` asks the step section, the reliability section and the power section for the job's
/// step: the layout search runs once (it ran three times when each section searched on its own).
#[test]
fn a_whole_report_searches_the_layouts_once() {
    let (p, log) = counted(spec::load_scenario(None, &[]).unwrap());
    all_sections(&p);
    all_sections(&p);
    assert_eq!(
        count(&log, Stage::LayoutSearch),
        1,
        "{:?}",
        log.lock().unwrap()
    );
    assert_eq!(count(&log, Stage::MultiSiteLayoutSearch), 0);
    for stage in [
        Stage::Plan,
        Stage::Reliability,
        Stage::Timeline,
        Stage::Power,
    ] {
        assert_eq!(count(&log, stage), 1, "{stage:?}");
    }
}

/// A multi-site job: the first site's search once for the step and reliability sections, the
/// whole job's once for the multi-site section and the power section's step.
#[test]
fn a_multi_site_report_searches_each_job_once() {
    let (p, log) = counted(example("google-multisite-tpu.toml"));
    all_sections(&p);
    all_sections(&p);
    assert_eq!(count(&log, Stage::LayoutSearch), 1);
    assert_eq!(count(&log, Stage::MultiSiteLayoutSearch), 1);
    assert_eq!(count(&log, Stage::MultiSite), 1);
    assert_eq!(count(&log, Stage::PowerSites), 1);
}

/// The reliability model runs the step model's step and the work of the step model's batch: the
/// job's failure-free training lasts the step model's time to train (to a step).
#[test]
fn reliability_runs_the_step_models_step_and_batch() {
    let p = Pipeline::new(spec::load_scenario(None, &[]).unwrap());
    let t = p.step().unwrap().unwrap();
    let rp = p.reliability_params().unwrap();
    assert_eq!(rp.step_source, pipeline::StepSource::StepModel);
    assert_eq!(rp.params.step_s, t.profile.step_time_s);
    let sim::params::RunLength::WorkS(work) = rp.params.run else {
        panic!("a job's run is its work: {:?}", rp.params.run);
    };
    let train_s = t.profile.days_to_train * 86400.0;
    assert!(
        work >= train_s && work - train_s <= t.profile.step_time_s,
        "work {work} s, time to train {train_s} s"
    );
    // the requested batch (16,777,216 tokens) would be 0.4 % short of the layout's 2,040
    // sequences of 8,192 tokens
    assert_eq!(t.profile.tokens_per_step, 2040.0 * 8192.0);
}

/// The power section repeats the step model's step and the reliability section's replica 0.
#[test]
fn power_repeats_the_step_models_step_over_the_reliability_timeline() {
    let p = Pipeline::new(spec::load_scenario(None, &[]).unwrap());
    let t = p.step().unwrap().unwrap();
    let pw = p.power().unwrap();
    assert_eq!(pw.study.step_source, "step model");
    assert!((pw.study.step_s / t.profile.step_time_s - 1.0).abs() < 1e-12);
    assert_eq!(pw.study.pipeline_stages, t.profile.config.pp);
    let run: Vec<power::RunInterval> = p
        .timeline()
        .unwrap()
        .intervals
        .iter()
        .map(pipeline::bind::run_interval)
        .collect();
    assert_eq!(pw.setup.inputs.run, run);
    assert_eq!(pw.study.timeline_source, "reliability timeline");
}

/// The job fills the halls that hold its accelerator, site by site: xAI's 131,072 GPUs take the
/// two H100 halls (100k and 31,072 of 50k) and none of the H200 hall; five regions without
/// `[job] gpus` run every GPU; a job of 150,000 would fill the first site and part of the second.
#[test]
fn one_placement_rule() {
    let x = example("xai-colossus.toml");
    assert_eq!(
        pipeline::Placement::of(&x).halls,
        vec![vec![100_000, 31_072, 0]]
    );
    let mut s = example("five-regions.toml");
    let p = pipeline::Placement::of(&s);
    assert_eq!(p.per_site(), vec![102_400; 5]);
    assert_eq!(p.halls[0], vec![51_200, 51_200]);
    s.job.as_mut().unwrap().gpus = Some(150_000);
    assert_eq!(
        pipeline::Placement::of(&s).per_site(),
        vec![102_400, 150_000 - 102_400, 0, 0, 0]
    );
    // the step model's cluster is the first site's share
    let st = pipeline::setup(&x).unwrap();
    assert_eq!(st.cluster.gpus, 131_072);
    assert_eq!(st.installed_gpus, 150_000);
}

/// Every site of a multi-site scenario gets its own study; the same halls with the same step and
/// run swing the same at every site.
#[test]
fn every_site_gets_a_study_and_identical_sites_agree() {
    let p = Pipeline::new(example("five-regions.toml"));
    let pw = p.power().unwrap();
    let names: Vec<&str> = pw.sites.iter().map(|x| x.study.site.as_str()).collect();
    assert_eq!(
        names,
        ["wisconsin", "atlanta", "abilene", "phoenix", "quincy"]
    );
    let swing0 = pw.sites[0].study.analysis.raw.swing_w;
    assert!(swing0 > 0.0);
    for x in &pw.sites {
        assert!(
            (x.study.analysis.raw.swing_w / swing0 - 1.0).abs() < 1e-9,
            "{}",
            x.study.site
        );
        assert_eq!(x.study.job_gpus, 102_400.0);
    }
    // abilene's region (texas) and phoenix's name match a climate; the others fall back
    let fallback: Vec<bool> = pw.sites.iter().map(|x| x.climate_fallback).collect();
    assert_eq!(fallback, [true, true, false, false, true]);
    // the first site's row is the section's own study
    assert_eq!(
        pw.sites[0].study.analysis.mitigated.peak_w,
        pw.study.analysis.mitigated.peak_w
    );
}

/// Without a job the step section is empty and the power section's synthetic step stands in.
#[test]
fn no_job_no_step_and_a_synthetic_power_step() {
    let p = Pipeline::new(example("anthropic-trainium.toml"));
    assert!(p.step().unwrap().is_none());
    assert_eq!(
        p.reliability_params().unwrap().step_source,
        pipeline::StepSource::NoJob
    );
    let pw = p.power().unwrap();
    assert_eq!(pw.study.step_source, "synthetic");
    assert!(pw.notes.contains(&pipeline::PowerNote::SyntheticStep));
}

/// The designs section runs once on the reliability section's parameters: the replica is the step
/// model's model-parallel group, the price the plan's TCO per GPU-hour, and whole-job restart, run
/// with the same replicas and seeds, is the reliability section's own Monte Carlo.
#[test]
fn the_designs_section_is_kept_and_compares_on_the_reliability_sections_job() {
    use spec::reliability::RecoveryDesign;
    let s = spec::load_scenario(None, &[]).unwrap();
    let started = Arc::new(Mutex::new(vec![]));
    let log = Arc::clone(&started);
    let options = pipeline::Options {
        designs: Some(vec![RecoveryDesign::Restart, RecoveryDesign::ElasticDp]),
        ..pipeline::Options::report()
    };
    let p = Pipeline::with_options(s, options).with_progress(move |e| {
        if let Progress::Start(stage) = e {
            log.lock().unwrap().push(stage);
        }
    });
    let c = p.designs().unwrap().expect("designs were asked for");
    assert!(std::ptr::eq(c, p.designs().unwrap().unwrap()));
    assert_eq!(count(&started, Stage::Designs), 1);
    assert_eq!(count(&started, Stage::LayoutSearch), 1);
    let t = p.step().unwrap().unwrap();
    assert_eq!(
        c.replica_gpus,
        t.profile.gpus / t.profile.config.dp as u64,
        "{:?}",
        t.profile.config
    );
    assert_eq!(c.usd_per_gpu_hour, p.plan().tco_usd_per_gpu_hour);
    let rel = p.reliability().unwrap();
    let restart = &c.designs[0];
    assert_eq!(restart.design, sim::Design::Restart);
    assert_eq!(restart.summary.ettr, rel.summary.ettr);
    assert_eq!(c.designs[1].design, sim::Design::ElasticDp);
    assert!(c.designs[1].summary.ettr.mean > restart.summary.ettr.mean);
    // none asked for, none run
    let q = Pipeline::new(spec::load_scenario(None, &[]).unwrap());
    assert!(q.designs().unwrap().is_none());
}

/// Two sites of 8,192 H100 training Llama 3 70B with data parallelism across them.
fn two_sites(reliability: &str) -> spec::Scenario {
    spec::builder::ScenarioBuilder::new("two sites")
        .site("a", "hgx-h100", 8192, "roce-400g-3tier")
        .site("b", "hgx-h100", 8192, "roce-400g-3tier")
        .link("a", "b", "500 km", "100 Tbps")
        .job("llama3-70b", "15T", 8192, "16777216")
        .job_line("parallelism = { tp = 8, pp = 4 }")
        .table("reliability", reliability)
        .build()
        .unwrap()
}

/// Multi-site goodput is the reliability model's closed form of the scenario's recovery design
/// for each failure domain, and says where that closed form does not apply instead of a figure.
#[test]
fn multisite_goodput_is_the_designs_closed_form_per_failure_domain() {
    let goodput = |rel: &str| {
        let p = Pipeline::new(two_sites(rel));
        let a = p.multisite().unwrap().unwrap().analysis.clone();
        let dp = a
            .strategies
            .iter()
            .find(|s| s.outcome.name == "dp")
            .unwrap();
        let diloco = a
            .strategies
            .iter()
            .find(|s| s.outcome.name == "diloco")
            .unwrap();
        (
            a.clone(),
            dp.goodput,
            diloco.goodput,
            dp.goodput_note.clone(),
        )
    };
    let (a, dp, diloco, _) = goodput("preset = \"llama3\"");
    assert_eq!(a.goodput_design.as_deref(), Some("restart"));
    let (dp, diloco) = (dp.unwrap(), diloco.unwrap());
    assert_eq!(a.single_site_goodput, Some(dp));
    // one site is a smaller failure domain than both
    assert!(diloco > dp, "diloco {diloco}, dp {dp}");
    // the same numbers as the closed form of the reliability model's parameters
    let s = two_sites("preset = \"llama3\"");
    let (mut q, _) = pipeline::bind::sim_params(&s, &pipeline::Placement::of(&s), None).unwrap();
    q.step_s = a.basis.step_s;
    let cf = sim::designs::domain_goodput(&q, 16_384).value().unwrap();
    assert!((cf - dp).abs() < 1e-12, "{cf} vs {dp}");
    // elastic DP contains node failures to a replica: more goodput in the same domain
    let (_, elastic, _, _) = goodput("preset = \"llama3\"\nrecovery = \"elastic-dp\"");
    assert!(elastic.unwrap() > dp, "{elastic:?} vs {dp}");
    // bad nodes change the rate over the run: no closed form, and the reason instead of a figure
    let (a, dp, diloco, note) = goodput("preset = \"airesim\"");
    assert_eq!((dp, diloco, a.single_site_goodput), (None, None, None));
    assert!(note.unwrap().contains("bad nodes"));
    assert!(a.single_site_goodput_note.unwrap().contains("bad nodes"));
}

/// When the step model cannot run the job the reliability section falls back to 6·N·tokens at
/// the fallback MFU and carries the training section's located error as the reason.
#[test]
fn a_fallback_step_time_carries_the_step_models_reason() {
    let src = spec::scenario::DEFAULT_SCENARIO
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("gpus = ") {
                "gpus = 8"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let s = spec::parse_scenario("eight.toml", &src, &spec::Catalog::embedded()).unwrap();
    let p = Pipeline::new(s);
    let e = p.step().unwrap_err().to_string();
    assert!(e.contains("job.parallelism"), "{e}");
    let r = p.reliability().unwrap();
    assert_eq!(r.step_source, pipeline::StepSource::Fallback);
    assert_eq!(r.fallback_reason.as_deref(), Some(e.as_str()));
    // a job the step model runs has no reason to give
    let d = Pipeline::new(
        spec::parse_scenario(
            "d.toml",
            spec::scenario::DEFAULT_SCENARIO,
            &spec::Catalog::embedded(),
        )
        .unwrap(),
    );
    assert_eq!(d.reliability_params().unwrap().fallback_reason, None);
}
