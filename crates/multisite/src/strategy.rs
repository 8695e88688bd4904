//! The cross-site strategies, priced against the single-site step: synchronous hierarchical data
//! parallelism, pipeline stages across sites, DiLoCo and Streaming DiLoCo.
//!
//! Every function here is arithmetic on plain data ([`Basis`], [`Graph`], [`spec::sync::Sync`]);
//! the step model is called once, before, to fill the basis.

use crate::graph::Graph;
use crate::quality;
use serde::Serialize;
use spec::sync::{Strategy, Sync};

/// Bytes per gradient value sent across sites by synchronous DP: bf16, as in the worked example of
/// `calibration/multisite.md` §5.2 (Llama-3-405B-shape bf16 gradients = 810 GB, D). The in-site
/// reduction of the step model keeps its own precision.
pub const DP_GRADIENT_BYTES: f64 = 2.0;

/// Bytes per activation value at a pipeline stage boundary: bf16 (Narayanan et al. 2021 §4.1;
/// `calibration/multisite.md` §5.5: `b·s·d_model·bytes` each way).
pub const PP_ACTIVATION_BYTES: f64 = 2.0;

/// The single-site job the strategies are compared with (from the step model).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Basis {
    pub model: String,
    pub params_total: f64,
    pub params_active: f64,
    pub hidden: f64,
    pub layers: u32,
    pub gpus: u64,
    pub tp: u32,
    pub pp: u32,
    pub dp: u32,
    pub cp: u32,
    pub ep: u32,
    pub microbatches: u32,
    /// Tokens per optimizer step (the global batch).
    pub tokens_per_step: f64,
    /// Step time with every GPU in one site.
    pub step_s: f64,
    /// The window the cross-site gradient reduction can hide behind: the last microbatch's
    /// backward through every pipeline stage, `pp × (backward per microbatch per stage)`. Stage j
    /// of the pipeline finishes its last backward j slots before the first stage does, so its
    /// 1/pp of the gradients can leave then; a shared link serving them in arrival order finishes
    /// `max(0, S/W − pp·t_b)` after the step's compute (D; for pp = 1 it is the last microbatch's
    /// backward, the step model's own overlap window).
    pub backward_window_s: f64,
    /// Step time of one site's replica on its share of the batch (DiLoCo inner step); the
    /// slowest site's.
    pub inner_step_s: f64,
    pub mfu: f64,
}

impl Basis {
    /// The step a site's share of the job takes before anything crosses sites: the replica's own
    /// step, never faster than the single site's (one site could run any partition of its GPUs
    /// that several sites run, so the sites cannot beat it; D).
    pub fn site_step_s(&self) -> f64 {
        self.inner_step_s.max(self.step_s)
    }

    pub fn tokens_per_s(&self) -> f64 {
        if self.step_s > 0.0 {
            self.tokens_per_step / self.step_s
        } else {
            0.0
        }
    }
}

/// What a strategy's figures rest on, or why it cannot run (`report` words it).
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Note {
    /// One site: nothing crosses sites.
    OneSite,
    /// The cross-site links cannot carry the strategy's traffic (no path or zero capacity).
    NoPath,
    /// Pipeline stages across sites need pp a multiple of the site count.
    PipelineSplit { pp: u32, sites: u32 },
    /// Pipeline stages across sites need sites of equal GPU counts.
    UnequalSites,
    /// Synchronous DP: the gradients of `params` parameters all-reduced across the sites every
    /// step, overlapped with the last microbatch's backward or not.
    Dp {
        params: f64,
        sites: usize,
        overlap: bool,
    },
    /// Pipeline across sites: `stages_per_site` stages per site, activations of `tokens` tokens ×
    /// `hidden` cross `boundaries` boundaries.
    Pipeline {
        stages_per_site: u32,
        tokens: f64,
        hidden: f64,
        boundaries: u32,
    },
    /// DiLoCo: `replicas` replicas, a blocking outer sync every `inner_steps` in `compression`.
    Diloco {
        replicas: usize,
        inner_steps: u32,
        compression: String,
    },
    /// Streaming DiLoCo: fragments synced in turn, each exchange overlapping inner steps.
    StreamingDiloco {
        replicas: usize,
        fragments: f64,
        inner_steps: u32,
        overlap_steps: u32,
        compression: String,
    },
}

