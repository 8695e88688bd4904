//! From a resolved `spec::Scenario` to simulation parameters, and the timeline the power model reads.

pub use crate::engine::{auto_standby_nodes, node_removal_rate_per_s, STANDBY_QUANTILE};
use crate::engine::{replica_seed, simulate_replica, Interval, Recording};
use crate::formulas::{checkpoint_state_bytes, transfer_s};
use crate::params::*;
use crate::presets::{preset, PRESETS};
use spec::reliability::{CheckpointSpec, LifetimeSpec, Reliability, SparesSpec};
use spec::{Scenario, SpecError};

/// Llama 3 405B's BF16 MFU on 16K H100, 38–43% (Llama 3 Table 4, P): the utilisation used to derive
/// a step time from the job until the step model provides one.
pub const FALLBACK_MFU: f64 = 0.40;
/// Step time when the scenario has no job: 10 s (A; Llama 3 405B on 16K H100 is ≈6 s, D).
pub const FALLBACK_STEP_S: f64 = 10.0;
/// Storage write bandwidth when none is given: Tectonic's sustained 2 TB/s for Llama 3 (§3.3.1, P).
pub const DEFAULT_STORAGE_BYTES_PER_S: f64 = 2e12;
/// Device-to-host copy rate for in-memory snapshots, per GPU: 25 GB/s, about half of PCIe Gen5 x16
/// (A; MegaScale's host-memory snapshot takes "several seconds", Q).
pub const HOST_COPY_BYTES_PER_S: f64 = 25e9;
/// Wall-clock window when neither the job nor `[reliability]` says: Llama 3's 54-day snapshot (P).
pub const DEFAULT_LENGTH_S: f64 = 54.0 * 86400.0;
/// Replicas when `[reliability] replicas` is absent.
pub const DEFAULT_REPLICAS: u64 = 200;
/// Target share of runs for recommendations when absent.
pub const DEFAULT_TARGET: f64 = 0.95;

/// Options of a Monte Carlo run that are not model parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunOptions {
    pub replicas: u64,
    pub target: f64,
}

