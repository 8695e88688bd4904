//! Byte-level mutation of a scenario: flips, deletions, duplications, truncation, and splices of
//! tokens that break parsers and models (extreme numbers, units, quotes, brackets, control and
//! non-UTF-8 bytes), 1 to 4 at a time.

use rand::Rng;

/// Tokens spliced in: numbers at and beyond every range, units, TOML syntax, bad bytes.
pub const TOKENS: &[&[u8]] = &[
    b"0",
    b"-1",
    b"1.5",
    b"1e300",
    b"-1e300",
    b"1e-300",
    b"nan",
    b"inf",
    b"18446744073709551615",
    b"9223372036854775808",
    b"\"1e12\"",
    b"\"1e308 km\"",
    b"\"$1e308/MWh\"",
    b"\"100 ns\"",
    b"\"1 us\"",
    b"\"0 s\"",
    b"\"10M\"",
    b"\"4194304\"",
    b"\"150 MWh\"",
    b"\"100%\"",
    b"\"-5%\"",
    b"\"\"",
    b"\"",
    b"'",
    b"[",
    b"]",
    b"[[",
    b"=",
    b"{",
    b"}",
    b",",
    b".",
    b"\n",
    b"#",
    b"\x00",
    b"\x07",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\"\"\"",
    b"[[site]]\nname = \"a\"\n",
    b"[[link]]\nbetween = [\"a\", \"a\"]\n",
    b"[reliability]\n",
    b"[power]\n",
    b"[job]\n",
    b"lifetime = { lognormal = 9 }\n",
    b"replicas = \"1e12\"\n",
];

/// A mutant of `src`.
pub fn mutate(rng: &mut impl Rng, src: &[u8]) -> Vec<u8> {
    let mut b = src.to_vec();
    let ops = rng.gen_range(1..=4);
    for _ in 0..ops {
        let n = b.len();
        // Three times in four a place on a line that is not only a comment: the examples are
        // mostly their sources in comments, and a mutant that changes only a comment resolves to
        // the scenario it came from (a repeat, which tests the parser alone).
        let at = match code_position(rng, &b) {
            Some(at) if rng.gen_range(0..4) < 3 => at,
            _ if n == 0 => 0,
            _ => rng.gen_range(0..=n),
        };
        match rng.gen_range(0..8) {
            // flip a byte
            0 if n > 0 => {
                let i = at.min(n - 1);
                b[i] ^= 1 << rng.gen_range(0..8);
            }
            // delete a range
            1 if n > 0 => {
                let len = rng.gen_range(1..=32.min(n - at.min(n - 1)));
                let s = at.min(n - 1);
                b.drain(s..(s + len).min(n));
            }
            // duplicate a range
            2 if n > 0 => {
                let s = at.min(n - 1);
                let len = rng.gen_range(1..=64).min(n - s);
                let piece: Vec<u8> = b[s..s + len].to_vec();
                b.splice(s..s, piece);
            }
            // truncate
            3 => b.truncate(at),
            // replace the number (or word) at a random place with a token
            4 | 5 => {
                let t = TOKENS[rng.gen_range(0..TOKENS.len())];
                let s = at.min(n);
                let mut e = s;
                while e < n && (b[e].is_ascii_alphanumeric() || b"._-+".contains(&b[e])) {
                    e += 1;
                }
                b.splice(s..e, t.iter().copied());
            }
            // insert a token
            _ => {
                let t = TOKENS[rng.gen_range(0..TOKENS.len())];
                let s = at.min(n);
                b.splice(s..s, t.iter().copied());
            }
        }
    }
    b
}

/// A byte position drawn uniformly from the lines of `b` that are not only a comment (their
/// first byte other than a space or tab is not `#`), `None` when there are none.
fn code_position(rng: &mut impl Rng, b: &[u8]) -> Option<usize> {
    let mut lines: Vec<(usize, usize)> = vec![];
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || i + 1 == b.len() {
            let end = i + 1;
            let line = &b[start..end];
            let first = line.iter().find(|&&x| x != b' ' && x != b'\t');
            if first.is_some_and(|&x| x != b'#') {
                lines.push((start, end));
            }
            start = end;
        }
    }
    let total: usize = lines.iter().map(|(s, e)| e - s).sum();
    if total == 0 {
        return None;
    }
    let mut k = rng.gen_range(0..total);
    for (s, e) in lines {
        if k < e - s {
            return Some(s + k);
        }
        k -= e - s;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn code_positions_skip_comment_only_lines() {
        let src = b"# a comment\nname = \"x\" # trailing\n  # indented comment\n[job]\n";
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(7);
        for _ in 0..500 {
            let at = code_position(&mut rng, src).unwrap();
            let line_start = src[..at]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |i| i + 1);
            let line = &src[line_start..];
            assert!(
                line.starts_with(b"name") || line.starts_with(b"[job]"),
                "{at}"
            );
        }
        assert_eq!(code_position(&mut rng, b"# only\n# comments\n"), None);
    }
}
