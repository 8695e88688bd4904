//! From a `spec::Scenario` to the analysis inputs (first site). The step shape and the run's states
//! are passed in (the binary maps the step model's profile and the reliability timeline onto
//! [`StepShape`] and [`RunInterval`]); without them the synthetic step shape and steady training
//! stand in, and [`Setup`] says which was used.

use crate::analysis::{Inputs, Mitigation, Prices, Window};
use crate::cooling::{self, Climate};
use crate::draw::{
    defaults as dd, host_power_per_gpu_w, other_it_power_per_gpu_w, Cluster, GpuDraw, Group,
};
use crate::grid;
use crate::profile::{steady_run, RunInterval, StepShape};
use crate::storage::{defaults as sd, Storage, Turbines};
use crate::trace::GpuMitigation;
use serde::Serialize;
use spec::Scenario;

/// Default grid code when the scenario names none (the design's example).
pub const DEFAULT_GRID_CODE: &str = "ercot-large-load";

/// Inputs plus what the cooling part needs.
#[derive(Clone, Debug, Serialize)]
pub struct Setup {
    pub site: String,
    pub inputs: Inputs,
    pub climate: Climate,
    pub cooling: String,
    pub catalogue_pue: f64,
    /// Where the step shape came from: `step model` or `synthetic`.
    pub step_source: String,
    /// Where the run's states came from: `reliability timeline` or `steady training`.
    pub timeline_source: String,
    /// Where defaults stood in for missing inputs.
    pub notes: Vec<String>,
}

/// The climate preset for an electricity region or site name, when one matches.
pub fn climate_for(region: Option<&str>, site: &str) -> Option<&'static str> {
    let key = region.unwrap_or(site).to_lowercase();
    let table = [
        ("tennessee", "memphis"),
        ("memphis", "memphis"),
        ("texas", "abilene"),
        ("abilene", "abilene"),
        ("arizona", "phoenix"),
        ("phoenix", "phoenix"),
        ("virginia", "ashburn"),
        ("ashburn", "ashburn"),
    ];
    table.iter().find(|(k, _)| key.contains(k)).map(|(_, v)| *v)
}

/// The step shape from the `[power]` section (synthetic; see `StepShape::synthetic`).
pub fn synthetic_step(s: &Scenario) -> StepShape {
    let p = s.power.clone().unwrap_or_default();
    StepShape::synthetic(
        p.step_time_s.unwrap_or(dd::STEP_S),
        p.compute_fraction.unwrap_or(dd::COMPUTE_FRACTION),
        p.comm_activity.unwrap_or(dd::COMM_ACTIVITY),
    )
}

