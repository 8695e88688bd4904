//! The Monte Carlo driver: replicas in parallel (rayon), seeded per replica from the scenario seed
//! and the replica index, so the result is the same whatever the thread count; and the summary.

use crate::engine::is_zero;
use crate::engine::{
    job_interrupt_rate_per_s, replica_seed, simulate_policies, simulate_replica, ReplicaResult,
};
use crate::formulas::{
    daly_interval_s, kokolis_ettr_checked, quantile_sorted, reinit_s, ClosedForm,
};
use crate::params::{Cause, Checkpoint, Design, Params};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Mean and percentiles of a quantity over replicas.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Dist {
    pub mean: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    pub min: f64,
    pub max: f64,
}

impl Dist {
    pub fn of(values: &[f64]) -> Dist {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Dist::default();
        }
        v.sort_by(|a, b| a.total_cmp(b));
        Dist {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p5: quantile_sorted(&v, 0.05),
            p50: quantile_sorted(&v, 0.5),
            p95: quantile_sorted(&v, 0.95),
            min: v[0],
            max: v[v.len() - 1],
        }
    }
}

/// Interruptions per replica.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Interruptions {
    /// Unexpected interruptions, mean over replicas.
    pub mean: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    /// Mean unexpected interruptions by cause.
    pub by_cause: BTreeMap<String, f64>,
    /// Planned (maintenance) interruptions, mean.
    pub planned_mean: f64,
    /// Every failure event (also those while the job already waited), mean.
    pub failures_mean: f64,
    pub sdc_triggers_mean: f64,
}

/// Mean lost wall-clock time by cause, seconds per replica.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct LostBreakdown {
    pub lost_work_s: f64,
    pub restart_s: f64,
    pub waiting_for_spares_s: f64,
    pub checkpoint_write_s: f64,
    pub planned_maintenance_s: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub contained_recovery_s: f64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub degraded_s: f64,
}

/// Spare pools and their use.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct SpareUse {
    pub standby_nodes: u64,
    pub idle_nodes: u64,
    pub spare_pool_nodes: u64,
    pub mean_nodes_in_repair: f64,
    pub peak_nodes_in_repair: Dist,
    pub mean_standby_nodes: f64,
    /// Fewest standbys left at any moment, mean over replicas.
    pub min_standby_nodes_mean: f64,
    /// Share of replicas that ever waited for spares.
    pub replicas_waiting_fraction: f64,
}

/// Recommendations for a target percentile.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Recommendation {
    /// The share of runs the recommendation should hold for (0.95: the ETTR met in 95% of runs).
    pub target_percentile: f64,
    /// The interval (among multiples of Daly's) with the best ETTR at that percentile.
    pub checkpoint_interval_s: f64,
    /// ETTR reached in `target_percentile` of runs at that interval.
    pub ettr_at_target: f64,
    /// Daly's optimum for the job's interruption rate and write time.
    pub daly_interval_s: f64,
    /// Warm standby nodes that cover the peak number of nodes in repair in `target_percentile` of
    /// runs, so the job never waits for spares.
    pub standby_nodes: u64,
    /// Candidates evaluated: (interval s, ETTR at the percentile).
    pub candidates: Vec<(f64, f64)>,
}

/// The summary of a Monte Carlo run.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Summary {
    pub preset: String,
    pub replicas: u64,
    pub seed: u64,
    pub job_gpus: u64,
    pub job_nodes: u64,
    pub wall_s: Dist,
    pub ettr: Dist,
    pub interruptions: Interruptions,
    pub lost_time_s_by_cause: LostBreakdown,
    pub spares: SpareUse,
    /// Optimizer step time the run used (lost work is rounded to whole steps).
    pub step_time_s: f64,
    pub checkpoint_interval_s: f64,
    pub checkpoint_write_s: f64,
    pub checkpoint_load_s: f64,
    /// Restart overhead per interruption with a warm standby (detect … load), seconds.
    pub restart_overhead_s: f64,
    /// Job mean time to an unexpected interruption, exposure / interruptions, seconds (mean over
    /// replicas of the ratio of sums).
    pub job_mttf_s: f64,
    /// The closed-form E\[ETTR\] at these parameters, for comparison ([`closed_form_ettr`]:
    /// Kokolis et al.'s for whole-job restart, the renewal form of the other designs); `None` where
    /// the formula does not apply, with the reason in `closed_form_note`.
    pub closed_form_ettr: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_form_note: Option<String>,
    /// The recovery design (absent from JSON for whole-job restart).
    #[serde(default, skip_serializing_if = "is_restart")]
    pub design: Design,
    /// Share of replicas that reached their work target (work-length runs).
    pub completed_fraction: f64,
    /// Share of replicas stopped early because the job made no progress (or at the event
    /// budget); absent when none was.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stalled_fraction: f64,
    /// Why they stopped, with the expected progress per failure interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_note: Option<String>,
    pub recommendation: Option<Recommendation>,
}

