//! `megacluster search [scenario] [--top K] [--by tokens|cost]`: every valid parallel layout of
//! the scenario's job, evaluated in parallel; the best k.

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

/// The cost objective from the plan: the TCO per GPU-second without energy, plus the facility
/// energy of one GPU at full activity (unit conversions of the plan's figures).
fn cost_objective(s: &spec::Scenario) -> perf::Objective {
    let p = plan::plan(s);
    let gpus = (p.gpus.max(1)) as f64;
    let year_s = 365.25 * 86400.0;
    let energy = p.opex.energy_usd_per_year;
    let fixed = ((p.tco_usd_per_year - energy) / (gpus * year_s)).max(0.0);
    let usd_per_mwh = p
        .sites
        .first()
        .map(|site| site.electricity_usd_per_mwh)
        .unwrap_or(0.0);
    let energy_full = p.facility_power_per_gpu_w * usd_per_mwh / 3.6e9;
    perf::Objective::Cost {
        fixed_usd_per_gpu_s: fixed,
        energy_usd_per_gpu_s_at_full_activity: energy_full,
    }
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
    let setup = pipeline::setup(&s).map_err(|e| super::setup_error(args.scenario.as_deref(), e))?;
    let mut sp = perf::Space::new(&setup.cluster);
    sp.top_k = args.top;
    if args.by == By::Cost {
        sp.objective = cost_objective(&s);
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} searching layouts {bar:40} {pos}/{len} layout groups ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let tick = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let r = perf::search(&setup.workload, &setup.cluster, &sp, &tick);
    bar.finish_and_clear();
    Ok(report::train::search_section(
        &r,
        args.by == By::Cost,
        setup.cluster.gpus,
        &setup.workload.model.name,
    ))
}
