//! Whether a site battery of a given power makes a load pass, bit for bit as the full analysis
//! decides it ([`crate::storage::run_storage`], then [`crate::grid::metrics`] and
//! [`crate::grid::check`]), for the many sizes the bisections of [`super::solve`] try.
//!
//! The controller's law does not depend on the battery's size until the battery saturates: the
//! request (load minus a ramp-limited target) is met in full while it is within the power and the
//! state of charge stays within its bounds, and the state of charge enters the law only as its
//! distance from the middle. So one *unlimited* run of the controller (no power or energy limit)
//! is every battery's run up to the first sample where its request exceeds its power: a battery
//! that never saturates passes or fails with the unlimited run, and one that saturates is
//! simulated from there on (from a checkpoint of the unlimited run), stopping at the first sample
//! after which a rule is sure to fail.
//!
//! Bit for bit, because the state of charge is held in joules (`mid + deviation`): adding to it
//! rounds to the spacing of its binade, with ties to an even significand. Two batteries whose
//! middles lie in the same binade therefore round every deviation alike, as long as the state
//! stays in that binade, except at an exact tie when the middles' significands differ in parity.
//! The unlimited run is made per binade, with a middle of even significand in the binade's centre,
//! and records its first tie; a battery is taken from it only as far as its own state provably
//! stays in the binade and within its bounds (with margins), and otherwise simulated outright.
//!
//! The searches of several loads advance together: each goes on alone as far as it can, and the
//! runs they then wait on (unlimited runs to extend, batteries' own runs) are made four at a time
//! side by side (each a chain of dependent samples; interleaved, they keep the processor busy),
//! the groups in parallel.

use super::Bisection;
use crate::grid::{self, all_pass, band_within, range_within, within, GridCode, RampMeter};
use crate::storage::{totals, Controller, ControllerState, Storage};
use crate::trace::Trace;
use rayon::prelude::*;
use std::sync::Mutex;

/// Samples between checkpoints of an unlimited run: a battery's own run restarts from the last
/// one before it saturates. The grid figures are tallied an interval at a time.
const CHECKPOINT: usize = 128;

/// Samples an unlimited run is extended by at a time (a run goes only as far as a probe needs:
/// to the first sample whose request exceeds the probe's power, or the load's end).
const CHUNK: usize = 8192;

/// Runs made side by side.
const LANES: usize = 4;

/// Searches under way at once.
const WAVE: usize = 14;

/// The binade `[2^e, 2^(e+1))` of a positive normal `x`: `e`, and the spacing of its doubles.
fn binade(x: f64) -> Option<(i32, f64)> {
    if !(x.is_finite() && x >= f64::MIN_POSITIVE) {
        return None;
    }
    let e = ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    Some((e, 2f64.powi(e - 52)))
}

/// Whether a double's significand is odd.
fn odd(x: f64) -> bool {
    x.to_bits() & 1 == 1
}

/// The largest of `x` (-infinity for none; values that are not numbers left out, as
/// [`f64::max`] leaves them), four running maxima at a time.
fn max4(x: &[f64]) -> f64 {
    let mut h = [f64::NEG_INFINITY; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for q in 0..4 {
            h[q] = h[q].max(c[q]);
        }
    }
    for &v in chunks.remainder() {
        h[0] = h[0].max(v);
    }
    h[0].max(h[1]).max(h[2].max(h[3]))
}

/// The smallest of `x` (+infinity for none), as [`max4`].
fn min4(x: &[f64]) -> f64 {
    let mut l = [f64::INFINITY; 4];
    let mut chunks = x.chunks_exact(4);
    for c in &mut chunks {
        for q in 0..4 {
            l[q] = l[q].min(c[q]);
        }
    }
    for &v in chunks.remainder() {
        l[0] = l[0].min(v);
    }
    l[0].min(l[1]).min(l[2].min(l[3]))
}

/// What the verdict on an upstream trace needs, tallied a checkpoint interval at a time as the
/// trace is made (so that the trace itself need not be kept): the windowed ramps as
/// [`RampMeter`] measures them (leaving out those of an interval whose samples bound them below
/// the code's limits: the running ramps are then what the verdict needs, not the meter's
/// figures), the peak, the extremes of each interval (for a bound on the dynamic range) and the
/// sums of the deviations from the first sample and of their squares (for a bound on the band
/// share).
#[derive(Clone, Debug)]
struct Tally {
    meter: RampMeter,
    peak_w: f64,
    first_w: f64,
    dev_sum: f64,
    dev_sq_sum: f64,
    /// The largest |running sum| so far, and the smallest of the code's ramp limits (infinite
    /// without one).
    sum_abs_max: f64,
    ramp_floor_w_per_s: f64,
    extremes: Vec<(f64, f64)>,
    /// Samples tallied.
    len: usize,
}

/// A tally's running figures before a checkpoint (its extremes are the intervals before).
#[derive(Clone, Copy, Debug)]
struct Snapshot {
    ramps: (f64, f64),
    peak_w: f64,
    sum: f64,
    dev_sum: f64,
    dev_sq_sum: f64,
    sum_abs_max: f64,
}

