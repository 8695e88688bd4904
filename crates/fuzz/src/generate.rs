//! A structured scenario generator: every section (sites, halls, links, job, reliability, power
//! with its mitigations, cost), each field from valid values, near-valid ones (zero, negative,
//! fractional counts, wrong units) and extremes (10⁻³⁰⁰ to 10³⁰⁰, u64::MAX, 10M GPUs, 100 ns
//! resolutions, 65,536-character names). Most cases stay small so that a run is quick; a few go
//! to the scale the models must still answer in bounded time.

use rand::Rng;

fn pick<'a, R: Rng>(rng: &mut R, xs: &[&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

fn chance<R: Rng>(rng: &mut R, p: f64) -> bool {
    rng.gen::<f64>() < p
}

/// A catalogue name of `kind`, now and then a misspelt or unknown one.
fn entry<R: Rng>(rng: &mut R, kind: &str) -> String {
    let names = crate::catalog().names(kind);
    if names.is_empty() || chance(rng, 0.03) {
        return "no-such-entry".into();
    }
    let n = names[rng.gen_range(0..names.len())].to_string();
    if chance(rng, 0.02) {
        n[..n.len().saturating_sub(1)].to_string()
    } else {
        n
    }
}

/// A quantity: mostly `normal`, sometimes an edge or an extreme.
fn quantity<R: Rng>(rng: &mut R, normal: &[&str], unit: &str) -> String {
    let r = rng.gen::<f64>();
    if r < 0.85 {
        pick(rng, normal).to_string()
    } else if r < 0.90 {
        format!("\"0 {unit}\"")
    } else if r < 0.93 {
        format!("\"-1 {unit}\"")
    } else if r < 0.96 {
        format!("\"1e300 {unit}\"")
    } else if r < 0.98 {
        format!("\"1e-300 {unit}\"")
    } else {
        pick(rng, &["nan", "1e308", "\"1e12\"", "\"5\"", "true"]).to_string()
    }
}

/// A count of GPUs: mostly small, sometimes at or beyond the scales the models bound.
fn gpus<R: Rng>(rng: &mut R) -> String {
    let r = rng.gen::<f64>();
    if r < 0.80 {
        pick(
            rng,
            &["8", "16", "64", "256", "512", "1024", "4096", "8192"],
        )
        .to_string()
    } else if r < 0.92 {
        pick(rng, &["16384", "\"32k\"", "\"100k\""]).to_string()
    } else if r < 0.96 {
        pick(rng, &["\"1M\"", "\"2M\"", "4194304", "\"10M\"", "\"1e9\""]).to_string()
    } else {
        pick(
            rng,
            &[
                "0",
                "-8",
                "1.5",
                "18446744073709551615",
                "\"1e300\"",
                "\"8 GPUs\"",
            ],
        )
        .to_string()
    }
}

fn name<R: Rng>(rng: &mut R, base: &str) -> String {
    let r = rng.gen::<f64>();
    if r < 0.95 {
        format!("\"{base}\"")
    } else if r < 0.97 {
        format!("\"{}\"", "n".repeat(rng.gen_range(190..70_000)))
    } else if r < 0.98 {
        "\"a\\nb\"".into()
    } else if r < 0.99 {
        "\"=cmd|' /C calc'!A0\"".into()
    } else {
        "\"\"".into()
    }
}

