//! One optimizer step of a training job on a cluster: compute, memory-bound work, collectives,
//! pipeline bubble, optimizer; memory per GPU.
//!
//! [`evaluate`] returns a compact [`Eval`] without allocating (the search calls it millions of
//! times); [`profile`] turns an evaluation into the ordered [`StepProfile`] the timeline and the
//! power model consume.

use crate::calib::*;
use crate::fabric::{Fabric, Group};
use crate::model::Model;
use serde::{Deserialize, Serialize};
pub use spec::job::{Precision, Recompute, Schedule};

/// Accelerator figures the step model needs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Hardware {
    pub name: String,
    pub bf16_flops: f64,
    /// FP8 dense peak (the BF16 peak where the chip has none).
    pub fp8_flops: f64,
    /// Measured matmul ceilings (MAMF); the peak times the A100's 86.9 % where not measured.
    pub matmul_ceiling_bf16_flops: f64,
    pub matmul_ceiling_fp8_flops: f64,
    pub hbm_bytes: f64,
    pub hbm_bytes_per_s: f64,
}

/// Where MAMF is not measured, assume the ceiling ratio of the A100 (271.2 / 312 = 86.9 %, P):
/// the most efficient measured part, so a missing entry never looks worse than measured ones (A).
const DEFAULT_CEILING_RATIO: f64 = 271.2 / 312.0;

impl Hardware {
    pub fn from_accelerator(a: &spec::Accelerator) -> Hardware {
        let bf16 = a.bf16.flops();
        let fp8 = a.fp8.map(|f| f.flops()).unwrap_or(bf16);
        let cb = a
            .matmul_ceiling_bf16
            .map(|f| f.flops())
            .unwrap_or(bf16 * DEFAULT_CEILING_RATIO);
        // FP8 ceiling: measured, else the BF16 ceiling ratio applied to the FP8 peak.
        let cf = a
            .matmul_ceiling_fp8
            .map(|f| f.flops())
            .unwrap_or(fp8 * cb / bf16.max(1.0));
        Hardware {
            name: a.name.clone(),
            bf16_flops: bf16,
            fp8_flops: fp8,
            matmul_ceiling_bf16_flops: cb,
            matmul_ceiling_fp8_flops: cf,
            hbm_bytes: a.hbm.bytes(),
            hbm_bytes_per_s: a.hbm_bandwidth.bytes_per_s(),
        }
    }

    /// Dense peak of a precision.
    pub fn peak_flops(&self, p: Precision) -> f64 {
        match p {
            Precision::Bf16 => self.bf16_flops,
            Precision::Fp8 => self.fp8_flops,
        }
    }
}

/// The GPUs a job runs on and the network between them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Cluster {
    pub gpus: u64,
    pub hardware: Hardware,
    pub fabric: Fabric,
}

/// Kernel features of the training software.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct Software {
    /// Fused attention (FlashAttention): no s² activations, causal blocks skipped.
    pub flash_attention: bool,
    /// Dropout layers (GPT-3-era training); modern pre-training runs without.
    pub dropout: bool,
}

impl Default for Software {
    /// Today's Megatron-Core / TorchTitan defaults: FlashAttention, no dropout.
    fn default() -> Self {
        Software {
            flash_attention: true,
            dropout: false,
        }
    }
}

/// What a job trains.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Workload {
    pub model: Model,
    pub seq: u32,
    /// Sequences per optimizer step.
    pub global_batch_seqs: u64,
    /// Tokens of the whole run.
    pub tokens: f64,
    pub precision: Precision,
    pub software: Software,
}

/// Which communication runs concurrently with compute.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
pub struct Overlap {
    /// TP collectives overlapped with the neighbouring GEMMs (Transformer Engine userbuffers).
    pub tp: bool,
    /// Pipeline sends/receives overlapped with compute.
    pub pp: bool,
    /// Gradient reduce-scatter / all-reduce with the last backward, parameter all-gather with
    /// the first forward (and ZeRO-3 prefetch).
    pub dp: bool,
    /// Expert all-to-all overlapped with another microbatch's compute (DualPipe-style).
    pub ep: bool,
    /// Ring-attention K/V exchange overlapped with the attention of the previous chunk.
    pub cp: bool,
}

/// One parallel layout.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    pub tp: u32,
    pub pp: u32,
    pub cp: u32,
    pub ep: u32,
    pub dp: u32,
    /// Sequences per microbatch.
    pub microbatch: u32,
    pub recompute: Recompute,
    pub schedule: Schedule,
    /// Model chunks per pipeline stage (interleaved schedule), 1 otherwise.
    pub interleave: u32,
    pub zero: u8,
    pub sequence_parallel: bool,
    pub overlap: Overlap,
}

/// Compact result of one evaluation (no allocation). Times are per step, per GPU of the slowest
/// pipeline stage.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Eval {
    pub step_time_s: f64,
    pub forward_s: f64,
    pub backward_s: f64,
    pub recompute_s: f64,
    pub tp_comm_s: f64,
    pub cp_comm_s: f64,
    pub ep_comm_s: f64,
    pub pp_comm_s: f64,
    /// ZeRO-3 / FSDP parameter all-gathers (and gradient reduce-scatters) per microbatch, exposed.
    pub zero3_comm_s: f64,
    pub bubble_s: f64,
    pub dp_comm_s: f64,
    pub optimizer_s: f64,
    pub microbatches: u32,
    pub layers_per_stage: u32,
    pub tokens_per_step: f64,
    pub model_flops_per_step: f64,
    pub hardware_flops_per_step: f64,
    pub memory: Memory,
}

/// Memory per GPU of the fullest stage (Korthikanti et al. 2022 §4, generalised to GQA, gated
/// MLPs, MoE and FlashAttention).
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Memory {
    pub weights_bytes: f64,
    pub gradients_bytes: f64,
    pub optimizer_bytes: f64,
    pub activations_bytes: f64,
    pub reserved_bytes: f64,
    pub total_bytes: f64,
    pub capacity_bytes: f64,
}

impl Memory {
    pub fn fits(&self) -> bool {
        self.total_bytes <= self.capacity_bytes
    }
}

/// Why a configuration cannot run; `field` names the `[job.parallelism]` field at fault.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

