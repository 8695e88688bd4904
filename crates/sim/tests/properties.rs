//! Property tests: node pools are conserved, time never runs backwards, useful time never exceeds
//! the wall clock (ETTR is their ratio),
//! useful + lost time = wall time, and the recorded intervals tile the run.

use proptest::prelude::*;
use sim::params::*;

#[allow(clippy::too_many_arguments)] // one argument per property the test varies
fn params(
    nodes: u64,
    rate_scale: f64,
    standby: u64,
    cold: u64,
    spare: u64,
    bad: f64,
    lifetime: u8,
    ckpt: u8,
    down: bool,
    maint: bool,
    seed: u64,
    design: u8,
    replica_nodes: u64,
) -> Params {
    let s = spec::builder::ScenarioBuilder::airesim_table1()
        .build()
        .unwrap();
    let mut p = pipeline::bind::sim_params(&s, &pipeline::Placement::of(&s), None)
        .unwrap()
        .0;
    // any u64 (a scenario file holds TOML's i64 seeds only)
    p.seed = seed;
    let cat = spec::Catalog::embedded();
    let llama = pipeline::bind::failures(&spec::reliability::failure_model(
        &cat.get::<spec::ReliabilityPreset>("llama3").unwrap(),
    ));
    p.classes = llama.classes;
    for c in &mut p.classes {
        c.rate_per_hour *= rate_scale;
    }
    // a hall-power class with a real rate, to exercise large blast radii
    if let Some(c) = p.classes.iter_mut().find(|c| c.name == "hall-power") {
        c.rate_per_hour = 1e-3 * rate_scale;
    }
    p.sdc = llama.sdc;
    p.sdc.trigger_per_hour *= 50.0;
    p.job_gpus = nodes * 8;
    p.nodes_per_hall = (nodes / 2).max(1);
    p.nodes_per_rack = 2;
    p.standby_nodes = standby;
    p.cold_nodes = cold;
    p.spare_nodes = spare;
    p.bad_nodes = BadNodes {
        fraction: bad,
        multiplier: 5.0,
    };
    p.lifetime = match lifetime {
        0 => Lifetime::Exponential,
        1 => Lifetime::Weibull { shape: 0.7 },
        _ => Lifetime::Lognormal { sigma: 1.2 },
    };
    p.checkpoint_write_s = 20.0;
    p.checkpoint_load_s = 30.0;
    p.memory_load_s = 2.0;
    p.checkpoint = match ckpt {
        0 => Checkpoint::Fixed { interval_s: 1800.0 },
        1 => Checkpoint::YoungDaly,
        _ => Checkpoint::Tiered {
            memory_interval_s: 120.0,
            memory_write_s: 1.0,
            persist_every: 10,
        },
    };
    p.recovery = llama.recovery;
    p.failures_while_down = down;
    p.maintenance = if maint { llama.maintenance } else { None };
    p.run = RunLength::WallS(10.0 * 86400.0);
    p.containment.design = Design::ALL[design as usize % Design::ALL.len()];
    p.containment.replica_gpus = (replica_nodes.min(nodes) * 8).max(8);
    p.containment.state_bytes = 6.48e12;
    p.containment.snapshot_block_s = 0.05;
    if p.containment.design.contained() && matches!(p.checkpoint, Checkpoint::Tiered { .. }) {
        p.checkpoint = Checkpoint::YoungDaly;
    }
    // a transient class too, to exercise faults that restart processes in place
    p.classes.push(FailureClass {
        name: "transient".into(),
        cause: Cause::Software,
        scope: Scope::NodeTransient,
        rate_per_hour: 2e-5 * rate_scale,
        removes_nodes: false,
        source: "test".into(),
    });
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn conserved_monotone_bounded(
        nodes in 1u64..3000,
        rate_scale in 0.0f64..200.0,
        standby in 0u64..40,
        cold in 0u64..40,
        spare in 0u64..40,
        bad in 0.0f64..0.5,
        lifetime in 0u8..3,
        ckpt in 0u8..3,
        down in any::<bool>(),
        maint in any::<bool>(),
        seed in any::<u64>(),
        design in 0u8..5,
        replica_nodes in 1u64..600,
    ) {
        let p = params(nodes, rate_scale, standby, cold, spare, bad, lifetime, ckpt, down, maint, seed, design, replica_nodes);
        prop_assert!(p.check().is_ok());
        let (r, pools_ok, time_ok) = sim::engine::simulate_checked(&p, seed);
        prop_assert!(pools_ok, "node pools not conserved");
        prop_assert!(time_ok, "time went backwards");
        // the reported ETTR is the useful share of the wall clock, never more than all of it
        prop_assert!(r.useful_s <= r.wall_s * (1.0 + 1e-12), "useful {} > wall {}", r.useful_s, r.wall_s);
        prop_assert!((r.ettr - r.useful_s / r.wall_s).abs() < 1e-12, "ETTR {}", r.ettr);
        let total = r.useful_s + r.lost.total_s();
        prop_assert!((total - r.wall_s).abs() <= 1e-6 * r.wall_s.max(1.0), "{} vs {}", total, r.wall_s);

        // the recorded timeline tiles [0, wall] with ordered, non-empty intervals
        let (r2, rec) = sim::simulate_replica(&p, seed, true);
        prop_assert_eq!(r2.ettr, sim::simulate_replica(&p, seed, false).0.ettr);
        let rec = rec.unwrap();
        let mut t = 0.0;
        for i in &rec.intervals {
            prop_assert!((i.start_s - t).abs() < 1e-6 * t.max(1.0), "gap at {}: {:?}", t, i);
            prop_assert!(i.end_s > i.start_s);
            t = i.end_s;
        }
        prop_assert!((t - r2.wall_s).abs() < 1e-6 * r2.wall_s.max(1.0), "ends at {} not {}", t, r2.wall_s);
        for e in rec.events.windows(2) {
            prop_assert!(e[1].t_s >= e[0].t_s);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// One run carrying several checkpoint policies gives each policy's figures exactly as its own
    /// run does (the recommendation's candidates share runs this way).
    #[test]
    fn policies_sharing_a_run_match_their_own_runs(
        nodes in 1u64..3000,
        rate_scale in 0.0f64..200.0,
        standby in 0u64..40,
        cold in 0u64..40,
        bad in 0.0f64..0.5,
        lifetime in 0u8..3,
        ckpt in 0u8..3,
        down in any::<bool>(),
        maint in any::<bool>(),
        seed in any::<u64>(),
        design in 0u8..5,
        replica_nodes in 1u64..600,
        work_days in prop::option::of(1.0f64..8.0),
        intervals in prop::collection::vec(10.0f64..7200.0, 1..5),
    ) {
        let mut p = params(nodes, rate_scale, standby, cold, 0, bad, lifetime, ckpt, down, maint, seed, design, replica_nodes);
        if let Some(d) = work_days {
            p.run = RunLength::WorkS(d * 86400.0);
        }
        let mut policies: Vec<Checkpoint> = intervals
            .iter()
            .map(|&interval_s| Checkpoint::Fixed { interval_s })
            .collect();
        policies.push(p.checkpoint);
        policies.push(Checkpoint::YoungDaly);
        let shared = sim::engine::simulate_policies(&p, &policies, seed);
        prop_assert_eq!(shared.len(), policies.len());
        for (c, r) in policies.iter().zip(&shared) {
            let q = Params { checkpoint: *c, ..p.clone() };
            let alone = sim::simulate_replica(&q, seed, false).0;
            prop_assert_eq!(r, &alone, "policy {:?}", c);
        }
    }
}

/// A stalled policy and two that complete, at three different times, in one shared run.
#[test]
fn shared_policies_stop_each_at_its_own_time() {
    let s = spec::load_scenario(None, &[]).unwrap();
    let mut p = pipeline::bind::sim_params(&s, &pipeline::Placement::of(&s), None)
        .unwrap()
        .0;
    p.run = RunLength::WorkS(2.0 * 86400.0);
    for c in &mut p.classes {
        c.rate_per_hour *= 3.0;
    }
    // an interval longer than the run (no checkpoint: no progress kept), and two that finish
    let policies = [
        Checkpoint::Fixed { interval_s: 1e7 },
        Checkpoint::Fixed { interval_s: 600.0 },
        Checkpoint::YoungDaly,
    ];
    let shared = sim::engine::simulate_policies(&p, &policies, 11);
    for (c, r) in policies.iter().zip(&shared) {
        let q = Params {
            checkpoint: *c,
            ..p.clone()
        };
        assert_eq!(r, &sim::simulate_replica(&q, 11, false).0, "{c:?}");
    }
    assert!(sim::engine::policies_share_a_run(&p, &policies));
    // the first stops as hopeless long after the others finished, each at its own time
    assert!(shared[0].stalled && !shared[0].completed, "{:?}", shared[0]);
    assert!(shared[1].completed && shared[2].completed);
    assert!(shared[2].wall_s < shared[1].wall_s && shared[1].wall_s < shared[0].wall_s);
}
