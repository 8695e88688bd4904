//! One site as the power model sees it: its halls (how many GPUs, how many in the job, their
//! board and node power), the calibrated draw fractions, its PUE, cooling design and climate; and
//! the [`Setup`] of a study from it, a step shape and the run's states. The `pipeline` crate fills
//! these from a scenario, the step model's profile and the reliability timeline.

use crate::analysis::{Inputs, Mitigation, Prices, Window};
use crate::cooling::Climate;
use crate::draw::{host_power_per_gpu_w, other_it_power_per_gpu_w, Cluster, GpuDraw, Group};
use crate::grid::GridCode;
use crate::profile::{steady_run, RunInterval, StepShape};
use serde::Serialize;

/// A hall of one system: `job_gpus` of its `gpus` run the job, the rest are spares at idle.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Hall {
    pub name: String,
    pub gpus: u64,
    pub job_gpus: u64,
    pub tdp_w: f64,
    /// Nameplate power of one node.
    pub node_power_w: f64,
    pub gpus_per_node: u32,
}

/// The calibrated draw: GPU compute and idle draw as fractions of TDP, the measured node maximum
/// as a fraction of nameplate, non-server IT as a fraction of server power (defaults in
/// [`crate::draw::defaults`]).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Draw {
    pub gpu_compute_fraction: f64,
    pub gpu_idle_fraction: f64,
    pub node_measured_max_fraction: f64,
    pub other_it_fraction: f64,
}

/// A site: its halls, draw, PUE (the cooling design's catalogue figure), cooling design and
/// climate.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Site {
    pub name: String,
    pub halls: Vec<Hall>,
    pub draw: Draw,
    pub pue: f64,
    /// The cooling entry's name, as the scenario gives it.
    pub cooling: String,
    /// The physical design the hourly model runs (`air-chillers`, `direct-liquid`,
    /// `evaporative`).
    pub cooling_design: String,
    /// IT power one chiller serves; `None`: [`crate::cooling::CHILLER_IT_W`].
    pub chiller_it_w: Option<f64>,
    pub climate: Climate,
}

/// The site's GPUs as synchronised groups: each hall's job GPUs, split into `stages` equal groups
/// for a pipelined job (each runs its own arrangement of the step, `StepShape::stage_shape`), and
/// its spares as one group at idle.
pub fn cluster(site: &Site, stages: u32) -> Cluster {
    let d = &site.draw;
    let compute = d.gpu_compute_fraction;
    let idle = d.gpu_idle_fraction.min(compute);
    let stages = stages.max(1);
    let mut groups: Vec<Group> = vec![];
    for h in &site.halls {
        let gpu = GpuDraw::from_tdp(h.tdp_w, idle, compute);
        let per_node = h.gpus_per_node as f64;
        let group = |name: String, gpus: u64, spare: bool| Group {
            name,
            gpus: gpus as f64,
            gpu,
            host_w_per_gpu: host_power_per_gpu_w(
                h.node_power_w,
                per_node,
                d.node_measured_max_fraction,
                gpu.compute_w,
            ),
            other_it_w_per_gpu: other_it_power_per_gpu_w(
                h.node_power_w,
                per_node,
                d.other_it_fraction,
            ),
            offset_s: 0.0,
            spare,
            stage: 0,
        };
        let in_job = h.job_gpus.min(h.gpus);
        if in_job > 0 && stages > 1 {
            for st in 0..stages {
                groups.push(Group {
                    gpus: in_job as f64 / stages as f64,
                    stage: st,
                    ..group(format!("{} stage {}/{stages}", h.name, st + 1), 0, false)
                });
            }
        } else if in_job > 0 {
            groups.push(group(h.name.clone(), in_job, false));
        }
        if h.gpus > in_job {
            groups.push(group(format!("{} (spares)", h.name), h.gpus - in_job, true));
        }
    }
    Cluster {
        groups,
        pue: site.pue,
    }
}

/// Everything one site's study needs.
#[derive(Clone, Debug)]
pub struct Input {
    pub site: Site,
    pub step: StepShape,
    /// Where the step shape came from (`step model` or `synthetic`), for the report.
    pub step_source: String,
    /// The run's states; empty: steady training over the window.
    pub run: Vec<RunInterval>,
    pub window_s: f64,
    pub resolution_s: f64,
    pub code: GridCode,
    pub mitigation: Mitigation,
    pub prices: Prices,
    /// Every climate the cooling design is compared across.
    pub climates: Vec<Climate>,
    /// The site's grid connection.
    pub connection: crate::supply::Connection,
}

/// A study's inputs: the analysis inputs plus what the cooling part needs.
#[derive(Clone, Debug, Serialize)]
pub struct Setup {
    pub site: String,
    pub inputs: Inputs,
    pub climate: Climate,
    pub climates: Vec<Climate>,
    pub cooling: String,
    pub cooling_design: String,
    pub chiller_it_w: Option<f64>,
    pub catalogue_pue: f64,
    /// `step model` or `synthetic`.
    pub step_source: String,
    /// `reliability timeline` or `steady training`.
    pub timeline_source: String,
}

/// The steady-training run when no timeline is given.
pub const STEADY: &str = "steady training";
/// The run when the reliability timeline gives it.
pub const TIMELINE: &str = "reliability timeline";

/// The study's setup: the site's groups (split by the step's pipeline stages), the analysis
/// window placed over the run, everything else as given. `Err` when the step shape is not one
/// (a phase with a negative or non-finite duration, an activity outside 0–1, no length).
pub fn setup(i: Input) -> Result<Setup, String> {
    if !i.step.is_valid() {
        return Err("the step profile needs phases with non-negative durations, activities in 0..1 and a positive total".into());
    }
    let cluster = cluster(&i.site, i.step.pipeline_stages);
    let (run, timeline_source) = if i.run.is_empty() {
        (steady_run(i.window_s), STEADY)
    } else {
        (i.run, TIMELINE)
    };
    let window = Window::place(&run, i.window_s, i.resolution_s);
    Ok(Setup {
        site: i.site.name.clone(),
        inputs: Inputs {
            cluster,
            step: i.step,
            run,
            window,
            code: i.code,
            mitigation: i.mitigation,
            prices: i.prices,
            connection: i.connection,
        },
        climate: i.site.climate,
        climates: i.climates,
        cooling: i.site.cooling,
        cooling_design: i.site.cooling_design,
        chiller_it_w: i.site.chiller_it_w,
        catalogue_pue: i.site.pue,
        step_source: i.step_source,
        timeline_source: timeline_source.into(),
    })
}
