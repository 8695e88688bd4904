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
    let r = report::whole(&p, args.html.is_some());
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
