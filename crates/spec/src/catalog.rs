//! The hardware, model, cost, grid-code, climate and reliability catalogue: plain data types and the embedded TOML files.
//!
//! A catalogue file has one top-level table per kind (`accelerator`, `system`, `scale_up`, `fabric`,
//! `cooling`, `model`, `cost`, `region`, `grid_code`, `climate`, `reliability`), each holding
//! entries keyed by name. An entry may start from
//! another with `from = "name"` and override fields. Every entry cites its `source`.
//! The embedded files live in `crates/spec/catalog/`; users add files of the same shape with
//! `catalog = ["my.toml"]` in a scenario or `--catalog FILE` on the command line.

use crate::error::{did_you_mean, SpecError};
use crate::units::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An accelerator (GPU, TPU, Trainium chip). Peak rates are dense (no sparsity).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Accelerator {
    #[serde(skip_deserializing)]
    pub name: String,
    pub vendor: String,
    /// Architecture generation, e.g. "ampere", "hopper", "blackwell".
    pub generation: String,
    /// Dense BF16 peak.
    pub bf16: FlopRate,
    /// Dense FP8 peak; absent where the chip has no FP8 (then FP8 runs at the BF16 rate).
    #[serde(default)]
    pub fp8: Option<FlopRate>,
    /// HBM capacity usable by the job.
    pub hbm: Bytes,
    pub hbm_bandwidth: Bandwidth,
    /// Scale-up bandwidth per accelerator, both directions added, as vendors state it
    /// (NVLink 4: 900 GB/s = 450 GB/s each way).
    pub scale_up_bandwidth: Bandwidth,
    /// Maximum board power (TDP / TGP).
    pub tdp: Power,
    /// Best measured dense matmul throughput (MAMF), a ceiling for any efficiency curve.
    #[serde(default)]
    pub matmul_ceiling_bf16: Option<FlopRate>,
    #[serde(default)]
    pub matmul_ceiling_fp8: Option<FlopRate>,
    pub source: String,
}

/// A server or rack-scale system: the unit that is bought, powered and fails.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct System {
    #[serde(skip_deserializing)]
    pub name: String,
    /// Accelerator name in the catalogue.
    pub accelerator: String,
    /// Scale-up interconnect name in the catalogue.
    pub scale_up: String,
    pub gpus_per_node: u32,
    /// Accelerators in one scale-up (NVLink / ICI / NeuronLink) domain.
    pub scale_up_domain: u32,
    /// Nameplate power of one node, accelerators, CPUs, NICs, fans and the node's share of
    /// in-rack switches and power shelves included.
    pub node_power: Power,
    /// Scale-out NIC bandwidth per accelerator.
    pub nic_bandwidth: Bandwidth,
    /// Purchase price of one node (servers only; networking and facility are separate).
    pub node_price: Money,
    /// Needs liquid cooling (rack-scale Blackwell systems).
    #[serde(default)]
    pub liquid_cooled: bool,
    pub source: String,
}

/// A scale-up interconnect generation (NVLink, ICI, Infinity Fabric, NeuronLink).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScaleUp {
    #[serde(skip_deserializing)]
    pub name: String,
    /// Per-accelerator bandwidth, both directions added.
    pub bandwidth: Bandwidth,
    /// One-way latency of a small message across the domain.
    pub latency: Duration,
    pub source: String,
}

/// A scale-out fabric: a (rail-optimised) folded Clos of switches.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fabric {
    #[serde(skip_deserializing)]
    pub name: String,
    /// "infiniband" or "ethernet".
    pub technology: String,
    /// Link rate per accelerator (one NIC port per GPU).
    pub link_rate: Bandwidth,
    /// Switch tiers (2 or 3).
    pub tiers: u32,
    /// Oversubscription above the leaf tier (1 = non-blocking, 2 = 2:1).
    pub oversubscription: f64,
    /// Ports per switch at `link_rate`.
    pub radix: u32,
    /// Latency per switch hop, cable included.
    pub hop_latency: Duration,
    /// Cost of one switch port with its transceivers and cable share; the fabric's cost per GPU is
    /// this times the ports each GPU uses across the tiers.
    pub cost_per_port: Money,
    pub source: String,
}

/// The physical cooling designs the power model knows (`Cooling::design`).
pub const COOLING_DESIGNS: &[&str] = &["air-chillers", "direct-liquid", "evaporative"];

