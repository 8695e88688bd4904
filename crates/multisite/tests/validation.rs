//! The multi-site model against published figures (`calibration/multisite.md`), each with its
//! source, our assumptions and the tolerance the source allows. `validation/multisite.md` tabulates
//! the same comparisons.

use multisite::graph::{Edge, Graph, SiteNode};
use multisite::strategy::{self, Basis};
use spec::sync::{Compression, Strategy, Sync};

/// Two sites joined by one link, no latency, line rate fully used: the idealised model the
/// calibration's formulas (§5.2, §5.6) assume.
fn ideal_pair(capacity_bits_per_s: f64) -> Graph {
    Graph {
        sites: vec![
            SiteNode {
                name: "a".into(),
                gpus: 1,
            },
            SiteNode {
                name: "b".into(),
                gpus: 1,
            },
        ],
        links: vec![Edge {
            a: 0,
            b: 1,
            distance_m: 0.0,
            capacity_bits_per_s,
            latency_s: 0.0,
            cost_usd: None,
        }],
        efficiency: 1.0,
    }
}

/// A dense job of `n` parameters whose step takes `step_s`, one microbatch, no overlap window.
fn basis(n: f64, active: f64, step_s: f64, tokens: f64) -> Basis {
    Basis {
        model: "test".into(),
        params_total: n,
        params_active: active,
        hidden: 16384.0,
        layers: 126,
        gpus: 2,
        tp: 1,
        pp: 2,
        dp: 1,
        cp: 1,
        ep: 1,
        microbatches: 1,
        tokens_per_step: tokens,
        step_s,
        backward_window_s: 0.0,
        inner_step_s: step_s,
        mfu: 0.4,
    }
}

fn no_overlap() -> Sync {
    Sync {
        overlap: false,
        ..Sync::default()
    }
}

/// §5.2 worked example (D): Llama-3-405B-shape bf16 gradients (810 GB) across two sites take
/// 0.065 / 0.65 / 6.5 / 65 s at 100 / 10 / 1 / 0.1 Tbit/s, and against a 26 s step leave
/// ≈ 100 / 98 / 80 / 29 % compute utilisation. The calibration rounds to two figures: ±2 %.
#[test]
fn worked_example_810_gb_across_two_sites() {
    let b = basis(405e9, 405e9, 26.0, 16e6);
    for (tbps, secs, cu) in [
        (100.0, 0.065, 1.00),
        (10.0, 0.65, 0.98),
        (1.0, 6.5, 0.80),
        (0.1, 65.0, 0.29),
    ] {
        let g = ideal_pair(tbps * 1e12);
        let x = g.all_reduce(405e9 * strategy::DP_GRADIENT_BYTES);
        assert!((x.bytes_sent_per_site - 810e9).abs() < 1.0);
        assert!(
            (x.seconds / secs - 1.0).abs() < 0.02,
            "{tbps} Tbps: {} s vs {secs} s",
            x.seconds
        );
        let o = strategy::sync_dp(&g, &b, &no_overlap());
        assert!(
            (o.efficiency - cu).abs() < 0.02 * cu.max(0.5),
            "{tbps} Tbps: CU {} vs {cu}",
            o.efficiency
        );
    }
    // "a 20% loss ≈ 1 Tbps and a 50% loss ≈ 0.25 Tbps aggregate for that configuration"
    let c20 = strategy::capacity_for_loss(&ideal_pair(1e12), &b, &no_overlap(), Strategy::Dp, 0.2)
        .unwrap();
    let c50 = strategy::capacity_for_loss(&ideal_pair(1e12), &b, &no_overlap(), Strategy::Dp, 0.5)
        .unwrap();
    assert!((c20 / 1e12 - 1.0).abs() < 0.05, "{c20}");
    assert!((c50 / 0.25e12 - 1.0).abs() < 0.05, "{c50}");
}

