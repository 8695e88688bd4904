//! `megacluster compare A.toml B.toml [--html FILE]`: both scenarios' whole reports
//! (`report::run`), their headline figures side by side with the differences
//! (`report::compare`).

use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The first scenario (a).
    pub a: PathBuf,
    /// The second scenario (b); the differences are b − a.
    pub b: PathBuf,
    /// Also write the comparison as a self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

fn report(common: &Common, path: &std::path::Path) -> Result<report::Report, CliError> {
    let p = common.pipeline(Some(path), report::run::options(false))?;
    Ok(report::run::report(&p, false)?.0)
}

pub fn run(args: &Args, common: &Common) -> Result<String, CliError> {
    let (a, b) = (report(common, &args.a)?, report(common, &args.b)?);
    let (an, bn) = (args.a.display().to_string(), args.b.display().to_string());
    if let Some(path) = &args.html {
        write(path, &report::compare::page(&an, &a, &bn, &b))?;
    }
    let s = report::compare::section(&an, &a, &bn, &b);
    Ok(if common.json {
        let mut t = serde_json::to_string_pretty(&s.json).map_err(CliError::internal)?;
        t.push('\n');
        t
    } else {
        s.text
    })
}

/// Write one output file (the one place this command writes).
fn write(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text)
        .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
