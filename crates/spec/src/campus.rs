//! The campus over time: a site's on-site generation as a supply (a generator class from the
//! catalogue, its capacity and fuel price), its phases (`[[site.phase]]`: when, which halls or how
//! many GPUs are energised, the grid, generation and battery available then), the lead times of
//! its long poles (catalogue kind `lead_time`, overridable per site), and the `[programme]` money
//! settings (financing, the partner's return, the horizon, budgets). Parsed, resolved against the
//! catalogue and range-checked here; the planner computes with them.
//!
//! ```toml
//! [[site]]
//! name = "memphis"
//! start = "2024-03"                    # the month the long-lead items are ordered
//! grid = "300 MW"                      # the final build; phases give what is there before
//! generation = { class = "mobile-turbine", capacity = "247 MW", gas = "$3.53/MMBtu" }
//! lead_times = { hall-shell = "4 months" }
//!
//! [[site.phase]]
//! name = "colossus-1"
//! date = "2024-09"                     # or month = 6 (after start)
//! halls = ["phase-1"]                  # or gpus = "100k" (cumulative, filling halls in order)
//! grid = "150 MW"                      # absent: the previous phase's (the first: the site's)
//! generation = "35 MW"
//!
//! [programme]                          # optional: the money over the years
//! horizon = "10 yr"
//! debt = "50%"
//! budget = "$500B"
//! ```

use crate::catalog::{CostDefaults, Generator, LeadTime, Rental};
use crate::ctx::{CatalogRef, Ctx};
use crate::error::{did_you_mean, SpecError};
use crate::units::*;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// `generation = "35 MW"` or `generation = { class = "...", capacity = "...", gas = "..." }`.
#[derive(Clone, Debug)]
pub(crate) enum RawGeneration {
    Capacity(Power),
    Table(toml::Table),
}

