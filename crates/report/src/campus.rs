//! The campus over time and the money: phases with their power-on dates and the item that sets
//! each, the timeline of GPUs and power, the programme's money by year, financing, rent versus
//! own; on-site generation against the tariff; the cost of a training run.

use crate::fmt::*;
use crate::html::Figure;
use crate::svg::{bar_chart, line_chart, Series};
use crate::Section;
use plan::generation::{OnSite, Role};
use plan::phases::PhasePlan;
use plan::programme::Programme;
use plan::run_cost::RunCost;

/// Months as "N months" or "N.N yr".
fn months(m: f64) -> String {
    if m >= 24.0 {
        format!("{:.1} yr", m / 12.0)
    } else {
        format!("{m:.1} months")
    }
}

/// A phase's month after the start, and its calendar month when the site has a start.
fn when(month: f64, date: &Option<String>) -> String {
    match date {
        Some(d) => format!("{d} (month {month:.1})"),
        None => format!("month {month:.1}"),
    }
}

/// Years as "N.N yr", "never" when infinite.
fn years(y: f64) -> String {
    if y.is_finite() {
        format!("{y:.1} yr")
    } else {
        "never".into()
    }
}

/// The phases table: target, GPUs, supply, power-on date, the item that sets it, online.
pub fn phases_text(phases: &[PhasePlan]) -> String {
    let body: Vec<Vec<String>> = phases
        .iter()
        .map(|p| {
            vec![
                format!("{}/{}", p.site, p.name),
                when(p.month, &p.date),
                thousands(p.gpus as f64),
                power(p.facility_power_w),
                p.supply_w.map(power).unwrap_or_else(|| "not given".into()),
                thousands(p.gpus_fed as f64),
                when(p.powered_month, &p.powered_date),
                p.set_by.clone().unwrap_or_else(|| "—".into()),
                if p.late_months > 0.0 {
                    months(p.late_months)
                } else {
                    "in time".into()
                },
                usd(p.capex.total_usd),
            ]
        })
        .collect();
    let mut out = table(
        &[
            "phase",
            "target",
            "GPUs",
            "facility",
            "grid + generation",
            "fed",
            "can be powered",
            "set by",
            "late",
            "capex",
        ],
        &body,
    );
    // The long poles of each phase, longest first.
    for p in phases {
        let mut items: Vec<&plan::phases::LeadItem> = p.items.iter().collect();
        items.sort_by(|a, b| b.lead_months.total_cmp(&a.lead_months));
        let list: Vec<String> = items
            .iter()
            .map(|i| {
                format!(
                    "{} {}{}",
                    i.item,
                    months(i.lead_months),
                    if i.overridden { " (scenario)" } else { "" }
                )
            })
            .collect();
        if !list.is_empty() {
            out.push_str(&format!(
                "    {}/{} long poles: {}\n",
                p.site,
                p.name,
                list.join(", ")
            ));
        }
        if p.late_months > 0.0 {
            out.push_str(&format!(
                "    at its target {}: {} of its {} GPUs ready, {} fed by {}\n",
                when(p.month, &p.date),
                thousands(p.gpus_ready_at_target as f64),
                thousands(p.gpus as f64),
                thousands(p.gpus_fed_at_target as f64),
                p.supply_at_target_w
                    .map(power)
                    .unwrap_or_else(|| "a supply not given".into())
            ));
        }
    }
    out
}

fn role(r: Role) -> &'static str {
    match r {
        Role::BaseLoad => "base load (cheaper than the tariff)",
        Role::Needed => "carries what the grid cannot",
        Role::Backup => "backup (dearer than the tariff, the grid carries the load)",
    }
}