/// A cooling design: power usage effectiveness and water use.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Cooling {
    #[serde(skip_deserializing)]
    pub name: String,
    pub description: String,
    /// The physical design the hourly cooling model runs, one of [`COOLING_DESIGNS`]; an entry
    /// made `from` another inherits it. Resolution fills it from the name when an entry leaves it
    /// out and its name is one of the designs.
    #[serde(default)]
    pub design: String,
    /// IT power one chiller serves; `None`: the cooling model's sourced default.
    #[serde(default)]
    pub chiller_it: Option<Power>,
    /// Annual-average PUE (facility energy / IT energy), at least 1.
    pub pue: f64,
    /// Site water use per unit of IT energy (WUE).
    pub wue: WaterPerEnergy,
    pub source: String,
}

/// Multi-head latent attention dimensions (DeepSeek-V2/V3).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mla {
    /// Query low-rank dimension (0: no query compression).
    pub q_lora_rank: u32,
    pub kv_lora_rank: u32,
    pub qk_nope_head_dim: u32,
    pub qk_rope_head_dim: u32,
    pub v_head_dim: u32,
}

/// Mixture-of-experts feed-forward layers.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Moe {
    pub routed_experts: u32,
    #[serde(default)]
    pub shared_experts: u32,
    pub top_k: u32,
    /// Intermediate size of one expert.
    pub expert_ffn: u32,
    /// The first `dense_layers` layers use a dense FFN of size `ffn` instead of experts.
    #[serde(default)]
    pub dense_layers: u32,
}

/// A transformer's architecture. Parameter counts are computed by the step model; `params` is the
/// published figure, kept to check that computation.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelArch {
    #[serde(skip_deserializing)]
    pub name: String,
    pub layers: u32,
    pub hidden: u32,
    pub heads: u32,
    /// Key/value heads (GQA); equal to `heads` for MHA.
    #[serde(default)]
    pub kv_heads: Option<u32>,
    /// Per-head dimension; `hidden / heads` when absent.
    #[serde(default)]
    pub head_dim: Option<u32>,
    /// Dense FFN intermediate size.
    pub ffn: u32,
    pub vocab: u32,
    /// Gated MLP (SwiGLU: three matrices) rather than two.
    #[serde(default)]
    pub gated_mlp: bool,
    #[serde(default)]
    pub tied_embeddings: bool,
    #[serde(default)]
    pub mla: Option<Mla>,
    #[serde(default)]
    pub moe: Option<Moe>,
    /// Sequence length of pre-training.
    pub seq: u32,
    /// Published total parameters.
    pub params: Count,
    /// Published active parameters per token (MoE).
    #[serde(default)]
    pub active_params: Option<Count>,
    pub source: String,
}

impl ModelArch {
    pub fn kv_heads(&self) -> u32 {
        self.kv_heads.unwrap_or(self.heads)
    }
    pub fn head_dim(&self) -> u32 {
        self.head_dim.unwrap_or(self.hidden / self.heads.max(1))
    }
}

/// Cost and planning defaults. Every field can be overridden in a scenario's `[cost]` table.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CostDefaults {
    #[serde(skip_deserializing)]
    pub name: String,
    /// Facility construction per watt of critical IT load.
    pub facility: PowerPrice,
    /// Non-server IT (switches, storage, management) as a fraction of server power.
    pub other_it_fraction: Fraction,
    /// Average power drawn while training, as a fraction of nameplate IT power.
    pub training_draw_fraction: Fraction,
    pub depreciation_it: Duration,
    pub depreciation_network: Duration,
    pub depreciation_facility: Duration,
    pub depreciation_battery: Duration,
    pub depreciation_generation: Duration,
    /// Annual cost of capital (0: pre-financing figures).
    pub cost_of_capital: Fraction,
    pub maintenance_per_node_year: Money,
    pub software_per_node_year: Money,
    pub network_opex_per_node_year: Money,
    /// Installed battery storage per unit of energy capacity.
    pub battery: EnergyPrice,
    /// Installed on-site generation per unit of power capacity, replacing the generator class's
    /// capex when set (`None`: each class's own).
    #[serde(default)]
    pub generation: Option<PowerPrice>,
    /// The generator class of a site's `generation` given as a plain power.
    pub generator: String,
    /// Natural-gas price for on-site generation where a site names none.
    pub gas: FuelPrice,
    /// CO2 intensity of grid electricity where the site's region gives none.
    pub grid_co2: EmissionRate,
    /// Financing: share of capex paid with debt, its rate, the equity's required return and the
    /// tax rate (interest is deductible).
    pub debt_share: Fraction,
    pub cost_of_debt: Fraction,
    pub cost_of_equity: Fraction,
    pub tax_rate: Fraction,
    /// The return a cloud partner that absorbs the capex targets (rent versus own).
    pub partner_return: Fraction,
    /// Years a programme's money is laid out over.
    pub horizon: Duration,
    /// Electricity price where a site names none.
    pub electricity: EnergyPrice,
    /// Accelerator used as the unit of "H100-equivalents".
    pub reference_accelerator: String,
    pub source: String,
}

