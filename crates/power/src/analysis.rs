//! The whole power analysis: a fine window (trace, mitigations, spectrum, grid checks) and the run
//! at per-step resolution (energy by state), with what each mitigation costs.

use crate::draw::Cluster;
use crate::grid::{self, GridCode, Metrics, RuleCheck};
use crate::profile::{time_in_states, RunInterval, RunState, StepShape};
use crate::spectrum::Spectrum;
use crate::storage::{run_storage, Storage, StorageRun, Turbines};
use crate::supply::{self, Commitment, Connection, Mode};
use crate::trace::{it_power_trace, state_it_mean_w, GpuMitigation, Trace};
use serde::{Deserialize, Serialize};

/// Hours in the cost year: 365.25 days (the cost sources' convention, `spec::units`).
pub const SECONDS_PER_YEAR: f64 = spec::units::SECONDS_PER_YEAR;

/// Prices of energy and equipment.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Prices {
    pub electricity_usd_per_j: f64,
    /// Battery capex per J of energy capacity, for a system of at least `battery_min_duration_s`.
    pub battery_usd_per_j: f64,
    /// Batteries are priced at no less than this duration at their power: Lazard LCOE+ 2024's
    /// shortest case is 2 h, whose cost per kWh matches its 4 h case (D: $38-80M for 100 MW 2 h,
    /// $76-157M for 4 h).
    pub battery_min_duration_s: f64,
    pub battery_life_s: f64,
    /// Rack capacitor storage capex per J (A: a 450 V, 1,000 uF electrolytic capacitor stores
    /// CV^2/2 = 101 J and sells for about $10: ~$0.1/J).
    pub rack_storage_usd_per_j: f64,
    pub rack_storage_life_s: f64,
    /// What an hour of one GPU costs (the plan's TCO per GPU-hour): the price of lost throughput.
    pub gpu_hour_usd: f64,
}

impl Prices {
    pub const BATTERY_MIN_DURATION_S: f64 = 2.0 * 3600.0;
    pub const RACK_STORAGE_USD_PER_J: f64 = 0.1;
}

/// Every mitigation in one place.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct Mitigation {
    pub gpu: GpuMitigation,
    /// Throughput lost to filler work while it runs (Firefly with MPS: 5 %, calibration 1.3, S).
    pub filler_slowdown_fraction: f64,
    pub rack_storage_j_per_gpu: f64,
    pub battery: Option<Storage>,
    pub turbines: Option<Turbines>,
}

impl Mitigation {
    pub const FILLER_SLOWDOWN: f64 = 0.05;

    /// Whether nothing is done: no floor, ramp limit, filler, storage or turbines (the filler's
    /// slowdown parameter alone changes nothing).
    pub fn is_none(&self) -> bool {
        self.gpu.floor_fraction == 0.0
            && self.gpu.ramp_up_w_per_s.is_none()
            && self.gpu.ramp_down_w_per_s.is_none()
            && self.gpu.filler_activity.is_none()
            && self.rack_storage_j_per_gpu == 0.0
            && self.battery.is_none()
            && self.turbines.is_none()
    }
}

/// The window to sample finely.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct Window {
    pub t0_s: f64,
    pub duration_s: f64,
    pub dt_s: f64,
}

impl Window {
    pub fn samples(&self) -> usize {
        ((self.duration_s / self.dt_s).round() as usize).max(1)
    }

    /// A window of `duration_s` over the run: around its first restart when there is one (a
    /// quarter of the window before it), else at the start.
    pub fn place(run: &[RunInterval], duration_s: f64, dt_s: f64) -> Window {
        let start = run.first().map(|i| i.start_s).unwrap_or(0.0);
        let end = run.iter().map(|i| i.end_s).fold(start, f64::max);
        let duration_s = if end > start {
            duration_s.min(end - start)
        } else {
            duration_s
        };
        let t0 = match run.iter().find(|i| i.state == RunState::Restart) {
            Some(r) => (r.start_s - 0.25 * duration_s).clamp(start, (end - duration_s).max(start)),
            None => start,
        };
        Window {
            t0_s: t0,
            duration_s,
            dt_s,
        }
    }
}

