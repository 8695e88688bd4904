//! From a resolved scenario to the step model's inputs.

use perf::fabric::{hall_levels, Fabric};
use perf::model::Model;
use perf::step::{Cluster, Config, Hardware, Invalid, Overlap, Software, Workload};
use serde::Serialize;
use spec::job::{RawParallelism, Schedule};
use spec::Scenario;

/// The job of a scenario on its cluster.
#[derive(Clone, Debug, Serialize)]
pub struct Setup {
    pub workload: Workload,
    pub cluster: Cluster,
    /// The fixed layout, or `None` for `parallelism = "auto"`.
    pub fixed: Option<Config>,
    /// Global batch in tokens as written, before rounding to whole sequences.
    pub global_batch_tokens: f64,
    /// GPUs of the job's accelerator installed at the job's site (the job may use fewer).
    pub installed_gpus: u64,
}

/// An input problem, naming the scenario field at fault.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SetupError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl From<Invalid> for SetupError {
    fn from(i: Invalid) -> Self {
        SetupError {
            field: format!("job.parallelism.{}", i.field),
            message: i.message,
        }
    }
}

fn err(field: &str, message: impl Into<String>) -> SetupError {
    SetupError {
        field: field.into(),
        message: message.into(),
    }
}

/// The cluster a job of `job_gpus` GPUs runs on: the halls of the first site that hold the first
/// hall's accelerator. Halls with another accelerator are an error unless the job asks for no
/// more GPUs than the matching halls hold (it then runs on those).
pub fn cluster_for(s: &Scenario, job_gpus: Option<u64>) -> Result<Cluster, SetupError> {
    let site = s
        .sites
        .first()
        .ok_or_else(|| err("site", "the scenario has no site"))?;
    let first = site
        .halls
        .first()
        .ok_or_else(|| err("site[0].hall", "the first site has no hall"))?;
    // the one placement rule: the halls that hold the job's accelerator
    let same: Vec<&spec::scenario::Hall> =
        crate::bind::job_halls(s, site).map(|(_, h)| h).collect();
    let gpus: u64 = same.iter().map(|h| h.gpus).sum();
    if let Some((i, h)) = site
        .halls
        .iter()
        .enumerate()
        .find(|(_, h)| h.accelerator.name != first.accelerator.name)
    {
        if job_gpus.is_none_or(|n| n > gpus) {
            return Err(err(
                &format!("site[0].hall[{i}].system"),
                format!(
                    "a job runs on one accelerator type: hall {} has {}, hall {} has {}; set job.gpus to at most {gpus} to run on the {} halls only",
                    first.name, first.accelerator.name, h.name, h.accelerator.name, first.accelerator.name
                ),
            ));
        }
    }
    if gpus == 0 {
        return Err(err("site[0].hall", "the first site has no GPUs"));
    }
    let mut levels = hall_levels(first);
    if same.len() > 1 {
        // halls of one site join through the top tier of their fabric
        if let Some(l) = levels.last_mut() {
            l.name = format!("{} (across {} halls)", l.name, same.len());
        }
    }
    Ok(Cluster {
        gpus,
        hardware: Hardware::from_accelerator(&first.accelerator),
        fabric: Fabric { levels }.normalised(gpus),
    })
}

/// The scenario's `[job]` on its cluster, with the fixed layout translated (and checked).
pub fn setup(s: &Scenario) -> Result<Setup, SetupError> {
    let job = s
        .job
        .as_ref()
        .ok_or_else(|| err("job", "the scenario has no [job] section"))?;
    let mut cluster = cluster_for(s, job.gpus)?;
    let installed_gpus = cluster.gpus;
    if let Some(n) = job.gpus {
        // the job runs on part of the installed GPUs (Meta's Llama 3 405B ran on 16,384 of a
        // 24,576-GPU cluster, arXiv 2407.21783 §3.3.1)
        if n == 0 || n > cluster.gpus {
            return Err(err(
                "job.gpus",
                format!(
                    "the job asks for {n} GPUs but the first site has {} installed{}",
                    cluster.gpus,
                    if s.sites.len() > 1 {
                        " (job.gpus counts GPUs of the first site; a job over every site's GPUs leaves it unset)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        cluster.gpus = n;
        cluster.fabric = cluster.fabric.clone().normalised(n);
    }
    let seqs = (job.global_batch_tokens / job.seq as f64).round().max(1.0) as u64;
    let workload = Workload {
        model: Model::from_arch(&job.model),
        seq: job.seq,
        global_batch_seqs: seqs,
        tokens: job.tokens,
        precision: job.precision,
        software: Software {
            flash_attention: job.flash_attention,
            dropout: job.dropout,
        },
    };
    let fixed = match &job.parallelism {
        RawParallelism::Auto => None,
        RawParallelism::Fixed(f) => {
            let used = f.tp as u64 * f.pp as u64 * f.cp as u64;
            let dp = match f.dp {
                Some(d) => d,
                None => {
                    if used == 0 || cluster.gpus % used != 0 {
                        return Err(err(
                            "job.parallelism.dp",
                            format!(
                                "dp = \"rest\" needs tp × pp × cp = {used} to divide the {} GPUs",
                                cluster.gpus
                            ),
                        ));
                    }
                    (cluster.gpus / used).min(u32::MAX as u64) as u32
                }
            };
            let schedule = if f.interleave > 1 && f.schedule == Schedule::OneFOneB {
                // interleave > 1 implies the interleaved schedule
                Schedule::Interleaved
            } else {
                f.schedule
            };
            let cfg = Config {
                tp: f.tp,
                pp: f.pp,
                cp: f.cp,
                ep: f.ep,
                dp,
                microbatch: f.microbatch,
                recompute: f.recompute,
                schedule,
                interleave: f.interleave,
                zero: f.zero,
                sequence_parallel: f.sequence_parallel,
                overlap: Overlap {
                    tp: f.overlap.tp,
                    pp: f.overlap.pp,
                    dp: f.overlap.dp,
                    ep: f.overlap.ep,
                    cp: f.overlap.cp,
                },
            };
            Some(cfg)
        }
    };
    Ok(Setup {
        workload,
        cluster,
        fixed,
        global_batch_tokens: job.global_batch_tokens,
        installed_gpus,
    })
}