impl Tally {
    fn new(n: usize, dt_s: f64, m: usize, code: &GridCode, extremes: Vec<(f64, f64)>) -> Tally {
        let mut extremes = extremes;
        extremes.clear();
        Tally {
            meter: RampMeter::new(n, dt_s, m),
            peak_w: 0.0,
            first_w: f64::NAN,
            dev_sum: 0.0,
            dev_sq_sum: 0.0,
            sum_abs_max: 0.0,
            ramp_floor_w_per_s: [code.ramp_up_w_per_s, code.ramp_down_w_per_s]
                .into_iter()
                .flatten()
                .fold(f64::INFINITY, f64::min),
            extremes,
            len: 0,
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            ramps: self.meter.ramps_w_per_s(),
            peak_w: self.peak_w,
            sum: self.meter.sum(),
            dev_sum: self.dev_sum,
            dev_sq_sum: self.dev_sq_sum,
            sum_abs_max: self.sum_abs_max,
        }
    }

    /// The next samples, from a checkpoint (a whole interval, or the last, shorter one).
    fn push_block(&mut self, block: &[f64]) {
        if block.is_empty() {
            return;
        }
        let (hi, lo) = (max4(block), min4(block));
        self.extremes.push((hi, lo));
        self.peak_w = self.peak_w.max(hi);
        if self.len == 0 {
            self.first_w = block[0];
        }
        let g0 = self.first_w;
        let (mut dev, mut sq) = (self.dev_sum, self.dev_sq_sum);
        let each = |x: f64| {
            dev += x - g0;
            sq += (x - g0) * (x - g0);
        };
        if self.quiet(block.len()) {
            self.meter.push_sums_with(block, each);
        } else {
            self.meter.push_all_with(block, each);
        }
        (self.dev_sum, self.dev_sq_sum) = (dev, sq);
        self.sum_abs_max = self.sum_abs_max.max(self.meter.sum().abs());
        self.len += block.len();
    }

    /// Whether every windowed ramp ending in the interval just added (of `len` samples) is
    /// surely below the code's ramp limits: the difference of two window means is at most the
    /// range of the samples under them, and the running sums' rounding moves a ramp by at most
    /// `8 eps max|running sum| / window` (the largest so far, plus the samples under the windows'
    /// worth).
    fn quiet(&self, len: usize) -> bool {
        let (m, win, _) = self.meter.window();
        let b = self.extremes.len() - 1;
        let start = b * CHECKPOINT;
        let first = (start + 1).saturating_sub(2 * m) / CHECKPOINT;
        let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
        for &(h, l) in &self.extremes[first..=b] {
            hi = hi.max(h);
            lo = lo.min(l);
        }
        let samples = (start + len - first * CHECKPOINT) as f64;
        let sums = self.sum_abs_max + samples * hi.abs().max(lo.abs());
        let err = 8.0 * f64::EPSILON * sums / win;
        let bound = (hi - lo) / win * (1.0 + 1e-9) + err;
        bound.is_finite() && bound < self.ramp_floor_w_per_s * (1.0 - 1e-6)
    }

    /// An upper bound on [`grid::max_window_range_w`] over windows of `m` samples: every window
    /// lies within a few adjacent intervals.
    fn range_bound_w(&self, m: usize) -> f64 {
        let span = (m.max(1) - 1) / CHECKPOINT + 2;
        let x = &self.extremes;
        let mut best = 0.0f64;
        for i in 0..x.len() {
            let w = &x[i..(i + span).min(x.len())];
            let hi = w.iter().map(|e| e.0).fold(f64::NEG_INFINITY, f64::max);
            let lo = w.iter().map(|e| e.1).fold(f64::INFINITY, f64::min);
            best = best.max(hi - lo);
        }
        best
    }

    /// The verdict on the tallied trace (all `n` samples), straight to the grid: by the running
    /// ramps and peak, and the dynamic range and band share by their bounds, or, where those do
    /// not settle them, on the trace itself (`trace()` makes it again).
    fn verdict(
        &self,
        code: &GridCode,
        dt_s: f64,
        m: usize,
        trace_fn: impl Fn() -> Vec<f64>,
    ) -> bool {
        let n = self.len;
        let trace = std::cell::OnceCell::<Vec<f64>>::new();
        all_pass(
            code,
            self.peak_w,
            self.meter.ramps_w_per_s(),
            |limit| {
                within(true, self.range_bound_w(m), limit)
                    || range_within(trace.get_or_init(&trace_fn), m, limit)
            },
            |limit| {
                let sums = (self.meter.sum(), self.dev_sum, self.dev_sq_sum);
                crate::spectrum::band_fraction_bound_from_sums(n, dt_s, code.band_hz().0, sums)
                    .is_some_and(|b| within(true, b, limit))
                    || band_within(trace.get_or_init(&trace_fn), dt_s, code, limit)
            },
        )
    }
}

