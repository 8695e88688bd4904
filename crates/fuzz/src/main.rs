//! `megacluster-fuzz [--cases N | --seconds S] [--seed S] [--budget-ms MS] [--generated P]
//! [--jobs J] [--full] [--list] [--case I]`: run the fuzz target, `J` cases at a time (default:
//! the machine's cores), in the quick profile (or the full one, `--full`; see the crate's doc);
//! `--list` prints each case's outcome in case order. Exit 1 on a finding (the first in case
//! order), printing the case's scenario and how to replay it.

use std::time::{Duration, Instant};

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let seed: u64 = arg(&args, "--seed").unwrap_or(1);
    let only: Option<u64> = arg(&args, "--case");
    let cases: u64 = match only {
        Some(_) => 1,
        None => arg(&args, "--cases").unwrap_or(if flag("--seconds") { u64::MAX } else { 20_000 }),
    };
    let seconds: f64 = arg(&args, "--seconds").unwrap_or(f64::INFINITY);
    let jobs: usize = arg(&args, "--jobs").unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let profile = if flag("--full") {
        fuzz::Profile::Full
    } else {
        fuzz::Profile::Quick
    };
    let list = flag("--list");
    let mut runner = fuzz::Runner::new(fuzz::Config {
        seed,
        generated: arg(&args, "--generated").unwrap_or(0.1),
        budget: Duration::from_millis(arg(&args, "--budget-ms").unwrap_or(30_000)),
        jobs: jobs.max(1),
        profile,
    })
    .unwrap_or_else(|e| {
        eprintln!("error: cannot start {jobs} threads for the cases: {e}");
        std::process::exit(2);
    });
    // a panic is a finding, reported with its case; the hook's own message stays quiet
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let mut tally = fuzz::Tally::default();
    let mut next = 0u64;
    while next < cases && start.elapsed().as_secs_f64() < seconds {
        let n = fuzz::BLOCK.min(cases - next);
        let block: Vec<u64> = match only {
            Some(i) => vec![i],
            None => (next..next + n).collect(),
        };
        next += n;
        for r in runner.block(&block) {
            match r.result {
                Ok(o) => {
                    if list {
                        println!("case {}: {}", r.case, outcome_words(o));
                    }
                    tally.add(r.case, o, r.took);
                }
                Err(f) => {
                    eprintln!(
                        "finding in case {} (replay: --seed {seed} --case {}):\n{}\n--- scenario ---\n{}",
                        f.case,
                        f.case,
                        f.what,
                        String::from_utf8_lossy(&f.scenario[..f.scenario.len().min(4000)])
                    );
                    // a case past its budget leaves its thread running: end the process
                    std::process::exit(1);
                }
            }
        }
    }
    let t = tally;
    let each = |n: u64, d: Duration| {
        if n == 0 {
            0.0
        } else {
            d.as_secs_f64() / n as f64 * 1e3
        }
    };
    println!(
        "{} cases in {:.1} s ({} at a time, {} profile): {} rejected by spec, {} by a model, {} ran the whole report, {} repeated a scenario that ran (not run again); slowest case {:.2} s (case {}); no finding",
        t.cases,
        start.elapsed().as_secs_f64(),
        jobs,
        match profile {
            fuzz::Profile::Quick => "quick",
            fuzz::Profile::Full => "full",
        },
        t.rejected,
        t.rejected_by_model,
        t.ran,
        t.repeats,
        t.slowest.as_secs_f64(),
        t.slowest_case,
    );
    println!(
        "time per case: rejected by spec {:.2} ms, by a model {:.1} ms, whole report {:.1} ms, repeat {:.2} ms (totals {:.1} s, {:.1} s, {:.1} s, {:.1} s)",
        each(t.rejected, t.rejected_time),
        each(t.rejected_by_model, t.rejected_by_model_time),
        each(t.ran, t.ran_time),
        each(t.repeats, t.repeats_time),
        t.rejected_time.as_secs_f64(),
        t.rejected_by_model_time.as_secs_f64(),
        t.ran_time.as_secs_f64(),
        t.repeats_time.as_secs_f64(),
    );
}

fn outcome_words(o: fuzz::Outcome) -> String {
    match o {
        fuzz::Outcome::Rejected => "rejected by spec".into(),
        fuzz::Outcome::RejectedByModel => "rejected by a model".into(),
        fuzz::Outcome::Ran => "ran the whole report".into(),
        fuzz::Outcome::Repeat { of } => format!("repeat of case {of}"),
    }
}
