//! Capacity and cost planning: the power chain from GPU TDP to facility power, how many GPUs a
//! site's supply feeds, H100-equivalents, capex by category, opex, and TCO per GPU-hour.
//!
//! Architecture invariant: pure functions of plain data ([`Inputs`]: the resolved sites with their
//! halls, the cost defaults and the reference accelerator, as `spec` resolves them); no I/O, no
//! formatting (findings are [`Warning`] values that `report` words). Every figure is derived from
//! catalogue entries (each citing its source), never typed in.

pub mod generation;
pub mod phases;
pub mod programme;
pub mod run_cost;

use serde::Serialize;
use spec::catalog::{Accelerator, CostDefaults, Fabric, System};
use spec::scenario::{Hall, Site};
use spec::units::SECONDS_PER_YEAR;

/// Hours in a year (365.25 days), the convention of the cost sources.
pub const HOURS_PER_YEAR: f64 = SECONDS_PER_YEAR / 3600.0;

// ---------------------------------------------------------------------------------------------
// Power chain
// ---------------------------------------------------------------------------------------------

/// Nameplate system power per accelerator: node power over accelerators per node
/// (DGX H100: 10.2 kW / 8 = 1,275 W; NVIDIA datasheet).
pub fn system_power_per_gpu_w(system: &System) -> f64 {
    system.node_power.w() / system.gpus_per_node as f64
}

/// Critical IT power per accelerator: its system share plus the non-server IT (switches, storage,
/// management) as a fraction of server power (SemiAnalysis: ~10 %).
pub fn it_power_per_gpu_w(system: &System, other_it_fraction: f64) -> f64 {
    system_power_per_gpu_w(system) * (1.0 + other_it_fraction)
}

/// Facility power from IT power through the power usage effectiveness.
pub fn facility_power_w(it_power_w: f64, pue: f64) -> f64 {
    it_power_w * pue
}

/// Accelerators a power supply feeds at a given facility power per accelerator.
pub fn gpus_fed(supply_w: f64, facility_power_per_gpu_w: f64) -> u64 {
    if facility_power_per_gpu_w <= 0.0 {
        return 0;
    }
    (supply_w / facility_power_per_gpu_w).floor() as u64
}

// ---------------------------------------------------------------------------------------------
// Throughput equivalents
// ---------------------------------------------------------------------------------------------

/// Dense peak for a precision: FP8 falls back to BF16 on chips without FP8.
pub fn peak_flops(a: &Accelerator, fp8: bool) -> f64 {
    if fp8 {
        a.fp8.unwrap_or(a.bf16).flops()
    } else {
        a.bf16.flops()
    }
}

/// How many reference accelerators (H100 SXM by default) match `gpus` of `a` in dense peak
/// throughput at one precision.
pub fn reference_equivalents(
    gpus: u64,
    a: &Accelerator,
    reference: &Accelerator,
    fp8: bool,
) -> f64 {
    gpus as f64 * peak_flops(a, fp8) / peak_flops(reference, fp8)
}

// ---------------------------------------------------------------------------------------------
// Fabric sizing
// ---------------------------------------------------------------------------------------------

/// Switch ports (each with its transceivers and cable share) one GPU uses in a folded Clos:
/// one leaf down-link, then an up-link and a down-link per tier above the leaf, thinned by the
/// oversubscription above the leaves. Non-blocking 3 tiers: 2·3 − 1 = 5.
pub fn clos_ports_per_gpu(tiers: u32, oversubscription: f64) -> f64 {
    1.0 + (2.0 * tiers as f64 - 2.0) / oversubscription
}

/// Endpoints a folded Clos of radix-`k` switches reaches with `tiers` tiers: 2·(k/2)^T
/// (k²/2 for two tiers, k³/4 for three), more when the leaves are oversubscribed
/// (a leaf gives k·o/(1+o) ports down instead of k/2).
pub fn clos_max_endpoints(radix: u32, tiers: u32, oversubscription: f64) -> f64 {
    let k = radix as f64;
    2.0 * (k / 2.0).powi(tiers as i32) * (2.0 * oversubscription / (1.0 + oversubscription))
}