/// On-site generation of a site over the year against the tariff.
pub fn on_site_text(site: &str, g: &OnSite) -> String {
    let lcoe = if g.usd_per_mwh.is_finite() {
        format!(
            "${:.1}/MWh at a {} capacity factor",
            g.usd_per_mwh,
            percent(g.capacity_factor)
        )
    } else {
        "— (standing by)".into()
    };
    rows(&[
        (
            format!("{site}: generation"),
            format!(
                "{} of {} ({} × {})",
                power(g.capacity_w),
                g.class,
                g.units,
                power(g.unit_w)
            ),
        ),
        (
            "  Fuel".into(),
            format!(
                "${:.2}/MMBtu × {} Btu/kWh = ${:.1}/MWh, + ${:.2}/MWh variable O&M",
                g.gas_usd_per_mmbtu,
                thousands(g.heat_rate_btu_per_kwh),
                g.fuel_usd_per_mwh,
                g.variable_om_usd_per_mwh
            ),
        ),
        (
            "  Marginal against the tariff".into(),
            format!(
                "${:.1}/MWh vs ${:.1}/MWh: {}",
                g.marginal_usd_per_mwh,
                g.tariff_usd_per_mwh,
                role(g.role)
            ),
        ),
        (
            "  Output".into(),
            format!(
                "{} on average, {}/yr",
                power(g.mean_w),
                energy_wh(g.energy_wh_per_year)
            ),
        ),
        ("  Levelised (capital, O&M, fuel)".into(), lcoe),
        (
            "  CO₂ (gas / grid share)".into(),
            format!(
                "{:.0} kt/yr at {:.0} kg/MWh / {:.0} kt/yr at {:.0} kg/MWh",
                g.co2_kg_per_year / 1e6,
                g.co2_kg_per_mwh,
                g.grid_co2_kg_per_year / 1e6,
                g.grid_co2_kg_per_mwh
            ),
        ),
    ])
}

/// The programme section.
pub fn section(p: &Programme) -> Section {
    Section {
        key: "programme".into(),
        title: "Campus over time: phases, money, rent versus own".into(),
        text: text(p),
        json: serde_json::to_value(p).unwrap_or(serde_json::Value::Null),
    }
}

