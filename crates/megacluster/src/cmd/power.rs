//! `megacluster power [scenario] [--solve] [--svg DIR]`: the cluster's power trace against the grid
//! code, the mitigations and their cost, cooling and water; with several sites, every site against
//! its own grid connection.

use super::output::Outputs;
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
    // the directory is checked (and created) before the study runs
    let out = common.outputs(args.scenario.as_deref());
    if let Some(dir) = &args.svg {
        out.dir("--svg", dir, &["power-1.svg"])?;
    }
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
        write_svgs(&out, dir, &report::power::figures(&pw.study, tr))?;
    }
    Ok(report::power::section(pw))
}

fn write_svgs(out: &Outputs, dir: &Path, figs: &[Figure]) -> Result<(), CliError> {
    let targets = figs
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = format!("power-{}-{}.svg", i + 1, report::html::slug(&f.title));
            out.target("--svg", &dir.join(name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let files: Vec<_> = targets
        .iter()
        .zip(figs)
        .map(|(t, f)| (t, f.svg.as_bytes()))
        .collect();
    for path in super::output::write_all(&files)? {
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
