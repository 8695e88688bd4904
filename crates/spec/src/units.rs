//! Physical quantities with units.
//!
//! Every quantity is stored as an `f64` in one SI (or SI-like) base unit, named in its accessor:
//! [`Power::w`], [`Energy::j`], [`Duration::s`], [`Bytes::bytes`], [`Bandwidth::bits_per_s`],
//! [`Money::usd`], [`EnergyPrice::usd_per_mwh`], [`Distance::m`], [`FlopRate::flops`].
//!
//! In scenario and catalogue files a quantity is either a plain number in that base unit or a string
//! with a unit: `"150 MW"`, `"700 W"`, `"80 GiB"`, `"400 Gbps"`, `"5 ms"`, `"$45k"`, `"$65/MWh"`.
//! A unit of the wrong kind (`"150 MWh"` for a power) is an error that names both kinds.

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The kind of a quantity: which units it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Power,
    Energy,
    Duration,
    Bytes,
    Bandwidth,
    Money,
    EnergyPrice,
    PowerPrice,
    Distance,
    FlopRate,
    Count,
    Fraction,
    WaterPerEnergy,
    PowerRamp,
    Frequency,
    HeatRate,
    FuelPrice,
    EmissionRate,
    RelativeRamp,
}

impl Kind {
    /// The name used in error messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Power => "a power",
            Kind::Energy => "an energy",
            Kind::Duration => "a duration",
            Kind::Bytes => "a data size",
            Kind::Bandwidth => "a bandwidth",
            Kind::Money => "an amount of money",
            Kind::EnergyPrice => "a price per energy",
            Kind::PowerPrice => "a price per power",
            Kind::Distance => "a distance",
            Kind::FlopRate => "a compute rate",
            Kind::Count => "a count",
            Kind::Fraction => "a fraction or percentage",
            Kind::WaterPerEnergy => "a water use per energy",
            Kind::PowerRamp => "a power ramp rate",
            Kind::Frequency => "a frequency",
            Kind::HeatRate => "a heat rate",
            Kind::FuelPrice => "a fuel price",
            Kind::EmissionRate => "an emission rate",
            Kind::RelativeRamp => "a ramp rate as a share of capacity",
        }
    }

    /// Examples shown after "expected".
    pub fn examples(self) -> &'static str {
        match self {
            Kind::Power => "W, kW, MW, GW (e.g. \"700 W\", \"150 MW\")",
            Kind::Energy => "J, kJ, MJ, GJ, Wh, kWh, MWh, GWh (e.g. \"600 MWh\")",
            Kind::Duration => "ns, us, ms, s, min, h, d, yr (e.g. \"5 ms\", \"48 h\")",
            Kind::Bytes => "B, KB, MB, GB, TB, PB or KiB, MiB, GiB, TiB, PiB (e.g. \"80 GiB\")",
            Kind::Bandwidth => {
                "bps, Kbps, Mbps, Gbps, Tbps, Pbps or B/s, GB/s, TB/s (e.g. \"400 Gbps\", \"900 GB/s\")"
            }
            Kind::Money => "$ with an optional k, M, B suffix (e.g. \"$45k\", \"$5B\")",
            Kind::EnergyPrice => "$ per Wh, kWh, MWh (e.g. \"$65/MWh\", \"$0.07/kWh\")",
            Kind::PowerPrice => "$ per W, kW, MW (e.g. \"$2157/kW\", \"$11.7M/MW\")",
            Kind::Distance => "m, km, mi (e.g. \"943 km\")",
            Kind::FlopRate => "FLOP/s with a k, M, G, T, P, E prefix (e.g. \"989 TFLOP/s\")",
            Kind::Count => "a number with an optional K, M, B, T suffix (e.g. \"15.6T\", \"16M\")",
            Kind::Fraction => "a number from 0 to 1 or a percentage (e.g. 0.9, \"90%\")",
            Kind::WaterPerEnergy => "L/kWh (e.g. \"0.26 L/kWh\")",
            Kind::PowerRamp => "W/s, kW/s, MW/s, MW/min (e.g. \"10 MW/min\")",
            Kind::Frequency => "Hz, kHz, mHz (e.g. \"0.1 Hz\")",
            Kind::HeatRate => "Btu/kWh, MMBtu/MWh, kJ/kWh (e.g. \"9447 Btu/kWh\")",
            Kind::FuelPrice => "$ per MMBtu or GJ (e.g. \"$3.53/MMBtu\")",
            Kind::EmissionRate => {
                "kg/MWh, t/MWh, lb/MWh, kg/kWh, g/kWh of CO2 (e.g. \"741 lb/MWh\")"
            }
            Kind::RelativeRamp => "a percentage per s, min or h (e.g. \"50%/min\")",
        }
    }
}

