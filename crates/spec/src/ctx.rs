//! Shared helpers for turning raw (serde) sections into resolved, validated plain data.

use crate::catalog::{typed_from_table, unknown_field_hint, Catalog, Entry};
use crate::error::{did_you_mean, SpecError};
use crate::locate::span_of;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// The longest scenario, site or hall name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Where an input came from; builds located errors.
pub struct Ctx<'a> {
    pub file: &'a str,
    pub src: &'a str,
    pub catalog: &'a Catalog,
}

impl Ctx<'_> {
    /// An error at a field path of this file.
    pub fn err(&self, path: &str, msg: impl Into<String>) -> SpecError {
        SpecError::new(self.file, path, msg).at_span(self.src, span_of(self.src, path))
    }

    /// Require `v > 0`.
    pub fn positive(&self, path: &str, v: f64, what: &str) -> Result<(), SpecError> {
        if v > 0.0 && v.is_finite() {
            Ok(())
        } else {
            Err(self.err(path, format!("{what} must be greater than zero, got {v}")))
        }
    }

    /// Require `v >= 0`.
    pub fn non_negative(&self, path: &str, v: f64, what: &str) -> Result<(), SpecError> {
        if v >= 0.0 && v.is_finite() {
            Ok(())
        } else {
            Err(self.err(path, format!("{what} must not be negative, got {v}")))
        }
    }

    /// Require `lo <= v <= hi`.
    pub fn within(
        &self,
        path: &str,
        v: f64,
        lo: f64,
        hi: f64,
        what: &str,
    ) -> Result<(), SpecError> {
        if v >= lo && v <= hi {
            Ok(())
        } else {
            Err(self.err(
                path,
                format!("{what} must lie between {lo} and {hi}, got {v}"),
            ))
        }
    }

    /// A name the reports print (scenario, site, hall): at most [`MAX_NAME_CHARS`] characters,
    /// none of them a control character.
    pub fn name(&self, path: &str, v: &str) -> Result<(), SpecError> {
        let n = v.chars().count();
        if n > MAX_NAME_CHARS {
            return Err(self.err(
                path,
                format!("a name of {n} characters is longer than the {MAX_NAME_CHARS} allowed"),
            ));
        }
        if let Some(c) = v.chars().find(|c| c.is_control()) {
            return Err(self.err(
                path,
                format!("a name may not hold a control character ({c:?})"),
            ));
        }
        Ok(())
    }

    /// A positive whole number from a count (`"100k"` is fine, `1.5` and `0` are not).
    pub fn whole(&self, path: &str, v: f64, what: &str) -> Result<u64, SpecError> {
        if !(v >= 1.0 && v.fract() == 0.0 && v < 9.0e15) {
            return Err(self.err(
                path,
                format!("{what} must be a whole number of at least 1, got {v}"),
            ));
        }
        Ok(v as u64)
    }

    /// Resolve a catalogue reference (a name, or an inline table with an optional `from`).
    pub fn resolve<T: Entry + Clone + Send + Sync + 'static>(
        &self,
        path: &str,
        r: &CatalogRef,
    ) -> Result<T, SpecError> {
        if let CatalogRef::Name(n) = r {
            if let Some(v) = self.catalog.cached::<T>(n) {
                return Ok(v);
            }
            let v = self.resolve_uncached::<T>(path, r)?;
            self.catalog.remember(n, &v);
            return Ok(v);
        }
        self.resolve_uncached(path, r)
    }

    fn resolve_uncached<T: Entry>(&self, path: &str, r: &CatalogRef) -> Result<T, SpecError> {
        let (name, table) = match r {
            CatalogRef::Name(n) => {
                let t = self.catalog.raw(T::KIND, n).map_err(|m| {
                    let hint = did_you_mean(n, self.catalog.names(T::KIND));
                    self.err(path, strip_hint(&m, hint.is_some()))
                        .with_hint(hint)
                })?;
                (n.clone(), t)
            }
            CatalogRef::Inline(t) => {
                let mut t = t.clone();
                let base = t.remove("from");
                let name = match &base {
                    Some(toml::Value::String(b)) => format!("{b}*"),
                    Some(_) => {
                        return Err(
                            self.err(&format!("{path}.from"), "`from` must be a catalogue name")
                        )
                    }
                    None => "inline".to_string(),
                };
                let mut merged = match base {
                    Some(toml::Value::String(b)) => self.catalog.raw(T::KIND, &b).map_err(|m| {
                        let hint = did_you_mean(&b, self.catalog.names(T::KIND));
                        self.err(&format!("{path}.from"), strip_hint(&m, hint.is_some()))
                            .with_hint(hint)
                    })?,
                    _ => toml::Table::new(),
                };
                crate::catalog::overlay(&mut merged, t);
                (name, merged)
            }
        };
        typed_from_table::<T>(table, &name).map_err(|(sub, msg)| {
            let full = if sub.is_empty() {
                path.to_string()
            } else {
                format!("{path}.{sub}")
            };
            let hint = unknown_field_hint(&msg);
            let inline_without_from = matches!(r, CatalogRef::Inline(t) if !t.contains_key("from"));
            let msg = if msg.starts_with("missing field") && inline_without_from {
                format!(
                    "{msg} (an inline {} without `from` must give every field)",
                    T::KIND
                )
            } else {
                msg
            };
            self.err(&full, msg).with_hint(hint)
        })
    }
}

fn strip_hint(m: &str, has_hint: bool) -> String {
    if has_hint {
        m.split(" (").next().unwrap_or(m).to_string()
    } else {
        m.to_string()
    }
}

/// A reference to a catalogue entry: `"dgx-h100"` or `{ from = "dgx-h100", node_power = "11 kW" }`.
#[derive(Clone, Debug, PartialEq)]
pub enum CatalogRef {
    Name(String),
    Inline(toml::Table),
}

impl<'de> Deserialize<'de> for CatalogRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CatalogRef;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a catalogue name or a table such as { from = \"name\", field = value }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CatalogRef, E> {
                Ok(CatalogRef::Name(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<CatalogRef, A::Error> {
                let t = toml::Table::deserialize(de::value::MapAccessDeserializer::new(m))?;
                Ok(CatalogRef::Inline(t))
            }
        }
        d.deserialize_any(V)
    }
}