/// The arrays of an unlimited run, kept for the next run.
#[derive(Default)]
struct Buffers {
    states: Vec<ControllerState>,
    request_max: Vec<f64>,
    snapshots: Vec<Snapshot>,
    extremes: Vec<(f64, f64)>,
}

/// The unlimited run of the controller for middles in one binade.
struct Unlimited {
    e: i32,
    /// The binade's start and the spacing of its doubles.
    floor_j: f64,
    ulp_j: f64,
    /// The middle the run holds its state of charge around (even significand, mid-binade).
    mid_j: f64,
    ctl: Controller,
    state: ControllerState,
    /// Samples run so far.
    len: usize,
    /// The controller's state and the tally before each checkpoint, and the running maximum of
    /// |request| to the end of each checkpoint interval.
    states: Vec<ControllerState>,
    snapshots: Vec<Snapshot>,
    request_max: Vec<f64>,
    request_max_w: f64,
    tally: Tally,
    /// First sample whose update of the state of charge was an exact tie.
    tie: Option<usize>,
    /// First sample the run does not stand for any battery (its own state left the binade, or a
    /// value is not a number).
    broken: Option<usize>,
    /// Its verdict and losses over the whole load, once asked.
    whole: Option<(bool, f64)>,
}

impl Unlimited {
    #[allow(clippy::too_many_arguments)]
    fn new(
        e: i32,
        like: &Controller,
        start: ControllerState,
        n: usize,
        m: usize,
        code: &GridCode,
        bufs: Buffers,
    ) -> Unlimited {
        let floor_j = 2f64.powi(e);
        let mid_j = 1.5 * floor_j;
        let ctl = Controller {
            soc_lo_j: f64::NEG_INFINITY,
            soc_hi_j: f64::INFINITY,
            soc_mid_j: mid_j,
            power_w: f64::INFINITY,
            active: true,
            ..*like
        };
        let mut state = start;
        state.soc_j = mid_j;
        let Buffers {
            mut states,
            mut request_max,
            mut snapshots,
            extremes,
        } = bufs;
        states.clear();
        request_max.clear();
        snapshots.clear();
        Unlimited {
            e,
            floor_j,
            ulp_j: 2f64.powi(e - 52),
            mid_j,
            ctl,
            state,
            len: 0,
            states,
            snapshots,
            request_max,
            request_max_w: 0.0,
            tally: Tally::new(n, like.dt_s, m, code, extremes),
            tie: None,
            broken: None,
            whole: None,
        }
    }

    fn into_buffers(self) -> Buffers {
        Buffers {
            states: self.states,
            request_max: self.request_max,
            snapshots: self.snapshots,
            extremes: self.tally.extremes,
        }
    }

    /// The largest change of the state of charge in one sample so far: the request (met in
    /// full) over a sample, through the efficiency (with a margin for rounding), J.
    fn step_max_j(&self, request_max_w: f64) -> f64 {
        request_max_w * self.ctl.dt_s / self.ctl.eta_half * (1.0 + 1e-9)
    }

    /// The range of the deviation of the state of charge from the middle so far, J: between
    /// checkpoints it moves by at most a checkpoint's worth of the largest step.
    fn dev_range_j(&self) -> (f64, f64) {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for s in self
            .states
            .iter()
            .map(|s| s.soc_j)
            .chain([self.state.soc_j])
        {
            lo = lo.min(s - self.mid_j);
            hi = hi.max(s - self.mid_j);
        }
        let wander = CHECKPOINT as f64 * self.step_max_j(self.request_max_w);
        (lo - wander, hi + wander)
    }

    /// Whether the samples of the interval that ends in `state` stand for the binade: every state
    /// of charge within it (a checkpoint's worth of the largest step around the interval's
    /// first and last states, with a margin for the unrounded sums) and every value a finite
    /// number (a value that is not one stays in the state).
    fn sound_until(&self, first: &ControllerState, state: &ControllerState, req_max: f64) -> bool {
        let reach = (CHECKPOINT as f64 + 1.0) * self.step_max_j(req_max) + 2.0 * self.ulp_j;
        let (lo, hi) = (first.soc_j.min(state.soc_j), first.soc_j.max(state.soc_j));
        [state.ema_w, state.soc_j, state.prev_w, req_max]
            .iter()
            .all(|x| x.is_finite())
            && lo - reach >= self.floor_j
            && hi + reach < 2.0 * self.floor_j
    }

    /// The first sample whose request exceeds `power_w` among those run (`len` if none): the
    /// interval where the running maximum first does, then that interval again from its
    /// checkpoint (the same law on the same state and load: the same requests).
    fn first_over(&self, load: &[f64], power_w: f64) -> usize {
        let j = self.request_max.partition_point(|&r| r <= power_w);
        if j >= self.request_max.len() {
            return self.len;
        }
        let from = j * CHECKPOINT;
        let to = ((j + 1) * CHECKPOINT).min(self.len);
        let mut st = self.states[j];
        for (i, &l) in load[from..to].iter().enumerate() {
            if self.ctl.step_unlimited(&mut st, l).request_w.abs() > power_w {
                return from + i;
            }
        }
        to
    }

