//! The plain-data parameters of one reliability simulation. Every time is in seconds, every rate in
//! events per element-hour, every size in bytes. Nothing here reads files or the catalogue.

use serde::{Deserialize, Serialize};

/// What one failure event is counted against and what it takes out.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Rate per GPU-hour; the failure takes out the GPU's node.
    Gpu,
    /// Rate per node-hour; takes out the node.
    Node,
    /// Rate per rack-hour (a ToR switch and its cables); takes out the rack's nodes.
    Rack,
    /// Rate per hall-hour (a power or cooling domain); takes out the hall's nodes.
    Hall,
    /// Rate per job-hour, independent of the job's size (software, dependencies).
    Job,
    /// Rate per node-hour but nothing is removed: a software or transient fault whose chance
    /// grows with the number of processes (fitted to Kokolis et al. job MTTF versus size).
    NodeTransient,
}

/// Why the job was interrupted; lost time and interruptions are reported per cause.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Gpu,
    /// Hardware not attributed to a component (a node-level infrastructure rate).
    Hardware,
    Host,
    Network,
    Power,
    Software,
    UnplannedMaintenance,
    Unknown,
    Sdc,
    PlannedMaintenance,
}

impl Cause {
    pub const ALL: [Cause; 10] = [
        Cause::Gpu,
        Cause::Hardware,
        Cause::Host,
        Cause::Network,
        Cause::Power,
        Cause::Software,
        Cause::UnplannedMaintenance,
        Cause::Unknown,
        Cause::Sdc,
        Cause::PlannedMaintenance,
    ];
    pub fn index(self) -> usize {
        self as usize
    }
    /// snake_case name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Cause::Gpu => "gpu",
            Cause::Hardware => "hardware",
            Cause::Host => "host",
            Cause::Network => "network",
            Cause::Power => "power",
            Cause::Software => "software",
            Cause::UnplannedMaintenance => "unplanned_maintenance",
            Cause::Unknown => "unknown",
            Cause::Sdc => "sdc",
            Cause::PlannedMaintenance => "planned_maintenance",
        }
    }
}

/// One failure process of a component class.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct FailureClass {
    /// kebab-case name, e.g. `faulty-gpu`; overridable by name in `[reliability] rates`.
    pub name: String,
    pub cause: Cause,
    pub scope: Scope,
    /// Failures per element-hour (element = GPU, node, rack, hall or job as `scope` says).
    pub rate_per_hour: f64,
    /// Whether the failed element's nodes go to the repair pipeline (hardware) or come straight
    /// back after the restart (software, transient).
    pub removes_nodes: bool,
    /// Where the figure comes from (paper, table, grade).
    pub source: String,
}

/// Lifetime distribution of node hardware, with the mean set by the class rates.
/// The clock of every node restarts when the job (re)starts, as in AIReSim's coordinator, so the
/// time to the first of N failures is sampled exactly, in O(1), from the minimum of N lifetimes.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Lifetime {
    Exponential,
    /// Weibull with shape k (k < 1 infant mortality, k > 1 wear-out).
    Weibull {
        shape: f64,
    },
    /// Lognormal with σ of the log.
    Lognormal {
        sigma: f64,
    },
}

/// A fraction of nodes that fail `multiplier` times as often (lemon nodes, AIReSim's
/// "systematically bad" servers). A successful repair cures one.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct BadNodes {
    pub fraction: f64,
    pub multiplier: f64,
}

/// Silent data corruption as latent defective GPUs: a prevalence of defective devices, each
/// corrupting at a trigger rate; corruption is found `detect_delay_s` later and the job rolls back to
/// the last persistent checkpoint written before it.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Sdc {
    /// Fraction of GPUs that are defective.
    pub prevalence: f64,
    /// Corruption events per defective GPU-hour.
    pub trigger_per_hour: f64,
    pub detect_delay_s: f64,
}

/// Planned maintenance: a checkpoint, then the job stops for `duration_s`, then restarts.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Maintenance {
    pub every_s: f64,
    pub duration_s: f64,
}

/// The recovery chain after an interruption.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Recovery {
    pub detect_s: f64,
    pub diagnose_s: f64,
    /// Swapping in a warm standby that already holds the job's environment.
    pub standby_swap_s: f64,
    /// Selecting hosts afresh from idle nodes of the working pool (AIReSim host selection).
    pub host_selection_s: f64,
    /// Preempting other work from nodes of the spare pool.
    pub preemption_wait_s: f64,
    /// Fixed part of a restart: process launch, model build, data loader (and AIReSim's lumped
    /// recovery time).
    pub restart_fixed_s: f64,
    /// Re-initialisation of the communicators at the job size: `reinit_ref_s × (gpus /
    /// reinit_ref_gpus)^reinit_exponent` (see `checkpoint::reinit_s`).
    pub reinit_ref_s: f64,
    pub reinit_ref_gpus: f64,
    pub reinit_exponent: f64,
}

