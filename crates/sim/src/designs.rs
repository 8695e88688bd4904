//! Failure containment: the recovery designs other than whole-job restart, their sourced timings,
//! closed forms, what each needs (spares, memory, bandwidth) and what it costs, and the comparison
//! of designs side by side (`megacluster simulate --designs`).
//!
//! Grades as in the calibration notes: P primary, Q quoted, S secondary, D derived here, A
//! assumption. The mechanism of each design:
//!
//! - `restart` (today): detect → diagnose → swap a warm standby → every process restarts,
//!   re-initialises its communicators (grows with the job: NCCLX, arXiv 2510.20171, S) and loads the
//!   last persistent checkpoint; the work since it is recomputed.
//! - `hot-spare`: a spare that already runs the job's processes takes the failed node's place
//!   (Gemini report: hot standby cubes swapped in by optical switches "in around 10 seconds", P) and
//!   fetches the node's shard from a data-parallel peer, which holds the same state; the rest of
//!   the job waits in its collective but does not restart; the step in flight is redone.
//! - `partial-restart`: only the failed data-parallel replica restarts on a warm standby and fetches
//!   its state from a healthy replica (TorchFT's peer-to-peer recovery, PyTorch blog "Fault Tolerant
//!   Llama", 2025-06-20, Q); the other replicas pause at the next gradient synchronisation.
//! - `elastic-dp`: the failed replica leaves the quorum, the others go on without it (TorchFT
//!   fault-tolerant HSDP: per-step quorum, the interrupted step's gradients discarded, Q) and it
//!   rejoins at a step boundary once rebuilt, fetching the weights from a peer while the others
//!   train. The global batch shrinks with the replicas missing (the learning rate follows it, or the
//!   others accumulate more microbatches and the step takes R/(R−k) as long); each replica must hold
//!   a full copy of the training state, sharded only inside the replica (HSDP).
//! - `in-memory`: every step a snapshot goes to host memory and to peers' host memory (Gemini,
//!   SOSP'23: "checkpoint every iteration", failure recovery "> 13× faster", Q; ByteRobust: every-step
//!   saves with dual CPU buffers and cross-group backups, 0.04 s blocking, Q); a failure still
//!   restarts the whole job, from the last step, loaded from memory.
//!
//! Failures of the whole job (software bugs and NCCL timeouts of the job, a hall's power, silent data
//! corruption, planned maintenance) restart the whole job in every design.

use crate::engine::{job_interrupt_rate_per_s, replica_seed, simulate_replica, ReplicaResult};
use crate::formulas::{daly_interval_s, quantile_sorted, reinit_s, useful_share, ClosedForm};
use crate::monte::{restart_overhead_s, summarize, Dist, Summary};
use crate::params::*;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Detection before a contained recovery: ByteRobust detects in 10–30 s against 10–30 min for
/// timeouts (SOSP'25, S; calibration §5.3); the middle of that range (A). TorchFT ran its demo with
/// 5-second timeouts on every operation (PyTorch blog, 2025-06-20, Q).
pub const CONTAIN_DETECT_S: f64 = 20.0;
/// Hot-spare swap: Gemini's optical switches reconfigure cubes "in around 10 seconds" to bring in
/// hot standbys (Gemini report, arXiv 2312.11805 §3, P).
pub const HOT_SWAP_S: f64 = 10.0;
/// Quorum change across replicas: TorchFT's Gloo process groups re-initialise "in < 1 s" (PyTorch
/// blog, 2025-06-20, Q).
pub const RECONFIGURE_S: f64 = 1.0;
/// A node fetches its shard over one 400 Gbit/s NIC: 50 GB/s (A; an HGX H100 node has eight).
pub const PEER_BYTES_PER_S: f64 = 50e9;
/// Host DRAM buffers per snapshot: ByteRobust keeps dual CPU buffers so a save never waits for the
/// previous one (SOSP'25, S).
pub const SNAPSHOT_BUFFERS: f64 = 2.0;
/// Copies of each snapshot in other nodes' host memory (A: one peer, as ByteRobust's
/// cross-parallel-group backup; Gemini SOSP'23 places m replicas, m not in the calibration notes).
pub const PEER_COPIES: u32 = 1;
/// GPUs of one Llama 3 405B data-parallel replica: TP 8 × CP 1 × PP 16 at 8,192 GPUs (Llama 3
/// Table 4, P); the replica when the scenario's layout is "auto" and no step model chose one.
pub const LLAMA3_REPLICA_GPUS: u64 = 128;
/// The goodput the recommended design must keep when the input gives none: the reliability
/// owner's question, "which design keeps a 1M-GPU job above 90 %" (A).
pub const DEFAULT_GOODPUT_TARGET: f64 = 0.90;
/// Hours in a year (365.25 days).
pub const HOURS_PER_YEAR: f64 = 8766.0;

