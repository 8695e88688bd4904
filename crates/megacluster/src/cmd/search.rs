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

/// The longest list `--top` asks for. Keeping the best k is a bounded heap in perf's search
/// (O(log k) per layout that enters it), so the bound is the output: 10,000 layouts are 6.9 MB of
/// JSON written in about 0.3 s; 100,000 would be 69 MB and 0.8 GB of memory, no table to read.
pub const MAX_TOP: usize = 10_000;

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
            "--top must be at most {MAX_TOP} (a longer list is no table to read)"
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
