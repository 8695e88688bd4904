//! Properties of the step model and the search that must hold for any input: phases add up to the
//! step, no NaN, HFU ≥ MFU, schedules order as the papers say, FP8 helps but less than 2×, the
//! search is deterministic whatever the thread count, `[job] gpus` takes part of a cluster.

use perf::step::{Precision, Recompute, Schedule};
use perf::*;
use pipeline::{best_profile, setup, Setup};

fn scenario_text(job: &str) -> String {
    format!(
        "name = \"t\"\n[[site]]\nname = \"a\"\ngrid = \"150 MW\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 1024\nfabric = \"ib-ndr-3tier\"\n[job]\nmodel = \"llama3-70b\"\ntokens = \"1T\"\nseq = 8192\nglobal_batch = 4194304\n{job}"
    )
}

fn scenario(job: &str) -> spec::Scenario {
    spec::parse_scenario("t.toml", &scenario_text(job), &spec::Catalog::embedded()).unwrap()
}

fn fixed(job: &str) -> (Setup, Config) {
    let s = setup(&scenario(job)).unwrap();
    let c = s.fixed.expect("fixed layout");
    (s, c)
}

#[test]
fn phases_add_up_to_the_step_and_are_finite() {
    let (s, c) = fixed("parallelism = { tp = 8, pp = 4, dp = \"rest\", interleave = 5 }\n");
    // The step time and the phases are computed separately; the profile scales the phases to
    // the step only to absorb rounding (and the per-microbatch pp / ZeRO-3 split), so before
    // that scaling they already add up to the step within 1 %.
    let e = evaluate(&s.workload, &s.cluster, &c).unwrap();
    let raw: f64 = perf::step::phases(&e).iter().map(|x| x.1).sum();
    assert!(
        (raw / e.step_time_s - 1.0).abs() < 0.01,
        "phases {raw} s, step {} s",
        e.step_time_s
    );
    let p = profile(&s.workload, &s.cluster, &c).unwrap();
    for ph in &p.phases {
        assert!(ph.duration_s.is_finite() && ph.duration_s > 0.0, "{ph:?}");
        assert!((0.0..=1.0).contains(&ph.activity));
    }
    assert!(p.mfu > 0.0 && p.mfu < 1.0 && p.hfu >= p.mfu);
    assert!(p.memory.total_bytes > 0.0 && p.fits);
    assert!(p.tokens_per_s > 0.0 && p.days_to_train > 0.0);
}

#[test]
fn full_recompute_costs_time_and_saves_memory() {
    let (s, mut c) = fixed("parallelism = { tp = 8, pp = 4, dp = \"rest\" }\n");
    c.recompute = Recompute::None;
    let none = profile(&s.workload, &s.cluster, &c).unwrap();
    c.recompute = Recompute::Full;
    let full = profile(&s.workload, &s.cluster, &c).unwrap();
    assert!(full.step_time_s > none.step_time_s * 1.15);
    assert!(full.memory.activations_bytes < none.memory.activations_bytes / 3.0);
    assert!((full.mfu * full.step_time_s - none.mfu * none.step_time_s).abs() < 1e-9);
    assert!(full.hfu > full.mfu * 1.25);
}

#[test]
fn schedules_order_as_published() {
    let (s, mut c) = fixed("parallelism = { tp = 8, pp = 8, dp = \"rest\" }\n");
    let bubble = |c: &Config| evaluate(&s.workload, &s.cluster, c).unwrap().bubble_s;
    let one_f_one_b = bubble(&c);
    c.schedule = Schedule::Interleaved;
    c.interleave = 5;
    let inter = bubble(&c);
    c.schedule = Schedule::ZeroBubble;
    c.interleave = 1;
    let zb = bubble(&c);
    // Narayanan 2021: interleaving divides the bubble by the chunk count
    assert!(
        (inter / one_f_one_b - 1.0 / 5.0).abs() < 0.05,
        "{inter} {one_f_one_b}"
    );
    assert!(zb < one_f_one_b);
}

