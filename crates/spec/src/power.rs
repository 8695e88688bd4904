//! The `[power]` section: grid code and its overrides, the synthetic step shape used when the
//! scenario has no job (with a job, the step model gives the step), the analysis window, the
//! climate for cooling, and mitigations. Parsed, resolved against the catalogue (grid codes in
//! `catalog/grid_codes.toml`, climates in `catalog/climates.toml`) and range-checked here. Every
//! field is optional.
//!
//! ```toml
//! [power]
//! grid_code = "ercot-large-load"   # catalogue kind grid_code (crates/spec/catalog/grid_codes.toml)
//! grid = { ramp_up = "50 MW/min", ramp_window = "1 s", band = ["0.1 Hz", "20 Hz"], band_limit = "20%" }
//! step_time = "2 s"                # synthetic step (no [job]): compute, then exposed communication
//! compute_fraction = "80%"
//! window = "30 min"                # fine analysis window ...
//! resolution = "10 ms"             # ... and its sample step
//! climate = "memphis"              # for cooling, every site (catalogue kind climate)
//! mitigation = { gpu_floor = "90%", rack_storage = "65 J", battery = { power = "300 MW", energy = "120 MWh" } }
//! ```

use crate::catalog::{Climate, GridCode};
use crate::ctx::{CatalogRef, Ctx};
use crate::error::SpecError;
use crate::units::*;
use serde::{Deserialize, Serialize};

/// The grid code a scenario gets when `[power]` names none (the design's example).
pub const DEFAULT_GRID_CODE: &str = "ercot-large-load";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPower {
    #[serde(default)]
    grid_code: Option<String>,
    #[serde(default)]
    grid: Option<RawGrid>,
    #[serde(default)]
    step_time: Option<Duration>,
    #[serde(default)]
    compute_fraction: Option<Fraction>,
    #[serde(default)]
    comm_activity: Option<Fraction>,
    #[serde(default)]
    gpu_compute: Option<Fraction>,
    #[serde(default)]
    gpu_idle: Option<Fraction>,
    #[serde(default)]
    node_measured_max: Option<Fraction>,
    #[serde(default)]
    window: Option<Duration>,
    #[serde(default)]
    resolution: Option<Duration>,
    #[serde(default)]
    climate: Option<String>,
    #[serde(default)]
    mitigation: Option<RawMitigation>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrid {
    #[serde(default)]
    ramp_up: Option<PowerRamp>,
    #[serde(default)]
    ramp_down: Option<PowerRamp>,
    #[serde(default)]
    ramp_window: Option<Duration>,
    #[serde(default)]
    dynamic_range: Option<Fraction>,
    #[serde(default)]
    band: Option<Vec<Frequency>>,
    #[serde(default)]
    band_limit: Option<Fraction>,
    #[serde(default)]
    large_load: Option<Power>,
    #[serde(default)]
    load_loss: Option<Power>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMitigation {
    #[serde(default)]
    gpu_floor: Option<Fraction>,
    #[serde(default)]
    gpu_ramp_up: Option<PowerRamp>,
    #[serde(default)]
    gpu_ramp_down: Option<PowerRamp>,
    #[serde(default)]
    filler: Option<Fraction>,
    #[serde(default)]
    filler_slowdown: Option<Fraction>,
    #[serde(default)]
    rack_storage: Option<Energy>,
    #[serde(default)]
    battery: Option<RawStorage>,
    #[serde(default)]
    battery_tau: Option<Duration>,
    #[serde(default)]
    soc_min: Option<Fraction>,
    #[serde(default)]
    soc_max: Option<Fraction>,
    #[serde(default)]
    turbine_ramp: Option<PowerRamp>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    power: Power,
    energy: Energy,
    #[serde(default)]
    efficiency: Option<Fraction>,
}

/// A storage system given in the `[power]` section.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StorageSpec {
    pub power_w: f64,
    pub energy_j: f64,
    /// Round-trip efficiency; `None`: the model's default.
    pub efficiency: Option<f64>,
}

/// Mitigations as written; `None`: not used (or the model's default for a parameter).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct MitigationSpec {
    /// GPU minimum power floor as a fraction of TDP.
    pub gpu_floor_fraction: Option<f64>,
    /// Per-GPU ramp limits.
    pub gpu_ramp_up_w_per_s: Option<f64>,
    pub gpu_ramp_down_w_per_s: Option<f64>,
    /// Filler work: communication phases raised to this activity.
    pub filler_activity: Option<f64>,
    pub filler_slowdown_fraction: Option<f64>,
    /// Rack (PSU) energy storage per GPU.
    pub rack_storage_j_per_gpu: Option<f64>,
    /// Site battery; overrides the site's `battery`.
    pub battery: Option<StorageSpec>,
    pub battery_tau_s: Option<f64>,
    pub soc_min_fraction: Option<f64>,
    pub soc_max_fraction: Option<f64>,
    /// Ramp limit of the on-site generation (the site's `generation`).
    pub turbine_ramp_w_per_s: Option<f64>,
}