pub(crate) fn default_containment() -> Containment {
    Containment {
        design: Design::Restart,
        replica_gpus: 0,
        detect_s: CONTAIN_DETECT_S,
        hot_swap_s: HOT_SWAP_S,
        reconfigure_s: RECONFIGURE_S,
        peer_bytes_per_s: PEER_BYTES_PER_S,
        state_bytes: 0.0,
        snapshot_every_steps: 1,
        snapshot_block_s: 0.0,
        peer_copies: PEER_COPIES,
    }
}

pub(crate) fn check_containment(p: &Params) -> Result<(), ParamError> {
    let c = &p.containment;
    for (f, v, what) in [
        ("containment.detect", c.detect_s, "detection time"),
        ("containment.hot_swap", c.hot_swap_s, "hot-spare swap time"),
        (
            "containment.reconfigure",
            c.reconfigure_s,
            "reconfiguration time",
        ),
        (
            "containment.snapshot_block",
            c.snapshot_block_s,
            "snapshot blocking time",
        ),
        ("containment.state", c.state_bytes, "training state"),
    ] {
        non_negative(f, v, what)?;
    }
    positive(
        "containment.peer_bandwidth",
        c.peer_bytes_per_s,
        "peer bandwidth",
    )?;
    if c.snapshot_every_steps == 0 {
        return Err(perr(
            "containment.snapshot_every",
            "snapshots come every k ≥ 1 steps".into(),
        ));
    }
    if c.replica_gpus > p.job_gpus {
        return Err(perr(
            "containment.replica_gpus",
            format!(
                "a replica of {} GPUs is larger than the job's {} GPUs",
                c.replica_gpus, p.job_gpus
            ),
        ));
    }
    if c.design.contained() && matches!(p.checkpoint, Checkpoint::Tiered { .. }) {
        return Err(perr(
            "checkpoint",
            format!(
                "the `{}` design keeps the state in its peers' memory; give it a persistent checkpoint policy (\"auto\" or an interval) for whole-job failures, or choose `recovery = \"in-memory\"`",
                c.design.name()
            ),
        ));
    }
    Ok(())
}

/// The recovery times a design's events take, derived from the parameters.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Timings {
    pub replica_gpus: u64,
    pub replica_nodes: u64,
    pub replicas: u64,
    /// A node's shard of one replica's copy of the state, fetched from a peer.
    pub node_shard_bytes: f64,
    pub fetch_s: f64,
    /// Communicator re-initialisation at the replica's size (NCCLX law, S, D).
    pub reinit_replica_s: f64,
    /// After the spare is in place: hot-spare: rebuild the swapped node's communicators and fetch
    /// its shard; partial restart: restart the replica's processes, re-initialise them, fetch.
    pub contain_post_s: f64,
    /// A transient fault restarts one node's processes in place (no swap).
    pub transient_post_s: f64,
    /// Elastic: the whole job stalls for detection and the quorum change.
    pub stall_s: f64,
    /// Elastic: a replica with all its nodes restarts, re-initialises and fetches the weights.
    pub rebuild_s: f64,
    /// The whole job's stall per contained failure when a spare is at hand: detection + swap +
    /// post (hot-spare, partial), detection + quorum change (elastic, once when the replica leaves
    /// and `reconfigure` again when it rejoins).
    pub downtime_s: f64,
}

pub fn timings(p: &Params) -> Timings {
    let c = &p.containment;
    let r = &p.recovery;
    let gpn = p.gpus_per_node.max(1) as u64;
    let replica_gpus = if c.replica_gpus == 0 {
        p.job_gpus.max(1)
    } else {
        c.replica_gpus.min(p.job_gpus).max(1)
    };
    let replicas = (p.job_gpus / replica_gpus).max(1);
    let replica_nodes = replica_gpus.div_ceil(gpn).max(1);
    let node_shard_bytes = c.state_bytes / replica_gpus as f64 * gpn.min(replica_gpus) as f64;
    let fetch_s = node_shard_bytes / c.peer_bytes_per_s;
    let reinit_replica_s = reinit_s(
        r.reinit_ref_s,
        r.reinit_ref_gpus,
        r.reinit_exponent,
        replica_gpus as f64,
    );
    let restart_replica = r.restart_fixed_s + reinit_replica_s + fetch_s;
    let (contain_post_s, downtime_s) = match c.design {
        Design::HotSpare => {
            let post = reinit_replica_s + fetch_s;
            (post, c.detect_s + c.hot_swap_s + post)
        }
        Design::PartialRestart => (
            restart_replica,
            c.detect_s + r.standby_swap_s + restart_replica,
        ),
        Design::ElasticDp => (0.0, c.detect_s + c.reconfigure_s),
        Design::Restart | Design::InMemory => (0.0, 0.0),
    };
    Timings {
        replica_gpus,
        replica_nodes,
        replicas,
        node_shard_bytes,
        fetch_s,
        reinit_replica_s,
        contain_post_s,
        transient_post_s: restart_replica,
        stall_s: c.detect_s + c.reconfigure_s,
        rebuild_s: restart_replica,
        downtime_s,
    }
}

