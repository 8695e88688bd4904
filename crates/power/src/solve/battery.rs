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
use crate::storage::{totals, Controller, ControllerState, Storage, Turbines};
use crate::trace::Trace;
use rayon::prelude::*;
use std::sync::Mutex;

/// Samples between checkpoints of an unlimited run: a battery's own run restarts from the last
/// one before it saturates.
const CHECKPOINT: usize = 128;

/// Samples an unlimited run is extended by at a time.
const CHUNK: usize = 16384;

/// Runs made side by side.
const LANES: usize = 4;

/// Searches under way at once (their runs' memory is held until they end).
const WAVE: usize = 4;

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

/// The grid figures of an unlimited run before a checkpoint: the largest windowed rise and fall
/// (those that could matter: see [`Unlimited::quiet`]), the peak, and the running sum of the
/// upstream power (the dynamic range and band share are decided on the whole trace).
#[derive(Clone, Copy, Debug)]
struct Figures {
    ramps: (f64, f64),
    peak_w: f64,
    sum: f64,
}

/// The arrays of an unlimited run, kept for the next run of the same searches.
#[derive(Default)]
struct Buffers {
    g: Vec<f64>,
    states: Vec<ControllerState>,
    request_max: Vec<f64>,
    figures: Vec<Figures>,
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
    /// Upstream power per sample.
    g: Vec<f64>,
    /// The controller's state before each checkpoint, and the running maximum of |request| up
    /// to the end of each checkpoint interval.
    states: Vec<ControllerState>,
    request_max: Vec<f64>,
    request_max_w: f64,
    /// First sample whose update of the state of charge was an exact tie.
    tie: Option<usize>,
    /// First sample the run does not stand for any battery (its own state left the binade, or a
    /// value is not a number).
    broken: Option<usize>,
    /// Its grid figures, measured on demand: before each checkpoint, and after `measured`
    /// samples (the meter).
    figures: Vec<Figures>,
    meter: RampMeter,
    peak_w: f64,
    measured: usize,
    /// The smallest of the code's ramp limits (infinite without one), W/s, and the largest
    /// |running sum| so far.
    ramp_floor_w_per_s: f64,
    sum_abs_max: f64,
    /// Largest and smallest upstream power of each checkpoint interval run so far.
    extremes: Vec<(f64, f64)>,
    /// Its verdict and losses over the whole load, once asked.
    whole: Option<(bool, f64)>,
}

impl Unlimited {
    fn new(
        e: i32,
        like: &Controller,
        start: ControllerState,
        (n, m): (usize, usize),
        ramp_floor_w_per_s: f64,
        mut bufs: Buffers,
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
        bufs.g.clear();
        // (the whole run's worth at once: extended a chunk at a time, it would grow by doubling)
        bufs.g.reserve_exact(n);
        bufs.states.clear();
        bufs.request_max.clear();
        bufs.figures.clear();
        bufs.extremes.clear();
        Unlimited {
            e,
            floor_j,
            ulp_j: 2f64.powi(e - 52),
            mid_j,
            ctl,
            state,
            len: 0,
            g: bufs.g,
            states: bufs.states,
            request_max: bufs.request_max,
            request_max_w: 0.0,
            tie: None,
            broken: None,
            figures: bufs.figures,
            meter: RampMeter::new(n, like.dt_s, m),
            peak_w: 0.0,
            measured: 0,
            ramp_floor_w_per_s,
            sum_abs_max: 0.0,
            extremes: bufs.extremes,
            whole: None,
        }
    }