/// Everything the analysis needs.
#[derive(Clone, Debug, Serialize)]
pub struct Inputs {
    pub cluster: Cluster,
    pub step: StepShape,
    pub run: Vec<RunInterval>,
    pub window: Window,
    pub code: GridCode,
    pub mitigation: Mitigation,
    pub prices: Prices,
    /// The site's grid connection (import and export limits).
    pub connection: Connection,
}

impl Inputs {
    /// Whether the grid code applies: decided from the unmitigated import (the site's load as the
    /// grid would see it without any mitigation or generation), never from the mitigated one; an
    /// islanded site has no grid to apply it to.
    pub fn code_applies(&self, raw_peak_w: f64) -> bool {
        !self.connection.islanded() && raw_peak_w >= self.code.large_load_w
    }
}

/// The supply against the grid connection over the window: how the generators ran, what they
/// could not deliver, and the import above the connection.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SupplyCheck {
    pub connection: Connection,
    pub islanded: bool,
    /// How the generators ran (none without generation).
    pub commitment: Option<Commitment>,
    /// Grid import (positive) or export (negative) with the mitigations.
    pub peak_import_w: f64,
    pub min_import_w: f64,
    /// Time, energy and largest excess of the import above the connection (for an islanded
    /// site: load the plant could not serve).
    pub over_connection_s: f64,
    pub over_connection_j: f64,
    pub over_connection_peak_w: f64,
    /// Generation the site could not take (beyond the export allowed), time and energy.
    pub curtailed_s: f64,
    pub curtailed_j: f64,
    /// No import above the connection and no generation curtailed.
    pub passes: bool,
}

/// Energy and power of the whole run, per state, at per-step resolution.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct RunEnergy {
    pub length_s: f64,
    /// Seconds in each state, by `RunState::name`.
    pub state_s: Vec<(String, f64)>,
    /// Facility energy over the run without and with GPU-level mitigations, J.
    pub facility_raw_j: f64,
    pub facility_mitigated_j: f64,
    pub mean_facility_raw_w: f64,
}

/// Costs of the mitigation set, per year of operation.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Costs {
    /// Extra facility energy over the unmitigated run, as a share (floor, filler, ramp burn and
    /// storage losses).
    pub energy_overhead_fraction: f64,
    pub energy_overhead_j_per_year: f64,
    pub energy_usd_per_year: f64,
    pub battery_capex_usd: f64,
    pub rack_storage_capex_usd: f64,
    /// Straight-line annualised capex of the storage.
    pub capex_usd_per_year: f64,
    /// Throughput lost (filler slowdown, work deferred by ramp-up limits), as a share.
    pub performance_loss_fraction: f64,
    pub performance_usd_per_year: f64,
    pub total_usd_per_year: f64,
}

