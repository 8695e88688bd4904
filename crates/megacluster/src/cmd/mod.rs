//! One module per command; each returns a `report::Section` (or, for `run`, the whole output).

pub mod catalog;
pub mod multisite;
pub mod plan;
pub mod power;
pub mod run;
pub mod search;
pub mod simulate;
pub mod train;
pub mod validate;