/// The in-memory design's checkpoint cycle: (snapshot interval, blocking time, snapshots per
/// persistent drain). Snapshots every `snapshot_every_steps` steps; the persistent copy drains
/// asynchronously at the scenario's persistent interval (Daly's for `auto`).
pub(crate) fn in_memory_policy(p: &Params) -> (f64, f64, u64) {
    in_memory_policy_for(p, p.checkpoint)
}

/// [`in_memory_policy`] with the scenario's checkpoint policy replaced by `checkpoint`.
pub(crate) fn in_memory_policy_for(p: &Params, checkpoint: Checkpoint) -> (f64, f64, u64) {
    let c = &p.containment;
    let iv = c.snapshot_every_steps.max(1) as f64 * p.step_s;
    let persistent = match checkpoint {
        Checkpoint::Fixed { interval_s } => interval_s,
        Checkpoint::YoungDaly => {
            let rate = job_interrupt_rate_per_s(p, p.job_nodes());
            let mtbi = if rate > 0.0 {
                1.0 / rate
            } else {
                f64::INFINITY
            };
            daly_interval_s(p.checkpoint_write_s, mtbi, p.step_s)
        }
        Checkpoint::Tiered {
            memory_interval_s,
            persist_every,
            ..
        } => memory_interval_s * persist_every as f64,
    };
    // the drain of one persistent copy must fit in its span
    let persistent = persistent.max(p.checkpoint_write_s).max(iv);
    let every = (persistent / iv).ceil().max(1.0) as u64;
    (iv, c.snapshot_block_s, every)
}

/// Failures per second that restart the whole job in a contained design: job-scoped classes
/// (software, NCCL timeouts), halls, silent data corruption, and for the elastic design any class
/// whose blast radius exceeds a replica.
pub fn whole_job_rate_per_s(p: &Params) -> f64 {
    let (contained, total) = split_rates_per_s(p);
    (total - contained).max(0.0)
}

/// (contained, total) failure rates per second at the job's size (bad nodes at their mean).
fn split_rates_per_s(p: &Params) -> (f64, f64) {
    let total = job_interrupt_rate_per_s(p, p.job_nodes());
    if !p.containment.design.contained() {
        return (0.0, total);
    }
    let t = timings(p);
    let n = p.job_nodes() as f64;
    let gpn = p.gpus_per_node as f64;
    let k = 1.0 + p.bad_nodes.fraction * (p.bad_nodes.multiplier - 1.0);
    let mut c = 0.0;
    for cl in &p.classes {
        let per_s = cl.rate_per_hour / 3600.0;
        let node_hw = cl.removes_nodes && matches!(cl.scope, Scope::Gpu | Scope::Node);
        let v = match cl.scope {
            Scope::Gpu => per_s * n * gpn,
            Scope::Node | Scope::NodeTransient => per_s * n,
            Scope::Rack => {
                if p.containment.design == Design::ElasticDp
                    && p.nodes_per_rack as u64 > t.replica_nodes
                {
                    0.0
                } else {
                    per_s * n / p.nodes_per_rack as f64
                }
            }
            Scope::Hall | Scope::Job => 0.0,
        };
        c += if node_hw { v * k } else { v };
    }
    (c, total)
}

/// Expected wall time of a recovery of nominal length `d_s` that starts over whenever a failure
/// hits it, failures at `rate_per_s` (exponential: (e^{λd} − 1)/λ, D); `d_s` when failures are
/// drawn only while training.
pub fn compounded_s(rate_per_s: f64, d_s: f64, failures_while_down: bool) -> f64 {
    if !failures_while_down || rate_per_s <= 0.0 {
        return d_s;
    }
    (rate_per_s * d_s).exp_m1() / rate_per_s
}

