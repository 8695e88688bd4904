//! Energy storage between the load and the grid (a site battery, or rack-level PSU storage), with
//! its control law, and the on-site generator fleet's description.

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

/// The storage controller's settings over one trace, each computed once from a [`Storage`], the
/// trace's sample step and the ramp limits the upstream target keeps (see [`run_storage`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Controller {
    pub dt_s: f64,
    /// Square root of the round-trip efficiency (each way).
    pub eta_half: f64,
    /// State-of-charge bounds, J.
    pub soc_lo_j: f64,
    pub soc_hi_j: f64,
    /// The state of charge the controller restores toward, J.
    pub soc_mid_j: f64,
    pub soc_tau_s: f64,
    pub power_w: f64,
    /// Weight of each new sample in the moving average: `1 - exp(-dt / tau)`.
    pub alpha: f64,
    /// Largest rise and fall of the upstream target per sample, W (infinite: no limit).
    pub up_w: f64,
    pub down_w: f64,
    /// Whether the storage can do anything (energy and power above zero).
    pub active: bool,
}

/// What the controller carries from one sample to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ControllerState {
    /// Moving average of the load, W.
    pub ema_w: f64,
    pub soc_j: f64,
    /// Last upstream power, W.
    pub prev_w: f64,
    pub discharged_j: f64,
    pub charged_j: f64,
    pub saturated_s: f64,
}

/// One sample of the controller, with what a search over storage sizes needs to know of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepOut {
    /// Upstream power, W.
    pub upstream_w: f64,
    /// What the controller asked of the storage before its power and state-of-charge limits, W.
    pub request_w: f64,
    /// Storage power after the limits (positive: discharge), W.
    pub storage_w: f64,
}

impl Controller {
    pub fn new(
        s: &Storage,
        dt_s: f64,
        ramp_up_w_per_s: Option<f64>,
        ramp_down_w_per_s: Option<f64>,
    ) -> Controller {
        Controller {
            dt_s,
            eta_half: s.efficiency.clamp(1e-9, 1.0).sqrt(),
            soc_lo_j: s.soc_min_fraction * s.energy_j,
            soc_hi_j: s.soc_max_fraction * s.energy_j,
            soc_mid_j: s.soc_mid_j(),
            soc_tau_s: s.soc_tau_s.max(1e-12),
            power_w: s.power_w,
            alpha: 1.0 - (-dt_s / s.tau_s.max(1e-12)).exp(),
            up_w: ramp_up_w_per_s.map(|r| r * dt_s).unwrap_or(f64::INFINITY),
            down_w: ramp_down_w_per_s.map(|r| r * dt_s).unwrap_or(f64::INFINITY),
            active: s.energy_j > 0.0 && s.power_w > 0.0,
        }
    }

    /// The state before the first sample of `load`: half full (within its bounds), and the
    /// controller running before the window, so its average starts at the load's mean over the
    /// first `tau_s` (at least one sample).
    pub fn start(&self, s: &Storage, load: &[f64]) -> ControllerState {
        let n = load.len();
        let soc = self.soc_mid_j.clamp(self.soc_lo_j, self.soc_hi_j);
        let m0 = ((s.tau_s / self.dt_s).ceil() as usize).clamp(1, n.max(1));
        let ema = if n == 0 {
            0.0
        } else {
            load[..m0].iter().sum::<f64>() / m0 as f64
        };
        ControllerState {
            ema_w: ema,
            soc_j: soc,
            prev_w: ema,
            ..Default::default()
        }
    }

    /// One sample of load `l_w` (the law of [`run_storage`]).
    #[inline(always)]
    pub fn step(&self, st: &mut ControllerState, l_w: f64) -> StepOut {
        let dt = self.dt_s;
        st.ema_w += self.alpha * (l_w - st.ema_w);
        let mut b = 0.0;
        let mut req = 0.0;
        if self.active {
            let want = st.ema_w - (st.soc_j - self.soc_mid_j) / self.soc_tau_s;
            let target = want.clamp(st.prev_w - self.down_w, st.prev_w + self.up_w);
            req = l_w - target;
            b = req.clamp(-self.power_w, self.power_w);
            if b > 0.0 {
                b = b.min(((st.soc_j - self.soc_lo_j).max(0.0)) * self.eta_half / dt);
            } else if b < 0.0 {
                b = b.max(-((self.soc_hi_j - st.soc_j).max(0.0)) / (self.eta_half * dt));
            }
            if (b - req).abs() > 1e-9 * (1.0 + req.abs()) {
                st.saturated_s += dt;
            }
            if b > 0.0 {
                st.soc_j -= b * dt / self.eta_half;
                st.discharged_j += b * dt;
            } else {
                st.soc_j += -b * dt * self.eta_half;
                st.charged_j += -b * dt;
            }
            st.soc_j = st.soc_j.clamp(self.soc_lo_j, self.soc_hi_j);
        }
        let g = l_w - b;
        st.prev_w = g;
        StepOut {
            upstream_w: g,
            request_w: req,
            storage_w: b,
        }
    }
}

