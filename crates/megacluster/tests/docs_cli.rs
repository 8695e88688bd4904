//! What a new user starts from agrees with the code: README's sample scenario is the built-in
//! default, `init` writes scenarios that validate, `init --reference` is docs/scenario.md, and
//! `compare` puts two scenarios' headline figures side by side.

mod common;
use common::*;

fn root(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

#[test]
fn readme_shows_the_built_in_default_scenario() {
    let readme = std::fs::read_to_string(root("README.md")).unwrap();
    let default = spec::scenario::DEFAULT_SCENARIO;
    assert!(
        readme.contains(&format!("```toml\n{default}```")),
        "README's sample scenario is not crates/spec/scenarios/default.toml"
    );
}

#[test]
fn init_writes_the_default_with_comments_and_it_validates() {
    let text = stdout(&["init"]);
    assert!(text.starts_with(spec::scenario::DEFAULT_SCENARIO));
    assert!(text.contains("# [reliability]"), "{text}");
    let p = write("init.toml", &text);
    let ok = stdout(&["validate", p.to_str().unwrap()]);
    assert!(ok.contains(": ok"), "{ok}");
    // uncommenting the optional [reliability] and [power] sections still validates
    let on = text
        .replace("# [reliability]", "[reliability]")
        .replace("# preset = ", "preset = ")
        .replace("# recovery = ", "recovery = ")
        .replace("# [power]", "[power]")
        .replace("# grid_code = ", "grid_code = ")
        .replace("# mitigation = ", "mitigation = ");
    let p = write("init-on.toml", &on);
    let ok = stdout(&["validate", p.to_str().unwrap()]);
    assert!(ok.contains(": ok"), "{ok}");
}

#[test]
fn init_example_prints_every_example_as_shipped() {
    let listed = stdout(&["init", "--example", "list"]);
    let mut n = 0;
    for e in std::fs::read_dir(root("examples")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") {
            continue; // examples/python, examples/sweep: not scenarios
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        assert!(listed.lines().any(|l| l == name), "{name} not in {listed}");
        assert_eq!(
            stdout(&["init", "--example", &name]),
            std::fs::read_to_string(&path).unwrap(),
            "{name}"
        );
        n += 1;
    }
    assert!(n >= 9);
    let out = bin()
        .args(["init", "--example", "meta-llama"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        out.stdout.is_empty() && err.contains("did you mean `meta-llama3`?"),
        "{err}"
    );
}

#[test]
fn init_reference_is_docs_scenario_md() {
    assert_eq!(
        stdout(&["init", "--reference"]),
        std::fs::read_to_string(root("docs/scenario.md")).unwrap()
    );
}

#[test]
fn compare_puts_the_headline_figures_side_by_side() {
    let a = spec::scenario::DEFAULT_SCENARIO;
    let b = a.replace(
        "grid = \"150 MW\"",
        "grid = \"150 MW\"\nelectricity = \"$100/MWh\"",
    );
    let b = b.replace("electricity = \"tennessee\"\n", "");
    let (pa, pb) = (write("cmp-a.toml", a), write("cmp-b.toml", &b));
    let (pa, pb) = (pa.to_str().unwrap(), pb.to_str().unwrap());
    let text = stdout(&["compare", pa, pb]);
    assert!(text.contains("b − a"), "{text}");
    // dearer electricity: the same GPUs, a higher TCO per GPU-hour
    let row = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("{label} not in {text}"))
            .to_string()
    };
    assert!(row("GPUs").trim_end().ends_with("same"), "{text}");
    assert!(row("TCO per GPU-hour").contains("+$"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["--json", "compare", pa, pb])).unwrap();
    let figs = json["figures"].as_array().unwrap();
    let tco = figs
        .iter()
        .find(|f| f["id"] == "plan.tco_per_gpu_hour")
        .unwrap();
    assert!(tco["b"].as_f64().unwrap() > tco["a"].as_f64().unwrap());
    assert!(tco["difference"].as_f64().unwrap() > 0.0);
}
