//! A site's build-out in phases: what each phase energises, the supply it has, the GPUs that
//! supply feeds, the capex falling due with it, and the lead times of its long poles, from which
//! the month it can be powered and the item that sets it.
//!
//! The lead-time model: every item a phase adds is ordered at the site's start (month 0), so each
//! is in place its lead time later; a phase can be powered once all of its items are (the longest
//! sets the date). A phase adds new halls' shell, switchgear, chillers and servers when it
//! energises GPUs, the grid connection and its transformers when the grid grows, the generator
//! class when the generation grows, and storage when the battery grows. At the phase's target
//! month only the items already in place count: the supply then and the GPUs it feeds.

use crate::{Capex, HallPlan};
use serde::Serialize;
use spec::campus::Phase;
use spec::catalog::LeadTime;
use spec::scenario::Site;
use spec::units::YearMonth;

/// Months in a year.
pub const MONTHS_PER_YEAR: f64 = 12.0;

/// One long-lead item a phase needs.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LeadItem {
    /// The catalogue name (`grid-interconnection`, `servers-hopper`, a generator class, …).
    pub item: String,
    pub description: String,
    pub lead_months: f64,
    /// Months after the site's start when it is in place.
    pub ready_month: f64,
    /// The scenario sets this lead time (the site's or the phase's own).
    pub overridden: bool,
    /// What the item brings: `halls`, `grid`, `generation` or `battery`.
    pub brings: Brings,
}

/// What an item is needed for.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Brings {
    Halls,
    Grid,
    Generation,
    Battery,
}

/// One phase of a site.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PhasePlan {
    pub site: String,
    pub name: String,
    /// Target: months after the site's start, and the calendar month when the site has a start.
    pub month: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// GPUs energised by this phase (cumulative) and those it adds.
    pub gpus: u64,
    pub new_gpus: u64,
    /// Nameplate IT and facility power of the energised GPUs.
    pub it_power_w: f64,
    pub facility_power_w: f64,
    pub grid_w: Option<f64>,
    pub generation_w: f64,
    pub battery_power_w: f64,
    pub battery_energy_wh: f64,
    /// Grid plus generation, when either is given.
    pub supply_w: Option<f64>,
    /// Energised GPUs the supply feeds (all of them when no supply is given).
    pub gpus_fed: u64,
    /// The capex this phase adds (its share of the halls it energises, the generation and the
    /// storage it adds).
    pub capex: Capex,
    pub items: Vec<LeadItem>,
    /// Months after the start when every item is in place, and the item that sets it.
    pub powered_month: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub powered_date: Option<String>,
    pub set_by: Option<String>,
    /// Months the phase is powered after its target (0 when in time).
    pub late_months: f64,
    /// The phase comes online at its target or once powered, whichever is later.
    pub online_month: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online_date: Option<String>,
    /// At the target month: the supply of the items in place, the GPUs whose halls are ready
    /// and the GPUs that supply feeds.
    pub supply_at_target_w: Option<f64>,
    pub gpus_ready_at_target: u64,
    pub gpus_fed_at_target: u64,
}

/// The calendar month `months` after `start`.
pub fn date_after(start: Option<YearMonth>, months: f64) -> Option<String> {
    start.map(|s| s.plus_months(months).to_string())
}

/// Months of a lead time (a year is 12 months).
pub fn lead_months(d: spec::units::Duration) -> f64 {
    d.years() * MONTHS_PER_YEAR
}

/// The server lead-time item for an accelerator generation: `servers-<generation>` (or the
/// first `servers-<g>` whose `<g>` starts the generation's name, so `blackwell-ultra` finds
/// `servers-blackwell`), else `servers`.
pub fn servers_item<'a>(items: &'a [LeadTime], generation: &str) -> Option<&'a LeadTime> {
    let exact = format!("servers-{generation}");
    items
        .iter()
        .find(|l| l.name == exact)
        .or_else(|| {
            items.iter().find(|l| {
                l.name
                    .strip_prefix("servers-")
                    .is_some_and(|g| generation.starts_with(g))
            })
        })
        .or_else(|| items.iter().find(|l| l.name == "servers"))
}

/// A lead time for `item` in `phase`: the phase's own, else the site's (with its overrides).
fn item(site: &Site, phase: &Phase, l: &LeadTime, brings: Brings) -> LeadItem {
    let own = phase.lead_times.iter().find(|(k, _)| *k == l.name);
    let lead = own.map_or(l.typical, |(_, d)| *d);
    let m = lead_months(lead);
    LeadItem {
        item: l.name.clone(),
        description: l.description.clone(),
        lead_months: m,
        ready_month: m,
        overridden: own.is_some() || site.lead_time_overrides.contains(&l.name),
        brings,
    }
}

/// GPUs a supply feeds at a facility power per GPU (all of `gpus` when no supply is given).
fn fed(supply_w: Option<f64>, facility_w: f64, gpus: u64) -> u64 {
    match supply_w {
        Some(s) if gpus > 0 && facility_w > 0.0 => {
            crate::gpus_fed(s, facility_w / gpus as f64).min(gpus)
        }
        _ => gpus,
    }
}

