//! `megacluster plan [scenario]`

use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let p = common.pipeline(args.scenario.as_deref(), pipeline::Options::report())?;
    Ok(report::plan::section(p.plan()))
}
