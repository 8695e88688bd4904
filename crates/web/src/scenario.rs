//! A scenario posted to the server: parsed by `spec` exactly as the CLI parses a file, except that
//! it may not name catalogue files (the server reads nothing from disk); and the planner's knobs,
//! read from the resolved scenario and written back into its TOML text.

use serde::{Deserialize, Serialize};
use spec::catalog::Catalog;
use spec::{Scenario, SpecError};
use std::sync::OnceLock;

/// The label of a posted scenario when the request names none.
pub const POSTED: &str = "scenario.toml";

/// The embedded catalogue, parsed once.
pub fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(Catalog::embedded)
}

/// The name errors give the posted text: the `file` the request names (a label, never opened),
/// else [`POSTED`]. Control characters are dropped and the label is at most 200 characters.
pub fn label(file: Option<&str>) -> String {
    let l: String = file
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if l.trim().is_empty() {
        POSTED.to_string()
    } else {
        l
    }
}

/// Why a posted scenario may not name catalogue files.
pub const NO_FILES: &str = "a scenario posted to `megacluster serve` may not load catalogue files: the server reads nothing from disk";
const NO_FILES_HINT: &str = "define the entries inline instead (`system = { from = \"hgx-h100\", node_price = \"$250k\" }`), or run `megacluster run FILE` on the command line, which reads them";

/// Parse and resolve posted scenario text against the embedded catalogue, as `megacluster run`
/// does with a file; `catalog = [...]` is refused at its line.
pub fn parse(file: &str, src: &str) -> Result<Scenario, SpecError> {
    if let Ok(doc) = toml_edit::ImDocument::parse(src) {
        if let Some((key, item)) = doc.as_table().get_key_value("catalog") {
            let span = key.span().or_else(|| item.span());
            return Err(SpecError::new(file, "catalog", NO_FILES)
                .with_hint(Some(NO_FILES_HINT.into()))
                .at_span(src, span));
        }
    }
    spec::parse_scenario(file, src, catalog())
}

/// The knobs the page shows, read from a resolved scenario (SI units; `None` where the scenario
/// has no such thing, e.g. no link).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Knobs {
    pub gpus: Option<u64>,
    pub job_gpus: Option<u64>,
    pub system: Option<String>,
    pub grid_w: Option<f64>,
    pub battery_w: Option<f64>,
    pub battery_wh: Option<f64>,
    pub cooling: Option<String>,
    pub model: Option<String>,
    pub tokens: Option<f64>,
    pub link_bits_per_s: Option<f64>,
    pub link_m: Option<f64>,
    pub strategy: Option<String>,
    /// `None` with a job: `"auto"` (Young/Daly); the interval otherwise.
    pub checkpoint_s: Option<f64>,
    pub gpu_floor_fraction: Option<f64>,
    /// How many sites and links the scenario has (the page hides what does not apply).
    #[serde(default)]
    pub sites: usize,
    #[serde(default)]
    pub links: usize,
    #[serde(default)]
    pub has_job: bool,
}

pub fn knobs(s: &Scenario) -> Knobs {
    let site = s.sites.first();
    let hall = site.and_then(|x| x.halls.first());
    let job = s.job.as_ref();
    Knobs {
        gpus: hall.map(|h| h.gpus),
        job_gpus: job.map(|j| j.gpus.unwrap_or_else(|| s.total_gpus())),
        system: hall.map(|h| h.system.name.clone()),
        grid_w: site.and_then(|x| x.grid).map(|p| p.w()),
        battery_w: site.and_then(|x| x.battery.as_ref()).map(|b| b.power.w()),
        battery_wh: site.and_then(|x| x.battery.as_ref()).map(|b| b.energy.wh()),
        cooling: site.map(|x| x.cooling.name.clone()),
        model: job.map(|j| j.model.name.clone()),
        tokens: job.map(|j| j.tokens),
        link_bits_per_s: s.links.first().map(|l| l.capacity.bits_per_s()),
        link_m: s.links.first().map(|l| l.distance.m()),
        strategy: s.sync.as_ref().filter(|_| s.sites.len() > 1).map(|y| {
            serde_json::to_value(y.strategy)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default()
        }),
        checkpoint_s: match &s.reliability.checkpoint {
            spec::reliability::CheckpointSpec::Interval(x) => Some(*x),
            _ => None,
        },
        gpu_floor_fraction: s.power.mitigation.gpu_floor_fraction,
        sites: s.sites.len(),
        links: s.links.len(),
        has_job: job.is_some(),
    }
}

/// A knob the page moved, with its new value (SI units; text for the named ones).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "knob", content = "value", rename_all = "snake_case")]
pub enum Set {
    Gpus(u64),
    JobGpus(u64),
    System(String),
    GridW(f64),
    /// Battery power and energy; zero power removes the battery.
    Battery {
        w: f64,
        wh: f64,
    },
    Cooling(String),
    Model(String),
    Tokens(f64),
    LinkBitsPerS(f64),
    LinkM(f64),
    Strategy(String),
    /// `None`: `"auto"`.
    CheckpointS(Option<f64>),
    /// Zero removes the floor.
    GpuFloorFraction(f64),
}

