//! `megacluster catalog` lists every kind the scenarios resolve against, grid codes, climates and
//! reliability presets included, each entry with its source.

mod common;
use common::*;

#[test]
fn the_presets_are_catalogue_kinds() {
    let kinds = stdout(&["catalog"]);
    for k in ["grid_code", "climate", "reliability"] {
        assert!(kinds.contains(k), "{kinds}");
    }
    let codes = stdout(&["catalog", "grid_code"]);
    for c in [
        "ercot-large-load",
        "strict-generator-following",
        "utility-band-example",
        "none",
    ] {
        assert!(codes.contains(c), "{codes}");
    }
    let presets = stdout(&["catalog", "reliability"]);
    for p in ["llama3", "meta-rsc-low", "meta-rsc-high", "airesim"] {
        assert!(presets.contains(p), "{presets}");
    }
    // one entry: its file, its failure classes and their sources
    let llama = stdout(&["catalog", "reliability", "llama3"]);
    assert!(llama.contains("<catalogue>/reliability.toml"), "{llama}");
    assert!(
        llama.contains("faulty-gpu") && llama.contains("Table 5"),
        "{llama}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&["catalog", "climate", "memphis", "--json"])).unwrap();
    assert_eq!(v["matches"][0], "tennessee");
    assert!(v["source"].as_str().unwrap().contains("NOAA"));
}

/// A scenario's names resolve against the catalogue, with a hint for a near miss.
#[test]
fn unknown_presets_are_located_errors_with_a_hint() {
    let base = spec::scenario::DEFAULT_SCENARIO;
    rejects_with(
        &["validate", "simulate"],
        "preset.toml",
        &format!("{base}\n[reliability]\npreset = \"lama3\"\n"),
        &[
            "preset.toml:",
            "reliability.preset",
            "did you mean `llama3`",
        ],
    );
    rejects_with(
        &["validate", "power"],
        "climate.toml",
        &format!("{base}\n[power]\nclimate = \"phenix\"\n"),
        &["climate.toml:", "power.climate", "did you mean `phoenix`"],
    );
}

#[test]
fn one_entry_prints_toml_that_pastes_into_a_user_catalogue() {
    // DeepSeek-V3 has nested tables (mla, moe): they must come out under [model.NAME.moe], not
    // [moe], or the pasted file defines a different entry
    let text = stdout(&["catalog", "model", "deepseek-v3"]);
    assert!(
        text.contains("[model.deepseek-v3.moe]") || text.contains("moe = {"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.trim() == "[moe]"), "{text}");
    let pasted = write("pasted.toml", &text.replace("deepseek-v3", "my-ds"));
    let p = pasted.to_str().unwrap();
    let mine = stdout(&["--catalog", p, "--json", "catalog", "model", "my-ds"]);
    let theirs = stdout(&["--json", "catalog", "model", "deepseek-v3"]);
    assert_eq!(mine, theirs);
}
