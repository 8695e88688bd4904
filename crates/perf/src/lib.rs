//! The training step model of megacluster: per-layer FLOPs and bytes of dense and MoE
//! transformers (MHA, GQA, MLA), compute time against calibrated matmul ceilings, memory-bound
//! work against HBM bandwidth, α–β collectives on a hierarchy of network levels, pipeline
//! schedules, memory per GPU, and a parallel search over layouts.
//!
//! Architecture invariant: pure functions of plain data; [`step::evaluate`] allocates nothing
//! and takes about a microsecond; the search is deterministic whatever the thread count.
//!
//! Public API for the other models:
//! - [`step::evaluate`] (compact [`Eval`]) and [`step::profile`] ([`StepProfile`]: ordered
//!   [`Phase`]s with `duration_s` and `activity`, MFU, HFU, tokens/s, memory),
//! - [`search::search`] (top-k layouts).
//!
//! The scenario binding (scenario → [`Workload`], [`Cluster`], optional fixed [`Config`]) lives in
//! the `pipeline` crate.
//!
//! The multi-site work appends levels to [`Cluster::fabric`]`.levels`; the power model reads
//! [`StepProfile::phases`].

pub mod calib;
pub mod fabric;
pub mod model;
pub mod search;
pub mod step;

pub use fabric::{Fabric, Group, Level};
pub use model::Model;
pub use search::{search, BatchPolicy, Candidate, Objective, SearchResult, Space};
pub use step::{
    evaluate, profile, Cluster, Config, Eval, Hardware, Invalid, Memory, Overlap, Phase, Software,
    StepProfile, Workload,
};
