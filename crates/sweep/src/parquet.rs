//! A small Parquet writer for the sweep's flat tables: one row group per chunk of rows, one
//! uncompressed PLAIN data page (v1) per column chunk, every column OPTIONAL (nulls as definition
//! levels), the file footer in Thrift's compact protocol. It writes what pandas, pyarrow, DuckDB
//! and Spark read; it reads nothing. Format: the Apache Parquet specification
//! (`parquet-format`, `parquet.thrift` and `Encodings.md`).
//!
//! Types: bool → BOOLEAN; int → INT64; uint → INT64 with the UINT_64 annotation; float → DOUBLE;
//! str → BYTE_ARRAY annotated UTF8 / String.

use crate::table::{Cell, ColumnSpec, Kind};
use std::io::{self, Write};

// Thrift compact protocol type codes.
const T_I32: u8 = 5;
const T_I64: u8 = 6;
const T_BINARY: u8 = 8;
const T_LIST: u8 = 9;
const T_STRUCT: u8 = 12;

/// Thrift compact protocol encoder for one struct nesting at a time.
struct Thrift {
    buf: Vec<u8>,
    last: Vec<i16>,
}

impl Thrift {
    fn new() -> Thrift {
        Thrift {
            buf: vec![],
            last: vec![0],
        }
    }

    fn varint(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.buf.push(b);
                return;
            }
            self.buf.push(b | 0x80);
        }
    }

    fn zigzag(&mut self, v: i64) {
        self.varint(((v << 1) ^ (v >> 63)) as u64);
    }

    fn field(&mut self, id: i16, t: u8) {
        let delta = id - self.last.last().copied().unwrap_or(0);
        if (1..=15).contains(&delta) {
            self.buf.push(((delta as u8) << 4) | t);
        } else {
            self.buf.push(t);
            self.zigzag(id as i64);
        }
        if let Some(last) = self.last.last_mut() {
            *last = id;
        }
    }

    fn i32(&mut self, id: i16, v: i32) {
        self.field(id, T_I32);
        self.zigzag(v as i64);
    }

    fn i64(&mut self, id: i16, v: i64) {
        self.field(id, T_I64);
        self.zigzag(v);
    }

    fn bytes_raw(&mut self, b: &[u8]) {
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    fn string(&mut self, id: i16, s: &str) {
        self.field(id, T_BINARY);
        self.bytes_raw(s.as_bytes());
    }

    fn list_header(&mut self, id: i16, elem: u8, n: usize) {
        self.field(id, T_LIST);
        if n < 15 {
            self.buf.push(((n as u8) << 4) | elem);
        } else {
            self.buf.push(0xf0 | elem);
            self.varint(n as u64);
        }
    }

    fn begin(&mut self, id: i16) {
        self.field(id, T_STRUCT);
        self.last.push(0);
    }

    /// A struct as a list element (no field header).
    fn begin_elem(&mut self) {
        self.last.push(0);
    }

    fn end(&mut self) {
        self.buf.push(0);
        self.last.pop();
    }
}

/// Parquet physical type codes.
fn physical(k: Kind) -> i32 {
    match k {
        Kind::Bool => 0,
        Kind::Int | Kind::UInt => 2,
        Kind::Float => 5,
        Kind::Str => 6,
    }
}

struct ChunkMeta {
    offset: u64,
    size: u64,
    values: u64,
}

/// Writes a table's rows as they come; [`ParquetWriter::finish`] writes the footer.
pub struct ParquetWriter<W: Write> {
    out: W,
    pos: u64,
    columns: Vec<ColumnSpec>,
    groups: Vec<(u64, Vec<ChunkMeta>)>,
    rows: u64,
}

