//! A sweep's selected points (the best point, the Pareto front, the points that meet the
//! constraints) as a text table and as JSON.

use crate::fmt::*;
use serde_json::{Map, Value};
use sweep::{Cell, ColumnSpec};

/// A figure of column `name` for people, by its unit suffix.
pub fn cell(name: &str, c: &Cell) -> String {
    let x = match c {
        Cell::Null => return "—".into(),
        Cell::Bool(b) => return if *b { "yes" } else { "no" }.into(),
        Cell::Str(s) => return s.clone(),
        Cell::Int(i) => return thousands(*i as f64),
        Cell::UInt(u) if name == "seed" || name == "point" => return u.to_string(),
        Cell::UInt(u) => return thousands(*u as f64),
        Cell::Float(x) => *x,
    };
    let fraction = [
        "mfu",
        "ettr",
        "ettr_p5",
        "multisite_efficiency",
        "multisite_loss",
        "multisite_goodput",
    ];
    if name == "days_to_train" {
        format!("{x:.1} d")
    } else if name == "tco_usd_per_gpu_hour" {
        format!("${x:.2}/GPU-h")
    } else if name.ends_with("_usd_per_year") {
        format!("{}/yr", usd(x))
    } else if name.ends_with("_usd") || name == "usd_per_run" {
        usd(x)
    } else if name.ends_with("_w_per_s") {
        si(x, "W/s")
    } else if name.ends_with("_w") {
        power(x)
    } else if name.ends_with("_j") || name.ends_with("_j_per_gpu") {
        si(x, "J")
    } else if name.ends_with("_s") {
        duration(x)
    } else if fraction.contains(&name) || name.ends_with("_fraction") {
        percent(x)
    } else if x.abs() >= 1000.0 {
        thousands(x)
    } else {
        sweep::grid::fmt_num(x)
    }
}

/// The rows `rows` (of a table with `columns`), showing the columns `show`, under a heading.
pub fn text(heading: &str, columns: &[ColumnSpec], rows: &[&[Cell]], show: &[usize]) -> String {
    let mut out = format!("{heading}\n");
    let header: Vec<&str> = show.iter().map(|&i| columns[i].name.as_str()).collect();
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            show.iter()
                .map(|&i| cell(&columns[i].name, &r[i]))
                .collect()
        })
        .collect();
    out.push_str(&table(&header, &body));
    out
}

/// The same rows as JSON objects of every column (SI units, keys as in the table).
pub fn json(columns: &[ColumnSpec], rows: &[&[Cell]]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                let mut m = Map::new();
                for (c, v) in columns.iter().zip(r.iter()) {
                    m.insert(c.name.clone(), cell_json(v));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

pub fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Bool(b) => (*b).into(),
        Cell::Int(i) => (*i).into(),
        Cell::UInt(u) => (*u).into(),
        Cell::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Cell::Str(s) => s.clone().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_by_unit() {
        // fmt::power: three decimals below 10
        assert_eq!(cell("facility_power_w", &Cell::Float(1.5e9)), "1.500 GW");
        assert_eq!(cell("usd_per_run", &Cell::Float(2.5e9)), "$2.50B");
        assert_eq!(cell("days_to_train", &Cell::Float(13.46)), "13.5 d");
        assert_eq!(cell("mfu", &Cell::Float(0.362)), "36.2 %");
        assert_eq!(cell("gpus", &Cell::UInt(100_000)), "100,000");
        assert_eq!(cell("error", &Cell::Null), "—");
    }
}
