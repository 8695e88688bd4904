//! `megacluster simulate [scenario] --replicas N [--events FILE.csv]`: the reliability Monte Carlo.

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
    // main run, 7 interval candidates and one spare-count run
    let total = replicas + 8 * rec_replicas;
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
    bar.finish_and_clear();
    if let Some(path) = &args.events {
        let rec = sim::timeline(&p, 0);
        std::fs::write(path, report::simulate::events_csv(&rec.events)).map_err(|e| {
            CliError::input(format!("cannot write events to {}: {e}", path.display()))
        })?;
    }
    Ok(super::first_site_scope(
        with_step_source(report::simulate::section(&summary), step_source),
        &s,
    ))
}

/// Say where the step time came from, in text and JSON.
fn with_step_source(mut sec: report::Section, source: &str) -> report::Section {
    sec.text.push_str(&format!("  Step time from: {source}\n"));
    if let serde_json::Value::Object(m) = &mut sec.json {
        m.insert("step_time_source".into(), source.into());
    }
    sec
}

/// The reliability section of `megacluster run`: a modest replica count, no progress bar.
/// Also returns the charts for the HTML report.
pub fn section(
    s: &spec::Scenario,
    path: Option<&std::path::Path>,
) -> Result<(report::Section, Vec<report::html::Figure>), CliError> {
    let (p, opts, step_source) = super::sim_params(s, path)?;
    let replicas = opts.replicas.min(64);
    let results = sim::monte::results(&p, replicas, &|| {});
    let mut summary = sim::monte::summarize(&p, &results);
    summary.recommendation = Some(sim::monte::recommend(&p, &summary, 8, opts.target, &|| {}));
    let ettr: Vec<f64> = results.iter().map(|r| r.ettr).collect();
    let figures = report::simulate::figures(&summary, &ettr);
    Ok((
        super::first_site_scope(
            with_step_source(report::simulate::section(&summary), step_source),
            s,
        ),
        figures,
    ))
}
