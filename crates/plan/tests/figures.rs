//! The figures megacluster was founded on, computed from the catalogue (never typed in).
//! Each test names its claim, its source and the tolerance the source allows.

use spec::catalog::{Accelerator, Catalog};

/// The plan of a scenario, through its binding.
fn plan_of(s: &spec::Scenario) -> plan::Plan {
    plan::plan(&pipeline::bind::plan_inputs(s))
}

fn scenario(src: &str) -> spec::Scenario {
    spec::parse_scenario("<test>", src, &Catalog::embedded()).unwrap_or_else(|e| panic!("{e}"))
}

fn one_hall(system: &str, gpus: u64, fabric: &str, cooling: &str) -> spec::Scenario {
    scenario(&format!(
        "name = \"t\"\n[[site]]\nname = \"s\"\ncooling = \"{cooling}\"\n[[site.hall]]\nsystem = \"{system}\"\ngpus = {gpus}\nfabric = \"{fabric}\"\n"
    ))
}

fn acc(name: &str) -> Accelerator {
    Catalog::embedded().get::<Accelerator>(name).unwrap()
}

/// Claim: "100,000 H100 at 1.2–1.4 kW all-in → 120–140 MW". SemiAnalysis (100k-H100 clusters,
/// 2024-06-17) derives 700 W + ~575 W server + ~10 % other IT and rounds to ~150 MW critical IT,
/// so the band the sources span is 1.2–1.5 kW and 120–150 MW.
#[test]
fn h100_all_in_power_and_100k_cluster() {
    let p = plan_of(&one_hall(
        "hgx-h100",
        100_000,
        "roce-400g-3tier",
        "direct-liquid",
    ));
    let h = &p.sites[0].halls[0];
    assert_eq!(h.gpu_tdp_w, 700.0, "H100 SXM TDP (NVIDIA product page)");
    assert!(
        (1200.0..=1500.0).contains(&p.it_power_per_gpu_w),
        "all-in {} W",
        p.it_power_per_gpu_w
    );
    assert!(
        (120e6..=150e6).contains(&p.it_power_w),
        "100k H100: {} W",
        p.it_power_w
    );
}

/// Claims: "1.4 kW all-in per H100: 150 MW feeds ~100k GPUs" and "~128k H100 → ~150 MW"
/// (1.17 kW each). The two bracket what 150 MW of critical IT feeds: 100k–128k.
#[test]
fn what_150_mw_feeds() {
    let p = plan_of(&one_hall("hgx-h100", 1, "roce-400g-3tier", "direct-liquid"));
    let fed = plan::gpus_fed(150e6, p.it_power_per_gpu_w);
    assert!(
        (100_000..=128_000).contains(&fed),
        "150 MW feeds {fed} H100"
    );
}

/// Claim: "next generation: 1.2 kW GPU → ~2 kW all-in". GB200 at 1,200 W (catalogue); Meta's
/// 150 MW site with 83K GB200 (arXiv 2605.24461) gives 1.81 kW per GPU; DESIGN §5.1: 1.8–2.0 kW.
/// Tolerance: the 1.7–2.2 kW band around "~2 kW", and ±15 % of Meta's measured 1.81 kW.
#[test]
fn next_generation_all_in() {
    let p = plan_of(&one_hall(
        "gb200-nvl72",
        72,
        "ib-xdr-3tier",
        "direct-liquid",
    ));
    assert_eq!(p.sites[0].halls[0].gpu_tdp_w, 1200.0);
    let it = p.it_power_per_gpu_w;
    assert!((1700.0..=2200.0).contains(&it), "GB200 all-in {it} W");
    assert!(
        (it / 1810.0 - 1.0).abs() <= 0.15,
        "GB200 {it} W vs Meta's 1.81 kW"
    );
}

/// Claim: "500k GB200 ≈ 1 GW" (facility power, liquid-cooled). Tolerance ±15 %.
#[test]
fn half_a_million_gb200_is_a_gigawatt() {
    let p = plan_of(&one_hall(
        "gb200-nvl72",
        500_004,
        "ib-xdr-3tier",
        "direct-liquid",
    ));
    assert!(
        (p.facility_power_w / 1e9 - 1.0).abs() <= 0.15,
        "{} GW",
        p.facility_power_w / 1e9
    );
}

/// Claim: "1 GW ≈ 0.7–0.8 M H100 all-in ('close to a million GPUs')".
#[test]
fn a_gigawatt_of_h100() {
    let p = plan_of(&one_hall("hgx-h100", 1, "roce-400g-3tier", "direct-liquid"));
    let fed = plan::gpus_fed(1e9, p.it_power_per_gpu_w);
    assert!((700_000..=800_000).contains(&fed), "1 GW feeds {fed} H100");
}

