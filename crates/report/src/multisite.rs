//! The multi-site analysis (`multisite`) as text, JSON, a sweep CSV and charts.

use crate::fmt::*;
use crate::Section;
use multisite::{Analysis, BasisNote, Note, ReplicaIssue, SweepPoint};

pub fn section(a: &Analysis) -> Section {
    let mut json = serde_json::to_value(a).unwrap_or(serde_json::Value::Null);
    if let Some(o) = json.as_object_mut() {
        o.insert("notes".into(), notes(a).into());
        if let Some(serde_json::Value::Array(v)) = o.get_mut("strategies") {
            for (j, s) in v.iter_mut().zip(&a.strategies) {
                j["note"] = note(&s.outcome.note).into();
            }
        }
    }
    Section {
        key: "multisite".into(),
        title: "Multi-site training: efficiency against one site".into(),
        text: text(a),
        json,
    }
}

/// What a strategy's figures rest on, or why it cannot run, in words.
pub fn note(n: &Note) -> String {
    match n {
        Note::OneSite => "one site: nothing crosses sites".into(),
        Note::NoPath => {
            "the cross-site links cannot carry this strategy's traffic (no path or zero capacity)"
                .into()
        }
        Note::PipelineSplit { pp, sites } => format!(
            "the layout has pp = {pp}, which does not split into {sites} sites (pipeline across sites needs pp a multiple of the site count)"
        ),
        Note::UnequalSites => "pipeline stages across sites need sites of equal GPU counts (each site holds the same number of stages)".into(),
        Note::Dp {
            params,
            sites,
            overlap,
        } => format!(
            "gradients of {params:.3e} parameters in bf16 all-reduced across {sites} sites every step{}",
            if *overlap {
                ", overlapped with the last microbatch's backward through the pipeline"
            } else {
                ", not overlapped"
            }
        ),
        Note::Pipeline {
            stages_per_site,
            tokens,
            hidden,
            boundaries,
        } => format!(
            "{stages_per_site} stages per site; activations of {tokens:.3e} tokens × {hidden} hidden cross {boundaries} boundaries"
        ),
        Note::Diloco {
            replicas,
            inner_steps,
            compression,
        } => format!(
            "{replicas} replicas, outer sync every H = {inner_steps} inner steps in {compression}, blocking"
        ),
        Note::StreamingDiloco {
            replicas,
            fragments,
            inner_steps,
            overlap_steps,
            compression,
        } => format!(
            "{replicas} replicas, {fragments} fragments, H = {inner_steps}, each exchange overlapping {overlap_steps} inner step(s), {compression}"
        ),
    }
}

/// Why a site's DiLoCo replica cannot run the layout, in words.
pub fn replica_issue(r: &ReplicaIssue) -> String {
    match r {
        ReplicaIssue::NotWholeBlocks { gpus, block } => {
            format!("a site of {gpus} GPUs is not a whole number of tp × pp × cp = {block} blocks")
        }
        ReplicaIssue::DoesNotRun { gpus } => {
            format!("the layout does not run on a {gpus}-GPU site alone")
        }
    }
}

/// The analysis's notes in words: what the basis rests on, then how goodput was obtained.
pub fn notes(a: &Analysis) -> Vec<String> {
    let mut out: Vec<String> = a
        .notes
        .iter()
        .map(|n| match n {
            BasisNote::DoesNotFit {
                needs_bytes,
                capacity_bytes,
            } => format!(
                "the layout does not fit in memory ({}); figures are indicative",
                crate::train::does_not_fit(*needs_bytes, *capacity_bytes)
            ),
            BasisNote::InnerStepFallback(why) => format!(
                "{}: the DiLoCo inner step is taken as the single-site step",
                replica_issue(why)
            ),
        })
        .collect();
    if let Some(p) = &a.goodput_preset {
        let design = a.goodput_design.as_deref().unwrap_or("restart");
        out.push(format!(
            "goodput: the reliability model's closed-form ETTR (renewal, per recovery design) of the `{design}` design with the preset `{p}`, for one failure domain of all GPUs (synchronous strategies) and of each site alone (DiLoCo strategies)"
        ));
    }
    out
}

/// A strategy's goodput: the figure, "does not apply" where the closed form gives none, "–" when
/// the reliability model did not run.
fn goodput(s: &multisite::StrategyReport) -> String {
    match (s.goodput, &s.goodput_note) {
        (Some(g), _) => percent(g),
        (None, Some(_)) => "does not apply".into(),
        (None, None) => "–".into(),
    }
}

fn bps(bits: f64) -> String {
    si(bits, "bit/s")
}

fn km(m: f64) -> String {
    format!("{} km", thousands(m / 1e3))
}

fn need(n: Option<f64>) -> String {
    match n {
        Some(c) => bps(c),
        None => "not reachable".into(),
    }
}