/// The phases of one site, given its planned halls (in the site's hall order).
pub fn plan_phases(site: &Site, halls: &[HallPlan], cost: &spec::CostDefaults) -> Vec<PhasePlan> {
    let gen_capex_w = crate::generation::capex_usd_per_w(site, cost);
    let mut out: Vec<PhasePlan> = vec![];
    let mut prev_halls = vec![0u64; halls.len()];
    let (mut prev_grid, mut prev_gen, mut prev_bat_wh, mut prev_supply) =
        (0.0f64, 0.0f64, 0.0f64, None::<f64>);
    let mut prev_gpus = 0u64;
    for ph in &site.phases {
        let mut capex = Capex::default();
        let (mut it_w, mut fac_w) = (0.0, 0.0);
        let mut new_halls = vec![];
        for (j, h) in halls.iter().enumerate() {
            let on = ph.hall_gpus.get(j).copied().unwrap_or(0).min(h.gpus);
            let share = if h.gpus > 0 {
                on as f64 / h.gpus as f64
            } else {
                0.0
            };
            it_w += h.it_power_w * share;
            fac_w += h.facility_power_w * share;
            let add = on.saturating_sub(prev_halls[j]);
            if add > 0 && h.gpus > 0 {
                let f = add as f64 / h.gpus as f64;
                capex.add(&Capex {
                    servers_usd: h.capex.servers_usd * f,
                    networking_usd: h.capex.networking_usd * f,
                    facility_usd: h.capex.facility_usd * f,
                    ..Capex::default()
                });
                new_halls.push(j);
            }
            prev_halls[j] = on;
        }
        let grid = ph.grid.map(|g| g.w());
        let gen = ph.generation.w();
        let bat_wh = ph.battery_energy.wh();
        capex.add(&Capex {
            generation_usd: (gen - prev_gen).max(0.0) * gen_capex_w,
            battery_usd: (bat_wh - prev_bat_wh).max(0.0) / 1e6 * cost.battery.usd_per_mwh(),
            ..Capex::default()
        });
        let capex = capex.finish();

        // The long poles this phase adds.
        let mut items: Vec<LeadItem> = vec![];
        let find = |name: &str| site.lead_times.iter().find(|l| l.name == name);
        if !new_halls.is_empty() {
            for name in ["hall-shell", "mv-switchgear", "chillers"] {
                if let Some(l) = find(name) {
                    items.push(item(site, ph, l, Brings::Halls));
                }
            }
            let mut seen: Vec<&str> = vec![];
            for &j in &new_halls {
                if let Some(l) = site
                    .halls
                    .get(j)
                    .and_then(|h| servers_item(&site.lead_times, &h.accelerator.generation))
                {
                    if !seen.contains(&l.name.as_str()) {
                        seen.push(&l.name);
                        items.push(item(site, ph, l, Brings::Halls));
                    }
                }
            }
        }
        let grid_w = grid.unwrap_or(0.0);
        if grid_w > prev_grid {
            for name in ["grid-interconnection", "power-transformer"] {
                if let Some(l) = find(name) {
                    items.push(item(site, ph, l, Brings::Grid));
                }
            }
        }
        if gen > prev_gen {
            if let Some(g) = &site.generator {
                let own = ph.lead_times.iter().find(|(k, _)| k == "generation");
                let lead = own.map_or(g.class.lead_time, |(_, d)| *d);
                let m = lead_months(lead);
                items.push(LeadItem {
                    item: g.class.name.clone(),
                    description: g.class.description.clone(),
                    lead_months: m,
                    ready_month: m,
                    overridden: own.is_some()
                        || site.lead_time_overrides.iter().any(|k| k == "generation"),
                    brings: Brings::Generation,
                });
            }
        }
        if bat_wh > prev_bat_wh {
            if let Some(l) = find("battery") {
                items.push(item(site, ph, l, Brings::Battery));
            }
        }
        // The longest lead sets the date (the first listed on a tie).
        let (powered, set_by) = items.iter().fold((0.0f64, None::<&LeadItem>), |(m, s), i| {
            if i.ready_month > m {
                (i.ready_month, Some(i))
            } else {
                (m, s)
            }
        });
        let set_by = set_by.map(|i| i.item.clone());
        let supply = (grid.is_some() || gen > 0.0).then_some(grid_w + gen);
        let gpus = ph.gpus();
        // At the target: what is in place then.
        let ready = |b: Brings| {
            items
                .iter()
                .filter(|i| i.brings == b)
                .all(|i| i.ready_month <= ph.month + 1e-9)
        };
        let grid_then = if ready(Brings::Grid) {
            grid_w
        } else {
            prev_grid
        };
        let gen_then = if ready(Brings::Generation) {
            gen
        } else {
            prev_gen
        };
        let supply_then =
            (supply.is_some() || prev_supply.is_some()).then_some(grid_then + gen_then);
        let gpus_ready = if ready(Brings::Halls) {
            gpus
        } else {
            prev_gpus
        };
        let fac_ready = if gpus > 0 {
            fac_w * gpus_ready as f64 / gpus as f64
        } else {
            0.0
        };
        let late = (powered - ph.month).max(0.0);
        let online = ph.month.max(powered);
        out.push(PhasePlan {
            site: site.name.clone(),
            name: ph.name.clone(),
            month: ph.month,
            date: ph.date.map(|d| d.to_string()),
            gpus,
            new_gpus: gpus.saturating_sub(prev_gpus),
            it_power_w: it_w,
            facility_power_w: fac_w,
            grid_w: grid,
            generation_w: gen,
            battery_power_w: ph.battery_power.w(),
            battery_energy_wh: bat_wh,
            supply_w: supply,
            gpus_fed: fed(supply, fac_w, gpus),
            capex,
            items,
            powered_month: powered,
            powered_date: date_after(site.start, powered),
            set_by,
            late_months: late,
            online_month: online,
            online_date: date_after(site.start, online),
            supply_at_target_w: supply_then,
            gpus_ready_at_target: gpus_ready,
            gpus_fed_at_target: fed(supply_then, fac_ready, gpus_ready),
        });
        prev_grid = grid_w;
        prev_gen = gen;
        prev_bat_wh = bat_wh;
        prev_supply = supply;
        prev_gpus = gpus;
    }
    out
}