/// Scale-out fabric cost per GPU.
pub fn fabric_cost_per_gpu_usd(f: &Fabric) -> f64 {
    clos_ports_per_gpu(f.tiers, f.oversubscription) * f.cost_per_port.usd()
}

// ---------------------------------------------------------------------------------------------
// Money over time
// ---------------------------------------------------------------------------------------------

/// Capital recovery factor: the share of a capital cost paid each year over `life_years` at an
/// annual cost of capital `rate` (straight-line 1/n when the rate is 0).
pub fn capital_recovery_factor(rate: f64, life_years: f64) -> f64 {
    if life_years <= 0.0 {
        return 0.0;
    }
    if rate.abs() < 1e-12 {
        1.0 / life_years
    } else {
        rate / (1.0 - (1.0 + rate).powf(-life_years))
    }
}

// ---------------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Capex {
    pub servers_usd: f64,
    pub networking_usd: f64,
    pub facility_usd: f64,
    pub battery_usd: f64,
    pub generation_usd: f64,
    pub total_usd: f64,
}

impl Capex {
    fn add(&mut self, o: &Capex) {
        self.servers_usd += o.servers_usd;
        self.networking_usd += o.networking_usd;
        self.facility_usd += o.facility_usd;
        self.battery_usd += o.battery_usd;
        self.generation_usd += o.generation_usd;
        self.total_usd += o.total_usd;
    }
    fn finish(mut self) -> Self {
        self.total_usd = self.servers_usd
            + self.networking_usd
            + self.facility_usd
            + self.battery_usd
            + self.generation_usd;
        self
    }
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Opex {
    pub energy_usd_per_year: f64,
    pub maintenance_usd_per_year: f64,
    pub total_usd_per_year: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HallPlan {
    pub name: String,
    pub system: String,
    pub accelerator: String,
    pub fabric: String,
    pub gpus: u64,
    pub nodes: u64,
    pub gpu_tdp_w: f64,
    pub system_power_per_gpu_w: f64,
    pub it_power_per_gpu_w: f64,
    pub facility_power_per_gpu_w: f64,
    pub it_power_w: f64,
    pub facility_power_w: f64,
    pub bf16_peak_flops: f64,
    pub fp8_peak_flops: f64,
    pub h100_equivalents: f64,
    pub h100_equivalents_fp8: f64,
    pub fabric_ports_per_gpu: f64,
    pub fabric_max_endpoints: f64,
    pub capex: Capex,
    pub capex_per_gpu_usd: f64,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SitePlan {
    pub name: String,
    pub cooling: String,
    pub pue: f64,
    pub gpus: u64,
    pub it_power_w: f64,
    pub facility_power_w: f64,
    pub grid_w: Option<f64>,
    pub generation_w: f64,
    /// Grid plus on-site generation, when either is given.
    pub supply_w: Option<f64>,
    /// GPUs of this site's hall mix that the supply feeds.
    pub gpus_fed: Option<u64>,
    pub battery_power_w: f64,
    pub battery_energy_wh: f64,
    pub electricity_usd_per_mwh: f64,
    pub energy_wh_per_year: f64,
    pub water_l_per_year: f64,
    /// On-site generation over the year, when the site has some.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_site: Option<generation::OnSite>,
    /// The build-out in phases, when the site has them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<phases::PhasePlan>,
    pub halls: Vec<HallPlan>,
    pub capex: Capex,
    pub opex: Opex,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Plan {
    pub scenario: String,
    pub gpus: u64,
    pub h100_equivalents: f64,
    pub h100_equivalents_fp8: f64,
    pub bf16_peak_flops: f64,
    pub it_power_w: f64,
    pub facility_power_w: f64,
    /// IT power per GPU averaged over the halls ("all-in" per GPU at the IT level).
    pub it_power_per_gpu_w: f64,
    pub facility_power_per_gpu_w: f64,
    pub capex_usd: f64,
    pub capex: Capex,
    pub capex_per_gpu_usd: f64,
    pub opex_usd_per_year: f64,
    pub opex: Opex,
    pub annualised_capex_usd_per_year: f64,
    pub tco_usd_per_year: f64,
    pub tco_usd_per_gpu_hour: f64,
    pub energy_wh_per_year: f64,
    pub water_l_per_year: f64,
    pub training_draw_fraction: f64,
    pub sites: Vec<SitePlan>,
    /// Findings a planner should see: supply short of demand, fabric too small.
    pub warnings: Vec<Warning>,
}

/// A finding of the plan.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// A hall holds more GPUs than its fabric's switches reach.
    FabricTooSmall {
        site: String,
        hall: String,
        gpus: u64,
        max_endpoints: f64,
        tiers: u32,
        radix: u32,
    },
    /// A site's nameplate facility power exceeds its grid and generation.
    SupplyShort {
        site: String,
        facility_w: f64,
        supply_w: f64,
        /// GPUs of the site's hall mix the supply feeds.
        gpus_fed: u64,
    },
}

impl Plan {
    /// The cost of owning and running one GPU for a second, energy left out: (TCO − energy
    /// cost) per GPU-second of the year.
    pub fn fixed_usd_per_gpu_s(&self) -> f64 {
        let gpus = self.gpus.max(1) as f64;
        ((self.tco_usd_per_year - self.opex.energy_usd_per_year) / (gpus * SECONDS_PER_YEAR))
            .max(0.0)
    }

    /// The energy cost of one GPU for a second at full activity: its facility power at the first
    /// site's electricity price (a MWh is 3.6e9 J).
    pub fn energy_usd_per_gpu_s_at_full_activity(&self) -> f64 {
        let usd_per_mwh = self
            .sites
            .first()
            .map(|site| site.electricity_usd_per_mwh)
            .unwrap_or(0.0);
        self.facility_power_per_gpu_w * usd_per_mwh / 3.6e9
    }
}

/// What the plan needs: the resolved sites (halls, cooling, supply, prices), the cost defaults and
/// the accelerator H100-equivalents are counted in.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    pub name: &'a str,
    pub sites: &'a [Site],
    pub cost: &'a CostDefaults,
    pub reference: &'a Accelerator,
}

/// Plan one hall.
pub fn plan_hall(h: &Hall, site: &Site, cost: &CostDefaults, reference: &Accelerator) -> HallPlan {
    let gpn = h.system.gpus_per_node as u64;
    let nodes = h.gpus.div_ceil(gpn);
    let other = cost.other_it_fraction.fraction();
    let sys_w = system_power_per_gpu_w(&h.system);
    let it_w = it_power_per_gpu_w(&h.system, other);
    let fac_w = facility_power_w(it_w, site.cooling.pue);
    let gpus = h.gpus as f64;
    let ports = clos_ports_per_gpu(h.fabric.tiers, h.fabric.oversubscription);
    let it_power = it_w * gpus;
    let capex = Capex {
        servers_usd: nodes as f64 * h.system.node_price.usd(),
        networking_usd: gpus * fabric_cost_per_gpu_usd(&h.fabric),
        facility_usd: it_power * site.facility.usd_per_w(),
        ..Capex::default()
    }
    .finish();
    HallPlan {
        name: h.name.clone(),
        system: h.system.name.clone(),
        accelerator: h.accelerator.name.clone(),
        fabric: h.fabric.name.clone(),
        gpus: h.gpus,
        nodes,
        gpu_tdp_w: h.accelerator.tdp.w(),
        system_power_per_gpu_w: sys_w,
        it_power_per_gpu_w: it_w,
        facility_power_per_gpu_w: fac_w,
        it_power_w: it_power,
        facility_power_w: fac_w * gpus,
        bf16_peak_flops: gpus * peak_flops(&h.accelerator, false),
        fp8_peak_flops: gpus * peak_flops(&h.accelerator, true),
        h100_equivalents: reference_equivalents(h.gpus, &h.accelerator, reference, false),
        h100_equivalents_fp8: reference_equivalents(h.gpus, &h.accelerator, reference, true),
        fabric_ports_per_gpu: ports,
        fabric_max_endpoints: clos_max_endpoints(
            h.fabric.radix,
            h.fabric.tiers,
            h.fabric.oversubscription,
        ),
        capex_per_gpu_usd: capex.total_usd / gpus,
        capex,
    }
}

/// Plan a whole cluster.
pub fn plan(s: &Inputs) -> Plan {
    let cost = &s.cost;
    let draw = cost.training_draw_fraction.fraction();
    let mut warnings = vec![];
    let mut sites = vec![];
    let mut total_capex = Capex::default();
    let mut annualised = 0.0;
    let rate = cost.cost_of_capital.fraction();
    let crf = |life: spec::Duration| capital_recovery_factor(rate, life.years());

    for site in s.sites {
        let halls: Vec<HallPlan> = site
            .halls
            .iter()
            .map(|h| plan_hall(h, site, cost, s.reference))
            .collect();
        let mut capex = Capex::default();
        for h in &halls {
            capex.add(&h.capex);
            if (h.gpus as f64) > h.fabric_max_endpoints {
                let fabric = site
                    .halls
                    .iter()
                    .find(|x| x.name == h.name)
                    .map(|x| &x.fabric);
                warnings.push(Warning::FabricTooSmall {
                    site: site.name.clone(),
                    hall: h.name.clone(),
                    gpus: h.gpus,
                    max_endpoints: h.fabric_max_endpoints,
                    tiers: fabric.map(|f| f.tiers).unwrap_or(0),
                    radix: fabric.map(|f| f.radix).unwrap_or(0),
                });
            }
        }
        let (bat_w, bat_wh) = match &site.battery {
            Some(b) => (b.power.w(), b.energy.wh()),
            None => (0.0, 0.0),
        };
        let site_extra = Capex {
            battery_usd: bat_wh / 1e6 * cost.battery.usd_per_mwh(),
            generation_usd: site.generation.w() * generation::capex_usd_per_w(site, cost),
            ..Capex::default()
        }
        .finish();
        capex.add(&site_extra);

        let gpus: u64 = halls.iter().map(|h| h.gpus).sum();
        let it_power_w: f64 = halls.iter().map(|h| h.it_power_w).sum();
        let facility_power_w_site: f64 = halls.iter().map(|h| h.facility_power_w).sum();
        // (generation without a grid is a supply too: an islanded site)
        let supply_w = (site.grid.is_some() || site.generation.w() > 0.0)
            .then(|| site.grid.map_or(0.0, |g| g.w()) + site.generation.w());
        let gpus_fed_site = supply_w.map(|sup| gpus_fed(sup, facility_power_w_site / gpus as f64));
        if let (Some(sup), Some(fed)) = (supply_w, gpus_fed_site) {
            if facility_power_w_site > sup {
                warnings.push(Warning::SupplyShort {
                    site: site.name.clone(),
                    facility_w: facility_power_w_site,
                    supply_w: sup,
                    gpus_fed: fed,
                });
            }
        }
        // Energy: average training draw through PUE over a year.
        let energy_wh = it_power_w * draw * site.cooling.pue * HOURS_PER_YEAR;
        let it_energy_kwh = it_power_w * draw * HOURS_PER_YEAR / 1e3;
        let water_l = it_energy_kwh * site.cooling.wue.l_per_kwh();
        let nodes: u64 = halls.iter().map(|h| h.nodes).sum();
        // On-site generation carries its share of the energy at its fuel and variable O&M (the
        // merit order against the tariff), its fixed O&M with the maintenance.
        let on_site = generation::on_site(
            site,
            cost,
            energy_wh / HOURS_PER_YEAR,
            crf(cost.depreciation_generation),
        );
        let (energy_usd, gen_fom) = match &on_site {
            Some(g) => (
                g.grid_energy_wh_per_year / 1e6 * site.electricity.usd_per_mwh()
                    + g.energy_wh_per_year / 1e6 * g.marginal_usd_per_mwh,
                g.fixed_om_usd_per_year,
            ),
            None => (energy_wh / 1e6 * site.electricity.usd_per_mwh(), 0.0),
        };
        let maint = nodes as f64
            * (cost.maintenance_per_node_year.usd()
                + cost.software_per_node_year.usd()
                + cost.network_opex_per_node_year.usd())
            + gen_fom;
        let opex = Opex {
            energy_usd_per_year: energy_usd,
            maintenance_usd_per_year: maint,
            total_usd_per_year: energy_usd + maint,
        };
        annualised += capex.servers_usd * crf(cost.depreciation_it)
            + capex.networking_usd * crf(cost.depreciation_network)
            + capex.facility_usd * crf(cost.depreciation_facility)
            + capex.battery_usd * crf(cost.depreciation_battery)
            + capex.generation_usd * crf(cost.depreciation_generation);
        total_capex.add(&capex);
        sites.push(SitePlan {
            name: site.name.clone(),
            cooling: site.cooling.name.clone(),
            pue: site.cooling.pue,
            gpus,
            it_power_w,
            facility_power_w: facility_power_w_site,
            grid_w: site.grid.map(|g| g.w()),
            generation_w: site.generation.w(),
            supply_w,
            gpus_fed: gpus_fed_site,
            battery_power_w: bat_w,
            battery_energy_wh: bat_wh,
            electricity_usd_per_mwh: site.electricity.usd_per_mwh(),
            energy_wh_per_year: energy_wh,
            water_l_per_year: water_l,
            on_site,
            phases: phases::plan_phases(site, &halls, cost),
            halls,
            capex,
            opex,
        });
    }

    let gpus: u64 = sites.iter().map(|s| s.gpus).sum();
    let g = gpus.max(1) as f64;
    let it_power_w: f64 = sites.iter().map(|s| s.it_power_w).sum();
    let facility_power_w_all: f64 = sites.iter().map(|s| s.facility_power_w).sum();
    let opex = sites.iter().fold(Opex::default(), |mut a, s| {
        a.energy_usd_per_year += s.opex.energy_usd_per_year;
        a.maintenance_usd_per_year += s.opex.maintenance_usd_per_year;
        a.total_usd_per_year += s.opex.total_usd_per_year;
        a
    });
    let tco = annualised + opex.total_usd_per_year;
    let sum = |f: fn(&HallPlan) -> f64| sites.iter().flat_map(|s| &s.halls).map(f).sum::<f64>();
    Plan {
        scenario: s.name.to_string(),
        gpus,
        h100_equivalents: sum(|h| h.h100_equivalents),
        h100_equivalents_fp8: sum(|h| h.h100_equivalents_fp8),
        bf16_peak_flops: sum(|h| h.bf16_peak_flops),
        it_power_w,
        facility_power_w: facility_power_w_all,
        it_power_per_gpu_w: it_power_w / g,
        facility_power_per_gpu_w: facility_power_w_all / g,
        capex_usd: total_capex.total_usd,
        capex_per_gpu_usd: total_capex.total_usd / g,
        capex: total_capex,
        opex_usd_per_year: opex.total_usd_per_year,
        opex,
        annualised_capex_usd_per_year: annualised,
        tco_usd_per_year: tco,
        tco_usd_per_gpu_hour: tco / (g * HOURS_PER_YEAR),
        energy_wh_per_year: sites.iter().map(|s| s.energy_wh_per_year).sum(),
        water_l_per_year: sites.iter().map(|s| s.water_l_per_year).sum(),
        training_draw_fraction: draw,
        sites,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clos_port_counts() {
        assert_eq!(clos_ports_per_gpu(3, 1.0), 5.0);
        assert_eq!(clos_ports_per_gpu(2, 1.0), 3.0);
        assert_eq!(clos_ports_per_gpu(3, 2.0), 3.0);
        assert_eq!(clos_max_endpoints(64, 2, 1.0), 2048.0);
        assert_eq!(clos_max_endpoints(64, 3, 1.0), 65536.0);
    }

    #[test]
    fn crf_straight_line_and_annuity() {
        assert!((capital_recovery_factor(0.0, 5.0) - 0.2).abs() < 1e-12);
        // 8 % over 5 years: 0.2505 (standard annuity table)
        assert!((capital_recovery_factor(0.08, 5.0) - 0.25046).abs() < 1e-4);
    }
}
