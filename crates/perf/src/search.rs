//! Parallelism search: every valid (tp, cp, pp, dp, ep, interleave, schedule, microbatch,
//! recompute, ZeRO stage, sequence parallelism, overlap switches) evaluated in parallel with
//! rayon; invalid layouts and layouts that do not fit in HBM are skipped and counted. The result
//! does not depend on the thread count: candidates are ranked by score, then by a total order on
//! the configuration.

use crate::step::{
    check, evaluate_with, mean_activity, Cluster, Config, Eval, Overlap, Recompute, Schedule,
    Workload,
};
use rayon::prelude::*;
use serde::Serialize;

/// What to rank by.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub enum Objective {
    /// Highest tokens per second.
    Tokens,
    /// Lowest dollars per token: GPU time at a fixed rate plus energy in proportion to the
    /// step's mean activity.
    Cost {
        fixed_usd_per_gpu_s: f64,
        energy_usd_per_gpu_s_at_full_activity: f64,
    },
}

/// How the global batch adapts to a layout.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub enum BatchPolicy {
    /// The job's batch exactly; layouts that do not divide it are invalid.
    Exact,
    /// The nearest multiple of dp × microbatch (at least one), as training recipes round it.
    Nearest,
    /// The largest multiple of dp not above the job's batch (Calculon's optimiser).
    AtMost,
}

/// The space searched.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Space {
    pub max_microbatch: u32,
    /// Largest TP degree (TP beyond the scale-up domain is never useful; the domain by default).
    pub max_tp: u32,
    pub max_cp: u32,
    pub batch: BatchPolicy,
    pub objective: Objective,
    pub top_k: usize,
    /// Keep layouts that do not fit in HBM (ranked after all that fit) instead of skipping them.
    pub keep_unfit: bool,
}

impl Space {
    pub fn new(c: &Cluster) -> Space {
        Space {
            max_microbatch: 16,
            max_tp: c.fabric.levels.first().map_or(8, |l| l.size.min(64) as u32),
            max_cp: 16,
            batch: BatchPolicy::Nearest,
            objective: Objective::Tokens,
            top_k: 10,
            keep_unfit: false,
        }
    }
}

/// One ranked layout.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Candidate {
    pub config: Config,
    pub global_batch_seqs: u64,
    pub step_time_s: f64,
    pub tokens_per_s: f64,
    pub mfu: f64,
    pub memory_per_gpu_bytes: f64,
    pub fits: bool,
    pub usd_per_million_tokens: Option<f64>,
    /// Higher is better.
    pub score: f64,
}

/// Search totals and the best layouts.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SearchResult {
    pub evaluated: u64,
    pub valid: u64,
    pub invalid: u64,
    pub unfit: u64,
    /// Invalid layouts by the `[job.parallelism]` field at fault (sorted by field name).
    pub invalid_by_field: std::collections::BTreeMap<String, u64>,
    pub top: Vec<Candidate>,
}

/// How far the search may move the global batch when it rounds it to the nearest multiple of
/// dp × microbatch ([`BatchPolicy::Nearest`]): a factor of 2 either way. Pre-training recipes change the batch by such
/// factors during a run (Llama 3 405B went from 4M to 8M to 16M tokens, arXiv 2407.21783
/// §3.4.1), so a layout inside the band trains the same job (A); beyond it, it is another job.
pub const MAX_BATCH_CHANGE: f64 = 2.0;

/// Fields [`check`] can name, for counting without allocating per layout.
const FIELDS: [&str; 8] = [
    "tp",
    "pp",
    "cp",
    "ep",
    "dp",
    "microbatch",
    "interleave",
    "zero",
];

fn field_index(f: &str) -> usize {
    FIELDS
        .iter()
        .position(|x| *x == f)
        .unwrap_or(FIELDS.len() - 1)
}

fn divisors(n: u64) -> Vec<u64> {
    let mut v = vec![];
    let mut i = 1;
    while i * i <= n {
        if n % i == 0 {
            v.push(i);
            if i * i != n {
                v.push(n / i);
            }
        }
        i += 1;
    }
    v.sort_unstable();
    v
}