/// §5.6 (D): the cross-site bandwidth for an exposed overhead ρ is
/// W = (b/3)·((M−1)/M)·(N_total/N_active)·C_eff / (ρ·B·H), independent of model size for dense
/// models. Table (M = 2, ρ = 10 %): 67 / 167 / 1,667 Tbit/s at B = 16M for C_eff = 4e19 / 1e20 /
/// 1e21 FLOP/s; DiLoCo H = 100 needs 0.67 (bf16) and 0.17 (FP4) Tbit/s at 4e19. The table prints
/// two or three figures: ±2 %.
#[test]
fn bandwidth_for_overhead_formula() {
    let rho = 0.10;
    let loss = rho / (1.0 + rho); // CU = 1/(1+ρ)
    let table = [
        (4e19, 4e6, 267.0),
        (4e19, 16e6, 67.0),
        (4e19, 64e6, 17.0),
        (1e20, 16e6, 167.0),
        (1e21, 4e6, 6667.0),
        (1e21, 64e6, 417.0),
    ];
    for n in [8e9, 405e9] {
        for (c_eff, batch, tbps) in table {
            let b = basis(n, n, 6.0 * n * batch / c_eff, batch);
            let w = strategy::capacity_for_loss(
                &ideal_pair(1e12),
                &b,
                &no_overlap(),
                Strategy::Dp,
                loss,
            )
            .unwrap();
            assert!(
                (w / 1e12 / tbps - 1.0).abs() < 0.02,
                "N {n}, C {c_eff}, B {batch}: {} Tbps vs {tbps}",
                w / 1e12
            );
        }
    }
    // DiLoCo H = 100, B = 16M, C_eff = 4e19: bf16 0.67, FP4 0.17 Tbit/s
    let b = basis(405e9, 405e9, 6.0 * 405e9 * 16e6 / 4e19, 16e6);
    for (c, tbps) in [(Compression::Bf16, 0.667), (Compression::Fp4, 0.167)] {
        let sync = Sync {
            inner_steps: 100,
            compression: c,
            ..Sync::default()
        };
        let o = strategy::diloco(&ideal_pair(tbps * 1e12), &b, &sync);
        let rho_model = 1.0 / o.throughput_efficiency - 1.0;
        assert!((rho_model - rho).abs() < 0.002, "{c:?}: ρ = {rho_model}");
    }
    // MoE: gradients cover every expert, compute only the active ones; DeepSeek-V3 671B / 37B
    // raises W by ≈ 18× (§5.6)
    let dense = basis(37e9, 37e9, 6.0 * 37e9 * 16e6 / 4e19, 16e6);
    let moe = basis(671e9, 37e9, 6.0 * 37e9 * 16e6 / 4e19, 16e6);
    let w = |b: &Basis| {
        strategy::capacity_for_loss(&ideal_pair(1e12), b, &no_overlap(), Strategy::Dp, loss)
            .unwrap()
    };
    assert!((w(&moe) / w(&dense) - 671.0 / 37.0).abs() < 0.1);
}

/// NVIDIA NeMo 25.02 / Megatron-Core 0.11: 96 % "scaling efficiency" for Nemotron-4 340B across two
/// data centers ≈ 1,000 km apart (NVIDIA blog, P; distance via Epoch AI, P). Not published: GPU
/// count, link capacity, baseline. Assumed: Nemotron-4 340B's own layout and batch (arXiv 2406.11704:
/// 6,144 H100, tp 8 × pp 12 × dp 64, 2,304 sequences of 4,096 tokens), split 3,072 / 3,072 over a
/// 1,000 km fiber route. The link is the unknown: the capacity at which the model gives 96 % must be
/// a plausible inter-region link — at least one 800G wavelength, at most one fully lit fiber pair
/// (64 Tbit/s, the C+L field trial; SemiAnalysis: 20–60 Tbit/s per pair) — and at a quarter of a
/// typical pair (16 × 800G = 12.8 Tbit/s) the model must not be more than 2 points below 96 %.
#[test]
fn nvidia_nemotron_96_percent_across_two_sites() {
    let src = |cap: &str| {
        format!(
            r#"name = "nemotron-4-340b across two sites"
[[site]]
name = "east"
[[site.hall]]
system = "dgx-h100"
gpus = 3072
fabric = "ib-ndr-3tier"
[[site]]
name = "west"
[[site.hall]]
system = "dgx-h100"
gpus = 3072
fabric = "ib-ndr-3tier"
[[link]]
between = ["east", "west"]
distance = "1000 km"
capacity = "{cap}"
[job]
model = "nemotron-4-340b"
tokens = "9T"
seq = 4096
global_batch = 9437184
parallelism = {{ tp = 8, pp = 12, dp = 64 }}
"#
        )
    };
    let cat = spec::Catalog::embedded();
    let s = spec::parse_scenario("nemotron.toml", &src("12.8 Tbps"), &cat).unwrap();
    let pl = pipeline::Pipeline::new(s);
    let p = pl.multisite_basis().unwrap();
    let o = strategy::evaluate(&p.graph, &p.basis, &p.sync, Strategy::Dp);
    assert!(o.efficiency >= 0.94, "sync DP efficiency {}", o.efficiency);
    let need =
        strategy::capacity_for_loss(&p.graph, &p.basis, &p.sync, Strategy::Dp, 0.04).unwrap();
    assert!(
        (0.8e12..=64e12).contains(&need),
        "capacity for 96 %: {} Tbit/s",
        need / 1e12
    );
    let at_need = strategy::evaluate(
        &p.graph.with_links(Some(need), None),
        &p.basis,
        &p.sync,
        Strategy::Dp,
    );
    assert!((at_need.efficiency - 0.96).abs() < 0.005);
}

