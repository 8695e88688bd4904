//! Formatting for megacluster: terminal text, JSON sections, charts.
//!
//! Architecture invariant: the only crate that formats numbers for people. Models hand it plain
//! data; it never computes a model figure itself.

pub mod campus;
pub mod fmt;
pub mod headline;
pub mod html;
pub mod multisite;
pub mod plan;
pub mod power;
pub mod run;
pub mod simulate;
mod svg;
pub mod train;

use serde::Serialize;

/// One section of a report: a JSON object under `key`, and its text form for the terminal.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    /// JSON key of the section in `run --json` (snake_case).
    pub key: String,
    /// Heading in the terminal report.
    pub title: String,
    /// Rendered text, units on every number.
    pub text: String,
    /// Machine-readable content.
    pub json: serde_json::Value,
}

/// In a multi-site scenario the step model and the reliability timeline run the job on the first
/// site alone: say so in the section (text and JSON `scope`), and where the whole job is.
pub fn with_scope(mut sec: Section, scope: Option<&pipeline::Scope>) -> Section {
    let Some(s) = scope else {
        return sec;
    };
    let scope = format!(
        "the first site alone (`{}`, {} of the {} GPUs of {} sites); the power section's step and the multi-site section run the job over every site",
        s.first_site,
        fmt::thousands(s.first_site_gpus as f64),
        fmt::thousands(s.gpus as f64),
        s.sites
    );
    sec.text.push_str(&format!("  Scope: {scope}\n"));
    if let serde_json::Value::Object(m) = &mut sec.json {
        m.insert("scope".into(), scope.into());
    }
    sec
}

/// A whole report: sections in order.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub title: String,
    pub sections: Vec<Section>,
}

impl Report {
    /// Terminal text: a title, then each section under its heading.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if !self.title.is_empty() {
            out.push_str(&format!("megacluster — {}\n", self.title));
        }
        for s in &self.sections {
            out.push_str(&format!("\n== {} ==\n", s.title));
            out.push_str(&s.text);
            if !s.text.ends_with('\n') {
                out.push('\n');
            }
        }
        out
    }

    /// JSON: `{ "scenario": title, "<key>": {...}, ... }`, keys in section order.
    pub fn json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert(
            "scenario".into(),
            serde_json::Value::String(self.title.clone()),
        );
        for s in &self.sections {
            m.insert(s.key.clone(), s.json.clone());
        }
        serde_json::Value::Object(m)
    }
}
