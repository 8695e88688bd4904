//! A serde serializer that writes nothing and looks at every number of a model's output:
//! a NaN or an infinity anywhere, or a negative value of a quantity that cannot be negative by
//! its name's unit suffix, is a finding with the field's path. JSON would hide a NaN as `null`,
//! so the typed outputs are walked instead.

use serde::ser::{self, Serialize};
use std::fmt;

/// What the walk found: `path: what`.
#[derive(Default)]
pub struct Walk {
    path: Vec<String>,
    pub findings: Vec<String>,
}

/// Unit suffixes of quantities that are never negative (energy, money, durations, data,
/// distances, counts); power deltas, ramps and signed errors have other names.
const NON_NEGATIVE: &[&str] = &[
    "_j", "_usd", "_s", "_bytes", "_m", "_gpus", "_nodes", "_wh", "_mwh", "_l", "_flops",
];

/// Names of signed quantities that carry one of those suffixes all the same.
const SIGNED: &[&str] = &[
    "delta", "change", "saving", "margin", "error", "diff", "net_", "slack", "offset", "excess",
    "shift", "gain", "relative",
];

/// Walk `v`; the findings, each with `what` and the field's path.
pub fn findings<T: Serialize + ?Sized>(what: &str, v: &T) -> Vec<String> {
    let mut w = Walk::default();
    w.path.push(what.to_string());
    if let Err(e) = v.serialize(&mut w) {
        w.findings.push(format!("{what}: cannot be walked: {e}"));
    }
    w.findings
}

impl Walk {
    fn here(&self) -> String {
        self.path.join(".")
    }

    fn key(&self) -> &str {
        self.path
            .iter()
            .rev()
            .find(|k| !k.starts_with('['))
            .map(|s| s.as_str())
            .unwrap_or("")
    }

    fn number(&mut self, v: f64) {
        if !v.is_finite() {
            self.findings
                .push(format!("{}: {v} (not finite)", self.here()));
            return;
        }
        if v < 0.0 {
            let k = self.key().to_ascii_lowercase();
            if NON_NEGATIVE.iter().any(|s| k.ends_with(s)) && !SIGNED.iter().any(|s| k.contains(s))
            {
                self.findings.push(format!(
                    "{}: {v} (a negative value of a non-negative quantity)",
                    self.here()
                ));
            }
        }
    }
}

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

type R = Result<(), Error>;

impl ser::Serializer for &mut Walk {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, _: bool) -> R {
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> R {
        self.number(v as f64);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> R {
        self.number(v as f64);
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> R {
        self.number(v as f64);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> R {
        self.number(v as f64);
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> R {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> R {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> R {
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> R {
        // a count at u64::MAX is a saturated float-to-integer cast, not a figure
        if v == u64::MAX {
            self.findings
                .push(format!("{}: {v} (a saturated count)", self.here()));
        }
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> R {
        self.number(v as f64);
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> R {
        self.number(v);
        Ok(())
    }
    fn serialize_char(self, _: char) -> R {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> R {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> R {
        Ok(())
    }
    fn serialize_none(self) -> R {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_unit(self) -> R {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> R {
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> R {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> R {
        self.path.push(variant.to_string());
        let r = v.serialize(&mut *self);
        self.path.pop();
        r
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Error> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Error> {
        Ok(self)
    }
}

fn element<T: ?Sized + Serialize>(w: &mut Walk, v: &T) -> R {
    w.path.push("[]".into());
    let r = v.serialize(&mut *w);
    w.path.pop();
    r
}

impl ser::SerializeSeq for &mut Walk {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
        element(self, v)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeTuple for &mut Walk {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
        element(self, v)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut Walk {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
        element(self, v)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for &mut Walk {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
        element(self, v)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeMap for &mut Walk {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, _: &T) -> R {
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> R {
        element(self, v)
    }
    fn end(self) -> R {
        Ok(())
    }
}

fn field<T: ?Sized + Serialize>(w: &mut Walk, key: &'static str, v: &T) -> R {
    w.path.push(key.to_string());
    let r = v.serialize(&mut *w);
    w.path.pop();
    r
}

impl ser::SerializeStruct for &mut Walk {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, v: &T) -> R {
        field(self, key, v)
    }
    fn end(self) -> R {
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut Walk {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, v: &T) -> R {
        field(self, key, v)
    }
    fn end(self) -> R {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct S {
        energy_j: f64,
        delta_w: f64,
        saving_usd: f64,
        v: Vec<f64>,
        n: u64,
    }

    #[test]
    fn finds_nan_and_negative_non_negative_quantities() {
        let s = S {
            energy_j: -1.0,
            delta_w: -5.0,
            saving_usd: -2.0,
            v: vec![1.0, f64::NAN],
            n: u64::MAX,
        };
        let f = findings("x", &s);
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f[0].starts_with("x.energy_j: -1"));
        assert!(f[1].starts_with("x.v.[]: NaN"));
        assert!(f[2].starts_with("x.n: 18446744073709551615"));
    }
}
