//! A resolved scenario bound to each model's plain inputs: the one job-placement rule, the plan's
//! inputs, the reliability model's input, the power model's site, grid code, climate and prices,
//! the multi-site graph. Conversions only; every formula is the model's.

use spec::catalog::{FailureCause, FailureScope};
use spec::reliability::RecoveryDesign;
use spec::scenario::{Hall, Scenario, Site};

// ---------------------------------------------------------------------------------------------
// Job placement
// ---------------------------------------------------------------------------------------------

/// The halls that can run the job at a site: those holding the job's accelerator (the first site's
/// first hall's). Without a job, every hall.
pub fn job_halls<'a>(s: &'a Scenario, site: &'a Site) -> impl Iterator<Item = (usize, &'a Hall)> {
    let accel = s
        .job
        .as_ref()
        .and_then(|_| s.sites.first())
        .and_then(|x| x.halls.first())
        .map(|h| h.accelerator.name.as_str());
    site.halls
        .iter()
        .enumerate()
        .filter(move |(_, h)| accel.is_none_or(|a| h.accelerator.name == a))
}

/// Where the job runs, GPUs per hall of each site: the one placement rule every model follows.
/// The job's GPUs (`[job] gpus`, else every GPU that can run it at every site) fill the halls that
/// hold its accelerator, site by site in the scenario's order and hall by hall within a site.
/// Without a job every GPU counts as the job's (the synthetic step stands for the whole load).
/// `spec` has checked that `[job] gpus` fits the first site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// `[site][hall]`: GPUs of the job in that hall.
    pub halls: Vec<Vec<u64>>,
}

impl Placement {
    pub fn of(s: &Scenario) -> Placement {
        let eligible: u64 = s
            .sites
            .iter()
            .flat_map(|site| job_halls(s, site).map(|(_, h)| h.gpus))
            .sum();
        let mut left = s.job.as_ref().and_then(|j| j.gpus).unwrap_or(eligible);
        let halls = s
            .sites
            .iter()
            .map(|site| {
                let mut v = vec![0; site.halls.len()];
                for (i, h) in job_halls(s, site) {
                    let take = left.min(h.gpus);
                    v[i] = take;
                    left -= take;
                }
                v
            })
            .collect();
        Placement { halls }
    }

    /// GPUs of the job at site `i`.
    pub fn site_gpus(&self, i: usize) -> u64 {
        self.halls.get(i).map_or(0, |h| h.iter().sum())
    }

    /// GPUs of the job at every site.
    pub fn per_site(&self) -> Vec<u64> {
        (0..self.halls.len()).map(|i| self.site_gpus(i)).collect()
    }
}

/// GPUs installed at a site.
pub fn site_gpus(site: &Site) -> u64 {
    site.halls.iter().map(|h| h.gpus).sum()
}

// ---------------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------------

/// The plan's inputs: every site, the cost defaults, the reference accelerator.
pub fn plan_inputs(s: &Scenario) -> plan::Inputs<'_> {
    plan::Inputs {
        name: &s.name,
        sites: &s.sites,
        cost: &s.cost,
        reference: &s.reference,
    }
}

// ---------------------------------------------------------------------------------------------
// Reliability
// ---------------------------------------------------------------------------------------------

fn cause(c: FailureCause) -> sim::params::Cause {
    use sim::params::Cause;
    match c {
        FailureCause::Gpu => Cause::Gpu,
        FailureCause::Hardware => Cause::Hardware,
        FailureCause::Host => Cause::Host,
        FailureCause::Network => Cause::Network,
        FailureCause::Power => Cause::Power,
        FailureCause::Software => Cause::Software,
        FailureCause::UnplannedMaintenance => Cause::UnplannedMaintenance,
        FailureCause::Unknown => Cause::Unknown,
    }
}

fn scope(c: FailureScope) -> sim::params::Scope {
    use sim::params::Scope;
    match c {
        FailureScope::Gpu => Scope::Gpu,
        FailureScope::Node => Scope::Node,
        FailureScope::Rack => Scope::Rack,
        FailureScope::Hall => Scope::Hall,
        FailureScope::Job => Scope::Job,
        FailureScope::NodeTransient => Scope::NodeTransient,
    }
}

