//! The cluster power trace: piecewise-constant per synchronised group (never per GPU), averaged
//! exactly into uniform bins, so the sampled trace integrates to the same energy as the phases.

use crate::draw::{Cluster, Group};
use crate::profile::{RunInterval, RunState, StepShape};
use serde::{Deserialize, Serialize};

/// A uniformly sampled power trace: `w[i]` is the mean power over `[t0_s + i dt_s, t0_s + (i+1) dt_s)`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Trace {
    pub t0_s: f64,
    pub dt_s: f64,
    pub w: Vec<f64>,
}

impl Trace {
    pub fn zeros(t0_s: f64, dt_s: f64, n: usize) -> Trace {
        Trace {
            t0_s,
            dt_s,
            w: vec![0.0; n],
        }
    }
    pub fn duration_s(&self) -> f64 {
        self.dt_s * self.w.len() as f64
    }
    /// Energy: the sum of mean powers times the bin width.
    pub fn energy_j(&self) -> f64 {
        self.w.iter().sum::<f64>() * self.dt_s
    }
    pub fn mean_w(&self) -> f64 {
        if self.w.is_empty() {
            0.0
        } else {
            self.w.iter().sum::<f64>() / self.w.len() as f64
        }
    }
    pub fn peak_w(&self) -> f64 {
        self.w.iter().copied().fold(0.0, f64::max)
    }
    pub fn min_w(&self) -> f64 {
        if self.w.is_empty() {
            0.0
        } else {
            self.w.iter().copied().fold(f64::INFINITY, f64::min)
        }
    }
    /// Peak minus minimum.
    pub fn swing_w(&self) -> f64 {
        self.peak_w() - self.min_w()
    }

    /// Add a constant `value_w` over `[a, b)` (seconds), averaged into the bins it overlaps.
    pub fn add_segment(&mut self, a: f64, b: f64, value_w: f64) {
        let n = self.w.len();
        if n == 0 || !(b > a) || value_w == 0.0 {
            return;
        }
        let end = self.t0_s + self.duration_s();
        let a = a.max(self.t0_s);
        let b = b.min(end);
        if !(b > a) {
            return;
        }
        let x0 = (a - self.t0_s) / self.dt_s;
        let x1 = (b - self.t0_s) / self.dt_s;
        let i0 = (x0.floor() as usize).min(n - 1);
        let i1 = (x1.floor() as usize).min(n - 1);
        if i0 == i1 {
            self.w[i0] += value_w * (x1 - x0);
            return;
        }
        self.w[i0] += value_w * ((i0 + 1) as f64 - x0);
        for v in &mut self.w[i0 + 1..i1] {
            *v += value_w;
        }
        self.w[i1] += value_w * (x1 - i1 as f64);
    }

    /// Facility power: IT power plus the facility overhead (cooling, distribution) of
    /// `(pue - 1) x mean IT power` of this trace. The overhead is held at its mean because chillers,
    /// pumps and the thermal mass of the loop respond over minutes, not within a step (A); the
    /// energy is exactly IT energy x PUE either way.
    pub fn facility(&self, pue: f64) -> Trace {
        let overhead = (pue - 1.0).max(0.0) * self.mean_w();
        Trace {
            t0_s: self.t0_s,
            dt_s: self.dt_s,
            w: self.w.iter().map(|x| x + overhead).collect(),
        }
    }
}

/// GPU-level mitigations, applied per group before the groups are summed.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct GpuMitigation {
    /// Minimum power floor, fraction of TDP (0: off). NVML `PERCENT_TMP_FLOOR` (P, NVML docs).
    pub floor_fraction: f64,
    /// Per-GPU ramp limits (W/s); `None`: unlimited. NVML `RAMP_UP_RATE` / `RAMP_DOWN_RATE` (P).
    pub ramp_up_w_per_s: Option<f64>,
    pub ramp_down_w_per_s: Option<f64>,
    /// Filler work raises the activity of low-activity phases of a step to this level while the
    /// job runs (Firefly; the PyTorch power damper's 80 % of SMs; calibration 1.3 and 2.1).
    pub filler_activity: Option<f64>,
}

