//! The `[reliability]` section: failure preset and overrides, checkpoint policy, spares, repair,
//! restart chain, run length and replicas. Parsed, resolved against the catalogue's reliability
//! presets (`catalog/reliability.toml`, overrides applied) and range-checked here; the `pipeline`
//! crate binds it to the reliability model's parameters. Every field is optional.
//!
//! ```toml
//! [reliability]
//! preset = "llama3"            # llama3 | meta-rsc-low | meta-rsc-high | airesim
//! job_gpus = 16384             # default: every GPU of the first site's halls
//! length = "54 d"              # wall-clock window (or `work = "256 d"` of useful training)
//! checkpoint = "auto"          # Young/Daly; or "30 min"; or { memory = "2 min", persistent = "30 min" }
//! spares = "auto"              # warm standby nodes: ByteRobust's P99 rule, or a count
//! repair = { auto = "2 h", manual = "2 d", p_manual = 0.8 }
//! rates = { faulty-gpu = 7e-6 } # failures per element-hour, by class name
//! recovery = "elastic-dp"      # restart | hot-spare | partial-restart | elastic-dp | in-memory
//! containment = { detect = "20 s", replica_gpus = 8192 }   # the designs' parameters
//! designs = "all"              # compare designs side by side (or a list of names)
//! goodput_target = "90%"       # the goodput the recommendation must keep in `target` of runs
//! ```

