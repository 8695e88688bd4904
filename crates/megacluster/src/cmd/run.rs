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
    let html = match &args.html {
        Some(dir) => Some(
            common
                .outputs(args.scenario.as_deref())
                .dir("--html", dir, &["index.html"])?
                .remove(0),
        ),
        None => None,
    };
    let bar = Bar::late();
    let charts = args.html.is_some();
    let p = common
        .pipeline(args.scenario.as_deref(), report::run::options(charts))?
        .with_progress(bar.callback());
    let r = report::run::report(&p, charts);
    bar.finish();
    let (r, figures) = r?;
    if let Some(t) = &html {
        let page = report::html::page(&r, &figures);
        for path in super::output::write_all(&[(t, page.as_bytes())])? {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(if common.json {
        report::run::json_text(&r)?
    } else {
        r.text()
    })
}
