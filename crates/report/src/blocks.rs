//! A section's text read back as blocks for the HTML page and the CSV files: paragraphs, and
//! tables with their caption, header and cells. The text is the one place the report words its
//! figures; its tables are laid out by [`crate::fmt::table`] and [`crate::fmt::rows`] in columns
//! separated by at least two spaces, so the columns are the character positions that some line
//! fills, split where every line of the table leaves two or more positions blank.

/// A piece of a section's text.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// Lines of text (headings, notes, answers), trimmed.
    Text(Vec<String>),
    Table(Table),
}

/// A table of a section's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The line just above it (`"Power chain per GPU"`), if it had one.
    pub caption: Option<String>,
    /// Whether the first row is a header (a table of `fmt::table`), or every row is data (the
    /// label–value rows of `fmt::rows`).
    pub header: bool,
    pub rows: Vec<Vec<String>>,
}

/// Whether a line holds two cells: text, two blanks or more, text.
fn gapped(line: &str) -> bool {
    line.trim().contains("  ")
}

/// The columns (start, end) in characters of table lines.
fn columns(lines: &[Vec<char>]) -> Vec<(usize, usize)> {
    let width = lines.iter().map(|l| l.len()).max().unwrap_or(0);
    let filled: Vec<bool> = (0..width)
        .map(|p| lines.iter().any(|l| l.get(p).is_some_and(|c| *c != ' ')))
        .collect();
    let mut cols = vec![];
    let mut p = 0;
    while p < width {
        if !filled[p] {
            p += 1;
            continue;
        }
        let start = p;
        let mut end = p;
        // a column runs on across single blanks (spaces between words)
        while p < width {
            if filled[p] {
                end = p + 1;
                p += 1;
            } else if p + 1 < width && filled[p + 1] {
                p += 1;
            } else {
                break;
            }
        }
        cols.push((start, end));
    }
    cols
}

fn has_digit(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
}

fn table(caption: Option<String>, lines: &[&str]) -> Option<Table> {
    let chars: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let cols = columns(&chars);
    if cols.len() < 2 {
        return None;
    }
    let rows: Vec<Vec<String>> = chars
        .iter()
        .map(|l| {
            cols.iter()
                .map(|&(a, b)| {
                    let b = b.min(l.len());
                    if a >= b {
                        String::new()
                    } else {
                        l[a..b].iter().collect::<String>().trim().to_string()
                    }
                })
                .collect()
        })
        .collect();
    // fmt::table starts with a header of words; fmt::rows has label–value rows only
    let header = rows.len() > 1
        && (cols.len() > 2
            || (!has_digit(&rows[0][1]) && rows[1..].iter().all(|r| has_digit(&r[1]))));
    Some(Table {
        caption,
        header,
        rows,
    })
}

/// The blocks of a section's text, in order.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut out = vec![];
    let mut text_lines: Vec<String> = vec![];
    let flush = |t: &mut Vec<String>, out: &mut Vec<Block>| {
        if !t.is_empty() {
            out.push(Block::Text(std::mem::take(t)));
        }
    };
    for group in text.split("\n\n") {
        let lines: Vec<&str> = group.lines().filter(|l| !l.trim().is_empty()).collect();
        let mut i = 0;
        while i < lines.len() {
            if !gapped(lines[i]) {
                text_lines.push(lines[i].trim().to_string());
                i += 1;
                continue;
            }
            let j = (i..lines.len())
                .find(|&k| !gapped(lines[k]))
                .unwrap_or(lines.len());
            // the line above a table, when it is a heading (not a note in brackets, a list
            // item or a warning), captions it
            let caption = text_lines
                .last()
                .filter(|l| !l.starts_with(['(', '-', '!']))
                .is_some()
                .then(|| text_lines.pop())
                .flatten();
            match table(caption.clone(), &lines[i..j]) {
                Some(t) => {
                    flush(&mut text_lines, &mut out);
                    out.push(Block::Table(t));
                }
                None => {
                    text_lines.extend(caption);
                    text_lines.extend(lines[i..j].iter().map(|l| l.trim().to_string()));
                }
            }
            i = j;
        }
        flush(&mut text_lines, &mut out);
    }
    out
}

/// A table as CSV, through the `csv` crate's RFC 4180 quoting ([`crate::fmt::csv_rows`]); a text
/// cell a spreadsheet would read as a formula gets a leading `'` ([`crate::fmt::csv_text_cell`]).
pub fn csv(t: &Table) -> String {
    crate::fmt::csv_rows(
        t.rows
            .iter()
            .map(|r| r.iter().map(|c| crate::fmt::csv_text_cell(c))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt;

    #[test]
    fn tables_and_rows_read_back_cell_by_cell() {
        let mut text = fmt::rows(&[
            ("GPUs".into(), "100,000".into()),
            ("Energy per year, costed".into(), "1.051 TWh".into()),
        ]);
        text.push_str("\n  Power chain per GPU\n");
        text.push_str(&fmt::table(
            &["hall", "GPU TDP", "system", "", "PUE"],
            &[
                vec![
                    "memphis/hall-1 (100,000 × h100-sxm)".into(),
                    "700.0 W".into(),
                    "1.275 kW".into(),
                    "pass".into(),
                    "1.14".into(),
                ],
                vec![
                    "b".into(),
                    "1 W".into(),
                    "2 W".into(),
                    "does not apply (peak 74.99 MW < 75.00 MW)".into(),
                    "1.20".into(),
                ],
            ],
        ));
        text.push_str("  (a note under the table)\n");
        let b = blocks(&text);
        assert_eq!(b.len(), 3, "{b:?}");
        let Block::Table(kv) = &b[0] else {
            panic!("{b:?}")
        };
        assert!(!kv.header && kv.caption.is_none());
        assert_eq!(kv.rows[1], vec!["Energy per year, costed", "1.051 TWh"]);
        let Block::Table(t) = &b[1] else {
            panic!("{b:?}")
        };
        assert_eq!(t.caption.as_deref(), Some("Power chain per GPU"));
        assert!(t.header);
        assert_eq!(t.rows[0], vec!["hall", "GPU TDP", "system", "", "PUE"]);
        assert_eq!(
            t.rows[2],
            vec![
                "b",
                "1 W",
                "2 W",
                "does not apply (peak 74.99 MW < 75.00 MW)",
                "1.20"
            ]
        );
        assert_eq!(b[2], Block::Text(vec!["(a note under the table)".into()]));
        assert!(csv(t).starts_with(
            "hall,GPU TDP,system,,PUE\n\"memphis/hall-1 (100,000 × h100-sxm)\",700.0 W"
        ));
    }

    #[test]
    fn table_csv_quotes_by_the_csv_crate_and_neutralises_only_formulas() {
        // before: a lone "-" (a table's "none") and a negative number came out as "'-" and
        // "'-3.5", and a cell starting with a tab or a carriage return was not neutralised
        let t = Table {
            caption: None,
            header: true,
            rows: vec![
                vec!["site".into(), "ramp".into(), "delta".into()],
                vec![
                    "=HYPERLINK(\"x\",\"a,b\")".into(),
                    "-".into(),
                    "-3.5".into(),
                ],
                vec!["\tcmd".into(), "+SUM(A1)".into(), "line\nbreak".into()],
            ],
        };
        assert_eq!(
            csv(&t),
            "site,ramp,delta\n\"'=HYPERLINK(\"\"x\"\",\"\"a,b\"\")\",-,-3.5\n'\tcmd,'+SUM(A1),\"line\nbreak\"\n"
        );
    }
}
