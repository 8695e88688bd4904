//! Whether a site battery of a given power makes a load pass, bit for bit as the full analysis
//! decides it ([`crate::storage::run_storage`], then [`crate::grid::metrics`] and
//! [`crate::grid::check`]), for the many sizes a bisection tries on one load.
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
//! The bisection halves the power from its top, so its first probes fall in successive binades:
//! the unlimited runs of four binades are made side by side (independent chains of dependent
//! samples, which interleaved keep the processor busy).

use crate::grid::{
    self, all_pass, band_within, range_within, window_ramp, within, GridCode, RampMeter,
};
use crate::storage::{totals, Controller, ControllerState, Storage, Turbines};
use crate::trace::Trace;

/// Samples between checkpoints of an unlimited run: a battery's own run restarts from the last
/// one before it saturates.
const CHECKPOINT: usize = 128;

/// Samples an unlimited run is extended by at a time.
const CHUNK: usize = 16384;

/// Binades whose unlimited runs are made side by side.
const LANES: usize = 4;

/// The binade `[2^e, 2^(e+1))` of a positive normal `x`: `e`, and the spacing of its doubles.
fn binade(x: f64) -> Option<(i32, f64)> {
    if !(x.is_finite() && x >= f64::MIN_POSITIVE) {
        return None;
    }
    let e = ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023;
    Some((e, 2f64.powi(e - 52)))
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

/// Whether a double's significand is odd.
fn odd(x: f64) -> bool {
    x.to_bits() & 1 == 1
}

/// The grid figures of an unlimited run up to a checkpoint (the dynamic range is decided on the
/// whole trace).
#[derive(Clone, Copy, Debug)]
struct Figures {
    ramps: (f64, f64),
    peak_w: f64,
}

/// The unlimited run of the controller for middles in one binade.
struct Unlimited {
    e: i32,
    /// The runs made side by side share a group number.
    group: usize,
    /// The binade's start and the spacing of its doubles.
    floor_j: f64,
    ulp_j: f64,
    /// The middle the run holds its state of charge around (even significand, mid-binade).
    mid_j: f64,
    ctl: Controller,
    state: ControllerState,
    /// Samples run so far.
    len: usize,
    /// Upstream power and running maximum of |request| per sample.
    g: Vec<f64>,
    max_request: Vec<f64>,
    /// The controller's state before each `CHECKPOINT`-th sample.
    states: Vec<ControllerState>,
    /// The largest |request| so far, W.
    request_max_w: f64,
    /// First sample whose update of the state of charge was an exact tie.
    tie: Option<usize>,
    /// First sample the run does not stand for any battery (its own state left the binade, or a
    /// value is not a number).
    broken: Option<usize>,
    /// Its grid figures, measured on demand: running sums of the upstream power (`measured + 1`),
    /// the figures before each checkpoint, and the figures after `measured` samples.
    prefix: Vec<f64>,
    figures: Vec<Figures>,
    /// The metering window (samples, seconds) and whether the ramps are measured at all.
    window: (usize, f64, bool),
    /// The smallest of the code's ramp limits (infinite without one), W/s, and the largest
    /// |running sum| measured so far, J/s.
    ramp_floor_w_per_s: f64,
    prefix_abs_max: f64,
    /// Per checkpoint interval: up to which sample, and the largest and smallest upstream power.
    extremes: Vec<(usize, f64, f64)>,
    ramps: (f64, f64),
    peak_w: f64,
    measured: usize,
    /// Its verdict and losses over the whole load, once asked.
    whole: Option<(bool, f64)>,
}

impl Unlimited {
    #[allow(clippy::too_many_arguments)]
    fn new(
        e: i32,
        group: usize,
        like: &Controller,
        start: ControllerState,
        n: usize,
        m: usize,
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
        bufs.clear();
        bufs.prefix.push(0.0);
        Unlimited {
            e,
            group,
            floor_j,
            ulp_j: 2f64.powi(e - 52),
            mid_j,
            ctl,
            state,
            len: 0,
            g: bufs.g,
            max_request: bufs.max_request,
            states: bufs.states,
            request_max_w: 0.0,
            tie: None,
            broken: None,
            prefix: bufs.prefix,
            figures: bufs.figures,
            window: RampMeter::new(n, like.dt_s, m).window(),
            ramp_floor_w_per_s,
            prefix_abs_max: 0.0,
            extremes: bufs.extremes,
            ramps: (0.0, 0.0),
            peak_w: 0.0,
            measured: 0,
            whole: None,
        }
    }

    /// The largest change of the state of charge in one sample so far: the request (met in
    /// full) over a sample, through the efficiency (with a margin for rounding), J.
    fn step_max_j(&self) -> f64 {
        self.request_max_w * self.ctl.dt_s / self.ctl.eta_half * (1.0 + 1e-9)
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
        let wander = CHECKPOINT as f64 * self.step_max_j();
        (lo - wander, hi + wander)
    }

    /// Whether the samples so far, ending in `state`, stand for the binade: every state of charge
    /// within it (a checkpoint's worth of the largest step around the last checkpoint's and
    /// `state`'s, with a margin for the unrounded sums) and every value a finite number (a value
    /// that is not one stays in the state).
    fn sound_until(&self, state: &ControllerState, request_max_w: f64) -> bool {
        let last = self.states.last().map_or(state.soc_j, |s| s.soc_j);
        let step = request_max_w * self.ctl.dt_s / self.ctl.eta_half * (1.0 + 1e-9);
        let reach = (CHECKPOINT as f64 + 1.0) * step + 2.0 * self.ulp_j;
        let (lo, hi) = (last.min(state.soc_j), last.max(state.soc_j));
        [state.ema_w, state.soc_j, state.prev_w, request_max_w]
            .iter()
            .all(|x| x.is_finite())
            && lo - reach >= self.floor_j
            && hi + reach < 2.0 * self.floor_j
    }

    /// Measure the grid figures on to sample `to` (at most the samples run): the running sums
    /// and, from them, the windowed ramps as [`RampMeter`] measures them.
    fn measure(&mut self, to: usize) {
        let to = to.min(self.len);
        if to <= self.measured {
            return;
        }
        let (m, win, on) = self.window;
        let mut acc = self.prefix[self.measured];
        let mut big = self.prefix_abs_max;
        for &g in &self.g[self.measured..to] {
            acc += g;
            self.prefix.push(acc);
            big = big.max(acc.abs());
        }
        self.prefix_abs_max = big;
        let (mut up, mut down) = self.ramps;
        let mut peak = self.peak_w;
        let mut i = self.measured;
        while i < to {
            let end = ((i / CHECKPOINT + 1) * CHECKPOINT).min(to);
            if i % CHECKPOINT == 0 {
                self.figures.push(Figures {
                    ramps: (up, down),
                    peak_w: peak,
                });
            }
            peak = peak.max(max4(&self.g[i..end]));
            if on && !self.quiet(i / CHECKPOINT) {
                let p = &self.prefix;
                let from = i.max((2 * m).saturating_sub(1));
                // (four running extremes, so that the comparisons need not wait on one another)
                let (mut u4, mut d4) = ([up; 4], [down; 4]);
                for k in from..end {
                    let r = window_ramp(p[k + 1], p[k + 1 - m], p[k + 1 - 2 * m], m, win);
                    u4[k % 4] = u4[k % 4].max(r);
                    d4[k % 4] = d4[k % 4].max(-r);
                }
                up = max4(&u4);
                down = max4(&d4);
            }
            i = end;
        }
        self.ramps = (up, down);
        self.peak_w = peak;
        self.measured = to;
    }

    /// Whether every windowed ramp ending in checkpoint interval `b` is surely below the code's
    /// ramp limits, so that it need not be measured (the running ramps are then what the verdict
    /// needs, not the meter's exact figures): the difference of two window means is at most the
    /// range of the samples under them, and the running sums' rounding moves a ramp by at most
    /// `8 eps max|running sum| / window`.
    fn quiet(&mut self, b: usize) -> bool {
        let (m, win, _) = self.window;
        // the samples under the windows ending in interval b, by whole intervals
        let first = (b * CHECKPOINT + 1).saturating_sub(2 * m) / CHECKPOINT;
        let (mut hi, mut lo) = (f64::NEG_INFINITY, f64::INFINITY);
        for j in first..=b {
            let (h, l) = self.block_extremes(j);
            hi = hi.max(h);
            lo = lo.min(l);
        }
        let err = 8.0 * f64::EPSILON * self.prefix_abs_max / win;
        let bound = (hi - lo) / win * (1.0 + 1e-9) + err;
        bound.is_finite() && bound < self.ramp_floor_w_per_s * (1.0 - 1e-6)
    }

    /// The largest and smallest upstream power in checkpoint interval `j` (as far as run).
    fn block_extremes(&mut self, j: usize) -> (f64, f64) {
        let from = j * CHECKPOINT;
        let to = ((j + 1) * CHECKPOINT).min(self.len);
        if let Some(&(k, h, l)) = self.extremes.get(j) {
            if k == to {
                return (h, l);
            }
        }
        let span = self.g.get(from..to).unwrap_or(&[]);
        // four running extremes, so that the comparisons need not wait on one another
        let (mut h, mut l) = ([f64::NEG_INFINITY; 4], [f64::INFINITY; 4]);
        let mut chunks = span.chunks_exact(4);
        for c in &mut chunks {
            for q in 0..4 {
                h[q] = h[q].max(c[q]);
                l[q] = l[q].min(c[q]);
            }
        }
        for &x in chunks.remainder() {
            h[0] = h[0].max(x);
            l[0] = l[0].min(x);
        }
        let hi = h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = l.iter().copied().fold(f64::INFINITY, f64::min);
        if self.extremes.len() <= j {
            self.extremes.resize(j + 1, (usize::MAX, 0.0, 0.0));
        }
        self.extremes[j] = (to, hi, lo);
        (hi, lo)
    }

    fn into_buffers(self) -> Buffers {
        Buffers {
            g: self.g,
            max_request: self.max_request,
            states: self.states,
            prefix: self.prefix,
            figures: self.figures,
            extremes: self.extremes,
        }
    }
}

/// Run `runs` on side by side to sample `to` (or where each breaks).
fn extend(runs: &mut [Unlimited], load: &[f64], to: usize) {
    let to = to.min(load.len());
    loop {
        let mut live: Vec<&mut Unlimited> = runs
            .iter_mut()
            .filter(|u| u.broken.is_none() && u.len < to)
            .collect();
        let Some(from) = live.iter().map(|u| u.len).min() else {
            return;
        };
        // the runs furthest behind, up to where the next one is (the others wait)
        let upto = live
            .iter()
            .map(|u| u.len)
            .filter(|&l| l > from)
            .min()
            .unwrap_or(to);
        live.retain(|u| u.len == from);
        let block = &load[from..upto];
        for part in live.chunks_mut(LANES) {
            match part.len() {
                4 => run_block::<4>(part, block),
                3 => run_block::<3>(part, block),
                2 => run_block::<2>(part, block),
                _ => run_block::<1>(part, block),
            }
        }
    }
}

/// `N` runs (all at the same sample) over the samples of `block`, side by side, a checkpoint at
/// a time; a run that stops standing for its binade is cut back to the start of the checkpoint
/// interval where it did, and all stop there. Each run's samples are the controller's law as
/// [`crate::storage::run_storage`] applies it, recorded with what the search needs: upstream
/// power, running maximum of |request|, and the first exact tie of its rounding.
fn run_block<const N: usize>(runs: &mut [&mut Unlimited], block: &[f64]) {
    let ctl: [Controller; N] = std::array::from_fn(|j| runs[j].ctl);
    let mut st: [ControllerState; N] = std::array::from_fn(|j| runs[j].state);
    let half_ulp: [f64; N] = std::array::from_fn(|j| 0.5 * runs[j].ulp_j);
    let mut request_max: [f64; N] = std::array::from_fn(|j| runs[j].request_max_w);
    let mut tie: [Option<usize>; N] = std::array::from_fn(|j| runs[j].tie);
    let start = runs[0].len;
    let len = block.len();
    let mut bufs: [(Vec<f64>, Vec<f64>); N] = std::array::from_fn(|j| {
        let u = &mut *runs[j];
        let mut g = std::mem::take(&mut u.g);
        let mut q = std::mem::take(&mut u.max_request);
        g.resize(start + len, 0.0);
        q.resize(start + len, 0.0);
        (g, q)
    });
    let mut done = 0;
    let mut last = start;
    let mut sound = [true; N];
    {
        let mut gs: Vec<&mut [f64]> = vec![];
        let mut qs: Vec<&mut [f64]> = vec![];
        for (g, q) in bufs.iter_mut() {
            gs.push(&mut g[start..]);
            qs.push(&mut q[start..]);
        }
        let g = &mut gs;
        let q = &mut qs;
        // (each lane written out, so that its state stays in registers)
        macro_rules! lane {
            ($j:expr, $k:expr, $l:expr) => {{
                let j = $j;
                let soc0 = st[j].soc_j;
                let out = ctl[j].step(&mut st[j], $l);
                let soc1 = st[j].soc_j;
                let b = out.storage_w;
                // The addend of the update as the controller computed it, and the update's exact
                // rounding error: an exact tie is half a spacing.
                let d = if b > 0.0 {
                    -(b * ctl[j].dt_s / ctl[j].eta_half)
                } else {
                    -b * ctl[j].dt_s * ctl[j].eta_half
                };
                // (both states in one binade: their difference is exact, and so is its sum with
                // the addend, which then is the update's rounding error)
                let err = (soc0 - soc1) + d;
                if err.abs() == half_ulp[j] && tie[j].is_none() {
                    tie[j] = Some(start + $k);
                }
                let r = out.request_w.abs();
                request_max[j] = request_max[j].max(r);
                g[j][$k] = out.upstream_w;
                q[j][$k] = request_max[j];
            }};
        }
        while done < len {
            let at = start + done;
            let end = ((at / CHECKPOINT + 1) * CHECKPOINT).min(start + len);
            if at % CHECKPOINT == 0 {
                for j in 0..N {
                    runs[j].states.push(st[j]);
                }
            }
            for k in done..end - start {
                let l = block[k];
                lane!(0, k, l);
                if N > 1 {
                    lane!(1, k, l);
                }
                if N > 2 {
                    lane!(2, k, l);
                }
                if N > 3 {
                    lane!(3, k, l);
                }
            }
            last = at;
            done = end - start;
            for j in 0..N {
                sound[j] = runs[j].sound_until(&st[j], request_max[j]);
            }
            if sound.iter().any(|s| !s) {
                break;
            }
        }
    }
    for (j, (mut g, mut q)) in bufs.into_iter().enumerate() {
        let u = &mut *runs[j];
        let k = if sound[j] { start + done } else { last };
        g.truncate(k);
        q.truncate(k);
        u.g = g;
        u.max_request = q;
        u.tie = tie[j].filter(|&t| t < k);
        u.state = st[j];
        u.request_max_w = request_max[j];
        u.len = k;
        if !sound[j] {
            u.states.truncate(k.div_ceil(CHECKPOINT));
            u.broken = Some(k);
        }
    }
}

/// The arrays of an unlimited run, kept for the next search on the same thread.
#[derive(Default)]
struct Buffers {
    g: Vec<f64>,
    max_request: Vec<f64>,
    states: Vec<ControllerState>,
    prefix: Vec<f64>,
    figures: Vec<Figures>,
    extremes: Vec<(usize, f64, f64)>,
}

impl Buffers {
    fn clear(&mut self) {
        self.g.clear();
        self.max_request.clear();
        self.states.clear();
        self.prefix.clear();
        self.figures.clear();
        self.extremes.clear();
    }
}

thread_local! {
    static POOL: std::cell::RefCell<Vec<Buffers>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The bisection's probes on one facility load.
pub struct Search<'a> {
    load: &'a Trace,
    code: &'a GridCode,
    turbines: Option<Turbines>,
    /// Samples in the code's metering window.
    m: usize,
    runs: Vec<Unlimited>,
    /// Scratch for a probe's own upstream trace, and for the whole of it.
    tail: Vec<f64>,
    whole_trace: Vec<f64>,
}

impl Drop for Search<'_> {
    fn drop(&mut self) {
        let runs = std::mem::take(&mut self.runs);
        POOL.with(|p| {
            let mut p = p.borrow_mut();
            for u in runs {
                p.push(u.into_buffers());
            }
        });
    }
}

