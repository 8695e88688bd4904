//! Scenario files: raw serde types, resolution against the catalogue, validation.
//!
//! [`parse_scenario`] is pure (source text in, [`Scenario`] or a located [`SpecError`] out);
//! [`load_scenario`] adds the file reading (the scenario and its extra catalogue files).

use crate::catalog::*;
use crate::ctx::{CatalogRef, Ctx};
use crate::error::{did_you_mean, SpecError};
use crate::job::{self, Job, RawJob};
use crate::units::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The embedded default scenario: 100,000 H100 at one site training a Llama-3-405B-class model.
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/default.toml");
pub const DEFAULT_SCENARIO_NAME: &str = "<default scenario>";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_seed")]
    seed: u64,
    /// Extra catalogue files, relative to the scenario file.
    #[serde(default)]
    #[allow(dead_code)] // read by `load_scenario` before parsing
    catalog: Vec<String>,
    /// Overrides of the `cost.default` catalogue entry.
    #[serde(default)]
    cost: Option<CatalogRef>,
    #[serde(rename = "site")]
    sites: Vec<RawSite>,
    #[serde(default, rename = "link")]
    links: Vec<RawLink>,
    #[serde(default)]
    job: Option<RawJob>,
    #[serde(default)]
    reliability: Option<crate::reliability::RawReliability>,
    #[serde(default)]
    power: Option<crate::power::RawPower>,
    #[serde(default)]
    programme: Option<crate::campus::RawProgramme>,
}

fn default_seed() -> u64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    name: String,
    /// Power the grid connection delivers to the facility.
    #[serde(default)]
    grid: Option<Power>,
    /// On-site generation: a capacity of the default class, or a class, capacity and gas price.
    #[serde(default)]
    generation: Option<crate::campus::RawGeneration>,
    /// Largest export to the grid the connection allows (default 0).
    #[serde(default)]
    export: Option<Power>,
    /// The month the site's long-lead items are ordered; phase dates count from it.
    #[serde(default)]
    start: Option<YearMonth>,
    /// Overrides of catalogue lead times (kind lead_time; `generation`: the generator class's).
    #[serde(default)]
    lead_times: Option<std::collections::BTreeMap<String, Duration>>,
    #[serde(default, rename = "phase")]
    phases: Vec<crate::campus::RawPhase>,
    #[serde(default)]
    battery: Option<RawBattery>,
    #[serde(default = "default_cooling")]
    cooling: CatalogRef,
    /// A price (`"$65/MWh"`) or a region name (`"texas"`).
    #[serde(default)]
    electricity: Option<String>,
    /// Facility construction cost per watt of critical IT, overriding the cost default.
    #[serde(default)]
    facility: Option<PowerPrice>,
    #[serde(rename = "hall")]
    halls: Vec<RawHall>,
}

