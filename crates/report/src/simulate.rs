//! The reliability simulation (`simulate`) as text, JSON and an event-log CSV.

use crate::fmt::*;
use crate::Section;
use sim::engine::Event;
use sim::Summary;

/// The reliability section of the pipeline's Monte Carlo, saying where its step time came from.
pub fn of(r: &pipeline::Reliability) -> Section {
    let source = match (&r.step_source, &r.fallback_reason) {
        (pipeline::StepSource::Fallback, Some(why)) => format!(
            "6·N·tokens at {:.0}% MFU (the step model cannot run the job: {why})",
            sim::input::FALLBACK_MFU * 100.0
        ),
        _ => step_source(r.step_source),
    };
    let mut sec = section(&r.summary);
    sec.text.push_str(&format!("  Step time from: {source}\n"));
    if let serde_json::Value::Object(m) = &mut sec.json {
        m.insert("step_time_source".into(), source.into());
    }
    sec
}

/// Where the reliability model's step time came from, in words.
pub fn step_source(s: pipeline::StepSource) -> String {
    match s {
        pipeline::StepSource::Given => "[reliability] step_time".into(),
        pipeline::StepSource::StepModel => "step model".into(),
        pipeline::StepSource::Fallback => format!(
            "6·N·tokens at {:.0}% MFU (the step model cannot run the job: no layout fits, or the layout given is invalid; `megacluster train` says why)",
            sim::input::FALLBACK_MFU * 100.0
        ),
        pipeline::StepSource::NoJob => "default (no job in the scenario)".into(),
    }
}

pub fn section(s: &Summary) -> Section {
    Section {
        key: "reliability".into(),
        title: "Reliability: failures, checkpoints, spares and goodput".into(),
        text: text(s),
        json: serde_json::to_value(s).unwrap_or(serde_json::Value::Null),
    }
}

fn pct3(d: &sim::monte::Dist) -> String {
    format!(
        "{} (p5 {}, p50 {}, p95 {})",
        percent(d.mean),
        percent(d.p5),
        percent(d.p50),
        percent(d.p95)
    )
}

