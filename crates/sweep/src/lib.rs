//! Sweeps: a base scenario, a grid of edits to its fields, every point through the pipeline, one
//! row of headline figures per point.
//!
//! Each point is the base file's TOML with the point's values written into it (`toml_edit`, so the
//! rest of the file keeps its text), then resolved by `spec` like any file: a bad point gets the
//! same located error a file would, placed at the grid value that made it (or at the base file's
//! line when the fault is elsewhere) and naming the point. Every point of a run is checked before
//! any work starts.
//!
//! Point `i` runs with the seed SplitMix64(scenario seed, i) (the derivation the reliability model
//! uses for its replicas), so a point's figures do not depend on the thread count, the shard or
//! the order of work. `Shard { index, count }` takes every `count`-th point from `index`: the rows
//! of all shards, ordered by point, are the unsharded rows.
//!
//! The CLI (`megacluster sweep`) and the Python package call this crate; neither holds sweep logic.

pub mod figures;
pub mod grid;
pub mod parquet;
pub mod path;
pub mod select;
pub mod table;

pub use figures::Sections;
pub use grid::Grid;
pub use table::{Cell, ColumnSpec, Kind, Table};

use grid::Column;
use rayon::prelude::*;
use spec::{Catalog, Scenario, SpecError};
use std::sync::atomic::{AtomicU64, Ordering};
use toml_edit::{DocumentMut, Value};

/// A slice of the points: every `count`-th from `index` (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn all() -> Shard {
        Shard { index: 0, count: 1 }
    }

    /// `i/N`, 0 ≤ i < N (as `$SLURM_ARRAY_TASK_ID/N` or `$JOB_COMPLETION_INDEX/N` give it).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "--shard takes i/N with 0 ≤ i < N, e.g. 0/4 or $SLURM_ARRAY_TASK_ID/4; got `{s}`"
            )
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// This shard's points of `points`, in order.
    pub fn points(self, points: u64) -> impl Iterator<Item = u64> {
        (self.index..points).step_by(self.count.max(1) as usize)
    }
}

/// How each point is evaluated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunOptions {
    pub sections: Sections,
    /// Monte Carlo replicas of the reliability section (its recommendations are not run).
    pub replicas: u64,
    /// The power section also searches the cheapest passing mitigations.
    pub solve: bool,
    /// Every point at the scenario's own seed (common random numbers) instead of a derived one.
    pub common_seed: bool,
    /// Worker threads (`None`: rayon's default, `RAYON_NUM_THREADS` or one per core).
    pub threads: Option<usize>,
}

/// Replicas per point unless asked otherwise: enough for a mean ETTR to about a point (the
/// default scenario's replicas spread ±2 points, `megacluster simulate`).
pub const DEFAULT_REPLICAS: u64 = 8;

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            sections: Sections::all(),
            replicas: DEFAULT_REPLICAS,
            solve: false,
            common_seed: false,
            threads: None,
        }
    }
}

impl RunOptions {
    /// The pipeline options of one point.
    pub fn pipeline(&self) -> pipeline::Options {
        pipeline::Options {
            depth: pipeline::Depth::Full,
            replicas: Some(self.replicas.max(1)),
            target: None,
            solve: if self.solve {
                pipeline::Solve::Always
            } else {
                pipeline::Solve::Never
            },
            traces: false,
            recommend: false,
            climates: false,
            // the recovery designs are a section of their own, which no sweep column reads
            designs: None,
        }
    }
}

/// What the progress callback is told: which pass, points done, points in the pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Every point resolved and checked, before any work.
    Validate,
    Run,
}

/// Points per chunk of work: rows are handed on (written) chunk by chunk.
pub const CHUNK: usize = 16_384;

/// A base scenario and a grid over its fields.
pub struct Sweep {
    base_file: String,
    base_src: String,
    base: DocumentMut,
    catalog: Catalog,
    grid: Grid,
    points: u64,
    kinds: Vec<Kind>,
}

fn value_cell(v: &Value) -> Cell {
    match v {
        Value::String(s) => Cell::Str(s.value().clone()),
        Value::Integer(i) => Cell::Int(*i.value()),
        Value::Float(f) => Cell::num(*f.value()),
        Value::Boolean(b) => Cell::Bool(*b.value()),
        other => Cell::Str(other.to_string().trim().to_string()),
    }
}

/// A column's type from its values: whole numbers, numbers, booleans, else text.
fn kind_of(c: &Column) -> Kind {
    if c.values.iter().all(|v| matches!(v, Value::Integer(_))) {
        Kind::Int
    } else if c
        .values
        .iter()
        .all(|v| matches!(v, Value::Integer(_) | Value::Float(_)))
    {
        Kind::Float
    } else if c.values.iter().all(|v| matches!(v, Value::Boolean(_))) {
        Kind::Bool
    } else {
        Kind::Str
    }
}

