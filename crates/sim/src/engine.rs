//! One replica of the reliability timeline: a discrete-event simulation over node pools.
//!
//! Failures are drawn from the aggregate rate of the job's surviving population (one draw per
//! event, never a clock per GPU or node), checkpoints are handled in closed form inside each
//! training segment, and repairs sit in a calendar queue keyed by completion time (O(1) a repair).
//! The cost of a replica grows with the number of events, not with the number of GPUs; a job that
//! restarts every few minutes (the default scenario at 1M GPUs: ~31k failures a replica) has many.
//! The events and random numbers of a run do not depend on its checkpoint policy (outside the
//! elastic design), so one run can carry several policies as lanes ([`simulate_policies`]).

use crate::formulas::{daly_interval_s, gamma, inverse_normal_cdf, poisson_quantile, reinit_s};
use crate::params::*;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What the job is doing over an interval, as the power model needs it.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Computing new steps (near TDP).
    Training,
    /// Blocked on a checkpoint write (GPUs near idle).
    CheckpointWrite,
    /// Detection, diagnosis, swap, re-initialisation, checkpoint load: the job is at idle.
    Restart,
    /// Waiting for nodes to come back from repair: idle.
    WaitingForSpares,
    /// Re-computing steps lost since the last checkpoint (near TDP, no new progress).
    LostWorkRecompute,
    /// Stopped for planned maintenance.
    PlannedMaintenance,
}

/// One interval of the timeline.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Interval {
    pub start_s: f64,
    pub end_s: f64,
    pub state: JobState,
}

/// One event of the log (`--events`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Event {
    pub t_s: f64,
    /// `failure`, `interruption`, `sdc_trigger`, `restart_done`, `repair_done`, `maintenance`,
    /// `waiting`.
    pub kind: Cow<'static, str>,
    /// Failure class or cause, when there is one.
    pub what: Cow<'static, str>,
    /// Nodes involved.
    pub nodes: u64,
    pub nodes_in_repair: u64,
    pub standby_nodes: u64,
}

/// Lost wall-clock time by cause (seconds).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct LostTime {
    /// Compute discarded since the last usable checkpoint (re-done later).
    pub lost_work_s: f64,
    /// Detection, diagnosis, swaps, host selection, re-initialisation, load.
    pub restart_s: f64,
    pub waiting_for_spares_s: f64,
    pub checkpoint_write_s: f64,
    pub planned_maintenance_s: f64,
    /// Contained recoveries (hot-spare, partial-restart and elastic designs): the whole job stalls
    /// while a failure is detected and the failed node or replica is swapped, or the quorum changes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub contained_recovery_s: f64,
    /// Elastic design: training with replicas missing, counted as the missing share of the time.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub degraded_s: f64,
}

pub(crate) fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// A replica stops once this many failures came in a row without the job getting back to
/// training: a job whose failure intervals outlast its restart with probability q has such a
/// run with probability (1 − q)^N, 2·10⁻⁹ for q = 10⁻³; below that it makes no progress anyway.
pub const MAX_FAILURES_WITHOUT_TRAINING: u64 = 20_000;

/// Failures a work-length replica must see before its progress is judged: with 10⁴ failure
/// intervals behind it, a saved-work share below 10⁻³ of the wall (the share at which the run
/// would stop at 1,000× its work) is no fluctuation.
pub const MIN_FAILURES_TO_JUDGE: u64 = 10_000;

/// The most events one replica handles (failures, repairs, phase ends, maintenance): bounds a
/// replica's time to seconds whatever the scale. A year of a million-GPU job is ~10⁵ events.
pub const MAX_EVENTS: u64 = 10_000_000;

impl LostTime {
    pub fn total_s(&self) -> f64 {
        self.lost_work_s
            + self.restart_s
            + self.waiting_for_spares_s
            + self.checkpoint_write_s
            + self.planned_maintenance_s
            + self.contained_recovery_s
            + self.degraded_s
    }
}

/// The outcome of one replica.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct ReplicaResult {
    pub wall_s: f64,
    /// Useful training time kept at the end of the run.
    pub useful_s: f64,
    /// Effective training time ratio, useful / wall, in [0, 1].
    pub ettr: f64,
    /// Unexpected interruptions by cause (indexed by `Cause::index`).
    pub interruptions_by_cause: [u64; 10],
    pub unexpected_interruptions: u64,
    pub planned_interruptions: u64,
    /// Every failure event, including those while the job already waited.
    pub failures: u64,
    pub sdc_triggers: u64,
    pub lost: LostTime,
    /// Time the job's failure processes were exposed (wall minus maintenance and waiting).
    pub exposure_s: f64,
    pub mean_nodes_in_repair: f64,
    pub peak_nodes_in_repair: u64,
    pub mean_standby_nodes: f64,
    /// Fewest warm standbys left at any moment.
    pub min_standby_nodes: u64,
    /// Largest number of nodes the job waited for at once.
    pub peak_deficit_nodes: u64,
    pub checkpoint_interval_s: f64,
    /// The work target was reached (always true for wall-clock runs).
    pub completed: bool,
    /// The replica stopped early because the job could not make progress
    /// ([`MAX_FAILURES_WITHOUT_TRAINING`] failures in a row before a restart completed) or at the
    /// event budget ([`MAX_EVENTS`]); its figures are those up to the stop.
    #[serde(default, skip_serializing_if = "is_false")]
    pub stalled: bool,
    /// Replica seed.
    pub seed: u64,
    /// Failures recovered without a whole-job restart (contained designs).
    #[serde(default)]
    pub contained_recoveries: u64,
    /// Data-parallel replicas of the job and, for the elastic design, how many were out on average
    /// and at most.
    #[serde(default)]
    pub replicas: u64,
    #[serde(default)]
    pub mean_replicas_down: f64,
    #[serde(default)]
    pub peak_replicas_down: u64,
    /// Of the replicas out, those still waiting for nodes (the rest are rebuilding: restarting,
    /// re-initialising, fetching the weights), time-weighted mean; and how many rejoined.
    #[serde(default)]
    pub mean_replicas_waiting: f64,
    #[serde(default)]
    pub rejoins: u64,
}

/// Optional recordings of one replica (off in the Monte Carlo hot path).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Recording {
    pub intervals: Vec<Interval>,
    pub events: Vec<Event>,
}

/// Nodes of every pool; conserved: `job_active + standby + cold + spare + in_repair == installed`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct Pools {
    pub installed: u64,
    pub job_active: u64,
    pub standby: u64,
    pub cold: u64,
    pub spare: u64,
    pub in_repair: u64,
}

impl Pools {
    pub fn conserved(&self) -> bool {
        self.job_active + self.standby + self.cold + self.spare + self.in_repair == self.installed
    }
}

/// The seed of replica `index` of a scenario seeded `seed` (SplitMix64 of both), so replicas are
/// independent of the thread that runs them.
pub fn replica_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(index.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Training,
    /// Detection and diagnosis; then acquisition or waiting.
    RestartPre,
    Waiting,
    /// Acquisition, re-initialisation, fixed restart, load.
    RestartPost,
    Maintenance,
    /// Contained recovery, first part: detection (hot-spare, partial restart), or the whole stall
    /// while the quorum changes (elastic).
    ContainPre,
    /// Contained recovery, second part: swap, shard fetch, replica restart (hot-spare, partial).
    ContainPost,
}

/// One data-parallel replica that is out of the job (elastic design): the nodes it still lacks
/// and, once it has them all, when it is rebuilt and ready to rejoin.
#[derive(Clone, Copy, Debug, PartialEq)]
struct DownReplica {
    need: u64,
    ready: f64,
}

/// Which process produced the pending failure.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pending {
    /// Exponential: choose the class at the event from the weights.
    AnyExp,
    NodeHw {
        bad: bool,
    },
    Other,
}

/// Precomputed per-class data.
struct ClassInfo {
    rate: f64,
    /// `rate / H`: the rate per second
    per_s: f64,
    scope: Scope,
    removes: bool,
    cause: Cause,
    /// node-scoped hardware: rate per node-hour for a good node
    node_hw: bool,
}

const H: f64 = 3600.0;

/// Entries of the memo of the classes' summed weight.
const CLASS_SUM_MEMO: usize = 32;

/// One checkpoint policy's progress along a replica's run (a lane). The run's events (failures,
/// restarts, repairs, maintenance) and its random numbers do not depend on the checkpoint policy
/// outside the elastic design, so one run carries several lanes: each is what a run with its policy
/// alone would compute, bit for bit, up to the moment that lane completes or stops.
#[derive(Clone, Copy, Debug)]
struct Lane {
    tau: f64,
    w: f64,
    persist_every: u64,
    drain_s: f64,
    tiered: bool,
    /// Progress saved at the start of the training segment (in memory or on storage).
    seg_saved: f64,
    /// Progress safe on persistent storage at the segment start.
    seg_persist: f64,
    recompute_left: f64,
    /// Cycle position (compute plus writes since the last persistent checkpoint) at segment start.
    seg_off: f64,
    /// Where a pending silent corruption rolls back to.
    sdc_rollback: f64,
    /// The persistent progress at an interruption, before its segment closes (scratch).
    persisted_now: f64,
    lost_work_s: f64,
    checkpoint_write_s: f64,
    degraded_s: f64,
    done: bool,
}

impl Lane {
    fn new((tau, w, persist_every, drain_s, tiered): (f64, f64, u64, f64, bool)) -> Lane {
        Lane {
            tau,
            w,
            persist_every,
            drain_s,
            tiered,
            seg_saved: 0.0,
            seg_persist: 0.0,
            recompute_left: 0.0,
            seg_off: 0.0,
            sdc_rollback: 0.0,
            persisted_now: 0.0,
            lost_work_s: 0.0,
            checkpoint_write_s: 0.0,
            degraded_s: 0.0,
            done: false,
        }
    }

    /// (compute done, completed cycles, blocking write time spent) after `e` seconds of a segment.
    fn seg_progress(&self, e: f64) -> (f64, u64, f64) {
        if self.seg_off != 0.0 {
            let (c1, n1, w1) = self.cycle_position(self.seg_off + e);
            let (c0, n0, w0) = self.cycle_position(self.seg_off);
            return (c1 - c0, n1.saturating_sub(n0), w1 - w0);
        }
        let cyc = self.tau + self.w;
        let n = (e / cyc).floor();
        let r = e - n * cyc;
        let compute = n * self.tau + r.min(self.tau);
        let write = n * self.w + (r - self.tau).max(0.0);
        (compute, n as u64, write)
    }

    /// (compute, completed cycles, write time) from a persistent-checkpoint origin to position `x`.
    fn cycle_position(&self, x: f64) -> (f64, u64, f64) {
        let cyc = self.tau + self.w;
        let n = (x / cyc).floor();
        let r = x - n * cyc;
        (
            n * self.tau + r.min(self.tau),
            n as u64,
            n * self.w + (r - self.tau).max(0.0),
        )
    }

