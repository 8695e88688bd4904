//! The training sections: `megacluster train` (step breakdown, MFU/HFU, tokens/s, days to
//! train, memory per GPU) and `megacluster search` (the best layouts and what was skipped).

use crate::fmt;
use crate::Section;
use perf::{Config, SearchResult, StepProfile};
use serde_json::{json, Value};

/// What the train section shows besides the profile.
pub struct TrainInput<'a> {
    pub scenario: &'a str,
    pub model: &'a str,
    pub accelerator: &'a str,
    /// "bf16" or "fp8".
    pub precision: &'a str,
    /// GPUs installed where the job runs (the job may use fewer).
    pub installed_gpus: u64,
    /// Training tokens of the job.
    pub tokens: f64,
    /// Sequence length in tokens.
    pub seq: u32,
    /// Sequences per step the profile ran with.
    pub global_batch_seqs: u64,
    /// Global batch as written in the scenario, tokens.
    pub requested_batch_tokens: f64,
    /// The search behind a `parallelism = "auto"` layout.
    pub search: Option<&'a SearchResult>,
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

fn recompute_name(c: &Config) -> &'static str {
    match c.recompute {
        perf::step::Recompute::None => "none",
        perf::step::Recompute::Selective => "selective",
        perf::step::Recompute::Full => "full",
    }
}

fn schedule_name(c: &Config) -> &'static str {
    match c.schedule {
        perf::step::Schedule::OneFOneB => "1f1b",
        perf::step::Schedule::Interleaved => "interleaved",
        perf::step::Schedule::ZeroBubble => "zero-bubble",
    }
}

fn overlap_list(c: &Config) -> String {
    let o = &c.overlap;
    let v: Vec<&str> = [
        ("tp", o.tp),
        ("pp", o.pp),
        ("dp", o.dp),
        ("ep", o.ep),
        ("cp", o.cp),
    ]
    .iter()
    .filter(|x| x.1)
    .map(|x| x.0)
    .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(",")
    }
}