pub fn text(s: &Summary) -> String {
    let mut out = String::new();
    let wall = s.wall_s.mean;
    out.push_str(&rows(&[
        (
            "Job".into(),
            format!(
                "{} GPUs on {} nodes, preset `{}`{}, {} replicas (seed {})",
                thousands(s.job_gpus as f64),
                thousands(s.job_nodes as f64),
                s.preset,
                if s.design == sim::Design::Restart {
                    String::new()
                } else {
                    format!(", recovery `{}`", s.design.name())
                },
                thousands(s.replicas as f64),
                s.seed
            ),
        ),
        ("Wall-clock per replica (mean)".into(), duration(wall)),
        ("ETTR (goodput)".into(), pct3(&s.ettr)),
        (
            if s.design == sim::Design::Restart {
                "Closed form (Kokolis E[ETTR])".into()
            } else {
                "Closed form (renewal, per design)".into()
            },
            closed_form(s.closed_form_ettr, s.closed_form_note.as_deref()),
        ),
        (
            "Unexpected interruptions".into(),
            format!(
                "{:.1} (p5 {:.0}, p95 {:.0}); planned {:.1}",
                s.interruptions.mean,
                s.interruptions.p5,
                s.interruptions.p95,
                s.interruptions.planned_mean
            ),
        ),
        (
            "Job MTTF (exposure / interruptions)".into(),
            duration(s.job_mttf_s),
        ),
        ("Step time".into(), duration(s.step_time_s)),
        (
            "Checkpoint interval / write / load".into(),
            format!(
                "{} / {} / {}",
                duration(s.checkpoint_interval_s),
                duration(s.checkpoint_write_s),
                duration(s.checkpoint_load_s)
            ),
        ),
        (
            "Restart with a warm standby".into(),
            duration(s.restart_overhead_s),
        ),
    ]));

    if let Some(n) = &s.progress_note {
        out.push_str(&format!("\n  Note: {n}\n"));
    }
    out.push_str("\n  Interruptions by cause (mean per replica)\n");
    let body: Vec<Vec<String>> = s
        .interruptions
        .by_cause
        .iter()
        .filter(|(_, v)| **v > 0.0)
        .map(|(k, v)| {
            vec![
                k.replace('_', " "),
                format!("{v:.1}"),
                percent(if s.interruptions.mean > 0.0 {
                    v / s.interruptions.mean
                } else {
                    0.0
                }),
            ]
        })
        .collect();
    out.push_str(&table(&["cause", "count", "share"], &body));

    out.push_str("\n  Lost time by cause (mean per replica)\n");
    let l = &s.lost_time_s_by_cause;
    let share = |v: f64| percent(if wall > 0.0 { v / wall } else { 0.0 });
    let body = vec![
        vec![
            "lost work (recomputed)".into(),
            duration(l.lost_work_s),
            share(l.lost_work_s),
        ],
        vec!["restart".into(), duration(l.restart_s), share(l.restart_s)],
        vec![
            "waiting for spares".into(),
            duration(l.waiting_for_spares_s),
            share(l.waiting_for_spares_s),
        ],
        vec![
            "checkpoint writes".into(),
            duration(l.checkpoint_write_s),
            share(l.checkpoint_write_s),
        ],
        vec![
            "planned maintenance".into(),
            duration(l.planned_maintenance_s),
            share(l.planned_maintenance_s),
        ],
    ];
    let mut body = body;
    if l.contained_recovery_s > 0.0 {
        body.push(vec![
            "contained recoveries".into(),
            duration(l.contained_recovery_s),
            share(l.contained_recovery_s),
        ]);
    }
    if l.degraded_s > 0.0 {
        body.push(vec![
            "replicas out (elastic)".into(),
            duration(l.degraded_s),
            share(l.degraded_s),
        ]);
    }
    out.push_str(&table(&["cause", "time", "of wall"], &body));

    let sp = &s.spares;
    out.push_str("\n  Spare pools\n");
    out.push_str(&rows(&[
        (
            "Warm standbys / idle / spare pool".into(),
            format!(
                "{} / {} / {} nodes",
                thousands(sp.standby_nodes as f64),
                thousands(sp.idle_nodes as f64),
                thousands(sp.spare_pool_nodes as f64)
            ),
        ),
        (
            "Nodes in repair (mean / peak p50 / peak p95)".into(),
            format!(
                "{:.1} / {:.0} / {:.0}",
                sp.mean_nodes_in_repair, sp.peak_nodes_in_repair.p50, sp.peak_nodes_in_repair.p95
            ),
        ),
        (
            "Standbys available (mean / lowest, mean)".into(),
            format!(
                "{:.1} / {:.1}",
                sp.mean_standby_nodes, sp.min_standby_nodes_mean
            ),
        ),
        (
            "Replicas that waited for spares".into(),
            percent(sp.replicas_waiting_fraction),
        ),
    ]));

    if let Some(r) = &s.recommendation {
        out.push_str(&format!(
            "\n  Recommendations (for {} of runs)\n",
            percent(r.target_percentile)
        ));
        out.push_str(&rows(&[
            (
                "Checkpoint interval".into(),
                format!(
                    "{} (ETTR {} in {} of runs; Daly's optimum {})",
                    duration(r.checkpoint_interval_s),
                    percent(r.ettr_at_target),
                    percent(r.target_percentile),
                    duration(r.daly_interval_s)
                ),
            ),
            (
                "Warm standby nodes".into(),
                // the recommendation's own runs at its checkpoint interval, fewer than the
                // summary's: its peak can differ from the "peak p95" above
                format!(
                    "{} (covers the peak nodes in repair in {} of the recommendation's own runs, at its checkpoint interval; fewer runs than the peak p95 above)",
                    thousands(r.standby_nodes as f64),
                    percent(r.target_percentile)
                ),
            ),
        ]));
    }
    out
}

