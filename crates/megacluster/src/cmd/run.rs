//! `megacluster run [scenario]`: the main job, every section in one report
//! (`report::run`, the same path `megacluster serve` answers from).

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

pub fn run(args: &Args, common: &Common) -> Result<String, CliError> {
    // One bar for the whole job; it appears only if the job takes more than a moment.
    let bar = Bar::late();
    let charts = args.html.is_some();
    let p = common
        .pipeline(args.scenario.as_deref(), report::run::options(charts))?
        .with_progress(bar.callback());
    let r = report::run::report(&p, charts);
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
        report::run::json_text(&r)?
    } else {
        r.text()
    })
}
