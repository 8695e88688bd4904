//! On-site generation as a supply over a year: how much of the site's energy the generators
//! carry (the merit order against the grid tariff), what their power costs per MWh against the
//! tariff, and the CO₂ of the gas and of the grid's share.

use serde::Serialize;
use spec::scenario::Site;

/// CO₂ of natural gas per MMBtu (higher heating value): 53.06 kg (40 CFR Part 98, Table C-1 and
/// Table NN-1, P).
pub const GAS_CO2_KG_PER_MMBTU: f64 = 53.06;

/// Fuel cost of a MWh: the heat rate in MMBtu/MWh (Btu/kWh ÷ 1,000) times the gas price.
pub fn fuel_usd_per_mwh(heat_rate_btu_per_kwh: f64, gas_usd_per_mmbtu: f64) -> f64 {
    heat_rate_btu_per_kwh / 1e3 * gas_usd_per_mmbtu
}

/// CO₂ of a MWh of gas-fired electricity, kg: MMBtu per MWh times 53.06 kg/MMBtu.
pub fn gas_co2_kg_per_mwh(heat_rate_btu_per_kwh: f64) -> f64 {
    heat_rate_btu_per_kwh / 1e3 * GAS_CO2_KG_PER_MMBTU
}

/// Levelised cost of a generator's energy, $/MWh: the capital recovered each year (`capex_usd_per_w`
/// × `crf`) and the fixed O&M per watt-year, spread over the MWh a watt makes at `capacity_factor`
/// (8,766 h a year), plus the fuel and variable O&M of each MWh. Infinite when it makes none.
pub fn levelised_usd_per_mwh(
    capex_usd_per_w: f64,
    fixed_om_usd_per_w_year: f64,
    crf: f64,
    capacity_factor: f64,
    marginal_usd_per_mwh: f64,
) -> f64 {
    let mwh_per_w_year = capacity_factor * crate::HOURS_PER_YEAR / 1e6;
    if mwh_per_w_year <= 0.0 {
        return f64::INFINITY;
    }
    (capex_usd_per_w * crf + fixed_om_usd_per_w_year) / mwh_per_w_year + marginal_usd_per_mwh
}

/// Why the generators run as much as they do.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Fuel and variable O&M below the tariff: they carry as much of the load as they can.
    BaseLoad,
    /// Dearer than the tariff, but the grid cannot carry the load (or there is none).
    Needed,
    /// Dearer than the tariff and the grid carries the load: standing by.
    Backup,
}

/// Average power the generators carry: the whole demand when they are cheaper per MWh than the
/// tariff, else only what the grid cannot (all of it without a grid); at most their capacity.
pub fn generation_share_w(
    demand_w: f64,
    capacity_w: f64,
    grid_w: Option<f64>,
    cheaper: bool,
) -> (f64, Role) {
    let must = grid_w.map_or(demand_w, |g| (demand_w - g).max(0.0));
    let (want, role) = if cheaper {
        (demand_w, Role::BaseLoad)
    } else if must > 0.0 {
        (must, Role::Needed)
    } else {
        (0.0, Role::Backup)
    };
    (want.clamp(0.0, capacity_w.max(0.0)), role)
}

/// A site's on-site generation over a year.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct OnSite {
    pub class: String,
    pub capacity_w: f64,
    /// Units of the class the capacity takes (the last may be part of one).
    pub units: u64,
    pub unit_w: f64,
    pub gas_usd_per_mmbtu: f64,
    pub heat_rate_btu_per_kwh: f64,
    pub fuel_usd_per_mwh: f64,
    pub variable_om_usd_per_mwh: f64,
    /// Fuel and variable O&M: what one more MWh costs.
    pub marginal_usd_per_mwh: f64,
    pub capex_usd: f64,
    /// Capital recovered and fixed O&M per year.
    pub fixed_usd_per_year: f64,
    pub fixed_om_usd_per_year: f64,
    pub role: Role,
    /// Average output over the year.
    pub mean_w: f64,
    pub energy_wh_per_year: f64,
    pub capacity_factor: f64,
    /// Levelised cost at this year's output (infinite when the generators stand by).
    pub usd_per_mwh: f64,
    pub tariff_usd_per_mwh: f64,
    pub co2_kg_per_mwh: f64,
    pub co2_kg_per_year: f64,
    /// The grid's share of the site's energy and its CO₂ at the region's intensity.
    pub grid_energy_wh_per_year: f64,
    pub grid_co2_kg_per_mwh: f64,
    pub grid_co2_kg_per_year: f64,
}

/// The generators' capex per watt: the cost defaults' `generation` when set, else the class's.
pub fn capex_usd_per_w(site: &Site, cost: &spec::CostDefaults) -> f64 {
    match (cost.generation, &site.generator) {
        (Some(p), _) => p.usd_per_w(),
        (None, Some(g)) => g.class.capex.usd_per_w(),
        (None, None) => 0.0,
    }
}