/// Why a configuration cannot run, as the rule it breaks and the numbers that show it: [`check`]'s
/// reason before its message is written out. The search rejects millions of layouts and only
/// counts them by field, so it never formats one; [`Invalid`] is the same reason with its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection<'a> {
    /// A degree or count of zero (`field` is the one at fault).
    Zero { field: &'static str },
    /// tp × pp × dp × cp is not the cluster's GPU count.
    GpuCount {
        tp: u32,
        pp: u32,
        dp: u32,
        cp: u32,
        used: u64,
        gpus: u64,
    },
    /// The attention heads do not divide by tp.
    Heads { heads: u32, tp: u32 },
    /// Neither of the key/value heads and tp divides the other.
    KvHeads { kv_heads: u32, tp: u32 },
    /// The interleaved schedule with fewer than two chunks per stage.
    InterleavedNeedsChunks,
    /// Several chunks per stage with a schedule that is not the interleaved one.
    InterleaveNeedsSchedule { interleave: u32 },
    /// Interleaving without pipeline parallelism.
    InterleaveNeedsPp,
    /// The layers do not split into pp × interleave chunks.
    Layers {
        layers: u32,
        pp: u32,
        interleave: u32,
    },
    /// The routed experts do not divide by ep.
    Experts { routed_experts: u32, ep: u32 },
    /// ep does not divide dp.
    EpDividesDp { ep: u32, dp: u32 },
    /// ep > 1 on a model without experts.
    NoExperts { ep: u32, model: &'a str },
    /// The sequence does not split into 2 × cp chunks.
    SequenceChunks { seq: u32, chunks: u32 },
    /// Context parallelism without fused attention.
    CpNeedsFlash,
    /// A ZeRO stage beyond 3.
    ZeroStage { zero: u8 },
    /// The global batch does not divide into dp × microbatch.
    Batch { seqs: u64, dp: u32, microbatch: u32 },
    /// More microbatches per step than a `u32` counts.
    TooManyMicrobatches,
    /// The interleaved schedule with a microbatch count that pp does not divide.
    InterleavedMicrobatches { microbatches: u32, pp: u32 },
}

impl Rejection<'_> {
    /// The `[job.parallelism]` field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Rejection::Zero { field } => field,
            Rejection::GpuCount { .. } => "dp",
            Rejection::Heads { .. } | Rejection::KvHeads { .. } => "tp",
            Rejection::InterleavedNeedsChunks
            | Rejection::InterleaveNeedsSchedule { .. }
            | Rejection::InterleaveNeedsPp => "interleave",
            Rejection::Layers { .. } => "pp",
            Rejection::Experts { .. }
            | Rejection::EpDividesDp { .. }
            | Rejection::NoExperts { .. } => "ep",
            Rejection::SequenceChunks { .. } | Rejection::CpNeedsFlash => "cp",
            Rejection::ZeroStage { .. } => "zero",
            Rejection::Batch { .. }
            | Rejection::TooManyMicrobatches
            | Rejection::InterleavedMicrobatches { .. } => "microbatch",
        }
    }
}

impl std::fmt::Display for Rejection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Rejection::Zero { field } => write!(f, "{field} must be at least 1"),
            Rejection::GpuCount {
                tp,
                pp,
                dp,
                cp,
                used,
                gpus,
            } => write!(
                f,
                "tp × pp × dp × cp = {tp} × {pp} × {dp} × {cp} = {used}, but the cluster has {gpus} GPUs"
            ),
            Rejection::Heads { heads, tp } => {
                write!(f, "{heads} attention heads do not divide by tp = {tp}")
            }
            Rejection::KvHeads { kv_heads, tp } => write!(
                f,
                "{kv_heads} key/value heads and tp = {tp} must divide one another"
            ),
            Rejection::InterleavedNeedsChunks => f.write_str(
                "the interleaved schedule needs interleave ≥ 2 model chunks per stage",
            ),
            Rejection::InterleaveNeedsSchedule { interleave } => write!(
                f,
                "interleave = {interleave} needs schedule = \"interleaved\""
            ),
            Rejection::InterleaveNeedsPp => f.write_str("interleaving needs pp ≥ 2"),
            Rejection::Layers {
                layers,
                pp,
                interleave,
            } => write!(
                f,
                "{layers} layers do not split into pp × interleave = {pp} × {interleave} equal chunks (nor with one layer fewer on the first and last stage)"
            ),
            Rejection::Experts { routed_experts, ep } => write!(
                f,
                "{routed_experts} routed experts do not divide by ep = {ep}"
            ),
            Rejection::EpDividesDp { ep, dp } => write!(
                f,
                "expert parallelism is carved out of data parallelism: ep = {ep} must divide dp = {dp}"
            ),
            Rejection::NoExperts { ep, model } => {
                write!(f, "ep = {ep} but model {model} has no experts")
            }
            Rejection::SequenceChunks { seq, chunks } => write!(
                f,
                "sequence length {seq} does not split into 2 × cp = {chunks} load-balanced chunks"
            ),
            Rejection::CpNeedsFlash => {
                f.write_str("context parallelism needs fused (flash) attention")
            }
            Rejection::ZeroStage { zero } => write!(f, "ZeRO stage must be 0 to 3, got {zero}"),
            Rejection::Batch {
                seqs,
                dp,
                microbatch,
            } => write!(
                f,
                "global batch of {seqs} sequences does not divide into dp × microbatch = {dp} × {microbatch}"
            ),
            Rejection::TooManyMicrobatches => f.write_str("too many microbatches"),
            Rejection::InterleavedMicrobatches { microbatches, pp } => write!(
                f,
                "the interleaved schedule needs the {microbatches} microbatches per step to be a multiple of pp = {pp} (Megatron-LM)"
            ),
        }
    }
}

impl From<Rejection<'_>> for Invalid {
    fn from(r: Rejection<'_>) -> Invalid {
        Invalid {
            field: r.field(),
            message: r.to_string(),
        }
    }
}

/// Layers per pipeline stage: an even split, or the Llama 3 balance where the first and last
/// stages each hold one layer fewer to make room for the embedding and the output layer
/// (Llama 3 paper, arXiv 2407.21783 §3.3.2: 126 layers on 16 stages). Returns
/// (layers in the fullest stage, whether the output layer has its own slot).
pub fn stage_layers(layers: u32, pp: u32, interleave: u32) -> Option<(u32, bool)> {
    let chunks = pp.checked_mul(interleave)?;
    if chunks == 0 {
        return None;
    }
    if layers % chunks == 0 {
        Some((layers / pp, false))
    } else if pp >= 2 && (layers + 2) % chunks == 0 {
        Some(((layers + 2) / pp, true))
    } else {
        None
    }
}

/// Check a configuration against the model, batch and cluster: (microbatches per step, layers in
/// the fullest stage, whether the output layer has its own slot), or why it cannot run.
pub fn check(w: &Workload, c: &Cluster, cfg: &Config) -> Result<(u32, u32, bool), Invalid> {
    check_layout(w, c, cfg).map_err(Invalid::from)
}

