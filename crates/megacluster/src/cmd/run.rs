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
    let html = match &args.html {
        Some(dir) => Some(
            common
                .outputs(args.scenario.as_deref())
                .dir("--html", dir, &["index.html"])?
                .remove(0),
        ),
        None => None,
    };
    // the CSV directory is checked now; its files (one per table) are named once the report exists
    let csv_outputs = match &args.csv {
        Some(dir) => {
            let o = common.outputs(args.scenario.as_deref());
            o.dir("--csv", dir, &[])?;
            Some(o)
        }
        None => None,
    };
    let bar = Bar::late();
    let charts = args.html.is_some() || args.csv.is_some();
    let p = common
        .pipeline(args.scenario.as_deref(), report::run::options(charts))?
        .with_progress(bar.callback());
    let r = report::run::report(&p, charts);
    bar.finish();
    let (r, figures) = r?;
    let mut linked = vec![];
    let mut files: Vec<(super::output::Target, Vec<u8>)> = vec![];
    if let (Some(dir), Some(outputs)) = (&args.csv, &csv_outputs) {
        let tables = report::run::csv_files(&p, &r);
        for (name, bytes) in tables {
            files.push((outputs.target("--csv", &dir.join(&name))?, bytes));
            if args.html.as_ref() == Some(dir) {
                linked.push(name);
            }
        }
    }
    if let Some(t) = &html {
        let page = report::html::page_with_files(&r, &figures, &linked);
        files.push((t.clone(), page.into_bytes()));
    }
    if !files.is_empty() {
        let pairs: Vec<(&super::output::Target, &[u8])> =
            files.iter().map(|(t, b)| (t, b.as_slice())).collect();
        let written = super::output::write_all(&pairs)?;
        if html.is_some() && written.len() == 1 {
            eprintln!("wrote {}", written[0].display());
        } else {
            eprintln!("wrote {} file(s)", written.len());
        }
    }
    Ok(if common.json {
        report::run::json_text(&r)?
    } else {
        r.text()
    })
}