/// A closed-form figure, or "does not apply (why)".
pub fn closed_form(v: Option<f64>, note: Option<&str>) -> String {
    match (v, note) {
        (Some(v), _) => percent(v),
        (None, Some(why)) => format!("does not apply ({why})"),
        (None, None) => "does not apply".into(),
    }
}

/// The recovery designs side by side: goodput, cost, lost time by cause, what each needs, and the
/// recommendation.
pub fn designs_text(c: &sim::designs::Comparison) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "\n  Recovery designs side by side ({} GPUs: {} data-parallel replicas of {} GPUs; {} runs each; GPU-hour at {})\n",
        thousands(c.job_gpus as f64),
        thousands(c.replicas as f64),
        thousands(c.replica_gpus as f64),
        thousands(c.replicas_per_design as f64),
        usd(c.usd_per_gpu_hour)
    ));
    let at = format!("in {} of runs", percent(c.target_share));
    let body: Vec<Vec<String>> = c
        .designs
        .iter()
        .map(|d| {
            vec![
                d.design.name().into(),
                percent(d.summary.ettr.mean),
                percent(d.ettr_at_target_share),
                match &d.closed_form {
                    sim::formulas::ClosedForm::Value(v) => percent(*v),
                    sim::formulas::ClosedForm::DoesNotApply(_) => "n/a".into(),
                },
                if d.design == sim::Design::Restart {
                    duration(d.summary.restart_overhead_s)
                } else if d.design == sim::Design::InMemory {
                    duration(
                        d.summary.restart_overhead_s - d.summary.checkpoint_load_s
                            + d.timings.fetch_s,
                    )
                } else {
                    duration(d.timings.downtime_s)
                },
                thousands(d.needs.spare_nodes as f64),
                usd(d.cost_usd_per_year),
                format!("{}M", thousands(d.lost_gpu_hours_per_year / 1e6)),
                usd(d.saved_usd_per_year),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "design",
            "goodput",
            &at,
            "closed form",
            "job stall per failure",
            "spare nodes",
            "spares / yr",
            "GPU-h lost / yr",
            "saved / yr vs restart",
        ],
        &body,
    ));
    out.push_str("\n  Lost time by cause (share of the wall clock)\n");
    let body: Vec<Vec<String>> = c
        .designs
        .iter()
        .map(|d| {
            let l = &d.summary.lost_time_s_by_cause;
            let w = d.summary.wall_s.mean.max(1e-9);
            let f = |v: f64| percent(v / w);
            vec![
                d.design.name().into(),
                f(l.lost_work_s),
                f(l.restart_s),
                f(l.contained_recovery_s),
                f(l.degraded_s),
                f(l.checkpoint_write_s),
                f(l.waiting_for_spares_s),
                f(l.planned_maintenance_s),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "design",
            "lost work",
            "restart",
            "contained",
            "replicas out",
            "ckpt writes",
            "waiting",
            "maintenance",
        ],
        &body,
    ));
    out.push_str("\n  What each design needs\n");
    let body: Vec<Vec<String>> = c
        .designs
        .iter()
        .map(|d| {
            let n = &d.needs;
            let b = |v: f64| if v > 0.0 { bytes(v) } else { "—".into() };
            vec![
                d.design.name().into(),
                b(n.extra_hbm_bytes_per_gpu),
                b(n.host_memory_bytes_per_node),
                if n.steady_bytes_per_s_per_node > 0.0 {
                    format!("{}/s", bytes(n.steady_bytes_per_s_per_node))
                } else {
                    "—".into()
                },
                b(n.recovery_bytes_per_node),
                if d.design == sim::Design::ElasticDp {
                    format!(
                        "{} / {} ({:.2} waiting, {:.2} rebuilding)",
                        percent(n.mean_replicas_running_share),
                        percent(n.lowest_replicas_running_share),
                        n.mean_replicas_waiting,
                        n.mean_replicas_rebuilding
                    )
                } else {
                    "—".into()
                },
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "design",
            "extra HBM / GPU",
            "host memory / node",
            "steady traffic / node",
            "fetch per recovery / node",
            "replicas training: mean / lowest (out: waiting, rebuilding)",
        ],
        &body,
    ));
    out.push_str("\n  Consequences\n");
    let body: Vec<(String, String)> = c
        .designs
        .iter()
        .map(|d| (d.design.name().to_string(), d.needs.consequence.clone()))
        .collect();
    out.push_str(&rows(&body));
    out.push_str("\n  Mechanisms\n");
    let body: Vec<(String, String)> = c
        .designs
        .iter()
        .map(|d| (d.design.name().to_string(), d.mechanism.clone()))
        .collect();
    out.push_str(&rows(&body));
    out.push_str(&format!("  Recommendation: {}\n", c.recommendation));
    out
}

