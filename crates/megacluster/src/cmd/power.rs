//! `megacluster power [scenario] [--solve] [--svg DIR]`: the cluster's power trace against the grid
//! code, the mitigations and their cost, cooling and water.
//!
//! The step shape comes from the step model when the scenario has a job (`perf`), the run's
//! states from the reliability timeline (`sim`, replica 0); the power model (`power`) turns them
//! into a trace. Without a job, the synthetic step shape of `[power]` stands in, and the output
//! says so.

use super::progress::LateBar;
use crate::{CliError, Common};
use power::profile::{PhaseDraw, RunInterval, RunState, StepShape};
use power::scenario::Setup;
use power::{Study, StudyTraces};
use report::html::Figure;
use report::svg::{self, Series};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
    /// Also find the cheapest combination of mitigations (GPU floor, filler work, rack storage,
    /// site battery) that passes the grid code.
    #[arg(long)]
    pub solve: bool,
    /// Write the charts (raw vs mitigated trace, spectrum, battery state of charge, cooling) as SVG
    /// files into DIR.
    #[arg(long, value_name = "DIR")]
    pub svg: Option<PathBuf>,
}

/// The step model's profile as the power model's step shape: the phases in order, with their
/// durations and per-GPU activities. `Ok(None)` when the scenario has no job or no layout fits.
fn step_shape(s: &spec::Scenario, notes: &mut Vec<String>) -> Result<Option<StepShape>, CliError> {
    if s.job.is_none() {
        notes.push("step model: the scenario has no [job]".into());
        return Ok(None);
    }
    // A job the step model cannot run is that command's error to report (`megacluster train`);
    // the power study goes on with the synthetic shape and says why.
    let fallback = |notes: &mut Vec<String>, why: String| {
        notes.push(format!("step model: {why}"));
        Ok(None)
    };
    let shape = if s.sites.len() > 1 {
        multisite_shape(s, notes)
    } else {
        None
    };
    let shape = match shape {
        Some(x) => x,
        None => {
            let setup = match pipeline::setup(s) {
                Ok(x) => x,
                Err(e) => return fallback(notes, e.to_string()),
            };
            match pipeline::best_profile(&setup, &|_, _| {}) {
                Ok(Some((p, _, _))) => shape_of(&p, 1.0),
                Ok(None) => {
                    return fallback(
                        notes,
                        "no parallel layout fits the job on this cluster".into(),
                    )
                }
                Err(e) => return fallback(notes, e.to_string()),
            }
        }
    };
    if shape.is_valid() {
        Ok(Some(shape))
    } else {
        fallback(notes, "its step profile has a phase with a negative or non-finite duration or an activity outside 0-1".into())
    }
}

/// A step profile's phases in order (durations times `scale`) and its pipeline depth.
fn shape_of(p: &perf::StepProfile, scale: f64) -> StepShape {
    StepShape {
        phases: p
            .phases
            .iter()
            .map(|ph| PhaseDraw {
                name: ph.name.clone(),
                duration_s: ph.duration_s * scale,
                activity: ph.activity,
            })
            .collect(),
        pipeline_stages: p.config.pp,
    }
}

