//! The spectrum of a trace (real FFT) and the share of its energy inside a frequency band.

use realfft::{RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::sync::Arc;

/// One-sided energy spectrum: `energy[k]` at `k x df_hz`, normalised so that the sum over all bins
/// equals the sum of squares of the samples (Parseval), DC included.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Spectrum {
    pub df_hz: f64,
    pub energy: Vec<f64>,
}

impl Spectrum {
    pub fn total(&self) -> f64 {
        self.energy.iter().sum()
    }

    /// The bins `(k, energy)` whose frequency lies in `[low_hz, high_hz]`, from bin `first` on.
    fn in_band(
        &self,
        first: usize,
        low_hz: f64,
        high_hz: f64,
    ) -> impl Iterator<Item = (usize, f64)> + '_ {
        let df = self.df_hz;
        self.energy
            .iter()
            .copied()
            .enumerate()
            .skip(first)
            .filter(move |(k, _)| {
                let f = *k as f64 * df;
                f >= low_hz && f <= high_hz
            })
    }

    /// Share of the energy in `[low_hz, high_hz]`, in 0..=1; 0 for an all-zero signal.
    pub fn band_energy_fraction(&self, low_hz: f64, high_hz: f64) -> f64 {
        let total = self.total();
        if !(total > 0.0) || self.df_hz <= 0.0 {
            return 0.0;
        }
        let band: f64 = self.in_band(0, low_hz, high_hz).map(|(_, e)| e).sum();
        (band / total).clamp(0.0, 1.0)
    }

    /// Share of the oscillating (non-DC) energy in `[low_hz, high_hz]`, in 0..=1; 0 for a flat
    /// signal. Reported beside [`Spectrum::band_energy_fraction`] because the two readings of a
    /// utility's "share of spectral energy in the band" differ: with DC counted, a load whose
    /// swing is small next to its mean can never reach a 20 % cap.
    pub fn band_ac_energy_fraction(&self, low_hz: f64, high_hz: f64) -> f64 {
        let ac: f64 = self.energy.iter().skip(1).sum();
        if !(ac > 0.0) || self.df_hz <= 0.0 {
            return 0.0;
        }
        let band: f64 = self.in_band(1, low_hz, high_hz).map(|(_, e)| e).sum();
        (band / ac).clamp(0.0, 1.0)
    }

    /// The frequency of the largest bin inside `[low_hz, high_hz]` (DC left out); 0 when the band
    /// holds no energy. A window with a restart has its largest bin at the lowest frequencies; this
    /// finds the step rate.
    pub fn band_peak_hz(&self, low_hz: f64, high_hz: f64) -> f64 {
        self.in_band(1, low_hz, high_hz)
            .fold(
                (0usize, 0.0),
                |(bk, be), (k, e)| if e > be { (k, e) } else { (bk, be) },
            )
            .0 as f64
            * self.df_hz
    }

    /// The frequency of the largest non-DC bin.
    pub fn dominant_hz(&self) -> f64 {
        self.energy
            .iter()
            .enumerate()
            .skip(1)
            .fold(
                (0usize, 0.0),
                |(bk, be), (k, e)| if *e > be { (k, *e) } else { (bk, be) },
            )
            .0 as f64
            * self.df_hz
    }

    /// Amplitude spectrum in watts (one-sided, sinusoid amplitude per bin) for charts, reduced to at
    /// most `max_points` by keeping the maximum of each run of bins. Returns (hz, w) pairs.
    pub fn amplitude_points(
        &self,
        n_samples: usize,
        max_hz: f64,
        max_points: usize,
    ) -> Vec<(f64, f64)> {
        let n = n_samples.max(1) as f64;
        let kmax = ((max_hz / self.df_hz.max(1e-300)).floor() as usize)
            .min(self.energy.len().saturating_sub(1));
        if kmax < 1 {
            return vec![];
        }
        let per = (kmax + max_points - 1) / max_points.max(1);
        let per = per.max(1);
        let mut out = vec![];
        let mut k = 1;
        while k <= kmax {
            let e = (k..(k + per).min(kmax + 1))
                .map(|j| self.energy[j])
                .fold(0.0, f64::max);
            // energy[k] = 2 |X_k|^2 / n for interior bins; amplitude = 2 |X_k| / n.
            let amp = (2.0 * e / n).sqrt();
            out.push((k as f64 * self.df_hz, amp));
            k += per;
        }
        out
    }
}