impl Controller {
    /// [`Controller::step`] of a controller without power or state-of-charge limits
    /// (`power_w` infinite, bounds at minus and plus infinity, active), with the limits that
    /// cannot bind left out: for finite values, the same state and upstream power, bit for bit
    /// (clamping to infinite bounds and the minimum with an infinite limit return the value
    /// itself), except the saturated time, which it does not count.
    #[inline(always)]
    pub fn step_unlimited(&self, st: &mut ControllerState, l_w: f64) -> StepOut {
        let dt = self.dt_s;
        st.ema_w += self.alpha * (l_w - st.ema_w);
        let want = st.ema_w - (st.soc_j - self.soc_mid_j) / self.soc_tau_s;
        let target = want.clamp(st.prev_w - self.down_w, st.prev_w + self.up_w);
        let req = l_w - target;
        let b = req;
        if b > 0.0 {
            st.soc_j -= b * dt / self.eta_half;
            st.discharged_j += b * dt;
        } else {
            st.soc_j += -b * dt * self.eta_half;
            st.charged_j += -b * dt;
        }
        let g = l_w - b;
        st.prev_w = g;
        StepOut {
            upstream_w: g,
            request_w: req,
            storage_w: b,
        }
    }
}

impl Controller {
    /// [`Controller::step`] when the state-of-charge limits cannot bind (the state of charge
    /// provably stays well inside its bounds): the same state and upstream power, bit for bit,
    /// except the saturated time, which it does not count. The power limit applies.
    #[inline(always)]
    pub fn step_within_charge(&self, st: &mut ControllerState, l_w: f64) -> StepOut {
        let dt = self.dt_s;
        st.ema_w += self.alpha * (l_w - st.ema_w);
        let want = st.ema_w - (st.soc_j - self.soc_mid_j) / self.soc_tau_s;
        let target = want.clamp(st.prev_w - self.down_w, st.prev_w + self.up_w);
        let req = l_w - target;
        let b = req.clamp(-self.power_w, self.power_w);
        if b > 0.0 {
            st.soc_j -= b * dt / self.eta_half;
            st.discharged_j += b * dt;
        } else {
            st.soc_j += -b * dt * self.eta_half;
            st.charged_j += -b * dt;
        }
        let g = l_w - b;
        st.prev_w = g;
        StepOut {
            upstream_w: g,
            request_w: req,
            storage_w: b,
        }
    }

    /// Whether the state-of-charge limits cannot bind over the next `samples` samples from
    /// `soc_j` (at most the power each sample, through the efficiency, with margins): then
    /// [`Controller::step_within_charge`] is [`Controller::step`].
    pub fn charge_stays_inside(&self, soc_j: f64, samples: usize) -> bool {
        let drift = samples as f64 * self.power_w * self.dt_s / self.eta_half * (1.0 + 1e-9);
        let (lo, hi) = (soc_j - drift, soc_j + drift);
        self.active
            && self.power_w.is_finite()
            && lo > self.soc_lo_j
            && hi < self.soc_hi_j
            && (lo - self.soc_lo_j) * self.eta_half / self.dt_s * (1.0 - 1e-9) > self.power_w
            && (self.soc_hi_j - hi) / (self.eta_half * self.dt_s) * (1.0 - 1e-9) > self.power_w
    }
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
    let c = Controller::new(s, dt, ramp_up_w_per_s, ramp_down_w_per_s);
    let mut st = c.start(s, &load.w);
    let soc_start = st.soc_j;
    let mut out = StorageRun {
        upstream: Trace {
            t0_s: load.t0_s,
            dt_s: dt,
            w: Vec::with_capacity(n),
        },
        soc_j: Vec::with_capacity(n),
        soc_start_j: soc_start,
        soc_min_j: soc_start,
        soc_max_j: soc_start,
        ..Default::default()
    };
    if n == 0 {
        out.soc_end_j = soc_start;
        return out;
    }
    for &l in &load.w {
        let g = c.step(&mut st, l).upstream_w;
        out.upstream.w.push(g);
        out.soc_j.push(st.soc_j);
        out.soc_min_j = out.soc_min_j.min(st.soc_j);
        out.soc_max_j = out.soc_max_j.max(st.soc_j);
    }
    finish(&mut out, &st, soc_start);
    out
}