fn default_cooling() -> CatalogRef {
    CatalogRef::Name("direct-liquid".into())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBattery {
    power: Power,
    energy: Energy,
    #[serde(default)]
    efficiency: Option<Fraction>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHall {
    #[serde(default)]
    name: Option<String>,
    system: CatalogRef,
    gpus: Count,
    fabric: CatalogRef,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    between: Vec<String>,
    /// Fiber route length (not the great-circle distance).
    distance: Distance,
    /// Capacity each way; or give `fiber_pairs`, `wavelengths` and `wavelength_rate`.
    #[serde(default)]
    capacity: Option<Bandwidth>,
    #[serde(default)]
    fiber_pairs: Option<Count>,
    /// DWDM wavelengths lit per fiber pair.
    #[serde(default)]
    wavelengths: Option<Count>,
    /// Line rate of one wavelength (`"800 Gbps"`).
    #[serde(default)]
    wavelength_rate: Option<Bandwidth>,
    /// One-way delay of the equipment on the route (transponders, amplifiers, switches), on top
    /// of propagation in the fiber.
    #[serde(default)]
    latency: Option<Duration>,
    #[serde(default)]
    cost: Option<Money>,
}

/// A resolved, validated scenario: plain data in SI units. Nothing downstream reads files.
#[derive(Clone, Debug, Serialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    pub sites: Vec<Site>,
    pub links: Vec<Link>,
    pub job: Option<Job>,
    pub cost: CostDefaults,
    /// The accelerator that H100-equivalents are counted in.
    pub reference: Accelerator,
    /// `[reliability]`, resolved (the default preset when the scenario has none).
    pub reliability: crate::reliability::Reliability,
    /// `[power]`, resolved (the default grid code when the scenario has none).
    pub power: crate::power::PowerSection,
    /// `[job.sync]`, resolved (defaults when the job has none); `None` without a job.
    pub sync: Option<crate::sync::Sync>,
    /// `[programme]`, resolved (defaults when the scenario has none; `given` says which).
    pub programme: crate::campus::Programme,
    /// The file and its text, to locate problems that the models find after loading.
    #[serde(skip)]
    pub source: Source,
}

/// Where a scenario came from: its file name (or `<default scenario>`) and its text.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub file: String,
    pub text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Site {
    pub name: String,
    pub grid: Option<Power>,
    /// On-site generation capacity (0 without any); its class and gas price in `generator`.
    pub generation: Power,
    pub generator: Option<crate::campus::Generation>,
    /// Largest export the grid connection allows.
    pub export: Power,
    /// CO2 intensity of the site's grid electricity (its region's, else the cost default).
    pub grid_co2: EmissionRate,
    /// When the site's long-lead items are ordered.
    pub start: Option<YearMonth>,
    /// Every long-lead item with the site's overrides applied, in name order.
    pub lead_times: Vec<LeadTime>,
    /// The lead-time items the scenario overrides.
    pub lead_time_overrides: Vec<String>,
    /// The build-out in phases; empty: the whole site at once.
    pub phases: Vec<crate::campus::Phase>,
    pub battery: Option<Battery>,
    pub cooling: Cooling,
    pub electricity: EnergyPrice,
    /// The electricity market, when named.
    pub region: Option<String>,
    pub facility: PowerPrice,
    pub halls: Vec<Hall>,
    /// The climate of the site's cooling year: `[power] climate`, else the catalogue climate that
    /// matches the site's region (or name), else memphis.
    pub climate: Climate,
    /// True when no climate matched and memphis stands in.
    pub climate_fallback: bool,
}

/// The climate every site falls back to when none matches it.
pub const FALLBACK_CLIMATE: &str = "memphis";

#[derive(Clone, Debug, Serialize)]
pub struct Battery {
    pub power: Power,
    pub energy: Energy,
    /// Round-trip efficiency.
    pub efficiency: f64,
}

/// Round-trip efficiency of a lithium-ion battery system where none is given:
/// NREL Annual Technology Baseline 2024, utility-scale battery storage, 85 % (S).
pub const DEFAULT_BATTERY_EFFICIENCY: f64 = 0.85;

#[derive(Clone, Debug, Serialize)]
pub struct Hall {
    pub name: String,
    pub gpus: u64,
    pub system: System,
    pub accelerator: Accelerator,
    pub scale_up: ScaleUp,
    pub fabric: Fabric,
}

#[derive(Clone, Debug, Serialize)]
pub struct Link {
    /// Indices into `Scenario::sites`.
    pub between: (usize, usize),
    /// Fiber route length.
    pub distance: Distance,
    /// Capacity each way (given, or fiber pairs × wavelengths × wavelength rate).
    pub capacity: Bandwidth,
    /// The DWDM build the capacity came from: (fiber pairs, wavelengths per pair, rate each).
    pub fiber: Option<(u64, u64, Bandwidth)>,
    /// One-way equipment delay on top of propagation; `None`: the multi-site model's default.
    pub latency: Option<Duration>,
    pub cost: Option<Money>,
}

impl Scenario {
    pub fn total_gpus(&self) -> u64 {
        self.sites
            .iter()
            .flat_map(|s| &s.halls)
            .map(|h| h.gpus)
            .sum()
    }

    /// A problem with `field` that a model found after loading, located in the scenario's text:
    /// the line and column of `field`, or of the nearest enclosing table or key the file writes
    /// out (a default has no line of its own).
    pub fn error_at(&self, field: &str, message: impl Into<String>) -> SpecError {
        let src = &self.source.text;
        let mut probe = field;
        let span = loop {
            if let Some(s) = crate::locate::span_of(src, probe) {
                break Some(s);
            }
            match probe.rfind('.') {
                Some(i) => probe = &probe[..i],
                None => break None,
            }
        };
        SpecError::new(&self.source.file, field, message).at_span(src, span)
    }
}

/// The most GPUs a scenario's halls may hold together: 10^8, a hundred times the largest
/// cluster planned (A), and the scale up to which every model's work stays bounded.
pub const MAX_GPUS: u64 = 100_000_000;

/// Read a scenario file (or the embedded default when `path` is `None`) and its extra catalogue files.
pub fn load_scenario(path: Option<&Path>, extra_catalogs: &[&Path]) -> Result<Scenario, SpecError> {
    let (file, src) = read_scenario(path)?;
    let catalog = scenario_catalog(path, &file, &src, extra_catalogs)?;
    parse_scenario(&file, &src, &catalog)
}

/// A scenario file's name and text (the embedded default when `path` is `None`).
pub fn read_scenario(path: Option<&Path>) -> Result<(String, String), SpecError> {
    match path {
        Some(p) => {
            let src = crate::read::read_input(p, "scenario")?;
            Ok((p.display().to_string(), src))
        }
        None => Ok((
            DEFAULT_SCENARIO_NAME.to_string(),
            DEFAULT_SCENARIO.to_string(),
        )),
    }
}

/// The catalogue a scenario resolves against: the embedded one, the extra files, then the files
/// the scenario's own `catalog = [...]` names (relative to the scenario's directory).
pub fn scenario_catalog(
    path: Option<&Path>,
    file: &str,
    src: &str,
    extra_catalogs: &[&Path],
) -> Result<Catalog, SpecError> {
    let mut catalog = Catalog::embedded();
    for p in extra_catalogs {
        add_catalog_file(&mut catalog, p)?;
    }
    for (i, p) in named_catalog_files(path, src) {
        add_catalog_file(&mut catalog, &p).map_err(|e| {
            if e.line.is_none() {
                let ctx = Ctx {
                    file,
                    src,
                    catalog: &catalog,
                };
                ctx.err(&format!("catalog[{i}]"), e.message)
            } else {
                e
            }
        })?;
    }
    Ok(catalog)
}

/// The catalogue files a scenario's own `catalog = [...]` names, relative to the scenario's
/// directory, each with its index in the list (entries that are not text are the parser's to
/// report). Empty when the text is not TOML.
pub fn named_catalog_files(path: Option<&Path>, src: &str) -> Vec<(usize, PathBuf)> {
    let dir = path.and_then(|p| p.parent()).unwrap_or(Path::new("."));
    let Ok(t) = toml::from_str::<toml::Table>(src) else {
        return vec![];
    };
    let Some(toml::Value::Array(files)) = t.get("catalog") else {
        return vec![];
    };
    files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.as_str().map(|f| (i, dir.join(f))))
        .collect()
}