use crate::catalog::{FailureCause, FailureScope, Lifetime, ReliabilityPreset};
use crate::ctx::{CatalogRef, Ctx};
use crate::error::{did_you_mean, SpecError};
use crate::units::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReliability {
    #[serde(default)]
    preset: Option<String>,
    #[serde(default)]
    job_gpus: Option<Count>,
    #[serde(default)]
    step_time: Option<Duration>,
    #[serde(default)]
    length: Option<Duration>,
    #[serde(default)]
    work: Option<Duration>,
    #[serde(default)]
    replicas: Option<Count>,
    #[serde(default)]
    target: Option<Fraction>,
    #[serde(default)]
    checkpoint: Option<toml::Value>,
    #[serde(default)]
    checkpoint_state: Option<Bytes>,
    #[serde(default)]
    storage_bandwidth: Option<Bandwidth>,
    #[serde(default)]
    checkpoint_overhead: Option<Duration>,
    #[serde(default)]
    checkpoint_load: Option<Duration>,
    #[serde(default)]
    spares: Option<toml::Value>,
    #[serde(default)]
    spare_pool: Option<Count>,
    #[serde(default)]
    nodes_per_rack: Option<Count>,
    #[serde(default)]
    repair: Option<RawRepair>,
    #[serde(default)]
    restart: Option<RawRestart>,
    #[serde(default)]
    rates: Option<BTreeMap<String, f64>>,
    #[serde(default)]
    rate_scale: Option<f64>,
    #[serde(default)]
    bad_nodes: Option<RawBadNodes>,
    #[serde(default)]
    lifetime: Option<toml::Value>,
    #[serde(default)]
    sdc: Option<RawSdc>,
    #[serde(default)]
    maintenance: Option<toml::Value>,
    #[serde(default)]
    recovery: Option<String>,
    #[serde(default)]
    containment: Option<RawContainment>,
    #[serde(default)]
    designs: Option<toml::Value>,
    #[serde(default)]
    goodput_target: Option<Fraction>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContainment {
    #[serde(default)]
    detect: Option<Duration>,
    #[serde(default)]
    hot_swap: Option<Duration>,
    #[serde(default)]
    reconfigure: Option<Duration>,
    #[serde(default)]
    replica_gpus: Option<Count>,
    #[serde(default)]
    peer_bandwidth: Option<Bandwidth>,
    #[serde(default)]
    snapshot_every: Option<Count>,
    #[serde(default)]
    snapshot_block: Option<Duration>,
    #[serde(default)]
    peer_copies: Option<Count>,
}

/// A recovery design as `recovery` and `designs` name it (the reliability model's designs; the
/// `pipeline` crate maps each to the model's).
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryDesign {
    Restart,
    HotSpare,
    PartialRestart,
    ElasticDp,
    InMemory,
}

impl RecoveryDesign {
    pub const ALL: [RecoveryDesign; 5] = [
        RecoveryDesign::Restart,
        RecoveryDesign::HotSpare,
        RecoveryDesign::PartialRestart,
        RecoveryDesign::ElasticDp,
        RecoveryDesign::InMemory,
    ];

    /// The name a scenario writes.
    pub fn name(self) -> &'static str {
        match self {
            RecoveryDesign::Restart => "restart",
            RecoveryDesign::HotSpare => "hot-spare",
            RecoveryDesign::PartialRestart => "partial-restart",
            RecoveryDesign::ElasticDp => "elastic-dp",
            RecoveryDesign::InMemory => "in-memory",
        }
    }

    pub fn parse(name: &str) -> Option<RecoveryDesign> {
        RecoveryDesign::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// The designs' parameters as written; `None` means the model's sourced default.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ContainmentSpec {
    pub detect_s: Option<f64>,
    pub hot_swap_s: Option<f64>,
    pub reconfigure_s: Option<f64>,
    pub replica_gpus: Option<u64>,
    pub peer_bytes_per_s: Option<f64>,
    pub snapshot_every_steps: Option<u32>,
    pub snapshot_block_s: Option<f64>,
    pub peer_copies: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepair {
    #[serde(default)]
    auto: Option<Duration>,
    #[serde(default)]
    manual: Option<Duration>,
    #[serde(default)]
    p_manual: Option<f64>,
    #[serde(default)]
    p_auto_false: Option<f64>,
    #[serde(default)]
    p_manual_false: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRestart {
    #[serde(default)]
    detect: Option<Duration>,
    #[serde(default)]
    diagnose: Option<Duration>,
    #[serde(default)]
    standby_swap: Option<Duration>,
    #[serde(default)]
    host_selection: Option<Duration>,
    #[serde(default)]
    preemption_wait: Option<Duration>,
    #[serde(default)]
    fixed: Option<Duration>,
    /// Re-initialisation time at `reinit_gpus` GPUs.
    #[serde(default)]
    reinit: Option<Duration>,
    #[serde(default)]
    reinit_gpus: Option<Count>,
    #[serde(default)]
    reinit_exponent: Option<f64>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBadNodes {
    fraction: Fraction,
    multiplier: f64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSdc {
    #[serde(default)]
    prevalence: Option<Fraction>,
    /// Corruption events per defective GPU-hour.
    #[serde(default)]
    trigger: Option<f64>,
    #[serde(default)]
    detect: Option<Duration>,
}

/// The checkpoint policy as written.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointSpec {
    /// Young/Daly optimum.
    #[default]
    Auto,
    /// A fixed interval (seconds).
    Interval(f64),
    /// In-memory every `memory_s`, persistent every `persistent_s`; `memory_write_s` the blocking
    /// snapshot time when given.
    Tiered {
        memory_s: f64,
        persistent_s: f64,
        memory_write_s: Option<f64>,
    },
}

/// Warm standbys as written.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum SparesSpec {
    #[default]
    Auto,
    Nodes(u64),
}

/// One failure class with its rate resolved (the preset's, or the scenario's override).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FailureClass {
    pub name: String,
    pub cause: FailureCause,
    pub scope: FailureScope,
    /// Failures per element-hour.
    pub rate_per_hour: f64,
    pub removes_nodes: bool,
    pub source: String,
}

/// Silent data corruption, resolved.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Sdc {
    pub prevalence: f64,
    /// Corruption events per defective GPU-hour.
    pub trigger_per_hour: f64,
    pub detect_s: f64,
}

/// The restart chain, resolved.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Recovery {
    pub detect_s: f64,
    pub diagnose_s: f64,
    pub standby_swap_s: f64,
    pub host_selection_s: f64,
    pub preemption_wait_s: f64,
    pub restart_fixed_s: f64,
    pub reinit_s: f64,
    pub reinit_gpus: f64,
    pub reinit_exponent: f64,
}

/// The repair pipeline, resolved.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Repair {
    pub auto_s: f64,
    pub manual_s: f64,
    pub p_manual: f64,
    pub p_auto_false: f64,
    pub p_manual_false: f64,
}

/// The failure model of a run: the named preset with every `[reliability]` override applied.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FailureModel {
    /// The preset's name.
    pub preset: String,
    pub classes: Vec<FailureClass>,
    pub lifetime: Lifetime,
    /// (share of nodes, how many times as often they fail).
    pub bad_nodes: (f64, f64),
    pub sdc: Sdc,
    /// (every, duration) in seconds; `None`: no planned maintenance.
    pub maintenance: Option<(f64, f64)>,
    pub recovery: Recovery,
    pub repair: Repair,
    pub failures_while_down: bool,
    pub nodes_per_rack: u32,
}

