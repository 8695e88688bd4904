//! The reliability model's input: a job on its node pools, a failure model, a checkpoint policy,
//! the run's length and the recovery design, in SI units; [`params`] derives the simulation
//! parameters from it (the checkpoint costs, the warm standbys, the work to do, the design's
//! parameters), and [`timeline`] gives the run the power model reads.

use crate::designs::LLAMA3_REPLICA_GPUS;
pub use crate::engine::{auto_standby_nodes, node_removal_rate_per_s, STANDBY_QUANTILE};
use crate::engine::{replica_seed, simulate_replica, Recording};
use crate::formulas::{checkpoint_state_bytes, transfer_s};
use crate::params::*;

/// Llama 3 405B's BF16 MFU on 16K H100, 38–43% (Llama 3 Table 4, P): the utilisation used to derive
/// a step time from the job when the step model gives none.
pub const FALLBACK_MFU: f64 = 0.40;
/// Step time when the scenario has no job: 10 s (A; Llama 3 405B on 16K H100 is ≈6 s, D).
pub const FALLBACK_STEP_S: f64 = 10.0;
/// Storage write bandwidth when none is given: Tectonic's sustained 2 TB/s for Llama 3 (§3.3.1, P).
pub const DEFAULT_STORAGE_BYTES_PER_S: f64 = 2e12;
/// Device-to-host copy rate for in-memory snapshots, per GPU: 25 GB/s, about half of PCIe Gen5 x16
/// (A; MegaScale's host-memory snapshot takes "several seconds", Q).
pub const HOST_COPY_BYTES_PER_S: f64 = 25e9;
/// Wall-clock window when neither the job nor the input says: Llama 3's 54-day snapshot (P).
pub const DEFAULT_LENGTH_S: f64 = 54.0 * 86400.0;
/// Shortest and longest run a job's training time is held to: one day, three years (A: a
/// Monte Carlo of a shorter run says little about failures; a longer one is not a plan).
pub const MIN_WORK_S: f64 = 86400.0;
pub const MAX_WORK_S: f64 = 3.0 * 365.25 * 86400.0;
/// Replicas when the input gives none.
pub const DEFAULT_REPLICAS: u64 = 200;
/// Target share of runs for recommendations when absent.
pub const DEFAULT_TARGET: f64 = 0.95;

/// The failure side of a run: classes with their rates, lifetime, bad nodes, SDC, planned
/// maintenance, the restart chain and the repair pipeline (a preset with its overrides).
#[derive(Clone, Debug, PartialEq)]
pub struct Failures {
    /// The preset's name, for the report.
    pub preset: String,
    pub classes: Vec<FailureClass>,
    pub lifetime: Lifetime,
    pub bad_nodes: BadNodes,
    pub sdc: Sdc,
    pub maintenance: Option<Maintenance>,
    pub recovery: Recovery,
    pub failures_while_down: bool,
    pub repair: Repair,
    pub nodes_per_rack: u32,
}

/// A checkpoint policy as chosen (its costs come from the state and the storage).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CheckpointPolicy {
    /// Daly's optimum at the job's interruption rate.
    Auto,
    /// A blocking persistent checkpoint every interval.
    Interval(f64),
    /// In-memory every `memory_s`, persistent every `persistent_s`; `memory_write_s` the blocking
    /// snapshot when known (else the state's copy to host memory).
    Tiered {
        memory_s: f64,
        persistent_s: f64,
        memory_write_s: Option<f64>,
    },
}

/// Warm standby nodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Standby {
    /// ByteRobust's rule ([`auto_standby_nodes`]).
    Auto,
    Nodes(u64),
}

/// How long the run lasts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Run {
    /// A wall-clock window.
    Wall(f64),
    /// Until this much useful training is done.
    Work(f64),
    /// The job's training: `tokens` at `tokens_per_step` per step, each step the input's step time
    /// ([`training_work_s`]).
    Train { tokens: f64, tokens_per_step: f64 },
    /// [`DEFAULT_LENGTH_S`] of wall clock.
    Default,
}

/// GPUs of one data-parallel replica (the failure domain a contained design recovers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReplicaSize {
    /// As given (`[reliability] containment.replica_gpus`); larger than the job is an error.
    Given(u64),
    /// The job's model-parallel group: tp·pp·cp·ep of a fixed layout, or the step model's layout
    /// GPUs ÷ dp (held to the job's GPUs).
    Layout(u64),
    /// A job whose layout is not known (`parallelism = "auto"` and no step-model profile): Llama 3
    /// 405B's replica ([`LLAMA3_REPLICA_GPUS`]).
    Unknown,
    /// No job: the whole job is one replica.
    #[default]
    WholeJob,
}

