//! Helpers shared by the tests.

pub mod scenario;
pub mod traces;
