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
    /// Also write a CSV of every table and of the power traces to DIR (and link them from the
    /// HTML page when `--html` names the same DIR).
    #[arg(long, value_name = "DIR")]
    pub csv: Option<PathBuf>,
}

pub fn run(args: &Args, common: &Common) -> Result<String, CliError> {
    // One bar for the whole job; it appears only if the job takes more than a moment.
    let bar = Bar::late();
    let charts = args.html.is_some() || args.csv.is_some();
    let p = common
        .pipeline(args.scenario.as_deref(), report::run::options(charts))?
        .with_progress(bar.callback());
    let r = report::run::report(&p, charts);
    bar.finish();
    let (r, figures) = r?;
    let mut linked = vec![];
    if let Some(dir) = &args.csv {
        let files = report::run::csv_files(&p, &r);
        write_files(dir, &files)?;
        if args.html.as_ref() == Some(dir) {
            linked = files.into_iter().map(|(n, _)| n).collect();
        }
    }
    if let Some(dir) = &args.html {
        let page = report::html::page_with_files(&r, &figures, &linked);
        write_files(dir, &[("index.html".into(), page.into_bytes())])?;
    }
    Ok(if common.json {
        report::run::json_text(&r)?
    } else {
        r.text()
    })
}

/// Write (file name, bytes) pairs into `dir`, creating it: the one place `run` writes files.
fn write_files(dir: &std::path::Path, files: &[(String, Vec<u8>)]) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", dir.display())))?;
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
    }
    eprintln!("wrote {} file(s) to {}", files.len(), dir.display());
    Ok(())
}
