//! The power model's inputs for a scenario, built the way `megacluster power` builds them
//! (`crates/megacluster/src/cmd/power.rs`): the step shape from the step model (the multi-site
//! model for a scenario of several sites), the run from replica 0 of the reliability timeline, the
//! plan's TCO per GPU-hour as the price of lost throughput. Shared by the tests and the bench.

#![allow(dead_code)]

use power::analysis::Inputs;
use power::profile::{PhaseDraw, RunInterval, RunState, StepShape};
use std::path::{Path, PathBuf};

/// The repository's `examples/*.toml`, in name order.
pub fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

/// The analysis inputs of a scenario file (`None`: the built-in default scenario).
pub fn inputs(path: Option<&Path>) -> Inputs {
    let s = spec::load_scenario(path, &[]).expect("scenario loads");
    let step = step_shape(&s);
    let iv = sim::scenario::scenario_intervals(&s).expect("timeline");
    let run: Vec<RunInterval> = iv
        .iter()
        .map(|i| RunInterval {
            start_s: i.start_s,
            end_s: i.end_s,
            state: match i.state {
                sim::JobState::Training => RunState::Training,
                sim::JobState::LostWorkRecompute => RunState::LostWorkRecompute,
                sim::JobState::CheckpointWrite => RunState::CheckpointWrite,
                sim::JobState::Restart => RunState::Restart,
                sim::JobState::WaitingForSpares => RunState::WaitingForSpares,
                sim::JobState::PlannedMaintenance => RunState::PlannedMaintenance,
            },
        })
        .collect();
    let gpu_hour_usd = plan::plan(&s).tco_usd_per_gpu_hour;
    power::scenario::from_scenario(&s, step, Some(run), gpu_hour_usd)
        .expect("power inputs")
        .inputs
}

fn shape_of(p: &perf::StepProfile, scale: f64) -> StepShape {
    StepShape {
        phases: p
            .phases
            .iter()
            .map(|ph| PhaseDraw {
                name: ph.name.clone(),
                duration_s: ph.duration_s * scale,
                activity: ph.activity,
            })
            .collect(),
        pipeline_stages: p.config.pp,
    }
}

fn step_shape(s: &spec::Scenario) -> Option<StepShape> {
    s.job.as_ref()?;
    let shape = if s.sites.len() > 1 {
        multisite_shape(s)
    } else {
        None
    };
    let shape = match shape {
        Some(x) => x,
        None => {
            let setup = perf::setup(s).ok()?;
            let (p, _, _) = perf::best_profile(&setup, &|_, _| {}).ok()??;
            shape_of(&p, 1.0)
        }
    };
    shape.is_valid().then_some(shape)
}

fn multisite_shape(s: &spec::Scenario) -> Option<StepShape> {
    use spec::sync::Strategy;
    let prep = multisite::prepare(s).ok()?;
    let strategy = prep.sync.strategy;
    match strategy {
        Strategy::Dp | Strategy::Pipeline => {
            let a = multisite::analyse(&prep, None);
            let o = a
                .strategies
                .iter()
                .map(|r| &r.outcome)
                .find(|o| o.name == strategy.name())?;
            if !o.feasible {
                return None;
            }
            let mut shape = shape_of(&prep.profile, 1.0);
            let wait = (o.step_s - prep.basis.step_s).max(0.0);
            let at = shape
                .phases
                .iter()
                .position(|p| p.name == "optimizer")
                .unwrap_or(shape.phases.len());
            shape.phases.insert(
                at,
                PhaseDraw {
                    name: "cross_site_sync".into(),
                    duration_s: wait,
                    activity: perf::calib::ACTIVITY_COMM,
                },
            );
            Some(shape)
        }
        Strategy::Diloco | Strategy::StreamingDiloco => {
            let site: u64 = s.sites[0].halls.iter().map(|h| h.gpus).sum();
            let (p, scale) = prep.replica_profile(site, prep.basis.gpus).ok()?;
            Some(shape_of(&p, scale))
        }
    }
}
