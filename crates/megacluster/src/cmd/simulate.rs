//! `megacluster simulate [scenario] --replicas N [--events FILE.csv] [--designs all|LIST]`: the
//! reliability Monte Carlo, and the recovery designs side by side.

use super::progress::Bar;
use crate::{CliError, Common};
use spec::reliability::RecoveryDesign;
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

/// The designs `--designs` names.
fn designs_asked(flag: &str) -> Result<Vec<RecoveryDesign>, CliError> {
    if flag == "all" {
        return Ok(RecoveryDesign::ALL.to_vec());
    }
    flag.split(',')
        .map(|n| {
            RecoveryDesign::parse(n.trim()).ok_or_else(|| {
                CliError::input(format!(
                    "--designs: unknown design `{}`; designs: all, {}",
                    n.trim(),
                    RecoveryDesign::ALL.map(|d| d.name()).join(", ")
                ))
            })
        })
        .collect()
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    if args.replicas == Some(0) {
        return Err(CliError::input("--replicas must be at least 1"));
    }
    let max = spec::reliability::MAX_REPLICAS;
    if args.replicas.is_some_and(|n| n > max) {
        return Err(CliError::input(format!(
            "--replicas must be at most {max} (the percentiles settle within a few hundred)"
        )));
    }
    if let Some(t) = args.target {
        if !(t > 0.0 && t < 1.0) {
            return Err(CliError::input(format!(
                "--target must lie strictly between 0 and 1 (e.g. 0.95), got {t}"
            )));
        }
    }
    let events = args
        .events
        .as_deref()
        .map(|e| {
            common
                .outputs(args.scenario.as_deref())
                .file("--events", e, "csv")
        })
        .transpose()?;
    let options = pipeline::Options {
        depth: pipeline::Depth::Full,
        replicas: args.replicas,
        target: args.target,
        designs: args.designs.as_deref().map(designs_asked).transpose()?,
        ..pipeline::Options::report()
    };
    let bar = Bar::now();
    let p = common
        .pipeline(args.scenario.as_deref(), options)?
        .with_progress(bar.callback());
    let r = p.reliability();
    let designs = p.designs();
    bar.finish();
    let r = r?;
    let designs = designs?;
    if let Some(t) = &events {
        let rec = p.timeline()?;
        let csv = report::simulate::events_csv(&rec.events);
        super::output::write_all(&[(t, csv.as_bytes())])?;
    }
    let mut sec = report::simulate::of(r);
    if let Some(c) = designs {
        sec = report::simulate::with_designs(sec, c);
    }
    Ok(report::with_scope(sec, p.scope().as_ref()))
}
