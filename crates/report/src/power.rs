//! The power, grid and cooling study (`power`) as text and JSON.
//!
//! JSON: the grid import with the scenario's mitigations at the top level (`peak_w`, `swing_w`,
//! `max_ramp_w_per_s`, `band_energy_fraction`, `passes`, `mitigation_energy_overhead_fraction`, …),
//! the same figures without mitigation under `raw`, one entry per grid-code rule under `rules`,
//! costs, the run's energy by state, cooling, and the solver's answer under `solve`.

use crate::fmt::*;
use crate::html::Figure;
use crate::svg::{self, Series};
use crate::Section;
use pipeline::{PowerNote, SiteStudy, StepIssue};
use power::analysis::{Analysis, Mitigation};
use power::cooling::CoolingYear;
use power::grid::{Metrics, RuleCheck};
use power::solve::{Candidate, Solution};
use power::{Study, StudyTraces};
use serde_json::{json, Map, Value};

/// The power section: the first site's study, its notes, and for several sites the table of
/// every site against its own grid connection (JSON `sites`).
pub fn section(p: &pipeline::Power) -> Section {
    let notes: Vec<String> = p.notes.iter().map(note).collect();
    let mut text = text(&p.study, &notes);
    let mut json = to_json(&p.study, &notes);
    if !p.sites.is_empty() {
        text.push_str(&sites_text(&p.sites));
        if let Some(o) = json.as_object_mut() {
            o.insert("sites".into(), sites_json(&p.sites));
        }
    }
    Section {
        key: "power".into(),
        title: "Power: trace, grid code, mitigations, cooling".into(),
        text,
        json,
    }
}

/// A note of the power section in words.
pub fn note(n: &PowerNote) -> String {
    match n {
        PowerNote::FirstSiteOf { site, sites } => format!(
            "the trace, rules, costs and cooling above are the first site's, `{site}`, of {sites}; every site against its own grid connection follows"
        ),
        PowerNote::Spares { job, installed } => format!(
            "{job} of the site's {installed} GPUs run the job ([job] gpus); the other {} are spares held at idle",
            installed - job
        ),
        PowerNote::SyntheticStepUnused => "[power] step_time / compute_fraction / comm_activity are not used: the step model gives the step".into(),
        PowerNote::SyntheticStep => "step shape: synthetic (compute, then exposed communication; [power] step_time, compute_fraction, comm_activity), no step model profile given".into(),
        PowerNote::SteadyRun => "timeline: steady training (no reliability timeline given)".into(),
        PowerNote::ClimateFallback => {
            "climate: none matches the site; using `memphis` (set [power] climate)".into()
        }
        PowerNote::StepModel(why) => format!(
            "step model: {}",
            match why {
                StepIssue::NoJob => "the scenario has no [job]".to_string(),
                StepIssue::NoLayout => "no parallel layout of the job runs on this cluster (`megacluster train` says why)".into(),
                StepIssue::Invalid(e) => e.clone(),
                StepIssue::BadShape => "its step profile has a phase with a negative or non-finite duration or an activity outside 0-1".into(),
            }
        ),
        PowerNote::MultiSiteFailed(why) => {
            format!("multi-site model: {why}; the step is the first site's job alone")
        }
        PowerNote::MultiSiteInfeasible { strategy, note } => format!(
            "multi-site model: `{strategy}` cannot run this job ({}); the step is the first site's job alone",
            crate::multisite::note(note)
        ),
        PowerNote::ReplicaFailed(why) => format!(
            "multi-site model: {}; the step is the first site's job alone",
            crate::multisite::replica_issue(why)
        ),
        PowerNote::MultiSiteStep {
            gpus,
            sites,
            strategy,
            single_site_step_s,
            wait_s,
        } => format!(
            "step: the job on all {} GPUs of {sites} sites ([job.sync] strategy `{strategy}`): {single_site_step_s:.3} s in one site plus {wait_s:.3} s of exposed cross-site synchronisation",
            thousands(*gpus as f64)
        ),
        PowerNote::DilocoReplica {
            strategy,
            inner_steps,
        } => format!(
            "step: the first site's DiLoCo replica on its share of the batch ([job.sync] strategy `{strategy}`); the outer synchronisation every {inner_steps} inner steps is not in the shape"
        ),
        PowerNote::SolveNotApplicable { islanded } => format!(
            "solve: not run: the site's generation follows the load ({}); the search sizes grid-code mitigations of a site whose grid carries the load",
            if *islanded {
                "islanded, no grid connection"
            } else {
                "its grid connection is short of the peak"
            }
        ),
    }
}

fn finite(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        Value::Null
    }
}

