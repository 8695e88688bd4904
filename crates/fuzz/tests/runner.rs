//! The fuzz runner: the same outcomes at any thread count, repeats that are truly the same
//! scenario (and pass when run), a key that sees every value and not the text, the budget.

use fuzz::{Config, Outcome, Parsed, Profile, Runner};
use std::time::Duration;

fn config(jobs: usize) -> Config {
    Config {
        seed: 7,
        generated: 0.1,
        budget: Duration::from_secs(60),
        jobs,
        profile: Profile::Quick,
    }
}

/// Cases 0..300 in two blocks (so repeats are found within a block and across blocks).
fn outcomes(jobs: usize) -> Vec<(u64, Outcome)> {
    let mut r = Runner::new(config(jobs)).expect("threads");
    let mut out = vec![];
    for block in [(0..150).collect::<Vec<u64>>(), (150..300).collect()] {
        for c in r.block(&block) {
            match c.result {
                Ok(o) => out.push((c.case, o)),
                Err(f) => panic!("finding in case {}: {}", f.case, f.what),
            }
        }
    }
    out
}

fn key_of(case: u64) -> [u64; 2] {
    let bytes = fuzz::case_bytes(&mut fuzz::case_rng(7, case), 0.1);
    match fuzz::parse_case(&bytes, Profile::Quick) {
        Ok(Parsed::Scenario(mut s)) => fuzz::scenario_key(&mut s),
        _ => panic!("case {case} does not parse"),
    }
}

#[test]
fn the_same_outcomes_at_one_and_three_jobs_and_repeats_are_the_same_scenario() {
    let one = outcomes(1);
    let three = outcomes(3);
    assert_eq!(one, three, "outcomes differ between 1 and 3 jobs");
    let cases: Vec<u64> = one.iter().map(|x| x.0).collect();
    assert_eq!(cases, (0..300).collect::<Vec<u64>>(), "not in case order");
    let ran = one.iter().filter(|x| x.1 == Outcome::Ran).count();
    let repeats: Vec<(u64, u64)> = one
        .iter()
        .filter_map(|&(c, o)| match o {
            Outcome::Repeat { of } => Some((c, of)),
            _ => None,
        })
        .collect();
    assert!(ran >= 5, "only {ran} cases ran the whole report");
    assert!(repeats.len() >= 5, "only {} repeats", repeats.len());
    // each repeat is of an earlier case that ran, with the same key; one from each block, run
    // in full, passes as its original did
    for &(c, of) in &repeats {
        assert!(of < c, "case {c} repeats a later case {of}");
        assert_eq!(
            one[of as usize].1,
            Outcome::Ran,
            "case {c} repeats {of}, which did not run"
        );
        assert_eq!(key_of(c), key_of(of), "case {c} and case {of}");
    }
    let across = repeats.iter().find(|&&(c, of)| c >= 150 && of < 150);
    let within = repeats.iter().find(|&&(c, of)| c < 150 && of < 150);
    for &(c, _) in across.into_iter().chain(within) {
        let bytes = fuzz::case_bytes(&mut fuzz::case_rng(7, c), 0.1);
        assert_eq!(
            fuzz::run_case(&bytes),
            Ok(Outcome::Ran),
            "case {c} run in full"
        );
    }
    assert!(across.is_some(), "no repeat across blocks");
}

#[test]
fn the_key_sees_every_value_but_not_the_text() {
    let parse = |src: &str| spec::parse_scenario("k.toml", src, fuzz::catalog()).unwrap();
    let base = spec::scenario::DEFAULT_SCENARIO;
    let mut a = parse(base);
    // a comment and a blank line change the text, not the scenario
    let mut b = parse(&format!("# a comment\n\n{base}"));
    assert_ne!(a.source.text, b.source.text);
    assert_eq!(fuzz::scenario_key(&mut a), fuzz::scenario_key(&mut b));
    // the key leaves the text in place
    assert!(b.source.text.starts_with("# a comment"));
    // one value, even at the last bit of a float, is another scenario
    let mut c = a.clone();
    let w = c.power.window_s.unwrap_or(1800.0);
    c.power.window_s = Some(f64::from_bits(w.to_bits() + 1));
    assert_ne!(fuzz::scenario_key(&mut a), fuzz::scenario_key(&mut c));
    let mut d = a.clone();
    d.seed += 1;
    assert_ne!(fuzz::scenario_key(&mut a), fuzz::scenario_key(&mut d));
}

#[test]
fn a_panic_and_a_run_past_its_budget_are_findings() {
    let (r, _) = fuzz::budgeted::<()>(Duration::from_secs(5), || panic!("boom"));
    assert_eq!(r, Err("panic: boom".to_string()));
    let (r, took) = fuzz::budgeted::<()>(Duration::from_millis(50), || {
        std::thread::sleep(Duration::from_secs(2));
        Ok(())
    });
    assert!(r.unwrap_err().contains("ran past its budget"));
    assert!(took < Duration::from_secs(1), "{took:?}");
    let (r, _) = fuzz::budgeted(Duration::from_secs(5), || Ok(3));
    assert_eq!(r, Ok(3));
}