fn is_restart(d: &Design) -> bool {
    *d == Design::Restart
}

/// Restart overhead u0 with a warm standby: detect + diagnose + swap + re-init + fixed + load.
/// Under the elastic design each replica group re-initialises on its own (at the replica's size).
pub fn restart_overhead_s(p: &Params) -> f64 {
    let r = p.recovery;
    let gpus = if p.containment.design == Design::ElasticDp {
        crate::designs::timings(p).replica_gpus
    } else {
        p.job_gpus
    };
    r.detect_s
        + r.diagnose_s
        + r.standby_swap_s
        + reinit_s(
            r.reinit_ref_s,
            r.reinit_ref_gpus,
            r.reinit_exponent,
            gpus as f64,
        )
        + r.restart_fixed_s
        + p.checkpoint_load_s
}

/// The checkpoint interval a policy resolves to at the job's initial interruption rate.
pub fn resolved_interval_s(p: &Params) -> f64 {
    if p.containment.design == Design::InMemory {
        return crate::designs::in_memory_policy(p).0;
    }
    let raw = match p.checkpoint {
        Checkpoint::Fixed { interval_s } => interval_s,
        Checkpoint::YoungDaly => {
            let rate = if p.containment.design.contained() {
                crate::designs::whole_job_rate_per_s(p)
            } else {
                job_interrupt_rate_per_s(p, p.job_nodes())
            };
            let mtbi = if rate > 0.0 {
                1.0 / rate
            } else {
                f64::INFINITY
            };
            daly_interval_s(p.checkpoint_write_s, mtbi, p.step_s)
        }
        Checkpoint::Tiered {
            memory_interval_s, ..
        } => memory_interval_s,
    };
    (raw / p.step_s).ceil().max(1.0) * p.step_s
}

/// The closed-form E\[ETTR\] of a job at these parameters, or why none applies. Whole-job restart:
/// Kokolis et al.'s, at the job's initial interruption rate, the restart overhead with a warm
/// standby and the resolved checkpoint interval and write time ([`kokolis_ettr_checked`]); the
/// other designs: their renewal form ([`crate::designs::closed_form`]).
pub fn closed_form_ettr(p: &Params) -> ClosedForm {
    match p.containment.design {
        // Kokolis et al.'s model is of whole-job restart
        Design::Restart => kokolis_ettr_checked(
            job_interrupt_rate_per_s(p, p.job_nodes()),
            restart_overhead_s(p),
            resolved_interval_s(p),
            p.checkpoint_write_s,
            p.failures_while_down,
        ),
        _ => crate::designs::closed_form(p),
    }
}

/// Every replica's result, in replica order. `on_done` is called once per finished replica (for a
/// progress bar); it must not print from here (the caller decides).
pub fn results(p: &Params, replicas: u64, on_done: &(dyn Fn() + Sync)) -> Vec<ReplicaResult> {
    (0..replicas)
        .into_par_iter()
        .map(|i| {
            let (r, _) = simulate_replica(p, replica_seed(p.seed, i), false);
            on_done();
            r
        })
        .collect()
}