fn metrics_json(m: &Metrics) -> Map<String, Value> {
    let mut o = Map::new();
    for (k, v) in [
        ("peak_w", m.peak_w),
        ("min_w", m.min_w),
        ("mean_w", m.mean_w),
        ("swing_w", m.swing_w),
        ("max_ramp_w_per_s", m.max_ramp_w_per_s),
        ("max_ramp_up_w_per_s", m.max_ramp_up_w_per_s),
        ("max_ramp_down_w_per_s", m.max_ramp_down_w_per_s),
        ("max_sample_ramp_w_per_s", m.max_sample_ramp_w_per_s),
        ("max_window_range_w", m.max_window_range_w),
        ("ramp_window_s", m.ramp_window_s),
        ("band_low_hz", m.band_low_hz),
        ("band_high_hz", m.band_high_hz),
        ("band_energy_fraction", m.band_energy_fraction),
        ("band_ac_energy_fraction", m.band_ac_energy_fraction),
        ("dominant_hz", m.dominant_hz),
        ("band_peak_hz", m.band_peak_hz),
    ] {
        o.insert(k.into(), finite(v));
    }
    o
}

fn rule_json(raw: Option<&RuleCheck>, r: &RuleCheck) -> Value {
    let mut o = Map::new();
    o.insert("rule".into(), json!(r.rule));
    o.insert(format!("limit_{}", r.unit), finite(r.limit));
    o.insert(format!("value_{}", r.unit), finite(r.value));
    o.insert("passes".into(), json!(r.passes));
    if let Some(raw) = raw {
        o.insert(format!("raw_value_{}", r.unit), finite(raw.value));
        o.insert("raw_passes".into(), json!(raw.passes));
    }
    Value::Object(o)
}

fn mitigation_json(m: &Mitigation) -> Value {
    json!({
        "gpu_floor_fraction": finite(m.gpu.floor_fraction),
        "gpu_ramp_up_w_per_s": m.gpu.ramp_up_w_per_s.map(finite),
        "gpu_ramp_down_w_per_s": m.gpu.ramp_down_w_per_s.map(finite),
        "filler_activity": m.gpu.filler_activity.map(finite),
        "filler_slowdown_fraction": finite(m.filler_slowdown_fraction),
        "rack_storage_j_per_gpu": finite(m.rack_storage_j_per_gpu),
        "battery_power_w": m.battery.map(|b| finite(b.power_w)),
        "battery_energy_j": m.battery.map(|b| finite(b.energy_j)),
        "battery_efficiency": m.battery.map(|b| finite(b.efficiency)),
        "turbines_capacity_w": m.turbines.map(|t| finite(t.capacity_w)),
        "turbines_ramp_w_per_s": m.turbines.map(|t| finite(t.ramp_w_per_s)),
    })
}

/// The analysis as JSON: mitigated metrics at the top level, the unmitigated under `raw`.
fn analysis_json(a: &Analysis, m: &Mitigation) -> Map<String, Value> {
    let mut o = metrics_json(&a.mitigated);
    // (the grid code's rules and, where there is one, the supply check: an island whose plant
    // cannot follow its load, or an import above the connection, does not pass)
    o.insert(
        "passes".into(),
        json!(a.passes && a.supply.as_ref().is_none_or(|x| x.passes)),
    );
    o.insert("applies".into(), json!(a.applies));
    let mut raw = metrics_json(&a.raw);
    raw.insert("passes".into(), json!(a.raw_passes));
    o.insert("raw".into(), Value::Object(raw));
    let rules: Vec<Value> = a
        .checks
        .iter()
        .map(|r| rule_json(a.raw_checks.iter().find(|x| x.rule == r.rule), r))
        .collect();
    o.insert("rules".into(), Value::Array(rules));
    o.insert("mitigation".into(), mitigation_json(m));
    let c = &a.costs;
    for (k, v) in [
        (
            "mitigation_energy_overhead_fraction",
            c.energy_overhead_fraction,
        ),
        ("mitigation_energy_j_per_year", c.energy_overhead_j_per_year),
        ("mitigation_energy_usd_per_year", c.energy_usd_per_year),
        ("mitigation_battery_capex_usd", c.battery_capex_usd),
        (
            "mitigation_rack_storage_capex_usd",
            c.rack_storage_capex_usd,
        ),
        ("mitigation_capex_usd_per_year", c.capex_usd_per_year),
        (
            "mitigation_performance_loss_fraction",
            c.performance_loss_fraction,
        ),
        (
            "mitigation_performance_usd_per_year",
            c.performance_usd_per_year,
        ),
        ("mitigation_total_usd_per_year", c.total_usd_per_year),
        (
            "rack_energy_overhead_fraction",
            a.rack_energy_overhead_fraction,
        ),
        (
            "window_energy_overhead_fraction",
            a.window_energy_overhead_fraction,
        ),
        ("window_raw_j", a.window_raw_j),
        ("window_mitigated_j", a.window_mitigated_j),
    ] {
        o.insert(k.into(), finite(v));
    }
    o.insert(
        "battery".into(),
        a.battery
            .as_ref()
            .map(|b| serde_json::to_value(b).unwrap_or(Value::Null))
            .unwrap_or(Value::Null),
    );
    o.insert(
        "rack_storage".into(),
        a.rack_storage
            .as_ref()
            .map(|b| serde_json::to_value(b).unwrap_or(Value::Null))
            .unwrap_or(Value::Null),
    );
    o.insert(
        "turbines_max_ramp_w_per_s".into(),
        a.turbines_max_ramp_w_per_s
            .map(finite)
            .unwrap_or(Value::Null),
    );
    o.insert(
        "turbines_energy_j".into(),
        a.turbines_energy_j.map(finite).unwrap_or(Value::Null),
    );
    if let Some(x) = shown_supply(a) {
        o.insert(
            "supply".into(),
            serde_json::to_value(x).unwrap_or(Value::Null),
        );
    }
    o
}

