//! One module per command; each returns a `report::Section` (or, for `run`, the whole output).

pub mod catalog;
pub mod plan;
pub mod run;
pub mod simulate;
pub mod validate;
