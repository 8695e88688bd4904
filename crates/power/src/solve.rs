//! `--solve`: the cheapest combination of mitigations that passes the grid code.
//!
//! Candidates: GPU floor {0, 50, 70, 80, 90 % of TDP} x filler {off, on at 80 % activity (the
//! PyTorch damper's end level, calibration 2.1, P)} x rack storage {none, 65 J per GPU}, each with
//! no battery or the smallest battery (by power, priced at no less than its minimum duration) that
//! passes, found by bisection. When the scenario sets no GPU ramp limit and the grid code has a
//! ramp rule, one more candidate limits every job GPU's ramp to its share of the code's rate
//! (the meter's limit over PUE and job GPUs: the job moving together stays within the code), again
//! with the smallest battery if it alone fails; otherwise the scenario's GPU ramp limits are kept
//! in every candidate. Turbines are kept as the scenario gives them. Ties go to the earlier
//! candidate, so the answer is deterministic.

use crate::analysis::{analyse_with_raw, raw_part, Analysis, Inputs, Mitigation, RawPart};
use crate::storage::{defaults as sd, Storage};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

pub const FLOORS: [f64; 5] = [0.0, 0.5, 0.7, 0.8, 0.9];
pub const FILLER_ACTIVITY: f64 = 0.8;

/// One evaluated combination.
#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    pub floor_fraction: f64,
    pub filler: bool,
    pub rack_storage_j_per_gpu: f64,
    pub battery_power_w: f64,
    pub battery_energy_j: f64,
    /// Per-GPU ramp limit (up and down, W/s) when the candidate sets one.
    pub gpu_ramp_w_per_s: Option<f64>,
    pub passes: bool,
    pub total_usd_per_year: f64,
    pub energy_overhead_fraction: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Solution {
    /// The cheapest passing combination; `None` when nothing tried passes.
    pub best: Option<Candidate>,
    pub best_mitigation: Option<Mitigation>,
    pub candidates: Vec<Candidate>,
    /// The smallest battery alone (no GPU-level mitigation) that passes, if any.
    pub battery_only: Option<Candidate>,
    /// The GPU ramp limit at the code's rate alone (no battery), passing or not, when tried.
    pub gpu_ramp_only: Option<Candidate>,
}

fn candidate(m: &Mitigation, a: &Analysis) -> Candidate {
    Candidate {
        floor_fraction: m.gpu.floor_fraction,
        filler: m.gpu.filler_activity.is_some(),
        rack_storage_j_per_gpu: m.rack_storage_j_per_gpu,
        battery_power_w: m.battery.map_or(0.0, |b| b.power_w),
        battery_energy_j: m.battery.map_or(0.0, |b| b.energy_j),
        gpu_ramp_w_per_s: m.gpu.ramp_up_w_per_s.or(m.gpu.ramp_down_w_per_s),
        passes: a.passes,
        total_usd_per_year: a.costs.total_usd_per_year,
        energy_overhead_fraction: a.costs.energy_overhead_fraction,
    }
}

fn eval(base: &Inputs, raw: &RawPart, m: Mitigation) -> (Candidate, Mitigation) {
    let inp = Inputs {
        mitigation: m,
        ..base.clone()
    };
    let (a, _) = analyse_with_raw(&inp, false, raw);
    (candidate(&m, &a), m)
}

/// Smallest battery power (energy at the minimum priced duration) that makes `m` pass, searched
/// between 0 and 1.5x the raw facility swing; `None` if even the largest fails.
fn smallest_battery(
    base: &Inputs,
    raw: &RawPart,
    m: Mitigation,
    efficiency: f64,
    swing_w: f64,
) -> Option<(Candidate, Mitigation)> {
    let with = |p: f64| {
        let mut mm = m;
        mm.battery = Some(Storage::site_battery(
            p,
            p * base.prices.battery_min_duration_s,
            efficiency,
        ));
        eval(base, raw, mm)
    };
    let hi0 = 1.5 * swing_w.max(1.0);
    let top = with(hi0);
    if !top.0.passes {
        return None;
    }
    let (mut lo, mut hi, mut best) = (0.0, hi0, top);
    for _ in 0..12 {
        let mid = 0.5 * (lo + hi);
        let c = with(mid);
        if c.0.passes {
            hi = mid;
            best = c;
        } else {
            lo = mid;
        }
    }
    Some(best)
}

/// Candidates [`solve`] tries at most (each may add a battery search): every floor × filler × rack
/// storage combination, and the GPU ramp limit.
pub const CANDIDATES: u64 = (FLOORS.len() * 2 * 2 + 1) as u64;