/// The step a site of a multi-site job repeats, from the multi-site model. Synchronous
/// strategies (`dp`, `pipeline`): the whole job's step with every GPU in one site, then the
/// exposed cross-site synchronisation as one wait at communication activity before the optimizer
/// (for `pipeline` the cross-site latency per microbatch is gathered there too). DiLoCo
/// strategies: the first site's replica on its share of the batch; the outer synchronisation
/// every H inner steps is left out of the shape and said so. `None` (with a note) when the
/// multi-site model cannot place the job; the first site's job alone then stands in.
fn multisite_shape(s: &spec::Scenario, notes: &mut Vec<String>) -> Option<StepShape> {
    use spec::sync::Strategy;
    let prep = match multisite::prepare(s) {
        Ok(p) => p,
        Err(e) => {
            notes.push(format!(
                "multi-site model: {e}; the step is the first site's job alone"
            ));
            return None;
        }
    };
    let strategy = prep.sync.strategy;
    match strategy {
        Strategy::Dp | Strategy::Pipeline => {
            let a = multisite::analyse(&prep, None);
            let o = a
                .strategies
                .iter()
                .map(|r| &r.outcome)
                .find(|o| o.name == strategy.name())?;
            if !o.feasible {
                notes.push(format!(
                    "multi-site model: `{}` cannot run this job ({}); the step is the first site's job alone",
                    o.name, o.note
                ));
                return None;
            }
            let mut shape = shape_of(&prep.profile, 1.0);
            let wait = (o.step_s - prep.basis.step_s).max(0.0);
            let at = shape
                .phases
                .iter()
                .position(|p| p.name == "optimizer")
                .unwrap_or(shape.phases.len());
            shape.phases.insert(
                at,
                PhaseDraw {
                    name: "cross_site_sync".into(),
                    duration_s: wait,
                    activity: perf::calib::ACTIVITY_COMM,
                },
            );
            notes.push(format!(
                "step: the job on all {} GPUs of {} sites ([job.sync] strategy `{}`): {:.3} s in one site plus {:.3} s of exposed cross-site synchronisation",
                report::fmt::thousands(prep.basis.gpus as f64),
                s.sites.len(),
                o.name,
                prep.basis.step_s,
                wait
            ));
            Some(shape)
        }
        Strategy::Diloco | Strategy::StreamingDiloco => {
            let site: u64 = s.sites[0].halls.iter().map(|h| h.gpus).sum();
            match prep.replica_profile(site, prep.basis.gpus) {
                Ok((p, scale)) => {
                    notes.push(format!(
                        "step: the first site's DiLoCo replica on its share of the batch ([job.sync] strategy `{}`); the outer synchronisation every {} inner steps is not in the shape",
                        strategy.name(),
                        prep.sync.inner_steps
                    ));
                    Some(shape_of(&p, scale))
                }
                Err(why) => {
                    notes.push(format!(
                        "multi-site model: {why}; the step is the first site's job alone"
                    ));
                    None
                }
            }
        }
    }
}

/// The reliability timeline of replica 0 as the power model's run intervals.
fn timeline(s: &spec::Scenario, path: Option<&Path>) -> Result<Vec<RunInterval>, CliError> {
    let iv = sim::scenario::scenario_intervals(s).map_err(|e| super::spec_error(path, e))?;
    Ok(iv
        .iter()
        .map(|i| RunInterval {
            start_s: i.start_s,
            end_s: i.end_s,
            state: match i.state {
                sim::JobState::Training => RunState::Training,
                sim::JobState::LostWorkRecompute => RunState::LostWorkRecompute,
                sim::JobState::CheckpointWrite => RunState::CheckpointWrite,
                sim::JobState::Restart => RunState::Restart,
                sim::JobState::WaitingForSpares => RunState::WaitingForSpares,
                sim::JobState::PlannedMaintenance => RunState::PlannedMaintenance,
            },
        })
        .collect())
}

/// The power model's inputs for a scenario: step shape from the step model (synthetic without a
/// job), run states from the reliability timeline, the plan's TCO per GPU-hour as the price of
/// lost throughput.
pub fn setup(s: &spec::Scenario, path: Option<&Path>) -> Result<Setup, CliError> {
    let mut notes = vec![];
    let step = step_shape(s, &mut notes)?;
    let run = timeline(s, path)?;
    let gpu_hour_usd = plan::plan(s).tco_usd_per_gpu_hour;
    let mut st = power::scenario::from_scenario(s, step, Some(run), gpu_hour_usd)
        .map_err(CliError::input)?;
    // The step model's notes go right after the note on the step shape they explain.
    let at = st
        .notes
        .iter()
        .position(|n| n.starts_with("step shape:"))
        .map_or(0, |i| i + 1);
    st.notes.splice(at..at, notes);
    Ok(st)
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let s = common.scenario(args.scenario.as_deref())?;
    let st = setup(&s, args.scenario.as_deref())?;
    let bar = LateBar::new(power::solve::CANDIDATES, "searching mitigations");
    let (study, traces) = power::study(&st, args.solve, args.svg.is_some(), &|d, t| bar.set(d, t));
    bar.finish();
    if let (Some(dir), Some(tr)) = (&args.svg, &traces) {
        write_svgs(dir, &figures(&study, tr))?;
    }
    let mut sec = report::power::section(&study);
    super::power_sites::append(&mut sec, &s, &st)?;
    Ok(sec)
}

