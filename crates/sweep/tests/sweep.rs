//! Sweeps over the built-in default scenario and the five-regions example: located errors for bad
//! points, shards that join into the unsharded output, figures that do not depend on the thread
//! count, and rows that agree with the pipeline and with the published multi-site figures.

use sweep::{Cell, Grid, RunOptions, Sections, Shard, Sweep};

/// The default scenario with the layout its layout search picks, written in as a fixed layout
/// (at the batch that layout rounds to: 2,040 sequences), so a point costs no search.
const FIXED: &str = r#"parallelism = { tp = 8, pp = 64, cp = 8, dp = 24, microbatch = 1, schedule = "zero-bubble", zero = 1 }"#;

fn base() -> String {
    spec::scenario::DEFAULT_SCENARIO
        .replace("parallelism = \"auto\"", FIXED)
        .replace("global_batch = 16777216", "global_batch = 16711680")
}

fn sweep(grid: &str) -> Result<Sweep, spec::SpecError> {
    let g = Grid::parse("grid.toml", grid)?;
    Sweep::new("base.toml", &base(), spec::Catalog::embedded(), g)
}

fn opts(sections: &str) -> RunOptions {
    RunOptions {
        sections: Sections::parse(sections).unwrap(),
        replicas: 2,
        ..RunOptions::default()
    }
}

fn col(t: &sweep::Table, name: &str) -> Vec<Cell> {
    let c = t.column(name).unwrap_or_else(|| panic!("no column {name}"));
    t.rows.iter().map(|r| r[c].clone()).collect()
}

fn f(c: &Cell) -> f64 {
    c.as_f64().unwrap_or_else(|| panic!("not a number: {c:?}"))
}

/// 3 GPU counts × 2 fabrics' worth of points with every section (a 2-minute power window keeps
/// the test quick; the seeds matter through the reliability replicas).
const GRID: &str = r#"
site[0].hall[0].gpus = ["100k", 110000, "120k"]
"reliability.preset" = ["llama3", "meta-rsc-high"]
"power.window" = "2 min"
"#;

#[test]
fn shards_join_into_the_unsharded_output_whatever_the_thread_count() {
    let s = sweep(GRID).unwrap();
    assert_eq!(s.len(), 6);
    let o = opts("plan,train,simulate,power");
    let whole = s
        .run(
            &RunOptions {
                threads: Some(1),
                ..o
            },
            Shard::all(),
            &|_, _, _| {},
        )
        .unwrap();
    assert!(
        col(&whole, "error").iter().all(|e| *e == Cell::Null),
        "{:?}",
        col(&whole, "error")
    );
    let two = s
        .run(
            &RunOptions {
                threads: Some(2),
                ..o
            },
            Shard::all(),
            &|_, _, _| {},
        )
        .unwrap();
    assert_eq!(whole.csv(), two.csv(), "thread count changed the figures");
    // three shards of every third point, each with its own thread count, joined by point
    let parts: Vec<(String, String)> = (0..3)
        .map(|i| {
            let t = s
                .run(
                    &RunOptions {
                        threads: Some(1 + i as usize % 2),
                        ..o
                    },
                    Shard { index: i, count: 3 },
                    &|_, _, _| {},
                )
                .unwrap();
            assert_eq!(
                col(&t, "point"),
                [Cell::UInt(i), Cell::UInt(i + 3)],
                "shard {i} takes every third point"
            );
            (format!("shard{i}.csv"), t.csv())
        })
        .collect();
    assert_eq!(sweep::table::merge_csv(&parts).unwrap(), whole.csv());
    // every point has its own seed
    let seeds = col(&whole, "seed");
    assert!(seeds.windows(2).all(|w| w[0] != w[1]));
    // the llama3 preset's ETTR is the default report's 73.3 % (p5 72.0 %, p95 74.7 %); RSC-1's
    // failure rate (6.50 per 1,000 node-days) leaves far less at 12,288 nodes
    let ettr: Vec<f64> = col(&whole, "ettr").iter().map(f).collect();
    for k in 0..3 {
        assert!((0.70..0.76).contains(&ettr[2 * k]), "{ettr:?}");
        assert!(ettr[2 * k + 1] < 0.5 * ettr[2 * k], "{ettr:?}");
    }
}

