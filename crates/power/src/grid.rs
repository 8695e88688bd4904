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
    let n = w.len();
    let m = m.clamp(1, (n / 2).max(1));
    if n < 2 * m || dt_s <= 0.0 {
        return (0.0, 0.0);
    }
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    let mut acc = 0.0;
    for x in w {
        acc += x;
        prefix.push(acc);
    }
    let win = m as f64 * dt_s;
    let (mut up, mut down) = (0.0f64, 0.0f64);
    for i in (2 * m - 1)..n {
        let a = (prefix[i + 1] - prefix[i + 1 - m]) / m as f64;
        let b = (prefix[i + 1 - m] - prefix[i + 1 - 2 * m]) / m as f64;
        let r = (a - b) / win;
        up = up.max(r);
        down = down.max(-r);
    }
    (up, down)
}

/// Largest max-min of any run of `m` consecutive samples (monotonic deques, O(n)).
pub fn max_window_range_w(w: &[f64], m: usize) -> f64 {
    let m = m.max(1);
    let mut maxq: VecDeque<usize> = VecDeque::new();
    let mut minq: VecDeque<usize> = VecDeque::new();
    let mut best = 0.0f64;
    for (i, &x) in w.iter().enumerate() {
        while maxq.back().is_some_and(|&j| w[j] <= x) {
            maxq.pop_back();
        }
        maxq.push_back(i);
        while minq.back().is_some_and(|&j| w[j] >= x) {
            minq.pop_back();
        }
        minq.push_back(i);
        while maxq.front().is_some_and(|&j| j + m <= i) {
            maxq.pop_front();
        }
        while minq.front().is_some_and(|&j| j + m <= i) {
            minq.pop_front();
        }
        if let (Some(&a), Some(&b)) = (maxq.front(), minq.front()) {
            best = best.max(w[a] - w[b]);
        }
    }
    best
}

/// Metrics of a trace under a code's windows and band; also returns the spectrum.
pub fn metrics(t: &Trace, code: &GridCode) -> (Metrics, Spectrum) {
    let win = code.ramp_window_s();
    let m = ((win / t.dt_s).round() as usize).max(1);
    let (up, down) = windowed_ramps_w_per_s(&t.w, t.dt_s, m);
    let sample =
        t.w.windows(2)
            .map(|p| (p[1] - p[0]).abs())
            .fold(0.0, f64::max)
            / t.dt_s.max(1e-300);
    let sp = spectrum(&t.w, t.dt_s);
    let (lo, hi) = code.band_hz();
    let mx = Metrics {
        peak_w: t.peak_w(),
        min_w: t.min_w(),
        mean_w: t.mean_w(),
        swing_w: t.swing_w(),
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
                passes: !applies || value <= l * (1.0 + 1e-9),
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
