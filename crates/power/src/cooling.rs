//! Cooling: an hourly year of ambient temperature per climate (the presets are catalogue entries,
//! `crates/spec/catalog/climates.toml`), PUE and water use by cooling type against it, heat to
//! reject and chillers needed.

use serde::{Deserialize, Serialize};

pub const HOURS_PER_YEAR: usize = 8760;
const DAYS_PER_MONTH: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// A climate: monthly normals of the daily maximum and minimum (deg F) and an annual mean relative
/// humidity.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Climate {
    #[serde(default)]
    pub name: String,
    pub description: String,
    pub max_f: [f64; 12],
    pub min_f: [f64; 12],
    pub humidity: f64,
    pub source: String,
}

fn f_to_c(f: f64) -> f64 {
    (f - 32.0) * 5.0 / 9.0
}

/// One hour of weather.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Hour {
    pub dry_bulb_c: f64,
    pub wet_bulb_c: f64,
}

/// Dew point (deg C) from temperature and relative humidity (Magnus, Sonntag 1990 constants
/// b = 17.62, c = 243.12 deg C).
pub fn dew_point_c(t_c: f64, rh: f64) -> f64 {
    let (b, c) = (17.62, 243.12);
    let g = rh.clamp(0.01, 1.0).ln() + b * t_c / (c + t_c);
    c * g / (b - g)
}

/// Relative humidity from temperature and dew point (Magnus, as above).
pub fn relative_humidity(t_c: f64, dew_c: f64) -> f64 {
    let (b, c) = (17.62, 243.12);
    ((b * dew_c / (c + dew_c)) - (b * t_c / (c + t_c)))
        .exp()
        .clamp(0.01, 1.0)
}

/// Wet-bulb temperature from dry bulb and relative humidity at sea-level pressure: Stull,
/// "Wet-Bulb Temperature from Relative Humidity and Air Temperature", J. Appl. Meteor. Climatol.
/// 50 (2011), eq. 1 (P; +/- 1 K for RH 5-99 %, -20-50 deg C).
pub fn wet_bulb_c(t_c: f64, rh: f64) -> f64 {
    let r = (rh * 100.0).clamp(5.0, 99.0);
    t_c * (0.151977 * (r + 8.313659).sqrt()).atan() + (t_c + r).atan() - (r - 1.676331).atan()
        + 0.00391838 * r.powf(1.5) * (0.023101 * r).atan()
        - 4.686035
}

/// The hourly year of a climate: mid-month normals interpolated day by day (circularly), a daily
/// cycle from the minimum at 06:00 to the maximum at 15:00 (half-cosines), and a constant dew point
/// per day from the daily mean temperature and the annual humidity. Deterministic.
pub fn hourly_year(c: &Climate) -> Vec<Hour> {
    let mut mid = [0.0f64; 12];
    let mut start = 0.0;
    for (m, d) in DAYS_PER_MONTH.iter().enumerate() {
        mid[m] = start + *d as f64 / 2.0;
        start += *d as f64;
    }
    let interp = |v: &[f64; 12], day: f64| -> f64 {
        // Find the month mids around `day` (wrapping the year).
        let mut j = 0;
        while j < 12 && mid[j] <= day {
            j += 1;
        }
        let (a, b, da, db) = if j == 0 {
            (11, 0, mid[11] - 365.0, mid[0])
        } else if j == 12 {
            (11, 0, mid[11], mid[0] + 365.0)
        } else {
            (j - 1, j, mid[j - 1], mid[j])
        };
        let w = (day - da) / (db - da);
        v[a] + w * (v[b] - v[a])
    };
    let maxc: [f64; 12] = c.max_f.map(f_to_c);
    let minc: [f64; 12] = c.min_f.map(f_to_c);
    let mut out = Vec::with_capacity(HOURS_PER_YEAR);
    for d in 0..365 {
        let day = d as f64 + 0.5;
        let tmax = interp(&maxc, day);
        let tmin = interp(&minc, day);
        let dew = dew_point_c(0.5 * (tmax + tmin), c.humidity);
        for h in 0..24 {
            let hf = h as f64;
            let t = if (6.0..=15.0).contains(&hf) {
                tmin + (tmax - tmin) * 0.5 * (1.0 - (std::f64::consts::PI * (hf - 6.0) / 9.0).cos())
            } else {
                let since = if hf > 15.0 { hf - 15.0 } else { hf + 9.0 };
                tmax - (tmax - tmin) * 0.5 * (1.0 - (std::f64::consts::PI * since / 15.0).cos())
            };
            let rh = relative_humidity(t, dew.min(t));
            out.push(Hour {
                dry_bulb_c: t,
                wet_bulb_c: wet_bulb_c(t, rh),
            });
        }
    }
    out
}