/// The resolved `[power]` section (defaults when the scenario has none).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PowerSection {
    /// The grid code, the catalogue entry with `[power] grid` applied (its name then ends in
    /// " (overridden)").
    pub grid_code: GridCode,
    pub step_time_s: Option<f64>,
    pub compute_fraction: Option<f64>,
    pub comm_activity: Option<f64>,
    pub gpu_compute_fraction: Option<f64>,
    pub gpu_idle_fraction: Option<f64>,
    pub node_measured_max_fraction: Option<f64>,
    pub window_s: Option<f64>,
    pub resolution_s: Option<f64>,
    /// `[power] climate`, for every site; `None`: each site's own (see `Site::climate`).
    pub climate: Option<Climate>,
    /// Every climate in the catalogue, in name order: the cooling design is compared across them.
    pub climates: Vec<Climate>,
    pub mitigation: MitigationSpec,
}

/// Most samples a fine window may hold: the model keeps a handful of traces and a transform of this
/// length (about 80 bytes a sample at the peak, D), so 1e7 samples need under 1 GB; a day at
/// 10 ms (8.64e6) fits, a day at 1 ms does not.
pub const MAX_WINDOW_SAMPLES: f64 = 1.0e7;
/// Fine analysis window and its sample step when `[power]` sets none (issue 5's speed budget is
/// 1 GW for 1 h at 10 ms; 30 min holds a restart and the steps around it). The power model reads
/// these too.
pub const DEFAULT_WINDOW_S: f64 = 1800.0;
pub const DEFAULT_RESOLUTION_S: f64 = 0.01;

/// The shortest optimizer step a scenario may give: 10 ms (A). A training step worth simulating
/// at cluster scale takes 0.1–30 s (the examples' 1–20 s); the timeline and the power trace
/// hold work per step, so a microsecond step would ask for gigabytes.
pub const MIN_STEP_S: f64 = 0.01;

/// The finest power-trace resolution: 1 ms (A). The finest grid-code band ends at 20 Hz, whose
/// Nyquist step is 25 ms, so 1 ms resolves every rule with a margin of 25.
pub const MIN_RESOLUTION_S: f64 = 0.001;

/// `x` to 12 significant digits, for a message: "100 us" parses to 9.999999999999999e-5 s,
/// which reads as 0.0001 s.
fn plain(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    let m = 10f64.powi(11 - x.abs().log10().floor() as i32);
    if m.is_finite() && (x * m).is_finite() {
        (x * m).round() / m
    } else {
        x
    }
}