    /// Progress safe on persistent storage `e` seconds into the segment (`seg_rate`: progress per
    /// second of compute).
    fn seg_persisted(&self, e: f64, seg_rate: f64) -> f64 {
        if !self.tiered && (self.seg_off != 0.0 || seg_rate != 1.0) {
            let (_, n, _) = self.seg_progress(e);
            if n == 0 {
                return self.seg_persist;
            }
            let cyc = self.tau + self.w;
            let last = ((self.seg_off + e) / cyc).floor() * self.tau;
            let c0 = self.cycle_position(self.seg_off).0;
            return self.seg_saved + seg_rate * (last - c0);
        }
        if !self.tiered {
            let (_, n, _) = self.seg_progress(e);
            return self.seg_saved + n as f64 * self.tau;
        }
        let span = self.persist_every as f64 * (self.tau + self.w);
        if e < self.drain_s + span {
            return self.seg_persist;
        }
        let j = ((e - self.drain_s) / span).floor();
        self.seg_saved + j * self.persist_every as f64 * self.tau
    }

    /// Wall time for `work` seconds of compute in a fresh segment (no write after the last cycle).
    fn wall_for_work(&self, work: f64, seg_rate: f64) -> f64 {
        if work <= 0.0 {
            return 0.0;
        }
        if self.seg_off != 0.0 || seg_rate != 1.0 {
            if seg_rate <= 0.0 {
                return f64::INFINITY;
            }
            let c0 = self.cycle_position(self.seg_off).0;
            let target = c0 + work / seg_rate;
            let writes = ((target / self.tau).ceil() - 1.0).max(0.0);
            return (target + writes * self.w - self.seg_off).max(0.0);
        }
        let cycles = (work / self.tau).ceil() - 1.0;
        work + cycles.max(0.0) * self.w
    }

    /// Close the training segment `e` seconds after its start: account compute and writes.
    /// Returns the progress made and the completed cycles.
    fn close_segment(&mut self, e: f64, seg_rate: f64) -> (f64, u64) {
        let (compute, n, write) = self.seg_progress(e);
        self.checkpoint_write_s += write;
        if seg_rate != 1.0 {
            // the missing replicas' share of the compute time makes no progress
            self.degraded_s += (1.0 - seg_rate) * compute;
        }
        // recompute consumed
        self.recompute_left = (self.recompute_left - compute).max(0.0);
        if seg_rate != 1.0 {
            return (seg_rate * compute, n);
        }
        (compute, n)
    }
}

/// The checkpoint cycle of a policy under the parameters' design: (compute between checkpoints τ,
/// blocking write w, memory checkpoints per persistent one, drain time, tiered).
fn lane_policy(p: &Params, checkpoint: Checkpoint) -> (f64, f64, u64, f64, bool) {
    let j = p.job_nodes();
    let tiered;
    let (tau, w, persist_every, drain_s) = match checkpoint {
        Checkpoint::Fixed { interval_s } => {
            tiered = false;
            (interval_s, p.checkpoint_write_s, 1, 0.0)
        }
        Checkpoint::YoungDaly => {
            tiered = false;
            let rate = job_interrupt_rate_per_s(p, j);
            let mtbi = if rate > 0.0 {
                1.0 / rate
            } else {
                f64::INFINITY
            };
            (
                daly_interval_s(p.checkpoint_write_s, mtbi, p.step_s),
                p.checkpoint_write_s,
                1,
                0.0,
            )
        }
        Checkpoint::Tiered {
            memory_interval_s,
            memory_write_s,
            persist_every,
        } => {
            tiered = true;
            (
                memory_interval_s,
                memory_write_s,
                persist_every.max(1) as u64,
                p.checkpoint_write_s,
            )
        }
    };
    let design = p.containment.design;
    let (tau, w, persist_every, drain_s, tiered) = match design {
        // every-step snapshots in host memory, drained to storage at the persistent interval
        Design::InMemory => {
            let d = crate::designs::in_memory_policy_for(p, checkpoint);
            (d.0, d.1, d.2, p.checkpoint_write_s, true)
        }
        // contained designs: the persistent checkpoint only covers whole-job failures
        _ if design.contained() && matches!(checkpoint, Checkpoint::YoungDaly) => {
            let rate = crate::designs::whole_job_rate_per_s(p);
            let mtbi = if rate > 0.0 {
                1.0 / rate
            } else {
                f64::INFINITY
            };
            (
                daly_interval_s(p.checkpoint_write_s, mtbi, p.step_s),
                w,
                persist_every,
                drain_s,
                tiered,
            )
        }
        _ => (tau, w, persist_every, drain_s, tiered),
    };
    // whole steps
    let tau = (tau / p.step_s).ceil().max(1.0) * p.step_s;
    (tau, w, persist_every, drain_s, tiered)
}

struct Sim<'a> {
    p: &'a Params,
    rng: Pcg64Mcg,
    classes: Vec<ClassInfo>,
    /// The classes' summed weight outside node hardware by (job nodes, software active), for the
    /// states last seen (a few nodes either side of the full job recur from event to event):
    /// direct-mapped on the key `(nodes << 1 | software) + 1`, 0 for an empty entry.
    class_sum_memo: [(u64, f64); CLASS_SUM_MEMO],
    /// Σ node-hardware rate per good node, per second.
    node_hw_per_s: f64,
    k_bad: f64,
    j_nodes: u64,
    gpus_per_node: f64,
    // pools
    pools: Pools,
    job_bad: u64,
    standby_bad: u64,
    cold_bad: u64,
    spare_bad: u64,
    standby_target: u64,
    deficit: u64,
    job_def_gpus: u64,
    p_node_defective: f64,
    repairs: RepairQueue,
    /// Completion rates of an automatic and a manual repair, per second (infinite for none).
    repair_rates: (f64, f64),
    // time
    now: f64,
    phase: Phase,
    phase_since: f64,
    phase_end: f64,
    post_acq_s: f64,
    post_load_s: f64,
    post_after_maint: bool,
    // training segment: its start, and each lane's checkpoint policy and progress
    /// Whether the lanes' policy is tiered (the same for every lane: it sets the restart's load).
    tiered: bool,
    seg_start: f64,
    lanes: Vec<Lane>,
    // failure clock
    next_fail: f64,
    pending: Pending,
    // maintenance and SDC
    next_maint: f64,
    /// When the pending silent corruption is found (each lane holds its rollback point).
    sdc_pending: Option<f64>,
    // stats
    res: ReplicaResult,
    repair_area: f64,
    standby_area: f64,
    last_t: f64,
    rec: Option<Recording>,
    reinit_s: f64,
    // recovery design (see `designs`)
    design: Design,
    /// Swap time of a spare taken from the standby pool (hot spares for the hot-spare design).
    swap_s: f64,
    /// Progress per second of compute in this segment (the elastic design's share of replicas).
    seg_rate: f64,
    step_s: f64,
    replicas: u64,
    replica_nodes: u64,
    /// Hot-spare or partial restart after the spare is in place (comm repair, shard fetch, replica
    /// restart), and after a transient fault restarts a node's processes in place.
    contain_post_s: f64,
    transient_post_s: f64,
    /// Elastic: the stall when a replica drops out, and the rebuild of a replica once it has nodes.
    stall_s: f64,
    rebuild_s: f64,
    contain_swapped: bool,
    acq_cold: bool,
    wait_contain: bool,
    down: Vec<DownReplica>,
    down_area: f64,
    waiting_area: f64,
}

fn tkey(t: f64) -> u64 {
    t.max(0.0).to_bits()
}

/// No node (end of a bucket's list, or not known).
const NIL: u32 = u32::MAX;

/// One repair under way, in its bucket's list.
#[derive(Clone, Copy)]
struct RepairNode {
    /// Completion time's bits (they order as the times do, for times ≥ 0) and arrival number: the
    /// order repairs complete in.
    key: (u64, u64),
    /// Its bucket on the unbounded time axis, `⌊t / width⌋`.
    day: u64,
    nodes: u64,
    bad: u64,
    next: u32,
}

/// Repairs in progress, in order of completion time, then of arrival: a calendar queue (R. Brown,
/// "Calendar queues: a fast O(1) priority queue implementation for the simulation event set
/// problem", CACM 31(10), 1988). Time is cut into days of `width` seconds, day `d` kept in bucket
/// `d mod buckets`; the earliest repair is the least key of the first day, from the current one on,
/// that holds a repair. No repair completes before the one popped last (a repair ends after it
/// starts, and the clock never goes back), so the days before `today` are empty. The width and
/// the bucket count are sized from the expected flow (one completion a day, a year of two mean
/// repair times); a year with no repair makes the queue jump to its earliest day, so any sizing
/// gives the same order, only the speed depends on it.
struct RepairQueue {
    per_day: f64,
    mask: u64,
    heads: Vec<u32>,
    /// Bit `b` set when bucket `b` holds a repair.
    occupied: Vec<u64>,
    slab: Vec<RepairNode>,
    free: u32,
    len: usize,
    /// No repair under way falls on a day before this one.
    today: u64,
    /// The earliest repair, once found (`NIL`: not known).
    first: u32,
    arrivals: u64,
}

impl RepairQueue {
    /// A queue for repairs arriving at `rate_per_s` and lasting `mean_s` on average.
    fn new(rate_per_s: f64, mean_s: f64) -> RepairQueue {
        let expected = (rate_per_s * mean_s).clamp(0.0, 1e9);
        let buckets = ((2.0 * expected) as u64)
            .clamp(16, 1 << 16)
            .next_power_of_two();
        // a day holds about one completion, a year about two mean repairs
        let width = (1.0 / rate_per_s).max(2.0 * mean_s / buckets as f64);
        let per_day = if width.is_finite() && width > 0.0 {
            1.0 / width
        } else {
            1.0
        };
        RepairQueue {
            per_day,
            mask: buckets - 1,
            heads: vec![],
            occupied: vec![],
            slab: vec![],
            free: NIL,
            len: 0,
            today: 0,
            first: NIL,
            arrivals: 0,
        }
    }

    fn day(&self, t_key: u64) -> u64 {
        // saturating: an infinite time falls on the last day
        (f64::from_bits(t_key) * self.per_day) as u64
    }

    fn push(&mut self, t_key: u64, nodes: u64, bad: u64) {
        if self.heads.is_empty() {
            self.heads = vec![NIL; self.mask as usize + 1];
            self.occupied = vec![0; (self.mask as usize + 1).div_ceil(64)];
        }
        self.arrivals += 1;
        let day = self.day(t_key);
        let b = (day & self.mask) as usize;
        let node = RepairNode {
            key: (t_key, self.arrivals),
            day,
            nodes,
            bad,
            next: self.heads[b],
        };
        let slot = if self.free != NIL {
            let i = self.free;
            self.free = self.slab[i as usize].next;
            self.slab[i as usize] = node;
            i
        } else {
            self.slab.push(node);
            u32::try_from(self.slab.len() - 1).expect("fewer than 2^32 repairs at once")
        };
        self.heads[b] = slot;
        self.occupied[b / 64] |= 1 << (b % 64);
        self.len += 1;
        // a repair before the earliest known one (found ahead of the clock) is the earliest now
        self.today = self.today.min(day);
        if self.first != NIL && node.key < self.slab[self.first as usize].key {
            self.first = slot;
        }
    }

