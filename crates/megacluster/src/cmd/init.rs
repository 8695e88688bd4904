//! `megacluster init [--example NAME] [--reference]`: a commented scenario to start from (the
//! built-in default, or one of the examples), or the scenario reference (`docs/scenario.md`).
//! Printed to stdout: `megacluster init > my.toml`.

use crate::{CliError, Common};
use spec::error::did_you_mean;

#[derive(clap::Args)]
pub struct Args {
    /// Start from an example instead of the built-in default (`megacluster init --example list`
    /// names them).
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
    /// Print the scenario reference (every table and field, as in docs/scenario.md) instead.
    #[arg(long, conflicts_with = "example")]
    pub reference: bool,
}

/// The examples shipped in `examples/`, by name.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "anthropic-trainium",
        include_str!("../../../../examples/anthropic-trainium.toml"),
    ),
    (
        "deepseek-v3",
        include_str!("../../../../examples/deepseek-v3.toml"),
    ),
    (
        "five-regions",
        include_str!("../../../../examples/five-regions.toml"),
    ),
    (
        "google-multisite-tpu",
        include_str!("../../../../examples/google-multisite-tpu.toml"),
    ),
    (
        "meta-2gw",
        include_str!("../../../../examples/meta-2gw.toml"),
    ),
    (
        "meta-llama3",
        include_str!("../../../../examples/meta-llama3.toml"),
    ),
    (
        "million-gpus",
        include_str!("../../../../examples/million-gpus.toml"),
    ),
    (
        "stargate-abilene",
        include_str!("../../../../examples/stargate-abilene.toml"),
    ),
    (
        "xai-colossus",
        include_str!("../../../../examples/xai-colossus.toml"),
    ),
];

/// The optional sections, commented out, that follow the built-in default in `init`'s output.
const OPTIONAL: &str = r#"
# ---------------------------------------------------------------------------------------------
# Optional sections: uncomment and edit. Every field, its unit, default and allowed values:
# docs/scenario.md (or `megacluster init --reference`). Check the file with `megacluster validate`.
# ---------------------------------------------------------------------------------------------
#
# In [[site]]:
# generation = "35 MW"                 # on-site turbines beside the grid
# battery = { power = "150 MW", energy = "600 MWh", efficiency = "85%" }
# cooling = { from = "evaporative", pue = 1.2 }   # any catalogue entry can be overridden inline
#
# In [job], a fixed layout instead of "auto" (tp × pp × cp × dp = the job's GPUs; dp × microbatch
# must divide the global batch):
# parallelism = { tp = 8, pp = 16, dp = 768, microbatch = 1, schedule = "interleaved", interleave = 4, recompute = "full" }
#
# [reliability]
# preset = "llama3"                    # megacluster catalog reliability
# checkpoint = "auto"                  # Young/Daly; or "30 min"
# recovery = "restart"                 # restart | hot-spare | partial-restart | elastic-dp | in-memory
# designs = "all"                      # compare the recovery designs side by side
#
# [power]
# grid_code = "ercot-large-load"       # megacluster catalog grid_code
# mitigation = { gpu_floor = "90%", battery = { power = "50 MW", energy = "100 MWh" } }
#
# A second site joined by fiber (multi-site training):
# [[site]]
# name = "abilene"
# grid = "150 MW"
# [[site.hall]]
# system = "hgx-h100"
# gpus = "100k"
# fabric = "roce-400g-3tier"
# [[link]]
# between = ["memphis", "abilene"]
# distance = "1200 km"
# capacity = "10 Tbps"
# [job.sync]
# strategy = "streaming-diloco"        # dp | pipeline | diloco | streaming-diloco
"#;

/// The text `init` prints.
pub fn text(args: &Args) -> Result<String, CliError> {
    if args.reference {
        return Ok(spec::reference::markdown(&spec::Catalog::embedded()));
    }
    match args.example.as_deref() {
        None => Ok(format!("{}{OPTIONAL}", spec::scenario::DEFAULT_SCENARIO)),
        Some("list") => Ok(EXAMPLES
            .iter()
            .map(|(n, _)| format!("{n}\n"))
            .collect::<String>()),
        Some(name) => EXAMPLES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string())
            .ok_or_else(|| {
                let hint = did_you_mean(name, EXAMPLES.iter().map(|(n, _)| *n))
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                CliError::input(format!(
                    "no example named `{name}`{hint}; examples: {}",
                    EXAMPLES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }),
    }
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let text = text(args)?;
    let _ = common;
    Ok(report::Section {
        key: "init".into(),
        title: "Init".into(),
        json: serde_json::json!({ "text": text }),
        text,
    })
}
