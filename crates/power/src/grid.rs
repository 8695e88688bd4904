//! Grid codes as plain data (the presets are catalogue entries, `crates/spec/catalog/grid_codes.toml`)
//! and the checks of a trace against them.

use crate::spectrum::{spectrum, Spectrum};
use crate::trace::Trace;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Band reported when a code sets none: the 0.1-20 Hz critical band of arXiv 2508.14318 (S).
pub const DEFAULT_BAND_HZ: (f64, f64) = (0.1, 20.0);
/// Metering window when a code sets none (A, as the presets).
pub const DEFAULT_RAMP_WINDOW_S: f64 = 1.0;

/// A grid code in SI units. Absent fields are rules not checked.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GridCode {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub large_load_w: f64,
    #[serde(default)]
    pub ramp_up_w_per_s: Option<f64>,
    #[serde(default)]
    pub ramp_down_w_per_s: Option<f64>,
    #[serde(default)]
    pub ramp_window_s: Option<f64>,
    #[serde(default)]
    pub dynamic_range_fraction: Option<f64>,
    #[serde(default)]
    pub band_low_hz: Option<f64>,
    #[serde(default)]
    pub band_high_hz: Option<f64>,
    #[serde(default)]
    pub band_energy_limit_fraction: Option<f64>,
    #[serde(default)]
    pub load_loss_w: Option<f64>,
    #[serde(default)]
    pub source: String,
}

impl GridCode {
    /// The code with whether it applies already decided (from the unmitigated import): every
    /// trace checked against it is then a large load (`applies`) or none is.
    pub fn deciding(&self, applies: bool) -> GridCode {
        GridCode {
            large_load_w: if applies {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
            ..self.clone()
        }
    }
    pub fn ramp_window_s(&self) -> f64 {
        self.ramp_window_s.unwrap_or(DEFAULT_RAMP_WINDOW_S)
    }
    pub fn band_hz(&self) -> (f64, f64) {
        (
            self.band_low_hz.unwrap_or(DEFAULT_BAND_HZ.0),
            self.band_high_hz.unwrap_or(DEFAULT_BAND_HZ.1),
        )
    }
}

/// Measured figures of a trace, as the grid sees it.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Metrics {
    pub peak_w: f64,
    pub min_w: f64,
    pub mean_w: f64,
    /// Peak minus minimum over the window.
    pub swing_w: f64,
    /// Largest rise / fall of the load averaged over the metering window, per second.
    pub max_ramp_up_w_per_s: f64,
    pub max_ramp_down_w_per_s: f64,
    pub max_ramp_w_per_s: f64,
    /// Largest rise or fall between two adjacent samples, per second (at the trace's resolution).
    pub max_sample_ramp_w_per_s: f64,
    /// Largest max-min inside any metering window.
    pub max_window_range_w: f64,
    pub band_low_hz: f64,
    pub band_high_hz: f64,
    /// Share of spectral energy (DC included) inside the band: what `band_energy_limit_fraction`
    /// caps.
    pub band_energy_fraction: f64,
    /// Share of the oscillating (non-DC) energy inside the band (reported, not checked).
    pub band_ac_energy_fraction: f64,
    /// Strongest non-DC frequency.
    pub dominant_hz: f64,
    /// Strongest frequency inside the band (the step rate when the job steps).
    pub band_peak_hz: f64,
    pub ramp_window_s: f64,
}

/// Largest rise and fall of the moving average over `m` samples, compared `m` samples apart, per
/// second: `(A_i - A_{i-m}) / (m dt)` where `A_i` is the mean of samples `i-m+1 ..= i`.
pub fn windowed_ramps_w_per_s(w: &[f64], dt_s: f64, m: usize) -> (f64, f64) {
    let mut r = RampMeter::new(w.len(), dt_s, m);
    for &x in w {
        r.push(x);
    }
    r.ramps_w_per_s()
}

/// [`windowed_ramps_w_per_s`] one sample at a time: the running sum of the samples (the same
/// additions in the same order as a prefix sum), its last `2m + 1` values, and the largest rise
/// and fall so far. `n` is the trace's length, which bounds the window as the batch form does.
#[derive(Clone, Debug)]
pub struct RampMeter {
    m: usize,
    win_s: f64,
    /// `1 / (m win_s)`, for [`ramp_may_set`].
    inv_mw: f64,
    /// Whether the trace is long enough (two windows) and the step positive.
    on: bool,
    /// `prefix[k]` (the sum of the first `k` samples) at `ring[k & mask]`.
    ring: Vec<f64>,
    mask: usize,
    /// Samples pushed so far.
    k: usize,
    up: f64,
    down: f64,
}

