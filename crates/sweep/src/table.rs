//! The sweep's result: typed columns, one row per point, written as CSV or Parquet.

use std::io::Write;

/// One cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
}

impl Cell {
    /// A finite number, else null (a figure a model could not give).
    pub fn num(x: f64) -> Cell {
        if x.is_finite() {
            Cell::Float(x)
        } else {
            Cell::Null
        }
    }

    pub fn opt(x: Option<f64>) -> Cell {
        x.map_or(Cell::Null, Cell::num)
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Float(x) => Some(*x),
            Cell::Int(i) => Some(*i as f64),
            Cell::UInt(u) => Some(*u as f64),
            Cell::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// The cell as CSV text: numbers in their shortest exact form, null empty.
    pub fn text(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::Bool(b) => b.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::UInt(u) => u.to_string(),
            Cell::Float(x) => float_text(*x),
            Cell::Str(s) => s.clone(),
        }
    }
}

/// The shortest text that reads back as the same f64; exponent form outside 1e-5..1e16.
pub fn float_text(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || (1e-5..1e16).contains(&a) {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    UInt,
    Float,
    Str,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bool => "bool",
            Kind::Int => "int",
            Kind::UInt => "uint",
            Kind::Float => "float",
            Kind::Str => "str",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnSpec {
    pub name: String,
    pub kind: Kind,
}

/// Columns and rows; rows in point order.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub columns: Vec<ColumnSpec>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// CSV with a header line.
    pub fn write_csv<W: Write>(&self, w: W) -> csv::Result<()> {
        let mut wr = csv::Writer::from_writer(w);
        wr.write_record(self.columns.iter().map(|c| c.name.as_str()))?;
        for r in &self.rows {
            wr.write_record(r.iter().map(Cell::text))?;
        }
        wr.flush()?;
        Ok(())
    }

    pub fn csv(&self) -> String {
        let mut out = vec![];
        // writing to memory cannot fail
        let _ = self.write_csv(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Merge the CSV outputs of a sharded sweep into the unsharded output: the same header in every
/// input, rows ordered by the first column (the point index). Returns the CSV text.
pub fn merge_csv(inputs: &[(String, String)]) -> Result<String, String> {
    let mut header: Option<csv::StringRecord> = None;
    let mut rows: Vec<(u64, csv::StringRecord)> = vec![];
    for (name, text) in inputs {
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let h = rd
            .headers()
            .map_err(|e| format!("{name}: not a sweep's CSV: {e}"))?
            .clone();
        match &header {
            None => header = Some(h),
            Some(h0) if *h0 != h => {
                return Err(format!(
                    "{name}: its columns differ from the first file's: it is not a shard of the same sweep"
                ))
            }
            _ => {}
        }
        for (i, r) in rd.records().enumerate() {
            let r = r.map_err(|e| format!("{name}: row {}: {e}", i + 1))?;
            let p = r
                .get(0)
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(|| {
                    format!(
                        "{name}: row {}: the first column is not a point index",
                        i + 1
                    )
                })?;
            rows.push((p, r));
        }
    }
    let Some(h) = header else {
        return Err("no input files".into());
    };
    rows.sort_by_key(|(p, _)| *p);
    if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(format!(
            "point {} appears twice: two inputs come from the same shard",
            w[0].0
        ));
    }
    let mut out = vec![];
    {
        let mut wr = csv::Writer::from_writer(&mut out);
        wr.write_record(&h).map_err(|e| e.to_string())?;
        for (_, r) in &rows {
            wr.write_record(r).map_err(|e| e.to_string())?;
        }
        wr.flush().map_err(|e| e.to_string())?;
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_read_back_exactly() {
        for x in [0.1, 1.0 / 3.0, 1e21, 5.57e9, 1.25e-7, -2.5, 0.0] {
            assert_eq!(float_text(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(float_text(5.57e9), "5570000000");
        assert_eq!(float_text(1e21), "1e21");
    }

    #[test]
    fn merge_orders_rows_and_refuses_strangers() {
        let a = "point,x\n0,a\n2,\"c,d\"\n".to_string();
        let b = "point,x\n1,b\n".to_string();
        let m = merge_csv(&[("a".into(), a.clone()), ("b".into(), b)]).unwrap();
        assert_eq!(m, "point,x\n0,a\n1,b\n2,\"c,d\"\n");
        assert!(merge_csv(&[
            ("a".into(), a.clone()),
            ("c".into(), "point,y\n1,b\n".into())
        ])
        .is_err());
        assert!(merge_csv(&[("a".into(), a.clone()), ("a2".into(), a)]).is_err());
    }
}