/// One strategy's figures for one site graph.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Outcome {
    pub name: String,
    /// False when the layout cannot run this way (the note says why); figures are then zero.
    pub feasible: bool,
    pub note: Note,
    /// Mean wall-clock time per optimizer step (DiLoCo: per inner step, outer syncs included).
    pub step_s: f64,
    pub tokens_per_s: f64,
    /// Tokens/s over the single site's.
    pub throughput_efficiency: f64,
    pub loss_increase_fraction: f64,
    pub extra_tokens_fraction: f64,
    pub quality_efficiency: f64,
    /// Throughput × quality against the same hardware in one site.
    pub efficiency: f64,
    /// Bytes the busiest site sends to other sites, per optimizer step (mean).
    pub cross_site_bytes_per_step: f64,
    /// Time of the cross-site communication per step (mean), overlapped or not.
    pub cross_site_s_per_step: f64,
    /// Part of it (and of the cross-site latency) the step waits for.
    pub exposed_s_per_step: f64,
}

impl Outcome {
    /// How much longer a step of this strategy takes than the same job's step in one site (the
    /// exposed cross-site time a synchronous job's sites wait out together).
    pub fn wait_beyond_one_site_s(&self, b: &Basis) -> f64 {
        (self.step_s - b.step_s).max(0.0)
    }
}

