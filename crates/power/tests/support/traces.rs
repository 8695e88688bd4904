//! Deterministic pseudo-random load traces (steps and oscillations around 100 MW, xorshift64),
//! for the tests of the grid meters: the unit tests in `src/grid.rs` and `tests/solve.rs`.

/// Six traces of 500 to 5,485 samples.
pub fn traces() -> Vec<Vec<f64>> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..6)
        .map(|k| {
            let n = 500 + 997 * k;
            let mut level = 1e8;
            (0..n)
                .map(|i| {
                    if rnd() < 0.01 {
                        level += (rnd() - 0.5) * 5e7;
                    }
                    level + (i as f64 * 0.37).sin() * 1e6 * k as f64 + rnd() * 1e3
                })
                .collect()
        })
        .collect()
}
