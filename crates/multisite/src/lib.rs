//! Multi-site training: the site graph, the cross-site strategies and their efficiency against the
//! same hardware in one site — the answer to "is the loss 20% or 50%?" for a given design.
//!
//! Efficiency is decomposed as in `calibration/multisite.md` §1:
//! `η = η_comm(bandwidth, latency, overlap, H, compression) × η_quality(H, M, N) × η_goodput`.
//! - [`graph`]: sites and fiber links (latency 4.9 µs/km + equipment, capacity from the DWDM
//!   build), the cross-site ring as a level of the step model's fabric.
//! - [`strategy`]: synchronous hierarchical DP, pipeline across sites, DiLoCo, Streaming DiLoCo,
//!   priced on a [`strategy::Basis`] taken once from the step model (`perf`).
//! - [`quality`]: the DiLoCo scaling-law penalty as extra tokens.
//! - [`Goodput`]: failure coupling (a failure stalls every site under synchronous training, only
//!   its own replica under DiLoCo).
//! - [`fabric_across_sites`]: the links as the top level of the step model's fabric hierarchy;
//!   the graph's all-reduce is the step model's on that level (one formula).
//!
//! Tensor and expert parallelism never span sites: their groups stay inside one site (checked by
//! `spec` for fixed layouts and by the `pipeline` crate for searched ones).
//!
//! The `pipeline` crate builds the [`Graph`] from the scenario's sites and links and the
//! [`Prepared`] basis from the step model's profile of the whole job in one site.
//!
//! Architecture invariant: pure functions of plain data; no I/O, no panics, no NaN in outputs.

mod goodput;
pub mod graph;
pub mod quality;
pub mod strategy;

pub use goodput::{DomainGoodput, Goodput};
pub use graph::{Edge, Graph, SiteNode};
pub use strategy::{Basis, Note, Outcome};

use perf::{Cluster, Config, Fabric, Workload};
use serde::Serialize;
use spec::sync::{Strategy, Sync};

/// Why one site's DiLoCo replica cannot run the layout alone.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaIssue {
    /// The site's GPUs are not a whole number of tp × pp × cp blocks.
    NotWholeBlocks { gpus: u64, block: u64 },
    /// The step model refuses the layout on the site's GPUs.
    DoesNotRun { gpus: u64 },
}

/// What the basis rests on (`report` words it).
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum BasisNote {
    /// The layout does not fit in memory: `needs_bytes` per GPU of `capacity_bytes`.
    DoesNotFit {
        needs_bytes: f64,
        capacity_bytes: f64,
    },
    /// A site's replica cannot run the layout: the DiLoCo inner step is the single-site step.
    InnerStepFallback(ReplicaIssue),
}

/// Everything the strategies need, computed once from the step model.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub graph: Graph,
    pub basis: Basis,
    pub sync: Sync,
    /// Notes on how the basis was made (fallbacks, assumptions).
    pub notes: Vec<BasisNote>,
    /// The step model's profile of the whole job with every GPU in one site (the basis's step).
    pub profile: perf::StepProfile,
    workload: Workload,
    cluster: Cluster,
    config: Config,
}

/// The same cluster with `gpus` GPUs (its fabric's levels clamped to them).
pub fn cluster_of_size(c: &Cluster, gpus: u64) -> Cluster {
    Cluster {
        gpus,
        hardware: c.hardware.clone(),
        fabric: Fabric {
            levels: c.fabric.levels.clone(),
        }
        .normalised(gpus),
    }
}

