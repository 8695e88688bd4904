//! Bad input is answered with a clear, located message, exit code 2, nothing on stdout, no panic.

mod common;
use common::*;

const GOOD_SITE: &str = "name = \"x\"\n[[site]]\nname = \"a\"\ngrid = \"150 MW\"\n";

/// Run `validate` and `plan` on `body`; both must fail with code 2 and a message containing
/// every `needles` entry.
fn rejects(name: &str, body: &str, needles: &[&str]) {
    rejects_with(&["validate", "plan"], name, body, needles);
}

#[test]
fn malformed_toml() {
    rejects(
        "malformed.toml",
        "name = \"x\"\n[[site]\nname = 1\n",
        &["malformed.toml:2:", "TOML"],
    );
}

#[test]
fn wrong_unit_kind() {
    rejects(
        "wrong-unit.toml",
        "name = \"x\"\n[[site]]\nname = \"a\"\ngrid = \"150 MWh\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"ib-ndr-3tier\"\n",
        &["wrong-unit.toml:4:8", "site[0].grid", "'MWh' is a unit of an energy", "expected W, kW"],
    );
}

#[test]
fn zero_and_negative_counts() {
    let hall = |g: &str| {
        format!("{GOOD_SITE}[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = {g}\nfabric = \"ib-ndr-3tier\"\n")
    };
    rejects(
        "zero.toml",
        &hall("0"),
        &[
            "zero.toml:7:8",
            "site[0].hall[0].gpus",
            "whole number of at least 1",
        ],
    );
    rejects(
        "negative.toml",
        &hall("-8"),
        &["site[0].hall[0].gpus", "got -8"],
    );
    rejects("fraction.toml", &hall("1.5"), &["site[0].hall[0].gpus"]);
}

#[test]
fn unknown_catalogue_name_with_did_you_mean() {
    rejects(
        "unknown.toml",
        &format!(
            "{GOOD_SITE}[[site.hall]]\nsystem = \"hgx-h10\"\ngpus = 8\nfabric = \"ib-ndr-3tier\"\n"
        ),
        &[
            "unknown.toml:6:10",
            "site[0].hall[0].system",
            "no system named `hgx-h10`",
            "did you mean `hgx-h100`?",
        ],
    );
}

#[test]
fn unknown_field_with_did_you_mean() {
    rejects(
        "field.toml",
        &format!(
            "{GOOD_SITE}[[site.hall]]\nsystem = \"hgx-h100\"\ngpu = 8\nfabric = \"ib-ndr-3tier\"\n"
        ),
        &["field.toml:", "unknown field `gpu`", "did you mean `gpus`?"],
    );
}

#[test]
fn impossible_pue_and_efficiency() {
    rejects(
        "pue.toml",
        "name = \"x\"\n[[site]]\nname = \"a\"\ncooling = { from = \"direct-liquid\", pue = 0.9 }\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"ib-ndr-3tier\"\n",
        &["pue.toml:4:", "site[0].cooling.pue", "cannot be below 1"],
    );
    rejects(
        "eff.toml",
        &format!(
            "{GOOD_SITE}battery = {{ power = \"150 MW\", energy = \"600 MWh\", efficiency = \"120%\" }}\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"ib-ndr-3tier\"\n"
        ),
        &["eff.toml:5:", "site[0].battery.efficiency", "got 1.2"],
    );
    rejects(
        "frac.toml",
        &format!("cost = {{ other_it_fraction = 1.5 }}\n{GOOD_SITE}[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"ib-ndr-3tier\"\n"),
        &["cost.other_it_fraction", "between 0 and 1"],
    );
}

#[test]
fn override_that_breaks_physics() {
    rejects(
        "node.toml",
        &format!("{GOOD_SITE}[[site.hall]]\nsystem = {{ from = \"hgx-h100\", node_power = \"4 kW\" }}\ngpus = 8\nfabric = \"ib-ndr-3tier\"\n"),
        &["node.toml:6:", "site[0].hall[0].system.node_power", "below its 8 accelerators' TDP"],
    );
}

#[test]
fn missing_file_and_unknown_catalogue_kind() {
    let out = bin()
        .args(["validate", "/nonexistent/scenario.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read scenario"));
    let out = bin().args(["catalog", "acelerator"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `accelerator`?"));
    let out = bin()
        .args(["catalog", "system", "dgx-h10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `dgx-h100`?"));
}

#[test]
fn user_catalogue_file_adds_entries() {
    write(
        "my-catalog.toml",
        "[accelerator.h100-capped]\nfrom = \"h100-sxm\"\ntdp = \"500 W\"\nsource = \"power-capped H100 (user data)\"\n\
         [system.hgx-h100-capped]\nfrom = \"hgx-h100\"\naccelerator = \"h100-capped\"\nnode_power = \"8.6 kW\"\nsource = \"user\"\n",
    );
    let sc = write(
        "uses-catalog.toml",
        "name = \"x\"\ncatalog = [\"my-catalog.toml\"]\n[[site]]\nname = \"a\"\n[[site.hall]]\nsystem = \"hgx-h100-capped\"\ngpus = 8\nfabric = \"ib-ndr-3tier\"\n",
    );
    let out = bin().args(["plan", "--json"]).arg(&sc).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sites"][0]["halls"][0]["gpu_tdp_w"], 500.0);
}

#[test]
fn default_run_and_plan_json_keys() {
    let out = bin().args(["plan", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in [
        "gpus",
        "h100_equivalents",
        "it_power_w",
        "facility_power_w",
        "capex_usd",
        "opex_usd_per_year",
        "tco_usd_per_gpu_hour",
    ] {
        assert!(v[k].is_number(), "plan --json lacks {k}");
    }
    assert_eq!(v["gpus"], 100_000);
    let a = bin().arg("run").output().unwrap();
    let b = bin().arg("run").output().unwrap();
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout, "same scenario and seed, same bytes");
}