const POWER_UNITS: &[(&str, f64)] = &[
    ("W", 1.0),
    ("kW", 1e3),
    ("MW", 1e6),
    ("GW", 1e9),
    ("TW", 1e12),
];
const ENERGY_UNITS: &[(&str, f64)] = &[
    ("J", 1.0),
    ("kJ", 1e3),
    ("MJ", 1e6),
    ("GJ", 1e9),
    ("Wh", 3600.0),
    ("kWh", 3.6e6),
    ("MWh", 3.6e9),
    ("GWh", 3.6e12),
    ("TWh", 3.6e15),
];
/// A year is 365.25 days (8,766 h), the convention of the cost sources (calibration power-cost §6.2).
pub const SECONDS_PER_YEAR: f64 = 365.25 * 86400.0;
const DURATION_UNITS: &[(&str, f64)] = &[
    ("ns", 1e-9),
    ("us", 1e-6),
    ("µs", 1e-6),
    ("ms", 1e-3),
    ("s", 1.0),
    ("sec", 1.0),
    ("min", 60.0),
    ("h", 3600.0),
    ("hr", 3600.0),
    ("d", 86400.0),
    ("day", 86400.0),
    ("days", 86400.0),
    ("wk", 7.0 * 86400.0),
    ("week", 7.0 * 86400.0),
    ("weeks", 7.0 * 86400.0),
    ("mo", SECONDS_PER_YEAR / 12.0),
    ("month", SECONDS_PER_YEAR / 12.0),
    ("months", SECONDS_PER_YEAR / 12.0),
    ("yr", SECONDS_PER_YEAR),
    ("year", SECONDS_PER_YEAR),
    ("years", SECONDS_PER_YEAR),
];
const BYTES_UNITS: &[(&str, f64)] = &[
    ("B", 1.0),
    ("KB", 1e3),
    ("kB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
    ("PB", 1e15),
    ("KiB", 1024.0),
    ("MiB", 1048576.0),
    ("GiB", 1073741824.0),
    ("TiB", 1099511627776.0),
    ("PiB", 1125899906842624.0),
];
/// Bandwidth is stored in bits per second; byte rates are multiplied by 8.
const BANDWIDTH_UNITS: &[(&str, f64)] = &[
    ("bps", 1.0),
    ("b/s", 1.0),
    ("Kbps", 1e3),
    ("kbps", 1e3),
    ("Kb/s", 1e3),
    ("Mbps", 1e6),
    ("Mb/s", 1e6),
    ("Gbps", 1e9),
    ("Gb/s", 1e9),
    ("Tbps", 1e12),
    ("Tb/s", 1e12),
    ("Pbps", 1e15),
    ("Pb/s", 1e15),
    ("B/s", 8.0),
    ("KB/s", 8e3),
    ("kB/s", 8e3),
    ("MB/s", 8e6),
    ("GB/s", 8e9),
    ("TB/s", 8e12),
    ("PB/s", 8e15),
    ("GiB/s", 8.0 * 1073741824.0),
    ("TiB/s", 8.0 * 1099511627776.0),
];
const DISTANCE_UNITS: &[(&str, f64)] = &[("m", 1.0), ("km", 1e3), ("mi", 1609.344)];
const FLOP_UNITS: &[(&str, f64)] = &[
    ("FLOP/s", 1.0),
    ("FLOPS", 1.0),
    ("kFLOP/s", 1e3),
    ("MFLOP/s", 1e6),
    ("GFLOP/s", 1e9),
    ("TFLOP/s", 1e12),
    ("PFLOP/s", 1e15),
    ("EFLOP/s", 1e18),
    ("GFLOPS", 1e9),
    ("TFLOPS", 1e12),
    ("PFLOPS", 1e15),
    ("EFLOPS", 1e18),
];
const WATER_UNITS: &[(&str, f64)] = &[("L/kWh", 1.0), ("l/kWh", 1.0), ("L/MWh", 1e-3)];
const RAMP_UNITS: &[(&str, f64)] = &[
    ("W/s", 1.0),
    ("kW/s", 1e3),
    ("MW/s", 1e6),
    ("GW/s", 1e9),
    ("W/min", 1.0 / 60.0),
    ("kW/min", 1e3 / 60.0),
    ("MW/min", 1e6 / 60.0),
];
const FREQ_UNITS: &[(&str, f64)] = &[("Hz", 1.0), ("mHz", 1e-3), ("kHz", 1e3)];
/// Heat rates in Btu per kWh (1 Btu = 1.05506 kJ, so 1 kJ/kWh = 0.947817 Btu/kWh).
const HEAT_RATE_UNITS: &[(&str, f64)] = &[
    ("Btu/kWh", 1.0),
    ("MMBtu/MWh", 1e3),
    ("kJ/kWh", 1.0 / BTU_KJ),
];
/// Emission rates in kg of CO2 per MWh (1 lb = 0.45359237 kg).
const EMISSION_UNITS: &[(&str, f64)] = &[
    ("kg/MWh", 1.0),
    ("t/MWh", 1e3),
    ("lb/MWh", 0.453_592_37),
    ("kg/kWh", 1e3),
    ("g/kWh", 1.0),
];
/// Per-fuel-energy denominators for fuel prices, in MMBtu (1 GJ = 0.947817 MMBtu).
const PRICE_FUEL_DENOMS: &[(&str, f64)] = &[("MMBtu", 1.0), ("GJ", 1.0 / BTU_KJ)];
/// Kilojoules in one British thermal unit (International Table Btu).
pub const BTU_KJ: f64 = 1.055_056;
/// Per-energy denominators for prices, in MWh.
const PRICE_ENERGY_DENOMS: &[(&str, f64)] =
    &[("Wh", 1e-6), ("kWh", 1e-3), ("MWh", 1.0), ("GWh", 1e3)];
/// Per-power denominators for prices, in W.
const PRICE_POWER_DENOMS: &[(&str, f64)] = &[("W", 1.0), ("kW", 1e3), ("MW", 1e6), ("GW", 1e9)];
/// Multiplier suffixes for counts and money.
const SCALE_SUFFIXES: &[(&str, f64)] = &[
    ("k", 1e3),
    ("K", 1e3),
    ("M", 1e6),
    ("B", 1e9),
    ("G", 1e9),
    ("T", 1e12),
];

fn unit_table(kind: Kind) -> &'static [(&'static str, f64)] {
    match kind {
        Kind::Power => POWER_UNITS,
        Kind::Energy => ENERGY_UNITS,
        Kind::Duration => DURATION_UNITS,
        Kind::Bytes => BYTES_UNITS,
        Kind::Bandwidth => BANDWIDTH_UNITS,
        Kind::Distance => DISTANCE_UNITS,
        Kind::FlopRate => FLOP_UNITS,
        Kind::WaterPerEnergy => WATER_UNITS,
        Kind::PowerRamp => RAMP_UNITS,
        Kind::Frequency => FREQ_UNITS,
        Kind::HeatRate => HEAT_RATE_UNITS,
        Kind::EmissionRate => EMISSION_UNITS,
        Kind::Money
        | Kind::EnergyPrice
        | Kind::PowerPrice
        | Kind::FuelPrice
        | Kind::Count
        | Kind::Fraction
        | Kind::RelativeRamp => &[],
    }
}