/// The resolved `[reliability]` section: plain data in SI units. The failure model is complete
/// (preset and overrides); `None` elsewhere means "the reliability model's default" (or, for the
/// step time and the run length, "from the job").
#[derive(Clone, Debug, Serialize)]
pub struct Reliability {
    pub model: FailureModel,
    pub job_gpus: Option<u64>,
    pub step_time_s: Option<f64>,
    pub length_s: Option<f64>,
    pub work_s: Option<f64>,
    pub replicas: Option<u64>,
    pub target: Option<f64>,
    pub checkpoint: CheckpointSpec,
    pub checkpoint_state_bytes: Option<f64>,
    pub storage_bandwidth_bytes_per_s: Option<f64>,
    pub checkpoint_overhead_s: Option<f64>,
    pub checkpoint_load_s: Option<f64>,
    pub spares: SparesSpec,
    pub spare_pool_nodes: Option<u64>,
    /// The recovery design of the simulation (`restart` when absent).
    pub recovery: Option<RecoveryDesign>,
    pub containment: ContainmentSpec,
    /// Designs to compare side by side; empty when the scenario asks for none.
    pub designs: Vec<RecoveryDesign>,
    /// The goodput the recommended design must keep in `target` of runs.
    pub goodput_target: Option<f64>,
}

/// The preset a scenario gets when `[reliability]` names none.
pub const DEFAULT_PRESET: &str = "llama3";

fn design(ctx: &Ctx, p: &str, name: &str) -> Result<RecoveryDesign, SpecError> {
    RecoveryDesign::parse(name).ok_or_else(|| {
        let names = RecoveryDesign::ALL.map(|d| d.name());
        ctx.err(
            p,
            format!(
                "unknown recovery design `{name}`; designs: {}",
                names.join(", ")
            ),
        )
        .with_hint(did_you_mean(name, names.iter().copied()))
    })
}

fn dur(ctx: &Ctx, p: &str, v: &toml::Value, what: &str) -> Result<f64, SpecError> {
    let s = match v {
        toml::Value::String(s) => Duration::parse(s).map_err(|m| ctx.err(p, m))?.s(),
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        other => {
            return Err(ctx.err(
                p,
                format!(
                    "{what} must be a duration such as \"30 min\", got {}",
                    other.type_str()
                ),
            ))
        }
    };
    ctx.positive(p, s, what)?;
    Ok(s)
}

fn probability(ctx: &Ctx, p: &str, v: Option<f64>, what: &str) -> Result<Option<f64>, SpecError> {
    if let Some(x) = v {
        if !(0.0..=1.0).contains(&x) {
            return Err(ctx.err(
                p,
                format!("{what} is a probability and must lie in [0, 1], got {x}"),
            ));
        }
    }
    Ok(v)
}

fn non_neg_dur(
    ctx: &Ctx,
    p: &str,
    v: Option<Duration>,
    what: &str,
) -> Result<Option<f64>, SpecError> {
    match v {
        Some(d) => {
            ctx.non_negative(p, d.s(), what)?;
            Ok(Some(d.s()))
        }
        None => Ok(None),
    }
}

/// The failure model of a preset entry, before the scenario's overrides.
pub fn failure_model(e: &ReliabilityPreset) -> FailureModel {
    let r = &e.recovery;
    let rp = &e.repair;
    FailureModel {
        preset: e.name.clone(),
        classes: e
            .classes
            .iter()
            .map(|c| FailureClass {
                name: c.name.clone(),
                cause: c.cause,
                scope: c.scope,
                rate_per_hour: c.rate_per_hour(),
                removes_nodes: c.removes_nodes,
                source: c.source.clone(),
            })
            .collect(),
        lifetime: e.lifetime,
        bad_nodes: (e.bad_nodes.fraction.fraction(), e.bad_nodes.multiplier),
        sdc: Sdc {
            prevalence: e.sdc.prevalence.fraction(),
            trigger_per_hour: e.sdc.trigger,
            detect_s: e.sdc.detect.s(),
        },
        maintenance: e.maintenance.map(|m| (m.every.s(), m.duration.s())),
        recovery: Recovery {
            detect_s: r.detect.s(),
            diagnose_s: r.diagnose.s(),
            standby_swap_s: r.standby_swap.s(),
            host_selection_s: r.host_selection.s(),
            preemption_wait_s: r.preemption_wait.s(),
            restart_fixed_s: r.fixed.s(),
            reinit_s: r.reinit.s(),
            reinit_gpus: r.reinit_gpus,
            reinit_exponent: r.reinit_exponent,
        },
        repair: Repair {
            auto_s: rp.auto.s(),
            manual_s: rp.manual.s(),
            p_manual: rp.p_manual,
            p_auto_false: rp.p_auto_false,
            p_manual_false: rp.p_manual_false,
        },
        failures_while_down: e.failures_while_down,
        nodes_per_rack: e.nodes_per_rack,
    }
}

