use spec::catalog::*;
use spec::*;

#[test]
fn every_embedded_entry_loads_and_cites_a_source() {
    let c = Catalog::embedded();
    let mut n = 0;
    for kind in KINDS {
        for name in c.names(kind) {
            let src = match *kind {
                "accelerator" => c.get::<Accelerator>(name).map(|e| e.source),
                "system" => c.get::<System>(name).map(|e| e.source),
                "scale_up" => c.get::<ScaleUp>(name).map(|e| e.source),
                "fabric" => c.get::<Fabric>(name).map(|e| e.source),
                "cooling" => c.get::<Cooling>(name).map(|e| e.source),
                "model" => c.get::<ModelArch>(name).map(|e| e.source),
                "cost" => c.get::<CostDefaults>(name).map(|e| e.source),
                "region" => c.get::<Region>(name).map(|e| e.source),
                _ => unreachable!(),
            };
            let src = src.unwrap_or_else(|e| panic!("{kind} {name}: {e}"));
            assert!(
                src.len() > 20,
                "{kind} {name} cites no real source: {src:?}"
            );
            n += 1;
        }
    }
    assert!(n > 40, "catalogue too small: {n}");
}

#[test]
fn issue_lists_are_present() {
    let c = Catalog::embedded();
    for a in [
        "a100-80gb",
        "h100-sxm",
        "h800",
        "h200",
        "b200",
        "gb200",
        "gb300",
        "mi300x",
        "tpu-v5p",
        "trainium2",
    ] {
        c.get::<Accelerator>(a).unwrap();
    }
    for s in [
        "dgx-h100",
        "hgx-h100",
        "hgx-h200",
        "dgx-b200",
        "gb200-nvl72",
        "gb300-nvl72",
        "tpu-v5p-host",
        "trn2-server",
    ] {
        c.get::<System>(s).unwrap();
    }
    for m in [
        "gpt3-175b",
        "megatron-22b",
        "megatron-530b",
        "megatron-1t",
        "llama3-8b",
        "llama3-70b",
        "llama3-405b",
        "deepseek-v3",
        "mixtral-8x7b",
        "qwen3-235b-a22b",
        "nemotron-4-340b",
    ] {
        c.get::<ModelArch>(m).unwrap();
    }
    for k in ["air-chillers", "direct-liquid", "evaporative"] {
        c.get::<Cooling>(k).unwrap();
    }
}

#[test]
fn from_inherits_and_overrides() {
    let c = Catalog::embedded();
    let h800 = c.get::<Accelerator>("h800").unwrap();
    let h100 = c.get::<Accelerator>("h100-sxm").unwrap();
    assert_eq!(h800.bf16, h100.bf16);
    assert!((h800.scale_up_bandwidth.bits_per_s() - 400e9 * 8.0).abs() < 1.0);
    let l405 = c.get::<ModelArch>("llama3-405b").unwrap();
    assert_eq!(l405.layers, 126);
    assert_eq!(l405.kv_heads(), 8);
    assert_eq!(l405.vocab, 128256);
}

#[test]
fn default_scenario_parses() {
    let s = load_scenario(None, &[]).unwrap();
    assert_eq!(s.total_gpus(), 100_000);
    assert_eq!(s.sites[0].halls[0].accelerator.name, "h100-sxm");
    let j = s.job.as_ref().unwrap();
    assert_eq!(j.model.name, "llama3-405b");
    assert_eq!(j.tokens, 15.6e12);
}