impl GpuMitigation {
    pub fn none() -> GpuMitigation {
        GpuMitigation::default()
    }
}

/// Per-GPU draw of a group in a phase of `activity` (stepping states) or idle (the others), with the
/// floor and filler applied.
pub fn mitigated_gpu_w(g: &Group, activity: f64, stepping: bool, m: &GpuMitigation) -> f64 {
    let a = if stepping {
        match m.filler_activity {
            Some(f) => activity.max(f),
            None => activity,
        }
    } else {
        0.0
    };
    g.gpu.gpu_power_w(a).max(m.floor_fraction * g.gpu.tdp_w)
}

/// The per-GPU draw of one group over a window, as a trace in watts per GPU.
pub fn group_gpu_trace(
    g: &Group,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    m: &GpuMitigation,
) -> Trace {
    let mut tr = Trace::zeros(t0_s, dt_s, n);
    let end = t0_s + dt_s * n as f64;
    if g.spare {
        tr.add_segment(t0_s, end, g.gpu.idle_w);
        return tr;
    }
    let step_s = step.step_s();
    for iv in run {
        let a = iv.start_s.max(t0_s);
        let b = iv.end_s.min(end);
        if !(b > a) {
            continue;
        }
        if !iv.state.steps() || step_s <= 0.0 {
            tr.add_segment(a, b, mitigated_gpu_w(g, 0.0, false, m));
            continue;
        }
        // Phase pattern anchored at the interval start, shifted by the group's offset.
        let origin = iv.start_s + g.offset_s;
        let mut k = ((a - origin) / step_s).floor();
        'steps: loop {
            let mut t = origin + k * step_s;
            for ph in &step.phases {
                let pe = t + ph.duration_s.max(0.0);
                if pe > a {
                    let s = t.max(a);
                    let e = pe.min(b);
                    if e > s {
                        tr.add_segment(s, e, mitigated_gpu_w(g, ph.activity, true, m));
                    }
                }
                t = pe;
                if t >= b {
                    break 'steps;
                }
            }
            k += 1.0;
        }
    }
    if m.ramp_up_w_per_s.is_some() || m.ramp_down_w_per_s.is_some() {
        ramp_limit_in_place(&mut tr.w, dt_s, m.ramp_up_w_per_s, m.ramp_down_w_per_s);
    }
    tr
}

/// Follow a signal with bounded slopes: each sample moves from the previous one by at most
/// `up x dt` upward and `down x dt` downward. A rise slowed this way is work the GPU does later
/// (a throttle); a fall slowed this way is energy burned (the "power burner").
pub fn ramp_limit_in_place(
    w: &mut [f64],
    dt_s: f64,
    up_w_per_s: Option<f64>,
    down_w_per_s: Option<f64>,
) {
    let up = up_w_per_s.map(|r| r * dt_s).unwrap_or(f64::INFINITY);
    let down = down_w_per_s.map(|r| r * dt_s).unwrap_or(f64::INFINITY);
    for i in 1..w.len() {
        let prev = w[i - 1];
        w[i] = w[i].clamp(prev - down, prev + up);
    }
}

/// Work deferred by a ramp-up limit: the energy the limited trace falls short of the demand, J.
pub fn deferred_energy_j(demand: &[f64], limited: &[f64], dt_s: f64) -> f64 {
    demand
        .iter()
        .zip(limited)
        .map(|(d, l)| (d - l).max(0.0))
        .sum::<f64>()
        * dt_s
}

/// Energy a ramp-down limit burns: the limited trace above the demand, J.
pub fn burned_energy_j(demand: &[f64], limited: &[f64], dt_s: f64) -> f64 {
    deferred_energy_j(limited, demand, dt_s)
}

