//! The headline figures of each section: the few numbers a planner reads first, each with its
//! value in SI units (as in the section's JSON) and its text with the unit, for the web planner's
//! cards and its side-by-side comparison. Read from the section's JSON, so the card shows exactly
//! what `run --json` says.

use crate::fmt;
use crate::Section;
use serde::Serialize;
use serde_json::Value;

/// One headline figure.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Headline {
    /// Stable identifier, `section.figure`.
    pub id: String,
    pub label: String,
    /// The JSON pointer of the value in the section's JSON (`/ettr/mean`).
    pub pointer: String,
    /// The value as the JSON holds it (SI units; booleans as 1 and 0).
    pub value: f64,
    /// The value's unit as in its JSON key (`w`, `usd`, `s`, `fraction`, `count`…).
    pub unit: &'static str,
    /// The value formatted with its unit.
    pub text: String,
    /// Whether more is better (for a comparison's colours); `None`: neither.
    pub higher_is_better: Option<bool>,
}

struct Spec {
    id: &'static str,
    label: &'static str,
    pointer: &'static str,
    unit: &'static str,
    higher_is_better: Option<bool>,
}

const fn h(
    id: &'static str,
    label: &'static str,
    pointer: &'static str,
    unit: &'static str,
    higher_is_better: Option<bool>,
) -> Spec {
    Spec {
        id,
        label,
        pointer,
        unit,
        higher_is_better,
    }
}

const PLAN: &[Spec] = &[
    h("plan.gpus", "GPUs", "/gpus", "count", None),
    h(
        "plan.h100_equivalents",
        "H100-equivalents (dense BF16)",
        "/h100_equivalents",
        "count",
        Some(true),
    ),
    h(
        "plan.it_power",
        "IT power (nameplate)",
        "/it_power_w",
        "w",
        None,
    ),
    h(
        "plan.facility_power",
        "Facility power (IT × PUE)",
        "/facility_power_w",
        "w",
        None,
    ),
    h("plan.capex", "Capex", "/capex_usd", "usd", Some(false)),
    h(
        "plan.tco_per_gpu_hour",
        "TCO per GPU-hour",
        "/tco_usd_per_gpu_hour",
        "usd_per_gpu_hour",
        Some(false),
    ),
];
const TRAIN: &[Spec] = &[
    h(
        "train.step_time",
        "Step time",
        "/step_time_s",
        "s",
        Some(false),
    ),
    h("train.mfu", "MFU", "/mfu", "fraction", Some(true)),
    h(
        "train.tokens_per_s",
        "Tokens per second",
        "/tokens_per_s",
        "tokens_per_s",
        Some(true),
    ),
    h(
        "train.time_to_train",
        "Time to train (no failures)",
        "/time_to_train_s",
        "s",
        Some(false),
    ),
];
const RELIABILITY: &[Spec] = &[
    h(
        "reliability.ettr",
        "Goodput (ETTR, mean)",
        "/ettr/mean",
        "fraction",
        Some(true),
    ),
    h(
        "reliability.wall",
        "Wall-clock per run (mean)",
        "/wall_s/mean",
        "s",
        Some(false),
    ),
    h(
        "reliability.checkpoint",
        "Recommended checkpoint interval",
        "/recommendation/checkpoint_interval_s",
        "s",
        None,
    ),
];
const POWER: &[Spec] = &[
    h("power.peak", "Peak grid import", "/peak_w", "w", None),
    h(
        "power.swing",
        "Swing (peak − minimum)",
        "/swing_w",
        "w",
        Some(false),
    ),
    h(
        "power.passes",
        "Grid code (scenario's mitigations)",
        "/passes",
        "pass",
        Some(true),
    ),
    h(
        "power.cheapest",
        "Cheapest passing mitigations",
        "/solve/best/total_usd_per_year",
        "usd_per_year",
        Some(false),
    ),
    h(
        "power.mitigation_cost",
        "Scenario's mitigations",
        "/mitigation_total_usd_per_year",
        "usd_per_year",
        Some(false),
    ),
];

/// A headline value formatted with its unit.
pub fn text(unit: &str, v: f64) -> String {
    match unit {
        "count" => fmt::thousands(v),
        "w" => fmt::power(v),
        "usd" => fmt::usd(v),
        "usd_per_gpu_hour" => format!("${v:.2}/GPU-h"),
        "usd_per_year" => format!("{}/yr", fmt::usd(v)),
        "s" => fmt::duration(v),
        "fraction" => fmt::percent(v),
        "tokens_per_s" => format!("{} tokens/s", fmt::thousands(v)),
        "pass" => if v > 0.5 { "passes" } else { "fails" }.into(),
        _ => format!("{v}"),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        v => v.as_f64().filter(|x| x.is_finite()),
    }
}

fn read(specs: &[Spec], json: &Value) -> Vec<Headline> {
    specs
        .iter()
        .filter_map(|s| {
            let value = json.pointer(s.pointer).and_then(number)?;
            Some(Headline {
                id: s.id.into(),
                label: s.label.into(),
                pointer: s.pointer.into(),
                value,
                unit: s.unit,
                text: text(s.unit, value),
                higher_is_better: s.higher_is_better,
            })
        })
        .collect()
}

/// The headline figures of a section (those its JSON holds).
pub fn of(section: &Section) -> Vec<Headline> {
    let j = &section.json;
    match section.key.as_str() {
        "plan" => read(PLAN, j),
        "train" => read(TRAIN, j),
        "reliability" => read(RELIABILITY, j),
        "power" => read(POWER, j),
        "multisite" => multisite(j),
        _ => vec![],
    }
}

/// The configured strategy's efficiency and its loss in dollars.
fn multisite(j: &Value) -> Vec<Headline> {
    let Some(name) = j.get("configured").and_then(Value::as_str) else {
        return vec![];
    };
    let Some(i) = j.get("strategies").and_then(Value::as_array).and_then(|a| {
        a.iter()
            .position(|s| s.get("name").and_then(Value::as_str) == Some(name))
    }) else {
        return vec![];
    };
    let specs = [
        Spec {
            id: "multisite.efficiency",
            label: "Efficiency against one site",
            pointer: "",
            unit: "fraction",
            higher_is_better: Some(true),
        },
        Spec {
            id: "multisite.loss",
            label: "Loss as TCO",
            pointer: "",
            unit: "usd_per_year",
            higher_is_better: Some(false),
        },
    ];
    let pointers = [
        format!("/strategies/{i}/efficiency"),
        format!("/costs/loss_usd_per_year/{i}"),
    ];
    specs
        .iter()
        .zip(pointers)
        .filter_map(|(s, p)| {
            let value = j.pointer(&p).and_then(number)?;
            Some(Headline {
                id: s.id.into(),
                label: format!("{} ({name})", s.label),
                pointer: p,
                value,
                unit: s.unit,
                text: text(s.unit, value),
                higher_is_better: s.higher_is_better,
            })
        })
        .collect()
}
