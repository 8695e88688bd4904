//! The fuzz target, on stable Rust: scenarios from a structured generator (every section, valid,
//! near-valid and extreme values with units) and byte-level mutants of the examples, each driven
//! in process through `spec`, the pipeline and the whole report (`report::run`, what `run` and
//! the web server call). A case fails on a panic, on a run past its time budget, on a NaN or an
//! infinity in any model output, on a negative value of a quantity that cannot be negative, and on
//! an input error without a message or with a malformed field path.
//!
//! `cargo run --release -p fuzz -- --cases 2000` runs a fixed count (CI); `--seconds N` runs for
//! as long as asked; `--seed S` picks another sequence; a finding prints the case's scenario.

pub mod check;
pub mod generate;
pub mod mutate;

use rand::{Rng, SeedableRng};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The example scenarios (and the built-in default) the mutator starts from.
pub const SEEDS: &[(&str, &str)] = &[
    ("default.toml", spec::scenario::DEFAULT_SCENARIO),
    (
        "anthropic-trainium.toml",
        include_str!("../../../examples/anthropic-trainium.toml"),
    ),
    (
        "deepseek-v3.toml",
        include_str!("../../../examples/deepseek-v3.toml"),
    ),
    (
        "five-regions.toml",
        include_str!("../../../examples/five-regions.toml"),
    ),
    (
        "google-multisite-tpu.toml",
        include_str!("../../../examples/google-multisite-tpu.toml"),
    ),
    (
        "meta-2gw.toml",
        include_str!("../../../examples/meta-2gw.toml"),
    ),
    (
        "meta-llama3.toml",
        include_str!("../../../examples/meta-llama3.toml"),
    ),
    (
        "million-gpus.toml",
        include_str!("../../../examples/million-gpus.toml"),
    ),
    (
        "stargate-abilene.toml",
        include_str!("../../../examples/stargate-abilene.toml"),
    ),
    (
        "xai-colossus.toml",
        include_str!("../../../examples/xai-colossus.toml"),
    ),
];

/// The embedded catalogue, loaded once.
pub fn catalog() -> &'static spec::Catalog {
    static C: OnceLock<spec::Catalog> = OnceLock::new();
    C.get_or_init(spec::Catalog::embedded)
}

/// Monte Carlo replicas of a case's reliability section.
pub const MAX_CASE_REPLICAS: u64 = 4;

/// How a case ended when it found nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `spec` refused it with a well-formed located error.
    Rejected,
    /// The pipeline refused a section with a well-formed located error.
    RejectedByModel,
    /// The whole report ran and every figure passed the checks.
    Ran,
}

/// A located error must say something and name a well-formed field.
fn check_error(e: &spec::SpecError) -> Result<(), String> {
    if e.message.trim().is_empty() || e.message.trim_end().ends_with(':') {
        return Err(format!("an error without a message: {e}"));
    }
    if e.file.is_empty() {
        return Err(format!("an error without a file: {e}"));
    }
    if e.path.ends_with('.') || e.path.starts_with('.') || e.path.contains("..") {
        return Err(format!("an error with a malformed field path: {e}"));
    }
    Ok(())
}

