//! `megacluster-fuzz [--cases N | --seconds S] [--seed S] [--budget-ms MS] [--generated P]
//! [--case I]`: run the fuzz target; exit 1 on the first finding, printing the case's scenario.

use std::time::{Duration, Instant};

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = arg(&args, "--seed").unwrap_or(1);
    let cases: Option<u64> = arg(&args, "--cases");
    let seconds: Option<f64> = arg(&args, "--seconds");
    let budget = Duration::from_millis(arg(&args, "--budget-ms").unwrap_or(20_000));
    let generated: f64 = arg(&args, "--generated").unwrap_or(0.1);
    let only: Option<u64> = arg(&args, "--case");
    // a panic is a finding, reported with its case; the hook's own message stays quiet
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let mut tally = fuzz::Tally::default();
    let mut i = only.unwrap_or(0);
    loop {
        let done = match (only, cases, seconds) {
            (Some(c), _, _) => i > c,
            (None, Some(n), _) => tally.cases >= n,
            (None, None, Some(s)) => start.elapsed().as_secs_f64() >= s,
            (None, None, None) => tally.cases >= 20_000,
        };
        if done {
            break;
        }
        let (r, took) = fuzz::run_budgeted(seed, i, generated, budget);
        tally.cases += 1;
        tally.slowest = tally.slowest.max(took);
        match r {
            Ok(fuzz::Outcome::Rejected) => tally.rejected += 1,
            Ok(fuzz::Outcome::RejectedByModel) => tally.rejected_by_model += 1,
            Ok(fuzz::Outcome::Ran) => tally.ran += 1,
            Err(f) => {
                eprintln!(
                    "finding in case {} (replay: --seed {seed} --case {}):\n{}\n--- scenario ---\n{}",
                    f.case,
                    f.case,
                    f.what,
                    String::from_utf8_lossy(&f.scenario[..f.scenario.len().min(4000)])
                );
                std::process::exit(1);
            }
        }
        i += 1;
    }
    println!(
        "{} cases in {:.1} s: {} rejected by spec, {} by a model, {} ran the whole report; slowest case {:.2} s; no finding",
        tally.cases,
        start.elapsed().as_secs_f64(),
        tally.rejected,
        tally.rejected_by_model,
        tally.ran,
        tally.slowest.as_secs_f64()
    );
}