fn cooling_json(c: &CoolingYear) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

fn candidate_json(c: &Candidate) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

fn solve_json(sol: &Solution, solved: Option<&Analysis>) -> Value {
    let mut o = Map::new();
    o.insert(
        "best".into(),
        sol.best.as_ref().map(candidate_json).unwrap_or(Value::Null),
    );
    o.insert(
        "battery_only".into(),
        sol.battery_only
            .as_ref()
            .map(candidate_json)
            .unwrap_or(Value::Null),
    );
    o.insert(
        "gpu_ramp_only".into(),
        sol.gpu_ramp_only
            .as_ref()
            .map(candidate_json)
            .unwrap_or(Value::Null),
    );
    o.insert(
        "candidates".into(),
        Value::Array(sol.candidates.iter().map(candidate_json).collect()),
    );
    if let (Some(a), Some(m)) = (solved, sol.best_mitigation.as_ref()) {
        o.insert("best_analysis".into(), Value::Object(analysis_json(a, m)));
    }
    Value::Object(o)
}

pub fn to_json(s: &Study, notes: &[String]) -> Value {
    let a = &s.analysis;
    let mut o = Map::new();
    o.insert("site".into(), json!(s.site));
    o.insert("gpus".into(), finite(s.gpus));
    o.insert("job_gpus".into(), finite(s.job_gpus));
    o.insert("grid_code".into(), json!(a.code.name));
    o.insert("grid_code_source".into(), json!(a.code.source));
    o.insert("step_source".into(), json!(s.step_source));
    o.insert("timeline_source".into(), json!(s.timeline_source));
    o.insert("step_s".into(), finite(s.step_s));
    o.insert("step_mean_activity".into(), finite(s.step_mean_activity));
    o.insert("pipeline_stages".into(), json!(s.pipeline_stages));
    o.insert(
        "step_phases".into(),
        serde_json::to_value(&s.phases).unwrap_or(Value::Null),
    );
    o.insert("pue".into(), finite(s.pue));
    o.insert("peak_it_w".into(), finite(s.peak_it_w));
    o.insert("window_start_s".into(), finite(a.window.t0_s));
    o.insert("window_s".into(), finite(a.window.duration_s));
    o.insert("resolution_s".into(), finite(a.window.dt_s));
    o.extend(analysis_json(a, &s.mitigation));
    let mut states = Map::new();
    for (k, v) in &a.run.state_s {
        states.insert(format!("{k}_s"), finite(*v));
    }
    o.insert(
        "run".into(),
        json!({
            "length_s": finite(a.run.length_s),
            "states": Value::Object(states),
            "facility_raw_j": finite(a.run.facility_raw_j),
            "facility_mitigated_j": finite(a.run.facility_mitigated_j),
            "mean_facility_raw_w": finite(a.run.mean_facility_raw_w),
        }),
    );
    o.insert("cooling".into(), cooling_json(&s.cooling));
    o.insert(
        "climates".into(),
        Value::Array(s.climates.iter().map(cooling_json).collect()),
    );
    o.insert(
        "solve".into(),
        s.solution
            .as_ref()
            .map(|sol| solve_json(sol, s.solved.as_ref()))
            .unwrap_or(Value::Null),
    );
    o.insert("notes".into(), json!(notes));
    Value::Object(o)
}

fn ramp(w_per_s: f64) -> String {
    si(w_per_s, "W/s")
}

fn energy_j(j: f64) -> String {
    energy_wh(j / 3600.0)
}

fn yes(b: bool) -> &'static str {
    if b {
        "pass"
    } else {
        "FAIL"
    }
}

fn rule_value(unit: &str, v: f64) -> String {
    match unit {
        "w_per_s" => ramp(v),
        "w" => power(v),
        "fraction" => percent_fine(v),
        _ => format!("{v}"),
    }
}

/// Percent with enough digits for small shares (0.1 % band limits).
fn percent_fine(f: f64) -> String {
    if !f.is_finite() {
        "n/a".into()
    } else if f != 0.0 && f.abs() < 0.01 {
        format!("{:.3} %", f * 100.0)
    } else {
        percent(f)
    }
}

fn rule_label(rule: &str) -> &str {
    match rule {
        "ramp_up" => "ramp up",
        "ramp_down" => "ramp down",
        "dynamic_range" => "dynamic range (max-min in window)",
        "band_energy" => "band energy share",
        "load_loss" => "load loss (peak lost at once)",
        r => r,
    }
}

