//! The PyO3 bindings: `megacluster._core`.

use crate::{Failure, Section};
use ::sweep::{Cell, Kind};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::{Path, PathBuf};

pyo3::create_exception!(
    _core,
    ScenarioError,
    PyValueError,
    "A scenario or grid problem, located: file, line, column, field, message, hint."
);
pyo3::create_exception!(
    _core,
    ModelError,
    PyRuntimeError,
    "A model returned what it must not (an internal error)."
);

fn to_py(py: Python<'_>, f: Failure) -> PyErr {
    match f {
        Failure::Input(e) => {
            let err = ScenarioError::new_err(e.to_string());
            let v = err.value(py);
            let set = || -> PyResult<()> {
                v.setattr("file", &e.file)?;
                v.setattr("line", e.line)?;
                v.setattr("column", e.column)?;
                v.setattr("field", &e.path)?;
                v.setattr("message", &e.message)?;
                v.setattr("hint", &e.hint)?;
                Ok(())
            };
            match set() {
                Ok(()) => err,
                Err(e) => e,
            }
        }
        Failure::Usage(m) => PyValueError::new_err(m),
        Failure::Model(m) => ModelError::new_err(m),
    }
}

fn paths(catalogs: Option<Vec<String>>) -> Vec<PathBuf> {
    catalogs
        .unwrap_or_default()
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

/// A resolved scenario.
#[pyclass(module = "megacluster._core", frozen)]
struct Scenario {
    scenario: spec::Scenario,
    file: String,
    source: String,
}

/// Read and resolve a scenario: `path` a file, or `None` for the built-in default; `text` TOML
/// given directly (named `name`). Extra catalogue files first.
#[pyfunction]
#[pyo3(signature = (path=None, text=None, name=None, catalogs=None))]
fn load(
    py: Python<'_>,
    path: Option<String>,
    text: Option<String>,
    name: Option<String>,
    catalogs: Option<Vec<String>>,
) -> PyResult<Scenario> {
    let cats = paths(catalogs);
    let r = py.detach(|| -> Result<Scenario, Failure> {
        let refs: Vec<&Path> = cats.iter().map(|p| p.as_path()).collect();
        let (file, src, p) = match (path, text) {
            (Some(p), None) => {
                let pb = PathBuf::from(&p);
                let (f, s) = spec::read_scenario(Some(&pb))?;
                (f, s, Some(pb))
            }
            (None, Some(t)) => (name.unwrap_or_else(|| "<string>".into()), t, None),
            (None, None) => {
                let (f, s) = spec::read_scenario(None)?;
                (f, s, None)
            }
            (Some(_), Some(_)) => {
                return Err(Failure::Usage("give a path or a text, not both".into()))
            }
        };
        let catalog = spec::scenario_catalog(p.as_deref(), &file, &src, &refs)?;
        let scenario = spec::parse_scenario(&file, &src, &catalog)?;
        Ok(Scenario {
            scenario,
            file,
            source: src,
        })
    });
    r.map_err(|f| to_py(py, f))
}

#[pymethods]
impl Scenario {
    #[getter]
    fn name(&self) -> String {
        self.scenario.name.clone()
    }

    #[getter]
    fn file(&self) -> String {
        self.file.clone()
    }

    /// The scenario's TOML text.
    #[getter]
    fn toml(&self) -> String {
        self.source.clone()
    }

    /// A section's JSON as the CLI prints it (`megacluster <section> --json`).
    #[pyo3(signature = (section, top=10, by="tokens", replicas=None, target=None, solve=false))]
    #[allow(clippy::too_many_arguments)] // the keyword arguments of every section
    fn json(
        &self,
        py: Python<'_>,
        section: &str,
        top: usize,
        by: &str,
        replicas: Option<u64>,
        target: Option<f64>,
        solve: bool,
    ) -> PyResult<String> {
        let s = match section {
            "run" => Section::Run,
            "plan" => Section::Plan,
            "train" => Section::Train,
            "search" => Section::Search {
                top,
                by_cost: match by {
                    "tokens" => false,
                    "cost" => true,
                    other => {
                        return Err(PyValueError::new_err(format!(
                            "by is \"tokens\" or \"cost\", got {other:?}"
                        )))
                    }
                },
            },
            "simulate" => Section::Simulate { replicas, target },
            "power" => Section::Power { solve },
            "multisite" => Section::Multisite,
            other => {
                return Err(PyValueError::new_err(format!(
                    "no section {other:?}: run, plan, train, search, simulate, power, multisite"
                )))
            }
        };
        let sc = &self.scenario;
        py.detach(|| {
            crate::section_json(sc, &s)
                .and_then(|v| serde_json::to_string(&v).map_err(|e| Failure::Model(e.to_string())))
        })
        .map_err(|f| to_py(py, f))
    }

    /// Every replica of the reliability Monte Carlo, as JSON (a list of objects).
    #[pyo3(signature = (replicas=None))]
    fn replicas_json(&self, py: Python<'_>, replicas: Option<u64>) -> PyResult<String> {
        if replicas == Some(0) {
            return Err(PyValueError::new_err("replicas must be at least 1"));
        }
        let sc = &self.scenario;
        py.detach(|| {
            crate::replicas_json(sc, replicas)
                .and_then(|v| serde_json::to_string(&v).map_err(|e| Failure::Model(e.to_string())))
        })
        .map_err(|f| to_py(py, f))
    }

    /// The power section's grid-import traces, column name → values.
    #[pyo3(signature = (solve=false))]
    fn power_trace<'py>(&self, py: Python<'py>, solve: bool) -> PyResult<Bound<'py, PyDict>> {
        let sc = &self.scenario;
        let cols = py
            .detach(|| crate::power_trace(sc, solve))
            .map_err(|f| to_py(py, f))?;
        let d = PyDict::new(py);
        for (k, v) in cols {
            d.set_item(k, v)?;
        }
        Ok(d)
    }
}

