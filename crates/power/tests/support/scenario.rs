//! The power model's inputs for a scenario, built by the pipeline exactly as `megacluster power`
//! builds them (the step shape from the step model, or the multi-site model for a scenario of
//! several sites; the run from replica 0 of the reliability timeline; the plan's TCO per GPU-hour
//! as the price of lost throughput). Shared by the tests and the bench.

#![allow(dead_code)]

use power::analysis::Inputs;
use std::path::{Path, PathBuf};

/// The repository's `examples/*.toml`, in name order.
pub fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

/// The analysis inputs of a scenario file (`None`: the built-in default scenario) for its first
/// site, before any solve.
pub fn inputs(path: Option<&Path>) -> Inputs {
    let s = spec::load_scenario(path, &[]).expect("scenario loads");
    let options = pipeline::Options {
        solve: pipeline::Solve::Never,
        traces: false,
        ..pipeline::Options::report()
    };
    let pl = pipeline::Pipeline::with_options(s, options);
    pl.power().expect("power section").setup.inputs.clone()
}

/// A grid code of the catalogue, in the power model's SI units.
pub fn preset(name: &str) -> Option<power::grid::GridCode> {
    let c = spec::Catalog::embedded().get::<spec::GridCode>(name).ok()?;
    Some(pipeline::bind::grid_code(&c))
}
