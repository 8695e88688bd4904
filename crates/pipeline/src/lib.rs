//! The one entry point of megacluster's models: a resolved scenario bound to each model's plain
//! inputs, the glue between models, and the chain evaluated once.
//!
//! [`Pipeline::new`] takes a resolved [`spec::Scenario`]; each section is computed the first time
//! it is asked for and kept: [`Pipeline::plan`], [`Pipeline::step`] (the step model and its layout
//! search), [`Pipeline::reliability`] (the Monte Carlo), [`Pipeline::designs`] (the recovery
//! designs side by side at the plan's TCO per GPU-hour), [`Pipeline::timeline`] (replica 0's run,
//! for the power model), [`Pipeline::power`] (the power study of every site) and
//! [`Pipeline::multisite`] (the cross-site strategies). A section that needs another reads the
//! kept one, so `run` evaluates the layout search once however many sections use its profile.
//!
//! The glue lives here and nowhere else:
//! - where the job runs ([`bind::Placement`], one rule for the step model, the reliability
//!   timeline, the power model and the multi-site model);
//! - step profile → reliability: the step time and the work (the step model's tokens per step),
//!   and the size of a data-parallel replica (the layout's GPUs ÷ dp) for the recovery designs;
//! - plan → reliability: the TCO per GPU-hour that prices the recovery designs;
//! - step profile and timeline → power: the step's phases and pipeline stages, the run's states;
//! - multi-site step → power: a synchronous job's cross-site wait as a phase;
//! - reliability → multi-site: each failure domain's closed-form goodput under the recovery design.
//!
//! No printing and no terminal: progress goes to the callback given to [`Pipeline::with_progress`];
//! `report` words and formats everything. The same scenario and options give the same values
//! whatever the thread count.
//!
//! Architecture invariant: no formula of its own; conversions, choices between inputs, and calls.

pub mod bind;
mod campus;
mod power_glue;
mod setup;

pub use bind::Placement;
pub use campus::Goodput;
pub use power_glue::{PowerNote, StepIssue};
pub use setup::{setup, Setup, SetupError};

use perf::{profile, search, SearchResult, Space, StepProfile, Workload};
use serde::Serialize;
use spec::{Scenario, SpecError};
use std::sync::OnceLock;