/// Build the simulation parameters of a scenario. Errors name the `[reliability]` field, with its
/// line when it is in the file.
pub fn from_scenario(s: &Scenario) -> Result<(Params, RunOptions), SpecError> {
    let default_rel = Reliability::default();
    let rel = s.reliability.as_ref().unwrap_or(&default_rel);
    let site = s
        .sites
        .first()
        .ok_or_else(|| rel.err("", "the scenario has no site"))?;
    let hall = site
        .halls
        .first()
        .ok_or_else(|| rel.err("", "the first site has no hall"))?;
    let gpn = hall.system.gpus_per_node.max(1) as u64;
    let installed_gpus: u64 = site.halls.iter().map(|h| h.gpus).sum();
    let installed_nodes = installed_gpus.div_ceil(gpn);
    // `[reliability] job_gpus`, else `[job] gpus`, else every installed GPU
    let explicit_gpus = rel.job_gpus.or_else(|| s.job.as_ref().and_then(|j| j.gpus));
    let job_gpus = explicit_gpus.unwrap_or(installed_gpus);
    let job_nodes = job_gpus.div_ceil(gpn);
    if explicit_gpus.is_some() && job_nodes > installed_nodes {
        let msg = format!(
            "the job needs {job_nodes} nodes but the first site's halls hold {installed_nodes}{}",
            if s.sites.len() > 1 {
                " (the reliability timeline follows the first site's job; a job over every site's GPUs leaves job.gpus unset)"
            } else {
                ""
            }
        );
        // the count came from `[reliability] job_gpus` or else from `[job] gpus`: name that field
        return Err(if rel.job_gpus.is_some() {
            rel.err("job_gpus", msg)
        } else {
            spec::SpecError::new("<scenario>", "job.gpus", msg)
        });
    }

    let name = rel.preset.clone().unwrap_or_else(|| "llama3".to_string());
    let pr = preset(&name).ok_or_else(|| {
        rel.err(
            "preset",
            format!("unknown preset `{name}`; presets: {}", PRESETS.join(", ")),
        )
        .with_hint(spec::error::did_you_mean(&name, PRESETS.iter().copied()))
    })?;

    // failure classes with overrides
    let mut classes = pr.classes.clone();
    for (k, v) in &rel.rates {
        match classes.iter_mut().find(|c| &c.name == k) {
            Some(c) => {
                c.rate_per_hour = *v;
                c.source = "scenario override".into();
            }
            None => {
                let names: Vec<&str> = pr.classes.iter().map(|c| c.name.as_str()).collect();
                return Err(rel
                    .err(
                        &format!("rates.{k}"),
                        format!(
                            "no failure class `{k}` in preset `{name}`; classes: {}",
                            names.join(", ")
                        ),
                    )
                    .with_hint(spec::error::did_you_mean(k, names.iter().copied())));
            }
        }
    }
    if let Some(scale) = rel.rate_scale {
        for c in &mut classes {
            c.rate_per_hour *= scale;
        }
    }

    // step time: `[reliability] step_time`, else 6·N·tokens per step / (GPUs · peak · MFU)
    let step_s = match (rel.step_time_s, &s.job) {
        (Some(t), _) => t,
        (None, Some(job)) => {
            let params = job.model.active_params.unwrap_or(job.model.params).count();
            let flops = 6.0 * params * job.global_batch_tokens;
            let rate = job_gpus as f64 * hall.accelerator.bf16.flops() * FALLBACK_MFU;
            if rate > 0.0 && flops > 0.0 {
                flops / rate
            } else {
                FALLBACK_STEP_S
            }
        }
        (None, None) => FALLBACK_STEP_S,
    };

    // checkpoint costs
    let state = rel
        .checkpoint_state_bytes
        .or_else(|| {
            s.job
                .as_ref()
                .map(|j| checkpoint_state_bytes(j.model.params.count()))
        })
        .unwrap_or(0.0);
    let bw = rel
        .storage_bandwidth_bytes_per_s
        .unwrap_or(DEFAULT_STORAGE_BYTES_PER_S);
    let overhead = rel.checkpoint_overhead_s.unwrap_or(0.0);
    let write_s = transfer_s(state, bw, overhead);
    let load_s = rel
        .checkpoint_load_s
        .unwrap_or_else(|| transfer_s(state, bw, overhead));
    let host_copy_s = transfer_s(state / job_gpus.max(1) as f64, HOST_COPY_BYTES_PER_S, 0.0);

    let checkpoint = match &rel.checkpoint {
        CheckpointSpec::Auto => Checkpoint::YoungDaly,
        CheckpointSpec::Interval(iv) => Checkpoint::Fixed { interval_s: *iv },
        CheckpointSpec::Tiered {
            memory_s,
            persistent_s,
            memory_write_s,
        } => Checkpoint::Tiered {
            memory_interval_s: *memory_s,
            memory_write_s: memory_write_s.unwrap_or(host_copy_s),
            persist_every: (persistent_s / memory_s).round().max(1.0) as u32,
        },
    };

    let r0 = pr.recovery;
    let recovery = Recovery {
        detect_s: rel.detect_s.unwrap_or(r0.detect_s),
        diagnose_s: rel.diagnose_s.unwrap_or(r0.diagnose_s),
        standby_swap_s: rel.standby_swap_s.unwrap_or(r0.standby_swap_s),
        host_selection_s: rel.host_selection_s.unwrap_or(r0.host_selection_s),
        preemption_wait_s: rel.preemption_wait_s.unwrap_or(r0.preemption_wait_s),
        restart_fixed_s: rel.restart_fixed_s.unwrap_or(r0.restart_fixed_s),
        reinit_ref_s: rel.reinit_s.unwrap_or(r0.reinit_ref_s),
        reinit_ref_gpus: rel.reinit_gpus.unwrap_or(r0.reinit_ref_gpus),
        reinit_exponent: rel.reinit_exponent.unwrap_or(r0.reinit_exponent),
    };
    let rp0 = pr.repair;
    let repair = Repair {
        auto_s: rel.repair_auto_s.unwrap_or(rp0.auto_s),
        manual_s: rel.repair_manual_s.unwrap_or(rp0.manual_s),
        p_manual: rel.p_manual.unwrap_or(rp0.p_manual),
        p_auto_false: rel.p_auto_false.unwrap_or(rp0.p_auto_false),
        p_manual_false: rel.p_manual_false.unwrap_or(rp0.p_manual_false),
    };
    let lifetime = match rel.lifetime {
        None => pr.lifetime,
        Some(LifetimeSpec::Exponential) => Lifetime::Exponential,
        Some(LifetimeSpec::Weibull(k)) => Lifetime::Weibull { shape: k },
        Some(LifetimeSpec::Lognormal(s)) => Lifetime::Lognormal { sigma: s },
    };
    let bad_nodes = match rel.bad_nodes {
        Some((f, m)) => BadNodes {
            fraction: f,
            multiplier: m,
        },
        None => pr.bad_nodes,
    };
    let sdc = Sdc {
        prevalence: rel.sdc_prevalence.unwrap_or(pr.sdc.prevalence),
        trigger_per_hour: rel.sdc_trigger_per_hour.unwrap_or(pr.sdc.trigger_per_hour),
        detect_delay_s: rel.sdc_detect_s.unwrap_or(pr.sdc.detect_delay_s),
    };
    let maintenance = match rel.maintenance {
        Some(None) => None,
        Some(Some((every_s, duration_s))) => Some(Maintenance {
            every_s,
            duration_s,
        }),
        None => pr.maintenance,
    };
    let run = match (rel.length_s, rel.work_s) {
        (Some(l), _) => RunLength::WallS(l),
        (None, Some(w)) => RunLength::WorkS(w),
        (None, None) => match &s.job {
            // the job's training time at the step time: tokens / batch steps
            Some(j) if j.global_batch_tokens > 0.0 => {
                let w = (j.tokens / j.global_batch_tokens).ceil() * step_s;
                RunLength::WorkS(w.clamp(86400.0, 3.0 * 365.25 * 86400.0))
            }
            _ => RunLength::WallS(DEFAULT_LENGTH_S),
        },
    };

    let mut p = Params {
        preset: pr.name.to_string(),
        job_gpus,
        gpus_per_node: gpn as u32,
        nodes_per_rack: rel.nodes_per_rack.unwrap_or(pr.nodes_per_rack),
        nodes_per_hall: hall.gpus.div_ceil(gpn).max(1),
        step_s,
        classes,
        lifetime,
        bad_nodes,
        sdc,
        maintenance,
        recovery,
        failures_while_down: pr.failures_while_down,
        repair,
        checkpoint,
        checkpoint_write_s: write_s,
        checkpoint_load_s: load_s,
        memory_load_s: host_copy_s,
        standby_nodes: 0,
        cold_nodes: 0,
        spare_nodes: rel.spare_pool_nodes.unwrap_or(0),
        run,
        seed: s.seed,
        containment: crate::designs::containment_from_spec(
            rel,
            s.job.as_ref(),
            job_gpus,
            state,
            host_copy_s,
        )?,
    };
    // pools: when the job is every GPU of the halls, standbys come on top of them; otherwise they
    // come out of the nodes the job leaves idle
    let idle = installed_nodes - job_nodes.min(installed_nodes);
    let want = match rel.spares {
        SparesSpec::Auto => auto_standby_nodes(&p),
        SparesSpec::Nodes(n) => n,
    };
    if explicit_gpus.is_some() {
        if let SparesSpec::Nodes(n) = rel.spares {
            if n > idle {
                return Err(rel.err(
                    "spares",
                    format!(
                        "{n} warm standby nodes is more than the pool holds: the halls have {installed_nodes} nodes and the job uses {job_nodes}, leaving {idle}"
                    ),
                ));
            }
        }
        p.standby_nodes = want.min(idle);
        p.cold_nodes = idle - p.standby_nodes;
    } else {
        p.standby_nodes = want;
    }
    p.check().map_err(|e| {
        let field = if e.field == "job_gpus" && rel.job_gpus.is_none() {
            String::new()
        } else {
            e.field.clone()
        };
        rel.err(&field, e.message)
    })?;
    Ok((
        p,
        RunOptions {
            replicas: rel.replicas.unwrap_or(DEFAULT_REPLICAS),
            target: rel.target.unwrap_or(DEFAULT_TARGET),
        },
    ))
}

/// The run of replica `replica` as intervals `{start_s, end_s, state}` for the power model, with
/// its event log. Deterministic for the parameters' seed and the replica index.
pub fn timeline(p: &Params, replica: u64) -> Recording {
    simulate_replica(p, replica_seed(p.seed, replica), true)
        .1
        .unwrap_or_default()
}

/// Only the intervals of replica 0 of a scenario.
pub fn scenario_intervals(s: &Scenario) -> Result<Vec<Interval>, SpecError> {
    let (p, _) = from_scenario(s)?;
    Ok(timeline(&p, 0).intervals)
}
