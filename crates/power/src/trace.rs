//! The cluster power trace: piecewise-constant per synchronised group (never per GPU), averaged
//! exactly into uniform bins, so the sampled trace integrates to the same energy as the phases.

use crate::draw::{Cluster, Group};
use crate::profile::{RunInterval, RunState, StepShape};
use rayon::prelude::*;
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
            w: zeroed(n),
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
        lanes_fold(&self.w, 0.0, f64::max)
    }
    pub fn min_w(&self) -> f64 {
        if self.w.is_empty() {
            0.0
        } else {
            lanes_fold(&self.w, f64::INFINITY, f64::min)
        }
    }
    /// Peak minus minimum.
    pub fn swing_w(&self) -> f64 {
        self.peak_w() - self.min_w()
    }

    /// Add a constant `value_w` over `[a, b)` (seconds), averaged into the bins it overlaps.
    pub fn add_segment(&mut self, a: f64, b: f64, value_w: f64) {
        add_segment(self.t0_s, self.dt_s, &mut self.w, a, b, value_w);
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

    /// [`Trace::facility`] in place of the IT trace (the same arithmetic).
    pub fn into_facility(mut self, pue: f64) -> Trace {
        let overhead = (pue - 1.0).max(0.0) * self.mean_w();
        for x in &mut self.w {
            *x += overhead;
        }
        self
    }
}

/// `xs.iter().fold(init, f)` for an `f` whose result does not depend on the order of its
/// operands (`f64::max`, `f64::min`: either selects one of its operands, a NaN never), on four
/// independent lanes so the folds overlap rather than wait on one another: the same value.
#[inline]
pub fn lanes_fold(xs: &[f64], init: f64, f: impl Fn(f64, f64) -> f64) -> f64 {
    lanes_fold_zip(xs, xs, init, f, |x, _| x)
}

