//! The scenario reference: every table and field a scenario file may hold, with its type, unit,
//! default, whether it is required and its allowed values. `docs/scenario.md` is [`markdown`]'s
//! output (`megacluster init --reference` prints it), and the tests check that the tables here
//! list exactly the fields the parser accepts (`tests/reference.rs`), so the two cannot drift.
//!
//! Defaults that a model supplies (failure rates, restart timings, the designs' timings) are
//! written as "model default" with where to read them; the sourced value lives once, in the model
//! or the catalogue.

use crate::catalog::Catalog;

/// One field of a table.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    /// TOML type and the value forms accepted ("quantity", "count", "string", …).
    pub kind: &'static str,
    /// Units a quantity accepts (any unit of that kind converts), or "".
    pub unit: &'static str,
    /// Default when absent; "" for a required field.
    pub default: &'static str,
    pub required: bool,
    /// Allowed values: a list, a range, or `catalogue: KIND` for the catalogue's entries.
    pub allowed: &'static str,
    pub about: &'static str,
}

/// A table of the scenario file (`""` the top level; `[[site]]` tables are arrays).
#[derive(Clone, Copy, Debug)]
pub struct Table {
    /// Dotted path as written in the file (`site.hall`, `power.mitigation`).
    pub path: &'static str,
    /// How the table is written (`[[site]]`, `[job]`, or inline `key = { … }`).
    pub written: &'static str,
    pub about: &'static str,
    pub fields: &'static [Field],
}

const fn f(
    name: &'static str,
    kind: &'static str,
    unit: &'static str,
    default: &'static str,
    allowed: &'static str,
    about: &'static str,
) -> Field {
    Field {
        name,
        kind,
        unit,
        default,
        required: false,
        allowed,
        about,
    }
}

const fn req(
    name: &'static str,
    kind: &'static str,
    unit: &'static str,
    allowed: &'static str,
    about: &'static str,
) -> Field {
    Field {
        name,
        kind,
        unit,
        default: "",
        required: true,
        allowed,
        about,
    }
}

const POWER: &str = "W, kW, MW, GW";
const ENERGY: &str = "J, kJ, MJ, Wh, kWh, MWh, GWh";
const TIME: &str = "ns, us, µs, ms, s, min, h, d";
const FRACTION: &str = "a number in 0..1 or \"85%\"";
const RAMP: &str = "W/s, kW/s, MW/s, W/min, MW/min";
const BANDWIDTH: &str = "bps, Gbps, Tbps, bit/s, B/s, GB/s";
const COUNT: &str = "a number, or a string with a power-of-1,000 suffix: \"100k\", \"16M\" (16,000,000), \"15.6T\" (k, M, B or G, T)";

