//! A scenario's whole report, section by section: what `megacluster run` prints (text or
//! `--json`) and what `megacluster serve` answers. Both surfaces call these functions, so the same
//! scenario and seed give the same bytes through either.

use crate::html::Figure;
use crate::{Report, Section};
use pipeline::{Error, Pipeline};

/// Distances (km) and capacities per link (Tbit/s) of the multi-site heatmap.
pub const SWEEP_KM: [f64; 6] = [10.0, 100.0, 300.0, 1000.0, 2000.0, 3500.0];
pub const SWEEP_TBPS: [f64; 5] = [0.1, 1.0, 10.0, 100.0, 1000.0];
/// GPU counts of the goodput chart per recovery design (10k → 1M), and runs per point.
pub const SWEEP_GPUS: [u64; 6] = [10_000, 30_000, 100_000, 300_000, 600_000, 1_000_000];
pub const SWEEP_REPLICAS: u64 = 12;
/// Capacities per link (Tbit/s) of the loss-against-capacity chart: 0.1 to 1000 Tbit/s in
/// quarter decades.
pub fn capacity_axis_tbps() -> Vec<f64> {
    (0..=16)
        .map(|i| 10f64.powf(-1.0 + 0.25 * i as f64))
        .collect()
}

/// The sections of a report, in the order `run` prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    Plan,
    Train,
    Reliability,
    Power,
    MultiSite,
    /// The campus over time and its money, when the scenario has phases or `[programme]`.
    Programme,
}

impl Part {
    /// Report order.
    pub const ALL: [Part; 6] = [
        Part::Plan,
        Part::Train,
        Part::Reliability,
        Part::Power,
        Part::MultiSite,
        Part::Programme,
    ];