/// Range checks of a reliability preset (embedded or from a user catalogue), at `p` (the entry's
/// path, e.g. `reliability.preset`).
fn validate_preset(ctx: &Ctx, p: &str, e: &ReliabilityPreset) -> Result<(), SpecError> {
    let bad = |what: &str, detail: String| {
        ctx.err(
            p,
            format!("reliability preset `{}`: {what} {detail}", e.name),
        )
    };
    for c in &e.classes {
        let r = c.rate_per_hour();
        if !(c.failures >= 0.0 && c.exposure.s() > 0.0 && r.is_finite()) {
            return Err(bad(
                &format!("class `{}`", c.name),
                format!(
                    "needs failures not below zero over an exposure above zero, got {} over {} s",
                    c.failures,
                    c.exposure.s()
                ),
            ));
        }
    }
    let probability = |what: &str, x: f64| {
        if (0.0..=1.0).contains(&x) {
            Ok(())
        } else {
            Err(bad(
                what,
                format!("is a probability and must lie in [0, 1], got {x}"),
            ))
        }
    };
    probability("bad_nodes.fraction", e.bad_nodes.fraction.fraction())?;
    if !(e.bad_nodes.multiplier >= 1.0 && e.bad_nodes.multiplier.is_finite()) {
        return Err(bad(
            "bad_nodes.multiplier",
            format!("must be at least 1, got {}", e.bad_nodes.multiplier),
        ));
    }
    probability("sdc.prevalence", e.sdc.prevalence.fraction())?;
    probability("repair.p_manual", e.repair.p_manual)?;
    probability("repair.p_auto_false", e.repair.p_auto_false)?;
    probability("repair.p_manual_false", e.repair.p_manual_false)?;
    let r = &e.recovery;
    for (what, v) in [
        ("sdc.trigger", e.sdc.trigger),
        ("sdc.detect", e.sdc.detect.s()),
        ("recovery.detect", r.detect.s()),
        ("recovery.diagnose", r.diagnose.s()),
        ("recovery.standby_swap", r.standby_swap.s()),
        ("recovery.host_selection", r.host_selection.s()),
        ("recovery.preemption_wait", r.preemption_wait.s()),
        ("recovery.fixed", r.fixed.s()),
        ("recovery.reinit", r.reinit.s()),
        ("recovery.reinit_exponent", r.reinit_exponent),
        ("repair.auto", e.repair.auto.s()),
        ("repair.manual", e.repair.manual.s()),
    ] {
        if !(v >= 0.0 && v.is_finite()) {
            return Err(bad(
                what,
                format!("must be a finite number not below zero, got {v}"),
            ));
        }
    }
    if !(r.reinit_gpus > 0.0 && r.reinit_gpus.is_finite()) {
        return Err(bad(
            "recovery.reinit_gpus",
            format!("must be greater than zero, got {}", r.reinit_gpus),
        ));
    }
    if let Some(m) = e.maintenance {
        if !(m.every.s() > 0.0 && m.duration.s() >= 0.0) {
            return Err(bad(
                "maintenance",
                "needs an interval above zero and a duration not below zero".into(),
            ));
        }
    }
    if e.nodes_per_rack == 0 {
        return Err(bad("nodes_per_rack", "must be at least 1".into()));
    }
    match e.lifetime {
        Lifetime::Weibull(k) | Lifetime::Lognormal(k) if !(k > 0.0 && k.is_finite()) => Err(bad(
            "lifetime",
            format!("needs a shape greater than zero, got {k}"),
        )),
        _ => Ok(()),
    }
}

/// The most Monte Carlo replicas a scenario (or `--replicas`) may ask for. Each replica keeps
/// a few hundred bytes of result and takes up to a second, so this bounds a run's memory to tens
/// of megabytes; the percentiles the reports print settle within a few hundred replicas.
pub const MAX_REPLICAS: u64 = 100_000;

/// The largest failure rate a class may be given, per element-hour (A; measured rates are
/// 10⁻⁶–10⁻³ per GPU- or node-hour, a job-wide software class a few per day).
pub const MAX_RATE_PER_HOUR: f64 = 100.0;

/// The largest `rate_scale`: a million times the preset's failure rates (A; a sensitivity study
/// scales rates by 2–10×).
pub const MAX_RATE_SCALE: f64 = 1e6;