/// The year of a site's generation at an average facility demand `demand_w`, with capital
/// recovered at `crf`.
pub fn on_site(site: &Site, cost: &spec::CostDefaults, demand_w: f64, crf: f64) -> Option<OnSite> {
    let g = site.generator.as_ref()?;
    let cap = g.capacity.w();
    let c = &g.class;
    let hr = c.heat_rate.btu_per_kwh();
    let fuel = fuel_usd_per_mwh(hr, g.gas.usd_per_mmbtu());
    let vom = c.variable_om.usd_per_mwh();
    let marginal = fuel + vom;
    let tariff = site.electricity.usd_per_mwh();
    let (mean_w, role) =
        generation_share_w(demand_w, cap, site.grid.map(|x| x.w()), marginal < tariff);
    let capex_w = capex_usd_per_w(site, cost);
    let fom = c.fixed_om.usd_per_w() * cap;
    let fixed = capex_w * cap * crf + fom;
    let cf = if cap > 0.0 { mean_w / cap } else { 0.0 };
    let hours = crate::HOURS_PER_YEAR;
    let energy_wh = mean_w * hours;
    let grid_wh = (demand_w - mean_w).max(0.0) * hours;
    let co2_mwh = gas_co2_kg_per_mwh(hr);
    let grid_co2 = site.grid_co2.kg_per_mwh();
    Some(OnSite {
        class: c.name.clone(),
        capacity_w: cap,
        units: (cap / c.unit.w() - 1e-9).ceil().max(1.0) as u64,
        unit_w: c.unit.w(),
        gas_usd_per_mmbtu: g.gas.usd_per_mmbtu(),
        heat_rate_btu_per_kwh: hr,
        fuel_usd_per_mwh: fuel,
        variable_om_usd_per_mwh: vom,
        marginal_usd_per_mwh: marginal,
        capex_usd: capex_w * cap,
        fixed_usd_per_year: fixed,
        fixed_om_usd_per_year: fom,
        role,
        mean_w,
        energy_wh_per_year: energy_wh,
        capacity_factor: cf,
        usd_per_mwh: if cf > 0.0 {
            levelised_usd_per_mwh(capex_w, c.fixed_om.usd_per_w(), crf, cf, marginal)
        } else {
            f64::INFINITY
        },
        tariff_usd_per_mwh: tariff,
        co2_kg_per_mwh: co2_mwh,
        co2_kg_per_year: energy_wh / 1e6 * co2_mwh,
        grid_energy_wh_per_year: grid_wh,
        grid_co2_kg_per_mwh: grid_co2,
        grid_co2_kg_per_year: grid_wh / 1e6 * grid_co2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The research note's derived $/MWh (campus sources §2.1, D): capital recovery at EIA's
    /// 7.1 % over 20 yr, 90 % capacity factor, $3.5/MMBtu gas, EIA AEO2026 Table 3 classes.
    #[test]
    fn levelised_costs_match_the_derived_table() {
        let crf = crate::capital_recovery_factor(0.071, 20.0);
        assert!((crf - 0.0951).abs() < 5e-4, "{crf}");
        for (capex, fom, vom, hr, want) in [
            (2.275, 9.99e-3, 5.97, 9447.0, 67.7),
            (1.158, 7.18e-3, 4.17, 9142.0, 51.0),
            (1.032, 12.69e-3, 3.57, 6226.0, 39.4),
        ] {
            let m = fuel_usd_per_mwh(hr, 3.5) + vom;
            let got = levelised_usd_per_mwh(capex, fom, crf, 0.9, m);
            // the note rounds its hours (7,889 h = 90 % of 8,766) and parts to 0.1
            assert!((got / want - 1.0).abs() < 0.01, "{got} vs {want}");
        }
    }

    /// CO₂ per MWh: 9,447 Btu/kWh → 0.501 t; 6,226 → 0.330 t (campus sources §2.1, D).
    #[test]
    fn gas_co2_per_mwh() {
        assert!((gas_co2_kg_per_mwh(9447.0) - 501.3).abs() < 0.5);
        assert!((gas_co2_kg_per_mwh(6226.0) - 330.4).abs() < 0.5);
    }

    #[test]
    fn merit_order() {
        // cheaper than the tariff: base load up to capacity
        assert_eq!(
            generation_share_w(100.0, 35.0, Some(300.0), true),
            (35.0, Role::BaseLoad)
        );
        // dearer, grid enough: standing by
        assert_eq!(
            generation_share_w(100.0, 35.0, Some(300.0), false),
            (0.0, Role::Backup)
        );
        // dearer, grid short: the shortfall
        assert_eq!(
            generation_share_w(100.0, 80.0, Some(30.0), false),
            (70.0, Role::Needed)
        );
        // no grid: everything it can
        assert_eq!(
            generation_share_w(100.0, 80.0, None, false),
            (80.0, Role::Needed)
        );
    }
}
