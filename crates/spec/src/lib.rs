//! Scenario and catalogue types for megacluster: TOML parsing with units, validation with located
//! errors, and the embedded catalogue.
//!
//! Architecture invariant: no model logic here, and no panic on any input. Everything a model needs
//! is resolved into plain data in SI units; nothing downstream reads files or the catalogue again.

pub mod builder;
pub mod campus;
pub mod catalog;
mod ctx;
pub mod error;
pub mod job;
mod locate;
pub mod power;
pub mod read;
pub mod reference;
pub mod reliability;
pub mod scenario;
pub mod sync;
pub mod units;

pub use catalog::{
    Accelerator, Catalog, Climate, Cooling, CostDefaults, Fabric, Generator, GridCode, LeadTime,
    ModelArch, Region, ReliabilityPreset, Rental, ScaleUp, System,
};
pub use error::SpecError;
pub use locate::span_of;
pub use scenario::{load_scenario, parse_scenario, read_scenario, scenario_catalog, Scenario};
pub use units::*;