impl RampMeter {
    pub fn new(n: usize, dt_s: f64, m: usize) -> RampMeter {
        let m = m.clamp(1, (n / 2).max(1));
        let on = n >= 2 * m && dt_s > 0.0;
        let len = if on {
            (2 * m + 1).next_power_of_two()
        } else {
            0
        };
        RampMeter {
            m,
            win_s: m as f64 * dt_s,
            inv_mw: 1.0 / (m as f64 * (m as f64 * dt_s)),
            on,
            ring: vec![0.0; len],
            mask: len.saturating_sub(1),
            k: 0,
            up: 0.0,
            down: 0.0,
        }
    }

    /// The meter after the first `k` samples of a trace whose running sums are `prefix`
    /// (`prefix[j - offset]` the sum of the first `j` samples, for `j` from `k - 2m` (or `offset`)
    /// to `k`), with the largest rise and fall over them `up`, `down` (as
    /// [`RampMeter::ramps_w_per_s`] gave then).
    pub fn resume(
        n: usize,
        dt_s: f64,
        m: usize,
        (prefix, offset): (&[f64], usize),
        k: usize,
        (up, down): (f64, f64),
    ) -> RampMeter {
        let mut r = RampMeter::new(n, dt_s, m);
        if r.on {
            let from = k.saturating_sub(2 * r.m).max(offset);
            for j in from..=k {
                r.ring[j & r.mask] = prefix[j - offset];
            }
        }
        r.k = k;
        r.up = up;
        r.down = down;
        r
    }

    /// [`RampMeter::push`] keeping the running sum only: for samples whose ramps are known to
    /// stay below what matters (the largest rise and fall so far are then not the meter's).
    #[inline(always)]
    pub fn push_sum(&mut self, x: f64) {
        if !self.on {
            return;
        }
        let mask = self.mask;
        let acc = self.ring[self.k & mask] + x;
        self.k += 1;
        self.ring[self.k & mask] = acc;
    }

    /// [`RampMeter::push_sum`] of each of `xs` in turn, calling `each(x)` with every sample (the
    /// running sum held in a register between samples: the same additions).
    #[inline(always)]
    pub fn push_sums_with(&mut self, xs: &[f64], mut each: impl FnMut(f64)) {
        if !self.on {
            for &x in xs {
                each(x);
            }
            return;
        }
        let mask = self.mask;
        let mut acc = self.ring[self.k & mask];
        let mut k = self.k;
        for &x in xs {
            each(x);
            acc += x;
            k += 1;
            self.ring[k & mask] = acc;
        }
        self.k = k;
    }

    /// [`RampMeter::push`] of each of `xs` in turn, calling `each(x)` with every sample (the
    /// running sum and the largest rise and fall held in registers between samples: the same
    /// arithmetic).
    #[inline(always)]
    pub fn push_all_with(&mut self, xs: &[f64], mut each: impl FnMut(f64)) {
        if !self.on {
            for &x in xs {
                each(x);
            }
            return;
        }
        let (mask, m, win_s) = (self.mask, self.m, self.win_s);
        let mut acc = self.ring[self.k & mask];
        let mut k = self.k;
        let (mut up, mut down) = (self.up, self.down);
        for &x in xs {
            each(x);
            acc += x;
            k += 1;
            self.ring[k & mask] = acc;
            if k >= 2 * m {
                let p1 = self.ring[(k - m) & mask];
                let p2 = self.ring[(k - 2 * m) & mask];
                if ramp_may_set(acc, p1, p2, self.inv_mw, up, down) {
                    let r = window_ramp(acc, p1, p2, m, win_s);
                    up = up.max(r);
                    down = down.max(-r);
                }
            }
        }
        self.k = k;
        self.up = up;
        self.down = down;
    }

    /// The running sum of the samples so far (0 when the meter does not measure).
    pub fn sum(&self) -> f64 {
        if self.on {
            self.ring[self.k & self.mask]
        } else {
            0.0
        }
    }

