//! `megacluster multisite [scenario] [--sweep FILE.csv]`: each cross-site strategy's efficiency
//! against the same GPUs in one site, the link capacity each needs to hold a target loss, and a
//! sweep over distance × link capacity (× site count) as CSV with an SVG heatmap next to it.

use crate::{CliError, Common};
use multisite::{Goodput, Graph, Prepared};
use std::path::{Path, PathBuf};

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

/// Goodput of each failure domain from the reliability model's closed form (Kokolis et al.
/// E[ETTR] with the preset's failure rates, restart overhead and checkpoint policy), for a job on
/// all GPUs and for a job on each site alone. `None` when the reliability model cannot run.
fn goodput(s: &spec::Scenario, g: &Graph, step_s: f64) -> Option<Goodput> {
    let (p, _) = sim::from_scenario(s).ok()?;
    let ettr = |gpus: u64| {
        let mut q = p.clone();
        q.job_gpus = gpus;
        if step_s.is_finite() && step_s > 0.0 {
            q.step_s = step_s;
        }
        let rate = sim::engine::job_interrupt_rate_per_s(&q, q.job_nodes());
        let u0 = sim::monte::restart_overhead_s(&q);
        let interval = sim::monte::resolved_interval_s(&q);
        sim::formulas::kokolis_ettr(rate, u0, interval, q.checkpoint_write_s)
    };
    Some(Goodput {
        whole_job: ettr(g.total_gpus()),
        per_site: g.sites.iter().map(|x| ettr(x.gpus)).collect(),
        model: format!(
            "goodput: closed-form ETTR (Kokolis et al., HPCA'25) of the reliability preset `{}` for one failure domain of all GPUs (synchronous strategies) and of each site alone (DiLoCo strategies)",
            p.preset
        ),
    })
}

/// The analysis with its loss in dollars: the plan's TCO per year for the whole cluster, the
/// links over the network depreciation life.
fn priced(a: multisite::Analysis, s: &spec::Scenario) -> multisite::Analysis {
    a.with_costs(
        plan::plan(s).tco_usd_per_year,
        s.cost.depreciation_network.s(),
    )
}

fn prepare(s: &spec::Scenario, path: Option<&Path>) -> Result<Prepared, CliError> {
    multisite::prepare(s)
        .map_err(|e| CliError::input(spec::scenario::error_at(path, &e.field, e.message)))
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
    let s = common.scenario(args.scenario.as_deref())?;
    let p = prepare(&s, args.scenario.as_deref())?;
    let gp = goodput(&s, &p.graph, p.basis.step_s);
    let a = priced(multisite::analyse(&p, gp.as_ref()), &s);
    if let Some(path) = &args.sweep {
        let sites = if args.sites.is_empty() {
            vec![p.graph.site_count()]
        } else {
            args.sites.clone()
        };
        let d: Vec<f64> = args.distances_km.iter().map(|k| k * 1e3).collect();
        let c: Vec<f64> = args.capacities_tbps.iter().map(|t| t * 1e12).collect();
        let points = multisite::sweep(&p, &sites, &d, &c);
        write(path, &report::multisite::sweep_csv(&points))?;
        let svg = report::multisite::heatmap(&points, sites[0], &a.configured);
        write(&path.with_extension("svg"), &svg)?;
    }
    Ok(report::multisite::section(&a))
}

fn write(path: &Path, body: &str) -> Result<(), CliError> {
    std::fs::write(path, body)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))
}

/// The multi-site section of `megacluster run` with its charts: `None` for one-site scenarios.
pub fn section(
    s: &spec::Scenario,
    path: Option<&Path>,
) -> Result<Option<(report::Section, Vec<report::html::Figure>)>, CliError> {
    if s.sites.len() < 2 {
        return Ok(None);
    }
    let p = prepare(s, path)?;
    let gp = goodput(s, &p.graph, p.basis.step_s);
    let a = priced(multisite::analyse(&p, gp.as_ref()), &s);
    let d: Vec<f64> = [10.0, 100.0, 300.0, 1000.0, 2000.0, 3500.0]
        .iter()
        .map(|k| k * 1e3)
        .collect();
    let c: Vec<f64> = [0.1, 1.0, 10.0, 100.0, 1000.0]
        .iter()
        .map(|t| t * 1e12)
        .collect();
    let m = p.graph.site_count();
    let points = multisite::sweep(&p, &[m], &d, &c);
    let sec = report::multisite::section(&a);
    let figures = vec![
        report::html::Figure {
            section: sec.key.clone(),
            title: format!(
                "Efficiency loss of {} over distance and capacity per link",
                a.configured
            ),
            svg: report::multisite::heatmap(&points, m, &a.configured),
        },
        report::html::Figure {
            section: sec.key.clone(),
            title: "Efficiency of each strategy against one site".into(),
            svg: report::multisite::strategy_bars(&a),
        },
    ];
    Ok(Some((sec, figures)))
}