/// [`check`] with the reason left unformatted. Reads tp, pp, cp, ep, dp, the microbatch, the
/// interleave, the schedule and the ZeRO stage (for its range only), never recompute, sequence
/// parallelism or the overlap switches: the search checks once for all the layouts that differ
/// only in those.
pub fn check_layout<'a>(
    w: &'a Workload,
    c: &Cluster,
    cfg: &Config,
) -> Result<(u32, u32, bool), Rejection<'a>> {
    let m = &w.model;
    for (field, v) in [
        ("tp", cfg.tp),
        ("pp", cfg.pp),
        ("cp", cfg.cp),
        ("ep", cfg.ep),
        ("dp", cfg.dp),
        ("microbatch", cfg.microbatch),
        ("interleave", cfg.interleave),
    ] {
        if v == 0 {
            return Err(Rejection::Zero { field });
        }
    }
    let used = cfg.tp as u64 * cfg.pp as u64 * cfg.dp as u64 * cfg.cp as u64;
    if used != c.gpus {
        return Err(Rejection::GpuCount {
            tp: cfg.tp,
            pp: cfg.pp,
            dp: cfg.dp,
            cp: cfg.cp,
            used,
            gpus: c.gpus,
        });
    }
    if m.heads % cfg.tp != 0 {
        return Err(Rejection::Heads {
            heads: m.heads,
            tp: cfg.tp,
        });
    }
    if m.mla.is_none() && m.kv_heads % cfg.tp != 0 && cfg.tp % m.kv_heads != 0 {
        return Err(Rejection::KvHeads {
            kv_heads: m.kv_heads,
            tp: cfg.tp,
        });
    }
    match (cfg.schedule, cfg.interleave) {
        (Schedule::Interleaved, v) if v < 2 => return Err(Rejection::InterleavedNeedsChunks),
        (Schedule::OneFOneB | Schedule::ZeroBubble, v) if v > 1 => {
            return Err(Rejection::InterleaveNeedsSchedule { interleave: v })
        }
        _ => {}
    }
    if cfg.interleave > 1 && cfg.pp < 2 {
        return Err(Rejection::InterleaveNeedsPp);
    }
    let Some((lps, balanced)) = stage_layers(m.layers, cfg.pp, cfg.interleave) else {
        return Err(Rejection::Layers {
            layers: m.layers,
            pp: cfg.pp,
            interleave: cfg.interleave,
        });
    };
    match &m.moe {
        Some(moe) => {
            if moe.routed_experts % cfg.ep != 0 {
                return Err(Rejection::Experts {
                    routed_experts: moe.routed_experts,
                    ep: cfg.ep,
                });
            }
            if cfg.dp % cfg.ep != 0 {
                return Err(Rejection::EpDividesDp {
                    ep: cfg.ep,
                    dp: cfg.dp,
                });
            }
        }
        None if cfg.ep > 1 => {
            return Err(Rejection::NoExperts {
                ep: cfg.ep,
                model: &m.name,
            })
        }
        None => {}
    }
    if cfg.cp > 1 {
        if w.seq % (2 * cfg.cp) != 0 {
            return Err(Rejection::SequenceChunks {
                seq: w.seq,
                chunks: 2 * cfg.cp,
            });
        }
        if !w.software.flash_attention {
            return Err(Rejection::CpNeedsFlash);
        }
    }
    if cfg.zero > 3 {
        return Err(Rejection::ZeroStage { zero: cfg.zero });
    }
    let per_dp = cfg.dp as u64 * cfg.microbatch as u64;
    if w.global_batch_seqs % per_dp != 0 {
        return Err(Rejection::Batch {
            seqs: w.global_batch_seqs,
            dp: cfg.dp,
            microbatch: cfg.microbatch,
        });
    }
    let mb = w.global_batch_seqs / per_dp;
    if mb > u32::MAX as u64 {
        return Err(Rejection::TooManyMicrobatches);
    }
    let mb = mb as u32;
    if cfg.interleave > 1 && mb % cfg.pp != 0 {
        return Err(Rejection::InterleavedMicrobatches {
            microbatches: mb,
            pp: cfg.pp,
        });
    }
    Ok((mb, lps, balanced))
}

/// Time of one GEMM (m×k)·(k×n): math at the calibrated matmul rate plus operand and result
/// traffic at HBM bandwidth (added, not overlapped), plus a fixed per-kernel time. The rate falls
/// as the smallest dimension approaches a few tiles: `rate / (1 + GEMM_HALF_DIM / min(m, n, k))`.
#[inline]
fn gemm_s(m: f64, n: f64, k: f64, rate: f64, hbm: f64, elem_bytes: f64) -> f64 {
    let flops = 2.0 * m * n * k;
    let bytes = (m * k + k * n + m * n) * elem_bytes;
    let small = m.min(n).min(k).max(1.0);
    let r = rate / (1.0 + GEMM_HALF_DIM / small);
    // operand loads and result stores are not fully hidden behind the math: the times add
    // (`calib::GEMM_HALF_DIM`)
    flops / r + bytes / hbm + GEMM_FIXED_S
}

/// Communication hidden behind `window` seconds of compute: what is left exposed, plus the
/// slowdown the hidden part inflicts on the compute.
#[inline]
fn exposed(comm: f64, window: f64, overlapped: bool) -> f64 {
    if overlapped {
        let hidden = comm.min(window);
        (comm - hidden) + OVERLAP_SLOWDOWN * hidden
    } else {
        comm
    }
}

/// Costs of one transformer layer for one microbatch on one GPU.
#[derive(Clone, Copy, Default)]
pub(crate) struct LayerCost {
    gemm_f: f64,
    attn_f: f64,
    attn_b: f64,
    mem_f: f64,
    /// memory-bound part of the attention core (non-fused softmax/dropout), inside `mem_f`
    attn_mem_f: f64,
    /// FP8 casts of the output gradients in the backward (seconds)
    cast_b: f64,
    tp_f: f64,
    tp_b: f64,
    ep_f: f64,
    ep_b: f64,
    cp_f: f64,
    cp_b: f64,
    /// hardware flops of the attention core forward (for HFU with selective recompute)
    attn_flops_f: f64,
    /// activation bytes kept for the backward, per microbatch
    act_bytes: f64,
    /// activation bytes with full recompute (the layer input only)
    act_full_bytes: f64,
    /// activation bytes of the attention core that selective recompute drops
    act_core_bytes: f64,
    /// matrix parameters on this GPU: replicated-over-DP part and expert part
    params_dense: f64,
    params_expert: f64,
}

