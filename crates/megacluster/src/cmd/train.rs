//! `megacluster train` (being built).

use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let _ = common.scenario(args.scenario.as_deref())?;
    Err(CliError::internal("`train` is not available yet"))
}