/// [`run_storage`] of each `(load, storage)` pair, four at a time side by side (each run is a chain
/// of dependent samples; interleaved, they keep the processor busy): the same runs, bit for bit,
/// without the state-of-charge trace (`soc_j` empty; its bounds and ends are kept).
pub fn run_storages(
    runs: &[(&Trace, Storage)],
    ramp_up_w_per_s: Option<f64>,
    ramp_down_w_per_s: Option<f64>,
) -> Vec<StorageRun> {
    let mut out = Vec::with_capacity(runs.len());
    for part in runs.chunks(4) {
        let n = part[0].0.w.len();
        if part.len() < 2 || part.iter().any(|(l, _)| l.w.len() != n) || n == 0 {
            for (l, s) in part {
                let mut r = run_storage(l, s, ramp_up_w_per_s, ramp_down_w_per_s);
                r.soc_j = vec![];
                out.push(r);
            }
            continue;
        }
        let k = part.len();
        let ctl: Vec<Controller> = part
            .iter()
            .map(|(l, s)| Controller::new(s, l.dt_s, ramp_up_w_per_s, ramp_down_w_per_s))
            .collect();
        let mut st: Vec<ControllerState> = part
            .iter()
            .zip(&ctl)
            .map(|((l, s), c)| c.start(s, &l.w))
            .collect();
        let mut res: Vec<StorageRun> = part
            .iter()
            .zip(&st)
            .map(|((l, _), st)| StorageRun {
                upstream: Trace {
                    t0_s: l.t0_s,
                    dt_s: l.dt_s,
                    w: Vec::with_capacity(n),
                },
                soc_start_j: st.soc_j,
                soc_min_j: st.soc_j,
                soc_max_j: st.soc_j,
                ..Default::default()
            })
            .collect();
        let loads: Vec<&[f64]> = part.iter().map(|(l, _)| &l.w[..]).collect();
        for i in 0..n {
            for (j, load) in loads.iter().enumerate().take(k) {
                let g = ctl[j].step(&mut st[j], load[i]).upstream_w;
                let r = &mut res[j];
                r.upstream.w.push(g);
                r.soc_min_j = r.soc_min_j.min(st[j].soc_j);
                r.soc_max_j = r.soc_max_j.max(st[j].soc_j);
            }
        }
        for (mut r, st) in res.into_iter().zip(&st) {
            let soc_start = r.soc_start_j;
            finish(&mut r, st, soc_start);
            out.push(r);
        }
    }
    out
}

/// [`run_storage`]'s totals without its traces: what a search over storage sizes needs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StorageTotals {
    pub discharged_j: f64,
    pub charged_j: f64,
    pub losses_j: f64,
}

/// The totals of a run from its final state: the round-trip losses are what was charged and not
/// discharged nor left in store. Losses are never negative (a round-trip efficiency is at most
/// 1); at 100 % the difference is round-off of either sign, clamped to zero.
pub fn totals(st: &ControllerState, soc_start_j: f64) -> StorageTotals {
    StorageTotals {
        discharged_j: st.discharged_j,
        charged_j: st.charged_j,
        losses_j: (st.charged_j - st.discharged_j - (st.soc_j - soc_start_j)).max(0.0),
    }
}

fn finish(out: &mut StorageRun, st: &ControllerState, soc_start_j: f64) {
    let t = totals(st, soc_start_j);
    out.soc_end_j = st.soc_j;
    out.discharged_j = t.discharged_j;
    out.charged_j = t.charged_j;
    out.saturated_s = st.saturated_s;
    out.losses_j = t.losses_j;
}