#[allow(clippy::too_many_arguments)]
fn layer_cost(w: &Workload, c: &Cluster, cfg: &Config, moe_layer: bool) -> LayerCost {
    let m = &w.model;
    let hw = &c.hardware;
    let fab = &c.fabric;
    let t = cfg.tp as f64;
    let b = cfg.microbatch as f64;
    let s = w.seq as f64;
    let sc = s / cfg.cp as f64;
    let tok = b * sc; // tokens of this rank's sequence chunk
    let h = m.hidden;
    let heads = m.heads as f64;
    let kvh = m.kv_heads as f64;
    let tsp = if cfg.sequence_parallel && cfg.tp > 1 {
        t
    } else {
        1.0
    };
    let fp8 = w.precision == Precision::Fp8;
    let rate = GEMM_MAMF_FRACTION
        * if fp8 {
            hw.matmul_ceiling_fp8_flops
        } else {
            hw.matmul_ceiling_bf16_flops
        };
    let hbm = hw.hbm_bytes_per_s * HBM_EFFICIENCY;
    let eb = if fp8 { 1.0 } else { 2.0 };
    let mut lc = LayerCost::default();

    // --- attention projections ---
    let mut gemm = 0.0;
    let qh = heads / t; // query heads on this rank
    match &m.mla {
        Some(d) => {
            let qk = d.qk_nope_head_dim + d.qk_rope_head_dim;
            if d.q_lora_rank > 0.0 {
                gemm += gemm_s(tok, d.q_lora_rank, h, rate, hbm, eb);
                gemm += gemm_s(tok, qh * qk, d.q_lora_rank, rate, hbm, eb);
            } else {
                gemm += gemm_s(tok, qh * qk, h, rate, hbm, eb);
            }
            gemm += gemm_s(tok, d.kv_lora_rank + d.qk_rope_head_dim, h, rate, hbm, eb);
            gemm += gemm_s(
                tok,
                qh * (d.qk_nope_head_dim + d.v_head_dim),
                d.kv_lora_rank,
                rate,
                hbm,
                eb,
            );
            gemm += gemm_s(tok, h, qh * d.v_head_dim, rate, hbm, eb);
        }
        None => {
            let kv_local = (kvh / t).max(1.0);
            gemm += gemm_s(tok, (qh + 2.0 * kv_local) * m.head_dim, h, rate, hbm, eb);
            gemm += gemm_s(tok, h, qh * m.head_dim, rate, hbm, eb);
        }
    }

    // --- attention core ---
    // queries of this rank's chunk against all s keys (ring attention over CP brings them)
    let core_flops_full = 2.0 * tok * s * qh * (m.qk_dim + m.v_dim);
    let es = b * qh * sc * s; // score elements on this rank
    let mut attn_mem_bytes = 0.0;
    if w.software.flash_attention {
        // causal: fully masked blocks are skipped, half the score matrix is computed
        let fl = 0.5 * core_flops_full;
        lc.attn_flops_f = fl;
        lc.attn_f = fl / (hw.bf16_flops * FLASH_FWD_FRACTION) + GEMM_FIXED_S;
        lc.attn_b = FLASH_BWD_FLOP_RATIO * fl / (hw.bf16_flops * FLASH_BWD_FRACTION) + GEMM_FIXED_S;
    } else {
        // batched GEMMs per head, written to and read from HBM (2-byte scores), then
        // scale/mask/softmax (read+write) and dropout (read+write+mask) as separate kernels
        let rate16 = GEMM_MAMF_FRACTION * hw.matmul_ceiling_bf16_flops;
        let per_head_qk = gemm_s(sc * b, s, m.qk_dim, rate16, hbm, 2.0) - GEMM_FIXED_S;
        let per_head_av = gemm_s(sc * b, m.v_dim, s, rate16, hbm, 2.0) - GEMM_FIXED_S;
        lc.attn_flops_f = core_flops_full;
        lc.attn_f = qh * (per_head_qk + per_head_av) + 2.0 * GEMM_FIXED_S;
        lc.attn_b = 2.0 * lc.attn_f;
        attn_mem_bytes = es * (4.0 + if w.software.dropout { 5.0 } else { 0.0 });
    }

    // --- MLP / experts ---
    let mats = if m.gated_mlp { 2.0 } else { 1.0 }; // up-projection outputs per position
    let mut act_fn_elems = 0.0;
    let mut moe_elems = 0.0;
    match (&m.moe, moe_layer) {
        (Some(moe), true) => {
            let e = cfg.ep as f64;
            let experts = moe.routed_experts as f64;
            let k = moe.top_k as f64;
            let fe = moe.expert_ffn;
            // router
            gemm += gemm_s(tok / tsp, experts, h, rate, hbm, 2.0);
            // tokens arriving per local expert (balanced routing): the EP group's tokens × k / E
            let per_expert = tok * e * k / experts;
            let local = experts / e;
            let up = gemm_s(per_expert, mats * fe / t, h, rate, hbm, eb);
            let down = gemm_s(per_expert, h, fe / t, rate, hbm, eb);
            gemm += local * (up + down);
            act_fn_elems += tok * k * fe / t;
            moe_elems += tok * k * h / tsp;
            if moe.shared_experts > 0 {
                let fs = fe * moe.shared_experts as f64;
                gemm += gemm_s(tok, mats * fs / t, h, rate, hbm, eb);
                gemm += gemm_s(tok, h, fs / t, rate, hbm, eb);
                act_fn_elems += tok * fs / t;
            }
            // all-to-all dispatch (FP8 payload in FP8 runs) and combine (BF16), each direction
            // again in the backward; each TP rank routes its sequence-parallel share
            let tok_disp = tok / tsp;
            let g = Group {
                size: cfg.ep,
                stride: cfg.tp as u64 * cfg.cp as u64,
            };
            let disp = fab.all_to_all_s(tok_disp * k * h * eb, g);
            let comb = fab.all_to_all_s(tok_disp * k * h * 2.0, g);
            lc.ep_f = disp + comb;
            lc.ep_b = 2.0 * fab.all_to_all_s(tok_disp * k * h * 2.0, g);
            let ep_params = local * m.expert_params / t;
            lc.params_expert = ep_params;
            lc.params_dense += (moe.shared_experts as f64 * m.expert_params) / t + m.router_params;
        }
        _ => {
            let f = m.ffn;
            gemm += gemm_s(tok, mats * f / t, h, rate, hbm, eb);
            gemm += gemm_s(tok, h, f / t, rate, hbm, eb);
            act_fn_elems += tok * f / t;
            lc.params_dense += m.dense_mlp_params / t;
        }
    }
    lc.params_dense += m.attn_params / t + m.norm_params;
    lc.gemm_f = gemm;

    // --- memory-bound element-wise work, forward (bytes) ---
    let eh = tok * h / tsp;
    let mut bytes = 8.0 * eh // two layer norms: read 2 + write 2 bytes per element
        + 12.0 * eh // two residual adds: read 4 + write 2
        + act_fn_elems * if m.gated_mlp { 6.0 } else { 4.0 }
        + 8.0 * moe_elems // token permute and unpermute: read + write, twice
        + attn_mem_bytes;
    if w.software.dropout {
        bytes += 10.0 * eh; // two hidden dropouts: read 2 + write 2 + mask 1
    }
    if fp8 {
        // Casts to FP8 around every GEMM (Transformer Engine): forward, the inputs of QKV,
        // projection, fc1 and fc2; backward, the output gradients of the same four GEMMs.
        let qkv_out = tok * (qh + 2.0 * (kvh / t).max(1.0)) * m.head_dim;
        let fwd_elems = 2.0 * tok * h / tsp + tok * qh * m.v_dim + act_fn_elems;
        let bwd_elems = qkv_out + 2.0 * tok * h / tsp + mats * act_fn_elems;
        bytes += FP8_CAST_BYTES_PER_ELEMENT * fwd_elems;
        lc.cast_b = FP8_CAST_BYTES_PER_ELEMENT * bwd_elems / hbm;
    }
    lc.mem_f = bytes / hbm;
    lc.attn_mem_f = attn_mem_bytes / hbm;

    // --- tensor-parallel collectives on the hidden-state buffer ---
    if cfg.tp > 1 {
        let g = Group {
            size: cfg.tp,
            stride: 1,
        };
        let buf = tok * h * 2.0;
        let ag = fab.all_gather_s(buf, g);
        let rs = fab.reduce_scatter_s(buf, g);
        let ar = fab.all_reduce_s(buf, g);
        // Per layer (two blocks: attention and MLP). Forward: all-gather before and
        // reduce-scatter after each block with SP, one all-reduce after each block without
        // (Korthikanti §4.2.2, Shoeybi et al. 2019 fig. 3), on the critical path.
        // Backward: the collective on the input gradient of the column-parallel GEMM (all-reduce,
        // or reduce-scatter with SP) runs asynchronously under the weight-gradient GEMM, and with
        // SP the re-gather of the saved input under the input-gradient GEMM (Megatron-LM
        // `LinearWithGradAccumulationAndAsyncCommunication`, Korthikanti §4.2.2); only the SP
        // all-gather of the output gradient before each block's backward is exposed.
        let (per_f, per_b_exposed, per_b_async) = if cfg.sequence_parallel {
            (2.0 * (ag + rs), 2.0 * ag, 2.0 * (rs + ag))
        } else {
            (2.0 * ar, 0.0, 2.0 * ar)
        };
        lc.tp_f = exposed(per_f, lc.gemm_f, cfg.overlap.tp);
        lc.tp_b = exposed(per_b_exposed, lc.gemm_f, cfg.overlap.tp)
            + exposed(per_b_async, lc.gemm_f, true);
    }

    // --- context parallelism: ring exchange of K and V (Liu et al. 2023 ring attention) ---
    if cfg.cp > 1 {
        let kv_dim = match &m.mla {
            Some(_) => heads / t * (m.qk_dim + m.v_dim),
            None => (kvh / t).max(1.0) * 2.0 * m.head_dim,
        };
        let chunk = b * sc * kv_dim * 2.0;
        let steps = (cfg.cp - 1) as f64;
        let one = fab.p2p_s(chunk, cfg.tp as u64);
        lc.cp_f = exposed(steps * one, lc.attn_f, cfg.overlap.cp);
        // backward passes K/V and their gradients
        lc.cp_b = exposed(2.0 * steps * one, lc.attn_b, cfg.overlap.cp);
    }
    if lc.ep_f > 0.0 {
        let window = lc.gemm_f + lc.attn_f;
        lc.ep_f = exposed(lc.ep_f, window, cfg.overlap.ep);
        lc.ep_b = exposed(lc.ep_b, 2.0 * lc.gemm_f + lc.attn_b, cfg.overlap.ep);
    }

    // --- activations kept for the backward (Korthikanti 2022 §4.1, generalised) ---
    let qkv_out = 2.0 * tok * (qh + 2.0 * (kvh / t).max(1.0)) * m.head_dim;
    let proj_in = 2.0 * tok * qh * m.v_dim;
    let drop = if w.software.dropout { eh } else { 0.0 };
    let core = if w.software.flash_attention {
        4.0 * tok * qh // softmax statistics (fp32); the output is the projection input
    } else {
        es * (2.0 + if w.software.dropout { 3.0 } else { 0.0 })
    };
    let mlp_acts = match (&m.moe, moe_layer) {
        (Some(moe), true) => {
            let k = moe.top_k as f64 + moe.shared_experts as f64;
            // permuted expert inputs, up-projection outputs, activation outputs
            2.0 * tok * k * h / tsp + act_fn_elems * 2.0 * (mats + 1.0)
        }
        _ => 2.0 * eh + act_fn_elems * 2.0 * (mats + 1.0),
    };
    lc.act_bytes = 2.0 * eh // LN1 input
        + 2.0 * eh // QKV input
        + qkv_out
        + core
        + proj_in
        + drop
        + 2.0 * eh // LN2 input
        + mlp_acts
        + drop;
    lc.act_core_bytes = if w.software.flash_attention {
        0.0
    } else {
        core
    };
    lc.act_full_bytes = 2.0 * eh;
    lc
}

