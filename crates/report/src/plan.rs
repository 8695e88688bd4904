//! The capacity and cost plan as text.

use crate::fmt::*;
use crate::Section;
use plan::{Plan, Warning};

pub fn section(p: &Plan) -> Section {
    let mut json = serde_json::to_value(p).unwrap_or(serde_json::Value::Null);
    if let Some(o) = json.as_object_mut() {
        o.insert(
            "warnings".into(),
            p.warnings.iter().map(warning).collect::<Vec<_>>().into(),
        );
    }
    Section {
        key: "plan".into(),
        title: "Plan: power, capacity and cost".into(),
        text: text(p),
        json,
    }
}

/// A finding of the plan in words.
pub fn warning(w: &Warning) -> String {
    match w {
        Warning::FabricTooSmall {
            site,
            hall,
            gpus,
            max_endpoints,
            tiers,
            radix,
        } => format!(
            "site {site} hall {hall}: {gpus} GPUs exceed the {max_endpoints:.0} endpoints a {tiers}-tier fabric of radix-{radix} switches reaches"
        ),
        Warning::SupplyShort {
            site,
            facility_w,
            supply_w,
            gpus_fed,
        } => format!(
            "site {site} draws {:.1} MW at nameplate but its grid and generation supply {:.1} MW: that feeds {} GPUs of this mix",
            facility_w / 1e6,
            supply_w / 1e6,
            thousands(*gpus_fed as f64)
        ),
    }
}

pub fn text(p: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&rows(&[
        ("GPUs".into(), thousands(p.gpus as f64)),
        (
            "H100-equivalents (dense BF16 / FP8)".into(),
            format!(
                "{} / {}",
                thousands(p.h100_equivalents),
                thousands(p.h100_equivalents_fp8)
            ),
        ),
        ("Peak dense BF16".into(), flops(p.bf16_peak_flops)),
        ("IT power (nameplate)".into(), power(p.it_power_w)),
        (
            "Facility power (IT × PUE)".into(),
            power(p.facility_power_w),
        ),
        (
            "All-in per GPU (IT / facility)".into(),
            format!(
                "{} / {}",
                power(p.it_power_per_gpu_w),
                power(p.facility_power_per_gpu_w)
            ),
        ),
        (
            format!(
                "Energy per year (at {} of nameplate)",
                percent(p.training_draw_fraction)
            ),
            energy_wh(p.energy_wh_per_year),
        ),
        ("Water per year".into(), si(p.water_l_per_year, "L")),
    ]));

    out.push_str("\n  Power chain per GPU\n");
    let mut body = vec![];
    for s in &p.sites {
        for h in &s.halls {
            body.push(vec![
                format!(
                    "{}/{} ({} × {})",
                    s.name,
                    h.name,
                    thousands(h.gpus as f64),
                    h.accelerator
                ),
                power(h.gpu_tdp_w),
                power(h.system_power_per_gpu_w),
                power(h.it_power_per_gpu_w),
                format!("{:.2}", s.pue),
                power(h.facility_power_per_gpu_w),
            ]);
        }
    }
    out.push_str(&table(
        &["hall", "GPU TDP", "system", "IT", "PUE", "facility"],
        &body,
    ));

    out.push_str("\n  Sites\n");
    let body: Vec<Vec<String>> = p
        .sites
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                power(s.facility_power_w),
                s.supply_w.map(power).unwrap_or_else(|| "not given".into()),
                s.gpus_fed
                    .map(|g| thousands(g as f64))
                    .unwrap_or_else(|| "—".into()),
                format!("${:.1}/MWh", s.electricity_usd_per_mwh),
                s.cooling.clone(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "site",
            "facility draw",
            "grid + generation",
            "GPUs it feeds",
            "electricity",
            "cooling",
        ],
        &body,
    ));

    for s in &p.sites {
        if let Some(g) = &s.on_site {
            out.push_str("\n  On-site generation\n");
            out.push_str(&crate::campus::on_site_text(&s.name, g));
        }
    }
    let phases: Vec<plan::phases::PhasePlan> =
        p.sites.iter().flat_map(|s| s.phases.clone()).collect();
    if !phases.is_empty() {
        out.push_str("\n  Phases: when each can be powered, and the item that sets it\n");
        out.push_str(&crate::campus::phases_text(&phases));
    }

    let c = &p.capex;
    let g = p.gpus.max(1) as f64;
    out.push_str("\n  Capex\n");
    let line = |name: &str, v: f64| {
        vec![
            name.to_string(),
            usd(v),
            usd(v / g),
            percent(v / c.total_usd.max(1.0)),
        ]
    };
    let mut body = vec![
        line("servers (GPUs, CPUs, NICs)", c.servers_usd),
        line("scale-out networking", c.networking_usd),
        line("facility (power, cooling, shell)", c.facility_usd),
    ];
    if c.battery_usd > 0.0 {
        body.push(line("batteries", c.battery_usd));
    }
    if c.generation_usd > 0.0 {
        body.push(line("on-site generation", c.generation_usd));
    }
    body.push(line("total", c.total_usd));
    out.push_str(&table(&["category", "total", "per GPU", "share"], &body));

    out.push_str("\n  Running cost\n");
    out.push_str(&rows(&[
        (
            "Energy".into(),
            format!("{}/yr", usd(p.opex.energy_usd_per_year)),
        ),
        (
            "Maintenance, software, network".into(),
            format!("{}/yr", usd(p.opex.maintenance_usd_per_year)),
        ),
        (
            "Capex, annualised".into(),
            format!("{}/yr", usd(p.annualised_capex_usd_per_year)),
        ),
        ("TCO".into(), format!("{}/yr", usd(p.tco_usd_per_year))),
        (
            "TCO per GPU-hour".into(),
            format!("${:.2}/GPU-h", p.tco_usd_per_gpu_hour),
        ),
    ]));
    if !p.warnings.is_empty() {
        out.push_str("\n  Warnings\n");
        for w in &p.warnings {
            out.push_str(&format!("  ! {}\n", warning(w)));
        }
    }
    out
}

/// Charts for the HTML report: capex by category and the yearly cost of ownership.
pub fn figures(p: &Plan) -> Vec<crate::html::Figure> {
    let c = &p.capex;
    let capex: Vec<(String, f64)> = [
        ("servers", c.servers_usd),
        ("networking", c.networking_usd),
        ("facility", c.facility_usd),
        ("battery", c.battery_usd),
        ("on-site generation", c.generation_usd),
    ]
    .into_iter()
    .filter(|(_, v)| *v > 0.0)
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let yearly = vec![
        (
            "capital recovery".to_string(),
            p.annualised_capex_usd_per_year,
        ),
        ("energy".to_string(), p.opex.energy_usd_per_year),
        ("maintenance".to_string(), p.opex.maintenance_usd_per_year),
    ];
    vec![
        crate::html::Figure {
            section: "plan".into(),
            title: "Capital cost by category".into(),
            svg: crate::svg::bar_chart("Capital cost by category", "$", &capex),
        },
        crate::html::Figure {
            section: "plan".into(),
            title: "Cost of ownership per year".into(),
            svg: crate::svg::stacked_bar("Cost of ownership per year", "$", &yearly),
        },
    ]
}
