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

/// The longest list `--top` asks for: keeping the best k costs O(k) per layout in the search
/// (perf's `push_top`), 6 s at k = 10,000; a thousand is 0.6 s.
pub const MAX_TOP: usize = 1000;

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
    if args.top > MAX_TOP {
        return Err(CliError::input(format!(
            "--top must be at most {MAX_TOP} (the search keeps the best k of every layout, and a longer list is no table to read)"
        )));
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