    /// The first occupied bucket from `b` on, cyclically (some bucket is occupied).
    fn next_occupied(&self, b: usize) -> usize {
        let words = self.occupied.len();
        let (w0, bit) = (b / 64, b % 64);
        let here = self.occupied[w0] & (u64::MAX << bit);
        if here != 0 {
            return w0 * 64 + here.trailing_zeros() as usize;
        }
        for k in 1..=words {
            let w = (w0 + k) % words;
            if self.occupied[w] != 0 {
                return w * 64 + self.occupied[w].trailing_zeros() as usize;
            }
        }
        unreachable!("an occupied bucket")
    }

    /// The earliest repair's slot, `NIL` when none is under way.
    fn find(&mut self) -> u32 {
        if self.first != NIL || self.len == 0 {
            return self.first;
        }
        let buckets = self.mask + 1;
        let mut days = 0;
        loop {
            // skip the empty buckets
            let b = self.today & self.mask;
            let skip = (self.next_occupied(b as usize) as u64 + buckets - b) & self.mask;
            days += skip;
            if days > self.mask {
                // a year without a repair: jump to the earliest day that holds one
                self.today = self
                    .iter()
                    .map(|n| n.day)
                    .min()
                    .expect("a repair under way");
                days = 0;
                continue;
            }
            self.today += skip;
            let mut i = self.heads[(self.today & self.mask) as usize];
            let mut best = NIL;
            while i != NIL {
                let n = &self.slab[i as usize];
                if n.day == self.today && (best == NIL || n.key < self.slab[best as usize].key) {
                    best = i;
                }
                i = n.next;
            }
            if best != NIL {
                self.first = best;
                return best;
            }
            days += 1;
            self.today += 1;
        }
    }

    /// When the next repair is done (infinity when none is under way).
    fn next_t(&mut self) -> f64 {
        match self.find() {
            NIL => f64::INFINITY,
            i => f64::from_bits(self.slab[i as usize].key.0),
        }
    }

    /// The next repair done: its (nodes, bad nodes).
    fn pop(&mut self) -> Option<(u64, u64)> {
        let i = self.find();
        if i == NIL {
            return None;
        }
        let n = self.slab[i as usize];
        let b = (n.day & self.mask) as usize;
        if self.heads[b] == i {
            self.heads[b] = n.next;
            if n.next == NIL {
                self.occupied[b / 64] &= !(1 << (b % 64));
            }
        } else {
            let mut j = self.heads[b];
            while self.slab[j as usize].next != i {
                j = self.slab[j as usize].next;
            }
            self.slab[j as usize].next = n.next;
        }
        self.slab[i as usize].next = self.free;
        self.free = i;
        self.len -= 1;
        self.first = NIL;
        Some((n.nodes, n.bad))
    }

    /// The repairs under way.
    fn iter(&self) -> impl Iterator<Item = &RepairNode> + '_ {
        let buckets = self.occupied.iter().enumerate().flat_map(|(w, &bits)| {
            std::iter::successors((bits != 0).then_some(bits), |&b| {
                let rest = b & (b - 1);
                (rest != 0).then_some(rest)
            })
            .map(move |b| w * 64 + b.trailing_zeros() as usize)
        });
        buckets.flat_map(move |b| {
            let h = self.heads[b];
            std::iter::successors((h != NIL).then_some(h), move |&i| {
                let nx = self.slab[i as usize].next;
                (nx != NIL).then_some(nx)
            })
            .map(move |i| &self.slab[i as usize])
        })
    }

    /// Nodes of each repair under way.
    fn nodes(&self) -> impl Iterator<Item = u64> + '_ {
        self.iter().map(|n| n.nodes)
    }
}

impl<'a> Sim<'a> {
    /// A replica of `p` with one lane per checkpoint policy (at least one; all tiered or none).
    fn new(p: &'a Params, checkpoints: &[Checkpoint], seed: u64, record: bool) -> Self {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let gpn = p.gpus_per_node as f64;
        let mut node_hw_per_h = 0.0;
        let classes: Vec<ClassInfo> = p
            .classes
            .iter()
            .map(|c| {
                let node_hw = c.removes_nodes && matches!(c.scope, Scope::Gpu | Scope::Node);
                if node_hw {
                    node_hw_per_h +=
                        c.rate_per_hour * if c.scope == Scope::Gpu { gpn } else { 1.0 };
                }
                ClassInfo {
                    rate: c.rate_per_hour,
                    per_s: c.rate_per_hour / H,
                    scope: c.scope,
                    removes: c.removes_nodes,
                    cause: c.cause,
                    node_hw,
                }
            })
            .collect();
        let j = p.job_nodes();
        let installed = p.installed_nodes();
        // bad nodes among all installed, spread at random over the pools (hypergeometric)
        let n_bad = (installed as f64 * p.bad_nodes.fraction).floor() as u64;
        let mut left_bad = n_bad;
        let mut left = installed;
        let mut deal = |n: u64, rng: &mut Pcg64Mcg| -> u64 {
            let b = draw_bad(rng, n, left, left_bad);
            left -= n;
            left_bad -= b;
            b
        };
        let job_bad = deal(j, &mut rng);
        let standby_bad = deal(p.standby_nodes, &mut rng);
        let cold_bad = deal(p.cold_nodes, &mut rng);
        let spare_bad = deal(p.spare_nodes, &mut rng);
        // defective (SDC) GPUs among the job's GPUs
        let p_node_def = 1.0 - (1.0 - p.sdc.prevalence).powf(gpn);
        let job_def_gpus = binomial_approx(&mut rng, p.job_gpus, p.sdc.prevalence);
        let design = p.containment.design;
        let lanes: Vec<Lane> = checkpoints
            .iter()
            .map(|&c| Lane::new(lane_policy(p, c)))
            .collect();
        let tiered = lanes[0].tiered;
        let tau = lanes[0].tau;
        let t = crate::designs::timings(p);
        let reinit = if design == Design::ElasticDp {
            // replica groups re-initialise on their own; the quorum joins them
            t.reinit_replica_s
        } else {
            reinit_s(
                p.recovery.reinit_ref_s,
                p.recovery.reinit_ref_gpus,
                p.recovery.reinit_exponent,
                p.job_gpus as f64,
            )
        };
        let mut s = Sim {
            p,
            rng,
            classes,
            class_sum_memo: [(0, 0.0); CLASS_SUM_MEMO],
            node_hw_per_s: node_hw_per_h / H,
            k_bad: p.bad_nodes.multiplier,
            j_nodes: j,
            gpus_per_node: gpn,
            pools: Pools {
                installed,
                job_active: j,
                standby: p.standby_nodes,
                cold: p.cold_nodes,
                spare: p.spare_nodes,
                in_repair: 0,
            },
            job_bad,
            standby_bad,
            cold_bad,
            spare_bad,
            standby_target: p.standby_nodes,
            deficit: 0,
            job_def_gpus,
            p_node_defective: p_node_def,
            repairs: RepairQueue::new(
                repair_arrival_rate_per_s(p),
                p.repair.auto_s + p.repair.p_manual * p.repair.manual_s,
            ),
            repair_rates: (
                if p.repair.auto_s > 0.0 {
                    1.0 / p.repair.auto_s
                } else {
                    f64::INFINITY
                },
                if p.repair.manual_s > 0.0 {
                    1.0 / p.repair.manual_s
                } else {
                    f64::INFINITY
                },
            ),
            now: 0.0,
            phase: Phase::Training,
            phase_since: 0.0,
            phase_end: f64::INFINITY,
            post_acq_s: 0.0,
            post_load_s: 0.0,
            post_after_maint: false,
            tiered,
            seg_start: 0.0,
            lanes,
            next_fail: f64::INFINITY,
            pending: Pending::AnyExp,
            next_maint: p.maintenance.map(|m| m.every_s).unwrap_or(f64::INFINITY),
            sdc_pending: None,
            res: ReplicaResult {
                seed,
                min_standby_nodes: p.standby_nodes,
                checkpoint_interval_s: tau,
                ..Default::default()
            },
            repair_area: 0.0,
            standby_area: 0.0,
            last_t: 0.0,
            rec: if record {
                Some(Recording::default())
            } else {
                None
            },
            reinit_s: reinit,
            design,
            swap_s: if design == Design::HotSpare {
                p.containment.hot_swap_s
            } else {
                p.recovery.standby_swap_s
            },
            seg_rate: 1.0,
            step_s: p.step_s,
            replicas: t.replicas,
            replica_nodes: t.replica_nodes,
            contain_post_s: t.contain_post_s,
            transient_post_s: t.transient_post_s,
            stall_s: t.stall_s,
            rebuild_s: t.rebuild_s,
            contain_swapped: false,
            acq_cold: false,
            wait_contain: false,
            down: Vec::new(),
            down_area: 0.0,
            waiting_area: 0.0,
        };
        s.res.replicas = t.replicas;
        s.draw_failure();
        s
    }

    // ---------- rates ----------

    fn software_active(&self) -> bool {
        matches!(
            self.phase,
            Phase::Training
                | Phase::RestartPre
                | Phase::RestartPost
                | Phase::ContainPre
                | Phase::ContainPost
        )
    }

    /// Weight of class `i` (events per second) in the current state.
    fn class_weight(&self, c: &ClassInfo) -> f64 {
        self.class_weight_at(c, self.pools.job_active, self.software_active())
    }

    /// Weight of a class (events per second) with `job_active` nodes in the job and the software
    /// running or not.
    fn class_weight_at(&self, c: &ClassInfo, job_active: u64, software_active: bool) -> f64 {
        let n = job_active as f64;
        let per_s = c.per_s;
        if !c.removes && !software_active {
            return 0.0;
        }
        match c.scope {
            Scope::Gpu | Scope::Node if c.node_hw => 0.0, // counted in node_hw_weight
            Scope::Gpu => per_s * n * self.gpus_per_node,
            Scope::Node | Scope::NodeTransient => per_s * n,
            Scope::Rack => per_s * n / self.p.nodes_per_rack as f64,
            Scope::Hall => per_s * n / self.p.nodes_per_hall as f64,
            Scope::Job => {
                if job_active > 0 {
                    per_s
                } else {
                    0.0
                }
            }
        }
    }

    fn node_hw_weight(&self, bad: bool) -> f64 {
        let good = (self.pools.job_active - self.job_bad) as f64;
        if bad {
            self.node_hw_per_s * self.k_bad * self.job_bad as f64
        } else {
            self.node_hw_per_s * good
        }
    }

    fn sdc_weight(&self) -> f64 {
        if self.phase == Phase::Training && self.sdc_pending.is_none() {
            self.p.sdc.trigger_per_hour / H * self.job_def_gpus as f64
        } else {
            0.0
        }
    }

