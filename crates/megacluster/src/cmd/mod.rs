//! One module per command: parse its arguments, call the pipeline, hand the result to `report`.

pub mod catalog;
pub mod compare;
pub mod init;
pub mod multisite;
pub mod output;
pub mod plan;
pub mod power;
pub mod progress;
pub mod run;
pub mod search;
pub mod serve;
pub mod simulate;
pub mod sweep;
pub mod train;
pub mod validate;
