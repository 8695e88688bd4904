//! The training step model of megacluster: per-layer FLOPs and bytes of dense and MoE
//! transformers (MHA, GQA, MLA), compute time against calibrated matmul ceilings, memory-bound
//! work against HBM bandwidth, α–β collectives on a hierarchy of network levels, pipeline
//! schedules, memory per GPU, and a parallel search over layouts.
//!
//! Architecture invariant: pure functions of plain data; [`step::evaluate`] allocates nothing
//! and takes about a microsecond; the search is deterministic whatever the thread count.
//!
//! Public API for the other models:
//! - [`setup::setup`] (scenario → [`Workload`], [`Cluster`], optional fixed [`Config`]),
//! - [`step::evaluate`] (compact [`Eval`]) and [`step::profile`] ([`StepProfile`]: ordered
//!   [`Phase`]s with `duration_s` and `activity`, MFU, HFU, tokens/s, memory),
//! - [`search::search`] (top-k layouts),
//! - [`best_profile`]: the fixed layout's profile, or the best the search finds for `"auto"`.
//!
//! The multi-site work appends levels to [`Cluster::fabric`]`.levels`; the power model reads
//! [`StepProfile::phases`].

pub mod calib;
pub mod fabric;
pub mod model;
pub mod search;
pub mod setup;
pub mod step;

pub use fabric::{Fabric, Group, Level};
pub use model::Model;
pub use search::{search, BatchPolicy, Candidate, Objective, SearchResult, Space};
pub use setup::{setup, Setup, SetupError};
pub use step::{
    evaluate, profile, Cluster, Config, Eval, Hardware, Invalid, Memory, Overlap, Phase, Software,
    StepProfile, Workload,
};

/// The step profile a scenario's job runs with: its fixed layout (checked, errors name the
/// field), or for `parallelism = "auto"` the fastest layout that fits (the global batch rounded
/// to the nearest multiple of dp × microbatch). `Ok(None)` when no layout is valid.
pub fn best_profile(
    s: &Setup,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Option<(StepProfile, Workload, Option<SearchResult>)>, SetupError> {
    match &s.fixed {
        Some(cfg) => {
            let p = profile(&s.workload, &s.cluster, cfg)?;
            Ok(Some((p, s.workload.clone(), None)))
        }
        None => {
            let mut sp = Space::new(&s.cluster);
            sp.top_k = 5;
            let r = search(&s.workload, &s.cluster, &sp, progress);
            let Some(best) = r.top.first() else {
                return Ok(None);
            };
            let mut w = s.workload.clone();
            w.global_batch_seqs = best.global_batch_seqs;
            let p = profile(&w, &s.cluster, &best.config)?;
            Ok(Some((p, w, Some(r))))
        }
    }
}