const UNIT_KINDS: &[Kind] = &[
    Kind::Power,
    Kind::Energy,
    Kind::Duration,
    Kind::Bytes,
    Kind::Bandwidth,
    Kind::Distance,
    Kind::FlopRate,
    Kind::WaterPerEnergy,
    Kind::PowerRamp,
    Kind::Frequency,
    Kind::HeatRate,
    Kind::EmissionRate,
];

/// Split a leading number (with optional `_` or `,` digit separators) from the rest.
fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let bytes = s.as_bytes();
    let mut end = 0;
    let mut seen_digit = false;
    while end < bytes.len() {
        let c = bytes[end] as char;
        let ok = c.is_ascii_digit()
            || c == '.'
            || c == '_'
            || c == ','
            || ((c == '-' || c == '+') && end == 0)
            || ((c == 'e' || c == 'E')
                && seen_digit
                && end + 1 < bytes.len()
                && (bytes[end + 1].is_ascii_digit()
                    || bytes[end + 1] == b'-'
                    || bytes[end + 1] == b'+'));
        if !ok {
            break;
        }
        if c == 'e' || c == 'E' {
            // consume exponent sign
            end += 1;
            if end < bytes.len() && (bytes[end] == b'-' || bytes[end] == b'+') {
                end += 1;
            }
            continue;
        }
        if c.is_ascii_digit() {
            seen_digit = true;
        }
        end += 1;
    }
    if !seen_digit {
        return None;
    }
    let num: String = s[..end]
        .chars()
        .filter(|c| *c != '_' && *c != ',')
        .collect();
    let v: f64 = num.parse().ok()?;
    Some((v, s[end..].trim()))
}

fn lookup(table: &[(&str, f64)], unit: &str) -> Option<f64> {
    table.iter().find(|(u, _)| *u == unit).map(|(_, f)| *f)
}

