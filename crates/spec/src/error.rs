//! Errors that point at the input: file, line, column, field path, what was expected.

use std::fmt;
use std::ops::Range;

/// An error in a scenario or catalogue file. Never a panic: every bad input becomes one of these.
#[derive(Clone, Debug, PartialEq)]
pub struct SpecError {
    /// The file (or `<default scenario>`, `<catalogue:kind>`).
    pub file: String,
    /// 1-based line and column, when the position is known.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Dotted field path, e.g. `site[0].hall[0].gpus`.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
    /// "did you mean …" and similar.
    pub hint: Option<String>,
}

impl SpecError {
    pub fn new(file: &str, path: &str, message: impl Into<String>) -> Self {
        SpecError {
            file: file.to_string(),
            line: None,
            column: None,
            path: path.to_string(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// Fill line and column from a byte span of `src`.
    pub fn at_span(mut self, src: &str, span: Option<Range<usize>>) -> Self {
        if let Some(span) = span {
            let (l, c) = line_col(src, span.start);
            self.line = Some(u32::try_from(l).unwrap_or(u32::MAX));
            self.column = Some(u32::try_from(c).unwrap_or(u32::MAX));
        }
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": ")?;
        if !self.path.is_empty() {
            write!(f, "field `{}`: ", self.path)?;
        }
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// What a TOML error says, never empty: the parser's message, else the explanation lines of its
/// report (below the source excerpt), else what stands at the error's place in `src`.
pub fn toml_message(e: &toml::de::Error, src: &str) -> String {
    // A control character where the parser stopped is the reason, whatever it expected there:
    // TOML allows none but tab, in comments and strings too (TOML 1.0, "Comment" and "String").
    let at = e.span().map(|s| s.start);
    if let Some(c) = at.and_then(|a| src.get(a..)).and_then(|r| r.chars().next()) {
        if (c <= '\u{1f}' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}' {
            return format!(
                "a control character (U+{:04X}) is not allowed in TOML, not even in a comment or a string (only tab is)",
                c as u32
            );
        }
    }
    let m = e.message().trim();
    if !m.is_empty() {
        return m.to_string();
    }
    let shown = e.to_string();
    let tail: Vec<&str> = shown
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("TOML parse error")
                && !l.starts_with('|')
                && l.split_once(" |")
                    .is_none_or(|(n, _)| n.trim().parse::<u64>().is_err())
        })
        .collect();
    if tail.is_empty() {
        let at = e.span().map(|s| s.start).unwrap_or(src.len());
        match src.get(at..).and_then(|r| r.chars().next()) {
            _ if at >= src.trim_end().len() => {
                "the file ends where a value, a closing quote or a closing bracket is expected"
                    .to_string()
            }
            Some(c) => format!("invalid TOML syntax at {c:?}"),
            None => "invalid TOML syntax".to_string(),
        }
    } else {
        tail.join("; ")
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src[..floor_char_boundary(src, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The closest candidate to `name`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let lname = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&lname, &c.to_lowercase());
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    match best {
        Some((s, c)) if s >= 0.75 => Some(format!("did you mean `{c}`?")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column() {
        let src = "a = 1\nbb = \"x\"\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 11), (2, 6));
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(
            did_you_mean("dgx-h10", ["dgx-h100", "gb200-nvl72"]).as_deref(),
            Some("did you mean `dgx-h100`?")
        );
        assert_eq!(did_you_mean("zzzz", ["dgx-h100"]), None);
    }
}