/// Run one case to its end: parse, every section of the report, the checks.
pub fn run_case(src: &[u8]) -> Result<Outcome, String> {
    let text = match spec::read::utf8("case.toml", src.to_vec()) {
        Ok(t) => t,
        Err(e) => {
            check_error(&e)?;
            if e.line.is_none() {
                return Err(format!("a UTF-8 error without a line: {e}"));
            }
            return Ok(Outcome::Rejected);
        }
    };
    let mut scenario = match spec::parse_scenario("case.toml", &text, catalog()) {
        Ok(s) => s,
        Err(e) => {
            check_error(&e)?;
            return Ok(Outcome::Rejected);
        }
    };
    // a case must be quick: a few replicas (the bound on replicas is tested on its own; the
    // recommendations and the designs still run theirs)
    let replicas = scenario.reliability.replicas.unwrap_or(MAX_CASE_REPLICAS);
    scenario.reliability.replicas = Some(replicas.min(MAX_CASE_REPLICAS));
    let p = pipeline::Pipeline::with_options(scenario, report::run::options(false));
    let r = match report::run::report(&p, false) {
        Ok((r, _)) => r,
        Err(pipeline::Error::Input(e)) => {
            check_error(&e)?;
            return Ok(Outcome::RejectedByModel);
        }
        Err(pipeline::Error::Model(m)) => return Err(format!("a model error: {m}")),
    };
    // the words and the bytes of the report (formatting must not panic either)
    let _ = r.text();
    report::run::json_text(&r).map_err(|e| format!("the report's JSON: {e}"))?;
    let _ = report::run::csv_text(&r);
    let mut found = check::findings("plan", p.plan());
    if let Ok(Some(t)) = p.step() {
        found.extend(check::findings("train", &t.profile));
    }
    if let Ok(rel) = p.reliability() {
        found.extend(check::findings("reliability", &rel.summary));
        found.extend(check::findings("reliability.ettr", &rel.ettr_per_replica));
    }
    if let Ok(Some(d)) = p.designs() {
        found.extend(check::findings("designs", d));
    }
    if let Ok(pw) = p.power() {
        found.extend(check::findings("power", &pw.study));
        for (i, s) in pw.sites.iter().enumerate() {
            found.extend(check::findings(&format!("power.sites[{i}]"), &s.study));
        }
    }
    if let Ok(Some(m)) = p.multisite() {
        found.extend(check::findings("multisite", &m.analysis));
    }
    if found.is_empty() {
        Ok(Outcome::Ran)
    } else {
        Err(found.join("\n"))
    }
}

/// One case's scenario bytes: generated (`generated` of the time) or a mutant of an example.
pub fn case_bytes(rng: &mut rand_pcg::Pcg64Mcg, generated: f64) -> Vec<u8> {
    if rng.gen::<f64>() < generated {
        generate::scenario(rng).into_bytes()
    } else {
        let (_, src) = SEEDS[rng.gen_range(0..SEEDS.len())];
        mutate::mutate(rng, src.as_bytes())
    }
}

/// The random sequence of case `i` of a run seeded `seed` (cases are independent, so a finding
/// is replayed with `--seed S --case I`).
pub fn case_rng(seed: u64, i: u64) -> rand_pcg::Pcg64Mcg {
    rand_pcg::Pcg64Mcg::seed_from_u64(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// A case that failed: its index, scenario and what was found.
pub struct Finding {
    pub case: u64,
    pub scenario: Vec<u8>,
    pub what: String,
}

/// Counts of a run.
#[derive(Default, Debug)]
pub struct Tally {
    pub cases: u64,
    pub rejected: u64,
    pub rejected_by_model: u64,
    pub ran: u64,
    pub slowest: Duration,
}

/// Run case `i` on its own thread with `budget`: a panic is caught, a run past the budget is a
/// finding (its thread is left behind; the caller stops).
pub fn run_budgeted(
    seed: u64,
    i: u64,
    generated: f64,
    budget: Duration,
) -> (Result<Outcome, Finding>, Duration) {
    let mut rng = case_rng(seed, i);
    let bytes = case_bytes(&mut rng, generated);
    let (tx, rx) = std::sync::mpsc::channel();
    let b = bytes.clone();
    let start = Instant::now();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(|| run_case(&b));
        let _ = tx.send(r);
    });
    let r = match rx.recv_timeout(budget) {
        Ok(Ok(Ok(o))) => Ok(o),
        Ok(Ok(Err(what))) => Err(what),
        Ok(Err(p)) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panic: {msg}"))
        }
        Err(_) => Err(format!("ran past its budget of {budget:?}")),
    };
    let took = start.elapsed();
    (
        r.map_err(|what| Finding {
            case: i,
            scenario: bytes,
            what,
        }),
        took,
    )
}