fn describe_mitigation(m: &Mitigation) -> String {
    let mut parts = vec![];
    if m.gpu.floor_fraction > 0.0 {
        parts.push(format!(
            "GPU floor {} of TDP",
            percent(m.gpu.floor_fraction)
        ));
    }
    if let Some(r) = m.gpu.ramp_up_w_per_s {
        parts.push(format!("GPU ramp-up limit {}", ramp(r)));
    }
    if let Some(r) = m.gpu.ramp_down_w_per_s {
        parts.push(format!("GPU ramp-down limit {}", ramp(r)));
    }
    if let Some(f) = m.gpu.filler_activity {
        parts.push(format!(
            "filler work at {} activity ({} slowdown)",
            percent(f),
            percent(m.filler_slowdown_fraction)
        ));
    }
    if m.rack_storage_j_per_gpu > 0.0 {
        parts.push(format!(
            "rack storage {:.0} J per GPU",
            m.rack_storage_j_per_gpu
        ));
    }
    if let Some(b) = m.battery {
        parts.push(format!(
            "site battery {} / {} ({} round trip)",
            power(b.power_w),
            energy_j(b.energy_j),
            percent(b.efficiency)
        ));
    }
    if let Some(t) = m.turbines {
        let unit = if t.unit_w > 0.0 {
            t.unit_w.min(t.capacity_w)
        } else {
            t.capacity_w
        };
        let n = (t.capacity_w / unit.max(1.0) - 1e-9).ceil().max(1.0);
        parts.push(format!(
            "generators {} ({n} unit{} of {}) ramping at most {}, minimum load {} of the units running",
            power(t.capacity_w),
            if n == 1.0 { "" } else { "s" },
            power(unit),
            ramp(t.ramp_w_per_s),
            percent(t.min_load_fraction)
        ));
    }
    if parts.is_empty() {
        "none".into()
    } else {
        parts.join("; ")
    }
}

fn metrics_rows(a: &Analysis) -> String {
    let (r, m) = (&a.raw, &a.mitigated);
    let row = |label: &str, f: &dyn Fn(&Metrics) -> String| vec![label.to_string(), f(r), f(m)];
    let body = vec![
        row("peak", &|x| power(x.peak_w)),
        row("minimum", &|x| power(x.min_w)),
        row("mean", &|x| power(x.mean_w)),
        row("swing (peak - minimum)", &|x| power(x.swing_w)),
        row(
            &format!("max ramp ({} means)", duration(r.ramp_window_s)),
            &|x| ramp(x.max_ramp_w_per_s),
        ),
        row(
            &format!("max ramp sample to sample ({})", duration(a.window.dt_s)),
            &|x| ramp(x.max_sample_ramp_w_per_s),
        ),
        row(
            &format!(
                "band energy {}-{} Hz (DC included)",
                r.band_low_hz, r.band_high_hz
            ),
            &|x| percent_fine(x.band_energy_fraction),
        ),
        row("  of the oscillation alone (DC left out)", &|x| {
            percent_fine(x.band_ac_energy_fraction)
        }),
        row("strongest frequency overall", &|x| {
            format!("{:.3} Hz", x.dominant_hz)
        }),
        row(
            &format!(
                "strongest frequency in {}-{} Hz",
                r.band_low_hz, r.band_high_hz
            ),
            &|x| format!("{:.3} Hz", x.band_peak_hz),
        ),
    ];
    table(&["grid import", "unmitigated", "with mitigations"], &body)
}

/// A rule's verdict: "pass", "FAIL", or, where the grid code does not apply (decided from the
/// unmitigated peak, as the power model decides it), "does not apply (peak 74.99 MW < 75.00 MW)"
/// or "does not apply (islanded)": never "pass" beside a figure over its limit.
fn rule_verdict(passes: bool, applies: bool, raw_peak_w: f64, large_load_w: f64) -> String {
    if applies {
        yes(passes).to_string()
    } else if raw_peak_w < large_load_w {
        format!(
            "does not apply (peak {} < {})",
            power(raw_peak_w),
            power(large_load_w)
        )
    } else {
        "does not apply (islanded)".into()
    }
}

fn rules_table(a: &Analysis) -> String {
    if a.checks.is_empty() {
        return "  (the grid code sets no rules)\n".into();
    }
    let threshold = a.code.large_load_w;
    let mut differs = false;
    let body: Vec<Vec<String>> = a
        .checks
        .iter()
        .map(|c| {
            let raw = a.raw_checks.iter().find(|x| x.rule == c.rule);
            // a limit that is a share of the trace's own peak (dynamic range) differs between the
            // unmitigated and the mitigated trace: print both
            let limit = match raw {
                Some(x) if (x.limit - c.limit).abs() > 1e-9 * c.limit.abs().max(1.0) => {
                    differs = true;
                    format!(
                        "{} / {}",
                        rule_value(&x.unit, x.limit),
                        rule_value(&c.unit, c.limit)
                    )
                }
                _ => rule_value(&c.unit, c.limit),
            };
            vec![
                rule_label(&c.rule).to_string(),
                limit,
                raw.map(|x| rule_value(&x.unit, x.value))
                    .unwrap_or_default(),
                raw.map(|x| rule_verdict(x.passes, a.applies, a.raw.peak_w, threshold))
                    .unwrap_or_default(),
                rule_value(&c.unit, c.value),
                rule_verdict(c.passes, a.applies, a.raw.peak_w, threshold),
            ]
        })
        .collect();
    let mut out = table(
        &["rule", "limit", "unmitigated", "", "mitigated", ""],
        &body,
    );
    if differs {
        out.push_str(
            "  (a limit written as unmitigated / mitigated is a share of each trace's own peak)\n",
        );
    }
    out
}

