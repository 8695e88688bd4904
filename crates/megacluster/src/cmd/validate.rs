//! `megacluster validate FILE`: the scenario parsed and resolved, then every check the commands
//! make of it, through the pipeline ([`pipeline::Pipeline::check`]).

use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file to check.
    pub scenario: PathBuf,
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let p = pipeline::Pipeline::with_options(
        common.scenario(Some(&args.scenario))?,
        pipeline::Options {
            solve: pipeline::Solve::Never,
            traces: false,
            ..pipeline::Options::report()
        },
    );
    p.check()?;
    let s = p.scenario();
    let halls: usize = s.sites.iter().map(|x| x.halls.len()).sum();
    let text = format!(
        "{}: ok — \"{}\": {} site(s), {} hall(s), {} GPUs{}\n",
        args.scenario.display(),
        s.name,
        s.sites.len(),
        halls,
        report::fmt::thousands(s.total_gpus() as f64),
        s.job
            .as_ref()
            .map(|j| format!(", job {}", j.model.name))
            .unwrap_or_default()
    );
    Ok(report::Section {
        key: "validate".into(),
        title: "Validate".into(),
        text,
        json: serde_json::json!({
            "file": args.scenario.display().to_string(),
            "valid": true,
            "name": s.name,
            "sites": s.sites.len(),
            "halls": halls,
            "gpus": s.total_gpus(),
        }),
    })
}
