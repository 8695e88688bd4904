//! The site's supply against its facility load: on-site generators with their ramp and
//! minimum-load limits, the site battery, and the grid connection with its import and export
//! limits. Sign convention: grid import is positive when the site draws from the grid, negative
//! when it exports; battery power is positive when it discharges into the site; at every sample
//! `import = load − generation − battery`.
//!
//! How the generators run depends on whether the grid can carry the load:
//!
//! - **Base load** (the connection carries the window's peak, or is not given): the units that
//!   fit under the window's lowest load (plus the export the connection allows) run flat at full
//!   output; the grid (smoothed by the battery, as without generation) follows the load. A flat
//!   output adds no swing of its own.
//! - **Load following** (the connection is short of the peak; islanded when it is zero): the grid
//!   carries a steady share (at most the connection, at most the window's lowest load); the
//!   generators follow the rest within their ramp rate and between their minimum load and the
//!   capacity of the units committed (enough to carry the peak), steering toward the load's
//!   moving average corrected toward the battery's mid charge; the battery covers what they
//!   cannot follow. What neither covers reaches the grid: above the connection it is flagged (for
//!   an islanded site, load the plant cannot serve); generation the site cannot take beyond the
//!   export allowed is curtailed (the units must shed it faster than their ramp: flagged).
//!
//! The units committed stay committed over the window (A: the plant keeps its units spinning
//! through a training window; starts take minutes, calibration campus sources G1-G4).

use crate::storage::{Storage, Turbines};
use crate::trace::Trace;
use serde::{Deserialize, Serialize};

/// The grid connection.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Connection {
    /// Largest import; `None`: not given (not checked). Zero: islanded.
    pub import_w: Option<f64>,
    /// Largest export allowed.
    pub export_w: f64,
}

impl Connection {
    pub fn islanded(&self) -> bool {
        self.import_w == Some(0.0)
    }
}

/// How the generators run over the window.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Flat at `committed_w`, under the load's floor; the grid follows.
    BaseLoad,
    /// Following the load above the grid's steady share `grid_base_w`.
    LoadFollowing,
}

/// The units committed over the window and how they run.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Commitment {
    pub mode: Mode,
    pub units: u64,
    pub committed_w: f64,
    pub min_load_w: f64,
    /// The committed units' ramp limit.
    pub ramp_w_per_s: f64,
    /// The grid's steady share while the generators follow the load.
    pub grid_base_w: f64,
}

/// The units to commit for `load` (the facility power before the battery) on `connection`.
pub fn commit(load: &Trace, t: &Turbines, c: &Connection) -> Commitment {
    let cap = t.capacity_w.max(0.0);
    let unit = if t.unit_w > 0.0 {
        t.unit_w.min(cap)
    } else {
        cap
    };
    let (peak, floor) = (load.peak_w(), load.min_w().max(0.0));
    let whole = |w: f64, up: bool| -> (u64, f64) {
        if unit <= 0.0 || !w.is_finite() {
            return (0, 0.0);
        }
        let n = if up {
            (w / unit - 1e-9).ceil()
        } else {
            (w / unit + 1e-9).floor()
        }
        .max(0.0)
        .min((cap / unit - 1e-9).ceil());
        (n as u64, (n * unit).min(cap))
    };
    let per_w = if cap > 0.0 {
        t.ramp_w_per_s.max(0.0) / cap
    } else {
        0.0
    };
    match c.import_w {
        Some(g) if g < peak => {
            let base = g.max(0.0).min(floor);
            let (units, k) = whole(peak - base, true);
            Commitment {
                mode: Mode::LoadFollowing,
                units,
                committed_w: k,
                min_load_w: t.min_load_fraction.clamp(0.0, 1.0) * k,
                ramp_w_per_s: per_w * k,
                grid_base_w: base,
            }
        }
        _ => {
            let (units, k) = whole(floor + c.export_w.max(0.0), false);
            Commitment {
                mode: Mode::BaseLoad,
                units,
                committed_w: k,
                min_load_w: t.min_load_fraction.clamp(0.0, 1.0) * k,
                ramp_w_per_s: per_w * k,
                grid_base_w: 0.0,
            }
        }
    }
}