impl Prepared {
    /// The strategies' basis from the step model's profile of the whole job with every GPU in
    /// one site (`profile` of `workload` on `cluster`, the layout `profile.config`), on the site
    /// graph `g` with the `[job.sync]` settings.
    pub fn new(
        g: Graph,
        sync: Sync,
        profile: perf::StepProfile,
        workload: Workload,
        cluster: Cluster,
    ) -> Prepared {
        let cfg = profile.config;
        let total = g.total_gpus();
        let backward: f64 = profile
            .phases
            .iter()
            .filter(|p| p.name == "backward")
            .map(|p| p.duration_s)
            .sum();
        let mb = profile.microbatches.max(1);
        let m = &workload.model;
        let mut basis = Basis {
            model: m.name.clone(),
            params_total: m.params_total,
            params_active: m.params_active,
            hidden: m.hidden,
            layers: m.layers,
            gpus: total,
            tp: cfg.tp,
            pp: cfg.pp,
            dp: cfg.dp,
            cp: cfg.cp,
            ep: cfg.ep,
            microbatches: profile.microbatches,
            tokens_per_step: profile.tokens_per_step,
            step_s: profile.step_time_s,
            backward_window_s: cfg.pp.max(1) as f64 * backward / mb as f64,
            inner_step_s: profile.step_time_s,
            mfu: profile.mfu,
        };
        let mut p = Prepared {
            graph: g,
            basis: basis.clone(),
            sync,
            notes: vec![],
            profile: profile.clone(),
            workload,
            cluster,
            config: cfg,
        };
        if !profile.fits {
            p.notes.push(BasisNote::DoesNotFit {
                needs_bytes: profile.memory.total_bytes,
                capacity_bytes: profile.memory.capacity_bytes,
            });
        }
        let sizes: Vec<u64> = p.graph.sites.iter().map(|x| x.gpus).collect();
        let (inner, note) = p.inner_step_s(&sizes);
        basis.inner_step_s = inner;
        p.basis = basis;
        if let Some(n) = note {
            p.notes.push(n);
        }
        p
    }

    /// The step model's profile of one site's replica when the sites hold `total` GPUs and this
    /// site `n`: the same layout with dp scaled to the site and the batch shared in proportion to
    /// GPUs (rounded to whole microbatches per replica), and the factor that scales its step to
    /// the site's exact share of the batch. `Err` says why the layout does not run there.
    pub fn replica_profile(
        &self,
        n: u64,
        total: u64,
    ) -> Result<(perf::StepProfile, f64), ReplicaIssue> {
        let cfg = self.config;
        let used = cfg.tp as u64 * cfg.pp as u64 * cfg.cp as u64;
        if used == 0 || n % used != 0 || total == 0 {
            return Err(ReplicaIssue::NotWholeBlocks {
                gpus: n,
                block: used,
            });
        }
        let dp = (n / used) as u32;
        let mut c = cfg;
        c.dp = dp;
        let per = dp as u64 * c.microbatch.max(1) as u64;
        let share = self.workload.global_batch_seqs as f64 * n as f64 / total as f64;
        let seqs = ((share / per as f64).round().max(1.0) as u64) * per;
        let mut w = self.workload.clone();
        w.global_batch_seqs = seqs;
        let cl = cluster_of_size(&self.cluster, n);
        match perf::profile(&w, &cl, &c) {
            Ok(pr) if pr.step_time_s.is_finite() && pr.step_time_s > 0.0 => {
                Ok((pr, share / seqs as f64))
            }
            Ok(_) | Err(_) => Err(ReplicaIssue::DoesNotRun { gpus: n }),
        }
    }

    /// Step of the slowest site's replica when the sites hold `sizes` GPUs
    /// ([`Prepared::replica_profile`]'s per-token pace scaled to the site's exact share of the
    /// batch). Falls back to the single-site step when the layout does not divide a site (with a
    /// note).
    pub fn inner_step_s(&self, sizes: &[u64]) -> (f64, Option<BasisNote>) {
        let total: u64 = sizes.iter().sum();
        let mut worst: f64 = 0.0;
        for &n in sizes {
            match self.replica_profile(n, total) {
                Ok((pr, scale)) => worst = worst.max(pr.step_time_s * scale),
                Err(why) => return (self.basis.step_s, Some(BasisNote::InnerStepFallback(why))),
            }
        }
        (worst, None)
    }
}

