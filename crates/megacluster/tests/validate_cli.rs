//! `validate` runs every check the commands do: a file it calls "ok" is one `train`, `simulate`,
//! `power`, `multisite` and `run` accept, and a file they reject it rejects with the same located
//! message.

mod common;
use common::*;

/// A small job on 1,024 H100 (128 nodes), with `job` appended to the `[job]` table and `extra`
/// after it.
fn scenario(job: &str, extra: &str) -> String {
    format!(
        "name = \"x\"\n[[site]]\nname = \"a\"\ngrid = \"10 MW\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 1024\nfabric = \"roce-400g-3tier\"\n\
         [job]\nmodel = \"llama3-8b\"\ntokens = \"1T\"\nseq = 8192\nglobal_batch = 4194304\nprecision = \"bf16\"\n{job}\n{extra}"
    )
}

fn validates(name: &str, body: &str) -> String {
    let p = write(name, body);
    let out = bin().arg("validate").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{name}: {err}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_good_small_scenario_validates() {
    let out = validates(
        "good.toml",
        &scenario(
            "parallelism = { tp = 8, pp = 1, dp = 128, microbatch = 1 }",
            "",
        ),
    );
    assert!(out.contains(": ok"), "{out}");
}

#[test]
fn an_unknown_reliability_preset() {
    rejects_with(
        &["validate", "simulate"],
        "preset.toml",
        &scenario("", "[reliability]\npreset = \"meta\"\n"),
        &["preset.toml:", "reliability.preset", "meta"],
    );
}

#[test]
fn a_layout_that_does_not_multiply_to_the_gpus() {
    // tp 8 · pp 2 · dp 128 = 2,048 GPUs on 1,024
    rejects_with(
        &["validate", "train"],
        "product.toml",
        &scenario(
            "parallelism = { tp = 8, pp = 2, dp = 128, microbatch = 1 }",
            "",
        ),
        &["product.toml:", "job.parallelism"],
    );
}

#[test]
fn expert_parallelism_that_does_not_divide_dp() {
    let body = scenario("", "").replace("llama3-8b", "mixtral-8x7b");
    let body = body.replace(
        "precision = \"bf16\"\n",
        "precision = \"bf16\"\nparallelism = { tp = 8, pp = 1, dp = 128, ep = 3, microbatch = 1 }\n",
    );
    rejects_with(
        &["validate", "train"],
        "ep.toml",
        &body,
        &["ep.toml:", "job.parallelism", "ep = 3"],
    );
}

#[test]
fn a_job_larger_than_the_installed_gpus() {
    rejects_with(
        &["validate", "train", "simulate"],
        "gpus.toml",
        &scenario("gpus = 2048", ""),
        &["gpus.toml:", "job.gpus", "2048 GPUs", "1024 installed"],
    );
}

#[test]
fn a_failure_rate_for_an_unknown_class() {
    rejects_with(
        &["validate", "simulate"],
        "rates.toml",
        &scenario("", "[reliability]\nrates = { \"+gpu-hbm3\" = 1e-3 }\n"),
        &["rates.toml:", "reliability.rates", "did you mean"],
    );
}

#[test]
fn no_layout_fits_in_memory() {
    // Llama 3 405B does not fit on 8 GPUs in any layout
    let body = scenario("", "")
        .replace("gpus = 1024", "gpus = 8")
        .replace("llama3-8b", "llama3-405b");
    rejects_with(
        &["validate", "train"],
        "nolayout.toml",
        &body,
        &["nolayout.toml:", "job.parallelism", "no parallel layout"],
    );
}

#[test]
fn a_fixed_layout_names_the_nearest_batch_that_divides() {
    // "3.9M" tokens = 476 sequences of 8,192 (rounded); dp × microbatch = 128: the nearest
    // batches that divide are 384 and 512 sequences
    rejects_with(
        &["validate", "train"],
        "batch.toml",
        &scenario(
            "parallelism = { tp = 8, pp = 1, dp = 128, microbatch = 1 }",
            "",
        )
        .replace("4194304", "\"3.9M\""),
        &[
            "batch.toml:",
            "job.parallelism.microbatch",
            "dp × microbatch = 128 × 1",
            "the nearest global batches that divide: 384 sequences (3145728 tokens) or 512 (4194304 tokens)",
        ],
    );
}