#[test]
fn a_point_is_the_scenario_it_edits() {
    // the base's own value at point 0: the default scenario's figures (README, docs/figures.md)
    let s = sweep(GRID).unwrap();
    let t = s
        .run(
            &opts("plan,train"),
            Shard { index: 0, count: 6 },
            &|_, _, _| {},
        )
        .unwrap();
    let r = &t.rows[0];
    let get = |n: &str| &r[t.column(n).unwrap()];
    assert_eq!(get("site[0].hall[0].gpus"), &Cell::Str("100k".into()));
    assert_eq!(get("gpus"), &Cell::UInt(100_000));
    assert_eq!(get("job_gpus"), &Cell::UInt(98_304));
    // 100k H100 draw 159.9 MW at the facility (README "Facility power (IT × PUE)")
    assert!((f(get("facility_power_w")) / 159.885e6 - 1.0).abs() < 1e-9);
    // the same scenario through the pipeline directly gives the same figures
    let sc = spec::parse_scenario("base.toml", &base(), &spec::Catalog::embedded()).unwrap();
    let p = pipeline::Pipeline::new(sc);
    let plan = p.plan();
    assert_eq!(f(get("capex_usd")), plan.capex_usd);
    assert_eq!(f(get("tco_usd_per_gpu_hour")), plan.tco_usd_per_gpu_hour);
    let step = p.step().unwrap().unwrap();
    assert_eq!(f(get("step_time_s")), step.profile.step_time_s);
    assert_eq!(f(get("mfu")), step.profile.mfu);
    // without the reliability section the run's time is the failure-free time to train, and its
    // dollars the whole cluster's TCO over that time
    assert_eq!(get("run_time_counts_failures"), &Cell::Bool(false));
    let run_s = f(get("run_time_s"));
    assert_eq!(run_s, step.profile.days_to_train * 86400.0);
    assert!((f(get("days_to_train")) - run_s / 86400.0).abs() < 1e-12);
    let usd = plan.tco_usd_per_year * run_s / spec::SECONDS_PER_YEAR;
    assert!((f(get("usd_per_run")) / usd - 1.0).abs() < 1e-12);
    // the point's scenario text is the base with the value written in
    let text = s.point_toml(4).unwrap();
    assert!(text.contains("gpus = \"120k\""), "{text}");
    assert!(text.contains("preset = \"llama3\""), "{text}");
}

#[test]
fn more_gpus_cost_more_and_a_longer_run_costs_more() {
    let s = sweep("\"site[0].hall[0].gpus\" = [\"100k\", \"200k\"]\n\"job.tokens\" = [\"15.6T\", \"31.2T\"]\n").unwrap();
    let t = s
        .run(&opts("plan,train"), Shard::all(), &|_, _, _| {})
        .unwrap();
    let capex: Vec<f64> = col(&t, "capex_usd").iter().map(f).collect();
    let days: Vec<f64> = col(&t, "days_to_train").iter().map(f).collect();
    let usd: Vec<f64> = col(&t, "usd_per_run").iter().map(f).collect();
    // points: (100k, 15.6T), (100k, 31.2T), (200k, 15.6T), (200k, 31.2T)
    assert_eq!(capex[0], capex[1]);
    assert!(
        capex[2] > 1.9 * capex[0] && capex[2] < 2.1 * capex[0],
        "{capex:?}"
    );
    // the job keeps its 98,304 GPUs: twice the tokens, twice the days
    assert!((days[1] / days[0] - 2.0).abs() < 1e-9, "{days:?}");
    // and twice the GPUs installed for the same job: about twice the dollars
    assert!(usd[2] > 1.8 * usd[0], "{usd:?}");
}

