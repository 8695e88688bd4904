//! `megacluster run [scenario]`: the main job, every section in one report.

use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
}

pub fn run(args: &Args, common: &Common) -> Result<String, CliError> {
    let s = common.scenario(args.scenario.as_deref())?;
    let mut r = report::Report {
        title: s.name.clone(),
        sections: vec![],
    };
    r.sections.push(super::plan::section(&s));
    Ok(if common.json {
        let mut t = serde_json::to_string_pretty(&r.json()).map_err(CliError::internal)?;
        t.push('\n');
        t
    } else {
        r.text()
    })
}