pub fn text(p: &Programme) -> String {
    let mut out = String::new();
    if !p.phases.is_empty() {
        out.push_str("  Phases\n");
        out.push_str(&phases_text(&p.phases));
    }
    out.push_str("\n  Timeline\n");
    let body: Vec<Vec<String>> = p
        .timeline
        .iter()
        .map(|t| {
            vec![
                when(t.month, &t.date),
                thousands(t.gpus as f64),
                thousands(t.gpus_fed as f64),
                power(t.facility_power_w),
                t.supply_w.map(power).unwrap_or_else(|| "not given".into()),
            ]
        })
        .collect();
    out.push_str(&table(
        &["from", "GPUs online", "fed", "facility", "supply"],
        &body,
    ));

    out.push_str(&format!(
        "\n  Money by year (horizon {:.0} yr)\n",
        p.horizon_years
    ));
    let body: Vec<Vec<String>> = p
        .years
        .iter()
        .map(|y| {
            vec![
                y.year.to_string(),
                usd(y.capex_usd),
                usd(y.refresh_usd),
                usd(y.energy_usd),
                usd(y.maintenance_usd),
                usd(y.total_usd),
                usd(y.cumulative_usd),
                thousands(y.gpus_online as f64),
                format!("{:.0} kt", y.co2_kg / 1e6),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "year",
            "capex",
            "refresh",
            "energy",
            "maintenance",
            "total",
            "cumulative",
            "GPUs at end",
            "CO₂",
        ],
        &body,
    ));
    let mut r = vec![
        (
            "Programme total".into(),
            format!(
                "{} (capex {}, refresh {}, running {})",
                usd(p.total_usd),
                usd(p.capex_usd),
                usd(p.refresh_usd),
                usd(p.opex_usd)
            ),
        ),
        (
            format!("Present value at the {} WACC", percent(p.financing.wacc)),
            usd(p.present_value_usd),
        ),
        (
            "First phase capex".into(),
            match p.first_phase_budget_usd {
                Some(b) => format!(
                    "{} against a budget of {} ({} of it)",
                    usd(p.first_phase_capex_usd),
                    usd(b),
                    percent(p.first_phase_capex_usd / b)
                ),
                None => usd(p.first_phase_capex_usd),
            },
        ),
    ];
    if let Some(b) = p.budget_usd {
        r.push((
            "Against the budget".into(),
            format!(
                "{} of {} ({})",
                usd(p.total_usd),
                usd(b),
                percent(p.total_usd / b)
            ),
        ));
    }
    r.push((
        "CO₂ over the horizon".into(),
        format!("{:.2} Mt", p.co2_kg / 1e9),
    ));
    out.push_str(&rows(&r));

    let f = &p.financing;
    out.push_str("\n  Financing\n");
    out.push_str(&rows(&[
        (
            "Debt / cost of debt / cost of equity / tax".into(),
            format!(
                "{} / {} / {} / {}",
                percent(f.debt_share),
                percent(f.cost_of_debt),
                percent(f.cost_of_equity),
                percent(f.tax_rate)
            ),
        ),
        ("WACC (after tax)".into(), percent(f.wacc)),
        (
            "Capex recovered at the WACC".into(),
            format!("{}/yr", usd(f.annualised_capex_usd_per_year)),
        ),
        (
            "TCO at the WACC".into(),
            format!(
                "{}/yr, ${:.2}/GPU-h",
                usd(f.tco_usd_per_year),
                f.tco_usd_per_gpu_hour
            ),
        ),
    ]));

    let r = &p.rent;
    out.push_str("\n  Rent versus own\n");
    out.push_str(&rows(&[
        ("Capex the partner absorbs".into(), usd(r.capex_usd)),
        (
            format!(
                "Partner's rent at a {} return, {} billed",
                percent(r.partner_return),
                percent(r.utilisation)
            ),
            format!(
                "${:.2}/GPU-h (capital ${:.2}, running ${:.2})",
                r.usd_per_gpu_hour,
                r.capital_usd_per_gpu_hour,
                r.usd_per_gpu_hour - r.capital_usd_per_gpu_hour
            ),
        ),
        (
            "Tenant's bill".into(),
            format!(
                "{}/yr = {} of the capex a year",
                usd(r.tenant_usd_per_year),
                percent(r.bill_over_capex)
            ),
        ),
        (
            "Owning at the tenant's WACC".into(),
            format!("${:.2}/GPU-h", r.own_usd_per_gpu_hour),
        ),
        (
            "Owning beats that rent after".into(),
            years(r.own_beats_rent_after_years),
        ),
    ]));
    if !r.market.is_empty() {
        let body: Vec<Vec<String>> = r
            .market
            .iter()
            .map(|m| {
                vec![
                    m.name.clone(),
                    m.terms.clone(),
                    m.date.clone(),
                    format!("${:.2}", m.usd_per_gpu_hour),
                    years(m.own_beats_rent_after_years),
                ]
            })
            .collect();
        out.push_str(&format!("  Published {} rents\n", r.accelerator));
        out.push_str(&table(
            &["rent", "terms", "date", "$/GPU-h", "owning beats it after"],
            &body,
        ));
    }
    out
}

/// A step function through `(month, value)` points, held until the horizon.
fn steps(points: &[(f64, f64)], end: f64) -> Vec<(f64, f64)> {
    let mut out = vec![];
    for (k, &(m, v)) in points.iter().enumerate() {
        if k > 0 {
            out.push((m, points[k - 1].1));
        }
        out.push((m, v));
    }
    if let Some(&(_, v)) = points.last() {
        out.push((end, v));
    }
    out
}

