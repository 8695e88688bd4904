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
    let t = p.step();
    let cost = t
        .as_ref()
        .ok()
        .map(|_| p.run_cost(pipeline::Goodput::ClosedForm));
    bar.finish();
    let t = t?.ok_or_else(|| CliError::input("job: the scenario has no [job] section to train"))?;
    // (the closed-form goodput: `train` runs no Monte Carlo; `run` uses the Monte Carlo mean)
    let cost = cost.transpose()?.flatten();
    Ok(report::campus::with_run_cost(
        report::with_scope(
            report::train::trained(&p.scenario().name, t),
            p.scope().as_ref(),
        ),
        cost.as_ref(),
    ))
}