/// Closed-form ETTR of a design by a renewal-reward argument over training time (D). Per second of
/// training, whole-job failures at λ_w and SDC episodes at λ_s (one pending at a time) lose cycles of
/// the persistent checkpoint (the useful share of a cycle τ + w is λτ/(e^{λ(τ+w)} − 1), Daly 2006's
/// complete model, P) and SDC also its detection delay; contained failures at λ_c lose half a step
/// each. Each event then costs its recovery, compounded by the failures (of every kind) that hit it:
/// whole-job restart u0, contained stall d (elastic: the stall and the quorum change at rejoin);
/// planned maintenance its checkpoint, hold and restart. The elastic design trains meanwhile on the
/// replicas present: λ_c·d_rebuild/R are out on average (Little's law). ETTR = useful share /
/// (1 + Σ λ_i·cost_i). Exact for one process alone under exponential failures; it does not model bad
/// nodes, other lifetimes, waiting for spares, or events that overlap (a failure while another
/// recovery is under way is counted as restarting it, not as a second event).
pub fn closed_form(p: &Params) -> ClosedForm {
    if !matches!(p.lifetime, Lifetime::Exponential) {
        return ClosedForm::DoesNotApply(
            "node lifetimes are not exponential; the renewal formulas assume Poisson failures"
                .into(),
        );
    }
    if p.bad_nodes.fraction > 0.0 && p.bad_nodes.multiplier > 1.0 {
        return ClosedForm::DoesNotApply(
            "bad nodes fail faster and leave the job as they are repaired: the rate changes over the run".into(),
        );
    }
    let design = p.containment.design;
    let down = p.failures_while_down;
    let (contained, total) = split_rates_per_s(p);
    let sdc = p.sdc.trigger_per_hour / 3600.0 * p.sdc.prevalence * p.job_gpus as f64;
    let whole = (total - contained - sdc).max(0.0);
    // one SDC pending at a time: an episode holds the trigger off for its detection delay
    let sdc_ep = sdc / (1.0 + sdc * p.sdc.detect_delay_s);
    let u0 = restart_overhead_s(p);
    let all = total;
    let s = p.step_s;
    let t = timings(p);
    // useful share of training time, and the restart after a whole-job failure
    let (useful, restart) = match design {
        Design::InMemory => {
            let (iv, block, every) = in_memory_policy(p);
            let u0m = u0 - p.checkpoint_load_s + p.memory_load_s;
            let share = useful_share(whole, iv, iv + block);
            let span = iv * every as f64;
            (
                share - sdc_ep * (p.sdc.detect_delay_s + span / 2.0),
                (compounded_s(all, u0m, down), compounded_s(all, u0, down)),
            )
        }
        _ => {
            let iv = crate::monte::resolved_interval_s(p);
            let c = iv + p.checkpoint_write_s;
            let share = useful_share(whole + sdc_ep, iv, c);
            // an elastic restart is per replica group: only whole-job failures start it over
            let hits = if design == Design::ElasticDp {
                whole + sdc
            } else {
                all
            };
            let r = compounded_s(hits, u0, down);
            (
                share - sdc_ep * p.sdc.detect_delay_s - contained * s / 2.0,
                (r, r),
            )
        }
    };
    let (stall, degraded) = match design {
        Design::HotSpare | Design::PartialRestart => {
            (contained * compounded_s(all, t.downtime_s, down), 0.0)
        }
        Design::ElasticDp => {
            let stalls = compounded_s(all, t.stall_s, down)
                + compounded_s(all, p.containment.reconfigure_s, down);
            let out = contained * (p.recovery.standby_swap_s + t.rebuild_s) / t.replicas as f64;
            (contained * stalls, out.clamp(0.0, 1.0))
        }
        Design::Restart | Design::InMemory => (0.0, 0.0),
    };
    let maint = match p.maintenance {
        Some(m) if m.every_s > 0.0 => {
            let post = u0 - p.recovery.detect_s - p.recovery.diagnose_s - p.recovery.standby_swap_s;
            (p.checkpoint_write_s + m.duration_s + compounded_s(all, post, down)) / m.every_s
        }
        _ => 0.0,
    };
    let cost = 1.0 + whole * restart.0 + sdc_ep * restart.1 + stall;
    let v = useful * (1.0 - degraded) / cost * (1.0 - maint);
    if !v.is_finite() {
        return ClosedForm::DoesNotApply("the renewal terms overflow: no progress".into());
    }
    ClosedForm::Value(v.clamp(0.0, 1.0))
}

/// Goodput of one failure domain of `gpus` GPUs under the parameters' design, in closed form (for
/// the multi-site strategies: a DiLoCo site is a failure domain of its own). `None` with the reason
/// where the closed form does not apply.
pub fn domain_goodput(p: &Params, gpus: u64) -> ClosedForm {
    let mut q = p.clone();
    q.job_gpus = gpus.max(1);
    q.containment.replica_gpus = q.containment.replica_gpus.min(q.job_gpus);
    closed_form(&q)
}

