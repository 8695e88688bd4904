//! megacluster: the command-line front end. Parses arguments, calls the pipeline, prints what
//! `report` writes.

mod cmd;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "megacluster",
    version,
    about = "Simulator and planner for gigawatt-scale AI training clusters",
    long_about = "Simulator and planner for gigawatt-scale AI training clusters.\n\n\
                  Every command takes a scenario file (TOML); with none, it uses the built-in default \
                  scenario (100,000 H100 at one site training a Llama-3-405B-class model)."
)]
struct Cli {
    /// Print JSON instead of text (keys snake_case with unit suffixes).
    #[arg(long, global = true)]
    json: bool,
    /// Extra catalogue file(s) to load before the scenario (repeatable).
    #[arg(long = "catalog", global = true, value_name = "FILE")]
    catalogs: Vec<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// The main job: every section of the report for a scenario.
    Run(cmd::run::Args),
    /// Power chain, capacity, H100-equivalents, capex, opex and TCO.
    Plan(cmd::plan::Args),
    /// Check a scenario file and report the first problem with its file, line and field.
    Validate(cmd::validate::Args),
    /// List catalogue kinds, entries of a kind, or show one entry (as TOML a user catalogue takes).
    Catalog(cmd::catalog::Args),
    /// Print a commented scenario to start from (`megacluster init > my.toml`), or the reference.
    Init(cmd::init::Args),
    /// Two scenarios' headline figures side by side, with the differences.
    Compare(cmd::compare::Args),
    /// Reliability Monte Carlo: failures, checkpoints, spares, repair, goodput.
    Simulate(cmd::simulate::Args),
    /// Training step model: step breakdown, MFU/HFU, memory per GPU.
    Train(cmd::train::Args),
    /// Search parallel layouts (tp, pp, dp, ep, cp, microbatch, recompute, schedule, overlap).
    Search(cmd::search::Args),
    /// Power trace, grid-code checks, mitigations and their cost, cooling and water.
    Power(cmd::power::Args),
    /// Multi-site training: each cross-site strategy's efficiency against one site.
    Multisite(cmd::multisite::Args),
    /// Sweep a grid of scenario fields: one row of headline figures per point (CSV or Parquet).
    Sweep(cmd::sweep::Args),
    /// The web planner: presets, knobs, charts and a side-by-side comparison in a browser.
    Serve(cmd::serve::Args),
}

/// Options shared by every command.
pub struct Common {
    pub json: bool,
    pub catalogs: Vec<PathBuf>,
}

impl Common {
    /// Load a scenario (the built-in default when `path` is `None`).
    pub fn scenario(&self, path: Option<&std::path::Path>) -> Result<spec::Scenario, CliError> {
        let cats: Vec<&std::path::Path> = self.catalogs.iter().map(|p| p.as_path()).collect();
        spec::load_scenario(path, &cats).map_err(CliError::input)
    }

    /// The output-file checks of a command reading the scenario at `path`.
    pub fn outputs(&self, path: Option<&std::path::Path>) -> cmd::output::Outputs {
        // and the catalogue files the scenario itself names (a scenario that cannot be read
        // names none here; loading it reports why)
        let named: Vec<std::path::PathBuf> = path
            .and_then(|p| {
                spec::read::read_input(p, "scenario")
                    .ok()
                    .map(|src| (p, src))
            })
            .map(|(p, src)| {
                spec::scenario::named_catalog_files(Some(p), &src)
                    .into_iter()
                    .map(|(_, f)| f)
                    .collect()
            })
            .unwrap_or_default();
        cmd::output::Outputs::new(
            path.into_iter()
                .chain(self.catalogs.iter().map(|p| p.as_path()))
                .chain(named.iter().map(|p| p.as_path())),
        )
    }

    /// The pipeline of a scenario (the built-in default when `path` is `None`).
    pub fn pipeline(
        &self,
        path: Option<&std::path::Path>,
        options: pipeline::Options,
    ) -> Result<pipeline::Pipeline, CliError> {
        Ok(pipeline::Pipeline::with_options(
            self.scenario(path)?,
            options,
        ))
    }
}