/// Build the inputs for the scenario's first site. `step`: the step model's profile when there is
/// one; `run`: the reliability timeline when there is one; `gpu_hour_usd`: the plan's TCO per
/// GPU-hour (the price of lost throughput).
pub fn from_scenario(
    s: &Scenario,
    step: Option<StepShape>,
    run: Option<Vec<RunInterval>>,
    gpu_hour_usd: f64,
) -> Result<Setup, String> {
    let p = s.power.clone().unwrap_or_default();
    let site = s
        .sites
        .first()
        .ok_or("a scenario needs at least one site")?;
    let mut notes = vec![];
    if s.sites.len() > 1 {
        notes.push(format!(
            "the trace, rules, costs and cooling above are the first site's, `{}`, of {}; every site against its own grid connection follows",
            site.name,
            s.sites.len()
        ));
    }
    let compute_frac = p.gpu_compute_fraction.unwrap_or(dd::GPU_COMPUTE_FRACTION);
    let idle_frac = p
        .gpu_idle_fraction
        .unwrap_or(dd::GPU_IDLE_FRACTION)
        .min(compute_frac);
    let node_max = p
        .node_measured_max_fraction
        .unwrap_or(dd::NODE_MEASURED_MAX_FRACTION);
    // The job runs on `[job] gpus` (every installed GPU when absent or without a job), taken from
    // the halls in order like the step model does; the rest are spares at idle.
    let installed: u64 = site.halls.iter().map(|h| h.gpus).sum();
    let mut job_left = s
        .job
        .as_ref()
        .and_then(|j| j.gpus)
        .unwrap_or(installed)
        .min(installed);
    if job_left < installed {
        notes.push(format!(
            "{job_left} of the site's {installed} GPUs run the job ([job] gpus); the other {} are spares held at idle",
            installed - job_left
        ));
    }
    // A pipelined job: every hall's job GPUs split into the pipeline's stages.
    let stages = step.as_ref().map_or(1, |st| st.pipeline_stages.max(1));
    let mut groups: Vec<Group> = vec![];
    for h in &site.halls {
        let gpu = GpuDraw::from_tdp(h.accelerator.tdp.w(), idle_frac, compute_frac);
        let per_node = h.system.gpus_per_node as f64;
        let group = |name: String, gpus: u64, spare: bool| Group {
            name,
            gpus: gpus as f64,
            gpu,
            host_w_per_gpu: host_power_per_gpu_w(
                h.system.node_power.w(),
                per_node,
                node_max,
                gpu.compute_w,
            ),
            other_it_w_per_gpu: other_it_power_per_gpu_w(
                h.system.node_power.w(),
                per_node,
                s.cost.other_it_fraction.fraction(),
            ),
            offset_s: 0.0,
            spare,
            stage: 0,
        };
        let in_job = job_left.min(h.gpus);
        job_left -= in_job;
        if in_job > 0 && stages > 1 {
            // Each stage holds an equal share of the hall's job GPUs and runs its own arrangement
            // of the step (`StepShape::stage_shape`).
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
    let cluster = Cluster {
        groups,
        pue: site.cooling.pue,
    };

    let step_source = if step.is_some() {
        "step model"
    } else {
        "synthetic"
    };
    if step.is_some()
        && (p.step_time_s.is_some() || p.compute_fraction.is_some() || p.comm_activity.is_some())
    {
        notes.push("[power] step_time / compute_fraction / comm_activity are not used: the step model gives the step".into());
    }
    let step = match step {
        Some(st) => st,
        None => {
            notes.push("step shape: synthetic (compute, then exposed communication; [power] step_time, compute_fraction, comm_activity), no step model profile given".into());
            synthetic_step(s)
        }
    };
    if !step.is_valid() {
        return Err("the step profile needs phases with non-negative durations, activities in 0..1 and a positive total".into());
    }
    let window_s = p.window_s.unwrap_or(dd::WINDOW_S);
    let dt_s = p.resolution_s.unwrap_or(dd::RESOLUTION_S);
    let timeline_source = match &run {
        Some(r) if !r.is_empty() => "reliability timeline",
        _ => "steady training",
    };
    let run = match run {
        Some(r) if !r.is_empty() => r,
        _ => {
            notes.push("timeline: steady training (no reliability timeline given)".into());
            steady_run(window_s)
        }
    };
    let window = Window::place(&run, window_s, dt_s);

    let code_name = p
        .grid_code
        .clone()
        .unwrap_or_else(|| DEFAULT_GRID_CODE.to_string());
    let code = grid::preset(&code_name)
        .ok_or_else(|| format!("unknown grid code `{code_name}`"))?
        .with_overrides(&p.grid);

    let m = &p.mitigation;
    let battery = match (&m.battery, &site.battery) {
        (Some(b), _) if b.power_w > 0.0 && b.energy_j > 0.0 => Some(Storage::site_battery(
            b.power_w,
            b.energy_j,
            b.efficiency.unwrap_or(sd::BATTERY_EFFICIENCY),
        )),
        (Some(_), _) => None,
        (None, Some(b)) => Some(Storage::site_battery(
            b.power.w(),
            b.energy.j(),
            b.efficiency,
        )),
        (None, None) => None,
    }
    .map(|mut b| {
        if let Some(t) = m.battery_tau_s {
            b.tau_s = t;
        }
        if let Some(x) = m.soc_min_fraction {
            b.soc_min_fraction = x;
        }
        if let Some(x) = m.soc_max_fraction {
            b.soc_max_fraction = x;
        }
        b
    });
    let turbines = (site.generation.w() > 0.0).then(|| Turbines {
        capacity_w: site.generation.w(),
        ramp_w_per_s: m.turbine_ramp_w_per_s.unwrap_or(sd::TURBINE_RAMP_W_PER_S),
    });
    let mitigation = Mitigation {
        gpu: GpuMitigation {
            floor_fraction: m.gpu_floor_fraction.unwrap_or(0.0),
            ramp_up_w_per_s: m.gpu_ramp_up_w_per_s,
            ramp_down_w_per_s: m.gpu_ramp_down_w_per_s,
            filler_activity: m.filler_activity,
        },
        filler_slowdown_fraction: m
            .filler_slowdown_fraction
            .unwrap_or(Mitigation::FILLER_SLOWDOWN),
        rack_storage_j_per_gpu: m.rack_storage_j_per_gpu.unwrap_or(0.0),
        battery,
        turbines,
    };
    let prices = Prices {
        electricity_usd_per_j: site.electricity.usd_per_j(),
        battery_usd_per_j: s.cost.battery.usd_per_j(),
        battery_min_duration_s: Prices::BATTERY_MIN_DURATION_S,
        battery_life_s: s.cost.depreciation_battery.s(),
        rack_storage_usd_per_j: Prices::RACK_STORAGE_USD_PER_J,
        rack_storage_life_s: s.cost.depreciation_it.s(),
        gpu_hour_usd,
    };
    let climate_name = match (&p.climate, climate_for(site.region.as_deref(), &site.name)) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c.to_string(),
        (None, None) => {
            notes.push(
                "climate: none matches the site; using `memphis` (set [power] climate)".into(),
            );
            "memphis".to_string()
        }
    };
    let climate = cooling::climate(&climate_name)
        .ok_or_else(|| format!("unknown climate `{climate_name}`"))?;
    Ok(Setup {
        site: site.name.clone(),
        inputs: Inputs {
            cluster,
            step,
            run,
            window,
            code,
            mitigation,
            prices,
        },
        climate,
        cooling: site.cooling.name.clone(),
        catalogue_pue: site.cooling.pue,
        step_source: step_source.into(),
        timeline_source: timeline_source.into(),
        notes,
    })
}