/// The step profile a job's setup runs with: its fixed layout (checked, errors name the field),
/// or for `parallelism = "auto"` the fastest layout that fits (the global batch rounded to the
/// nearest multiple of dp × microbatch). `Ok(None)` when no layout is valid.
pub fn best_profile(
    s: &Setup,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Option<(StepProfile, Workload, Option<SearchResult>)>, SetupError> {
    Ok(best_profile_or_search(s, progress)?.ok())
}

/// [`best_profile`], with the search's counts (why nothing fits) when no layout does.
#[allow(clippy::type_complexity)]
pub fn best_profile_or_search(
    s: &Setup,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Result<(StepProfile, Workload, Option<SearchResult>), SearchResult>, SetupError> {
    match &s.fixed {
        Some(cfg) => {
            let p = profile(&s.workload, &s.cluster, cfg)
                .map_err(|e| nearest_batch(e, &s.workload, cfg))?;
            Ok(Ok((p, s.workload.clone(), None)))
        }
        None => {
            let mut sp = Space::new(&s.cluster);
            sp.top_k = 5;
            let r = search(&s.workload, &s.cluster, &sp, progress);
            let Some(best) = r.top.first() else {
                return Ok(Err(r));
            };
            let mut w = s.workload.clone();
            w.global_batch_seqs = best.global_batch_seqs;
            let p = profile(&w, &s.cluster, &best.config)?;
            Ok(Ok((p, w, Some(r))))
        }
    }
}

/// A fixed layout needs the global batch to divide into dp × microbatch exactly (`"auto"` rounds
/// it to the nearest multiple itself): the step model's error then also names the nearest batches
/// that do, in sequences and tokens.
fn nearest_batch(e: perf::Invalid, w: &Workload, cfg: &perf::Config) -> SetupError {
    let per = cfg.dp as u64 * cfg.microbatch as u64;
    let seqs = w.global_batch_seqs;
    let mut err = SetupError::from(e);
    if err.field != "job.parallelism.microbatch" || per == 0 || seqs % per == 0 {
        return err;
    }
    let lo = seqs / per * per;
    let hi = lo + per;
    let tokens = |n: u64| n as f64 * w.seq as f64;
    let near = if lo == 0 {
        format!("{hi} sequences ({} tokens)", tokens(hi))
    } else {
        format!(
            "{lo} sequences ({} tokens) or {hi} ({} tokens)",
            tokens(lo),
            tokens(hi)
        )
    };
    err.message = format!(
        "{}; the nearest global batches that divide: {near} (parallelism = \"auto\" rounds to the nearest itself)",
        err.message
    );
    err
}

/// Why a search found no layout: the layouts over the memory, and the invalid ones by the
/// `[job.parallelism]` field at fault, largest first.
pub fn no_layout_reason(r: &SearchResult) -> String {
    let mut by: Vec<(&String, &u64)> = r.invalid_by_field.iter().collect();
    by.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let fields = by
        .iter()
        .map(|(f, n)| format!("{f} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    if r.evaluated == 0 {
        "the search had no layout to try".into()
    } else if r.unfit > 0 {
        format!(
            "fits in memory: {} of the {} layouts tried are valid but need more memory than a GPU has; {} break a parallelism rule{}",
            r.unfit,
            r.evaluated,
            r.invalid,
            if fields.is_empty() { String::new() } else { format!(" (by field: {fields})") }
        )
    } else {
        format!(
            "is valid: all {} layouts tried break a parallelism rule (by field: {fields})",
            r.evaluated
        )
    }
}

/// How the step section's error starts when no layout of the job fits.
const NO_LAYOUT: &str = "no parallel layout";

/// A section's error: an input problem located in the scenario (exit code 2), or a model that
/// returned something it must not (exit code 1).
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    Input(SpecError),
    Model(String),
}

impl From<SpecError> for Error {
    fn from(e: SpecError) -> Error {
        Error::Input(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Input(e) => write!(f, "{e}"),
            Error::Model(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

/// What a section is doing, for a progress display.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    Plan,
    /// The step model's layout search of the job (the first site's).
    LayoutSearch,
    /// The layout search of the whole job in one site, the multi-site comparison's basis.
    MultiSiteLayoutSearch,
    Reliability,
    /// The recovery designs side by side; `done`/`total` count their replicas.
    Designs,
    Timeline,
    /// The power study; `done`/`total` count the mitigation candidates when it solves.
    Power,
    /// One study per site of a multi-site scenario.
    PowerSites,
    MultiSite,
}

/// A progress event: a stage starts, or `done` of its `total` steps are finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Start(Stage),
    Advance { stage: Stage, done: u64, total: u64 },
}

/// How much of the reliability Monte Carlo to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// For a whole report: at most 64 replicas, 8 per recommendation candidate.
    Report,
    /// As asked (else `[reliability] replicas`, else 200), a quarter of that (16–200) per
    /// recommendation candidate.
    Full,
}

/// When the power study also searches the cheapest passing mitigations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Solve {
    Never,
    /// When the scenario sets no mitigation (a report then charts raw against the solver's set).
    WhenUnmitigated,
    Always,
}

/// What the sections evaluate beyond the scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub depth: Depth,
    /// Monte Carlo replicas; `None`: `[reliability] replicas`, else the model's default.
    pub replicas: Option<u64>,
    /// Share of runs the recommendations hold for; `None`: `[reliability] target`, else 0.95.
    pub target: Option<f64>,
    pub solve: Solve,
    /// Keep the power traces (for charts).
    pub traces: bool,
    /// Run the reliability section's recommendations (checkpoint interval, standbys): 8 more
    /// Monte Carlo runs. A sweep that reads only the summary turns them off.
    pub recommend: bool,
    /// Compare the site's cooling design in every climate preset (the power section's climate
    /// table). A sweep that reads only the headline figures turns it off.
    pub climates: bool,
    /// Recovery designs to compare side by side; `None`: `[reliability] designs`.
    pub designs: Option<Vec<spec::reliability::RecoveryDesign>>,
}

impl Options {
    /// A whole report's sections, with the traces for its charts.
    pub fn report() -> Options {
        Options {
            depth: Depth::Report,
            replicas: None,
            target: None,
            solve: Solve::WhenUnmitigated,
            traces: true,
            recommend: true,
            climates: true,
            designs: None,
        }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options::report()
    }
}

/// The step model's answer for the job.
#[derive(Clone, Debug)]
pub struct Trained {
    pub profile: StepProfile,
    /// The workload the layout runs (its global batch rounded to the layout).
    pub workload: Workload,
    pub cluster: perf::Cluster,
    /// The layout search, for `parallelism = "auto"`.
    pub search: Option<SearchResult>,
    /// GPUs of the job's accelerator installed at the job's site (the job may use fewer).
    pub installed_gpus: u64,
    /// `[job] global_batch` as written, in tokens.
    pub requested_batch_tokens: f64,
    /// The job's accelerator.
    pub accelerator: String,
}

/// Where the reliability model's step time came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepSource {
    /// `[reliability] step_time`.
    Given,
    StepModel,
    /// 6·N·tokens at the fallback MFU: the step model found no valid layout.
    Fallback,
    /// No job in the scenario.
    NoJob,
}