/// Streaming DiLoCo Table 1 (Q): 1B model, 100B tokens: DP exchanges 1,767 TB, Streaming DiLoCo
/// with FP4 and H = 100 exchanges 4.42 TB, "400× fewer bits"; "reducing the peak bandwidth by 8×"
/// (fragments of 3 of the 24 layers). Our bytes per step: bf16 all-reduce every step against FP4
/// every H steps, and the fragment count. Tolerance 1 % (1,767 / 4.42 = 399.8).
#[test]
fn streaming_diloco_exchanges_400x_fewer_bits() {
    let mut b = basis(1e9, 1e9, 0.1, 1e6);
    b.layers = 24;
    let g = ideal_pair(1e9);
    let dp = strategy::sync_dp(&g, &b, &Sync::default());
    let sd = strategy::streaming_diloco(
        &g,
        &b,
        &Sync {
            strategy: Strategy::StreamingDiloco,
            inner_steps: 100,
            compression: Compression::Fp4,
            ..Sync::default()
        },
    );
    let ratio = dp.cross_site_bytes_per_step / sd.cross_site_bytes_per_step;
    assert!((ratio / (1767.0 / 4.42) - 1.0).abs() < 0.01, "{ratio}");
    assert_eq!(strategy::default_fragments(24), 8);
}

/// Compute utilisation of DiLoCo at the bandwidths of the scaling-law simulations (Charles et al.
/// 2025 Table 6, P): the bandwidth needed for 95 % CU falls with H. Their simulator (latency,
/// per-node links) needs 2.55–2.56× more at H = 100 than at H = 300 for 10B, Llama-3-405B and
/// DeepSeek-V3 shapes; our blocking outer sync gives the 1/H law, 3×. Tolerance 20 % (the
/// simulator's rows differ between the two papers, §8).
#[test]
fn diloco_bandwidth_for_95_percent_scales_with_h() {
    for (n, step, sim_ratio) in [
        (10e9, 0.8, 23.3 / 9.1),
        (405e9, 26.0, 33.9 / 13.3),
        (671e9, 20.0, 72.0 / 28.1),
    ] {
        let b = basis(n, n, step, 1e6);
        let need = |h: u32| {
            let sync = Sync {
                inner_steps: h,
                ..Sync::default()
            };
            // throughput only: the 95 % of the tables is compute utilisation, not quality
            let eff = |c: f64| strategy::diloco(&ideal_pair(c), &b, &sync).throughput_efficiency;
            let (mut lo, mut hi) = (1e6_f64.ln(), 1e18_f64.ln());
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if eff(mid.exp()) >= 0.95 {
                    hi = mid
                } else {
                    lo = mid
                }
            }
            hi.exp()
        };
        let ratio = need(100) / need(300);
        assert!(
            (ratio / sim_ratio - 1.0).abs() < 0.20,
            "N {n}: {ratio} vs {sim_ratio}"
        );
    }
}

/// Streaming DiLoCo Table 5 (Q): FP4, H = 100, M = 2 reaches 2.50 against DP's 2.49 at 1B and 2.26
/// against 2.25 at 4B: +0.40 % and +0.44 % loss. Our quality model (scaling-law table at H = 30
/// plus the DiLoCo H slope) must land within the table's rounding: losses printed to 0.01 leave
/// ±0.005 on each, ±0.4 points on the ratio.
#[test]
fn streaming_diloco_quality_at_1b_and_4b() {
    for (n, measured) in [(1e9, 2.50 / 2.49 - 1.0), (4e9, 2.26 / 2.25 - 1.0)] {
        let d = multisite::quality::loss_increase(n, 2, 100.0);
        assert!((d - measured).abs() <= 0.004, "N {n}: {d} vs {measured}");
    }
}

/// Decoupled DiLoCo / failure coupling (§2.5, S): a failure stalls every site under synchronous
/// DP but only its replica under DiLoCo, so DiLoCo's goodput is the sites' and never below the
/// whole job's.
#[test]
fn diloco_goodput_is_per_site() {
    let g = Graph::uniform_ring(8, 1_200_000, 1e5, 1e13);
    let v = multisite::DomainGoodput::Value;
    let gd = multisite::Goodput {
        whole_job: v(0.58),
        per_site: vec![v(0.88); 8],
        preset: String::new(),
        design: "restart".into(),
    };
    let of = |s| gd.of(s, &g).value().expect("a figure");
    assert_eq!(of(Strategy::Dp), 0.58);
    assert!((of(Strategy::Diloco) - 0.88).abs() < 1e-12);
    assert!(of(Strategy::StreamingDiloco) >= of(Strategy::Pipeline));
}
