//! Plain inputs of the power model: the shape of one optimizer step and the run as intervals.
//!
//! The step model (`perf`) and the reliability timeline (`sim`) map onto these with a few lines:
//! a step-profile phase `{name, duration_s, activity}` is a [`PhaseDraw`]; a timeline interval
//! `{start_s, end_s, state}` is a [`RunInterval`].

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One phase of a step: how long, and the fraction of full compute activity (0 = idle, waiting on
/// communication; 1 = dense compute).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct PhaseDraw {
    pub name: String,
    pub duration_s: f64,
    pub activity: f64,
}

/// Names of the step model's phases (`perf::step::phases`) that the pipeline arrangement of
/// [`StepShape::stage_shape`] relies on.
pub mod phase_names {
    /// Idle before the first microbatch arrives (half the per-stage pipeline bubble).
    pub const PIPELINE_FILL: &str = "pipeline_fill";
    /// Idle after the last backward leaves (the other half of the bubble).
    pub const PIPELINE_DRAIN: &str = "pipeline_drain";
    /// The compute block, in this order.
    pub const FORWARD: &str = "forward";
    pub const RECOMPUTE: &str = "recompute";
    pub const BACKWARD: &str = "backward";
    pub const COMPUTE: [&str; 3] = [FORWARD, RECOMPUTE, BACKWARD];
    /// Idle of a stage between its warm-up forwards and the first backward to come back.
    pub const PIPELINE_WARMUP_WAIT: &str = "pipeline_warmup_wait";
    /// Idle of a stage within its cool-down backwards.
    pub const PIPELINE_COOLDOWN_WAIT: &str = "pipeline_cooldown_wait";
}

fn one_stage() -> u32 {
    1
}

fn is_one_stage(p: &u32) -> bool {
    *p <= 1
}

/// One optimizer step as an ordered list of phases; the run repeats it.
///
/// `phases` is the step of the job as a whole (the slowest stage's profile, as the step model gives
/// it); with `pipeline_stages` > 1, each stage runs it rearranged by the pipeline schedule
/// ([`StepShape::stage_shape`]).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct StepShape {
    pub phases: Vec<PhaseDraw>,
    /// Pipeline-parallel stages of the job (1: no pipeline, every GPU runs `phases` as given).
    #[serde(default = "one_stage", skip_serializing_if = "is_one_stage")]
    pub pipeline_stages: u32,
}

impl Default for StepShape {
    fn default() -> StepShape {
        StepShape {
            phases: vec![],
            pipeline_stages: 1,
        }
    }
}

/// One piece of the compute block `[a, b)` (seconds from the block's start), split across its
/// phases by time, each piece keeping its phase's name and activity.
fn compute_slice(block: &[&PhaseDraw], a: f64, b: f64, out: &mut Vec<PhaseDraw>) {
    let mut t = 0.0_f64;
    for ph in block {
        let d = ph.duration_s.max(0.0);
        let (s, e) = (t.max(a), (t + d).min(b));
        if e > s {
            out.push(PhaseDraw {
                name: ph.name.clone(),
                duration_s: e - s,
                activity: ph.activity,
            });
        }
        t += d;
    }
}

fn push_idle(out: &mut Vec<PhaseDraw>, name: &str, duration_s: f64, activity: f64) {
    if duration_s > 0.0 {
        out.push(PhaseDraw {
            name: name.into(),
            duration_s,
            activity,
        });
    }
}

impl StepShape {
    /// A shape without a pipeline (one stage).
    pub fn new(phases: Vec<PhaseDraw>) -> StepShape {
        StepShape {
            phases,
            pipeline_stages: 1,
        }
    }