/// The supply check when it has something to say: the site has generation, or its import goes
/// above its connection.
fn shown_supply(a: &Analysis) -> Option<&power::analysis::SupplyCheck> {
    a.supply
        .as_ref()
        .filter(|x| x.commitment.is_some() || !x.passes)
}

/// "; islanded plant …" / "; supply …" after the grid-code verdict, when there is a supply check
/// to show.
fn supply_verdict(a: &Analysis) -> String {
    match shown_supply(a) {
        None => String::new(),
        Some(x) => format!(
            "; {} {}",
            if x.islanded {
                "islanded, generation and battery following the load:"
            } else {
                "supply within the grid connection:"
            },
            if x.passes { "passes" } else { "FAILS" }
        ),
    }
}

fn supply_rows(a: &Analysis, x: &power::analysis::SupplyCheck) -> String {
    let mut r: Vec<(String, String)> = vec![];
    let c = &x.connection;
    r.push((
        "Grid connection".into(),
        match c.import_w {
            Some(0.0) => "none: islanded".to_string(),
            Some(g) => format!(
                "import up to {}, export up to {}",
                power(g),
                power(c.export_w)
            ),
            None => "not given".into(),
        },
    ));
    if let Some(k) = &x.commitment {
        r.push((
            "Generators".into(),
            match k.mode {
                power::supply::Mode::BaseLoad => format!(
                    "base load: {} unit{} committed, {} flat under the load's lowest ({}); the grid follows the load",
                    k.units,
                    if k.units == 1 { "" } else { "s" },
                    power(k.committed_w),
                    power(a.raw.min_w)
                ),
                power::supply::Mode::LoadFollowing => format!(
                    "following the load: {} unit{} committed ({}), between {} and {}, ramping at most {}; the grid's steady share {}",
                    k.units,
                    if k.units == 1 { "" } else { "s" },
                    power(k.committed_w),
                    power(k.min_load_w),
                    power(k.committed_w),
                    ramp(k.ramp_w_per_s),
                    power(k.grid_base_w)
                ),
            },
        ));
    }
    r.push((
        "Grid import (mitigated)".into(),
        format!(
            "{} to {} (negative: export)",
            power(x.min_import_w),
            power(x.peak_import_w)
        ),
    ));
    r.push((
        if x.islanded {
            "Load not served".into()
        } else {
            "Import above the connection".into()
        },
        if x.over_connection_s > 0.0 {
            format!(
                "{} in the window, {} (largest {}): FAILS",
                duration(x.over_connection_s),
                energy_j(x.over_connection_j),
                power(x.over_connection_peak_w)
            )
        } else {
            "none".into()
        },
    ));
    r.push((
        "Generation curtailed".into(),
        if x.curtailed_s > 0.0 {
            format!(
                "{} in the window, {}: the units cannot shed it within their ramp (beyond the export allowed): FAILS",
                duration(x.curtailed_s),
                energy_j(x.curtailed_j)
            )
        } else {
            "none".into()
        },
    ));
    rows(&r)
}

fn costs_rows(a: &Analysis) -> String {
    let c = &a.costs;
    let mut r = vec![
        (
            "Energy overhead (run's state mix)".to_string(),
            format!(
                "{} = {} per year, {} per year",
                percent_fine(c.energy_overhead_fraction),
                energy_j(c.energy_overhead_j_per_year),
                usd(c.energy_usd_per_year)
            ),
        ),
        (
            "Rack-level overhead in the window".to_string(),
            percent_fine(a.rack_energy_overhead_fraction),
        ),
        (
            "Storage capex (battery / rack)".to_string(),
            format!(
                "{} / {} = {} per year",
                usd(c.battery_capex_usd),
                usd(c.rack_storage_capex_usd),
                usd(c.capex_usd_per_year)
            ),
        ),
        (
            "Throughput lost".to_string(),
            format!(
                "{} = {} per year",
                percent_fine(c.performance_loss_fraction),
                usd(c.performance_usd_per_year)
            ),
        ),
        (
            "Mitigation cost, total".to_string(),
            format!("{} per year", usd(c.total_usd_per_year)),
        ),
    ];
    if let Some(b) = &a.battery {
        r.push((
            "Battery state of charge (window)".into(),
            format!(
                "{} to {} of {}; {} discharged, {} lost; saturated {}",
                energy_j(b.soc_min_j),
                energy_j(b.soc_max_j),
                energy_j(b.energy_j),
                energy_j(b.discharged_j),
                energy_j(b.losses_j),
                duration(b.saturated_s)
            ),
        ));
    }
    if let (Some(rmp), Some(e)) = (a.turbines_max_ramp_w_per_s, a.turbines_energy_j) {
        r.push((
            "Turbines (window)".into(),
            format!("{} generated, max ramp {}", energy_j(e), ramp(rmp)),
        ));
    }
    rows(&r)
}

