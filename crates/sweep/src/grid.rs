//! The grid file: scenario field paths and the values each takes.
//!
//! ```toml
//! "site[0].hall[0].gpus" = ["50k", "100k", "200k"]     # a list: one axis
//! site[0].hall[0].system = ["hgx-h100", "gb200-nvl72"] # bare paths work too
//! "link[*].capacity" = { range = ["1 Tbps", "100 Tbps"], count = 3, scale = "log" }
//! job.sync.strategy = ["dp", "diloco"]                 # dotted keys are paths
//! [[zip]]                                              # these vary together: one axis
//! "site[0].hall[0].system" = ["hgx-h100", "gb200-nvl72"]
//! "site[0].hall[0].fabric" = ["roce-400g-3tier", "ib-xdr-3tier"]
//! ```
//!
//! Axes are taken in the order they are written (`[[zip]]` groups after the plain axes); the
//! first varies slowest. A single value (not a list) is an axis of one value, an override of
//! every point. A list of lists or of inline tables sweeps whole arrays or tables.

use crate::path::Path;
use spec::SpecError;
use std::ops::Range;
use toml_edit::{ImDocument, InlineTable, Item, Table, Value};

/// One swept field: its path, its values, where each value is written.
#[derive(Clone, Debug)]
pub struct Column {
    pub path: Path,
    pub values: Vec<Value>,
    /// Span of each value (of the range table for a range) in the grid's text.
    spans: Vec<Option<Range<usize>>>,
    key_span: Option<Range<usize>>,
}

/// An axis: one column, or several zipped columns of equal length.
#[derive(Clone, Debug)]
pub struct Axis {
    pub columns: Vec<Column>,
}

impl Axis {
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A parsed grid.
#[derive(Clone, Debug)]
pub struct Grid {
    pub file: String,
    /// The grid's text as written.
    src: Option<String>,
    /// Byte offsets in the parsed text where a quote was added around a bare path.
    inserted: Vec<usize>,
    pub axes: Vec<Axis>,
}

/// Quote bare keys that hold brackets (`site[0].hall[0].gpus = …` is not TOML; the quoted form
/// is). Returns the text and the offsets of the added quotes in it.
fn quote_bare_paths(src: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(src.len() + 16);
    let mut inserted = vec![];
    for line in src.split_inclusive('\n') {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let key_len = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_-.[]*".contains(c)))
            .unwrap_or(body.len());
        let key = &body[..key_len];
        let after = body[key_len..].trim_start();
        let bare_path = !key.is_empty()
            && !body.starts_with('[')
            && key.contains('[')
            && after.starts_with('=');
        out.push_str(indent);
        if bare_path {
            inserted.push(out.len());
            out.push('"');
            out.push_str(key);
            inserted.push(out.len());
            out.push('"');
            out.push_str(&body[key_len..]);
        } else {
            out.push_str(body);
        }
    }
    (out, inserted)
}

fn map_back(inserted: &[usize], offset: usize) -> usize {
    offset - inserted.iter().filter(|&&p| p < offset).count()
}

impl Grid {
    /// Parse a grid from its TOML text.
    pub fn parse(file: &str, src: &str) -> Result<Grid, SpecError> {
        let (text, inserted) = quote_bare_paths(src);
        let mut g = Grid {
            file: file.to_string(),
            src: Some(src.to_string()),
            inserted,
            axes: vec![],
        };
        g.axes = g.read(&text)?;
        Ok(g)
    }

    /// Number of points (the product of the axes' lengths), `None` past 2^64.
    pub fn points(&self) -> Option<u64> {
        self.axes
            .iter()
            .try_fold(1u64, |n, a| n.checked_mul(a.len() as u64))
    }

    /// The value index on each axis of point `i` (the last axis varies fastest).
    pub fn indices(&self, mut i: u64) -> Vec<usize> {
        let mut out = vec![0; self.axes.len()];
        for (k, a) in self.axes.iter().enumerate().rev() {
            let n = a.len() as u64;
            out[k] = (i % n) as usize;
            i /= n;
        }
        out
    }

