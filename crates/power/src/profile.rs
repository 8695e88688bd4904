//! Plain inputs of the power model: the shape of one optimizer step and the run as intervals.
//!
//! The step model (`perf`) and the reliability timeline (`sim`) map onto these with a few lines:
//! a step-profile phase `{name, duration_s, activity}` is a [`PhaseDraw`]; a timeline interval
//! `{start_s, end_s, state}` is a [`RunInterval`].

use serde::{Deserialize, Serialize};

/// One phase of a step: how long, and the fraction of full compute activity (0 = idle, waiting on
/// communication; 1 = dense compute).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct PhaseDraw {
    pub name: String,
    pub duration_s: f64,
    pub activity: f64,
}

/// One optimizer step as an ordered list of phases; the run repeats it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct StepShape {
    pub phases: Vec<PhaseDraw>,
}

impl StepShape {
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
    /// Defaults (see [`crate::defaults`]): a 2 s step, the calibration's iteration period
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
        StepShape { phases }
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