    /// Its upstream power from checkpoint `j` to sample `to`, made again (the same law from the
    /// same state).
    fn trace(&self, load: &[f64], j: usize, to: usize) -> Vec<f64> {
        let mut st = self.states[j];
        load[j * CHECKPOINT..to]
            .iter()
            .map(|&l| self.ctl.step_unlimited(&mut st, l).upstream_w)
            .collect()
    }
}

/// Runs per group when `k` are to be made: spread over the threads, up to [`LANES`] side by side.
fn group_size(k: usize) -> usize {
    k.div_ceil(rayon::current_num_threads().max(1))
        .clamp(1, LANES)
}

/// A run with its load and how far it is to go.
type Lane<'a, 'b> = (&'b mut Unlimited, &'a [f64], usize);

/// Extend each unlimited run to its target sample (or where it breaks), runs side by side, the
/// groups in parallel.
fn extend_all(reqs: &mut [Lane]) {
    reqs.par_chunks_mut(group_size(reqs.len()))
        .for_each(|part| loop {
            let mut live: Vec<Lane> = part
                .iter_mut()
                .filter(|(u, l, to)| u.broken.is_none() && u.len < (*to).min(l.len()))
                .map(|(u, l, to)| (&mut **u, *l, (*to).min(l.len())))
                .collect();
            if live.is_empty() {
                return;
            }
            // (every run stands at a checkpoint: they go together by whole intervals, as far as the
            // nearest target; a run in its last, partial interval goes alone)
            let rem = live.iter().map(|(u, _, to)| to - u.len).min().unwrap_or(0);
            let len = if rem >= CHECKPOINT {
                rem / CHECKPOINT * CHECKPOINT
            } else {
                let j = live
                    .iter()
                    .position(|(u, _, to)| to - u.len == rem)
                    .unwrap_or(0);
                live.swap(0, j);
                live.truncate(1);
                rem
            };
            let (mut runs, blocks): (Vec<&mut Unlimited>, Vec<&[f64]>) = live
                .into_iter()
                .map(|(u, l, _)| {
                    let from = u.len;
                    (u, &l[from..from + len])
                })
                .unzip();
            match runs.len() {
                4 => run_block::<4>(&mut runs, &blocks),
                3 => run_block::<3>(&mut runs, &blocks),
                2 => run_block::<2>(&mut runs, &blocks),
                _ => run_block::<1>(&mut runs, &blocks),
            }
        });
}

/// `N` runs over their next samples (`loads[j]` for run `j`, all of one length, every run at a
/// checkpoint), side by side, a checkpoint interval at a time; a run that stops standing for its
/// binade is cut back to the start of the interval where it did, and all stop there. Each run's
/// samples are the controller's law as [`crate::storage::run_storage`] applies it, recorded with
/// what the search needs: the running maximum of |request| and the first exact tie of its
/// rounding, the state and tally at each checkpoint, the upstream power tallied.
fn run_block<const N: usize>(runs: &mut [&mut Unlimited], loads: &[&[f64]]) {
    let ctl: [Controller; N] = std::array::from_fn(|j| runs[j].ctl);
    let mut st: [ControllerState; N] = std::array::from_fn(|j| runs[j].state);
    let half_ulp: [f64; N] = std::array::from_fn(|j| 0.5 * runs[j].ulp_j);
    let mut request_max: [f64; N] = std::array::from_fn(|j| runs[j].request_max_w);
    let mut tie: [Option<usize>; N] = std::array::from_fn(|j| runs[j].tie);
    let start: [usize; N] = std::array::from_fn(|j| runs[j].len);
    let len = loads.iter().map(|b| b.len()).min().unwrap_or(0);
    let mut g = [[0.0f64; CHECKPOINT]; N];
    let mut done = 0;
    while done < len {
        let end = (done + CHECKPOINT).min(len);
        let first: [ControllerState; N] = st;
        // (each lane written out, so that its state stays in registers)
        macro_rules! lane {
            ($j:expr, $k:expr) => {{
                let j = $j;
                let soc0 = st[j].soc_j;
                let out = ctl[j].step_unlimited(&mut st[j], loads[j][$k]);
                let soc1 = st[j].soc_j;
                let b = out.storage_w;
                // The addend of the update as the controller computed it, and the update's exact
                // rounding error: an exact tie is half a spacing. (Both states in one binade:
                // their difference is exact, and so is its sum with the addend, which then is the
                // update's rounding error.)
                let d = if b > 0.0 {
                    -(b * ctl[j].dt_s / ctl[j].eta_half)
                } else {
                    -b * ctl[j].dt_s * ctl[j].eta_half
                };
                let err = (soc0 - soc1) + d;
                if err.abs() == half_ulp[j] && tie[j].is_none() {
                    tie[j] = Some(start[j] + $k);
                }
                request_max[j] = request_max[j].max(out.request_w.abs());
                g[j][$k - done] = out.upstream_w;
            }};
        }
        for k in done..end {
            lane!(0, k);
            if N > 1 {
                lane!(1, k);
            }
            if N > 2 {
                lane!(2, k);
            }
            if N > 3 {
                lane!(3, k);
            }
        }
        let sound: [bool; N] =
            std::array::from_fn(|j| runs[j].sound_until(&first[j], &st[j], request_max[j]));
        if sound.iter().any(|s| !s) {
            // (all stop at this interval's start; the unsound ones for good)
            for j in 0..N {
                let u = &mut *runs[j];
                if !sound[j] {
                    u.broken = Some(u.len);
                }
            }
            break;
        }
        for j in 0..N {
            let u = &mut *runs[j];
            u.states.push(first[j]);
            u.snapshots.push(u.tally.snapshot());
            u.tally.push_block(&g[j][..end - done]);
            u.request_max.push(request_max[j]);
            u.request_max_w = request_max[j];
            u.state = st[j];
            u.len = start[j] + end;
            u.tie = tie[j];
        }
        done = end;
    }
}