/// What the supply did over the window, sample by sample and in total.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SupplyRun {
    /// Grid import (negative: export).
    pub import: Trace,
    /// Generation delivered to the site (after curtailment).
    pub generation: Trace,
    /// Battery power (positive: discharge), for load-following runs (base-load runs keep the
    /// battery upstream of the generators, see [`base_load_import`]).
    pub battery: Trace,
    /// Generation the site could not take, W per sample.
    pub curtailed: Trace,
    pub curtailed_j: f64,
    pub curtailed_s: f64,
    /// State of charge at the end of each sample, and the battery's bounds and totals.
    pub soc_j: Vec<f64>,
    pub soc_start_j: f64,
    pub soc_end_j: f64,
    pub soc_min_j: f64,
    pub soc_max_j: f64,
    pub discharged_j: f64,
    pub charged_j: f64,
    pub losses_j: f64,
    pub saturated_s: f64,
}

/// Base load: the grid import of an upstream trace (the facility after the battery) with the
/// committed units flat at `committed_w`, export beyond `export_w` curtailed. Returns the import
/// and the curtailed power.
pub fn base_load_import(up: &Trace, committed_w: f64, export_w: f64) -> (Trace, Trace) {
    let mut import = up.clone();
    let mut cut = Trace::zeros(up.t0_s, up.dt_s, up.w.len());
    for (x, c) in import.w.iter_mut().zip(cut.w.iter_mut()) {
        *x -= committed_w;
        if *x < -export_w {
            *c = -export_w - *x;
            *x = -export_w;
        }
    }
    (import, cut)
}

/// Load following: the generators and the battery follow `load` above the grid's steady share.
pub fn follow(
    load: &Trace,
    k: &Commitment,
    battery: Option<&Storage>,
    c: &Connection,
) -> SupplyRun {
    let n = load.w.len();
    let dt = load.dt_s;
    let (lo, hi) = (k.min_load_w, k.committed_w.max(k.min_load_w));
    let step = k.ramp_w_per_s * dt;
    let base = k.grid_base_w;
    // The battery, its controller constants as the grid-following controller's.
    let b = battery
        .copied()
        .filter(|b| b.energy_j > 0.0 && b.power_w > 0.0);
    let eta = b.map_or(1.0, |b| b.efficiency.clamp(1e-9, 1.0).sqrt());
    let (soc_lo, soc_hi, soc_mid, soc_tau, power, tau) = match b {
        Some(b) => (
            b.soc_min_fraction * b.energy_j,
            b.soc_max_fraction * b.energy_j,
            b.soc_mid_j(),
            b.soc_tau_s.max(1e-12),
            b.power_w,
            b.tau_s.max(1e-12),
        ),
        None => (
            0.0,
            0.0,
            0.0,
            1.0,
            0.0,
            crate::storage::defaults::BATTERY_TAU_S,
        ),
    };
    let alpha = 1.0 - (-dt / tau).exp();
    let share = |l: f64| l - base;
    let m0 = ((tau / dt).ceil() as usize).clamp(1, n.max(1));
    let mut ema = if n == 0 {
        0.0
    } else {
        load.w[..m0].iter().map(|&l| share(l)).sum::<f64>() / m0 as f64
    };
    let mut g = ema.clamp(lo, hi);
    let mut soc = soc_mid.clamp(soc_lo, soc_hi);
    let mut out = SupplyRun {
        import: Trace::zeros(load.t0_s, dt, n),
        generation: Trace::zeros(load.t0_s, dt, n),
        battery: Trace::zeros(load.t0_s, dt, n),
        curtailed: Trace::zeros(load.t0_s, dt, n),
        soc_start_j: soc,
        soc_min_j: soc,
        soc_max_j: soc,
        ..Default::default()
    };
    if b.is_some() {
        out.soc_j = Vec::with_capacity(n);
    }
    let export = c.export_w.max(0.0);
    for (i, &l) in load.w.iter().enumerate() {
        let lp = share(l);
        ema += alpha * (lp - ema);
        let want = if b.is_some() {
            ema - (soc - soc_mid) / soc_tau
        } else {
            lp
        };
        g = want.clamp(g - step, g + step).clamp(lo, hi);
        let mut bat = 0.0;
        if b.is_some() {
            let req = lp - g;
            bat = req.clamp(-power, power);
            if bat > 0.0 {
                bat = bat.min((soc - soc_lo).max(0.0) * eta / dt);
            } else if bat < 0.0 {
                bat = bat.max(-((soc_hi - soc).max(0.0)) / (eta * dt));
            }
            if (bat - req).abs() > 1e-9 * (1.0 + req.abs()) {
                out.saturated_s += dt;
            }
            if bat > 0.0 {
                soc -= bat * dt / eta;
                out.discharged_j += bat * dt;
            } else {
                soc += -bat * dt * eta;
                out.charged_j += -bat * dt;
            }
            soc = soc.clamp(soc_lo, soc_hi);
            out.soc_j.push(soc);
            out.soc_min_j = out.soc_min_j.min(soc);
            out.soc_max_j = out.soc_max_j.max(soc);
        }
        let mut import = l - g - bat;
        let mut delivered = g;
        if import < -export {
            let cut = -export - import;
            delivered -= cut;
            import = -export;
            out.curtailed.w[i] = cut;
            out.curtailed_j += cut * dt;
            out.curtailed_s += dt;
        }
        out.import.w[i] = import;
        out.generation.w[i] = delivered;
        out.battery.w[i] = bat;
    }
    out.soc_end_j = soc;
    out.losses_j = out.charged_j - out.discharged_j - (soc - out.soc_start_j);
    out
}