/// "overlap" in the layout line says which communication is scheduled beside compute, not that
/// it is hidden: name the overlapped kinds whose communication still shows in the breakdown, with
/// its share of the step (`None` when none shows).
fn exposed_despite_overlap(p: &StepProfile) -> Option<String> {
    let o = &p.config.overlap;
    let step = p.step_time_s;
    let shown: Vec<String> = [
        ("tp", o.tp),
        ("pp", o.pp),
        ("dp", o.dp),
        ("ep", o.ep),
        ("cp", o.cp),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .filter_map(|(k, _)| {
        let name = format!("{k}_comm");
        let d: f64 = p
            .phases
            .iter()
            .filter(|ph| ph.name == name)
            .map(|ph| ph.duration_s)
            .sum();
        (d > 0.0 && step > 0.0).then(|| format!("{name} {}", fmt::percent(d / step)))
    })
    .collect();
    (!shown.is_empty()).then(|| {
        format!(
            "  Overlapped communication that still shows (the part compute does not hide): {}\n",
            shown.join(", ")
        )
    })
}

/// One line describing a layout: "tp 8 · pp 16 · … ".
pub fn layout_line(c: &Config) -> String {
    format!(
        "tp {} · pp {} · cp {} · ep {} · dp {} · microbatch {} · {} schedule{} · recompute {} · ZeRO {} · sequence parallel {} · overlap {}",
        c.tp,
        c.pp,
        c.cp,
        c.ep,
        fmt::thousands(c.dp as f64),
        c.microbatch,
        // the step model's zero-bubble schedule is Qi et al. 2023's ZB-H1: the bubble shrinks to
        // (p − 1)(T_F + T_B − 2·T_W), not to zero
        match c.schedule {
            perf::step::Schedule::ZeroBubble => "ZB-H1 zero-bubble",
            _ => schedule_name(c),
        },
        if c.interleave > 1 {
            format!(" (interleave {})", c.interleave)
        } else {
            String::new()
        },
        recompute_name(c),
        c.zero,
        on_off(c.sequence_parallel),
        overlap_list(c)
    )
}

fn layout_json(c: &Config) -> Value {
    json!({
        "tp": c.tp,
        "pp": c.pp,
        "cp": c.cp,
        "ep": c.ep,
        "dp": c.dp,
        "microbatch": c.microbatch,
        "schedule": schedule_name(c),
        "interleave": c.interleave,
        "recompute": recompute_name(c),
        "zero": c.zero,
        "sequence_parallel": c.sequence_parallel,
        "overlap": {
            "tp": c.overlap.tp,
            "pp": c.overlap.pp,
            "dp": c.overlap.dp,
            "ep": c.overlap.ep,
            "cp": c.overlap.cp,
        },
    })
}

fn num(x: f64) -> Value {
    // never NaN or infinity in JSON output
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

/// Memory components of a profile, in display order.
pub fn memory_parts(p: &StepProfile) -> Vec<(String, f64)> {
    let m = &p.memory;
    vec![
        ("weights".into(), m.weights_bytes),
        ("gradients".into(), m.gradients_bytes),
        ("optimizer states".into(), m.optimizer_bytes),
        ("activations".into(), m.activations_bytes),
        (
            "reserved (CUDA, NCCL, fragmentation)".into(),
            m.reserved_bytes,
        ),
    ]
}

/// "does not fit: needs X GiB of Y GiB".
pub fn does_not_fit(needs_bytes: f64, capacity_bytes: f64) -> String {
    format!(
        "does not fit: needs {:.1} GiB of {:.1} GiB",
        needs_bytes / 1073741824.0,
        capacity_bytes / 1073741824.0
    )
}

/// The memory verdict of a profile that does not fit, in words (`None` when it fits).
fn memory_note(p: &StepProfile) -> Option<String> {
    (!p.fits).then(|| does_not_fit(p.memory.total_bytes, p.memory.capacity_bytes))
}

/// The `train` section of the step model's answer for a scenario's job.
pub fn trained(scenario: &str, t: &pipeline::Trained) -> Section {
    let w = &t.workload;
    let precision = match w.precision {
        perf::step::Precision::Bf16 => "bf16",
        perf::step::Precision::Fp8 => "fp8",
    };
    section(
        &t.profile,
        &TrainInput {
            scenario,
            model: &w.model.name,
            accelerator: &t.accelerator,
            precision,
            installed_gpus: t.installed_gpus,
            tokens: w.tokens,
            seq: w.seq,
            global_batch_seqs: w.global_batch_seqs,
            requested_batch_tokens: t.requested_batch_tokens,
            search: t.search.as_ref(),
        },
    )
}

/// Charts for the HTML report: the step by phase and memory per GPU.
pub fn figures(p: &StepProfile) -> Vec<crate::html::Figure> {
    let phases: Vec<(String, f64)> = p
        .phases
        .iter()
        .map(|ph| (ph.name.clone(), ph.duration_s))
        .collect();
    let memory: Vec<(String, f64)> = memory_parts(p)
        .into_iter()
        .map(|(n, b)| (n, b / 1073741824.0))
        .collect();
    vec![
        crate::html::Figure {
            section: "train".into(),
            title: "Step time by phase".into(),
            svg: crate::svg::stacked_bar("Step time by phase", "s", &phases),
        },
        crate::html::Figure {
            section: "train".into(),
            title: "Memory per GPU".into(),
            svg: crate::svg::bar_chart(
                &format!(
                    "Memory per GPU ({} of {})",
                    fmt::bytes(p.memory.total_bytes),
                    fmt::bytes(p.memory.capacity_bytes)
                ),
                "GiB",
                &memory,
            ),
        },
    ]
}

/// The `train` section of a scenario without a `[job]`.
pub fn no_job_section() -> Section {
    Section {
        key: "train".into(),
        title: "Training step".into(),
        text: "  The scenario has no [job] section: nothing to train.\n".into(),
        json: serde_json::Value::Null,
    }
}

/// The `train` section.
pub fn section(p: &StepProfile, i: &TrainInput) -> Section {
    let step = p.step_time_s;
    let mut t = String::new();
    t.push_str(&fmt::rows(&[
        (
            "Job".into(),
            format!(
                "{} on {} × {}, {}",
                i.model,
                fmt::thousands(p.gpus as f64),
                i.accelerator,
                i.precision.to_uppercase()
            ),
        ),
        (
            "GPUs used / installed".into(),
            format!(
                "{} / {}",
                fmt::thousands(p.gpus as f64),
                fmt::thousands(i.installed_gpus as f64)
            ),
        ),
        (
            "Global batch".into(),
            format!(
                "{} sequences × {} tokens = {} tokens ({} requested); microbatches per step: {}",
                fmt::thousands(i.global_batch_seqs as f64),
                fmt::thousands(i.seq as f64),
                fmt::thousands(p.tokens_per_step),
                fmt::thousands(i.requested_batch_tokens),
                fmt::thousands(p.microbatches as f64)
            ),
        ),
    ]));
    match i.search {
        Some(r) => t.push_str(&format!(
            "\n  Layout (parallelism = \"auto\": the fastest of {} valid layouts that fit, of {} evaluated)\n    {}\n",
            fmt::thousands(r.valid as f64),
            fmt::thousands(r.evaluated as f64),
            layout_line(&p.config)
        )),
        None => t.push_str(&format!(
            "\n  Layout (fixed in the scenario)\n    {}\n",
            layout_line(&p.config)
        )),
    }

    t.push_str("\n  Step breakdown (per GPU of the slowest pipeline stage)\n");
    let body: Vec<Vec<String>> = p
        .phases
        .iter()
        .map(|ph| {
            vec![
                ph.name.clone(),
                fmt::duration(ph.duration_s),
                fmt::percent(if step > 0.0 {
                    ph.duration_s / step
                } else {
                    0.0
                }),
                format!("{:.2}", ph.activity),
            ]
        })
        .collect();
    t.push_str(&fmt::table(
        &["phase", "duration", "share", "activity"],
        &body,
    ));
    if let Some(line) = exposed_despite_overlap(p) {
        t.push_str(&line);
    }

    t.push('\n');
    t.push_str(&fmt::rows(&[
        ("Step time".into(), fmt::duration(step)),
        ("MFU".into(), fmt::percent(p.mfu)),
        ("HFU (recompute counted)".into(), fmt::percent(p.hfu)),
        ("MFU by 6N".into(), fmt::percent(p.mfu_6n)),
        (
            "Model FLOP/s per GPU".into(),
            fmt::flops(p.model_flops_per_gpu_per_s),
        ),
        (
            "Tokens/s".into(),
            format!(
                "{} tokens/s ({} per GPU)",
                fmt::thousands(p.tokens_per_s),
                fmt::thousands(p.tokens_per_s / (p.gpus.max(1) as f64))
            ),
        ),
        (
            format!("Time to train {} tokens", fmt::si(i.tokens, "")),
            format!(
                "{:.1} days ({} GPU-hours), no failures counted",
                p.days_to_train,
                fmt::thousands(p.gpu_hours_to_train)
            ),
        ),
    ]));
    t.push_str(&format!("  FLOP formula: {}\n", p.flop_formula));

    t.push_str("\n  Memory per GPU (fullest pipeline stage)\n");
    let mut mem: Vec<Vec<String>> = memory_parts(p)
        .into_iter()
        .map(|(n, b)| vec![n, fmt::bytes(b)])
        .collect();
    mem.push(vec![
        "total".into(),
        format!(
            "{} of {}",
            fmt::bytes(p.memory.total_bytes),
            fmt::bytes(p.memory.capacity_bytes)
        ),
    ]);
    t.push_str(&fmt::table(&["component", "size"], &mem));
    match &memory_note(p) {
        None => t.push_str("  fits\n"),
        Some(n) => t.push_str(&format!("  ! {n}\n")),
    }

    let phases: Vec<Value> = p
        .phases
        .iter()
        .map(|ph| {
            json!({
                "name": ph.name,
                "duration_s": num(ph.duration_s),
                "share": num(if step > 0.0 { ph.duration_s / step } else { 0.0 }),
                "activity": num(ph.activity),
            })
        })
        .collect();
    let m = &p.memory;
    let json = json!({
        "scenario": i.scenario,
        "model": i.model,
        "accelerator": i.accelerator,
        "precision": i.precision,
        "gpus": p.gpus,
        "installed_gpus": i.installed_gpus,
        "layout_source": if i.search.is_some() { "searched" } else { "fixed" },
        "layout": layout_json(&p.config),
        "search": i.search.map(|r| json!({
            "evaluated": r.evaluated,
            "valid": r.valid,
            "invalid": r.invalid,
            "unfit": r.unfit,
        })),
        "global_batch_seqs": i.global_batch_seqs,
        "tokens_per_step": num(p.tokens_per_step),
        "microbatches": p.microbatches,
        "step_time_s": num(step),
        "phases": phases,
        "mfu": num(p.mfu),
        "hfu": num(p.hfu),
        "mfu_6n": num(p.mfu_6n),
        "flop_formula": p.flop_formula,
        "model_flops_per_gpu_flops": num(p.model_flops_per_gpu_per_s),
        "tokens_per_s": num(p.tokens_per_s),
        "tokens": num(i.tokens),
        "time_to_train_s": num(p.days_to_train * 86400.0),
        "gpu_hours_to_train": num(p.gpu_hours_to_train),
        "memory_per_gpu_bytes": num(p.memory_per_gpu_bytes),
        "memory_capacity_bytes": num(m.capacity_bytes),
        "memory": {
            "weights_bytes": num(m.weights_bytes),
            "gradients_bytes": num(m.gradients_bytes),
            "optimizer_bytes": num(m.optimizer_bytes),
            "activations_bytes": num(m.activations_bytes),
            "reserved_bytes": num(m.reserved_bytes),
        },
        "fits": p.fits,
        "memory_note": memory_note(p),
        "mean_activity": num(p.mean_activity),
    });
    Section {
        key: "train".into(),
        title: "Training step".into(),
        text: t,
        json,
    }
}

/// What makes a layout invalid, by the field [`perf::step::check`] names.
fn invalid_reason(field: &str) -> &'static str {
    match field {
        "tp" => "attention (or key/value) heads do not divide by tp",
        "pp" => "layers do not split into pp × interleave chunks",
        "cp" => "the sequence does not split into 2 × cp chunks",
        "ep" => "experts do not divide by ep, or ep does not divide dp",
        "dp" => "tp × pp × dp × cp differs from the GPUs",
        "microbatch" => {
            "the batch does not divide into dp × microbatch (interleaving: microbatches not a multiple of pp)"
        }
        "interleave" => "schedule and interleave disagree",
        "zero" => "ZeRO stage outside 0–3",
        _ => "invalid",
    }
}

/// The `search` section: totals, skipped layouts by reason, the top layouts.
pub fn search_section(r: &SearchResult, by_cost: bool, gpus: u64, model: &str) -> Section {
    let mut t = String::new();
    t.push_str(&fmt::rows(&[
        (
            "Searched".into(),
            format!(
                "{} on {} GPUs, ranked by {}",
                model,
                fmt::thousands(gpus as f64),
                if by_cost {
                    "cost per token"
                } else {
                    "tokens/s"
                }
            ),
        ),
        (
            "Layouts evaluated".into(),
            fmt::thousands(r.evaluated as f64),
        ),
        ("valid and fitting".into(), fmt::thousands(r.valid as f64)),
        ("do not fit in HBM".into(), fmt::thousands(r.unfit as f64)),
        ("invalid (skipped)".into(), fmt::thousands(r.invalid as f64)),
    ]));
    for (field, n) in &r.invalid_by_field {
        t.push_str(&format!(
            "    {:>12}  job.parallelism.{field}: {}\n",
            fmt::thousands(*n as f64),
            invalid_reason(field)
        ));
    }
    if r.top.is_empty() {
        t.push_str("\n  No valid layout fits in memory.\n");
    } else {
        t.push('\n');
        let body: Vec<Vec<String>> = r
            .top
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let l = &c.config;
                vec![
                    format!("{}", k + 1),
                    format!("{}", l.tp),
                    format!("{}", l.pp),
                    format!("{}", l.cp),
                    format!("{}", l.ep),
                    fmt::thousands(l.dp as f64),
                    format!("{}", l.microbatch),
                    format!("{}", l.interleave),
                    schedule_name(l).into(),
                    recompute_name(l).into(),
                    format!("{}", l.zero),
                    on_off(l.sequence_parallel).into(),
                    overlap_list(l),
                    fmt::duration(c.step_time_s),
                    fmt::thousands(c.tokens_per_s),
                    fmt::percent(c.mfu),
                    fmt::bytes(c.memory_per_gpu_bytes),
                    c.usd_per_million_tokens
                        .map(|u| format!("{}/Mtok", fmt::usd(u)))
                        .unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        t.push_str(&fmt::table(
            &[
                "#",
                "tp",
                "pp",
                "cp",
                "ep",
                "dp",
                "mb",
                "v",
                "schedule",
                "recompute",
                "zero",
                "sp",
                "overlap",
                "step",
                "tokens/s",
                "MFU",
                "memory",
                "cost",
            ],
            &body,
        ));
    }
    let top: Vec<Value> = r
        .top
        .iter()
        .map(|c| {
            json!({
                "layout": layout_json(&c.config),
                "global_batch_seqs": c.global_batch_seqs,
                "step_time_s": num(c.step_time_s),
                "tokens_per_s": num(c.tokens_per_s),
                "mfu": num(c.mfu),
                "memory_per_gpu_bytes": num(c.memory_per_gpu_bytes),
                "fits": c.fits,
                "usd_per_million_tokens": c.usd_per_million_tokens.and_then(|u| if u.is_finite() { Some(u) } else { None }),
            })
        })
        .collect();
    let invalid: serde_json::Map<String, Value> = r
        .invalid_by_field
        .iter()
        .map(|(k, v)| (format!("job.parallelism.{k}"), json!(v)))
        .collect();
    let json = json!({
        "model": model,
        "gpus": gpus,
        "by": if by_cost { "cost" } else { "tokens" },
        "evaluated": r.evaluated,
        "valid": r.valid,
        "unfit": r.unfit,
        "invalid": r.invalid,
        "invalid_by_field": invalid,
        "top": top,
    });
    Section {
        key: "search".into(),
        title: "Parallelism search".into(),
        text: t,
        json,
    }
}