/// Add a user catalogue file.
pub fn add_catalog_file(catalog: &mut Catalog, p: &Path) -> Result<(), SpecError> {
    let src = crate::read::read_input(p, "catalogue file")?;
    catalog.add_file(&p.display().to_string(), &src)
}

/// Parse and resolve a scenario from its source text.
pub fn parse_scenario(file: &str, src: &str, catalog: &Catalog) -> Result<Scenario, SpecError> {
    let de = toml::Deserializer::new(src);
    let raw: RawScenario = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = crate::error::toml_message(&inner, src);
        let hint = unknown_field_hint(&msg);
        let path = if path == "." { String::new() } else { path };
        // an empty key (`"" = …`) is an empty segment of the path: name it `""`
        let (path, msg) = if path.split('.').any(str::is_empty) && !path.is_empty() {
            let quoted: Vec<&str> = path
                .split('.')
                .map(|seg| if seg.is_empty() { "\"\"" } else { seg })
                .collect();
            (
                quoted.join("."),
                msg.replacen(
                    "unknown field ``",
                    "an empty key (`\"\" = …`) is not a field",
                    1,
                ),
            )
        } else {
            (path, msg)
        };
        let msg = if inner.span().is_some() && path.is_empty() && !msg.contains("field") {
            format!("malformed TOML: {msg}")
        } else {
            msg
        };
        SpecError::new(file, &path, msg)
            .with_hint(hint)
            .at_span(src, inner.span())
    })?;
    let ctx = Ctx { file, src, catalog };
    resolve(&ctx, raw)
}