/// What a design needs besides the job's GPUs, and the consequence on the batch (elastic).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Needs {
    /// Spare nodes held for the job (warm standbys; hot spares for the hot-spare design).
    pub spare_nodes: u64,
    pub spare_gpus: u64,
    /// Extra GPU memory per GPU against a state sharded over every GPU of the job (elastic: each
    /// replica holds a full copy, HSDP).
    pub extra_hbm_bytes_per_gpu: f64,
    /// Host memory per node for snapshots (in-memory: own and peers' copies, double-buffered).
    pub host_memory_bytes_per_node: f64,
    /// Network traffic per node the design adds in steady state (in-memory: snapshot copies to
    /// peers), and per recovery (a node's shard fetched from a peer).
    pub steady_bytes_per_s_per_node: f64,
    pub recovery_bytes_per_node: f64,
    /// Elastic: the share of replicas training, time-weighted mean and lowest (the global batch
    /// scales with it).
    pub mean_replicas_running_share: f64,
    pub lowest_replicas_running_share: f64,
    /// Elastic: replicas out, time-weighted means, waiting for nodes and rebuilding; rejoins per run.
    pub mean_replicas_waiting: f64,
    pub mean_replicas_rebuilding: f64,
    pub rejoins_mean: f64,
    /// In words: what the design changes in training (batch, learning rate, step time).
    pub consequence: String,
}

/// One design's outcome in the comparison.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct DesignResult {
    pub design: Design,
    pub mechanism: String,
    pub summary: Summary,
    pub closed_form: ClosedForm,
    pub timings: Timings,
    pub needs: Needs,
    /// The ETTR met in `target_share` of runs.
    pub ettr_at_target_share: f64,
    /// Mean GPU-hours a year the job loses to failures (1 − ETTR).
    pub lost_gpu_hours_per_year: f64,
    /// GPU-hours a year saved against whole-job restart, and their value at the price.
    pub saved_gpu_hours_per_year: f64,
    pub saved_usd_per_year: f64,
    /// The design's own cost a year: its spare GPUs at the price.
    pub cost_usd_per_year: f64,
    /// Saved less the extra cost against restart.
    pub net_usd_per_year: f64,
    pub contained_recoveries_mean: f64,
    pub mean_replicas_down: f64,
}

/// The designs side by side.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Comparison {
    pub job_gpus: u64,
    pub replica_gpus: u64,
    pub replicas: u64,
    pub replicas_per_design: u64,
    pub usd_per_gpu_hour: f64,
    /// Share of runs that must reach the goodput target (0.95).
    pub target_share: f64,
    pub goodput_target: f64,
    pub designs: Vec<DesignResult>,
    /// The cheapest design that keeps `target_share` of runs at or above `goodput_target`.
    pub recommended: Option<Design>,
    pub recommendation: String,
}

fn mechanism(d: Design) -> &'static str {
    match d {
        Design::Restart => "every process restarts and reloads the last persistent checkpoint",
        Design::HotSpare => {
            "a running spare takes the node's place and fetches its shard from a peer; the rest wait"
        }
        Design::PartialRestart => {
            "the failed replica restarts on a standby and fetches its state from a peer; the rest pause"
        }
        Design::ElasticDp => {
            "the failed replica drops out, the rest train on with a smaller batch, it rejoins rebuilt"
        }
        Design::InMemory => {
            "every-step snapshots in host memory and a peer's; the whole job restarts from the last step"
        }
    }
}

