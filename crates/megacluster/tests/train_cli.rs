//! `train` and `search` end to end: the default scenario's JSON has the promised keys and sane
//! values; bad fixed layouts are explained errors naming the field, exit code 2, nothing on
//! stdout, no panic; `search` skips and counts invalid layouts.

mod common;
use common::*;

/// 1,024 H100 training Llama 3 70B with a given `[job]` tail.
fn scenario(job_extra: &str) -> String {
    format!(
        "name = \"t\"\n[[site]]\nname = \"a\"\ngrid = \"150 MW\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 1024\nfabric = \"ib-ndr-3tier\"\n[job]\nmodel = \"llama3-70b\"\ntokens = \"1T\"\nseq = 8192\nglobal_batch = 4194304\n{job_extra}"
    )
}

fn json_of(args: &[&str]) -> serde_json::Value {
    let out = bin().args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {err}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rejects(name: &str, job_extra: &str, needles: &[&str]) {
    let p = write(name, &scenario(job_extra));
    let out = bin().arg("train").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    assert!(out.stdout.is_empty(), "{name}: wrote to stdout");
    assert!(!err.contains("panicked"), "{name}: {err}");
    for n in needles {
        assert!(err.contains(n), "{name}: {err:?} lacks {n:?}");
    }
}

fn positive(v: &serde_json::Value, k: &str) -> f64 {
    let x = v[k]
        .as_f64()
        .unwrap_or_else(|| panic!("{k} missing or not a number"));
    assert!(x.is_finite() && x > 0.0, "{k} = {x}");
    x
}

#[test]
fn default_scenario_json_has_the_required_keys_and_sane_values() {
    let v = json_of(&["train", "--json"]);
    let step = positive(&v, "step_time_s");
    let mfu = positive(&v, "mfu");
    let hfu = positive(&v, "hfu");
    assert!(
        mfu <= 1.0 && hfu <= 1.0 && hfu >= mfu - 1e-12,
        "mfu {mfu} hfu {hfu}"
    );
    positive(&v, "tokens_per_s");
    // memory per GPU is its parts, on an H100's 80 GB; the search proposes only layouts that fit
    let mem = positive(&v, "memory_per_gpu_bytes");
    let parts: f64 = v["memory"]
        .as_object()
        .expect("memory parts")
        .values()
        .map(|x| x.as_f64().unwrap())
        .sum();
    assert!((parts / mem - 1.0).abs() < 1e-12, "parts {parts} vs {mem}");
    assert_eq!(positive(&v, "memory_capacity_bytes"), 80e9);
    assert_eq!(v["layout_source"], "searched");
    assert_eq!(v["fits"], true);
    let phases = v["phases"].as_array().expect("phases");
    let mut by_name = std::collections::BTreeMap::new();
    for p in phases {
        let d = p["duration_s"].as_f64().unwrap();
        let a = p["activity"].as_f64().unwrap();
        assert!(d >= 0.0 && d < step && (0.0..=1.0).contains(&a), "{p}");
        by_name.insert(p["name"].as_str().unwrap().to_string(), d);
    }
    // without recomputation the backward does twice the forward's matmul FLOPs (Narayanan et al.
    // 2021 §3.5, the "6N" count): its time is about twice the forward's
    assert!(v["layout"]["recompute"] == "none", "{}", v["layout"]);
    let ratio = by_name["backward"] / by_name["forward"];
    assert!((1.8..=2.2).contains(&ratio), "backward / forward {ratio}");
    assert!(!String::from_utf8(serde_json::to_vec(&v).unwrap())
        .unwrap()
        .contains("NaN"));
}

#[test]
fn text_output_states_units_formula_and_fit() {
    let p = write(
        "fixed.toml",
        &scenario("parallelism = { tp = 8, pp = 4, dp = \"rest\", microbatch = 1 }\n"),
    );
    let out = bin().arg("train").arg(&p).output().unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in [
        "Step time",
        "MFU",
        "HFU",
        "FLOP formula",
        "Tokens/s",
        "days",
        "Memory per GPU",
        "GiB",
        "forward",
        "backward",
        "fixed in the scenario",
    ] {
        assert!(t.contains(n), "{t} lacks {n}");
    }
}

#[test]
fn job_gpus_runs_on_part_of_the_cluster() {
    let p = write(
        "part.toml",
        &scenario("gpus = 512\nparallelism = { tp = 8, pp = 4, dp = \"rest\" }\n"),
    );
    let v = json_of(&["train", "--json", p.to_str().unwrap()]);
    assert_eq!(v["gpus"], 512);
    assert_eq!(v["installed_gpus"], 1024);
    assert_eq!(v["layout"]["dp"], 16);
}

#[test]
fn job_gpus_beyond_the_cluster_or_zero_is_an_error() {
    rejects(
        "too-many.toml",
        "gpus = 2048\n",
        &["job.gpus", "2048", "1024"],
    );
    let p = write("zero-gpus.toml", &scenario("gpus = 0\n"));
    let out = bin().arg("train").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("job.gpus"), "{err}");
}

