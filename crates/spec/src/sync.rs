//! The `[job.sync]` section: how a job that spans several sites synchronises across them.
//!
//! ```toml
//! [job.sync]
//! strategy = "streaming-diloco"  # "dp" (synchronous hierarchical data parallelism), "pipeline",
//!                                # "diloco" or "streaming-diloco"
//! inner_steps = 100              # H: inner optimizer steps between outer synchronisations
//! fragments = 8                  # Streaming DiLoCo: parameter fragments synced in turn
//! overlap_steps = 1              # Streaming DiLoCo: inner steps a fragment's exchange may overlap
//! compression = "fp4"            # outer-gradient precision: "bf16", "fp8", "fp4" or "int8"
//! overlap = true                 # synchronous DP: cross-site reduce overlapped with the backward
//! ```
//!
//! Every field is optional. The defaults follow the sources of `calibration/multisite.md`:
//! H = 100 (INTELLECT-1's model card and the Streaming DiLoCo Table 4 simulations, §2.2 and §2.6),
//! one overlapped inner step (Streaming DiLoCo: "very robust for values of τ less than 5", §2.2),
//! bf16 outer gradients (DiLoCo and the scaling-law paper train with bfloat16, §2.3), fragments of
//! three transformer layers (Streaming DiLoCo, §2.2; resolved by the multi-site model, which knows
//! the layer count).

use crate::ctx::Ctx;
use crate::error::SpecError;
use serde::{Deserialize, Serialize};

/// How the sites of a job synchronise.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// Synchronous hierarchical data parallelism: reduce-scatter inside each site, all-reduce
    /// across sites, all-gather inside each site, every step.
    #[default]
    Dp,
    /// Pipeline stages split across sites; data parallelism stays inside each site.
    Pipeline,
    /// DiLoCo: each site is a replica that syncs its pseudo-gradient every H inner steps.
    Diloco,
    /// Streaming DiLoCo: DiLoCo with fragments synced in turn, overlapped with inner steps.
    StreamingDiloco,
}

impl Strategy {
    pub const ALL: [Strategy; 4] = [
        Strategy::Dp,
        Strategy::Pipeline,
        Strategy::Diloco,
        Strategy::StreamingDiloco,
    ];

    /// The name as written in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Dp => "dp",
            Strategy::Pipeline => "pipeline",
            Strategy::Diloco => "diloco",
            Strategy::StreamingDiloco => "streaming-diloco",
        }
    }
}

/// Precision of the values sent across sites by the DiLoCo strategies.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Bf16,
    Fp8,
    Fp4,
    Int8,
}