/// The reliability model's failure side from the resolved `[reliability]` failure model.
pub fn failures(m: &spec::reliability::FailureModel) -> sim::Failures {
    use sim::params::*;
    sim::Failures {
        preset: m.preset.clone(),
        classes: m
            .classes
            .iter()
            .map(|c| FailureClass {
                name: c.name.clone(),
                cause: cause(c.cause),
                scope: scope(c.scope),
                rate_per_hour: c.rate_per_hour,
                removes_nodes: c.removes_nodes,
                source: c.source.clone(),
            })
            .collect(),
        lifetime: match m.lifetime {
            spec::catalog::Lifetime::Exponential => sim::params::Lifetime::Exponential,
            spec::catalog::Lifetime::Weibull(k) => sim::params::Lifetime::Weibull { shape: k },
            spec::catalog::Lifetime::Lognormal(s) => sim::params::Lifetime::Lognormal { sigma: s },
        },
        bad_nodes: BadNodes {
            fraction: m.bad_nodes.0,
            multiplier: m.bad_nodes.1,
        },
        sdc: Sdc {
            prevalence: m.sdc.prevalence,
            trigger_per_hour: m.sdc.trigger_per_hour,
            detect_delay_s: m.sdc.detect_s,
        },
        maintenance: m.maintenance.map(|(every_s, duration_s)| Maintenance {
            every_s,
            duration_s,
        }),
        recovery: Recovery {
            detect_s: m.recovery.detect_s,
            diagnose_s: m.recovery.diagnose_s,
            standby_swap_s: m.recovery.standby_swap_s,
            host_selection_s: m.recovery.host_selection_s,
            preemption_wait_s: m.recovery.preemption_wait_s,
            restart_fixed_s: m.recovery.restart_fixed_s,
            reinit_ref_s: m.recovery.reinit_s,
            reinit_ref_gpus: m.recovery.reinit_gpus,
            reinit_exponent: m.recovery.reinit_exponent,
        },
        failures_while_down: m.failures_while_down,
        repair: Repair {
            auto_s: m.repair.auto_s,
            manual_s: m.repair.manual_s,
            p_manual: m.repair.p_manual,
            p_auto_false: m.repair.p_auto_false,
            p_manual_false: m.repair.p_manual_false,
        },
        nodes_per_rack: m.nodes_per_rack,
    }
}

/// A recovery design as the reliability model's.
pub fn design(d: RecoveryDesign) -> sim::Design {
    match d {
        RecoveryDesign::Restart => sim::Design::Restart,
        RecoveryDesign::HotSpare => sim::Design::HotSpare,
        RecoveryDesign::PartialRestart => sim::Design::PartialRestart,
        RecoveryDesign::ElasticDp => sim::Design::ElasticDp,
        RecoveryDesign::InMemory => sim::Design::InMemory,
    }
}

/// GPUs of one data-parallel replica, the failure domain a contained design recovers:
/// `[reliability] containment.replica_gpus`, else the step model's layout (its GPUs ÷ dp), else
/// the job's fixed layout (tp·pp·cp·ep); a job whose layout is still to be searched has none known.
pub fn replica(s: &Scenario, profile: Option<&perf::StepProfile>) -> sim::input::ReplicaSize {
    use sim::input::ReplicaSize;
    use spec::job::RawParallelism;
    if let Some(g) = s.reliability.containment.replica_gpus {
        return ReplicaSize::Given(g);
    }
    if let Some(p) = profile.filter(|p| p.config.dp > 0) {
        return ReplicaSize::Layout(p.gpus / p.config.dp as u64);
    }
    match s.job.as_ref().map(|j| &j.parallelism) {
        Some(RawParallelism::Fixed(f)) => {
            ReplicaSize::Layout(f.tp as u64 * f.pp as u64 * f.cp as u64 * f.ep as u64)
        }
        Some(_) => ReplicaSize::Unknown,
        None => ReplicaSize::WholeJob,
    }
}

/// The recovery design and its parameters from `[reliability] recovery` and `containment`
/// (`None` fields take the model's sourced defaults).
pub fn containment(
    s: &Scenario,
    profile: Option<&perf::StepProfile>,
) -> sim::input::ContainmentInput {
    let rel = &s.reliability;
    let c = &rel.containment;
    sim::input::ContainmentInput {
        design: rel.recovery.map_or(sim::Design::Restart, design),
        replica: replica(s, profile),
        detect_s: c.detect_s,
        hot_swap_s: c.hot_swap_s,
        reconfigure_s: c.reconfigure_s,
        peer_bytes_per_s: c.peer_bytes_per_s,
        snapshot_every_steps: c.snapshot_every_steps,
        snapshot_block_s: c.snapshot_block_s,
        peer_copies: c.peer_copies,
    }
}