/// Evaluate one configuration: step time with its parts, FLOPs, memory. Pure and allocation-free.
pub fn evaluate(w: &Workload, c: &Cluster, cfg: &Config) -> Result<Eval, Invalid> {
    let (mb, lps, balanced) = check(w, c, cfg)?;
    Ok(evaluate_with(w, c, cfg, mb, lps, balanced))
}

/// Evaluate a configuration already [`check`]ed (its microbatch count, layers per stage, balance).
pub fn evaluate_with(
    w: &Workload,
    c: &Cluster,
    cfg: &Config,
    mb: u32,
    lps: u32,
    balanced: bool,
) -> Eval {
    let terms = microbatch_terms(w, c, cfg);
    let (lcst, _) = terms.stage_layer(&w.model, lps);
    let sync = sync_terms(w, c, cfg, lps, lcst);
    evaluate_parts(w, c, cfg, mb, lps, balanced, &terms, lcst, &sync)
}

/// The costs of one microbatch on one GPU that come before the pipeline, the schedule, recompute
/// and ZeRO: the layer costs of both layer kinds, the output layer's forward and one
/// stage-boundary send. They read tp, cp, dp, ep, the microbatch, sequence parallelism and the
/// tp, cp and ep overlap switches only (and pp for whether there is a send at all); the search
/// computes them once for all the layouts that share these.
#[derive(Clone, Copy)]
pub(crate) struct MicrobatchTerms {
    dense: LayerCost,
    /// The MoE layer, for models with any.
    moe: Option<LayerCost>,
    /// Output layer and loss on the last stage, forward: logits GEMM, fp32 softmax cross-entropy.
    logits_f: f64,
    /// One stage-boundary send (seconds; 0 without pipeline parallelism).
    pp_send_s: f64,
}

pub(crate) fn microbatch_terms(w: &Workload, c: &Cluster, cfg: &Config) -> MicrobatchTerms {
    let m = &w.model;
    let hw = &c.hardware;
    let fab = &c.fabric;
    let t = cfg.tp as f64;
    let b = cfg.microbatch as f64;
    let s = w.seq as f64;
    let tok = b * s / cfg.cp as f64;
    let h = m.hidden;
    let tsp = if cfg.sequence_parallel && cfg.tp > 1 {
        t
    } else {
        1.0
    };
    let hbm = hw.hbm_bytes_per_s * HBM_EFFICIENCY;
    let fp8 = w.precision == Precision::Fp8;
    let rate = GEMM_MAMF_FRACTION
        * if fp8 {
            hw.matmul_ceiling_fp8_flops
        } else {
            hw.matmul_ceiling_bf16_flops
        };

    let dense = layer_cost(w, c, cfg, false);
    let moe = (m.moe_layer_count > 0).then(|| layer_cost(w, c, cfg, true));

    let logits_f = gemm_s(tok, m.vocab / t, h, rate, hbm, if fp8 { 1.0 } else { 2.0 })
        + 14.0 * tok * m.vocab / t / hbm;

    // Pipeline point-to-point: the stage boundary activation, each TP rank sending its 1/t
    // share and the receivers all-gathering it over the scale-up domain (Narayanan et al. 2021
    // §4.1 scatter/gather; with SP the activation is already scattered).
    let pp_send_s = if cfg.pp > 1 {
        let bytes = tok * h * 2.0 / t;
        let stride = cfg.tp as u64 * cfg.cp as u64 * cfg.dp as u64;
        let gather = if tsp > 1.0 || cfg.tp == 1 {
            0.0
        } else {
            fab.all_gather_s(
                tok * h * 2.0,
                Group {
                    size: cfg.tp,
                    stride: 1,
                },
            )
        };
        fab.p2p_s(bytes, stride) + gather
    } else {
        0.0
    };
    MicrobatchTerms {
        dense,
        moe,
        logits_f,
        pp_send_s,
    }
}

