//! The headline figures of each section, as one row of cells (SI units, unit suffixes as in
//! `--json`). Every figure is read from the pipeline's sections; the two derived ones (the run's
//! wall-clock time and its dollars) come from the models' own formulas
//! (`multisite::Analysis::time_to_train_s`, `plan::Plan::usd_for_wall_time`).

use crate::table::{Cell, ColumnSpec, Kind};
use pipeline::Pipeline;

/// Which sections each point evaluates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sections {
    pub plan: bool,
    pub train: bool,
    pub simulate: bool,
    pub power: bool,
    pub multisite: bool,
}

/// The section names `--sections` takes.
pub const SECTION_NAMES: [&str; 5] = ["plan", "train", "simulate", "power", "multisite"];

impl Sections {
    pub fn all() -> Sections {
        Sections {
            plan: true,
            train: true,
            simulate: true,
            power: true,
            multisite: true,
        }
    }

    /// `plan,train,simulate,power,multisite` (any subset, any order; `all`).
    pub fn parse(s: &str) -> Result<Sections, String> {
        let mut out = Sections {
            plan: false,
            train: false,
            simulate: false,
            power: false,
            multisite: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "all" => out = Sections::all(),
                "plan" => out.plan = true,
                "train" => out.train = true,
                "simulate" | "reliability" => out.simulate = true,
                "power" => out.power = true,
                "multisite" => out.multisite = true,
                other => {
                    let hint = spec::error::did_you_mean(other, SECTION_NAMES)
                        .map(|h| format!(" ({h})"))
                        .unwrap_or_default();
                    return Err(format!(
                        "unknown section `{other}`: the sections are {}{hint}",
                        SECTION_NAMES.join(", ")
                    ));
                }
            }
        }
        if out
            == (Sections {
                plan: false,
                train: false,
                simulate: false,
                power: false,
                multisite: false,
            })
        {
            return Err(format!(
                "name at least one section of {}",
                SECTION_NAMES.join(", ")
            ));
        }
        Ok(out)
    }
}

const PLAN: [(&str, Kind); 9] = [
    ("sites", Kind::UInt),
    ("gpus", Kind::UInt),
    ("h100_equivalents", Kind::Float),
    ("it_power_w", Kind::Float),
    ("facility_power_w", Kind::Float),
    ("supply_w", Kind::Float),
    ("capex_usd", Kind::Float),
    ("tco_usd_per_year", Kind::Float),
    ("tco_usd_per_gpu_hour", Kind::Float),
];

const TRAIN: [(&str, Kind); 12] = [
    ("job_gpus", Kind::UInt),
    ("tp", Kind::UInt),
    ("pp", Kind::UInt),
    ("dp", Kind::UInt),
    ("cp", Kind::UInt),
    ("ep", Kind::UInt),
    ("microbatch", Kind::UInt),
    ("step_time_s", Kind::Float),
    ("mfu", Kind::Float),
    ("tokens_per_s", Kind::Float),
    ("time_to_train_s", Kind::Float),
    ("fits", Kind::Bool),
];

const SIMULATE: [(&str, Kind); 4] = [
    ("ettr", Kind::Float),
    ("ettr_p5", Kind::Float),
    ("wall_s", Kind::Float),
    ("interruptions", Kind::Float),
];

const POWER: [(&str, Kind); 4] = [
    ("peak_w", Kind::Float),
    ("swing_w", Kind::Float),
    ("max_ramp_w_per_s", Kind::Float),
    ("grid_code_passes", Kind::Bool),
];

const SOLVE: [(&str, Kind); 8] = [
    ("mitigation_passes", Kind::Bool),
    ("mitigation_usd_per_year", Kind::Float),
    ("mitigation_floor_fraction", Kind::Float),
    ("mitigation_filler", Kind::Bool),
    ("mitigation_rack_storage_j_per_gpu", Kind::Float),
    ("mitigation_battery_power_w", Kind::Float),
    ("mitigation_battery_energy_j", Kind::Float),
    ("mitigation_gpu_ramp_w_per_s", Kind::Float),
];