    /// The section's JSON key in `run --json`.
    pub fn key(self) -> &'static str {
        match self {
            Part::Plan => "plan",
            Part::Train => "train",
            Part::Reliability => "reliability",
            Part::Power => "power",
            Part::MultiSite => "multisite",
            Part::Programme => "programme",
        }
    }

    pub fn from_key(key: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// The pipeline options of a whole report; `charts` keeps the power traces for the charts.
pub fn options(charts: bool) -> pipeline::Options {
    pipeline::Options {
        traces: charts,
        ..pipeline::Options::report()
    }
}

/// One section of the report with its charts (none unless `charts`). `Ok(None)` where the
/// scenario has no such section: no `[job]` has no training step, one site no multi-site section.
pub fn part(
    p: &Pipeline,
    part: Part,
    charts: bool,
) -> Result<Option<(Section, Vec<Figure>)>, Error> {
    let s = p.scenario();
    let scope = p.scope();
    let figs = |f: Vec<Figure>| if charts { f } else { vec![] };
    Ok(match part {
        Part::Plan => {
            let plan = p.plan();
            Some((crate::plan::section(plan), figs(crate::plan::figures(plan))))
        }
        Part::Train => match p.step()? {
            // the run's cost at the Monte Carlo's goodput (the reliability section's)
            Some(t) => {
                let cost = p.run_cost(pipeline::Goodput::MonteCarlo)?;
                Some((
                    crate::campus::with_run_cost(
                        crate::with_scope(crate::train::trained(&s.name, t), scope.as_ref()),
                        cost.as_ref(),
                    ),
                    figs(crate::train::figures(&t.profile)),
                ))
            }
            None => None,
        },
        Part::Reliability => {
            let rel = p.reliability()?;
            let mut sec = crate::simulate::of(rel);
            if let Some(c) = p.designs()? {
                sec = crate::simulate::with_designs(sec, c);
            }
            let mut f = figs(crate::simulate::figures(
                &rel.summary,
                &rel.ettr_per_replica,
            ));
            if charts {
                let sweeps = p.designs_sweep(&SWEEP_GPUS, SWEEP_REPLICAS)?;
                f.push(crate::simulate::sweep_figure(&sweeps));
            }
            Some((crate::with_scope(sec, scope.as_ref()), f))
        }
        Part::Power => {
            let pw = p.power()?;
            let f = match (&pw.traces, charts) {
                (Some(tr), true) => crate::power::figures(&pw.study, tr),
                _ => vec![],
            };
            Some((crate::power::section(pw), f))
        }
        Part::MultiSite => match p.multisite()? {
            Some(m) => {
                let mut f = vec![];
                if charts {
                    let n = m.analysis.sites.len();
                    let d: Vec<f64> = SWEEP_KM.iter().map(|k| k * 1e3).collect();
                    let c: Vec<f64> = SWEEP_TBPS.iter().map(|t| t * 1e12).collect();
                    let points = p.multisite_sweep(&[n], &d, &c)?;
                    f.extend(crate::multisite::figures(&m.analysis, &points, n));
                    // loss against capacity at the scenario's own (longest) link distance
                    let km = s
                        .links
                        .iter()
                        .map(|l| l.distance.m())
                        .fold(0.0f64, f64::max);
                    let c: Vec<f64> = capacity_axis_tbps().iter().map(|t| t * 1e12).collect();
                    let line = p.multisite_sweep(&[n], &[km], &c)?;
                    let at = s
                        .links
                        .iter()
                        .map(|l| l.capacity.bits_per_s())
                        .fold(f64::INFINITY, f64::min);
                    f.push(crate::multisite::loss_figure(&line, n, km, at));
                }
                Some((crate::multisite::section(&m.analysis), f))
            }
            None => None,
        },
        Part::Programme => p.programme().map(|prog| {
            (
                crate::campus::section(prog),
                figs(crate::campus::figures(prog)),
            )
        }),
    })
}

/// The `train` command's section: the step profile with its scope and the run's cost at the
/// closed-form goodput (`train` runs no Monte Carlo; `run` prices at the Monte Carlo mean).
/// `Ok(None)` without a `[job]`. The CLI and the Python package both print this.
pub fn train(p: &Pipeline) -> Result<Option<Section>, Error> {
    let Some(t) = p.step()? else {
        return Ok(None);
    };
    let cost = p.run_cost(pipeline::Goodput::ClosedForm)?;
    Ok(Some(crate::campus::with_run_cost(
        crate::with_scope(
            crate::train::trained(&p.scenario().name, t),
            p.scope().as_ref(),
        ),
        cost.as_ref(),
    )))
}

/// Every section of the scenario in report order, with the charts when `charts`; the first
/// section's error stops it, as `run` stops.
pub fn report(p: &Pipeline, charts: bool) -> Result<(Report, Vec<Figure>), Error> {
    let mut r = Report {
        title: p.scenario().name.clone(),
        sections: vec![],
    };
    let mut figures = vec![];
    p.evaluate_report();
    for x in Part::ALL {
        if let Some((sec, f)) = part(p, x, charts)? {
            r.sections.push(sec);
            figures.extend(f);
        }
    }
    Ok((r, figures))
}

/// `run --json`'s bytes: the report's JSON, pretty-printed, with a final newline.
pub fn json_text(r: &Report) -> Result<String, Error> {
    let mut t = serde_json::to_string_pretty(&r.json())
        .map_err(|e| Error::Model(format!("the report cannot be written as JSON: {e}")))?;
    t.push('\n');
    Ok(t)
}

/// The report's JSON as CSV, one row per value: `field,value`, the field a dotted path with its
/// unit suffix as in the JSON (`plan.capex.total_usd`), array entries indexed
/// (`power.rules[0].limit_w`); null values are left out.
pub fn csv_text(r: &Report) -> String {
    use crate::fmt::csv_text_cell as text;
    fn walk(path: &str, v: &serde_json::Value, out: &mut Vec<[String; 2]>) {
        use serde_json::Value;
        match v {
            Value::Null => {}
            Value::Object(m) => {
                for (k, x) in m {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(&p, x, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(&format!("{path}[{i}]"), x, out);
                }
            }
            Value::String(s) => out.push([text(path), text(s)]),
            x => out.push([text(path), x.to_string()]),
        }
    }
    let mut rows = vec![["field".to_string(), "value".to_string()]];
    walk("", &r.json(), &mut rows);
    crate::fmt::csv_rows(rows)
}

/// The data files of a report, as (file name, bytes), for `run --csv DIR` and the page's links:
/// `report.csv` (every value of the JSON, [`csv_text`]), one CSV per table of every section
/// (named by [`crate::html::table_csv_name`]) and, when the power section kept its traces, the
/// grid import over the analysis window (`power-trace-window.csv`: time, unmitigated,
/// mitigated) and over the whole run (`power-trace-run.csv`, unmitigated).
pub fn csv_files(p: &Pipeline, r: &Report) -> Vec<(String, Vec<u8>)> {
    use crate::blocks::{blocks, csv, Block};
    let mut out = vec![("report.csv".to_string(), csv_text(r).into_bytes())];
    for s in &r.sections {
        let tables = blocks(&s.text).into_iter().filter_map(|b| match b {
            Block::Table(t) => Some(t),
            Block::Text(_) => None,
        });
        for (n, t) in tables.enumerate() {
            out.push((
                crate::html::table_csv_name(&s.key, n, t.caption.as_deref()),
                csv(&t).into_bytes(),
            ));
        }
    }
    if let Ok(pw) = p.power() {
        if let Some(tr) = &pw.traces {
            let t = &tr.scenario;
            let mut w = String::from("time_s,unmitigated_w,mitigated_w\n");
            for (i, (a, b)) in t.raw_grid.w.iter().zip(&t.grid.w).enumerate() {
                w.push_str(&format!(
                    "{},{a},{b}\n",
                    t.raw_grid.t0_s + i as f64 * t.raw_grid.dt_s
                ));
            }
            out.push(("power-trace-window.csv".into(), w.into_bytes()));
            let mut w = String::from("time_s,unmitigated_w\n");
            for (i, a) in t.run_raw.w.iter().enumerate() {
                w.push_str(&format!(
                    "{},{a}\n",
                    t.run_raw.t0_s + i as f64 * t.run_raw.dt_s
                ));
            }
            out.push(("power-trace-run.csv".into(), w.into_bytes()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_paths_and_values() {
        let r = Report {
            title: "a, \"b\"".into(),
            sections: vec![Section {
                key: "plan".into(),
                title: "Plan".into(),
                text: String::new(),
                json: serde_json::json!({"gpus": 8, "capex": {"total_usd": 1.5}, "w": [true, null]}),
            }],
        };
        assert_eq!(
            csv_text(&r),
            "field,value\nplan.capex.total_usd,1.5\nplan.gpus,8\nplan.w[0],true\nscenario,\"a, \"\"b\"\"\"\n"
        );
    }

    #[test]
    fn csv_neutralises_formulas_in_text_but_not_numbers() {
        let r = Report {
            title: "=HYPERLINK(\"x\")".into(),
            sections: vec![Section {
                key: "plan".into(),
                title: "Plan".into(),
                text: String::new(),
                json: serde_json::json!({"d": -1.5, "s": "@SUM(A1)", "t": "-2+3", "u": "line\nbreak"}),
            }],
        };
        assert_eq!(
            csv_text(&r),
            "field,value\nplan.d,-1.5\nplan.s,'@SUM(A1)\nplan.t,'-2+3\nplan.u,\"line\nbreak\"\nscenario,\"'=HYPERLINK(\"\"x\"\")\"\n"
        );
    }
}