/// The power section of `megacluster run`, with its charts. When the scenario sets no mitigation,
/// the solver's cheapest passing set is computed too so the charts can show raw against mitigated;
/// `bar` shows that search.
pub fn section(
    s: &spec::Scenario,
    path: Option<&Path>,
    bar: &LateBar,
) -> Result<(report::Section, Vec<Figure>), CliError> {
    let st = setup(s, path)?;
    let no_mitigation = st.inputs.mitigation.is_none();
    if no_mitigation {
        bar.stage("power: searching mitigations", power::solve::CANDIDATES);
    }
    let (study, traces) = power::study(&st, no_mitigation, true, &|d, t| bar.set(d, t));
    let figs = traces.map(|t| figures(&study, &t)).unwrap_or_default();
    let mut sec = report::power::section(&study);
    super::power_sites::append(&mut sec, s, &st)?;
    Ok((sec, figs))
}

fn write_svgs(dir: &Path, figs: &[Figure]) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", dir.display())))?;
    for (i, f) in figs.iter().enumerate() {
        let slug: String = f
            .title
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let path = dir.join(format!("power-{}-{slug}.svg", i + 1));
        std::fs::write(&path, &f.svg)
            .map_err(|e| CliError::input(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn series(name: &str, t0: f64, dt: f64, w: &[f64], scale: f64, from: usize, to: usize) -> Series {
    Series {
        name: name.into(),
        points: w
            .iter()
            .enumerate()
            .take(to.min(w.len()))
            .skip(from)
            .map(|(i, v)| (t0 + (i as f64 + 0.5) * dt, v * scale))
            .collect(),
    }
}

/// The charts: raw vs mitigated facility power over the window (with its restart) and over a few
/// steps, the spectrum (log-log), the battery's state of charge, cooling over the year.
pub fn figures(st: &Study, tr: &StudyTraces) -> Vec<Figure> {
    let fig = |title: &str, svg: String| Figure {
        section: "power".into(),
        title: title.into(),
        svg,
    };
    // Show the scenario's mitigations; when it sets none, the solver's cheapest passing set; with
    // neither, the unmitigated trace alone.
    let mt = match (&tr.solved, st.mitigation.is_none()) {
        (_, false) => Some((&tr.scenario, "with the scenario's mitigations")),
        (Some(s), true) => Some((s, "with the cheapest passing mitigations")),
        (None, true) => None,
    };
    let raw = &tr.scenario.raw_grid;
    let n = raw.w.len();
    let mut out = vec![];
    let t0_min = raw.t0_s / 60.0;
    let dt_min = raw.dt_s / 60.0;
    let pair = |t0: f64, dt: f64, to: usize| {
        let mut v = vec![series("unmitigated", t0, dt, &raw.w, 1e-6, 0, to)];
        if let Some((m, label)) = mt {
            v.push(series(label, t0, dt, &m.grid.w, 1e-6, 0, to));
        }
        v
    };
    out.push(fig(
        "Facility power over the analysis window",
        svg::line_chart(
            "Facility power over the analysis window",
            "time in the run (min)",
            "grid import (MW)",
            &pair(t0_min, dt_min, n),
            false,
            false,
        ),
    ));

    // A few steps at full resolution, from the start of the window.
    let steps = if st.step_s > 0.0 && raw.dt_s > 0.0 {
        ((4.0 * st.step_s / raw.dt_s).ceil() as usize).clamp(2, n.max(2))
    } else {
        n
    };
    out.push(fig(
        "Facility power over four steps",
        svg::line_chart(
            "Facility power over four steps",
            "time in the run (s)",
            "grid import (MW)",
            &pair(raw.t0_s, raw.dt_s, steps),
            false,
            false,
        ),
    ));

    // The whole run at per-step resolution (each bin the mean of the states it covers): restarts,
    // checkpoint dips and maintenance over days.
    let run = &tr.scenario.run_raw;
    if !run.w.is_empty() && run.dt_s > 0.0 {
        let day = 86400.0;
        out.push(fig(
            "Facility power over the whole run (unmitigated, step means)",
            svg::line_chart(
                "Facility power over the whole run (unmitigated, step means)",
                "time in the run (days)",
                "facility power (MW)",
                &[series(
                    "unmitigated",
                    run.t0_s / day,
                    run.dt_s / day,
                    &run.w,
                    1e-6,
                    0,
                    run.w.len(),
                )],
                false,
                false,
            ),
        ));
    }

    let nyquist = if raw.dt_s > 0.0 { 0.5 / raw.dt_s } else { 0.0 };
    let spec_series = |name: &str, sp: &power::spectrum::Spectrum| Series {
        name: name.into(),
        points: sp
            .amplitude_points(n, nyquist, 1500)
            .into_iter()
            .map(|(f, a)| (f, a * 1e-6))
            .collect(),
    };
    out.push(fig(
        "Spectrum of the grid import",
        svg::line_chart(
            "Spectrum of the grid import",
            "frequency (Hz)",
            "amplitude (MW)",
            &{
                let mut v = vec![spec_series("unmitigated", &tr.scenario.raw_spectrum)];
                if let Some((m, label)) = mt {
                    v.push(spec_series(label, &m.spectrum));
                }
                v
            },
            true,
            true,
        ),
    ));

    if let Some((mt, _)) = mt.filter(|(m, _)| !m.battery_soc_j.is_empty()) {
        // Charted as the change since the window's start: the state of charge moves by a small
        // share of the capacity, which an axis of absolute MWh would not resolve.
        let soc = &mt.battery_soc_j;
        let start = soc[0];
        let range = soc.iter().fold(0.0f64, |m, x| m.max((x - start).abs()));
        let (scale, unit) = if range >= 3.6e9 {
            (1.0 / 3.6e9, "MWh")
        } else {
            (1.0 / 3.6e6, "kWh")
        };
        let change: Vec<f64> = soc.iter().map(|x| x - start).collect();
        let title = format!(
            "Battery state of charge (from {:.1} MWh at the window's start)",
            start / 3.6e9
        );
        out.push(fig(
            &title,
            svg::line_chart(
                &title,
                "time in the run (min)",
                &format!("change in stored energy ({unit})"),
                &[series(
                    "state of charge",
                    t0_min,
                    dt_min,
                    &change,
                    scale,
                    0,
                    change.len(),
                )],
                false,
                false,
            ),
        ));
    }

    let hourly = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(h, x)| (h as f64 / 24.0, *x))
            .collect()
    };
    let pue: Vec<Series> = st
        .climates
        .iter()
        .map(|c| Series {
            name: c.climate.clone(),
            points: hourly(&c.hourly_pue),
        })
        .collect();
    out.push(fig(
        &format!("PUE by hour over the year ({})", st.cooling.cooling),
        svg::line_chart(
            &format!("PUE by hour over the year ({})", st.cooling.cooling),
            "day of the year",
            "PUE",
            &pue,
            false,
            false,
        ),
    ));
    let water: Vec<Series> = st
        .climates
        .iter()
        .map(|c| Series {
            name: c.climate.clone(),
            points: hourly(&c.hourly_wue_l_per_kwh),
        })
        .collect();
    out.push(fig(
        &format!(
            "Water per IT kWh by hour over the year ({})",
            st.cooling.cooling
        ),
        svg::line_chart(
            &format!(
                "Water per IT kWh by hour over the year ({})",
                st.cooling.cooling
            ),
            "day of the year",
            "water (L/kWh)",
            &water,
            false,
            false,
        ),
    ));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_section_of_the_default_scenario_has_its_charts() {
        let s = spec::load_scenario(None, &[]).expect("default scenario");
        let (sec, figs) =
            super::section(&s, None, &super::LateBar::new(0, "test")).expect("power section");
        assert_eq!(sec.key, "power");
        assert!(sec.json["peak_w"].is_f64());
        // No mitigation in the scenario: the section solves, so raw and mitigated traces and the
        // solver's battery are charted.
        assert_eq!(sec.json["solve"]["best"]["passes"], true);
        let titles: Vec<&str> = figs.iter().map(|f| f.title.as_str()).collect();
        for want in [
            "analysis window",
            "four steps",
            "Spectrum",
            "Battery",
            "PUE",
            "Water",
        ] {
            assert!(
                titles.iter().any(|t| t.contains(want)),
                "{want} not in {titles:?}"
            );
        }
        for f in &figs {
            assert_eq!(f.section, "power");
            assert!(
                f.svg.starts_with("<svg") && f.svg.ends_with("</svg>"),
                "{}",
                f.title
            );
            assert!(
                !f.svg.contains("NaN") && !f.svg.contains("no data"),
                "{}",
                f.title
            );
            assert!(f.svg.matches("<polyline").count() >= 1, "{}", f.title);
        }
        let raw_vs = figs
            .iter()
            .find(|f| f.title.contains("analysis window"))
            .unwrap();
        assert!(
            raw_vs.svg.matches("<polyline").count() >= 2,
            "raw and mitigated lines"
        );
    }
}