/// A step time at or above [`MIN_STEP_S`] (and at most a day).
pub(crate) fn check_step_time(ctx: &Ctx, path: &str, s: f64) -> Result<(), SpecError> {
    if (MIN_STEP_S..=86_400.0).contains(&s) {
        Ok(())
    } else {
        Err(ctx.err(
            path,
            format!("a step time of {} s is outside {MIN_STEP_S} s to one day (training steps take 0.1–30 s)", plain(s)),
        ))
    }
}

fn fraction_in(
    ctx: &Ctx,
    path: &str,
    v: Option<Fraction>,
    what: &str,
) -> Result<Option<f64>, SpecError> {
    match v {
        Some(f) => {
            let x = f.fraction();
            ctx.within(path, x, 0.0, 1.0, what)?;
            Ok(Some(x))
        }
        None => Ok(None),
    }
}

fn positive_opt(
    ctx: &Ctx,
    path: &str,
    v: Option<f64>,
    what: &str,
) -> Result<Option<f64>, SpecError> {
    if let Some(x) = v {
        ctx.positive(path, x, what)?;
    }
    Ok(v)
}

pub(crate) fn resolve(ctx: &Ctx, p: &str, r: RawPower) -> Result<PowerSection, SpecError> {
    let code_name = r
        .grid_code
        .clone()
        .unwrap_or_else(|| DEFAULT_GRID_CODE.to_string());
    let mut grid_code: GridCode =
        ctx.resolve(&format!("{p}.grid_code"), &CatalogRef::Name(code_name))?;
    validate_grid_code(ctx, &format!("{p}.grid_code"), &grid_code)?;
    let climate: Option<Climate> = match &r.climate {
        Some(c) => Some(ctx.resolve(&format!("{p}.climate"), &CatalogRef::Name(c.clone()))?),
        None => None,
    };
    let mut climates = vec![];
    for n in ctx.catalog.names("climate") {
        let c: Climate = ctx.resolve(&format!("{p}.climate"), &CatalogRef::Name(n.to_string()))?;
        validate_climate(ctx, &format!("{p}.climate"), &c)?;
        climates.push(c);
    }
    if let Some(c) = &climate {
        validate_climate(ctx, &format!("{p}.climate"), c)?;
    }

    let g = r.grid.unwrap_or_default();
    let gp = format!("{p}.grid");
    let (band_low_hz, band_high_hz) = match &g.band {
        None => (None, None),
        Some(b) if b.len() == 2 => {
            let (lo, hi) = (b[0].hz(), b[1].hz());
            ctx.non_negative(&format!("{gp}.band"), lo, "band low edge")?;
            if !(lo < hi && hi.is_finite()) {
                return Err(ctx.err(
                    &format!("{gp}.band"),
                    format!("band low edge {lo} Hz must be below its high edge {hi} Hz"),
                ));
            }
            (Some(lo), Some(hi))
        }
        Some(b) => {
            return Err(ctx.err(
                &format!("{gp}.band"),
                format!("band is [low, high], two frequencies (e.g. [\"0.1 Hz\", \"20 Hz\"]), got {} values", b.len()),
            ))
        }
    };
    let o = (
        positive_opt(
            ctx,
            &format!("{gp}.ramp_up"),
            g.ramp_up.map(|x| x.w_per_s()),
            "ramp-up limit",
        )?,
        positive_opt(
            ctx,
            &format!("{gp}.ramp_down"),
            g.ramp_down.map(|x| x.w_per_s()),
            "ramp-down limit",
        )?,
        positive_opt(
            ctx,
            &format!("{gp}.ramp_window"),
            g.ramp_window.map(|x| x.s()),
            "ramp metering window",
        )?,
        fraction_in(
            ctx,
            &format!("{gp}.dynamic_range"),
            g.dynamic_range,
            "dynamic range",
        )?,
        band_low_hz,
        band_high_hz,
        fraction_in(
            ctx,
            &format!("{gp}.band_limit"),
            g.band_limit,
            "band energy limit",
        )?,
        match g.large_load {
            Some(x) => {
                ctx.non_negative(&format!("{gp}.large_load"), x.w(), "large-load threshold")?;
                Some(x.w())
            }
            None => None,
        },
        positive_opt(
            ctx,
            &format!("{gp}.load_loss"),
            g.load_loss.map(|x| x.w()),
            "load-loss limit",
        )?,
    );
    let (
        ramp_up,
        ramp_down,
        ramp_window,
        dynamic_range,
        band_low,
        band_high,
        band_limit,
        large_load,
        load_loss,
    ) = o;
    let mut overridden = false;
    let mut set = |d: &mut Option<f64>, v: Option<f64>| {
        if v.is_some() {
            *d = v;
            overridden = true;
        }
    };
    let mut ru = grid_code.ramp_up.map(|x| x.w_per_s());
    set(&mut ru, ramp_up);
    let mut rd = grid_code.ramp_down.map(|x| x.w_per_s());
    set(&mut rd, ramp_down);
    let mut rw = grid_code.ramp_window.map(|x| x.s());
    set(&mut rw, ramp_window);
    let mut dr = grid_code.dynamic_range.map(|x| x.fraction());
    set(&mut dr, dynamic_range);
    let mut bl = grid_code.band_low.map(|x| x.hz());
    set(&mut bl, band_low);
    let mut bh = grid_code.band_high.map(|x| x.hz());
    set(&mut bh, band_high);
    let mut lim = grid_code.band_limit.map(|x| x.fraction());
    set(&mut lim, band_limit);
    let mut ll = Some(grid_code.large_load.w());
    set(&mut ll, large_load);
    let mut loss = grid_code.load_loss.map(|x| x.w());
    set(&mut loss, load_loss);
    if overridden {
        grid_code = GridCode {
            name: format!("{} (overridden)", grid_code.name),
            ramp_up: ru.map(PowerRamp::from_w_per_s),
            ramp_down: rd.map(PowerRamp::from_w_per_s),
            ramp_window: rw.map(Duration::from_s),
            dynamic_range: dr.map(Fraction::from_fraction),
            band_low: bl.map(Frequency::from_hz),
            band_high: bh.map(Frequency::from_hz),
            band_limit: lim.map(Fraction::from_fraction),
            large_load: Power::from_w(ll.unwrap_or(0.0)),
            load_loss: loss.map(Power::from_w),
            ..grid_code
        };
    }

    let step_time_s = positive_opt(
        ctx,
        &format!("{p}.step_time"),
        r.step_time.map(|d| d.s()),
        "step time",
    )?;
    if let Some(s) = step_time_s {
        check_step_time(ctx, &format!("{p}.step_time"), s)?;
    }
    let compute_fraction = fraction_in(
        ctx,
        &format!("{p}.compute_fraction"),
        r.compute_fraction,
        "compute fraction",
    )?;
    let comm_activity = fraction_in(
        ctx,
        &format!("{p}.comm_activity"),
        r.comm_activity,
        "communication activity",
    )?;
    let gpu_compute_fraction = fraction_in(
        ctx,
        &format!("{p}.gpu_compute"),
        r.gpu_compute,
        "compute-phase GPU draw (fraction of TDP)",
    )?;
    let gpu_idle_fraction = fraction_in(
        ctx,
        &format!("{p}.gpu_idle"),
        r.gpu_idle,
        "idle GPU draw (fraction of TDP)",
    )?;
    if let (Some(i), Some(c)) = (gpu_idle_fraction, gpu_compute_fraction) {
        if i > c {
            return Err(ctx.err(
                &format!("{p}.gpu_idle"),
                format!("idle GPU draw {i} of TDP exceeds the compute-phase draw {c}"),
            ));
        }
    }
    let node_measured_max_fraction = fraction_in(
        ctx,
        &format!("{p}.node_measured_max"),
        r.node_measured_max,
        "measured node maximum (fraction of nameplate)",
    )?;
    let window_s = positive_opt(
        ctx,
        &format!("{p}.window"),
        r.window.map(|d| d.s()),
        "analysis window",
    )?;
    let resolution_s = positive_opt(
        ctx,
        &format!("{p}.resolution"),
        r.resolution.map(|d| d.s()),
        "resolution",
    )?;
    if window_s.is_some() || resolution_s.is_some() {
        let w = window_s.unwrap_or(DEFAULT_WINDOW_S);
        let res = resolution_s.unwrap_or(DEFAULT_RESOLUTION_S);
        // Name the field the user wrote (the resolution when both are written and it is too fine).
        let field = if resolution_s.is_some() {
            "resolution"
        } else {
            "window"
        };
        if res > w {
            return Err(ctx.err(
                &format!("{p}.resolution"),
                format!(
                    "resolution {} s is longer than the window {} s",
                    plain(res),
                    plain(w)
                ),
            ));
        }
        if w / res > MAX_WINDOW_SAMPLES {
            return Err(ctx.err(
                &format!("{p}.{field}"),
                format!(
                    "a window of {} s at {} s resolution is {:.0} samples; at most {MAX_WINDOW_SAMPLES:.0} (a coarser resolution or a shorter window)",
                    plain(w),
                    plain(res),
                    w / res
                ),
            ));
        }
        if res < MIN_RESOLUTION_S {
            return Err(ctx.err(
                &format!("{p}.resolution"),
                format!("a resolution of {} s is finer than the {MIN_RESOLUTION_S} s the power model resolves (the finest grid-code band ends at 20 Hz)", plain(res)),
            ));
        }
    }

    let m = r.mitigation.unwrap_or_default();
    let mp = format!("{p}.mitigation");
    let battery = match m.battery {
        Some(b) => {
            let bp = format!("{mp}.battery");
            ctx.non_negative(&format!("{bp}.power"), b.power.w(), "battery power")?;
            ctx.non_negative(&format!("{bp}.energy"), b.energy.j(), "battery energy")?;
            if b.energy.j() == 0.0 && b.power.w() > 0.0 {
                return Err(ctx.err(
                    &format!("{bp}.energy"),
                    format!("a battery with {} W of power needs energy above zero (or set power to 0 for no battery)", b.power.w()),
                ));
            }
            let eff = match b.efficiency {
                Some(e) => {
                    let e = e.fraction();
                    if !(e > 0.0 && e <= 1.0) {
                        return Err(ctx.err(
                            &format!("{bp}.efficiency"),
                            format!("round-trip efficiency must lie in (0, 1], got {e}"),
                        ));
                    }
                    Some(e)
                }
                None => None,
            };
            Some(StorageSpec {
                power_w: b.power.w(),
                energy_j: b.energy.j(),
                efficiency: eff,
            })
        }
        None => None,
    };
    let soc_min_fraction = fraction_in(
        ctx,
        &format!("{mp}.soc_min"),
        m.soc_min,
        "minimum state of charge",
    )?;
    let soc_max_fraction = fraction_in(
        ctx,
        &format!("{mp}.soc_max"),
        m.soc_max,
        "maximum state of charge",
    )?;
    if let (Some(lo), Some(hi)) = (soc_min_fraction, soc_max_fraction) {
        if lo >= hi {
            return Err(ctx.err(
                &format!("{mp}.soc_min"),
                format!("minimum state of charge {lo} must be below the maximum {hi}"),
            ));
        }
    }
    let rack = match m.rack_storage {
        Some(e) => {
            ctx.non_negative(
                &format!("{mp}.rack_storage"),
                e.j(),
                "rack energy storage per GPU",
            )?;
            Some(e.j())
        }
        None => None,
    };
    let mitigation = MitigationSpec {
        gpu_floor_fraction: fraction_in(
            ctx,
            &format!("{mp}.gpu_floor"),
            m.gpu_floor,
            "GPU power floor (fraction of TDP)",
        )?,
        gpu_ramp_up_w_per_s: positive_opt(
            ctx,
            &format!("{mp}.gpu_ramp_up"),
            m.gpu_ramp_up.map(|x| x.w_per_s()),
            "GPU ramp-up limit",
        )?,
        gpu_ramp_down_w_per_s: positive_opt(
            ctx,
            &format!("{mp}.gpu_ramp_down"),
            m.gpu_ramp_down.map(|x| x.w_per_s()),
            "GPU ramp-down limit",
        )?,
        filler_activity: fraction_in(ctx, &format!("{mp}.filler"), m.filler, "filler activity")?,
        filler_slowdown_fraction: fraction_in(
            ctx,
            &format!("{mp}.filler_slowdown"),
            m.filler_slowdown,
            "filler slowdown",
        )?,
        rack_storage_j_per_gpu: rack,
        battery,
        battery_tau_s: positive_opt(
            ctx,
            &format!("{mp}.battery_tau"),
            m.battery_tau.map(|d| d.s()),
            "battery control time constant",
        )?,
        soc_min_fraction,
        soc_max_fraction,
        turbine_ramp_w_per_s: positive_opt(
            ctx,
            &format!("{mp}.turbine_ramp"),
            m.turbine_ramp.map(|x| x.w_per_s()),
            "turbine ramp limit",
        )?,
    };

    Ok(PowerSection {
        grid_code,
        step_time_s,
        compute_fraction,
        comm_activity,
        gpu_compute_fraction,
        gpu_idle_fraction,
        node_measured_max_fraction,
        window_s,
        resolution_s,
        climate,
        climates,
        mitigation,
    })
}

