//! One self-contained HTML page for a whole run: every section's text and its charts as inline SVG.
//! No scripts, fonts or stylesheets from the network: the page opens offline.

use crate::Report;

/// A chart that belongs to a section.
#[derive(Clone, Debug)]
pub struct Figure {
    /// Key of the section the chart illustrates.
    pub section: String,
    pub title: String,
    /// A complete `<svg>` element.
    pub svg: String,
}

/// A title as a file-name slug: lower case, runs of anything but ASCII letters and digits as one
/// `-` ("Facility power over four steps" → "facility-power-over-four-steps").
pub fn slug(title: &str) -> String {
    title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Escape text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:70rem;\
color:#1d2733;background:#fff;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}\
h2{font-size:1.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2.2rem}\
pre{background:#f6f8fa;padding:1rem;overflow-x:auto;font-size:.82rem;line-height:1.35;border-radius:6px}\
figure{margin:1.2rem 0}figcaption{font-size:.9rem;color:#57606a;margin-bottom:.4rem}\
nav a{margin-right:1rem}.meta{color:#57606a;font-size:.9rem}svg{max-width:100%;height:auto}\
table{border-collapse:collapse;margin:.8rem 0;font-size:.85rem;font-variant-numeric:tabular-nums;display:block;overflow-x:auto}\
caption{text-align:left;font-weight:600;padding:.3rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #d0d7de;\
text-align:right;vertical-align:top}th:first-child,td:first-child{text-align:left}th{background:#f6f8fa;cursor:pointer;\
user-select:none}th[aria-sort=ascending]::after{content:' \\25B2'}th[aria-sort=descending]::after{content:' \\25BC'}\
table.kv td{text-align:left}p.text{margin:.5rem 0;font-size:.9rem}.csv{font-size:.8rem;font-weight:400;margin-left:.6rem}";

/// Click a header to sort its table by that column (numbers by value, with their SI prefix;
/// text alphabetically); click again to reverse. Inline, so the page stays self-contained.
const SORT: &str = "document.querySelectorAll('table.sortable').forEach(function(t){var hs=t.querySelectorAll('thead th');\
hs.forEach(function(h,i){h.addEventListener('click',function(){var asc=h.getAttribute('aria-sort')!=='ascending';\
hs.forEach(function(x){x.removeAttribute('aria-sort')});h.setAttribute('aria-sort',asc?'ascending':'descending');\
var b=t.tBodies[0],rs=Array.prototype.slice.call(b.rows);function v(r){var s=(r.cells[i]||{}).textContent||'';\
var m=s.replace(/,/g,'').replace('\\u2212','-').match(/^[^0-9-]*(-?[0-9.]+(?:e[-+]?[0-9]+)?)\\s*([kMGTPmµ]?)/);\
if(!m)return s;var f={k:1e3,M:1e6,G:1e9,T:1e12,P:1e15,m:1e-3,'µ':1e-6}[m[2]]||1;return parseFloat(m[1])*f}\
rs.sort(function(x,y){var a=v(x),c=v(y);if(typeof a==='number'&&typeof c==='number')return asc?a-c:c-a;\
return asc?String(a).localeCompare(String(c)):String(c).localeCompare(String(a))});rs.forEach(function(r){b.appendChild(r)})})})});";

/// The CSV file name of a section's `n`-th table (what `run --csv DIR` writes and the page links).
pub fn table_csv_name(section: &str, n: usize, caption: Option<&str>) -> String {
    let s = caption.map(slug).filter(|s| !s.is_empty());
    format!(
        "{section}-{:02}-{}.csv",
        n + 1,
        s.as_deref().unwrap_or("table")
    )
}

/// A section's text as HTML: tables as sortable tables (linked to their CSV when `files` holds
/// its name), the rest as paragraphs.
fn section_html(key: &str, text: &str, files: &[String]) -> String {
    use crate::blocks::{blocks, Block};
    let mut h = String::new();
    let mut n = 0;
    for b in blocks(text) {
        match b {
            Block::Text(lines) => {
                h.push_str("<p class=\"text\">");
                h.push_str(
                    &lines
                        .iter()
                        .map(|l| escape(l))
                        .collect::<Vec<_>>()
                        .join("<br>\n"),
                );
                h.push_str("</p>\n");
            }
            Block::Table(t) => {
                let name = table_csv_name(key, n, t.caption.as_deref());
                n += 1;
                let kv = !t.header && t.rows.first().is_some_and(|r| r.len() == 2);
                h.push_str(if kv {
                    "<table class=\"sortable kv\">"
                } else {
                    "<table class=\"sortable\">"
                });
                let link = if files.contains(&name) {
                    format!("<a class=\"csv\" href=\"{}\">CSV</a>", escape(&name))
                } else {
                    String::new()
                };
                if t.caption.is_some() || !link.is_empty() {
                    h.push_str(&format!(
                        "<caption>{}{link}</caption>",
                        escape(t.caption.as_deref().unwrap_or(""))
                    ));
                }
                let mut rows = t.rows.iter();
                if t.header {
                    if let Some(r) = rows.next() {
                        h.push_str("<thead><tr>");
                        for c in r {
                            h.push_str(&format!("<th>{}</th>", escape(c)));
                        }
                        h.push_str("</tr></thead>");
                    }
                }
                h.push_str("<tbody>\n");
                for r in rows {
                    h.push_str("<tr>");
                    for c in r {
                        h.push_str(&format!("<td>{}</td>", escape(c)));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</tbody></table>\n");
            }
        }
    }
    h
}

/// Render the page.
pub fn page(report: &Report, figures: &[Figure]) -> String {
    page_with_files(report, figures, &[])
}

/// Render the page with links to the data files written beside it (`files`: their names, as
/// [`crate::run::csv_files`] gives them).
pub fn page_with_files(report: &Report, figures: &[Figure], files: &[String]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // How many charts the page holds, so a checker can confirm every one rendered.
    let placed = figures
        .iter()
        .filter(|f| report.sections.iter().any(|s| s.key == f.section))
        .count();
    h.push_str(&format!(
        "<meta name=\"megacluster-charts\" content=\"{placed}\">\n"
    ));
    h.push_str(&format!(
        "<title>megacluster — {}</title>\n",
        escape(&report.title)
    ));
    h.push_str(&format!("<style>{STYLE}</style>\n</head>\n<body>\n"));
    h.push_str(&format!(
        "<h1>megacluster — {}</h1>\n",
        escape(&report.title)
    ));
    h.push_str("<p class=\"meta\">Generated by <code>megacluster run --html</code>. Every number carries its unit; \
                the JSON form of the same report is <code>megacluster run --json</code>.</p>\n<nav>");
    for s in &report.sections {
        h.push_str(&format!(
            "<a href=\"#{}\">{}</a>",
            escape(&s.key),
            escape(&s.title)
        ));
    }
    h.push_str("</nav>\n");
    if !files.is_empty() {
        h.push_str("<p class=\"meta\">Data: ");
        let extra: Vec<String> = files
            .iter()
            .filter(|f| *f == "report.csv" || f.starts_with("power-trace"))
            .map(|f| format!("<a href=\"{0}\">{0}</a>", escape(f)))
            .collect();
        h.push_str(&extra.join(" · "));
        h.push_str(" (every table links its own CSV)</p>\n");
    }
    for s in &report.sections {
        h.push_str(&format!(
            "<section id=\"{}\">\n<h2>{}</h2>\n",
            escape(&s.key),
            escape(&s.title)
        ));
        for f in figures.iter().filter(|f| f.section == s.key) {
            h.push_str(&format!(
                // the chart draws its own title: no caption to say it twice
                "<figure data-chart=\"{}\">\n{}\n</figure>\n",
                escape(&f.title),
                f.svg
            ));
        }
        h.push_str(&section_html(&s.key, &s.text, files));
        h.push_str("</section>\n");
    }
    h.push_str(&format!("<script>{SORT}</script>\n</body>\n</html>\n"));
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Section;

    #[test]
    fn page_holds_sections_and_figures() {
        let r = Report {
            title: "t <x>".into(),
            sections: vec![Section {
                key: "plan".into(),
                title: "Plan".into(),
                text: "a < b".into(),
                json: serde_json::Value::Null,
            }],
        };
        let f = vec![Figure {
            section: "plan".into(),
            title: "Capex".into(),
            svg: "<svg></svg>".into(),
        }];
        let p = page(&r, &f);
        assert!(p.contains("<title>megacluster — t &lt;x&gt;</title>"));
        assert!(p.contains("<p class=\"text\">a &lt; b</p>"), "{p}");
        assert!(
            !p.contains("<pre>"),
            "tables and text, not preformatted lines"
        );
        assert!(p.contains("data-chart=\"Capex\""));
        assert!(
            !p.contains("http://") && !p.contains("https://"),
            "no network resources"
        );
    }
}