/// Which kind a unit string belongs to, for "wrong kind" messages.
fn kind_of_unit(unit: &str) -> Option<Kind> {
    if unit.contains('$') {
        return Some(Kind::Money);
    }
    if unit == "%" {
        return Some(Kind::Fraction);
    }
    UNIT_KINDS
        .iter()
        .copied()
        .find(|k| lookup(unit_table(*k), unit).is_some())
}

fn wrong(kind: Kind, text: &str, why: &str) -> String {
    format!(
        "invalid {} \"{}\": {}; expected {}",
        kind.noun()
            .trim_start_matches("a ")
            .trim_start_matches("an "),
        text,
        why,
        kind.examples()
    )
}

/// Parse a string with a unit into the base unit of `kind`.
pub fn parse_quantity(kind: Kind, text: &str) -> Result<f64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(wrong(kind, text, "empty"));
    }
    let v = match kind {
        Kind::Money => parse_money(t).ok_or_else(|| wrong(kind, text, "not a money amount"))?,
        Kind::EnergyPrice => parse_price(t, PRICE_ENERGY_DENOMS)
            .ok_or_else(|| wrong(kind, text, "not a price per energy"))?,
        Kind::PowerPrice => parse_price(t, PRICE_POWER_DENOMS)
            .ok_or_else(|| wrong(kind, text, "not a price per power"))?,
        Kind::FuelPrice => parse_price(t, PRICE_FUEL_DENOMS)
            .ok_or_else(|| wrong(kind, text, "not a price per fuel energy"))?,
        Kind::RelativeRamp => {
            let (share, per) = t.split_once('/').ok_or_else(|| {
                wrong(kind, text, "a share of capacity per unit of time is needed")
            })?;
            let f = parse_quantity(Kind::Fraction, share)
                .map_err(|_| wrong(kind, text, "not a share"))?;
            let s = lookup(DURATION_UNITS, per.trim()).ok_or_else(|| {
                wrong(
                    kind,
                    text,
                    &format!("unknown unit of time '{}'", per.trim()),
                )
            })?;
            f / s
        }
        Kind::Count => {
            let (n, rest) = split_number(t).ok_or_else(|| wrong(kind, text, "no number"))?;
            if rest.is_empty() {
                n
            } else if let Some(m) = lookup(SCALE_SUFFIXES, rest) {
                n * m
            } else {
                return Err(unit_error(kind, text, rest));
            }
        }
        Kind::Fraction => {
            let (n, rest) = split_number(t).ok_or_else(|| wrong(kind, text, "no number"))?;
            match rest {
                "" => n,
                "%" => n / 100.0,
                _ => return Err(unit_error(kind, text, rest)),
            }
        }
        _ => {
            let (n, rest) = split_number(t).ok_or_else(|| wrong(kind, text, "no number"))?;
            if rest.is_empty() {
                return Err(wrong(kind, text, "a unit is needed in a string"));
            }
            match lookup(unit_table(kind), rest) {
                Some(f) => n * f,
                None => return Err(unit_error(kind, text, rest)),
            }
        }
    };
    if !v.is_finite() {
        return Err(wrong(kind, text, "not a finite number"));
    }
    in_range(kind, v).map_err(|why| wrong(kind, text, &why))
}

/// The largest magnitude a quantity of `kind` may have, in its base unit: far beyond any cluster
/// (so no real scenario meets it) and far below where products of quantities overflow or lose
/// all precision (so no figure computed from them is infinite or meaningless). Assumptions (A),
/// each set a few orders of magnitude above the largest real figure named beside it.
pub fn max_magnitude(kind: Kind) -> f64 {
    match kind {
        // world average electric generation ≈ 3.4 TW (≈ 30,000 TWh a year)
        Kind::Power => 1e13,
        // world primary energy use ≈ 6e20 J a year
        Kind::Energy => 1e21,
        // 31,700 years: any run, repair time or component lifetime is far shorter
        Kind::Duration => 1e12,
        // a zettabyte: all data stored worldwide is a few hundred ZB
        Kind::Bytes => 1e21,
        // an exabit per second: a whole 1M-GPU fabric is ~1e18 bps of injection
        Kind::Bandwidth => 1e19,
        // ten times world GDP (≈ $1.1e14)
        Kind::Money => 1e15,
        // wholesale price caps are $5,000/MWh (ERCOT)
        Kind::EnergyPrice => 1e6,
        // capacity prices of ~$12/W
        Kind::PowerPrice => 1e6,
        // 2.5 times Earth's circumference
        Kind::Distance => 1e8,
        // one accelerator's dense peak is ~1e16 FLOP/s
        Kind::FlopRate => 1e21,
        // a pretraining run's tokens are ~1e13, a cluster's GPUs ~1e6
        Kind::Count => 1e18,
        // fractions are 0–1; overrides such as a rate multiplier stay far below this
        Kind::Fraction => 1e6,
        Kind::WaterPerEnergy => 1e3,
        Kind::PowerRamp => 1e13,
        Kind::Frequency => 1e9,
        // gas turbines run at 6,000–15,000 Btu/kWh
        Kind::HeatRate => 1e6,
        // gas trades at $2–30 per MMBtu
        Kind::FuelPrice => 1e6,
        // coal plants emit ~1,000 kg of CO2 per MWh
        Kind::EmissionRate => 1e6,
        // generators ramp a few percent of capacity per second at most
        Kind::RelativeRamp => 1e3,
    }
}

