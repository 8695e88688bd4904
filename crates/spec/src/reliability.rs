//! The `[reliability]` section (owned by the reliability model). Placeholder until its fields land:
//! any field is rejected with a clear message.

use crate::ctx::Ctx;
use crate::error::SpecError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReliability {}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Reliability {}

pub fn resolve(_ctx: &Ctx, _p: &str, _r: RawReliability) -> Result<Reliability, SpecError> {
    Ok(Reliability {})
}
