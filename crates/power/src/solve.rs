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
//!
//! Two searches give the same answer, bit for bit: [`solve_exhaustive`] analyses every candidate
//! and every bisection step in full ([`analyse_with_raw`]); [`solve`] computes each distinct trace
//! once (candidates whose GPU-level mitigations give the same trace share it, and every bisection
//! step of a candidate shares its load) and decides each bisection step from what the battery
//! controller does before it first saturates, which does not depend on the battery's size
//! ([`battery`]): a battery that never saturates passes or fails with the controller's unlimited
//! run, one that saturates is simulated from there, and stops as soon as a rule is sure to fail.

mod battery;

use crate::analysis::{
    analyse_with_raw, costs, raw_part, run_energy, Analysis, Inputs, Mitigation, RawPart,
};
use crate::storage::{defaults as sd, run_storages, Storage};
use crate::supply::Connection;
use crate::trace::{run_ramp_effect, GpuMitigation, RunRampEffect, Trace};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

pub const FLOORS: [f64; 5] = [0.0, 0.5, 0.7, 0.8, 0.9];
pub const FILLER_ACTIVITY: f64 = 0.8;

/// One evaluated combination.
#[derive(Clone, Debug, Serialize, PartialEq)]
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

#[derive(Clone, Debug, Serialize, PartialEq)]
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

fn candidate(m: &Mitigation, passes: bool, c: &crate::analysis::Costs) -> Candidate {
    Candidate {
        floor_fraction: m.gpu.floor_fraction,
        filler: m.gpu.filler_activity.is_some(),
        rack_storage_j_per_gpu: m.rack_storage_j_per_gpu,
        battery_power_w: m.battery.map_or(0.0, |b| b.power_w),
        battery_energy_j: m.battery.map_or(0.0, |b| b.energy_j),
        gpu_ramp_w_per_s: m.gpu.ramp_up_w_per_s.or(m.gpu.ramp_down_w_per_s),
        passes,
        total_usd_per_year: c.total_usd_per_year,
        energy_overhead_fraction: c.energy_overhead_fraction,
    }
}

fn of_analysis(m: &Mitigation, a: &Analysis) -> Candidate {
    candidate(m, a.passes, &a.costs)
}

fn eval(base: &Inputs, raw: &RawPart, m: Mitigation) -> (Candidate, Mitigation) {
    let inp = Inputs {
        mitigation: m,
        ..base.clone()
    };
    let (a, _) = analyse_with_raw(&inp, false, raw);
    (of_analysis(&m, &a), m)
}

/// The site battery of power `power_w` a candidate adds: its energy at the minimum priced
/// duration.
fn battery_of(base: &Inputs, power_w: f64, efficiency: f64) -> Storage {
    Storage::site_battery(
        power_w,
        power_w * base.prices.battery_min_duration_s,
        efficiency,
    )
}

/// The largest battery the bisection tries: 1.5x the raw facility swing.
fn top_battery_w(swing_w: f64) -> f64 {
    1.5 * swing_w.max(1.0)
}

/// Bisection steps between no battery and [`top_battery_w`].
const BISECTION_STEPS: usize = 12;

/// The bisection of [`solve`] as a sequence of probes: the smallest battery power between 0 and
/// `hi0` that passes, assuming it passes at `hi0` (none when it does not even there), halving the
/// bracket `BISECTION_STEPS` times. `probe()` is the next power to try, `record()` its result
/// (`Some`: passes, with what the answer needs of it).
#[derive(Clone, Debug)]
pub(crate) struct Bisection<T> {
    hi0: f64,
    lo: f64,
    hi: f64,
    /// Probes recorded so far (the first is the top).
    step: usize,
    best: Option<(f64, T)>,
    done: bool,
}

impl<T: Clone> Bisection<T> {
    pub(crate) fn new(hi0: f64) -> Bisection<T> {
        Bisection {
            hi0,
            lo: 0.0,
            hi: hi0,
            step: 0,
            best: None,
            done: false,
        }
    }

