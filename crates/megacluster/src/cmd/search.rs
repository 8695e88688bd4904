//! `megacluster search [scenario] [--top K] [--by tokens|cost]`: every valid parallel layout of
//! the scenario's job, evaluated in parallel; the best k.

use super::progress::Bar;
use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// Highest tokens per second.
    Tokens,
    /// Lowest dollars per token (TCO per GPU-hour from the plan, energy by step activity).
    Cost,
}

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
    /// How many layouts to list.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// What to rank by.
    #[arg(long, value_enum, default_value_t = By::Tokens)]
    pub by: By,
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let s = common.scenario(args.scenario.as_deref())?;
    if s.job.is_none() {
        return Err(CliError::input(
            "job: the scenario has no [job] section to search layouts for",
        ));
    }
    if args.top == 0 {
        return Err(CliError::input("--top must be at least 1"));
    }
    let bar = Bar::now();
    let p = pipeline::Pipeline::new(s).with_progress(bar.callback());
    let r = p.search(args.top, args.by == By::Cost);
    bar.finish();
    let (r, setup) = r?;
    Ok(report::train::search_section(
        &r,
        args.by == By::Cost,
        setup.cluster.gpus,
        &setup.workload.model.name,
    ))
}