/// Charts: GPUs online and MW against months, money by year, rent versus own.
pub fn figures(p: &Programme) -> Vec<Figure> {
    let end = p.horizon_years * 12.0;
    let series = |name: &str, f: &dyn Fn(&plan::programme::TimelinePoint) -> f64| Series {
        name: name.into(),
        points: steps(
            &p.timeline
                .iter()
                .map(|t| (t.month, f(t)))
                .collect::<Vec<_>>(),
            end,
        ),
    };
    let gpus = line_chart(
        "GPUs online over the programme",
        "months after the start",
        "GPUs",
        &[
            series("energised", &|t| t.gpus as f64),
            series("fed by the supply", &|t| t.gpus_fed as f64),
        ],
        false,
        false,
    );
    let mut power_series = vec![series("facility at nameplate", &|t| {
        t.facility_power_w / 1e6
    })];
    if p.timeline.iter().any(|t| t.supply_w.is_some()) {
        power_series.push(series("grid + generation", &|t| {
            t.supply_w.unwrap_or(0.0) / 1e6
        }));
    }
    let mw = line_chart(
        "Power over the programme",
        "months after the start",
        "MW",
        &power_series,
        false,
        false,
    );
    let money: Vec<(String, f64)> = p
        .years
        .iter()
        .map(|y| (y.year.to_string(), y.total_usd))
        .collect();
    let mut rent = vec![
        (
            format!("partner at {} return", percent(p.rent.partner_return)),
            p.rent.usd_per_gpu_hour,
        ),
        (
            format!("own at {} WACC", percent(p.financing.wacc)),
            p.rent.own_usd_per_gpu_hour,
        ),
    ];
    rent.extend(
        p.rent
            .market
            .iter()
            .map(|m| (format!("{} ({})", m.name, m.date), m.usd_per_gpu_hour)),
    );
    let fig = |title: &str, svg: String| Figure {
        section: "programme".into(),
        title: title.into(),
        svg,
    };
    vec![
        fig("GPUs online over the programme", gpus),
        fig("Power over the programme", mw),
        fig(
            "Programme money by year",
            bar_chart("Programme money by year", "$", &money),
        ),
        fig(
            "Rent versus own per GPU-hour",
            bar_chart("Rent versus own per GPU-hour", "$", &rent),
        ),
    ]
}

/// The cost of a training run as rows.
pub fn run_cost_text(c: &RunCost) -> String {
    let mut r = vec![
        (
            "Run cost, no failures".into(),
            format!(
                "{} over {} ({} GPU-h), ${:.3} per million tokens",
                usd(c.usd),
                duration(c.time_s),
                thousands(c.gpu_hours),
                c.usd_per_million_tokens
            ),
        ),
        (
            "  per GPU-hour (ownership + energy)".into(),
            format!(
                "${:.2} + ${:.2}",
                c.fixed_usd_per_gpu_s * 3600.0,
                c.energy_usd_per_gpu_s * 3600.0
            ),
        ),
    ];
    if let Some(g) = &c.goodput {
        let src = match g.source.as_str() {
            "monte_carlo" => "Monte Carlo mean",
            _ => "closed form",
        };
        r.push((
            format!("Run cost at {} goodput ({src})", percent(g.ettr)),
            format!(
                "{} over {}, ${:.3} per million tokens (failures add {})",
                usd(g.usd),
                duration(g.time_s),
                g.usd_per_million_tokens,
                usd(g.loss_usd)
            ),
        ));
    }
    rows(&r)
}

/// Add the run's cost to a section (text rows, JSON `run_cost`).
pub fn with_run_cost(mut sec: Section, c: Option<&RunCost>) -> Section {
    let Some(c) = c else {
        return sec;
    };
    sec.text.push_str("\n  Cost of the run\n");
    sec.text.push_str(&run_cost_text(c));
    if let serde_json::Value::Object(m) = &mut sec.json {
        m.insert(
            "run_cost".into(),
            serde_json::to_value(c).unwrap_or(serde_json::Value::Null),
        );
    }
    sec
}
