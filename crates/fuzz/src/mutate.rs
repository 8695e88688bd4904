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
        let at = if n == 0 { 0 } else { rng.gen_range(0..=n) };
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