fn infeasible(s: Strategy, note: Note) -> Outcome {
    Outcome {
        name: s.name().into(),
        feasible: false,
        note,
        step_s: 0.0,
        tokens_per_s: 0.0,
        throughput_efficiency: 0.0,
        loss_increase_fraction: 0.0,
        extra_tokens_fraction: 0.0,
        quality_efficiency: 1.0,
        efficiency: 0.0,
        cross_site_bytes_per_step: 0.0,
        cross_site_s_per_step: 0.0,
        exposed_s_per_step: 0.0,
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    s: Strategy,
    b: &Basis,
    step_s: f64,
    tokens_per_step: f64,
    q: quality::Quality,
    bytes: f64,
    comm_s: f64,
    exposed_s: f64,
    note: Note,
) -> Outcome {
    if !(step_s.is_finite() && step_s > 0.0) {
        return infeasible(s, Note::NoPath);
    }
    let tps = tokens_per_step / step_s;
    let single = b.tokens_per_s();
    let te = if single > 0.0 { tps / single } else { 0.0 };
    Outcome {
        name: s.name().into(),
        feasible: true,
        note,
        step_s,
        tokens_per_s: tps,
        throughput_efficiency: te,
        loss_increase_fraction: q.loss_increase_fraction,
        extra_tokens_fraction: q.extra_tokens_fraction,
        quality_efficiency: q.efficiency,
        efficiency: te * q.efficiency,
        cross_site_bytes_per_step: bytes,
        cross_site_s_per_step: if comm_s.is_finite() { comm_s } else { 0.0 },
        exposed_s_per_step: if exposed_s.is_finite() {
            exposed_s
        } else {
            0.0
        },
    }
}

const NO_QUALITY_COST: quality::Quality = quality::Quality {
    loss_increase_fraction: 0.0,
    extra_tokens_fraction: 0.0,
    efficiency: 1.0,
};

/// Synchronous hierarchical DP: reduce-scatter inside each site, all-reduce of the shards across
/// sites, all-gather inside (NVIDIA NeMo's pattern, `calibration/multisite.md` §3.2), every step.
/// The in-site parts are the single-site step's own; the cross-site all-reduce pipelines with
/// them bucket by bucket and its transfer hides behind the last microbatch's backward through the
/// pipeline ([`Basis::backward_window_s`]) when `overlap` is on (Megatron-LM
/// `overlap_grad_reduce`); what does not fit is exposed, and so is the ring latency of the last
/// bucket, which cannot start before the backward ends.
pub fn sync_dp(g: &Graph, b: &Basis, sync: &Sync) -> Outcome {
    let bytes = b.params_total * DP_GRADIENT_BYTES;
    let x = g.all_reduce(bytes);
    // the transfer hides behind the backward window; the last bucket's collective latency
    // starts when the backward ends and never hides
    let exposed = if sync.overlap {
        (x.transfer_s - b.backward_window_s).max(0.0) + x.latency_s
    } else {
        x.seconds
    };
    let note = Note::Dp {
        params: b.params_total,
        sites: g.site_count(),
        overlap: sync.overlap,
    };
    finish(
        Strategy::Dp,
        b,
        b.site_step_s() + exposed,
        b.tokens_per_step,
        NO_QUALITY_COST,
        x.bytes_sent_per_site,
        x.seconds,
        exposed,
        note,
    )
}

/// Pipeline stages across sites: each site holds `pp / M` consecutive stages of every replica, so
/// data parallelism stays inside sites and only activations (forward) and their gradients
/// (backward) cross, `tokens × d_model × 2 bytes` per boundary per direction per step
/// (`calibration/multisite.md` §5.5). Latency: the fill and the drain cross each boundary once
/// (2(M−1) one-way latencies per step), and a microbatch's round trip over a boundary (2 L) is
/// exposed where it exceeds the work of the stages in the next site (`pp/M` slots of the 1F1B
/// schedule), per microbatch (A, the standard reasoning of §5.5). If a link cannot carry the
/// activations in the step time, the pipeline runs at the link's pace.
pub fn pipeline(g: &Graph, b: &Basis) -> Outcome {
    let m = g.site_count() as u32;
    if b.pp < 2 || b.pp % m != 0 {
        return infeasible(
            Strategy::Pipeline,
            Note::PipelineSplit { pp: b.pp, sites: m },
        );
    }
    let per_site = b.gpus / m as u64;
    if g.sites.iter().any(|s| s.gpus != per_site) {
        return infeasible(Strategy::Pipeline, Note::UnequalSites);
    }
    let chain = g.chain();
    let per_dir = b.tokens_per_step * b.hidden * PP_ACTIVATION_BYTES;
    let mut link_s: f64 = 0.0;
    let mut lat: f64 = 0.0;
    for (bw, l) in &chain {
        link_s = link_s.max(if *bw > 0.0 {
            per_dir / bw
        } else {
            f64::INFINITY
        });
        lat = lat.max(*l);
    }
    let mb = b.microbatches.max(1) as f64;
    let slot = b.step_s / (mb + b.pp as f64 - 1.0);
    let stages_next = (b.pp / m) as f64;
    let per_mb = (2.0 * lat - stages_next * slot).max(0.0);
    let fill = 2.0 * (m as f64 - 1.0) * lat;
    let latency_penalty = fill + mb * per_mb;
    let step = (b.step_s + latency_penalty).max(link_s + fill);
    let bytes = per_dir * (m.saturating_sub(1).min(2)) as f64;
    let note = Note::Pipeline {
        stages_per_site: b.pp / m,
        tokens: b.tokens_per_step,
        hidden: b.hidden,
        boundaries: m - 1,
    };
    finish(
        Strategy::Pipeline,
        b,
        step,
        b.tokens_per_step,
        NO_QUALITY_COST,
        bytes,
        link_s,
        step - b.step_s,
        note,
    )
}

/// Fragments of Streaming DiLoCo when none are given: three transformer layers each (Streaming
/// DiLoCo §2.2, "across all model scales", Q).
pub fn default_fragments(layers: u32) -> u32 {
    (layers / 3).max(1)
}

/// The model size the DiLoCo scaling-law tables are read at: the active parameters (the tables are
/// dense models; for a mixture of experts the compute-relevant size is the active one, A).
fn quality_size(b: &Basis) -> f64 {
    b.params_active.max(1.0)
}

/// DiLoCo: every site is a replica training on its share of the batch with in-site DP; every H
/// inner steps the sites all-reduce their pseudo-gradients (the whole model, compressed), blocking
/// (Douillard et al. 2023, arXiv 2311.08105; wall-clock model of Charles et al. 2025 App. A,
/// `calibration/multisite.md` §5.3).
pub fn diloco(g: &Graph, b: &Basis, sync: &Sync) -> Outcome {
    let h = sync.inner_steps.max(1) as f64;
    let bytes = b.params_total * sync.compression.bytes_per_value();
    let x = g.all_reduce(bytes);
    let round = h * b.site_step_s() + x.seconds;
    let q = quality::quality(quality_size(b), g.site_count(), h);
    let note = Note::Diloco {
        replicas: g.site_count(),
        inner_steps: sync.inner_steps,
        compression: sync.compression.name().into(),
    };
    finish(
        Strategy::Diloco,
        b,
        round / h,
        b.tokens_per_step,
        q,
        x.bytes_sent_per_site / h,
        x.seconds / h,
        x.seconds / h,
        note,
    )
}

/// Streaming DiLoCo (Douillard et al. 2025, arXiv 2501.18512): P fragments synced in turn, one
/// every H/P inner steps, each exchange overlapping τ inner steps. Per fragment the exposed time
/// is what exceeds τ inner steps; the link also has to finish the P fragment exchanges within
/// the round (it runs at the link's pace otherwise). Quality as DiLoCo at the same H: Streaming
/// DiLoCo with FP4 outer gradients matched DiLoCo within the H term (Table 5, see `quality`).
pub fn streaming_diloco(g: &Graph, b: &Basis, sync: &Sync) -> Outcome {
    let h = sync.inner_steps.max(1) as f64;
    let p = sync
        .fragments
        .unwrap_or_else(|| default_fragments(b.layers))
        .clamp(1, sync.inner_steps.max(1)) as f64;
    let bytes = b.params_total * sync.compression.bytes_per_value();
    let x = g.all_reduce(bytes / p);
    let inner = b.site_step_s();
    let window = sync.overlap_steps as f64 * inner;
    let exposed = (x.seconds - window).max(0.0);
    let round = (h * inner + p * exposed).max(p * x.seconds);
    let q = quality::quality(quality_size(b), g.site_count(), h);
    let note = Note::StreamingDiloco {
        replicas: g.site_count(),
        fragments: p,
        inner_steps: sync.inner_steps,
        overlap_steps: sync.overlap_steps,
        compression: sync.compression.name().into(),
    };
    finish(
        Strategy::StreamingDiloco,
        b,
        round / h,
        b.tokens_per_step,
        q,
        p * x.bytes_sent_per_site / h,
        p * x.seconds / h,
        (round - h * inner).max(0.0) / h,
        note,
    )
}

/// One strategy on one graph.
pub fn evaluate(g: &Graph, b: &Basis, sync: &Sync, s: Strategy) -> Outcome {
    if g.site_count() < 2 {
        return infeasible(s, Note::OneSite);
    }
    match s {
        Strategy::Dp => sync_dp(g, b, sync),
        Strategy::Pipeline => pipeline(g, b),
        Strategy::Diloco => diloco(g, b, sync),
        Strategy::StreamingDiloco => streaming_diloco(g, b, sync),
    }
}

/// The smallest capacity per link (all links alike) at which a strategy keeps its efficiency at
/// or above `1 − target_loss`; `None` when no capacity does (the quality cost, the latency or the
/// layout bounds it). Bisection in log capacity between 1 Mbit/s and 10 Ebit/s.
pub fn capacity_for_loss(
    g: &Graph,
    b: &Basis,
    sync: &Sync,
    s: Strategy,
    target_loss: f64,
) -> Option<f64> {
    let want = 1.0 - target_loss;
    let eff = |c: f64| evaluate(&g.with_links(Some(c), None), b, sync, s).efficiency;
    let (mut lo, mut hi) = (6.0_f64, 19.0_f64);
    if eff(10f64.powf(hi)) < want {
        return None;
    }
    if eff(10f64.powf(lo)) >= want {
        return Some(10f64.powf(lo));
    }
    for _ in 0..50 {
        let mid = 0.5 * (lo + hi);
        if eff(10f64.powf(mid)) >= want {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(10f64.powf(hi))
}