    /// Every column, in axis order.
    pub fn columns(&self) -> impl Iterator<Item = &Column> {
        self.axes.iter().flat_map(|a| &a.columns)
    }

    /// An error at a place in the grid's text (a span of the parsed text).
    pub fn error(
        &self,
        field: &str,
        span: Option<Range<usize>>,
        msg: impl Into<String>,
    ) -> SpecError {
        let e = SpecError::new(&self.file, field, msg);
        match &self.src {
            Some(src) => {
                let span = span
                    .map(|s| map_back(&self.inserted, s.start)..map_back(&self.inserted, s.end));
                e.at_span(src, span)
            }
            None => e,
        }
    }

    /// An error at value `k` of a column.
    pub fn error_at_value(
        &self,
        c: &Column,
        k: usize,
        field: &str,
        msg: impl Into<String>,
    ) -> SpecError {
        self.error(field, c.spans.get(k).cloned().flatten(), msg)
    }

    /// An error at a column's key.
    pub fn error_at_key(&self, c: &Column, msg: impl Into<String>) -> SpecError {
        self.error(&c.path.text, c.key_span.clone(), msg)
    }

    fn read(&self, text: &str) -> Result<Vec<Axis>, SpecError> {
        let doc = ImDocument::parse(text.to_string()).map_err(|e| {
            self.error(
                "",
                e.span(),
                format!("malformed TOML: {}", e.message().trim()),
            )
        })?;
        let mut plain = vec![];
        let mut zips = vec![];
        for (k, item) in doc.as_table().iter() {
            if k == "zip" {
                let Item::ArrayOfTables(groups) = item else {
                    return Err(self.error(
                        "zip",
                        item.span(),
                        "`zip` is an array of tables: write each group under `[[zip]]`",
                    ));
                };
                for t in groups.iter() {
                    let mut cols = vec![];
                    self.walk_table(text, t, "", &mut cols)?;
                    if cols.is_empty() {
                        return Err(self.error("zip", t.span(), "an empty [[zip]] group"));
                    }
                    let n = cols[0].values.len();
                    if let Some(c) = cols.iter().find(|c| c.values.len() != n) {
                        return Err(self.error_at_key(
                            c,
                            format!(
                                "zipped axes vary together and need lists of one length: `{}` has {}, `{}` has {n}",
                                c.path.text,
                                c.values.len(),
                                cols[0].path.text
                            ),
                        ));
                    }
                    zips.push(Axis { columns: cols });
                }
                continue;
            }
            self.walk_item(
                text,
                k,
                item,
                doc.as_table()
                    .get_key_value(k)
                    .and_then(|(key, _)| key.span()),
                "",
                &mut plain,
            )?;
        }
        let mut axes: Vec<Axis> = plain
            .into_iter()
            .map(|c| Axis { columns: vec![c] })
            .collect();
        axes.extend(zips);
        let cols: Vec<&Column> = axes.iter().flat_map(|a| &a.columns).collect();
        for (i, c) in cols.iter().enumerate() {
            if let Some(o) = cols[..i].iter().find(|o| o.path.segs == c.path.segs) {
                return Err(self.error_at_key(
                    c,
                    format!(
                        "`{}` is swept twice (also as `{}`)",
                        c.path.text, o.path.text
                    ),
                ));
            }
            if c.path.segs.first() == Some(&crate::path::Seg::Key("catalog".into())) {
                return Err(self.error_at_key(
                    c,
                    "the catalogue files are loaded once for the whole sweep and cannot be swept",
                ));
            }
        }
        if axes.is_empty() {
            return Err(self.error("", None, "the grid names no field to sweep"));
        }
        Ok(axes)
    }