/// A total order on configurations for deterministic ties.
fn key(c: &Config) -> [u32; 12] {
    let o = &c.overlap;
    [
        c.tp,
        c.pp,
        c.cp,
        c.ep,
        c.dp,
        c.microbatch,
        c.recompute as u32,
        c.schedule as u32,
        c.interleave,
        c.zero as u32,
        c.sequence_parallel as u32,
        (o.tp as u32)
            | (o.pp as u32) << 1
            | (o.dp as u32) << 2
            | (o.ep as u32) << 3
            | (o.cp as u32) << 4,
    ]
}

fn better(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    b.fits
        .cmp(&a.fits)
        .then(b.score.total_cmp(&a.score))
        .then(key(&a.config).cmp(&key(&b.config)))
}

fn push_top(top: &mut Vec<Candidate>, c: Candidate, k: usize) {
    if top.len() >= k {
        if let Some(last) = top.last() {
            if better(&c, last) != std::cmp::Ordering::Less {
                return;
            }
        }
    }
    let pos = top
        .binary_search_by(|x| better(x, &c))
        .unwrap_or_else(|e| e);
    top.insert(pos, c);
    top.truncate(k);
}

/// The outer layouts (tp, cp, pp, dp, ep) of a cluster, in a fixed order.
pub fn outer_layouts(w: &Workload, c: &Cluster, sp: &Space) -> Vec<(u32, u32, u32, u32, u32)> {
    let mut out = vec![];
    let m = &w.model;
    for tp in divisors(c.gpus) {
        if tp > sp.max_tp as u64 || m.heads as u64 % tp != 0 {
            continue;
        }
        let rest = c.gpus / tp;
        for cp in divisors(rest) {
            if cp > sp.max_cp as u64 || (cp > 1 && w.seq as u64 % (2 * cp) != 0) {
                continue;
            }
            let rest2 = rest / cp;
            for pp in divisors(rest2) {
                if pp > m.layers as u64 {
                    break;
                }
                let dp = rest2 / pp;
                let eps: Vec<u64> = match &m.moe {
                    Some(moe) => divisors(dp)
                        .into_iter()
                        .filter(|e| moe.routed_experts as u64 % e == 0)
                        .collect(),
                    None => vec![1],
                };
                for ep in eps {
                    out.push((tp as u32, cp as u32, pp as u32, dp as u32, ep as u32));
                }
            }
        }
    }
    out
}

/// Every overlap combination that matters for a layout.
fn overlaps(tp: u32, pp: u32, dp: u32, ep: u32, cp: u32) -> impl Iterator<Item = Overlap> {
    (0u8..32).filter_map(move |bits| {
        let o = Overlap {
            tp: bits & 1 != 0,
            pp: bits & 2 != 0,
            dp: bits & 4 != 0,
            ep: bits & 8 != 0,
            cp: bits & 16 != 0,
        };
        let useless = (o.tp && tp == 1)
            || (o.pp && pp == 1)
            || (o.dp && dp == 1)
            || (o.ep && ep == 1)
            || (o.cp && cp == 1);
        (!useless).then_some(o)
    })
}