    fn other_weight(&mut self) -> f64 {
        let (n, sw) = (self.pools.job_active, self.software_active());
        let key = ((n << 1) | sw as u64).wrapping_add(1);
        let slot = key as usize % CLASS_SUM_MEMO;
        let sum = match self.class_sum_memo[slot] {
            (k, v) if k == key => v,
            _ => {
                let v = self
                    .classes
                    .iter()
                    .map(|c| self.class_weight_at(c, n, sw))
                    .sum::<f64>();
                self.class_sum_memo[slot] = (key, v);
                v
            }
        };
        sum + self.sdc_weight()
    }

    fn exp(&mut self, rate: f64) -> f64 {
        if rate > 0.0 {
            let u: f64 = self.rng.gen::<f64>();
            -(1.0 - u).ln() / rate
        } else {
            f64::INFINITY
        }
    }

    /// Time to the first failure among `n` nodes each with lifetime mean `1/rate_each`.
    fn min_lifetime(&mut self, n: f64, rate_each: f64) -> f64 {
        if n <= 0.0 || rate_each <= 0.0 {
            return f64::INFINITY;
        }
        match self.p.lifetime {
            Lifetime::Exponential => self.exp(n * rate_each),
            Lifetime::Weibull { shape } => {
                // mean 1/λ ⇒ scale α = 1/(λ Γ(1+1/k)); min of n iid is Weibull(α n^(-1/k), k)
                let alpha = 1.0 / (rate_each * gamma(1.0 + 1.0 / shape));
                let u: f64 = self.rng.gen::<f64>();
                alpha * n.powf(-1.0 / shape) * (-(1.0 - u).ln()).powf(1.0 / shape)
            }
            Lifetime::Lognormal { sigma } => {
                // mean 1/λ ⇒ μ = −ln λ − σ²/2; P(min > t) = S(t)^n ⇒ F(t) = 1 − U^(1/n)
                let mu = -rate_each.ln() - sigma * sigma / 2.0;
                let u: f64 = self.rng.gen::<f64>();
                let f = -((1.0 - u).max(1e-300).ln() / n).exp_m1();
                (mu + sigma * inverse_normal_cdf(f)).exp()
            }
        }
    }

    /// Draw the next failure from the aggregate rates of the current state.
    fn draw_failure(&mut self) {
        if self.phase == Phase::Maintenance
            || (!self.p.failures_while_down && self.phase != Phase::Training)
        {
            self.next_fail = f64::INFINITY;
            return;
        }
        let other = self.other_weight();
        match self.p.lifetime {
            Lifetime::Exponential => {
                let total = other + self.node_hw_weight(false) + self.node_hw_weight(true);
                self.next_fail = self.now + self.exp(total);
                self.pending = Pending::AnyExp;
            }
            _ => {
                let good = (self.pools.job_active - self.job_bad) as f64;
                let tg = self.min_lifetime(good, self.node_hw_per_s);
                let tb = self.min_lifetime(self.job_bad as f64, self.node_hw_per_s * self.k_bad);
                let to = self.exp(other);
                let (t, pend) = if tg <= tb && tg <= to {
                    (tg, Pending::NodeHw { bad: false })
                } else if tb <= to {
                    (tb, Pending::NodeHw { bad: true })
                } else {
                    (to, Pending::Other)
                };
                self.next_fail = self.now + t;
                self.pending = pend;
            }
        }
    }

    // ---------- pools ----------

    fn take(&mut self, from: PoolId, k: u64) -> u64 {
        let (n, b) = match from {
            PoolId::Standby => (self.pools.standby, self.standby_bad),
            PoolId::Cold => (self.pools.cold, self.cold_bad),
            PoolId::Spare => (self.pools.spare, self.spare_bad),
        };
        let k = k.min(n);
        let bad = draw_bad(&mut self.rng, k, n, b);
        match from {
            PoolId::Standby => {
                self.pools.standby -= k;
                self.standby_bad -= bad;
            }
            PoolId::Cold => {
                self.pools.cold -= k;
                self.cold_bad -= bad;
            }
            PoolId::Spare => {
                self.pools.spare -= k;
                self.spare_bad -= bad;
            }
        }
        bad
    }

    fn join_job(&mut self, k: u64, bad: u64) {
        self.pools.job_active += k;
        self.job_bad += bad;
        self.deficit -= k;
        for _ in 0..k.min(64) {
            if self.rng.gen::<f64>() < self.p_node_defective {
                self.job_def_gpus += 1;
            }
        }
        if k > 64 {
            self.job_def_gpus += ((k - 64) as f64 * self.p_node_defective).round() as u64;
        }
    }

    /// Fill the deficit from standbys, idle nodes, then the spare pool; returns the time it takes.
    fn acquire(&mut self) -> f64 {
        let r = self.p.recovery;
        let mut t = 0.0;
        let k1 = self.deficit.min(self.pools.standby);
        if k1 > 0 {
            let b = self.take(PoolId::Standby, k1);
            self.join_job(k1, b);
            t += self.swap_s;
        }
        if self.deficit > 0 && (self.pools.cold > 0 || self.pools.spare > 0) {
            self.acq_cold = true;
            // host selection afresh, refilling the standbys (AIReSim's do_host_selection)
            t += r.host_selection_s;
            let k2 = self.deficit.min(self.pools.cold);
            if k2 > 0 {
                let b = self.take(PoolId::Cold, k2);
                self.join_job(k2, b);
            }
            let refill = (self.standby_target - self.pools.standby).min(self.pools.cold);
            if refill > 0 {
                let b = self.take(PoolId::Cold, refill);
                self.pools.standby += refill;
                self.standby_bad += b;
            }
            if self.deficit > 0 && self.pools.spare > 0 {
                t += r.preemption_wait_s;
                let k3 = self.deficit.min(self.pools.spare);
                let b = self.take(PoolId::Spare, k3);
                self.join_job(k3, b);
                let refill = (self.standby_target - self.pools.standby).min(self.pools.spare);
                if refill > 0 {
                    let b = self.take(PoolId::Spare, refill);
                    self.pools.standby += refill;
                    self.standby_bad += b;
                }
            }
        }
        t
    }

    /// Remove `k` job nodes (one of them bad when `first_bad`) and send them to repair.
    fn remove_to_repair(&mut self, k: u64, first_bad: Option<bool>) {
        let k = k.min(self.pools.job_active);
        if k == 0 {
            return;
        }
        let mut bad = 0;
        let mut rest = k;
        if let Some(fb) = first_bad {
            if fb && self.job_bad > 0 {
                bad += 1;
            }
            rest -= 1;
            // the chosen node is out of the draw
            let n = self.pools.job_active - 1;
            let b = self.job_bad - bad;
            bad += draw_bad(&mut self.rng, rest, n, b);
        } else {
            bad = draw_bad(&mut self.rng, k, self.pools.job_active, self.job_bad);
        }
        // defective SDC GPUs leave with their nodes
        if self.job_def_gpus > 0 {
            if k <= 64 {
                for _ in 0..k {
                    if self.rng.gen::<f64>()
                        < self.job_def_gpus as f64 / self.pools.job_active as f64
                        && self.job_def_gpus > 0
                    {
                        self.job_def_gpus -= 1;
                    }
                }
            } else {
                let frac = k as f64 / self.pools.job_active as f64;
                let lose = (self.job_def_gpus as f64 * frac).round() as u64;
                self.job_def_gpus -= lose.min(self.job_def_gpus);
            }
        }
        self.pools.job_active -= k;
        self.job_bad -= bad;
        self.deficit += k;
        self.res.peak_deficit_nodes = self.res.peak_deficit_nodes.max(self.deficit);
        self.send_to_repair(k, bad);
    }

    fn send_to_repair(&mut self, k: u64, bad: u64) {
        let rp = self.p.repair;
        let mut d = self.exp(self.repair_rates.0);
        if !d.is_finite() {
            d = 0.0;
        }
        let manual = self.rng.gen::<f64>() < rp.p_manual;
        let p_false = if manual {
            let m = self.exp(self.repair_rates.1);
            d += if m.is_finite() { m } else { 0.0 };
            rp.p_manual_false
        } else {
            rp.p_auto_false
        };
        // a successful repair cures a bad node; a false one leaves it bad (AIReSim's RepairShop)
        let still_bad = if bad > 0 {
            (0..bad).filter(|_| self.rng.gen::<f64>() < p_false).count() as u64
        } else {
            0
        };
        self.pools.in_repair += k;
        self.res.peak_nodes_in_repair = self.res.peak_nodes_in_repair.max(self.pools.in_repair);
        self.repairs.push(tkey(self.now + d), k, still_bad);
    }

    // ---------- training segment in closed form ----------

    /// Close the training segment at `now` in every lane (compute, writes, the recompute it
    /// consumed); records the segment's intervals. Returns each lane's progress and completed
    /// cycles through `each`.
    fn close_segment(&mut self, mut each: impl FnMut(&mut Lane, f64, u64)) {
        let e = self.now - self.seg_start;
        if self.rec.is_some() {
            let l = self.lanes[0];
            if l.seg_off != 0.0 {
                self.record_offset_segment(&l, e);
            } else {
                self.record_segment(&l, e);
            }
        }
        let rate = self.seg_rate;
        for l in self.lanes.iter_mut().filter(|l| !l.done) {
            let (prog, n) = l.close_segment(e, rate);
            each(l, prog, n);
        }
    }

    /// The intervals of a segment that starts `seg_off` into its checkpoint cycle.
    fn record_offset_segment(&mut self, l: &Lane, e: f64) {
        let start = self.seg_start;
        let cyc = l.tau + l.w;
        let mut pos = l.seg_off;
        let end = l.seg_off + e;
        let mut recompute = l.recompute_left;
        let mut n = (pos / cyc).floor();
        while pos < end {
            let compute_end = n * cyc + l.tau;
            let write_end = (n + 1.0) * cyc;
            if pos >= write_end {
                n += 1.0;
                continue;
            }
            let (state, until) = if pos < compute_end {
                let until = compute_end.min(end);
                if recompute > 0.0 && pos + recompute > pos {
                    let u = (pos + recompute).min(until);
                    recompute -= u - pos;
                    (JobState::LostWorkRecompute, u)
                } else {
                    (JobState::Training, until)
                }
            } else {
                (JobState::CheckpointWrite, write_end.min(end))
            };
            if until <= pos {
                n += 1.0;
                continue;
            }
            self.push_interval(start + pos - l.seg_off, start + until - l.seg_off, state);
            pos = until;
        }
    }

    fn record_segment(&mut self, l: &Lane, e: f64) {
        let start = self.seg_start;
        let cyc = l.tau + l.w;
        let mut recompute = l.recompute_left;
        let mut t = 0.0;
        while t < e {
            let cstart = t;
            let cend = (t + l.tau).min(e);
            // compute [cstart, cend): first part recompute
            if recompute > 0.0 {
                let rend = (cstart + recompute).min(cend);
                self.push_interval(start + cstart, start + rend, JobState::LostWorkRecompute);
                recompute -= rend - cstart;
                if rend < cend {
                    self.push_interval(start + rend, start + cend, JobState::Training);
                }
            } else {
                self.push_interval(start + cstart, start + cend, JobState::Training);
            }
            if cend >= e {
                break;
            }
            let wend = (cend + l.w).min(e);
            if wend > cend {
                self.push_interval(start + cend, start + wend, JobState::CheckpointWrite);
            }
            t = cstart + cyc;
        }
    }

