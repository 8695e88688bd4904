//! The power section's glue: the step shape from the step model (for a multi-site job, from the
//! multi-site model), the run's states from the reliability timeline, one study per site.

use crate::{bind, Error, Pipeline, Power, SiteStudy, Solve, Stage};
use power::PhaseDraw;
use serde::Serialize;

/// Why the step model's profile did not make the power section's step shape.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepIssue {
    NoJob,
    /// No parallel layout fits the job on the cluster.
    NoLayout,
    /// The step model refused the job (the located error's text).
    Invalid(String),
    /// A phase with a negative or non-finite duration or an activity outside 0–1.
    BadShape,
}

/// What the power section assumed or where it stood in for missing inputs, in the order the
/// report lists them. `report` words each.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerNote {
    /// The trace, rules, costs and cooling are the first site's of several.
    FirstSiteOf { site: String, sites: usize },
    /// `job` of the site's `installed` GPUs run the job; the rest are spares at idle.
    Spares { job: u64, installed: u64 },
    /// `[power] step_time / compute_fraction / comm_activity` are set but the step model gives
    /// the step.
    SyntheticStepUnused,
    /// The synthetic step of `[power]` stands in.
    SyntheticStep,
    /// No timeline: steady training.
    SteadyRun,
    /// No climate matched the site; memphis stands in.
    ClimateFallback,
    /// The step model could not give the step.
    StepModel(StepIssue),
    /// The multi-site model could not place the job (its error's text); the first site's job
    /// alone stands in.
    MultiSiteFailed(String),
    /// The configured strategy cannot run the job (its reason); the first site's job alone.
    MultiSiteInfeasible {
        strategy: String,
        note: multisite::Note,
    },
    /// The first site's DiLoCo replica cannot run the layout; the first site's job alone.
    ReplicaFailed(multisite::ReplicaIssue),
    /// A synchronous multi-site job: the whole job's step in one site plus the exposed
    /// cross-site synchronisation.
    MultiSiteStep {
        gpus: u64,
        sites: usize,
        strategy: String,
        single_site_step_s: f64,
        wait_s: f64,
    },
    /// A DiLoCo job: the first site's replica on its share of the batch; the outer
    /// synchronisation every `inner_steps` is not in the shape.
    DilocoReplica { strategy: String, inner_steps: u32 },
    /// The site's generation follows the load (its grid is short of the peak, or it is
    /// islanded): the mitigation search, which sizes grid-code mitigations, is not run.
    SolveNotApplicable { islanded: bool },
}

/// The step a site of a multi-site job repeats, from the multi-site model. Synchronous
/// strategies (`dp`, `pipeline`): the whole job's step with every GPU in one site, then the
/// exposed cross-site synchronisation as one wait at communication activity before the optimizer
/// (for `pipeline` the cross-site latency per microbatch is gathered there too). DiLoCo
/// strategies: the first site's replica on its share of the batch; the outer synchronisation
/// every H inner steps is left out of the shape and said so. `None` (with a note) when the
/// multi-site model cannot place the job; the first site's job alone then stands in.
fn multisite_shape(pl: &Pipeline, notes: &mut Vec<PowerNote>) -> Option<power::StepShape> {
    use spec::sync::Strategy;
    let s = pl.scenario();
    let prep = match pl.multisite_basis() {
        Ok(p) => p,
        Err(e) => {
            notes.push(PowerNote::MultiSiteFailed(match e {
                Error::Input(e) if e.path.is_empty() => e.message,
                Error::Input(e) => format!("field `{}`: {}", e.path, e.message),
                Error::Model(m) => m,
            }));
            return None;
        }
    };
    let strategy = prep.sync.strategy;
    match strategy {
        Strategy::Dp | Strategy::Pipeline => {
            let o = multisite::strategy::evaluate(&prep.graph, &prep.basis, &prep.sync, strategy);
            if !o.feasible {
                notes.push(PowerNote::MultiSiteInfeasible {
                    strategy: o.name.clone(),
                    note: o.note.clone(),
                });
                return None;
            }
            let mut shape = bind::step_shape(&prep.profile, 1.0);
            let wait = o.wait_beyond_one_site_s(&prep.basis);
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
            notes.push(PowerNote::MultiSiteStep {
                gpus: prep.basis.gpus,
                sites: s.sites.len(),
                strategy: o.name.clone(),
                single_site_step_s: prep.basis.step_s,
                wait_s: wait,
            });
            Some(shape)
        }
        Strategy::Diloco | Strategy::StreamingDiloco => {
            let site = bind::site_gpus(&s.sites[0]);
            match prep.replica_profile(site, prep.basis.gpus) {
                Ok((p, scale)) => {
                    notes.push(PowerNote::DilocoReplica {
                        strategy: strategy.name().into(),
                        inner_steps: prep.sync.inner_steps,
                    });
                    Some(bind::step_shape(&p, scale))
                }
                Err(why) => {
                    notes.push(PowerNote::ReplicaFailed(why));
                    None
                }
            }
        }
    }
}

