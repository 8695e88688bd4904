//! Energy storage between the load and the grid (a site battery, or rack-level PSU storage), with
//! its control law, and on-site turbines with a ramp limit.

use crate::trace::Trace;
use serde::{Deserialize, Serialize};

/// Defaults of the storage models, each with its source.
pub mod defaults {
    /// Site battery round-trip efficiency: NREL ATB 2024 utility-scale Li-ion, 85 % (S), the same
    /// default as `spec::scenario::DEFAULT_BATTERY_EFFICIENCY`.
    pub const BATTERY_EFFICIENCY: f64 = 0.85;
    /// State-of-charge bounds kept by the controller (A: a common 10-90 % operating window that
    /// protects Li-ion cycle life).
    pub const SOC_MIN: f64 = 0.1;
    pub const SOC_MAX: f64 = 0.9;
    /// Battery control time constant: the grid follows the load's moving average over ~30 s, so the
    /// step-rate swing (0.2-3 Hz, calibration row 15, S) stays in the battery and what reaches the
    /// grid lies below the 0.1 Hz band edge: 1 / (2 pi 30 s) = 0.005 Hz (D).
    pub const BATTERY_TAU_S: f64 = 30.0;
    /// State-of-charge restoring time constant (A): slow next to the step, fast next to the hours
    /// between restarts.
    pub const SOC_TAU_S: f64 = 600.0;
    /// Rack PSU storage per GPU: ~65 J (GB300 NVL72 electrolytic capacitors, calibration row 22, S).
    pub const RACK_J_PER_GPU: f64 = 65.0;
    /// Rack storage efficiency (A: capacitor bank and its DC-DC stage).
    pub const RACK_EFFICIENCY: f64 = 0.95;
    /// Rack storage control time constant (A): sub-second, the 50 ms EDP and step-edge scale of
    /// calibration 1.1 (S); longer would only saturate 65 J.
    pub const RACK_TAU_S: f64 = 0.2;
    /// On-site turbine ramp limit: 50 MW/min, the upper end of fossil-generator ramp rates,
    /// 5-50 MW/min (SemiAnalysis 2025-06-25, P).
    pub const TURBINE_RAMP_W_PER_S: f64 = 50e6 / 60.0;
}

/// A storage system and its controller settings.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Storage {
    pub power_w: f64,
    pub energy_j: f64,
    /// Round-trip efficiency, split evenly between charge and discharge (sqrt each way).
    pub efficiency: f64,
    pub soc_min_fraction: f64,
    pub soc_max_fraction: f64,
    /// The controller's grid target follows the load's exponential moving average over `tau_s`.
    pub tau_s: f64,
    /// ... corrected toward mid state of charge over `soc_tau_s`.
    pub soc_tau_s: f64,
}

impl Storage {
    pub fn site_battery(power_w: f64, energy_j: f64, efficiency: f64) -> Storage {
        Storage {
            power_w,
            energy_j,
            efficiency,
            soc_min_fraction: defaults::SOC_MIN,
            soc_max_fraction: defaults::SOC_MAX,
            tau_s: defaults::BATTERY_TAU_S,
            soc_tau_s: defaults::SOC_TAU_S,
        }
    }

    /// Rack PSU storage of `j_per_gpu` for `gpus`; its power is not the limit (capacitors).
    pub fn rack(j_per_gpu: f64, gpus: f64, peak_w: f64) -> Storage {
        Storage {
            power_w: peak_w.max(0.0),
            energy_j: j_per_gpu * gpus,
            efficiency: defaults::RACK_EFFICIENCY,
            soc_min_fraction: 0.0,
            soc_max_fraction: 1.0,
            tau_s: defaults::RACK_TAU_S,
            soc_tau_s: defaults::RACK_TAU_S * 10.0,
        }
    }

    pub fn soc_mid_j(&self) -> f64 {
        0.5 * (self.soc_min_fraction + self.soc_max_fraction) * self.energy_j
    }
}

/// What storage did over a trace.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StorageRun {
    /// Power drawn upstream: load minus discharge (plus charge).
    pub upstream: Trace,
    /// State of charge at the end of each sample, J.
    pub soc_j: Vec<f64>,
    pub soc_start_j: f64,
    pub soc_end_j: f64,
    pub soc_min_j: f64,
    pub soc_max_j: f64,
    /// Energy delivered to the load (discharge) and taken from upstream (charge), J.
    pub discharged_j: f64,
    pub charged_j: f64,
    /// Energy lost to round-trip inefficiency, J.
    pub losses_j: f64,
    /// Time the controller wanted more than the power or state-of-charge limits allowed, s.
    pub saturated_s: f64,
}

