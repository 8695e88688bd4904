//! The campus over time and the money: the programme (phases, the years, financing, rent versus
//! own) from the plan and the scenario's `[programme]`, and the cost of the job's training run
//! from the step model's profile, the plan's cost of a GPU-second and a goodput.

use crate::{bind, Error, Pipeline};

/// Where the goodput that stretches a run's wall clock comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goodput {
    /// The reliability section's Monte Carlo mean ETTR.
    MonteCarlo,
    /// The reliability model's closed form (Kokolis et al. E[ETTR]): no Monte Carlo run.
    ClosedForm,
}

/// Whether the scenario asks for the programme view: a `[programme]` table or phases.
pub fn wanted(s: &spec::Scenario) -> bool {
    s.programme.given || s.sites.iter().any(|x| !x.phases.is_empty())
}

pub(crate) fn programme(pl: &Pipeline) -> Option<plan::programme::Programme> {
    let s = pl.scenario();
    if !wanted(s) {
        return None;
    }
    let accelerator = s
        .sites
        .first()
        .and_then(|x| x.halls.first())
        .map(|h| h.accelerator.name.as_str())
        .unwrap_or("");
    Some(plan::programme::programme(&plan::programme::Inputs {
        plan: pl.plan(),
        sites: &s.sites,
        cost: &s.cost,
        settings: &s.programme,
        accelerator,
    }))
}

pub(crate) fn run_cost(
    pl: &Pipeline,
    goodput: Goodput,
) -> Result<Option<plan::run_cost::RunCost>, Error> {
    let Some(t) = pl.step()? else {
        return Ok(None);
    };
    let p = &t.profile;
    let plan = pl.plan();
    let ettr = match goodput {
        Goodput::MonteCarlo => pl
            .reliability()
            .ok()
            .map(|r| (r.summary.ettr.mean, "monte_carlo")),
        Goodput::ClosedForm => bind::sim_params(pl.scenario(), pl.placement(), Some(p))
            .ok()
            // where the closed form does not apply (sim says why), no goodput-loaded figure
            .and_then(|(q, _)| sim::monte::closed_form_ettr(&q).value())
            .map(|e| (e, "closed_form")),
    };
    Ok(Some(plan::run_cost::run_cost(
        p.gpus,
        t.workload.tokens,
        p.days_to_train * 86400.0,
        plan.fixed_usd_per_gpu_s(),
        plan.energy_usd_per_gpu_s_at_full_activity(),
        p.mean_activity,
        ettr,
    )))
}
