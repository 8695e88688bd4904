//! `megacluster train [scenario]`: the step model of the scenario's job: step breakdown, MFU and
//! HFU, tokens/s, days to train, memory per GPU.

use super::progress::Bar;
use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let bar = Bar::now();
    let p = common
        .pipeline(args.scenario.as_deref(), pipeline::Options::report())?
        .with_progress(bar.callback());
    let sec = report::run::train(&p);
    bar.finish();
    sec?.ok_or_else(|| CliError::input("job: the scenario has no [job] section to train"))
}
