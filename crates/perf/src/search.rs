//! Parallelism search: every valid (tp, cp, pp, dp, ep, interleave, schedule, microbatch,
//! recompute, ZeRO stage, sequence parallelism, overlap switches) evaluated in parallel with
//! rayon; invalid layouts and layouts that do not fit in HBM are skipped and counted. The result
//! does not depend on the thread count: candidates are ranked by score, then by a total order on
//! the configuration.

use crate::step::{
    check_layout, evaluate_parts, mean_activity, microbatch_terms, stage_memory, sync_terms,
    Cluster, Config, Eval, MicrobatchTerms, Overlap, Recompute, Schedule, SyncTerms, Workload,
};
use rayon::prelude::*;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

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

/// The ranking: layouts that fit first, then by score (higher first), then by [`key`]; a total
/// order, so the top list does not depend on the order candidates arrive in.
fn better(a: &Candidate, b: &Candidate) -> Ordering {
    b.fits
        .cmp(&a.fits)
        .then(b.score.total_cmp(&a.score))
        .then(key(&a.config).cmp(&key(&b.config)))
}

/// A candidate ordered by [`better`]: the better one is the smaller.
struct Ranked(Candidate);

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        better(&self.0, &other.0)
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

/// The best `k` candidates seen, in a binary heap whose top is the worst one kept: a candidate
/// that does not beat it costs one comparison, one that does O(log k). Sorting everything seen
/// and keeping the first `k` gives the same list.
struct TopK {
    k: usize,
    heap: BinaryHeap<Ranked>,
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK {
            k: k.max(1),
            heap: BinaryHeap::new(),
        }
    }

    fn push(&mut self, c: Candidate) {
        if self.heap.len() < self.k {
            self.heap.push(Ranked(c));
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if better(&c, &worst.0) == Ordering::Less {
                *worst = Ranked(c);
            }
        }
    }

    /// Both lists' best `k`.
    fn merge(mut self, mut other: TopK) -> TopK {
        if self.heap.len() < other.heap.len() {
            std::mem::swap(&mut self, &mut other);
        }
        for c in other.heap {
            self.push(c.0);
        }
        self
    }

    /// Best first.
    fn into_sorted(self) -> Vec<Candidate> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.0)
            .collect()
    }
}

/// A search in progress: the totals and the best layouts so far.
struct Partial {
    evaluated: u64,
    valid: u64,
    invalid: u64,
    unfit: u64,
    by_field: [u64; FIELDS.len()],
    top: TopK,
}

impl Partial {
    fn new(k: usize) -> Partial {
        Partial {
            evaluated: 0,
            valid: 0,
            invalid: 0,
            unfit: 0,
            by_field: [0; FIELDS.len()],
            top: TopK::new(k),
        }
    }

    fn merge(mut self, b: Partial) -> Partial {
        self.evaluated += b.evaluated;
        self.valid += b.valid;
        self.invalid += b.invalid;
        self.unfit += b.unfit;
        for (a, n) in self.by_field.iter_mut().zip(b.by_field) {
            *a += n;
        }
        self.top = self.top.merge(b.top);
        self
    }