/// Run the storage controller over `load`:
///
/// 1. target = exponential moving average of the load over `tau_s`, minus
///    (state of charge - mid) / `soc_tau_s` (discharge when full, recharge when empty);
/// 2. the target moves by at most `ramp_up`/`ramp_down` x dt from the last upstream power (so a
///    grid code's ramp limits hold while the storage has room);
/// 3. storage power = load - target, clipped to +/- `power_w` and to what keeps the state of charge
///    within its bounds; upstream = load - storage power.
pub fn run_storage(
    load: &Trace,
    s: &Storage,
    ramp_up_w_per_s: Option<f64>,
    ramp_down_w_per_s: Option<f64>,
) -> StorageRun {
    let n = load.w.len();
    let dt = load.dt_s;
    let eta_half = s.efficiency.clamp(1e-9, 1.0).sqrt();
    let lo = s.soc_min_fraction * s.energy_j;
    let hi = s.soc_max_fraction * s.energy_j;
    let mut soc = s.soc_mid_j().clamp(lo, hi);
    let soc_start = soc;
    let mut out = StorageRun {
        upstream: Trace {
            t0_s: load.t0_s,
            dt_s: dt,
            w: Vec::with_capacity(n),
        },
        soc_j: Vec::with_capacity(n),
        soc_start_j: soc,
        soc_min_j: soc,
        soc_max_j: soc,
        ..Default::default()
    };
    if n == 0 {
        out.soc_end_j = soc;
        return out;
    }
    // The controller has been running before the window: start from the load's mean over tau.
    let m0 = ((s.tau_s / dt).ceil() as usize).clamp(1, n);
    let mut ema = load.w[..m0].iter().sum::<f64>() / m0 as f64;
    let alpha = 1.0 - (-dt / s.tau_s.max(1e-12)).exp();
    let up = ramp_up_w_per_s.map(|r| r * dt).unwrap_or(f64::INFINITY);
    let down = ramp_down_w_per_s.map(|r| r * dt).unwrap_or(f64::INFINITY);
    let mut prev = ema;
    let active = s.energy_j > 0.0 && s.power_w > 0.0;
    for &l in &load.w {
        ema += alpha * (l - ema);
        let mut b = 0.0;
        if active {
            let want = ema - (soc - s.soc_mid_j()) / s.soc_tau_s.max(1e-12);
            let target = want.clamp(prev - down, prev + up);
            let req = l - target;
            b = req.clamp(-s.power_w, s.power_w);
            if b > 0.0 {
                b = b.min(((soc - lo).max(0.0)) * eta_half / dt);
            } else if b < 0.0 {
                b = b.max(-((hi - soc).max(0.0)) / (eta_half * dt));
            }
            if (b - req).abs() > 1e-9 * (1.0 + req.abs()) {
                out.saturated_s += dt;
            }
            if b > 0.0 {
                soc -= b * dt / eta_half;
                out.discharged_j += b * dt;
            } else {
                soc += -b * dt * eta_half;
                out.charged_j += -b * dt;
            }
            soc = soc.clamp(lo, hi);
        }
        let g = l - b;
        prev = g;
        out.upstream.w.push(g);
        out.soc_j.push(soc);
        out.soc_min_j = out.soc_min_j.min(soc);
        out.soc_max_j = out.soc_max_j.max(soc);
    }
    out.soc_end_j = soc;
    out.losses_j = out.charged_j - out.discharged_j - (soc - soc_start);
    out
}

/// On-site generation with a ramp limit.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Turbines {
    pub capacity_w: f64,
    pub ramp_w_per_s: f64,
}

/// Turbine output over `load`: follows the load (up to capacity) no faster than the ramp limit,
/// starting from its steady output at the window's mean load. The grid takes the rest
/// (`load - output`, negative when the turbines cannot ramp down fast enough: export).
pub fn dispatch_turbines(load: &Trace, t: &Turbines) -> Trace {
    let step = t.ramp_w_per_s.max(0.0) * load.dt_s;
    let mut prev = load.mean_w().clamp(0.0, t.capacity_w.max(0.0));
    let w = load
        .w
        .iter()
        .map(|&l| {
            let target = l.clamp(0.0, t.capacity_w.max(0.0));
            prev = target.clamp(prev - step, prev + step);
            prev
        })
        .collect();
    Trace {
        t0_s: load.t0_s,
        dt_s: load.dt_s,
        w,
    }
}
