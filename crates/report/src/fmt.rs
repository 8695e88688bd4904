//! Number formatting with units, shared by every section.

/// Thousands separators: 100000 → "100,000".
pub fn thousands(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let neg = v < 0.0;
    let s = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}

/// A value with an SI prefix chosen to keep 1–999 before the unit: 1.5e8 W → "150.0 MW".
pub fn si(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    if v == 0.0 {
        return format!("0 {unit}");
    }
    let a = v.abs();
    let (div, p) = if a >= 1e18 {
        (1e18, "E")
    } else if a >= 1e15 {
        (1e15, "P")
    } else if a >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 {
        (1e9, "G")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else if a >= 1.0 || a == 0.0 {
        (1.0, "")
    } else if a >= 1e-3 {
        (1e-3, "m")
    } else {
        (1e-6, "µ")
    };
    let x = v / div;
    let digits = if x.abs() >= 100.0 {
        1
    } else if x.abs() >= 10.0 {
        2
    } else {
        3
    };
    format!("{:.*} {}{}", digits, x, p, unit)
}

pub fn power(w: f64) -> String {
    si(w, "W")
}

/// Energy from watt-hours.
pub fn energy_wh(wh: f64) -> String {
    si(wh, "Wh")
}

pub fn flops(f: f64) -> String {
    si(f, "FLOP/s")
}

/// Dollars: "$5.62B", "$56.2k", "$1.19".
pub fn usd(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let a = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    if a >= 1e9 {
        format!("{sign}${:.2}B", a / 1e9)
    } else if a >= 1e6 {
        format!("{sign}${:.1}M", a / 1e6)
    } else if a >= 1e3 {
        format!("{sign}${:.1}k", a / 1e3)
    } else {
        format!("{sign}${:.2}", a)
    }
}

/// A duration in the most readable unit.
pub fn duration(s: f64) -> String {
    if !s.is_finite() {
        return "n/a".into();
    }
    let a = s.abs();
    if a >= 2.0 * 86400.0 {
        format!("{:.1} d", s / 86400.0)
    } else if a >= 2.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if a >= 120.0 {
        format!("{:.1} min", s / 60.0)
    } else if a >= 1.0 {
        format!("{:.2} s", s)
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

pub fn percent(f: f64) -> String {
    if !f.is_finite() {
        return "n/a".into();
    }
    format!("{:.1} %", f * 100.0)
}

/// Bytes in binary units: "79.2 GiB".
pub fn bytes(b: f64) -> String {
    if !b.is_finite() {
        return "n/a".into();
    }
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut x = b;
    let mut i = 0;
    while x.abs() >= 1024.0 && i < units.len() - 1 {
        x /= 1024.0;
        i += 1;
    }
    format!("{:.1} {}", x, units[i])
}

/// A text cell for a CSV file that a spreadsheet may open: one that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return would be read as a formula, so it gets a leading `'`
/// (OWASP's advice on CSV injection). A plain number (`-1.5`, `+2e3`) and a lone `-` (a table's
/// "none") are no formula and are written as they are.
pub fn csv_text_cell(s: &str) -> String {
    let inert = s == "-" || s.parse::<f64>().is_ok_and(f64::is_finite);
    if !inert && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// Rows as CSV text (RFC 4180 quoting by the `csv` crate); cells are written as given, so text
/// cells go through [`csv_text_cell`] first.
pub fn csv_rows<I, R>(rows: I) -> String
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in rows {
        // writing to a Vec cannot fail
        let _ = w.write_record(r);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// `s` followed by spaces up to `w` characters. (A `{:<w$}` format panics once `w` passes
/// 65,535, which a long site or hall name reaches.)
fn pad_right(s: &str, w: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(w.saturating_sub(n)))
}

/// Spaces up to `w` characters, then `s`.
fn pad_left(s: &str, w: usize) -> String {
    let n = s.chars().count();
    format!("{}{s}", " ".repeat(w.saturating_sub(n)))
}

/// Left-aligned label, right-aligned value columns.
pub fn rows(rows: &[(String, String)]) -> String {
    let w = rows
        .iter()
        .map(|(a, _)| a.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (a, b) in rows {
        out.push_str(&format!("  {}  {}\n", pad_right(a, w), b));
    }
    out
}

/// A simple table with a header row; the first column is left-aligned, the rest right-aligned.
pub fn table(header: &[&str], body: &[Vec<String>]) -> String {
    let n = header.len();
    let mut w = vec![0; n];
    for (i, h) in header.iter().enumerate() {
        w[i] = h.chars().count();
    }
    for r in body {
        for (i, c) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            if i == 0 {
                s.push_str(&format!(" {}", pad_right(c, w[i])));
            } else {
                s.push_str(&format!("  {}", pad_left(c, w[i])));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(header.iter().map(|s| s.to_string()).collect());
    for r in body {
        out.push_str(&line(r.clone()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_wider_than_a_format_width_do_not_panic() {
        // `{:<w$}` panicked ("Formatting argument out of range") at w ≥ 65,535
        let long = "h".repeat(70_000);
        let r = rows(&[(long.clone(), "1".into()), ("a".into(), "2".into())]);
        assert!(r.starts_with(&format!("  {long}  1\n")));
        assert_eq!(
            r.lines().nth(1).unwrap().chars().count(),
            2 + 70_000 + 2 + 1
        );
        let t = table(&["site", "GPUs"], &[vec![long, "8".into()]]);
        assert!(t.lines().next().unwrap().ends_with("GPUs"));
        assert_eq!(
            table(&["a", "bb"], &[vec!["x".into(), "1".into()]]),
            "  a  bb\n  x   1\n"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(thousands(100000.0), "100,000");
        assert_eq!(power(150e6), "150.0 MW");
        assert_eq!(power(1402.5), "1.403 kW");
        assert_eq!(usd(5.62e9), "$5.62B");
        assert_eq!(usd(56210.0), "$56.2k");
        assert_eq!(usd(1.19), "$1.19");
        assert_eq!(duration(3.0 * 86400.0), "3.0 d");
        assert_eq!(bytes(80.0 * 1073741824.0), "80.0 GiB");
        assert_eq!(percent(0.435), "43.5 %");
    }
}