    fn finish(self) -> SearchResult {
        SearchResult {
            evaluated: self.evaluated,
            valid: self.valid,
            invalid: self.invalid,
            unfit: self.unfit,
            invalid_by_field: FIELDS
                .iter()
                .zip(self.by_field)
                .filter(|(_, n)| *n > 0)
                .map(|(f, n)| (f.to_string(), n))
                .collect(),
            top: self.top.into_sorted(),
        }
    }
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

/// Search one outer layout into `r`.
///
/// Each layout is counted and ranked exactly as if it were checked and evaluated on its own, but
/// the work is shared: [`check_layout`] reads neither recompute, ZeRO (within 0-3), sequence
/// parallelism nor the overlap switches, so it runs once per (microbatch, interleave, schedule)
/// and a rejection counts for every layout that differs only in those; the microbatch terms
/// (layer costs, logits, stage send) are computed once per microbatch, sequence parallelism and
/// tp/cp/ep overlap, the data-parallel collectives once per interleave, layer kind and ZeRO
/// stage; memory comes before the step time, which layouts over the memory skip unless they are
/// kept.
fn search_outer(
    r: &mut Partial,
    w: &Workload,
    c: &Cluster,
    sp: &Space,
    (tp, cp, pp, dp, ep): (u32, u32, u32, u32, u32),
) {
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
    let zero_max = if dp > 1 { 3u8 } else { 0 };
    let sps: &[bool] = if tp > 1 { &[true, false] } else { &[false] };
    let n_overlaps = overlaps(tp, pp, dp, ep, cp).count() as u64;
    // layouts per (microbatch, interleave, schedule): recompute × ZeRO × SP × overlap
    let inner = 3 * (zero_max as u64 + 1) * sps.len() as u64 * n_overlaps;
    // data-parallel collectives by interleave, layer kind (dense, MoE) and ZeRO stage
    let mut syncs: Vec<[[Option<SyncTerms>; 4]; 2]> = vec![[[None; 4]; 2]; interleaves.len()];
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
        // microbatch terms by sequence parallelism and tp/cp/ep overlap, made when first needed
        let mut terms: [Option<MicrobatchTerms>; 16] = [None; 16];
        for (vi, &v) in interleaves.iter().enumerate() {
            let schedules: &[Schedule] = if v > 1 {
                &[Schedule::Interleaved]
            } else if pp > 1 {
                &[Schedule::OneFOneB, Schedule::ZeroBubble]
            } else {
                &[Schedule::OneFOneB]
            };
            for &schedule in schedules {
                let mut cfg = Config {
                    tp,
                    pp,
                    cp,
                    ep,
                    dp,
                    microbatch: mbs,
                    recompute: Recompute::None,
                    schedule,
                    interleave: v,
                    zero: 0,
                    sequence_parallel: false,
                    overlap: Overlap::default(),
                };
                r.evaluated += inner;
                let (nmb, lps, bal) = match check_layout(&wl, c, &cfg) {
                    Ok(x) => x,
                    Err(e) => {
                        r.invalid += inner;
                        r.by_field[field_index(e.field())] += inner;
                        continue;
                    }
                };
                for recompute in [Recompute::None, Recompute::Selective, Recompute::Full] {
                    for zero in 0..=zero_max {
                        for &sequence_parallel in sps {
                            for overlap in overlaps(tp, pp, dp, ep, cp) {
                                cfg.recompute = recompute;
                                cfg.zero = zero;
                                cfg.sequence_parallel = sequence_parallel;
                                cfg.overlap = overlap;
                                let slot = sequence_parallel as usize * 8
                                    + overlap.tp as usize
                                    + (overlap.cp as usize) * 2
                                    + (overlap.ep as usize) * 4;
                                let terms = &*terms[slot]
                                    .get_or_insert_with(|| microbatch_terms(&wl, c, &cfg));
                                let (lcst, moe) = terms.stage_layer(m, lps);
                                let fits = stage_memory(&wl, c, &cfg, nmb, lps, lcst).fits();
                                if !fits {
                                    r.unfit += 1;
                                    if !sp.keep_unfit {
                                        continue;
                                    }
                                } else {
                                    r.valid += 1;
                                }
                                let sync = &*syncs[vi][moe as usize][zero as usize]
                                    .get_or_insert_with(|| sync_terms(&wl, c, &cfg, lps, lcst));
                                let e =
                                    evaluate_parts(&wl, c, &cfg, nmb, lps, bal, terms, lcst, sync);
                                r.top.push(candidate(&wl, c, sp, cfg, &e, fits));
                            }
                        }
                    }
                }
            }
        }
    }
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
    let k = sp.top_k;
    outer
        .par_iter()
        .fold(
            || Partial::new(k),
            |mut r, &o| {
                search_outer(&mut r, w, c, sp, o);
                let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(d, total);
                r
            },
        )
        .reduce(|| Partial::new(k), Partial::merge)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fabric::{Fabric, Level, SCALE_OUT_EFFICIENCY, SCALE_UP_EFFICIENCY};
    use crate::step::{check, evaluate_with, Hardware, Precision, Software};
    use crate::Model;