/// Search one outer layout.
fn search_outer(
    w: &Workload,
    c: &Cluster,
    sp: &Space,
    (tp, cp, pp, dp, ep): (u32, u32, u32, u32, u32),
) -> SearchResult {
    let mut r = SearchResult::default();
    let mut by_field = [0u64; FIELDS.len()];
    let m = &w.model;
    let base_batch = w.global_batch_seqs.max(1);
    // interleave candidates: 1, and every chunk count that splits the layers
    let mut interleaves = vec![1u32];
    if pp > 1 {
        for v in 2..=m.layers / pp {
            if crate::step::stage_layers(m.layers, pp, v).is_some() {
                interleaves.push(v);
            }
        }
    }
    let mut wl = w.clone();
    for mbs in 1..=sp.max_microbatch {
        let per = dp as u64 * mbs as u64;
        let batch = match sp.batch {
            BatchPolicy::Exact => base_batch,
            BatchPolicy::Nearest => {
                ((base_batch as f64 / per as f64).round().max(1.0) as u64) * per
            }
            BatchPolicy::AtMost => (base_batch / dp as u64) * dp as u64,
        };
        if batch == 0 || batch % per != 0 {
            continue;
        }
        let change = batch as f64 / base_batch as f64;
        if sp.batch == BatchPolicy::Nearest
            && !(1.0 / MAX_BATCH_CHANGE..=MAX_BATCH_CHANGE).contains(&change)
        {
            // not this job's batch any more
            continue;
        }
        wl.global_batch_seqs = batch;
        for &v in &interleaves {
            let schedules: &[Schedule] = if v > 1 {
                &[Schedule::Interleaved]
            } else if pp > 1 {
                &[Schedule::OneFOneB, Schedule::ZeroBubble]
            } else {
                &[Schedule::OneFOneB]
            };
            for &schedule in schedules {
                for recompute in [Recompute::None, Recompute::Selective, Recompute::Full] {
                    for zero in 0..=(if dp > 1 { 3u8 } else { 0 }) {
                        for sequence_parallel in [true, false] {
                            if sequence_parallel && tp == 1 {
                                continue;
                            }
                            for overlap in overlaps(tp, pp, dp, ep, cp) {
                                let cfg = Config {
                                    tp,
                                    pp,
                                    cp,
                                    ep,
                                    dp,
                                    microbatch: mbs,
                                    recompute,
                                    schedule,
                                    interleave: v,
                                    zero,
                                    sequence_parallel,
                                    overlap,
                                };
                                r.evaluated += 1;
                                let (nmb, lps, bal) = match check(&wl, c, &cfg) {
                                    Ok(x) => x,
                                    Err(e) => {
                                        r.invalid += 1;
                                        by_field[field_index(e.field)] += 1;
                                        continue;
                                    }
                                };
                                let e = evaluate_with(&wl, c, &cfg, nmb, lps, bal);
                                let fits = e.memory.fits();
                                if !fits {
                                    r.unfit += 1;
                                    if !sp.keep_unfit {
                                        continue;
                                    }
                                } else {
                                    r.valid += 1;
                                }
                                let cand = candidate(&wl, c, sp, cfg, &e, fits);
                                push_top(&mut r.top, cand, sp.top_k.max(1));
                            }
                        }
                    }
                }
            }
        }
    }
    for (i, n) in by_field.iter().enumerate() {
        if *n > 0 {
            *r.invalid_by_field.entry(FIELDS[i].to_string()).or_insert(0) += n;
        }
    }
    r
}

fn candidate(
    w: &Workload,
    c: &Cluster,
    sp: &Space,
    cfg: Config,
    e: &Eval,
    fits: bool,
) -> Candidate {
    let step = e.step_time_s;
    let tps = if step > 0.0 {
        e.tokens_per_step / step
    } else {
        0.0
    };
    let gpus = c.gpus as f64;
    let peak = c.hardware.peak_flops(w.precision);
    let mfu = e.model_flops_per_step / (step * gpus * peak);
    let usd = match sp.objective {
        Objective::Tokens => None,
        Objective::Cost {
            fixed_usd_per_gpu_s,
            energy_usd_per_gpu_s_at_full_activity,
        } => {
            let per_gpu_s =
                fixed_usd_per_gpu_s + energy_usd_per_gpu_s_at_full_activity * mean_activity(e);
            Some(per_gpu_s * gpus * step / e.tokens_per_step * 1e6)
        }
    };
    let score = match usd {
        Some(u) => -u,
        None => tps,
    };
    Candidate {
        config: cfg,
        global_batch_seqs: w.global_batch_seqs,
        step_time_s: step,
        tokens_per_s: tps,
        mfu: if mfu.is_finite() { mfu } else { 0.0 },
        memory_per_gpu_bytes: e.memory.total_bytes,
        fits,
        usd_per_million_tokens: usd,
        score: if score.is_finite() { score } else { f64::MIN },
    }
}

fn merge(mut a: SearchResult, b: SearchResult, k: usize) -> SearchResult {
    a.evaluated += b.evaluated;
    a.valid += b.valid;
    a.invalid += b.invalid;
    a.unfit += b.unfit;
    for (k, v) in b.invalid_by_field {
        *a.invalid_by_field.entry(k).or_insert(0) += v;
    }
    for c in b.top {
        push_top(&mut a.top, c, k);
    }
    a
}

/// Search every layout; `progress(done, total)` is called as outer layouts finish (from worker
/// threads).
pub fn search(
    w: &Workload,
    c: &Cluster,
    sp: &Space,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> SearchResult {
    let outer = outer_layouts(w, c, sp);
    let total = outer.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let k = sp.top_k.max(1);
    outer
        .par_iter()
        .map(|&o| {
            let r = search_outer(w, c, sp, o);
            let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            progress(d, total);
            r
        })
        .reduce(SearchResult::default, |a, b| merge(a, b, k))
}