/// The repair pipeline: automatic repair, escalation to manual, and false repairs.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Repair {
    /// Mean of the (exponential) automatic repair time.
    pub auto_s: f64,
    pub manual_s: f64,
    /// Probability that automatic repair escalates to manual.
    pub p_manual: f64,
    /// Probability that an automatic repair reports success without fixing a bad node.
    pub p_auto_false: f64,
    pub p_manual_false: f64,
}

/// A checkpoint policy with its resolved costs.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Checkpoint {
    /// A blocking persistent checkpoint every `interval_s` of training.
    Fixed { interval_s: f64 },
    /// Daly's optimum for the job's initial failure rate and the write time.
    YoungDaly,
    /// In-memory snapshots every `memory_interval_s` (blocking `memory_write_s`), and every
    /// `persist_every`-th snapshot drained asynchronously to storage (takes the storage write time).
    Tiered {
        memory_interval_s: f64,
        memory_write_s: f64,
        persist_every: u32,
    },
}

/// How long the run lasts.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum RunLength {
    /// A fixed wall-clock window (Llama 3's 54-day snapshot).
    WallS(f64),
    /// Until this much useful training is done (AIReSim's job length).
    WorkS(f64),
}

/// How the job recovers from a failure that takes out part of it (`[reliability] recovery`).
/// Whole-job failures (software bugs of the job, a hall's power, silent data corruption) restart
/// the whole job in every design; the designs differ in what a node, rack or transient failure costs.
#[derive(
    Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "kebab-case")]
pub enum Design {
    /// Whole-job checkpoint/restart: every process restarts and reloads the last checkpoint.
    #[default]
    Restart,
    /// Hot spares: a spare already running the job's processes takes the failed node's place and
    /// fetches its shard from a data-parallel peer; the rest of the job waits but does not restart.
    HotSpare,
    /// Only the failed data-parallel replica restarts (on a warm standby) and fetches its state from
    /// a peer replica; the other replicas pause at the next synchronisation.
    PartialRestart,
    /// Elastic data parallelism: the failed replica is dropped, the others go on with a smaller
    /// global batch, and it rejoins once rebuilt (TorchFT-style fault-tolerant HSDP).
    ElasticDp,
    /// Every-step in-memory checkpoints to host memory and peers; a failure still restarts the whole
    /// job, but from the last step, loaded from memory.
    InMemory,
}

impl Design {
    pub const ALL: [Design; 5] = [
        Design::Restart,
        Design::HotSpare,
        Design::PartialRestart,
        Design::ElasticDp,
        Design::InMemory,
    ];
    /// kebab-case name, as in `[reliability] recovery`.
    pub fn name(self) -> &'static str {
        match self {
            Design::Restart => "restart",
            Design::HotSpare => "hot-spare",
            Design::PartialRestart => "partial-restart",
            Design::ElasticDp => "elastic-dp",
            Design::InMemory => "in-memory",
        }
    }
    pub fn parse(name: &str) -> Option<Design> {
        Design::ALL.into_iter().find(|d| d.name() == name)
    }
    /// Whether a node failure is contained (the job does not restart).
    pub fn contained(self) -> bool {
        matches!(
            self,
            Design::HotSpare | Design::PartialRestart | Design::ElasticDp
        )
    }
}

/// The recovery design and the parameters the designs other than `restart` use. Every time is in
/// seconds, sizes in bytes, bandwidths in bytes per second.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Containment {
    pub design: Design,
    /// GPUs of one data-parallel replica (the model-parallel group, tp·pp·cp·ep); the job holds
    /// `job_gpus / replica_gpus` replicas. 0 means one replica of the whole job.
    pub replica_gpus: u64,
    /// Failure detection before a contained recovery starts (the collective stalls meanwhile).
    pub detect_s: f64,
    /// Swapping a hot spare into the failed node's place (hot-spare design).
    pub hot_swap_s: f64,
    /// Rebuilding the cross-replica quorum and communicators when a replica leaves or rejoins
    /// (elastic design).
    pub reconfigure_s: f64,
    /// Bandwidth a node fetches its shard from a peer with.
    pub peer_bytes_per_s: f64,
    /// The whole training state (weights, gradients, optimizer), for shard sizes and memory costs.
    pub state_bytes: f64,
    /// In-memory design: a snapshot every this many steps.
    pub snapshot_every_steps: u32,
    /// In-memory design: blocking time of one snapshot (device-to-host copy not hidden).
    pub snapshot_block_s: f64,
    /// In-memory design: copies of each node's snapshot held in other nodes' host memory.
    pub peer_copies: u32,
}

