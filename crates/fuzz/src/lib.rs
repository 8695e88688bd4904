//! The fuzz target, on stable Rust: scenarios from a structured generator (every section, valid,
//! near-valid and extreme values with units) and byte-level mutants of the examples, each driven
//! in process through `spec`, the pipeline and the whole report (`report::run`, what `run` and
//! the web server call). A case fails on a panic, on a run past its time budget, on a NaN or an
//! infinity in any model output, on a negative value of a quantity that cannot be negative, and on
//! an input error without a message or with a malformed field path.
//!
//! `cargo run --release -p fuzz -- --cases 20000` runs a fixed count (CI); `--seconds N` runs for
//! as long as asked; `--seed S` picks another sequence; a finding prints the case's scenario and
//! how to replay it (`--seed S --case I`).
//!
//! Two profiles ([`Profile`]):
//! - *quick* (the default, CI's): the whole report at its report depth with at most
//!   [`MAX_CASE_REPLICAS`] Monte Carlo replicas, and a case whose scenario resolves to exactly
//!   the one an earlier case ran through the whole report (most mutants of an example change a
//!   comment, a blank or a byte the parser then refuses) is counted as a repeat of it, not run
//!   again: the pipeline is a pure function of the resolved scenario, so it would compute the same
//!   figures. Its parse, which depends on the bytes, still runs.
//! - *full* (`--full`): every case through the whole report, repeats included, with the
//!   replicas the scenario asks for (the report depth caps them at 64): the slow path, for long
//!   local runs.
//!
//! Cases run `--jobs J` at a time (default: the machine's cores) in blocks of [`BLOCK`]; each
//! case's random sequence comes from `(seed, case)` alone and results are taken in case order
//! (the first finding in that order is the one reported), so counts and findings are the same at
//! any thread count. Each case runs on its own thread under its budget (`--budget-ms`).

pub mod check;
pub mod generate;
pub mod mutate;

use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
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

/// Monte Carlo replicas of a case's reliability section in the quick profile.
pub const MAX_CASE_REPLICAS: u64 = 4;

/// Cases taken together: parsed, repeats found, then run (a block's cases run in parallel).
pub const BLOCK: u64 = 1024;

/// How much work a case does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// At most [`MAX_CASE_REPLICAS`] replicas; a repeated scenario is not run again.
    Quick,
    /// The scenario's replicas (the report depth's cap); every case runs.
    Full,
}

/// How a case ended when it found nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `spec` refused it with a well-formed located error.
    Rejected,
    /// The pipeline refused a section with a well-formed located error.
    RejectedByModel,
    /// The whole report ran and every figure passed the checks.
    Ran,
    /// Its scenario resolved to exactly that of case `of`, which ran the whole report and passed:
    /// not run again (quick profile).
    Repeat { of: u64 },
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

/// A case after `spec`: refused (with a well-formed error), or its scenario to run.
pub enum Parsed {
    Rejected,
    Scenario(Box<spec::Scenario>),
}

/// The `spec` half of a case: UTF-8, the scenario, the checks on its error; the replicas set
/// for `profile`.
pub fn parse_case(src: &[u8], profile: Profile) -> Result<Parsed, String> {
    let text = match spec::read::utf8("case.toml", src.to_vec()) {
        Ok(t) => t,
        Err(e) => {
            check_error(&e)?;
            if e.line.is_none() {
                return Err(format!("a UTF-8 error without a line: {e}"));
            }
            return Ok(Parsed::Rejected);
        }
    };
    let mut scenario = match spec::parse_scenario("case.toml", &text, catalog()) {
        Ok(s) => s,
        Err(e) => {
            check_error(&e)?;
            return Ok(Parsed::Rejected);
        }
    };
    if profile == Profile::Quick {
        // a case must be quick: a few replicas (the bound on replicas is tested on its own; the
        // recommendations and the designs still run theirs)
        let replicas = scenario.reliability.replicas.unwrap_or(MAX_CASE_REPLICAS);
        scenario.reliability.replicas = Some(replicas.min(MAX_CASE_REPLICAS));
    }
    Ok(Parsed::Scenario(Box::new(scenario)))
}