#[test]
fn fp8_is_faster_but_less_than_twice() {
    let (mut s, c) = fixed("parallelism = { tp = 8, pp = 4, dp = \"rest\" }\n");
    let bf16 = evaluate(&s.workload, &s.cluster, &c).unwrap().step_time_s;
    s.workload.precision = Precision::Fp8;
    let fp8 = evaluate(&s.workload, &s.cluster, &c).unwrap().step_time_s;
    assert!(fp8 < bf16 && fp8 > bf16 / 2.0, "{bf16} {fp8}");
}

#[test]
fn job_gpus_takes_part_of_the_cluster() {
    let s = setup(&scenario(
        "gpus = 512\nparallelism = { tp = 8, pp = 4, dp = \"rest\" }\n",
    ))
    .unwrap();
    assert_eq!(s.cluster.gpus, 512);
    assert_eq!(s.fixed.unwrap().dp, 16);
    assert!(s.cluster.fabric.levels.iter().all(|l| l.size <= 512));
    // more GPUs than installed: the scenario itself is refused, naming the field
    let e = spec::parse_scenario(
        "t.toml",
        &scenario_text("gpus = 4096\n"),
        &spec::Catalog::embedded(),
    )
    .unwrap_err();
    assert_eq!(e.path, "job.gpus");
}

#[test]
fn an_unfit_layout_says_how_much_it_needs() {
    let (s, mut c) =
        fixed("parallelism = { tp = 1, pp = 1, dp = \"rest\", recompute = \"none\" }\n");
    c.microbatch = 1;
    let mut w = s.workload.clone();
    w.global_batch_seqs = 1024;
    let p = profile(&w, &s.cluster, &c).unwrap();
    assert!(!p.fits);
    let n = p.memory_note.unwrap();
    assert!(
        n.starts_with("does not fit: needs") && n.ends_with("GiB"),
        "{n}"
    );
}

#[test]
fn invalid_layouts_name_their_field() {
    let (s, c) = fixed("parallelism = { tp = 8, pp = 4, dp = \"rest\" }\n");
    let bad = |f: &dyn Fn(&mut Config), field: &str| {
        let mut x = c;
        f(&mut x);
        let e = evaluate(&s.workload, &s.cluster, &x).unwrap_err();
        assert_eq!(e.field, field, "{}", e.message);
    };
    bad(&|x| x.dp = 3, "dp");
    bad(
        &|x| {
            x.tp = 128;
            x.dp = 2;
            x.pp = 4
        },
        "tp",
    );
    bad(
        &|x| {
            x.pp = 32;
            x.dp = 4;
            x.interleave = 3;
            x.schedule = Schedule::Interleaved
        },
        "pp",
    );
    bad(&|x| x.ep = 2, "ep");
    bad(&|x| x.microbatch = 3, "microbatch");
    bad(&|x| x.zero = 4, "zero");
}

#[test]
fn search_is_deterministic_whatever_the_thread_count() {
    let s = setup(&scenario("")).unwrap();
    let mut sp = Space::new(&s.cluster);
    sp.top_k = 8;
    let a = search(&s.workload, &s.cluster, &sp, &|_, _| {});
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = pool.install(|| search(&s.workload, &s.cluster, &sp, &|_, _| {}));
    assert_eq!(a, b);
    assert_eq!(a.evaluated, a.valid + a.invalid + a.unfit);
    assert_eq!(a.invalid, a.invalid_by_field.values().sum::<u64>());
    assert!(a
        .top
        .windows(2)
        .all(|w| w[0].tokens_per_s >= w[1].tokens_per_s));
    for c in &a.top {
        let change = c.global_batch_seqs as f64 / s.workload.global_batch_seqs as f64;
        assert!((0.5..=2.0).contains(&change));
        assert!(c.fits && c.step_time_s.is_finite());
    }
}

#[test]
fn best_profile_of_auto_is_the_search_winner() {
    let s = setup(&scenario("")).unwrap();
    let (p, w, r) = best_profile(&s, &|_, _| {}).unwrap().unwrap();
    let r = r.unwrap();
    assert_eq!(p.config, r.top[0].config);
    assert_eq!(w.global_batch_seqs, r.top[0].global_batch_seqs);
    assert!((p.step_time_s - r.top[0].step_time_s).abs() < 1e-12);
}