/// A number as TOML writes it in a scenario: integers without a fraction, others with up to 6
/// significant digits.
fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn text_value(s: String) -> toml_edit::Item {
    toml_edit::value(s)
}

/// An edit that cannot be made (a field the scenario does not have), located like the CLI's errors.
fn no_such(file: &str, field: &str, what: &str) -> SpecError {
    SpecError::new(file, field, format!("the scenario has no {what} to change"))
}

/// Write one knob into the scenario's TOML text, keeping the rest of the text as written.
pub fn apply(file: &str, src: &str, set: &Set) -> Result<String, SpecError> {
    use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};
    let mut doc: DocumentMut = src.parse().map_err(|e: toml_edit::TomlError| {
        // worded as the CLI words it (toml_edit's own message can be empty: `name = `)
        let message = match toml::from_str::<toml::Table>(src) {
            Err(t) => spec::error::toml_message(&t, src),
            Ok(_) => e.message().trim().to_string(),
        };
        let message = if message.is_empty() {
            "invalid TOML syntax".to_string()
        } else {
            message
        };
        SpecError::new(file, "", format!("malformed TOML: {message}")).at_span(src, e.span())
    })?;
    fn aot<'a>(doc: &'a mut DocumentMut, key: &str) -> Option<&'a mut toml_edit::ArrayOfTables> {
        doc.get_mut(key).and_then(Item::as_array_of_tables_mut)
    }
    fn table<'a>(doc: &'a mut DocumentMut, key: &str) -> &'a mut Table {
        if !doc.contains_key(key) {
            let mut t = Table::new();
            t.set_implicit(false);
            doc.insert(key, Item::Table(t));
        }
        doc[key].as_table_mut().expect("just made a table")
    }
    fn site0<'a>(doc: &'a mut DocumentMut, file: &str) -> Result<&'a mut Table, SpecError> {
        aot(doc, "site")
            .and_then(|a| a.get_mut(0))
            .ok_or_else(|| no_such(file, "site[0]", "[[site]]"))
    }
    match set {
        Set::Gpus(n) => {
            let hall = site0(&mut doc, file)?
                .get_mut("hall")
                .and_then(Item::as_array_of_tables_mut)
                .and_then(|a| a.get_mut(0))
                .ok_or_else(|| no_such(file, "site[0].hall[0]", "[[site.hall]]"))?;
            hall["gpus"] = toml_edit::value(*n as i64);
            // a job larger than the GPUs installed is invalid; keep it inside them
            if let Some(job) = doc.get_mut("job").and_then(Item::as_table_like_mut) {
                if let Some(g) = job.get("gpus").and_then(Item::as_integer) {
                    if g as u64 > *n {
                        job.insert("gpus", toml_edit::value(*n as i64));
                    }
                }
            }
        }
        Set::JobGpus(n) => {
            let job = doc
                .get_mut("job")
                .and_then(Item::as_table_like_mut)
                .ok_or_else(|| no_such(file, "job", "[job]"))?;
            job.insert("gpus", toml_edit::value(*n as i64));
        }
        Set::System(name) => {
            let hall = site0(&mut doc, file)?
                .get_mut("hall")
                .and_then(Item::as_array_of_tables_mut)
                .and_then(|a| a.get_mut(0))
                .ok_or_else(|| no_such(file, "site[0].hall[0]", "[[site.hall]]"))?;
            hall["system"] = text_value(name.clone());
        }
        Set::GridW(w) => {
            site0(&mut doc, file)?["grid"] = text_value(format!("{} MW", num(w / 1e6)));
        }
        Set::Battery { w, wh } => {
            let site = site0(&mut doc, file)?;
            if *w > 0.0 && *wh > 0.0 {
                let mut t = InlineTable::new();
                t.insert("power", Value::from(format!("{} MW", num(w / 1e6))));
                t.insert("energy", Value::from(format!("{} MWh", num(wh / 1e6))));
                if let Some(e) = site
                    .get("battery")
                    .and_then(Item::as_table_like)
                    .and_then(|b| b.get("efficiency"))
                    .and_then(Item::as_value)
                {
                    t.insert("efficiency", e.clone());
                }
                site["battery"] = Item::Value(Value::InlineTable(t));
            } else {
                site.remove("battery");
            }
        }
        Set::Cooling(name) => {
            site0(&mut doc, file)?["cooling"] = text_value(name.clone());
        }
        Set::Model(name) => {
            let job = doc
                .get_mut("job")
                .and_then(Item::as_table_like_mut)
                .ok_or_else(|| no_such(file, "job", "[job]"))?;
            job.insert("model", text_value(name.clone()));
        }
        Set::Tokens(t) => {
            let job = doc
                .get_mut("job")
                .and_then(Item::as_table_like_mut)
                .ok_or_else(|| no_such(file, "job", "[job]"))?;
            job.insert("tokens", text_value(format!("{}T", num(t / 1e12))));
        }
        Set::LinkBitsPerS(b) => {
            let links = aot(&mut doc, "link").ok_or_else(|| no_such(file, "link", "[[link]]"))?;
            for l in links.iter_mut() {
                for k in ["fiber_pairs", "wavelengths", "wavelength_rate"] {
                    l.remove(k);
                }
                l["capacity"] = text_value(format!("{} Tbps", num(b / 1e12)));
            }
        }
        Set::LinkM(m) => {
            let links = aot(&mut doc, "link").ok_or_else(|| no_such(file, "link", "[[link]]"))?;
            for l in links.iter_mut() {
                l["distance"] = text_value(format!("{} km", num(m / 1e3)));
            }
        }
        Set::Strategy(name) => {
            let job = doc
                .get_mut("job")
                .and_then(Item::as_table_mut)
                .ok_or_else(|| no_such(file, "job", "[job]"))?;
            if !job.contains_key("sync") {
                let mut t = Table::new();
                t.set_implicit(false);
                job.insert("sync", Item::Table(t));
            }
            let sync = job["sync"]
                .as_table_like_mut()
                .ok_or_else(|| no_such(file, "job.sync", "[job.sync] table"))?;
            sync.insert("strategy", text_value(name.clone()));
        }
        Set::CheckpointS(x) => {
            let v = match x {
                None => "auto".to_string(),
                Some(s) => format!("{} min", num(s / 60.0)),
            };
            table(&mut doc, "reliability")["checkpoint"] = text_value(v);
        }
        Set::GpuFloorFraction(f) => {
            let power = table(&mut doc, "power");
            if !power.contains_key("mitigation") {
                if *f <= 0.0 {
                    return Ok(doc.to_string());
                }
                power["mitigation"] = Item::Value(Value::InlineTable(InlineTable::new()));
            }
            let m = power["mitigation"]
                .as_table_like_mut()
                .ok_or_else(|| no_such(file, "power.mitigation", "[power] mitigation table"))?;
            if *f > 0.0 {
                m.insert("gpu_floor", text_value(format!("{}%", num(f * 100.0))));
            } else {
                m.remove("gpu_floor");
                if m.is_empty() {
                    power.remove("mitigation");
                }
            }
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_write_back_into_the_text() {
        let src = spec::scenario::DEFAULT_SCENARIO;
        let t = apply("d", src, &Set::Gpus(122_880)).unwrap();
        let k = knobs(&parse("d", &t).unwrap());
        assert_eq!(k.gpus, Some(122_880));
        let t = apply("d", &t, &Set::GridW(2.0e8)).unwrap();
        let t = apply("d", &t, &Set::Battery { w: 5e7, wh: 2e8 }).unwrap();
        let t = apply("d", &t, &Set::CheckpointS(Some(1800.0))).unwrap();
        let t = apply("d", &t, &Set::GpuFloorFraction(0.9)).unwrap();
        let t = apply("d", &t, &Set::Tokens(20e12)).unwrap();
        let k = knobs(&parse("d", &t).unwrap());
        assert_eq!(k.grid_w, Some(2.0e8));
        assert_eq!(k.battery_w, Some(5e7));
        assert_eq!(k.battery_wh, Some(2e8));
        assert_eq!(k.checkpoint_s, Some(1800.0));
        assert_eq!(k.gpu_floor_fraction, Some(0.9));
        assert_eq!(k.tokens, Some(20e12));
        let t = apply("d", &t, &Set::GpuFloorFraction(0.0)).unwrap();
        let t = apply("d", &t, &Set::Battery { w: 0.0, wh: 0.0 }).unwrap();
        let k = knobs(&parse("d", &t).unwrap());
        assert_eq!(k.gpu_floor_fraction, None);
        assert_eq!(k.battery_w, None);
    }

    #[test]
    fn a_catalogue_file_is_refused_at_its_line() {
        let src = "name = \"x\"\n\ncatalog = [\"my.toml\"]\n";
        let e = parse("a.toml", src).unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(1)));
        assert_eq!(e.path, "catalog");
        assert!(e.message.contains("reads nothing from disk"), "{e}");
    }

    #[test]
    fn a_knob_on_malformed_text_says_what_is_wrong() {
        // toml_edit words both with an empty message; the CLI's wording says what it expected
        for src in ["name = ", "name = \"x\"\n# a \u{7} bell in a comment\n"] {
            let e = apply("s.toml", src, &Set::Gpus(8)).unwrap_err();
            let m = e.message.trim_start_matches("malformed TOML:").trim();
            assert!(m.len() > 8, "{src:?} gives {:?}", e.message);
            assert!(e.line.is_some(), "{src:?} gives no line: {e}");
        }
    }
}