fn resolve(ctx: &Ctx, raw: RawScenario) -> Result<Scenario, SpecError> {
    let cost_ref = raw.cost.unwrap_or(CatalogRef::Name("default".into()));
    let cost_ref = match cost_ref {
        CatalogRef::Inline(mut t) => {
            t.entry("from")
                .or_insert(toml::Value::String("default".into()));
            CatalogRef::Inline(t)
        }
        n => n,
    };
    let cost: CostDefaults = ctx.resolve("cost", &cost_ref)?;
    validate_cost(ctx, &cost)?;
    let reference: Accelerator = ctx.resolve(
        "cost.reference_accelerator",
        &CatalogRef::Name(cost.reference_accelerator.clone()),
    )?;

    if raw.sites.is_empty() {
        return Err(ctx.err("site", "a scenario needs at least one [[site]]"));
    }
    let mut sites = Vec::with_capacity(raw.sites.len());
    ctx.name("name", &raw.name)?;
    let mut gpus_so_far = 0u64;
    for (i, s) in raw.sites.into_iter().enumerate() {
        let p = format!("site[{i}]");
        ctx.name(&format!("{p}.name"), &s.name)?;
        if sites.iter().any(|o: &Site| o.name == s.name) {
            return Err(ctx.err(
                &format!("{p}.name"),
                format!("two sites are named `{}`", s.name),
            ));
        }
        let site = resolve_site(ctx, &p, s, &cost)?;
        for (j, h) in site.halls.iter().enumerate() {
            gpus_so_far = gpus_so_far.saturating_add(h.gpus);
            if gpus_so_far > MAX_GPUS {
                return Err(ctx.err(
                    &format!("{p}.hall[{j}].gpus"),
                    format!("the scenario's halls hold more than {MAX_GPUS} GPUs, a hundred times the largest cluster planned"),
                ));
            }
        }
        sites.push(site);
    }

    let mut links = vec![];
    for (i, l) in raw.links.into_iter().enumerate() {
        let p = format!("link[{i}]");
        if l.between.len() != 2 {
            return Err(ctx.err(&format!("{p}.between"), "a link joins exactly two sites"));
        }
        let find = |n: &str, j: usize| {
            sites.iter().position(|s| s.name == n).ok_or_else(|| {
                ctx.err(&format!("{p}.between[{j}]"), format!("no site named `{n}`"))
                    .with_hint(did_you_mean(n, sites.iter().map(|s| s.name.as_str())))
            })
        };
        let a = find(&l.between[0], 0)?;
        let b = find(&l.between[1], 1)?;
        if a == b {
            return Err(ctx.err(
                &format!("{p}.between"),
                "a link must join two different sites",
            ));
        }
        if let Some(k) = links
            .iter()
            .position(|o: &Link| o.between == (a, b) || o.between == (b, a))
        {
            return Err(ctx.err(
                &format!("{p}.between"),
                format!(
                    "sites `{}` and `{}` are already joined by link[{k}]; give one link with their combined capacity",
                    l.between[0], l.between[1]
                ),
            ));
        }
        ctx.positive(&format!("{p}.distance"), l.distance.m(), "distance")?;
        let fiber = match (l.fiber_pairs, l.wavelengths, l.wavelength_rate) {
            (None, None, None) => None,
            (Some(fp), Some(w), Some(r)) => {
                let fp = ctx.whole(&format!("{p}.fiber_pairs"), fp.count(), "fiber_pairs")?;
                let w = ctx.whole(&format!("{p}.wavelengths"), w.count(), "wavelengths")?;
                ctx.positive(
                    &format!("{p}.wavelength_rate"),
                    r.bits_per_s(),
                    "wavelength rate",
                )?;
                Some((fp, w, r))
            }
            (fp, w, _) => {
                let missing = if fp.is_none() {
                    "fiber_pairs"
                } else if w.is_none() {
                    "wavelengths"
                } else {
                    "wavelength_rate"
                };
                return Err(ctx.err(
                    &format!("{p}.{missing}"),
                    "a link's capacity from fiber needs fiber_pairs, wavelengths and wavelength_rate together",
                ));
            }
        };
        let capacity = match (l.capacity, fiber) {
            (Some(_), Some(_)) => {
                return Err(ctx.err(
                    &format!("{p}.capacity"),
                    "give either capacity or fiber_pairs × wavelengths × wavelength_rate, not both",
                ))
            }
            (Some(c), None) => c,
            (None, Some((fp, w, r))) => r * (fp as f64 * w as f64),
            (None, None) => {
                return Err(ctx.err(
                    &format!("{p}.capacity"),
                    "a link needs a capacity (\"10 Tbps\") or fiber_pairs, wavelengths and wavelength_rate",
                ))
            }
        };
        ctx.positive(&format!("{p}.capacity"), capacity.bits_per_s(), "capacity")?;
        if let Some(lat) = l.latency {
            ctx.non_negative(&format!("{p}.latency"), lat.s(), "equipment latency")?;
        }
        if let Some(c) = l.cost {
            ctx.non_negative(&format!("{p}.cost"), c.usd(), "link cost")?;
        }
        links.push(Link {
            between: (a, b),
            distance: l.distance,
            capacity,
            fiber,
            latency: l.latency,
            cost: l.cost,
        });
    }
    if sites.len() > 1 {
        check_connected(ctx, &sites, &links)?;
    }

    let job = match raw.job {
        Some(j) => Some(job::resolve(ctx, "job", j)?),
        None => None,
    };

    let reliability =
        crate::reliability::resolve(ctx, "reliability", raw.reliability.unwrap_or_default())?;
    let power = crate::power::resolve(ctx, "power", raw.power.unwrap_or_default())?;
    for site in &mut sites {
        let (climate, fallback) = site_climate(ctx, site, &power)?;
        site.climate = climate;
        site.climate_fallback = fallback;
    }
    let sync = match &job {
        Some(j) => Some(match &j.sync {
            Some(v) => crate::sync::resolve(ctx, "job.sync", v)?,
            None => crate::sync::Sync::default(),
        }),
        None => None,
    };
    if let Some(j) = &job {
        if sites.len() > 1 {
            check_within_site(ctx, &sites, j)?;
        }
        check_job_gpus(ctx, &sites, j)?;
    }
    check_reliability_pools(ctx, &sites, job.as_ref(), &reliability)?;
    let programme = crate::campus::resolve_programme(ctx, "programme", raw.programme, &cost)?;

    Ok(Scenario {
        name: raw.name,
        description: raw.description,
        seed: raw.seed,
        sites,
        links,
        job,
        cost,
        reference,
        reliability,
        power,
        sync,
        programme,
        source: Source {
            file: ctx.file.to_string(),
            text: ctx.src.to_string(),
        },
    })
}

/// Every site must reach every other through the links: one job cannot span a site graph in
/// pieces. The error names the first link-less site's name field.
fn check_connected(ctx: &Ctx, sites: &[Site], links: &[Link]) -> Result<(), SpecError> {
    let n = sites.len();
    let mut seen = vec![false; n];
    let mut stack = vec![0usize];
    seen[0] = true;
    while let Some(i) = stack.pop() {
        for l in links {
            let j = match l.between {
                (a, b) if a == i => b,
                (a, b) if b == i => a,
                _ => continue,
            };
            if !seen[j] {
                seen[j] = true;
                stack.push(j);
            }
        }
    }
    if let Some(k) = seen.iter().position(|s| !s) {
        let cut: Vec<&str> = (0..n)
            .filter(|&i| !seen[i])
            .map(|i| sites[i].name.as_str())
            .collect();
        // point at the last link, where the graph is incomplete; without links, at the first
        // site that no link reaches
        let at = match links.len() {
            0 => format!("site[{k}].name"),
            l => format!("link[{}].between", l - 1),
        };
        return Err(ctx
            .err(
                &at,
                format!(
                    "the site graph is disconnected: site `{}` cannot reach {} through the [[link]]s{}",
                    sites[0].name,
                    cut.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
                    if links.is_empty() {
                        " (the scenario has none): the sites of one scenario form one cluster"
                    } else {
                        ""
                    }
                ),
            )
            .with_hint(Some(format!(
                "add a [[link]] with between = [\"{}\", \"{}\"] or to any connected site",
                sites[0].name, sites[k].name
            ))));
    }
    Ok(())
}

