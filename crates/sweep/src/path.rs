//! Scenario field paths (`site[0].hall[0].gpus`, `link[*].capacity`, `job.sync.strategy`) and
//! setting a value at one in a TOML document, formatting and comments of everything else kept.

use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
    /// `[*]`: every element of the array.
    All,
}

/// A parsed field path, as written and as segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub text: String,
    pub segs: Vec<Seg>,
}

fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

impl Path {
    /// Parse `a.b[0].c[*].d`: keys of letters, digits, `_` and `-`; indices or `*` in brackets.
    pub fn parse(text: &str) -> Result<Path, String> {
        let t = text.trim();
        let bad = |why: &str| {
            Err(format!(
                "`{t}` is not a field path ({why}); write it like `site[0].hall[0].gpus` or `link[*].capacity`"
            ))
        };
        if t.is_empty() {
            return bad("empty");
        }
        let mut segs = vec![];
        for part in t.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() || !key.chars().all(key_char) {
                return bad("each part is a key of letters, digits, `_` or `-`");
            }
            segs.push(Seg::Key(key.to_string()));
            while !rest.is_empty() {
                let Some(r) = rest.strip_prefix('[') else {
                    return bad("text after `]`");
                };
                let Some((n, tail)) = r.split_once(']') else {
                    return bad("`[` without `]`");
                };
                if n == "*" {
                    segs.push(Seg::All);
                } else {
                    match n.parse::<usize>() {
                        Ok(i) => segs.push(Seg::Index(i)),
                        Err(_) => return bad("an index is a whole number or `*`"),
                    }
                }
                rest = tail;
            }
        }
        Ok(Path {
            text: t.to_string(),
            segs,
        })
    }

    /// The dotted path spec uses in its errors for a concrete path (`*` kept).
    pub fn dotted(segs: &[Seg]) -> String {
        let mut s = String::new();
        for g in segs {
            match g {
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
                Seg::All => s.push_str("[*]"),
            }
        }
        s
    }

    /// Whether the concrete field path `field` (as in a `SpecError`) is this path or lies inside
    /// it, `*` matching any index.
    pub fn covers(&self, field: &str) -> bool {
        let Ok(f) = Path::parse(field) else {
            return false;
        };
        if f.segs.len() < self.segs.len() {
            return false;
        }
        self.segs.iter().zip(&f.segs).all(|(a, b)| match (a, b) {
            (Seg::All, Seg::Index(_)) => true,
            (a, b) => a == b,
        })
    }

    /// Whether `field` is the table this path's last key sits in, `*` matching any index.
    pub fn parent_is(&self, field: &str) -> bool {
        let n = self.segs.len();
        if n < 2 {
            return field.is_empty();
        }
        let parent = Path {
            text: String::new(),
            segs: self.segs[..n - 1].to_vec(),
        };
        match Path::parse(field) {
            Ok(f) => f.segs.len() == n - 1 && parent.covers(field),
            Err(_) => false,
        }
    }

    pub fn last_key(&self) -> Option<&str> {
        match self.segs.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }
}

/// Why a path could not be set: the segment it stopped at and the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct EditError {
    pub message: String,
}

fn fail<T>(segs: &[Seg], at: usize, why: impl Into<String>) -> Result<T, EditError> {
    Err(EditError {
        message: format!("`{}`: {}", Path::dotted(&segs[..=at]), why.into()),
    })
}

/// A fresh value for the document: no decoration of its own, the old value's comments kept.
fn replace_value(old: Option<&Value>, v: &Value) -> Value {
    let mut n = v.clone();
    n.decor_mut().clear();
    if let Some(o) = old {
        *n.decor_mut() = o.decor().clone();
    }
    n
}

/// Set `v` at `path` in `doc`; tables and keys missing on the way are created, array elements
/// must exist. Returns how many places were set (more than one through `[*]`).
pub fn set(doc: &mut DocumentMut, path: &Path, v: &Value) -> Result<usize, EditError> {
    set_in_table(doc.as_table_mut(), &path.segs, 0, v)
}