#[test]
fn bad_points_are_located_before_any_work() {
    // a typo in the second value: at its place in the grid, naming the point, with a hint
    let s = sweep("\"site[0].hall[0].system\" = [\"hgx-h100\", \"hgx-h1000\"]\n").unwrap();
    let e = s.validate(Shard::all(), &|_, _, _| {}).unwrap_err();
    assert_eq!(e.file, "grid.toml");
    assert_eq!((e.line, e.column), (Some(1), Some(41)), "{e}");
    assert_eq!(e.path, "site[0].hall[0].system");
    assert!(e.message.contains("point 1"), "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `hgx-h100`?"));
    // run() checks every point first and returns the error, no rows
    assert!(s.run(&opts("plan"), Shard::all(), &|_, _, _| {}).is_err());
    // a fault the point causes elsewhere: at the base file's line of that field
    let s = sweep("site[0].hall[0].gpus = [\"100k\", \"10k\"]\n").unwrap();
    let e = s.validate(Shard::all(), &|_, _, _| {}).unwrap_err();
    assert_eq!(e.file, "base.toml", "{e}");
    assert_eq!(e.path, "job.gpus", "{e}");
    let line = base()
        .lines()
        .position(|l| l.starts_with("gpus = 98304"))
        .unwrap()
        + 1;
    assert_eq!(e.line, Some(line as u32), "{e}");
    assert!(
        e.message
            .contains("point 1: site[0].hall[0].gpus = \"10k\""),
        "{e}"
    );
    // a shard checks only its own points
    assert!(s
        .validate(Shard { index: 0, count: 2 }, &|_, _, _| {})
        .is_ok());
    // a path the base has no place for: at the grid key
    let e = sweep("\n\"site[3].grid\" = [\"1 GW\"]\n").err().unwrap();
    assert_eq!((e.file.as_str(), e.line), ("grid.toml", Some(2)), "{e}");
    assert!(e.message.contains("has 1 of them"), "{e}");
    // an unknown field: spec's error, at the grid value
    let e = sweep("\"job.sync.strateggy\" = [\"dp\"]\n")
        .unwrap()
        .validate(Shard::all(), &|_, _, _| {})
        .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("grid.toml", Some(1)), "{e}");
    assert!(e.message.contains("strateggy"), "{e}");
}

#[test]
fn five_regions_loss_over_link_capacity_matches_the_readme() {
    // README, "Can one run span five regions": synchronous DP loses 89 % at 1 Tbit/s per link,
    // 35 % at 10 and 13 % at 100; Streaming DiLoCo (H = 100) 18 % at any of them. The example's
    // links are 64 wavelengths: 15.625, 156.25 and 1,562.5 Gbit/s each give 1, 10, 100 Tbit/s.
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/five-regions.toml"
    ))
    .unwrap();
    let g = Grid::parse(
        "grid.toml",
        "\"link[*].wavelength_rate\" = [\"15.625 Gbps\", \"156.25 Gbps\", \"1562.5 Gbps\"]\njob.sync.strategy = [\"dp\", \"streaming-diloco\"]\n",
    )
    .unwrap();
    let s = Sweep::new("five-regions.toml", &src, spec::Catalog::embedded(), g).unwrap();
    let t = s
        .run(&opts("plan,train,multisite"), Shard::all(), &|_, _, _| {})
        .unwrap();
    let loss: Vec<f64> = col(&t, "multisite_loss").iter().map(f).collect();
    let want = [0.89, 0.18, 0.35, 0.18, 0.13, 0.18];
    for (i, (l, w)) in loss.iter().zip(want).enumerate() {
        assert!((l - w).abs() < 0.006, "point {i}: loss {l}, README {w}");
    }
    // README, same section: with failures a 512k-GPU synchronous job keeps 13.8 % goodput,
    // DiLoCo's per-site failure domains 66.5 % (to the README's rounding); DP's run is the longer
    let good: Vec<f64> = col(&t, "multisite_goodput").iter().map(f).collect();
    for i in [0, 2, 4] {
        assert!(
            (good[i] - 0.138).abs() < 0.0005,
            "point {i}: goodput {}",
            good[i]
        );
        assert!(
            (good[i + 1] - 0.665).abs() < 0.0005,
            "point {}: goodput {}",
            i + 1,
            good[i + 1]
        );
    }
    let days: Vec<f64> = col(&t, "days_to_train").iter().map(f).collect();
    assert!(days[1] > 0.0 && days[0] > days[1], "{days:?}");
    assert_eq!(col(&t, "sites")[0], Cell::UInt(5));
}