/// The reliability model's input for the scenario's job on the first site, with its step time
/// and the work it runs (`run`), and the step model's `profile` when there is one (its layout sizes
/// a data-parallel replica); the pools around it are the first site's halls.
pub fn sim_input(
    s: &Scenario,
    placement: &Placement,
    step_s: f64,
    run: sim::Run,
    profile: Option<&perf::StepProfile>,
) -> sim::Input {
    use spec::reliability::{CheckpointSpec, SparesSpec};
    let rel = &s.reliability;
    let site = &s.sites[0];
    let gpn = site.halls[0].system.gpus_per_node.max(1);
    let job_gpus = rel.job_gpus.unwrap_or_else(|| placement.site_gpus(0));
    sim::Input {
        failures: failures(&rel.model),
        job_gpus,
        job_gpus_given: rel.job_gpus.is_some() || s.job.as_ref().and_then(|j| j.gpus).is_some(),
        installed_gpus: site_gpus(site),
        gpus_per_node: gpn,
        hall_gpus: site.halls[0].gpus,
        step_s,
        run,
        checkpoint: match rel.checkpoint {
            CheckpointSpec::Auto => sim::CheckpointPolicy::Auto,
            CheckpointSpec::Interval(iv) => sim::CheckpointPolicy::Interval(iv),
            CheckpointSpec::Tiered {
                memory_s,
                persistent_s,
                memory_write_s,
            } => sim::CheckpointPolicy::Tiered {
                memory_s,
                persistent_s,
                memory_write_s,
            },
        },
        checkpoint_state_bytes: rel.checkpoint_state_bytes,
        model_params: s.job.as_ref().map(|j| j.model.params.count()),
        storage_bytes_per_s: rel.storage_bandwidth_bytes_per_s,
        checkpoint_overhead_s: rel.checkpoint_overhead_s.unwrap_or(0.0),
        checkpoint_load_s: rel.checkpoint_load_s,
        standby: match rel.spares {
            SparesSpec::Auto => sim::Standby::Auto,
            SparesSpec::Nodes(n) => sim::Standby::Nodes(n),
        },
        spare_pool_nodes: rel.spare_pool_nodes.unwrap_or(0),
        seed: s.seed,
        containment: containment(s, profile),
    }
}

/// The reliability model's step time, the run it simulates and where the step came from:
/// `[reliability] step_time`, else the step model's `profile` (its step time and tokens per
/// step), else 6·N·tokens at the fallback MFU with the batch as written (no job: the model's
/// default step). The run: `[reliability] length` or `work`, else the job's training at that step
/// and batch, else the model's default window.
pub fn reliability_step(
    s: &Scenario,
    placement: &Placement,
    profile: Option<&perf::StepProfile>,
) -> (f64, sim::Run, crate::StepSource) {
    use crate::StepSource;
    let rel = &s.reliability;
    let job_gpus = rel.job_gpus.unwrap_or_else(|| placement.site_gpus(0));
    let (step_s, batch_tokens, source) = match (rel.step_time_s, profile, &s.job) {
        (Some(t), _, job) => (
            t,
            job.as_ref().map(|j| j.global_batch_tokens),
            StepSource::Given,
        ),
        (None, Some(p), _) => (
            p.step_time_s,
            Some(p.tokens_per_step),
            StepSource::StepModel,
        ),
        (None, None, Some(job)) => (
            sim::input::fallback_step_s(
                job.model.active_params.unwrap_or(job.model.params).count(),
                job.global_batch_tokens,
                job_gpus,
                s.sites[0].halls[0].accelerator.bf16.flops(),
            ),
            Some(job.global_batch_tokens),
            StepSource::Fallback,
        ),
        (None, None, None) => (sim::input::FALLBACK_STEP_S, None, StepSource::NoJob),
    };
    let run = match (rel.length_s, rel.work_s, &s.job, batch_tokens) {
        (Some(l), _, _, _) => sim::Run::Wall(l),
        (None, Some(w), _, _) => sim::Run::Work(w),
        (None, None, Some(j), Some(b)) => sim::Run::Train {
            tokens: j.tokens,
            tokens_per_step: b,
        },
        _ => sim::Run::Default,
    };
    (step_s, run, source)
}

/// The reliability model's parameters for the scenario, with the step model's `profile` when
/// there is one ([`reliability_step`]); errors located in the scenario.
pub fn sim_params(
    s: &Scenario,
    placement: &Placement,
    profile: Option<&perf::StepProfile>,
) -> Result<(sim::Params, crate::StepSource), spec::SpecError> {
    let (step_s, run, source) = reliability_step(s, placement, profile);
    let p = sim::params(&sim_input(s, placement, step_s, run, profile))
        .map_err(|e| param_error(s, e))?;
    Ok((p, source))
}