fn cooling_text(s: &Study) -> String {
    let c = &s.cooling;
    let mut out = rows(&[
        (
            "Cooling design / climate".into(),
            format!("{} / {}", c.cooling, c.climate),
        ),
        (
            "Annual PUE (peak hour)".into(),
            format!(
                "{:.3} ({:.3}); catalogue {:.2}",
                c.annual_pue, c.peak_pue, c.catalogue_pue
            ),
        ),
        (
            "Hottest hour".into(),
            format!(
                "{:.1} °C dry bulb, {:.1} °C wet bulb",
                c.hottest_dry_bulb_c, c.hottest_wet_bulb_c
            ),
        ),
        (
            "IT / facility energy (this run, not costed)".into(),
            format!(
                "{} / {} per year",
                energy_j(c.it_energy_j_per_year),
                energy_j(c.facility_energy_j_per_year)
            ),
        ),
        (
            "Heat rejected".into(),
            format!(
                "{} per year; peak {}",
                energy_j(c.heat_rejected_j_per_year),
                power(c.peak_heat_w)
            ),
        ),
        (
            "Water".into(),
            format!(
                "{} L per year ({:.3} L/kWh of IT)",
                thousands(c.water_l_per_year),
                c.wue_l_per_kwh
            ),
        ),
        (
            format!("Chillers ({:.2} MW of IT each)", c.chiller_it_w / 1e6),
            format!("{}", c.chillers),
        ),
    ]);
    let body: Vec<Vec<String>> = s
        .climates
        .iter()
        .map(|y| {
            vec![
                y.climate.clone(),
                format!("{:.3}", y.annual_pue),
                format!("{:.3}", y.peak_pue),
                format!("{} ML", thousands(y.water_l_per_year / 1e6)),
                format!("{:.3} L/kWh", y.wue_l_per_kwh),
                format!("{}", y.chillers),
            ]
        })
        .collect();
    out.push_str("\n  Same design and load in each climate preset\n");
    out.push_str(&table(
        &[
            "climate",
            "annual PUE",
            "peak PUE",
            "water/yr",
            "WUE",
            "chillers",
        ],
        &body,
    ));
    out
}

fn candidate_line(c: &Candidate) -> String {
    let mut parts = vec![format!("floor {}", percent(c.floor_fraction))];
    parts.push(if c.filler {
        "filler on".into()
    } else {
        "filler off".into()
    });
    parts.push(format!("rack {:.0} J/GPU", c.rack_storage_j_per_gpu));
    if let Some(r) = c.gpu_ramp_w_per_s {
        parts.push(format!("GPU ramp {r:.1} W/s"));
    }
    if c.battery_power_w > 0.0 {
        parts.push(format!(
            "battery {} / {}",
            power(c.battery_power_w),
            energy_j(c.battery_energy_j)
        ));
    } else {
        parts.push("no battery".into());
    }
    format!(
        "{}: {} per year, energy overhead {}",
        parts.join(", "),
        usd(c.total_usd_per_year),
        percent_fine(c.energy_overhead_fraction)
    )
}

fn solve_text(sol: &Solution, solved: Option<&Analysis>) -> String {
    let mut out = String::new();
    let passing = sol.candidates.iter().filter(|c| c.passes).count();
    let mut r: Vec<(String, String)> = vec![
        (
            "Combinations tried / passing".into(),
            format!("{} / {}", sol.candidates.len(), passing),
        ),
        (
            "Cheapest that passes".into(),
            sol.best
                .as_ref()
                .map(candidate_line)
                .unwrap_or_else(|| "none of the candidates passes".into()),
        ),
        (
            "Smallest battery alone that passes".into(),
            sol.battery_only
                .as_ref()
                .map(candidate_line)
                .unwrap_or_else(|| "none up to 1.5x the swing".into()),
        ),
    ];
    if let Some(c) = &sol.gpu_ramp_only {
        r.push((
            "GPU ramp limit alone".into(),
            format!(
                "{} at the code's rate per job GPU: {}",
                if c.passes { "passes" } else { "FAILS" },
                candidate_line(c)
            ),
        ));
    }
    out.push_str(&rows(&r));
    if let Some(a) = solved {
        out.push_str("\n  Grid-code rules with the cheapest combination\n");
        out.push_str(&rules_table(a));
        out.push_str(&costs_rows(a));
    }
    let mut ranked: Vec<&Candidate> = sol.candidates.iter().filter(|c| c.passes).collect();
    ranked.sort_by(|a, b| a.total_usd_per_year.total_cmp(&b.total_usd_per_year));
    if !ranked.is_empty() {
        out.push_str("\n  Passing combinations, cheapest first\n");
        let body: Vec<Vec<String>> = ranked
            .iter()
            .take(8)
            .map(|c| {
                vec![
                    percent(c.floor_fraction),
                    if c.filler { "on".into() } else { "off".into() },
                    format!("{:.0} J", c.rack_storage_j_per_gpu),
                    c.gpu_ramp_w_per_s
                        .map_or("-".into(), |r| format!("{r:.1} W/s")),
                    if c.battery_power_w > 0.0 {
                        power(c.battery_power_w)
                    } else {
                        "-".into()
                    },
                    if c.battery_energy_j > 0.0 {
                        energy_j(c.battery_energy_j)
                    } else {
                        "-".into()
                    },
                    percent_fine(c.energy_overhead_fraction),
                    usd(c.total_usd_per_year),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "GPU floor",
                "filler",
                "rack/GPU",
                "GPU ramp",
                "battery",
                "battery energy",
                "energy overhead",
                "cost/yr",
            ],
            &body,
        ));
    }
    out
}

