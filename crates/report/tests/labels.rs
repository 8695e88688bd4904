//! Labels that misled a new user on the default scenario, each now saying what the figure is.

#[test]
fn the_default_report_labels_say_what_each_figure_is() {
    let p = pipeline::Pipeline::new(spec::load_scenario(None, &[]).expect("default scenario"));
    let (r, _) = report::run::report(&p, false).unwrap();
    let text = |key: &str| {
        r.sections
            .iter()
            .find(|s| s.key == key)
            .unwrap_or_else(|| panic!("{key}"))
            .text
            .clone()
    };
    let (plan, train, rel, power) = (
        text("plan"),
        text("train"),
        text("reliability"),
        text("power"),
    );
    // the searched layout's zero-bubble schedule is ZB-H1, which keeps a bubble (its fill and
    // drain rows), and the power section spreads that bubble in a 1F1B arrangement
    assert!(train.contains("ZB-H1 zero-bubble schedule"), "{train}");
    assert!(train.contains("pipeline_fill") && train.contains("pipeline_drain"));
    assert!(
        power.contains("idling the step's bubble at its own place (placed as in a 1F1B schedule)"),
        "{power}"
    );
    // "overlap dp" beside a dp_comm row: the row is what overlap does not hide
    assert!(
        train.contains(
            "Overlapped communication that still shows (the part compute does not hide): "
        ) && train.contains("dp_comm 10.2 %"),
        "{train}"
    );
    // two yearly energies: the plan's is costed, the cooling study's is this run's
    assert!(
        plan.contains("Energy per year, costed (at 75.0 % of nameplate, catalogue PUE)"),
        "{plan}"
    );
    assert!(
        power.contains("IT / facility energy (this run, not costed)"),
        "{power}"
    );
    // the dynamic-range limit is a share of each trace's own peak: 12.91 MW unmitigated, 11.59 MW
    // with the solver's battery, both printed where they differ
    assert!(power.contains("12.91 MW / 11.59 MW"), "{power}");
    // the strongest frequency overall (the restart's) and in the grid code's band, on two rows
    assert!(power.contains("strongest frequency overall"), "{power}");
    assert!(
        power.contains("strongest frequency in 0.1-20 Hz") && power.contains("0.806 Hz"),
        "{power}"
    );
    assert!(!power.contains("0.001 Hz (0.806 Hz)"), "{power}");
    // the standby advice comes from its own runs, not from the peak p95 above it
    assert!(rel.contains("of the recommendation's own runs"), "{rel}");
}

/// The page shows real tables, each with its CSV, and the power traces as CSV beside them.
#[test]
fn every_table_has_its_csv_and_the_page_links_them() {
    let p = pipeline::Pipeline::new(spec::load_scenario(None, &[]).expect("default scenario"));
    let (r, figs) = report::run::report(&p, true).unwrap();
    let files = report::run::csv_files(&p, &r);
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    for want in [
        "report.csv",
        "plan-02-power-chain-per-gpu.csv",
        "power-trace-window.csv",
        "power-trace-run.csv",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    let chain = &files
        .iter()
        .find(|(n, _)| n == "plan-02-power-chain-per-gpu.csv")
        .unwrap()
        .1;
    let chain = String::from_utf8(chain.clone()).unwrap();
    assert!(
        chain.starts_with("hall,GPU TDP,system,IT,PUE,facility\n"),
        "{chain}"
    );
    assert!(
        chain.contains(",700.0 W,1.275 kW,1.403 kW,1.14,1.599 kW"),
        "{chain}"
    );
    // the window at 10 ms: 30 min = 180,000 samples and a header
    let window = &files
        .iter()
        .find(|(n, _)| n == "power-trace-window.csv")
        .unwrap()
        .1;
    assert_eq!(window.iter().filter(|b| **b == b'\n').count(), 180_001);
    let page = report::html::page_with_files(&r, &figs, &names);
    assert!(!page.contains("<pre>"));
    assert!(page.matches("<table class=\"sortable").count() >= 15);
    assert!(page.contains("href=\"plan-02-power-chain-per-gpu.csv\""));
    assert!(page.contains("href=\"power-trace-window.csv\""));
}