/// The result of one analysis.
#[derive(Clone, Debug, Serialize)]
pub struct Analysis {
    pub code: GridCode,
    pub gpus: f64,
    pub window: Window,
    /// Grid import without any mitigation, and its figures.
    pub raw: Metrics,
    pub raw_checks: Vec<RuleCheck>,
    pub raw_passes: bool,
    /// Grid import with the mitigations, and its figures.
    pub mitigated: Metrics,
    pub checks: Vec<RuleCheck>,
    /// Whether the large-load rules apply: the unmitigated peak at or above the code's threshold
    /// (never for an islanded site).
    pub applies: bool,
    pub passes: bool,
    /// Facility energy in the window, raw and with mitigations (what the site draws: grid plus
    /// turbines, corrected for the storage's change of charge), J.
    pub window_raw_j: f64,
    pub window_mitigated_j: f64,
    pub window_energy_overhead_fraction: f64,
    /// Rack-level (GPUs, hosts, other IT) energy overhead of the GPU-level mitigations in the
    /// window: the quantity the 10.5 % at a 90 % floor refers to.
    pub rack_energy_overhead_fraction: f64,
    pub battery: Option<StorageSummary>,
    pub rack_storage: Option<StorageSummary>,
    pub turbines_max_ramp_w_per_s: Option<f64>,
    pub turbines_energy_j: Option<f64>,
    /// The supply against the connection: present when the site has generation or a grid
    /// connection.
    pub supply: Option<SupplyCheck>,
    pub run: RunEnergy,
    pub costs: Costs,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StorageSummary {
    pub power_w: f64,
    pub energy_j: f64,
    pub efficiency: f64,
    pub soc_min_j: f64,
    pub soc_max_j: f64,
    pub discharged_j: f64,
    pub charged_j: f64,
    pub losses_j: f64,
    pub saturated_s: f64,
}

fn summary(s: &Storage, r: &StorageRun) -> StorageSummary {
    StorageSummary {
        power_w: s.power_w,
        energy_j: s.energy_j,
        efficiency: s.efficiency,
        soc_min_j: r.soc_min_j,
        soc_max_j: r.soc_max_j,
        discharged_j: r.discharged_j,
        charged_j: r.charged_j,
        losses_j: r.losses_j,
        saturated_s: r.saturated_s,
    }
}

/// Traces behind an analysis, for charts.
#[derive(Clone, Debug, Default)]
pub struct Traces {
    pub raw_grid: Trace,
    pub grid: Trace,
    pub raw_spectrum: Spectrum,
    pub spectrum: Spectrum,
    pub battery_soc_j: Vec<f64>,
    pub run_raw: Trace,
}

/// The unmitigated half of an analysis: it depends on the cluster, step, run, window and code, not
/// on the mitigations, so a search over mitigations computes it once.
#[derive(Clone, Debug)]
pub struct RawPart {
    pub it: Trace,
    pub facility: Trace,
    pub metrics: Metrics,
    pub spectrum: Spectrum,
    pub checks: Vec<RuleCheck>,
    pub passes: bool,
}

/// Raw: GPU draw as demanded, facility overhead at its mean, straight to the grid.
pub fn raw_part(inp: &Inputs) -> RawPart {
    let win = inp.window;
    let n = win.samples();
    let dt = win.duration_s / n as f64;
    let c = &inp.cluster;
    let it = it_power_trace(
        c,
        &inp.step,
        &inp.run,
        win.t0_s,
        dt,
        n,
        &GpuMitigation::none(),
    );
    let facility = it.facility(c.pue);
    let (metrics, spectrum) = grid::metrics(&facility, &inp.code);
    let code = inp.code.deciding(inp.code_applies(metrics.peak_w));
    let (_, checks) = grid::check(&code, &metrics);
    let passes = checks.iter().all(|r| r.passes);
    RawPart {
        it,
        facility,
        metrics,
        spectrum,
        checks,
        passes,
    }
}

/// Run the analysis; `keep` also returns the traces for charts.
pub fn analyse(inp: &Inputs, keep: bool) -> (Analysis, Option<Traces>) {
    analyse_with_raw(inp, keep, &raw_part(inp))
}

/// [`analyse`] with its unmitigated half already computed (by [`raw_part`] on the same inputs,
/// mitigations aside).
pub fn analyse_with_raw(inp: &Inputs, keep: bool, raw: &RawPart) -> (Analysis, Option<Traces>) {
    let win = inp.window;
    let n = win.samples();
    let dt = win.duration_s / n as f64;
    let c = &inp.cluster;
    let mit = &inp.mitigation;
    let code = &inp.code;
    let raw_it = &raw.it;
    let raw_fac = &raw.facility;

    // Mitigated: GPU level, then rack storage, facility overhead, site battery, turbines. (No
    // GPU-level mitigation: the raw IT trace, which is built the same way.)
    let bits = |g: &GpuMitigation| {
        let o = |x: Option<f64>| x.map(f64::to_bits);
        (
            g.floor_fraction.to_bits(),
            o(g.ramp_up_w_per_s),
            o(g.ramp_down_w_per_s),
            o(g.filler_activity),
        )
    };
    // (`None`: the raw IT trace itself)
    let untouched = bits(&mit.gpu) == bits(&GpuMitigation::none()) && raw_it.w.len() == n;
    let itm =
        (!untouched).then(|| it_power_trace(c, &inp.step, &inp.run, win.t0_s, dt, n, &mit.gpu));
    let raw_it_j = raw_it.energy_j();
    let rack_overhead = if raw_it_j > 0.0 {
        itm.as_ref().map_or(raw_it_j, |t| t.energy_j()) / raw_it_j - 1.0
    } else {
        0.0
    };
    let mut stored_change_j = 0.0;
    let mut rack_summary = None;
    let rack = mit.rack_storage_j_per_gpu > 0.0;
    // The raw IT trace's facility draw is the raw one, already at hand.
    let mut fac = if itm.is_none() && !rack {
        raw_fac.clone()
    } else {
        let mut load = itm.unwrap_or_else(|| raw_it.clone());
        if rack {
            let s = Storage::rack(mit.rack_storage_j_per_gpu, c.gpus(), load.peak_w());
            let r = run_storage(&load, &s, code.ramp_up_w_per_s, code.ramp_down_w_per_s);
            stored_change_j += r.soc_end_j - r.soc_start_j;
            rack_summary = Some(summary(&s, &r));
            load = r.upstream;
        }
        load.facility(c.pue)
    };
    // whether `fac` is still the raw facility trace (then its figures are the raw ones)
    let mut fac_is_raw = untouched && !rack;
    let mut soc = vec![];
    let mut battery = None;
    // The rules apply from the unmitigated peak (see `Inputs::code_applies`).
    let applies_raw = inp.code_applies(raw.metrics.peak_w);
    let decide = code.deciding(applies_raw);
    let commitment = mit
        .turbines
        .map(|t| supply::commit(&fac, &t, &inp.connection));
    let mut generation: Option<Trace> = None;
    let (mut curtailed_j, mut curtailed_s) = (0.0, 0.0);
    let site_j;
    match commitment {
        Some(k) if k.mode == Mode::LoadFollowing => {
            // The generators and the battery follow the load together.
            let r = supply::follow(&fac, &k, mit.battery.as_ref(), &inp.connection);
            if let Some(b) = &mit.battery {
                stored_change_j += r.soc_end_j - r.soc_start_j;
                battery = Some(StorageSummary {
                    power_w: b.power_w,
                    energy_j: b.energy_j,
                    efficiency: b.efficiency,
                    soc_min_j: r.soc_min_j,
                    soc_max_j: r.soc_max_j,
                    discharged_j: r.discharged_j,
                    charged_j: r.charged_j,
                    losses_j: r.losses_j,
                    saturated_s: r.saturated_s,
                });
                if keep {
                    soc = r.soc_j.clone();
                }
            }
            site_j = r.import.energy_j() + r.generation.energy_j();
            curtailed_j = r.curtailed_j;
            curtailed_s = r.curtailed_s;
            generation = Some(r.generation);
            fac = r.import;
            fac_is_raw = false;
        }
        _ => {
            if let Some(b) = &mit.battery {
                let r = run_storage(&fac, b, code.ramp_up_w_per_s, code.ramp_down_w_per_s);
                stored_change_j += r.soc_end_j - r.soc_start_j;
                battery = Some(summary(b, &r));
                if keep {
                    soc = r.soc_j.clone();
                }
                fac = r.upstream;
                fac_is_raw = false;
            }
            site_j = fac.energy_j();
            if let Some(k) = commitment {
                // Base load: the committed units flat under the load's floor.
                let (import, cut) =
                    supply::base_load_import(&fac, k.committed_w, inp.connection.export_w);
                let mut out = cut.clone();
                for (o, x) in out.w.iter_mut().zip(&cut.w) {
                    *o = k.committed_w - x;
                    if *x > 0.0 {
                        curtailed_j += x * dt;
                        curtailed_s += dt;
                    }
                }
                generation = Some(out);
                fac = import;
                fac_is_raw = false;
            }
        }
    }
    let turbines_max_ramp = generation
        .as_ref()
        .map(|out| grid::max_sample_step_w(&out.w) / dt);
    let turbines_energy = generation.as_ref().map(|out| out.energy_j());
    // (the same trace as the raw one: the same figures)
    let same = fac_is_raw
        || (fac.t0_s.to_bits() == raw_fac.t0_s.to_bits()
            && fac.dt_s.to_bits() == raw_fac.dt_s.to_bits()
            && fac.w.len() == raw_fac.w.len()
            && fac
                .w
                .iter()
                .zip(&raw_fac.w)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
    let (m, sp) = if same {
        (raw.metrics.clone(), raw.spectrum.clone())
    } else {
        grid::metrics(&fac, code)
    };
    let (_, checks) = grid::check(&decide, &m);
    let applies = applies_raw;
    let passes = checks.iter().all(|r| r.passes);
    let supply = (mit.turbines.is_some() || inp.connection.import_w.is_some()).then(|| {
        let (over_s, over_j, over_peak) = supply::over_connection(&fac, &inp.connection);
        SupplyCheck {
            connection: inp.connection,
            islanded: inp.connection.islanded(),
            commitment,
            peak_import_w: m.peak_w,
            min_import_w: m.min_w,
            over_connection_s: over_s,
            over_connection_j: over_j,
            over_connection_peak_w: over_peak,
            curtailed_s,
            curtailed_j,
            passes: over_s == 0.0 && curtailed_j == 0.0,
        }
    });

    let window_raw_j = raw_fac.energy_j();
    // What the site consumed: supplied energy less what was left in storage (at the stored value).
    let window_mitigated_j = site_j - stored_change_j;
    let window_overhead = if window_raw_j > 0.0 {
        window_mitigated_j / window_raw_j - 1.0
    } else {
        0.0
    };

    let run = run_energy(inp);
    let ramp = crate::trace::run_ramp_effect(c, &inp.step, &inp.run, &mit.gpu);
    let costs = costs(
        inp,
        &run,
        window_raw_j,
        battery.as_ref().map(|b| b.losses_j),
        rack_summary.as_ref().map(|r| r.losses_j),
        &ramp,
    );

    let traces = keep.then(|| Traces {
        run_raw: crate::trace::run_it_trace(c, &inp.step, &inp.run, 2000, &GpuMitigation::none())
            .facility(c.pue),
        raw_grid: raw_fac.clone(),
        grid: fac,
        raw_spectrum: raw.spectrum.clone(),
        spectrum: sp,
        battery_soc_j: soc,
    });
    let a = Analysis {
        code: code.clone(),
        gpus: c.gpus(),
        window: Window {
            t0_s: win.t0_s,
            duration_s: win.duration_s,
            dt_s: dt,
        },
        raw: raw.metrics.clone(),
        raw_checks: raw.checks.clone(),
        raw_passes: raw.passes,
        mitigated: m,
        checks,
        applies,
        passes,
        window_raw_j,
        window_mitigated_j,
        window_energy_overhead_fraction: window_overhead,
        rack_energy_overhead_fraction: rack_overhead,
        battery,
        rack_storage: rack_summary,
        turbines_max_ramp_w_per_s: turbines_max_ramp,
        turbines_energy_j: turbines_energy,
        supply,
        run,
        costs,
    };
    (a, traces)
}

/// The run at per-step resolution: time in each state, and the facility energy with every state
/// at its step-mean IT power, without and with the GPU-level mitigations.
pub fn run_energy(inp: &Inputs) -> RunEnergy {
    let c = &inp.cluster;
    let mit = &inp.mitigation;
    let t_states = time_in_states(&inp.run);
    let length_s: f64 = t_states.iter().sum();
    let raw_levels: Vec<f64> = RunState::ALL
        .iter()
        .map(|s| state_it_mean_w(c, &inp.step, *s, &GpuMitigation::none()))
        .collect();
    let mit_levels: Vec<f64> = RunState::ALL
        .iter()
        .map(|s| state_it_mean_w(c, &inp.step, *s, &mit.gpu))
        .collect();
    let facility_raw_j: f64 = (0..6).map(|i| t_states[i] * raw_levels[i]).sum::<f64>() * c.pue;
    let facility_mitigated_j: f64 =
        (0..6).map(|i| t_states[i] * mit_levels[i]).sum::<f64>() * c.pue;
    RunEnergy {
        length_s,
        state_s: RunState::ALL
            .iter()
            .map(|s| (s.name().to_string(), t_states[s.index()]))
            .collect(),
        facility_raw_j,
        facility_mitigated_j,
        mean_facility_raw_w: if length_s > 0.0 {
            facility_raw_j / length_s
        } else {
            0.0
        },
    }
}

/// `x`, or zero where it is round-off: the relative difference of two sums of the same terms
/// (mitigated against raw energy with no GPU mitigation) is a few ulps of either sign, and a
/// −3e-16 share of a year's energy would print as negative joules and dollars.
fn round_off_to_zero(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        0.0
    } else {
        x
    }
}

/// What the mitigations of `inp` cost per year: the run's state mix stands for the year, the
/// storage losses in the window (`battery_losses_j`, `rack_losses_j`, when there is such storage)
/// scale with energy, `ramp` is what the GPU ramp limits do over the run
/// ([`crate::trace::run_ramp_effect`]), `window_raw_j` the window's unmitigated facility energy.
pub fn costs(
    inp: &Inputs,
    run: &RunEnergy,
    window_raw_j: f64,
    battery_losses_j: Option<f64>,
    rack_losses_j: Option<f64>,
    ramp: &crate::trace::RunRampEffect,
) -> Costs {
    let c = &inp.cluster;
    let mit = &inp.mitigation;
    let facility_raw_j = run.facility_raw_j;
    let facility_mitigated_j = run.facility_mitigated_j;
    let storage_loss_share = if window_raw_j > 0.0 {
        (battery_losses_j.unwrap_or(0.0) + rack_losses_j.map_or(0.0, |r| r * c.pue)) / window_raw_j
    } else {
        0.0
    };
    let gpu_overhead = if facility_raw_j > 0.0 {
        round_off_to_zero(facility_mitigated_j / facility_raw_j - 1.0)
    } else {
        0.0
    };
    // GPU ramp limits over the run: ramp-down limits burn energy above the demand (the "power
    // burner"), which the run-level state means do not see, so it is added with the facility
    // overhead on it; ramp-up limits defer work (below).
    let ramp_burn_share = if facility_raw_j > 0.0 {
        ramp.burned_j * c.pue / facility_raw_j
    } else {
        0.0
    };
    let energy_overhead_fraction = gpu_overhead + storage_loss_share + ramp_burn_share;
    let year_j = run.mean_facility_raw_w * SECONDS_PER_YEAR;
    let energy_overhead_j_per_year = energy_overhead_fraction * year_j;
    let p = &inp.prices;
    let battery_capex_usd = mit.battery.map_or(0.0, |b| {
        if b.energy_j > 0.0 && b.power_w > 0.0 {
            p.battery_usd_per_j * b.energy_j.max(b.power_w * p.battery_min_duration_s)
        } else {
            0.0
        }
    });
    let rack_storage_capex_usd = p.rack_storage_usd_per_j * mit.rack_storage_j_per_gpu * c.gpus();
    let capex_usd_per_year = battery_capex_usd / p.battery_life_s.max(1.0) * SECONDS_PER_YEAR
        + rack_storage_capex_usd / p.rack_storage_life_s.max(1.0) * SECONDS_PER_YEAR;
    let filler_loss = if mit.gpu.filler_activity.is_some() {
        mit.filler_slowdown_fraction
    } else {
        0.0
    };
    // The ramp-up limit defers a share of the run's compute work (run level: the window's own
    // mix of restarts and steps would stand for the whole run otherwise).
    let deferred_loss = ramp.deferred_fraction;
    let performance_loss_fraction = (filler_loss + deferred_loss).min(1.0);
    let performance_usd_per_year =
        performance_loss_fraction * c.gpus() * SECONDS_PER_YEAR / 3600.0 * p.gpu_hour_usd;
    let energy_usd_per_year = energy_overhead_j_per_year * p.electricity_usd_per_j;
    Costs {
        energy_overhead_fraction,
        energy_overhead_j_per_year,
        energy_usd_per_year,
        battery_capex_usd,
        rack_storage_capex_usd,
        capex_usd_per_year,
        performance_loss_fraction,
        performance_usd_per_year,
        total_usd_per_year: energy_usd_per_year + capex_usd_per_year + performance_usd_per_year,
    }
}