/// "20 % or 50 %?": which band the best and the worst feasible strategies fall in.
pub fn verdict(a: &Analysis) -> String {
    let feasible: Vec<_> = a.strategies.iter().filter(|s| s.outcome.feasible).collect();
    if feasible.is_empty() {
        return "no strategy can run on this site graph".into();
    }
    let mut parts = vec![];
    for s in &feasible {
        parts.push(format!(
            "{} {}",
            s.outcome.name,
            percent(1.0 - s.outcome.efficiency)
        ));
    }
    let best = feasible
        .iter()
        .max_by(|x, y| x.outcome.efficiency.total_cmp(&y.outcome.efficiency))
        .map(|s| (s.outcome.name.clone(), 1.0 - s.outcome.efficiency))
        .unwrap_or_default();
    let band = |l: f64| {
        if l <= 0.05 {
            "under 5 %"
        } else if l <= 0.20 {
            "5–20 %"
        } else if l <= 0.50 {
            "20–50 %"
        } else {
            "over 50 %"
        }
    };
    let mut out = format!(
        "loss against one site: {}; best: {} at {} ({})",
        parts.join(", "),
        best.0,
        percent(best.1),
        band(best.1)
    );
    let tuned = feasible
        .iter()
        .filter_map(|s| Some((s, s.best_inner_steps?, s.best_efficiency?)))
        .max_by(|x, y| x.2.total_cmp(&y.2));
    if let Some((s, h, e)) = tuned {
        if 1.0 - e < best.1 - 1e-9 {
            out.push_str(&format!(
                "; {} at H = {h}: {} ({})",
                s.outcome.name,
                percent(1.0 - e),
                band(1.0 - e)
            ));
        }
    }
    out
}