    fn into_buffers(self) -> Buffers {
        Buffers {
            g: self.g,
            states: self.states,
            request_max: self.request_max,
            figures: self.figures,
            extremes: self.extremes,
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

    /// Measure the grid figures on to sample `to` (at most the samples run), as [`RampMeter`]
    /// measures them, an interval at a time: the ramps of an interval whose samples bound them
    /// below the code's limits are left out ([`Unlimited::quiet`]), so the running ramps are what
    /// a verdict needs, not the meter's figures.
    fn measure(&mut self, to: usize) {
        let to = to.min(self.len);
        while self.measured < to {
            let i = self.measured;
            let end = ((i / CHECKPOINT + 1) * CHECKPOINT).min(to);
            if i % CHECKPOINT == 0 {
                self.figures.push(Figures {
                    ramps: self.meter.ramps_w_per_s(),
                    peak_w: self.peak_w,
                    sum: self.meter.sum(),
                });
            }
            let block = &self.g[i..end];
            self.peak_w = self.peak_w.max(max4(block));
            if self.quiet(i / CHECKPOINT) {
                for &x in block {
                    self.meter.push_sum(x);
                }
            } else {
                for &x in block {
                    self.meter.push(x);
                }
            }
            self.sum_abs_max = self.sum_abs_max.max(self.meter.sum().abs());
            self.measured = end;
        }
    }

    /// Whether every windowed ramp ending in checkpoint interval `b` is surely below the code's
    /// ramp limits: the difference of two window means is at most the range of the samples under
    /// them, and the running sums' rounding moves a ramp by at most `8 eps max|running sum| /
    /// window` (the largest running sum so far, or the interval's whole samples' worth more).
    fn quiet(&self, b: usize) -> bool {
        let (m, win, _) = self.meter.window();
        let first = (b * CHECKPOINT + 1).saturating_sub(2 * m) / CHECKPOINT;
        let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
        for &(h, l) in &self.extremes[first.min(b)..=b.min(self.extremes.len() - 1)] {
            hi = hi.max(h);
            lo = lo.min(l);
        }
        let to = ((b + 1) * CHECKPOINT).min(self.len);
        let sums = self.sum_abs_max + (to - b * CHECKPOINT) as f64 * hi.abs().max(lo.abs());
        let err = 8.0 * f64::EPSILON * sums / win;
        let bound = (hi - lo) / win * (1.0 + 1e-9) + err;
        bound.is_finite() && bound < self.ramp_floor_w_per_s * (1.0 - 1e-6)
    }
}

/// A run with its load and how far it is to go.
type Lane<'a, 'b> = (&'b mut Unlimited, &'a [f64], usize);

/// Extend each unlimited run to its target sample (or where it breaks), four runs side by side,
/// the groups of four in parallel.
fn extend_all(reqs: &mut [Lane]) {
    reqs.par_chunks_mut(LANES).for_each(|part| loop {
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

/// `N` runs over their next samples (`blocks[j]` for run `j`, all of one length; every run at a
/// checkpoint, or one run alone), side by side, a checkpoint interval at a time; a run that
/// stops standing for its binade is cut back to the start of the interval where it did, and all
/// stop there. Each run's samples are the controller's law as [`crate::storage::run_storage`]
/// applies it, recorded with what the search needs: upstream power, the running maximum of
/// |request| and the extremes of the upstream power by interval, and the first exact tie of its
/// rounding.
fn run_block<const N: usize>(runs: &mut [&mut Unlimited], blocks: &[&[f64]]) {
    let ctl: [Controller; N] = std::array::from_fn(|j| runs[j].ctl);
    let mut st: [ControllerState; N] = std::array::from_fn(|j| runs[j].state);
    let half_ulp: [f64; N] = std::array::from_fn(|j| 0.5 * runs[j].ulp_j);
    let mut request_max: [f64; N] = std::array::from_fn(|j| runs[j].request_max_w);
    let mut tie: [Option<usize>; N] = std::array::from_fn(|j| runs[j].tie);
    let start: [usize; N] = std::array::from_fn(|j| runs[j].len);
    let len = blocks.iter().map(|b| b.len()).min().unwrap_or(0);
    let mut g: [Vec<f64>; N] = std::array::from_fn(|j| {
        let mut g = std::mem::take(&mut runs[j].g);
        g.resize(start[j] + len, 0.0);
        g
    });
    let mut done = 0;
    let mut sound = [true; N];
    while done < len {
        let at = start[0] + done;
        let end = ((at / CHECKPOINT + 1) * CHECKPOINT - start[0]).min(len);
        let first: [ControllerState; N] = st;
        for j in 0..N {
            if (start[j] + done) % CHECKPOINT == 0 {
                runs[j].states.push(st[j]);
            }
        }
        // (each lane written out, so that its state stays in registers)
        macro_rules! lane {
            ($j:expr, $k:expr) => {{
                let j = $j;
                let soc0 = st[j].soc_j;
                let out = ctl[j].step_unlimited(&mut st[j], blocks[j][$k]);
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
                g[j][start[j] + $k] = out.upstream_w;
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
        for j in 0..N {
            sound[j] = runs[j].sound_until(&first[j], &st[j], request_max[j]);
        }
        if sound.iter().any(|s| !s) {
            // (cut back to this interval's start)
            for j in 0..N {
                let k = start[j] + done;
                g[j].truncate(k);
                let u = &mut *runs[j];
                u.states.truncate(k.div_ceil(CHECKPOINT));
                u.state = first[j];
                if !sound[j] {
                    u.broken = Some(k);
                }
            }
            break;
        }
        for j in 0..N {
            let u = &mut *runs[j];
            let ib = &g[j][start[j] + done..start[j] + end];
            u.request_max.push(request_max[j]);
            u.extremes.push((max4(ib), min4(ib)));
            u.request_max_w = request_max[j];
            u.state = st[j];
            u.len = start[j] + end;
        }
        done = end;
    }
    for (j, gj) in g.into_iter().enumerate() {
        let u = &mut *runs[j];
        u.g = gj;
        u.g.truncate(u.len);
        u.tie = tie[j].filter(|&t| t < u.len);
    }
}

/// A battery's own run, from the start or from an unlimited run's checkpoint, stopped as soon as
/// a rule is sure to fail.
struct Own {
    /// The battery it is for (its power and energy, bits).
    key: (u64, u64),
    ctl: Controller,
    st: ControllerState,
    meter: RampMeter,
    peak_w: f64,
    /// The unlimited run and checkpoint it starts from (the samples before are that run's).
    head: Option<(usize, usize)>,
    /// Its next sample, and its upstream power from its start.
    at: usize,
    tail: Vec<f64>,
    soc_start_j: f64,
    /// Sure to fail (the code applies and a ramp or the peak exceeds its limit).
    failed: bool,
}

fn key_of(s: &Storage) -> (u64, u64) {
    (s.power_w.to_bits(), s.energy_j.to_bits())
}

/// An own run with its load, its code and whether it may stop early (no turbines downstream).
type OwnLane<'a, 'b> = (&'b mut Own, &'a [f64], &'a GridCode, bool);

/// Step every own run to its load's end or until it is sure to fail, four runs side by side,
/// the groups of four in parallel, a checkpoint interval at a time: the controllers, then each
/// run's figures over the interval (the ramps left out where the interval's samples bound them
/// below the code's limits, as [`Unlimited::measure`] does), then whether it is sure to fail.
fn run_owns(tasks: &mut [OwnLane]) {
    tasks.par_chunks_mut(LANES).for_each(|part| loop {
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
        for t in live.iter_mut() {
            own_figures(t, len);
        }
    });
}

/// `N` own runs' controllers over their next `len` samples, side by side (the upstream power
/// onto their tails).
fn own_steps<const N: usize>(live: &mut [&mut OwnLane], len: usize) {
    let ctl: [Controller; N] = std::array::from_fn(|j| live[j].0.ctl);
    let mut st: [ControllerState; N] = std::array::from_fn(|j| live[j].0.st);
    let at: [usize; N] = std::array::from_fn(|j| live[j].0.at);
    let loads: [&[f64]; N] = std::array::from_fn(|j| &live[j].1[at[j]..at[j] + len]);
    let mut tails: [Vec<f64>; N] = std::array::from_fn(|j| std::mem::take(&mut live[j].0.tail));
    #[allow(clippy::needless_range_loop)]
    for k in 0..len {
        macro_rules! lane {
            ($j:expr) => {{
                let g = ctl[$j].step(&mut st[$j], loads[$j][k]).upstream_w;
                tails[$j].push(g);
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
    for (j, tail) in tails.into_iter().enumerate() {
        live[j].0.st = st[j];
        live[j].0.tail = tail;
    }
}

/// An own run's figures over the last `len` samples of its tail, and whether it is now sure to
/// fail (the code applies and a ramp or the peak so far exceeds its limit: the figures only
/// grow).
fn own_figures(t: &mut OwnLane, len: usize) {
    let (o, _, code, early) = t;
    let from = o.tail.len() - len;
    let chunk = &o.tail[from..];
    o.peak_w = o.peak_w.max(max4(chunk));
    let (m, win, _) = o.meter.window();
    let floor = [code.ramp_up_w_per_s, code.ramp_down_w_per_s]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
    // (the windows ending in the interval lie within the tail)
    let quiet = (from + 1 >= 2 * m) && {
        let span = &o.tail[from + 1 - 2 * m..];
        let (hi, lo) = (max4(span), min4(span));
        let sums = o.meter.sum().abs() + span.len() as f64 * hi.abs().max(lo.abs());
        let err = 8.0 * f64::EPSILON * sums / win;
        let bound = (hi - lo) / win * (1.0 + 1e-9) + err;
        bound.is_finite() && bound < floor * (1.0 - 1e-6)
    };
    if quiet {
        for &x in chunk {
            o.meter.push_sum(x);
        }
    } else {
        for &x in chunk {
            o.meter.push(x);
        }
    }
    o.at += len;
    let over = |v: f64, lim: Option<f64>| lim.is_some_and(|l| !within(true, v, l));
    if *early && o.peak_w >= code.large_load_w {
        let (up, down) = o.meter.ramps_w_per_s();
        if over(up, code.ramp_up_w_per_s)
            || over(down, code.ramp_down_w_per_s)
            || over(o.peak_w, code.load_loss_w)
        {
            o.failed = true;
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
    turbines: Option<Turbines>,
    /// Samples in the code's metering window.
    m: usize,
    runs: Vec<Unlimited>,
    /// The own run of the probe under way, if it needs one.
    own: Option<Own>,
    /// Spare arrays, shared by the searches.
    pool: &'a Mutex<Vec<Buffers>>,
    /// Scratch for a probe's upstream trace.
    spare: Vec<f64>,
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
        turbines: Option<Turbines>,
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
            spare: vec![],
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
                self.spare = o.tail;
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
        self.own = Some(self.own_run(&ctl, s, start.soc_j, from));
        Poll::Own
    }

    /// The unlimited run battery `ctl` provably follows for its first `k` samples (`Some((at,
    /// k))`: `k` samples into the run at index `at`), `None` when none can be used, or the
    /// extension of a run it needs first (`Err((at, to))`).
    #[allow(clippy::type_complexity)]
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
                let floor = [self.code.ramp_up_w_per_s, self.code.ramp_down_w_per_s]
                    .into_iter()
                    .flatten()
                    .fold(f64::INFINITY, f64::min);
                let bufs = self
                    .pool
                    .lock()
                    .ok()
                    .and_then(|mut p| p.pop())
                    .unwrap_or_default();
                let run = Unlimited::new(e, ctl, *start, (n, self.m), floor, bufs);
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
        let busy = self.own.as_ref().and_then(|o| o.head.map(|(at, _)| at));
        if busy.is_some() {
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

    /// The verdict and losses of the unlimited run `at` over the whole load (it stands for every
    /// battery that never saturates).
    fn whole(&mut self, at: usize) -> (bool, f64) {
        if let Some(w) = self.runs[at].whole {
            return w;
        }
        let n = self.load.w.len();
        self.runs[at].measure(n);
        let u = &self.runs[at];
        let losses_j = totals(&u.state, u.mid_j).losses_j;
        let passes = self.verdict(&u.g, u.peak_w, u.meter.ramps_w_per_s());
        self.runs[at].whole = Some((passes, losses_j));
        (passes, losses_j)
    }

    /// The verdict on upstream trace `g` with its peak and ramps already measured.
    fn verdict(&self, g: &[f64], peak_w: f64, ramps: (f64, f64)) -> bool {
        let dt = self.load.dt_s;
        match self.turbines {
            Some(t) => {
                let up = Trace {
                    t0_s: self.load.t0_s,
                    dt_s: dt,
                    w: g.to_vec(),
                };
                grid::passes(&grid_of(&up, &t), self.code)
            }
            None => all_pass(
                self.code,
                peak_w,
                ramps,
                |limit| range_within(g, self.m, limit),
                |limit| band_within(g, dt, self.code, limit),
            ),
        }
    }

    /// Battery `ctl`'s own run, from the last checkpoint of unlimited run `from.0` before sample
    /// `from.1` when given (the samples before it are that run's), else from the start.
    fn own_run(
        &mut self,
        ctl: &Controller,
        s: &Storage,
        soc_start_j: f64,
        from: Option<(usize, usize)>,
    ) -> Own {
        let n = self.load.w.len();
        let dt = self.load.dt_s;
        let m = self.m;
        let mut tail = std::mem::take(&mut self.spare);
        tail.clear();
        tail.reserve_exact(n);
        let (head, st, meter, peak_w) = match from {
            Some((at, k)) => {
                let u = &mut self.runs[at];
                let j = (k / CHECKPOINT).min(u.states.len() - 1);
                let c = j * CHECKPOINT;
                // the figures up to the checkpoint, and the running sums over the two windows
                // before it (from an earlier checkpoint's)
                u.measure(c + 1);
                let (window, _, _) = u.meter.window();
                let j0 = c.saturating_sub(2 * window) / CHECKPOINT;
                let mut sums = Vec::with_capacity(c - j0 * CHECKPOINT + 1);
                let mut acc = u.figures[j0].sum;
                sums.push(acc);
                for &x in &u.g[j0 * CHECKPOINT..c] {
                    acc += x;
                    sums.push(acc);
                }
                let (cs, f) = (u.states[j], u.figures[j]);
                let mut st = cs;
                // the same deviation about this battery's middle (exact: both in the binade)
                st.soc_j = ctl.soc_mid_j + (cs.soc_j - u.mid_j);
                (
                    Some((at, c)),
                    st,
                    RampMeter::resume(n, dt, m, (&sums, j0 * CHECKPOINT), c, f.ramps),
                    f.peak_w,
                )
            }
            None => (
                None,
                ctl.start(s, &self.load.w),
                RampMeter::new(n, dt, m),
                0.0,
            ),
        };
        Own {
            key: key_of(s),
            ctl: *ctl,
            st,
            meter,
            peak_w,
            at: head.map_or(0, |(_, c)| c),
            head,
            tail,
            soc_start_j,
            failed: false,
        }
    }

    /// The verdict and losses of an own run that reached the load's end.
    fn finish(&mut self, o: &Own) -> (bool, f64) {
        let losses_j = totals(&o.st, o.soc_start_j).losses_j;
        let head: &[f64] = match o.head {
            Some((at, c)) => &self.runs[at].g[..c],
            None => &[],
        };
        let mut g = Vec::with_capacity(head.len() + o.tail.len());
        g.extend_from_slice(head);
        g.extend_from_slice(&o.tail);
        let passes = self.verdict(&g, o.peak_w, o.meter.ramps_w_per_s());
        (passes, losses_j)
    }
}

/// The smallest passing battery of each load by the bisection of [`super::solve`] (between 0 and
/// `hi0`, the battery of power `p` being `battery(p)`): its power and round-trip losses, if any.
/// The searches advance together, a few at a time: each decides its probes alone as far as it
/// can (in parallel), and the runs they wait on are made four at a time side by side, the groups
/// in parallel; each search's probes and verdicts are its own, whatever the others or the thread
/// count.
pub fn smallest_batteries(
    loads: &[(&Trace, Option<Turbines>)],
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
            let (Some((e_lo, _)), Some((e_hi, _))) = (
                binade(mid_of(lo)).or(Some((i32::MIN, 0.0))),
                binade(mid_of(hi)),
            ) else {
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

/// The grid import of an upstream trace less the turbines' output (as the analysis takes it).
pub fn grid_of(up: &Trace, t: &Turbines) -> Trace {
    let out = crate::storage::dispatch_turbines(up, t);
    let mut g = up.clone();
    for (x, o) in g.w.iter_mut().zip(&out.w) {
        *x -= o;
    }
    g
}
