//! `megacluster plan [scenario]`

use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let s = common.scenario(args.scenario.as_deref())?;
    Ok(section(&s))
}

/// The plan section of the main report.
pub fn section(s: &spec::Scenario) -> report::Section {
    report::plan::section(&plan::plan(s))
}