/// A whole scenario as TOML text.
pub fn scenario<R: Rng>(rng: &mut R) -> String {
    let mut t = String::new();
    t.push_str(&format!("name = {}\n", name(rng, "fuzz")));
    if chance(rng, 0.5) {
        t.push_str(&format!("seed = {}\n", rng.gen::<u32>()));
    }
    let sites = if chance(rng, 0.75) {
        1
    } else {
        rng.gen_range(2..=4)
    };
    for i in 0..sites {
        t.push_str("\n[[site]]\n");
        let n = if chance(rng, 0.03) {
            "s0".to_string()
        } else {
            format!("s{i}")
        };
        t.push_str(&format!("name = {}\n", name(rng, &n)));
        if chance(rng, 0.8) {
            t.push_str(&format!(
                "grid = {}\n",
                quantity(
                    rng,
                    &[
                        "\"150 MW\"",
                        "\"20 MW\"",
                        "\"1 GW\"",
                        "\"5 MW\"",
                        "\"2 GW\""
                    ],
                    "MW"
                )
            ));
        }
        if chance(rng, 0.5) {
            t.push_str(&format!("cooling = \"{}\"\n", entry(rng, "cooling")));
        }
        if chance(rng, 0.5) {
            let e = if chance(rng, 0.5) {
                format!("\"{}\"", entry(rng, "region"))
            } else {
                quantity(
                    rng,
                    &["\"$65/MWh\"", "\"$0.07/kWh\"", "\"$30/MWh\""],
                    "$/MWh",
                )
            };
            t.push_str(&format!("electricity = {e}\n"));
        }
        if chance(rng, 0.15) {
            t.push_str(&format!(
                "battery = {{ power = {}, energy = {}, efficiency = {} }}\n",
                quantity(rng, &["\"50 MW\"", "\"500 MW\"", "\"1 MW\""], "MW"),
                quantity(rng, &["\"100 MWh\"", "\"1 kWh\"", "\"10 MWh\""], "MWh"),
                pick(rng, &["\"100%\"", "\"85%\"", "0.9", "\"0%\"", "1.5"])
            ));
        }
        let halls = if chance(rng, 0.8) { 1 } else { 2 };
        for j in 0..halls {
            t.push_str("\n[[site.hall]]\n");
            if chance(rng, 0.3) {
                t.push_str(&format!("name = {}\n", name(rng, &format!("h{j}"))));
            }
            t.push_str(&format!("system = \"{}\"\n", entry(rng, "system")));
            t.push_str(&format!("gpus = {}\n", gpus(rng)));
            t.push_str(&format!("fabric = \"{}\"\n", entry(rng, "fabric")));
        }
    }
    if sites > 1 {
        let links = rng.gen_range(0..=sites);
        for k in 0..links {
            let a = k % sites;
            let b = if chance(rng, 0.9) { (k + 1) % sites } else { a };
            t.push_str("\n[[link]]\n");
            t.push_str(&format!("between = [\"s{a}\", \"s{b}\"]\n"));
            t.push_str(&format!(
                "distance = {}\n",
                quantity(rng, &["\"100 km\"", "\"1000 km\"", "\"5 km\""], "km")
            ));
            t.push_str(&format!(
                "capacity = {}\n",
                quantity(
                    rng,
                    &["\"10 Tbps\"", "\"100 Tbps\"", "\"400 Gbps\""],
                    "Tbps"
                )
            ));
        }
        if chance(rng, 0.1) {
            t.push_str("\n[[link]]\nbetween = [\"s1\", \"s0\"]\ndistance = \"100 km\"\ncapacity = \"1 Tbps\"\n");
        }
    }
    if chance(rng, 0.7) {
        t.push_str("\n[job]\n");
        t.push_str(&format!("model = \"{}\"\n", entry(rng, "model")));
        t.push_str(&format!(
            "tokens = {}\n",
            pick(
                rng,
                &["\"15.6T\"", "\"1T\"", "\"100B\"", "\"1e300\"", "0", "\"1\""]
            )
        ));
        if chance(rng, 0.5) {
            t.push_str(&format!(
                "seq = {}\n",
                pick(rng, &["4096", "8192", "2048", "0", "1", "4294967295"])
            ));
        }
        t.push_str(&format!(
            "global_batch = {}\n",
            pick(
                rng,
                &["\"16M\"", "\"4M\"", "\"1M\"", "8192", "0", "\"1e300\""]
            )
        ));
        if chance(rng, 0.3) {
            t.push_str(&format!("gpus = {}\n", gpus(rng)));
        }
        if chance(rng, 0.3) {
            t.push_str(&format!(
                "precision = \"{}\"\n",
                pick(rng, &["bf16", "fp8", "fp4"])
            ));
        }
        if chance(rng, 0.4) {
            let d = |rng: &mut R| pick(rng, &["1", "2", "4", "8", "16", "0", "3"]).to_string();
            t.push_str(&format!(
                "parallelism = {{ tp = {}, pp = {}, dp = {} }}\n",
                d(rng),
                d(rng),
                d(rng)
            ));
        } else {
            t.push_str("parallelism = \"auto\"\n");
        }
    }
    if chance(rng, 0.7) {
        t.push_str("\n[reliability]\n");
        // few replicas: a case must be quick (the bound on replicas is tested on its own)
        t.push_str(&format!(
            "replicas = {}\n",
            pick(rng, &["1", "2", "4", "2", "\"1e12\"", "0"])
        ));
        if chance(rng, 0.3) {
            t.push_str(&format!("preset = \"{}\"\n", entry(rng, "reliability")));
        }
        match rng.gen_range(0..3) {
            0 => t.push_str(&format!(
                "length = {}\n",
                quantity(rng, &["\"1 d\"", "\"7 d\"", "\"1 h\""], "d")
            )),
            1 => t.push_str(&format!(
                "work = {}\n",
                quantity(rng, &["\"1 d\"", "\"12 h\""], "d")
            )),
            _ => t.push_str("length = \"2 d\"\n"),
        }
        if chance(rng, 0.3) {
            t.push_str(&format!(
                "step_time = {}\n",
                quantity(rng, &["\"5 s\"", "\"100 us\"", "\"20 s\""], "s")
            ));
        }
        if chance(rng, 0.2) {
            t.push_str(&format!(
                "rate_scale = {}\n",
                pick(rng, &["2", "10", "0", "1e300", "-1", "1e6"])
            ));
        }
        if chance(rng, 0.15) {
            t.push_str(&format!(
                "lifetime = {}\n",
                pick(
                    rng,
                    &[
                        "\"exponential\"",
                        "{ weibull = 0.7 }",
                        "{ lognormal = 1 }",
                        "{ lognormal = 3 }",
                        "{ weibull = 0.001 }",
                        "{ lognormal = 50 }"
                    ]
                )
            ));
        }
        if chance(rng, 0.2) {
            t.push_str(&format!(
                "recovery = \"{}\"\n",
                pick(
                    rng,
                    &[
                        "restart",
                        "hot-spare",
                        "partial-restart",
                        "elastic-dp",
                        "in-memory"
                    ]
                )
            ));
        }
    }
    if chance(rng, 0.5) {
        t.push_str("\n[power]\n");
        if chance(rng, 0.4) {
            t.push_str(&format!("grid_code = \"{}\"\n", entry(rng, "grid_code")));
        }
        if chance(rng, 0.3) {
            t.push_str(&format!(
                "window = {}\n",
                quantity(rng, &["\"60 s\"", "\"10 min\"", "\"1 h\""], "s")
            ));
        }
        if chance(rng, 0.3) {
            t.push_str(&format!(
                "resolution = {}\n",
                quantity(rng, &["\"10 ms\"", "\"100 ms\"", "\"1 s\""], "ms")
            ));
        }
        if chance(rng, 0.2) {
            t.push_str(&format!(
                "step_time = {}\n",
                quantity(rng, &["\"5 s\"", "\"1 s\"", "\"20 s\""], "s")
            ));
        }
        if chance(rng, 0.3) {
            t.push_str("\n[power.mitigation]\n");
            if chance(rng, 0.5) {
                t.push_str(&format!(
                    "gpu_floor = {}\n",
                    pick(rng, &["\"30%\"", "0.5", "\"100%\"", "\"-1%\"", "2"])
                ));
            }
            if chance(rng, 0.5) {
                t.push_str(&format!(
                    "battery = {{ power = {}, energy = {}, efficiency = {} }}\n",
                    quantity(rng, &["\"500 MW\"", "\"10 MW\""], "MW"),
                    quantity(rng, &["\"1 kWh\"", "\"10 MWh\""], "MWh"),
                    pick(rng, &["\"100%\"", "\"90%\""])
                ));
            }
        }
    }
    t
}