/// An electricity market.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Region {
    #[serde(skip_deserializing)]
    pub name: String,
    pub electricity: EnergyPrice,
    /// CO2 intensity of the region's grid electricity.
    #[serde(default)]
    pub co2: Option<EmissionRate>,
    pub source: String,
}

/// An on-site generation class (gas turbines, engines, fuel cells): what one unit is, what it
/// costs to build and run, how fast it follows a load, the lowest load it holds and how long it
/// takes to get.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Generator {
    #[serde(skip_deserializing)]
    pub name: String,
    pub description: String,
    /// Rating of one unit; a fleet is a whole number of units.
    pub unit: Power,
    /// Overnight capital cost per unit of capacity.
    pub capex: PowerPrice,
    /// Fixed operation and maintenance per unit of capacity and year.
    pub fixed_om: PowerPrice,
    /// Variable operation and maintenance per unit of energy generated.
    pub variable_om: EnergyPrice,
    /// Fuel per unit of electricity (higher heating value).
    pub heat_rate: HeatRate,
    /// Largest change of output of the running units, as a share of their capacity.
    pub ramp: RelativeRamp,
    /// Lowest stable output of the running units, as a share of their capacity.
    pub min_load: Fraction,
    /// From order (or decision) to power.
    pub lead_time: Duration,
    pub source: String,
}

/// A long-lead item of a campus build: its typical time from order to delivery and the range
/// the sources give.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LeadTime {
    #[serde(skip_deserializing)]
    pub name: String,
    pub description: String,
    pub typical: Duration,
    pub low: Duration,
    pub high: Duration,
    pub source: String,
}

/// A published rent of one accelerator, per GPU-hour.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rental {
    #[serde(skip_deserializing)]
    pub name: String,
    /// Accelerator name in the catalogue.
    pub accelerator: String,
    /// Price per GPU-hour.
    pub hourly: Money,
    /// What was priced: on demand, a reserved term, a contract index.
    pub terms: String,
    /// When (`"YYYY-MM"`).
    pub date: String,
    pub source: String,
}

/// A grid code: the rules a utility sets for a large load. Absent fields are rules not checked.
/// A scenario overrides any field in `[power] grid` (same names).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct GridCode {
    #[serde(skip_deserializing)]
    pub name: String,
    pub description: String,
    /// The rules apply when the site's peak grid import reaches this (0: always).
    #[serde(default)]
    pub large_load: Power,
    /// Largest rise of the metered load.
    #[serde(default)]
    pub ramp_up: Option<PowerRamp>,
    /// Largest fall of the metered load.
    #[serde(default)]
    pub ramp_down: Option<PowerRamp>,
    /// Metering window: the load is averaged over it before ramps are taken.
    #[serde(default)]
    pub ramp_window: Option<Duration>,
    /// Largest max-min inside one metering window, as a share of the peak.
    #[serde(default)]
    pub dynamic_range: Option<Fraction>,
    /// The critical band of the spectrum.
    #[serde(default)]
    pub band_low: Option<Frequency>,
    #[serde(default)]
    pub band_high: Option<Frequency>,
    /// Largest share of spectral energy (DC included) inside the band.
    #[serde(default)]
    pub band_limit: Option<Fraction>,
    /// Largest load that may be lost at once.
    #[serde(default)]
    pub load_loss: Option<Power>,
    pub source: String,
}

/// A climate for the cooling model: monthly normals of the daily maximum and minimum dry-bulb
/// temperature (deg F, as NOAA publishes them) and an annual mean relative humidity.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Climate {
    #[serde(skip_deserializing)]
    pub name: String,
    pub description: String,
    /// Words that pick this climate for a site whose electricity region (or, without one, whose
    /// name) contains one of them.
    #[serde(default)]
    pub matches: Vec<String>,
    pub max_f: [f64; 12],
    pub min_f: [f64; 12],
    pub humidity: Fraction,
    pub source: String,
}