/// The per-GPU ramp limit (W/s, up and down) that keeps the whole job within the grid code's ramp
/// rule when every job GPU moves together: the tighter of the code's ramp-up and ramp-down limits
/// at the meter, over PUE and the job's GPUs (D). `None` when the code has no ramp rule or the
/// job has no GPUs.
pub fn gpu_ramp_for_code(base: &Inputs) -> Option<f64> {
    let code = &base.code;
    let meter = match (code.ramp_up_w_per_s, code.ramp_down_w_per_s) {
        (Some(u), Some(d)) => u.min(d),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => return None,
    };
    let job_gpus: f64 = base
        .cluster
        .groups
        .iter()
        .filter(|g| !g.spare)
        .map(|g| g.gpus)
        .sum();
    (job_gpus > 0.0 && meter > 0.0).then(|| meter / (base.cluster.pue.max(1.0) * job_gpus))
}

pub fn solve(base: &Inputs) -> Solution {
    solve_with_progress(base, &|_, _| {})
}

/// [`solve`], calling `progress(done, CANDIDATES)` after each candidate.
pub fn solve_with_progress(base: &Inputs, progress: &(dyn Fn(u64, u64) + Sync)) -> Solution {
    let eff = base
        .mitigation
        .battery
        .map_or(sd::BATTERY_EFFICIENCY, |b| b.efficiency);
    // The unmitigated half is the same for every candidate.
    let raw = raw_part(base);
    let swing = raw.metrics.swing_w;
    // The candidates are independent: evaluated in parallel, collected in the fixed order above,
    // so the answer does not depend on the thread count.
    let mut plan = vec![];
    for &floor in &FLOORS {
        for filler in [false, true] {
            for rack in [0.0, sd::RACK_J_PER_GPU] {
                plan.push((floor, filler, rack, None));
            }
        }
    }
    let scenario_ramp = base.mitigation.gpu.ramp_up_w_per_s.is_some()
        || base.mitigation.gpu.ramp_down_w_per_s.is_some();
    if let (false, Some(r)) = (scenario_ramp, gpu_ramp_for_code(base)) {
        plan.push((0.0, false, 0.0, Some(r)));
    }
    let total = plan.len() as u64;
    let done = AtomicU64::new(0);
    let all: Vec<(Candidate, Mitigation)> = plan
        .par_iter()
        .map(|&(floor, filler, rack, ramp)| {
            let mut m = Mitigation {
                turbines: base.mitigation.turbines,
                filler_slowdown_fraction: base.mitigation.filler_slowdown_fraction,
                rack_storage_j_per_gpu: rack,
                ..Default::default()
            };
            m.gpu = base.mitigation.gpu;
            m.gpu.floor_fraction = floor;
            m.gpu.filler_activity = filler.then_some(FILLER_ACTIVITY);
            if let Some(r) = ramp {
                m.gpu.ramp_up_w_per_s = Some(r);
                m.gpu.ramp_down_w_per_s = Some(r);
            }
            let c = eval(base, &raw, m);
            let mut out = vec![];
            let passed = c.0.passes;
            out.push(c);
            if !passed {
                if let Some(b) = smallest_battery(base, &raw, m, eff, swing) {
                    out.push(b);
                }
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            out
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    let battery_only = all
        .iter()
        .find(|(c, _)| {
            c.floor_fraction == 0.0
                && !c.filler
                && c.rack_storage_j_per_gpu == 0.0
                && c.gpu_ramp_w_per_s.is_none()
                && c.battery_power_w > 0.0
                && c.passes
        })
        .map(|(c, _)| c.clone());
    let gpu_ramp_only = (!scenario_ramp)
        .then(|| {
            all.iter()
                .find(|(c, _)| c.gpu_ramp_w_per_s.is_some() && c.battery_power_w == 0.0)
        })
        .flatten()
        .map(|(c, _)| c.clone());
    let best = all
        .iter()
        .filter(|(c, _)| c.passes)
        .fold(None::<&(Candidate, Mitigation)>, |b, x| match b {
            Some(y) if y.0.total_usd_per_year <= x.0.total_usd_per_year => Some(y),
            _ => Some(x),
        })
        .cloned();
    Solution {
        best: best.as_ref().map(|b| b.0.clone()),
        best_mitigation: best.map(|b| b.1),
        candidates: all.into_iter().map(|c| c.0).collect(),
        battery_only,
        gpu_ramp_only,
    }
}