    fn push_interval(&mut self, start_s: f64, end_s: f64, state: JobState) {
        if let Some(rec) = &mut self.rec {
            if end_s <= start_s {
                return;
            }
            if let Some(last) = rec.intervals.last_mut() {
                if last.state == state && (last.end_s - start_s).abs() < 1e-9 {
                    last.end_s = end_s;
                    return;
                }
            }
            rec.intervals.push(Interval {
                start_s,
                end_s,
                state,
            });
        }
    }

    /// Log an event (when recording) whose cause is named by the model.
    #[inline]
    fn log(&mut self, kind: &'static str, what: &'static str, nodes: u64) {
        if self.rec.is_some() {
            self.log_event(kind, Cow::Borrowed(what), nodes);
        }
    }

    /// Log an event (when recording) of a failure class.
    #[inline]
    fn log_class(&mut self, kind: &'static str, class: &str, nodes: u64) {
        if self.rec.is_some() {
            self.log_event(kind, Cow::Owned(class.to_owned()), nodes);
        }
    }

    fn log_event(&mut self, kind: &'static str, what: Cow<'static, str>, nodes: u64) {
        let (t_s, nodes_in_repair, standby_nodes) =
            (self.now, self.pools.in_repair, self.pools.standby);
        if let Some(rec) = &mut self.rec {
            rec.events.push(Event {
                t_s,
                kind: Cow::Borrowed(kind),
                what,
                nodes,
                nodes_in_repair,
                standby_nodes,
            });
        }
    }

    // ---------- phase changes ----------

    fn leave_phase(&mut self) {
        let d = self.now - self.phase_since;
        match self.phase {
            Phase::Training => {}
            Phase::RestartPre | Phase::RestartPost => {
                self.res.lost.restart_s += d;
                self.push_interval(self.phase_since, self.now, JobState::Restart);
            }
            Phase::Waiting => {
                self.res.lost.waiting_for_spares_s += d;
                self.push_interval(self.phase_since, self.now, JobState::WaitingForSpares);
            }
            Phase::ContainPre | Phase::ContainPost => {
                self.res.lost.contained_recovery_s += d;
                self.push_interval(self.phase_since, self.now, JobState::Restart);
            }
            Phase::Maintenance => {
                // the blocking checkpoint before maintenance, then the hold
                let w = self.p.checkpoint_write_s.min(d);
                for l in self.lanes.iter_mut() {
                    l.checkpoint_write_s += w;
                }
                self.res.lost.planned_maintenance_s += d - w;
                self.push_interval(
                    self.phase_since,
                    self.phase_since + w,
                    JobState::CheckpointWrite,
                );
                self.push_interval(self.phase_since + w, self.now, JobState::PlannedMaintenance);
            }
        }
        if self.phase != Phase::Maintenance && self.phase != Phase::Waiting {
            // exposure excludes maintenance and waiting
        }
        match self.phase {
            Phase::Maintenance | Phase::Waiting => {}
            _ => self.res.exposure_s += d,
        }
    }

    fn enter(&mut self, phase: Phase, end: f64) {
        self.leave_phase();
        self.phase = phase;
        self.phase_since = self.now;
        self.phase_end = end;
        if phase == Phase::Training {
            self.seg_start = self.now;
            if self.design == Design::ElasticDp {
                // replicas rebuilt meanwhile join as training resumes
                let now = self.now;
                let before = self.down.len();
                self.down.retain(|d| d.ready > now);
                self.res.rejoins += (before - self.down.len()) as u64;
                self.seg_rate =
                    (self.replicas - self.down.len() as u64) as f64 / self.replicas as f64;
            }
        }
        self.draw_failure();
    }

    /// Start the recovery chain after an interruption at `now`.
    fn start_restart(&mut self, load_s: f64) {
        let r = self.p.recovery;
        // a whole-job restart resumes from a checkpoint, at the origin of its cycle
        for l in self.lanes.iter_mut() {
            l.seg_off = 0.0;
        }
        self.post_load_s = load_s;
        self.post_after_maint = false;
        self.enter(Phase::RestartPre, self.now + r.detect_s + r.diagnose_s);
    }

    fn post_duration(&self) -> f64 {
        let r = self.p.recovery;
        self.post_acq_s + self.reinit_s + r.restart_fixed_s + self.post_load_s
    }

    /// End of detection/diagnosis: acquire nodes or wait.
    fn after_pre(&mut self) {
        self.post_acq_s = if self.deficit > 0 {
            self.acquire()
        } else {
            0.0
        };
        if self.design == Design::ElasticDp {
            // an elastic job restarts with the replicas it has; the others rebuild meanwhile
            let t = self.post_acq_s;
            self.assign_to_down(t);
            let end = self.now + self.post_duration();
            self.enter(Phase::RestartPost, end);
            return;
        }
        if self.deficit > 0 {
            self.log("waiting", "spares", self.deficit);
            self.enter(Phase::Waiting, f64::INFINITY);
        } else {
            let end = self.now + self.post_duration();
            self.enter(Phase::RestartPost, end);
        }
    }

    // ---------- contained recoveries (hot-spare, partial restart, elastic) ----------

    /// Close the training segment at a contained failure: the step in flight is discarded (its
    /// progress is lost), the rest stays in the peers' memory. Sets each lane's progress kept and
    /// the cycle position the next segment starts at.
    fn close_contained(&mut self, discard_step: bool) {
        let e = self.now - self.seg_start;
        let rate = self.seg_rate;
        for l in self.lanes.iter_mut() {
            l.seg_persist = l.seg_persisted(e, rate);
        }
        let step_s = self.step_s;
        self.close_segment(|l, prog, _| {
            let reached = l.seg_saved + prog;
            let cyc = l.tau + l.w;
            let pos = l.seg_off + e;
            let mut r = pos - (pos / cyc).floor() * cyc;
            if cyc - r < 1e-9 * cyc.max(1.0) {
                r = 0.0;
            }
            let (partial, off) = if r < l.tau {
                let k = (r / step_s).floor();
                let mut part = r - k * step_s;
                let mut boundary = k * step_s;
                // within rounding of the next boundary: the step is complete
                if step_s - part < 1e-9 * step_s.max(1.0) {
                    part = 0.0;
                    boundary += step_s;
                }
                if discard_step {
                    (part, boundary)
                } else {
                    (0.0, r)
                }
            } else {
                // in a blocking write: no step in flight; the write is redone
                (0.0, l.tau)
            };
            let lost = (rate * partial).min(prog.max(0.0));
            l.lost_work_s += lost;
            l.recompute_left += lost;
            l.seg_off = if off >= cyc { 0.0 } else { off };
            l.seg_saved = reached - lost;
        });
    }

    /// One more replica out (elastic), lacking `need` nodes; when every replica is already out, the
    /// nodes are charged to the last one.
    fn push_down(&mut self, need: u64) {
        if (self.down.len() as u64) < self.replicas {
            self.down.push(DownReplica {
                need,
                ready: f64::INFINITY,
            });
        } else if let Some(d) = self.down.last_mut() {
            d.need += need;
            d.ready = f64::INFINITY;
        }
        self.res.peak_replicas_down = self.res.peak_replicas_down.max(self.down.len() as u64);
    }

    /// Present nodes of the replicas that are out (elastic).
    fn down_present_nodes(&self) -> u64 {
        self.down
            .iter()
            .map(|d| self.replica_nodes.saturating_sub(d.need))
            .sum()
    }

    /// Attribute `k` failed nodes to replicas (elastic), before they leave the job. Returns true
    /// when a running replica dropped out.
    fn assign_failure(&mut self, k: u64) -> bool {
        let active = self.pools.job_active.max(1) as f64;
        let present = self.down_present_nodes() as f64;
        if !self.down.is_empty() && self.rng.gen::<f64>() * active < present {
            // a node of a replica that is already out
            let i = self.rng.gen_range(0..self.down.len());
            self.down[i].need += k;
            self.down[i].ready = f64::INFINITY;
            return false;
        }
        let mut k = k;
        while k > 0 {
            let chunk = k.min(self.replica_nodes.max(1));
            self.push_down(chunk);
            k -= chunk;
        }
        true
    }

    /// Remove `k` nodes; in the elastic design, charge them to replicas.
    fn remove_nodes(&mut self, k: u64, first_bad: Option<bool>) -> bool {
        let k = k.min(self.pools.job_active);
        let dropped = if self.design == Design::ElasticDp && k > 0 {
            self.assign_failure(k)
        } else {
            false
        };
        self.remove_to_repair(k, first_bad);
        dropped
    }

    /// Nodes that joined the job (the deficit went down by `filled`) go to the replicas that lack
    /// them, in order; a replica with all its nodes is rebuilt `acq_s + rebuild` later.
    fn assign_to_down(&mut self, acq_s: f64) {
        let mut lacking: u64 = self.down.iter().map(|d| d.need).sum();
        let mut filled = lacking.saturating_sub(self.deficit);
        let ready = self.now + acq_s + self.rebuild_s;
        for d in self.down.iter_mut() {
            if d.need > 0 && filled > 0 {
                let take = d.need.min(filled);
                d.need -= take;
                filled -= take;
                lacking -= take;
                if d.need == 0 {
                    d.ready = ready;
                }
            } else if d.need == 0 && !d.ready.is_finite() {
                d.ready = ready;
            }
        }
        let _ = lacking;
    }

    /// A failure while training that the design contains.
    fn contain(&mut self, cause: Cause, name: &str, blast: u64, first_bad: Option<bool>) {
        if self.design == Design::ElasticDp {
            let blast = blast.min(self.pools.job_active);
            let dropped = if blast > 0 {
                self.assign_failure(blast)
            } else {
                // a transient fault restarts its replica's processes in place
                let present = self.down_present_nodes() as f64;
                if !self.down.is_empty()
                    && self.rng.gen::<f64>() * (self.pools.job_active.max(1) as f64) < present
                {
                    false
                } else {
                    self.push_down(0);
                    true
                }
            };
            self.remove_to_repair(blast, first_bad);
            if !dropped {
                // the node was in a replica that is already out: training goes on
                self.log_class("failure", name, blast);
                self.draw_failure();
                return;
            }
        }
        self.res.unexpected_interruptions += 1;
        self.res.interruptions_by_cause[cause.index()] += 1;
        self.res.contained_recoveries += 1;
        self.log_class("interruption", name, blast);
        self.close_contained(true);
        match self.design {
            Design::ElasticDp => {
                self.enter(Phase::ContainPre, self.now + self.stall_s);
            }
            _ => {
                self.remove_to_repair(blast, first_bad);
                self.contain_swapped = blast > 0;
                self.acq_cold = false;
                self.enter(Phase::ContainPre, self.now + self.p.containment.detect_s);
            }
        }
    }

