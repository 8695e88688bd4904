//! The `[job]` section: which model trains on how many tokens, with which parallelism.

use crate::catalog::ModelArch;
use crate::ctx::{CatalogRef, Ctx};
use crate::error::SpecError;
use crate::units::Count;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJob {
    pub model: CatalogRef,
    /// Training tokens (`"15.6T"`).
    pub tokens: Count,
    /// Sequence length; the model's pre-training length when absent.
    #[serde(default)]
    pub seq: Option<u32>,
    /// Global batch in tokens (`"16M"`).
    pub global_batch: Count,
    /// GPUs the job runs on, out of those installed (`"16k"`); all of them when absent.
    #[serde(default)]
    pub gpus: Option<Count>,
    #[serde(default)]
    pub precision: Precision,
    #[serde(default)]
    pub parallelism: RawParallelism,
    /// Fused (flash) attention kernels; `false` for GPT-3-era runs that materialise the scores.
    #[serde(default = "yes")]
    pub flash_attention: bool,
    /// Dropout layers (GPT-3-era training); modern pre-training runs without.
    #[serde(default)]
    pub dropout: bool,
    /// Cross-site synchronisation (multi-site issue); kept as TOML until its types land.
    #[serde(default)]
    pub sync: Option<toml::Value>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Bf16,
    Fp8,
}

/// `"auto"` or an explicit layout.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RawParallelism {
    #[default]
    Auto,
    Fixed(FixedParallelism),
}

impl<'de> Deserialize<'de> for RawParallelism {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Not an untagged enum: that would hide the inner error behind "did not match any variant".
        let v = toml::Value::deserialize(d)?;
        match v {
            toml::Value::String(s) if s == "auto" => Ok(RawParallelism::Auto),
            toml::Value::String(s) => Err(serde::de::Error::custom(format!(
                "parallelism must be \"auto\" or a table such as {{ tp = 8, pp = 16, dp = \"rest\" }}, got \"{s}\""
            ))),
            toml::Value::Table(t) => FixedParallelism::deserialize(t)
                .map(RawParallelism::Fixed)
                .map_err(|e| serde::de::Error::custom(e.message())),
            other => Err(serde::de::Error::custom(format!(
                    "parallelism must be \"auto\" or a table, got {}",
                    other.type_str()
                ))),
        }
    }
}

/// An explicit parallel layout. Unset degrees default to 1; `dp = "rest"` (the default) takes the
/// GPUs left over.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FixedParallelism {
    #[serde(default = "one")]
    pub tp: u32,
    #[serde(default = "one")]
    pub pp: u32,
    #[serde(default = "one")]
    pub cp: u32,
    #[serde(default = "one")]
    pub ep: u32,
    /// Data-parallel degree, or `None` for "rest".
    #[serde(default, deserialize_with = "de_rest")]
    pub dp: Option<u32>,
    /// Sequences per microbatch.
    #[serde(default = "one")]
    pub microbatch: u32,
    #[serde(default)]
    pub recompute: Recompute,
    #[serde(default)]
    pub schedule: Schedule,
    /// Virtual pipeline stages per GPU (interleaved 1F1B).
    #[serde(default = "one")]
    pub interleave: u32,
    /// ZeRO stage 0–3 (3 = FSDP).
    #[serde(default)]
    pub zero: u8,
    /// Sequence parallelism alongside TP.
    #[serde(default = "yes")]
    pub sequence_parallel: bool,
    /// Which communication overlaps with compute.
    #[serde(default)]
    pub overlap: OverlapSwitches,
}

/// Which communication runs concurrently with compute. Defaults follow Megatron-Core's usual
/// production settings: TP communication overlap (Transformer Engine), overlapped pipeline
/// sends, overlapped gradient reduce and parameter gather, ring attention overlapped; expert
/// all-to-all not overlapped (it needs a DualPipe-style schedule).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct OverlapSwitches {
    #[serde(default = "yes")]
    pub tp: bool,
    #[serde(default = "yes")]
    pub pp: bool,
    #[serde(default = "yes")]
    pub dp: bool,
    #[serde(default)]
    pub ep: bool,
    #[serde(default = "yes")]
    pub cp: bool,
}

impl Default for OverlapSwitches {
    fn default() -> Self {
        OverlapSwitches {
            tp: true,
            pp: true,
            dp: true,
            ep: false,
            cp: true,
        }
    }
}

fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