impl Default for Containment {
    fn default() -> Self {
        crate::designs::default_containment()
    }
}

/// Everything one replica needs. Plain data; `check` validates it.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Params {
    /// Name of the preset the failure classes came from.
    pub preset: String,
    pub job_gpus: u64,
    pub gpus_per_node: u32,
    /// Nodes per ToR switch (rack-scope blast radius).
    pub nodes_per_rack: u32,
    /// Nodes per hall (hall-scope blast radius).
    pub nodes_per_hall: u64,
    pub step_s: f64,
    pub classes: Vec<FailureClass>,
    pub lifetime: Lifetime,
    pub bad_nodes: BadNodes,
    pub sdc: Sdc,
    pub maintenance: Option<Maintenance>,
    pub recovery: Recovery,
    /// Whether the job's nodes and software can fail while it restarts or waits (true: the
    /// physical view). AIReSim draws failures only while the job computes (false).
    pub failures_while_down: bool,
    pub repair: Repair,
    pub checkpoint: Checkpoint,
    /// Blocking write of a persistent checkpoint (state / storage bandwidth + fixed overhead).
    pub checkpoint_write_s: f64,
    /// Load of a checkpoint at restart.
    pub checkpoint_load_s: f64,
    /// Load from peer memory after an in-memory (tiered) restore.
    pub memory_load_s: f64,
    /// Warm standby nodes held by the job.
    pub standby_nodes: u64,
    /// Idle nodes of the working pool (host selection needed to use them).
    pub cold_nodes: u64,
    /// Nodes of the spare pool (preemption needed to use them).
    pub spare_nodes: u64,
    pub run: RunLength,
    pub seed: u64,
    /// The recovery design and its parameters (`restart` unless the scenario chooses another).
    #[serde(default)]
    pub containment: Containment,
}

/// A parameter that fails validation: the field (dotted, as in `[reliability]`) and why.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for ParamError {}

pub(crate) fn perr(field: &str, message: String) -> ParamError {
    ParamError {
        field: field.to_string(),
        message,
    }
}

pub(crate) fn non_negative(field: &str, v: f64, what: &str) -> Result<(), ParamError> {
    if v >= 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(perr(
            field,
            format!("{what} must be a finite number not below zero, got {v}"),
        ))
    }
}

pub(crate) fn positive(field: &str, v: f64, what: &str) -> Result<(), ParamError> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(perr(
            field,
            format!("{what} must be greater than zero, got {v}"),
        ))
    }
}

fn probability(field: &str, v: f64, what: &str) -> Result<(), ParamError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(perr(
            field,
            format!("{what} is a probability and must lie in [0, 1], got {v}"),
        ))
    }
}

impl Params {
    /// Nodes the job runs on.
    pub fn job_nodes(&self) -> u64 {
        self.job_gpus.div_ceil(self.gpus_per_node.max(1) as u64)
    }

    /// Every node the simulation tracks: job + standbys + idle + spare pool.
    pub fn installed_nodes(&self) -> u64 {
        self.job_nodes() + self.standby_nodes + self.cold_nodes + self.spare_nodes
    }

