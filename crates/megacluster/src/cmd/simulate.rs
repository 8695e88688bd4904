//! `megacluster simulate [scenario] --replicas N [--events FILE.csv] [--designs all|LIST]`: the
//! reliability Monte Carlo, and the recovery designs side by side.

use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
    /// Monte Carlo replicas (default: `[reliability] replicas`, else 200).
    #[arg(long)]
    pub replicas: Option<u64>,
    /// Write replica 0's event log to this CSV file.
    #[arg(long, value_name = "FILE.csv")]
    pub events: Option<PathBuf>,
    /// Share of runs the recommendations must hold for (default: `[reliability] target`, else 0.95).
    #[arg(long)]
    pub target: Option<f64>,
    /// Compare recovery designs side by side: `all` (the default when the flag has no value) or a
    /// comma-separated list of restart, hot-spare, partial-restart, elastic-dp, in-memory
    /// (default: `[reliability] designs`).
    #[arg(long, value_name = "all|LIST", num_args = 0..=1, default_missing_value = "all")]
    pub designs: Option<String>,
}

/// The goodput the recommended design must keep when `[reliability] goodput_target` is absent: the
/// reliability owner's question, "which design keeps a 1M-GPU job above 90 %" (A).
pub const DEFAULT_GOODPUT_TARGET: f64 = 0.90;

/// The designs asked for by `--designs`, else by the scenario.
fn designs_asked(flag: Option<&str>, s: &spec::Scenario) -> Result<Vec<sim::Design>, CliError> {
    match flag {
        None => Ok(sim::designs::requested_designs(s.reliability.as_ref())),
        Some("all") => Ok(sim::Design::ALL.to_vec()),
        Some(list) => list
            .split(',')
            .map(|n| {
                sim::Design::parse(n.trim()).ok_or_else(|| {
                    CliError::input(format!(
                        "--designs: unknown design `{}`; designs: all, {}",
                        n.trim(),
                        sim::Design::ALL.map(|d| d.name()).join(", ")
                    ))
                })
            })
            .collect(),
    }
}

/// The designs compared at the plan's TCO per GPU-hour.
fn comparison(
    s: &spec::Scenario,
    path: Option<&std::path::Path>,
    p: &sim::Params,
    designs: &[sim::Design],
    replicas: u64,
    target: f64,
    on_done: &(dyn Fn() + Sync),
) -> Result<sim::designs::Comparison, CliError> {
    let price = plan::plan(s).tco_usd_per_gpu_hour;
    let goal = s
        .reliability
        .as_ref()
        .and_then(|r| r.goodput_target)
        .unwrap_or(DEFAULT_GOODPUT_TARGET);
    sim::designs::compare(p, designs, replicas, price, target, goal, on_done).map_err(|e| {
        let rel = s.reliability.clone().unwrap_or_default();
        super::spec_error(path, rel.err(&e.field, e.message))
    })
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let s = common.scenario(args.scenario.as_deref())?;
    let (p, opts, step_source) = super::sim_params(&s, args.scenario.as_deref())?;
    let replicas = args.replicas.unwrap_or(opts.replicas);
    if replicas == 0 {
        return Err(CliError::input("--replicas must be at least 1"));
    }
    let target = args.target.unwrap_or(opts.target);
    if !(target > 0.0 && target < 1.0) {
        return Err(CliError::input(format!(
            "--target must lie strictly between 0 and 1 (e.g. 0.95), got {target}"
        )));
    }
    let rec_replicas = (replicas / 4).clamp(16, 200);
    let designs = designs_asked(args.designs.as_deref(), &s)?;
    // main run, 7 interval candidates and one spare-count run, and the designs
    let total = replicas + 8 * rec_replicas + designs.len() as u64 * replicas;
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} simulating replicas {bar:40} {pos}/{len} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let tick = || bar.inc(1);
    let mut summary = sim::monte::run(&p, replicas, &tick);
    summary.recommendation = Some(sim::monte::recommend(
        &p,
        &summary,
        rec_replicas,
        target,
        &tick,
    ));
    let compared = if designs.is_empty() {
        None
    } else {
        Some(comparison(
            &s,
            args.scenario.as_deref(),
            &p,
            &designs,
            replicas,
            target,
            &tick,
        )?)
    };
    bar.finish_and_clear();
    if let Some(path) = &args.events {
        let rec = sim::timeline(&p, 0);
        std::fs::write(path, report::simulate::events_csv(&rec.events)).map_err(|e| {
            CliError::input(format!("cannot write events to {}: {e}", path.display()))
        })?;
    }
    let mut sec = with_step_source(report::simulate::section(&summary), step_source);
    if let Some(c) = &compared {
        sec = report::simulate::with_designs(sec, c);
    }
    Ok(super::first_site_scope(sec, &s))
}

/// Say where the step time came from, in text and JSON.
fn with_step_source(mut sec: report::Section, source: &str) -> report::Section {
    sec.text.push_str(&format!("  Step time from: {source}\n"));
    if let serde_json::Value::Object(m) = &mut sec.json {
        m.insert("step_time_source".into(), source.into());
    }
    sec
}

/// GPU counts of the goodput chart (10k → 1M).
pub const SWEEP_GPUS: [u64; 6] = [10_000, 30_000, 100_000, 300_000, 600_000, 1_000_000];
/// Runs per point of the goodput chart.
pub const SWEEP_REPLICAS: u64 = 12;

/// The reliability section of `megacluster run`: a modest replica count, no progress bar.
/// Also returns the charts for the HTML report (with `charts`, goodput against GPU count per design).
pub fn section(
    s: &spec::Scenario,
    path: Option<&std::path::Path>,
    charts: bool,
) -> Result<(report::Section, Vec<report::html::Figure>), CliError> {
    let (p, opts, step_source) = super::sim_params(s, path)?;
    let replicas = opts.replicas.min(64);
    let results = sim::monte::results(&p, replicas, &|| {});
    let mut summary = sim::monte::summarize(&p, &results);
    summary.recommendation = Some(sim::monte::recommend(&p, &summary, 8, opts.target, &|| {}));
    let ettr: Vec<f64> = results.iter().map(|r| r.ettr).collect();
    let mut figures = report::simulate::figures(&summary, &ettr);
    if charts {
        let sweeps = sim::designs::sweep(&p, &SWEEP_GPUS, &sim::Design::ALL, SWEEP_REPLICAS)
            .map_err(|e| {
                let rel = s.reliability.clone().unwrap_or_default();
                super::spec_error(path, rel.err(&e.field, e.message))
            })?;
        figures.push(report::simulate::sweep_figure(&sweeps));
    }
    let mut sec = with_step_source(report::simulate::section(&summary), step_source);
    let designs = sim::designs::requested_designs(s.reliability.as_ref());
    if !designs.is_empty() {
        let c = comparison(s, path, &p, &designs, replicas, opts.target, &|| {})?;
        sec = report::simulate::with_designs(sec, &c);
    }
    Ok((super::first_site_scope(sec, s), figures))
}
