//! `report::run::report` evaluates the Monte Carlo beside the power study
//! (`Pipeline::evaluate_report`); the report must be the bytes of one that asks for each section
//! in turn on its own pipeline.

use std::path::Path;

fn in_turn(s: &spec::Scenario) -> String {
    let p = pipeline::Pipeline::with_options(s.clone(), report::run::options(false));
    let mut r = report::Report {
        title: s.name.clone(),
        sections: vec![],
    };
    for x in report::run::Part::ALL {
        if let Some((sec, _)) = report::run::part(&p, x, false).unwrap() {
            r.sections.push(sec);
        }
    }
    report::run::json_text(&r).unwrap()
}

fn together(s: &spec::Scenario) -> String {
    let p = pipeline::Pipeline::with_options(s.clone(), report::run::options(false));
    report::run::json_text(&report::run::report(&p, false).unwrap().0).unwrap()
}

#[test]
fn the_concurrent_report_is_the_report_in_turn() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut scenarios = vec![spec::load_scenario(None, &[]).unwrap()];
    // one site with a searched layout and five sites with multi-site power
    for f in ["xai-colossus.toml", "five-regions.toml"] {
        scenarios.push(spec::load_scenario(Some(&examples.join(f)), &[]).unwrap());
    }
    for s in &scenarios {
        let (a, b) = (in_turn(s), together(s));
        assert!(a.len() > 1000, "{}: a whole report", s.name);
        assert!(a == b, "{}: the concurrent report differs", s.name);
    }
}