/// Summarise replica results.
pub fn summarize(p: &Params, rs: &[ReplicaResult]) -> Summary {
    let n = rs.len().max(1) as f64;
    let col = |f: &dyn Fn(&ReplicaResult) -> f64| -> Vec<f64> { rs.iter().map(f).collect() };
    let mean = |f: &dyn Fn(&ReplicaResult) -> f64| -> f64 { rs.iter().map(f).sum::<f64>() / n };
    let intr = Dist::of(&col(&|r| r.unexpected_interruptions as f64));
    let mut by_cause = BTreeMap::new();
    for c in Cause::ALL {
        if c == Cause::PlannedMaintenance {
            continue;
        }
        let m = mean(&|r| r.interruptions_by_cause[c.index()] as f64);
        by_cause.insert(c.name().to_string(), m);
    }
    let exposure: f64 = rs.iter().map(|r| r.exposure_s).sum();
    let intr_total: f64 = rs.iter().map(|r| r.unexpected_interruptions as f64).sum();
    let interval = resolved_interval_s(p);
    let u0 = restart_overhead_s(p);
    let closed = closed_form_ettr(p);
    Summary {
        preset: p.preset.clone(),
        replicas: rs.len() as u64,
        seed: p.seed,
        job_gpus: p.job_gpus,
        job_nodes: p.job_nodes(),
        wall_s: Dist::of(&col(&|r| r.wall_s)),
        ettr: Dist::of(&col(&|r| r.ettr)),
        interruptions: Interruptions {
            mean: intr.mean,
            p5: intr.p5,
            p50: intr.p50,
            p95: intr.p95,
            by_cause,
            planned_mean: mean(&|r| r.planned_interruptions as f64),
            failures_mean: mean(&|r| r.failures as f64),
            sdc_triggers_mean: mean(&|r| r.sdc_triggers as f64),
        },
        lost_time_s_by_cause: LostBreakdown {
            lost_work_s: mean(&|r| r.lost.lost_work_s),
            restart_s: mean(&|r| r.lost.restart_s),
            waiting_for_spares_s: mean(&|r| r.lost.waiting_for_spares_s),
            checkpoint_write_s: mean(&|r| r.lost.checkpoint_write_s),
            planned_maintenance_s: mean(&|r| r.lost.planned_maintenance_s),
            contained_recovery_s: mean(&|r| r.lost.contained_recovery_s),
            degraded_s: mean(&|r| r.lost.degraded_s),
        },
        spares: SpareUse {
            standby_nodes: p.standby_nodes,
            idle_nodes: p.cold_nodes,
            spare_pool_nodes: p.spare_nodes,
            mean_nodes_in_repair: mean(&|r| r.mean_nodes_in_repair),
            peak_nodes_in_repair: Dist::of(&col(&|r| r.peak_nodes_in_repair as f64)),
            mean_standby_nodes: mean(&|r| r.mean_standby_nodes),
            min_standby_nodes_mean: mean(&|r| r.min_standby_nodes as f64),
            replicas_waiting_fraction: mean(&|r| {
                if r.lost.waiting_for_spares_s > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }),
        },
        step_time_s: p.step_s,
        checkpoint_interval_s: interval,
        checkpoint_write_s: p.checkpoint_write_s,
        checkpoint_load_s: p.checkpoint_load_s,
        restart_overhead_s: u0,
        job_mttf_s: if intr_total > 0.0 {
            exposure / intr_total
        } else {
            0.0
        },
        closed_form_ettr: closed.value(),
        closed_form_note: match closed {
            ClosedForm::DoesNotApply(why) => Some(why),
            ClosedForm::Value(_) => None,
        },
        design: p.containment.design,
        completed_fraction: mean(&|r| if r.completed { 1.0 } else { 0.0 }),
        stalled_fraction: mean(&|r| if r.stalled { 1.0 } else { 0.0 }),
        progress_note: rs.iter().any(|r| r.stalled).then(|| progress_note(p, rs)),
        recommendation: None,
    }
}

/// Expected useful time per failure interval when failures arrive at `rate_per_s` also during
/// a restart of `restart_s`: an interval outlasts the restart with probability e^(−λ·u0), and
/// then leaves its excess, so E[max(0, X − u0)] = e^(−λ·u0)/λ for exponential X.
pub fn progress_per_failure_interval_s(rate_per_s: f64, restart_s: f64) -> f64 {
    if !(rate_per_s > 0.0) {
        return f64::INFINITY;
    }
    (-rate_per_s * restart_s).exp() / rate_per_s
}