/// The recovery design and its parameters as given; `None`: the model's sourced default
/// ([`crate::designs`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ContainmentInput {
    pub design: Design,
    pub replica: ReplicaSize,
    pub detect_s: Option<f64>,
    pub hot_swap_s: Option<f64>,
    pub reconfigure_s: Option<f64>,
    pub peer_bytes_per_s: Option<f64>,
    pub snapshot_every_steps: Option<u32>,
    /// `None`: the state per GPU copied to host memory ([`HOST_COPY_BYTES_PER_S`]).
    pub snapshot_block_s: Option<f64>,
    pub peer_copies: Option<u32>,
}

/// The design's parameters: the input's, else the defaults of [`crate::designs`], with the
/// training state (`state_bytes`) and the snapshot's blocking time when none is given
/// (`snapshot_s`, the state per GPU over the host copy rate, D; ByteRobust measured 0.04 s blocking
/// for every-step saves of a 70B model on 2,048 GPUs, Q).
pub fn containment(
    c: &ContainmentInput,
    job_gpus: u64,
    state_bytes: f64,
    snapshot_s: f64,
) -> Containment {
    let d = Containment::default();
    let replica_gpus = match c.replica {
        ReplicaSize::Given(g) => g,
        ReplicaSize::Layout(g) => g.max(1).min(job_gpus),
        ReplicaSize::Unknown => LLAMA3_REPLICA_GPUS.min(job_gpus),
        ReplicaSize::WholeJob => d.replica_gpus,
    };
    Containment {
        design: c.design,
        replica_gpus,
        detect_s: c.detect_s.unwrap_or(d.detect_s),
        hot_swap_s: c.hot_swap_s.unwrap_or(d.hot_swap_s),
        reconfigure_s: c.reconfigure_s.unwrap_or(d.reconfigure_s),
        peer_bytes_per_s: c.peer_bytes_per_s.unwrap_or(d.peer_bytes_per_s),
        state_bytes,
        snapshot_every_steps: c.snapshot_every_steps.unwrap_or(d.snapshot_every_steps),
        snapshot_block_s: c.snapshot_block_s.unwrap_or(snapshot_s),
        peer_copies: c.peer_copies.unwrap_or(d.peer_copies),
    }
}

/// Everything the reliability model needs, in SI units.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub failures: Failures,
    /// GPUs of the job, and whether that count was given (then standbys come out of the nodes it
    /// leaves idle) or is every installed GPU (then they come on top).
    pub job_gpus: u64,
    pub job_gpus_given: bool,
    /// GPUs installed where the job runs (the pools around it).
    pub installed_gpus: u64,
    pub gpus_per_node: u32,
    /// GPUs of a hall (the blast radius of a hall-wide failure).
    pub hall_gpus: u64,
    /// One optimizer step.
    pub step_s: f64,
    pub run: Run,
    pub checkpoint: CheckpointPolicy,
    /// Bytes a checkpoint holds; `None`: from `model_params` ([`checkpoint_state_bytes`]), else 0.
    pub checkpoint_state_bytes: Option<f64>,
    pub model_params: Option<f64>,
    pub storage_bytes_per_s: Option<f64>,
    pub checkpoint_overhead_s: f64,
    /// Load time at restart; `None`: the write time.
    pub checkpoint_load_s: Option<f64>,
    pub standby: Standby,
    pub spare_pool_nodes: u64,
    pub seed: u64,
    /// The recovery design (`restart` by default) and its parameters.
    pub containment: ContainmentInput,
}

/// The step time of a job with no step-model profile: 6·N·tokens per step over the job's dense
/// peak at [`FALLBACK_MFU`]; [`FALLBACK_STEP_S`] when either side is zero.
pub fn fallback_step_s(
    active_params: f64,
    batch_tokens: f64,
    job_gpus: u64,
    peak_flops_per_gpu: f64,
) -> f64 {
    let flops = 6.0 * active_params * batch_tokens;
    let rate = job_gpus as f64 * peak_flops_per_gpu * FALLBACK_MFU;
    if rate > 0.0 && flops > 0.0 {
        flops / rate
    } else {
        FALLBACK_STEP_S
    }
}

