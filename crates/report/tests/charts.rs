//! The charts of a whole report: every section's figures are complete SVG with data in them.

fn pipeline() -> pipeline::Pipeline {
    pipeline::Pipeline::new(spec::load_scenario(None, &[]).expect("default scenario"))
}

fn check_svg(f: &report::html::Figure) {
    assert!(
        f.svg.starts_with("<svg") && f.svg.ends_with("</svg>"),
        "{}",
        f.title
    );
    assert!(
        !f.svg.contains("NaN") && !f.svg.contains("no data"),
        "{}",
        f.title
    );
}

#[test]
fn train_section_has_the_step_and_memory_charts() {
    let p = pipeline();
    let t = p.step().unwrap().unwrap();
    let sec = report::train::trained(&p.scenario().name, t);
    assert_eq!(sec.key, "train");
    let figs = report::train::figures(&t.profile);
    assert_eq!(figs.len(), 2);
    for f in &figs {
        assert_eq!(f.section, sec.key);
        check_svg(f);
    }
    // one bar segment per phase of the step
    assert!(figs[0].svg.matches("<rect").count() >= t.profile.phases.len());
}

#[test]
fn power_section_of_the_default_scenario_has_its_charts() {
    let p = pipeline();
    let pw = p.power().unwrap();
    let sec = report::power::section(pw);
    assert_eq!(sec.key, "power");
    assert!(sec.json["peak_w"].is_f64());
    // No mitigation in the scenario: a report solves, so raw and mitigated traces and the
    // solver's battery are charted.
    assert_eq!(sec.json["solve"]["best"]["passes"], true);
    let figs = report::power::figures(&pw.study, pw.traces.as_ref().expect("traces kept"));
    let titles: Vec<&str> = figs.iter().map(|f| f.title.as_str()).collect();
    for want in [
        "analysis window",
        "four steps",
        "whole run",
        "Spectrum",
        "Battery",
        "PUE",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(want)),
            "{want} not in {titles:?}"
        );
    }
    // direct-liquid cooling with dry coolers uses no water: no flat-zero water chart
    assert!(!titles.iter().any(|t| t.contains("Water")), "{titles:?}");
    for f in &figs {
        assert_eq!(f.section, "power");
        check_svg(f);
        assert!(f.svg.matches("<polyline").count() >= 1, "{}", f.title);
    }
    let raw_vs = figs
        .iter()
        .find(|f| f.title.contains("analysis window"))
        .unwrap();
    assert!(
        raw_vs.svg.matches("<polyline").count() >= 2,
        "raw and mitigated lines"
    );
}

#[test]
fn multisite_section_has_its_heatmap_and_bars() {
    let path = format!(
        "{}/../../examples/google-multisite-tpu.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let p = pipeline::Pipeline::new(
        spec::load_scenario(Some(std::path::Path::new(&path)), &[]).unwrap(),
    );
    let m = p.multisite().unwrap().expect("three sites");
    let points = p.multisite_sweep(&[3], &[1e5, 1e6], &[1e12, 1e13]).unwrap();
    assert_eq!(points.len(), 4);
    let figs = report::multisite::figures(&m.analysis, &points, 3);
    assert_eq!(figs.len(), 2);
    for f in &figs {
        assert_eq!(f.section, "multisite");
        check_svg(f);
    }
}

#[test]
fn slugs_name_chart_files() {
    assert_eq!(
        report::html::slug("Facility power over four steps"),
        "facility-power-over-four-steps"
    );
    assert_eq!(
        report::html::slug("Battery state of charge (from 48.0 MWh)"),
        "battery-state-of-charge-from-48-0-mwh"
    );
}