/// The reliability model's parameters and where their step time came from.
#[derive(Clone, Debug)]
pub struct ReliabilityParams {
    pub params: sim::Params,
    pub step_source: StepSource,
    /// Why the step model could not run the job, when the step time is the fallback's.
    pub fallback_reason: Option<String>,
    pub replicas: u64,
    pub target: f64,
}

/// The reliability section: the Monte Carlo's summary with its recommendations.
#[derive(Clone, Debug)]
pub struct Reliability {
    pub summary: sim::Summary,
    /// ETTR of each replica, in replica order (for the histogram).
    pub ettr_per_replica: Vec<f64>,
    /// Every replica's result, in replica order.
    pub replicas: Vec<sim::ReplicaResult>,
    pub step_source: StepSource,
    /// Why the step model could not run the job, when the step time is the fallback's (the
    /// training section's error, located).
    pub fallback_reason: Option<String>,
}

/// In a multi-site scenario the step model and the reliability timeline run the job on the first
/// site alone; where the whole job is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub first_site: String,
    pub first_site_gpus: u64,
    pub gpus: u64,
    pub sites: usize,
}

/// One site's power study.
#[derive(Clone, Debug)]
pub struct SiteStudy {
    pub study: power::Study,
    /// No climate preset matched the site; memphis stood in.
    pub climate_fallback: bool,
}

/// The power section: the first site's study (with its traces when kept), what the binding
/// assumed, and, for several sites, every site's study.
#[derive(Clone, Debug)]
pub struct Power {
    pub setup: power::Setup,
    pub study: power::Study,
    pub traces: Option<power::StudyTraces>,
    pub notes: Vec<PowerNote>,
    /// One study per site (several sites only), in the scenario's order.
    pub sites: Vec<SiteStudy>,
}

/// The multi-site section.
#[derive(Clone, Debug)]
pub struct MultiSite {
    /// Every strategy with its bandwidth needs, goodput and loss in dollars.
    pub analysis: multisite::Analysis,
}

type ProgressFn = Box<dyn Fn(Progress) + Send + Sync>;

/// A scenario's chain of models, each section evaluated once, on demand.
pub struct Pipeline {
    scenario: Scenario,
    options: Options,
    progress: ProgressFn,
    placement: OnceLock<Placement>,
    plan: OnceLock<plan::Plan>,
    step: OnceLock<Result<Option<Trained>, Error>>,
    reliability_params: OnceLock<Result<ReliabilityParams, Error>>,
    reliability: OnceLock<Result<Reliability, Error>>,
    designs: OnceLock<Result<Option<sim::designs::Comparison>, Error>>,
    timeline: OnceLock<Result<sim::Recording, Error>>,
    basis: OnceLock<Result<multisite::Prepared, Error>>,
    multisite: OnceLock<Result<Option<MultiSite>, Error>>,
    power: OnceLock<Result<Power, Error>>,
    programme: OnceLock<Option<plan::programme::Programme>>,
}

impl Pipeline {
    /// A pipeline with [`Options::report`] and no progress display.
    pub fn new(scenario: Scenario) -> Pipeline {
        Pipeline::with_options(scenario, Options::report())
    }