    pub(crate) fn probe(&self) -> Option<f64> {
        match (self.done, self.step) {
            (true, _) => None,
            (false, 0) => Some(self.hi0),
            (false, _) => Some(0.5 * (self.lo + self.hi)),
        }
    }

    pub(crate) fn record(&mut self, result: Option<T>) {
        let Some(p) = self.probe() else {
            return;
        };
        match (self.step, result) {
            (0, Some(v)) => self.best = Some((p, v)),
            (0, None) => self.done = true,
            (_, Some(v)) => {
                self.hi = p;
                self.best = Some((p, v));
            }
            (_, None) => self.lo = p,
        }
        self.step += 1;
        if self.step > BISECTION_STEPS {
            self.done = true;
        }
    }

    /// The powers every probe still to come lies between (inclusive; none when done).
    pub(crate) fn bracket(&self) -> Option<(f64, f64)> {
        match (self.done, self.step) {
            (true, _) => None,
            (false, 0) => Some((self.hi0, self.hi0)),
            (false, _) => Some((self.lo, self.hi)),
        }
    }

    /// The last passing power and its value, once done.
    pub(crate) fn result(&self) -> Option<(f64, T)> {
        self.best.clone()
    }
}

/// [`Bisection`] run to its end on `passes`.
fn bisect<T: Clone>(hi0: f64, mut passes: impl FnMut(f64) -> Option<T>) -> Option<(f64, T)> {
    let mut b = Bisection::new(hi0);
    while let Some(p) = b.probe() {
        b.record(passes(p));
    }
    b.result()
}

