//! The Monte Carlo in one pass (the recommendation's runs carried by the main replicas') gives the
//! same figures as the main run, its summary and the recommendation computed in turn.

use sim::params::*;

fn default_params(edit: impl Fn(&mut Params)) -> Params {
    let s = spec::load_scenario(None, &[]).unwrap();
    let mut p = pipeline::bind::sim_params(&s, &pipeline::Placement::of(&s), None)
        .unwrap()
        .0;
    p.run = RunLength::WorkS(3.0 * 86400.0);
    edit(&mut p);
    p.check().unwrap();
    p
}

fn in_turn(p: &Params, replicas: u64, rec: u64) -> (Vec<sim::ReplicaResult>, sim::Summary) {
    let rs = sim::monte::results(p, replicas, &|| {});
    let mut s = sim::monte::summarize(p, &rs);
    s.recommendation = Some(sim::monte::recommend(p, &s, rec, 0.9, &|| {}));
    (rs, s)
}

#[test]
fn one_pass_matches_the_three_calls() {
    let cases = [
        default_params(|_| {}),
        default_params(|p| p.containment.design = Design::HotSpare),
        default_params(|p| {
            p.containment.design = Design::ElasticDp;
            p.containment.replica_gpus = 8192;
        }),
        default_params(|p| {
            p.checkpoint = Checkpoint::Tiered {
                memory_interval_s: 120.0,
                memory_write_s: 1.0,
                persist_every: 10,
            }
        }),
        default_params(|p| p.checkpoint = Checkpoint::Fixed { interval_s: 900.0 }),
    ];
    for p in &cases {
        for (replicas, rec) in [(6, 3), (2, 5), (4, 4)] {
            let ticks = std::sync::atomic::AtomicU64::new(0);
            let tick = || {
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            };
            let (rs, s) = sim::monte::run_with_recommendation(p, replicas, Some(rec), 0.9, &tick);
            let (rs2, s2) = in_turn(p, replicas, rec);
            assert_eq!(rs, rs2, "{:?} {replicas} {rec}", p.containment.design);
            assert_eq!(s, s2, "{:?} {replicas} {rec}", p.containment.design);
            // one tick per replica, and one per candidate and spare-count run
            let policies = s.recommendation.as_ref().unwrap().candidates.len() as u64 + 1;
            assert_eq!(ticks.into_inner(), replicas + policies * rec);
        }
        let (rs, s) = sim::monte::run_with_recommendation(p, 3, None, 0.9, &|| {});
        let rs2 = sim::monte::results(p, 3, &|| {});
        assert_eq!(rs, rs2);
        assert_eq!(s, sim::monte::summarize(p, &rs2));
    }
}