    fn cluster(accelerator: &str, gpus: u64) -> Cluster {
        let cat = spec::Catalog::embedded();
        let a: spec::Accelerator = cat.get(accelerator).expect("catalogue");
        Cluster {
            gpus,
            hardware: Hardware::from_accelerator(&a),
            // NVLink 4 (450 GB/s one way), a 400G leaf of 256 GPUs and an oversubscribed spine
            fabric: Fabric {
                levels: vec![
                    Level {
                        name: "scale-up".into(),
                        size: 8,
                        bandwidth_bytes_per_s: 450e9,
                        latency_s: 3e-6,
                        efficiency: SCALE_UP_EFFICIENCY,
                    },
                    Level {
                        name: "leaf".into(),
                        size: 256,
                        bandwidth_bytes_per_s: 50e9,
                        latency_s: 5e-6,
                        efficiency: SCALE_OUT_EFFICIENCY,
                    },
                    Level {
                        name: "spine".into(),
                        size: u64::MAX,
                        bandwidth_bytes_per_s: 25e9,
                        latency_s: 1e-5,
                        efficiency: SCALE_OUT_EFFICIENCY,
                    },
                ],
            }
            .normalised(gpus),
        }
    }

    fn workload(model: &str, seq: u32, batch: u64, precision: Precision, flash: bool) -> Workload {
        let cat = spec::Catalog::embedded();
        let a: spec::ModelArch = cat.get(model).expect("catalogue");
        Workload {
            model: Model::from_arch(&a),
            seq,
            global_batch_seqs: batch,
            tokens: 1e12,
            precision,
            software: Software {
                flash_attention: flash,
                dropout: !flash,
            },
        }
    }

    /// The search written plainly: every layout checked (message and all) and evaluated on its
    /// own, outer layouts one after the other, every candidate kept, sorted, and the first `k`
    /// taken.
    fn plain_search(w: &Workload, c: &Cluster, sp: &Space) -> SearchResult {
        let k = sp.top_k.max(1);
        let mut r = SearchResult::default();
        let mut top: Vec<Candidate> = vec![];
        let m = &w.model;
        let base_batch = w.global_batch_seqs.max(1);
        for (tp, cp, pp, dp, ep) in outer_layouts(w, c, sp) {
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
                let change = batch as f64 / base_batch as f64;
                if batch == 0
                    || batch % per != 0
                    || (sp.batch == BatchPolicy::Nearest
                        && !(1.0 / MAX_BATCH_CHANGE..=MAX_BATCH_CHANGE).contains(&change))
                {
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
                                                assert!(!e.message.is_empty());
                                                r.invalid += 1;
                                                *r.invalid_by_field
                                                    .entry(e.field.to_string())
                                                    .or_insert(0) += 1;
                                                continue;
                                            }
                                        };
                                        let e = evaluate_with(&wl, c, &cfg, nmb, lps, bal);
                                        let fits = e.memory.fits();
                                        if fits {
                                            r.valid += 1;
                                        } else {
                                            r.unfit += 1;
                                            if !sp.keep_unfit {
                                                continue;
                                            }
                                        }
                                        top.push(candidate(&wl, c, sp, cfg, &e, fits));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        top.sort_by(better);
        top.truncate(k);
        r.top = top;
        r
    }

