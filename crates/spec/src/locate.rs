//! Find where a field path (`site[0].hall[0].gpus`) sits in a TOML source, for error positions.

use std::ops::Range;
use toml_edit::{ImDocument, Item, Value};

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = vec![];
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let Some((n, tail)) = r.split_once(']') else {
                break;
            };
            if let Ok(i) = n.parse() {
                out.push(Seg::Index(i));
            }
            rest = tail;
        }
    }
    out
}

/// The byte span of the value at `path`, or of its deepest ancestor present in `src`.
pub fn span_of(src: &str, path: &str) -> Option<Range<usize>> {
    let doc = ImDocument::parse(src.to_string()).ok()?;
    let mut best: Option<Range<usize>> = None;
    let mut cur: Cursor = Cursor::Item(doc.as_item());
    for seg in segments(path) {
        let next = match (&cur, seg) {
            (Cursor::Item(item), Seg::Key(k)) => match item {
                Item::Table(t) => t.get(k).map(Cursor::Item),
                Item::Value(Value::InlineTable(t)) => t.get(k).map(Cursor::Value),
                _ => None,
            },
            (Cursor::Item(item), Seg::Index(i)) => match item {
                Item::ArrayOfTables(a) => a.get(i).map(Cursor::Table),
                Item::Value(Value::Array(a)) => a.get(i).map(Cursor::Value),
                _ => None,
            },
            (Cursor::Table(t), Seg::Key(k)) => t.get(k).map(Cursor::Item),
            (Cursor::Value(v), Seg::Key(k)) => match v {
                Value::InlineTable(t) => t.get(k).map(Cursor::Value),
                _ => None,
            },
            (Cursor::Value(v), Seg::Index(i)) => match v {
                Value::Array(a) => a.get(i).map(Cursor::Value),
                _ => None,
            },
            (Cursor::Table(_), Seg::Index(_)) => None,
        };
        match next {
            Some(n) => {
                if let Some(s) = n.span() {
                    best = Some(s);
                }
                cur = n;
            }
            None => break,
        }
    }
    best
}

enum Cursor<'a> {
    Item(&'a Item),
    Table(&'a toml_edit::Table),
    Value(&'a Value),
}

impl Cursor<'_> {
    fn span(&self) -> Option<Range<usize>> {
        match self {
            Cursor::Item(i) => i.span(),
            Cursor::Table(t) => t.span(),
            Cursor::Value(v) => v.span(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields() {
        let src = "name = \"x\"\n[[site]]\nname = \"a\"\n[[site.hall]]\ngpus = 5\nsystem = { from = \"dgx\", node_power = \"1 kW\" }\n";
        let s = span_of(src, "site[0].hall[0].gpus").unwrap();
        assert_eq!(&src[s], "5");
        let s = span_of(src, "site[0].hall[0].system.node_power").unwrap();
        assert_eq!(&src[s], "\"1 kW\"");
        // missing leaf: falls back to the deepest ancestor
        assert!(span_of(src, "site[0].hall[0].fabric").is_some());
    }
}