fn needs(p: &Params, t: &Timings, rs: &[ReplicaResult]) -> Needs {
    let c = &p.containment;
    let gpn = p.gpus_per_node as u64;
    let nodes = p.job_nodes().max(1) as f64;
    let n = rs.len().max(1) as f64;
    let mut out = Needs {
        spare_nodes: p.standby_nodes,
        spare_gpus: p.standby_nodes * gpn,
        mean_replicas_running_share: 1.0,
        lowest_replicas_running_share: 1.0,
        ..Default::default()
    };
    match c.design {
        Design::Restart => {
            out.consequence = "none".into();
        }
        Design::HotSpare | Design::PartialRestart => {
            out.recovery_bytes_per_node = t.node_shard_bytes;
            out.consequence = if t.replicas < 2 {
                "needs a second data-parallel replica to fetch the shard from (the job has one)"
                    .into()
            } else {
                "none: the peers hold the same state".into()
            };
        }
        Design::ElasticDp => {
            out.extra_hbm_bytes_per_gpu =
                c.state_bytes * (1.0 / t.replica_gpus as f64 - 1.0 / p.job_gpus.max(1) as f64);
            out.recovery_bytes_per_node = t.node_shard_bytes;
            let mean_down = rs.iter().map(|r| r.mean_replicas_down).sum::<f64>() / n;
            let peak = rs.iter().map(|r| r.peak_replicas_down).max().unwrap_or(0);
            let r = t.replicas as f64;
            let waiting = rs.iter().map(|r| r.mean_replicas_waiting).sum::<f64>() / n;
            out.mean_replicas_waiting = waiting;
            out.mean_replicas_rebuilding = (mean_down - waiting).max(0.0);
            out.rejoins_mean = rs.iter().map(|r| r.rejoins as f64).sum::<f64>() / n;
            out.mean_replicas_running_share = (1.0 - mean_down / r).clamp(0.0, 1.0);
            out.lowest_replicas_running_share = (1.0 - peak as f64 / r).clamp(0.0, 1.0);
            out.consequence = format!(
                "the global batch follows the replicas training: scale the learning rate with it (linear scaling rule, Goyal et al. 2017), or keep the batch with more microbatches on the others (step time × R/(R−k): {:.3}× at the lowest); each replica holds a full copy of the state (HSDP)",
                1.0 / out.lowest_replicas_running_share.max(1e-9)
            );
        }
        Design::InMemory => {
            let per_node = c.state_bytes / nodes;
            out.host_memory_bytes_per_node =
                SNAPSHOT_BUFFERS * (1.0 + c.peer_copies as f64) * per_node;
            let iv = c.snapshot_every_steps.max(1) as f64 * p.step_s;
            out.steady_bytes_per_s_per_node = c.peer_copies as f64 * per_node / iv;
            out.consequence = format!(
                "a blocking snapshot of {} every {} step(s)",
                fmt_s(c.snapshot_block_s),
                c.snapshot_every_steps
            );
        }
    }
    out
}

fn fmt_s(s: f64) -> String {
    if s < 1.0 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.1} s")
    }
}

/// The parameters of `p` with design `d`. A contained design keeps the peers' memory instead of an
/// in-memory tier: of a tiered policy it keeps the persistent interval.
pub fn with_design(p: &Params, d: Design) -> Params {
    let mut q = p.clone();
    q.containment.design = d;
    if let Checkpoint::Tiered {
        memory_interval_s,
        persist_every,
        ..
    } = p.checkpoint
    {
        if d.contained() {
            q.checkpoint = Checkpoint::Fixed {
                interval_s: (memory_interval_s * persist_every as f64).max(p.checkpoint_write_s),
            };
        }
    }
    q
}

/// Every replica of design `d`, in replica order (same seeds for every design: common random
/// numbers).
pub fn design_results(
    p: &Params,
    replicas: u64,
    on_done: &(dyn Fn() + Sync),
) -> Vec<ReplicaResult> {
    (0..replicas)
        .into_par_iter()
        .map(|i| {
            let (r, _) = simulate_replica(p, replica_seed(p.seed, i), false);
            on_done();
            r
        })
        .collect()
}

