//! The reliability simulation (`simulate`) as text, JSON and an event-log CSV.

use crate::fmt::*;
use crate::Section;
use sim::engine::Event;
use sim::Summary;

/// The reliability section of the pipeline's Monte Carlo, saying where its step time came from.
pub fn of(r: &pipeline::Reliability) -> Section {
    let source = step_source(r.step_source);
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
            "6·N·tokens at {:.0}% MFU (the step model found no valid layout)",
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
                "{} GPUs on {} nodes, preset `{}`, {} replicas (seed {})",
                thousands(s.job_gpus as f64),
                thousands(s.job_nodes as f64),
                s.preset,
                thousands(s.replicas as f64),
                s.seed
            ),
        ),
        ("Wall-clock per replica (mean)".into(), duration(wall)),
        ("ETTR (goodput)".into(), pct3(&s.ettr)),
        (
            "Closed form (Kokolis E[ETTR])".into(),
            percent(s.closed_form_ettr),
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
                format!(
                    "{} (covers the peak nodes in repair)",
                    thousands(r.standby_nodes as f64)
                ),
            ),
        ]));
    }
    out
}

/// One replica's event log as CSV: `t_s,kind,what,nodes,nodes_in_repair,standby_nodes`.
pub fn events_csv(events: &[Event]) -> String {
    let mut out = String::from("t_s,kind,what,nodes,nodes_in_repair,standby_nodes\n");
    for e in events {
        out.push_str(&format!(
            "{:.3},{},{},{},{},{}\n",
            e.t_s,
            e.kind,
            e.what.replace(',', ";"),
            e.nodes,
            e.nodes_in_repair,
            e.standby_nodes
        ));
    }
    out
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