    /// Validate every field; the error names the `[reliability]` field.
    pub fn check(&self) -> Result<(), ParamError> {
        if self.job_gpus == 0 {
            return Err(perr("job_gpus", "the job needs at least one GPU".into()));
        }
        if self.gpus_per_node == 0 || self.nodes_per_rack == 0 || self.nodes_per_hall == 0 {
            return Err(perr(
                "gpus_per_node",
                "GPUs per node, nodes per rack and nodes per hall must be at least 1".into(),
            ));
        }
        positive("step_time", self.step_s, "step time")?;
        for c in &self.classes {
            non_negative(
                &format!("rates.{}", c.name),
                c.rate_per_hour,
                "a failure rate",
            )?;
        }
        match self.lifetime {
            Lifetime::Exponential => {}
            Lifetime::Weibull { shape } => positive("lifetime.weibull", shape, "Weibull shape")?,
            Lifetime::Lognormal { sigma } => {
                positive("lifetime.lognormal", sigma, "lognormal sigma")?
            }
        }
        probability(
            "bad_nodes.fraction",
            self.bad_nodes.fraction,
            "bad-node fraction",
        )?;
        if !(self.bad_nodes.multiplier >= 1.0 && self.bad_nodes.multiplier.is_finite()) {
            return Err(perr(
                "bad_nodes.multiplier",
                format!(
                    "bad nodes fail k times as often, k must be at least 1, got {}",
                    self.bad_nodes.multiplier
                ),
            ));
        }
        probability("sdc.prevalence", self.sdc.prevalence, "SDC prevalence")?;
        non_negative("sdc.trigger", self.sdc.trigger_per_hour, "SDC trigger rate")?;
        non_negative("sdc.detect", self.sdc.detect_delay_s, "SDC detection delay")?;
        if let Some(m) = self.maintenance {
            positive("maintenance.every", m.every_s, "maintenance interval")?;
            non_negative("maintenance.duration", m.duration_s, "maintenance duration")?;
        }
        let r = &self.recovery;
        for (f, v) in [
            ("restart.detect", r.detect_s),
            ("restart.diagnose", r.diagnose_s),
            ("restart.standby_swap", r.standby_swap_s),
            ("restart.host_selection", r.host_selection_s),
            ("restart.preemption_wait", r.preemption_wait_s),
            ("restart.fixed", r.restart_fixed_s),
            ("restart.reinit", r.reinit_ref_s),
            ("restart.reinit_exponent", r.reinit_exponent),
        ] {
            non_negative(f, v, "a restart time")?;
        }
        positive("restart.reinit_gpus", r.reinit_ref_gpus, "reference GPUs")?;
        non_negative("repair.auto", self.repair.auto_s, "automatic repair time")?;
        non_negative("repair.manual", self.repair.manual_s, "manual repair time")?;
        probability("repair.p_manual", self.repair.p_manual, "p_manual")?;
        probability(
            "repair.p_auto_false",
            self.repair.p_auto_false,
            "p_auto_false",
        )?;
        probability(
            "repair.p_manual_false",
            self.repair.p_manual_false,
            "p_manual_false",
        )?;
        non_negative(
            "checkpoint",
            self.checkpoint_write_s,
            "checkpoint write time",
        )?;
        non_negative("checkpoint", self.checkpoint_load_s, "checkpoint load time")?;
        non_negative("checkpoint", self.memory_load_s, "memory load time")?;
        match self.checkpoint {
            Checkpoint::Fixed { interval_s } => {
                positive("checkpoint", interval_s, "checkpoint interval")?;
                if interval_s < self.checkpoint_write_s {
                    return Err(perr(
                        "checkpoint",
                        format!(
                            "checkpoint interval {interval_s:.1} s is shorter than its write time {:.1} s",
                            self.checkpoint_write_s
                        ),
                    ));
                }
            }
            Checkpoint::YoungDaly => {}
            Checkpoint::Tiered {
                memory_interval_s,
                memory_write_s,
                persist_every,
            } => {
                positive("checkpoint.memory", memory_interval_s, "memory interval")?;
                non_negative("checkpoint.memory_write", memory_write_s, "memory write")?;
                if memory_interval_s < memory_write_s {
                    return Err(perr(
                        "checkpoint.memory",
                        format!("in-memory checkpoint interval {memory_interval_s:.1} s is shorter than its write time {memory_write_s:.1} s"),
                    ));
                }
                if persist_every == 0 {
                    return Err(perr(
                        "checkpoint.persistent",
                        "the persistent interval must be at least the memory interval".into(),
                    ));
                }
                let persist_span = memory_interval_s * persist_every as f64;
                if persist_span < self.checkpoint_write_s {
                    return Err(perr(
                        "checkpoint.persistent",
                        format!("persistent checkpoint interval {persist_span:.1} s is shorter than its write time {:.1} s", self.checkpoint_write_s),
                    ));
                }
            }
        }
        crate::designs::check_containment(self)?;
        match self.run {
            RunLength::WallS(v) => positive("length", v, "run length")?,
            RunLength::WorkS(v) => positive("work", v, "work")?,
        }
        // Keep one replica's work bounded: at most ~10^7 node-failure events.
        let nodes = self.installed_nodes();
        if nodes as f64 > 1e8 {
            // name the part that makes the total too large: the halls' nodes (the job's and the idle
            // installed ones), the warm standbys (`spares`) or the spare pool (`spare_pool`)
            let job = self.job_nodes() + self.cold_nodes;
            let field = if self.spare_nodes > job.max(self.standby_nodes) {
                "spare_pool"
            } else if self.standby_nodes > job {
                "spares"
            } else {
                "job_gpus"
            };
            return Err(perr(
                field,
                format!(
                    "{nodes} nodes ({job} in the halls, {} warm standbys, {} in the spare pool) is beyond what the simulator is meant for (10^8)",
                    self.standby_nodes, self.spare_nodes
                ),
            ));
        }
        Ok(())
    }
}