/// Run each design with `replicas` replicas and compare them. `usd_per_gpu_hour` prices spares and
/// lost GPU-hours (the CLI passes the plan's TCO per GPU-hour); `target_share` of runs must reach
/// `goodput_target` for a design to be recommended.
pub fn compare(
    p: &Params,
    designs: &[Design],
    replicas: u64,
    usd_per_gpu_hour: f64,
    target_share: f64,
    goodput_target: f64,
    on_done: &(dyn Fn() + Sync),
) -> Result<Comparison, ParamError> {
    let mut out: Vec<DesignResult> = Vec::new();
    let q_share = (1.0 - target_share).clamp(0.0, 1.0);
    let gpu_year = p.job_gpus as f64 * HOURS_PER_YEAR;
    for &d in designs {
        let q = with_design(p, d);
        q.check()?;
        let rs = design_results(&q, replicas, on_done);
        let summary = summarize(&q, &rs);
        let mut e: Vec<f64> = rs.iter().map(|r| r.ettr).collect();
        e.sort_by(|a, b| a.total_cmp(b));
        let t = timings(&q);
        let nd = needs(&q, &t, &rs);
        let n = rs.len().max(1) as f64;
        out.push(DesignResult {
            design: d,
            mechanism: mechanism(d).into(),
            closed_form: closed_form(&q),
            timings: t,
            ettr_at_target_share: quantile_sorted(&e, q_share),
            lost_gpu_hours_per_year: (1.0 - summary.ettr.mean) * gpu_year,
            saved_gpu_hours_per_year: 0.0,
            saved_usd_per_year: 0.0,
            cost_usd_per_year: nd.spare_gpus as f64 * HOURS_PER_YEAR * usd_per_gpu_hour,
            net_usd_per_year: 0.0,
            contained_recoveries_mean: rs
                .iter()
                .map(|r| r.contained_recoveries as f64)
                .sum::<f64>()
                / n,
            mean_replicas_down: rs.iter().map(|r| r.mean_replicas_down).sum::<f64>() / n,
            needs: nd,
            summary,
        });
    }
    // against whole-job restart (run it if it was not asked for)
    let base = match out.iter().find(|r| r.design == Design::Restart) {
        Some(r) => (r.summary.ettr.mean, r.cost_usd_per_year),
        None => {
            let q = with_design(p, Design::Restart);
            let rs = design_results(&q, replicas, &|| {});
            let s = summarize(&q, &rs);
            (
                s.ettr.mean,
                q.standby_nodes as f64 * p.gpus_per_node as f64 * HOURS_PER_YEAR * usd_per_gpu_hour,
            )
        }
    };
    for r in &mut out {
        r.saved_gpu_hours_per_year = (r.summary.ettr.mean - base.0) * gpu_year;
        r.saved_usd_per_year = r.saved_gpu_hours_per_year * usd_per_gpu_hour;
        r.net_usd_per_year = r.saved_usd_per_year - (r.cost_usd_per_year - base.1);
    }
    // the cheapest that meets the target; among equal costs, the best goodput at the target share
    let meets: Vec<&DesignResult> = out
        .iter()
        .filter(|r| r.ettr_at_target_share >= goodput_target)
        .collect();
    let best = meets.iter().min_by(|a, b| {
        a.cost_usd_per_year
            .total_cmp(&b.cost_usd_per_year)
            .then(b.ettr_at_target_share.total_cmp(&a.ettr_at_target_share))
    });
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    let (recommended, recommendation) = match best {
        Some(b) => (
            Some(b.design),
            format!(
                "`{}`: the cheapest design that keeps {} of runs at or above {} goodput ({} in {} of runs)",
                b.design.name(),
                pct(target_share),
                pct(goodput_target),
                pct(b.ettr_at_target_share),
                pct(target_share)
            ),
        ),
        None => {
            let top = out
                .iter()
                .max_by(|a, b| a.ettr_at_target_share.total_cmp(&b.ettr_at_target_share));
            (
                None,
                match top {
                    Some(t) => format!(
                        "none keeps {} of runs at or above {} goodput; the best is `{}` with {} in {} of runs",
                        pct(target_share),
                        pct(goodput_target),
                        t.design.name(),
                        pct(t.ettr_at_target_share),
                        pct(target_share)
                    ),
                    None => "no design was run".into(),
                },
            )
        }
    };
    let t = timings(p);
    Ok(Comparison {
        job_gpus: p.job_gpus,
        replica_gpus: t.replica_gpus,
        replicas: t.replicas,
        replicas_per_design: replicas,
        usd_per_gpu_hour,
        target_share,
        goodput_target,
        designs: out,
        recommended,
        recommendation,
    })
}

/// The job of `p` on `gpus` GPUs with the same global batch: the step time scales as
/// `job_gpus / gpus` (compute-bound, D), the work in compute seconds with it, the warm standbys by
/// the same P99 rule, the replica size stays (the model-parallel group).
pub fn scaled(p: &Params, gpus: u64) -> Params {
    let mut q = p.clone();
    let f = p.job_gpus as f64 / gpus.max(1) as f64;
    q.job_gpus = gpus.max(1);
    q.step_s = p.step_s * f;
    q.run = match p.run {
        RunLength::WorkS(w) => RunLength::WorkS(w * f),
        RunLength::WallS(w) => RunLength::WallS(w),
    };
    q.nodes_per_hall = p.nodes_per_hall.min(q.job_nodes()).max(1);
    q.standby_nodes = crate::engine::auto_standby_nodes(&q);
    q.cold_nodes = 0;
    q.containment.replica_gpus = p.containment.replica_gpus.min(q.job_gpus);
    if let Checkpoint::Fixed { interval_s } = p.checkpoint {
        q.checkpoint = Checkpoint::Fixed {
            interval_s: interval_s.max(q.step_s).max(q.checkpoint_write_s),
        };
    }
    q
}

/// Goodput against GPU count for each design: one series per design of (GPUs, mean ETTR, ETTR at
/// the target share).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Sweep {
    pub design: Design,
    pub points: Vec<(u64, Dist)>,
}