/// RLE/bit-packed hybrid runs of 1-bit definition levels (1 present, 0 null), with the 4-byte
/// length prefix of data page v1.
fn def_levels(cells: &[&Cell]) -> Vec<u8> {
    let mut body = vec![];
    let mut i = 0;
    while i < cells.len() {
        let v = !matches!(cells[i], Cell::Null);
        let mut j = i;
        while j < cells.len() && !matches!(cells[j], Cell::Null) == v {
            j += 1;
        }
        let mut n = ((j - i) as u64) << 1; // RLE run header: count << 1, low bit 0
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                body.push(b);
                break;
            }
            body.push(b | 0x80);
        }
        body.push(v as u8);
        i = j;
    }
    let mut out = (body.len() as u32).to_le_bytes().to_vec();
    out.extend(body);
    out
}

fn plain(kind: Kind, cells: &[&Cell]) -> Vec<u8> {
    let mut out = vec![];
    let present = cells.iter().filter(|c| !matches!(c, Cell::Null));
    match kind {
        Kind::Bool => {
            let bits: Vec<bool> = present.map(|c| matches!(c, Cell::Bool(true))).collect();
            for ch in bits.chunks(8) {
                let mut b = 0u8;
                for (k, &x) in ch.iter().enumerate() {
                    b |= (x as u8) << k;
                }
                out.push(b);
            }
        }
        Kind::Int | Kind::UInt => {
            for c in present {
                let v: i64 = match c {
                    Cell::Int(i) => *i,
                    Cell::UInt(u) => *u as i64,
                    Cell::Float(x) => *x as i64,
                    Cell::Bool(b) => *b as i64,
                    _ => 0,
                };
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        Kind::Float => {
            for c in present {
                out.extend_from_slice(&c.as_f64().unwrap_or(f64::NAN).to_le_bytes());
            }
        }
        Kind::Str => {
            for c in present {
                let s = c.text();
                out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
    out
}

impl<W: Write> ParquetWriter<W> {
    pub fn new(mut out: W, columns: Vec<ColumnSpec>) -> io::Result<ParquetWriter<W>> {
        out.write_all(b"PAR1")?;
        Ok(ParquetWriter {
            out,
            pos: 4,
            columns,
            groups: vec![],
            rows: 0,
        })
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    /// One row group of `rows` (each as long as the columns).
    pub fn write_rows(&mut self, rows: &[Vec<Cell>]) -> io::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut metas = vec![];
        for (c, spec) in self.columns.clone().iter().enumerate() {
            let cells: Vec<&Cell> = rows
                .iter()
                .map(|r| r.get(c).unwrap_or(&Cell::Null))
                .collect();
            let mut page = def_levels(&cells);
            page.extend(plain(spec.kind, &cells));
            let mut h = Thrift::new();
            h.i32(1, 0); // PageType DATA_PAGE
            h.i32(2, page.len() as i32);
            h.i32(3, page.len() as i32);
            h.begin(5); // DataPageHeader
            h.i32(1, cells.len() as i32);
            h.i32(2, 0); // PLAIN
            h.i32(3, 3); // RLE definition levels
            h.i32(4, 3); // RLE repetition levels
            h.end();
            h.buf.push(0);
            let offset = self.pos;
            self.put(&h.buf)?;
            self.put(&page)?;
            metas.push(ChunkMeta {
                offset,
                size: self.pos - offset,
                values: cells.len() as u64,
            });
        }
        self.groups.push((rows.len() as u64, metas));
        self.rows += rows.len() as u64;
        Ok(())
    }

    /// The footer; returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        let mut t = Thrift::new();
        t.i32(1, 1); // version
        t.list_header(2, T_STRUCT, self.columns.len() + 1);
        t.begin_elem();
        t.string(4, "schema");
        t.i32(5, self.columns.len() as i32);
        t.end();
        for c in &self.columns {
            t.begin_elem();
            t.i32(1, physical(c.kind));
            t.i32(3, 1); // OPTIONAL
            t.string(4, &c.name);
            match c.kind {
                Kind::Str => {
                    t.i32(6, 0); // ConvertedType UTF8
                    t.begin(10); // LogicalType
                    t.begin(1); // STRING
                    t.end();
                    t.end();
                }
                Kind::UInt => {
                    t.i32(6, 14); // ConvertedType UINT_64
                    t.begin(10);
                    t.begin(10); // INTEGER
                    t.field(1, 3); // bitWidth: i8 (BYTE)
                    t.buf.push(64);
                    t.field(2, 2); // isSigned: false
                    t.end();
                    t.end();
                }
                _ => {}
            }
            t.end();
        }
        t.i64(3, self.rows as i64);
        t.list_header(4, T_STRUCT, self.groups.len());
        for (n, metas) in &self.groups {
            t.begin_elem();
            t.list_header(1, T_STRUCT, metas.len());
            let mut total = 0u64;
            for (m, c) in metas.iter().zip(&self.columns) {
                total += m.size;
                t.begin_elem();
                t.i64(2, m.offset as i64); // file_offset
                t.begin(3); // ColumnMetaData
                t.i32(1, physical(c.kind));
                t.list_header(2, T_I32, 2);
                t.zigzag(0); // PLAIN
                t.zigzag(3); // RLE
                t.list_header(3, T_BINARY, 1);
                t.bytes_raw(c.name.as_bytes());
                t.i32(4, 0); // UNCOMPRESSED
                t.i64(5, m.values as i64);
                t.i64(6, m.size as i64);
                t.i64(7, m.size as i64);
                t.i64(9, m.offset as i64); // data_page_offset
                t.end();
                t.end();
            }
            t.i64(2, total as i64);
            t.i64(3, *n as i64);
            t.end();
        }
        t.string(6, concat!("megacluster ", env!("CARGO_PKG_VERSION")));
        t.buf.push(0);
        let len = t.buf.len() as u32;
        let footer = std::mem::take(&mut t.buf);
        self.put(&footer)?;
        self.put(&len.to_le_bytes())?;
        self.put(b"PAR1")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A whole table as Parquet bytes.
pub fn to_bytes(columns: &[ColumnSpec], rows: &[Vec<Cell>]) -> Vec<u8> {
    let write = || -> io::Result<Vec<u8>> {
        let mut w = ParquetWriter::new(vec![], columns.to_vec())?;
        for ch in rows.chunks(crate::CHUNK) {
            w.write_rows(ch)?;
        }
        w.finish()
    };
    // writing to memory cannot fail
    write().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thrift_compact_encoding() {
        let mut t = Thrift::new();
        t.i32(1, 1);
        t.i64(3, -2);
        t.i32(20, 5); // a long field delta: type byte, then the id as zigzag varint
        t.buf.push(0);
        assert_eq!(t.buf, [0x15, 0x02, 0x26, 0x03, 0x05, 0x28, 0x0a, 0x00]);
    }

    #[test]
    fn definition_levels_are_rle_runs() {
        let (a, n) = (Cell::Float(1.0), Cell::Null);
        let d = def_levels(&[&a, &a, &a, &n]);
        // length 4, run of 3 present (3 << 1 = 6, value 1), run of 1 null (2, value 0)
        assert_eq!(d, [4, 0, 0, 0, 6, 1, 2, 0]);
    }

    #[test]
    fn file_frame() {
        let cols = vec![
            ColumnSpec {
                name: "x".into(),
                kind: Kind::Float,
            },
            ColumnSpec {
                name: "s".into(),
                kind: Kind::Str,
            },
        ];
        let rows = vec![
            vec![Cell::Float(1.5), Cell::Str("a".into())],
            vec![Cell::Null, Cell::Str("bc".into())],
        ];
        let b = to_bytes(&cols, &rows);
        assert_eq!(&b[..4], b"PAR1");
        assert_eq!(&b[b.len() - 4..], b"PAR1");
        let len = u32::from_le_bytes(b[b.len() - 8..b.len() - 4].try_into().unwrap()) as usize;
        assert!(len > 0 && len < b.len() - 12);
        // the footer names both columns
        let footer = &b[b.len() - 8 - len..b.len() - 8];
        assert!(footer.windows(1).any(|w| w == b"x"));
        assert!(footer.windows(1).any(|w| w == b"s"));
    }
}
