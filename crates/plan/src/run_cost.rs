//! What a training run costs: the GPUs' time at the cluster's cost of ownership and the energy
//! they draw, per run and per million tokens, without failures and with the goodput loss (the
//! wall clock stretched by 1 / ETTR).

use serde::Serialize;

/// The cost of one run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RunCost {
    pub gpus: u64,
    pub tokens: f64,
    /// Failure-free time and GPU-hours.
    pub time_s: f64,
    pub gpu_hours: f64,
    /// Per GPU-second: the cost of owning and running a GPU (energy left out) and the energy at
    /// the step's mean activity.
    pub fixed_usd_per_gpu_s: f64,
    pub energy_usd_per_gpu_s: f64,
    pub usd: f64,
    pub usd_per_million_tokens: f64,
    /// With failures: the goodput (ETTR) and where it came from, the wall clock, the cost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goodput: Option<Goodput>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Goodput {
    pub ettr: f64,
    /// `monte_carlo` (the reliability section's mean) or `closed_form` (Kokolis E[ETTR]).
    pub source: String,
    pub time_s: f64,
    pub usd: f64,
    pub usd_per_million_tokens: f64,
    /// What failures add.
    pub loss_usd: f64,
}

/// The run's cost: `gpus` for `time_s` at `fixed_usd_per_gpu_s` plus the energy of a GPU at full
/// activity times the step's `mean_activity` (the layout search's cost objective, the same
/// formula); with failures, every second of the stretched wall clock costs as a training second
/// (restarts and recomputed work hold the GPUs; energy is a few per cent of the cost, so drawing
/// less while restarting changes little).
pub fn run_cost(
    gpus: u64,
    tokens: f64,
    time_s: f64,
    fixed_usd_per_gpu_s: f64,
    energy_usd_per_gpu_s_at_full_activity: f64,
    mean_activity: f64,
    ettr: Option<(f64, &str)>,
) -> RunCost {
    let energy = energy_usd_per_gpu_s_at_full_activity * mean_activity;
    let per_s = (fixed_usd_per_gpu_s + energy) * gpus as f64;
    let usd = per_s * time_s;
    let per_mtok = |u: f64| if tokens > 0.0 { u / tokens * 1e6 } else { 0.0 };
    let goodput = ettr
        .filter(|(e, _)| *e > 0.0 && e.is_finite())
        .map(|(e, source)| {
            let t = time_s / e.min(1.0);
            let u = per_s * t;
            Goodput {
                ettr: e,
                source: source.to_string(),
                time_s: t,
                usd: u,
                usd_per_million_tokens: per_mtok(u),
                loss_usd: u - usd,
            }
        });
    RunCost {
        gpus,
        tokens,
        time_s,
        gpu_hours: gpus as f64 * time_s / 3600.0,
        fixed_usd_per_gpu_s,
        energy_usd_per_gpu_s: energy,
        usd,
        usd_per_million_tokens: per_mtok(usd),
        goodput,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_costs_its_gpu_hours_and_failures_stretch_it() {
        // 1,000 GPUs for 10 h at $1/GPU-h fixed and $0.20/GPU-h of energy at full activity,
        // activity 0.5: $11k; 1e9 tokens → $11 per million; at 80 % goodput $13.75k.
        let c = run_cost(
            1000,
            1e9,
            36000.0,
            1.0 / 3600.0,
            0.2 / 3600.0,
            0.5,
            Some((0.8, "closed_form")),
        );
        assert!((c.usd - 11e3).abs() < 1e-6);
        assert!((c.usd_per_million_tokens - 11.0).abs() < 1e-9);
        let g = c.goodput.unwrap();
        assert!((g.usd - 13.75e3).abs() < 1e-6);
        assert!((g.loss_usd - 2.75e3).abs() < 1e-6);
        assert_eq!(c.gpu_hours, 10e3);
    }
}