/// Claim: "300k–700k next-generation GPUs at 2–3× an H100 → ~1M H100-equivalents".
/// Each next-generation part is 2–3× an H100 in dense BF16, and 1M H100-equivalents takes
/// between 300k and 700k of it.
#[test]
fn next_generation_h100_equivalents() {
    let h100 = acc("h100-sxm");
    for name in ["b200", "gb200", "gb300"] {
        let a = acc(name);
        let ratio = plan::reference_equivalents(1, &a, &h100, false);
        assert!((2.0..=3.0).contains(&ratio), "{name}: {ratio}× an H100");
        let needed = 1e6 / ratio;
        assert!(
            (300e3..=700e3).contains(&needed),
            "{name}: {needed} for 1M H100-eq"
        );
    }
    let p = plan_of(&one_hall(
        "gb200-nvl72",
        400_032,
        "ib-xdr-3tier",
        "direct-liquid",
    ));
    assert!(
        (p.h100_equivalents / 1e6 - 1.0).abs() <= 0.15,
        "400k GB200 = {} H100-eq",
        p.h100_equivalents
    );
}

/// Claim: "GPT-4 on ~20k A100 vs 100k H100: 5× the GPUs × ~3× per GPU ≈ 15× the compute".
/// Tolerance: "~3×" read as 2.5–3.5× per GPU, so 12.5–17.5× in all.
#[test]
fn gpt4_cluster_versus_100k_h100() {
    let per_gpu = plan::reference_equivalents(1, &acc("h100-sxm"), &acc("a100-80gb"), false);
    assert!((2.5..=3.5).contains(&per_gpu), "H100/A100 = {per_gpu}");
    let total =
        plan::reference_equivalents(100_000, &acc("h100-sxm"), &acc("a100-80gb"), false) / 20_000.0;
    assert!((12.5..=17.5).contains(&total), "{total}× the compute");
}

/// Claim: "~$45k per H100 all-in (GPU, server, networking, infrastructure) → ~$4.5–5B for 100k".
/// The calibration (power-cost §6.1) derives $52–57k from SemiAnalysis's server and fabric prices
/// and Cushman & Wakefield's $11.7M/MW, and treats $45–57k as the band. The default scenario must
/// land in that band, and the reference-architecture build (DGX-class server price, 3-tier
/// non-blocking InfiniBand) in the calibration's $52–57k.
#[test]
fn cost_per_h100_and_per_100k_cluster() {
    let p = plan_of(&spec::load_scenario(None, &[]).unwrap());
    assert!(
        (45e3..=57e3).contains(&p.capex_per_gpu_usd),
        "default: ${} per GPU",
        p.capex_per_gpu_usd
    );
    assert!(
        (4.5e9..=5.7e9).contains(&p.capex_usd),
        "default: ${} for 100k",
        p.capex_usd
    );
    // servers dominate, then facility, then networking
    let c = &p.capex;
    assert!(c.servers_usd > c.facility_usd && c.facility_usd > c.networking_usd);

    let ra = plan_of(&one_hall(
        "hgx-h100",
        100_000,
        "ib-ndr-3tier",
        "direct-liquid",
    ));
    assert!(
        (52e3..=57e3).contains(&ra.capex_per_gpu_usd),
        "RA: ${}",
        ra.capex_per_gpu_usd
    );
    // networking per GPU = $48k / 8 from SemiAnalysis's $318k vs $270k per server
    let net = ra.capex.networking_usd / 100_000.0;
    assert!((net - 6000.0).abs() < 1.0, "RA networking ${net} per GPU");
}

/// Calibration power-cost §6.2 (D): ~$1.17 per GPU-hour before financing for an H100 at full use
/// (5-year IT, 15-year facility). Tolerance ±15 % (different PUE and draw assumptions).
#[test]
fn tco_per_gpu_hour_before_financing() {
    let p = plan_of(&spec::load_scenario(None, &[]).unwrap());
    assert!(
        (p.tco_usd_per_gpu_hour / 1.17 - 1.0).abs() <= 0.15,
        "${}/GPU-h",
        p.tco_usd_per_gpu_hour
    );
    // financing raises it
    let mut s = spec::load_scenario(None, &[]).unwrap();
    s.cost.cost_of_capital = spec::Fraction::from_fraction(0.08);
    assert!(plan_of(&s).tco_usd_per_gpu_hour > p.tco_usd_per_gpu_hour * 1.1);
}

/// Power chain identities hold for every system in the catalogue.
#[test]
fn power_chain_is_consistent_for_every_system() {
    let c = Catalog::embedded();
    for name in c.names("system") {
        let sys = c.get::<spec::System>(name).unwrap();
        let a = acc(&sys.accelerator);
        let s = one_hall(
            name,
            sys.gpus_per_node as u64 * 10,
            "roce-400g-3tier",
            "direct-liquid",
        );
        let p = plan_of(&s);
        let h = &p.sites[0].halls[0];
        assert!(h.system_power_per_gpu_w >= a.tdp.w(), "{name}");
        assert!((h.it_power_per_gpu_w / h.system_power_per_gpu_w - 1.10).abs() < 1e-9);
        assert!((h.facility_power_per_gpu_w / h.it_power_per_gpu_w - 1.14).abs() < 1e-9);
        assert!(p.tco_usd_per_gpu_hour.is_finite() && p.tco_usd_per_gpu_hour > 0.0);
    }
}
