//! megacluster's reliability timeline: failures, checkpoints, spares, repair and planned
//! maintenance for one synchronous training job, as a Monte Carlo of discrete-event replicas.
//!
//! Architecture invariant: deterministic for a seed, whatever the thread count; the cost of a
//! replica grows with its number of events, never with the number of GPUs (failures are drawn from
//! the aggregate rate of the surviving population). Pure functions of plain data: the failure
//! presets are catalogue data (`spec`), bound to an [`Input`] by the `pipeline` crate.
//!
//! Entry points: [`Input`] (plain data in SI units) → [`params()`] ([`Params`], checked) →
//! [`engine::simulate_replica`] (one replica, optionally with its [`engine::Interval`] timeline
//! for the power model) and [`monte::run`] (replicas in parallel and their summary;
//! [`monte::run_with_recommendation`] with the checkpoint and standby recommendation in the same
//! pass). The recovery design ([`Design`]: whole-job restart, hot spares, partial restart,
//! elastic data parallelism, every-step in-memory checkpoints) is part of the input;
//! [`designs::compare`] runs several side by side, [`designs::sweep`] over GPU counts, and
//! [`designs::domain_goodput`] gives one failure domain's closed-form goodput.

pub mod designs;
pub mod engine;
pub mod formulas;
pub mod input;
pub mod monte;
pub mod params;

pub use engine::{simulate_replica, Interval, JobState, Recording, ReplicaResult};
pub use input::{params, timeline, CheckpointPolicy, Failures, Input, Run, Standby};
pub use monte::{run, Summary};
pub use params::{Containment, Design, ParamError, Params};