/// The fold of [`lanes_fold`] over `x(a[i], b[i])` for each `i` of the shorter of `a` and `b`
/// (a trace and itself shifted by one sample gives its steps between samples).
#[inline]
pub fn lanes_fold_zip(
    a: &[f64],
    b: &[f64],
    init: f64,
    f: impl Fn(f64, f64) -> f64,
    x: impl Fn(f64, f64) -> f64,
) -> f64 {
    let mut acc = [init; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (p, q) in ca.zip(cb) {
        for j in 0..4 {
            acc[j] = f(acc[j], x(p[j], q[j]));
        }
    }
    let tail = ra.iter().zip(rb).fold(init, |m, (&p, &q)| f(m, x(p, q)));
    f(f(f(acc[0], acc[1]), f(acc[2], acc[3])), tail)
}

/// `n` zeros, written (not the zero pages of a fresh allocation: a trace's bins are read before
/// they are written, and a written zero page is copied, which in a multi-threaded process
/// flushes every processor's address cache, a page at a time).
fn zeroed(n: usize) -> Vec<f64> {
    let mut w = Vec::with_capacity(n);
    w.resize(n, 0.0);
    w
}

/// `(x as usize).min(n - 1)` for `n >= 1`: the bin a position `x` (in bins) falls in, the last
/// one at most. Through a signed conversion, which is cheaper and, where the two differ (at
/// `2^63` and beyond), is cut to `n - 1` all the same.
#[inline(always)]
fn bin_index(x: f64, n: usize) -> usize {
    ((x as i64).max(0) as usize).min(n - 1)
}

/// [`Trace::add_segment`] on bins `w` of width `dt_s` from `t0_s`.
fn add_segment(t0_s: f64, dt_s: f64, w: &mut [f64], a: f64, b: f64, value_w: f64) {
    let n = w.len();
    if n == 0 || !(b > a) || value_w == 0.0 {
        return;
    }
    let end = t0_s + dt_s * n as f64;
    let a = a.max(t0_s);
    let b = b.min(end);
    if !(b > a) {
        return;
    }
    let x0 = (a - t0_s) / dt_s;
    let x1 = (b - t0_s) / dt_s;
    // (x0, x1 >= 0: truncation is the floor)
    let i0 = bin_index(x0, n);
    let i1 = bin_index(x1, n);
    if i0 == i1 {
        w[i0] += value_w * (x1 - x0);
        return;
    }
    w[i0] += value_w * ((i0 + 1) as f64 - x0);
    for v in &mut w[i0 + 1..i1] {
        *v += value_w;
    }
    w[i1] += value_w * (x1 - i1 as f64);
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

/// The per-GPU draw of one group over `[t0_s, end_s)` as constant segments `(start, end, watts)`,
/// in time order. `step` is the job's step; the group runs its stage's arrangement of it
/// ([`StepShape::stage_shape`]).
pub fn for_each_group_segment(
    g: &Group,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    end_s: f64,
    m: &GpuMitigation,
    f: impl FnMut(f64, f64, f64),
) {
    if g.spare {
        segments_of(g, step, run, t0_s, end_s, m, f);
    } else {
        segments_of(g, &step.for_stage(g.stage), run, t0_s, end_s, m, f);
    }
}

/// [`for_each_group_segment`] with the group's own step shape (its stage's) given.
fn segments_of(
    g: &Group,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    end_s: f64,
    m: &GpuMitigation,
    mut f: impl FnMut(f64, f64, f64),
) {
    if g.spare {
        f(t0_s, end_s, g.gpu.idle_w);
        return;
    }
    let pieces: Vec<(f64, f64)> = step
        .phases
        .iter()
        .map(|ph| {
            (
                ph.duration_s.max(0.0),
                mitigated_gpu_w(g, ph.activity, true, m),
            )
        })
        .collect();
    let idle_w = mitigated_gpu_w(g, 0.0, false, m);
    periodic_segments(
        &pieces,
        step.step_s(),
        idle_w,
        g.offset_s,
        run,
        t0_s,
        end_s,
        f,
    );
}

/// A draw that repeats `pieces` (`(duration, watts)`, lasting `step_s` in all) while the job steps,
/// anchored at each stepping interval's start shifted by `offset_s`, and holds `idle_w` in the
/// other states: its constant segments over `[t0_s, end_s)`, in time order.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn periodic_segments(
    pieces: &[(f64, f64)],
    step_s: f64,
    idle_w: f64,
    offset_s: f64,
    run: &[RunInterval],
    t0_s: f64,
    end_s: f64,
    mut f: impl FnMut(f64, f64, f64),
) {
    let end = end_s;
    for iv in run {
        let a = iv.start_s.max(t0_s);
        let b = iv.end_s.min(end);
        if !(b > a) {
            continue;
        }
        if !iv.state.steps() || step_s <= 0.0 {
            f(a, b, idle_w);
            continue;
        }
        // Phase pattern anchored at the interval start, shifted by the group's offset.
        let origin = iv.start_s + offset_s;
        let mut k = ((a - origin) / step_s).floor();
        'steps: loop {
            let mut t = origin + k * step_s;
            for &(d, w) in pieces {
                let pe = t + d;
                if pe > a {
                    let s = t.max(a);
                    let e = pe.min(b);
                    if e > s {
                        f(s, e, w);
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
}

/// The per-GPU draw of one group over a window, as a trace in watts per GPU. `step` is the job's
/// step; the group runs its stage's arrangement of it ([`StepShape::stage_shape`]).
pub fn group_gpu_trace(
    g: &Group,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    m: &GpuMitigation,
) -> Trace {
    let mut w = vec![];
    let pre = group_draw_into(g, step, run, t0_s, dt_s, n, m, &mut w);
    w.drain(..pre);
    Trace { t0_s, dt_s, w }
}

/// [`group_gpu_trace`] into `buf`, lead-in included: the window's samples are `buf[pre..]`, where
/// `pre` (returned) is the number of samples of lead-in a ramp-limited GPU is built with.
#[allow(clippy::too_many_arguments)]
fn group_draw_into(
    g: &Group,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    m: &GpuMitigation,
    buf: &mut Vec<f64>,
) -> usize {
    let (pre, limited) = group_draw_unlimited(g, step, run, t0_s, dt_s, n, m, buf);
    if limited {
        ramp_limit_in_place(buf, dt_s, m.ramp_up_w_per_s, m.ramp_down_w_per_s);
    }
    pre
}

/// A group's draw as [`group_draw_into`] builds it, before the ramp limit is applied: the
/// lead-in's length, and whether the limit applies.
#[allow(clippy::too_many_arguments)]
fn group_draw_unlimited(
    g: &Group,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    m: &GpuMitigation,
    buf: &mut Vec<f64>,
) -> (usize, bool) {
    // Spares hold their idle draw: nothing to limit.
    let limited = !g.spare && (m.ramp_up_w_per_s.is_some() || m.ramp_down_w_per_s.is_some());
    // A ramp-limited GPU carries its state into the window: start the limiter early (within the
    // run) so that it enters the window in its steady state.
    let pre = if limited {
        lead_in_samples(run, t0_s, dt_s)
    } else {
        0
    };
    let start = t0_s - pre as f64 * dt_s;
    buf.clear();
    buf.resize(n + pre, 0.0);
    let end = t0_s + dt_s * n as f64;
    for_each_group_segment(g, step, run, start, end, m, |a, b, w| {
        add_segment(start, dt_s, buf, a, b, w)
    });
    (pre, limited)
}

/// Groups whose ramp-limited draws are followed side by side: each limiter is a chain of
/// dependent samples, and independent chains interleaved keep the processor busy.
const LANES: usize = 8;

/// Each group's per-GPU draw with GPU mitigation `m` (ramp limits included) over `n` samples from
/// `t0_s` (as [`group_gpu_trace`] builds it), and the energy per GPU the ramp limits defer and burn
/// against the same draw without them ([`deferred_energy_j`], [`burned_energy_j`]; 0 where not
/// asked, `(defer, burn)`): `sink(i, draw, deferred, burned)` for the `i`-th of `groups`, in order.
#[allow(clippy::too_many_arguments)]
fn group_draws(
    groups: &[&Group],
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    m: &GpuMitigation,
    (defer, burn): (bool, bool),
    scratch: &Scratch,
    mut sink: impl FnMut(usize, &[f64], f64, f64),
) {
    let free = GpuMitigation {
        ramp_up_w_per_s: None,
        ramp_down_w_per_s: None,
        ..*m
    };
    {
        let take = || {
            scratch
                .lock()
                .ok()
                .and_then(|mut s| s.pop())
                .unwrap_or_default()
        };
        let mut draws: Vec<Vec<f64>> = (0..LANES).map(|_| take()).collect();
        let mut demands: Vec<Vec<f64>> = (0..LANES).map(|_| take()).collect();
        for (lane0, part) in groups.chunks(LANES).enumerate() {
            let k = part.len();
            let mut pres = [0usize; LANES];
            let mut limited = [false; LANES];
            for (j, g) in part.iter().enumerate() {
                let (pre, lim) =
                    group_draw_unlimited(g, step, run, t0_s, dt_s, n, m, &mut draws[j]);
                pres[j] = pre;
                limited[j] = lim;
            }
            ramp_limit_lanes(
                &mut draws[..k],
                &limited[..k],
                0,
                dt_s,
                m.ramp_up_w_per_s,
                m.ramp_down_w_per_s,
            );
            let mut sums = [(0.0, 0.0); LANES];
            if defer || burn {
                for (j, g) in part.iter().enumerate() {
                    group_draw_unlimited(g, step, run, t0_s, dt_s, n, &free, &mut demands[j]);
                }
                let views: Vec<(&[f64], &[f64])> = (0..k)
                    .map(|j| (&demands[j][..], &draws[j][pres[j]..]))
                    .collect();
                deferred_and_burned_lanes(&views, dt_s, &mut sums[..k]);
            }
            for j in 0..k {
                let (d, b) = sums[j];
                sink(
                    lane0 * LANES + j,
                    &draws[j][pres[j]..],
                    if defer { d } else { 0.0 },
                    if burn { b } else { 0.0 },
                );
            }
        }
        if let Ok(mut s) = scratch.lock() {
            s.extend(draws);
            s.extend(demands);
        }
    }
}

/// Spare trace buffers for [`group_draws`], shared by the threads of one call.
type Scratch = std::sync::Mutex<Vec<Vec<f64>>>;

/// [`ramp_limit_in_place`] on each of `lanes` that is `limited`, the lanes side by side.
fn ramp_limit_lanes(
    lanes: &mut [Vec<f64>],
    limited: &[bool],
    from: usize,
    dt_s: f64,
    up_w_per_s: Option<f64>,
    down_w_per_s: Option<f64>,
) {
    let up = up_w_per_s.map(|r| r * dt_s).unwrap_or(f64::INFINITY);
    let down = down_w_per_s.map(|r| r * dt_s).unwrap_or(f64::INFINITY);
    let mut ws: Vec<&mut [f64]> = lanes
        .iter_mut()
        .zip(limited)
        .filter(|(_, l)| **l)
        .map(|(w, _)| &mut w[..])
        .collect();
    let Some(len) = ws.first().map(|w| w.len()) else {
        return;
    };
    if ws.iter().any(|w| w.len() != len) || from >= len {
        for w in ws {
            ramp_limit_in_place(
                &mut w[from.saturating_sub(1).min(len)..],
                dt_s,
                up_w_per_s,
                down_w_per_s,
            );
        }
        return;
    }
    let first = from.max(1);
    let mut prev = [0.0; LANES];
    for (p, w) in prev.iter_mut().zip(&ws) {
        *p = w[first - 1];
    }
    for i in first..len {
        for (w, p) in ws.iter_mut().zip(prev.iter_mut()) {
            let x = w[i].clamp(*p - down, *p + up);
            w[i] = x;
            *p = x;
        }
    }
}

/// [`deferred_energy_j`] and [`burned_energy_j`] of each `(demand, limited)` pair into `out`, the
/// pairs side by side (each sum in the same order as alone).
fn deferred_and_burned_lanes(pairs: &[(&[f64], &[f64])], dt_s: f64, out: &mut [(f64, f64)]) {
    let k = pairs.len();
    let len = pairs
        .iter()
        .map(|(d, l)| d.len().min(l.len()))
        .min()
        .unwrap_or(0);
    // (a float sum starts from -0.0, as `Iterator::sum` does)
    let mut acc = [(-0.0f64, -0.0f64); LANES];
    for i in 0..len {
        for j in 0..k {
            let (x, y) = (pairs[j].0[i], pairs[j].1[i]);
            acc[j].0 += (x - y).max(0.0);
            acc[j].1 += (y - x).max(0.0);
        }
    }
    for j in 0..k {
        let (d, l) = pairs[j];
        let (mut a, mut b) = acc[j];
        for (x, y) in d[len..].iter().zip(&l[len..]) {
            a += (x - y).max(0.0);
            b += (y - x).max(0.0);
        }
        out[j] = (a * dt_s, b * dt_s);
    }
}

/// Samples of lead-in a ramp-limited GPU's trace from `t0_s` is built with (up to
/// [`MAX_RAMP_PRE_ROLL_S`], within the run).
fn lead_in_samples(run: &[RunInterval], t0_s: f64, dt_s: f64) -> usize {
    let run_start = run.iter().map(|iv| iv.start_s).fold(t0_s, f64::min);
    let pre_s = MAX_RAMP_PRE_ROLL_S.min(t0_s - run_start).max(0.0);
    (pre_s / dt_s).ceil() as usize
}

/// Lead-in a ramp-limited GPU trace is built with before its window (less where the run starts
/// later). The limiter climbs only while the demand is above it, so over a step it gains the
/// limit times the difference between its time below and above the demand, a fraction of the
/// limit: ten minutes bring a 700 W GPU limited to ~7 W/s from idle to its steady state at a
/// two-thirds compute share (net ~2.5 W/s) with room to spare (A).
pub const MAX_RAMP_PRE_ROLL_S: f64 = 600.0;

/// Constant segments summed into uniform bins in O(1) each: the partial bins at a segment's ends
/// directly, the whole bins between them through a difference array summed once at the end (the
/// same bin means as [`Trace::add_segment`], up to rounding).
struct SegmentSum {
    tr: Trace,
    diff: Vec<f64>,
    /// Where each interval falls in the bins (the next interval, which starts where the last one
    /// ended when the segments come in time order, takes that end's position).
    placer: Placer,
}

impl SegmentSum {
    fn new(t0_s: f64, dt_s: f64, n: usize) -> SegmentSum {
        SegmentSum {
            tr: Trace::zeros(t0_s, dt_s, n),
            diff: zeroed(n + 1),
            placer: Placer::new(t0_s, dt_s, n),
        }
    }

    /// Where `[a, b)` falls in the bins: first and last bin and positions (`None`: nowhere, an
    /// empty or NaN interval included).
    #[inline(always)]
    fn place(&mut self, a: f64, b: f64) -> Option<(usize, usize, f64, f64)> {
        self.placer.place(a, b)
    }

    /// Add `value_w` over a placed interval.
    #[inline(always)]
    fn apply(&mut self, &(i0, i1, x0, x1): &(usize, usize, f64, f64), value_w: f64) {
        if value_w == 0.0 {
            return;
        }
        let tr = &mut self.tr;
        if i0 == i1 {
            tr.w[i0] += value_w * (x1 - x0);
            return;
        }
        tr.w[i0] += value_w * ((i0 + 1) as f64 - x0);
        self.diff[i0 + 1] += value_w;
        self.diff[i1] -= value_w;
        tr.w[i1] += value_w * (x1 - i1 as f64);
    }

    fn finish(mut self) -> Trace {
        let mut level = 0.0;
        for (w, d) in self.tr.w.iter_mut().zip(&self.diff) {
            level += d;
            *w += level;
        }
        self.tr
    }
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

/// Groups whose GPUs draw the same per-GPU trace, counted together.
struct MergedGroup<'a> {
    /// The first of them (its draw, offset, stage and spare flag stand for all).
    group: &'a Group,
    gpus: f64,
    constant_w: f64,
}

/// With a pipelined step, a hall is one group per stage: groups whose stages run the same
/// arrangement of the step, with the same GPU draw and offset (and spares of the same draw), share
/// their per-GPU trace, which is then built once. Without a pipeline every group stands alone,
/// summed in order as ever.
fn merge_groups<'a>(cluster: &'a Cluster, step: &StepShape) -> Vec<MergedGroup<'a>> {
    let p = step.pipeline_stages;
    let shapes = if p > 1 { step.stage_shapes() } else { vec![] };
    let shape_of = |g: &Group| &shapes[g.stage.min(p - 1) as usize];
    let mut out: Vec<MergedGroup<'a>> = Vec::with_capacity(cluster.groups.len());
    for g in &cluster.groups {
        let same = |o: &MergedGroup| {
            let h = o.group;
            h.spare == g.spare
                && h.gpu == g.gpu
                && h.offset_s == g.offset_s
                && (g.spare || h.stage == g.stage || shape_of(h) == shape_of(g))
        };
        match out.iter_mut().find(|o| p > 1 && same(o)) {
            Some(o) => {
                o.gpus += g.gpus;
                o.constant_w += g.constant_w();
            }
            None => out.push(MergedGroup {
                group: g,
                gpus: g.gpus,
                constant_w: g.constant_w(),
            }),
        }
    }
    out
}

/// The IT trace of a pipelined job without GPU ramp limits. The stage groups that step with the
/// same offset add up to one periodic draw: their stage shapes are swept once into the cluster's
/// step profile (watts summed between consecutive phase edges of any stage), which is then laid
/// over the run like one group's step, each piece summed in O(1) ([`SegmentSum`]). The stages
/// multiply the pieces of one step, not the work per step or per bin.
#[allow(clippy::too_many_arguments)]
fn pipelined_it_trace(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    m: &GpuMitigation,
) -> Trace {
    pipelined_it_traces(cluster, step, run, t0_s, dt_s, n, &[*m])
        .pop()
        .unwrap_or_default()
}

/// An offset class's step profile: its pieces (duration, watts) and its idle draw.
type ClassProfile = (Vec<(f64, f64)>, f64);

/// The watts of one offset class's step profile under mitigation `m`: its pieces (duration,
/// watts) between consecutive phase edges of any of its stages (equal neighbours merged), and
/// its idle draw.
fn class_pieces(class: &[&MergedGroup], step: &StepShape, m: &GpuMitigation) -> ClassProfile {
    let step_s = step.step_s();
    // Edges of different stages closer than this are one edge (the stages' step lengths and
    // aligned tails agree to rounding).
    let eps = 1e-12 * step_s;
    // Watt steps at each stage's phase edges, within one step.
    let mut edges: Vec<(f64, f64)> = vec![];
    let mut idle_w = 0.0;
    for mg in class {
        idle_w += mg.gpus * mitigated_gpu_w(mg.group, 0.0, false, m);
        let shape = step.for_stage(mg.group.stage);
        let mut t = 0.0_f64;
        for ph in &shape.phases {
            let d = ph.duration_s.max(0.0);
            if d > 0.0 {
                let w = mg.gpus * mitigated_gpu_w(mg.group, ph.activity, true, m);
                edges.push((t.min(step_s), w));
                edges.push(((t + d).min(step_s), -w));
            }
            t += d;
        }
    }
    edges.sort_by(|x, y| x.0.total_cmp(&y.0));
    let mut pieces: Vec<(f64, f64)> = vec![];
    let (mut level, mut at) = (0.0, 0.0);
    let close =
        |from: f64, to: f64, level: f64, pieces: &mut Vec<(f64, f64)>| match pieces.last_mut() {
            Some(last) if last.1 == level => last.0 += to - from,
            _ => pieces.push((to - from, level)),
        };
    for &(t, dw) in &edges {
        if t > at + eps {
            close(at, t, level, &mut pieces);
            at = t;
        }
        level += dw;
    }
    if step_s > at {
        close(at, step_s, level, &mut pieces);
    }
    (pieces, idle_w)
}

/// [`pipelined_it_trace`] under each of `ms`. Mitigations whose step profiles have the same
/// pieces (in time: their watts differ) are laid over the run together: each segment's place in
/// the bins is found once and each trace takes its own watts there, the same sums as alone.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pipelined_it_traces(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    ms: &[GpuMitigation],
) -> Vec<Trace> {
    let end = t0_s + dt_s * n as f64;
    let groups = merge_groups(cluster, step);
    let mut constant_w = 0.0;
    let mut offsets: Vec<f64> = vec![];
    for mg in &groups {
        constant_w += mg.constant_w;
        if mg.group.spare {
            constant_w += mg.gpus * mg.group.gpu.idle_w;
        } else if !offsets.contains(&mg.group.offset_s) {
            offsets.push(mg.group.offset_s);
        }
    }
    let classes: Vec<Vec<&MergedGroup>> = offsets
        .iter()
        .map(|&o| {
            groups
                .iter()
                .filter(|mg| !mg.group.spare && mg.group.offset_s == o)
                .collect()
        })
        .collect();
    // per mitigation, per class: pieces and idle draw
    let profiles: Vec<Vec<ClassProfile>> = ms
        .iter()
        .map(|m| classes.iter().map(|c| class_pieces(c, step, m)).collect())
        .collect();
    let timing = |k: usize| -> Vec<Vec<u64>> {
        profiles[k]
            .iter()
            .map(|(p, _)| p.iter().map(|x| x.0.to_bits()).collect())
            .collect()
    };
    let mut sums: Vec<SegmentSum> = ms.iter().map(|_| SegmentSum::new(t0_s, dt_s, n)).collect();
    let mut done = vec![false; ms.len()];
    for k in 0..ms.len() {
        if done[k] {
            continue;
        }
        let together: Vec<usize> = (k..ms.len())
            .filter(|&j| !done[j] && timing(j) == timing(k))
            .collect();
        for &j in &together {
            done[j] = true;
        }
        for (ci, &offset_s) in offsets.iter().enumerate() {
            let (pieces, _) = &profiles[k][ci];
            // the pieces by index (the idle draw after them), each trace's watts looked up
            let indexed: Vec<(f64, f64)> = pieces
                .iter()
                .enumerate()
                .map(|(i, p)| (p.0, i as f64))
                .collect();
            let idle = pieces.len();
            let period: f64 = pieces.iter().map(|p| p.0).sum();
            let watts: Vec<Vec<f64>> = together
                .iter()
                .map(|&j| {
                    let (p, idle_w) = &profiles[j][ci];
                    p.iter().map(|x| x.1).chain([*idle_w]).collect()
                })
                .collect();
            periodic_segments(
                &indexed,
                period,
                idle as f64,
                offset_s,
                run,
                t0_s,
                end,
                #[inline(always)]
                |a, b, i| {
                    if let Some(at) = sums[together[0]].place(a, b) {
                        for (w, &j) in watts.iter().zip(&together) {
                            sums[j].apply(&at, w[i as usize]);
                        }
                    }
                },
            );
        }
    }
    sums.into_iter()
        .map(|sum| {
            let mut it = sum.finish();
            for w in &mut it.w {
                *w += constant_w;
            }
            it
        })
        .collect()
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
    build_it_trace(cluster, step, run, t0_s, dt_s, n, m, true)
}

/// [`it_trace`]'s IT power alone: without the energy its ramp limits move in the window, which
/// needs every group's draw without the limits too (the analysis prices ramp limits over the
/// whole run, [`run_ramp_effect`]).
pub fn it_power_trace(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    m: &GpuMitigation,
) -> Trace {
    build_it_trace(cluster, step, run, t0_s, dt_s, n, m, false).it
}

/// [`it_power_trace`] under each of `ms` (the pipelined ones without ramp limits built together,
/// see [`pipelined_it_traces`]).
pub fn it_power_traces(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    ms: &[GpuMitigation],
) -> Vec<Trace> {
    let arranged = step.pipeline_stages > 1 && step.stage_shape(0).phases != step.phases;
    let free = |m: &GpuMitigation| m.ramp_up_w_per_s.is_none() && m.ramp_down_w_per_s.is_none();
    let batch: Vec<GpuMitigation> = ms.iter().filter(|m| arranged && free(m)).copied().collect();
    let (batched, alone) = rayon::join(
        || pipelined_it_traces(cluster, step, run, t0_s, dt_s, n, &batch),
        || {
            // one at a time: each is built in parallel over its groups, with a block of the
            // window's samples per group and lane (tens of MB at a 30-minute window)
            ms.iter()
                .filter(|m| !(arranged && free(m)))
                .map(|m| it_power_trace(cluster, step, run, t0_s, dt_s, n, m))
                .collect::<Vec<_>>()
        },
    );
    let (mut batched, mut alone) = (batched.into_iter(), alone.into_iter());
    ms.iter()
        .map(|m| {
            if arranged && free(m) {
                batched.next().unwrap_or_default()
            } else {
                alone.next().unwrap_or_default()
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn build_it_trace(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    t0_s: f64,
    dt_s: f64,
    n: usize,
    m: &GpuMitigation,
    moved: bool,
) -> ItTrace {
    let limited = m.ramp_up_w_per_s.is_some() || m.ramp_down_w_per_s.is_some();
    // The pipeline arrangement applies (a bubble to place): stage 0 then starts without a fill.
    let arranged = step.pipeline_stages > 1 && step.stage_shape(0).phases != step.phases;
    if arranged && !limited {
        return ItTrace {
            it: pipelined_it_trace(cluster, step, run, t0_s, dt_s, n, m),
            deferred_j: 0.0,
            burned_j: 0.0,
        };
    }
    let moved = moved && limited;
    let mut it = Trace::zeros(t0_s, dt_s, n);
    let (mut deferred_j, mut burned_j) = (0.0, 0.0);
    let groups = merge_groups(cluster, step);
    if !limited {
        // (no limiter to interleave: each group's draw added in turn)
        let mut w = vec![];
        for mg in &groups {
            let pre = group_draw_into(mg.group, step, run, t0_s, dt_s, n, m, &mut w);
            for (o, x) in it.w.iter_mut().zip(&w[pre..]) {
                *o += mg.gpus * x + mg.constant_w;
            }
        }
        return ItTrace {
            it,
            deferred_j,
            burned_j,
        };
    }
    // The groups' draws are independent: built side by side and in parallel, each as the group's
    // share of the IT power (its GPUs' draw plus its constant load), then added in the groups'
    // order, so the sum does not depend on the thread count.
    // Half lanes per task and a block of one task per thread: each task holds a draw of the
    // window and its lead-in per lane and the block a share of the window per group, so this
    // bounds the memory to about `LANES x threads` windows (27 MB at the default 30-minute
    // window on two threads, against 54 MB with whole lanes and two tasks per thread).
    const TASK: usize = LANES / 2;
    let block = TASK * rayon::current_num_threads().max(1);
    let pool = std::sync::Mutex::new(Vec::<Vec<f64>>::new());
    let scratch: Scratch = std::sync::Mutex::new(vec![]);
    let take = || {
        pool.lock()
            .map(|mut p| p.pop())
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    for part in groups.chunks(block) {
        let shares: Vec<(Vec<f64>, f64, f64)> = part
            .par_chunks(TASK)
            .flat_map_iter(|lane| {
                let gs: Vec<&Group> = lane.iter().map(|mg| mg.group).collect();
                let mut out = Vec::with_capacity(gs.len());
                group_draws(
                    &gs,
                    step,
                    run,
                    t0_s,
                    dt_s,
                    n,
                    m,
                    (moved, moved),
                    &scratch,
                    |i, w, d, b| {
                        let (gpus, c) = (lane[i].gpus, lane[i].constant_w);
                        let mut share = take();
                        share.clear();
                        share.extend(w.iter().map(|x| gpus * x + c));
                        out.push((share, d, b));
                    },
                );
                out
            })
            .collect();
        for (mg, (w, d, b)) in part.iter().zip(shares) {
            if moved {
                deferred_j += mg.gpus * d;
                burned_j += mg.gpus * b;
            }
            for (o, x) in it.w.iter_mut().zip(&w) {
                *o += x;
            }
            if let Ok(mut p) = pool.lock() {
                p.push(w);
            }
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
        // Every stage spends the same time at each activity: its mean is the step's.
        let step = step.time_mix();
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

/// What GPU ramp limits do over a whole run: work a ramp-up limit defers and energy a ramp-down
/// limit burns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RunRampEffect {
    /// Share of the run's compute work deferred (0..=1).
    pub deferred_fraction: f64,
    /// GPU energy burned above the demand over the run (all job GPUs), J.
    pub burned_j: f64,
}

/// [`run_ramp_effect`]'s deferred share.
pub fn run_deferred_fraction(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    m: &GpuMitigation,
) -> f64 {
    run_ramp_effect(cluster, step, run, m).deferred_fraction
}

/// GPU ramp limits at run level rather than from one window (a window that holds a restart would
/// weigh recoveries by its own mix of states).
///
/// Deferred work and burned energy come from steady stepping (each dip into communication is
/// fallen into slowly and climbed out of slowly) and from every state that stops stepping
/// (restart, waiting for spares, maintenance, checkpoint write: the GPU sags slowly, burning, and
/// climbs back at the limit, deferring). Both are measured per merged group on synthetic runs with
/// the ramp-limited draw against the unlimited one ([`group_gpu_trace`], which starts the limiter
/// in its steady state): the steady rates over a stretch of steps, and for each such state the
/// extra of one interval of its mean duration in the run. The run's total is the steady rate times
/// the stepping time plus, for each state, its count of intervals times that extra (D). Work is
/// the stepping time × the step's mean activity × the GPUs' range above idle, as in the window.
pub fn run_ramp_effect(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    m: &GpuMitigation,
) -> RunRampEffect {
    ramp_effect_and_bins(cluster, step, run, m).0
}

/// The most bins [`run_ramp_effect`] holds at once for one group (its draw with and without the
/// limits, in one synthetic run), the memory it needs per group: it follows the stepping time of
/// its synthetic runs (the lead-in and the climb back, a few of the step's 40 bins each), not the
/// length of the run's stops (which grows with the GPU count, as failures come faster).
pub fn run_ramp_effect_bins(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    m: &GpuMitigation,
) -> usize {
    ramp_effect_and_bins(cluster, step, run, m).1
}

/// [`run_ramp_effect`] and [`run_ramp_effect_bins`].
fn ramp_effect_and_bins(
    cluster: &Cluster,
    step: &StepShape,
    run: &[RunInterval],
    m: &GpuMitigation,
) -> (RunRampEffect, usize) {
    let none = (RunRampEffect::default(), 0);
    let slowest = [m.ramp_up_w_per_s, m.ramp_down_w_per_s]
        .into_iter()
        .flatten()
        .fold(f64::INFINITY, f64::min);
    let step_s = step.step_s();
    // (a limit that is not a number limits nothing it can be compared with)
    let numbers = [m.ramp_up_w_per_s, m.ramp_down_w_per_s]
        .into_iter()
        .flatten()
        .all(|r| !r.is_nan());
    if !(step_s > 0.0 && slowest.is_finite() && slowest > 0.0 && numbers) {
        return none;
    }
    // counts and mean durations of the states that stop stepping
    let mut stopped: Vec<(RunState, f64, f64)> = vec![];
    for s in RunState::ALL.iter().filter(|s| !s.steps()) {
        let iv: Vec<&RunInterval> = run.iter().filter(|iv| iv.state == *s).collect();
        let t: f64 = iv.iter().map(|iv| (iv.end_s - iv.start_s).max(0.0)).sum();
        if !iv.is_empty() && t > 0.0 {
            stopped.push((*s, iv.len() as f64, t / iv.len() as f64));
        }
    }
    let stepping: f64 = run
        .iter()
        .filter(|iv| iv.state.steps())
        .map(|iv| (iv.end_s - iv.start_s).max(0.0))
        .sum();
    let work_j: f64 = stepping
        * step.mean_activity()
        * cluster
            .groups
            .iter()
            .filter(|g| !g.spare)
            .map(|g| g.gpus * (g.gpu.compute_w - g.gpu.idle_w))
            .sum::<f64>();
    // the synthetic runs resolve the step in ~40 bins: recoveries last tens of seconds
    let dt = step_s / 40.0;
    let interval = |start_s: f64, end_s: f64, state: RunState| RunInterval {
        start_s,
        end_s,
        state,
    };
    let groups = merge_groups(cluster, step);
    let (defer, burn) = (m.ramp_up_w_per_s.is_some(), m.ramp_down_w_per_s.is_some());
    let jobs: Vec<&MergedGroup> = groups.iter().filter(|mg| !mg.group.spare).collect();
    let gs: Vec<&Group> = jobs.iter().map(|mg| mg.group).collect();
    let lead = MAX_RAMP_PRE_ROLL_S + step_s;
    // steady stepping: 20 whole steps after the lead-in; then for each state that stops stepping:
    // stepping, one interval of the state, then stepping long enough to climb back
    let k = 20.0;
    let back = MAX_RAMP_PRE_ROLL_S + 2.0 * step_s;
    let mut runs = vec![(
        vec![interval(0.0, lead + k * step_s, RunState::Training)],
        lead + k * step_s,
    )];
    for &(state, _, mean_s) in &stopped {
        let end = lead + mean_s + back;
        runs.push((
            vec![
                interval(0.0, lead, RunState::Training),
                interval(lead, lead + mean_s, state),
                interval(lead + mean_s, end, RunState::Training),
            ],
            end,
        ));
    }
    // (deferred, burned) per GPU of every job group over [lead, end) of each synthetic run; only a
    // ramp-up limit defers and only a ramp-down limit burns (exactly: the traces are otherwise
    // equal up to the rounding of their bins)
    //
    // Every synthetic run starts with the same stepping from 0 and the same lead-in before its
    // window: the bins before a step's worth (and a few bins) ahead of the window, where their
    // first intervals part, are the same, and so is the limiter there. The first run keeps the
    // limited draw where that shared part ends; the others start from it.
    let pre = lead_in_samples(&runs[0].0, lead, dt);
    let safe = pre.saturating_sub((step_s / dt).ceil() as usize + 3);
    let share = safe >= 2 && runs.len() > 1;
    // per lane: each group's (time, draw) bins and the lane's sample count
    type LaneBins = (Vec<Vec<(f64, f64)>>, usize);
    let per_lane: Vec<LaneBins> = gs
        .par_chunks(LANES)
        .map(|lane| {
            let mut kept = vec![f64::NAN; lane.len()];
            let mut bufs = RampBuffers::default();
            let mut held = 0;
            let mut out: Vec<Vec<(f64, f64)>> = vec![Vec::with_capacity(lane.len()); runs.len()];
            for (i, (r, end)) in runs.iter().enumerate() {
                let n = ((end - lead) / dt).round().max(1.0) as usize;
                let shared = if !share || lead_in_samples(r, lead, dt) != pre {
                    Shared::None
                } else if i == 0 {
                    Shared::Keep(safe)
                } else {
                    Shared::From(safe)
                };
                ramp_run_lanes(
                    lane,
                    step,
                    r,
                    (lead, dt, n),
                    m,
                    (defer, burn),
                    shared,
                    &mut kept,
                    &mut bufs,
                    &mut out[i],
                );
                held = held.max(bufs.bins_per_lane());
            }
            (out, held)
        })
        .collect();
    let held = per_lane.iter().map(|l| l.1).max().unwrap_or(0);
    let per_run: Vec<Vec<(f64, f64)>> = (0..runs.len())
        .map(|i| {
            per_lane
                .iter()
                .flat_map(|l| l.0[i].iter().copied())
                .collect()
        })
        .collect();
    let (mut deferred_j, mut burned_j) = (0.0, 0.0);
    for (j, mg) in jobs.iter().enumerate() {
        let (d0, b0) = per_run[0][j];
        let (rate_d, rate_b) = (d0 / (k * step_s), b0 / (k * step_s));
        let (mut d_gpu, mut b_gpu) = (rate_d * stepping, rate_b * stepping);
        for (i, &(_, count, _)) in stopped.iter().enumerate() {
            let (d, b) = per_run[1 + i][j];
            d_gpu += count * (d - rate_d * back).max(0.0);
            b_gpu += count * (b - rate_b * back).max(0.0);
        }
        deferred_j += mg.gpus * d_gpu;
        burned_j += mg.gpus * b_gpu;
    }
    let effect = RunRampEffect {
        deferred_fraction: if work_j > 0.0 {
            (deferred_j / work_j).clamp(0.0, 1.0)
        } else {
            0.0
        },
        burned_j,
    };
    (effect, held)
}

/// The lead-in [`run_ramp_effect`]'s synthetic runs share: `Keep(at)` stores each group's
/// limited draw at bin `at - 1`, `From(at)` starts the limiter from those values there (the bins
/// before it are left out: they are the first run's).
#[derive(Clone, Copy)]
enum Shared {
    None,
    Keep(usize),
    From(usize),
}

/// The arrays [`ramp_run_lanes`] builds its bins in, kept from one synthetic run to the next:
/// the draw's bins before and after the skipped stretch and the demand's, each lane's bins
/// together (lane `j`'s `len` bins at `j * len..`).
#[derive(Default)]
struct RampBuffers {
    draw_head: Vec<f64>,
    draw_tail: Vec<f64>,
    demand_head: Vec<f64>,
    demand_tail: Vec<f64>,
}

impl RampBuffers {
    /// The bins they hold per lane.
    fn bins_per_lane(&self) -> usize {
        (self.draw_head.len()
            + self.draw_tail.len()
            + self.demand_head.len()
            + self.demand_tail.len())
            / LANES
    }
}

/// `len` bins of every lane, zero, in `v` (reusing its memory).
fn zero_lanes(v: &mut Vec<f64>, len: usize) {
    v.clear();
    v.resize(len * LANES, 0.0);
}

/// Where [`add_segment`] on `n` bins from `t0_s` puts `[a, b)`: its first and last bin and their
/// positions (`None`: nowhere), the same arithmetic.
#[inline(always)]
fn segment_place(
    t0_s: f64,
    dt_s: f64,
    n: usize,
    a: f64,
    b: f64,
) -> Option<(usize, usize, f64, f64)> {
    if n == 0 || !(b > a) {
        return None;
    }
    let end = t0_s + dt_s * n as f64;
    let a = a.max(t0_s);
    let b = b.min(end);
    if !(b > a) {
        return None;
    }
    let x0 = (a - t0_s) / dt_s;
    let x1 = (b - t0_s) / dt_s;
    Some((bin_index(x0, n), bin_index(x1, n), x0, x1))
}

/// [`segment_place`] for segments in time order: a segment that starts where the last one ended
/// takes that end's position (the same quotient) rather than dividing again.
struct Placer {
    t0_s: f64,
    dt_s: f64,
    n: usize,
    end: f64,
    last: (u64, f64),
}

impl Placer {
    fn new(t0_s: f64, dt_s: f64, n: usize) -> Placer {
        Placer {
            t0_s,
            dt_s,
            n,
            end: t0_s + dt_s * n as f64,
            last: (f64::NAN.to_bits(), f64::NAN),
        }
    }

    #[inline(always)]
    fn place(&mut self, a: f64, b: f64) -> Option<(usize, usize, f64, f64)> {
        let n = self.n;
        if n == 0 || !(b > a) {
            return None;
        }
        let a = a.max(self.t0_s);
        let b = b.min(self.end);
        if !(b > a) {
            return None;
        }
        let x0 = if a.to_bits() == self.last.0 {
            self.last.1
        } else {
            (a - self.t0_s) / self.dt_s
        };
        let x1 = (b - self.t0_s) / self.dt_s;
        self.last = (b.to_bits(), x1);
        Some((bin_index(x0, n), bin_index(x1, n), x0, x1))
    }
}

/// [`add_segment`]'s sums of `value_w` over a placed segment ([`segment_place`]) on the bins
/// `lo..lo + w.len()` it holds of the whole (the others left out).
#[inline(always)]
fn add_placed(w: &mut [f64], lo: usize, (i0, i1, x0, x1): (usize, usize, f64, f64), value_w: f64) {
    let hi = lo + w.len();
    if value_w == 0.0 || i1 < lo || i0 >= hi {
        return;
    }
    if i0 == i1 {
        w[i0 - lo] += value_w * (x1 - x0);
        return;
    }
    if i0 >= lo {
        w[i0 - lo] += value_w * ((i0 + 1) as f64 - x0);
    }
    let (s, e) = ((i0 + 1).max(lo), i1.min(hi));
    if s < e {
        for v in &mut w[s - lo..e - lo] {
            *v += value_w;
        }
    }
    if i1 < hi {
        w[i1 - lo] += value_w * (x1 - i1 as f64);
    }
}

/// Stretches shorter than this (bins) are not worth skipping.
const MIN_SKIP: usize = 1024;

/// `x.clamp(lo, hi)` for `lo <= hi` (neither a NaN), without the check: the same value.
#[inline(always)]
fn clamp_ordered(x: f64, lo: f64, hi: f64) -> f64 {
    let mut y = x;
    if y < lo {
        y = lo;
    }
    if y > hi {
        y = hi;
    }
    y
}

/// Rows handled at a time by [`limit_lanes`] and [`sum_lanes`] (each lane's bins copied side by
/// side, so that the lanes' independent chains interleave).
const BLOCK: usize = 64;

/// The ramp limiter over each lane's bins `lanes[j][from..]` (lanes of `len` bins in a row, see
/// [`RampBuffers`]), from `prev`.
fn limit_lanes(
    lanes: &mut [f64],
    len: usize,
    from: usize,
    prev: &mut [f64; LANES],
    (up, down): (f64, f64),
) {
    let mut i = from;
    let mut t = [[0.0f64; LANES]; BLOCK];
    while i < len {
        let b = (len - i).min(BLOCK);
        for j in 0..LANES {
            for (r, x) in lanes[j * len + i..j * len + i + b].iter().enumerate() {
                t[r][j] = *x;
            }
        }
        for row in t.iter_mut().take(b) {
            for j in 0..LANES {
                let x = clamp_ordered(row[j], prev[j] - down, prev[j] + up);
                row[j] = x;
                prev[j] = x;
            }
        }
        for j in 0..LANES {
            for (r, x) in lanes[j * len + i..j * len + i + b].iter_mut().enumerate() {
                *x = t[r][j];
            }
        }
        i += b;
    }
}

/// The deferred and burned sums of each lane's demand bins (lanes of `qlen` in a row) against its
/// limited bins from `loff` on (lanes of `llen` in a row), added to `acc` in order.
fn sum_lanes(
    demand: &[f64],
    qlen: usize,
    limited: &[f64],
    llen: usize,
    loff: usize,
    acc: &mut [(f64, f64); LANES],
) {
    let len = qlen.min(llen.saturating_sub(loff));
    let mut i = 0;
    let (mut q, mut l) = ([[0.0f64; LANES]; BLOCK], [[0.0f64; LANES]; BLOCK]);
    while i < len {
        let b = (len - i).min(BLOCK);
        for j in 0..LANES {
            for r in 0..b {
                q[r][j] = demand[j * qlen + i + r];
                l[r][j] = limited[j * llen + loff + i + r];
            }
        }
        for (qr, lr) in q.iter().zip(&l).take(b) {
            for j in 0..LANES {
                let (x, y) = (qr[j], lr[j]);
                acc[j].0 += (x - y).max(0.0);
                acc[j].1 += (y - x).max(0.0);
            }
        }
        i += b;
    }
}

/// One synthetic run of [`run_ramp_effect`] for a lane of job groups (at most [`LANES`]): each
/// group's per-GPU draw with GPU mitigation `m` (ramp limits included, with its lead-in) and
/// without the limits, over `n` bins of `dt` from `lead` (`window`), as [`group_gpu_trace`]
/// builds them, and the energy per GPU the limits defer and burn over the window
/// ([`deferred_energy_j`], [`burned_energy_j`]; 0 where not asked): `(deferred, burned)` pushed
/// to `out` for each group, in order. `m` sets a ramp limit, neither negative.
///
/// The same sums without the bins of a long state that stops stepping once every limiter has
/// reached its idle draw: there the draw and the demand are both that constant (a bin inside one
/// constant segment is its value, exactly), every limiter holds it, and each bin adds zero to the
/// sums. The bins are built before and after that stretch only, the limiter carried across it:
/// the work and memory follow the stepping time of the synthetic run and the limiter's fall, not
/// the length of the stop.
#[allow(clippy::too_many_arguments)]
fn ramp_run_lanes(
    lane: &[&Group],
    step: &StepShape,
    run: &[RunInterval],
    (lead, dt, n): (f64, f64, usize),
    m: &GpuMitigation,
    (defer, burn): (bool, bool),
    shared: Shared,
    kept: &mut [f64],
    bufs: &mut RampBuffers,
    out: &mut Vec<(f64, f64)>,
) {
    let k = lane.len().min(LANES);
    if k == 0 {
        return;
    }
    let free = GpuMitigation {
        ramp_up_w_per_s: None,
        ramp_down_w_per_s: None,
        ..*m
    };
    // (every job group is limited: `run_ramp_effect` asks only with a limit)
    let pre = lead_in_samples(run, lead, dt);
    // the draw's bins: `big` of them from `start`; the demand's: `n` from `lead`
    let big = n + pre;
    let start = lead - pre as f64 * dt;
    let end = lead + dt * n as f64;
    let from = match shared {
        Shared::From(at) => at,
        _ => 0,
    };
    let lo = from.saturating_sub(1);
    // (segments that end two bins before `from` touch no bin from `from - 1` on)
    let skip_before = if from >= 2 {
        start + (from - 2) as f64 * dt
    } else {
        f64::NEG_INFINITY
    };
    // The draw's segments from a step before `skip_before` on: a later start clips only a
    // segment that ends before it (a piece lasts at most a step), and leaves the steps after it
    // where they were (each step starts at its interval's origin plus a whole number of steps),
    // unless an interval that does not step starts between the two.
    let gen_from = (skip_before - 2.0 * step.step_s()).max(start);
    let gen_from = if run
        .iter()
        .all(|iv| iv.state.steps() || iv.start_s >= gen_from || iv.end_s <= skip_before)
    {
        gen_from
    } else {
        start
    };
    // The stretch to skip: inside the longest interval that stops stepping, the bins inside its
    // one constant segment in both the draw and the demand (a positive idle draw: its bins and
    // the limiter's hold are then the same bits).
    let mut idle = [0.0f64; LANES];
    for (v, g) in idle.iter_mut().zip(lane) {
        *v = mitigated_gpu_w(g, 0.0, false, m);
    }
    let same_idle = lane.iter().zip(&idle).all(|(g, v)| {
        *v > 0.0 && v.is_finite() && mitigated_gpu_w(g, 0.0, false, &free).to_bits() == v.to_bits()
    });
    let stretch = run
        .iter()
        .filter(|iv| !iv.state.steps() && same_idle && !matches!(shared, Shared::Keep(_)))
        .filter_map(|iv| {
            let (d0, d1, _, _) =
                segment_place(start, dt, big, iv.start_s.max(start), iv.end_s.min(end))?;
            let (q0, q1, _, _) =
                segment_place(lead, dt, n, iv.start_s.max(lead), iv.end_s.min(end))?;
            let s = (d0 + 1).max(q0 + 1 + pre).max(lo + 1).max(pre);
            let e = d1.min(q1 + pre);
            (e > s && e - s >= MIN_SKIP).then_some((s, e))
        })
        .max_by_key(|&(s, e)| e - s);
    let (head_end, tail) = match stretch {
        Some((s, e)) => (s, e),
        None => (big, big),
    };
    let (hlen, qhlen, tlen) = (head_end - lo, head_end - pre, big - tail);
    zero_lanes(&mut bufs.draw_head, hlen);
    zero_lanes(&mut bufs.demand_head, qhlen);
    zero_lanes(&mut bufs.draw_tail, tlen);
    zero_lanes(&mut bufs.demand_tail, tlen);
    for (j, g) in lane.iter().enumerate().take(k) {
        let head = &mut bufs.draw_head[j * hlen..(j + 1) * hlen];
        let after = &mut bufs.draw_tail[j * tlen..(j + 1) * tlen];
        let mut placer = Placer::new(start, dt, big);
        for_each_group_segment(g, step, run, gen_from, end, m, |a, b, w| {
            if b > skip_before && w != 0.0 {
                if let Some(at) = placer.place(a, b) {
                    add_placed(head, lo, at, w);
                    add_placed(after, tail, at, w);
                }
            }
        });
        let head = &mut bufs.demand_head[j * qhlen..(j + 1) * qhlen];
        let after = &mut bufs.demand_tail[j * tlen..(j + 1) * tlen];
        let mut placer = Placer::new(lead, dt, n);
        for_each_group_segment(g, step, run, lead, end, &free, |a, b, w| {
            if w != 0.0 {
                if let Some(at) = placer.place(a, b) {
                    add_placed(head, 0, at, w);
                    add_placed(after, tail - pre, at, w);
                }
            }
        });
    }
    let up = m.ramp_up_w_per_s.map(|r| r * dt).unwrap_or(f64::INFINITY);
    let down = m.ramp_down_w_per_s.map(|r| r * dt).unwrap_or(f64::INFINITY);
    // the limiter from its first bin (or the shared value), then every bin after it
    let mut prev = [0.0f64; LANES];
    let first = match shared {
        Shared::From(at) => {
            prev[..k].copy_from_slice(&kept[..k]);
            at
        }
        _ => {
            for (j, p) in prev.iter_mut().enumerate() {
                *p = bufs.draw_head[j * hlen];
            }
            lo + 1
        }
    };
    limit_lanes(&mut bufs.draw_head, hlen, first - lo, &mut prev, (up, down));
    if let Shared::Keep(at) = shared {
        for (j, v) in kept.iter_mut().enumerate().take(k) {
            *v = if at > lo && at - 1 < head_end {
                bufs.draw_head[j * hlen + at - 1 - lo]
            } else {
                f64::NAN
            };
        }
    }
    // (a float sum starts from -0.0, as `Iterator::sum` does)
    let mut acc = [(-0.0f64, -0.0f64); LANES];
    sum_lanes(
        &bufs.demand_head,
        qhlen,
        &bufs.draw_head,
        hlen,
        pre - lo,
        &mut acc,
    );
    if let Some((s, e)) = stretch {
        // inside the stretch: each limiter on to its idle draw, then held there
        let mut i = s;
        while i < e && (0..k).any(|j| prev[j].to_bits() != idle[j].to_bits()) {
            for j in 0..LANES {
                let v = idle[j];
                let x = clamp_ordered(v, prev[j] - down, prev[j] + up);
                prev[j] = x;
                acc[j].0 += (v - x).max(0.0);
                acc[j].1 += (x - v).max(0.0);
            }
            i += 1;
        }
        if i < e {
            // (each bin held adds zero: the first turns a -0.0 sum into +0.0)
            for a in acc.iter_mut() {
                a.0 += 0.0;
                a.1 += 0.0;
            }
        }
        limit_lanes(&mut bufs.draw_tail, tlen, 0, &mut prev, (up, down));
        sum_lanes(&bufs.demand_tail, tlen, &bufs.draw_tail, tlen, 0, &mut acc);
    }
    for a in acc.iter().take(k) {
        out.push((
            if defer { a.0 * dt } else { 0.0 },
            if burn { a.1 * dt } else { 0.0 },
        ));
    }
}

#[cfg(test)]
mod tests {
    //! The side-by-side, shared-lead-in and parallel computations give what the plain one group
    //! at a time computation gives, bit for bit.
    use super::*;
    use crate::draw::GpuDraw;
    use crate::profile::PhaseDraw;

    /// Ten pipeline stage groups (more than one set of lanes), spares, a restart, checkpoint
    /// writes and maintenance.
    fn job() -> (Cluster, StepShape, Vec<RunInterval>) {
        let gpu = GpuDraw::from_tdp(700.0, 0.2, 0.9);
        let p = 10;
        let mut groups: Vec<Group> = (0..p)
            .map(|s| Group {
                name: format!("stage {s}"),
                gpus: 1000.0,
                gpu,
                host_w_per_gpu: 420.0,
                other_it_w_per_gpu: 127.5,
                offset_s: 0.0,
                spare: false,
                stage: s,
            })
            .collect();
        groups.push(Group {
            name: "spares".into(),
            gpus: 300.0,
            spare: true,
            stage: 0,
            ..groups[0].clone()
        });
        let ph = |name: &str, s: f64, a: f64| PhaseDraw {
            name: name.into(),
            duration_s: s,
            activity: a,
        };
        let step = StepShape {
            phases: vec![
                ph("pipeline_fill", 0.11, 0.1),
                ph("forward", 0.31, 1.0),
                ph("backward", 0.57, 1.0),
                ph("tp_comm", 0.02, 0.2),
                ph("pipeline_drain", 0.11, 0.1),
                ph("dp_comm", 0.13, 0.2),
                ph("optimizer", 0.01, 0.5),
            ],
            pipeline_stages: p,
        };
        let iv = |a: f64, b: f64, state| RunInterval {
            start_s: a,
            end_s: b,
            state,
        };
        let run = vec![
            iv(0.0, 700.0, RunState::Training),
            iv(700.0, 703.5, RunState::CheckpointWrite),
            iv(703.5, 900.0, RunState::Training),
            iv(900.0, 1150.0, RunState::Restart),
            iv(1150.0, 1400.0, RunState::Training),
            iv(1400.0, 1520.0, RunState::PlannedMaintenance),
            iv(1520.0, 2000.0, RunState::Training),
        ];
        (Cluster { groups, pue: 1.2 }, step, run)
    }

    fn limits(r: f64) -> GpuMitigation {
        GpuMitigation {
            ramp_up_w_per_s: Some(r),
            ramp_down_w_per_s: Some(r),
            ..GpuMitigation::none()
        }
    }

    #[test]
    fn ramp_limited_it_trace_is_the_groups_draws_added_in_order() {
        let (c, step, run) = job();
        let m = limits(9.0);
        let (t0, dt, n) = (850.0, 0.01, 20_000);
        let got = it_trace(&c, &step, &run, t0, dt, n, &m);
        let free = GpuMitigation {
            ramp_up_w_per_s: None,
            ramp_down_w_per_s: None,
            ..m
        };
        let mut it = Trace::zeros(t0, dt, n);
        let (mut deferred, mut burned) = (0.0, 0.0);
        for mg in merge_groups(&c, &step) {
            let g = mg.group;
            let gt = group_gpu_trace(g, &step, &run, t0, dt, n, &m);
            let demand = group_gpu_trace(g, &step, &run, t0, dt, n, &free);
            deferred += mg.gpus * deferred_energy_j(&demand.w, &gt.w, dt);
            burned += mg.gpus * burned_energy_j(&demand.w, &gt.w, dt);
            for (o, x) in it.w.iter_mut().zip(&gt.w) {
                *o += mg.gpus * x + mg.constant_w;
            }
        }
        let bits = |w: &[f64]| w.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got.it.w), bits(&it.w));
        assert_eq!(got.deferred_j.to_bits(), deferred.to_bits());
        assert_eq!(got.burned_j.to_bits(), burned.to_bits());
        let lean = it_power_trace(&c, &step, &run, t0, dt, n, &m);
        assert_eq!(bits(&lean.w), bits(&it.w));
    }

    #[test]
    fn pipelined_traces_built_together_are_the_traces_built_alone() {
        let (c, step, run) = job();
        let (t0, dt, n) = (850.0, 0.01, 30_000);
        let ms: Vec<GpuMitigation> = [0.0, 0.5, 0.7, 0.8, 0.9]
            .iter()
            .flat_map(|&f| {
                [None, Some(0.8)].map(|filler| GpuMitigation {
                    floor_fraction: f,
                    filler_activity: filler,
                    ..GpuMitigation::none()
                })
            })
            .chain([limits(9.0)])
            .collect();
        let together = it_power_traces(&c, &step, &run, t0, dt, n, &ms);
        for (m, t) in ms.iter().zip(&together) {
            let alone = it_power_trace(&c, &step, &run, t0, dt, n, m);
            let bits = |w: &[f64]| w.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&t.w), bits(&alone.w), "{m:?}");
        }
    }

    /// [`run_ramp_effect`] computed plainly: each group's synthetic runs built alone, in full
    /// ([`group_gpu_trace`]), summed in order. `(burned J, deferred fraction)`.
    fn plain_run_ramp_effect(
        c: &Cluster,
        step: &StepShape,
        run: &[RunInterval],
        m: &GpuMitigation,
    ) -> (f64, f64) {
        let step_s = step.step_s();
        let dt = step_s / 40.0;
        let free = GpuMitigation {
            ramp_up_w_per_s: None,
            ramp_down_w_per_s: None,
            ..*m
        };
        let mut stopped: Vec<(RunState, f64, f64)> = vec![];
        for s in RunState::ALL.iter().filter(|s| !s.steps()) {
            let iv: Vec<&RunInterval> = run.iter().filter(|iv| iv.state == *s).collect();
            let t: f64 = iv.iter().map(|iv| (iv.end_s - iv.start_s).max(0.0)).sum();
            if !iv.is_empty() && t > 0.0 {
                stopped.push((*s, iv.len() as f64, t / iv.len() as f64));
            }
        }
        let stepping: f64 = run
            .iter()
            .filter(|iv| iv.state.steps())
            .map(|iv| (iv.end_s - iv.start_s).max(0.0))
            .sum();
        let iv = |a: f64, b: f64, state| RunInterval {
            start_s: a,
            end_s: b,
            state,
        };
        let (mut deferred_j, mut burned_j) = (0.0, 0.0);
        for mg in merge_groups(c, step) {
            let g = mg.group;
            if g.spare {
                continue;
            }
            let lead = MAX_RAMP_PRE_ROLL_S + step_s;
            let both = |r: &[RunInterval], t0: f64, t1: f64| {
                let n = ((t1 - t0) / dt).round().max(1.0) as usize;
                let d = group_gpu_trace(g, step, r, t0, dt, n, &free);
                let l = group_gpu_trace(g, step, r, t0, dt, n, m);
                (
                    if m.ramp_up_w_per_s.is_some() {
                        deferred_energy_j(&d.w, &l.w, dt)
                    } else {
                        0.0
                    },
                    if m.ramp_down_w_per_s.is_some() {
                        burned_energy_j(&d.w, &l.w, dt)
                    } else {
                        0.0
                    },
                )
            };
            let k = 20.0;
            let steady = [iv(0.0, lead + k * step_s, RunState::Training)];
            let (d0, b0) = both(&steady, lead, lead + k * step_s);
            let (rate_d, rate_b) = (d0 / (k * step_s), b0 / (k * step_s));
            let (mut d_gpu, mut b_gpu) = (rate_d * stepping, rate_b * stepping);
            for &(state, count, mean_s) in &stopped {
                let back = MAX_RAMP_PRE_ROLL_S + 2.0 * step_s;
                let end = lead + mean_s + back;
                let r = [
                    iv(0.0, lead, RunState::Training),
                    iv(lead, lead + mean_s, state),
                    iv(lead + mean_s, end, RunState::Training),
                ];
                let (d, b) = both(&r, lead, end);
                d_gpu += count * (d - rate_d * back).max(0.0);
                b_gpu += count * (b - rate_b * back).max(0.0);
            }
            deferred_j += mg.gpus * d_gpu;
            burned_j += mg.gpus * b_gpu;
        }
        let work_j: f64 = stepping
            * step.mean_activity()
            * c.groups
                .iter()
                .filter(|g| !g.spare)
                .map(|g| g.gpus * (g.gpu.compute_w - g.gpu.idle_w))
                .sum::<f64>();
        (burned_j, (deferred_j / work_j).clamp(0.0, 1.0))
    }

    #[test]
    fn run_ramp_effect_is_the_groups_synthetic_runs_summed_in_order() {
        let (c, step, run) = job();
        for m in [
            limits(7.0),
            GpuMitigation {
                ramp_down_w_per_s: None,
                ..limits(20.0)
            },
        ] {
            let got = run_ramp_effect(&c, &step, &run, &m);
            let (burned_j, frac) = plain_run_ramp_effect(&c, &step, &run, &m);
            assert_eq!(got.burned_j.to_bits(), burned_j.to_bits(), "{m:?}");
            assert_eq!(got.deferred_fraction.to_bits(), frac.to_bits(), "{m:?}");
            assert!(got.burned_j > 0.0 || m.ramp_down_w_per_s.is_none());
            assert!(got.deferred_fraction > 0.0);
        }
    }

    /// The bins a group's synthetic runs hold do not follow the length of the run's stops: a
    /// thousand-fold longer restart (as a cluster ten times larger fails ten times as often and
    /// waits longer for its spares) holds no more.
    #[test]
    fn run_ramp_effect_memory_does_not_follow_the_stops() {
        let (c, step, run) = job();
        let m = limits(7.0);
        let with_restart = |s: f64| {
            let mut r: Vec<RunInterval> = run
                .iter()
                .filter(|iv| iv.state != RunState::Restart)
                .copied()
                .collect();
            let end = r.last().map_or(0.0, |iv| iv.end_s);
            r.push(RunInterval {
                start_s: end,
                end_s: end + s,
                state: RunState::Restart,
            });
            r
        };
        let short = run_ramp_effect_bins(&c, &step, &with_restart(300.0), &m);
        let long = run_ramp_effect_bins(&c, &step, &with_restart(300_000.0), &m);
        let dt = step.step_s() / 40.0;
        // the lead-in and the climb back: 600 s each, plus a few steps
        let bound = (2.0 * (2.0 * MAX_RAMP_PRE_ROLL_S + 4.0 * step.step_s()) / dt) as usize;
        assert!(short > 0 && short <= bound, "{short} > {bound}");
        assert!(long <= short, "{long} > {short}");
        // (the stop itself would be 300,000 s / dt bins)
        assert!(long * 100 < (300_000.0 / dt) as usize);
    }

    /// Long stops (hours of restart, a maintenance the limiter does not finish falling in, a
    /// floor above the idle draw): the stretch where every limiter holds its idle draw is skipped,
    /// and the sums are still the plain ones, bit for bit.
    #[test]
    fn run_ramp_effect_skips_long_stops_exactly() {
        let (c, step, mut run) = job();
        let iv = |a: f64, b: f64, state| RunInterval {
            start_s: a,
            end_s: b,
            state,
        };
        run.push(iv(2000.0, 7000.0, RunState::Restart));
        run.push(iv(7000.0, 7400.0, RunState::Training));
        run.push(iv(7400.0, 9400.0, RunState::WaitingForSpares));
        run.push(iv(9400.0, 9900.0, RunState::Training));
        for m in [
            limits(7.0),
            // slow enough that a 120 s maintenance stop ends before the limiter reaches idle
            limits(1.5),
            GpuMitigation {
                ramp_up_w_per_s: None,
                floor_fraction: 0.5,
                ..limits(20.0)
            },
        ] {
            let got = run_ramp_effect(&c, &step, &run, &m);
            let (burned_j, frac) = plain_run_ramp_effect(&c, &step, &run, &m);
            assert_eq!(got.burned_j.to_bits(), burned_j.to_bits(), "{m:?}");
            assert_eq!(got.deferred_fraction.to_bits(), frac.to_bits(), "{m:?}");
        }
    }
}
