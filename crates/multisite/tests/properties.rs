//! Properties over a grid of site graphs and jobs: every figure finite, efficiencies in [0, 1],
//! more capacity never hurts, more distance never helps, more sites never cut the bytes each site
//! sends for synchronous DP.

use multisite::graph::Graph;
use multisite::strategy::{self, Basis};
use spec::sync::{Compression, Strategy, Sync};

fn basis(n: f64, step_s: f64, pp: u32, microbatches: u32) -> Basis {
    Basis {
        model: "grid".into(),
        params_total: n,
        params_active: n,
        hidden: 8192.0,
        layers: 80,
        gpus: 1 << 16,
        tp: 8,
        pp,
        dp: (1 << 16) / (8 * pp),
        cp: 1,
        ep: 1,
        microbatches,
        tokens_per_step: 16e6,
        step_s,
        backward_window_s: step_s / 3.0,
        inner_step_s: step_s * 0.99,
        mfu: 0.4,
    }
}

fn syncs() -> Vec<Sync> {
    let mut v = vec![];
    for h in [1, 500] {
        for c in [Compression::Bf16, Compression::Fp4] {
            for overlap in [false, true] {
                v.push(Sync {
                    strategy: Strategy::Dp,
                    inner_steps: h,
                    fragments: if h >= 8 { Some(8) } else { None },
                    overlap_steps: if h > 1 { 1 } else { 0 },
                    compression: c,
                    overlap,
                });
            }
        }
    }
    v
}

#[test]
fn figures_are_finite_bounded_and_monotone() {
    let caps = [1e6, 1e9, 1e11, 1e12, 1e13, 1e14, 1e15, 1e17];
    for m in [2usize, 3, 4, 5, 8] {
        for n in [1e9, 1e12] {
            for (pp, mb) in [(1, 1), (16, 64)] {
                let b = basis(n, 2.0, pp, mb);
                for sync in syncs() {
                    for s in Strategy::ALL {
                        let mut last_cap = -1.0;
                        for d in [1e3, 1e5, 1e6, 4e6] {
                            let mut prev = -1.0;
                            for c in caps {
                                let g = Graph::uniform_ring(m, b.gpus, d, c);
                                let o = strategy::evaluate(&g, &b, &sync, s);
                                for x in [
                                    o.step_s,
                                    o.tokens_per_s,
                                    o.efficiency,
                                    o.cross_site_bytes_per_step,
                                    o.cross_site_s_per_step,
                                    o.exposed_s_per_step,
                                    o.extra_tokens_fraction,
                                ] {
                                    assert!(x.is_finite() && x >= 0.0, "{s:?} M {m} {o:?}");
                                }
                                assert!(o.efficiency <= 1.0 + 1e-9, "{s:?} M {m} {o:?}");
                                assert!(
                                    o.efficiency >= prev - 1e-12,
                                    "{s:?} M {m} d {d}: capacity {c} lowered efficiency"
                                );
                                prev = o.efficiency;
                            }
                            // at the largest capacity, a longer route never helps
                            if last_cap >= 0.0 {
                                assert!(prev <= last_cap + 1e-12, "{s:?} M {m}: distance {d}");
                            }
                            last_cap = prev;
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn sync_dp_bytes_per_site_grow_with_sites_toward_twice_the_gradient() {
    let b = basis(70e9, 2.0, 1, 1);
    let mut prev = 0.0;
    for m in [2usize, 3, 4, 8, 16] {
        let g = Graph::uniform_ring(m, b.gpus, 1e5, 1e13);
        let o = strategy::sync_dp(&g, &b, &Sync::default());
        let want = 2.0 * 70e9 * 2.0 * (m as f64 - 1.0) / m as f64;
        assert!((o.cross_site_bytes_per_step - want).abs() < 1.0);
        assert!(o.cross_site_bytes_per_step > prev);
        prev = o.cross_site_bytes_per_step;
    }
}