pub fn text(s: &Study, notes: &[String]) -> String {
    let a = &s.analysis;
    let mut out = String::new();
    let states: Vec<String> = a
        .run
        .state_s
        .iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(k, v)| format!("{} {}", k.replace('_', " "), duration(*v)))
        .collect();
    out.push_str(&rows(&[
        (
            "Site".into(),
            format!(
                "{}: {} GPUs ({} in the job), PUE {:.2}, peak IT {}",
                s.site,
                thousands(s.gpus),
                thousands(s.job_gpus),
                s.pue,
                power(s.peak_it_w)
            ),
        ),
        (
            "Step shape".into(),
            format!(
                "{}: {} phases, {} per step, mean activity {}{}",
                s.step_source,
                s.phases.len(),
                duration(s.step_s),
                percent(s.step_mean_activity),
                if s.pipeline_stages > 1 {
                    format!(
                        "; {} pipeline stages, each idling the step's bubble at its own place (placed as in a 1F1B schedule)",
                        s.pipeline_stages
                    )
                } else {
                    String::new()
                }
            ),
        ),
        (
            "Run".into(),
            format!(
                "{}: {} ({})",
                s.timeline_source,
                duration(a.run.length_s),
                states.join(", ")
            ),
        ),
        (
            "Analysis window".into(),
            format!(
                "{} from t = {} at {} resolution",
                duration(a.window.duration_s),
                duration(a.window.t0_s),
                duration(a.window.dt_s)
            ),
        ),
        (
            "Grid code".into(),
            format!(
                "{} ({}); {}",
                a.code.name,
                a.code.description,
                if a.applies {
                    format!("applies: peak at or above {}", power(a.code.large_load_w))
                } else if a.supply.as_ref().is_some_and(|x| x.islanded) {
                    "does not apply: islanded (no grid connection)".to_string()
                } else {
                    format!(
                        "does not apply (unmitigated peak {} < {})",
                        power(a.raw.peak_w),
                        power(a.code.large_load_w)
                    )
                }
            ),
        ),
        (
            "Mitigations (scenario)".into(),
            describe_mitigation(&s.mitigation),
        ),
        (
            "Verdict".into(),
            if let Some(x) = a.supply.as_ref().filter(|x| x.islanded) {
                format!(
                    "islanded: no grid code applies; generation{} following the load: {}",
                    if a.battery.is_some() {
                        " and battery"
                    } else {
                        " (no battery)"
                    },
                    if x.passes { "passes" } else { "FAILS" }
                )
            } else if s.mitigation.is_none() {
                format!(
                    "unmitigated {} (the scenario sets no mitigation){}",
                    if a.raw_passes { "passes" } else { "FAILS" },
                    supply_verdict(a)
                )
            } else {
                format!(
                    "unmitigated {}; with the scenario's mitigations {}{}",
                    if a.raw_passes { "passes" } else { "FAILS" },
                    if a.passes { "passes" } else { "FAILS" },
                    supply_verdict(a)
                )
            },
        ),
    ]));
    out.push('\n');
    out.push_str(&metrics_rows(a));
    out.push('\n');
    out.push_str(&rules_table(a));
    if let Some(x) = shown_supply(a) {
        out.push_str("\n  Supply: generation, battery and the grid connection\n");
        out.push_str(&supply_rows(a, x));
    }
    if s.mitigation.is_none() {
        out.push_str("\n  The scenario sets no mitigation");
        if s.solution.is_none() && !a.passes {
            out.push_str(" (`megacluster power --solve` finds the cheapest set that passes)");
        }
        out.push('\n');
    } else {
        out.push_str("\n  Cost of the scenario's mitigations\n");
        out.push_str(&costs_rows(a));
    }
    out.push_str("\n  Cooling\n");
    out.push_str(&cooling_text(s));
    if let Some(sol) = &s.solution {
        out.push_str("\n  Solve: the cheapest mitigation set that passes the grid code\n");
        out.push_str(&solve_text(sol, s.solved.as_ref()));
    }
    if !notes.is_empty() {
        out.push_str("\n  Notes\n");
        for n in notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    out
}