/// Import above the connection over a trace: (time, energy, largest excess).
pub fn over_connection(import: &Trace, c: &Connection) -> (f64, f64, f64) {
    let Some(g) = c.import_w else {
        return (0.0, 0.0, 0.0);
    };
    let (mut s, mut j, mut peak) = (0.0, 0.0, 0.0f64);
    for &x in &import.w {
        // (a relative 1e-9 for rounding, as the grid-code rules)
        if x > g * (1.0 + 1e-9) + 1e-6 {
            s += import.dt_s;
            j += (x - g) * import.dt_s;
            peak = peak.max(x - g);
        }
    }
    (s, j, peak)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swing(n: usize, hi: f64, lo: f64) -> Trace {
        Trace {
            t0_s: 0.0,
            dt_s: 0.01,
            w: (0..n)
                .map(|i| if (i / 80) % 2 == 0 { hi } else { lo })
                .collect(),
        }
    }

    fn fleet(cap: f64, unit: f64) -> Turbines {
        Turbines {
            capacity_w: cap,
            ramp_w_per_s: 0.5 / 60.0 * cap,
            unit_w: unit,
            min_load_fraction: 0.25,
        }
    }

    #[test]
    fn base_load_fits_whole_units_under_the_floor() {
        let load = swing(10_000, 129e6, 81e6);
        let c = Connection {
            import_w: Some(150e6),
            export_w: 0.0,
        };
        let k = commit(&load, &fleet(300e6, 46e6), &c);
        assert_eq!(k.mode, Mode::BaseLoad);
        assert_eq!(k.units, 1);
        assert_eq!(k.committed_w, 46e6);
        let (imp, cut) = base_load_import(&load, k.committed_w, 0.0);
        assert!(imp.w.iter().all(|&x| x >= 0.0));
        assert!(cut.w.iter().all(|&x| x == 0.0));
        // the swing stays the load's: flat generation adds none
        assert_eq!(imp.swing_w(), load.swing_w());
    }

    #[test]
    fn islanded_without_a_battery_cannot_follow_a_training_swing() {
        let load = swing(10_000, 129e6, 81e6);
        let c = Connection {
            import_w: Some(0.0),
            export_w: 0.0,
        };
        let k = commit(&load, &fleet(300e6, 46e6), &c);
        assert_eq!(k.mode, Mode::LoadFollowing);
        assert_eq!(k.units, 3);
        let r = follow(&load, &k, None, &c);
        // never exports, never breaks the identity
        for i in 0..load.w.len() {
            assert!(r.import.w[i] >= -1e-6);
            let id = load.w[i] - r.generation.w[i] - r.battery.w[i] - r.import.w[i];
            assert!(id.abs() < 1e-6 * load.w[i], "{i}: {id}");
        }
        let (over_s, _, _) = over_connection(&r.import, &c);
        assert!(over_s > 0.0 && r.curtailed_j > 0.0);
    }

    #[test]
    fn islanded_with_a_battery_follows_within_its_limits() {
        let load = swing(60_000, 129e6, 81e6);
        let c = Connection {
            import_w: Some(0.0),
            export_w: 0.0,
        };
        let t = fleet(300e6, 46e6);
        let k = commit(&load, &t, &c);
        let b = Storage::site_battery(100e6, 100e6 * 3600.0, 0.85);
        let r = follow(&load, &k, Some(&b), &c);
        let (over_s, _, _) = over_connection(&r.import, &c);
        assert_eq!(over_s, 0.0);
        assert_eq!(r.curtailed_j, 0.0);
        for p in r.generation.w.windows(2) {
            assert!((p[1] - p[0]).abs() <= k.ramp_w_per_s * 0.01 * (1.0 + 1e-9) + 1.0);
        }
        assert!(r.generation.w.iter().all(|&g| g >= k.min_load_w - 1e-6));
    }
}