    #[inline(always)]
    pub fn push(&mut self, x: f64) {
        if !self.on {
            return;
        }
        let mask = self.mask;
        let acc = self.ring[self.k & mask] + x;
        self.k += 1;
        self.ring[self.k & mask] = acc;
        let m = self.m;
        if self.k >= 2 * m {
            // i = k - 1: prefix[i + 1], prefix[i + 1 - m], prefix[i + 1 - 2m]
            let p1 = self.ring[(self.k - m) & mask];
            let p2 = self.ring[(self.k - 2 * m) & mask];
            if ramp_may_set(acc, p1, p2, self.inv_mw, self.up, self.down) {
                let r = window_ramp(acc, p1, p2, m, self.win_s);
                self.up = self.up.max(r);
                self.down = self.down.max(-r);
            }
        }
    }

    /// The meter's window (samples, after the trace's length bounds it) and its length (s), and
    /// whether it measures at all (the trace holds two windows and the step is positive).
    pub fn window(&self) -> (usize, f64, bool) {
        (self.m, self.win_s, self.on)
    }

    /// Largest rise and fall so far, W/s.
    pub fn ramps_w_per_s(&self) -> (f64, f64) {
        (self.up, self.down)
    }
}

/// Whether [`window_ramp`]`(p0, p1, p2, m, win_s)` may exceed the largest rise `up` or its
/// negative the largest fall `down` so far (`inv_mw` is `1 / (m win_s)`): false only when an
/// estimate with one product, and a bound on how far the quotients of [`window_ramp`] can round
/// from it (well above their few roundings), put it surely below both; a value that is not a
/// number always may. Where false, taking the largest with the ramp changes nothing, so the
/// quotients need not be computed.
#[inline(always)]
pub fn ramp_may_set(p0: f64, p1: f64, p2: f64, inv_mw: f64, up: f64, down: f64) -> bool {
    let (d0, d1) = (p0 - p1, p1 - p2);
    let est = (d0 - d1) * inv_mw;
    let err = (d0.abs() + d1.abs()) * inv_mw * (16.0 * f64::EPSILON) + f64::MIN_POSITIVE;
    !(est + err < up && err - est < down)
}

/// The ramp between the means of two adjacent windows of `m` samples, per second of the window's
/// length `win_s`, from the running sums at the end of the later window (`p0`), between them
/// (`p1`) and at the start of the earlier one (`p2`).
#[inline(always)]
pub fn window_ramp(p0: f64, p1: f64, p2: f64, m: usize, win_s: f64) -> f64 {
    let a = (p0 - p1) / m as f64;
    let b = (p1 - p2) / m as f64;
    (a - b) / win_s
}

/// An upper bound on [`max_window_range_w`]`(w, m)`: every run of `m` samples lies within two
/// adjacent blocks of `m` (aligned from the start), so its range is at most theirs.
pub fn window_range_bound_w(w: &[f64], m: usize) -> f64 {
    let m = m.max(1);
    let mut best = 0.0f64;
    let mut last: Option<(f64, f64)> = None;
    for block in w.chunks(m) {
        let hi = block.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lo = block.iter().copied().fold(f64::INFINITY, f64::min);
        let (h, l) = match last {
            Some((ph, pl)) => (hi.max(ph), lo.min(pl)),
            None => (hi, lo),
        };
        best = best.max(h - l);
        last = Some((hi, lo));
    }
    best
}

/// Whether the dynamic range of `w` over runs of `m` samples ([`max_window_range_w`]) is within
/// `limit` ([`within`], the code applying): by [`window_range_bound_w`] when it suffices, else
/// measured.
pub fn range_within(w: &[f64], m: usize, limit: f64) -> bool {
    within(true, window_range_bound_w(w, m), limit) || within(true, max_window_range_w(w, m), limit)
}