#[test]
fn product_not_equal_to_gpus() {
    rejects(
        "product.toml",
        "parallelism = { tp = 8, pp = 4, dp = 16 }\n",
        &["product.toml:14:", "job.parallelism.dp", "512", "1024 GPUs"],
    );
}

#[test]
fn heads_not_divisible_by_tp() {
    // Llama 3 70B has 64 heads
    rejects(
        "heads.toml",
        "parallelism = { tp = 128, pp = 1, dp = 8 }\n",
        &["job.parallelism.tp", "heads"],
    );
}

#[test]
fn layers_not_divisible_by_pp() {
    rejects(
        "layers.toml",
        "parallelism = { tp = 8, pp = 32, dp = 4, interleave = 3 }\n",
        &["job.parallelism.pp", "layers"],
    );
}

#[test]
fn experts_not_divisible_by_ep() {
    let body = "name = \"t\"\n[[site]]\nname = \"a\"\ngrid = \"150 MW\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 1024\nfabric = \"ib-ndr-3tier\"\n[job]\nmodel = \"mixtral-8x7b\"\ntokens = \"1T\"\nseq = 4096\nglobal_batch = \"4M\"\nparallelism = { tp = 2, pp = 2, dp = 256, ep = 16 }\n";
    let p = write("experts.toml", body);
    let out = bin().arg("train").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(out.stdout.is_empty());
    assert!(
        err.contains("job.parallelism.ep") && err.contains("experts"),
        "{err}"
    );
}

#[test]
fn batch_not_dividing_into_microbatches() {
    // 4,194,304 tokens / 8192 = 512 sequences; dp 128 × microbatch 3 does not divide it
    rejects(
        "batch.toml",
        "parallelism = { tp = 8, pp = 1, dp = 128, microbatch = 3 }\n",
        &["job.parallelism.microbatch", "512"],
    );
}

#[test]
fn a_layout_that_does_not_fit_is_a_result_not_an_error() {
    // 70B with no model parallelism and no sharding: ~1.3 TB of state per GPU
    let p = write(
        "unfit.toml",
        &scenario(
            "parallelism = { tp = 1, pp = 1, dp = 1024, microbatch = 1, recompute = \"none\" }\n",
        )
        .replace("global_batch = 4194304", "global_batch = 8388608"),
    );
    let v = json_of(&["train", "--json", p.to_str().unwrap()]);
    assert_eq!(v["fits"], false);
    let note = v["memory_note"].as_str().unwrap();
    assert!(
        note.starts_with("does not fit: needs") && note.contains("GiB of"),
        "{note}"
    );
    let out = bin().arg("train").arg(&p).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("does not fit: needs"));
}

#[test]
fn search_lists_the_top_k_and_counts_what_it_skipped() {
    let p = write("search.toml", &scenario(""));
    let v = json_of(&["search", "--json", "--top", "3", p.to_str().unwrap()]);
    let top = v["top"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    let t0 = top[0]["tokens_per_s"].as_f64().unwrap();
    let t2 = top[2]["tokens_per_s"].as_f64().unwrap();
    assert!(t0 >= t2 && t2 > 0.0);
    let evaluated = v["evaluated"].as_u64().unwrap();
    let invalid = v["invalid"].as_u64().unwrap();
    let by: u64 = v["invalid_by_field"]
        .as_object()
        .unwrap()
        .values()
        .map(|x| x.as_u64().unwrap())
        .sum();
    assert_eq!(by, invalid);
    assert_eq!(
        evaluated,
        invalid + v["valid"].as_u64().unwrap() + v["unfit"].as_u64().unwrap()
    );
    let c = json_of(&[
        "search",
        "--json",
        "--by",
        "cost",
        "--top",
        "2",
        p.to_str().unwrap(),
    ]);
    assert!(c["top"][0]["usd_per_million_tokens"].as_f64().unwrap() > 0.0);
}

#[test]
fn mixed_accelerators_need_job_gpus() {
    let halls = "name = \"t\"\n[[site]]\nname = \"a\"\ngrid = \"150 MW\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 1024\nfabric = \"ib-ndr-3tier\"\n[[site.hall]]\nsystem = \"hgx-h200\"\ngpus = 1024\nfabric = \"ib-ndr-3tier\"\n[job]\nmodel = \"llama3-70b\"\ntokens = \"1T\"\nseq = 8192\nglobal_batch = 4194304\nparallelism = { tp = 8, pp = 4, dp = \"rest\" }\n";
    let p = write("mixed.toml", halls);
    let out = bin().arg("train").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("site[0].hall[1].system") && err.contains("job.gpus"),
        "{err}"
    );
    let p = write(
        "mixed-ok.toml",
        &halls.replace("[job]\n", "[job]\ngpus = 1024\n"),
    );
    let v = json_of(&["train", "--json", p.to_str().unwrap()]);
    assert_eq!(v["gpus"], 1024);
    assert_eq!(v["installed_gpus"], 1024);
}