/// A battery's own run, from the start or from an unlimited run's checkpoint, stopped as soon as
/// a rule is sure to fail.
struct Own {
    /// The battery it is for (its power and energy, bits).
    key: (u64, u64),
    ctl: Controller,
    st: ControllerState,
    /// Its state where it starts (to make its upstream power again, if ever needed).
    begin: ControllerState,
    tally: Tally,
    /// The unlimited run and checkpoint it starts from (the samples before are that run's).
    head: Option<(usize, usize)>,
    /// Its next sample.
    at: usize,
    soc_start_j: f64,
    /// Whether its state of charge stays well inside its bounds to the end (its steps then
    /// leave out those limits: [`Controller::step_within_charge`]).
    inside: bool,
    /// Sure to fail (the code applies and a ramp or the peak exceeds its limit).
    failed: bool,
}

impl Own {
    #[inline(always)]
    fn step(ctl: &Controller, inside: bool, st: &mut ControllerState, l: f64) -> f64 {
        if inside {
            ctl.step_within_charge(st, l).upstream_w
        } else {
            ctl.step(st, l).upstream_w
        }
    }

    /// Its upstream power from where it starts to `load`'s end, made again.
    fn trace(&self, load: &[f64]) -> Vec<f64> {
        let mut st = self.begin;
        let from = self.head.map_or(0, |(_, c)| c);
        load[from..]
            .iter()
            .map(|&l| Own::step(&self.ctl, self.inside, &mut st, l))
            .collect()
    }
}

fn key_of(s: &Storage) -> (u64, u64) {
    (s.power_w.to_bits(), s.energy_j.to_bits())
}

/// An own run with its load, its code and whether it may stop early (no turbines downstream).
type OwnLane<'a, 'b> = (&'b mut Own, &'a [f64], &'a GridCode, bool);

/// Step every own run to its load's end or until it is sure to fail, runs side by side, the
/// groups in parallel, a checkpoint interval at a time: the controllers, then each run's tally,
/// then whether it is sure to fail (the code applies and a ramp or the peak so far exceeds its
/// limit: the figures only grow).
fn run_owns(tasks: &mut [OwnLane]) {
    tasks
        .par_chunks_mut(group_size(tasks.len()))
        .for_each(|part| loop {
            let mut live: Vec<&mut OwnLane> = part
                .iter_mut()
                .filter(|(o, l, _, _)| !o.failed && o.at < l.len())
                .collect();
            if live.is_empty() {
                return;
            }
            let len = live
                .iter()
                .map(|(o, l, _, _)| l.len() - o.at)
                .min()
                .unwrap_or(0)
                .min(CHECKPOINT);
            match live.len() {
                4 => own_steps::<4>(&mut live, len),
                3 => own_steps::<3>(&mut live, len),
                2 => own_steps::<2>(&mut live, len),
                _ => own_steps::<1>(&mut live, len),
            }
        });
}

/// `N` own runs over their next `len` samples (at most an interval), side by side, then their
/// tallies and early stops.
fn own_steps<const N: usize>(live: &mut [&mut OwnLane], len: usize) {
    let ctl: [Controller; N] = std::array::from_fn(|j| live[j].0.ctl);
    let inside: [bool; N] = std::array::from_fn(|j| live[j].0.inside);
    let mut st: [ControllerState; N] = std::array::from_fn(|j| live[j].0.st);
    let at: [usize; N] = std::array::from_fn(|j| live[j].0.at);
    let loads: [&[f64]; N] = std::array::from_fn(|j| &live[j].1[at[j]..at[j] + len]);
    let mut g = [[0.0f64; CHECKPOINT]; N];
    #[allow(clippy::needless_range_loop)]
    for k in 0..len {
        macro_rules! lane {
            ($j:expr) => {{
                g[$j][k] = Own::step(&ctl[$j], inside[$j], &mut st[$j], loads[$j][k]);
            }};
        }
        lane!(0);
        if N > 1 {
            lane!(1);
        }
        if N > 2 {
            lane!(2);
        }
        if N > 3 {
            lane!(3);
        }
    }
    let over = |v: f64, lim: Option<f64>| lim.is_some_and(|l| !within(true, v, l));
    for j in 0..N {
        let (o, _, code, early) = &mut *live[j];
        o.st = st[j];
        o.tally.push_block(&g[j][..len]);
        o.at += len;
        if *early && o.tally.peak_w >= code.large_load_w {
            let (up, down) = o.tally.meter.ramps_w_per_s();
            if over(up, code.ramp_up_w_per_s)
                || over(down, code.ramp_down_w_per_s)
                || over(o.tally.peak_w, code.load_loss_w)
            {
                o.failed = true;
            }
        }
    }
}

/// What a probe waits on.
enum Poll {
    /// Its verdict and losses.
    Ready(bool, f64),
    /// Unlimited run `.0` extended to sample `.1`.
    Extend(usize, usize),
    /// Its own run ([`Search::own`]).
    Own,
}

/// The bisection's probes on one facility load.
struct Search<'a> {
    load: &'a Trace,
    code: &'a GridCode,
    /// The generators' base load and the export allowed, downstream of the battery.
    turbines: Option<(f64, f64)>,
    /// Samples in the code's metering window.
    m: usize,
    runs: Vec<Unlimited>,
    /// The own run of the probe under way, if it needs one.
    own: Option<Own>,
    /// Spare arrays, shared by the searches.
    pool: &'a Mutex<Vec<Buffers>>,
}