/// What a reliability failure is counted against in the report.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    Gpu,
    Hardware,
    Host,
    Network,
    Power,
    Software,
    UnplannedMaintenance,
    Unknown,
}

/// The element a failure rate is counted per, and what the failure takes out.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FailureScope {
    /// Per GPU-hour; takes out the GPU's node.
    Gpu,
    /// Per node-hour; takes out the node.
    Node,
    /// Per rack-hour (a ToR switch and its cables); takes out the rack's nodes.
    Rack,
    /// Per hall-hour (a power or cooling domain); takes out the hall's nodes.
    Hall,
    /// Per job-hour, whatever the job's size.
    Job,
    /// Per node-hour, nothing removed (software and transient faults).
    NodeTransient,
}

/// One failure class of a reliability preset: `failures` per `exposure` of its element.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FailureClassEntry {
    pub name: String,
    pub cause: FailureCause,
    pub scope: FailureScope,
    pub failures: f64,
    /// Element-time the failures were counted over (GPU-hours for `scope = "gpu"`, …).
    pub exposure: Duration,
    /// The failed element's nodes go to repair (hardware) rather than straight back.
    pub removes_nodes: bool,
    pub source: String,
}

impl FailureClassEntry {
    /// Failures per element-hour.
    pub fn rate_per_hour(&self) -> f64 {
        self.failures / (self.exposure.s() / 3600.0)
    }
}

/// Lifetime distribution of node hardware: `"exponential"`, `{ weibull = shape }` or
/// `{ lognormal = sigma }`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Lifetime {
    #[default]
    Exponential,
    Weibull(f64),
    Lognormal(f64),
}

/// A share of nodes that fail `multiplier` times as often.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BadNodes {
    pub fraction: Fraction,
    pub multiplier: f64,
}

/// Silent data corruption: defective GPUs, their corruption rate, the detection delay.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SdcEntry {
    pub prevalence: Fraction,
    /// Corruption events per defective GPU-hour.
    pub trigger: f64,
    pub detect: Duration,
}

/// Planned maintenance: the job stops every `every` for `duration`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceEntry {
    pub every: Duration,
    pub duration: Duration,
}

/// The restart chain after an interruption.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RecoveryEntry {
    pub detect: Duration,
    pub diagnose: Duration,
    pub standby_swap: Duration,
    pub host_selection: Duration,
    pub preemption_wait: Duration,
    pub fixed: Duration,
    /// Communicator re-initialisation at `reinit_gpus` GPUs, scaling with `reinit_exponent`.
    pub reinit: Duration,
    pub reinit_gpus: f64,
    pub reinit_exponent: f64,
}

/// The repair pipeline: automatic repair, escalation to manual, false repairs.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RepairEntry {
    pub auto: Duration,
    pub manual: Duration,
    pub p_manual: f64,
    pub p_auto_false: f64,
    pub p_manual_false: f64,
}

/// A reliability preset: failure classes with their rates, lifetime, bad nodes, SDC, maintenance,
/// the restart chain and the repair pipeline.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReliabilityPreset {
    #[serde(skip_deserializing)]
    pub name: String,
    pub description: String,
    #[serde(rename = "class")]
    pub classes: Vec<FailureClassEntry>,
    pub lifetime: Lifetime,
    pub bad_nodes: BadNodes,
    pub sdc: SdcEntry,
    #[serde(default)]
    pub maintenance: Option<MaintenanceEntry>,
    pub recovery: RecoveryEntry,
    pub repair: RepairEntry,
    /// Whether the job's nodes and software can fail while it restarts or waits.
    pub failures_while_down: bool,
    /// Nodes per ToR switch in the preset's layout.
    pub nodes_per_rack: u32,
    pub source: String,
}

/// The catalogue kinds, in file order.
pub const KINDS: &[&str] = &[
    "accelerator",
    "system",
    "scale_up",
    "fabric",
    "cooling",
    "model",
    "cost",
    "region",
    "grid_code",
    "climate",
    "reliability",
    "generator",
    "lead_time",
    "rental",
];