    #[test]
    fn the_search_finds_what_the_plain_search_finds() {
        let bf16 = Precision::Bf16;
        let cases = [
            // dense GQA, many layouts, a few over the memory
            (workload("llama3-8b", 8192, 512, bf16, true), "h100-sxm", 96),
            // dense, most layouts over the memory; the Llama 3 stage balance (126 layers)
            (
                workload("llama3-405b", 8192, 256, bf16, true),
                "h100-sxm",
                128,
            ),
            // MoE without MLA, FP8
            (
                workload("mixtral-8x7b", 4096, 256, Precision::Fp8, true),
                "h100-sxm",
                64,
            ),
            // MoE with MLA and dense layers in front
            (workload("deepseek-v3", 4096, 1024, bf16, true), "h200", 256),
            // unfused attention with dropout: context parallelism is invalid
            (
                workload("gpt3-175b", 2048, 64, bf16, false),
                "a100-80gb",
                64,
            ),
        ];
        // valid, over the memory, invalid: every kind of layout takes part
        let mut seen = (0, 0, 0);
        for (w, acc, gpus) in cases {
            let c = cluster(acc, gpus);
            let mut spaces = vec![];
            let mut sp = Space::new(&c);
            sp.max_microbatch = 4;
            spaces.push(sp.clone());
            sp.top_k = 1;
            sp.batch = BatchPolicy::Exact;
            spaces.push(sp.clone());
            sp.top_k = 37;
            sp.batch = BatchPolicy::AtMost;
            sp.keep_unfit = true;
            spaces.push(sp.clone());
            sp.top_k = usize::MAX;
            sp.batch = BatchPolicy::Nearest;
            sp.objective = Objective::Cost {
                fixed_usd_per_gpu_s: 2.0 / 3600.0,
                energy_usd_per_gpu_s_at_full_activity: 0.1 / 3600.0,
            };
            spaces.push(sp);
            for sp in spaces {
                let fast = search(&w, &c, &sp, &|_, _| {});
                let plain = plain_search(&w, &c, &sp);
                assert!(fast.evaluated > 0, "{} on {gpus}", w.model.name);
                seen.0 += fast.valid;
                seen.1 += fast.unfit;
                seen.2 += fast.invalid;
                assert!(
                    fast == plain,
                    "{} on {gpus} {acc}, {sp:?}: {} {} {} {} {:?} / {} {} {} {} {:?}, top {} / {}",
                    w.model.name,
                    fast.evaluated,
                    fast.valid,
                    fast.invalid,
                    fast.unfit,
                    fast.invalid_by_field,
                    plain.evaluated,
                    plain.valid,
                    plain.invalid,
                    plain.unfit,
                    plain.invalid_by_field,
                    fast.top.len(),
                    plain.top.len()
                );
            }
        }
        assert!(seen.0 > 0 && seen.1 > 0 && seen.2 > 0, "{seen:?}");
    }

    #[test]
    fn the_bounded_top_list_keeps_the_order_of_a_full_sort_with_ties() {
        // 240 candidates: three scores, fitting or not, many sharing both, told apart by the
        // layout (tp, microbatch, ZeRO, overlap); pushed in a scrambled order.
        let base = Config {
            tp: 1,
            pp: 1,
            cp: 1,
            ep: 1,
            dp: 1,
            microbatch: 1,
            recompute: Recompute::None,
            schedule: Schedule::OneFOneB,
            interleave: 1,
            zero: 0,
            sequence_parallel: false,
            overlap: Overlap::default(),
        };
        let mut all = vec![];
        for i in 0..240u32 {
            let config = Config {
                tp: 1 << (i % 3),
                microbatch: 1 + i / 48,
                zero: (i / 3 % 4) as u8,
                overlap: Overlap {
                    dp: i / 12 % 2 == 1,
                    ..Overlap::default()
                },
                ..base
            };
            let score = [1.0, 2.5, 2.5, -0.0, 0.0][(i % 5) as usize];
            all.push(Candidate {
                config,
                global_batch_seqs: 64,
                step_time_s: 1.0,
                tokens_per_s: score,
                mfu: 0.4,
                memory_per_gpu_bytes: 1e9,
                fits: i % 7 != 3,
                usd_per_million_tokens: None,
                score,
            });
        }
        let mut sorted = all.clone();
        sorted.sort_by(better);
        // several keys appear at the same (fits, score): the ties are real
        let ties = sorted
            .windows(2)
            .filter(|p| p[0].fits == p[1].fits && p[0].score == p[1].score)
            .count();
        assert!(ties > 100, "{ties}");
        let scrambled: Vec<Candidate> = (0..all.len())
            .map(|i| all[(i * 97 + 13) % all.len()].clone())
            .collect();
        for k in [1, 2, 5, 17, 100, 239, 240, 1000] {
            let mut top = TopK::new(k);
            for c in &scrambled {
                top.push(c.clone());
            }
            let want: Vec<Candidate> = sorted.iter().take(k).cloned().collect();
            assert_eq!(top.into_sorted(), want, "k = {k}");
            // two halves merged give the same list
            let (a, b) = scrambled.split_at(71);
            let (mut ta, mut tb) = (TopK::new(k), TopK::new(k));
            a.iter().for_each(|c| ta.push(c.clone()));
            b.iter().for_each(|c| tb.push(c.clone()));
            assert_eq!(ta.merge(tb).into_sorted(), want, "merged, k = {k}");
        }
    }
}