/// Capacity per link needed for each target loss.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Need {
    pub target_loss_fraction: f64,
    /// `None`: no capacity reaches it (quality cost, latency or layout bound it).
    pub link_capacity_bits_per_s: Option<f64>,
}

/// A strategy's figures with its bandwidth needs and goodput.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StrategyReport {
    #[serde(flatten)]
    pub outcome: Outcome,
    pub needs: Vec<Need>,
    /// Share of wall-clock time that trains, with failures (when the reliability model ran and
    /// its closed form applies).
    pub goodput: Option<f64>,
    /// Why the reliability model's closed form gives no goodput for this strategy's failure domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goodput_note: Option<String>,
    /// Efficiency × goodput: against one site without failures (compare with
    /// `single_site_goodput`, the one-site job's own goodput).
    pub efficiency_with_failures: Option<f64>,
    /// DiLoCo strategies: the H of [`INNER_STEP_GRID`] with the best efficiency on this graph
    /// (communication against quality), and that efficiency.
    pub best_inner_steps: Option<u32>,
    pub best_efficiency: Option<f64>,
}

/// Inner-step counts tried for the best H: the range the DiLoCo papers ablate (1–1000).
pub const INNER_STEP_GRID: [u32; 13] = [1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000];

/// The H with the best efficiency for a DiLoCo strategy; an H only displaces a larger one when it
/// is better by more than 0.1 point (less traffic for the same answer).
pub fn best_inner_steps(g: &Graph, b: &Basis, sync: &Sync, s: Strategy) -> Option<(u32, f64)> {
    if !matches!(s, Strategy::Diloco | Strategy::StreamingDiloco) {
        return None;
    }
    let mut best: Option<(u32, f64)> = None;
    for h in INNER_STEP_GRID.iter().rev().copied() {
        let mut y = sync.clone();
        y.inner_steps = h;
        y.overlap_steps = y.overlap_steps.min(h.saturating_sub(1));
        let e = strategy::evaluate(g, b, &y, s).efficiency;
        if best.is_none_or(|(_, be)| e > be + 1e-3) {
            best = Some((h, e));
        }
    }
    best
}

/// A link as reported.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LinkReport {
    pub between: [String; 2],
    pub distance_m: f64,
    pub latency_s: f64,
    pub capacity_bits_per_s: f64,
    pub cost_usd: Option<f64>,
}

/// The multi-site answer for a scenario.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Analysis {
    pub sites: Vec<SiteNode>,
    pub links: Vec<LinkReport>,
    /// Site names in the order of the cross-site ring.
    pub ring: Vec<String>,
    pub basis: Basis,
    pub single_site_tokens_per_s: f64,
    pub single_site_step_s: f64,
    /// Goodput of the whole job as one failure domain (one site), when modelled.
    pub single_site_goodput: Option<f64>,
    /// Why the closed form gives no goodput for the whole job as one failure domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub single_site_goodput_note: Option<String>,
    pub sync: Sync,
    /// The strategy `[job.sync]` names.
    pub configured: String,
    pub strategies: Vec<StrategyReport>,
    pub notes: Vec<BasisNote>,
    /// The reliability preset whose closed-form goodput the strategies carry, when modelled
    /// (`report` says so in the notes).
    #[serde(skip)]
    pub goodput_preset: Option<String>,
    /// The recovery design that closed form is of (`report` says so in the notes).
    #[serde(skip)]
    pub goodput_design: Option<String>,
    /// What the loss is worth: set by [`Analysis::with_costs`].
    pub costs: Option<Costs>,
}

/// The efficiency loss in dollars, beside what the links cost.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Costs {
    /// The whole cluster's total cost of ownership per year (capex annualised plus running cost).
    pub cluster_tco_usd_per_year: f64,
    /// Per strategy, in [`Analysis::strategies`] order: efficiency loss × the cluster's TCO, the
    /// share of the cluster's year that buys no progress against one site (`None` when the
    /// strategy cannot run).
    pub loss_usd_per_year: Vec<Option<f64>>,
    /// The links' stated costs over their depreciation life, when every link states one.
    pub links_usd_per_year: Option<f64>,
}