    /// A further failure during a contained recovery.
    fn contain_again(&mut self, cause: Cause, name: &str, blast: u64, first_bad: Option<bool>) {
        self.res.unexpected_interruptions += 1;
        self.res.interruptions_by_cause[cause.index()] += 1;
        self.log_class("interruption", name, blast);
        match self.design {
            Design::ElasticDp => {
                if blast > 0 {
                    self.remove_nodes(blast, first_bad);
                } else if (self.down.len() as u64) < self.replicas {
                    self.push_down(0);
                }
                self.enter(Phase::ContainPre, self.now + self.stall_s);
            }
            _ => {
                self.remove_to_repair(blast, first_bad);
                self.contain_swapped |= blast > 0;
                self.enter(Phase::ContainPre, self.now + self.p.containment.detect_s);
            }
        }
    }

    /// A whole-job failure (software, hall, SDC) during a contained recovery: the state held in the
    /// peers' memory is gone with the processes; roll back to the persistent checkpoint.
    fn escalate(&mut self, cause: Cause, name: &str, blast: u64, first_bad: Option<bool>) {
        self.res.unexpected_interruptions += 1;
        self.res.interruptions_by_cause[cause.index()] += 1;
        self.log_class("interruption", name, blast);
        for l in self.lanes.iter_mut() {
            let lost = (l.seg_saved - l.seg_persist).max(0.0);
            l.lost_work_s += lost;
            l.recompute_left += lost;
            l.seg_saved = l.seg_persist;
        }
        self.remove_nodes(blast, first_bad);
        self.wait_contain = false;
        self.start_restart(self.p.checkpoint_load_s);
    }

    /// The time after the spare is in place: the design's post-swap work, or a process restart in
    /// place when no node was swapped; a spare that was not hot starts the processes first.
    fn contain_post(&self) -> f64 {
        if !self.contain_swapped {
            return self.transient_post_s;
        }
        let cold = if self.design == Design::HotSpare && self.acq_cold {
            self.p.recovery.restart_fixed_s
        } else {
            0.0
        };
        self.contain_post_s + cold
    }

    /// End of a contained recovery's first part.
    fn after_contain_pre(&mut self) {
        match self.design {
            Design::ElasticDp => {
                if self.deficit > 0 {
                    let t = self.acquire();
                    self.assign_to_down(t);
                } else {
                    self.assign_to_down(0.0);
                }
                self.enter(Phase::Training, f64::INFINITY);
            }
            _ => {
                let acq = if self.deficit > 0 {
                    self.acquire()
                } else {
                    0.0
                };
                if self.deficit > 0 {
                    self.log("waiting", "spares", self.deficit);
                    self.wait_contain = true;
                    self.enter(Phase::Waiting, f64::INFINITY);
                } else {
                    let end = self.now + acq + self.contain_post();
                    self.enter(Phase::ContainPost, end);
                }
            }
        }
    }

    /// Elastic: the wall time at which rebuilt replicas join (the next step boundary while the
    /// job trains), or infinity.
    fn rejoin_time(&self) -> f64 {
        if self.design != Design::ElasticDp || self.phase != Phase::Training {
            return f64::INFINITY;
        }
        let r = self
            .down
            .iter()
            .map(|d| d.ready)
            .fold(f64::INFINITY, f64::min);
        if !r.is_finite() {
            return r;
        }
        // the elastic design runs one lane: its rejoins depend on the checkpoint cycle
        let l = &self.lanes[0];
        let t = r.max(self.now);
        let cyc = l.tau + l.w;
        let pos = l.seg_off + (t - self.seg_start);
        let x = pos - (pos / cyc).floor() * cyc;
        if x < l.tau {
            let part = x - (x / self.step_s).floor() * self.step_s;
            if part < 1e-9 * self.step_s.max(1.0) {
                t
            } else {
                t + (self.step_s - part)
            }
        } else {
            t + (cyc - x)
        }
    }

    /// Elastic: rebuilt replicas join at a step boundary; the job stalls while the quorum changes.
    fn on_rejoin(&mut self) {
        self.close_contained(false);
        let now = self.now;
        let before = self.down.len();
        self.down.retain(|d| d.ready > now);
        let joined = (before - self.down.len()) as u64;
        self.res.rejoins += joined;
        self.log("rejoin", "replica", joined * self.replica_nodes);
        self.enter(
            Phase::ContainPre,
            self.now + self.p.containment.reconfigure_s,
        );
    }

    /// Which class fired, given the pending draw.
    fn pick_class(&mut self) -> Option<(usize, Option<bool>)> {
        // returns (class index or usize::MAX for SDC, first_bad)
        let pend = self.pending;
        let (hw_good, hw_bad) = match pend {
            Pending::AnyExp => (self.node_hw_weight(false), self.node_hw_weight(true)),
            Pending::NodeHw { bad } => {
                if bad {
                    (0.0, 1.0)
                } else {
                    (1.0, 0.0)
                }
            }
            Pending::Other => (0.0, 0.0),
        };
        let other = if matches!(pend, Pending::NodeHw { .. }) {
            0.0
        } else {
            self.other_weight()
        };
        let total = hw_good + hw_bad + other;
        if !(total > 0.0) {
            return None;
        }
        let mut x = self.rng.gen::<f64>() * total;
        if x < hw_good + hw_bad {
            let bad = x >= hw_good;
            // node hardware: pick the class by its share of the node rate
            let mut y = self.rng.gen::<f64>() * self.node_hw_per_s * H;
            let mut last = None;
            for (i, c) in self.classes.iter().enumerate() {
                if c.node_hw {
                    let wgt = c.rate
                        * if c.scope == Scope::Gpu {
                            self.gpus_per_node
                        } else {
                            1.0
                        };
                    last = Some(i);
                    if y < wgt {
                        return Some((i, Some(bad)));
                    }
                    y -= wgt;
                }
            }
            return last.map(|i| (i, Some(bad)));
        }
        x -= hw_good + hw_bad;
        let mut last = None;
        for (i, c) in self.classes.iter().enumerate() {
            let wgt = self.class_weight(c);
            if wgt > 0.0 {
                last = Some(i);
                if x < wgt {
                    return Some((i, None));
                }
                x -= wgt;
            }
        }
        if self.sdc_weight() > 0.0 {
            return Some((usize::MAX, None));
        }
        last.map(|i| (i, None))
    }

    fn on_failure(&mut self) {
        let Some((ci, first_bad)) = self.pick_class() else {
            self.draw_failure();
            return;
        };
        if ci == usize::MAX {
            // an SDC trigger: corruption begins now; found detect_delay later
            self.res.sdc_triggers += 1;
            let training = self.phase == Phase::Training;
            let (e, rate) = (self.now - self.seg_start, self.seg_rate);
            for l in self.lanes.iter_mut() {
                l.sdc_rollback = if training {
                    l.seg_persisted(e, rate)
                } else {
                    l.seg_persist
                };
            }
            self.sdc_pending = Some(self.now + self.p.sdc.detect_delay_s);
            self.log("sdc_trigger", "sdc", 1);
            self.draw_failure();
            return;
        }
        let c = &self.classes[ci];
        let (cause, scope, removes) = (c.cause, c.scope, c.removes);
        let params: &'a Params = self.p;
        let name: &'a str = &params.classes[ci].name;
        self.res.failures += 1;
        let blast = if removes {
            match scope {
                Scope::Gpu | Scope::Node => 1,
                Scope::Rack => self.p.nodes_per_rack as u64,
                Scope::Hall => self.p.nodes_per_hall,
                Scope::Job | Scope::NodeTransient => 0,
            }
        } else {
            0
        };
        let memory_ok = scope != Scope::Hall;
        let contained = self.design.contained()
            && matches!(
                scope,
                Scope::Gpu | Scope::Node | Scope::Rack | Scope::NodeTransient
            )
            && (self.design != Design::ElasticDp || blast <= self.replica_nodes);
        match self.phase {
            Phase::ContainPre | Phase::ContainPost => {
                if contained {
                    self.contain_again(cause, name, blast, first_bad);
                } else {
                    self.escalate(cause, name, blast, first_bad);
                }
            }
            Phase::Training if contained => {
                self.contain(cause, name, blast, first_bad);
            }
            Phase::Waiting if self.design == Design::ElasticDp => {
                self.log_class("failure", name, blast);
                self.remove_nodes(blast, first_bad);
                self.draw_failure();
            }
            Phase::Waiting => {
                // idle nodes of the waiting job fail: more to wait for, no new interruption
                self.log_class("failure", name, blast);
                self.remove_to_repair(blast, first_bad);
                self.draw_failure();
            }
            Phase::Maintenance => {
                self.draw_failure();
            }
            Phase::Training => {
                self.interrupt(cause, name, blast, first_bad, memory_ok);
            }
            Phase::RestartPre | Phase::RestartPost
                if contained && self.design == Design::ElasticDp =>
            {
                // each replica group restarts on its own: a node failure drops only its replica
                self.log_class("failure", name, blast);
                if blast > 0 {
                    self.remove_nodes(blast, first_bad);
                } else if (self.down.len() as u64) < self.replicas {
                    self.push_down(0);
                }
                self.draw_failure();
            }
            Phase::RestartPre | Phase::RestartPost => {
                // the restart starts over
                self.res.unexpected_interruptions += 1;
                self.res.interruptions_by_cause[cause.index()] += 1;
                self.log_class("interruption", name, blast);
                self.remove_nodes(blast, first_bad);
                let load = self.post_load_s;
                self.start_restart(load);
            }
        }
    }

    /// An interruption while training: roll back, send nodes to repair, start the recovery chain.
    fn interrupt(
        &mut self,
        cause: Cause,
        name: &str,
        blast: u64,
        first_bad: Option<bool>,
        memory_ok: bool,
    ) {
        self.res.unexpected_interruptions += 1;
        self.res.interruptions_by_cause[cause.index()] += 1;
        self.log_class("interruption", name, blast);
        let e = self.now - self.seg_start;
        let rate = self.seg_rate;
        for l in self.lanes.iter_mut() {
            // the persistent checkpoint reached, before the segment closes
            l.persisted_now = l.seg_persisted(e, rate);
        }
        self.close_segment(|l, compute, n| {
            let persisted = l.persisted_now;
            let reached = l.seg_saved + compute;
            let restore = if l.tiered && memory_ok {
                l.seg_saved + n as f64 * l.tau
            } else {
                persisted
            };
            let lost = (reached - restore).max(0.0);
            l.lost_work_s += lost;
            l.recompute_left += lost;
            l.seg_saved = restore;
            l.seg_persist = persisted;
        });
        let load = if self.tiered && memory_ok {
            self.p.memory_load_s
        } else {
            self.p.checkpoint_load_s
        };
        self.remove_nodes(blast, first_bad);
        self.start_restart(load);
    }