/// Every site of a multi-site scenario against its own grid connection (one study per site, in
/// the scenario's order): the job's GPUs there, grid import peak and swing, fastest ramp, share of
/// spectral energy in the code's band, the verdict without and with the scenario's mitigations,
/// and the site's cooling year.
pub fn sites_text(sites: &[SiteStudy]) -> String {
    let body: Vec<Vec<String>> = sites
        .iter()
        .map(|x| {
            let s = &x.study;
            let a = &s.analysis;
            let verdict = |p: bool| if p { "passes" } else { "FAILS" };
            vec![
                s.site.clone(),
                thousands(s.job_gpus),
                power(a.mitigated.peak_w),
                power(a.raw.swing_w),
                format!("{}/s", power(a.raw.max_ramp_w_per_s)),
                percent(a.raw.band_energy_fraction),
                if s.mitigation.is_none() {
                    verdict(a.raw_passes).to_string()
                } else {
                    format!("{} → {}", verdict(a.raw_passes), verdict(a.passes))
                },
                format!(
                    "{}{} {:.2}",
                    s.cooling.climate,
                    if x.climate_fallback { "*" } else { "" },
                    s.cooling.annual_pue
                ),
                format!("{:.2} L/kWh", s.cooling.wue_l_per_kwh),
            ]
        })
        .collect();
    let code = sites
        .first()
        .map(|s| s.study.analysis.code.name.clone())
        .unwrap_or_default();
    let mut out = format!(
        "\n  Every site against its own grid connection ({code}); each repeats the step above\n"
    );
    out.push_str(&table(
        &[
            "site",
            "job GPUs",
            "peak import",
            "swing",
            "max ramp",
            "band share",
            "grid code",
            "climate, PUE",
            "water",
        ],
        &body,
    ));
    if body.iter().any(|r| r[7].contains('*')) {
        out.push_str("  * no climate preset matches the site; memphis stands in\n");
    }
    out
}

/// [`sites_text`] as JSON: one object per site.
pub fn sites_json(sites: &[SiteStudy]) -> Value {
    Value::Array(
        sites
            .iter()
            .map(|x| {
                let s = &x.study;
                let a = &s.analysis;
                json!({
                    "site": s.site,
                    "gpus": s.gpus,
                    "job_gpus": s.job_gpus,
                    "peak_w": finite(a.mitigated.peak_w),
                    "swing_w": finite(a.mitigated.swing_w),
                    "max_ramp_w_per_s": finite(a.mitigated.max_ramp_w_per_s),
                    "band_energy_fraction": finite(a.mitigated.band_energy_fraction),
                    "raw": metrics_json(&a.raw),
                    "raw_passes": a.raw_passes,
                    "passes": a.passes,
                    "climate": s.cooling.climate,
                    "annual_pue": finite(s.cooling.annual_pue),
                    "wue_l_per_kwh": finite(s.cooling.wue_l_per_kwh),
                    "water_l_per_year": finite(s.cooling.water_l_per_year),
                })
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------------

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
    // The grid code's dynamic-range rule drawn as the band it allows below the unmitigated peak.
    let marks: Vec<svg::Mark> = st
        .analysis
        .raw_checks
        .iter()
        .filter(|r| r.rule == "dynamic_range" && r.limit.is_finite())
        .flat_map(|r| {
            let peak = st.analysis.raw.peak_w;
            [
                svg::Mark {
                    horizontal: true,
                    at: peak * 1e-6,
                    label: format!("unmitigated peak {}", crate::fmt::power(peak)),
                },
                svg::Mark {
                    horizontal: true,
                    at: (peak - r.limit) * 1e-6,
                    label: format!(
                        "grid code: dynamic range at most {} below the peak",
                        crate::fmt::power(r.limit)
                    ),
                },
            ]
        })
        .collect();
    out.push(fig(
        "Facility power over four steps",
        svg::line_chart_marked(
            "Facility power over four steps",
            // seconds from the window's start: "2036 s into the run" reads like a year
            &format!(
                "time from the window's start at {} (s)",
                crate::fmt::duration(raw.t0_s)
            ),
            "grid import (MW)",
            &pair(0.0, raw.dt_s, steps),
            false,
            false,
            &marks,
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

    // daily means of the hourly figures: 8,760 hours of four climates overplot into a block
    let hourly = |v: &[f64]| -> Vec<(f64, f64)> {
        v.chunks(24)
            .enumerate()
            .map(|(d, x)| (d as f64 + 0.5, x.iter().sum::<f64>() / x.len() as f64))
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
        &format!("PUE by day over the year ({})", st.cooling.cooling),
        svg::line_chart(
            &format!(
                "PUE by day over the year, daily mean ({})",
                st.cooling.cooling
            ),
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
    // a design that uses no water would chart a flat zero: leave the chart out
    let any_water = st
        .climates
        .iter()
        .any(|c| c.hourly_wue_l_per_kwh.iter().any(|w| *w > 0.0));
    if !any_water {
        return out;
    }
    out.push(fig(
        &format!(
            "Water per IT kWh by day over the year ({})",
            st.cooling.cooling
        ),
        svg::line_chart(
            &format!(
                "Water per IT kWh by day over the year, daily mean ({})",
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
    use super::*;

    #[test]
    fn a_rule_below_the_large_load_peak_does_not_apply_rather_than_passes() {
        // below the 75 MW from which ERCOT's large-load rules apply: a ramp 40× its limit is
        // "does not apply", never "pass"; the power model decides it from the unmitigated peak,
        // so a battery that trims the mitigated peak under 75 MW still has the rules checked
        assert_eq!(
            rule_verdict(true, false, 74.99e6, 75e6),
            "does not apply (peak 74.99 MW < 75.00 MW)"
        );
        assert_eq!(
            rule_verdict(true, false, 129.1e6, 75e6),
            "does not apply (islanded)"
        );
        assert_eq!(rule_verdict(true, true, 75e6, 75e6), "pass");
        assert_eq!(rule_verdict(false, true, 129.1e6, 75e6), "FAIL");
    }
}
