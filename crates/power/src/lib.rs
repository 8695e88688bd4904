//! megacluster's power model: the cluster's power trace, grid-code checks, mitigations and what
//! they cost, cooling and water.
//!
//! Architecture invariant: pure functions over traces. The trace is built per synchronised group
//! of GPUs (a hall, a pipeline stage), piecewise-constant in time and averaged exactly into uniform
//! bins, never per GPU: its cost grows with the window's samples and the number of groups, not with
//! the GPU count. No printing here; `report` formats.
//!
//! Data flow: a [`site::Site`] (halls, draw fractions, PUE, climate), a [`profile::StepShape`]
//! (one step as phases of activity) and [`profile::RunInterval`]s (the run's states), bound by the
//! `pipeline` crate from the step model and the reliability timeline, make a [`site::Setup`] →
//! [`trace::it_trace`] per group through the calibrated [`draw::GpuDraw`] → facility power through
//! PUE → mitigations
//! ([`trace::GpuMitigation`], [`storage::run_storage`], on-site generation and the grid
//! connection in [`supply`]) →
//! [`grid::metrics`] and [`grid::check`] against a [`grid::GridCode`] → costs
//! ([`analysis::analyse`]); [`solve::solve`] searches mitigations; [`cooling`] turns a climate
//! into PUE and water by the hour.

pub mod analysis;
pub mod cooling;
pub mod draw;
pub mod grid;
pub mod profile;
pub mod site;
pub mod solve;
pub mod spectrum;
pub mod storage;
pub mod study;
pub mod supply;
pub mod trace;

pub use analysis::{analyse, Analysis, Inputs, Mitigation, Prices, Window};
pub use draw::{Cluster, GpuDraw, Group};
pub use grid::GridCode;
pub use profile::{PhaseDraw, RunInterval, RunState, StepShape};
pub use site::{Draw, Hall, Input, Setup, Site};
pub use study::{study, Study, StudyTraces};
pub use trace::{GpuMitigation, Trace};