/// Tensor and expert parallelism never span sites (calibration multisite.md §5.5): their groups
/// must fit inside the smallest site.
fn check_within_site(ctx: &Ctx, sites: &[Site], j: &Job) -> Result<(), SpecError> {
    let job::RawParallelism::Fixed(f) = &j.parallelism else {
        return Ok(());
    };
    let Some((small, gpus)) = sites
        .iter()
        .map(|s| (s.name.as_str(), s.halls.iter().map(|h| h.gpus).sum::<u64>()))
        .min_by_key(|x| x.1)
    else {
        return Ok(());
    };
    let tp = f.tp as u64;
    if tp > gpus {
        return Err(ctx.err(
            "job.parallelism.tp",
            format!("tensor parallelism never spans sites: tp = {tp} is larger than site `{small}` ({gpus} GPUs)"),
        ));
    }
    let ep_group = tp * f.cp as u64 * f.ep as u64;
    if f.ep > 1 && ep_group > gpus {
        return Err(ctx.err(
            "job.parallelism.ep",
            format!(
                "expert parallelism never spans sites: the expert group of tp × cp × ep = {ep_group} GPUs is larger than site `{small}` ({gpus} GPUs)"
            ),
        ));
    }
    Ok(())
}

fn resolve_site(ctx: &Ctx, p: &str, s: RawSite, cost: &CostDefaults) -> Result<Site, SpecError> {
    if let Some(g) = s.grid {
        ctx.non_negative(&format!("{p}.grid"), g.w(), "grid power")?;
    }
    let mut generator =
        crate::campus::resolve_generation(ctx, &format!("{p}.generation"), s.generation, cost)?;
    let generation = generator
        .as_ref()
        .map_or(Power::from_w(0.0), |g| g.capacity);
    let export = s.export.unwrap_or_default();
    ctx.non_negative(&format!("{p}.export"), export.w(), "allowed export")?;
    let (lead_times, lead_time_overrides) =
        crate::campus::resolve_lead_times(ctx, p, s.lead_times, generator.as_mut())?;
    let battery = match s.battery {
        Some(b) => {
            let bp = format!("{p}.battery");
            ctx.positive(&format!("{bp}.power"), b.power.w(), "battery power")?;
            ctx.positive(&format!("{bp}.energy"), b.energy.j(), "battery energy")?;
            let eff = b
                .efficiency
                .map(|e| e.fraction())
                .unwrap_or(DEFAULT_BATTERY_EFFICIENCY);
            if !(eff > 0.0 && eff <= 1.0) {
                return Err(ctx.err(
                    &format!("{bp}.efficiency"),
                    format!("round-trip efficiency must lie in (0, 1], got {eff}"),
                ));
            }
            Some(Battery {
                power: b.power,
                energy: b.energy,
                efficiency: eff,
            })
        }
        None => None,
    };
    let mut cooling: Cooling = ctx.resolve(&format!("{p}.cooling"), &s.cooling)?;
    validate_cooling(ctx, &format!("{p}.cooling"), &mut cooling)?;
    let (electricity, region, region_co2) = match s.electricity {
        None => (cost.electricity, None, None),
        Some(e) if e.trim_start().starts_with('$') || e.contains('/') => {
            let v = EnergyPrice::parse(&e).map_err(|m| ctx.err(&format!("{p}.electricity"), m))?;
            (v, None, None)
        }
        Some(e) => {
            let r: Region =
                ctx.resolve(&format!("{p}.electricity"), &CatalogRef::Name(e.clone()))?;
            (r.electricity, Some(e), r.co2)
        }
    };
    let grid_co2 = region_co2.unwrap_or(cost.grid_co2);
    ctx.non_negative(
        &format!("{p}.electricity"),
        grid_co2.kg_per_mwh(),
        "grid CO2 intensity",
    )?;
    ctx.non_negative(
        &format!("{p}.electricity"),
        electricity.usd_per_mwh(),
        "electricity price",
    )?;
    let facility = s.facility.unwrap_or(cost.facility);
    ctx.non_negative(
        &format!("{p}.facility"),
        facility.usd_per_w(),
        "facility cost",
    )?;
    if s.halls.is_empty() {
        return Err(ctx.err(p, "a site needs at least one [[site.hall]]"));
    }
    let mut halls = vec![];
    for (j, h) in s.halls.into_iter().enumerate() {
        let hp = format!("{p}.hall[{j}]");
        if let Some(n) = &h.name {
            ctx.name(&format!("{hp}.name"), n)?;
        }
        let system: System = ctx.resolve(&format!("{hp}.system"), &h.system)?;
        let accelerator: Accelerator = ctx.resolve(
            &format!("{hp}.system.accelerator"),
            &CatalogRef::Name(system.accelerator.clone()),
        )?;
        validate_accelerator(ctx, &format!("{hp}.system.accelerator"), &accelerator)?;
        let scale_up: ScaleUp = ctx.resolve(
            &format!("{hp}.system.scale_up"),
            &CatalogRef::Name(system.scale_up.clone()),
        )?;
        validate_system(
            ctx,
            &format!("{hp}.system"),
            &system,
            &accelerator,
            &scale_up,
        )?;
        let fabric: Fabric = ctx.resolve(&format!("{hp}.fabric"), &h.fabric)?;
        validate_fabric(ctx, &format!("{hp}.fabric"), &fabric)?;
        let gpus = ctx.whole(&format!("{hp}.gpus"), h.gpus.count(), "gpus")?;
        if system.liquid_cooled && cooling.design == "air-chillers" {
            return Err(ctx
                .err(
                    &format!("{p}.cooling"),
                    format!(
                        "system `{}` needs liquid cooling but the site is air-cooled",
                        system.name
                    ),
                )
                .with_hint(Some(
                    "use cooling = \"direct-liquid\" or \"evaporative\"".into(),
                )));
        }
        halls.push(Hall {
            name: h.name.unwrap_or_else(|| format!("hall-{}", j + 1)),
            gpus,
            system,
            accelerator,
            scale_up,
            fabric,
        });
    }
    let hall_sizes: Vec<(String, u64)> = halls.iter().map(|h| (h.name.clone(), h.gpus)).collect();
    let phases = crate::campus::resolve_phases(
        ctx,
        p,
        s.phases,
        &crate::campus::FinalBuild {
            start: s.start,
            halls: &hall_sizes,
            grid: s.grid,
            generation,
            battery: battery.as_ref().map(|b| (b.power, b.energy)),
        },
    )?;
    Ok(Site {
        name: s.name,
        grid: s.grid,
        generation,
        generator,
        export,
        grid_co2,
        start: s.start,
        lead_times,
        lead_time_overrides,
        phases,
        battery,
        cooling,
        electricity,
        region,
        facility,
        halls,
        climate: Climate::default(),
        climate_fallback: false,
    })
}