impl MicrobatchTerms {
    /// The layer kind the fullest stage of `lps` layers is priced with, the costlier one (MoE where
    /// the MoE layers fill a stage), and whether it is the MoE kind.
    pub(crate) fn stage_layer(&self, m: &Model, lps: u32) -> (&LayerCost, bool) {
        match &self.moe {
            Some(moe) => {
                let dense = &self.dense;
                let dt = dense.gemm_f + dense.attn_f + dense.mem_f + dense.tp_f;
                let mt = moe.gemm_f + moe.attn_f + moe.mem_f + moe.tp_f + moe.ep_f;
                if m.moe_layer_count >= lps || mt >= dt {
                    (moe, true)
                } else {
                    (dense, false)
                }
            }
            None => (&self.dense, false),
        }
    }
}

/// Data-parallel ranks of one expert: dp over ep.
fn expert_dp(cfg: &Config) -> u32 {
    (cfg.dp / cfg.ep.max(1)).max(1)
}

/// Matrix parameters of the fullest stage on one GPU: the part replicated over data parallelism
/// (with this rank's share of the embedding) and the expert part.
fn stage_params(w: &Workload, cfg: &Config, lps: u32, lcst: &LayerCost) -> (f64, f64) {
    let m = &w.model;
    let l = lps as f64;
    let emb_rank = m.vocab * m.hidden / cfg.tp as f64;
    let stage_dense = l * lcst.params_dense + emb_rank;
    let stage_expert = l * lcst.params_expert;
    (stage_dense, stage_expert)
}

/// The data-parallel collectives of the fullest stage's parameters before any overlap: ZeRO-3's
/// per-microbatch gathers and reduce-scatter, or (ZeRO 0-2) the gradient and parameter
/// synchronisation after the last backward. They read the stage's parameters (the layer kind and
/// count), tp, cp, dp, ep and the ZeRO stage only; the search computes them once for all the
/// layouts that share these.
#[derive(Clone, Copy, Default)]
pub(crate) struct SyncTerms {
    /// ZeRO-3 weight all-gathers (forward and backward) and gradient reduce-scatter, per microbatch.
    zero3_s: f64,
    /// Gradient all-reduce (ZeRO 0) or reduce-scatter (ZeRO 1-2).
    grads_s: f64,
    /// Parameter all-gather after the optimizer (ZeRO 1-2).
    params_s: f64,
}

pub(crate) fn sync_terms(
    w: &Workload,
    c: &Cluster,
    cfg: &Config,
    lps: u32,
    lcst: &LayerCost,
) -> SyncTerms {
    let fab = &c.fabric;
    let (stage_dense, stage_expert) = stage_params(w, cfg, lps, lcst);
    let dp_group = Group {
        size: cfg.dp,
        stride: cfg.tp as u64 * cfg.cp as u64,
    };
    let edp_group = Group {
        size: expert_dp(cfg),
        stride: cfg.tp as u64 * cfg.cp as u64 * cfg.ep as u64,
    };
    let mut st = SyncTerms::default();
    // ZeRO-3: gather weights before forward and backward, reduce-scatter gradients, per
    // microbatch (FSDP).
    if cfg.zero >= 3 && cfg.dp > 1 {
        let ag = fab.all_gather_s(WEIGHT_BYTES * stage_dense, dp_group)
            + fab.all_gather_s(WEIGHT_BYTES * stage_expert, edp_group);
        let rs = fab.reduce_scatter_s(GRAD_BYTES * stage_dense, dp_group)
            + fab.reduce_scatter_s(GRAD_BYTES * stage_expert, edp_group);
        st.zero3_s = 2.0 * ag + rs;
    }
    // Data-parallel gradient synchronisation after the last backward (ZeRO 0-2).
    if cfg.zero < 3 && cfg.dp > 1 {
        st.grads_s = if cfg.zero == 0 {
            fab.all_reduce_s(GRAD_BYTES * stage_dense, dp_group)
                + fab.all_reduce_s(GRAD_BYTES * stage_expert, edp_group)
        } else {
            fab.reduce_scatter_s(GRAD_BYTES * stage_dense, dp_group)
                + fab.reduce_scatter_s(GRAD_BYTES * stage_expert, edp_group)
        };
        st.params_s = if cfg.zero >= 1 {
            fab.all_gather_s(WEIGHT_BYTES * stage_dense, dp_group)
                + fab.all_gather_s(WEIGHT_BYTES * stage_expert, edp_group)
        } else {
            0.0
        };
    }
    st
}

/// Memory per GPU of the fullest stage priced with layer `lcst` (Korthikanti et al. 2022 §4).
pub(crate) fn stage_memory(
    w: &Workload,
    c: &Cluster,
    cfg: &Config,
    mb: u32,
    lps: u32,
    lcst: &LayerCost,
) -> Memory {
    let m = &w.model;
    let t = cfg.tp as f64;
    let p = cfg.pp as f64;
    let v = cfg.interleave as f64;
    let b = cfg.microbatch as f64;
    let s = w.seq as f64;
    let tok = b * s / cfg.cp as f64;
    let l = lps as f64;
    let mbf = mb as f64;
    let (stage_dense, stage_expert) = stage_params(w, cfg, lps, lcst);
    let edp = expert_dp(cfg);
    let dense_div = if cfg.zero >= 1 { cfg.dp as f64 } else { 1.0 };
    let exp_div = if cfg.zero >= 1 { edp as f64 } else { 1.0 };
    let shard_by = |stage: u8, x: f64, div: f64| if cfg.zero >= stage { x / div } else { x };
    let weights = WEIGHT_BYTES
        * (shard_by(3, stage_dense, cfg.dp as f64) + shard_by(3, stage_expert, edp as f64));
    let grads = GRAD_BYTES
        * (shard_by(2, stage_dense, cfg.dp as f64) + shard_by(2, stage_expert, edp as f64));
    let opt = OPTIMIZER_STATE_BYTES * (stage_dense / dense_div + stage_expert / exp_div);
    let per_layer = match cfg.recompute {
        Recompute::None => lcst.act_bytes,
        Recompute::Selective => lcst.act_bytes - lcst.act_core_bytes,
        Recompute::Full => lcst.act_full_bytes,
    };
    // First stage: p microbatches in flight (fewer if the step has fewer); interleaving adds
    // (p − 1)/(p·v) (Korthikanti 2022 §4.2.3).
    let inflight = mbf.min(p);
    let interleave_factor = if cfg.interleave > 1 {
        1.0 + (p - 1.0) / (p * v)
    } else {
        1.0
    };
    let mut acts = per_layer * l * inflight * interleave_factor;
    if cfg.recompute == Recompute::Full {
        acts += lcst.act_bytes; // one layer's activations while it is recomputed
    }
    // fp32 logits and their gradient on the last stage
    acts += 8.0 * tok * m.vocab / t;
    Memory {
        weights_bytes: weights,
        gradients_bytes: grads,
        optimizer_bytes: opt,
        activations_bytes: acts,
        reserved_bytes: RESERVED_BYTES,
        total_bytes: weights + grads + opt + acts + RESERVED_BYTES,
        capacity_bytes: c.hardware.hbm_bytes,
    }
}