/// The energy spectrum of `w` sampled every `dt_s`.
///
/// The FFT sees only the deviations from a reference sample (the first), and the DC bin is put
/// back exactly: `|sum w|^2 / n`. A transform's round-off is proportional to the size of its input,
/// so transforming a 1 GW trace whole leaks ~1e-16 of its DC level into every other bin: a flat
/// (fully mitigated) trace would then show a spurious "dominant frequency" and a non-zero band
/// share. Deviations from a sample are exactly zero for a flat trace and small next to the DC level
/// for a swinging one. The non-DC bins of `w` and of `w - w[0]` are the same by linearity.
pub fn spectrum(w: &[f64], dt_s: f64) -> Spectrum {
    let n = w.len();
    if n < 2 || dt_s <= 0.0 {
        return Spectrum {
            df_hz: 0.0,
            energy: w.iter().map(|x| x * x).collect(),
        };
    }
    let fft = plan(n);
    let reference = w[0];
    let mut input: Vec<f64> = w.iter().map(|x| x - reference).collect();
    let mut out = fft.make_output_vec();
    if fft.process(&mut input, &mut out).is_err() {
        return Spectrum::default();
    }
    let nf = n as f64;
    let last = out.len() - 1;
    let mut energy: Vec<f64> = out
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let e = c.norm_sqr() / nf;
            // Interior bins stand for +f and -f; DC (and Nyquist for even n) only once.
            if k == 0 || (n % 2 == 0 && k == last) {
                e
            } else {
                2.0 * e
            }
        })
        .collect();
    let sum: f64 = w.iter().sum();
    energy[0] = sum * sum / nf;
    Spectrum {
        df_hz: 1.0 / (nf * dt_s),
        energy,
    }
}

thread_local! {
    /// One planner per thread: a plan's twiddle factors are computed once per length, not once
    /// per spectrum (the same plan, so the same transform, bit for bit).
    static PLANNER: RefCell<RealFftPlanner<f64>> = RefCell::new(RealFftPlanner::new());
}

fn plan(n: usize) -> Arc<dyn RealToComplex<f64>> {
    PLANNER.with(|p| p.borrow_mut().plan_fft_forward(n))
}

/// An upper bound on `spectrum(w, dt_s).band_energy_fraction(low_hz, _)` without the transform,
/// when the band leaves out DC (`low_hz > 0`): the band holds at most the oscillating energy,
/// `sum (w - mean)^2` (Parseval), and the whole spectrum at least the DC bin, `(sum w)^2 / n`,
/// computed as [`spectrum`] computes it. The oscillating energy is taken 1e-6 larger, plus 1e-9 of
/// the energy of the deviations the transform sees, for its round-off and that of the sums (a
/// transform's error is ~1e-15 of its input's norm). `None` when no bound follows (DC in the band,
/// or no DC energy).
pub fn band_fraction_bound(w: &[f64], dt_s: f64, low_hz: f64) -> Option<f64> {
    let n = w.len();
    if n < 2 || dt_s.is_nan() || dt_s <= 0.0 {
        // (the spectrum has no frequency axis: no band share)
        return Some(0.0);
    }
    if low_hz.is_nan() || low_hz <= 0.0 {
        return None;
    }
    let nf = n as f64;
    let sum: f64 = w.iter().sum();
    let dc = sum * sum / nf;
    if dc.is_nan() || dc <= 0.0 || dc.is_infinite() {
        return None;
    }
    let mean = sum / nf;
    let reference = w[0];
    let (mut ac, mut seen) = (0.0, 0.0);
    for &x in w {
        ac += (x - mean) * (x - mean);
        seen += (x - reference) * (x - reference);
    }
    band_bound(dc, ac, seen)
}

/// [`band_fraction_bound`] from running sums of a trace's `n` samples (`sum`, as
/// [`spectrum`]'s), and of their deviations from the first sample, `s1 = sum (w - w0)` and
/// `s2 = sum (w - w0)^2`: the oscillating energy is then `s2 - s1^2 / n`, whose round-off
/// (`3 n eps s2`, at most) the margin of 1e-9 of `s2` covers for traces of up to 10^6 samples.
pub fn band_fraction_bound_from_sums(
    n: usize,
    dt_s: f64,
    low_hz: f64,
    (sum, s1, s2): (f64, f64, f64),
) -> Option<f64> {
    if n < 2 || dt_s.is_nan() || dt_s <= 0.0 {
        return Some(0.0);
    }
    if low_hz.is_nan() || low_hz <= 0.0 || n > 1_000_000 {
        return None;
    }
    let nf = n as f64;
    let dc = sum * sum / nf;
    if dc.is_nan() || dc <= 0.0 || dc.is_infinite() {
        return None;
    }
    band_bound(dc, (s2 - s1 * s1 / nf).max(0.0), s2)
}

fn band_bound(dc: f64, ac: f64, seen: f64) -> Option<f64> {
    let bound = (ac * (1.0 + 1e-6) + 1e-9 * seen) / dc;
    bound.is_finite().then_some(bound.clamp(0.0, 1.0))
}