fn column<'py>(
    py: Python<'py>,
    kind: Kind,
    rows: &[Vec<Cell>],
    c: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let cells = rows.iter().map(|r| &r[c]);
    Ok(match kind {
        Kind::Float => cells
            .map(|x| x.as_f64())
            .collect::<Vec<Option<f64>>>()
            .into_pyobject(py)?
            .into_any(),
        Kind::Int => cells
            .map(|x| match x {
                Cell::Int(i) => Some(*i),
                _ => None,
            })
            .collect::<Vec<Option<i64>>>()
            .into_pyobject(py)?
            .into_any(),
        Kind::UInt => cells
            .map(|x| match x {
                Cell::UInt(u) => Some(*u),
                _ => None,
            })
            .collect::<Vec<Option<u64>>>()
            .into_pyobject(py)?
            .into_any(),
        Kind::Bool => cells
            .map(|x| match x {
                Cell::Bool(b) => Some(*b),
                _ => None,
            })
            .collect::<Vec<Option<bool>>>()
            .into_pyobject(py)?
            .into_any(),
        Kind::Str => cells
            .map(|x| match x {
                Cell::Null => None,
                other => Some(other.text()),
            })
            .collect::<Vec<Option<String>>>()
            .into_pyobject(py)?
            .into_any(),
    })
}

/// Each column's name and kind (`float`, `int`, `uint`, `bool`, `str`).
type Columns = Vec<(String, String)>;

/// Run a sweep (the `sweep` crate, as `megacluster sweep`): returns (columns as (name, kind),
/// {name: values}). `shard` = (index, count).
#[pyfunction(name = "sweep")]
#[pyo3(signature = (base_file, base_src, base_path, grid_file, grid_src, sections="plan,train,simulate,power,multisite", replicas=8, solve=false, common_seed=false, shard=(0, 1), threads=None, catalogs=None))]
#[allow(clippy::too_many_arguments)]
fn run_sweep<'py>(
    py: Python<'py>,
    base_file: String,
    base_src: String,
    base_path: Option<String>,
    grid_file: String,
    grid_src: String,
    sections: &str,
    replicas: u64,
    solve: bool,
    common_seed: bool,
    shard: (u64, u64),
    threads: Option<usize>,
    catalogs: Option<Vec<String>>,
) -> PyResult<(Columns, Bound<'py, PyDict>)> {
    let sections = ::sweep::Sections::parse(sections).map_err(PyValueError::new_err)?;
    if replicas == 0 {
        return Err(PyValueError::new_err("replicas must be at least 1"));
    }
    if shard.1 == 0 || shard.0 >= shard.1 {
        return Err(PyValueError::new_err(format!(
            "shard = (index, count) with 0 ≤ index < count, got {shard:?}"
        )));
    }
    let cats = paths(catalogs);
    let o = ::sweep::RunOptions {
        sections,
        replicas,
        solve,
        common_seed,
        threads,
    };
    let table = py
        .detach(|| -> Result<::sweep::Table, Failure> {
            let refs: Vec<&Path> = cats.iter().map(|p| p.as_path()).collect();
            let bp = base_path.map(PathBuf::from);
            let catalog = spec::scenario_catalog(bp.as_deref(), &base_file, &base_src, &refs)?;
            let grid = ::sweep::Grid::parse(&grid_file, &grid_src)?;
            let sw = ::sweep::Sweep::new(&base_file, &base_src, catalog, grid)?;
            let shard = ::sweep::Shard {
                index: shard.0,
                count: shard.1,
            };
            Ok(sw.run(&o, shard, &|_, _, _| {})?)
        })
        .map_err(|f| to_py(py, f))?;
    let d = PyDict::new(py);
    for (c, spec) in table.columns.iter().enumerate() {
        d.set_item(&spec.name, column(py, spec.kind, &table.rows, c)?)?;
    }
    let cols = table
        .columns
        .iter()
        .map(|c| (c.name.clone(), c.kind.name().to_string()))
        .collect();
    Ok((cols, d))
}

/// The CLI's allocator (see crates/megacluster/src/main.rs): a sweep's points reuse their
/// threads' freed pages instead of faulting fresh ones in. It serves the Rust side only; Python
/// keeps its own.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scenario>()?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(run_sweep, m)?)?;
    m.add("ScenarioError", m.py().get_type::<ScenarioError>())?;
    m.add("ModelError", m.py().get_type::<ModelError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