/// Range checks of a grid code (embedded or from a user catalogue).
fn validate_grid_code(ctx: &Ctx, p: &str, c: &GridCode) -> Result<(), SpecError> {
    let bad = |what: &str| ctx.err(p, format!("grid code `{}`: {what}", c.name));
    for (what, v) in [
        ("ramp_up", c.ramp_up.map(|x| x.w_per_s())),
        ("ramp_down", c.ramp_down.map(|x| x.w_per_s())),
        ("ramp_window", c.ramp_window.map(|x| x.s())),
        ("load_loss", c.load_loss.map(|x| x.w())),
    ] {
        if let Some(v) = v {
            if !(v > 0.0 && v.is_finite()) {
                return Err(bad(&format!("{what} must be greater than zero, got {v}")));
            }
        }
    }
    for (what, v) in [
        ("dynamic_range", c.dynamic_range),
        ("band_limit", c.band_limit),
    ] {
        if let Some(v) = v.map(|x| x.fraction()) {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(&format!("{what} must lie between 0 and 1, got {v}")));
            }
        }
    }
    if !(c.large_load.w() >= 0.0) {
        return Err(bad("large_load must not be negative"));
    }
    if let (Some(lo), Some(hi)) = (c.band_low, c.band_high) {
        if !(lo.hz() >= 0.0 && lo.hz() < hi.hz() && hi.hz().is_finite()) {
            return Err(bad("band_low must lie below band_high"));
        }
    }
    Ok(())
}

/// Range checks of a climate (embedded or from a user catalogue).
fn validate_climate(ctx: &Ctx, p: &str, c: &Climate) -> Result<(), SpecError> {
    let h = c.humidity.fraction();
    if !(h > 0.0 && h <= 1.0) {
        return Err(ctx.err(
            p,
            format!("climate `{}`: humidity must lie in (0, 1], got {h}", c.name),
        ));
    }
    for m in 0..12 {
        if !(c.min_f[m] <= c.max_f[m] && c.max_f[m].is_finite() && c.min_f[m].is_finite()) {
            return Err(ctx.err(
                p,
                format!(
                    "climate `{}`: month {} has a minimum above its maximum",
                    c.name,
                    m + 1
                ),
            ));
        }
    }
    Ok(())
}