/// A site's climate: `[power] climate`, else the first catalogue climate (in name order) one of
/// whose `matches` words is part of the site's region, or without a region of its name, else
/// [`FALLBACK_CLIMATE`] (and `true`).
fn site_climate(
    ctx: &Ctx,
    site: &Site,
    power: &crate::power::PowerSection,
) -> Result<(Climate, bool), SpecError> {
    if let Some(c) = &power.climate {
        return Ok((c.clone(), false));
    }
    let key = site.region.as_deref().unwrap_or(&site.name).to_lowercase();
    if let Some(c) = power
        .climates
        .iter()
        .find(|c| c.matches.iter().any(|m| key.contains(&m.to_lowercase())))
    {
        return Ok((c.clone(), false));
    }
    match power.climates.iter().find(|c| c.name == FALLBACK_CLIMATE) {
        Some(c) => Ok((c.clone(), true)),
        None => Err(ctx.err(
            "power.climate",
            format!(
                "no climate in the catalogue matches site `{}` and the fallback `{FALLBACK_CLIMATE}` is missing",
                site.name
            ),
        )),
    }
}

/// The job's GPUs against the GPUs that can run it: the halls of the first site that hold the
/// first hall's accelerator. Halls with another accelerator are an error unless `[job] gpus` asks
/// for no more than the matching halls hold (the job then runs on those). In a multi-site
/// scenario `[job] gpus` counts GPUs of the first site; a job over every site leaves it unset.
fn check_job_gpus(ctx: &Ctx, sites: &[Site], job: &Job) -> Result<(), SpecError> {
    let Some(site) = sites.first() else {
        return Ok(());
    };
    let Some(first) = site.halls.first() else {
        return Ok(());
    };
    let same: u64 = site
        .halls
        .iter()
        .filter(|h| h.accelerator.name == first.accelerator.name)
        .map(|h| h.gpus)
        .sum();
    if let Some((i, h)) = site
        .halls
        .iter()
        .enumerate()
        .find(|(_, h)| h.accelerator.name != first.accelerator.name)
    {
        if job.gpus.is_none_or(|n| n > same) {
            return Err(ctx.err(
                &format!("site[0].hall[{i}].system"),
                format!(
                    "a job runs on one accelerator type: hall {} has {}, hall {} has {}; set job.gpus to at most {same} to run on the {} halls only",
                    first.name, first.accelerator.name, h.name, h.accelerator.name, first.accelerator.name
                ),
            ));
        }
    }
    match job.gpus {
        Some(n) if n > same => Err(ctx.err(
            "job.gpus",
            format!(
                "the job asks for {n} GPUs but the first site has {same} installed{}",
                if sites.len() > 1 {
                    " (job.gpus counts GPUs of the first site; a job over every site's GPUs leaves it unset)"
                } else {
                    ""
                }
            ),
        )),
        _ => Ok(()),
    }
}