    fn on_sdc_detect(&mut self) {
        self.sdc_pending = None;
        self.res.unexpected_interruptions += 1;
        self.res.interruptions_by_cause[Cause::Sdc.index()] += 1;
        self.res.failures += 1;
        self.log("interruption", "sdc", 1);
        self.close_segment(|l, compute, _| {
            let reached = l.seg_saved + compute;
            let target = l.sdc_rollback.min(reached);
            let lost = reached - target;
            l.lost_work_s += lost;
            l.recompute_left += lost;
            l.seg_saved = target;
            l.seg_persist = target;
        });
        if self.job_def_gpus > 0 {
            self.job_def_gpus -= 1;
        }
        // the defective node is drained and repaired
        self.remove_nodes(1, None);
        self.start_restart(self.p.checkpoint_load_s);
    }

    fn on_maintenance(&mut self) {
        let m = self.p.maintenance.unwrap_or(Maintenance {
            every_s: f64::INFINITY,
            duration_s: 0.0,
        });
        self.next_maint = self.now + m.every_s;
        if self.phase != Phase::Training {
            // absorbed: the job is already down
            return;
        }
        self.res.planned_interruptions += 1;
        self.res.interruptions_by_cause[Cause::PlannedMaintenance.index()] += 1;
        self.log("maintenance", "planned", 0);
        // a final checkpoint: nothing is lost, and the next segment starts a fresh cycle
        self.close_segment(|l, compute, _| {
            l.seg_saved += compute;
            l.seg_persist = l.seg_saved;
            l.seg_off = 0.0;
            l.recompute_left = 0.0;
        });
        let end = self.now + self.p.checkpoint_write_s + m.duration_s;
        self.post_after_maint = true;
        self.enter(Phase::Maintenance, end);
    }

    fn on_repair_done(&mut self, k: u64, bad: u64) {
        self.pools.in_repair -= k;
        self.log("repair_done", "repair", k);
        let k0 = k;
        let mut k = k;
        let mut bad = bad;
        let elastic = self.design == Design::ElasticDp;
        if self.deficit > 0
            && (elastic
                || matches!(
                    self.phase,
                    Phase::Waiting | Phase::RestartPre | Phase::ContainPre
                ))
        {
            let j = k.min(self.deficit);
            let jb = bad.min(j);
            self.join_job(j, jb);
            k -= j;
            bad -= jb;
            if elastic {
                let t = self.swap_s;
                self.assign_to_down(t);
            } else if self.deficit == 0 && self.phase == Phase::Waiting && self.wait_contain {
                // a repaired node is not hot: it starts the job's processes first
                self.wait_contain = false;
                self.acq_cold = true;
                let end = self.now + self.swap_s + self.contain_post();
                self.enter(Phase::ContainPost, end);
            } else if self.deficit == 0 && self.phase == Phase::Waiting {
                self.post_acq_s = self.p.recovery.standby_swap_s;
                let end = self.now + self.post_duration();
                self.enter(Phase::RestartPost, end);
            }
        }
        if k < k0 {
            self.draw_failure();
        }
        if k > 0 {
            let s = k.min(self.standby_target.saturating_sub(self.pools.standby));
            let sb = bad.min(s);
            self.pools.standby += s;
            self.standby_bad += sb;
            self.pools.cold += k - s;
            self.cold_bad += bad - sb;
        }
    }

    fn on_phase_end(&mut self) {
        match self.phase {
            Phase::RestartPre => self.after_pre(),
            Phase::ContainPre => self.after_contain_pre(),
            Phase::ContainPost => {
                self.log("restart_done", "contained", 0);
                self.enter(Phase::Training, f64::INFINITY);
            }
            Phase::RestartPost => {
                self.log("restart_done", "", 0);
                self.enter(Phase::Training, f64::INFINITY);
            }
            Phase::Maintenance => {
                // restart without detection or diagnosis
                self.post_acq_s = 0.0;
                self.post_load_s = self.p.checkpoint_load_s;
                let end = self.now + self.post_duration();
                self.enter(Phase::RestartPost, end);
            }
            _ => {}
        }
    }

    fn advance_to(&mut self, t: f64) {
        let dt = t - self.last_t;
        if dt > 0.0 {
            self.repair_area += dt * self.pools.in_repair as f64;
            self.standby_area += dt * self.pools.standby as f64;
            if !self.down.is_empty() {
                self.down_area += dt * self.down.len() as f64;
                let waiting = self.down.iter().filter(|d| d.need > 0).count();
                self.waiting_area += dt * waiting as f64;
            }
        }
        self.last_t = t;
        self.now = t;
        self.res.min_standby_nodes = self.res.min_standby_nodes.min(self.pools.standby);
    }

    fn run(self) -> (ReplicaResult, Option<Recording>) {
        let (mut rs, rec) = self.run_with(|_, _| {});
        (rs.swap_remove(0), rec)
    }

    /// Lane `li`'s result, its run stopped at `t`: completed, at the wall-clock limit, or stalled
    /// (then at the current time, with no advance). The run is closed there on the lane alone, and
    /// the shared state put back for the lanes that go on.
    fn finish_lane(&mut self, li: usize, t: f64, completed: bool, stalled: bool) -> ReplicaResult {
        let work_target = match self.p.run {
            RunLength::WallS(_) => f64::INFINITY,
            RunLength::WorkS(w) => w,
        };
        let saved = (
            self.res.clone(),
            self.repair_area,
            self.standby_area,
            self.down_area,
            self.waiting_area,
            self.last_t,
            self.now,
        );
        let lanes = std::mem::take(&mut self.lanes);
        self.lanes.push(lanes[li]);
        if !stalled {
            self.advance_to(t);
        }
        // close the run
        let mut useful = self.lanes[0].seg_saved;
        if self.phase == Phase::Training {
            self.close_segment(|_, compute, _| useful += compute);
        } else {
            self.leave_phase();
        }
        if self.phase == Phase::Training {
            self.res.exposure_s += self.now - self.phase_since;
        }
        let l = self.lanes[0];
        let wall = self.now;
        let mut res = self.res.clone();
        res.lost.lost_work_s = l.lost_work_s;
        res.lost.checkpoint_write_s = l.checkpoint_write_s;
        res.lost.degraded_s = l.degraded_s;
        res.checkpoint_interval_s = l.tau;
        res.wall_s = wall;
        res.useful_s = useful.max(0.0);
        res.ettr = if wall > 0.0 {
            (res.useful_s / wall).clamp(0.0, 1.0)
        } else {
            0.0
        };
        res.completed = completed || (work_target.is_infinite() && !stalled);
        res.stalled = stalled;
        // time averages over the wall (`empty`: what they are for a run of no time)
        let mean = |area: f64, empty: f64| if wall > 0.0 { area / wall } else { empty };
        res.mean_nodes_in_repair = mean(self.repair_area, 0.0);
        res.mean_standby_nodes = mean(self.standby_area, self.p.standby_nodes as f64);
        res.mean_replicas_down = mean(self.down_area, 0.0);
        res.mean_replicas_waiting = mean(self.waiting_area, 0.0);
        // put the shared state back
        (
            self.res,
            self.repair_area,
            self.standby_area,
            self.down_area,
            self.waiting_area,
            self.last_t,
            self.now,
        ) = saved;
        self.lanes = lanes;
        self.lanes[li].done = true;
        res
    }

    /// The event loop; `after_event` sees the state after every event and the event's time
    /// (the property tests check the pools there, on this very loop). Returns each lane's result,
    /// in lane order, and the recording.
    fn run_with(
        mut self,
        mut after_event: impl FnMut(&Sim<'a>, f64),
    ) -> (Vec<ReplicaResult>, Option<Recording>) {
        let (wall_limit, work_target) = match self.p.run {
            RunLength::WallS(t) => (t, f64::INFINITY),
            // a job that cannot finish stops at 1,000× its work
            RunLength::WorkS(w) => (w * 1000.0, w),
        };
        let mut results: Vec<Option<ReplicaResult>> = vec![None; self.lanes.len()];
        let mut running = self.lanes.len();
        let mut events = 0u64;
        let mut failures_in_a_row = 0u64;
        'run: loop {
            if self.phase == Phase::Training {
                failures_in_a_row = 0;
            }
            let out_of_budget =
                events >= MAX_EVENTS || failures_in_a_row >= MAX_FAILURES_WITHOUT_TRAINING;
            for (li, result) in results.iter_mut().enumerate() {
                if self.lanes[li].done {
                    continue;
                }
                // no progress: the work so far, over the wall so far, is below the share at which
                // the run would stop at 1,000× its work anyway (judged once enough failures are
                // seen)
                let hopeless = work_target.is_finite()
                    && self.res.failures >= MIN_FAILURES_TO_JUDGE
                    && self.lanes[li].seg_saved < self.now * 1e-3;
                if out_of_budget || hopeless {
                    *result = Some(self.finish_lane(li, self.now, false, true));
                    running -= 1;
                }
            }
            if running == 0 {
                break;
            }
            events += 1;
            let repair_t = self.repairs.next_t();
            let training = self.phase == Phase::Training;
            let maint_t = self.next_maint;
            let sdc_t = match self.sdc_pending {
                Some(t) if training => t.max(self.now),
                _ => f64::INFINITY,
            };
            let phase_t = self.phase_end;
            let fail_t = self.next_fail;
            let rejoin_t = self.rejoin_time();
            let event_t = maint_t
                .min(sdc_t)
                .min(phase_t)
                .min(fail_t)
                .min(repair_t)
                .min(rejoin_t);
            // lanes that reach their work or the wall-clock limit before the next event
            for (li, result) in results.iter_mut().enumerate() {
                if self.lanes[li].done {
                    continue;
                }
                let done_t = if training && work_target.is_finite() {
                    let l = &self.lanes[li];
                    self.seg_start + l.wall_for_work(work_target - l.seg_saved, self.seg_rate)
                } else {
                    f64::INFINITY
                };
                let t = wall_limit.min(done_t).min(event_t);
                if t >= wall_limit || t == done_t {
                    let completed = t < wall_limit;
                    *result = Some(self.finish_lane(li, t, completed, false));
                    running -= 1;
                }
            }
            if running == 0 {
                break 'run;
            }
            let t = event_t;
            self.advance_to(t);
            if t == rejoin_t
                && t < repair_t
                && t < phase_t
                && t < sdc_t
                && t < maint_t
                && t < fail_t
            {
                self.on_rejoin();
                after_event(&self, t);
                continue;
            }
            if t == repair_t {
                if let Some((k, bad)) = self.repairs.pop() {
                    self.on_repair_done(k, bad);
                }
            } else if t == phase_t {
                self.on_phase_end();
            } else if t == sdc_t {
                self.on_sdc_detect();
            } else if t == maint_t {
                self.on_maintenance();
            } else if t == fail_t {
                self.on_failure();
                failures_in_a_row += 1;
            }
            after_event(&self, t);
        }
        let _ = self.j_nodes;
        let rs = results
            .into_iter()
            .map(|r| r.expect("every lane finishes"))
            .collect();
        (rs, self.rec)
    }
}

#[derive(Clone, Copy)]
enum PoolId {
    Standby,
    Cold,
    Spare,
}