fn typed(c: Cell, k: Kind) -> Cell {
    match (c, k) {
        (Cell::Int(i), Kind::Float) => Cell::Float(i as f64),
        (Cell::Str(s), Kind::Str) => Cell::Str(s),
        (c @ (Cell::Int(_) | Cell::Float(_) | Cell::Bool(_) | Cell::Null), Kind::Str) => {
            Cell::Str(c.text())
        }
        (c, _) => c,
    }
}

impl Sweep {
    /// A sweep of `grid` over the base scenario `base_src` (named `base_file`), resolved against
    /// `catalog`. Checks that every swept path can be set in the base.
    pub fn new(
        base_file: &str,
        base_src: &str,
        catalog: Catalog,
        grid: Grid,
    ) -> Result<Sweep, SpecError> {
        let base: DocumentMut = match base_src.parse() {
            Ok(d) => d,
            Err(_) => {
                // spec words a malformed file best
                return Err(spec::parse_scenario(base_file, base_src, &catalog)
                    .err()
                    .unwrap_or_else(|| SpecError::new(base_file, "", "malformed TOML")));
            }
        };
        let points = grid
            .points()
            .ok_or_else(|| grid.error("", None, "the grid has more than 2^64 points"))?;
        for c in grid.columns() {
            let mut d = base.clone();
            if let Err(e) = path::set(&mut d, &c.path, &c.values[0]) {
                return Err(grid.error_at_key(
                    c,
                    format!("cannot set {} in {base_file}: {}", c.path.text, e.message),
                ));
            }
        }
        let kinds = grid.columns().map(kind_of).collect();
        Ok(Sweep {
            base_file: base_file.to_string(),
            base_src: base_src.to_string(),
            base,
            catalog,
            grid,
            points,
            kinds,
        })
    }

    /// Every point of the grid.
    pub fn len(&self) -> u64 {
        self.points
    }

    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Each column's value at point `i`.
    pub fn values(&self, i: u64) -> Vec<(&Column, usize)> {
        let idx = self.grid.indices(i);
        self.grid
            .axes
            .iter()
            .zip(idx)
            .flat_map(|(a, k)| a.columns.iter().map(move |c| (c, k)))
            .collect()
    }