/// The reliability timeline's node pools: the job's nodes (`[reliability] job_gpus`, else
/// `[job] gpus`) fit the first site's halls, and explicit warm standbys fit the nodes the job
/// leaves idle.
fn check_reliability_pools(
    ctx: &Ctx,
    sites: &[Site],
    job: Option<&Job>,
    rel: &crate::reliability::Reliability,
) -> Result<(), SpecError> {
    let Some(site) = sites.first() else {
        return Ok(());
    };
    let Some(hall) = site.halls.first() else {
        return Ok(());
    };
    let gpn = hall.system.gpus_per_node.max(1) as u64;
    let installed_nodes = site.halls.iter().map(|h| h.gpus).sum::<u64>().div_ceil(gpn);
    let Some(job_gpus) = rel.job_gpus.or_else(|| job.and_then(|j| j.gpus)) else {
        return Ok(());
    };
    let job_nodes = job_gpus.div_ceil(gpn);
    if job_nodes > installed_nodes {
        let msg = format!(
            "the job needs {job_nodes} nodes but the first site's halls hold {installed_nodes}{}",
            if sites.len() > 1 {
                " (the reliability timeline follows the first site's job; a job over every site's GPUs leaves job.gpus unset)"
            } else {
                ""
            }
        );
        let field = if rel.job_gpus.is_some() {
            "reliability.job_gpus"
        } else {
            "job.gpus"
        };
        return Err(ctx.err(field, msg));
    }
    let idle = installed_nodes - job_nodes;
    if let crate::reliability::SparesSpec::Nodes(n) = rel.spares {
        if n > idle {
            return Err(ctx.err(
                "reliability.spares",
                format!(
                    "{n} warm standby nodes is more than the pool holds: the halls have {installed_nodes} nodes and the job uses {job_nodes}, leaving {idle}"
                ),
            ));
        }
    }
    Ok(())
}

/// Range checks for an accelerator (catalogue or user-supplied).
pub(crate) fn validate_accelerator(ctx: &Ctx, p: &str, a: &Accelerator) -> Result<(), SpecError> {
    ctx.positive(&format!("{p}.bf16"), a.bf16.flops(), "bf16 peak")?;
    if let Some(f) = a.fp8 {
        ctx.positive(&format!("{p}.fp8"), f.flops(), "fp8 peak")?;
    }
    ctx.positive(&format!("{p}.hbm"), a.hbm.bytes(), "HBM capacity")?;
    ctx.positive(
        &format!("{p}.hbm_bandwidth"),
        a.hbm_bandwidth.bits_per_s(),
        "HBM bandwidth",
    )?;
    ctx.positive(
        &format!("{p}.scale_up_bandwidth"),
        a.scale_up_bandwidth.bits_per_s(),
        "scale-up bandwidth",
    )?;
    ctx.positive(&format!("{p}.tdp"), a.tdp.w(), "TDP")?;
    for (name, c) in [
        ("matmul_ceiling_bf16", a.matmul_ceiling_bf16),
        ("matmul_ceiling_fp8", a.matmul_ceiling_fp8),
    ] {
        if let Some(c) = c {
            let peak = if name.ends_with("fp8") {
                a.fp8.unwrap_or(a.bf16)
            } else {
                a.bf16
            };
            ctx.within(
                &format!("{p}.{name}"),
                c.flops(),
                0.0,
                peak.flops(),
                "a measured matmul ceiling (at most the peak)",
            )?;
        }
    }
    Ok(())
}

fn validate_system(
    ctx: &Ctx,
    p: &str,
    s: &System,
    a: &Accelerator,
    u: &ScaleUp,
) -> Result<(), SpecError> {
    ctx.positive(
        &format!("{p}.gpus_per_node"),
        s.gpus_per_node as f64,
        "gpus_per_node",
    )?;
    ctx.positive(
        &format!("{p}.scale_up_domain"),
        s.scale_up_domain as f64,
        "scale_up_domain",
    )?;
    if s.scale_up_domain % s.gpus_per_node != 0 {
        return Err(ctx.err(
            &format!("{p}.scale_up_domain"),
            format!(
                "scale-up domain of {} GPUs is not a whole number of {}-GPU nodes",
                s.scale_up_domain, s.gpus_per_node
            ),
        ));
    }
    let gpu_w = a.tdp.w() * s.gpus_per_node as f64;
    if s.node_power.w() < gpu_w {
        return Err(ctx.err(
            &format!("{p}.node_power"),
            format!(
                "node power {:.0} W is below its {} accelerators' TDP ({:.0} W)",
                s.node_power.w(),
                s.gpus_per_node,
                gpu_w
            ),
        ));
    }
    ctx.positive(
        &format!("{p}.nic_bandwidth"),
        s.nic_bandwidth.bits_per_s(),
        "NIC bandwidth",
    )?;
    ctx.non_negative(&format!("{p}.node_price"), s.node_price.usd(), "node price")?;
    ctx.positive(
        &format!("{p}.scale_up.bandwidth"),
        u.bandwidth.bits_per_s(),
        "scale-up bandwidth",
    )?;
    ctx.non_negative(
        &format!("{p}.scale_up.latency"),
        u.latency.s(),
        "scale-up latency",
    )?;
    Ok(())
}