impl<'a> Search<'a> {
    /// Probes on `load` (facility power before the battery) against `code`, the turbines (if
    /// any) downstream of the battery.
    pub fn new(load: &'a Trace, code: &'a GridCode, turbines: Option<Turbines>) -> Search<'a> {
        Search {
            load,
            code,
            turbines,
            m: grid::window_samples(code, load.dt_s),
            runs: vec![],
            tail: Vec::with_capacity(load.w.len()),
            whole_trace: vec![],
        }
    }

    /// Whether battery `s` makes the load pass; if it does, its round-trip losses over the
    /// window.
    pub fn losses_if_passes(&mut self, s: &Storage) -> Option<f64> {
        let (passes, losses_j) = self.probe(s);
        passes.then_some(losses_j)
    }

    /// The verdict and losses of battery `s`.
    fn probe(&mut self, s: &Storage) -> (bool, f64) {
        let load = &self.load.w;
        let n = load.len();
        let ctl = Controller::new(
            s,
            self.load.dt_s,
            self.code.ramp_up_w_per_s,
            self.code.ramp_down_w_per_s,
        );
        let start = ctl.start(s, load);
        match self.shared_prefix(&ctl, &start) {
            Some((at, k)) if k == n => self.whole(at),
            Some((at, k)) => self.own_run(&ctl, s, start.soc_j, Some((at, k))),
            None => self.own_run(&ctl, s, start.soc_j, None),
        }
    }

    /// The unlimited run battery `ctl` provably follows for its first `k` samples (`k` samples
    /// into the run at index `at`), extending the runs as far as needed; `None` when none can be
    /// used.
    fn shared_prefix(
        &mut self,
        ctl: &Controller,
        start: &ControllerState,
    ) -> Option<(usize, usize)> {
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
            return None;
        }
        let (e, ulp) = binade(mid)?;
        let at = match self.runs.iter().position(|u| u.e == e) {
            Some(i) => i,
            None => {
                // this binade and the next ones down that have no run yet
                let m = self.m;
                let have: Vec<i32> = self.runs.iter().map(|u| u.e).collect();
                let first = self.runs.len();
                let group = self.runs.last().map_or(0, |u| u.group + 1);
                let floor = [self.code.ramp_up_w_per_s, self.code.ramp_down_w_per_s]
                    .into_iter()
                    .flatten()
                    .fold(f64::INFINITY, f64::min);
                let bounds = floor;
                POOL.with(|p| {
                    let mut p = p.borrow_mut();
                    for j in 0..LANES as i32 {
                        let ej = e - j;
                        if have.contains(&ej) || ej - 52 < f64::MIN_EXP {
                            continue;
                        }
                        let bufs = p.pop().unwrap_or_default();
                        self.runs
                            .push(Unlimited::new(ej, group, ctl, *start, n, m, bounds, bufs));
                    }
                });
                first
            }
        };
        // The run stands for batteries whose law differs only in power, energy and middle.
        let same_law = |a: &Controller, b: &Controller| {
            [a.dt_s, a.eta_half, a.soc_tau_s, a.alpha, a.up_w, a.down_w]
                .iter()
                .zip([b.dt_s, b.eta_half, b.soc_tau_s, b.alpha, b.up_w, b.down_w])
                .all(|(x, y)| x.to_bits() == y.to_bits())
        };
        let s0 = self.runs[at]
            .states
            .first()
            .copied()
            .unwrap_or(self.runs[at].state);
        if !same_law(&self.runs[at].ctl, ctl)
            || s0.ema_w.to_bits() != start.ema_w.to_bits()
            || s0.prev_w.to_bits() != start.prev_w.to_bits()
        {
            return None;
        }
        // The first sample whose request exceeds the power: run on until it is found.
        let p = ctl.power_w;
        let saturates = |u: &Unlimited| u.max_request.partition_point(|&r| r <= p);
        loop {
            let u = &self.runs[at];
            let k = saturates(u);
            if k < u.len || u.len == n || u.broken.is_some() {
                break;
            }
            let to = u.len + CHUNK;
            let group = self.group_of(at);
            extend(&mut self.runs[group], load, to);
        }
        let u = &self.runs[at];
        let mut k = saturates(u).min(u.len);
        if odd(mid) {
            if let Some(t) = u.tie {
                k = k.min(t);
            }
        }
        // Where it holds, this battery's state is the run's deviation about its own middle: it
        // must stay in the binade (with a margin for the unrounded sums) and within its bounds,
        // and its state-of-charge limits must not bind below its power.
        let margin = 2.0 * u.step_max_j() + 8.0 * ulp;
        let (dev_min, dev_max) = u.dev_range_j();
        let lo_soc = mid + dev_min - margin;
        let hi_soc = mid + dev_max + margin;
        let fits = lo_soc >= u.floor_j
            && hi_soc < 2.0 * u.floor_j
            && lo_soc > ctl.soc_lo_j
            && hi_soc < ctl.soc_hi_j
            && (lo_soc - ctl.soc_lo_j) * ctl.eta_half / ctl.dt_s * (1.0 - 1e-9) >= p
            && (ctl.soc_hi_j - hi_soc) / (ctl.eta_half * ctl.dt_s) * (1.0 - 1e-9) >= p;
        (fits && k > 0).then_some((at, k))
    }

    /// The runs made side by side with run `at` (made together, so contiguous).
    fn group_of(&self, at: usize) -> std::ops::Range<usize> {
        let g = self.runs[at].group;
        let a = self.runs.iter().position(|u| u.group == g).unwrap_or(at);
        let b = self.runs.iter().rposition(|u| u.group == g).unwrap_or(at);
        a..b + 1
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
        let passes = self.verdict(&u.g, u.peak_w, u.ramps);
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
    /// `from.1` when given (the samples before it are that run's), else from the start; it stops
    /// as soon as a rule is sure to fail.
    fn own_run(
        &mut self,
        ctl: &Controller,
        s: &Storage,
        soc_start_j: f64,
        from: Option<(usize, usize)>,
    ) -> (bool, f64) {
        let n = self.load.w.len();
        let dt = self.load.dt_s;
        let m = self.m;
        if let Some((at, k)) = from {
            // the figures and running sums up to the checkpoint
            let j = (k / CHECKPOINT).min(self.runs[at].states.len() - 1);
            self.runs[at].measure(j * CHECKPOINT + 1);
        }
        let load = &self.load.w;
        let code = self.code;
        let (c, mut st, mut ramp, mut peak, head): (
            usize,
            ControllerState,
            RampMeter,
            f64,
            &[f64],
        ) = match from {
            Some((at, k)) => {
                let u = &self.runs[at];
                let j = (k / CHECKPOINT).min(u.states.len() - 1);
                let c = j * CHECKPOINT;
                let (cs, f) = (u.states[j], u.figures[j]);
                let mut st = cs;
                // the same deviation about this battery's middle (exact: both in the binade)
                st.soc_j = ctl.soc_mid_j + (cs.soc_j - u.mid_j);
                (
                    c,
                    st,
                    RampMeter::resume(n, dt, m, &u.prefix, c, f.ramps),
                    f.peak_w,
                    &u.g[..c],
                )
            }
            None => (0, ctl.start(s, load), RampMeter::new(n, dt, m), 0.0, &[]),
        };
        // Sure to fail once the code applies (the peak so far reaches its threshold) and a ramp or
        // the peak so far exceeds its limit (the figures only grow).
        let early = self.turbines.is_none();
        let over = |v: f64, lim: Option<f64>| lim.is_some_and(|l| !within(true, v, l));
        self.tail.clear();
        for &l in &load[c..] {
            let g = ctl.step(&mut st, l).upstream_w;
            self.tail.push(g);
            ramp.push(g);
            peak = peak.max(g);
            if early && peak >= code.large_load_w {
                let (up, down) = ramp.ramps_w_per_s();
                if over(up, code.ramp_up_w_per_s)
                    || over(down, code.ramp_down_w_per_s)
                    || over(peak, code.load_loss_w)
                {
                    return (false, 0.0);
                }
            }
        }
        let losses_j = totals(&st, soc_start_j).losses_j;
        let mut g = std::mem::take(&mut self.whole_trace);
        g.clear();
        g.extend_from_slice(head);
        g.extend_from_slice(&self.tail);
        let passes = self.verdict(&g, peak, ramp.ramps_w_per_s());
        self.whole_trace = g;
        (passes, losses_j)
    }
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