    fn walk_table(
        &self,
        text: &str,
        t: &Table,
        prefix: &str,
        out: &mut Vec<Column>,
    ) -> Result<(), SpecError> {
        for (k, item) in t.iter() {
            let ks = t.get_key_value(k).and_then(|(key, _)| key.span());
            self.walk_item(text, k, item, ks, prefix, out)?;
        }
        Ok(())
    }

    fn walk_item(
        &self,
        text: &str,
        k: &str,
        item: &Item,
        key_span: Option<Range<usize>>,
        prefix: &str,
        out: &mut Vec<Column>,
    ) -> Result<(), SpecError> {
        let name = format!("{prefix}{k}");
        match item {
            Item::Table(t) => self.walk_table(text, t, &format!("{name}."), out),
            Item::ArrayOfTables(a) => Err(self.error(
                &name,
                key_span.or(a.span()),
                "an array of tables is not an axis: name fields by path, e.g. `\"site[0].hall[0].gpus\" = [...]`, or group zipped axes under [[zip]]",
            )),
            Item::Value(Value::InlineTable(t)) if !t.contains_key("range") => {
                for (k2, v) in t.iter() {
                    let ks = t.key(k2).and_then(|kk| kk.span());
                    self.walk_item(text, k2, &Item::Value(v.clone()), ks, &format!("{name}."), out)?;
                }
                Ok(())
            }
            Item::Value(v) => {
                let path = Path::parse(&name).map_err(|m| self.error(&name, key_span.clone(), m))?;
                let (values, spans) = match v {
                    Value::Array(a) => {
                        if a.is_empty() {
                            return Err(self.error(&name, v.span(), "an empty list sweeps nothing"));
                        }
                        let mut vals = vec![];
                        let mut spans = vec![];
                        for x in a.iter() {
                            vals.push(owned(text, x));
                            spans.push(x.span());
                        }
                        (vals, spans)
                    }
                    Value::InlineTable(t) => {
                        let vals = range(t).map_err(|m| self.error(&name, v.span(), m))?;
                        let n = vals.len();
                        (vals, vec![v.span(); n])
                    }
                    other => (vec![owned(text, other)], vec![other.span()]),
                };
                out.push(Column {
                    path,
                    values,
                    spans,
                    key_span,
                });
                Ok(())
            }
            Item::None => Ok(()),
        }
    }
}

/// A value of the parsed text as an owned value (spans refer to the text it came from).
fn owned(text: &str, v: &Value) -> Value {
    v.span()
        .and_then(|s| text.get(s))
        .and_then(|raw| raw.parse::<Value>().ok())
        .unwrap_or_else(|| v.clone())
}

/// A number written in the grid: its value, and the unit text after it (kept for the values a
/// range makes), and whether TOML wrote it as an integer.
#[derive(Clone, Debug, PartialEq)]
struct Num {
    x: f64,
    suffix: String,
    integer: bool,
    string: bool,
}

fn num(v: &Value) -> Result<Num, String> {
    match v {
        Value::Integer(i) => Ok(Num {
            x: *i.value() as f64,
            suffix: String::new(),
            integer: true,
            string: false,
        }),
        Value::Float(f) => Ok(Num {
            x: *f.value(),
            suffix: String::new(),
            integer: false,
            string: false,
        }),
        Value::String(s) => {
            let s = s.value().trim();
            let b = s.as_bytes();
            let mut i = 0;
            if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                i += 1;
            }
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
            if i + 1 < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if b[j] == b'+' || b[j] == b'-' {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            let x: f64 = s[..i]
                .replace('_', "")
                .parse()
                .map_err(|_| format!("`{s}` does not start with a number"))?;
            Ok(Num {
                x,
                suffix: s[i..].to_string(),
                integer: false,
                string: true,
            })
        }
        other => Err(format!(
            "range ends and steps are numbers or quantities such as \"10 Tbps\", got {}",
            other.to_string().trim()
        )),
    }
}

/// A number the way a person writes it: whole numbers without a fraction, others to 12
/// significant digits (so 0.1 steps print as 0.3, not 0.30000000000000004).
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let r: f64 = format!("{x:.11e}").parse().unwrap_or(x);
    format!("{r}")
}