fn validate_fabric(ctx: &Ctx, p: &str, f: &Fabric) -> Result<(), SpecError> {
    ctx.positive(
        &format!("{p}.link_rate"),
        f.link_rate.bits_per_s(),
        "link rate",
    )?;
    ctx.within(&format!("{p}.tiers"), f.tiers as f64, 1.0, 4.0, "tiers")?;
    if !(f.oversubscription >= 1.0 && f.oversubscription.is_finite()) {
        return Err(ctx.err(
            &format!("{p}.oversubscription"),
            format!(
                "oversubscription is a ratio of at least 1 (1 = non-blocking), got {}",
                f.oversubscription
            ),
        ));
    }
    ctx.within(
        &format!("{p}.radix"),
        f.radix as f64,
        4.0,
        4096.0,
        "switch radix",
    )?;
    ctx.non_negative(
        &format!("{p}.hop_latency"),
        f.hop_latency.s(),
        "hop latency",
    )?;
    ctx.non_negative(
        &format!("{p}.cost_per_port"),
        f.cost_per_port.usd(),
        "cost per port",
    )?;
    Ok(())
}

fn validate_cooling(ctx: &Ctx, p: &str, c: &mut Cooling) -> Result<(), SpecError> {
    // The physical design: the entry's (inherited through `from`), else its name when that is one
    // of the designs; never a silent stand-in.
    if c.design.is_empty() && COOLING_DESIGNS.contains(&c.name.as_str()) {
        c.design = c.name.clone();
    }
    if !COOLING_DESIGNS.contains(&c.design.as_str()) {
        let msg = if c.design.is_empty() {
            format!(
                "cooling `{}` names no design: set design to one of {}",
                c.name,
                COOLING_DESIGNS.join(", ")
            )
        } else {
            format!(
                "unknown cooling design `{}`: one of {}",
                c.design,
                COOLING_DESIGNS.join(", ")
            )
        };
        return Err(ctx
            .err(&format!("{p}.design"), msg)
            .with_hint(did_you_mean(&c.design, COOLING_DESIGNS.iter().copied())));
    }
    if let Some(ch) = c.chiller_it {
        ctx.positive(&format!("{p}.chiller_it"), ch.w(), "IT power per chiller")?;
    }
    if !(c.pue >= 1.0 && c.pue < 5.0) {
        return Err(ctx.err(
            &format!("{p}.pue"),
            format!("PUE is facility energy over IT energy and cannot be below 1 (or absurdly high), got {}", c.pue),
        ));
    }
    ctx.non_negative(&format!("{p}.wue"), c.wue.l_per_kwh(), "water use")?;
    Ok(())
}

fn validate_cost(ctx: &Ctx, c: &CostDefaults) -> Result<(), SpecError> {
    ctx.non_negative("cost.facility", c.facility.usd_per_w(), "facility cost")?;
    ctx.within(
        "cost.other_it_fraction",
        c.other_it_fraction.fraction(),
        0.0,
        1.0,
        "other IT fraction",
    )?;
    ctx.within(
        "cost.training_draw_fraction",
        c.training_draw_fraction.fraction(),
        0.0,
        1.0,
        "training draw fraction",
    )?;
    ctx.within(
        "cost.cost_of_capital",
        c.cost_of_capital.fraction(),
        0.0,
        1.0,
        "cost of capital",
    )?;
    for (f, d) in [
        ("depreciation_it", c.depreciation_it),
        ("depreciation_network", c.depreciation_network),
        ("depreciation_facility", c.depreciation_facility),
        ("depreciation_battery", c.depreciation_battery),
        ("depreciation_generation", c.depreciation_generation),
    ] {
        ctx.positive(&format!("cost.{f}"), d.s(), "a depreciation life")?;
    }
    for (f, m) in [
        ("maintenance_per_node_year", c.maintenance_per_node_year),
        ("software_per_node_year", c.software_per_node_year),
        ("network_opex_per_node_year", c.network_opex_per_node_year),
    ] {
        ctx.non_negative(&format!("cost.{f}"), m.usd(), "a cost")?;
    }
    ctx.non_negative("cost.battery", c.battery.usd_per_mwh(), "battery cost")?;
    if let Some(g) = c.generation {
        ctx.non_negative("cost.generation", g.usd_per_w(), "generation cost")?;
    }
    ctx.non_negative("cost.gas", c.gas.usd_per_mmbtu(), "gas price")?;
    ctx.non_negative(
        "cost.grid_co2",
        c.grid_co2.kg_per_mwh(),
        "grid CO2 intensity",
    )?;
    for (f, v) in [
        ("debt_share", c.debt_share),
        ("cost_of_debt", c.cost_of_debt),
        ("cost_of_equity", c.cost_of_equity),
        ("tax_rate", c.tax_rate),
        ("partner_return", c.partner_return),
    ] {
        ctx.within(
            &format!("cost.{f}"),
            v.fraction(),
            0.0,
            1.0,
            "a rate or share",
        )?;
    }
    ctx.positive("cost.horizon", c.horizon.s(), "the programme horizon")?;
    ctx.non_negative(
        "cost.electricity",
        c.electricity.usd_per_mwh(),
        "electricity price",
    )?;
    Ok(())
}
