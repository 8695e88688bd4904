//! `megacluster-fuzz [--cases N | --seconds S] [--seed S] [--budget-ms MS] [--generated P]
//! [--jobs J] [--case I]`: run the fuzz target, `J` cases at a time (default: the machine's
//! cores); exit 1 on the first finding, printing the case's scenario and how to replay it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
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
    let only: Option<u64> = arg(&args, "--case");
    let cases: u64 = match only {
        Some(_) => 1,
        None => arg(&args, "--cases").unwrap_or(if args.iter().any(|a| a == "--seconds") {
            u64::MAX
        } else {
            20_000
        }),
    };
    let seconds: f64 = arg(&args, "--seconds").unwrap_or(f64::INFINITY);
    let budget = Duration::from_millis(arg(&args, "--budget-ms").unwrap_or(30_000));
    let generated: f64 = arg(&args, "--generated").unwrap_or(0.1);
    let jobs: usize = arg(&args, "--jobs").unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    // a panic is a finding, reported with its case; the hook's own message stays quiet
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let tally = Mutex::new(fuzz::Tally::default());
    std::thread::scope(|sc| {
        for _ in 0..jobs.max(1) {
            sc.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= cases || stop.load(Ordering::Relaxed) || start.elapsed().as_secs_f64() >= seconds {
                    break;
                }
                let i = only.unwrap_or(k);
                let (r, took) = fuzz::run_budgeted(seed, i, generated, budget);
                let mut t = tally.lock().unwrap_or_else(|e| e.into_inner());
                t.cases += 1;
                t.slowest = t.slowest.max(took);
                match r {
                    Ok(fuzz::Outcome::Rejected) => t.rejected += 1,
                    Ok(fuzz::Outcome::RejectedByModel) => t.rejected_by_model += 1,
                    Ok(fuzz::Outcome::Ran) => t.ran += 1,
                    Err(f) => {
                        if !stop.swap(true, Ordering::Relaxed) {
                            eprintln!(
                                "finding in case {} (replay: --seed {seed} --case {}):\n{}\n--- scenario ---\n{}",
                                f.case,
                                f.case,
                                f.what,
                                String::from_utf8_lossy(&f.scenario[..f.scenario.len().min(4000)])
                            );
                        }
                        // a case past its budget leaves its thread running: end the process
                        std::process::exit(1);
                    }
                }
            });
        }
    });
    let t = tally.into_inner().unwrap_or_else(|e| e.into_inner());
    println!(
        "{} cases in {:.1} s ({} at a time): {} rejected by spec, {} by a model, {} ran the whole report; slowest case {:.2} s; no finding",
        t.cases,
        start.elapsed().as_secs_f64(),
        jobs,
        t.rejected,
        t.rejected_by_model,
        t.ran,
        t.slowest.as_secs_f64()
    );
}
