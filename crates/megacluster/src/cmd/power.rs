//! `megacluster power [scenario] [--solve] [--svg DIR]`: the cluster's power trace against the grid
//! code, the mitigations and their cost, cooling and water; with several sites, every site against
//! its own grid connection.

use super::progress::Bar;
use crate::{CliError, Common};
use report::html::Figure;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
    /// Also find the cheapest combination of mitigations (GPU floor, filler work, rack storage,
    /// site battery) that passes the grid code.
    #[arg(long)]
    pub solve: bool,
    /// Write the charts (raw vs mitigated trace, spectrum, battery state of charge, cooling) as SVG
    /// files into DIR.
    #[arg(long, value_name = "DIR")]
    pub svg: Option<PathBuf>,
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let options = pipeline::Options {
        solve: if args.solve {
            pipeline::Solve::Always
        } else {
            pipeline::Solve::Never
        },
        traces: args.svg.is_some(),
        ..pipeline::Options::report()
    };
    let bar = Bar::late();
    let p = common
        .pipeline(args.scenario.as_deref(), options)?
        .with_progress(bar.callback());
    let pw = p.power();
    bar.finish();
    let pw = pw?;
    if let (Some(dir), Some(tr)) = (&args.svg, &pw.traces) {
        write_svgs(dir, &report::power::figures(&pw.study, tr))?;
    }
    Ok(report::power::section(pw))
}

fn write_svgs(dir: &Path, figs: &[Figure]) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", dir.display())))?;
    for (i, f) in figs.iter().enumerate() {
        let path = dir.join(format!(
            "power-{}-{}.svg",
            i + 1,
            report::html::slug(&f.title)
        ));
        std::fs::write(&path, &f.svg)
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