/// The pipeline half of a case: every section of the report, its text, JSON and CSV, the checks
/// on every model output.
pub fn run_scenario(scenario: spec::Scenario) -> Result<Outcome, String> {
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

/// Run one case to its end, quick profile, no repeats: parse, every section of the report, the
/// checks.
pub fn run_case(src: &[u8]) -> Result<Outcome, String> {
    match parse_case(src, Profile::Quick)? {
        Parsed::Rejected => Ok(Outcome::Rejected),
        Parsed::Scenario(s) => run_scenario(*s),
    }
}

/// A `fmt::Write` that feeds two hashers (two 64-bit SipHash sums of the same text with
/// different first bytes: a 128-bit key).
struct HashWriter(
    std::collections::hash_map::DefaultHasher,
    std::collections::hash_map::DefaultHasher,
);

impl std::fmt::Write for HashWriter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.write(s.as_bytes());
        self.1.write(s.as_bytes());
        Ok(())
    }
}

/// What the pipeline reads of a resolved scenario, as a 128-bit key: its whole `Debug` text
/// (every field, floats to the bit but for NaN payloads; no hash map inside) without its source
/// text, which only locates a model's error (and a case whose first run ended in such an error
/// is run again, see [`Runner`]).
pub fn scenario_key(s: &mut spec::Scenario) -> [u64; 2] {
    use std::fmt::Write;
    let source = std::mem::take(&mut s.source);
    let mut w = HashWriter(Default::default(), Default::default());
    1u8.hash(&mut w.1);
    let _ = write!(w, "{s:?}");
    s.source = source;
    [w.0.finish(), w.1.finish()]
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

/// What became of one case, and the time it took (its parse and its run; 0 for a repeat's run).
pub struct CaseResult {
    pub case: u64,
    pub result: Result<Outcome, Finding>,
    pub took: Duration,
}

/// Counts of a run, and the time the cases of each outcome took together.
#[derive(Default, Debug)]
pub struct Tally {
    pub cases: u64,
    pub rejected: u64,
    pub rejected_by_model: u64,
    pub ran: u64,
    pub repeats: u64,
    pub rejected_time: Duration,
    pub rejected_by_model_time: Duration,
    pub ran_time: Duration,
    pub repeats_time: Duration,
    pub slowest: Duration,
    pub slowest_case: u64,
}

impl Tally {
    /// Count a case that found nothing.
    pub fn add(&mut self, case: u64, o: Outcome, took: Duration) {
        self.cases += 1;
        if took > self.slowest {
            self.slowest = took;
            self.slowest_case = case;
        }
        let (n, t) = match o {
            Outcome::Rejected => (&mut self.rejected, &mut self.rejected_time),
            Outcome::RejectedByModel => (
                &mut self.rejected_by_model,
                &mut self.rejected_by_model_time,
            ),
            Outcome::Ran => (&mut self.ran, &mut self.ran_time),
            Outcome::Repeat { .. } => (&mut self.repeats, &mut self.repeats_time),
        };
        *n += 1;
        *t += took;
    }
}

/// Run `f` on its own thread with `budget`: a panic is caught, a run past the budget is an error
/// (its thread is left behind; the caller stops).
pub fn budgeted<T: Send + 'static>(
    budget: Duration,
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> (Result<T, String>, Duration) {
    let (tx, rx) = std::sync::mpsc::channel();
    let start = Instant::now();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    let r = match rx.recv_timeout(budget) {
        Ok(Ok(r)) => r,
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
    (r, start.elapsed())
}

/// How a run draws and runs its cases.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    /// Share of cases from the generator (the rest are mutants of [`SEEDS`]).
    pub generated: f64,
    /// Most time one case may take, its parse and its run together.
    pub budget: Duration,
    /// Cases at a time.
    pub jobs: usize,
    pub profile: Profile,
}

/// A run's cases, block by block, with the scenarios that ran the whole report so far (quick
/// profile: a later case that resolves to one of them is a repeat).
pub struct Runner {
    pub config: Config,
    ran: HashMap<[u64; 2], u64>,
    /// `jobs` threads of its own for the cases, which wait there on their budgeted threads (the
    /// pipeline inside a case uses the global pool, which must stay free for it).
    pool: rayon::ThreadPool,
}

/// A case between its parse and its run.
enum Stage {
    Done(Result<Outcome, String>),
    /// To run (its key, its scenario).
    Run([u64; 2], Box<spec::Scenario>),
    /// Waits for the first case of the block with the same key (its index in the block).
    Wait(usize, Box<spec::Scenario>),
}

impl Runner {
    /// A runner, or the error of starting its threads.
    pub fn new(config: Config) -> Result<Runner, rayon::ThreadPoolBuildError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.jobs.max(1))
            .build()?;
        Ok(Runner {
            config,
            ran: HashMap::new(),
            pool,
        })
    }

    /// Run `cases` (in any order of indices): parse them all, find the repeats in the given order,
    /// run the rest; the results in the given order. A case whose first run did not pass (a
    /// model's located error, whose line comes from the case's own text, or a finding) is no
    /// reason to skip a later one: that one runs.
    pub fn block(&mut self, cases: &[u64]) -> Vec<CaseResult> {
        let c = self.config.clone();
        let pool = &self.pool;
        // parse, each case on its own thread under the budget
        let parsed: Vec<(Vec<u8>, Result<Parsed, String>, Duration)> = pool.install(|| {
            cases
                .par_iter()
                .with_max_len(1)
                .map(|&i| {
                    let bytes = case_bytes(&mut case_rng(c.seed, i), c.generated);
                    let b = bytes.clone();
                    let profile = c.profile;
                    let (r, took) = budgeted(c.budget, move || parse_case(&b, profile));
                    (bytes, r, took)
                })
                .collect()
        });
        // repeats, in the given order
        let mut first: HashMap<[u64; 2], usize> = HashMap::new();
        let mut stages = vec![];
        let mut bytes = vec![];
        let mut took = vec![];
        for (k, (b, r, t)) in parsed.into_iter().enumerate() {
            bytes.push(b);
            took.push(t);
            stages.push(match r {
                Err(e) => Stage::Done(Err(e)),
                Ok(Parsed::Rejected) => Stage::Done(Ok(Outcome::Rejected)),
                Ok(Parsed::Scenario(mut s)) => {
                    let key = scenario_key(&mut s);
                    if c.profile == Profile::Full {
                        Stage::Run(key, s)
                    } else if let Some(&of) = self.ran.get(&key) {
                        Stage::Done(Ok(Outcome::Repeat { of }))
                    } else if let Some(&j) = first.get(&key) {
                        Stage::Wait(j, s)
                    } else {
                        first.insert(key, k);
                        Stage::Run(key, s)
                    }
                }
            });
        }
        let run = |stages: &mut Vec<Stage>, took: &mut Vec<Duration>, todo: Vec<usize>| {
            let jobs: Vec<(usize, Duration, Box<spec::Scenario>)> = todo
                .into_iter()
                .map(|k| {
                    let placeholder = Stage::Done(Ok(Outcome::Ran));
                    match std::mem::replace(&mut stages[k], placeholder) {
                        Stage::Run(_, s) | Stage::Wait(_, s) => (k, took[k], s),
                        Stage::Done(_) => unreachable!("only a scenario is run"),
                    }
                })
                .collect();
            let results: Vec<_> = pool.install(|| {
                jobs.into_par_iter()
                    .with_max_len(1)
                    .map(|(k, parse, s)| {
                        // the budget is the case's: its parse and its run together
                        let (r, t) =
                            budgeted(c.budget.saturating_sub(parse), move || run_scenario(*s));
                        let r = r.map_err(|e| match e.starts_with("ran past its budget") {
                            true => format!(
                                "ran past its budget of {:?} (its parse took {parse:?})",
                                c.budget
                            ),
                            false => e,
                        });
                        (k, r, t)
                    })
                    .collect()
            });
            for (k, r, t) in results {
                stages[k] = Stage::Done(r);
                took[k] += t;
            }
        };
        // the first of each scenario
        let todo: Vec<usize> = (0..stages.len())
            .filter(|&k| matches!(stages[k], Stage::Run(..)))
            .collect();
        let keys: Vec<(usize, [u64; 2])> = todo
            .iter()
            .map(|&k| match &stages[k] {
                Stage::Run(key, _) => (k, *key),
                _ => unreachable!("filtered above"),
            })
            .collect();
        run(&mut stages, &mut took, todo);
        // the others: a repeat of one that passed, else run
        let mut again = vec![];
        for k in 0..stages.len() {
            if let Stage::Wait(j, _) = stages[k] {
                if matches!(stages[j], Stage::Done(Ok(Outcome::Ran))) {
                    stages[k] = Stage::Done(Ok(Outcome::Repeat { of: cases[j] }));
                } else {
                    again.push(k);
                }
            }
        }
        run(&mut stages, &mut took, again);
        if c.profile == Profile::Quick {
            for (k, key) in keys {
                if matches!(stages[k], Stage::Done(Ok(Outcome::Ran))) {
                    self.ran.entry(key).or_insert(cases[k]);
                }
            }
        }
        stages
            .into_iter()
            .zip(bytes)
            .zip(took)
            .enumerate()
            .map(|(k, ((st, b), t))| {
                let r = match st {
                    Stage::Done(r) => r,
                    _ => unreachable!("every case has run"),
                };
                CaseResult {
                    case: cases[k],
                    result: r.map_err(|what| Finding {
                        case: cases[k],
                        scenario: b,
                        what,
                    }),
                    took: t,
                }
            })
            .collect()
    }
}