/// An error for the user. Input errors exit with code 2, internal failures with 1.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl From<pipeline::Error> for CliError {
    fn from(e: pipeline::Error) -> CliError {
        match e {
            pipeline::Error::Input(e) => CliError::input(e),
            pipeline::Error::Model(m) => CliError::internal(m),
        }
    }
}

impl CliError {
    pub fn input(e: impl std::fmt::Display) -> Self {
        CliError {
            code: 2,
            message: format!("error: {e}"),
        }
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        CliError {
            code: 1,
            message: format!("error: {e}"),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.cmd, Cmd::Sweep(_) | Cmd::Serve(_)) {
        one_shot_allocator();
    }
    let common = Common {
        json: cli.json,
        catalogs: cli.catalogs,
    };
    let result = match &cli.cmd {
        Cmd::Run(a) => cmd::run::run(a, &common),
        Cmd::Plan(a) => cmd::plan::run(a, &common).and_then(|s| single(&common, s)),
        Cmd::Validate(a) => cmd::validate::run(a, &common).and_then(|s| single(&common, s)),
        Cmd::Catalog(a) => cmd::catalog::run(a, &common).and_then(|s| single(&common, s)),
        Cmd::Init(a) => cmd::init::run(a, &common).and_then(|s| single(&common, s)),
        Cmd::Compare(a) => cmd::compare::run(a, &common),
        Cmd::Simulate(a) => cmd::simulate::run(a, &common).and_then(|s| single(&common, s)),
        Cmd::Train(a) => cmd::train::run(a, &common).and_then(|s| single(&common, s)),
        Cmd::Search(a) => cmd::search::run(a, &common).and_then(|s| single(&common, s)),
        Cmd::Power(a) => cmd::power::run(a, &common).and_then(|s| single(&common, s)),
        Cmd::Multisite(a) => cmd::multisite::run(a, &common).and_then(|s| single(&common, s)),
        Cmd::Sweep(a) => cmd::sweep::run(a, &common),
        Cmd::Serve(a) => cmd::serve::run(a, &common),
    };
    match result {
        Ok(out) => match cmd::output::print_stdout(&out) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}", e.message);
                ExitCode::from(e.code)
            }
        },
        Err(e) => {
            eprintln!("{}", e.message);
            ExitCode::from(e.code)
        }
    }
}

/// Render one section as the command's whole output.
fn single(common: &Common, s: report::Section) -> Result<String, CliError> {
    let mut t = if common.json {
        serde_json::to_string_pretty(&s.json).map_err(CliError::internal)?
    } else {
        s.text
    };
    if !t.ends_with('\n') {
        t.push('\n');
    }
    Ok(t)
}

/// mimalloc keeps each thread's freed pages for its next allocation. With glibc's malloc, every
/// point of a sweep (a power trace of 180,000 samples per mitigation at the default 30-minute
/// window) gave its pages back when freed (the worker threads' arenas trim by `madvise`) and
/// faulted them in again for the next: a sixth of a power sweep's CPU time went to the kernel
/// (`perf record` on `megacluster sweep`; user time is the same with either allocator).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's `mi_option_set` and two of its options, by their place in `mi_option_t` (the same
// in the v2 and v3 headers that libmimalloc-sys builds: `mimalloc.h`).
extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}
const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// A command that computes one answer and exits gives freed memory back at once and commits its
/// arena's pages as they are used: the default `run` then peaks at about 51 MB rather than 105
/// MB (each thread's freed trace pages were kept for 10 ms, and the arena committed eagerly),
/// for about 0.01 s more (`/usr/bin/time -f %M megacluster run`). A sweep or the server keeps
/// mimalloc's defaults: their points reuse the same pages (above).
fn one_shot_allocator() {
    // SAFETY: plain option setters of the linked allocator, called once from the main thread
    // before any other thread exists; they take effect for later purges and arena reservations.
    unsafe {
        mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
    }
}
