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
