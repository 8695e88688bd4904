//! megacluster's reliability timeline: failures, checkpoints, spares, repair and planned
//! maintenance for one synchronous training job, as a Monte Carlo of discrete-event replicas.
//!
//! Architecture invariant: deterministic for a seed, whatever the thread count; the cost of a
//! replica grows with its number of events, never with the number of GPUs (failures are drawn from
//! the aggregate rate of the surviving population).
//!
//! Entry points: [`params::Params`] (plain data), [`presets::preset`], [`from_scenario`] (a
//! `spec::Scenario` → `Params`), [`engine::simulate_replica`] (one replica, optionally with its
//! [`engine::Interval`] timeline for the power model), [`monte::run`] (replicas in parallel and
//! their summary).

pub mod designs;
pub mod engine;
pub mod formulas;
pub mod monte;
pub mod params;
pub mod presets;
pub mod scenario;

pub use engine::{simulate_replica, Interval, JobState, Recording, ReplicaResult};
pub use monte::{run, Summary};
pub use params::{Containment, Design, ParamError, Params};
pub use scenario::{from_scenario, timeline};