fn de_rest<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = toml::Value::deserialize(d)?;
    match v {
        toml::Value::String(s) if s == "rest" => Ok(None),
        toml::Value::Integer(i) if i >= 1 && i <= u32::MAX as i64 => Ok(Some(i as u32)),
        other => Err(serde::de::Error::custom(format!(
            "dp must be a positive whole number or \"rest\", got {other}"
        ))),
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Recompute {
    None,
    #[default]
    Selective,
    Full,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    #[default]
    #[serde(rename = "1f1b")]
    OneFOneB,
    Interleaved,
    ZeroBubble,
}

/// A resolved job.
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub model: ModelArch,
    pub tokens: f64,
    pub seq: u32,
    pub global_batch_tokens: f64,
    /// GPUs the job runs on (`None`: every installed GPU).
    pub gpus: Option<u64>,
    pub precision: Precision,
    pub parallelism: RawParallelism,
    pub flash_attention: bool,
    pub dropout: bool,
    #[serde(skip)]
    pub sync: Option<toml::Value>,
}

impl Serialize for RawParallelism {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RawParallelism::Auto => s.serialize_str("auto"),
            RawParallelism::Fixed(f) => f.serialize(s),
        }
    }
}

pub(crate) fn resolve(ctx: &Ctx, p: &str, j: RawJob) -> Result<Job, SpecError> {
    let model: ModelArch = ctx.resolve(&format!("{p}.model"), &j.model)?;
    let mp = format!("{p}.model");
    for (f, v) in [
        ("layers", model.layers),
        ("hidden", model.hidden),
        ("heads", model.heads),
        ("ffn", model.ffn),
        ("vocab", model.vocab),
        ("seq", model.seq),
    ] {
        ctx.positive(&format!("{mp}.{f}"), v as f64, f)?;
    }
    if model.kv_heads() == 0 || model.heads % model.kv_heads() != 0 {
        return Err(ctx.err(
            &format!("{mp}.kv_heads"),
            format!(
                "kv_heads ({}) must divide heads ({})",
                model.kv_heads(),
                model.heads
            ),
        ));
    }
    if let Some(moe) = &model.moe {
        if moe.top_k == 0 || moe.top_k > moe.routed_experts {
            return Err(ctx.err(
                &format!("{mp}.moe.top_k"),
                format!(
                    "top_k must lie in 1..={} (the routed experts), got {}",
                    moe.routed_experts, moe.top_k
                ),
            ));
        }
        if moe.dense_layers > model.layers {
            return Err(ctx.err(
                &format!("{mp}.moe.dense_layers"),
                "more dense layers than layers",
            ));
        }
    }
    let tokens = j.tokens.count();
    ctx.positive(&format!("{p}.tokens"), tokens, "training tokens")?;
    let seq = j.seq.unwrap_or(model.seq);
    ctx.positive(&format!("{p}.seq"), seq as f64, "sequence length")?;
    let gb = j.global_batch.count();
    ctx.positive(&format!("{p}.global_batch"), gb, "global batch")?;
    if gb < seq as f64 {
        return Err(ctx.err(
            &format!("{p}.global_batch"),
            format!("global batch is in tokens and must hold at least one sequence of {seq} tokens, got {gb}"),
        ));
    }
    let gpus = match j.gpus {
        None => None,
        Some(c) => {
            let n = c.count();
            if !(n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= u64::MAX as f64) {
                return Err(ctx.err(
                    &format!("{p}.gpus"),
                    format!("the job's GPU count must be a whole number of at least 1, got {n}"),
                ));
            }
            Some(n as u64)
        }
    };
    if let RawParallelism::Fixed(f) = &j.parallelism {
        let pp = format!("{p}.parallelism");
        for (n, v) in [
            ("tp", f.tp),
            ("pp", f.pp),
            ("cp", f.cp),
            ("ep", f.ep),
            ("microbatch", f.microbatch),
            ("interleave", f.interleave),
        ] {
            ctx.positive(&format!("{pp}.{n}"), v as f64, n)?;
        }
        if f.zero > 3 {
            return Err(ctx.err(
                &format!("{pp}.zero"),
                format!("ZeRO stage must be 0 to 3, got {}", f.zero),
            ));
        }
    }
    Ok(Job {
        model,
        tokens,
        seq,
        global_batch_tokens: gb,
        gpus,
        precision: j.precision,
        parallelism: j.parallelism,
        flash_attention: j.flash_attention,
        dropout: j.dropout,
        sync: j.sync,
    })
}