impl<'de> Deserialize<'de> for RawGeneration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawGeneration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a power (\"35 MW\") or a table such as { class = \"aeroderivative\", capacity = \"360 MW\" }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawGeneration, E> {
                Power::parse(v)
                    .map(RawGeneration::Capacity)
                    .map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawGeneration, E> {
                Ok(RawGeneration::Capacity(Power::from_w(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawGeneration, E> {
                Ok(RawGeneration::Capacity(Power::from_w(v as f64)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawGeneration, E> {
                Ok(RawGeneration::Capacity(Power::from_w(v as f64)))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<RawGeneration, A::Error> {
                let t = toml::Table::deserialize(de::value::MapAccessDeserializer::new(m))?;
                Ok(RawGeneration::Table(t))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGenerationTable {
    #[serde(default)]
    class: Option<CatalogRef>,
    capacity: Power,
    #[serde(default)]
    gas: Option<FuelPrice>,
}

/// A site's on-site generation, resolved: the class (catalogue kind `generator`, with the
/// scenario's overrides), the fleet's capacity and the fuel price.
#[derive(Clone, Debug, Serialize)]
pub struct Generation {
    pub class: Generator,
    pub capacity: Power,
    pub gas: FuelPrice,
}

/// The site's generation: `None` without any (or with zero capacity).
pub(crate) fn resolve_generation(
    ctx: &Ctx,
    p: &str,
    raw: Option<RawGeneration>,
    cost: &CostDefaults,
) -> Result<Option<Generation>, SpecError> {
    let default_class = CatalogRef::Name(cost.generator.clone());
    let (class_ref, capacity, gas, class_path, capacity_path) = match raw {
        None => return Ok(None),
        Some(RawGeneration::Capacity(c)) => (default_class, c, None, p.to_string(), p.to_string()),
        Some(RawGeneration::Table(t)) => {
            let v = toml::Value::Table(t);
            let g: RawGenerationTable = serde_path_to_error::deserialize(v).map_err(|e| {
                let sub = e.path().to_string();
                let inner = e.into_inner();
                let msg = inner.message().to_string();
                let hint = crate::catalog::unknown_field_hint(&msg);
                let path = if sub == "." {
                    p.to_string()
                } else {
                    format!("{p}.{sub}")
                };
                ctx.err(&path, msg).with_hint(hint)
            })?;
            (
                g.class.unwrap_or(default_class),
                g.capacity,
                g.gas,
                format!("{p}.class"),
                format!("{p}.capacity"),
            )
        }
    };
    ctx.non_negative(&capacity_path, capacity.w(), "on-site generation")?;
    if capacity.w() == 0.0 {
        return Ok(None);
    }
    let class: Generator = ctx.resolve(&class_path, &class_ref)?;
    validate_generator(ctx, &class_path, &class)?;
    let gas = gas.unwrap_or(cost.gas);
    ctx.non_negative(&format!("{p}.gas"), gas.usd_per_mmbtu(), "gas price")?;
    Ok(Some(Generation {
        class,
        capacity,
        gas,
    }))
}

fn validate_generator(ctx: &Ctx, p: &str, g: &Generator) -> Result<(), SpecError> {
    ctx.positive(&format!("{p}.unit"), g.unit.w(), "a unit's rating")?;
    ctx.non_negative(&format!("{p}.capex"), g.capex.usd_per_w(), "capex")?;
    ctx.non_negative(
        &format!("{p}.fixed_om"),
        g.fixed_om.usd_per_w(),
        "fixed O&M",
    )?;
    ctx.non_negative(
        &format!("{p}.variable_om"),
        g.variable_om.usd_per_mwh(),
        "variable O&M",
    )?;
    // 3,412 Btu/kWh is 100 % efficient
    ctx.within(
        &format!("{p}.heat_rate"),
        g.heat_rate.btu_per_kwh(),
        3412.0,
        30000.0,
        "a heat rate in Btu/kWh (3,412 is 100 % efficient)",
    )?;
    ctx.positive(&format!("{p}.ramp"), g.ramp.fraction_per_s(), "ramp rate")?;
    ctx.within(
        &format!("{p}.min_load"),
        g.min_load.fraction(),
        0.0,
        1.0,
        "minimum load",
    )?;
    ctx.non_negative(&format!("{p}.lead_time"), g.lead_time.s(), "lead time")?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPhase {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    date: Option<YearMonth>,
    #[serde(default)]
    month: Option<f64>,
    #[serde(default)]
    halls: Option<Vec<String>>,
    #[serde(default)]
    gpus: Option<Count>,
    #[serde(default)]
    grid: Option<Power>,
    #[serde(default)]
    generation: Option<Power>,
    #[serde(default)]
    battery: Option<RawPhaseBattery>,
    /// This phase's own lead times for some items (e.g. a substation already in place).
    #[serde(default)]
    lead_times: Option<BTreeMap<String, Duration>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhaseBattery {
    power: Power,
    energy: Energy,
}

/// One phase of a site's build-out: from `month` (after the site's `start`), the halls' GPUs
/// energised so far and the supply available.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Phase {
    pub name: String,
    /// Months after the site's start.
    pub month: f64,
    /// The calendar month, when the site has a start.
    pub date: Option<YearMonth>,
    /// GPUs energised in each hall by this phase (cumulative), in the site's hall order.
    pub hall_gpus: Vec<u64>,
    pub grid: Option<Power>,
    pub generation: Power,
    pub battery_power: Power,
    pub battery_energy: Energy,
    /// This phase's own lead times (item name, time), overriding the site's.
    pub lead_times: Vec<(String, Duration)>,
}

impl Phase {
    pub fn gpus(&self) -> u64 {
        self.hall_gpus.iter().sum()
    }
}

/// What the phases are checked against: the site's final build.
pub(crate) struct FinalBuild<'a> {
    pub start: Option<YearMonth>,
    pub halls: &'a [(String, u64)],
    pub grid: Option<Power>,
    pub generation: Power,
    pub battery: Option<(Power, Energy)>,
}

pub(crate) fn resolve_phases(
    ctx: &Ctx,
    p: &str,
    raw: Vec<RawPhase>,
    site: &FinalBuild,
) -> Result<Vec<Phase>, SpecError> {
    let mut out: Vec<Phase> = vec![];
    let total: u64 = site.halls.iter().map(|h| h.1).sum();
    let (bat_p, bat_e) = site
        .battery
        .unwrap_or((Power::from_w(0.0), Energy::from_j(0.0)));
    let n = raw.len();
    for (i, r) in raw.into_iter().enumerate() {
        let pp = format!("{p}.phase[{i}]");
        let (month, date) = match (r.date, r.month) {
            (Some(_), Some(_)) => {
                return Err(ctx.err(
                    &format!("{pp}.month"),
                    "give a phase's date or its month after the site's start, not both",
                ))
            }
            (None, None) => return Err(ctx.err(
                &pp,
                "a phase needs a `date` (\"2024-09\") or a `month` (months after the site's start)",
            )),
            (Some(d), None) => {
                let Some(start) = site.start else {
                    return Err(ctx
                        .err(
                            &format!("{pp}.date"),
                            "a phase's date needs the site's `start` (the month its long-lead items are ordered)",
                        )
                        .with_hint(Some(format!("add start = \"{d}\" (or earlier) to the site"))));
                };
                let m = start.months_until(d);
                if m < 0 {
                    return Err(ctx.err(
                        &format!("{pp}.date"),
                        format!("phase date {d} is before the site's start {start}"),
                    ));
                }
                (m as f64, Some(d))
            }
            (None, Some(m)) => {
                ctx.non_negative(&format!("{pp}.month"), m, "a phase's month")?;
                (m, site.start.map(|s| s.plus_months(m)))
            }
        };
        if let Some(prev) = out.last() {
            if month < prev.month {
                return Err(ctx.err(
                    &format!("{pp}.{}", if date.is_some() && r.month.is_none() { "date" } else { "month" }),
                    format!(
                        "phases run in time order: this one is {month} months after the start, before `{}` at {}",
                        prev.name, prev.month
                    ),
                ));
            }
        }
        let mut hall_gpus = out
            .last()
            .map(|x| x.hall_gpus.clone())
            .unwrap_or_else(|| vec![0; site.halls.len()]);
        match (&r.halls, r.gpus) {
            (Some(_), Some(_)) => {
                return Err(ctx.err(
                    &format!("{pp}.gpus"),
                    "give a phase's halls or its GPUs, not both",
                ))
            }
            (Some(names), None) => {
                for (k, name) in names.iter().enumerate() {
                    let Some(j) = site.halls.iter().position(|h| &h.0 == name) else {
                        return Err(ctx
                            .err(
                                &format!("{pp}.halls[{k}]"),
                                format!("the site has no hall named `{name}`"),
                            )
                            .with_hint(did_you_mean(
                                name,
                                site.halls.iter().map(|h| h.0.as_str()),
                            )));
                    };
                    hall_gpus[j] = site.halls[j].1;
                }
            }
            (None, Some(g)) => {
                let want = ctx.whole(&format!("{pp}.gpus"), g.count(), "gpus")?;
                let have: u64 = hall_gpus.iter().sum();
                if want < have || want > total {
                    return Err(ctx.err(
                        &format!("{pp}.gpus"),
                        format!(
                            "a phase's gpus counts every GPU energised by then: at least the {have} of the phases before, at most the site's {total}"
                        ),
                    ));
                }
                let mut left = want - have;
                for (j, h) in site.halls.iter().enumerate() {
                    let add = left.min(h.1 - hall_gpus[j]);
                    hall_gpus[j] += add;
                    left -= add;
                }
            }
            (None, None) => {}
        }
        let prev = out.last();
        let grid = r.grid.or_else(|| prev.map_or(site.grid, |x| x.grid));
        let generation = r
            .generation
            .unwrap_or_else(|| prev.map_or(site.generation, |x| x.generation));
        let (battery_power, battery_energy) = match &r.battery {
            Some(b) => (b.power, b.energy),
            None => prev.map_or((bat_p, bat_e), |x| (x.battery_power, x.battery_energy)),
        };
        // the phases build toward the site's figures, which are the final build
        if let Some(g) = r.grid {
            ctx.non_negative(&format!("{pp}.grid"), g.w(), "grid power")?;
            match site.grid {
                Some(s) if g.w() <= s.w() => {}
                Some(s) => {
                    return Err(ctx.err(
                        &format!("{pp}.grid"),
                        format!(
                        "a phase's grid ({} MW) exceeds the site's ({} MW), its final connection",
                        g.mw(),
                        s.mw()
                    ),
                    ))
                }
                None => {
                    return Err(ctx.err(
                        &format!("{pp}.grid"),
                        "a phase's grid needs the site's grid (its final connection)",
                    ))
                }
            }
        }
        if let Some(g) = r.generation {
            ctx.non_negative(&format!("{pp}.generation"), g.w(), "on-site generation")?;
            if g.w() > site.generation.w() {
                return Err(ctx.err(
                    &format!("{pp}.generation"),
                    format!(
                        "a phase's generation ({} MW) exceeds the site's ({} MW), its final fleet",
                        g.mw(),
                        site.generation.mw()
                    ),
                ));
            }
        }
        if let Some(b) = &r.battery {
            ctx.non_negative(&format!("{pp}.battery.power"), b.power.w(), "battery power")?;
            ctx.non_negative(
                &format!("{pp}.battery.energy"),
                b.energy.j(),
                "battery energy",
            )?;
            if b.power.w() > bat_p.w() || b.energy.j() > bat_e.j() {
                return Err(ctx.err(
                    &format!("{pp}.battery"),
                    "a phase's battery exceeds the site's, its final build",
                ));
            }
        }
        let mut lead_times = vec![];
        for (k, d) in r.lead_times.unwrap_or_default() {
            let path = format!("{pp}.lead_times.{k}");
            ctx.non_negative(&path, d.s(), "a lead time")?;
            let known: Vec<&str> = ctx
                .catalog
                .names("lead_time")
                .into_iter()
                .chain(["generation"])
                .collect();
            if !known.contains(&k.as_str()) {
                return Err(ctx
                    .err(&path, format!("no lead-time item named `{k}`"))
                    .with_hint(
                        did_you_mean(&k, known.iter().copied())
                            .or_else(|| Some(format!("known: {}", known.join(", ")))),
                    ));
            }
            lead_times.push((k, d));
        }
        out.push(Phase {
            name: r.name.unwrap_or_else(|| format!("phase-{}", i + 1)),
            lead_times,
            month,
            date,
            hall_gpus,
            grid,
            generation,
            battery_power,
            battery_energy,
        });
    }
    if let Some(last) = out.last() {
        if let Some((j, h)) = site
            .halls
            .iter()
            .enumerate()
            .find(|(j, h)| last.hall_gpus[*j] < h.1)
        {
            return Err(ctx.err(
                &format!("{p}.phase[{}]", n - 1),
                format!(
                    "hall `{}` is not fully energised by the last phase ({} of {} GPUs): name it in a phase's halls or count it in gpus",
                    h.0, last.hall_gpus[j], h.1
                ),
            ));
        }
    }
    Ok(out)
}

/// Every catalogue lead time with the site's overrides (`lead_times = { name = "6 months" }`);
/// the key `generation` overrides the generator class's lead time. Returns the lead times and the
/// overridden generator lead time, and the names overridden.
pub(crate) fn resolve_lead_times(
    ctx: &Ctx,
    p: &str,
    overrides: Option<BTreeMap<String, Duration>>,
    generation: Option<&mut Generation>,
) -> Result<(Vec<LeadTime>, Vec<String>), SpecError> {
    let mut items = vec![];
    for n in ctx.catalog.names("lead_time") {
        let l: LeadTime = ctx.resolve(&format!("{p}.lead_times"), &CatalogRef::Name(n.into()))?;
        for (f, d) in [("typical", l.typical), ("low", l.low), ("high", l.high)] {
            ctx.non_negative(
                &format!("{p}.lead_times"),
                d.s(),
                &format!("lead time `{n}` {f}"),
            )?;
        }
        items.push(l);
    }
    let mut names = vec![];
    let mut generation = generation;
    for (k, d) in overrides.unwrap_or_default() {
        let path = format!("{p}.lead_times.{k}");
        ctx.non_negative(&path, d.s(), "a lead time")?;
        if k == "generation" {
            match generation.as_deref_mut() {
                Some(g) => g.class.lead_time = d,
                None => return Err(ctx.err(&path, "the site has no on-site generation")),
            }
        } else if let Some(l) = items.iter_mut().find(|l| l.name == k) {
            l.typical = d;
        } else {
            let known: Vec<&str> = items
                .iter()
                .map(|l| l.name.as_str())
                .chain(["generation"])
                .collect();
            return Err(ctx
                .err(&path, format!("no lead-time item named `{k}`"))
                .with_hint(
                    did_you_mean(&k, known.iter().copied())
                        .or_else(|| Some(format!("known: {}", known.join(", ")))),
                ));
        }
        names.push(k);
    }
    Ok((items, names))
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProgramme {
    #[serde(default)]
    horizon: Option<Duration>,
    #[serde(default)]
    debt: Option<Fraction>,
    #[serde(default)]
    cost_of_debt: Option<Fraction>,
    #[serde(default)]
    cost_of_equity: Option<Fraction>,
    #[serde(default)]
    tax: Option<Fraction>,
    #[serde(default)]
    partner_return: Option<Fraction>,
    #[serde(default)]
    utilisation: Option<Fraction>,
    #[serde(default)]
    budget: Option<Money>,
    #[serde(default)]
    first_phase_budget: Option<Money>,
}

/// `[programme]`, resolved: defaults from the cost catalogue entry.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Programme {
    /// Whether the scenario has a `[programme]` table.
    pub given: bool,
    pub horizon: Duration,
    pub debt_share: f64,
    pub cost_of_debt: f64,
    pub cost_of_equity: f64,
    pub tax_rate: f64,
    /// The return a cloud partner that absorbs the capex targets.
    pub partner_return: f64,
    /// Share of the year's hours the rent is paid for (reserved capacity: all of them).
    pub utilisation: f64,
    /// The programme's whole budget and its first phase's, to hold the plan against.
    pub budget: Option<Money>,
    pub first_phase_budget: Option<Money>,
    /// Every published rent in the catalogue, in name order.
    pub rentals: Vec<Rental>,
}

/// Share of the hours a reserved GPU is billed (A: reserved capacity is paid whether used or
/// not).
pub const DEFAULT_UTILISATION: f64 = 1.0;

pub(crate) fn resolve_programme(
    ctx: &Ctx,
    p: &str,
    raw: Option<RawProgramme>,
    cost: &CostDefaults,
) -> Result<Programme, SpecError> {
    let given = raw.is_some();
    let r = raw.unwrap_or_default();
    let frac = |f: &str, v: Option<Fraction>, d: Fraction, what: &str| -> Result<f64, SpecError> {
        let x = v.unwrap_or(d).fraction();
        ctx.within(&format!("{p}.{f}"), x, 0.0, 1.0, what)?;
        Ok(x)
    };
    let horizon = r.horizon.unwrap_or(cost.horizon);
    ctx.within(
        &format!("{p}.horizon"),
        horizon.years(),
        1.0,
        50.0,
        "a programme horizon in years",
    )?;
    let utilisation = r
        .utilisation
        .map(|u| u.fraction())
        .unwrap_or(DEFAULT_UTILISATION);
    if !(utilisation > 0.0 && utilisation <= 1.0) {
        return Err(ctx.err(
            &format!("{p}.utilisation"),
            format!("the share of hours billed must lie in (0, 1], got {utilisation}"),
        ));
    }
    for (f, m) in [
        ("budget", r.budget),
        ("first_phase_budget", r.first_phase_budget),
    ] {
        if let Some(m) = m {
            ctx.positive(&format!("{p}.{f}"), m.usd(), "a budget")?;
        }
    }
    let mut rentals = vec![];
    for n in ctx.catalog.names("rental") {
        let x: Rental = ctx.resolve(p, &CatalogRef::Name(n.into()))?;
        ctx.non_negative(p, x.hourly.usd(), &format!("rent `{n}`"))?;
        rentals.push(x);
    }
    Ok(Programme {
        given,
        horizon,
        debt_share: frac("debt", r.debt, cost.debt_share, "debt share")?,
        cost_of_debt: frac(
            "cost_of_debt",
            r.cost_of_debt,
            cost.cost_of_debt,
            "cost of debt",
        )?,
        cost_of_equity: frac(
            "cost_of_equity",
            r.cost_of_equity,
            cost.cost_of_equity,
            "cost of equity",
        )?,
        tax_rate: frac("tax", r.tax, cost.tax_rate, "tax rate")?,
        partner_return: frac(
            "partner_return",
            r.partner_return,
            cost.partner_return,
            "partner's return",
        )?,
        utilisation,
        budget: r.budget,
        first_phase_budget: r.first_phase_budget,
        rentals,
    })
}