/// The embedded catalogue files.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "accelerators.toml",
        include_str!("../catalog/accelerators.toml"),
    ),
    ("systems.toml", include_str!("../catalog/systems.toml")),
    ("fabrics.toml", include_str!("../catalog/fabrics.toml")),
    ("cooling.toml", include_str!("../catalog/cooling.toml")),
    ("models.toml", include_str!("../catalog/models.toml")),
    ("costs.toml", include_str!("../catalog/costs.toml")),
    (
        "grid_codes.toml",
        include_str!("../catalog/grid_codes.toml"),
    ),
    ("climates.toml", include_str!("../catalog/climates.toml")),
    (
        "reliability.toml",
        include_str!("../catalog/reliability.toml"),
    ),
    (
        "generators.toml",
        include_str!("../catalog/generators.toml"),
    ),
    (
        "lead_times.toml",
        include_str!("../catalog/lead_times.toml"),
    ),
    ("rentals.toml", include_str!("../catalog/rentals.toml")),
];

/// One raw catalogue entry, kept as TOML so that scenarios can override any field before it is
/// typed. `file` and `src` let errors point into the file that defined it.
#[derive(Clone, Debug)]
pub struct RawEntry {
    pub table: toml::Table,
    pub file: String,
}

/// The catalogue: raw entries by kind and name. Typed views come from [`Catalog::get`].
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    entries: BTreeMap<String, BTreeMap<String, RawEntry>>,
    sources: BTreeMap<String, String>,
    /// Entries already typed, by kind and name (a scenario that names an entry without overrides
    /// gets the same value every time; a sweep resolves millions of scenarios). Shared by clones,
    /// replaced whenever entries change.
    typed: TypedCache,
}

type Typed = std::collections::HashMap<
    (&'static str, String),
    std::sync::Arc<dyn std::any::Any + Send + Sync>,
>;

#[derive(Clone, Default)]
struct TypedCache(std::sync::Arc<std::sync::RwLock<Typed>>);

impl std::fmt::Debug for TypedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TypedCache")
    }
}

impl Catalog {
    /// A typed entry resolved before, by name (no overrides).
    pub(crate) fn cached<T: Entry + Clone + Send + Sync + 'static>(&self, name: &str) -> Option<T> {
        let m = self.typed.0.read().ok()?;
        m.get(&(T::KIND, name.to_string()))
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }

    pub(crate) fn remember<T: Entry + Clone + Send + Sync + 'static>(&self, name: &str, v: &T) {
        if let Ok(mut m) = self.typed.0.write() {
            m.insert((T::KIND, name.to_string()), std::sync::Arc::new(v.clone()));
        }
    }
}

/// Types that are catalogue entries.
pub trait Entry: for<'de> Deserialize<'de> {
    const KIND: &'static str;
    fn set_name(&mut self, name: &str);
}

macro_rules! entry {
    ($t:ty, $kind:literal) => {
        impl Entry for $t {
            const KIND: &'static str = $kind;
            fn set_name(&mut self, name: &str) {
                self.name = name.to_string();
            }
        }
    };
}
entry!(Accelerator, "accelerator");
entry!(System, "system");
entry!(ScaleUp, "scale_up");
entry!(Fabric, "fabric");
entry!(Cooling, "cooling");
entry!(ModelArch, "model");
entry!(CostDefaults, "cost");
entry!(Region, "region");
entry!(GridCode, "grid_code");
entry!(Climate, "climate");
entry!(ReliabilityPreset, "reliability");
entry!(Generator, "generator");
entry!(LeadTime, "lead_time");
entry!(Rental, "rental");

impl Catalog {
    /// The embedded catalogue. Its files are tested to load; an error here is a build defect.
    pub fn embedded() -> Catalog {
        let mut c = Catalog::default();
        for (file, src) in EMBEDDED {
            c.add_file(&format!("<catalogue>/{file}"), src)
                .unwrap_or_else(|e| panic!("embedded catalogue is invalid: {e}"));
        }
        c
    }