    pub fn with_options(scenario: Scenario, options: Options) -> Pipeline {
        Pipeline {
            scenario,
            options,
            progress: Box::new(|_| {}),
            placement: OnceLock::new(),
            plan: OnceLock::new(),
            step: OnceLock::new(),
            reliability_params: OnceLock::new(),
            reliability: OnceLock::new(),
            designs: OnceLock::new(),
            timeline: OnceLock::new(),
            basis: OnceLock::new(),
            multisite: OnceLock::new(),
            power: OnceLock::new(),
            programme: OnceLock::new(),
        }
    }

    /// Report progress to `f` (called from worker threads too).
    pub fn with_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Pipeline {
        self.progress = Box::new(f);
        self
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    fn start(&self, stage: Stage) {
        (self.progress)(Progress::Start(stage));
    }

    fn advance(&self, stage: Stage, done: u64, total: u64) {
        (self.progress)(Progress::Advance { stage, done, total });
    }

    /// Where the job runs (the one placement rule, [`Placement::of`]).
    pub fn placement(&self) -> &Placement {
        self.placement.get_or_init(|| Placement::of(&self.scenario))
    }

    /// The capacity and cost plan.
    pub fn plan(&self) -> &plan::Plan {
        self.plan.get_or_init(|| {
            self.start(Stage::Plan);
            plan::plan(&bind::plan_inputs(&self.scenario))
        })
    }

    /// For a multi-site scenario, where the job of the step and reliability sections runs.
    pub fn scope(&self) -> Option<Scope> {
        let s = &self.scenario;
        if s.sites.len() < 2 {
            return None;
        }
        Some(Scope {
            first_site: s.sites[0].name.clone(),
            first_site_gpus: bind::site_gpus(&s.sites[0]),
            gpus: s.sites.iter().map(bind::site_gpus).sum(),
            sites: s.sites.len(),
        })
    }

    /// The job's step setup (first site), errors located in the scenario.
    pub fn job_setup(&self) -> Result<Setup, Error> {
        setup(&self.scenario).map_err(|e| self.scenario.error_at(&e.field, e.message).into())
    }

    /// The step model's profile of the job: its fixed layout, or the fastest the layout search
    /// finds (searched once). `Ok(None)` without a job; an error when the layout is invalid or
    /// none fits.
    pub fn step(&self) -> Result<Option<&Trained>, Error> {
        self.step
            .get_or_init(|| self.compute_step())
            .as_ref()
            .map(|t| t.as_ref())
            .map_err(|e| e.clone())
    }

    fn compute_step(&self) -> Result<Option<Trained>, Error> {
        let s = &self.scenario;
        let Some(job) = &s.job else {
            return Ok(None);
        };
        let st = self.job_setup()?;
        if st.fixed.is_none() {
            self.start(Stage::LayoutSearch);
        }
        let tick = |done: u64, total: u64| self.advance(Stage::LayoutSearch, done, total);
        let r = best_profile_or_search(&st, &tick).map_err(|e| s.error_at(&e.field, e.message))?;
        let (profile, workload, search) = match r {
            Ok(x) => x,
            Err(r) => {
                return Err(s
                    .error_at(
                        "job.parallelism",
                        format!(
                        "{NO_LAYOUT} of {} on {} GPUs {} (searched with parallelism = \"auto\")",
                        st.workload.model.name,
                        st.cluster.gpus,
                        no_layout_reason(&r)
                    ),
                    )
                    .into())
            }
        };
        if !(profile.step_time_s.is_finite() && profile.step_time_s > 0.0) {
            return Err(Error::Model(
                "the step model returned a non-finite step time".into(),
            ));
        }
        Ok(Some(Trained {
            profile,
            workload,
            cluster: st.cluster,
            search,
            installed_gpus: st.installed_gpus,
            requested_batch_tokens: job.global_batch_tokens,
            accelerator: s.sites[0].halls[0].accelerator.name.clone(),
        }))
    }

    /// The layout search asked for by `megacluster search`: every valid layout of the job, the
    /// best `top_k` by tokens per second or, `by_cost`, by dollars per token (the plan's TCO per
    /// GPU-second without energy, plus the facility energy of a GPU at full activity). Not kept.
    pub fn search(&self, top_k: usize, by_cost: bool) -> Result<(SearchResult, Setup), Error> {
        let st = self.job_setup()?;
        let mut sp = Space::new(&st.cluster);
        sp.top_k = top_k;
        if by_cost {
            let p = self.plan();
            sp.objective = perf::Objective::Cost {
                fixed_usd_per_gpu_s: p.fixed_usd_per_gpu_s(),
                energy_usd_per_gpu_s_at_full_activity: p.energy_usd_per_gpu_s_at_full_activity(),
            };
        }
        self.start(Stage::LayoutSearch);
        let tick = |done: u64, total: u64| self.advance(Stage::LayoutSearch, done, total);
        let r = search(&st.workload, &st.cluster, &sp, &tick);
        Ok((r, st))
    }

    /// The reliability model's parameters: the step time from `[reliability] step_time`, else the
    /// step model, else 6·N·tokens at the fallback MFU; replicas and target from the options.
    pub fn reliability_params(&self) -> Result<&ReliabilityParams, Error> {
        self.reliability_params
            .get_or_init(|| self.compute_reliability_params())
            .as_ref()
            .map_err(|e| e.clone())
    }

    fn compute_reliability_params(&self) -> Result<ReliabilityParams, Error> {
        let s = &self.scenario;
        let rel = &s.reliability;
        // The step model's step and batch size the run (its step time and its work); a job the
        // step model cannot run is the step section's error, here the 6·N estimate stands in.
        let profile = match rel.step_time_s {
            Some(_) => None,
            None => self.step().ok().flatten().map(|t| &t.profile),
        };
        let (params, step_source) = bind::sim_params(s, self.placement(), profile)?;
        let fallback_reason = match (step_source, self.step()) {
            (StepSource::Fallback, Err(e)) => Some(e.to_string()),
            _ => None,
        };
        let configured = rel.replicas.unwrap_or(sim::input::DEFAULT_REPLICAS);
        let replicas = match self.options.depth {
            Depth::Report => configured.min(64),
            Depth::Full => self.options.replicas.unwrap_or(configured),
        };
        Ok(ReliabilityParams {
            params,
            step_source,
            fallback_reason,
            replicas,
            target: self
                .options
                .target
                .or(rel.target)
                .unwrap_or(sim::input::DEFAULT_TARGET),
        })
    }

    /// The reliability Monte Carlo and its recommendations.
    pub fn reliability(&self) -> Result<&Reliability, Error> {
        self.reliability
            .get_or_init(|| self.compute_reliability())
            .as_ref()
            .map_err(|e| e.clone())
    }

    fn compute_reliability(&self) -> Result<Reliability, Error> {
        let rp = self.reliability_params()?;
        let p = &rp.params;
        let rec_replicas = match self.options.depth {
            Depth::Report => 8,
            Depth::Full => (rp.replicas / 4).clamp(16, 200),
        };
        // the main run, 7 interval candidates and one spare-count run
        let recommend = self.options.recommend;
        let total = rp.replicas + if recommend { 8 * rec_replicas } else { 0 };
        self.start(Stage::Reliability);
        let done = std::sync::atomic::AtomicU64::new(0);
        let tick = || {
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            self.advance(Stage::Reliability, d, total);
        };
        // one pass: the recommendation's replicas share their runs with the main ones
        let (results, summary) = sim::monte::run_with_recommendation(
            p,
            rp.replicas,
            recommend.then_some(rec_replicas),
            rp.target,
            &tick,
        );
        Ok(Reliability {
            summary,
            ettr_per_replica: results.iter().map(|r| r.ettr).collect(),
            replicas: results,
            step_source: rp.step_source,
            fallback_reason: rp.fallback_reason.clone(),
        })
    }

    /// The recovery designs asked for ([`Options::designs`], else `[reliability] designs`) side by
    /// side on the reliability section's parameters (its step, work, replica size and seed), as
    /// many runs each as the reliability section, priced at the plan's TCO per GPU-hour; the
    /// recommendation holds for the reliability section's share of runs at `[reliability]
    /// goodput_target` (else [`sim::designs::DEFAULT_GOODPUT_TARGET`]). `Ok(None)` when no design
    /// is asked for.
    pub fn designs(&self) -> Result<Option<&sim::designs::Comparison>, Error> {
        self.designs
            .get_or_init(|| self.compute_designs())
            .as_ref()
            .map(|c| c.as_ref())
            .map_err(|e| e.clone())
    }

    fn compute_designs(&self) -> Result<Option<sim::designs::Comparison>, Error> {
        let s = &self.scenario;
        let asked = self.options.designs.as_ref();
        let designs: Vec<sim::Design> = asked
            .unwrap_or(&s.reliability.designs)
            .iter()
            .map(|&d| bind::design(d))
            .collect();
        if designs.is_empty() {
            return Ok(None);
        }
        let rp = self.reliability_params()?;
        let price = self.plan().tco_usd_per_gpu_hour;
        let goal = s
            .reliability
            .goodput_target
            .unwrap_or(sim::designs::DEFAULT_GOODPUT_TARGET);
        self.start(Stage::Designs);
        let total = designs.len() as u64 * rp.replicas;
        let done = std::sync::atomic::AtomicU64::new(0);
        let tick = || {
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            self.advance(Stage::Designs, d.min(total), total);
        };
        sim::designs::compare(
            &rp.params,
            &designs,
            rp.replicas,
            price,
            rp.target,
            goal,
            &tick,
        )
        .map(Some)
        .map_err(|e| bind::param_error(s, e).into())
    }

    /// Goodput against GPU count per recovery design: the reliability section's job scaled to each
    /// of `gpu_counts` at the same global batch ([`sim::designs::sweep`]), `replicas` runs a point.
    /// Not kept.
    pub fn designs_sweep(
        &self,
        gpu_counts: &[u64],
        replicas: u64,
    ) -> Result<Vec<sim::designs::Sweep>, Error> {
        let rp = self.reliability_params()?;
        sim::designs::sweep(&rp.params, gpu_counts, &sim::Design::ALL, replicas)
            .map_err(|e| bind::param_error(&self.scenario, e).into())
    }

    /// Replica 0's run (intervals and event log), the states the power model reads.
    pub fn timeline(&self) -> Result<&sim::Recording, Error> {
        self.timeline
            .get_or_init(|| {
                // the reliability section's own parameters: the same step, work and seed
                let p = &self.reliability_params()?.params;
                self.start(Stage::Timeline);
                Ok(sim::timeline(p, 0))
            })
            .as_ref()
            .map_err(|e| e.clone())
    }

    /// The multi-site basis: the whole job on every site's GPUs as if they were one site (the
    /// first site's fabric), the layout searched once at the job's own batch.
    pub fn multisite_basis(&self) -> Result<&multisite::Prepared, Error> {
        self.basis
            .get_or_init(|| self.compute_basis())
            .as_ref()
            .map_err(|e| e.clone())
    }

    fn compute_basis(&self) -> Result<multisite::Prepared, Error> {
        use spec::job::RawParallelism;
        let s = &self.scenario;
        let err = |field: &str, msg: String| -> Error { s.error_at(field, msg).into() };
        let g = bind::graph(s);
        if g.site_count() < 2 {
            return Err(err(
                "site",
                "multi-site training needs at least two [[site]]s joined by [[link]]s".into(),
            ));
        }
        let first = &s.sites[0].halls[0];
        for (i, site) in s.sites.iter().enumerate() {
            for (j, h) in site.halls.iter().enumerate() {
                if h.accelerator.name != first.accelerator.name {
                    return Err(err(
                        &format!("site[{i}].hall[{j}].system"),
                        format!(
                            "a multi-site job runs on one accelerator type: site {} has {}, site {} has {}",
                            s.sites[0].name, first.accelerator.name, site.name, h.accelerator.name
                        ),
                    ));
                }
            }
        }
        let sync = s.sync.clone().unwrap_or_default();
        let mut st = self.job_setup()?;
        let total = g.total_gpus();
        st.cluster = multisite::cluster_of_size(&st.cluster, total);
        if let (Some(cfg), Some(job)) = (st.fixed.as_mut(), s.job.as_ref()) {
            if let RawParallelism::Fixed(f) = &job.parallelism {
                if f.dp.is_none() {
                    let used = cfg.tp as u64 * cfg.pp as u64 * cfg.cp as u64;
                    if used == 0 || total % used != 0 {
                        return Err(err(
                            "job.parallelism.dp",
                            format!(
                                "dp = \"rest\" needs tp × pp × cp = {used} to divide the {total} GPUs of all sites"
                            ),
                        ));
                    }
                    cfg.dp = (total / used).min(u32::MAX as u64) as u32;
                }
            }
        }
        // "auto": the fastest layout at the job's own batch (the multi-site comparison is at the
        // scenario's batch; a layout that rounds it up would change the question), else the step
        // model's own choice with its batch rounding
        let exact = if st.fixed.is_none() {
            self.start(Stage::MultiSiteLayoutSearch);
            let mut sp = Space::new(&st.cluster);
            sp.top_k = 1;
            sp.batch = perf::BatchPolicy::Exact;
            let tick =
                |done: u64, total: u64| self.advance(Stage::MultiSiteLayoutSearch, done, total);
            let r = search(&st.workload, &st.cluster, &sp, &tick);
            r.top.first().and_then(|best| {
                let mut w = st.workload.clone();
                w.global_batch_seqs = best.global_batch_seqs;
                profile(&w, &st.cluster, &best.config).ok().map(|p| (p, w))
            })
        } else {
            None
        };
        let (prof, workload) = match exact {
            Some(x) => x,
            None => {
                if st.fixed.is_none() {
                    self.start(Stage::MultiSiteLayoutSearch);
                }
                let tick =
                    |done: u64, total: u64| self.advance(Stage::MultiSiteLayoutSearch, done, total);
                let (p, w, _) = best_profile(&st, &tick)
                    .map_err(|e| err(&e.field, e.message))?
                    .ok_or_else(|| {
                        err(
                            "job.parallelism",
                            "no parallel layout of this job fits the GPUs of all sites".into(),
                        )
                    })?;
                (p, w)
            }
        };
        let cfg = prof.config;
        // TP and expert groups never span sites (a searched layout can only pick TP inside the
        // scale-up domain; checked anyway)
        let smallest = g.sites.iter().map(|x| x.gpus).min().unwrap_or(0);
        if cfg.tp as u64 > smallest {
            return Err(err(
                "job.parallelism.tp",
                format!(
                    "tensor parallelism never spans sites: tp = {} is larger than the smallest site ({smallest} GPUs)",
                    cfg.tp
                ),
            ));
        }
        let ep_group = cfg.tp as u64 * cfg.cp as u64 * cfg.ep as u64;
        if cfg.ep > 1 && ep_group > smallest {
            return Err(err(
                "job.parallelism.ep",
                format!(
                    "expert parallelism never spans sites: tp × cp × ep = {ep_group} GPUs is larger than the smallest site ({smallest} GPUs)"
                ),
            ));
        }
        Ok(multisite::Prepared::new(
            g, sync, prof, workload, st.cluster,
        ))
    }

    /// Goodput of each failure domain from the reliability model's closed form of the scenario's
    /// recovery design ([`sim::designs::domain_goodput`]) for a job on all GPUs and for a job on
    /// each site alone, at the multi-site basis's step and with its layout's replicas. `None` when
    /// the reliability model cannot run.
    fn goodput(&self, p: &multisite::Prepared) -> Option<multisite::Goodput> {
        let mut rp = self.reliability_params_for_goodput(&p.profile)?;
        let step_s = p.basis.step_s;
        if step_s.is_finite() && step_s > 0.0 {
            rp.step_s = step_s;
        }
        let domain = |gpus: u64| match sim::designs::domain_goodput(&rp, gpus) {
            sim::formulas::ClosedForm::Value(v) => multisite::DomainGoodput::Value(v),
            sim::formulas::ClosedForm::DoesNotApply(why) => {
                multisite::DomainGoodput::DoesNotApply(why)
            }
        };
        Some(multisite::Goodput {
            whole_job: domain(p.graph.total_gpus()),
            per_site: p.graph.sites.iter().map(|x| domain(x.gpus)).collect(),
            preset: rp.preset.clone(),
            design: rp.containment.design.name().into(),
        })
    }

    /// The reliability parameters the goodput starts from: the closed form needs the failure
    /// rates, the restart chain, the checkpoint costs and the recovery design, and takes its step
    /// from the multi-site basis, whose layout (`basis`) sizes a data-parallel replica; the step
    /// model's profile of the first site's job is not asked for.
    fn reliability_params_for_goodput(&self, basis: &perf::StepProfile) -> Option<sim::Params> {
        let s = &self.scenario;
        let placement = self.placement();
        let (step_s, run, _) = bind::reliability_step(s, placement, None);
        let mut input = bind::sim_input(s, placement, step_s, run, None);
        input.containment.replica = bind::replica(s, Some(basis));
        sim::params(&input).ok()
    }

    /// The multi-site section: every cross-site strategy against the same GPUs in one site, with
    /// bandwidth needs, goodput and the loss in dollars. `Ok(None)` for one site.
    pub fn multisite(&self) -> Result<Option<&MultiSite>, Error> {
        self.multisite
            .get_or_init(|| {
                if self.scenario.sites.len() < 2 {
                    return Ok(None);
                }
                let p = self.multisite_basis()?;
                self.start(Stage::MultiSite);
                let gp = self.goodput(p);
                let a = multisite::analyse(p, gp.as_ref()).with_costs(
                    self.plan().tco_usd_per_year,
                    self.scenario.cost.depreciation_network.s(),
                );
                Ok(Some(MultiSite { analysis: a }))
            })
            .as_ref()
            .map(|m| m.as_ref())
            .map_err(|e| e.clone())
    }

    /// Efficiency over distance × capacity per link (every link alike) and site counts, from the
    /// kept basis ([`multisite::sweep`]). Not kept.
    pub fn multisite_sweep(
        &self,
        site_counts: &[usize],
        distances_m: &[f64],
        capacities_bits_per_s: &[f64],
    ) -> Result<Vec<multisite::SweepPoint>, Error> {
        let p = self.multisite_basis()?;
        Ok(multisite::sweep(
            p,
            site_counts,
            distances_m,
            capacities_bits_per_s,
        ))
    }

    /// Evaluates every section a whole report reads, the independent ones at the same time: the
    /// step first (its layout search is parallel inside), then the Monte Carlo and the recovery
    /// designs beside the power study (which reads replica 0's timeline, not the Monte Carlo) and
    /// the multi-site section. Each result is kept exactly as if its accessor had been called
    /// alone; an error stays with its section, for the accessor to return in report order.
    pub fn evaluate_report(&self) {
        if self.step().is_err() {
            return; // a report stops at the training section's error: nothing after it is read
        }
        if self.scenario.sites.len() > 1 {
            // the power study's step shape and the multi-site section both read the basis
            let _ = self.multisite_basis();
        }
        rayon::join(
            || {
                let _ = self.reliability();
                let _ = self.designs();
            },
            || {
                let _ = self.power();
                let _ = self.multisite();
            },
        );
    }

    /// Every check the commands make of the scenario, the first problem as its error: the job's
    /// layout (a fixed one checked, `"auto"` searched: no layout that fits is an error, as in
    /// `train`), the reliability model's parameters (as in `simulate`), each recovery design asked
    /// for, the multi-site basis of a scenario with several sites (as in `multisite`) and each
    /// site's power study setup (as in `power`). Evaluates the sections it needs and keeps them;
    /// runs no Monte Carlo beyond replica 0's timeline and no power study.
    pub fn check(&self) -> Result<(), Error> {
        let s = &self.scenario;
        self.step()?;
        let rp = self.reliability_params()?;
        for &d in &s.reliability.designs {
            sim::designs::with_design(&rp.params, bind::design(d))
                .check()
                .map_err(|e| bind::param_error(s, e))?;
        }
        if s.sites.len() > 1 {
            self.multisite_basis()?;
        }
        power_glue::check(self)
    }

    /// The power section: the first site's study (the step shape from the step model, the run's
    /// states from the reliability timeline), then, for several sites, one study per site.
    pub fn power(&self) -> Result<&Power, Error> {
        self.power
            .get_or_init(|| power_glue::power(self))
            .as_ref()
            .map_err(|e| e.clone())
    }

    /// The programme over the years (phases, capex by year, refresh, financing, rent versus
    /// own): `None` unless the scenario has a `[programme]` table or phases.
    pub fn programme(&self) -> Option<&plan::programme::Programme> {
        self.programme
            .get_or_init(|| campus::programme(self))
            .as_ref()
    }

    /// What the job's training run costs, without failures and stretched by `goodput`'s ETTR.
    /// `Ok(None)` without a job.
    pub fn run_cost(&self, goodput: Goodput) -> Result<Option<plan::run_cost::RunCost>, Error> {
        campus::run_cost(self, goodput)
    }
}