/// A cooling design's physical parameters (all A unless said otherwise; the catalogue's annual PUE
/// is printed beside the model's so the two can be compared).
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct CoolingDesign {
    /// Electrical distribution losses and lighting, share of IT (A: UPS and transformers 3-5 %).
    pub fixed_overhead: f64,
    /// Fans and pumps, share of IT.
    pub fans_pumps: f64,
    /// Temperature the heat leaves the IT at (coolant supply), deg C.
    pub supply_c: f64,
    /// Heat-exchanger approach to the sink (dry or wet bulb), K.
    pub approach_k: f64,
    /// Temperature span over which trim chillers go from off to carrying all the heat, K.
    pub trim_span_k: f64,
    /// Rejects heat by evaporation when the dry coil cannot (sink for the chillers = wet bulb).
    pub evaporative: bool,
    /// Chiller efficiency as a share of Carnot (A: 0.5, typical of water chillers).
    pub carnot_fraction: f64,
}

impl CoolingDesign {
    /// A design by its name (a catalogue cooling entry's `design`, which the scenario layer checks
    /// is one of `air-chillers`, `direct-liquid`, `evaporative`); any other name gets the
    /// direct-liquid design.
    pub fn for_name(name: &str) -> CoolingDesign {
        match name {
            // Air-cooled servers (CRAH fans), chilled water at 18 deg C, air-cooled chillers with
            // economiser.
            "air-chillers" => CoolingDesign {
                fixed_overhead: 0.05,
                fans_pumps: 0.08,
                supply_c: 18.0,
                approach_k: 8.0,
                trim_span_k: 5.0,
                evaporative: false,
                carnot_fraction: 0.5,
            },
            // Evaporative towers: sink is the wet bulb; warm-water loop at 24 deg C.
            "evaporative" => CoolingDesign {
                fixed_overhead: 0.04,
                fans_pumps: 0.03,
                supply_c: 24.0,
                approach_k: 4.0,
                trim_span_k: 5.0,
                evaporative: true,
                carnot_fraction: 0.5,
            },
            // Direct-to-chip liquid with dry coolers: facility water 32 deg C (ASHRAE TC 9.9
            // liquid-cooling class W32, S), trim chillers above it.
            _ => CoolingDesign {
                fixed_overhead: 0.05,
                fans_pumps: 0.04,
                supply_c: 32.0,
                approach_k: 6.0,
                trim_span_k: 5.0,
                evaporative: false,
                carnot_fraction: 0.5,
            },
        }
    }
}

/// Litres of water evaporated per kWh of heat rejected by evaporation: latent heat 2.45 MJ/kg at
/// ~20 deg C (P, steam tables) gives 3.6 / 2.45 = 1.47 L/kWh, times 4/3 for blowdown at 4 cycles of
/// concentration (A) = 1.96 L/kWh (D).
pub const EVAPORATED_L_PER_KWH_HEAT: f64 = 3.6 / 2.45 * 4.0 / 3.0;

/// IT power of one chiller where a cooling entry sets none (`chiller_it`): OpenAI's largest
/// building, ~300 MW of IT on 210 air-cooled chillers (SemiAnalysis, P): 300 / 210 = 1.43 MW
/// (D). Other sites give 1.4-1.8 MW: xAI Colossus 2, 119 chillers for ~200 MW (1.68 MW, S/D); a
/// 55 MW Nevada site on 30 chillers (1.83 MW, S vendor); 500-ton units reject 1.76 MW (D).
pub const CHILLER_IT_W: f64 = 300e6 / 210.0;

fn is_default_chiller(w: &f64) -> bool {
    *w == CHILLER_IT_W
}