    /// The step as pipeline stage `stage` (0 = first; clamped to the last) runs it, in a 1F1B
    /// schedule (Narayanan et al. 2021, "Efficient Large-Scale Language Model Training on GPU
    /// Clusters Using Megatron-LM", SC21, Fig. 4): every stage idles the same total bubble
    /// `B = fill + drain`, at different places.
    ///
    /// With `p` stages, `u = B / (p - 1)`, the forward share of the compute block
    /// `phi = forward / (forward + recompute + backward)`, `t_f = phi u`, `t_b = (1 - phi) u`,
    /// stage `s` does:
    ///
    /// 1. fill: idle `s t_f` (waits for its first microbatch);
    /// 2. compute `(p - s) t_f` (its warm-up forwards);
    /// 3. idle `(p - 1 - s) t_b` (waits for the first backward to come back);
    /// 4. the rest of the compute block, then the phases between the compute block and the drain
    ///    (exposed TP, CP, EP, PP communication) as given;
    /// 5. cool-down: compute `(p - 1 - s) t_b`, then idle `(p - 1 - s) t_f`;
    /// 6. drain: idle `s t_b` (the last stages finish first);
    /// 7. the phases after the drain (DP communication, optimizer), aligned across stages: the step
    ///    ends with a global synchronisation.
    ///
    /// Idle per stage: `s t_f + (p-1-s) t_b + (p-1-s) t_f + s t_b = B`, so every stage has the same
    /// time at each activity and the same step length, and the energy is conserved exactly. When
    /// the compute block is shorter than steps 2 and 5 need, both shrink in proportion. The compute
    /// block (forward, recompute, backward, in that order) is split by time, each piece keeping its
    /// phase's activity; the idle pieces take the bubble's activity (the duration-weighted mean of
    /// fill and drain when they differ).
    ///
    /// The shape is returned unchanged when `p <= 1`, when `B = 0`, or when the phases are not the
    /// step model's (fill, then the compute block, then drain, by [`phase_names`]).
    pub fn stage_shape(&self, stage: u32) -> StepShape {
        use phase_names as n;
        let p = self.pipeline_stages;
        let unchanged = || StepShape::new(self.phases.clone());
        if p <= 1 {
            return unchanged();
        }
        let s = stage.min(p - 1) as f64;
        let pf = p as f64;
        let find = |name: &str| self.phases.iter().position(|ph| ph.name == name);
        let (Some(i_fill), Some(i_drain)) = (find(n::PIPELINE_FILL), find(n::PIPELINE_DRAIN))
        else {
            return unchanged();
        };
        let compute_idx: Vec<usize> = (0..self.phases.len())
            .filter(|&i| n::COMPUTE.contains(&self.phases[i].name.as_str()))
            .collect();
        if compute_idx.is_empty() || compute_idx.iter().any(|&i| i < i_fill || i > i_drain) {
            return unchanged();
        }
        let d = |i: usize| self.phases[i].duration_s.max(0.0);
        let (fill, drain) = (&self.phases[i_fill], &self.phases[i_drain]);
        let b_total = d(i_fill) + d(i_drain);
        let block: Vec<&PhaseDraw> = compute_idx.iter().map(|&i| &self.phases[i]).collect();
        let c_total: f64 = compute_idx.iter().map(|&i| d(i)).sum();
        // (sums of durations clamped at zero: never NaN)
        if b_total <= 0.0 || c_total <= 0.0 || !b_total.is_finite() || !c_total.is_finite() {
            return unchanged();
        }
        let forward: f64 = block
            .iter()
            .filter(|ph| ph.name == n::FORWARD)
            .map(|ph| ph.duration_s.max(0.0))
            .sum();
        let phi = forward / c_total;
        let u = b_total / (pf - 1.0);
        let (t_f, t_b) = (phi * u, (1.0 - phi) * u);
        let bubble = if fill.activity == drain.activity {
            fill.activity
        } else {
            (d(i_fill) * fill.activity + d(i_drain) * drain.activity) / b_total
        };
        // Compute of steps 2 and 5, shrunk in proportion when the block is shorter.
        let (mut warm, mut cool) = ((pf - s) * t_f, (pf - 1.0 - s) * t_b);
        if warm + cool > c_total {
            let k = c_total / (warm + cool);
            warm *= k;
            cool *= k;
        }
        let cool_start = (c_total - cool).max(warm);

        let mut out = Vec::with_capacity(self.phases.len() + 8);
        for (i, ph) in self.phases.iter().enumerate() {
            if i == i_fill {
                push_idle(&mut out, n::PIPELINE_FILL, s * t_f, bubble);
            } else if i == compute_idx[0] {
                compute_slice(&block, 0.0, warm, &mut out);
                push_idle(
                    &mut out,
                    n::PIPELINE_WARMUP_WAIT,
                    (pf - 1.0 - s) * t_b,
                    bubble,
                );
                compute_slice(&block, warm, cool_start, &mut out);
            } else if compute_idx.contains(&i) {
                // in the block, placed with its first phase
            } else if i == i_drain {
                compute_slice(&block, cool_start, f64::INFINITY, &mut out);
                push_idle(
                    &mut out,
                    n::PIPELINE_COOLDOWN_WAIT,
                    (pf - 1.0 - s) * t_f,
                    bubble,
                );
                push_idle(&mut out, n::PIPELINE_DRAIN, s * t_b, bubble);
            } else {
                out.push(ph.clone());
            }
        }
        StepShape::new(out)
    }