    /// `a = "1M", b = 3`: the point in words, for errors.
    pub fn describe(&self, i: u64) -> String {
        self.values(i)
            .iter()
            .map(|(c, k)| format!("{} = {}", c.path.text, c.values[*k].to_string().trim()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The scenario file of point `i`: the base with the point's values written in.
    pub fn point_toml(&self, i: u64) -> Result<String, SpecError> {
        let mut d = self.base.clone();
        for (c, k) in self.values(i) {
            path::set(&mut d, &c.path, &c.values[k]).map_err(|e| {
                self.grid
                    .error_at_value(c, k, &c.path.text, format!("{} (point {i})", e.message))
            })?;
        }
        Ok(d.to_string())
    }

    /// Point `i` resolved, or its error located in the grid or the base file.
    pub fn scenario(&self, i: u64) -> Result<Scenario, SpecError> {
        let text = self.point_toml(i)?;
        spec::parse_scenario(&self.base_file, &text, &self.catalog)
            .map(|mut s| {
                s.source = spec::scenario::Source {
                    file: format!("{} (point {i})", self.base_file),
                    text,
                };
                s
            })
            .map_err(|e| self.relocate(i, e))
    }

    /// Put a point's error where a person fixes it: at the grid value that made it, else at the
    /// base file's line of the field; the message says which point.
    fn relocate(&self, i: u64, e: SpecError) -> SpecError {
        let message = format!("{} (point {i}: {})", e.message, self.describe(i));
        for (c, k) in self.values(i) {
            let named = c
                .path
                .last_key()
                .is_some_and(|key| e.message.contains(&format!("`{key}`")));
            if c.path.covers(&e.path) || (c.path.parent_is(&e.path) && named) {
                let mut n = self.grid.error_at_value(c, k, &e.path, message);
                n.hint = e.hint;
                return n;
            }
        }
        let src = &self.base_src;
        let mut probe = e.path.as_str();
        let span = loop {
            if probe.is_empty() {
                break None;
            }
            if let Some(s) = spec::span_of(src, probe) {
                break Some(s);
            }
            match probe.rfind(['.', '[']) {
                Some(j) => probe = &probe[..j],
                None => break None,
            }
        };
        let mut n = SpecError::new(&self.base_file, &e.path, message).at_span(src, span);
        n.hint = e.hint;
        n
    }

    /// The table's columns: `point`, `seed`, each swept path, then the sections' figures.
    pub fn columns(&self, o: &RunOptions) -> Vec<ColumnSpec> {
        let mut out = vec![
            ColumnSpec {
                name: "point".into(),
                kind: Kind::UInt,
            },
            ColumnSpec {
                name: "seed".into(),
                kind: Kind::UInt,
            },
        ];
        out.extend(
            self.grid
                .columns()
                .zip(&self.kinds)
                .map(|(c, k)| ColumnSpec {
                    name: c.path.text.clone(),
                    kind: *k,
                }),
        );
        out.extend(figures::columns(o.sections, o.solve));
        out
    }

    /// Check every point of `shard` (in parallel); the error of the first bad point.
    pub fn validate(
        &self,
        shard: Shard,
        progress: &(dyn Fn(Pass, u64, u64) + Sync),
    ) -> Result<u64, SpecError> {
        let pts: Vec<u64> = shard.points(self.points).collect();
        let total = pts.len() as u64;
        let done = AtomicU64::new(0);
        for chunk in pts.chunks(CHUNK) {
            let bad = chunk.par_iter().find_map_first(|&i| {
                let r = self.scenario(i).err();
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                progress(Pass::Validate, d, total);
                r
            });
            if let Some(e) = bad {
                return Err(e);
            }
        }
        Ok(total)
    }

    /// One point's row.
    pub fn row(&self, i: u64, o: &RunOptions) -> Vec<Cell> {
        let cols = figures::columns(o.sections, o.solve).len();
        let mut out = vec![Cell::UInt(i)];
        let values = self.values(i);
        let axis_cells = values
            .iter()
            .zip(&self.kinds)
            .map(|((c, k), kind)| typed(value_cell(&c.values[*k]), *kind));
        match self.scenario(i) {
            Ok(mut s) => {
                let seed = if o.common_seed {
                    s.seed
                } else {
                    sim::engine::replica_seed(s.seed, i)
                };
                s.seed = seed;
                out.push(Cell::UInt(seed));
                out.extend(axis_cells);
                let p = pipeline::Pipeline::with_options(s, o.pipeline());
                out.extend(figures::row(&p, o.sections, o.solve));
            }
            Err(e) => {
                out.push(Cell::Null);
                out.extend(axis_cells);
                out.extend(std::iter::repeat_n(Cell::Null, cols - 1));
                out.push(Cell::Str(e.to_string()));
            }
        }
        out
    }

    /// Validate every point of `shard`, then evaluate them in parallel, handing each chunk of rows
    /// (in point order) to `sink`. A sink error stops the run.
    pub fn run_with<E: Send>(
        &self,
        o: &RunOptions,
        shard: Shard,
        progress: &(dyn Fn(Pass, u64, u64) + Sync),
        sink: &mut (dyn FnMut(Vec<Vec<Cell>>) -> Result<(), E> + Send),
    ) -> Result<Result<(), E>, SpecError> {
        self.in_pool(o, || {
            self.validate(shard, progress)?;
            self.evaluate_with(o, shard, progress, sink)
        })
    }

    /// Evaluate every point of `shard` (checked with [`Sweep::validate`] first: a point that does
    /// not resolve gets its error in the `error` column), chunk by chunk into `sink`.
    pub fn evaluate_with<E: Send>(
        &self,
        o: &RunOptions,
        shard: Shard,
        progress: &(dyn Fn(Pass, u64, u64) + Sync),
        sink: &mut (dyn FnMut(Vec<Vec<Cell>>) -> Result<(), E> + Send),
    ) -> Result<Result<(), E>, SpecError> {
        let mut work = || {
            let pts: Vec<u64> = shard.points(self.points).collect();
            let total = pts.len() as u64;
            let done = AtomicU64::new(0);
            for chunk in pts.chunks(CHUNK) {
                let rows: Vec<Vec<Cell>> = chunk
                    .par_iter()
                    .map(|&i| {
                        let r = self.row(i, o);
                        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                        progress(Pass::Run, d, total);
                        r
                    })
                    .collect();
                sink(rows)?;
            }
            Ok(())
        };
        self.in_pool(o, || Ok(work()))
    }

    /// Run `f` on a pool of `o.threads` threads (rayon's global pool when `None`).
    fn in_pool<T: Send>(
        &self,
        o: &RunOptions,
        f: impl FnOnce() -> Result<T, SpecError> + Send,
    ) -> Result<T, SpecError> {
        match o.threads {
            Some(n) if rayon::current_num_threads() != n.max(1) => {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(n.max(1))
                    .build()
                    .map_err(|e| {
                        SpecError::new("", "", format!("cannot start {n} threads: {e}"))
                    })?;
                pool.install(f)
            }
            _ => f(),
        }
    }

    /// Validate and evaluate every point of `shard`; the whole table.
    pub fn run(
        &self,
        o: &RunOptions,
        shard: Shard,
        progress: &(dyn Fn(Pass, u64, u64) + Sync),
    ) -> Result<Table, SpecError> {
        let mut rows = vec![];
        let r = self.run_with::<std::convert::Infallible>(o, shard, progress, &mut |chunk| {
            rows.extend(chunk);
            Ok(())
        })?;
        match r {
            Ok(()) => Ok(Table {
                columns: self.columns(o),
                rows,
            }),
            Err(e) => match e {},
        }
    }
}