/// Largest max-min of any run of `m` consecutive samples (runs of fewer at the start count too,
/// as they end there; they never exceed the first whole one), in O(n): each run of `m` is the
/// end of one block of `m` samples aligned from the start and the beginning of the next, so its
/// maximum is the larger of that block's maximum from the run's start on and the next block's
/// up to the run's end (van Herk, Gil and Werman), both running maxima; the same for minima.
/// The maxima and minima are samples, so the ranges are the same differences as any other
/// exact method takes. Samples that are not positive finite numbers are left to the monotonic
/// deques of [`RangeMeter`] (a zero's sign, a value that is not a number, an infinity).
pub fn max_window_range_w(w: &[f64], m: usize) -> f64 {
    let m = m.max(1);
    let n = w.len();
    if n == 0 || !w.iter().all(|x| *x > 0.0 && *x < f64::INFINITY) {
        let mut r = RangeMeter::new(m);
        for &x in w {
            r.push(x);
        }
        return r.best_w();
    }
    // (every sample a positive finite number from here: the larger and smaller of two are plain
    // comparisons, the same values as `f64::max` and `f64::min` give them)
    let hi = |a: f64, b: f64| if b > a { b } else { a };
    let lo = |a: f64, b: f64| if b < a { b } else { a };
    let extremes = |s: &[f64]| {
        s.iter()
            .fold((f64::NEG_INFINITY, f64::INFINITY), |(h, l), &x| {
                (hi(h, x), lo(l, x))
            })
    };
    if n < m {
        let (h, l) = extremes(w);
        return hi(0.0, h - l);
    }
    let mut best = 0.0f64;
    let (mut suf_hi, mut suf_lo) = (vec![0.0; m], vec![0.0; m]);
    for b0 in (0..n).step_by(m) {
        let block = &w[b0..(b0 + m).min(n)];
        let (mut h, mut l) = (f64::NEG_INFINITY, f64::INFINITY);
        for (r, &x) in block.iter().enumerate().rev() {
            h = hi(h, x);
            l = lo(l, x);
            suf_hi[r] = h;
            suf_lo[r] = l;
        }
        if block.len() == m {
            best = hi(best, suf_hi[0] - suf_lo[0]);
        }
        // the runs that start after the block's first sample end in the next block
        let next = &w[(b0 + m).min(n)..(b0 + 2 * m).min(n)];
        let (mut h, mut l) = (f64::NEG_INFINITY, f64::INFINITY);
        for (r, &x) in next.iter().enumerate().take(m - 1) {
            h = hi(h, x);
            l = lo(l, x);
            best = hi(best, hi(suf_hi[r + 1], h) - lo(suf_lo[r + 1], l));
        }
    }
    best
}

/// [`max_window_range_w`] one sample at a time: the window's candidates for its maximum and
/// minimum (monotonic deques of index and value) and the largest range so far.
#[derive(Clone, Debug)]
pub struct RangeMeter {
    m: usize,
    i: usize,
    maxq: VecDeque<(usize, f64)>,
    minq: VecDeque<(usize, f64)>,
    best: f64,
}

impl RangeMeter {
    pub fn new(m: usize) -> RangeMeter {
        let m = m.max(1);
        RangeMeter {
            m,
            i: 0,
            maxq: VecDeque::with_capacity(m + 1),
            minq: VecDeque::with_capacity(m + 1),
            best: 0.0,
        }
    }

    /// The meter after the first `k` samples of `w` (only the last `m` of them are read), with
    /// the largest range over them `best` (as [`RangeMeter::best_w`] gave then).
    pub fn resume(m: usize, w: &[f64], k: usize, best: f64) -> RangeMeter {
        let mut r = RangeMeter::new(m);
        let from = k.saturating_sub(r.m);
        r.i = from;
        for &x in &w[from..k] {
            r.push(x);
        }
        r.best = best;
        r
    }

    #[inline(always)]
    pub fn push(&mut self, x: f64) {
        let i = self.i;
        while self.maxq.back().is_some_and(|&(_, v)| v <= x) {
            self.maxq.pop_back();
        }
        self.maxq.push_back((i, x));
        while self.minq.back().is_some_and(|&(_, v)| v >= x) {
            self.minq.pop_back();
        }
        self.minq.push_back((i, x));
        let m = self.m;
        while self.maxq.front().is_some_and(|&(j, _)| j + m <= i) {
            self.maxq.pop_front();
        }
        while self.minq.front().is_some_and(|&(j, _)| j + m <= i) {
            self.minq.pop_front();
        }
        if let (Some(&(_, a)), Some(&(_, b))) = (self.maxq.front(), self.minq.front()) {
            self.best = self.best.max(a - b);
        }
        self.i += 1;
    }

    /// Largest range so far, W.
    pub fn best_w(&self) -> f64 {
        self.best
    }
}

/// Samples in a code's metering window at step `dt_s` (at least one).
pub fn window_samples(code: &GridCode, dt_s: f64) -> usize {
    ((code.ramp_window_s() / dt_s).round() as usize).max(1)
}

/// The largest change between consecutive samples, `|w[i+1] - w[i]|` (0 for fewer than two;
/// a NaN difference counts as none, as `f64::max` takes it), on four lanes
/// ([`crate::trace::lanes_fold_zip`]).
pub fn max_sample_step_w(w: &[f64]) -> f64 {
    match w {
        [] | [_] => 0.0,
        _ => crate::trace::lanes_fold_zip(&w[..w.len() - 1], &w[1..], 0.0, f64::max, |a, b| {
            (b - a).abs()
        }),
    }
}

