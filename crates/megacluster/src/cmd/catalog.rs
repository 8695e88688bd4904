//! `megacluster catalog [kind] [name]`

use crate::{CliError, Common};
use spec::catalog::{Catalog, KINDS};
use spec::error::did_you_mean;

#[derive(clap::Args)]
pub struct Args {
    /// Kind of entry: accelerator, system, scale_up, fabric, cooling, model, cost, region,
    /// grid_code, climate, reliability.
    pub kind: Option<String>,
    /// Entry name; lists the kind's entries when absent.
    pub name: Option<String>,
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let mut cat = Catalog::embedded();
    for p in &common.catalogs {
        spec::scenario::add_catalog_file(&mut cat, p).map_err(CliError::input)?;
    }
    let section = |text: String, json: serde_json::Value| report::Section {
        key: "catalog".into(),
        title: "Catalogue".into(),
        text,
        json,
    };
    let Some(kind) = &args.kind else {
        let mut text =
            String::from("Catalogue kinds (megacluster catalog KIND to list entries):\n");
        let mut json = serde_json::Map::new();
        for k in KINDS {
            let names = cat.names(k);
            text.push_str(&format!("  {:<12} {:>3} entries\n", k, names.len()));
            json.insert(k.to_string(), serde_json::json!(names));
        }
        return Ok(section(text, serde_json::Value::Object(json)));
    };
    let kind = kind.replace('-', "_");
    let kind = kind
        .strip_suffix('s')
        .filter(|k| KINDS.contains(k))
        .unwrap_or(&kind)
        .to_string();
    if !KINDS.contains(&kind.as_str()) {
        let hint = did_you_mean(&kind, KINDS.iter().copied())
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        return Err(CliError::input(format!(
            "unknown catalogue kind `{kind}`{hint}; kinds: {}",
            KINDS.join(", ")
        )));
    }
    match &args.name {
        None => {
            let mut text = format!("{kind} entries (megacluster catalog {kind} NAME for one):\n");
            let mut list = vec![];
            for n in cat.names(&kind) {
                let t = cat.raw(&kind, n).map_err(CliError::input)?;
                let summary = summary(&kind, &t);
                text.push_str(&format!("  {:<20} {}\n", n, summary));
                list.push(serde_json::json!({"name": n, "summary": summary}));
            }
            Ok(section(text, serde_json::Value::Array(list)))
        }
        Some(name) => {
            let t = cat.raw(&kind, name).map_err(CliError::input)?;
            // TOML that pastes into a user catalogue file: the entry under `[kind.name]`, its
            // nested tables under `[kind.name.sub]` (rename it, or give it `from = "name"` and
            // only the fields to change)
            let mut entry = toml::Table::new();
            entry.insert(name.clone(), toml::Value::Table(t.clone()));
            let mut doc = toml::Table::new();
            doc.insert(kind.clone(), toml::Value::Table(entry));
            let mut text = format!(
                "# {kind} `{name}` from {}; paste into a user catalogue (--catalog FILE) under a new name\n",
                cat.file_of(&kind, name).unwrap_or("?")
            );
            text.push_str(&toml::to_string(&doc).map_err(CliError::internal)?);
            let json = serde_json::to_value(&t).map_err(CliError::internal)?;
            Ok(section(text, json))
        }
    }
}

/// One line describing an entry, from its most telling fields.
fn summary(kind: &str, t: &toml::Table) -> String {
    let get = |k: &str| {
        t.get(k)
            .map(|v| v.to_string().trim_matches('"').to_string())
    };
    let fields: &[&str] = match kind {
        "accelerator" => &["bf16", "fp8", "hbm", "tdp"],
        "system" => &[
            "accelerator",
            "gpus_per_node",
            "scale_up_domain",
            "node_power",
            "node_price",
        ],
        "scale_up" => &["bandwidth"],
        "fabric" => &["technology", "link_rate", "tiers", "oversubscription"],
        "cooling" => &["pue", "wue"],
        "model" => &["params", "layers", "hidden"],
        "region" => &["electricity"],
        "grid_code" => &["ramp_up", "dynamic_range", "band_limit", "large_load"],
        "climate" => &["humidity", "matches"],
        "reliability" => &["description"],
        _ => &["facility", "electricity"],
    };
    fields
        .iter()
        .filter_map(|f| get(f).map(|v| format!("{f}={v}")))
        .collect::<Vec<_>>()
        .join("  ")
}
