//! megacluster for Python: the extension module `megacluster._core` (PyO3), wrapped by the pure
//! Python package in `python/megacluster`. It exposes the library, not the CLI: a scenario's
//! sections through the pipeline, as the same JSON the CLI prints with `--json`, and sweeps
//! through the `sweep` crate as typed columns. Rust computes with the GIL released.
//!
//! Built only with the `python` feature (maturin sets it), so the workspace's tests do not need
//! PyO3 or a Python.

#[cfg(feature = "python")]
mod module;

/// Which whole or partial report a call asks for; each is the CLI command of the same name.
#[derive(Clone, Debug, PartialEq)]
pub enum Section {
    Run,
    Plan,
    Train,
    Search {
        top: usize,
        by_cost: bool,
    },
    Simulate {
        replicas: Option<u64>,
        target: Option<f64>,
    },
    Power {
        solve: bool,
    },
    Multisite,
}

/// A scenario error or a model's failure, for the Python exception.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    Input(spec::SpecError),
    /// A problem with the call itself (an argument), or what the CLI says for a missing section.
    Usage(String),
    Model(String),
}

impl From<pipeline::Error> for Failure {
    fn from(e: pipeline::Error) -> Failure {
        match e {
            pipeline::Error::Input(e) => Failure::Input(e),
            pipeline::Error::Model(m) => Failure::Model(m),
        }
    }
}

impl From<spec::SpecError> for Failure {
    fn from(e: spec::SpecError) -> Failure {
        Failure::Input(e)
    }
}

/// The pipeline options each CLI command runs with (`crates/megacluster/src/cmd/*.rs`).
pub fn options(s: &Section) -> pipeline::Options {
    let report = pipeline::Options::report();
    match s {
        Section::Run => report::run::options(false),
        Section::Simulate { replicas, target } => pipeline::Options {
            depth: pipeline::Depth::Full,
            replicas: *replicas,
            target: *target,
            ..report
        },
        Section::Power { solve } => pipeline::Options {
            solve: if *solve {
                pipeline::Solve::Always
            } else {
                pipeline::Solve::Never
            },
            traces: false,
            ..report
        },
        _ => report,
    }
}

/// The section's JSON, as `megacluster <command> --json` prints it.
pub fn section_json(scenario: &spec::Scenario, s: &Section) -> Result<serde_json::Value, Failure> {
    let p = pipeline::Pipeline::with_options(scenario.clone(), options(s));
    let sec = match s {
        Section::Run => return Ok(report::run::report(&p, false)?.0.json()),
        Section::Plan => report::plan::section(p.plan()),
        Section::Train => report::run::train(&p)?.ok_or_else(|| {
            Failure::Usage("job: the scenario has no [job] section to train".into())
        })?,
        Section::Search { top, by_cost } => {
            if scenario.job.is_none() {
                return Err(Failure::Usage(
                    "job: the scenario has no [job] section to search layouts for".into(),
                ));
            }
            if *top == 0 {
                return Err(Failure::Usage("top must be at least 1".into()));
            }
            let (r, setup) = p.search(*top, *by_cost)?;
            report::train::search_section(
                &r,
                *by_cost,
                setup.cluster.gpus,
                &setup.workload.model.name,
            )
        }
        Section::Simulate { replicas, target } => {
            if *replicas == Some(0) {
                return Err(Failure::Usage("replicas must be at least 1".into()));
            }
            if let Some(t) = target {
                if !(*t > 0.0 && *t < 1.0) {
                    return Err(Failure::Usage(format!(
                        "target must lie strictly between 0 and 1 (e.g. 0.95), got {t}"
                    )));
                }
            }
            // with the recovery designs of `[reliability] designs`, as `megacluster simulate`
            let mut sec = report::simulate::of(p.reliability()?);
            if let Some(c) = p.designs()? {
                sec = report::simulate::with_designs(sec, c);
            }
            report::with_scope(sec, p.scope().as_ref())
        }
        Section::Power { .. } => report::power::section(p.power()?),
        Section::Multisite => {
            p.multisite_basis()?;
            let m = p.multisite()?.ok_or_else(|| {
                Failure::Model("no multi-site section for a one-site scenario".into())
            })?;
            report::multisite::section(&m.analysis)
        }
    };
    Ok(sec.json)
}

/// Every replica of the reliability section (as `simulate` runs it), one JSON object each.
pub fn replicas_json(
    scenario: &spec::Scenario,
    replicas: Option<u64>,
) -> Result<serde_json::Value, Failure> {
    let p = pipeline::Pipeline::with_options(
        scenario.clone(),
        options(&Section::Simulate {
            replicas,
            target: None,
        }),
    );
    let r = p.reliability()?;
    Ok(serde_json::json!(r
        .replicas
        .iter()
        .enumerate()
        .map(|(i, x)| serde_json::json!({
            "replica": i,
            "wall_s": x.wall_s,
            "useful_s": x.useful_s,
            "ettr": x.ettr,
            "unexpected_interruptions": x.unexpected_interruptions,
            "planned_interruptions": x.planned_interruptions,
            "failures": x.failures,
            "exposure_s": x.exposure_s,
            "peak_nodes_in_repair": x.peak_nodes_in_repair,
        }))
        .collect::<Vec<_>>()))
}

/// The power section's traces (the scenario's mitigations, and the solver's when `solve`):
/// each sample's start time, the grid import raw and with the mitigations (and the solver's), W.
pub fn power_trace(
    scenario: &spec::Scenario,
    solve: bool,
) -> Result<Vec<(String, Vec<f64>)>, Failure> {
    let p = pipeline::Pipeline::with_options(
        scenario.clone(),
        pipeline::Options {
            traces: true,
            ..options(&Section::Power { solve })
        },
    );
    let pw = p.power()?;
    let tr = pw
        .traces
        .as_ref()
        .ok_or_else(|| Failure::Model("the power section kept no trace".into()))?;
    let raw = &tr.scenario.raw_grid;
    let n = raw.w.len();
    let mut cols = vec![
        (
            "t_s".to_string(),
            (0..n).map(|i| raw.t0_s + i as f64 * raw.dt_s).collect(),
        ),
        ("raw_w".to_string(), raw.w.clone()),
        ("mitigated_w".to_string(), tr.scenario.grid.w.clone()),
    ];
    if let Some(s) = &tr.solved {
        cols.push(("solved_w".to_string(), s.grid.w.clone()));
    }
    Ok(cols)
}