fn set_in_table(t: &mut Table, segs: &[Seg], at: usize, v: &Value) -> Result<usize, EditError> {
    let Seg::Key(k) = &segs[at] else {
        return fail(segs, at, "an index needs an array before it");
    };
    let last = at + 1 == segs.len();
    if !t.contains_key(k) {
        if last {
            t.insert(k, Item::Value(replace_value(None, v)));
            return Ok(1);
        }
        match &segs[at + 1] {
            Seg::Key(_) => {
                let mut n = Table::new();
                n.set_implicit(true);
                t.insert(k, Item::Table(n));
            }
            _ => return fail(segs, at, "no such array in the scenario"),
        }
    }
    let Some(item) = t.get_mut(k) else {
        return fail(segs, at, "not found");
    };
    set_in_item(item, segs, at + 1, v)
}

fn set_in_item(item: &mut Item, segs: &[Seg], at: usize, v: &Value) -> Result<usize, EditError> {
    if at == segs.len() {
        match item {
            Item::Value(old) => {
                *old = replace_value(Some(old), v);
                return Ok(1);
            }
            Item::Table(_) | Item::None => {
                *item = Item::Value(replace_value(None, v));
                return Ok(1);
            }
            Item::ArrayOfTables(_) => {
                return fail(
                    segs,
                    at - 1,
                    "is an array of tables; name a field inside one (e.g. `[0].name`)",
                )
            }
        }
    }
    match item {
        Item::Table(t) => set_in_table(t, segs, at, v),
        Item::ArrayOfTables(a) => set_in_array_of_tables(a, segs, at, v),
        Item::Value(val) => set_in_value(val, segs, at, v),
        Item::None => fail(segs, at - 1, "not found"),
    }
}

fn set_in_array_of_tables(
    a: &mut ArrayOfTables,
    segs: &[Seg],
    at: usize,
    v: &Value,
) -> Result<usize, EditError> {
    let len = a.len();
    let element = |t: &mut Table| -> Result<usize, EditError> {
        if at + 1 == segs.len() {
            return fail(segs, at, "is a whole table; name a field inside it");
        }
        set_in_table(t, segs, at + 1, v)
    };
    match &segs[at] {
        Seg::Index(i) => match a.get_mut(*i) {
            Some(t) => element(t),
            None => fail(segs, at, format!("the scenario has {len} of them")),
        },
        Seg::All => {
            if len == 0 {
                return fail(segs, at, "the scenario has none of them");
            }
            let mut n = 0;
            for t in a.iter_mut() {
                n += element(t)?;
            }
            Ok(n)
        }
        Seg::Key(_) => fail(segs, at - 1, "is an array; index it (`[0]` or `[*]`)"),
    }
}

fn set_in_inline(
    t: &mut InlineTable,
    segs: &[Seg],
    at: usize,
    v: &Value,
) -> Result<usize, EditError> {
    let Seg::Key(k) = &segs[at] else {
        return fail(segs, at, "an index needs an array before it");
    };
    let last = at + 1 == segs.len();
    if !t.contains_key(k) {
        if last {
            t.insert(k, replace_value(None, v));
            return Ok(1);
        }
        match &segs[at + 1] {
            Seg::Key(_) => {
                t.insert(k, Value::InlineTable(InlineTable::new()));
            }
            _ => return fail(segs, at, "no such array in the scenario"),
        }
    }
    let Some(val) = t.get_mut(k) else {
        return fail(segs, at, "not found");
    };
    if last {
        *val = replace_value(Some(val), v);
        return Ok(1);
    }
    set_in_value(val, segs, at + 1, v)
}