impl Drop for Search<'_> {
    fn drop(&mut self) {
        let runs = std::mem::take(&mut self.runs);
        if let Ok(mut p) = self.pool.lock() {
            p.extend(runs.into_iter().map(Unlimited::into_buffers));
        }
    }
}

impl<'a> Search<'a> {
    /// Probes on `load` (facility power before the battery) against `code`, the turbines (if
    /// any) downstream of the battery.
    fn new(
        load: &'a Trace,
        code: &'a GridCode,
        turbines: Option<(f64, f64)>,
        pool: &'a Mutex<Vec<Buffers>>,
    ) -> Search<'a> {
        Search {
            load,
            code,
            turbines,
            m: grid::window_samples(code, load.dt_s),
            runs: vec![],
            own: None,
            pool,
        }
    }

    /// Battery `s`'s verdict and losses, or what they wait on.
    fn poll(&mut self, s: &Storage) -> Poll {
        if let Some(o) = self.own.take() {
            if o.key == key_of(s) {
                let r = match (o.failed, o.at >= self.load.w.len()) {
                    (true, _) => (false, 0.0),
                    (false, true) => self.finish(&o),
                    (false, false) => {
                        self.own = Some(o);
                        return Poll::Own;
                    }
                };
                if let Ok(mut p) = self.pool.lock() {
                    p.push(Buffers {
                        extremes: o.tally.extremes,
                        ..Default::default()
                    });
                }
                return Poll::Ready(r.0, r.1);
            }
        }
        let load = &self.load.w;
        let n = load.len();
        let ctl = Controller::new(
            s,
            self.load.dt_s,
            self.code.ramp_up_w_per_s,
            self.code.ramp_down_w_per_s,
        );
        let start = ctl.start(s, load);
        let from = match self.shared_prefix(&ctl, &start) {
            Err((at, to)) => return Poll::Extend(at, to),
            Ok(Some((at, k))) if k == n => {
                let (p, l) = self.whole(at);
                return Poll::Ready(p, l);
            }
            Ok(from) => from,
        };
        self.own = Some(self.own_run(&ctl, s, start, from));
        Poll::Own
    }

    fn spare(&self) -> Buffers {
        self.pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default()
    }

    fn shared_prefix(
        &mut self,
        ctl: &Controller,
        start: &ControllerState,
    ) -> Result<Option<(usize, usize)>, (usize, usize)> {
        let load = &self.load.w;
        let n = load.len();
        let mid = ctl.soc_mid_j;
        // Only the law of `run_storage` with its middle where it starts and limits that bind.
        if n == 0
            || !ctl.active
            || start.soc_j.to_bits() != mid.to_bits()
            || ctl.power_w.is_nan()
            || ctl.power_w <= 0.0
            || !(ctl.soc_lo_j < mid && mid < ctl.soc_hi_j)
        {
            return Ok(None);
        }
        let Some((e, ulp)) = binade(mid) else {
            return Ok(None);
        };
        if e - 52 < f64::MIN_EXP {
            return Ok(None);
        }
        let at = match self.runs.iter().position(|u| u.e == e) {
            Some(i) => i,
            None => {
                let bufs = self.spare();
                let run = Unlimited::new(e, ctl, *start, n, self.m, self.code, bufs);
                self.runs.push(run);
                self.runs.len() - 1
            }
        };
        // The run stands for batteries whose law differs only in power, energy and middle.
        let same_law = |a: &Controller, b: &Controller| {
            [a.dt_s, a.eta_half, a.soc_tau_s, a.alpha, a.up_w, a.down_w]
                .iter()
                .zip([b.dt_s, b.eta_half, b.soc_tau_s, b.alpha, b.up_w, b.down_w])
                .all(|(x, y)| x.to_bits() == y.to_bits())
        };
        let u = &self.runs[at];
        let s0 = u.states.first().copied().unwrap_or(u.state);
        if !same_law(&u.ctl, ctl)
            || s0.ema_w.to_bits() != start.ema_w.to_bits()
            || s0.prev_w.to_bits() != start.prev_w.to_bits()
        {
            return Ok(None);
        }
        // The first sample whose request exceeds the power: run on until it is found.
        let p = ctl.power_w;
        let k = u.first_over(load, p);
        if k == u.len && u.len < n && u.broken.is_none() {
            return Err((at, u.len + CHUNK));
        }
        let mut k = k.min(u.len);
        if odd(mid) {
            if let Some(t) = u.tie {
                k = k.min(t);
            }
        }
        // Where it holds, this battery's state is the run's deviation about its own middle: it
        // must stay in the binade (with a margin for the unrounded sums) and within its bounds,
        // and its state-of-charge limits must not bind below its power.
        let margin = 2.0 * u.step_max_j(u.request_max_w) + 8.0 * ulp;
        let (dev_min, dev_max) = u.dev_range_j();
        let lo_soc = mid + dev_min - margin;
        let hi_soc = mid + dev_max + margin;
        let fits = lo_soc >= u.floor_j
            && hi_soc < 2.0 * u.floor_j
            && lo_soc > ctl.soc_lo_j
            && hi_soc < ctl.soc_hi_j
            && (lo_soc - ctl.soc_lo_j) * ctl.eta_half / ctl.dt_s * (1.0 - 1e-9) >= p
            && (ctl.soc_hi_j - hi_soc) / (ctl.eta_half * ctl.dt_s) * (1.0 - 1e-9) >= p;
        Ok((fits && k > 0).then_some((at, k)))
    }

    /// Give back the arrays of the unlimited runs of binades `gone` says no probe will need
    /// (not while an own run starts from one).
    fn release(&mut self, gone: impl Fn(i32) -> bool) {
        if self.own.is_some() {
            return;
        }
        let mut keep = vec![];
        let mut freed = vec![];
        for u in std::mem::take(&mut self.runs) {
            if gone(u.e) {
                freed.push(u.into_buffers());
            } else {
                keep.push(u);
            }
        }
        self.runs = keep;
        if let Ok(mut p) = self.pool.lock() {
            p.extend(freed);
        }
    }

    /// The verdict on an upstream trace tallied in `tally` (`trace()` makes the trace again).
    fn verdict(&self, tally: &Tally, trace: impl Fn() -> Vec<f64>) -> bool {
        let dt = self.load.dt_s;
        match self.turbines {
            Some(t) => {
                let up = Trace {
                    t0_s: self.load.t0_s,
                    dt_s: dt,
                    w: trace(),
                };
                grid::passes(&grid_of(&up, t), self.code)
            }
            None => tally.verdict(self.code, dt, self.m, trace),
        }
    }

    /// The verdict and losses of the unlimited run `at` over the whole load (it stands for every
    /// battery that never saturates).
    fn whole(&mut self, at: usize) -> (bool, f64) {
        if let Some(w) = self.runs[at].whole {
            return w;
        }
        let u = &self.runs[at];
        let losses_j = totals(&u.state, u.mid_j).losses_j;
        let load = &self.load.w;
        let passes = self.verdict(&u.tally, || u.trace(load, 0, load.len()));
        self.runs[at].whole = Some((passes, losses_j));
        (passes, losses_j)
    }

    /// Battery `ctl`'s own run, from the last checkpoint of unlimited run `from.0` before sample
    /// `from.1` when given (the samples before it are that run's), else from `start`.
    fn own_run(
        &mut self,
        ctl: &Controller,
        s: &Storage,
        start: ControllerState,
        from: Option<(usize, usize)>,
    ) -> Own {
        let load = &self.load.w;
        let n = load.len();
        let dt = self.load.dt_s;
        let m = self.m;
        let extremes = self.spare().extremes;
        let (head, st, tally) = match from {
            Some((at, k)) => {
                let u = &self.runs[at];
                let j = (k / CHECKPOINT).min(u.states.len() - 1);
                let c = j * CHECKPOINT;
                let snap = u.snapshots[j];
                // the running sums over the two windows before the checkpoint, made again from an
                // earlier checkpoint's
                let (window, _, _) = u.tally.meter.window();
                let j0 = c.saturating_sub(2 * window) / CHECKPOINT;
                let mut sums = Vec::with_capacity(c - j0 * CHECKPOINT + 1);
                let mut acc = u.snapshots[j0].sum;
                sums.push(acc);
                for x in u.trace(load, j0, c) {
                    acc += x;
                    sums.push(acc);
                }
                let mut tally = Tally::new(n, dt, m, self.code, extremes);
                tally.meter = RampMeter::resume(n, dt, m, (&sums, j0 * CHECKPOINT), c, snap.ramps);
                tally.peak_w = snap.peak_w;
                tally.first_w = u.tally.first_w;
                tally.dev_sum = snap.dev_sum;
                tally.dev_sq_sum = snap.dev_sq_sum;
                tally.sum_abs_max = snap.sum_abs_max;
                tally.extremes.extend_from_slice(&u.tally.extremes[..j]);
                tally.len = c;
                let mut st = u.states[j];
                // the same deviation about this battery's middle (exact: both in the binade)
                st.soc_j = ctl.soc_mid_j + (st.soc_j - u.mid_j);
                (Some((at, c)), st, tally)
            }
            None => (None, start, Tally::new(n, dt, m, self.code, extremes)),
        };
        let at = head.map_or(0, |(_, c)| c);
        Own {
            key: key_of(s),
            ctl: *ctl,
            st,
            begin: st,
            tally,
            head,
            at,
            soc_start_j: start.soc_j,
            inside: ctl.charge_stays_inside(st.soc_j, n - at),
            failed: false,
        }
    }

    /// The verdict and losses of an own run that reached the load's end.
    fn finish(&self, o: &Own) -> (bool, f64) {
        let losses_j = totals(&o.st, o.soc_start_j).losses_j;
        let load = &self.load.w;
        let passes = self.verdict(&o.tally, || {
            let mut g = match o.head {
                Some((at, c)) => self.runs[at].trace(load, 0, c),
                None => vec![],
            };
            g.extend(o.trace(load));
            g
        });
        (passes, losses_j)
    }
}

