//! `megacluster run [scenario]`: the main job, every section in one report.

use super::progress::Bar;
use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
    /// Also write a self-contained HTML report (charts as inline SVG) to DIR/index.html.
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
}

/// Distances (km) and capacities per link (Tbit/s) of the report's multi-site heatmap.
const SWEEP_KM: [f64; 6] = [10.0, 100.0, 300.0, 1000.0, 2000.0, 3500.0];
const SWEEP_TBPS: [f64; 5] = [0.1, 1.0, 10.0, 100.0, 1000.0];

pub fn run(args: &Args, common: &Common) -> Result<String, CliError> {
    // One bar for the whole job; it appears only if the job takes more than a moment.
    let bar = Bar::late();
    let options = pipeline::Options {
        traces: args.html.is_some(),
        ..pipeline::Options::report()
    };
    let p = common
        .pipeline(args.scenario.as_deref(), options)?
        .with_progress(bar.callback());
    let r = report(&p, args.html.is_some());
    bar.finish();
    let (r, figures) = r?;
    if let Some(dir) = &args.html {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::input(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("index.html");
        std::fs::write(&path, report::html::page(&r, &figures))
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(if common.json {
        let mut t = serde_json::to_string_pretty(&r.json()).map_err(CliError::internal)?;
        t.push('\n');
        t
    } else {
        r.text()
    })
}

/// Every section of the pipeline in report order, with the charts when `charts`.
fn report(
    p: &pipeline::Pipeline,
    charts: bool,
) -> Result<(report::Report, Vec<report::html::Figure>), CliError> {
    let s = p.scenario();
    let scope = p.scope();
    let mut r = report::Report {
        title: s.name.clone(),
        sections: vec![],
    };
    let mut figures = vec![];
    let plan = p.plan();
    r.sections.push(report::plan::section(plan));
    figures.extend(report::plan::figures(plan));
    if let Some(t) = p.step()? {
        let cost = p.run_cost(pipeline::Goodput::MonteCarlo)?;
        r.sections.push(report::campus::with_run_cost(
            report::with_scope(report::train::trained(&s.name, t), scope.as_ref()),
            cost.as_ref(),
        ));
        figures.extend(report::train::figures(&t.profile));
    }
    let rel = p.reliability()?;
    r.sections.push(report::with_scope(
        report::simulate::of(rel),
        scope.as_ref(),
    ));
    figures.extend(report::simulate::figures(
        &rel.summary,
        &rel.ettr_per_replica,
    ));
    let pw = p.power()?;
    r.sections.push(report::power::section(pw));
    if let Some(tr) = &pw.traces {
        figures.extend(report::power::figures(&pw.study, tr));
    }
    if let Some(m) = p.multisite()? {
        r.sections.push(report::multisite::section(&m.analysis));
        if charts {
            let n = m.analysis.sites.len();
            let d: Vec<f64> = SWEEP_KM.iter().map(|k| k * 1e3).collect();
            let c: Vec<f64> = SWEEP_TBPS.iter().map(|t| t * 1e12).collect();
            let points = p.multisite_sweep(&[n], &d, &c)?;
            figures.extend(report::multisite::figures(&m.analysis, &points, n));
        }
    }
    if let Some(prog) = p.programme() {
        r.sections.push(report::campus::section(prog));
        figures.extend(report::campus::figures(prog));
    }
    Ok((r, figures))
}