impl Analysis {
    /// Price the answer: each strategy's loss against one site as a share of the cluster's TCO per
    /// year (D), and the links' costs over `link_life_s` when every link states a cost.
    pub fn with_costs(mut self, cluster_tco_usd_per_year: f64, link_life_s: f64) -> Analysis {
        let loss_usd_per_year = self
            .strategies
            .iter()
            .map(|s| {
                s.outcome
                    .feasible
                    .then(|| (1.0 - s.outcome.efficiency).max(0.0) * cluster_tco_usd_per_year)
            })
            .collect();
        let links_usd_per_year = self
            .links
            .iter()
            .map(|l| l.cost_usd)
            .sum::<Option<f64>>()
            .filter(|_| !self.links.is_empty() && link_life_s > 0.0)
            .map(|c| c / link_life_s * spec::SECONDS_PER_YEAR);
        self.costs = Some(Costs {
            cluster_tco_usd_per_year,
            loss_usd_per_year,
            links_usd_per_year,
        });
        self
    }
}

/// Target losses the bandwidth needs are reported for: the issue's 5 % and 20 %, and 50 %.
pub const TARGET_LOSSES: [f64; 3] = [0.05, 0.20, 0.50];

/// Every strategy on the scenario's graph, with bandwidth needs and (optionally) goodput.
pub fn analyse(p: &Prepared, goodput: Option<&Goodput>) -> Analysis {
    let g = &p.graph;
    let b = &p.basis;
    let mut strategies = vec![];
    for s in Strategy::ALL {
        let outcome = strategy::evaluate(g, b, &p.sync, s);
        let needs = TARGET_LOSSES
            .iter()
            .map(|&t| Need {
                target_loss_fraction: t,
                link_capacity_bits_per_s: strategy::capacity_for_loss(g, b, &p.sync, s, t),
            })
            .collect();
        let domain = goodput.map(|gd| gd.of(s, g));
        let gp = domain.as_ref().and_then(|d| d.value());
        let ewf = gp.map(|x| outcome.efficiency * x);
        let best = best_inner_steps(g, b, &p.sync, s);
        strategies.push(StrategyReport {
            outcome,
            needs,
            goodput: gp,
            goodput_note: domain.as_ref().and_then(|d| d.note()).map(str::to_string),
            efficiency_with_failures: ewf,
            best_inner_steps: best.map(|x| x.0),
            best_efficiency: best.map(|x| x.1),
        });
    }
    let ring = g
        .ring()
        .map(|r| r.order.iter().map(|&i| g.sites[i].name.clone()).collect())
        .unwrap_or_default();
    let notes = p.notes.clone();
    Analysis {
        sites: g.sites.clone(),
        links: g
            .links
            .iter()
            .map(|l| LinkReport {
                between: [g.sites[l.a].name.clone(), g.sites[l.b].name.clone()],
                distance_m: l.distance_m,
                latency_s: l.latency_s,
                capacity_bits_per_s: l.capacity_bits_per_s,
                cost_usd: l.cost_usd,
            })
            .collect(),
        ring,
        basis: b.clone(),
        single_site_tokens_per_s: b.tokens_per_s(),
        single_site_step_s: b.step_s,
        single_site_goodput: goodput.and_then(|g| g.whole_job.value()),
        single_site_goodput_note: goodput.and_then(|g| g.whole_job.note()).map(str::to_string),
        sync: p.sync.clone(),
        configured: p.sync.strategy.name().into(),
        strategies,
        notes,
        goodput_preset: goodput.map(|g| g.preset.clone()),
        goodput_design: goodput.map(|g| g.design.clone()),
        costs: None,
    }
}

