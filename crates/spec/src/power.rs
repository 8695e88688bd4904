//! The `[power]` section (owned by the power model). Placeholder until its fields land:
//! any field is rejected with a clear message.

use crate::ctx::Ctx;
use crate::error::SpecError;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPower {}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PowerSection {}

pub fn resolve(_ctx: &Ctx, _p: &str, _r: RawPower) -> Result<PowerSection, SpecError> {
    Ok(PowerSection {})
}
