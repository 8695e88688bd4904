//! The sweep on the built-in default scenario: located errors, sharding, determinism.

use sweep::{Cell, Grid, RunOptions, Sections, Shard, Sweep};

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

#[test]
fn debug_errors() {
    let s = sweep("\"site[0].hall[0].gpus\" = [100000, 100008]\n").unwrap();
    let o = RunOptions {
        sections: Sections::parse("plan,train,simulate,power").unwrap(),
        ..RunOptions::default()
    };
    let t = s.run(&o, Shard::all(), &|_, _, _| {}).unwrap();
    for r in &t.rows {
        assert_eq!(r.last(), Some(&Cell::Null), "{:?}", r.last());
    }
}