/// Most values one range may make.
pub const MAX_RANGE_VALUES: usize = 10_000_000;

/// The values of `{ range = [a, b], step = s }` or `{ range = [a, b], count = n[, scale =
/// "log"] }`, both ends included.
fn range(t: &InlineTable) -> Result<Vec<Value>, String> {
    const KEYS: [&str; 4] = ["range", "step", "count", "scale"];
    for (k, _) in t.iter() {
        if !KEYS.contains(&k) {
            let hint = spec::error::did_you_mean(k, KEYS)
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(format!(
                "unknown key `{k}` in a range: it takes range = [start, end] and step or count (and scale = \"log\"){hint}"
            ));
        }
    }
    let Some(Value::Array(ends)) = t.get("range") else {
        return Err("`range` is a list of two ends: range = [start, end]".into());
    };
    if ends.len() != 2 {
        return Err(format!(
            "`range` takes two ends, [start, end]; got {}",
            ends.len()
        ));
    }
    let (Some(a), Some(b)) = (ends.get(0), ends.get(1)) else {
        return Err("`range` takes two ends, [start, end]".into());
    };
    let (a, b) = (num(a)?, num(b)?);
    let same = |n: &Num, what: &str| -> Result<(), String> {
        if n.suffix != a.suffix || n.string != a.string {
            return Err(format!(
                "the {what} is written `{}{}` but the start `{}{}`: give them in the same unit",
                fmt_num(n.x),
                n.suffix,
                fmt_num(a.x),
                a.suffix
            ));
        }
        Ok(())
    };
    same(&b, "end")?;
    let log = match t.get("scale").map(|v| v.as_str()) {
        None | Some(Some("linear")) => false,
        Some(Some("log")) => true,
        _ => return Err("`scale` is \"linear\" or \"log\"".into()),
    };
    let xs: Vec<f64> = match (t.get("step"), t.get("count")) {
        (Some(_), Some(_)) => return Err("give a range either a step or a count, not both".into()),
        (None, None) => return Err("a range needs a step or a count".into()),
        (Some(s), None) => {
            if log {
                return Err("a log range takes a count, not a step".into());
            }
            let s = num(s)?;
            same(&s, "step")?;
            let d = b.x - a.x;
            if !(s.x.is_finite() && s.x != 0.0) || (d != 0.0 && d.signum() != s.x.signum()) {
                return Err(format!(
                    "the step {}{} does not lead from {}{} to {}{}",
                    fmt_num(s.x),
                    s.suffix,
                    fmt_num(a.x),
                    a.suffix,
                    fmt_num(b.x),
                    b.suffix
                ));
            }
            let n = (d / s.x + 1e-9).floor() + 1.0;
            if !(n <= MAX_RANGE_VALUES as f64) {
                return Err(format!(
                    "the range makes more than {MAX_RANGE_VALUES} values"
                ));
            }
            (0..n as usize).map(|i| a.x + i as f64 * s.x).collect()
        }
        (None, Some(c)) => {
            let Some(n) = c
                .as_integer()
                .filter(|&n| n >= 1 && n as usize <= MAX_RANGE_VALUES)
            else {
                return Err(format!(
                    "`count` is a whole number from 1 to {MAX_RANGE_VALUES}"
                ));
            };
            let n = n as usize;
            if log && !(a.x > 0.0 && b.x > 0.0) {
                return Err("a log range needs ends above zero".into());
            }
            (0..n)
                .map(|i| {
                    let f = if n == 1 {
                        0.0
                    } else {
                        i as f64 / (n - 1) as f64
                    };
                    if log {
                        (a.x.ln() + f * (b.x.ln() - a.x.ln())).exp()
                    } else {
                        a.x + f * (b.x - a.x)
                    }
                })
                .collect()
        }
    };
    if xs.iter().any(|x| !x.is_finite()) {
        return Err("the range makes a number that is not finite".into());
    }
    Ok(xs
        .into_iter()
        .map(|x| {
            if a.string {
                Value::from(format!("{}{}", fmt_num(x), a.suffix))
            } else if a.integer && b.integer {
                Value::from(x.round() as i64)
            } else {
                Value::from(fmt_num(x).parse::<f64>().unwrap_or(x))
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(c: &Column) -> Vec<String> {
        c.values
            .iter()
            .map(|v| v.to_string().trim().to_string())
            .collect()
    }

    #[test]
    fn lists_ranges_zips_and_bare_paths() {
        let src = r#"
site[0].hall[0].gpus = ["10k", "100k", "1M"]   # bare
"link[*].capacity" = { range = ["1 Tbps", "100 Tbps"], count = 3, scale = "log" }
job.sync.strategy = ["dp", "diloco"]
seed = 7
[[zip]]
"site[0].hall[0].system" = ["hgx-h100", "gb200-nvl72"]
"site[0].hall[0].fabric" = ["a", "b"]
"#;
        let g = Grid::parse("grid.toml", src).unwrap();
        let names: Vec<&str> = g.columns().map(|c| c.path.text.as_str()).collect();
        assert_eq!(
            names,
            [
                "site[0].hall[0].gpus",
                "link[*].capacity",
                "job.sync.strategy",
                "seed",
                "site[0].hall[0].system",
                "site[0].hall[0].fabric"
            ]
        );
        assert_eq!(g.points(), Some(3 * 3 * 2 * 2));
        let cap = g.columns().nth(1).unwrap();
        assert_eq!(strs(cap), ["\"1 Tbps\"", "\"10 Tbps\"", "\"100 Tbps\""]);
        assert_eq!(g.indices(0), vec![0, 0, 0, 0, 0]);
        assert_eq!(g.indices(1), vec![0, 0, 0, 0, 1]);
        assert_eq!(g.indices(35), vec![2, 2, 1, 0, 1]);
    }

    #[test]
    fn ranges() {
        let g = Grid::parse(
            "g",
            "a = { range = [1, 5], step = 2 }\nb = { range = [0.1, 0.3], step = 0.1 }\nc = { range = [\"10T\", \"40T\"], step = \"10T\" }\nd = { range = [1000, 1000000], count = 4, scale = \"log\" }\n",
        )
        .unwrap();
        let c: Vec<Vec<String>> = g.columns().map(strs).collect();
        assert_eq!(c[0], ["1", "3", "5"]);
        assert_eq!(c[1], ["0.1", "0.2", "0.3"]);
        assert_eq!(c[2], ["\"10T\"", "\"20T\"", "\"30T\"", "\"40T\""]);
        assert_eq!(c[3], ["1000", "10000", "100000", "1000000"]);
    }

    #[test]
    fn located_errors() {
        let e =
            Grid::parse("g.toml", "x = 1\ny = { range = [1, \"5 MW\"], step = 1 }\n").unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.line, e.path.as_str()),
            ("g.toml", Some(2), "y")
        );
        assert!(e.message.contains("same unit"), "{e}");
        let e = Grid::parse("g.toml", "a = [1]\n[[zip]]\nb = [1, 2]\nc = [1]\n").unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("one length"), "{e}");
        // a bare path's error is at its place in the text as written
        let e = Grid::parse("g.toml", "\nsite[x].gpus = [1]\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(1)), "{e}");
        let e = Grid::parse("g.toml", "a = { range = [1, 2], stepp = 1 }\n").unwrap_err();
        assert!(e.message.contains("did you mean `step`"), "{e}");
        let e = Grid::parse("g.toml", "a = []\n").unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
        let e = Grid::parse("g.toml", "a = [1]\n\"a\" = [2]\n").unwrap_err();
        assert!(
            e.message.contains("malformed") || e.message.contains("twice"),
            "{e}"
        );
    }
}