impl Compression {
    /// Bytes per parameter on the wire.
    pub fn bytes_per_value(self) -> f64 {
        match self {
            Compression::Bf16 => 2.0,
            Compression::Fp8 | Compression::Int8 => 1.0,
            Compression::Fp4 => 0.5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::Bf16 => "bf16",
            Compression::Fp8 => "fp8",
            Compression::Fp4 => "fp4",
            Compression::Int8 => "int8",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSync {
    #[serde(default)]
    strategy: Option<Strategy>,
    #[serde(default)]
    inner_steps: Option<i64>,
    #[serde(default)]
    fragments: Option<i64>,
    #[serde(default)]
    overlap_steps: Option<i64>,
    #[serde(default)]
    compression: Option<Compression>,
    #[serde(default)]
    overlap: Option<bool>,
}

/// The resolved `[job.sync]` section.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Sync {
    pub strategy: Strategy,
    /// H: inner steps between outer synchronisations (DiLoCo strategies).
    pub inner_steps: u32,
    /// Fragments synced in turn (Streaming DiLoCo); `None`: three layers per fragment.
    pub fragments: Option<u32>,
    /// Inner steps a fragment's exchange may overlap (Streaming DiLoCo τ).
    pub overlap_steps: u32,
    pub compression: Compression,
    /// Synchronous DP: the cross-site reduction overlaps the backward pass.
    pub overlap: bool,
}

/// H = 100: INTELLECT-1 (model card, S) and the Streaming DiLoCo / scaling-law simulations (P/Q).
pub const DEFAULT_INNER_STEPS: u32 = 100;
/// τ = 1 overlapped inner step (Streaming DiLoCo: robust for τ < 5, Q).
pub const DEFAULT_OVERLAP_STEPS: u32 = 1;

impl Default for Sync {
    fn default() -> Self {
        Sync {
            strategy: Strategy::Dp,
            inner_steps: DEFAULT_INNER_STEPS,
            fragments: None,
            overlap_steps: DEFAULT_OVERLAP_STEPS,
            compression: Compression::Bf16,
            overlap: true,
        }
    }
}

/// Resolve `[job.sync]` (kept as raw TOML by the job section) at path `p` (`"job.sync"`).
pub(crate) fn resolve(ctx: &Ctx, p: &str, v: &toml::Value) -> Result<Sync, SpecError> {
    if !v.is_table() {
        return Err(ctx.err(
            p,
            format!(
                "[job.sync] must be a table such as {{ strategy = \"diloco\", inner_steps = 100 }}, got {}",
                v.type_str()
            ),
        ));
    }
    let raw: RawSync = serde_path_to_error::deserialize(v.clone()).map_err(|e| {
        let sub = e.path().to_string();
        let msg = e.inner().to_string();
        let path = if sub == "." || sub.is_empty() {
            p.to_string()
        } else {
            format!("{p}.{sub}")
        };
        let msg = if msg.contains("unknown variant") && path.ends_with("strategy") {
            format!("{msg} (strategies: dp, pipeline, diloco, streaming-diloco)")
        } else {
            msg
        };
        ctx.err(&path, msg)
    })?;
    let d = Sync::default();
    let count = |f: &str, v: Option<i64>, dflt: u32, min: i64| -> Result<u32, SpecError> {
        match v {
            None => Ok(dflt),
            Some(n) if n >= min && n <= 1_000_000 => Ok(n as u32),
            Some(n) => Err(ctx.err(
                &format!("{p}.{f}"),
                format!("{f} must be a whole number from {min} to 1000000, got {n}"),
            )),
        }
    };
    let inner_steps = count("inner_steps", raw.inner_steps, d.inner_steps, 1)?;
    let overlap_steps = count("overlap_steps", raw.overlap_steps, d.overlap_steps, 0)?;
    let fragments = match raw.fragments {
        None => None,
        Some(_) => Some(count("fragments", raw.fragments, 1, 1)?),
    };
    if let Some(f) = fragments {
        if f > inner_steps {
            return Err(ctx.err(
                &format!("{p}.fragments"),
                format!(
                    "{f} fragments cannot be synced in turn within H = {inner_steps} inner steps (at most one fragment per step)"
                ),
            ));
        }
    }
    if overlap_steps >= inner_steps && inner_steps > 1 {
        return Err(ctx.err(
            &format!("{p}.overlap_steps"),
            format!(
                "a fragment's exchange may overlap fewer inner steps than H = {inner_steps}, got {overlap_steps}"
            ),
        ));
    }
    Ok(Sync {
        strategy: raw.strategy.unwrap_or(d.strategy),
        inner_steps,
        fragments,
        overlap_steps,
        compression: raw.compression.unwrap_or(d.compression),
        overlap: raw.overlap.unwrap_or(d.overlap),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn run(src: &str) -> Result<Sync, SpecError> {
        let cat = Catalog::embedded();
        let ctx = Ctx {
            file: "t.toml",
            src,
            catalog: &cat,
        };
        let t: toml::Table = toml::from_str(src).unwrap();
        let v = t["job"]["sync"].clone();
        resolve(&ctx, "job.sync", &v)
    }

    #[test]
    fn defaults_and_values() {
        let s = run("[job.sync]\n").unwrap();
        assert_eq!(s, Sync::default());
        let s = run("[job.sync]\nstrategy = \"streaming-diloco\"\ninner_steps = 30\nfragments = 4\ncompression = \"fp4\"\n").unwrap();
        assert_eq!(s.strategy, Strategy::StreamingDiloco);
        assert_eq!(s.inner_steps, 30);
        assert_eq!(s.fragments, Some(4));
        assert_eq!(s.compression, Compression::Fp4);
        assert_eq!(s.compression.bytes_per_value(), 0.5);
    }

    #[test]
    fn errors_name_the_field_and_line() {
        let e = run("[job.sync]\nstrategy = \"dilocco\"\n").unwrap_err();
        assert_eq!(e.path, "job.sync.strategy");
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("diloco"), "{e}");
        let e = run("[job.sync]\ninner_steps = 0\n").unwrap_err();
        assert_eq!(e.path, "job.sync.inner_steps");
        let e = run("[job.sync]\ninner_step = 5\n").unwrap_err();
        assert!(e.message.contains("unknown field"), "{e}");
        let e = run("[job.sync]\ninner_steps = 10\nfragments = 20\n").unwrap_err();
        assert_eq!(e.path, "job.sync.fragments");
        let e = run("[job.sync]\ncompression = \"fp2\"\n").unwrap_err();
        assert_eq!(e.path, "job.sync.compression");
    }
}
