//! `megacluster multisite [scenario] [--sweep FILE.csv]`: each cross-site strategy's efficiency
//! against the same GPUs in one site, the link capacity each needs to hold a target loss, and a
//! sweep over distance × link capacity (× site count) as CSV with an SVG heatmap next to it.

use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
    /// Sweep distance × capacity per link (× site count) and write a CSV here, with an SVG
    /// heatmap of the configured strategy's efficiency loss next to it (same name, .svg).
    #[arg(long, value_name = "FILE.csv")]
    pub sweep: Option<PathBuf>,
    /// Fiber route lengths per link for the sweep, km.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10,100,300,1000,2000,3500"
    )]
    pub distances_km: Vec<f64>,
    /// Capacities per link for the sweep, Tbit/s.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0.1,0.3,1,3,10,30,100,300,1000"
    )]
    pub capacities_tbps: Vec<f64>,
    /// Site counts for the sweep (the scenario's own count keeps its graph; others use equal
    /// sites in a ring). Default: the scenario's count.
    #[arg(long, value_delimiter = ',')]
    pub sites: Vec<usize>,
}

fn check_grid(args: &Args) -> Result<(), CliError> {
    for (name, v) in [
        ("--distances-km", &args.distances_km),
        ("--capacities-tbps", &args.capacities_tbps),
    ] {
        if v.is_empty() || v.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(CliError::input(format!(
                "{name} takes positive numbers separated by commas"
            )));
        }
    }
    if args.sites.iter().any(|m| *m < 2 || *m > 64) {
        return Err(CliError::input("--sites takes site counts from 2 to 64"));
    }
    Ok(())
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    check_grid(args)?;
    let targets = match &args.sweep {
        Some(path) => {
            let out = common.outputs(args.scenario.as_deref());
            let csv = out.file("--sweep", path, "csv")?;
            let svg = out.file("--sweep", &path.with_extension("svg"), "svg")?;
            Some((csv, svg))
        }
        None => None,
    };
    let p = common.pipeline(args.scenario.as_deref(), pipeline::Options::report())?;
    // one site: the basis says why there is nothing to compare
    let basis = p.multisite_basis()?;
    let Some(m) = p.multisite()? else {
        return Err(CliError::internal(
            "no multi-site section for a one-site scenario",
        ));
    };
    if let Some((csv, svg_target)) = &targets {
        let sites = if args.sites.is_empty() {
            vec![basis.graph.site_count()]
        } else {
            args.sites.clone()
        };
        let d: Vec<f64> = args.distances_km.iter().map(|k| k * 1e3).collect();
        let c: Vec<f64> = args.capacities_tbps.iter().map(|t| t * 1e12).collect();
        let points = p.multisite_sweep(&sites, &d, &c)?;
        let table = report::multisite::sweep_csv(&points);
        let svg = report::multisite::heatmap(&points, sites[0], &m.analysis.configured);
        super::output::write_all(&[(csv, table.as_bytes()), (svg_target, svg.as_bytes())])?;
    }
    Ok(report::multisite::section(&m.analysis))
}