/// Append the comparison to a section, in text and JSON (`designs`).
pub fn with_designs(mut sec: Section, c: &sim::designs::Comparison) -> Section {
    sec.text.push_str(&designs_text(c));
    if let serde_json::Value::Object(m) = &mut sec.json {
        m.insert(
            "designs".into(),
            serde_json::to_value(c).unwrap_or(serde_json::Value::Null),
        );
    }
    sec
}

/// Goodput against GPU count, one line per design (mean over runs).
pub fn sweep_figure(sweeps: &[sim::designs::Sweep]) -> crate::html::Figure {
    let series: Vec<crate::svg::Series> = sweeps
        .iter()
        .map(|s| crate::svg::Series {
            name: s.design.name().into(),
            points: s
                .points
                .iter()
                .map(|(g, d)| (*g as f64, d.mean * 100.0))
                .collect(),
        })
        .collect();
    crate::html::Figure {
        section: "reliability".into(),
        title: "Goodput against GPU count, per recovery design".into(),
        svg: crate::svg::line_chart(
            "Goodput (ETTR) against GPU count, per recovery design",
            "GPUs in the job",
            "goodput (%)",
            &series,
            true,
            false,
        ),
    }
}

/// One replica's event log as CSV: `t_s,kind,what,nodes,nodes_in_repair,standby_nodes`.
pub fn events_csv(events: &[Event]) -> String {
    let header = [
        "t_s",
        "kind",
        "what",
        "nodes",
        "nodes_in_repair",
        "standby_nodes",
    ]
    .map(String::from);
    let rows = events.iter().map(|e| {
        [
            format!("{:.3}", e.t_s),
            crate::fmt::csv_text_cell(&e.kind),
            crate::fmt::csv_text_cell(&e.what),
            e.nodes.to_string(),
            e.nodes_in_repair.to_string(),
            e.standby_nodes.to_string(),
        ]
    });
    crate::fmt::csv_rows(std::iter::once(header).chain(rows))
}

/// Charts for the HTML report: the distribution of goodput (ETTR) over replicas and where the
/// lost time goes.
pub fn figures(s: &Summary, ettr_per_replica: &[f64]) -> Vec<crate::html::Figure> {
    let l = &s.lost_time_s_by_cause;
    let lost = vec![
        ("lost work".to_string(), l.lost_work_s),
        ("restart".to_string(), l.restart_s),
        ("waiting for spares".to_string(), l.waiting_for_spares_s),
        ("checkpoint writes".to_string(), l.checkpoint_write_s),
        ("planned maintenance".to_string(), l.planned_maintenance_s),
    ];
    let pct: Vec<f64> = ettr_per_replica.iter().map(|e| e * 100.0).collect();
    let bins = (pct.len() as f64).sqrt().ceil().clamp(5.0, 40.0) as usize;
    vec![
        crate::html::Figure {
            section: "reliability".into(),
            title: "Goodput (ETTR) over replicas".into(),
            svg: crate::svg::histogram(
                &format!("Goodput (ETTR) over {} replicas", ettr_per_replica.len()),
                "effective training time ratio (%)",
                &pct,
                bins,
            ),
        },
        crate::html::Figure {
            section: "reliability".into(),
            title: "Lost time by cause (mean per run)".into(),
            svg: crate::svg::stacked_bar("Lost time by cause (mean per run)", "s", &lost),
        },
    ]
}