/// IT power of the whole cluster over a window, with GPU-level mitigations, and (when GPU ramp
/// limits apply) the energy they move: work deferred by the ramp-up limit, energy burned by the
/// ramp-down limit.
pub struct ItTrace {
    pub it: Trace,
    /// GPU energy the ramp-up limit deferred (performance cost), J.
    pub deferred_j: f64,
    /// GPU energy the ramp-down limit burned above the demand (energy cost), J.
    pub burned_j: f64,
}

/// Build the IT trace of a window `[t0_s, t0_s + n dt_s)`.
pub fn it_trace(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    m: &GpuMitigation,
) -> ItTrace {
    let mut it = Trace::zeros(t0_s, dt_s, n);
    let (mut deferred_j, mut burned_j) = (0.0, 0.0);
    let limited = m.ramp_up_w_per_s.is_some() || m.ramp_down_w_per_s.is_some();
    for g in &cluster.groups {
        let gt = group_gpu_trace(g, step, run, t0_s, dt_s, n, m);
        if limited {
            let free = GpuMitigation {
                ramp_up_w_per_s: None,
                ramp_down_w_per_s: None,
                ..*m
            };
            let demand = group_gpu_trace(g, step, run, t0_s, dt_s, n, &free);
            deferred_j += g.gpus * deferred_energy_j(&demand.w, &gt.w, dt_s);
            burned_j += g.gpus * burned_energy_j(&demand.w, &gt.w, dt_s);
        }
        let c = g.constant_w();
        for (o, x) in it.w.iter_mut().zip(&gt.w) {
            *o += g.gpus * x + c;
        }
    }
    ItTrace {
        it,
        deferred_j,
        burned_j,
    }
}

/// Seconds of `[t0_s, t1_s)` in which the job steps.
pub fn stepping_s(run: &[RunInterval], t0_s: f64, t1_s: f64) -> f64 {
    run.iter()
        .filter(|iv| iv.state.steps())
        .map(|iv| (iv.end_s.min(t1_s) - iv.start_s.max(t0_s)).max(0.0))
        .sum()
}

/// Mean per-GPU draw of a group in a state (stepping states: over whole steps).
pub fn state_gpu_mean_w(g: &Group, step: &StepShape, state: RunState, m: &GpuMitigation) -> f64 {
    if g.spare {
        return g.gpu.idle_w;
    }
    if state.steps() {
        let s = step.step_s();
        if s <= 0.0 {
            return mitigated_gpu_w(g, 0.0, false, m);
        }
        step.phases
            .iter()
            .map(|p| p.duration_s.max(0.0) * mitigated_gpu_w(g, p.activity, true, m))
            .sum::<f64>()
            / s
    } else {
        mitigated_gpu_w(g, 0.0, false, m)
    }
}

/// Mean IT power of the cluster in a state, over whole steps.
pub fn state_it_mean_w(
    cluster: &Cluster,
    step: &StepShape,
    state: RunState,
    m: &GpuMitigation,
) -> f64 {
    cluster
        .groups
        .iter()
        .map(|g| g.gpus * state_gpu_mean_w(g, step, state, m) + g.constant_w())
        .sum()
}

/// Per-step resolution over a whole run: every interval at its state's step-mean IT power,
/// averaged into `n` bins (for the chart) with the exact energy.
pub fn run_it_trace(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    n: usize,
    m: &GpuMitigation,
) -> Trace {
    let t0 = run.first().map(|i| i.start_s).unwrap_or(0.0);
    let t1 = run.iter().map(|i| i.end_s).fold(t0, f64::max);
    let n = n.max(1);
    let dt = if t1 > t0 { (t1 - t0) / n as f64 } else { 1.0 };
    let mut tr = Trace::zeros(t0, dt, n);
    let levels: Vec<f64> = RunState::ALL
        .iter()
        .map(|s| state_it_mean_w(cluster, step, *s, m))
        .collect();
    for iv in run {
        tr.add_segment(iv.start_s, iv.end_s, levels[iv.state.index()]);
    }
    tr
}