/// Bad nodes among `k` drawn without replacement from `n` holding `bad` (hypergeometric; exact
/// sequential draws for small k, mean with random rounding above).
fn draw_bad(rng: &mut Pcg64Mcg, k: u64, n: u64, bad: u64) -> u64 {
    if k == 0 || bad == 0 || n == 0 {
        return 0;
    }
    if k >= n {
        return bad;
    }
    if k <= 32 {
        let (mut n, mut b, mut got) = (n, bad, 0);
        for _ in 0..k {
            if rng.gen::<f64>() * (n as f64) < b as f64 {
                b -= 1;
                got += 1;
            }
            n -= 1;
        }
        got
    } else {
        let mean = k as f64 * bad as f64 / n as f64;
        let base = mean.floor();
        let extra = if rng.gen::<f64>() < mean - base {
            1.0
        } else {
            0.0
        };
        ((base + extra) as u64).min(bad).min(k)
    }
}

/// Binomial(n, p) by its normal approximation above 10⁴ trials, exact below.
fn binomial_approx(rng: &mut Pcg64Mcg, n: u64, p: f64) -> u64 {
    if p <= 0.0 || n == 0 {
        return 0;
    }
    let mean = n as f64 * p;
    if n <= 10_000 {
        return (0..n).filter(|_| rng.gen::<f64>() < p).count() as u64;
    }
    let sd = (mean * (1.0 - p)).sqrt();
    let z = inverse_normal_cdf(rng.gen::<f64>().clamp(1e-12, 1.0 - 1e-12));
    (mean + z * sd).round().max(0.0) as u64
}

/// The job's initial unexpected interruption rate (per second): hardware, software, SDC triggers.
pub fn job_interrupt_rate_per_s(p: &Params, job_nodes: u64) -> f64 {
    let n = job_nodes as f64;
    let gpn = p.gpus_per_node as f64;
    let k = 1.0 + p.bad_nodes.fraction * (p.bad_nodes.multiplier - 1.0);
    let mut r = 0.0;
    for c in &p.classes {
        let node_hw = c.removes_nodes && matches!(c.scope, Scope::Gpu | Scope::Node);
        let per_s = c.rate_per_hour / H;
        let v = match c.scope {
            Scope::Gpu => per_s * n * gpn,
            Scope::Node | Scope::NodeTransient => per_s * n,
            Scope::Rack => per_s * n / p.nodes_per_rack as f64,
            Scope::Hall => per_s * n / p.nodes_per_hall as f64,
            Scope::Job => per_s,
        };
        r += if node_hw { v * k } else { v };
    }
    r + p.sdc.trigger_per_hour / H * p.sdc.prevalence * p.job_gpus as f64
}

/// ByteRobust's warm-standby rule: the P99 of simultaneous failures (SOSP'25, S).
pub const STANDBY_QUANTILE: f64 = 0.99;

/// Rate at which the job sends nodes to repair (nodes per second), blast radius included.
pub fn node_removal_rate_per_s(p: &Params) -> f64 {
    let n = p.job_nodes() as f64;
    let gpn = p.gpus_per_node as f64;
    let k = 1.0 + p.bad_nodes.fraction * (p.bad_nodes.multiplier - 1.0);
    let mut r = 0.0;
    for c in p.classes.iter().filter(|c| c.removes_nodes) {
        let per_s = c.rate_per_hour / 3600.0;
        r += match c.scope {
            Scope::Gpu => per_s * n * gpn * k,
            Scope::Node => per_s * n * k,
            Scope::Rack => per_s * n / p.nodes_per_rack as f64 * p.nodes_per_rack as f64,
            Scope::Hall => per_s * n,
            Scope::Job | Scope::NodeTransient => 0.0,
        };
    }
    r
}

/// Rate at which the job sends repairs off (one per failure that removes nodes, whatever its
/// blast radius; SDC detections included), per second: it sizes the repair queue.
fn repair_arrival_rate_per_s(p: &Params) -> f64 {
    let n = p.job_nodes() as f64;
    let gpn = p.gpus_per_node as f64;
    let k = 1.0 + p.bad_nodes.fraction * (p.bad_nodes.multiplier - 1.0);
    let mut r = p.sdc.trigger_per_hour / H * p.sdc.prevalence * p.job_gpus as f64;
    for c in p.classes.iter().filter(|c| c.removes_nodes) {
        let per_s = c.rate_per_hour / H;
        r += match c.scope {
            Scope::Gpu => per_s * n * gpn * k,
            Scope::Node => per_s * n * k,
            Scope::Rack => per_s * n / p.nodes_per_rack as f64,
            Scope::Hall => per_s * n / p.nodes_per_hall as f64,
            Scope::Job | Scope::NodeTransient => 0.0,
        };
    }
    r
}

/// Warm standbys by ByteRobust's rule: the P99 of the Poisson number of nodes in repair, with mean
/// (node removal rate) × (mean repair time = auto + p_manual × manual).
pub fn auto_standby_nodes(p: &Params) -> u64 {
    let mean_repair = p.repair.auto_s + p.repair.p_manual * p.repair.manual_s;
    poisson_quantile(node_removal_rate_per_s(p) * mean_repair, STANDBY_QUANTILE)
}

/// Run one replica with seed `seed`; `record` keeps the interval timeline and the event log.
pub fn simulate_replica(p: &Params, seed: u64, record: bool) -> (ReplicaResult, Option<Recording>) {
    Sim::new(p, &[p.checkpoint], seed, record).run()
}

/// Whether one run can carry every policy of `checkpoints` as lanes: the run's events do not
/// depend on the checkpoint policy (every design but the elastic one, whose replicas rejoin at the
/// checkpoint cycle's step boundaries), and the policies agree on being tiered (a tiered restart
/// loads from host memory).
pub fn policies_share_a_run(p: &Params, checkpoints: &[Checkpoint]) -> bool {
    let tiered = |c: &Checkpoint| lane_policy(p, *c).4;
    p.containment.design != Design::ElasticDp
        && checkpoints
            .first()
            .is_some_and(|c0| checkpoints.iter().all(|c| tiered(c) == tiered(c0)))
}

/// Replica `seed` of `p` under each checkpoint policy of `checkpoints`: element `i` is
/// `simulate_replica(&Params { checkpoint: checkpoints[i], ..p.clone() }, seed, false).0`, bit for
/// bit. Where [`policies_share_a_run`], one run carries them all (its failures, restarts and
/// repairs are the same whatever the policy; only the progress and the moment the work is done
/// differ), at the cost of the longest; otherwise each runs alone.
pub fn simulate_policies(p: &Params, checkpoints: &[Checkpoint], seed: u64) -> Vec<ReplicaResult> {
    if checkpoints.is_empty() {
        return vec![];
    }
    if policies_share_a_run(p, checkpoints) {
        return Sim::new(p, checkpoints, seed, false).run_with(|_, _| {}).0;
    }
    checkpoints
        .iter()
        .map(|&c| {
            let q = Params {
                checkpoint: c,
                ..p.clone()
            };
            simulate_replica(&q, seed, false).0
        })
        .collect()
}

/// A replica with a pool check after every event of the run loop itself (for property tests):
/// returns the result and whether the node pools (and so the GPUs on them) stayed conserved and
/// time never went backwards.
pub fn simulate_checked(p: &Params, seed: u64) -> (ReplicaResult, bool, bool) {
    let mut ok_pools = true;
    let mut ok_time = true;
    let mut last = 0.0;
    let gpn = p.gpus_per_node.max(1) as u64;
    let mut check = |s: &Sim<'_>, t: f64| {
        if t < last {
            ok_time = false;
        }
        last = t;
        let repair_sum: u64 = s.repairs.nodes().sum();
        let down_need: u64 = s.down.iter().map(|d| d.need).sum();
        // GPUs: the job's nodes in service plus its deficit hold the job's GPUs
        let job_gpus_held = (s.pools.job_active + s.deficit) * gpn;
        if !s.pools.conserved()
            || repair_sum != s.pools.in_repair
            || s.pools.job_active + s.deficit != s.j_nodes
            || job_gpus_held < p.job_gpus
            || job_gpus_held >= p.job_gpus + gpn
            || s.job_bad > s.pools.job_active
            || (s.design == Design::ElasticDp && down_need != s.deficit)
            || s.down.len() as u64 > s.replicas
        {
            if ok_pools && std::env::var("SIM_DEBUG").is_ok() {
                eprintln!(
                    "t {} phase {:?} pools {:?} conserved {} repair_sum {} deficit {} j {} job_bad {} down {} need {} replicas {}",
                    s.now, s.phase, s.pools, s.pools.conserved(), repair_sum, s.deficit, s.j_nodes, s.job_bad, s.down.len(), down_need, s.replicas
                );
            }
            ok_pools = false;
        }
    };
    let (mut res, _) = Sim::new(p, &[p.checkpoint], seed, false).run_with(&mut check);
    (res.swap_remove(0), ok_pools, ok_time)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The calendar queue pops repairs in (time, arrival) order, as a sorted map does, whatever its
    /// sizing: well sized, days far too short or too long, ties, zero-length and endless repairs.
    #[test]
    fn repair_queue_pops_in_time_then_arrival_order() {
        let mut rng = Pcg64Mcg::seed_from_u64(5);
        for (rate, mean) in [
            (1e-2, 3600.0),
            (1e3, 3600.0),
            (1e-9, 1.0),
            (0.0, 0.0),
            (5.0, 1e6),
        ] {
            let mut q = RepairQueue::new(rate, mean);
            let mut reference: BTreeMap<(u64, u64), (u64, u64)> = BTreeMap::new();
            let mut now = 0.0f64;
            let mut arrivals = 0u64;
            for step in 0..20_000u64 {
                assert_eq!(q.len, reference.len());
                if rng.gen::<f64>() < 0.5 || reference.is_empty() {
                    let d = match rng.gen_range(0..10) {
                        0 => 0.0,
                        1 => f64::INFINITY,
                        2 => 1.0, // ties
                        _ => -(1.0 - rng.gen::<f64>()).ln() * 3600.0,
                    };
                    arrivals += 1;
                    let key = tkey(now + d);
                    q.push(key, step, step % 3);
                    reference.insert((key, arrivals), (step, step % 3));
                } else {
                    // look ahead first now and then, as the event loop does
                    if step % 3 == 0 {
                        let (&(k, _), _) = reference.iter().next().unwrap();
                        assert_eq!(q.next_t().to_bits(), k);
                    }
                    let (&(k, a), &v) = reference.iter().next().unwrap();
                    reference.remove(&(k, a));
                    assert_eq!(q.pop(), Some(v));
                    let t = f64::from_bits(k);
                    if t.is_finite() {
                        now = t;
                    }
                }
                assert_eq!(q.nodes().count(), reference.len());
            }
            while let Some((&key, &v)) = reference.iter().next() {
                reference.remove(&key);
                assert_eq!(q.pop(), Some(v));
            }
            assert_eq!(q.pop(), None);
            assert_eq!(q.next_t(), f64::INFINITY);
        }
    }
}