/// The evaluation of a checked configuration from its parts: the microbatch terms, the layer
/// kind its fullest stage is priced with ([`MicrobatchTerms::stage_layer`]) and that stage's
/// data-parallel collectives ([`sync_terms`] of the same layer).
#[allow(clippy::too_many_arguments)]
pub(crate) fn evaluate_parts(
    w: &Workload,
    c: &Cluster,
    cfg: &Config,
    mb: u32,
    lps: u32,
    balanced: bool,
    terms: &MicrobatchTerms,
    lcst: &LayerCost,
    sync: &SyncTerms,
) -> Eval {
    let m = &w.model;
    let hw = &c.hardware;
    let p = cfg.pp as f64;
    let v = cfg.interleave as f64;
    let s = w.seq as f64;
    let hbm = hw.hbm_bytes_per_s * HBM_EFFICIENCY;
    let l = lps as f64;

    // Output layer and loss on the last stage: logits GEMM, fp32 softmax cross-entropy.
    let logits_f = terms.logits_f;
    let logits_b = 2.0 * logits_f;
    // With the Llama 3 balance the output layer takes a layer's slot; otherwise it adds to the
    // last stage, which then sets the pipeline's pace.
    let layer_f = lcst.gemm_f + lcst.attn_f + lcst.mem_f;
    let layer_b =
        2.0 * lcst.gemm_f + BWD_ELEMENTWISE_RATIO * lcst.mem_f + lcst.cast_b + lcst.attn_b;
    let (extra_f, extra_b) = if balanced {
        ((logits_f - layer_f).max(0.0), (logits_b - layer_b).max(0.0))
    } else {
        (logits_f, logits_b)
    };

    // Recompute work per layer: compute, and the communication its forward repeats.
    let (rc_compute, rc_tp, rc_cp, rc_ep) = match cfg.recompute {
        Recompute::None => (0.0, 0.0, 0.0, 0.0),
        Recompute::Selective => (lcst.attn_f + lcst.attn_mem_f, 0.0, 0.0, 0.0),
        Recompute::Full => (layer_f, lcst.tp_f, lcst.cp_f, lcst.ep_f),
    };

    // Pipeline point-to-point, once per chunk per direction.
    let pp_one = if cfg.pp > 1 {
        v * exposed(2.0 * terms.pp_send_s, layer_f, cfg.overlap.pp)
    } else {
        0.0
    };

    // ZeRO-3 per microbatch.
    let z3_per_mb = if cfg.zero >= 3 && cfg.dp > 1 {
        exposed(sync.zero3_s, l * (3.0 * lcst.gemm_f), cfg.overlap.dp)
    } else {
        0.0
    };

    // Per microbatch, per stage (all v chunks).
    let comp_f = l * layer_f + extra_f;
    let comp_b = l * layer_b + extra_b;
    let rc = l * rc_compute;
    let tp_c = l * (lcst.tp_f + lcst.tp_b + rc_tp);
    let cp_c = l * (lcst.cp_f + lcst.cp_b + rc_cp);
    let ep_c = l * (lcst.ep_f + lcst.ep_b + rc_ep);
    let t_f = comp_f + l * (lcst.tp_f + lcst.cp_f + lcst.ep_f) + pp_one / 2.0 + z3_per_mb / 3.0;
    let t_b = comp_b
        + rc
        + l * (lcst.tp_b + lcst.cp_b + lcst.ep_b + rc_tp + rc_cp + rc_ep)
        + pp_one / 2.0
        + 2.0 * z3_per_mb / 3.0;
    let t_mb = t_f + t_b;
    let mbf = mb as f64;

    // Pipeline schedule.
    let bubble = if cfg.pp > 1 {
        match cfg.schedule {
            // Narayanan et al. 2021 §2.2: bubble (p − 1)/(v·m) of the ideal time
            Schedule::OneFOneB | Schedule::Interleaved => (p - 1.0) / v * t_mb,
            // Qi et al. 2023 (ZB-H1, arXiv 2401.10241 §3): (p − 1)(T_F + T_B − T_W) with the
            // backward split into input gradient T_B and weight gradient T_W
            Schedule::ZeroBubble => {
                let t_w = l * lcst.gemm_f;
                (p - 1.0) * (t_f + (t_b - t_w) - t_w).max(0.0)
            }
        }
    } else {
        0.0
    };

    // Data-parallel gradient synchronisation after the last backward (ZeRO 0-2): Megatron-LM
    // overlap_grad_reduce / overlap_param_gather hide it behind the backward of the last
    // microbatch and the forward of the first.
    let dp_s = if cfg.zero < 3 && cfg.dp > 1 {
        exposed(sync.grads_s, comp_b, cfg.overlap.dp)
            + exposed(sync.params_s, comp_f, cfg.overlap.dp)
    } else {
        0.0
    };

    // Optimizer step on the local shard (memory-bound).
    let (stage_dense, stage_expert) = stage_params(w, cfg, lps, lcst);
    let shard = if cfg.zero >= 1 {
        stage_dense / cfg.dp as f64 + stage_expert / expert_dp(cfg) as f64
    } else {
        stage_dense + stage_expert
    };
    let optimizer = OPTIMIZER_BYTES_PER_PARAM * shard / hbm;

    let steady = mbf * t_mb;
    let step = steady + bubble + dp_s + optimizer;

    // FLOPs per step (whole job).
    let seqs = w.global_batch_seqs as f64;
    let tokens = seqs * s;
    let model_flops = m.model_flops_per_token(s) * tokens;
    // Recompute repeats forward FLOPs: the attention core (selective) or every layer (full);
    // fused attention computes only the causal half.
    let core = m.layers as f64
        * m.attn_core_flops_per_token(s)
        * if w.software.flash_attention { 0.5 } else { 1.0 };
    let layer_matmul =
        2.0 * (m.params_active - m.embedding_params - m.hidden - m.layers as f64 * m.norm_params);
    let rc_flops_per_token = match cfg.recompute {
        Recompute::None => 0.0,
        Recompute::Selective => core,
        Recompute::Full => core + layer_matmul,
    };
    let hw_flops = model_flops + rc_flops_per_token * tokens;

    let mem = stage_memory(w, c, cfg, mb, lps, lcst);

    let rc_total = mbf * rc;
    Eval {
        step_time_s: step,
        forward_s: mbf * comp_f,
        backward_s: mbf * comp_b,
        recompute_s: rc_total,
        tp_comm_s: mbf * tp_c,
        cp_comm_s: mbf * cp_c,
        ep_comm_s: mbf * ep_c,
        pp_comm_s: mbf * pp_one,
        zero3_comm_s: mbf * z3_per_mb,
        bubble_s: bubble,
        dp_comm_s: dp_s,
        optimizer_s: optimizer,
        microbatches: mb,
        layers_per_stage: lps,
        tokens_per_step: tokens,
        model_flops_per_step: model_flops,
        hardware_flops_per_step: hw_flops,
        memory: mem,
    }
}