/// Metrics of a trace under a code's windows and band; also returns the spectrum.
pub fn metrics(t: &Trace, code: &GridCode) -> (Metrics, Spectrum) {
    let m = window_samples(code, t.dt_s);
    let (up, down) = windowed_ramps_w_per_s(&t.w, t.dt_s, m);
    let sample = max_sample_step_w(&t.w) / t.dt_s.max(1e-300);
    let sp = spectrum(&t.w, t.dt_s);
    let (lo, hi) = code.band_hz();
    let (peak_w, min_w) = (t.peak_w(), t.min_w());
    let mx = Metrics {
        peak_w,
        min_w,
        mean_w: t.mean_w(),
        swing_w: peak_w - min_w,
        max_ramp_up_w_per_s: up,
        max_ramp_down_w_per_s: down,
        max_ramp_w_per_s: up.max(down),
        max_sample_ramp_w_per_s: sample,
        max_window_range_w: max_window_range_w(&t.w, m),
        band_low_hz: lo,
        band_high_hz: hi,
        band_energy_fraction: sp.band_energy_fraction(lo, hi),
        band_ac_energy_fraction: sp.band_ac_energy_fraction(lo, hi),
        dominant_hz: sp.dominant_hz(),
        band_peak_hz: sp.band_peak_hz(lo, hi),
        ramp_window_s: m as f64 * t.dt_s,
    };
    (mx, sp)
}

/// One rule of a code against a trace.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RuleCheck {
    /// `ramp_up`, `ramp_down`, `dynamic_range`, `band_energy`, `load_loss`.
    pub rule: String,
    pub value: f64,
    pub limit: f64,
    /// Unit of `value` and `limit`: `w_per_s`, `w`, `fraction`.
    pub unit: String,
    pub passes: bool,
}

/// Whether a rule holds: the code does not apply at this peak, or the value is within the limit
/// (to a relative 1e-9, for rounding).
pub fn within(applies: bool, value: f64, limit: f64) -> bool {
    !applies || value <= limit * (1.0 + 1e-9)
}

/// [`check`]'s verdict on every rule at once (whether they all pass) from the figures it reads:
/// the peak and the windowed ramps given, the dynamic range and the band share asked for only
/// when the rules before them pass (`range_within(limit)`, `band_within(limit)`: whether the
/// figure is within `limit`, see [`within`]).
pub fn all_pass(
    code: &GridCode,
    peak_w: f64,
    (up, down): (f64, f64),
    range_within: impl FnOnce(f64) -> bool,
    band_within: impl FnOnce(f64) -> bool,
) -> bool {
    let applies = peak_w >= code.large_load_w;
    if !applies {
        return true;
    }
    let ok = |value: f64, limit: Option<f64>| limit.is_none_or(|l| within(applies, value, l));
    ok(up, code.ramp_up_w_per_s)
        && ok(down, code.ramp_down_w_per_s)
        && ok(peak_w, code.load_loss_w)
        && code
            .dynamic_range_fraction
            .is_none_or(|f| range_within(f * peak_w))
        && code.band_energy_limit_fraction.is_none_or(band_within)
}

/// Whether `t` passes every rule of `code`: the verdict of [`check`] on [`metrics`], computed
/// without the spectrum when the band rule is absent, moot (another rule fails or the code does
/// not apply) or decided by Parseval's bound ([`crate::spectrum::band_fraction_bound`]).
pub fn passes(t: &Trace, code: &GridCode) -> bool {
    let m = window_samples(code, t.dt_s);
    let peak = t.peak_w();
    // (the code does not apply below its threshold, nor to a peak that is not a number)
    if peak.is_nan() || peak < code.large_load_w {
        return true;
    }
    // The code applies: a ramp over its limit so far fails it (the figures only grow).
    let over = |v: f64, lim: Option<f64>| lim.is_some_and(|l| !within(true, v, l));
    let mut meter = RampMeter::new(t.w.len(), t.dt_s, m);
    for &x in &t.w {
        meter.push(x);
        let (up, down) = meter.ramps_w_per_s();
        if over(up, code.ramp_up_w_per_s) || over(down, code.ramp_down_w_per_s) {
            return false;
        }
    }
    all_pass(
        code,
        peak,
        meter.ramps_w_per_s(),
        |limit| range_within(&t.w, m, limit),
        |limit| band_within(&t.w, t.dt_s, code, limit),
    )
}

