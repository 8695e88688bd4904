//! From activity to watts: the calibrated per-GPU draw, the constant non-GPU load, and the cluster
//! as a few synchronised groups.

use serde::{Deserialize, Serialize};

/// Calibration constants, each with its source (grades as in the calibration notes).
pub mod defaults {
    /// Compute-phase GPU draw as a fraction of TDP. Calibration power-cost section 8: 0.9 x TDP
    /// (range 0.76-1.0), from Latif et al. 2025 (8.4 kW measured on an 8xH100 node, P) and Epoch's
    /// single-H100 test reaching its 700 W peak (P).
    pub const GPU_COMPUTE_FRACTION: f64 = 0.9;
    /// Idle / exposed-communication GPU draw as a fraction of TDP. Calibration section 8: 0.2 x TDP
    /// (range 0.1-0.4, U); consistent with SemiAnalysis's hang heuristic (< 150 W per H100 for
    /// 4 minutes means a stuck job: 150 / 700 = 0.21, P).
    pub const GPU_IDLE_FRACTION: f64 = 0.2;
    /// Measured maximum node draw while training as a fraction of the nameplate: 8.4 kW of the
    /// DGX/HGX H100's 10.2 kW (Latif et al., IEEE Access 13:61740, 2025, P): 8.4 / 10.2 = 0.8235 (D).
    /// Brookhaven (arXiv 2506.14551, P) measures 76 % for compute-intensive training.
    pub const NODE_MEASURED_MAX_FRACTION: f64 = 8.4 / 10.2;
    /// Synthetic step period: calibration section 8 (2 s; range 0.3-30 s; arXiv 2508.14318 via
    /// digest, S).
    pub const STEP_S: f64 = 2.0;
    /// Synthetic compute share of a step (A, calibrated): with the H100 figures above, rack power
    /// is 420 W host + 630 W compute / 140 W idle GPU per GPU; a 90 % floor adds
    /// (1 - c) x 490 W over a mean of 420 + 630 c + 140 (1 - c) W, i.e. 10.3 % at c = 0.8, the
    /// order of the 10.5 % the calibration cites for a measured waveform (row 19, S).
    pub const COMPUTE_FRACTION: f64 = 0.8;
    /// Fine analysis window and its sample step (one definition, in `spec`, whose range checks
    /// use them too).
    pub const WINDOW_S: f64 = spec::power::DEFAULT_WINDOW_S;
    pub const RESOLUTION_S: f64 = spec::power::DEFAULT_RESOLUTION_S;
}

/// Per-GPU board power as a function of activity.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct GpuDraw {
    pub tdp_w: f64,
    /// Draw at activity 0 (idle, waiting on communication, job restarting).
    pub idle_w: f64,
    /// Draw at activity 1 (dense compute).
    pub compute_w: f64,
}

impl GpuDraw {
    /// Linear in activity between idle and compute draw.
    pub fn gpu_power_w(&self, activity: f64) -> f64 {
        self.idle_w + activity.clamp(0.0, 1.0) * (self.compute_w - self.idle_w)
    }

    /// From TDP and the two calibrated fractions.
    pub fn from_tdp(tdp_w: f64, idle_fraction: f64, compute_fraction: f64) -> GpuDraw {
        GpuDraw {
            tdp_w,
            idle_w: tdp_w * idle_fraction,
            compute_w: tdp_w * compute_fraction,
        }
    }
}

/// Non-GPU server draw per GPU (CPUs, NICs, fans, memory), constant over a step: the measured
/// node maximum less its GPUs at compute draw. DGX H100: 0.8235 x 10,200 W / 8 - 630 W = 420 W (D).
pub fn host_power_per_gpu_w(
    node_power_w: f64,
    gpus_per_node: f64,
    measured_max_fraction: f64,
    gpu_compute_w: f64,
) -> f64 {
    (node_power_w * measured_max_fraction / gpus_per_node.max(1.0) - gpu_compute_w).max(0.0)
}

/// Non-server IT (switches, storage, management) per GPU, constant: the other-IT share of the
/// nameplate system power, the convention of the plan (SemiAnalysis ~10 %, P).
pub fn other_it_power_per_gpu_w(
    node_power_w: f64,
    gpus_per_node: f64,
    other_it_fraction: f64,
) -> f64 {
    node_power_w / gpus_per_node.max(1.0) * other_it_fraction
}

fn is_first_stage(s: &u32) -> bool {
    *s == 0
}

/// GPUs that swing together: a hall, or a pipeline stage of a hall (`stage`: which one, running
/// the step as [`crate::profile::StepShape::stage_shape`] arranges it), whose phases may also be
/// shifted by `offset_s`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Group {
    pub name: String,
    pub gpus: f64,
    pub gpu: GpuDraw,
    /// Constant non-GPU server draw per GPU.
    pub host_w_per_gpu: f64,
    /// Constant non-server IT per GPU.
    pub other_it_w_per_gpu: f64,
    /// Shift of this group's step relative to the run's clock.
    pub offset_s: f64,
    /// Spare GPUs outside the job (warm standbys, the remainder of a hall): powered, held at idle
    /// draw whatever the job does, untouched by GPU-level mitigations.
    #[serde(default)]
    pub spare: bool,
    /// Pipeline stage of the job this group runs (0 = first; also 0 without a pipeline).
    #[serde(default, skip_serializing_if = "is_first_stage")]
    pub stage: u32,
}

impl Group {
    /// Constant (activity-independent) IT draw of the whole group.
    pub fn constant_w(&self) -> f64 {
        self.gpus * (self.host_w_per_gpu + self.other_it_w_per_gpu)
    }
}

/// The cluster as a site sees it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Cluster {
    pub groups: Vec<Group>,
    /// Power usage effectiveness: facility energy over IT energy.
    pub pue: f64,
}

impl Cluster {
    pub fn gpus(&self) -> f64 {
        self.groups.iter().map(|g| g.gpus).sum()
    }

    /// IT power with every GPU at `activity`.
    pub fn it_power_at_w(&self, activity: f64) -> f64 {
        self.groups
            .iter()
            .map(|g| g.gpus * g.gpu.gpu_power_w(activity) + g.constant_w())
            .sum()
    }
}
