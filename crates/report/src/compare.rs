//! Two scenarios side by side: every headline figure ([`crate::headline`]) of each, paired by its
//! id, with the difference (`b − a`, and relative to `a`; percentage points for shares). What
//! `megacluster compare a.toml b.toml` prints as text, JSON and an HTML page.

use crate::fmt;
use crate::headline::{self, Headline};
use crate::{Report, Section};
use serde_json::{json, Value};

/// One figure of the comparison; `a` or `b` is `None` where that scenario has no such figure
/// (no job, one site).
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub id: String,
    pub label: String,
    pub unit: &'static str,
    pub a: Option<f64>,
    pub b: Option<f64>,
    pub higher_is_better: Option<bool>,
}

impl Row {
    /// `b − a` where both exist.
    pub fn difference(&self) -> Option<f64> {
        Some(self.b? - self.a?)
    }
    /// `(b − a) / |a|` where both exist and `a` is not zero.
    pub fn relative(&self) -> Option<f64> {
        let (a, b) = (self.a?, self.b?);
        (a != 0.0).then(|| (b - a) / a.abs())
    }
}

/// The headline figures of both reports, in `a`'s order, then those only `b` has.
pub fn rows(a: &Report, b: &Report) -> Vec<Row> {
    let heads =
        |r: &Report| -> Vec<Headline> { r.sections.iter().flat_map(headline::of).collect() };
    let (ha, hb) = (heads(a), heads(b));
    let mut out: Vec<Row> = ha
        .iter()
        .map(|h| Row {
            id: h.id.clone(),
            label: h.label.clone(),
            unit: h.unit,
            a: Some(h.value),
            b: hb.iter().find(|x| x.id == h.id).map(|x| x.value),
            higher_is_better: h.higher_is_better,
        })
        .collect();
    for h in hb.iter().filter(|h| !ha.iter().any(|x| x.id == h.id)) {
        out.push(Row {
            id: h.id.clone(),
            label: h.label.clone(),
            unit: h.unit,
            a: None,
            b: Some(h.value),
            higher_is_better: h.higher_is_better,
        });
    }
    out
}

fn value(unit: &str, v: Option<f64>) -> String {
    v.map_or("—".into(), |v| headline::text(unit, v))
}

/// The difference in words: "+1.2 points" for shares, "+$0.12/GPU-h (+10.5 %)" otherwise.
fn difference(r: &Row) -> String {
    let Some(d) = r.difference() else {
        return "—".into();
    };
    if d == 0.0 {
        return "same".into();
    }
    let sign = if d > 0.0 { "+" } else { "−" };
    match r.unit {
        "fraction" => format!("{sign}{:.1} points", d.abs() * 100.0),
        "pass" => if d > 0.0 { "now passes" } else { "now fails" }.into(),
        u => {
            let rel = r
                .relative()
                .map(|x| format!(" ({sign}{:.1} %)", x.abs() * 100.0))
                .unwrap_or_default();
            format!("{sign}{}{rel}", headline::text(u, d.abs()))
        }
    }
}

/// The comparison as a section (text table and JSON).
pub fn section(a_name: &str, a: &Report, b_name: &str, b: &Report) -> Section {
    let rows = rows(a, b);
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.label.clone(),
                value(r.unit, r.a),
                value(r.unit, r.b),
                difference(r),
            ]
        })
        .collect();
    let mut text = format!(
        "  a: {a_name} — {}\n  b: {b_name} — {}\n\n",
        a.title, b.title
    );
    text.push_str(&fmt::table(&["figure", "a", "b", "b − a"], &body));
    let json = json!({
        "a": { "file": a_name, "scenario": a.title },
        "b": { "file": b_name, "scenario": b.title },
        "figures": rows.iter().map(|r| json!({
            "id": r.id,
            "label": r.label,
            "unit": r.unit,
            "a": r.a,
            "b": r.b,
            "difference": r.difference(),
            "relative": r.relative(),
            "higher_is_better": r.higher_is_better,
        })).collect::<Vec<Value>>(),
    });
    Section {
        key: "compare".into(),
        title: "Compare".into(),
        text,
        json,
    }
}

/// A self-contained HTML page of the comparison: one table, better / worse differences coloured.
pub fn page(a_name: &str, a: &Report, b_name: &str, b: &Report) -> String {
    use crate::html::escape;
    let mut h = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>megacluster — compare</title>\n\
         <style>body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d2733}\
         table{border-collapse:collapse}th,td{padding:.3rem .7rem;border-bottom:1px solid #d0d7de;text-align:right}\
         th:first-child,td:first-child{text-align:left}.better{color:#1a7f37}.worse{color:#cf222e}</style>\n</head>\n<body>\n",
    );
    h.push_str(&format!(
        "<h1>megacluster — compare</h1>\n<p>a: <code>{}</code> — {}<br>b: <code>{}</code> — {}</p>\n",
        escape(a_name),
        escape(&a.title),
        escape(b_name),
        escape(&b.title)
    ));
    h.push_str("<table>\n<thead><tr><th>figure</th><th>a</th><th>b</th><th>b − a</th></tr></thead>\n<tbody>\n");
    for r in rows(a, b) {
        let class = match (r.difference(), r.higher_is_better) {
            (Some(d), Some(up)) if d != 0.0 => {
                if (d > 0.0) == up {
                    " class=\"better\""
                } else {
                    " class=\"worse\""
                }
            }
            _ => "",
        };
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td{class}>{}</td></tr>\n",
            escape(&r.label),
            escape(&value(r.unit, r.a)),
            escape(&value(r.unit, r.b)),
            escape(&difference(&r))
        ));
    }
    h.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(title: &str, tco: f64, ettr: f64) -> Report {
        Report {
            title: title.into(),
            sections: vec![
                Section {
                    key: "plan".into(),
                    title: "Plan".into(),
                    text: String::new(),
                    json: json!({ "gpus": 100000, "tco_usd_per_gpu_hour": tco }),
                },
                Section {
                    key: "reliability".into(),
                    title: "Reliability".into(),
                    text: String::new(),
                    json: json!({ "ettr": { "mean": ettr } }),
                },
            ],
        }
    }

    #[test]
    fn figures_pair_by_id_with_their_differences() {
        let (a, b) = (report("a", 1.14, 0.733), report("b", 1.26, 0.70));
        let rows = rows(&a, &b);
        let tco = rows
            .iter()
            .find(|r| r.id == "plan.tco_per_gpu_hour")
            .unwrap();
        assert_eq!((tco.a, tco.b), (Some(1.14), Some(1.26)));
        assert!((tco.relative().unwrap() - 0.12 / 1.14).abs() < 1e-12);
        let s = section("a.toml", &a, "b.toml", &b);
        assert!(s.text.contains("+$0.12/GPU-h (+10.5 %)"), "{}", s.text);
        assert!(s.text.contains("−3.3 points"), "{}", s.text);
        assert!(s.text.contains("same"), "{}", s.text);
        let p = page("a.toml", &a, "b.toml", &b);
        assert!(
            p.contains("<td class=\"worse\">+$0.12/GPU-h (+10.5 %)</td>"),
            "{p}"
        );
    }
}
