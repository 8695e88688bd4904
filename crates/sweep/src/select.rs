//! Constraints and objectives over a sweep's rows: `--where "days_to_train <= 90 and fits ==
//! true"`, `--minimize usd_per_run` (the best point) or `--minimize usd_per_run,days_to_train`
//! (the Pareto front).

use crate::table::{Cell, ColumnSpec};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Clone, Debug, PartialEq)]
enum Rhs {
    Num(f64),
    /// Another column of the same row.
    Column(usize),
    Text(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Cond {
    column: usize,
    op: Op,
    rhs: Rhs,
}

/// A conjunction of comparisons, bound to a table's columns.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Filter {
    conds: Vec<Cond>,
}

fn unknown_column(name: &str, columns: &[ColumnSpec]) -> String {
    let hint = spec::error::did_you_mean(name, columns.iter().map(|c| c.name.as_str()))
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    format!("no column `{name}` in the sweep's table{hint}")
}

/// The index of column `name`.
pub fn column(name: &str, columns: &[ColumnSpec]) -> Result<usize, String> {
    columns
        .iter()
        .position(|c| c.name == name)
        .ok_or_else(|| unknown_column(name, columns))
}

impl Filter {
    /// Parse `a <= 1 and b == x` (also `&&` or `,` between comparisons; operators `< <= > >= ==
    /// !=`). The right side is a number, another column (`facility_power_w <= supply_w`), or text
    /// compared with == or != (`multisite_strategy == diloco`).
    pub fn parse(expr: &str, columns: &[ColumnSpec]) -> Result<Filter, String> {
        let mut conds = vec![];
        let norm = expr.replace("&&", ",").replace(" and ", ",");
        for part in norm.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let ops = [
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("<", Op::Lt),
                (">", Op::Gt),
                ("=", Op::Eq),
            ];
            let Some((at, len, op)) = ops
                .iter()
                .filter_map(|(s, op)| part.find(s).map(|i| (i, s.len(), *op)))
                .min_by_key(|(i, len, _)| (*i, usize::MAX - len))
            else {
                return Err(format!(
                    "`{part}` is not a comparison: write e.g. `days_to_train <= 90`"
                ));
            };
            let name = part[..at].trim();
            let rhs = part[at + len..].trim().trim_matches('"');
            if name.is_empty() || rhs.is_empty() {
                return Err(format!("`{part}` needs a column and a value"));
            }
            let column = column(name, columns)?;
            let rhs = match rhs.replace('_', "").parse::<f64>() {
                Ok(x) => Rhs::Num(x),
                Err(_) => match columns.iter().position(|c| c.name == rhs) {
                    Some(i) => Rhs::Column(i),
                    None => Rhs::Text(rhs.to_string()),
                },
            };
            if matches!(rhs, Rhs::Text(_)) && !matches!(op, Op::Eq | Op::Ne) {
                return Err(format!(
                    "`{part}`: only == and != compare text; `<`, `>` take a number"
                ));
            }
            conds.push(Cond { column, op, rhs });
        }
        if conds.is_empty() {
            return Err("--where needs at least one comparison, e.g. `days_to_train <= 90`".into());
        }
        Ok(Filter { conds })
    }

    /// Whether a row meets every comparison (a missing figure meets none).
    pub fn keeps(&self, row: &[Cell]) -> bool {
        self.conds.iter().all(|c| {
            let cell = &row[c.column];
            let num = match &c.rhs {
                Rhs::Num(x) => Some(*x),
                Rhs::Column(i) => row[*i].as_f64(),
                Rhs::Text(_) => None,
            };
            match &c.rhs {
                Rhs::Column(_) if num.is_none() => false,
                Rhs::Num(_) | Rhs::Column(_) => match (cell.as_f64(), num) {
                    (Some(v), Some(x)) => match c.op {
                        Op::Lt => v < x,
                        Op::Le => v <= x,
                        Op::Gt => v > x,
                        Op::Ge => v >= x,
                        Op::Eq => v == x,
                        Op::Ne => v != x,
                    },
                    _ => false,
                },
                Rhs::Text(t) => {
                    if matches!(cell, Cell::Null) {
                        return false;
                    }
                    let eq = cell.text() == *t;
                    if c.op == Op::Eq {
                        eq
                    } else {
                        !eq
                    }
                }
            }
        })
    }
}