/// An on-site generator fleet: its capacity, the ramp limit of the whole fleet, the rating of
/// one unit (a fleet is committed in whole units) and the lowest stable output of the running
/// units as a share of their capacity. How it runs against a load and a grid connection is
/// [`crate::supply`]'s.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Turbines {
    pub capacity_w: f64,
    pub ramp_w_per_s: f64,
    /// 0: one unit of the whole capacity.
    #[serde(default)]
    pub unit_w: f64,
    #[serde(default)]
    pub min_load_fraction: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A swinging load with a drop and a climb, at 10 ms.
    fn load() -> Trace {
        let w = (0..30_000)
            .map(|i| {
                let t = i as f64 * 0.01;
                let base = if (100.0..160.0).contains(&t) {
                    80e6
                } else {
                    120e6
                };
                base + 20e6 * ((t * 0.8).fract() < 0.7) as u8 as f64
            })
            .collect();
        Trace {
            t0_s: 0.0,
            dt_s: 0.01,
            w,
        }
    }

    #[test]
    fn unlimited_step_is_the_step_with_no_limits_that_bind() {
        let l = load();
        let s = Storage::site_battery(1e12, 1e16, 0.85);
        let mut c = Controller::new(&s, l.dt_s, Some(833e3), Some(833e3));
        c.power_w = f64::INFINITY;
        c.soc_lo_j = f64::NEG_INFINITY;
        c.soc_hi_j = f64::INFINITY;
        let (mut a, mut b) = (c.start(&s, &l.w), c.start(&s, &l.w));
        for &x in &l.w {
            let (p, q) = (c.step(&mut a, x), c.step_unlimited(&mut b, x));
            assert_eq!(p.upstream_w.to_bits(), q.upstream_w.to_bits());
            assert_eq!(p.request_w.to_bits(), q.request_w.to_bits());
            for (u, v) in [
                (a.ema_w, b.ema_w),
                (a.soc_j, b.soc_j),
                (a.prev_w, b.prev_w),
                (a.charged_j, b.charged_j),
                (a.discharged_j, b.discharged_j),
            ] {
                assert_eq!(u.to_bits(), v.to_bits());
            }
        }
    }

    #[test]
    fn step_within_charge_is_the_step_while_the_charge_stays_inside() {
        let l = load();
        // a battery that saturates in power (30 MW against swings of 40 MW) with room to spare
        // in energy
        let s = Storage::site_battery(30e6, 30e6 * 7200.0, 0.85);
        let c = Controller::new(&s, l.dt_s, Some(833e3), Some(833e3));
        let (mut a, mut b) = (c.start(&s, &l.w), c.start(&s, &l.w));
        assert!(c.charge_stays_inside(a.soc_j, l.w.len()));
        let mut saturated = 0;
        for &x in &l.w {
            let (p, q) = (c.step(&mut a, x), c.step_within_charge(&mut b, x));
            saturated += (p.storage_w != p.request_w) as usize;
            assert_eq!(p.upstream_w.to_bits(), q.upstream_w.to_bits());
            for (u, v) in [
                (a.ema_w, b.ema_w),
                (a.soc_j, b.soc_j),
                (a.prev_w, b.prev_w),
                (a.charged_j, b.charged_j),
                (a.discharged_j, b.discharged_j),
            ] {
                assert_eq!(u.to_bits(), v.to_bits());
            }
        }
        assert!(saturated > 100, "{saturated}");
        // a small store is not inside for long
        let tiny = Storage::site_battery(30e6, 1e6, 0.85);
        let ct = Controller::new(&tiny, l.dt_s, None, None);
        assert!(!ct.charge_stays_inside(ct.start(&tiny, &l.w).soc_j, 1000));
    }

    #[test]
    fn runs_side_by_side_are_the_runs_alone() {
        let l = load();
        let mut l2 = l.clone();
        for x in &mut l2.w {
            *x *= 0.7;
        }
        let runs = [
            (&l, Storage::site_battery(30e6, 60e9, 0.85)),
            (&l2, Storage::site_battery(10e6, 1e9, 0.9)),
            (&l, Storage::rack(65.0, 1e5, 140e6)),
        ];
        let got = run_storages(&runs, Some(833e3), Some(833e3));
        for ((ld, s), g) in runs.iter().zip(&got) {
            let r = run_storage(ld, s, Some(833e3), Some(833e3));
            let bits = |w: &[f64]| w.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&g.upstream.w), bits(&r.upstream.w));
            for (u, v) in [
                (g.losses_j, r.losses_j),
                (g.soc_min_j, r.soc_min_j),
                (g.soc_max_j, r.soc_max_j),
                (g.soc_end_j, r.soc_end_j),
                (g.saturated_s, r.saturated_s),
            ] {
                assert_eq!(u.to_bits(), v.to_bits());
            }
            assert!(g.soc_j.is_empty());
        }
    }
}
