//! `megacluster simulate [scenario] --replicas N [--events FILE.csv]`: the reliability Monte Carlo.

use super::progress::Bar;
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
    if args.replicas == Some(0) {
        return Err(CliError::input("--replicas must be at least 1"));
    }
    if let Some(t) = args.target {
        if !(t > 0.0 && t < 1.0) {
            return Err(CliError::input(format!(
                "--target must lie strictly between 0 and 1 (e.g. 0.95), got {t}"
            )));
        }
    }
    let options = pipeline::Options {
        depth: pipeline::Depth::Full,
        replicas: args.replicas,
        target: args.target,
        ..pipeline::Options::report()
    };
    let bar = Bar::now();
    let p = common
        .pipeline(args.scenario.as_deref(), options)?
        .with_progress(bar.callback());
    let r = p.reliability();
    bar.finish();
    let r = r?;
    if let Some(path) = &args.events {
        let rec = p.timeline()?;
        std::fs::write(path, report::simulate::events_csv(&rec.events)).map_err(|e| {
            CliError::input(format!("cannot write events to {}: {e}", path.display()))
        })?;
    }
    Ok(report::with_scope(
        report::simulate::of(r),
        p.scope().as_ref(),
    ))
}