/// Why replicas stopped early, in figures. The failure interval is the one the stopped replicas
/// saw (their wall clock over their failures): the model's mean rate says the same for an
/// exponential lifetime, but a heavy-tailed one (lognormal, Weibull below 1) fails fresh nodes far
/// sooner than its mean, so the mean rate alone would contradict the stop.
fn progress_note(p: &Params, rs: &[ReplicaResult]) -> String {
    let model_rate = if p.containment.design.contained() {
        crate::designs::whole_job_rate_per_s(p)
    } else {
        job_interrupt_rate_per_s(p, p.job_nodes())
    };
    let (wall_s, failures) = rs
        .iter()
        .filter(|r| r.stalled)
        .fold((0.0, 0u64), |(w, f), r| (w + r.wall_s, f + r.failures));
    let rate = if failures > 0 && wall_s > 0.0 {
        failures as f64 / wall_s
    } else {
        model_rate
    };
    let every = |r: f64| if r > 0.0 { 1.0 / r } else { f64::INFINITY };
    let u0 = restart_overhead_s(p);
    let stalled = rs.iter().filter(|r| r.stalled).count();
    format!(
        "{stalled} of {} replicas stopped early: the job cannot make progress at this scale (a failure every {:.3e} s in the stopped replicas, one every {:.3e} s at the model's mean rate, against a restart of {:.3e} s; expected progress per failure interval {:.3e} s); figures are up to the stop",
        rs.len(),
        every(rate),
        every(model_rate),
        u0,
        progress_per_failure_interval_s(rate, u0)
    )
}

/// Run `replicas` replicas and summarise them.
pub fn run(p: &Params, replicas: u64, on_done: &(dyn Fn() + Sync)) -> Summary {
    let rs = results(p, replicas, on_done);
    summarize(p, &rs)
}

/// Multiples of Daly's interval the recommendation tries.
pub const INTERVAL_MULTIPLES: [f64; 7] = [
    0.25,
    0.5,
    std::f64::consts::FRAC_1_SQRT_2,
    1.0,
    std::f64::consts::SQRT_2,
    2.0,
    4.0,
];

/// Recommend a checkpoint interval and a warm-standby count for the share `target` of runs
/// (e.g. 0.95), from `replicas` replicas per candidate with common random numbers.
/// Candidates: Daly's interval × [`INTERVAL_MULTIPLES`] (at least one step and the write time).
/// Each replica runs once for every candidate and the spare count together where the design
/// allows ([`simulate_policies`]), with the same figures as a run per candidate.
pub fn recommend(
    p: &Params,
    _summary: &Summary,
    replicas: u64,
    target: f64,
    on_done: &(dyn Fn() + Sync),
) -> Recommendation {
    let (policies, daly) = recommendation_policies(p);
    // each replica under every policy, on one run where the policies share it (the failures,
    // restarts and repairs of a run do not depend on its checkpoint policy; common random numbers)
    let runs: Vec<Vec<ReplicaResult>> = (0..replicas)
        .into_par_iter()
        .map(|i| {
            let rs = simulate_policies(p, &policies, replica_seed(p.seed, i));
            for _ in 0..rs.len() {
                on_done();
            }
            rs
        })
        .collect();
    recommendation_of(p, &policies, daly, &runs, target)
}

/// The policies the recommendation runs: the candidates (a tiered policy is kept as it is: one
/// candidate), then the scenario's own policy for the spare count; and Daly's interval.
fn recommendation_policies(p: &Params) -> (Vec<Checkpoint>, f64) {
    let rate = if p.containment.design.contained() {
        crate::designs::whole_job_rate_per_s(p)
    } else {
        job_interrupt_rate_per_s(p, p.job_nodes())
    };
    let mtbi = if rate > 0.0 {
        1.0 / rate
    } else {
        f64::INFINITY
    };
    let daly = daly_interval_s(p.checkpoint_write_s, mtbi, p.step_s);
    let tiered = matches!(p.checkpoint, Checkpoint::Tiered { .. });
    let multiples: &[f64] = if tiered {
        &INTERVAL_MULTIPLES[..1]
    } else {
        &INTERVAL_MULTIPLES
    };
    let mut policies: Vec<Checkpoint> = multiples
        .iter()
        .map(|m| {
            if tiered {
                p.checkpoint
            } else {
                Checkpoint::Fixed {
                    interval_s: (daly * m).max(p.step_s).max(p.checkpoint_write_s),
                }
            }
        })
        .collect();
    policies.push(p.checkpoint);
    (policies, daly)
}