fn set_in_value(val: &mut Value, segs: &[Seg], at: usize, v: &Value) -> Result<usize, EditError> {
    match val {
        Value::InlineTable(t) => set_in_inline(t, segs, at, v),
        Value::Array(arr) => {
            let len = arr.len();
            let last = at + 1 == segs.len();
            let one = |x: &mut Value| -> Result<usize, EditError> {
                if last {
                    *x = replace_value(Some(x), v);
                    Ok(1)
                } else {
                    set_in_value(x, segs, at + 1, v)
                }
            };
            match &segs[at] {
                Seg::Index(i) => match arr.get_mut(*i) {
                    Some(x) => one(x),
                    None => fail(segs, at, format!("the array has {len} elements")),
                },
                Seg::All => {
                    if len == 0 {
                        return fail(segs, at, "the array is empty");
                    }
                    let mut n = 0;
                    for x in arr.iter_mut() {
                        n += one(x)?;
                    }
                    Ok(n)
                }
                Seg::Key(_) => fail(segs, at - 1, "is an array; index it (`[0]` or `[*]`)"),
            }
        }
        _ => fail(segs, at - 1, "is a plain value, not a table"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> DocumentMut {
        s.parse().unwrap()
    }

    #[test]
    fn parses_paths() {
        let p = Path::parse("site[0].hall[*].gpus").unwrap();
        assert_eq!(
            p.segs,
            vec![
                Seg::Key("site".into()),
                Seg::Index(0),
                Seg::Key("hall".into()),
                Seg::All,
                Seg::Key("gpus".into())
            ]
        );
        assert!(Path::parse("site[x].gpus").is_err());
        assert!(Path::parse("site..gpus").is_err());
        assert!(Path::parse("site[0").is_err());
        assert!(p.covers("site[0].hall[3].gpus"));
        assert!(!p.covers("site[1].hall[3].gpus"));
        assert!(!p.covers("site[0].hall[3]"));
        assert!(p.parent_is("site[0].hall[2]"));
    }

    #[test]
    fn sets_existing_new_nested_and_wildcard_fields() {
        let mut d = doc(
            "name = \"x\"\n[[site]]\nname = \"a\"\n[[site.hall]]\ngpus = \"100k\"  # keep me\n[[site]]\nname = \"b\"\n[[site.hall]]\ngpus = 5\n[job]\nparallelism = { tp = 8, pp = 4 }\n",
        );
        let v = |s: &str| s.parse::<Value>().unwrap();
        assert_eq!(
            set(
                &mut d,
                &Path::parse("site[0].hall[0].gpus").unwrap(),
                &v("\"1M\"")
            ),
            Ok(1)
        );
        assert_eq!(
            set(
                &mut d,
                &Path::parse("site[*].grid").unwrap(),
                &v("\"1 GW\"")
            ),
            Ok(2)
        );
        assert_eq!(
            set(
                &mut d,
                &Path::parse("job.sync.strategy").unwrap(),
                &v("\"diloco\"")
            ),
            Ok(1)
        );
        assert_eq!(
            set(&mut d, &Path::parse("job.parallelism.tp").unwrap(), &v("4")),
            Ok(1)
        );
        let out = d.to_string();
        assert!(out.contains("gpus = \"1M\"  # keep me"), "{out}");
        assert_eq!(out.matches("grid = \"1 GW\"").count(), 2, "{out}");
        assert!(out.contains("strategy = \"diloco\""), "{out}");
        assert!(out.contains("tp = 4"), "{out}");
        let t: toml_edit::DocumentMut = out.parse().unwrap();
        assert_eq!(t["job"]["sync"]["strategy"].as_str(), Some("diloco"));
        // missing array elements are an error, not a new element
        let e = set(&mut d, &Path::parse("site[2].grid").unwrap(), &v("1")).unwrap_err();
        assert!(e.message.contains("has 2 of them"), "{}", e.message);
        let e = set(&mut d, &Path::parse("link[*].capacity").unwrap(), &v("1")).unwrap_err();
        assert!(e.message.contains("no such array"), "{}", e.message);
        let e = set(&mut d, &Path::parse("site[0]").unwrap(), &v("1")).unwrap_err();
        assert!(e.message.contains("whole table"), "{}", e.message);
    }
}