/// `v` if its magnitude is within [`max_magnitude`], else why not.
fn in_range(kind: Kind, v: f64) -> Result<f64, String> {
    let max = max_magnitude(kind);
    if v.abs() <= max {
        Ok(v)
    } else {
        Err(format!(
            "{v:e} is beyond the largest value accepted ({max:e} in base units)"
        ))
    }
}

fn unit_error(kind: Kind, text: &str, unit: &str) -> String {
    match kind_of_unit(unit) {
        Some(other) if other != kind => wrong(
            kind,
            text,
            &format!(
                "'{}' is a unit of {}, not of {}",
                unit,
                other.noun(),
                kind.noun()
            ),
        ),
        _ => wrong(kind, text, &format!("unknown unit '{unit}'")),
    }
}

/// `$45k`, `$5B`, `45000`, `$1,200`, `45k USD`.
fn parse_money(t: &str) -> Option<f64> {
    let t = t.trim();
    let t = t.strip_suffix("USD").unwrap_or(t).trim();
    let t = t.strip_prefix('$').unwrap_or(t).trim();
    let (n, rest) = split_number(t)?;
    if rest.contains('/') {
        return None;
    }
    if rest.is_empty() {
        return Some(n);
    }
    lookup(SCALE_SUFFIXES, rest).map(|m| n * m)
}

/// `$65/MWh`, `$0.07/kWh`, `$11.7M/MW`: a money amount over a unit from `denoms`.
fn parse_price(t: &str, denoms: &[(&str, f64)]) -> Option<f64> {
    let (num, den) = t.split_once('/')?;
    let amount = parse_money(num)?;
    let per = lookup(denoms, den.trim())?;
    Some(amount / per)
}

/// Deserialize helper: a number in the base unit or a string with a unit.
pub fn deserialize_quantity<'de, D: Deserializer<'de>>(d: D, kind: Kind) -> Result<f64, D::Error> {
    struct V(Kind);
    impl Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(
                f,
                "{}: a number or a string with a unit: {}",
                self.0.noun(),
                self.0.examples()
            )
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            if v.is_finite() {
                in_range(self.0, v).map_err(|why| E::custom(format!("{}: {why}", self.0.noun())))
            } else {
                Err(E::custom(format!(
                    "{} must be a finite number",
                    self.0.noun()
                )))
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            self.visit_f64(v as f64)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            parse_quantity(self.0, v).map_err(E::custom)
        }
    }
    d.deserialize_any(V(kind))
}