const MULTISITE: [(&str, Kind); 5] = [
    ("multisite_strategy", Kind::Str),
    ("multisite_efficiency", Kind::Float),
    ("multisite_loss", Kind::Float),
    ("multisite_goodput", Kind::Float),
    ("multisite_loss_usd_per_year", Kind::Float),
];

const RUN: [(&str, Kind); 4] = [
    ("run_time_s", Kind::Float),
    ("run_time_counts_failures", Kind::Bool),
    ("days_to_train", Kind::Float),
    ("usd_per_run", Kind::Float),
];

/// The figure columns for these sections (after the point's own columns), `error` last.
pub fn columns(s: Sections, solve: bool) -> Vec<ColumnSpec> {
    let mut out: Vec<(&str, Kind)> = vec![];
    if s.plan {
        out.extend(PLAN);
    }
    if s.train {
        out.extend(TRAIN);
    }
    if s.simulate {
        out.extend(SIMULATE);
    }
    if s.power {
        out.extend(POWER);
        if solve {
            out.extend(SOLVE);
        }
    }
    if s.multisite {
        out.extend(MULTISITE);
    }
    if s.train {
        out.extend(RUN);
    }
    out.push(("error", Kind::Str));
    out.into_iter()
        .map(|(n, k)| ColumnSpec {
            name: n.to_string(),
            kind: k,
        })
        .collect()
}

fn error_text(e: &pipeline::Error) -> String {
    match e {
        pipeline::Error::Input(e) if e.path.is_empty() => e.message.clone(),
        pipeline::Error::Input(e) => format!("{}: {}", e.path, e.message),
        pipeline::Error::Model(m) => m.clone(),
    }
}