/// The step shape from the step model: `None` (with a note) when the scenario has no job or the
/// step model cannot give one; the power section then uses the synthetic shape.
fn step_shape(pl: &Pipeline, notes: &mut Vec<PowerNote>) -> Option<power::StepShape> {
    let s = pl.scenario();
    if s.job.is_none() {
        notes.push(PowerNote::StepModel(StepIssue::NoJob));
        return None;
    }
    let shape = if s.sites.len() > 1 {
        multisite_shape(pl, notes)
    } else {
        None
    };
    // A job the step model cannot run is that section's error to report; the power study goes
    // on with the synthetic shape and says why.
    let shape = match shape {
        Some(x) => x,
        None => match pl.step() {
            Ok(Some(t)) => bind::step_shape(&t.profile, 1.0),
            Ok(None) => {
                notes.push(PowerNote::StepModel(StepIssue::NoJob));
                return None;
            }
            Err(Error::Input(e)) if e.message.starts_with(crate::NO_LAYOUT) => {
                notes.push(PowerNote::StepModel(StepIssue::NoLayout));
                return None;
            }
            Err(e) => {
                notes.push(PowerNote::StepModel(StepIssue::Invalid(match e {
                    Error::Input(e) => format!("{}: {}", e.path, e.message),
                    Error::Model(m) => m,
                })));
                return None;
            }
        },
    };
    if shape.is_valid() {
        Some(shape)
    } else {
        notes.push(PowerNote::StepModel(StepIssue::BadShape));
        None
    }
}

/// The study input of site `i` with the given step and run.
fn input(
    pl: &Pipeline,
    i: usize,
    step: power::StepShape,
    step_source: &str,
    run: Vec<power::RunInterval>,
) -> power::Input {
    use power::draw::defaults as dd;
    let s = pl.scenario();
    power::Input {
        site: bind::power_site(s, i, pl.placement()),
        step,
        step_source: step_source.into(),
        run,
        window_s: s.power.window_s.unwrap_or(dd::WINDOW_S),
        resolution_s: s.power.resolution_s.unwrap_or(dd::RESOLUTION_S),
        code: bind::grid_code(&s.power.grid_code),
        mitigation: bind::mitigation(s, i),
        prices: bind::prices(s, i, pl.plan().tco_usd_per_gpu_hour),
        climates: s.power.climates.iter().map(bind::climate).collect(),
        connection: bind::connection(s, i),
    }
}

pub(crate) fn power(pl: &Pipeline) -> Result<Power, Error> {
    let s = pl.scenario();
    let mut step_notes = vec![];
    let step = step_shape(pl, &mut step_notes);
    let run: Vec<power::RunInterval> = pl
        .timeline()?
        .intervals
        .iter()
        .map(bind::run_interval)
        .collect();
    pl.start(Stage::Power);
    let mut notes = vec![];
    if s.sites.len() > 1 {
        notes.push(PowerNote::FirstSiteOf {
            site: s.sites[0].name.clone(),
            sites: s.sites.len(),
        });
    }
    let (job, installed) = (pl.placement().site_gpus(0), bind::site_gpus(&s.sites[0]));
    if job < installed {
        notes.push(PowerNote::Spares { job, installed });
    }
    let p = &s.power;
    if step.is_some()
        && (p.step_time_s.is_some() || p.compute_fraction.is_some() || p.comm_activity.is_some())
    {
        notes.push(PowerNote::SyntheticStepUnused);
    }
    let (step, step_source) = match step {
        Some(st) => (st, "step model"),
        None => {
            notes.push(PowerNote::SyntheticStep);
            (bind::synthetic_step(s), "synthetic")
        }
    };
    if run.is_empty() {
        notes.push(PowerNote::SteadyRun);
    }
    if s.sites[0].climate_fallback {
        notes.push(PowerNote::ClimateFallback);
    }
    // The step model's notes go right after the note on the step shape they explain.
    let at = notes
        .iter()
        .position(|n| *n == PowerNote::SyntheticStep)
        .map_or(0, |i| i + 1);
    notes.splice(at..at, step_notes);
    let setup = power::site::setup(input(pl, 0, step.clone(), step_source, run.clone()))
        .map_err(|m| s.error_at("power", m))?;
    let solve = match pl.options().solve {
        Solve::Never => false,
        Solve::Always => true,
        Solve::WhenUnmitigated => setup.inputs.mitigation.is_none(),
    };
    let solve = if solve && !power::solve::applies(&setup.inputs) {
        notes.push(PowerNote::SolveNotApplicable {
            islanded: setup.inputs.connection.islanded(),
        });
        false
    } else {
        solve
    };
    let (study, traces) = power::study(&setup, solve, pl.options().traces, &|d, t| {
        pl.advance(Stage::Power, d, t)
    });
    // Every site against its own grid connection: the first site's step shape and run states
    // (a job that spans sites steps in lock-step under synchronous data parallelism, and a
    // restart anywhere stalls every site); the `[power]` mitigations apply at every site, each
    // site keeps its own battery, generation, cooling, climate and electricity price.
    let mut sites = vec![];
    if s.sites.len() > 1 {
        pl.start(Stage::PowerSites);
        for i in 0..s.sites.len() {
            let st = power::site::setup(input(pl, i, step.clone(), step_source, run.clone()))
                .map_err(|m| s.error_at("power", m))?;
            sites.push(SiteStudy {
                study: power::study(&st, false, false, &|_, _| {}).0,
                climate_fallback: s.sites[i].climate_fallback,
            });
            pl.advance(Stage::PowerSites, i as u64 + 1, s.sites.len() as u64);
        }
    }
    Ok(Power {
        setup,
        study,
        traces,
        notes,
        sites,
    })
}