pub(crate) fn resolve(ctx: &Ctx, p: &str, r: RawReliability) -> Result<Reliability, SpecError> {
    let f = |name: &str| format!("{p}.{name}");
    let name = r
        .preset
        .clone()
        .unwrap_or_else(|| DEFAULT_PRESET.to_string());
    let entry: ReliabilityPreset = ctx.resolve(&f("preset"), &CatalogRef::Name(name))?;
    validate_preset(ctx, &f("preset"), &entry)?;
    let mut out = Reliability {
        model: failure_model(&entry),
        job_gpus: None,
        step_time_s: None,
        length_s: None,
        work_s: None,
        replicas: None,
        target: None,
        checkpoint: CheckpointSpec::Auto,
        checkpoint_state_bytes: None,
        storage_bandwidth_bytes_per_s: None,
        checkpoint_overhead_s: None,
        checkpoint_load_s: None,
        spares: SparesSpec::Auto,
        spare_pool_nodes: None,
        recovery: None,
        containment: ContainmentSpec::default(),
        designs: vec![],
        goodput_target: None,
    };
    if let Some(g) = r.job_gpus {
        out.job_gpus = Some(ctx.whole(&f("job_gpus"), g.count(), "job_gpus")?);
    }
    if let Some(d) = r.step_time {
        ctx.positive(&f("step_time"), d.s(), "step time")?;
        crate::power::check_step_time(ctx, &f("step_time"), d.s())?;
        out.step_time_s = Some(d.s());
    }
    if r.length.is_some() && r.work.is_some() {
        return Err(ctx.err(
            &f("work"),
            "give either `length` (wall-clock) or `work` (useful training), not both",
        ));
    }
    if let Some(d) = r.length {
        ctx.positive(&f("length"), d.s(), "run length")?;
        out.length_s = Some(d.s());
    }
    if let Some(d) = r.work {
        ctx.positive(&f("work"), d.s(), "work")?;
        out.work_s = Some(d.s());
    }
    if let Some(n) = r.replicas {
        let n = ctx.whole(&f("replicas"), n.count(), "replicas")?;
        if n > MAX_REPLICAS {
            return Err(ctx.err(
                &f("replicas"),
                format!("{n} replicas is more than the {MAX_REPLICAS} the Monte Carlo runs (its percentiles settle within a few hundred)"),
            ));
        }
        out.replicas = Some(n);
    }
    if let Some(t) = r.target {
        let t = t.fraction();
        if !(t > 0.0 && t < 1.0) {
            return Err(ctx.err(
                &f("target"),
                format!("target percentile must lie strictly between 0 and 1 (e.g. 0.95), got {t}"),
            ));
        }
        out.target = Some(t);
    }
    out.checkpoint = match &r.checkpoint {
        None => CheckpointSpec::Auto,
        Some(toml::Value::String(s)) if s == "auto" => CheckpointSpec::Auto,
        Some(v @ (toml::Value::String(_) | toml::Value::Integer(_) | toml::Value::Float(_))) => {
            CheckpointSpec::Interval(dur(ctx, &f("checkpoint"), v, "checkpoint interval")?)
        }
        Some(toml::Value::Table(t)) => {
            let cp = f("checkpoint");
            for k in t.keys() {
                if !["interval", "memory", "persistent", "memory_write"].contains(&k.as_str()) {
                    return Err(ctx.err(
                        &format!("{cp}.{k}"),
                        format!("unknown field `{k}`, expected `interval`, or `memory` and `persistent` (and optionally `memory_write`)"),
                    ));
                }
            }
            if let Some(v) = t.get("interval") {
                CheckpointSpec::Interval(dur(ctx, &format!("{cp}.interval"), v, "checkpoint interval")?)
            } else {
                let (Some(m), Some(ps)) = (t.get("memory"), t.get("persistent")) else {
                    return Err(ctx.err(
                        &cp,
                        "a tiered checkpoint needs both `memory` and `persistent` intervals",
                    ));
                };
                let memory_s = dur(ctx, &format!("{cp}.memory"), m, "in-memory interval")?;
                let persistent_s = dur(ctx, &format!("{cp}.persistent"), ps, "persistent interval")?;
                if persistent_s < memory_s {
                    return Err(ctx.err(
                        &format!("{cp}.persistent"),
                        format!("the persistent interval ({persistent_s} s) must be at least the in-memory one ({memory_s} s)"),
                    ));
                }
                let memory_write_s = match t.get("memory_write") {
                    Some(v) => Some(dur(ctx, &format!("{cp}.memory_write"), v, "in-memory write time")?),
                    None => None,
                };
                CheckpointSpec::Tiered {
                    memory_s,
                    persistent_s,
                    memory_write_s,
                }
            }
        }
        Some(other) => {
            return Err(ctx.err(
                &f("checkpoint"),
                format!(
                    "checkpoint must be \"auto\", an interval such as \"30 min\", or {{ memory = \"2 min\", persistent = \"30 min\" }}, got {}",
                    other.type_str()
                ),
            ))
        }
    };
    if let Some(b) = r.checkpoint_state {
        ctx.non_negative(&f("checkpoint_state"), b.bytes(), "checkpoint state")?;
        out.checkpoint_state_bytes = Some(b.bytes());
    }
    if let Some(b) = r.storage_bandwidth {
        ctx.positive(&f("storage_bandwidth"), b.bits_per_s(), "storage bandwidth")?;
        out.storage_bandwidth_bytes_per_s = Some(b.bytes_per_s());
    }
    out.checkpoint_overhead_s = non_neg_dur(
        ctx,
        &f("checkpoint_overhead"),
        r.checkpoint_overhead,
        "checkpoint overhead",
    )?;
    out.checkpoint_load_s = non_neg_dur(
        ctx,
        &f("checkpoint_load"),
        r.checkpoint_load,
        "checkpoint load time",
    )?;
    out.spares = match &r.spares {
        None => SparesSpec::Auto,
        Some(toml::Value::String(s)) if s == "auto" => SparesSpec::Auto,
        Some(toml::Value::Integer(i)) if *i >= 0 => SparesSpec::Nodes(*i as u64),
        Some(toml::Value::String(s)) => match Count::parse(s) {
            Ok(c) if c.count() >= 0.0 && c.count().fract() == 0.0 => {
                SparesSpec::Nodes(c.count() as u64)
            }
            _ => {
                return Err(ctx.err(
                    &f("spares"),
                    format!("spares must be \"auto\" or a whole number of nodes, got \"{s}\""),
                ))
            }
        },
        Some(other) => {
            return Err(ctx.err(
                &f("spares"),
                format!(
                "spares must be \"auto\" or a whole number of nodes not below zero, got {other}"
            ),
            ))
        }
    };
    if let Some(c) = r.spare_pool {
        let v = c.count();
        if !(v >= 0.0 && v.fract() == 0.0 && v < 1e12) {
            return Err(ctx.err(
                &f("spare_pool"),
                format!("spare pool must be a whole number of nodes, got {v}"),
            ));
        }
        out.spare_pool_nodes = Some(v as u64);
    }
    if let Some(c) = r.nodes_per_rack {
        out.model.nodes_per_rack =
            ctx.whole(&f("nodes_per_rack"), c.count(), "nodes per rack")? as u32;
    }
    let set = |d: &mut f64, v: Option<f64>| {
        if let Some(v) = v {
            *d = v;
        }
    };
    if let Some(rp) = r.repair {
        let m = &mut out.model.repair;
        set(
            &mut m.auto_s,
            non_neg_dur(ctx, &f("repair.auto"), rp.auto, "automatic repair time")?,
        );
        set(
            &mut m.manual_s,
            non_neg_dur(ctx, &f("repair.manual"), rp.manual, "manual repair time")?,
        );
        set(
            &mut m.p_manual,
            probability(ctx, &f("repair.p_manual"), rp.p_manual, "p_manual")?,
        );
        set(
            &mut m.p_auto_false,
            probability(
                ctx,
                &f("repair.p_auto_false"),
                rp.p_auto_false,
                "p_auto_false",
            )?,
        );
        set(
            &mut m.p_manual_false,
            probability(
                ctx,
                &f("repair.p_manual_false"),
                rp.p_manual_false,
                "p_manual_false",
            )?,
        );
    }
    if let Some(rs) = r.restart {
        let m = &mut out.model.recovery;
        set(
            &mut m.detect_s,
            non_neg_dur(ctx, &f("restart.detect"), rs.detect, "detection time")?,
        );
        set(
            &mut m.diagnose_s,
            non_neg_dur(ctx, &f("restart.diagnose"), rs.diagnose, "diagnosis time")?,
        );
        set(
            &mut m.standby_swap_s,
            non_neg_dur(
                ctx,
                &f("restart.standby_swap"),
                rs.standby_swap,
                "standby swap time",
            )?,
        );
        set(
            &mut m.host_selection_s,
            non_neg_dur(
                ctx,
                &f("restart.host_selection"),
                rs.host_selection,
                "host selection time",
            )?,
        );
        set(
            &mut m.preemption_wait_s,
            non_neg_dur(
                ctx,
                &f("restart.preemption_wait"),
                rs.preemption_wait,
                "preemption wait",
            )?,
        );
        set(
            &mut m.restart_fixed_s,
            non_neg_dur(ctx, &f("restart.fixed"), rs.fixed, "fixed restart time")?,
        );
        set(
            &mut m.reinit_s,
            non_neg_dur(
                ctx,
                &f("restart.reinit"),
                rs.reinit,
                "re-initialisation time",
            )?,
        );
        if let Some(g) = rs.reinit_gpus {
            ctx.positive(&f("restart.reinit_gpus"), g.count(), "reference GPUs")?;
            m.reinit_gpus = g.count();
        }
        if let Some(x) = rs.reinit_exponent {
            ctx.within(
                &f("restart.reinit_exponent"),
                x,
                0.0,
                3.0,
                "re-initialisation exponent",
            )?;
            m.reinit_exponent = x;
        }
    }
    if let Some(rates) = r.rates {
        for (k, v) in rates {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(ctx.err(
                    &format!("{p}.rates.{k}"),
                    format!("a failure rate (per element-hour) must be a finite number not below zero, got {v}"),
                ));
            }
            if v > MAX_RATE_PER_HOUR {
                return Err(ctx.err(
                    &format!("{p}.rates.{k}"),
                    format!("a failure rate of {v:e} per element-hour is beyond {MAX_RATE_PER_HOUR} (measured rates are 10⁻⁶–10⁻³)"),
                ));
            }
            let model = &mut out.model;
            match model.classes.iter_mut().find(|c| c.name == k) {
                Some(c) => {
                    c.rate_per_hour = v;
                    c.source = "scenario override".into();
                }
                None => {
                    let names: Vec<&str> = model.classes.iter().map(|c| c.name.as_str()).collect();
                    return Err(ctx
                        .err(
                            &format!("{p}.rates.{k}"),
                            format!(
                                "no failure class `{k}` in preset `{}`; classes: {}",
                                model.preset,
                                names.join(", ")
                            ),
                        )
                        .with_hint(did_you_mean(&k, names.iter().copied())));
                }
            }
        }
    }
    if let Some(s) = r.rate_scale {
        if !(s >= 0.0 && s.is_finite()) {
            return Err(ctx.err(
                &f("rate_scale"),
                format!("rate scale must be a finite number not below zero, got {s}"),
            ));
        }
        if s > MAX_RATE_SCALE {
            return Err(ctx.err(
                &f("rate_scale"),
                format!("rate scale {s:e} is beyond {MAX_RATE_SCALE:e}: no cluster fails a million times as often as its preset"),
            ));
        }
        for c in &mut out.model.classes {
            c.rate_per_hour *= s;
        }
    }
    if let Some(b) = r.bad_nodes {
        let fr = b.fraction.fraction();
        if !(0.0..=1.0).contains(&fr) {
            return Err(ctx.err(
                &f("bad_nodes.fraction"),
                format!("bad-node fraction must lie in [0, 1], got {fr}"),
            ));
        }
        if !(b.multiplier >= 1.0 && b.multiplier.is_finite()) {
            return Err(ctx.err(
                &f("bad_nodes.multiplier"),
                format!(
                    "bad nodes fail k times as often; k must be at least 1, got {}",
                    b.multiplier
                ),
            ));
        }
        out.model.bad_nodes = (fr, b.multiplier);
    }
    if let Some(v) = r.lifetime {
        let lp = f("lifetime");
        out.model.lifetime = match v {
            toml::Value::String(s) if s == "exponential" => Lifetime::Exponential,
            toml::Value::Table(t) if t.len() == 1 => {
                let (k, x) = t
                    .iter()
                    .next()
                    .map(|(k, x)| (k.clone(), x.clone()))
                    .unwrap_or((String::new(), toml::Value::Float(f64::NAN)));
                let x = match x {
                    toml::Value::Float(x) => x,
                    toml::Value::Integer(i) => i as f64,
                    _ => f64::NAN,
                };
                match k.as_str() {
                    "weibull" => {
                        ctx.positive(&format!("{lp}.weibull"), x, "Weibull shape")?;
                        // Γ(1 + 1/k) overflows below k ≈ 0.006; measured shapes are 0.5–3
                        ctx.within(&format!("{lp}.weibull"), x, 0.05, 50.0, "Weibull shape")?;
                        Lifetime::Weibull(x)
                    }
                    "lognormal" => {
                        ctx.positive(&format!("{lp}.lognormal"), x, "lognormal sigma")?;
                        // e^(σ²/2) of the mean-preserving μ stays finite; measured σ are 0.5–2
                        ctx.within(&format!("{lp}.lognormal"), x, 0.0, 10.0, "lognormal sigma")?;
                        Lifetime::Lognormal(x)
                    }
                    _ => return Err(ctx.err(&lp, format!("unknown lifetime `{k}`; expected \"exponential\", {{ weibull = shape }} or {{ lognormal = sigma }}"))),
                }
            }
            _ => return Err(ctx.err(
                &lp,
                "lifetime must be \"exponential\", { weibull = shape } or { lognormal = sigma }",
            )),
        };
    }
    if let Some(s) = r.sdc {
        let m = &mut out.model.sdc;
        if let Some(pv) = s.prevalence {
            set(
                &mut m.prevalence,
                probability(
                    ctx,
                    &f("sdc.prevalence"),
                    Some(pv.fraction()),
                    "SDC prevalence",
                )?,
            );
        }
        if let Some(t) = s.trigger {
            if !(t >= 0.0 && t.is_finite()) {
                return Err(ctx.err(&f("sdc.trigger"), format!("an SDC trigger rate (per defective GPU-hour) must be a finite number not below zero, got {t}")));
            }
            m.trigger_per_hour = t;
        }
        set(
            &mut m.detect_s,
            non_neg_dur(ctx, &f("sdc.detect"), s.detect, "SDC detection delay")?,
        );
    }
    if let Some(name) = &r.recovery {
        out.recovery = Some(design(ctx, &f("recovery"), name)?);
    }
    if let Some(c) = r.containment {
        let cp = f("containment");
        let d = |v: Option<Duration>, k: &str, what: &str| -> Result<Option<f64>, SpecError> {
            non_neg_dur(ctx, &format!("{cp}.{k}"), v, what)
        };
        out.containment.detect_s = d(c.detect, "detect", "detection time")?;
        out.containment.hot_swap_s = d(c.hot_swap, "hot_swap", "hot-spare swap time")?;
        out.containment.reconfigure_s = d(c.reconfigure, "reconfigure", "reconfiguration time")?;
        out.containment.snapshot_block_s =
            d(c.snapshot_block, "snapshot_block", "snapshot blocking time")?;
        if let Some(g) = c.replica_gpus {
            out.containment.replica_gpus =
                Some(ctx.whole(&format!("{cp}.replica_gpus"), g.count(), "GPUs per replica")?);
        }
        if let Some(b) = c.peer_bandwidth {
            ctx.positive(
                &format!("{cp}.peer_bandwidth"),
                b.bits_per_s(),
                "peer bandwidth",
            )?;
            out.containment.peer_bytes_per_s = Some(b.bytes_per_s());
        }
        if let Some(k) = c.snapshot_every {
            let v = ctx.whole(
                &format!("{cp}.snapshot_every"),
                k.count(),
                "steps per snapshot",
            )?;
            if v == 0 || v > u32::MAX as u64 {
                return Err(ctx.err(
                    &format!("{cp}.snapshot_every"),
                    format!("a snapshot comes every k ≥ 1 steps, got {v}"),
                ));
            }
            out.containment.snapshot_every_steps = Some(v as u32);
        }
        if let Some(k) = c.peer_copies {
            let v = ctx.whole(&format!("{cp}.peer_copies"), k.count(), "peer copies")?;
            if v > 16 {
                return Err(ctx.err(
                    &format!("{cp}.peer_copies"),
                    format!("peer copies must lie in 0–16, got {v}"),
                ));
            }
            out.containment.peer_copies = Some(v as u32);
        }
    }
    if let Some(v) = &r.designs {
        let dp = f("designs");
        out.designs = match v {
            toml::Value::String(s) if s == "all" => RecoveryDesign::ALL.to_vec(),
            toml::Value::String(s) => vec![design(ctx, &dp, s)?],
            toml::Value::Array(a) => {
                let mut names = vec![];
                for x in a {
                    match x {
                        toml::Value::String(s) => names.push(design(ctx, &dp, s)?),
                        other => {
                            return Err(ctx.err(
                                &dp,
                                format!("designs are names such as \"elastic-dp\", got {}", other.type_str()),
                            ))
                        }
                    }
                }
                names
            }
            other => {
                return Err(ctx.err(
                    &dp,
                    format!(
                        "designs must be \"all\" or a list of names such as [\"restart\", \"elastic-dp\"], got {}",
                        other.type_str()
                    ),
                ))
            }
        };
    }
    if let Some(t) = r.goodput_target {
        let t = t.fraction();
        if !(t > 0.0 && t <= 1.0) {
            return Err(ctx.err(
                &f("goodput_target"),
                format!("the goodput target is a share in (0, 1], e.g. \"90%\", got {t}"),
            ));
        }
        out.goodput_target = Some(t);
    }
    if let Some(m) = r.maintenance {
        let mp = f("maintenance");
        out.model.maintenance =
            match m {
                toml::Value::String(s) if s == "none" => None,
                toml::Value::Table(t) => {
                    for k in t.keys() {
                        if k != "every" && k != "duration" {
                            return Err(ctx.err(
                                &format!("{mp}.{k}"),
                                format!("unknown field `{k}`, expected `every` and `duration`"),
                            ));
                        }
                    }
                    let every = t
                        .get("every")
                        .ok_or_else(|| ctx.err(&mp, "maintenance needs `every`"))?;
                    let every = dur(ctx, &format!("{mp}.every"), every, "maintenance interval")?;
                    let duration = match t.get("duration") {
                        Some(toml::Value::Integer(0)) => 0.0,
                        Some(v) => dur(ctx, &format!("{mp}.duration"), v, "maintenance duration")?,
                        None => 0.0,
                    };
                    Some((every, duration))
                }
                _ => return Err(ctx.err(
                    &mp,
                    "maintenance must be \"none\" or { every = \"27.6 h\", duration = \"5 min\" }",
                )),
            };
    }
    Ok(out)
}
