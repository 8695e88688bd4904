//! `megacluster run [scenario]`: the main job, every section in one report.

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

pub fn run(args: &Args, common: &Common) -> Result<String, CliError> {
    let s = common.scenario(args.scenario.as_deref())?;
    let mut r = report::Report {
        title: s.name.clone(),
        sections: vec![],
    };
    let mut figures: Vec<report::html::Figure> = vec![];
    // One bar for the whole job; it appears only if the job takes more than a moment.
    let bar = super::progress::LateBar::new(1, "plan");
    let pl = plan::plan(&s);
    r.sections.push(report::plan::section(&pl));
    figures.extend(report::plan::figures(&pl));
    if s.job.is_some() {
        bar.stage("step model", 1);
        let (sec, figs, _) = super::train::section(&s, args.scenario.as_deref())?;
        r.sections.push(sec);
        figures.extend(figs);
    }
    bar.stage("reliability Monte Carlo", 1);
    let (sec, figs) = super::simulate::section(&s, args.scenario.as_deref(), args.html.is_some())?;
    r.sections.push(sec);
    figures.extend(figs);
    bar.stage("power trace", 1);
    let (sec, figs) = super::power::section(&s, args.scenario.as_deref(), &bar)?;
    r.sections.push(sec);
    figures.extend(figs);
    bar.stage("multi-site strategies", 1);
    if let Some((sec, figs)) = super::multisite::section(&s, args.scenario.as_deref())? {
        r.sections.push(sec);
        figures.extend(figs);
    }
    bar.finish();
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