/// Smallest battery power (energy at the minimum priced duration) that makes `m` pass, searched
/// between 0 and 1.5x the raw facility swing; `None` if even the largest fails. Every step is a
/// full analysis.
fn smallest_battery(
    base: &Inputs,
    raw: &RawPart,
    m: Mitigation,
    efficiency: f64,
    swing_w: f64,
) -> Option<(Candidate, Mitigation)> {
    let with = |p: f64| {
        let mut mm = m;
        mm.battery = Some(battery_of(base, p, efficiency));
        eval(base, raw, mm)
    };
    bisect(top_battery_w(swing_w), |p| {
        let c = with(p);
        c.0.passes.then_some(c)
    })
    .map(|(_, c)| c)
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

/// The combinations tried, in order: floor, filler, rack storage, GPU ramp limit.
fn plan(base: &Inputs) -> (Vec<Mitigation>, bool) {
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
    let ms = plan
        .into_iter()
        .map(|(floor, filler, rack, ramp)| {
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
            m
        })
        .collect();
    (ms, scenario_ramp)
}

/// The round-trip efficiency of the batteries the search adds: the scenario battery's, else the
/// default.
fn battery_efficiency(base: &Inputs) -> f64 {
    base.mitigation
        .battery
        .map_or(sd::BATTERY_EFFICIENCY, |b| b.efficiency)
}

/// Every candidate in order, each followed by its smallest passing battery when it fails alone
/// (and one passes): the figures the rest of the solution is read from.
fn solution(all: Vec<(Candidate, Mitigation)>, scenario_ramp: bool) -> Solution {
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

/// The cheapest passing combination: [`solve_exhaustive`]'s answer, computed once per distinct
/// trace (see the module's notes).
pub fn solve(base: &Inputs) -> Solution {
    solve_with_progress(base, &|_, _| {})
}

/// [`solve_exhaustive`] analysing every candidate and every bisection step in full.
pub fn solve_exhaustive(base: &Inputs) -> Solution {
    solve_exhaustive_with_progress(base, &|_, _| {})
}

/// [`solve_exhaustive`], calling `progress(done, CANDIDATES)` after each candidate.
pub fn solve_exhaustive_with_progress(
    base: &Inputs,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Solution {
    let eff = battery_efficiency(base);
    // The unmitigated half is the same for every candidate.
    let raw = raw_part(base);
    let swing = raw.metrics.swing_w;
    let (plan, scenario_ramp) = plan(base);
    let total = plan.len() as u64;
    let done = AtomicU64::new(0);
    // The candidates are independent: evaluated in parallel, collected in the fixed order above,
    // so the answer does not depend on the thread count.
    let all: Vec<(Candidate, Mitigation)> = plan
        .par_iter()
        .map(|&m| {
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
    solution(all, scenario_ramp)
}

/// How many distinct GPU-level mitigations' traces [`solve_with_raw`] holds at once.
const SLOTS_AT_ONCE: usize = 4;

/// A trace's length, start and step (bits) and two 64-bit hashes of its samples' bits: traces
/// with the same samples have the same fingerprint, and two that differ share one with a
/// chance of about 2^-128.
type TraceFingerprint = (usize, u64, u64, u64, u64);

fn fingerprint(t: &Trace) -> TraceFingerprint {
    let (mut a, mut b) = (0x243F_6A88_85A3_08D3u64, 0x1319_8A2E_0370_7344u64);
    for x in &t.w {
        let x = x.to_bits();
        a = (a.rotate_left(5) ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        b = (b ^ x).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        b ^= b >> 33;
    }
    (t.w.len(), t.t0_s.to_bits(), t.dt_s.to_bits(), a, b)
}

/// The index of the first of `items` equal to each one (by `same`).
fn firsts<T>(items: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<usize> {
    (0..items.len())
        .map(|i| (0..i).find(|&j| same(&items[j], &items[i])).unwrap_or(i))
        .collect()
}

/// What a distinct facility load (GPU-level mitigations, rack storage, the facility overhead)
/// gives: the rack storage's losses, whether it passes without a battery, and if not the
/// smallest battery that makes it pass (power and losses), if any.
struct Outcome {
    rack_losses_j: Option<f64>,
    passes: bool,
    battery: Option<(f64, f64)>,
}

/// The base load of a facility load's generators and the export allowed, as the analysis runs
/// them (`None`: no generators).
fn base_of(fac: &Trace, m: &Mitigation, c: &Connection) -> Option<(f64, f64)> {
    m.turbines
        .map(|t| (crate::supply::commit(fac, &t, c).committed_w, c.export_w))
}

/// The grid import of a facility load: less the generators' base load when there are any.
fn grid_of<'a>(fac: &'a Trace, base: Option<(f64, f64)>) -> std::borrow::Cow<'a, Trace> {
    match base {
        Some(b) => std::borrow::Cow::Owned(battery::grid_of(fac, b)),
        None => std::borrow::Cow::Borrowed(fac),
    }
}

/// Whether the solver applies: the site's generators (if any) run as base load under a grid
/// that carries the load. Where they must follow the load (the grid short of the peak, or an
/// islanded site) the grid-code mitigations are not the question; nothing is searched.
pub fn applies(base: &Inputs) -> bool {
    base.mitigation.turbines.is_none_or(|t| {
        let raw = raw_part(base);
        crate::supply::commit(&raw.facility, &t, &base.connection).mode
            == crate::supply::Mode::BaseLoad
    })
}

/// Whether the IT power of GPU mitigation `g`, with ramp limits on every job GPU, surely passes
/// the code straight to the grid (no storage, no turbines), by bounds that need no trace: each
/// group's per-GPU draw stays within the least and most its phases and idle draw (bins average
/// them, the limiter moves between them), so the facility power stays within
/// `pue x [sum of least, sum of most]`; and each job GPU moves at most its ramp limit per sample
/// while spares and constant loads hold still, so the facility moves at most `sum of job GPUs x
/// limit` per second, which bounds its windowed ramps, its range within a metering window and,
/// with the range, its band share (Parseval's bound as in
/// [`crate::spectrum::band_fraction_bound`]). Margins cover rounding (1e-9 of the peak per sample,
/// 1e-6 relative, and the meter's running sums).
fn ramp_limited_surely_passes(
    base: &Inputs,
    code: &crate::grid::GridCode,
    g: &GpuMitigation,
    n: usize,
    dt: f64,
) -> bool {
    let (Some(up), Some(down)) = (g.ramp_up_w_per_s, g.ramp_down_w_per_s) else {
        return false;
    };
    let rate = up.max(down);
    let c = &base.cluster;
    if !(rate.is_finite() && rate >= 0.0 && n > 0 && dt > 0.0 && c.pue.is_finite()) {
        return false;
    }
    let (mut lo, mut hi, mut moving) = (0.0, 0.0, 0.0);
    for grp in &c.groups {
        let (l, h) = if grp.spare {
            (grp.gpu.idle_w, grp.gpu.idle_w)
        } else {
            let shape = base.step.for_stage(grp.stage);
            let idle = crate::trace::mitigated_gpu_w(grp, 0.0, false, g);
            shape
                .phases
                .iter()
                .map(|ph| crate::trace::mitigated_gpu_w(grp, ph.activity, true, g))
                .fold((idle, idle), |(l, h), w| (l.min(w), h.max(w)))
        };
        lo += grp.gpus * l + grp.constant_w();
        hi += grp.gpus * h + grp.constant_w();
        if !grp.spare {
            moving += grp.gpus * rate;
        }
    }
    let k = 1.0 + (c.pue - 1.0).max(0.0);
    let (fac_lo, fac_hi) = (k * lo * (1.0 - 1e-9), k * hi * (1.0 + 1e-9));
    if !(fac_lo > 0.0 && fac_hi.is_finite()) {
        return false;
    }
    if fac_hi < code.large_load_w {
        return true;
    }
    if fac_lo < code.large_load_w {
        // (whether the code applies is not settled)
        return false;
    }
    let m = crate::grid::window_samples(code, dt).min(n).max(1);
    let win = m as f64 * dt;
    // largest move per sample, and the meter's rounding (its running sums reach n x peak)
    let step_w = (moving * dt) * (1.0 + 1e-6) + 1e-9 * fac_hi;
    let ramp = step_w / dt + 16.0 * f64::EPSILON * n as f64 * fac_hi / win;
    let range = step_w * m as f64;
    let spread = fac_hi - fac_lo;
    let band = (spread * spread / 4.0 * (1.0 + 1e-6) + 1e-9 * spread * spread)
        / (fac_lo * fac_lo * (1.0 - 1e-9));
    let within = |v: f64, lim: Option<f64>| lim.is_none_or(|l| crate::grid::within(true, v, l));
    let (band_lo, _) = code.band_hz();
    within(ramp, code.ramp_up_w_per_s)
        && within(ramp, code.ramp_down_w_per_s)
        && within(fac_hi, code.load_loss_w)
        && within(range, code.dynamic_range_fraction.map(|f| f * fac_lo))
        && code
            .band_energy_limit_fraction
            .is_none_or(|l| band_lo > 0.0 && crate::grid::within(true, band, l))
}

/// [`solve`], calling `progress(done, CANDIDATES)` as candidates are settled.
pub fn solve_with_progress(base: &Inputs, progress: &(dyn Fn(u64, u64) + Sync)) -> Solution {
    solve_with_raw(base, &raw_part(base), progress)
}

/// [`solve_with_progress`] with the unmitigated half of the analysis already computed (by
/// [`raw_part`] on the same inputs, mitigations aside).
pub fn solve_with_raw(
    base: &Inputs,
    raw: &RawPart,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Solution {
    let eff = battery_efficiency(base);
    let win = base.window;
    let n = win.samples();
    let dt = win.duration_s / n as f64;
    let c = &base.cluster;
    let (plan, scenario_ramp) = plan(base);
    let total = plan.len() as u64;

    // The raw facility trace: its energy prices the storage losses, its swing bounds the battery
    // search, its peak decides whether the code applies.
    let raw_fac = &raw.facility;
    let decided = base.code.deciding(base.code_applies(raw_fac.peak_w()));
    let code = &decided;
    let window_raw_j = raw_fac.energy_j();
    let hi0 = top_battery_w(raw_fac.swing_w());

    // Each distinct GPU-level mitigation, and what its ramp limits do over the run.
    let gpu: Vec<GpuMitigation> = plan.iter().map(|m| m.gpu).collect();
    let gpu_first = firsts(&gpu, |a, b| a == b);
    let distinct: Vec<usize> = (0..gpu.len()).filter(|&i| gpu_first[i] == i).collect();
    let slot = |i: usize| {
        distinct
            .iter()
            .position(|&d| d == gpu_first[i])
            .unwrap_or(0)
    };
    // A ramp-limited draw whose verdict its bounds settle (alone: no rack storage or turbines)
    // is not built; it stands as an empty trace.
    let settled = |i: usize| {
        let alone = plan
            .iter()
            .filter(|m| m.gpu == gpu[i])
            .all(|m| m.rack_storage_j_per_gpu == 0.0 && m.turbines.is_none());
        alone && ramp_limited_surely_passes(base, code, &gpu[i], n, dt)
    };
    let ramps: Vec<RunRampEffect> = distinct
        .par_iter()
        .map(|&i| run_ramp_effect(c, &base.step, &base.run, &gpu[i]))
        .collect();

    // The draws are built, run through their loads and searched a few at a time, so the memory
    // held is a few traces whatever the number of candidates (each trace is the window's
    // samples). Traces that come out the same (a floor above the filler's level hides the
    // filler) share their loads and searches: `trace_first[s]` is the first slot whose trace is
    // slot `s`'s, found by the traces' fingerprints (a trace's samples are gone once its chunk
    // is done).
    let mut trace_first: Vec<usize> = (0..distinct.len()).collect();
    let mut seen: Vec<(TraceFingerprint, usize)> = vec![];
    // Each distinct (trace, rack storage) load's outcome, by its key.
    let key = |trace_first: &[usize], i: usize| {
        (
            trace_first[slot(i)],
            plan[i].rack_storage_j_per_gpu.to_bits(),
        )
    };
    let mut outcome_of: Vec<((usize, u64), Outcome)> = vec![];
    let slots: Vec<usize> = (0..distinct.len()).collect();
    let mut decided = 0u64;
    for chunk in slots.chunks(SLOTS_AT_ONCE) {
        // (the draws to build, built together where they can be: see `it_power_traces`)
        let to_build: Vec<usize> = chunk
            .iter()
            .copied()
            .filter(|&s| !settled(distinct[s]))
            .collect();
        let ms: Vec<GpuMitigation> = to_build.iter().map(|&s| gpu[distinct[s]]).collect();
        let mut traces =
            crate::trace::it_power_traces(c, &base.step, &base.run, win.t0_s, dt, n, &ms)
                .into_iter();
        let built: Vec<Trace> = chunk
            .iter()
            .map(|s| {
                if to_build.contains(s) {
                    traces.next().unwrap_or_default()
                } else {
                    Trace::zeros(win.t0_s, dt, 0)
                }
            })
            .collect();
        drop(traces);
        let fingerprints: Vec<TraceFingerprint> = built.par_iter().map(fingerprint).collect();
        for (&s, f) in chunk.iter().zip(fingerprints) {
            match seen.iter().find(|(g, _)| *g == f) {
                Some(&(_, first)) => trace_first[s] = first,
                None => seen.push((f, s)),
            }
        }
        // The loads of this chunk's traces not already settled, each at its first candidate here
        // and on its own slot's trace (the same samples as its first slot's, which an earlier
        // chunk may have held).
        let at = |s: usize| s - chunk[0];
        let mut keys: Vec<(usize, u64)> = vec![];
        let mut loads_at: Vec<usize> = vec![];
        for i in 0..plan.len() {
            let k = key(&trace_first, i);
            if chunk.contains(&slot(i))
                && !keys.contains(&k)
                && !outcome_of.iter().any(|(j, _)| *j == k)
            {
                keys.push(k);
                loads_at.push(i);
            }
        }
        // The rack storage of every load that has it, run side by side.
        let racked: Vec<usize> = loads_at
            .iter()
            .copied()
            .filter(|&i| plan[i].rack_storage_j_per_gpu > 0.0)
            .collect();
        let rack_runs: Vec<(&Trace, Storage)> = racked
            .iter()
            .map(|&i| {
                let it = &built[at(slot(i))];
                let s = Storage::rack(plan[i].rack_storage_j_per_gpu, c.gpus(), it.peak_w());
                (it, s)
            })
            .collect();
        let mut rack_out: Vec<Option<crate::storage::StorageRun>> = rack_runs
            .par_chunks(4)
            .flat_map_iter(|part| run_storages(part, code.ramp_up_w_per_s, code.ramp_down_w_per_s))
            .map(Some)
            .collect();
        let mut rack_of: Vec<Option<crate::storage::StorageRun>> = vec![None; plan.len()];
        for (&i, r) in racked.iter().zip(rack_out.iter_mut()) {
            rack_of[i] = r.take();
        }
        drop(rack_out);
        // Each load's facility power (the traces turned into it in place: each IT trace feeds
        // one load without rack storage, after the rack storage that starts from it), then
        // whether it passes without a battery.
        drop(rack_runs);
        let mut its: Vec<Option<Trace>> = built.into_iter().map(Some).collect();
        let facilities: Vec<(Trace, Option<f64>)> = loads_at
            .iter()
            .map(|&i| match rack_of[i].take() {
                Some(r) => (r.upstream.into_facility(c.pue), Some(r.losses_j)),
                None => {
                    let t = its[at(slot(i))].take().unwrap_or_default();
                    (t.into_facility(c.pue), None)
                }
            })
            .collect();
        drop(its);
        let passing: Vec<bool> = facilities
            .par_iter()
            .zip(&loads_at)
            .map(|((facility, _), &i)| {
                // (an empty trace: a draw its bounds settle)
                (n > 0 && facility.w.is_empty())
                    || crate::grid::passes(
                        &grid_of(facility, base_of(facility, &plan[i], &base.connection)),
                        code,
                    )
            })
            .collect();
        // (only the loads that fail alone are needed on)
        let alone: Vec<(Trace, Option<f64>, bool)> = facilities
            .into_iter()
            .zip(passing)
            .map(|((f, r), p)| (if p { Trace::default() } else { f }, r, p))
            .collect();
        // Then the battery searches of the loads that fail alone, together.
        let failing: Vec<usize> = (0..loads_at.len()).filter(|&k| !alone[k].2).collect();
        decided += (loads_at.len() - failing.len()) as u64;
        progress(decided.min(total), total);
        let searched = battery::smallest_batteries(
            &failing
                .iter()
                .map(|&k| {
                    let f = &alone[k].0;
                    (f, base_of(f, &plan[loads_at[k]], &base.connection))
                })
                .collect::<Vec<_>>(),
            code,
            hi0,
            &|p| battery_of(base, p, eff),
        );
        decided += failing.len() as u64;
        progress(decided.min(total), total);
        let mut batteries = vec![None; loads_at.len()];
        for (&k, b) in failing.iter().zip(searched) {
            batteries[k] = b;
        }
        for ((k, (_, rack_losses_j, passes)), battery) in keys.into_iter().zip(alone).zip(batteries)
        {
            outcome_of.push((
                k,
                Outcome {
                    rack_losses_j,
                    passes,
                    battery,
                },
            ));
        }
    }
    progress(total, total);

    // The candidates in order, each priced as the full analysis prices it.
    let mut inp = base.clone();
    let mut all = vec![];
    for (i, m) in plan.iter().enumerate() {
        let k = key(&trace_first, i);
        let Some((_, o)) = outcome_of.iter().find(|(j, _)| *j == k) else {
            continue;
        };
        let ramp = &ramps[slot(i)];
        inp.mitigation = *m;
        let run = run_energy(&inp);
        let cost = costs(&inp, &run, window_raw_j, None, o.rack_losses_j, ramp);
        all.push((candidate(m, o.passes, &cost), *m));
        if let Some((p, losses_j)) = o.battery {
            let mut mb = *m;
            mb.battery = Some(battery_of(base, p, eff));
            inp.mitigation = mb;
            let cost = costs(
                &inp,
                &run,
                window_raw_j,
                Some(losses_j),
                o.rack_losses_j,
                ramp,
            );
            all.push((candidate(&mb, true, &cost), mb));
        }
    }
    solution(all, scenario_ramp)
}