pub fn sweep(
    p: &Params,
    gpu_counts: &[u64],
    designs: &[Design],
    replicas: u64,
) -> Result<Vec<Sweep>, ParamError> {
    let mut out = vec![];
    for &d in designs {
        let mut points = vec![];
        for &g in gpu_counts {
            let q = with_design(&scaled(p, g), d);
            q.check()?;
            let rs = design_results(&q, replicas, &|| {});
            let e: Vec<f64> = rs.iter().map(|r| r.ettr).collect();
            points.push((g, Dist::of(&e)));
        }
        out.push(Sweep { design: d, points });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job of 4,096 nodes of 8 GPUs with one node failure class (AIReSim's Table 1 sizes: 16
    /// warm standbys, a spare pool of 200, 256 days of work at 10 s steps), whole-job restart.
    fn params() -> Params {
        Params {
            preset: "test".into(),
            job_gpus: 4_096 * 8,
            gpus_per_node: 8,
            nodes_per_rack: 8,
            nodes_per_hall: 4_360,
            step_s: 10.0,
            classes: vec![FailureClass {
                name: "server".into(),
                cause: Cause::Hardware,
                scope: Scope::Node,
                rate_per_hour: 1.0 / (30.0 * 24.0 * 4_096.0),
                removes_nodes: true,
                source: "test".into(),
            }],
            lifetime: Lifetime::Exponential,
            bad_nodes: BadNodes {
                fraction: 0.0,
                multiplier: 1.0,
            },
            sdc: Sdc {
                prevalence: 0.0,
                trigger_per_hour: 0.0,
                detect_delay_s: 0.0,
            },
            maintenance: None,
            recovery: Recovery {
                detect_s: 60.0,
                diagnose_s: 60.0,
                standby_swap_s: 60.0,
                host_selection_s: 0.0,
                preemption_wait_s: 0.0,
                restart_fixed_s: 600.0,
                reinit_ref_s: 4.0,
                reinit_ref_gpus: 8_192.0,
                reinit_exponent: 0.721,
            },
            failures_while_down: true,
            repair: Repair {
                auto_s: 7_200.0,
                manual_s: 172_800.0,
                p_manual: 0.2,
                p_auto_false: 0.0,
                p_manual_false: 0.0,
            },
            checkpoint: Checkpoint::Fixed { interval_s: 10.0 },
            checkpoint_write_s: 0.0,
            checkpoint_load_s: 0.0,
            memory_load_s: 0.0,
            standby_nodes: 16,
            cold_nodes: 48,
            spare_nodes: 200,
            run: RunLength::WorkS(256.0 * 86400.0),
            seed: 1,
            containment: Containment::default(),
        }
    }

    #[test]
    fn names_round_trip_and_only_the_three_contain() {
        for d in Design::ALL {
            assert_eq!(Design::parse(d.name()), Some(d));
        }
        let contained: Vec<Design> = Design::ALL.into_iter().filter(|d| d.contained()).collect();
        assert_eq!(
            contained,
            vec![Design::HotSpare, Design::PartialRestart, Design::ElasticDp]
        );
    }

    #[test]
    fn a_contained_design_keeps_the_persistent_tier() {
        let mut p = params();
        p.checkpoint_write_s = 3.0;
        p.checkpoint = Checkpoint::Tiered {
            memory_interval_s: 120.0,
            memory_write_s: 0.1,
            persist_every: 15,
        };
        let q = with_design(&p, Design::ElasticDp);
        assert_eq!(q.checkpoint, Checkpoint::Fixed { interval_s: 1800.0 });
        assert!(q.check().is_ok());
        assert_eq!(with_design(&p, Design::InMemory).checkpoint, p.checkpoint);
    }

    #[test]
    fn compounding_and_timings() {
        // a recovery of d that starts over at rate λ: (e^{λd} − 1)/λ; d when it cannot fail
        assert!((compounded_s(1.0 / 200.0, 20.0, true) - 200.0 * (0.1f64).exp_m1()).abs() < 1e-9);
        assert_eq!(compounded_s(1.0 / 200.0, 20.0, false), 20.0);
        let mut p = params();
        p.job_gpus = 983_040;
        p.containment.replica_gpus = 8_192;
        p.containment.state_bytes = 6.48e12;
        p.containment.design = Design::HotSpare;
        let t = timings(&p);
        assert_eq!(t.replicas, 120);
        assert_eq!(t.replica_nodes, 1_024);
        // a node's shard of one replica's copy: 6.48 TB / 8,192 × 8 GPUs = 6.33 GB
        assert!((t.node_shard_bytes - 6.328e9).abs() < 1e7);
        assert!((t.downtime_s - (CONTAIN_DETECT_S + HOT_SWAP_S + t.contain_post_s)).abs() < 1e-9);
    }
}
