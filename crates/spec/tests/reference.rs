//! The scenario reference (`spec::reference`) lists exactly the fields the parser accepts, table
//! by table, and `docs/scenario.md` is its current output.

use spec::reference::{markdown, TABLES};
use std::collections::BTreeSet;

const UNKNOWN: &str = "zz_not_a_field";

/// A minimal valid scenario with `UNKNOWN = 1` placed in the table at `path`.
fn with_unknown(path: &str) -> String {
    let z = format!("{UNKNOWN} = 1");
    let top = if path.is_empty() {
        z.clone()
    } else {
        String::new()
    };
    let site = if path == "site" {
        z.clone()
    } else {
        String::new()
    };
    let battery = if path == "site.battery" {
        format!("battery = {{ power = \"1 MW\", energy = \"1 MWh\", {z} }}")
    } else {
        String::new()
    };
    let battery = match path {
        "site.generation" => format!("{battery}generation = {{ capacity = \"1 MW\", {z} }}"),
        "site.phase" => format!("{battery}\n[[site.phase]]\ndate = \"2024-09\"\n{z}"),
        "site.phase.battery" => format!(
            "{battery}\n[[site.phase]]\ndate = \"2024-09\"\nbattery = {{ power = \"1 MW\", energy = \"1 MWh\", {z} }}"
        ),
        _ => battery,
    };
    let hall = if path == "site.hall" {
        z.clone()
    } else {
        String::new()
    };
    let mut s = format!(
        "name = \"x\"\n{top}\n[[site]]\nname = \"a\"\ngrid = \"10 MW\"\n{site}\n{battery}\n\
         [[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 1024\nfabric = \"roce-400g-3tier\"\n{hall}\n"
    );
    if path == "link" {
        s.push_str(&format!(
            "[[site]]\nname = \"b\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 1024\nfabric = \"roce-400g-3tier\"\n\
             [[link]]\nbetween = [\"a\", \"b\"]\ndistance = \"100 km\"\ncapacity = \"10 Tbps\"\n{z}\n"
        ));
    }
    let parallelism = match path {
        "job.parallelism" => format!("parallelism = {{ tp = 8, {z} }}"),
        "job.parallelism.overlap" => format!("parallelism = {{ tp = 8, overlap = {{ {z} }} }}"),
        _ => String::new(),
    };
    s.push_str(&format!(
        "[job]\nmodel = \"llama3-8b\"\ntokens = \"1T\"\nglobal_batch = 4194304\n{parallelism}\n{}\n",
        if path == "job" { z.clone() } else { String::new() }
    ));
    if path == "job.sync" {
        s.push_str(&format!("[job.sync]\n{z}\n"));
    }
    if let Some(rest) = path.strip_prefix("reliability") {
        let body = match rest {
            "" => z.clone(),
            ".bad_nodes" => format!("bad_nodes = {{ fraction = 0.01, multiplier = 2, {z} }}"),
            t => format!("{} = {{ {z} }}", &t[1..]),
        };
        s.push_str(&format!("[reliability]\n{body}\n"));
    }
    if path == "programme" {
        s.push_str(&format!("[programme]\n{z}\n"));
    }
    if let Some(rest) = path.strip_prefix("power") {
        let body = match rest {
            "" => z.clone(),
            ".mitigation.battery" => {
                format!(
                    "mitigation = {{ battery = {{ power = \"1 MW\", energy = \"1 MWh\", {z} }} }}"
                )
            }
            t => format!("{} = {{ {z} }}", &t[1..]),
        };
        s.push_str(&format!("[power]\n{body}\n"));
    }
    s
}

/// The field names an "unknown field" error says the table expects.
fn expected_fields(message: &str) -> BTreeSet<String> {
    let (_, rest) = message
        .split_once("expected")
        .unwrap_or_else(|| panic!("no expected list in {message:?}"));
    rest.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn every_table_lists_exactly_the_fields_the_parser_accepts() {
    let mut checked = 0;
    for t in TABLES {
        let src = with_unknown(t.path);
        let e = spec::parse_scenario("x.toml", &src, &spec::Catalog::embedded())
            .err()
            .unwrap_or_else(|| panic!("`{}`: an unknown field was accepted:\n{src}", t.path));
        let msg = e.to_string();
        assert!(msg.contains(UNKNOWN), "`{}`: {msg}\n{src}", t.path);
        let parser = expected_fields(&msg);
        let reference: BTreeSet<String> = t.fields.iter().map(|f| f.name.to_string()).collect();
        assert_eq!(
            reference, parser,
            "`{}`: the reference (left) and the parser (right) disagree",
            t.path
        );
        checked += 1;
    }
    assert!(checked >= 19, "{checked}");
}

#[test]
fn docs_scenario_md_is_the_reference_output() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scenario.md");
    let want = markdown(&spec::Catalog::embedded());
    if std::env::var_os("UPDATE_SCENARIO_REFERENCE").is_some() {
        std::fs::write(path, &want).unwrap();
    }
    let have = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "docs/scenario.md is out of date: run `UPDATE_SCENARIO_REFERENCE=1 cargo test --release -p spec --test reference` \
         (or `cargo run --release -- init --reference > docs/scenario.md`)"
    );
}

#[test]
fn every_catalogue_kind_the_reference_names_has_entries() {
    let cat = spec::Catalog::embedded();
    for t in TABLES {
        for f in t.fields {
            if let Some(kind) = f.allowed.strip_prefix("catalogue: ") {
                let kind = kind
                    .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .next()
                    .unwrap();
                assert!(
                    !cat.names(kind).is_empty(),
                    "`{}.{}`: {kind}",
                    t.path,
                    f.name
                );
            }
        }
    }
}