/// Whether the band share of `w` (as [`metrics`] computes it) is within `limit` ([`within`], the
/// code applying): by Parseval's bound when it suffices, else from the spectrum.
pub fn band_within(w: &[f64], dt_s: f64, code: &GridCode, limit: f64) -> bool {
    let (lo, hi) = code.band_hz();
    if let Some(b) = crate::spectrum::band_fraction_bound(w, dt_s, lo) {
        if within(true, b, limit) {
            return true;
        }
    }
    within(true, spectrum(w, dt_s).band_energy_fraction(lo, hi), limit)
}

/// Whether the code applies (peak at or above its large-load threshold) and each rule's result.
pub fn check(code: &GridCode, m: &Metrics) -> (bool, Vec<RuleCheck>) {
    let applies = m.peak_w >= code.large_load_w;
    let mut out = vec![];
    let mut rule = |name: &str, value: f64, limit: Option<f64>, unit: &str| {
        if let Some(l) = limit {
            out.push(RuleCheck {
                rule: name.into(),
                value,
                limit: l,
                unit: unit.into(),
                passes: within(applies, value, l),
            });
        }
    };
    rule(
        "ramp_up",
        m.max_ramp_up_w_per_s,
        code.ramp_up_w_per_s,
        "w_per_s",
    );
    rule(
        "ramp_down",
        m.max_ramp_down_w_per_s,
        code.ramp_down_w_per_s,
        "w_per_s",
    );
    rule(
        "dynamic_range",
        m.max_window_range_w,
        code.dynamic_range_fraction.map(|f| f * m.peak_w),
        "w",
    );
    rule(
        "band_energy",
        m.band_energy_fraction,
        code.band_energy_limit_fraction,
        "fraction",
    );
    rule("load_loss", m.peak_w, code.load_loss_w, "w");
    (applies, out)
}

// shared with tests/solve.rs (a path relative to src/, outside any inline module)
#[cfg(test)]
#[path = "../tests/support/traces.rs"]
mod test_traces;

#[cfg(test)]
mod tests {
    use super::*;

    use super::test_traces::traces;

    #[test]
    fn meters_are_the_prefix_sum_and_window_definitions() {
        for w in traces() {
            for m in [
                1,
                2,
                7,
                64,
                100,
                129,
                w.len() / 2,
                w.len() - 1,
                w.len(),
                w.len() + 5,
            ] {
                // windowed ramps from a prefix-sum array, as defined
                let n = w.len();
                let mm = m.clamp(1, (n / 2).max(1));
                let mut prefix = vec![0.0];
                for x in &w {
                    prefix.push(prefix.last().unwrap() + x);
                }
                let (mut up, mut down) = (0.0f64, 0.0f64);
                if n >= 2 * mm {
                    let win = mm as f64 * 0.01;
                    for i in (2 * mm - 1)..n {
                        let a = (prefix[i + 1] - prefix[i + 1 - mm]) / mm as f64;
                        let b = (prefix[i + 1 - mm] - prefix[i + 1 - 2 * mm]) / mm as f64;
                        let r = (a - b) / win;
                        up = up.max(r);
                        down = down.max(-r);
                    }
                }
                let (u, d) = windowed_ramps_w_per_s(&w, 0.01, m);
                assert_eq!((u.to_bits(), d.to_bits()), (up.to_bits(), down.to_bits()));
                // the largest range of any m consecutive samples (and of the first, shorter runs)
                let best = (0..n)
                    .map(|i| {
                        let s = &w[i.saturating_sub(m - 1)..=i];
                        let hi = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let lo = s.iter().copied().fold(f64::INFINITY, f64::min);
                        hi - lo
                    })
                    .fold(0.0, f64::max);
                assert_eq!(max_window_range_w(&w, m).to_bits(), best.to_bits());
                let mut meter = RangeMeter::new(m);
                for &x in &w {
                    meter.push(x);
                }
                assert_eq!(meter.best_w().to_bits(), best.to_bits());
                assert!(window_range_bound_w(&w, m) >= best);
                // a meter resumed halfway goes on as the one that never stopped
                let k = n / 2;
                let mut first = RampMeter::new(n, 0.01, m);
                for &x in &w[..k] {
                    first.push(x);
                }
                let mut resumed =
                    RampMeter::resume(n, 0.01, m, (&prefix, 0), k, first.ramps_w_per_s());
                for &x in &w[k..] {
                    resumed.push(x);
                }
                let r = resumed.ramps_w_per_s();
                assert_eq!(
                    (r.0.to_bits(), r.1.to_bits()),
                    (up.to_bits(), down.to_bits())
                );
            }
        }
    }
}