macro_rules! quantity {
    ($(#[$m:meta])* $name:ident, $kind:expr, $base:ident, $unit:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
        pub struct $name(f64);

        impl $name {
            #[doc = concat!("From a value in ", $unit, ".")]
            pub const fn $base(v: f64) -> Self {
                $name(v)
            }
            #[doc = concat!("The value in ", $unit, ".")]
            pub const fn value(self) -> f64 {
                self.0
            }
            /// Parse a string with a unit.
            pub fn parse(text: &str) -> Result<Self, String> {
                parse_quantity($kind, text).map($name)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                deserialize_quantity(d, $kind).map($name)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_f64(self.0)
            }
        }

        impl std::ops::Add for $name {
            type Output = $name;
            fn add(self, o: $name) -> $name {
                $name(self.0 + o.0)
            }
        }
        impl std::ops::Sub for $name {
            type Output = $name;
            fn sub(self, o: $name) -> $name {
                $name(self.0 - o.0)
            }
        }
        impl std::ops::Mul<f64> for $name {
            type Output = $name;
            fn mul(self, k: f64) -> $name {
                $name(self.0 * k)
            }
        }
        impl std::ops::Div<f64> for $name {
            type Output = $name;
            fn div(self, k: f64) -> $name {
                $name(self.0 / k)
            }
        }
        impl std::iter::Sum for $name {
            fn sum<I: Iterator<Item = $name>>(it: I) -> $name {
                $name(it.map(|x| x.0).sum())
            }
        }
    };
}

quantity!(
    /// Power in watts.
    Power, Kind::Power, from_w, "W"
);
quantity!(
    /// Energy in joules.
    Energy, Kind::Energy, from_j, "J"
);
quantity!(
    /// A duration in seconds.
    Duration, Kind::Duration, from_s, "s"
);
quantity!(
    /// A data size in bytes.
    Bytes, Kind::Bytes, from_bytes, "bytes"
);
quantity!(
    /// A bandwidth in bits per second.
    Bandwidth, Kind::Bandwidth, from_bits_per_s, "bit/s"
);
quantity!(
    /// An amount of money in US dollars.
    Money, Kind::Money, from_usd, "USD"
);
quantity!(
    /// A price of energy in US dollars per MWh.
    EnergyPrice, Kind::EnergyPrice, from_usd_per_mwh, "USD/MWh"
);
quantity!(
    /// A price of power capacity in US dollars per watt.
    PowerPrice, Kind::PowerPrice, from_usd_per_w, "USD/W"
);
quantity!(
    /// A distance in metres.
    Distance, Kind::Distance, from_m, "m"
);
quantity!(
    /// A compute rate in FLOP/s.
    FlopRate, Kind::FlopRate, from_flops, "FLOP/s"
);
quantity!(
    /// A dimensionless count (tokens, GPUs, sequences), possibly with a K/M/B/T suffix in files.
    Count, Kind::Count, from_count, "units"
);
quantity!(
    /// A dimensionless fraction (0.9 or "90%").
    Fraction, Kind::Fraction, from_fraction, "fraction"
);
quantity!(
    /// Water use per unit of IT energy, litres per kWh (WUE).
    WaterPerEnergy, Kind::WaterPerEnergy, from_l_per_kwh, "L/kWh"
);
quantity!(
    /// A ramp rate of power in W/s.
    PowerRamp, Kind::PowerRamp, from_w_per_s, "W/s"
);
quantity!(
    /// A frequency in hertz.
    Frequency, Kind::Frequency, from_hz, "Hz"
);
quantity!(
    /// A generator's heat rate (fuel energy per electric energy, higher heating value), Btu/kWh.
    HeatRate, Kind::HeatRate, from_btu_per_kwh, "Btu/kWh"
);
quantity!(
    /// A fuel price, US dollars per MMBtu (higher heating value).
    FuelPrice, Kind::FuelPrice, from_usd_per_mmbtu, "USD/MMBtu"
);
quantity!(
    /// CO2 emitted per unit of electric energy, kg per MWh.
    EmissionRate, Kind::EmissionRate, from_kg_per_mwh, "kg/MWh"
);
quantity!(
    /// A ramp rate as a share of capacity per second (`"50%/min"`).
    RelativeRamp, Kind::RelativeRamp, from_fraction_per_s, "fraction/s"
);

impl Power {
    pub fn w(self) -> f64 {
        self.0
    }
    pub fn kw(self) -> f64 {
        self.0 / 1e3
    }
    pub fn mw(self) -> f64 {
        self.0 / 1e6
    }
    pub fn from_kw(v: f64) -> Self {
        Power(v * 1e3)
    }
    pub fn from_mw(v: f64) -> Self {
        Power(v * 1e6)
    }
}
impl Energy {
    pub fn j(self) -> f64 {
        self.0
    }
    pub fn wh(self) -> f64 {
        self.0 / 3600.0
    }
    pub fn mwh(self) -> f64 {
        self.0 / 3.6e9
    }
    pub fn from_wh(v: f64) -> Self {
        Energy(v * 3600.0)
    }
}
impl Duration {
    pub fn s(self) -> f64 {
        self.0
    }
    pub fn hours(self) -> f64 {
        self.0 / 3600.0
    }
    pub fn days(self) -> f64 {
        self.0 / 86400.0
    }
    pub fn years(self) -> f64 {
        self.0 / SECONDS_PER_YEAR
    }
    pub fn from_hours(v: f64) -> Self {
        Duration(v * 3600.0)
    }
    pub fn from_days(v: f64) -> Self {
        Duration(v * 86400.0)
    }
    pub fn from_years(v: f64) -> Self {
        Duration(v * SECONDS_PER_YEAR)
    }
}
impl Bytes {
    pub fn bytes(self) -> f64 {
        self.0
    }
    pub fn gib(self) -> f64 {
        self.0 / 1073741824.0
    }
}
impl Bandwidth {
    pub fn bits_per_s(self) -> f64 {
        self.0
    }
    pub fn bytes_per_s(self) -> f64 {
        self.0 / 8.0
    }
    pub fn gbps(self) -> f64 {
        self.0 / 1e9
    }
    pub fn from_bytes_per_s(v: f64) -> Self {
        Bandwidth(v * 8.0)
    }
}
impl Money {
    pub fn usd(self) -> f64 {
        self.0
    }
}
impl EnergyPrice {
    pub fn usd_per_mwh(self) -> f64 {
        self.0
    }
    pub fn usd_per_j(self) -> f64 {
        self.0 / 3.6e9
    }
}
impl PowerPrice {
    pub fn usd_per_w(self) -> f64 {
        self.0
    }
}
impl Distance {
    pub fn m(self) -> f64 {
        self.0
    }
    pub fn km(self) -> f64 {
        self.0 / 1e3
    }
}
impl FlopRate {
    pub fn flops(self) -> f64 {
        self.0
    }
    pub fn tflops(self) -> f64 {
        self.0 / 1e12
    }
}
impl Count {
    pub fn count(self) -> f64 {
        self.0
    }
}
impl Fraction {
    pub fn fraction(self) -> f64 {
        self.0
    }
}
impl WaterPerEnergy {
    pub fn l_per_kwh(self) -> f64 {
        self.0
    }
}
impl PowerRamp {
    pub fn w_per_s(self) -> f64 {
        self.0
    }
}
impl Frequency {
    pub fn hz(self) -> f64 {
        self.0
    }
}
impl HeatRate {
    pub fn btu_per_kwh(self) -> f64 {
        self.0
    }
    /// Fuel energy per electric energy, J/J.
    pub fn j_per_j(self) -> f64 {
        self.0 * BTU_KJ / 3600.0
    }
}
impl FuelPrice {
    pub fn usd_per_mmbtu(self) -> f64 {
        self.0
    }
}
impl EmissionRate {
    pub fn kg_per_mwh(self) -> f64 {
        self.0
    }
}
impl RelativeRamp {
    pub fn fraction_per_s(self) -> f64 {
        self.0
    }
}

/// A calendar month (`"2024-09"`): months since January of year 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth(i32);

impl YearMonth {
    pub const fn new(year: i32, month: u32) -> YearMonth {
        YearMonth(year * 12 + month as i32 - 1)
    }
    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }
    /// 1 to 12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }
    /// Months since January of year 0.
    pub fn index(self) -> i32 {
        self.0
    }
    pub fn from_index(i: i32) -> YearMonth {
        YearMonth(i)
    }
    /// Whole months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: YearMonth) -> i32 {
        later.0 - self.0
    }
    /// The month `months` after this one (rounded up: a date that falls inside a month is that
    /// month's).
    pub fn plus_months(self, months: f64) -> YearMonth {
        YearMonth(self.0 + (months - 1e-9).ceil().max(0.0) as i32)
    }
    /// `"YYYY-MM"`.
    pub fn parse(text: &str) -> Result<YearMonth, String> {
        let bad = || {
            format!("invalid date \"{text}\": expected a year and month as \"YYYY-MM\" (e.g. \"2024-09\")")
        };
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        let y: i32 = y.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&m) || !(1900..=2200).contains(&y) {
            return Err(bad());
        }
        Ok(YearMonth::new(y, m))
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = YearMonth;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a year and month as \"YYYY-MM\" (e.g. \"2024-09\")")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<YearMonth, E> {
                YearMonth::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn magnitudes_beyond_any_cluster_are_refused() {
        // before: "$1e308/MWh" and "1e300 km" were accepted (opex and TCO printed as null, figures
        // near 1e306)
        let e = EnergyPrice::parse("$1e308/MWh").unwrap_err();
        assert!(e.contains("beyond the largest value"), "{e}");
        assert!(Distance::parse("1e300 km").is_err());
        assert!(Power::parse("1e300 W").is_err());
        assert!(Money::parse("$1e300").is_err());
        // the largest real figures stay well inside
        assert!(Power::parse("5 GW").is_ok());
        assert!(Money::parse("$500B").is_ok());
        assert!(Distance::parse("20000 km").is_ok());
        assert!(EnergyPrice::parse("$5000/MWh").is_ok());
        // a bare number in the base unit is checked too
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[allow(dead_code)]
            p: Power,
        }
        let e = toml::from_str::<T>("p = 1e300").unwrap_err();
        assert!(e.message().contains("beyond"), "{e}");
        let e = toml::from_str::<T>("p = 9223372036854775807").unwrap_err();
        assert!(e.message().contains("beyond"), "{e}");
    }

    #[test]
    fn parses_each_kind() {
        assert!(close(Power::parse("150 MW").unwrap().w(), 150e6));
        assert!(close(Power::parse("1.4 kW").unwrap().w(), 1400.0));
        assert!(close(Energy::parse("600 MWh").unwrap().j(), 600.0 * 3.6e9));
        assert!(close(Duration::parse("5 ms").unwrap().s(), 0.005));
        assert!(close(Duration::parse("48 h").unwrap().s(), 48.0 * 3600.0));
        assert!(close(
            Bytes::parse("80 GiB").unwrap().bytes(),
            80.0 * 1073741824.0
        ));
        assert!(close(Bytes::parse("80 GB").unwrap().bytes(), 80e9));
        assert!(close(
            Bandwidth::parse("400 Gbps").unwrap().bits_per_s(),
            400e9
        ));
        assert!(close(
            Bandwidth::parse("900 GB/s").unwrap().bits_per_s(),
            7200e9
        ));
        assert!(close(Money::parse("$45k").unwrap().usd(), 45e3));
        assert!(close(Money::parse("$5B").unwrap().usd(), 5e9));
        assert!(close(Money::parse("$1,200").unwrap().usd(), 1200.0));
        assert!(close(
            EnergyPrice::parse("$65/MWh").unwrap().usd_per_mwh(),
            65.0
        ));
        assert!(close(
            EnergyPrice::parse("$0.07/kWh").unwrap().usd_per_mwh(),
            70.0
        ));
        assert!(close(
            PowerPrice::parse("$11.7M/MW").unwrap().usd_per_w(),
            11.7
        ));
        assert!(close(
            PowerPrice::parse("$2157/kW").unwrap().usd_per_w(),
            2.157
        ));
        assert!(close(Count::parse("15.6T").unwrap().count(), 15.6e12));
        assert!(close(Count::parse("16M").unwrap().count(), 16e6));
        assert!(close(Count::parse("100_000").unwrap().count(), 1e5));
        assert!(close(Fraction::parse("90%").unwrap().fraction(), 0.9));
        assert!(close(Distance::parse("943 km").unwrap().m(), 943e3));
        assert!(close(
            FlopRate::parse("989 TFLOP/s").unwrap().flops(),
            989e12
        ));
        assert!(close(PowerRamp::parse("60 MW/min").unwrap().w_per_s(), 1e6));
        assert!(close(Frequency::parse("0.1 Hz").unwrap().hz(), 0.1));
        assert!(close(Duration::parse("1e-3 s").unwrap().s(), 1e-3));
        assert!(close(Duration::parse("18 months").unwrap().years(), 1.5));
        assert!(close(
            HeatRate::parse("9447 Btu/kWh").unwrap().btu_per_kwh(),
            9447.0
        ));
        // 3,412 Btu/kWh is 100 % efficiency: one J of fuel per J of electricity
        assert!((HeatRate::from_btu_per_kwh(3412.14).j_per_j() - 1.0).abs() < 1e-4);
        assert!(close(
            FuelPrice::parse("$3.53/MMBtu").unwrap().usd_per_mmbtu(),
            3.53
        ));
        assert!(close(
            FuelPrice::parse("$1/GJ").unwrap().usd_per_mmbtu(),
            BTU_KJ
        ));
        assert!(close(
            EmissionRate::parse("1000 lb/MWh").unwrap().kg_per_mwh(),
            453.59237
        ));
        assert!(close(
            RelativeRamp::parse("50%/min").unwrap().fraction_per_s(),
            0.5 / 60.0
        ));
        let d = YearMonth::parse("2024-09").unwrap();
        assert_eq!((d.year(), d.month()), (2024, 9));
        assert_eq!(d.to_string(), "2024-09");
        assert_eq!(d.plus_months(4.0).to_string(), "2025-01");
        assert_eq!(d.plus_months(3.2).to_string(), "2025-01");
        assert!(YearMonth::parse("2024-13").is_err());
        assert!(YearMonth::parse("Sept 2024").is_err());
    }

    #[test]
    fn wrong_kind_names_both_kinds() {
        let e = Power::parse("150 MWh").unwrap_err();
        assert!(e.contains("'MWh' is a unit of an energy"), "{e}");
        assert!(e.contains("expected W, kW"), "{e}");
        let e = Bytes::parse("400 Gbps").unwrap_err();
        assert!(e.contains("bandwidth"), "{e}");
        let e = Power::parse("150").unwrap_err();
        assert!(e.contains("a unit is needed"), "{e}");
        assert!(Power::parse("150 furlongs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(Money::parse("$65/MWh").is_err());
        assert!(Count::parse("abc").is_err());
    }
}
