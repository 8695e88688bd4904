//! Step model against published training throughput (`validation/perf.toml`).
//! Run with `--nocapture` to see the error table that `validation/perf.md` carries.

use perf::fabric::{hall_levels, Fabric};
use perf::step::{Precision, Recompute, Schedule};
use perf::*;

const DATA: &str = include_str!("../../../validation/perf.toml");

struct Row {
    id: String,
    name: String,
    group: String,
    metric: String,
    formula: String,
    measured: f64,
    predicted: f64,
    /// Why the model misses the 15 % bound on this row, with the error it gives (`miss`,
    /// `miss_error` in validation/perf.toml); `None` for a row held to the bound.
    miss: Option<(String, f64)>,
}

fn catalogue(doc: &toml::Table) -> spec::Catalog {
    let mut cat = spec::Catalog::embedded();
    let mut extra = toml::Table::new();
    for kind in ["system", "fabric", "model"] {
        if let Some(t) = doc.get(kind) {
            extra.insert(kind.into(), t.clone());
        }
    }
    cat.add_file("validation/perf.toml", &toml::to_string(&extra).unwrap())
        .unwrap();
    cat
}

fn overlap_of(r: &toml::Table) -> Overlap {
    let list: Vec<String> = r["overlap"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let has = |k: &str| list.iter().any(|x| x == k);
    Overlap {
        tp: has("tp"),
        pp: has("pp"),
        dp: has("dp"),
        ep: has("ep"),
        cp: has("cp"),
    }
}

fn int(t: &toml::Table, k: &str, default: i64) -> u32 {
    t.get(k).and_then(|v| v.as_integer()).unwrap_or(default) as u32
}

fn evaluate_row(cat: &spec::Catalog, r: &toml::Table) -> Row {
    let id = r["id"].as_str().unwrap().to_string();
    let mut arch: spec::ModelArch = cat.get(r["model"].as_str().unwrap()).unwrap();
    arch.layers += int(r, "extra_layers", 0);
    let system: spec::System = cat.get(r["system"].as_str().unwrap()).unwrap();
    let accelerator: spec::Accelerator = cat.get(&system.accelerator).unwrap();
    let scale_up: spec::ScaleUp = cat.get(&system.scale_up).unwrap();
    let fabric: spec::Fabric = cat.get(r["fabric"].as_str().unwrap()).unwrap();
    let gpus = r["gpus"].as_integer().unwrap() as u64;
    let hall = spec::scenario::Hall {
        name: id.clone(),
        gpus,
        system,
        accelerator: accelerator.clone(),
        scale_up,
        fabric,
    };
    let cluster = Cluster {
        gpus,
        hardware: Hardware::from_accelerator(&accelerator),
        fabric: Fabric {
            levels: hall_levels(&hall),
        }
        .normalised(gpus),
    };
    let precision = match r.get("precision").and_then(|v| v.as_str()) {
        Some("fp8") => Precision::Fp8,
        _ => Precision::Bf16,
    };
    let seq = r["seq"].as_integer().unwrap() as u32;
    let w = Workload {
        model: Model::from_arch(&arch),
        seq,
        global_batch_seqs: r["batch"].as_integer().unwrap() as u64,
        tokens: 1e12,
        precision,
        software: Software {
            flash_attention: r["flash"].as_bool().unwrap(),
            dropout: r["dropout"].as_bool().unwrap(),
        },
    };
    let p = r["parallelism"].as_table().unwrap();
    let interleave = int(p, "interleave", 1);
    let schedule = match p.get("schedule").and_then(|v| v.as_str()) {
        Some("zero-bubble") => Schedule::ZeroBubble,
        _ if interleave > 1 => Schedule::Interleaved,
        _ => Schedule::OneFOneB,
    };
    let cfg = Config {
        tp: int(p, "tp", 1),
        pp: int(p, "pp", 1),
        cp: int(p, "cp", 1),
        ep: int(p, "ep", 1),
        dp: int(p, "dp", 1),
        microbatch: int(p, "microbatch", 1),
        recompute: match p["recompute"].as_str().unwrap() {
            "full" => Recompute::Full,
            "selective" => Recompute::Selective,
            _ => Recompute::None,
        },
        schedule,
        interleave,
        zero: int(p, "zero", 0) as u8,
        sequence_parallel: p
            .get("sequence_parallel")
            .and_then(|v| v.as_bool())
            .unwrap_or(true),
        overlap: overlap_of(r),
    };
    let prof = profile(&w, &cluster, &cfg).unwrap_or_else(|e| panic!("{id}: {e:?}"));
    assert!(prof.step_time_s.is_finite() && prof.step_time_s > 0.0);
    if std::env::var("PERF_BREAKDOWN").is_ok() {
        let parts: Vec<String> = prof
            .phases
            .iter()
            .map(|p| format!("{} {:.3}", p.name, p.duration_s))
            .collect();
        println!(
            "{id}: step {:.3} s = {}",
            prof.step_time_s,
            parts.join(", ")
        );
    }
    let metric = r["metric"].as_str().unwrap().to_string();
    let formula = r
        .get("flop_formula")
        .and_then(|v| v.as_str())
        .unwrap_or("-")
        .to_string();
    let g = gpus as f64;
    let predicted = match metric.as_str() {
        "step_time_s" => prof.step_time_s,
        "tokens_per_s_per_gpu" => prof.tokens_per_s / g,
        "gpu_hours_per_t_tokens" => 1e12 / prof.tokens_per_s * g / 3600.0,
        "tflops_per_gpu" => match formula.as_str() {
            "model" => prof.model_flops_per_gpu_per_s / 1e12,
            // Narayanan et al. 2021 eq. 3: 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)), full recompute
            "narayanan" => {
                let m = &w.model;
                let (b, s, l, h, v) = (
                    w.global_batch_seqs as f64,
                    seq as f64,
                    m.layers as f64,
                    m.hidden,
                    m.vocab,
                );
                96.0 * b * s * l * h * h * (1.0 + s / (6.0 * h) + v / (16.0 * l * h))
                    / (prof.step_time_s * g)
                    / 1e12
            }
            f => panic!("{id}: unknown flop formula {f}"),
        },
        m => panic!("{id}: unknown metric {m}"),
    };
    Row {
        id,
        name: r["name"].as_str().unwrap().to_string(),
        group: r["group"].as_str().unwrap().to_string(),
        metric,
        formula,
        measured: r["measured"].as_float().unwrap(),
        predicted,
        miss: r.get("miss").map(|why| {
            (
                why.as_str().expect("miss is text").to_string(),
                r.get("miss_error")
                    .and_then(|v| v.as_float())
                    .expect("a miss records its error (miss_error)"),
            )
        }),
    }
}

/// The bound on every row outside the Korthikanti eight: |error| ≤ 15 %.
const BOUND: f64 = 0.15;

fn rows() -> Vec<Row> {
    let doc: toml::Table = toml::from_str(DATA).unwrap();
    let cat = catalogue(&doc);
    doc["row"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| evaluate_row(&cat, r.as_table().unwrap()))
        .collect()
}

#[test]
fn published_runs() {
    let rows = rows();
    println!("| id | run | metric (FLOP formula) | measured | model | error | bound |");
    println!("|---|---|---|---:|---:|---:|---:|");
    for r in &rows {
        let err = r.predicted / r.measured - 1.0;
        println!(
            "| {} | {} | {} ({}) | {:.4} | {:.4} | {:+.1} % | {} |",
            r.id,
            r.name,
            r.metric,
            r.formula,
            r.measured,
            r.predicted,
            100.0 * err,
            if r.group == "korthikanti" {
                "mean 5 %, max 10 %".to_string()
            } else if r.miss.is_some() {
                format!("{:.0} %: **miss**", 100.0 * BOUND)
            } else {
                format!("{:.0} %", 100.0 * BOUND)
            }
        );
    }
    let k: Vec<f64> = rows
        .iter()
        .filter(|r| r.group == "korthikanti")
        .map(|r| (r.predicted / r.measured - 1.0).abs())
        .collect();
    assert_eq!(k.len(), 8);
    let mean = k.iter().sum::<f64>() / k.len() as f64;
    let max = k.iter().cloned().fold(0.0, f64::max);
    println!(
        "Korthikanti eight: mean |error| {:.2} %, max {:.2} %",
        100.0 * mean,
        100.0 * max
    );
    let others: Vec<f64> = rows
        .iter()
        .filter(|r| r.group != "korthikanti")
        .map(|r| (r.predicted / r.measured - 1.0).abs())
        .collect();
    let misses = rows.iter().filter(|r| r.miss.is_some()).count();
    println!(
        "other rows: mean |error| {:.2} %, max {:.2} %; {misses} of {} beyond the {:.0} % bound (misses)",
        100.0 * others.iter().sum::<f64>() / others.len() as f64,
        100.0 * others.iter().cloned().fold(0.0, f64::max),
        others.len(),
        100.0 * BOUND
    );
    assert!(mean <= 0.05, "Korthikanti mean error {mean}");
    assert!(max <= 0.10, "Korthikanti max error {max}");
    for r in rows.iter().filter(|r| r.group != "korthikanti") {
        let err = r.predicted / r.measured - 1.0;
        match &r.miss {
            // every row is held to the bound ...
            None => assert!(
                err.abs() <= BOUND,
                "{} ({}): model {} vs measured {} ({:+.1} %, bound {:.0} %)",
                r.id,
                r.name,
                r.predicted,
                r.measured,
                100.0 * err,
                100.0 * BOUND
            ),
            // ... but a recorded miss, which must really miss it and stay where it was recorded
            Some((why, recorded)) => {
                assert!(why.len() > 10, "{}: a miss says why", r.id);
                assert!(
                    err.abs() > BOUND,
                    "{}: {:+.1} % is within the bound now; remove its miss from validation/perf.toml",
                    r.id,
                    100.0 * err
                );
                assert!(
                    (err - recorded).abs() <= 0.005,
                    "{}: the miss moved from {:+.2} % to {:+.2} %; update miss_error and the tables",
                    r.id,
                    100.0 * recorded,
                    100.0 * err
                );
            }
        }
    }
}