/// Useful training time of a job: its whole steps (`tokens / tokens_per_step`, rounded up) times
/// the step time, held to [`MIN_WORK_S`]–[`MAX_WORK_S`].
pub fn training_work_s(tokens: f64, tokens_per_step: f64, step_s: f64) -> f64 {
    ((tokens / tokens_per_step).ceil() * step_s).clamp(MIN_WORK_S, MAX_WORK_S)
}

/// The simulation parameters of an input: checkpoint write and load times from the state and the
/// storage, the tiered policy's snapshot from the copy to host memory, the run's work from the
/// job's steps, and the pools (standbys on top of the job when it is every installed GPU, out of
/// the nodes it leaves idle otherwise). Errors name the field (as `[reliability]` names it).
pub fn params(i: &Input) -> Result<Params, ParamError> {
    let gpn = i.gpus_per_node.max(1) as u64;
    let installed_nodes = i.installed_gpus.div_ceil(gpn);
    let job_nodes = i.job_gpus.div_ceil(gpn);
    let state = i
        .checkpoint_state_bytes
        .or_else(|| i.model_params.map(checkpoint_state_bytes))
        .unwrap_or(0.0);
    let bw = i.storage_bytes_per_s.unwrap_or(DEFAULT_STORAGE_BYTES_PER_S);
    let write_s = transfer_s(state, bw, i.checkpoint_overhead_s);
    let load_s = i
        .checkpoint_load_s
        .unwrap_or_else(|| transfer_s(state, bw, i.checkpoint_overhead_s));
    let host_copy_s = transfer_s(state / i.job_gpus.max(1) as f64, HOST_COPY_BYTES_PER_S, 0.0);
    let checkpoint = match i.checkpoint {
        CheckpointPolicy::Auto => Checkpoint::YoungDaly,
        CheckpointPolicy::Interval(iv) => Checkpoint::Fixed { interval_s: iv },
        CheckpointPolicy::Tiered {
            memory_s,
            persistent_s,
            memory_write_s,
        } => Checkpoint::Tiered {
            memory_interval_s: memory_s,
            memory_write_s: memory_write_s.unwrap_or(host_copy_s),
            persist_every: (persistent_s / memory_s).round().max(1.0) as u32,
        },
    };
    let run = match i.run {
        Run::Wall(l) => RunLength::WallS(l),
        Run::Work(w) => RunLength::WorkS(w),
        Run::Train {
            tokens,
            tokens_per_step,
        } if tokens_per_step > 0.0 => {
            RunLength::WorkS(training_work_s(tokens, tokens_per_step, i.step_s))
        }
        Run::Train { .. } | Run::Default => RunLength::WallS(DEFAULT_LENGTH_S),
    };
    let f = &i.failures;
    let mut p = Params {
        preset: f.preset.clone(),
        job_gpus: i.job_gpus,
        gpus_per_node: gpn as u32,
        nodes_per_rack: f.nodes_per_rack,
        nodes_per_hall: i.hall_gpus.div_ceil(gpn).max(1),
        step_s: i.step_s,
        classes: f.classes.clone(),
        lifetime: f.lifetime,
        bad_nodes: f.bad_nodes,
        sdc: f.sdc,
        maintenance: f.maintenance,
        recovery: f.recovery,
        failures_while_down: f.failures_while_down,
        repair: f.repair,
        checkpoint,
        checkpoint_write_s: write_s,
        checkpoint_load_s: load_s,
        memory_load_s: host_copy_s,
        standby_nodes: 0,
        cold_nodes: 0,
        spare_nodes: i.spare_pool_nodes,
        run,
        seed: i.seed,
        containment: containment(&i.containment, i.job_gpus, state, host_copy_s),
    };
    let want = match i.standby {
        // never more standbys than the job has nodes: beyond that every node is in repair at
        // once and the rule's quantile (which saturates at u64::MAX for absurd rates) means nothing
        Standby::Auto => auto_standby_nodes(&p).min(p.job_nodes()),
        Standby::Nodes(n) => n,
    };
    if i.job_gpus_given {
        let idle = installed_nodes - job_nodes.min(installed_nodes);
        p.standby_nodes = want.min(idle);
        p.cold_nodes = idle - p.standby_nodes;
    } else {
        p.standby_nodes = want;
    }
    p.check()?;
    Ok(p)
}

/// The run of replica `replica` as intervals `{start_s, end_s, state}` for the power model, with
/// its event log. Deterministic for the parameters' seed and the replica index.
pub fn timeline(p: &Params, replica: u64) -> Recording {
    simulate_replica(p, replica_seed(p.seed, replica), true)
        .1
        .unwrap_or_default()
}