/// PUE and water per IT kWh of one hour.
pub fn hour_pue_wue(d: &CoolingDesign, h: &Hour) -> (f64, f64, f64) {
    let sink = if d.evaporative {
        h.wet_bulb_c
    } else {
        h.dry_bulb_c
    } + d.approach_k;
    // Share of the heat the trim chillers carry.
    let mech = ((sink - d.supply_c) / d.trim_span_k).clamp(0.0, 1.0);
    let heat = 1.0 + d.fixed_overhead;
    let t_evap_k = d.supply_c - 5.0 + 273.15;
    let t_cond_k = (sink + 5.0).max(d.supply_c) + 273.15;
    let cop = (d.carnot_fraction * t_evap_k / (t_cond_k - t_evap_k).max(1.0)).min(12.0);
    let pue = 1.0 + d.fixed_overhead + d.fans_pumps + mech * heat / cop;
    // Adiabatic-assist towers run dry while the dry bulb allows and evaporate only the share of the
    // heat the dry coil cannot carry (A; that is why annual WUE is far below 2 L/kWh).
    let evap = if d.evaporative {
        ((h.dry_bulb_c + d.approach_k - d.supply_c) / d.trim_span_k).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let water = evap * heat * EVAPORATED_L_PER_KWH_HEAT;
    (pue, water, mech)
}

/// A year of cooling for a site.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct CoolingYear {
    pub climate: String,
    pub cooling: String,
    pub catalogue_pue: f64,
    pub annual_pue: f64,
    pub peak_pue: f64,
    pub hottest_dry_bulb_c: f64,
    pub hottest_wet_bulb_c: f64,
    pub it_energy_j_per_year: f64,
    pub facility_energy_j_per_year: f64,
    pub heat_rejected_j_per_year: f64,
    pub water_l_per_year: f64,
    pub wue_l_per_kwh: f64,
    pub peak_heat_w: f64,
    pub chillers: u64,
    /// IT power one chiller serves (in JSON only when a cooling entry sets its own).
    #[serde(skip_serializing_if = "is_default_chiller")]
    pub chiller_it_w: f64,
    /// Hourly PUE, for charts.
    #[serde(skip)]
    pub hourly_pue: Vec<f64>,
    /// Hourly water evaporated per kWh of IT energy, L/kWh, for charts.
    #[serde(skip)]
    pub hourly_wue_l_per_kwh: Vec<f64>,
}

/// The year at a constant mean IT power, for the design named `design`, each chiller serving
/// `chiller_it_w` of IT.
pub fn cooling_year(
    climate: &Climate,
    design: &str,
    catalogue_pue: f64,
    mean_it_w: f64,
    peak_it_w: f64,
    chiller_it_w: f64,
) -> CoolingYear {
    let cooling_name = design;
    let d = CoolingDesign::for_name(design);
    let hours = hourly_year(climate);
    let mut fac = 0.0;
    let mut water = 0.0;
    let mut peak_pue = 0.0f64;
    let mut peak_mech = 0.0f64;
    let mut hourly = Vec::with_capacity(hours.len());
    let mut hourly_water = Vec::with_capacity(hours.len());
    for h in &hours {
        let (p, w, mech) = hour_pue_wue(&d, h);
        hourly_water.push(w);
        fac += p;
        water += w;
        peak_pue = peak_pue.max(p);
        peak_mech = peak_mech.max(mech);
        hourly.push(p);
    }
    let n = hours.len() as f64;
    let it_j = mean_it_w * n * 3600.0;
    let it_kwh = it_j / 3.6e6;
    let annual_pue = fac / n;
    let peak_heat_w = peak_it_w * (1.0 + d.fixed_overhead + d.fans_pumps);
    CoolingYear {
        climate: climate.name.clone(),
        cooling: cooling_name.to_string(),
        catalogue_pue,
        annual_pue,
        peak_pue,
        hottest_dry_bulb_c: hours.iter().map(|h| h.dry_bulb_c).fold(f64::MIN, f64::max),
        hottest_wet_bulb_c: hours.iter().map(|h| h.wet_bulb_c).fold(f64::MIN, f64::max),
        it_energy_j_per_year: it_j,
        facility_energy_j_per_year: it_j * annual_pue,
        // Everything the facility draws ends as heat.
        heat_rejected_j_per_year: it_j * annual_pue,
        water_l_per_year: water / n * it_kwh,
        wue_l_per_kwh: water / n,
        peak_heat_w,
        chillers: ((peak_mech * peak_it_w * (1.0 + d.fixed_overhead)) / chiller_it_w.max(1.0))
            .ceil()
            .max(0.0) as u64,
        chiller_it_w,
        hourly_pue: hourly,
        hourly_wue_l_per_kwh: hourly_water,
    }
}