/// A `sim` parameter problem as a located error: `[reliability]` names the field.
pub fn param_error(s: &Scenario, e: sim::ParamError) -> spec::SpecError {
    let field = if e.field == "job_gpus" && s.reliability.job_gpus.is_none() {
        // the job's GPUs come from [job] gpus, else every GPU of the first site's halls
        match &s.job {
            Some(j) if j.gpus.is_some() => "job.gpus".to_string(),
            _ => "site[0].hall[0].gpus".to_string(),
        }
    } else if e.field.is_empty() {
        "reliability".to_string()
    } else {
        format!("reliability.{}", e.field)
    };
    s.error_at(&field, e.message)
}

/// A timeline interval as the power model's run interval.
pub fn run_interval(i: &sim::Interval) -> power::RunInterval {
    use power::RunState;
    power::RunInterval {
        start_s: i.start_s,
        end_s: i.end_s,
        state: match i.state {
            sim::JobState::Training => RunState::Training,
            sim::JobState::LostWorkRecompute => RunState::LostWorkRecompute,
            sim::JobState::CheckpointWrite => RunState::CheckpointWrite,
            sim::JobState::Restart => RunState::Restart,
            sim::JobState::WaitingForSpares => RunState::WaitingForSpares,
            sim::JobState::PlannedMaintenance => RunState::PlannedMaintenance,
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Power
// ---------------------------------------------------------------------------------------------

/// A catalogue grid code (with the scenario's overrides) in SI units.
pub fn grid_code(c: &spec::GridCode) -> power::GridCode {
    power::GridCode {
        name: c.name.clone(),
        description: c.description.clone(),
        large_load_w: c.large_load.w(),
        ramp_up_w_per_s: c.ramp_up.map(|x| x.w_per_s()),
        ramp_down_w_per_s: c.ramp_down.map(|x| x.w_per_s()),
        ramp_window_s: c.ramp_window.map(|x| x.s()),
        dynamic_range_fraction: c.dynamic_range.map(|x| x.fraction()),
        band_low_hz: c.band_low.map(|x| x.hz()),
        band_high_hz: c.band_high.map(|x| x.hz()),
        band_energy_limit_fraction: c.band_limit.map(|x| x.fraction()),
        load_loss_w: c.load_loss.map(|x| x.w()),
        source: c.source.clone(),
    }
}

/// A catalogue climate as the cooling model's.
pub fn climate(c: &spec::Climate) -> power::cooling::Climate {
    power::cooling::Climate {
        name: c.name.clone(),
        description: c.description.clone(),
        max_f: c.max_f,
        min_f: c.min_f,
        humidity: c.humidity.fraction(),
        source: c.source.clone(),
    }
}

/// The calibrated draw: `[power]` overrides, else the power model's defaults; non-server IT from
/// the cost defaults (the plan's convention).
pub fn draw(s: &Scenario) -> power::Draw {
    use power::draw::defaults as dd;
    let p = &s.power;
    power::Draw {
        gpu_compute_fraction: p.gpu_compute_fraction.unwrap_or(dd::GPU_COMPUTE_FRACTION),
        gpu_idle_fraction: p.gpu_idle_fraction.unwrap_or(dd::GPU_IDLE_FRACTION),
        node_measured_max_fraction: p
            .node_measured_max_fraction
            .unwrap_or(dd::NODE_MEASURED_MAX_FRACTION),
        other_it_fraction: s.cost.other_it_fraction.fraction(),
    }
}

/// Site `i` as the power model sees it, with the job's GPUs per hall from the placement.
pub fn power_site(s: &Scenario, i: usize, placement: &Placement) -> power::Site {
    let site = &s.sites[i];
    power::Site {
        name: site.name.clone(),
        halls: site
            .halls
            .iter()
            .enumerate()
            .map(|(j, h)| power::Hall {
                name: h.name.clone(),
                gpus: h.gpus,
                job_gpus: placement.halls[i][j],
                tdp_w: h.accelerator.tdp.w(),
                node_power_w: h.system.node_power.w(),
                gpus_per_node: h.system.gpus_per_node,
            })
            .collect(),
        draw: draw(s),
        pue: site.cooling.pue,
        cooling: site.cooling.name.clone(),
        cooling_design: site.cooling.design.clone(),
        chiller_it_w: site.cooling.chiller_it.map(|p| p.w()),
        climate: climate(&site.climate),
    }
}

/// Site `i`'s grid connection: its grid as the import limit (none given: not checked; none
/// given but on-site generation: islanded) and the export it allows.
pub fn connection(s: &Scenario, i: usize) -> power::supply::Connection {
    let site = &s.sites[i];
    power::supply::Connection {
        import_w: match (site.grid, site.generation.w() > 0.0) {
            (Some(g), _) => Some(g.w()),
            (None, true) => Some(0.0),
            (None, false) => None,
        },
        export_w: site.export.w(),
    }
}

/// The `[power]` mitigations at site `i`: the `[power]` battery, else the site's own; the site's
/// generation as its fleet of the generator class (ramp: `[power] mitigation.turbine_ramp`, else
/// the class's share of capacity per second).
pub fn mitigation(s: &Scenario, i: usize) -> power::Mitigation {
    use power::storage::{defaults as sd, Storage, Turbines};
    let site = &s.sites[i];
    let m = &s.power.mitigation;
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
    let turbines = site.generator.as_ref().map(|g| Turbines {
        capacity_w: g.capacity.w(),
        ramp_w_per_s: m
            .turbine_ramp_w_per_s
            .unwrap_or(g.class.ramp.fraction_per_s() * g.capacity.w()),
        unit_w: g.class.unit.w(),
        min_load_fraction: g.class.min_load.fraction(),
    });
    power::Mitigation {
        gpu: power::GpuMitigation {
            floor_fraction: m.gpu_floor_fraction.unwrap_or(0.0),
            ramp_up_w_per_s: m.gpu_ramp_up_w_per_s,
            ramp_down_w_per_s: m.gpu_ramp_down_w_per_s,
            filler_activity: m.filler_activity,
        },
        filler_slowdown_fraction: m
            .filler_slowdown_fraction
            .unwrap_or(power::Mitigation::FILLER_SLOWDOWN),
        rack_storage_j_per_gpu: m.rack_storage_j_per_gpu.unwrap_or(0.0),
        battery,
        turbines,
    }
}

/// The prices the power model charges at site `i`; `gpu_hour_usd` (the plan's TCO per GPU-hour)
/// prices lost throughput.
pub fn prices(s: &Scenario, i: usize, gpu_hour_usd: f64) -> power::Prices {
    power::Prices {
        electricity_usd_per_j: s.sites[i].electricity.usd_per_j(),
        battery_usd_per_j: s.cost.battery.usd_per_j(),
        battery_min_duration_s: power::Prices::BATTERY_MIN_DURATION_S,
        battery_life_s: s.cost.depreciation_battery.s(),
        rack_storage_usd_per_j: power::Prices::RACK_STORAGE_USD_PER_J,
        rack_storage_life_s: s.cost.depreciation_it.s(),
        gpu_hour_usd,
    }
}

/// The synthetic step shape of `[power]` (no job, or a step model that cannot run it): its
/// exposed communication at the step model's activity for communication (one constant,
/// `perf::calib::ACTIVITY_COMM`).
pub fn synthetic_step(s: &Scenario) -> power::StepShape {
    use power::draw::defaults as dd;
    let p = &s.power;
    power::StepShape::synthetic(
        p.step_time_s.unwrap_or(dd::STEP_S),
        p.compute_fraction.unwrap_or(dd::COMPUTE_FRACTION),
        p.comm_activity.unwrap_or(perf::calib::ACTIVITY_COMM),
    )
}

/// A step profile's phases in order (durations times `scale`) and its pipeline depth.
pub fn step_shape(p: &perf::StepProfile, scale: f64) -> power::StepShape {
    power::StepShape {
        phases: p
            .phases
            .iter()
            .map(|ph| power::PhaseDraw {
                name: ph.name.clone(),
                duration_s: ph.duration_s * scale,
                activity: ph.activity,
            })
            .collect(),
        pipeline_stages: p.config.pp,
    }
}

// ---------------------------------------------------------------------------------------------
// Multi-site
// ---------------------------------------------------------------------------------------------

/// The site graph: every site with its installed GPUs, every link with its latency (propagation
/// plus equipment) and capacity.
pub fn graph(s: &Scenario) -> multisite::Graph {
    use multisite::graph;
    multisite::Graph {
        sites: s
            .sites
            .iter()
            .map(|x| multisite::SiteNode {
                name: x.name.clone(),
                gpus: site_gpus(x),
            })
            .collect(),
        links: s
            .links
            .iter()
            .map(|l| multisite::Edge {
                a: l.between.0,
                b: l.between.1,
                distance_m: l.distance.m(),
                capacity_bits_per_s: l.capacity.bits_per_s(),
                latency_s: graph::one_way_latency_s(
                    l.distance.m(),
                    l.latency
                        .map(|d| d.s())
                        .unwrap_or(graph::DEFAULT_EQUIPMENT_LATENCY_S),
                ),
                cost_usd: l.cost.map(|c| c.usd()),
            })
            .collect(),
        efficiency: graph::WAN_EFFICIENCY,
    }
}