    /// Add a catalogue file (entries with the same kind and name replace earlier ones).
    pub fn add_file(&mut self, file: &str, src: &str) -> Result<(), SpecError> {
        // entries may change: typed values resolved before no longer hold (a fresh cache, so
        // clones made before keep theirs)
        self.typed = TypedCache::default();
        let doc: toml::Table = toml::from_str(src).map_err(|e| {
            SpecError::new(
                file,
                "",
                format!("malformed TOML: {}", crate::error::toml_message(&e, src)),
            )
            .at_span(src, e.span())
        })?;
        for (kind, v) in doc {
            if !KINDS.contains(&kind.as_str()) {
                return Err(SpecError::new(file, &kind, "unknown catalogue kind")
                    .with_hint(did_you_mean(&kind, KINDS.iter().copied()))
                    .at_span(src, crate::locate::span_of(src, &kind)));
            }
            let toml::Value::Table(entries) = v else {
                return Err(SpecError::new(
                    file,
                    &kind,
                    "expected a table of named entries, e.g. [accelerator.my-gpu]",
                )
                .at_span(src, crate::locate::span_of(src, &kind)));
            };
            for (name, e) in entries {
                let path = format!("{kind}.{name}");
                let toml::Value::Table(table) = e else {
                    return Err(SpecError::new(file, &path, "expected a table")
                        .at_span(src, crate::locate::span_of(src, &path)));
                };
                self.entries.entry(kind.clone()).or_default().insert(
                    name.clone(),
                    RawEntry {
                        table,
                        file: file.to_string(),
                    },
                );
            }
        }
        self.sources.insert(file.to_string(), src.to_string());
        Ok(())
    }

    /// Names of the entries of one kind.
    pub fn names(&self, kind: &str) -> Vec<&str> {
        self.entries
            .get(kind)
            .map(|m| m.keys().map(|s| s.as_str()).collect())
            .unwrap_or_default()
    }

    /// The raw table of an entry with its `from` chain applied.
    pub fn raw(&self, kind: &str, name: &str) -> Result<toml::Table, String> {
        let mut seen = vec![];
        self.raw_inner(kind, name, &mut seen)
    }

    fn raw_inner(
        &self,
        kind: &str,
        name: &str,
        seen: &mut Vec<String>,
    ) -> Result<toml::Table, String> {
        if seen.iter().any(|s| s == name) {
            return Err(format!("`from` chain loops through {kind} `{name}`"));
        }
        seen.push(name.to_string());
        let Some(entry) = self.entries.get(kind).and_then(|m| m.get(name)) else {
            let hint = did_you_mean(name, self.names(kind));
            return Err(format!(
                "no {} named `{}` in the catalogue{}",
                kind.replace('_', "-"),
                name,
                hint.map(|h| format!(" ({h})"))
                    .unwrap_or_else(|| format!(" (known: {})", self.names(kind).join(", ")))
            ));
        };
        let mut table = entry.table.clone();
        if let Some(from) = table.remove("from") {
            let toml::Value::String(base) = from else {
                return Err(format!("{kind} `{name}`: `from` must be a name"));
            };
            let mut merged = self.raw_inner(kind, &base, seen)?;
            overlay(&mut merged, table);
            table = merged;
        }
        Ok(table)
    }

    /// Which file defined an entry.
    pub fn file_of(&self, kind: &str, name: &str) -> Option<&str> {
        self.entries
            .get(kind)
            .and_then(|m| m.get(name))
            .map(|e| e.file.as_str())
    }

    /// A typed entry by name.
    pub fn get<T: Entry>(&self, name: &str) -> Result<T, SpecError> {
        let file = self
            .file_of(T::KIND, name)
            .unwrap_or("<catalogue>")
            .to_string();
        let table = self
            .raw(T::KIND, name)
            .map_err(|m| SpecError::new(&file, "", m))?;
        let path = format!("{}.{}", T::KIND, name);
        typed_from_table::<T>(table, name).map_err(|(sub, msg)| {
            let full = if sub.is_empty() {
                path.clone()
            } else {
                format!("{path}.{sub}")
            };
            let src = self.sources.get(&file).map(|s| s.as_str()).unwrap_or("");
            let span =
                crate::locate::span_of(src, &full).or_else(|| crate::locate::span_of(src, &path));
            let hint = unknown_field_hint(&msg);
            SpecError::new(&file, &full, msg)
                .with_hint(hint)
                .at_span(src, span)
        })
    }
}

/// Apply an override to an entry: each field of `over` replaces the base's, except that a table
/// over a table is applied field by field, so `moe = { routed_experts = 512 }` changes one field
/// of the base's `moe` and keeps the others.
pub(crate) fn overlay(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => overlay(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Deserialize a typed entry from a (merged) table; errors give the field path inside the entry.
pub(crate) fn typed_from_table<T: Entry>(
    table: toml::Table,
    name: &str,
) -> Result<T, (String, String)> {
    let v = toml::Value::Table(table);
    let mut t: T = serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        (path, e.into_inner().message().to_string())
    })?;
    t.set_name(name);
    Ok(t)
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" messages: a "did you mean".
pub(crate) fn unknown_field_hint(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("unknown field `")?;
    let (field, rest) = rest.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    did_you_mean(field, expected)
}