pub fn text(a: &Analysis) -> String {
    let b = &a.basis;
    let mut out = String::new();
    let sites = a
        .sites
        .iter()
        .map(|s| format!("{} ({})", s.name, thousands(s.gpus as f64)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut top: Vec<(String, String)> = vec![
        (
            "Sites".into(),
            format!("{} sites, {} GPUs: {}", a.sites.len(), thousands(b.gpus as f64), sites),
        ),
        ("Cross-site ring".into(), a.ring.join(" → ")),
        (
            "Job".into(),
            format!(
                "{}, {} tokens per step, layout tp {} × pp {} × dp {} × cp {} (ep {}), {} microbatches",
                b.model,
                si(b.tokens_per_step, "").trim_end(),
                b.tp,
                b.pp,
                b.dp,
                b.cp,
                b.ep,
                b.microbatches
            ),
        ),
        (
            "Same GPUs in one site".into(),
            format!(
                "{} per step, {}, MFU {}",
                duration(a.single_site_step_s),
                si(a.single_site_tokens_per_s, "tokens/s"),
                percent(b.mfu)
            ),
        ),
        (
            "DiLoCo inner step (one site's replica)".into(),
            duration(b.inner_step_s),
        ),
        (
            "[job.sync]".into(),
            format!(
                "strategy {}, H = {} inner steps, fragments {}, overlap {} step(s), {} outer gradients, DP overlap {}",
                a.configured,
                a.sync.inner_steps,
                a.sync
                    .fragments
                    .map(|f| f.to_string())
                    .unwrap_or_else(|| format!("{} (3 layers each)", (b.layers / 3).max(1))),
                a.sync.overlap_steps,
                a.sync.compression.name(),
                if a.sync.overlap { "on" } else { "off" }
            ),
        ),
    ];
    if let Some(c) = &a.costs {
        top.push((
            "Cluster TCO".into(),
            format!(
                "{}/yr: each point of efficiency lost is {}/yr of the cluster that buys no progress{}",
                usd(c.cluster_tco_usd_per_year),
                usd(0.01 * c.cluster_tco_usd_per_year),
                c.links_usd_per_year
                    .map(|l| format!("; the links cost {}/yr", usd(l)))
                    .unwrap_or_default()
            ),
        ));
    }
    out.push_str(&rows(&top));
    out.push_str("\n  Links\n");
    let body: Vec<Vec<String>> = a
        .links
        .iter()
        .map(|l| {
            vec![
                format!("{} – {}", l.between[0], l.between[1]),
                km(l.distance_m),
                duration(l.latency_s),
                bps(l.capacity_bits_per_s),
                l.cost_usd.map(usd).unwrap_or_else(|| "–".into()),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "link",
            "fiber route",
            "one-way latency",
            "capacity each way",
            "cost",
        ],
        &body,
    ));

    out.push_str(
        "\n  Strategies (efficiency = tokens/s × quality against the same GPUs in one site)\n",
    );
    let loss_usd = |i: usize| -> String {
        a.costs
            .as_ref()
            .and_then(|c| c.loss_usd_per_year.get(i).copied().flatten())
            .map(|v| format!("{}/yr", usd(v)))
            .unwrap_or_else(|| "–".into())
    };
    let body: Vec<Vec<String>> = a
        .strategies
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let o = &s.outcome;
            let name = if o.name == a.configured {
                format!("{} *", o.name)
            } else {
                o.name.clone()
            };
            if !o.feasible {
                return vec![
                    name,
                    "n/a".into(),
                    "n/a".into(),
                    "n/a".into(),
                    "n/a".into(),
                    "n/a".into(),
                    "n/a".into(),
                    "n/a".into(),
                    "n/a".into(),
                ];
            }
            vec![
                name,
                si(o.tokens_per_s, "tokens/s"),
                percent(o.efficiency),
                percent(1.0 - o.efficiency),
                loss_usd(i),
                bytes(o.cross_site_bytes_per_step),
                duration(o.exposed_s_per_step),
                percent(o.extra_tokens_fraction),
                goodput(s),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "strategy",
            "throughput",
            "efficiency",
            "loss",
            "loss in TCO",
            "cross-site / step",
            "exposed / step",
            "extra tokens",
            "goodput",
        ],
        &body,
    ));
    for s in a.strategies.iter().filter(|s| !s.outcome.feasible) {
        out.push_str(&format!(
            "  {} n/a: {}\n",
            s.outcome.name,
            note(&s.outcome.note)
        ));
    }
    for s in a.strategies.iter().filter(|s| s.outcome.feasible) {
        if let (Some(h), Some(e)) = (s.best_inner_steps, s.best_efficiency) {
            out.push_str(&format!(
                "  {} at its best H on these links: H = {h} inner steps, efficiency {} (loss {})\n",
                s.outcome.name,
                percent(e),
                percent(1.0 - e)
            ));
        }
    }
    if a.strategies
        .iter()
        .any(|s| s.efficiency_with_failures.is_some())
    {
        out.push_str("\n  With failures (efficiency × goodput, against one site without failures");
        if let Some(g) = a.single_site_goodput {
            out.push_str(&format!(
                "; one site of all the GPUs has a goodput of {}",
                percent(g)
            ));
        } else if a.single_site_goodput_note.is_some() {
            out.push_str("; the closed form does not apply to one site of all the GPUs");
        }
        out.push_str(")\n");
        let body: Vec<Vec<String>> = a
            .strategies
            .iter()
            .filter(|s| s.outcome.feasible)
            .map(|s| {
                vec![
                    s.outcome.name.clone(),
                    goodput(s),
                    s.efficiency_with_failures
                        .map(percent)
                        .unwrap_or_else(|| "–".into()),
                ]
            })
            .collect();
        out.push_str(&table(
            &["strategy", "goodput", "efficiency with failures"],
            &body,
        ));
    }
    for s in a.strategies.iter().filter(|s| s.outcome.feasible) {
        if let Some(why) = &s.goodput_note {
            out.push_str(&format!(
                "  {} goodput does not apply: {why}\n",
                s.outcome.name
            ));
        }
    }

    out.push_str("\n  Capacity per link (all links alike, [job.sync] as configured) to hold the loss at or under\n");
    let mut header = vec!["strategy".to_string()];
    if let Some(s) = a.strategies.first() {
        for n in &s.needs {
            header.push(format!("≤ {}", percent(n.target_loss_fraction)));
        }
    }
    let body: Vec<Vec<String>> = a
        .strategies
        .iter()
        .map(|s| {
            let mut r = vec![s.outcome.name.clone()];
            for n in &s.needs {
                r.push(need(n.link_capacity_bits_per_s));
            }
            r
        })
        .collect();
    let h: Vec<&str> = header.iter().map(|s| s.as_str()).collect();
    out.push_str(&table(&h, &body));

    out.push_str(&format!("\n  Answer: {}\n", verdict(a)));
    let notes = notes(a);
    if !notes.is_empty() {
        out.push_str("\n  Notes\n");
        for n in &notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    out
}

/// The sweep as CSV: one row per (sites, distance, capacity), one efficiency column per strategy
/// (empty where the strategy cannot run).
pub fn sweep_csv(points: &[SweepPoint]) -> String {
    let mut header: Vec<String> = ["sites", "distance_m", "capacity_bits_per_s"]
        .map(String::from)
        .into();
    if let Some(p) = points.first() {
        for (n, _) in &p.efficiency {
            header.push(crate::fmt::csv_text_cell(&format!(
                "{}_efficiency",
                n.replace('-', "_")
            )));
        }
    }
    let rows = points.iter().map(|p| {
        let mut r = vec![
            p.sites.to_string(),
            p.distance_m.to_string(),
            p.capacity_bits_per_s.to_string(),
        ];
        for (_, e) in &p.efficiency {
            r.push(match e {
                Some(e) if e.is_finite() => format!("{e:.6}"),
                _ => String::new(), // the strategy cannot run there
            });
        }
        r
    });
    crate::fmt::csv_rows(std::iter::once(header).chain(rows))
}

/// Heatmap of efficiency loss (%) of `strategy` over distance (km, columns) × capacity per link
/// (Tbit/s, rows), for the points of one site count.
pub fn heatmap(points: &[SweepPoint], sites: usize, strategy: &str) -> String {
    let pts: Vec<&SweepPoint> = points.iter().filter(|p| p.sites == sites).collect();
    let mut xs: Vec<f64> = vec![];
    let mut ys: Vec<f64> = vec![];
    for p in &pts {
        if !xs.contains(&p.distance_m) {
            xs.push(p.distance_m);
        }
        if !ys.contains(&p.capacity_bits_per_s) {
            ys.push(p.capacity_bits_per_s);
        }
    }
    let z: Vec<Vec<f64>> = ys
        .iter()
        .map(|y| {
            xs.iter()
                .map(|x| {
                    pts.iter()
                        .find(|p| p.distance_m == *x && p.capacity_bits_per_s == *y)
                        .and_then(|p| p.efficiency.iter().find(|(n, _)| n == strategy))
                        .and_then(|(_, e)| *e)
                        .map(|e| 100.0 * (1.0 - e))
                        .unwrap_or(f64::NAN)
                })
                .collect()
        })
        .collect();
    let xk: Vec<f64> = xs.iter().map(|x| x / 1e3).collect();
    let yt: Vec<f64> = ys.iter().map(|y| y / 1e12).collect();
    crate::svg::heatmap(
        &format!("Efficiency loss of {strategy} across {sites} sites"),
        "fiber route per link (km)",
        "capacity per link (Tbit/s)",
        &xk,
        &yt,
        &z,
        "loss against one site (%)",
    )
}

/// Bar chart of each feasible strategy's efficiency (%).
pub fn strategy_bars(a: &Analysis) -> String {
    let bars: Vec<(String, f64)> = a
        .strategies
        .iter()
        .filter(|s| s.outcome.feasible)
        .map(|s| (s.outcome.name.clone(), 100.0 * s.outcome.efficiency))
        .collect();
    crate::svg::bar_chart("Efficiency against the same GPUs in one site", "%", &bars)
}

/// Charts for the HTML report: the configured strategy's loss over distance × capacity per link
/// (`points` of a sweep at the scenario's `sites` count) and every strategy against one site.
pub fn figures(a: &Analysis, points: &[SweepPoint], sites: usize) -> Vec<crate::html::Figure> {
    vec![
        crate::html::Figure {
            section: "multisite".into(),
            title: format!(
                "Efficiency loss of {} over distance and capacity per link",
                a.configured
            ),
            svg: heatmap(points, sites, &a.configured),
        },
        crate::html::Figure {
            section: "multisite".into(),
            title: "Efficiency of each strategy against one site".into(),
            svg: strategy_bars(a),
        },
    ]
}

/// Efficiency loss (%) of every strategy against the capacity per link (Tbit/s, log axis), at one
/// fiber distance, from `points` of a sweep at `sites` sites; a dashed line at the scenario's own
/// capacity per link (`at_bits_per_s`, its thinnest link).
pub fn loss_figure(
    points: &[SweepPoint],
    sites: usize,
    distance_m: f64,
    at_bits_per_s: f64,
) -> crate::html::Figure {
    let pts: Vec<&SweepPoint> = points.iter().filter(|p| p.sites == sites).collect();
    let names: Vec<String> = pts
        .first()
        .map(|p| p.efficiency.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    let series: Vec<crate::svg::Series> = names
        .iter()
        .map(|n| crate::svg::Series {
            name: n.clone(),
            points: pts
                .iter()
                .filter_map(|p| {
                    p.efficiency
                        .iter()
                        .find(|(m, _)| m == n)
                        .and_then(|(_, e)| *e)
                        .filter(|e| e.is_finite())
                        .map(|e| (p.capacity_bits_per_s / 1e12, 100.0 * (1.0 - e)))
                })
                .collect(),
        })
        .collect();
    let title = format!(
        "Efficiency loss against capacity per link ({sites} sites, {} km of fiber per link)",
        crate::fmt::thousands((distance_m / 1e3).round())
    );
    let marks = [crate::svg::Mark {
        horizontal: false,
        at: at_bits_per_s / 1e12,
        label: format!("this scenario: {}", crate::fmt::si(at_bits_per_s, "bit/s")),
    }];
    crate::html::Figure {
        section: "multisite".into(),
        title: "Efficiency loss against capacity per link".into(),
        svg: crate::svg::line_chart_marked(
            &title,
            "capacity per link (Tbit/s)",
            "loss against one site (%)",
            &series,
            true,
            false,
            &marks,
        ),
    }
}