/// Every table of a scenario, in the order a file usually holds them.
pub const TABLES: &[Table] = &[
    Table {
        path: "",
        written: "top level",
        about: "The scenario's name, seed, extra catalogue files and cost overrides.",
        fields: &[
            req("name", "string", "", "", "Shown in every report's title."),
            f("description", "string", "", "\"\"", "", "Free text."),
            f("seed", "integer", "", "1", "0 .. 2⁶⁴−1", "Seed of every random draw: the same seed gives the same bytes."),
            f("catalog", "array of strings", "", "[]", "paths", "Extra catalogue files, relative to the scenario file (same shape as `crates/spec/catalog/*.toml`)."),
            f("cost", "catalogue reference (inline table)", "", "\"default\"", "catalogue: cost", "Overrides of the cost defaults, e.g. `cost = { facility = \"$9.3M/MW\" }`."),
            req("site", "array of tables", "", "[[site]], at least one", "The sites (see `site`)."),
            f("link", "array of tables", "", "none", "[[link]]", "Fiber routes between sites (see `link`)."),
            f("job", "table", "", "none", "[job]", "The training job (see `job`)."),
            f("reliability", "table", "", "every default", "[reliability]", "Failures and recovery (see `reliability`)."),
            f("power", "table", "", "every default", "[power]", "The power study (see `power`)."),
            f("programme", "table", "", "every default", "[programme]", "The campus's money over the years (see `programme`)."),
        ],
    },
    Table {
        path: "site",
        written: "[[site]] (one or more)",
        about: "A site: its grid connection, on-site generation and storage, cooling, electricity price and halls. Several sites need [[link]]s or are joined all to all.",
        fields: &[
            req("name", "string", "", "unique among sites", "Names the site in links and reports; also matched against climates."),
            f("grid", "quantity", POWER, "none (no grid limit checked)", "≥ 0", "Grid connection; the plan reports the GPUs it feeds."),
            f("generation", "quantity or inline table", POWER, "none", "≥ 0, or see `site.generation`", "On-site generation beside the grid: a capacity of the cost default's generator class, or a class, capacity and gas price."),
            f("export", "quantity", POWER, "0 W", "≥ 0", "Largest export to the grid the connection allows."),
            f("start", "string", "year-month", "none", "\"2024-05\"", "The month the site's long-lead items are ordered; phase dates count from it."),
            f("lead_times", "inline table of quantities", TIME, "the catalogue's", "catalogue: lead_time names, or `generation`", "Overrides of catalogue lead times."),
            f("phase", "array of tables", "", "none: the site is built at once", "[[site.phase]]", "The site's build-out in phases (see `site.phase`)."),
            f("battery", "inline table", "", "none", "see `site.battery`", "A site battery."),
            f("cooling", "catalogue reference", "", "\"direct-liquid\"", "catalogue: cooling", "Cooling design; inline overrides `{ from = \"evaporative\", pue = 1.2 }`."),
            f("electricity", "string", "", "the cost default's price", "catalogue: region, or a price \"$65/MWh\"", "Electricity price."),
            f("facility", "quantity", "$/W, $/MW, $M/MW", "the cost default", "> 0", "Facility construction cost per watt of critical IT."),
            req("hall", "array of tables", "", "[[site.hall]], at least one", "The halls of the site."),
        ],
    },
    Table {
        path: "site.battery",
        written: "battery = { … } in a [[site]]",
        about: "A site battery.",
        fields: &[
            req("power", "quantity", POWER, "> 0", "Charge and discharge power."),
            req("energy", "quantity", ENERGY, "> 0", "Stored energy."),
            f("efficiency", "fraction", "", "the power model's default", FRACTION, "Round-trip efficiency."),
        ],
    },
    Table {
        path: "site.generation",
        written: "generation = { … } in a [[site]]",
        about: "On-site generation of a class from the catalogue.",
        fields: &[
            f("class", "catalogue reference", "", "the cost default's generator", "catalogue: generator", "Generator class (lead time, heat rate, costs)."),
            req("capacity", "quantity", POWER, "≥ 0", "Installed capacity."),
            f("gas", "quantity", "$/MMBtu", "the cost default's", "≥ 0", "Fuel price."),
        ],
    },
    Table {
        path: "site.phase",
        written: "[[site.phase]] in a [[site]]",
        about: "One phase of the site's build-out; the site's own figures are the final build.",
        fields: &[
            f("name", "string", "", "\"phase-N\"", "", "Names the phase in reports."),
            f("date", "string", "year-month", "none", "\"2024-09\"; or give `month`", "When the phase is energised."),
            f("month", "number", "months", "none", "≥ 0; or give `date`", "Months after the site's `start`."),
            f("halls", "array of strings", "", "none", "hall names; or give `gpus`", "Halls energised so far."),
            f("gpus", "count", "", "none", "≥ 1, cumulative; or give `halls`", "GPUs energised so far, filling halls in order."),
            f("grid", "quantity", POWER, "the previous phase's", "≥ 0", "Grid connection at this phase."),
            f("generation", "quantity", POWER, "the previous phase's", "≥ 0", "On-site generation at this phase."),
            f("battery", "inline table", "", "the previous phase's", "see `site.phase.battery`", "Site battery at this phase."),
            f("lead_times", "inline table of quantities", TIME, "the site's", "catalogue: lead_time names", "This phase's own lead times for some items."),
        ],
    },
    Table {
        path: "site.phase.battery",
        written: "battery = { … } in a [[site.phase]]",
        about: "The site battery at a phase.",
        fields: &[
            req("power", "quantity", POWER, "≥ 0", "Charge and discharge power."),
            req("energy", "quantity", ENERGY, "≥ 0", "Stored energy."),
        ],
    },
    Table {
        path: "site.hall",
        written: "[[site.hall]] (one or more per site)",
        about: "A hall of identical systems on one scale-out fabric.",
        fields: &[
            f("name", "string", "", "\"hall-N\"", "", "Names the hall in reports."),
            req("system", "catalogue reference", "", "catalogue: system", "The server or rack, e.g. \"hgx-h100\"; inline overrides `{ from = \"hgx-h100\", node_price = \"$250k\" }`."),
            req("gpus", "count", "", "≥ 1, a multiple of the system's GPUs per node", "GPUs in the hall."),
            req("fabric", "catalogue reference", "", "catalogue: fabric", "Scale-out network."),
        ],
    },
    Table {
        path: "link",
        written: "[[link]] (multi-site)",
        about: "A fiber route between two sites. Give `capacity`, or `fiber_pairs` × `wavelengths` × `wavelength_rate`.",
        fields: &[
            req("between", "array of two strings", "", "two site names", "The sites it joins."),
            req("distance", "quantity", "m, km", "> 0", "Fiber route length; latency 4.9 µs/km plus equipment."),
            f("capacity", "quantity", BANDWIDTH, "none: give it or the three fiber fields", "> 0; not with the fiber fields", "Capacity each way."),
            f("fiber_pairs", "count", "", "none", "≥ 1; with wavelengths and wavelength_rate", "Fiber pairs lit on the route."),
            f("wavelengths", "count", "", "none", "≥ 1; with fiber_pairs and wavelength_rate", "DWDM wavelengths lit per fiber pair."),
            f("wavelength_rate", "quantity", BANDWIDTH, "none", "> 0; with fiber_pairs and wavelengths", "Line rate of one wavelength."),
            f("latency", "quantity", TIME, "the multi-site model's equipment latency", "≥ 0", "Equipment latency, on top of the fiber's 4.9 µs/km."),
            f("cost", "quantity", "$, $k, $M, $B", "none", "≥ 0", "Capital cost of the link, for its yearly cost."),
        ],
    },
    Table {
        path: "job",
        written: "[job]",
        about: "The training job. Without it, the step, reliability and multi-site figures use fallbacks that the report names.",
        fields: &[
            req("model", "catalogue reference", "", "catalogue: model", "The model, e.g. \"llama3-405b\"; a partial override `{ from = \"deepseek-v3\", moe = { routed_experts = 512 } }`."),
            req("tokens", "count", "", "> 0", "Training tokens (\"15.6T\")."),
            f("seq", "integer", "tokens", "the model's pre-training length", "≥ 1", "Sequence length."),
            req("global_batch", "count", "tokens", "≥ seq", "Global batch in tokens; rounded to whole sequences, and by `parallelism = \"auto\"` to a multiple of dp × microbatch."),
            f("gpus", "count", "", "every GPU of the first site", "1 .. installed", "GPUs the job runs on; the rest are spares."),
            f("precision", "string", "", "\"bf16\"", "\"bf16\", \"fp8\"", "Matmul precision."),
            f("parallelism", "\"auto\" or inline table", "", "\"auto\"", "\"auto\", or see `job.parallelism`", "The layout: searched, or fixed."),
            f("flash_attention", "boolean", "", "true", "", "Fused attention kernels; false for GPT-3-era runs."),
            f("dropout", "boolean", "", "false", "", "Dropout layers (GPT-3-era training)."),
            f("sync", "table", "", "synchronous dp", "see `job.sync`", "Cross-site synchronisation ([job.sync])."),
        ],
    },
    Table {
        path: "job.parallelism",
        written: "parallelism = { … } in [job]",
        about: "A fixed layout. tp × pp × cp × dp must equal the job's GPUs; ep is carved out of dp.",
        fields: &[
            f("tp", "integer", "", "1", "≥ 1, divides the attention heads", "Tensor parallelism."),
            f("pp", "integer", "", "1", "≥ 1", "Pipeline stages."),
            f("cp", "integer", "", "1", "≥ 1", "Context parallelism."),
            f("ep", "integer", "", "1", "≥ 1, divides dp and the routed experts", "Expert parallelism."),
            f("dp", "integer or \"rest\"", "", "\"rest\"", "≥ 1", "Data parallelism; \"rest\" takes the GPUs left over."),
            f("microbatch", "integer", "sequences", "1", "≥ 1; dp × microbatch divides the global batch", "Sequences per microbatch."),
            f("recompute", "string", "", "\"selective\"", "\"none\", \"selective\", \"full\"", "Activation recomputation."),
            f("schedule", "string", "", "\"1f1b\"", "\"1f1b\", \"interleaved\", \"zero-bubble\" (ZB-H1)", "Pipeline schedule."),
            f("interleave", "integer", "", "1", "≥ 2 with \"interleaved\", else 1", "Virtual stages per GPU."),
            f("zero", "integer", "", "0", "0 .. 3", "ZeRO stage (3 = FSDP)."),
            f("sequence_parallel", "boolean", "", "true", "", "Sequence parallelism beside TP."),
            f("overlap", "inline table", "", "tp, pp, dp, cp on; ep off", "see `job.parallelism.overlap`", "Which communication is scheduled beside compute."),
        ],
    },
    Table {
        path: "job.parallelism.overlap",
        written: "overlap = { … } in parallelism",
        about: "Which communication runs concurrently with compute (what compute cannot hide stays exposed).",
        fields: &[
            f("tp", "boolean", "", "true", "", "TP collectives beside the neighbouring GEMMs."),
            f("pp", "boolean", "", "true", "", "Pipeline sends and receives."),
            f("dp", "boolean", "", "true", "", "Gradient reduce and parameter gather."),
            f("ep", "boolean", "", "false", "", "Expert all-to-all (needs a DualPipe-style schedule)."),
            f("cp", "boolean", "", "true", "", "Ring attention."),
        ],
    },
    Table {
        path: "job.sync",
        written: "[job.sync]",
        about: "How a job over several sites synchronises.",
        fields: &[
            f("strategy", "string", "", "\"dp\"", "\"dp\", \"pipeline\", \"diloco\", \"streaming-diloco\"", "Cross-site strategy."),
            f("inner_steps", "integer", "", "100", "≥ 1", "H: inner steps between outer synchronisations (DiLoCo)."),
            f("fragments", "integer", "", "three layers per fragment", "≥ 1", "Fragments synced in turn (Streaming DiLoCo)."),
            f("overlap_steps", "integer", "", "1", "≥ 0", "τ: inner steps a fragment's exchange may overlap."),
            f("compression", "string", "", "\"bf16\"", "\"bf16\", \"fp8\", \"fp4\", \"int8\"", "Precision of the exchanged deltas."),
            f("overlap", "boolean", "", "true", "", "Synchronous dp: the cross-site reduction overlaps the backward pass."),
        ],
    },
    Table {
        path: "reliability",
        written: "[reliability]",
        about: "The failure model, checkpoints, spares and recovery. Every field has a sourced default (the preset's and the reliability model's).",
        fields: &[
            f("preset", "string", "", "\"llama3\"", "catalogue: reliability", "Failure classes and rates."),
            f("job_gpus", "count", "", "the job's GPUs", "≥ 1", "GPUs of the simulated job, overriding [job]."),
            f("step_time", "quantity", TIME, "the step model's", "> 0", "Step time, overriding the step model."),
            f("length", "quantity", TIME, "until the work is done", "> 0", "Wall-clock length of a run."),
            f("work", "quantity", TIME, "the step model's days to train", "> 0", "Failure-free training time."),
            f("replicas", "count", "", "200 (a report: at most 64)", "≥ 1", "Monte Carlo runs."),
            f("target", "fraction", "", "0.95", FRACTION, "Share of runs the recommendations hold for."),
            f("checkpoint", "\"auto\", quantity or inline table", TIME, "\"auto\" (Young/Daly)", "\"auto\", \"30 min\", { memory = …, persistent = … }", "Checkpoint interval."),
            f("checkpoint_state", "quantity", "B, GB, TB, GiB", "the model's weights and optimizer state", "> 0", "Bytes written per checkpoint."),
            f("storage_bandwidth", "quantity", BANDWIDTH, "model default", "> 0", "Checkpoint storage bandwidth."),
            f("checkpoint_overhead", "quantity", TIME, "from state ÷ bandwidth", "≥ 0", "Time a checkpoint write blocks training."),
            f("checkpoint_load", "quantity", TIME, "from state ÷ bandwidth", "≥ 0", "Time to load a checkpoint."),
            f("spares", "\"auto\" or count", "", "\"auto\" (ByteRobust's rule)", "\"auto\", ≥ 0", "Warm standby nodes."),
            f("spare_pool", "count", "", "model default", "≥ 0", "Cold spare nodes."),
            f("nodes_per_rack", "count", "", "model default", "≥ 1", "Nodes a rack failure takes."),
            f("repair", "inline table", "", "model default", "see `reliability.repair`", "Repair pipeline."),
            f("restart", "inline table", "", "model default", "see `reliability.restart`", "Whole-job restart chain."),
            f("rates", "inline table of numbers", "per hour", "the preset's", "failure classes of the preset; \"+name\" adds one", "Failure rates per element-hour by class."),
            f("rate_scale", "number", "", "1", "> 0", "Factor on every rate."),
            f("bad_nodes", "inline table", "", "none", "see `reliability.bad_nodes`", "A share of nodes that fail more often."),
            f("lifetime", "string or inline table", "", "exponential", "\"exponential\", { weibull = shape }, { lognormal = sigma }", "Distribution of times between failures."),
            f("sdc", "inline table", "", "the preset's", "see `reliability.sdc`", "Silent data corruption."),
            f("maintenance", "string or inline table", "", "the preset's", "\"none\", { every = \"27.6 h\", duration = \"5 min\" }", "Planned maintenance."),
            f("recovery", "string", "", "\"restart\"", "\"restart\", \"hot-spare\", \"partial-restart\", \"elastic-dp\", \"in-memory\"", "Recovery design of the run."),
            f("containment", "inline table", "", "model default", "see `reliability.containment`", "The designs' timings."),
            f("designs", "\"all\" or array of strings", "", "none", "the recovery names", "Designs to compare side by side."),
            f("goodput_target", "fraction", "", "0.9", FRACTION, "Goodput a recommended design must keep."),
        ],
    },
    Table {
        path: "reliability.repair",
        written: "repair = { … } in [reliability]",
        about: "The repair pipeline of failed nodes.",
        fields: &[
            f("auto", "quantity", TIME, "model default", "≥ 0", "Automated repair time."),
            f("manual", "quantity", TIME, "model default", "≥ 0", "Manual repair time."),
            f("p_manual", "number", "", "model default", "0 .. 1", "Share of repairs that need a person."),
            f("p_auto_false", "number", "", "model default", "0 .. 1", "Share of automated repairs that find nothing."),
            f("p_manual_false", "number", "", "model default", "0 .. 1", "Share of manual repairs that find nothing."),
        ],
    },
    Table {
        path: "reliability.restart",
        written: "restart = { … } in [reliability]",
        about: "The chain of a whole-job restart.",
        fields: &[
            f("detect", "quantity", TIME, "model default", "≥ 0", "Time to detect a failure."),
            f("diagnose", "quantity", TIME, "model default", "≥ 0", "Time to find the failed node."),
            f("standby_swap", "quantity", TIME, "model default", "≥ 0", "Time to swap in a warm standby."),
            f("host_selection", "quantity", TIME, "model default", "≥ 0", "Time to select hosts without a standby."),
            f("preemption_wait", "quantity", TIME, "model default", "≥ 0", "Wait for preempted capacity."),
            f("fixed", "quantity", TIME, "model default", "≥ 0", "Fixed restart overhead."),
            f("reinit", "quantity", TIME, "model default", "≥ 0", "Re-initialisation time at `reinit_gpus`."),
            f("reinit_gpus", "count", "", "model default", "≥ 1", "GPU count `reinit` is measured at."),
            f("reinit_exponent", "number", "", "model default", "≥ 0", "Growth of re-initialisation with GPUs."),
        ],
    },
    Table {
        path: "reliability.bad_nodes",
        written: "bad_nodes = { … } in [reliability]",
        about: "A share of nodes that fail more often than the rest.",
        fields: &[
            req("fraction", "fraction", "", FRACTION, "Share of bad nodes."),
            req("multiplier", "number", "", "≥ 1", "Their failure rate over the others'."),
        ],
    },
    Table {
        path: "reliability.sdc",
        written: "sdc = { … } in [reliability]",
        about: "Silent data corruption.",
        fields: &[
            f("prevalence", "fraction", "", "the preset's", FRACTION, "Share of defective GPUs."),
            f("trigger", "number", "per defective GPU-hour", "the preset's", "≥ 0", "Corruption events per defective GPU-hour."),
            f("detect", "quantity", TIME, "the preset's", "≥ 0", "Time until a corruption is found."),
        ],
    },
    Table {
        path: "reliability.containment",
        written: "containment = { … } in [reliability]",
        about: "The recovery designs' timings; every one has a sourced default in `crates/sim/src/designs.rs`.",
        fields: &[
            f("detect", "quantity", TIME, "model default", "≥ 0", "Time to detect a failure."),
            f("hot_swap", "quantity", TIME, "model default", "≥ 0", "Hot-spare swap time."),
            f("reconfigure", "quantity", TIME, "model default", "≥ 0", "Communicator reconfiguration time."),
            f("replica_gpus", "count", "", "the layout's GPUs ÷ dp", "≥ 1", "GPUs of a data-parallel replica."),
            f("peer_bandwidth", "quantity", BANDWIDTH, "model default", "> 0", "Bandwidth of a state fetch from a peer."),
            f("snapshot_every", "count", "steps", "model default", "≥ 1", "Steps between in-memory snapshots."),
            f("snapshot_block", "quantity", TIME, "from the state", "≥ 0", "Time a snapshot blocks training."),
            f("peer_copies", "count", "", "model default", "≥ 1", "In-memory copies of the state."),
        ],
    },
    Table {
        path: "programme",
        written: "[programme]",
        about: "The campus's money over the years; defaults from the cost catalogue entry (`megacluster catalog cost default`).",
        fields: &[
            f("horizon", "quantity", "yr, months", "the cost default's", "> 0", "Years the programme is followed."),
            f("debt", "fraction", "", "the cost default's", FRACTION, "Debt share of the financing."),
            f("cost_of_debt", "fraction", "", "the cost default's", FRACTION, "Interest on the debt."),
            f("cost_of_equity", "fraction", "", "the cost default's", FRACTION, "Return the equity wants."),
            f("tax", "fraction", "", "the cost default's", FRACTION, "Tax rate."),
            f("partner_return", "fraction", "", "the cost default's", FRACTION, "The return a cloud partner wants on the capex it absorbs."),
            f("utilisation", "fraction", "", "the cost default's", FRACTION, "Share of GPU-hours sold or used."),
            f("budget", "quantity", "$, $M, $B", "none", "> 0", "Budget of the whole programme."),
            f("first_phase_budget", "quantity", "$, $M, $B", "none", "> 0", "Budget of the first phase."),
        ],
    },
    Table {
        path: "power",
        written: "[power]",
        about: "The power study: grid code, synthetic step (without a job), draw, window and mitigations.",
        fields: &[
            f("grid_code", "string", "", "\"ercot-large-load\"", "catalogue: grid_code", "The grid code the site is checked against."),
            f("grid", "inline table", "", "none", "see `power.grid`", "Overrides of the grid code's fields."),
            f("step_time", "quantity", TIME, "the step model's", "> 0", "Synthetic step time (without a job)."),
            f("compute_fraction", "fraction", "", "model default", FRACTION, "Synthetic step's compute share."),
            f("comm_activity", "fraction", "", "model default", FRACTION, "GPU activity while communicating."),
            f("gpu_compute", "fraction", "", "model default", FRACTION, "GPU draw computing, share of TDP."),
            f("gpu_idle", "fraction", "", "model default", FRACTION, "GPU draw idle, share of TDP."),
            f("node_measured_max", "fraction", "", "model default", FRACTION, "Measured node maximum, share of nameplate."),
            f("window", "quantity", TIME, "30 min", "> 0, ≤ 10⁷ samples", "Fine analysis window."),
            f("resolution", "quantity", TIME, "10 ms", "> 0", "Sample step of the window."),
            f("climate", "string", "", "each site's own", "catalogue: climate", "Climate of every site."),
            f("mitigation", "inline table", "", "none", "see `power.mitigation`", "Mitigations; none: a report searches the cheapest."),
        ],
    },
    Table {
        path: "power.grid",
        written: "grid = { … } in [power]",
        about: "Overrides of the grid code's fields.",
        fields: &[
            f("ramp_up", "quantity", RAMP, "the code's", "> 0", "Ramp-up limit."),
            f("ramp_down", "quantity", RAMP, "the code's", "> 0", "Ramp-down limit."),
            f("ramp_window", "quantity", TIME, "the code's", "> 0", "Window the ramp is averaged over."),
            f("dynamic_range", "fraction", "", "the code's", FRACTION, "Largest swing in the window, share of the peak."),
            f("band", "array of two quantities", "Hz, mHz", "the code's", "low < high", "Frequency band of the spectral rule."),
            f("band_limit", "fraction", "", "the code's", FRACTION, "Largest share of energy in the band."),
            f("large_load", "quantity", POWER, "the code's", "≥ 0", "Peak from which the code applies."),
            f("load_loss", "quantity", POWER, "the code's", "> 0", "Largest load lost at once."),
        ],
    },
    Table {
        path: "power.mitigation",
        written: "mitigation = { … } in [power]",
        about: "Power-smoothing mitigations.",
        fields: &[
            f("gpu_floor", "fraction", "", "none", FRACTION, "GPU power floor, share of TDP."),
            f("gpu_ramp_up", "quantity", RAMP, "none", "> 0", "Per-GPU ramp-up limit."),
            f("gpu_ramp_down", "quantity", RAMP, "none", "> 0", "Per-GPU ramp-down limit."),
            f("filler", "fraction", "", "none", FRACTION, "Filler work: communication raised to this activity."),
            f("filler_slowdown", "fraction", "", "model default", FRACTION, "Slowdown filler work costs."),
            f("rack_storage", "quantity", ENERGY, "none", "≥ 0", "Rack storage per GPU."),
            f("battery", "inline table", "", "the site's", "{ power, energy, efficiency }", "Site battery, overriding the site's."),
            f("battery_tau", "quantity", TIME, "model default", "> 0", "Battery controller's time constant."),
            f("soc_min", "fraction", "", "model default", FRACTION, "Lowest state of charge."),
            f("soc_max", "fraction", "", "model default", FRACTION, "Highest state of charge."),
            f("turbine_ramp", "quantity", RAMP, "model default", "> 0", "Ramp limit of the on-site generation."),
        ],
    },
    Table {
        path: "power.mitigation.battery",
        written: "battery = { … } in mitigation",
        about: "A site battery for the power study.",
        fields: &[
            req("power", "quantity", POWER, "> 0", "Charge and discharge power."),
            req("energy", "quantity", ENERGY, "> 0", "Stored energy."),
            f("efficiency", "fraction", "", "model default", FRACTION, "Round-trip efficiency."),
        ],
    },
];

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// `docs/scenario.md`: every table and field, and the catalogue's names for each catalogue
/// reference (from `cat`, the embedded catalogue for the checked-in file).
pub fn markdown(cat: &Catalog) -> String {
    let mut out = String::from(
        "# Scenario reference\n\n\
         <!-- Generated by `megacluster init --reference` from crates/spec/src/reference.rs; \
         `cargo test -p spec --test reference` fails when this file and the code disagree. -->\n\n\
         A scenario is a TOML file. Quantities are strings with a unit (`\"150 MW\"`, `\"5 ms\"`, \
         `\"$65/MWh\"`); any unit of the right kind converts. Counts accept `\"100k\"`, `\"16M\"` \
         and `\"15.6T\"` (powers of 1,000: `\"16M\"` is 16,000,000; Llama 3's \"16M\" batch is \
         16777216). Unknown fields are errors with a \
         \"did you mean\". `megacluster init` writes a commented scenario; `megacluster validate \
         FILE` runs every check the commands do.\n\n",
    );
    out.push_str(&format!("Counts: {COUNT}. Fractions: {FRACTION}.\n\n"));
    for t in TABLES {
        let title = if t.path.is_empty() {
            "top level".to_string()
        } else {
            format!("`{}`", t.path)
        };
        out.push_str(&format!(
            "## {title}\n\nWritten as {}. {}\n\n",
            t.written, t.about
        ));
        out.push_str("| field | type | unit | default | required | allowed values | meaning |\n");
        out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
        for fl in t.fields {
            let allowed = match fl.allowed.strip_prefix("catalogue: ") {
                Some(rest) => {
                    let kind = rest
                        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or(rest);
                    let names = cat.names(kind);
                    let tail = &rest[kind.len()..];
                    format!(
                        "catalogue `{kind}`: {}{tail}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
                None => fl.allowed.to_string(),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} | {} |\n",
                fl.name,
                cell(fl.kind),
                cell(fl.unit),
                if fl.required {
                    "—".into()
                } else {
                    cell(fl.default)
                },
                if fl.required { "yes" } else { "no" },
                cell(&allowed),
                cell(fl.about)
            ));
        }
        out.push('\n');
    }
    out
}