/// The figures of one point, in [`columns`] order.
pub fn row(p: &Pipeline, s: Sections, solve: bool) -> Vec<Cell> {
    let mut out = vec![];
    let mut errors: Vec<String> = vec![];
    let plan = p.plan();
    if s.plan {
        let supply: Option<f64> = plan.sites.iter().map(|x| x.supply_w).sum();
        out.extend([
            Cell::UInt(plan.sites.len() as u64),
            Cell::UInt(plan.gpus),
            Cell::num(plan.h100_equivalents),
            Cell::num(plan.it_power_w),
            Cell::num(plan.facility_power_w),
            Cell::opt(supply),
            Cell::num(plan.capex_usd),
            Cell::num(plan.tco_usd_per_year),
            Cell::num(plan.tco_usd_per_gpu_hour),
        ]);
    }
    let multi = p.scenario().sites.len() > 1;
    let mut time_to_train: Option<f64> = None;
    if s.train {
        match p.step() {
            Ok(Some(t)) => {
                let pr = &t.profile;
                let c = &pr.config;
                time_to_train = Some(pr.days_to_train * 86400.0);
                out.extend([
                    Cell::UInt(pr.gpus),
                    Cell::UInt(c.tp as u64),
                    Cell::UInt(c.pp as u64),
                    Cell::UInt(c.dp as u64),
                    Cell::UInt(c.cp as u64),
                    Cell::UInt(c.ep as u64),
                    Cell::UInt(c.microbatch as u64),
                    Cell::num(pr.step_time_s),
                    Cell::num(pr.mfu),
                    Cell::num(pr.tokens_per_s),
                    Cell::num(pr.days_to_train * 86400.0),
                    Cell::Bool(pr.fits),
                ]);
            }
            Ok(None) => {
                errors.push("job: the scenario has no [job] to train".into());
                out.extend(std::iter::repeat_n(Cell::Null, TRAIN.len()));
            }
            Err(e) => {
                errors.push(error_text(&e));
                out.extend(std::iter::repeat_n(Cell::Null, TRAIN.len()));
            }
        }
    }
    let mut wall: Option<f64> = None;
    if s.simulate {
        match p.reliability() {
            Ok(r) => {
                let m = &r.summary;
                wall = Some(m.wall_s.mean);
                out.extend([
                    Cell::num(m.ettr.mean),
                    Cell::num(m.ettr.p5),
                    Cell::num(m.wall_s.mean),
                    Cell::num(m.interruptions.mean),
                ]);
            }
            Err(e) => {
                errors.push(error_text(&e));
                out.extend(std::iter::repeat_n(Cell::Null, SIMULATE.len()));
            }
        }
    }
    if s.power {
        let n = POWER.len() + if solve { SOLVE.len() } else { 0 };
        match p.power() {
            Ok(pw) => {
                let a = &pw.study.analysis;
                out.extend([
                    Cell::num(a.raw.peak_w),
                    Cell::num(a.raw.swing_w),
                    Cell::num(a.raw.max_ramp_w_per_s),
                    Cell::Bool(a.passes),
                ]);
                if solve {
                    match pw.study.solution.as_ref().and_then(|x| x.best.as_ref()) {
                        Some(c) => out.extend([
                            Cell::Bool(true),
                            Cell::num(c.total_usd_per_year),
                            Cell::num(c.floor_fraction),
                            Cell::Bool(c.filler),
                            Cell::num(c.rack_storage_j_per_gpu),
                            Cell::num(c.battery_power_w),
                            Cell::num(c.battery_energy_j),
                            Cell::opt(c.gpu_ramp_w_per_s),
                        ]),
                        None => {
                            out.push(Cell::Bool(false));
                            out.extend(std::iter::repeat_n(Cell::Null, SOLVE.len() - 1));
                        }
                    }
                }
            }
            Err(e) => {
                errors.push(error_text(&e));
                out.extend(std::iter::repeat_n(Cell::Null, n));
            }
        }
    }
    // a multi-site job's run is the configured strategy's, over every site
    let analysis = if multi && (s.multisite || s.train) {
        match p.multisite() {
            Ok(m) => m.map(|m| &m.analysis),
            Err(e) => {
                errors.push(error_text(&e));
                None
            }
        }
    } else {
        None
    };
    if s.multisite {
        match analysis.and_then(|a| a.configured_strategy().map(|c| (a, c))) {
            Some((a, c)) => {
                let loss = a.costs.as_ref().and_then(|k| {
                    a.strategies
                        .iter()
                        .position(|x| x.outcome.name == c.outcome.name)
                        .and_then(|i| k.loss_usd_per_year.get(i).copied().flatten())
                });
                let feasible = c.outcome.feasible;
                out.extend([
                    Cell::Str(c.outcome.name.clone()),
                    if feasible {
                        Cell::num(c.outcome.efficiency)
                    } else {
                        Cell::Null
                    },
                    if feasible {
                        Cell::num(1.0 - c.outcome.efficiency)
                    } else {
                        Cell::Null
                    },
                    Cell::opt(c.goodput),
                    Cell::opt(loss),
                ]);
            }
            None => out.extend(std::iter::repeat_n(Cell::Null, MULTISITE.len())),
        }
    }
    if s.train {
        let run: Option<(f64, bool)> = if multi {
            let tokens = p.scenario().job.as_ref().map(|j| j.tokens);
            analysis.zip(tokens).and_then(|(a, t)| a.time_to_train_s(t))
        } else {
            match (wall, time_to_train) {
                (Some(w), _) => Some((w, true)),
                (None, Some(t)) => Some((t, false)),
                _ => None,
            }
        };
        match run {
            Some((t, failures)) if t.is_finite() => out.extend([
                Cell::num(t),
                Cell::Bool(failures),
                Cell::num(t / 86400.0),
                Cell::num(plan.usd_for_wall_time(t)),
            ]),
            _ => out.extend(std::iter::repeat_n(Cell::Null, RUN.len())),
        }
    }
    out.push(if errors.is_empty() {
        Cell::Null
    } else {
        Cell::Str(errors.join("; "))
    });
    out
}