/// The smallest passing battery of each load by the bisection of [`super::solve`] (between 0 and
/// `hi0`, the battery of power `p` being `battery(p)`): its power and round-trip losses, if any.
/// The searches advance together: each decides its probes alone as far as it can (in parallel),
/// and the runs they wait on are made side by side, the groups in parallel; each search's
/// probes and verdicts are its own, whatever the others or the thread count.
pub fn smallest_batteries(
    loads: &[(&Trace, Option<(f64, f64)>)],
    code: &GridCode,
    hi0: f64,
    battery: &(dyn Fn(f64) -> Storage + Sync),
) -> Vec<Option<(f64, f64)>> {
    let pool = Mutex::new(Vec::<Buffers>::new());
    let mut results = vec![None; loads.len()];
    let mut next = 0;
    let mut active: Vec<(usize, Search, Bisection<f64>)> = vec![];
    loop {
        while active.len() < WAVE && next < loads.len() {
            let (l, t) = loads[next];
            active.push((next, Search::new(l, code, t, &pool), Bisection::new(hi0)));
            next += 1;
        }
        if active.is_empty() {
            break;
        }
        // every search on as far as it can go alone
        let needs: Vec<Option<Poll>> = active
            .par_iter_mut()
            .map(|(_, search, b)| {
                while let Some(p) = b.probe() {
                    match search.poll(&battery(p)) {
                        Poll::Ready(passes, losses_j) => b.record(passes.then_some(losses_j)),
                        need => return Some(need),
                    }
                }
                None
            })
            .collect();
        let mut extend: Vec<Lane> = vec![];
        let mut owns: Vec<OwnLane> = vec![];
        for ((i, search, b), need) in active.iter_mut().zip(&needs) {
            let load: &[f64] = &search.load.w;
            let early = search.turbines.is_none();
            match need {
                Some(Poll::Extend(at, to)) => extend.push((&mut search.runs[*at], load, *to)),
                Some(Poll::Own) => {
                    if let Some(o) = search.own.as_mut() {
                        owns.push((o, load, search.code, early));
                    }
                }
                _ => results[*i] = b.result(),
            }
        }
        extend_all(&mut extend);
        run_owns(&mut owns);
        // (a run whose binade no probe to come can fall in gives its arrays back)
        for (_, search, b) in active.iter_mut() {
            let Some((lo, hi)) = b.bracket() else {
                continue;
            };
            let mid_of = |p: f64| {
                let s = battery(p);
                Controller::new(&s, search.load.dt_s, None, None).soc_mid_j
            };
            let e_lo = binade(mid_of(lo)).map_or(i32::MIN, |b| b.0);
            let Some((e_hi, _)) = binade(mid_of(hi)) else {
                continue;
            };
            search.release(|e| e < e_lo || e > e_hi);
        }
        // (the searches done give their arrays back)
        let mut k = 0;
        active.retain(|_| {
            k += 1;
            needs[k - 1].is_some()
        });
    }
    results
}

/// The grid import of an upstream trace less the generators' base load, export beyond the
/// allowed curtailed (as the analysis takes it).
pub fn grid_of(up: &Trace, (committed_w, export_w): (f64, f64)) -> Trace {
    crate::supply::base_load_import(up, committed_w, export_w).0
}