/// One phase of a step.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Phase {
    pub name: String,
    pub duration_s: f64,
    /// Fraction of full compute power-draw activity (compute ≈ 1, exposed communication and
    /// bubbles low); the power model turns it into watts.
    pub activity: f64,
}

/// One optimizer step as an ordered list of phases, with the figures derived from it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StepProfile {
    pub config: Config,
    pub gpus: u64,
    pub step_time_s: f64,
    pub phases: Vec<Phase>,
    pub tokens_per_step: f64,
    pub tokens_per_s: f64,
    /// Model FLOPs (no recompute, attention without causal masking, logits included) over the
    /// dense peak of the job's precision.
    pub mfu: f64,
    /// As `mfu` with recomputation counted.
    pub hfu: f64,
    /// Model FLOP/s per GPU (the "TF/GPU" sources quote).
    pub model_flops_per_gpu_per_s: f64,
    /// 6 × active parameters × tokens/s per GPU over the peak (the "6N" convention).
    pub mfu_6n: f64,
    pub days_to_train: f64,
    pub gpu_hours_to_train: f64,
    pub microbatches: u32,
    pub layers_per_stage: u32,
    pub memory: Memory,
    pub memory_per_gpu_bytes: f64,
    pub fits: bool,
    /// "does not fit: needs X GiB of Y GiB" when it does not.
    pub memory_note: Option<String>,
    /// Mean activity over the step (duration-weighted).
    pub mean_activity: f64,
    pub flop_formula: String,
}

/// The FLOP convention of `mfu` / `hfu`.
pub const FLOP_FORMULA: &str = "model FLOPs = 3 × forward matmul FLOPs of all layers and the logits, attention core 2·s·heads·(d_qk+d_v) per token per layer without causal masking (Korthikanti 2022 / PaLM convention); HFU adds recomputed forward FLOPs; peak = dense peak of the job's precision";

/// Phases of an evaluation, in step order. Aggregated over microbatches: the pipeline fill
/// (first half of the bubble), forward, recompute, backward, the exposed communication kinds,
/// the drain (second half), the data-parallel synchronisation and the optimizer.
pub fn phases(e: &Eval) -> [(&'static str, f64, f64); 12] {
    [
        ("pipeline_fill", e.bubble_s / 2.0, ACTIVITY_BUBBLE),
        ("forward", e.forward_s, ACTIVITY_COMPUTE),
        ("recompute", e.recompute_s, ACTIVITY_COMPUTE),
        ("backward", e.backward_s, ACTIVITY_COMPUTE),
        ("tp_comm", e.tp_comm_s, ACTIVITY_COMM),
        ("cp_comm", e.cp_comm_s, ACTIVITY_COMM),
        ("ep_comm", e.ep_comm_s, ACTIVITY_COMM),
        ("pp_comm", e.pp_comm_s, ACTIVITY_COMM),
        ("zero3_comm", e.zero3_comm_s, ACTIVITY_COMM),
        ("pipeline_drain", e.bubble_s / 2.0, ACTIVITY_BUBBLE),
        ("dp_comm", e.dp_comm_s, ACTIVITY_COMM),
        ("optimizer", e.optimizer_s, ACTIVITY_MEMORY_BOUND),
    ]
}

/// Duration-weighted mean activity of a step.
pub fn mean_activity(e: &Eval) -> f64 {
    let ph = phases(e);
    let total: f64 = ph.iter().map(|p| p.1).sum();
    if total > 0.0 {
        ph.iter().map(|p| p.1 * p.2).sum::<f64>() / total
    } else {
        0.0
    }
}

/// The full step profile of a configuration.
pub fn profile(w: &Workload, c: &Cluster, cfg: &Config) -> Result<StepProfile, Invalid> {
    let e = evaluate(w, c, cfg)?;
    Ok(profile_of(w, c, cfg, &e))
}

/// Build the step profile of an evaluation already made.
pub fn profile_of(w: &Workload, c: &Cluster, cfg: &Config, e: &Eval) -> StepProfile {
    let gpus = c.gpus as f64;
    let step = e.step_time_s;
    // the phases sum to the step by construction: forward/backward/recompute/comm are what the
    // steady state holds, the bubble and the tail are added
    let mut ph: Vec<Phase> = phases(e)
        .iter()
        .filter(|p| p.1 > 0.0)
        .map(|p| Phase {
            name: p.0.to_string(),
            duration_s: p.1,
            activity: p.2,
        })
        .collect();
    let sum: f64 = ph.iter().map(|p| p.duration_s).sum();
    // scale to the step time exactly (rounding and the per-microbatch pp/zero-3 split)
    if sum > 0.0 && step > 0.0 {
        let k = step / sum;
        for p in &mut ph {
            p.duration_s *= k;
        }
    }
    let peak = c.hardware.peak_flops(w.precision);
    let tps = if step > 0.0 {
        e.tokens_per_step / step
    } else {
        0.0
    };
    let mfu = e.model_flops_per_step / (step * gpus * peak);
    let hfu = e.hardware_flops_per_step / (step * gpus * peak);
    let mfu_6n = w.model.flops_6n_per_token() * tps / (gpus * peak);
    let train_s = if tps > 0.0 { w.tokens / tps } else { 0.0 };
    let mem = e.memory;
    let fits = mem.fits();
    let memory_note = if fits {
        None
    } else {
        Some(format!(
            "does not fit: needs {:.1} GiB of {:.1} GiB",
            mem.total_bytes / 1073741824.0,
            mem.capacity_bytes / 1073741824.0
        ))
    };
    StepProfile {
        config: *cfg,
        gpus: c.gpus,
        step_time_s: step,
        phases: ph,
        tokens_per_step: e.tokens_per_step,
        tokens_per_s: tps,
        mfu: finite(mfu),
        hfu: finite(hfu),
        model_flops_per_gpu_per_s: finite(e.model_flops_per_step / (step * gpus)),
        mfu_6n: finite(mfu_6n),
        days_to_train: train_s / 86400.0,
        gpu_hours_to_train: train_s * gpus / 3600.0,
        microbatches: e.microbatches,
        layers_per_stage: e.layers_per_stage,
        memory: mem,
        memory_per_gpu_bytes: mem.total_bytes,
        fits,
        memory_note,
        mean_activity: mean_activity(e),
        flop_formula: FLOP_FORMULA.into(),
    }
}

fn finite(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}