/// The recommendation from each replica's results under [`recommendation_policies`].
fn recommendation_of(
    p: &Params,
    policies: &[Checkpoint],
    daly: f64,
    runs: &[Vec<ReplicaResult>],
    target: f64,
) -> Recommendation {
    let q = (1.0 - target).clamp(0.0, 1.0);
    let sorted = |f: &dyn Fn(&ReplicaResult) -> f64, j: usize| -> Vec<f64> {
        let mut v: Vec<f64> = runs.iter().map(|rs| f(&rs[j])).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v
    };
    let candidates = policies.len() - 1;
    let cands: Vec<(f64, f64)> = (0..candidates)
        .map(|j| {
            let pc = Params {
                checkpoint: policies[j],
                ..p.clone()
            };
            (
                resolved_interval_s(&pc),
                quantile_sorted(&sorted(&|r| r.ettr, j), q),
            )
        })
        .collect();
    let best = cands
        .iter()
        .copied()
        .fold((0.0, -1.0), |b, c| if c.1 > b.1 { c } else { b });
    // the peak nodes in repair, at the target share of runs
    let peaks = sorted(&|r| r.peak_nodes_in_repair as f64, candidates);
    Recommendation {
        target_percentile: target,
        checkpoint_interval_s: best.0,
        ettr_at_target: best.1.max(0.0),
        daly_interval_s: (daly / p.step_s).ceil().max(1.0) * p.step_s,
        standby_nodes: quantile_sorted(&peaks, target).ceil() as u64,
        candidates: cands,
    }
}

/// `replicas` replicas summarised and, with `recommend_replicas`, the recommendation from that
/// many replicas per candidate: the same figures, bit for bit, as [`results`], [`summarize`] and
/// [`recommend`] in turn, with the recommendation's runs carried by the main replicas' own where
/// the design allows ([`simulate_policies`]: replica `i` of the scenario's policy is one lane of
/// the run that carries the candidates). `on_done` is called once per replica and once per
/// candidate and spare-count run, as the three calls would.
pub fn run_with_recommendation(
    p: &Params,
    replicas: u64,
    recommend_replicas: Option<u64>,
    target: f64,
    on_done: &(dyn Fn() + Sync),
) -> (Vec<ReplicaResult>, Summary) {
    let (policies, daly) = recommendation_policies(p);
    let shared = recommend_replicas.unwrap_or(0);
    let n = replicas.max(shared);
    // per replica: its result under the scenario's policy (when a main replica), and under
    // every policy of the recommendation (when one of its replicas)
    let runs: Vec<(Option<ReplicaResult>, Option<Vec<ReplicaResult>>)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let seed = replica_seed(p.seed, i);
            if i >= shared {
                let (r, _) = simulate_replica(p, seed, false);
                on_done();
                return (Some(r), None);
            }
            let rs = simulate_policies(p, &policies, seed);
            let main = (i < replicas).then(|| {
                on_done();
                rs[rs.len() - 1].clone()
            });
            for _ in 0..rs.len() {
                on_done();
            }
            (main, Some(rs))
        })
        .collect();
    let mut results = Vec::with_capacity(replicas as usize);
    let mut lanes = Vec::with_capacity(shared as usize);
    for (main, rs) in runs {
        results.extend(main);
        lanes.extend(rs);
    }
    let mut summary = summarize(p, &results);
    if recommend_replicas.is_some() {
        summary.recommendation = Some(recommendation_of(p, &policies, daly, &lanes, target));
    }
    (results, summary)
}