    /// [`StepShape::stage_shape`], borrowing `self` when there is no pipeline (no copy).
    pub fn for_stage(&self, stage: u32) -> Cow<'_, StepShape> {
        if self.pipeline_stages <= 1 {
            Cow::Borrowed(self)
        } else {
            Cow::Owned(self.stage_shape(stage))
        }
    }

    /// The time the step spends at each activity, which every stage of [`StepShape::stage_shape`]
    /// shares: the step itself (borrowed), or, when the arrangement applies and fill and drain
    /// differ in activity, the step with both at the bubble's mean activity. Any per-step mean of
    /// a function of activity (per-state draw, floors, filler) is the same over it as over each
    /// stage's shape.
    pub fn time_mix(&self) -> Cow<'_, StepShape> {
        use phase_names as n;
        if self.pipeline_stages <= 1 {
            return Cow::Borrowed(self);
        }
        let find = |name: &str| self.phases.iter().find(|ph| ph.name == name);
        let (Some(fill), Some(drain)) = (find(n::PIPELINE_FILL), find(n::PIPELINE_DRAIN)) else {
            return Cow::Borrowed(self);
        };
        if fill.activity == drain.activity || self.stage_shape(0).phases == self.phases {
            return Cow::Borrowed(self);
        }
        let (df, dd) = (fill.duration_s.max(0.0), drain.duration_s.max(0.0));
        let bubble = (df * fill.activity + dd * drain.activity) / (df + dd);
        let mut mix = StepShape::new(self.phases.clone());
        for ph in &mut mix.phases {
            if ph.name == n::PIPELINE_FILL || ph.name == n::PIPELINE_DRAIN {
                ph.activity = bubble;
            }
        }
        Cow::Owned(mix)
    }

    /// [`StepShape::stage_shape`] of every stage, first to last (one shape when there is no
    /// pipeline).
    pub fn stage_shapes(&self) -> Vec<StepShape> {
        (0..self.pipeline_stages.max(1))
            .map(|s| self.stage_shape(s))
            .collect()
    }

    pub fn step_s(&self) -> f64 {
        self.phases.iter().map(|p| p.duration_s.max(0.0)).sum()
    }

    /// Time-weighted mean activity over a step.
    pub fn mean_activity(&self) -> f64 {
        let t = self.step_s();
        if t <= 0.0 {
            return 0.0;
        }
        self.phases
            .iter()
            .map(|p| p.duration_s.max(0.0) * p.activity.clamp(0.0, 1.0))
            .sum::<f64>()
            / t
    }

    /// The synthetic shape used until the step model provides one: dense compute for
    /// `compute_fraction` of the step, then exposed communication at `comm_activity`.
    ///
    /// Defaults (see [`crate::draw::defaults`]): a 2 s step, the calibration's iteration period
    /// (power-cost section 8, from "once per second or less, to once every tens of seconds",
    /// arXiv 2508.14318, S) and 80 % compute, which puts a DGX-H100 rack-level waveform at the
    /// ~10.5 % energy overhead the calibration cites for a 90 % floor (D, see `defaults`).
    pub fn synthetic(step_s: f64, compute_fraction: f64, comm_activity: f64) -> StepShape {
        let c = compute_fraction.clamp(0.0, 1.0);
        let mut phases = vec![];
        if c > 0.0 {
            phases.push(PhaseDraw {
                name: "forward+backward compute".into(),
                duration_s: step_s * c,
                activity: 1.0,
            });
        }
        if c < 1.0 {
            phases.push(PhaseDraw {
                name: "exposed communication".into(),
                duration_s: step_s * (1.0 - c),
                activity: comm_activity.clamp(0.0, 1.0),
            });
        }
        StepShape::new(phases)
    }

    /// Whether every phase has a finite, non-negative duration and an activity in 0..=1, and the
    /// step lasts longer than zero.
    pub fn is_valid(&self) -> bool {
        self.step_s() > 0.0
            && self.phases.iter().all(|p| {
                p.duration_s.is_finite()
                    && p.duration_s >= 0.0
                    && p.activity.is_finite()
                    && (0.0..=1.0).contains(&p.activity)
            })
    }
}

/// What the job does over an interval of the run (the reliability timeline's states).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    /// Repeating steps.
    Training,
    /// Re-computing steps lost to a failure: same power as training.
    LostWorkRecompute,
    /// Blocked on a checkpoint write: GPUs near idle (a dip).
    CheckpointWrite,
    /// Detection, diagnosis, re-initialisation, checkpoint load: the whole job at idle.
    Restart,
    /// Waiting for nodes to return from repair: idle.
    WaitingForSpares,
    /// Planned maintenance: idle.
    PlannedMaintenance,
}

impl RunState {
    pub const ALL: [RunState; 6] = [
        RunState::Training,
        RunState::LostWorkRecompute,
        RunState::CheckpointWrite,
        RunState::Restart,
        RunState::WaitingForSpares,
        RunState::PlannedMaintenance,
    ];

    /// Whether the job steps (the step shape repeats) in this state.
    pub fn steps(self) -> bool {
        matches!(self, RunState::Training | RunState::LostWorkRecompute)
    }

    pub fn name(self) -> &'static str {
        match self {
            RunState::Training => "training",
            RunState::LostWorkRecompute => "lost_work_recompute",
            RunState::CheckpointWrite => "checkpoint_write",
            RunState::Restart => "restart",
            RunState::WaitingForSpares => "waiting_for_spares",
            RunState::PlannedMaintenance => "planned_maintenance",
        }
    }

    pub fn index(self) -> usize {
        RunState::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// One interval of the run.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct RunInterval {
    pub start_s: f64,
    pub end_s: f64,
    pub state: RunState,
}

/// A run that only trains, from 0 to `length_s`.
pub fn steady_run(length_s: f64) -> Vec<RunInterval> {
    vec![RunInterval {
        start_s: 0.0,
        end_s: length_s,
        state: RunState::Training,
    }]
}

/// Seconds spent in each state (indexed by [`RunState::index`]).
pub fn time_in_states(run: &[RunInterval]) -> [f64; 6] {
    let mut t = [0.0; 6];
    for iv in run {
        t[iv.state.index()] += (iv.end_s - iv.start_s).max(0.0);
    }
    t
}