/// The rows (indices) not dominated on `objectives` (each minimised): none other is as good on
/// every objective and better on one. Rows missing an objective are left out. In order of the
/// first objective, then the point.
pub fn pareto(rows: &[Vec<Cell>], candidates: &[usize], objectives: &[usize]) -> Vec<usize> {
    let mut pts: Vec<(usize, Vec<f64>)> = candidates
        .iter()
        .filter_map(|&r| {
            let v: Option<Vec<f64>> = objectives.iter().map(|&c| rows[r][c].as_f64()).collect();
            v.filter(|v| v.iter().all(|x| x.is_finite()))
                .map(|v| (r, v))
        })
        .collect();
    pts.sort_by(|a, b| {
        a.1.iter()
            .zip(&b.1)
            .map(|(x, y)| x.total_cmp(y))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.0.cmp(&b.0))
    });
    let mut front: Vec<(usize, Vec<f64>)> = vec![];
    for (r, v) in pts {
        let dominated = front.iter().any(|(_, f)| {
            f.iter().zip(&v).all(|(a, b)| a <= b) && f.iter().zip(&v).any(|(a, b)| a < b)
        });
        if !dominated {
            front.push((r, v));
        }
    }
    front.into_iter().map(|(r, _)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Kind;

    fn cols(names: &[&str]) -> Vec<ColumnSpec> {
        names
            .iter()
            .map(|n| ColumnSpec {
                name: n.to_string(),
                kind: Kind::Float,
            })
            .collect()
    }

    #[test]
    fn filters() {
        let c = cols(&["days_to_train", "usd_per_run", "multisite_strategy"]);
        let f = Filter::parse("days_to_train <= 90 and multisite_strategy == dp", &c).unwrap();
        let g = Filter::parse("days_to_train < usd_per_run", &c).unwrap();
        assert!(g.keeps(&[Cell::Float(0.5), Cell::Float(1.0), Cell::Null]));
        assert!(!g.keeps(&[Cell::Float(1.5), Cell::Float(1.0), Cell::Null]));
        assert!(!g.keeps(&[Cell::Float(0.5), Cell::Null, Cell::Null]));
        let row = |d: f64, s: &str| vec![Cell::Float(d), Cell::Float(1.0), Cell::Str(s.into())];
        assert!(f.keeps(&row(90.0, "dp")));
        assert!(!f.keeps(&row(90.5, "dp")));
        assert!(!f.keeps(&row(10.0, "diloco")));
        assert!(!f.keeps(&[Cell::Null, Cell::Float(1.0), Cell::Str("dp".into())]));
        let e = Filter::parse("days_to_trian < 3", &c).unwrap_err();
        assert!(e.contains("did you mean `days_to_train`"), "{e}");
        assert!(Filter::parse("usd_per_run < cheap", &c).is_err());
        assert!(Filter::parse("usd_per_run", &c).is_err());
    }

    #[test]
    fn pareto_front() {
        // (cost, days): (1,9) (2,5) (3,5) (4,1) (5,6) (2,5 again)
        let pts = [
            (1.0, 9.0),
            (2.0, 5.0),
            (3.0, 5.0),
            (4.0, 1.0),
            (5.0, 6.0),
            (2.0, 5.0),
        ];
        let rows: Vec<Vec<Cell>> = pts
            .iter()
            .map(|(a, b)| vec![Cell::Float(*a), Cell::Float(*b)])
            .collect();
        let all: Vec<usize> = (0..rows.len()).collect();
        assert_eq!(pareto(&rows, &all, &[0, 1]), vec![0, 1, 5, 3]);
        assert_eq!(pareto(&rows, &all, &[0]), vec![0]);
    }
}
