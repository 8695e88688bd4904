//! The scenario binding of the models: from a resolved `spec::Scenario` to each model's inputs.

pub mod setup;

pub use setup::{setup, Setup, SetupError};

use perf::{profile, search, SearchResult, Space, StepProfile, Workload};

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
