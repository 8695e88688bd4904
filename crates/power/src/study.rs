//! One scenario's whole power study: the analysis with the scenario's own mitigations, a cooling
//! year for its climate (and the same cooling design in every climate preset), and, on request,
//! the cheapest mitigation set that passes the grid code.

use crate::analysis::{analyse_with_raw, raw_part, Analysis, Inputs, Mitigation, Traces};
use crate::cooling::{self, cooling_year, CoolingYear};
use crate::profile::PhaseDraw;
use crate::site::Setup;
use crate::solve::{solve_with_raw, Solution};
use crate::trace::GpuMitigation;
use serde::Serialize;

/// Everything `megacluster power` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Study {
    pub site: String,
    pub gpus: f64,
    /// GPUs running the job; the rest of the site's are spares at idle.
    pub job_gpus: f64,
    /// `step model` or `synthetic`.
    pub step_source: String,
    /// `reliability timeline` or `steady training`.
    pub timeline_source: String,
    pub step_s: f64,
    /// Time-weighted mean activity of a step (0 idle, 1 dense compute).
    pub step_mean_activity: f64,
    pub phases: Vec<PhaseDraw>,
    /// Pipeline stages whose phases the trace offsets by the 1F1B schedule (1: no pipeline).
    pub pipeline_stages: u32,
    /// PUE the facility trace uses (the cooling design's catalogue figure).
    pub pue: f64,
    /// IT power with every GPU in dense compute (and at its floor where that is higher), W.
    pub peak_it_w: f64,
    /// The scenario's mitigations (none when it sets none).
    pub mitigation: Mitigation,
    /// The analysis with them.
    pub analysis: Analysis,
    /// Cooling for the site's climate, at the run's mean IT power with its mitigations.
    pub cooling: CoolingYear,
    /// The same cooling design and load in every climate preset.
    pub climates: Vec<CoolingYear>,
    /// `--solve`: every candidate and the cheapest passing one.
    pub solution: Option<Solution>,
    /// The analysis with the solver's best mitigation set.
    pub solved: Option<Analysis>,
}

/// Traces behind a study, for charts.
#[derive(Clone, Debug, Default)]
pub struct StudyTraces {
    pub scenario: Traces,
    pub solved: Option<Traces>,
}

/// IT power with every job GPU at dense compute (or at its floor, where higher) and the spares at
/// idle, W.
pub fn peak_it_w(inp: &Inputs, m: &GpuMitigation) -> f64 {
    inp.cluster
        .groups
        .iter()
        .map(|g| {
            let per_gpu = if g.spare {
                g.gpu.idle_w
            } else {
                g.gpu.compute_w.max(m.floor_fraction * g.gpu.tdp_w)
            };
            g.gpus * per_gpu + g.constant_w()
        })
        .sum()
}

/// Run the study. `solve`: also search mitigations (`progress(done, total)` after each candidate);
/// `keep`: return the traces for charts.
pub fn study(
    setup: &Setup,
    solve: bool,
    keep: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> (Study, Option<StudyTraces>) {
    let inp = &setup.inputs;
    // The unmitigated half, the same for every mitigation: computed once.
    let raw = raw_part(inp);
    let (analysis, traces) = analyse_with_raw(inp, keep, &raw);
    let (solution, solved, solved_traces) = if solve {
        let sol = solve_with_raw(inp, &raw, progress);
        match sol.best_mitigation {
            Some(m) => {
                let (a, t) = analyse_with_raw(
                    &Inputs {
                        mitigation: m,
                        ..inp.clone()
                    },
                    keep,
                    &raw,
                );
                (Some(sol), Some(a), t)
            }
            None => (Some(sol), None, None),
        }
    } else {
        (None, None, None)
    };
    let pue = inp.cluster.pue;
    let run = &analysis.run;
    let mean_it_w = if run.length_s > 0.0 && pue > 0.0 {
        run.facility_mitigated_j / pue / run.length_s
    } else {
        0.0
    };
    let peak = peak_it_w(inp, &inp.mitigation.gpu);
    let chiller_it_w = setup.chiller_it_w.unwrap_or(cooling::CHILLER_IT_W);
    let year = |c: &cooling::Climate| {
        let mut y = cooling_year(
            c,
            &setup.cooling_design,
            setup.catalogue_pue,
            mean_it_w,
            peak,
            chiller_it_w,
        );
        y.cooling = setup.cooling.clone();
        y
    };
    let cool = year(&setup.climate);
    let climates = setup.climates.iter().map(year).collect();
    let st = Study {
        site: setup.site.clone(),
        gpus: inp.cluster.gpus(),
        job_gpus: inp
            .cluster
            .groups
            .iter()
            .filter(|g| !g.spare)
            .map(|g| g.gpus)
            .sum(),
        step_source: setup.step_source.clone(),
        timeline_source: setup.timeline_source.clone(),
        step_s: inp.step.step_s(),
        step_mean_activity: inp.step.mean_activity(),
        phases: inp.step.phases.clone(),
        pipeline_stages: inp.step.pipeline_stages.max(1),
        pue,
        peak_it_w: peak,
        mitigation: inp.mitigation,
        analysis,
        cooling: cool,
        climates,
        solution,
        solved,
    };
    let tr = traces.map(|scenario| StudyTraces {
        scenario,
        solved: solved_traces,
    });
    (st, tr)
}