/// One point of a sweep: a site count, a distance and a capacity per link, every strategy's
/// efficiency.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SweepPoint {
    pub sites: usize,
    pub distance_m: f64,
    pub capacity_bits_per_s: f64,
    /// (strategy name, efficiency) in [`Strategy::ALL`] order; `None` where the strategy cannot
    /// run on that graph.
    pub efficiency: Vec<(String, Option<f64>)>,
}

/// Efficiency over distance × capacity (every link alike) and site counts. The scenario's own
/// site count keeps its graph; other counts use equal sites in a ring of links sharing the
/// scenario's GPUs.
pub fn sweep(
    p: &Prepared,
    site_counts: &[usize],
    distances_m: &[f64],
    capacities_bits_per_s: &[f64],
) -> Vec<SweepPoint> {
    let mut out = vec![];
    let total = p.basis.gpus;
    for &m in site_counts {
        let m = m.max(2);
        let (base, basis) = if m == p.graph.site_count() {
            (p.graph.clone(), p.basis.clone())
        } else {
            let g = graph::Graph::uniform_ring(m, total, 1e3, 1e12);
            let sizes: Vec<u64> = g.sites.iter().map(|x| x.gpus).collect();
            let mut b = p.basis.clone();
            b.inner_step_s = p.inner_step_s(&sizes).0;
            (g, b)
        };
        for &d in distances_m {
            for &c in capacities_bits_per_s {
                let g = base.with_links(Some(c), Some(d));
                let efficiency = Strategy::ALL
                    .iter()
                    .map(|&s| {
                        (
                            s.name().to_string(),
                            Some(strategy::evaluate(&g, &basis, &p.sync, s))
                                .filter(|o| o.feasible)
                                .map(|o| o.efficiency),
                        )
                    })
                    .collect();
                out.push(SweepPoint {
                    sites: m,
                    distance_m: d,
                    capacity_bits_per_s: c,
                    efficiency,
                });
            }
        }
    }
    out
}

/// The step model's fabric with the site graph as its top level: the scenario's in-site levels
/// capped at the largest site, then one "cross-site" level holding every GPU, the graph's
/// [`Graph::ring_level`] with its bandwidth shared by the GPUs of a site. A hierarchical
/// all-reduce on it costs what [`Graph::all_reduce`] costs for the cross-site part. `None` for
/// one site or no ring.
pub fn fabric_across_sites(site_fabric: &Fabric, g: &Graph) -> Option<Fabric> {
    let ring = g.ring_level()?;
    let site = g.sites.iter().map(|s| s.gpus).max()?;
    if site == 0 {
        return None;
    }
    let mut levels = Fabric {
        levels: site_fabric.levels.clone(),
    }
    .normalised(site)
    .levels;
    levels.push(perf::Level {
        size: g.total_gpus(),
        bandwidth_bytes_per_s: ring.bandwidth_bytes_per_s / site as f64,
        ..ring
    });
    Some(Fabric { levels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use perf::{Group, Level};

    /// The cross-site level of the step model's hierarchy costs what the graph's ring costs: a
    /// data-parallel group spanning every site, with one member per site domain below.
    #[test]
    fn cross_site_level_matches_the_ring() {
        let site_fabric = Fabric {
            levels: vec![Level {
                name: "in-site".into(),
                size: u64::MAX,
                bandwidth_bytes_per_s: 1e30,
                latency_s: 0.0,
                efficiency: 1.0,
            }],
        };
        for m in [2usize, 3, 5] {
            let g = Graph::uniform_ring(m, 1024 * m as u64, 800e3, 10e12);
            let f = fabric_across_sites(&site_fabric, &g).unwrap();
            assert_eq!(f.levels.len(), 2);
            // every GPU of a site holds 1/1024 of the 1 TB buffer after the in-site reduce-scatter
            let t = f.all_reduce_s(
                1e12,
                Group {
                    size: 1024 * m as u32,
                    stride: 1,
                },
            );
            let x = g.all_reduce(1e12);
            assert!(
                (t / x.seconds - 1.0).abs() < 1e-6,
                "M {m}: {t} vs {}",
                x.seconds
            );
        }
    }
}
