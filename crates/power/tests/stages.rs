//! Pipeline stages (`StepShape::stage_shape`, 1F1B schedule after Narayanan et al. 2021, Fig. 4):
//! every stage idles the same bubble at different places, so each stage's shape lasts the step and
//! holds its energy, and a pipelined job's trace has the aligned job's energy with gentler ramps.

#[path = "support/scenario.rs"]
mod scenario;
use power::draw::{Cluster, GpuDraw, Group};
use power::grid;
use power::profile::{phase_names as n, steady_run, PhaseDraw, StepShape};
use power::trace::{it_trace, state_it_mean_w, GpuMitigation, Trace};
use scenario::preset;

fn ph(name: &str, ms: f64, activity: f64) -> PhaseDraw {
    PhaseDraw {
        name: name.into(),
        duration_s: ms * 1e-3,
        activity,
    }
}

/// The default scenario's step (Llama 3 405B on 98,304 H100, pp 64), as the step model gives it.
fn default_step(stages: u32) -> StepShape {
    StepShape {
        phases: vec![
            ph("pipeline_fill", 126.1, 0.1),
            ph("forward", 277.9, 1.0),
            ph("backward", 561.3, 1.0),
            ph("tp_comm", 15.0, 0.0),
            ph("cp_comm", 10.9, 0.0),
            ph("pp_comm", 1.6, 0.0),
            ph("pipeline_drain", 126.1, 0.1),
            ph("dp_comm", 126.5, 0.0),
            ph("optimizer", 0.5, 0.5),
        ],
        pipeline_stages: stages,
    }
}

/// A step with recompute, unequal compute activities and zero-length phases.
fn odd_step(stages: u32) -> StepShape {
    StepShape {
        phases: vec![
            ph("pipeline_fill", 90.0, 0.05),
            ph("forward", 200.0, 0.9),
            ph("recompute", 150.0, 0.8),
            ph("backward", 400.0, 1.0),
            ph("tp_comm", 12.0, 0.2),
            ph("ep_comm", 0.0, 0.2),
            ph("pp_comm", 3.0, 0.3),
            ph("pipeline_drain", 90.0, 0.05),
            ph("dp_comm", 100.0, 0.2),
            ph("optimizer", 7.0, 0.5),
        ],
        pipeline_stages: stages,
    }
}

fn energy(s: &StepShape) -> f64 {
    s.phases.iter().map(|p| p.duration_s * p.activity).sum()
}

fn time_named(s: &StepShape, names: &[&str]) -> f64 {
    s.phases
        .iter()
        .filter(|p| names.contains(&p.name.as_str()))
        .map(|p| p.duration_s)
        .sum()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

const IDLE: [&str; 4] = [
    n::PIPELINE_FILL,
    n::PIPELINE_WARMUP_WAIT,
    n::PIPELINE_COOLDOWN_WAIT,
    n::PIPELINE_DRAIN,
];

#[test]
fn every_stage_lasts_the_step_and_holds_its_energy() {
    for step in [default_step(1), odd_step(1)] {
        for p in [2u32, 3, 7, 16, 64] {
            let step = StepShape {
                pipeline_stages: p,
                ..step.clone()
            };
            let bubble = time_named(&step, &[n::PIPELINE_FILL, n::PIPELINE_DRAIN]);
            let shapes = step.stage_shapes();
            assert_eq!(shapes.len(), p as usize);
            for (s, sh) in shapes.iter().enumerate() {
                assert!(sh.is_valid(), "p {p} stage {s}");
                assert!(sh
                    .phases
                    .iter()
                    .all(|x| x.duration_s > 0.0 || x.name == "ep_comm"));
                assert!(rel(sh.step_s(), step.step_s()) < 1e-12, "p {p} stage {s}");
                assert!(rel(energy(sh), energy(&step)) < 1e-12, "p {p} stage {s}");
                assert!(rel(sh.mean_activity(), step.mean_activity()) < 1e-12);
                // the same time in each phase of the input (compute by name, idle as the bubble)
                assert!(
                    rel(time_named(sh, &IDLE), bubble) < 1e-12,
                    "p {p} stage {s}"
                );
                for x in &step.phases {
                    if !IDLE.contains(&x.name.as_str()) && x.duration_s > 0.0 {
                        let t = time_named(sh, &[x.name.as_str()]);
                        assert!(rel(t, x.duration_s) < 1e-12, "{} p {p} stage {s}", x.name);
                        // every piece keeps its phase's activity
                        assert!(sh
                            .phases
                            .iter()
                            .filter(|y| y.name == x.name)
                            .all(|y| y.activity == x.activity));
                    }
                }
            }
        }
    }
}

/// The arrangement, phase by phase, against the formula written out by hand.
#[test]
fn stages_follow_the_1f1b_arrangement() {
    let p = 16u32;
    let step = default_step(p);
    let (fill, fwd, bwd, drain) = (0.1261, 0.2779, 0.5613, 0.1261);
    let u = (fill + drain) / (p as f64 - 1.0);
    let phi = fwd / (fwd + bwd);
    let (tf, tb) = (phi * u, (1.0 - phi) * u);
    let pf = p as f64;
    for s in 0..p {
        let sf = s as f64;
        let sh = step.stage_shape(s);
        let mut want = vec![];
        if s > 0 {
            want.push((n::PIPELINE_FILL, sf * tf));
        }
        want.push(("forward", (pf - sf) * tf));
        if s < p - 1 {
            want.push((n::PIPELINE_WARMUP_WAIT, (pf - 1.0 - sf) * tb));
        }
        let rest = fwd + bwd - (pf - sf) * tf - (pf - 1.0 - sf) * tb;
        want.push(("forward", fwd - (pf - sf) * tf));
        want.push(("backward", rest - (fwd - (pf - sf) * tf)));
        want.push(("tp_comm", 0.015));
        want.push(("cp_comm", 0.0109));
        want.push(("pp_comm", 0.0016));
        if s < p - 1 {
            want.push(("backward", (pf - 1.0 - sf) * tb));
            want.push((n::PIPELINE_COOLDOWN_WAIT, (pf - 1.0 - sf) * tf));
        }
        if s > 0 {
            want.push((n::PIPELINE_DRAIN, sf * tb));
        }
        want.push(("dp_comm", 0.1265));
        want.push(("optimizer", 0.0005));
        let got: Vec<(&str, f64)> = sh
            .phases
            .iter()
            .map(|x| (x.name.as_str(), x.duration_s))
            .collect();
        assert_eq!(got.len(), want.len(), "stage {s}: {got:?}");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.0, w.0, "stage {s}: {got:?}");
            assert!((g.1 - w.1).abs() < 1e-15, "stage {s}: {g:?} vs {w:?}");
        }
        // Stage 0 neither waits for a first microbatch nor idles at the end (fill s t_f, drain
        // s t_b); the last stage never waits inside the step (warm-up (p-1-s) t_b, cool-down
        // (p-1-s) t_f) and idles longest at the end.
        assert_eq!(s == 0, time_named(&sh, &[n::PIPELINE_FILL]) == 0.0);
        assert_eq!(s == 0, time_named(&sh, &[n::PIPELINE_DRAIN]) == 0.0);
        let waits = [n::PIPELINE_WARMUP_WAIT, n::PIPELINE_COOLDOWN_WAIT];
        assert_eq!(s == p - 1, time_named(&sh, &waits) == 0.0);
        // The tail (DP communication, optimizer) starts at the same time on every stage.
        let tail: f64 = sh.phases[..sh.phases.len() - 2]
            .iter()
            .map(|x| x.duration_s)
            .sum();
        assert!((tail - (step.step_s() - 0.1265 - 0.0005)).abs() < 1e-12);
    }
}

/// The compute block is cut by time in its own order; a block too short for the warm-up and
/// cool-down shrinks both in proportion, and no phase goes negative.
#[test]
fn compute_is_split_in_order_and_shrinks_when_short() {
    let order = |name: &str| n::COMPUTE.iter().position(|c| *c == name);
    for p in [2u32, 5, 16] {
        for s in 0..p {
            let sh = odd_step(p).stage_shape(s);
            let idx: Vec<usize> = sh.phases.iter().filter_map(|x| order(&x.name)).collect();
            assert!(
                idx.windows(2).all(|w| w[0] <= w[1]),
                "p {p} stage {s}: {idx:?}"
            );
        }
    }
    // 30 ms of compute against a 400 ms bubble over 8 stages.
    let short = StepShape {
        phases: vec![
            ph("pipeline_fill", 200.0, 0.1),
            ph("forward", 10.0, 1.0),
            ph("backward", 20.0, 1.0),
            ph("pipeline_drain", 200.0, 0.1),
            ph("optimizer", 5.0, 0.5),
        ],
        pipeline_stages: 8,
    };
    for s in 0..8 {
        let sh = short.stage_shape(s);
        assert!(sh.phases.iter().all(|x| x.duration_s > 0.0));
        assert!(rel(sh.step_s(), short.step_s()) < 1e-12);
        assert!(rel(energy(&sh), energy(&short)) < 1e-12);
        assert!(rel(time_named(&sh, &["forward", "backward"]), 0.030) < 1e-12);
        // warm-up and cool-down take the whole block, in the ratio (p - s) t_f : (p - 1 - s) t_b
        let u = 0.4 / 7.0;
        let (tf, tb) = (u / 3.0, 2.0 * u / 3.0);
        let (w, c) = ((8.0 - s as f64) * tf, (7.0 - s as f64) * tb);
        let warm: f64 = sh
            .phases
            .iter()
            .skip_while(|x| x.name == n::PIPELINE_FILL)
            .take_while(|x| x.name != n::PIPELINE_WARMUP_WAIT && x.name != n::PIPELINE_DRAIN)
            .map(|x| x.duration_s)
            .sum();
        assert!(rel(warm, 0.030 * w / (w + c)) < 1e-12, "stage {s}");
    }
}

#[test]
fn no_pipeline_no_bubble_or_other_names_leave_the_shape_unchanged() {
    let same = |sh: &StepShape| {
        for s in 0..sh.pipeline_stages.max(1) + 2 {
            assert_eq!(sh.stage_shape(s).phases, sh.phases);
        }
    };
    same(&default_step(1));
    same(&default_step(0));
    same(&StepShape {
        pipeline_stages: 16,
        ..StepShape::synthetic(2.0, 0.8, 0.0)
    });
    let mut no_bubble = default_step(16);
    no_bubble
        .phases
        .retain(|x| !x.name.starts_with("pipeline_"));
    same(&no_bubble);
    let mut zero_bubble = default_step(16);
    for x in &mut zero_bubble.phases {
        if x.name.starts_with("pipeline_") {
            x.duration_s = 0.0;
        }
    }
    same(&zero_bubble);
    assert_eq!(StepShape::default().pipeline_stages, 1);
    assert_eq!(StepShape::synthetic(2.0, 0.8, 0.0).pipeline_stages, 1);
    // Serialised shapes without the field read as one stage; one stage is not written out.
    let j = serde_json::to_string(&StepShape::synthetic(2.0, 0.8, 0.0)).unwrap();
    assert!(!j.contains("pipeline_stages"));
    let back: StepShape = serde_json::from_str(&j).unwrap();
    assert_eq!(back.pipeline_stages, 1);
    let j16 = serde_json::to_string(&default_step(16)).unwrap();
    assert_eq!(
        serde_json::from_str::<StepShape>(&j16).unwrap(),
        default_step(16)
    );
}

fn h100(name: String, gpus: f64, stage: u32) -> Group {
    Group {
        name,
        gpus,
        gpu: GpuDraw::from_tdp(700.0, 0.2, 0.9),
        host_w_per_gpu: 420.0,
        other_it_w_per_gpu: 127.5,
        offset_s: 0.0,
        spare: false,
        stage,
    }
}

/// `p` stage groups of `gpus / p` each in two halls, plus spares.
fn staged_cluster(gpus: f64, p: u32) -> Cluster {
    let mut groups = vec![];
    for hall in 0..2 {
        for s in 0..p {
            groups.push(h100(
                format!("hall-{hall} stage {}/{p}", s + 1),
                gpus / 2.0 / p as f64,
                s,
            ));
        }
    }
    let mut spare = h100("spares".into(), 1000.0, 0);
    spare.spare = true;
    groups.push(spare);
    Cluster { groups, pue: 1.14 }
}

fn trace(cluster: &Cluster, step: &StepShape, steps: f64) -> Trace {
    let n = (steps * step.step_s() / 0.01).floor() as usize;
    let dt = steps * step.step_s() / n as f64;
    let run = steady_run(1e4);
    it_trace(cluster, step, &run, 0.0, dt, n, &GpuMitigation::none()).it
}

#[test]
fn sixteen_stages_keep_the_energy_and_soften_the_ramps() {
    let gpus = 98_304.0;
    let aligned = trace(&staged_cluster(gpus, 1), &default_step(1), 40.0);
    let staged = trace(&staged_cluster(gpus, 16), &default_step(16), 40.0);
    assert_eq!(aligned.w.len(), staged.w.len());
    // whole steps: the same energy
    assert!(
        rel(staged.energy_j(), aligned.energy_j()) < 1e-9,
        "{} vs {}",
        staged.energy_j(),
        aligned.energy_j()
    );
    // and the energy the phases imply, by hand
    let step = default_step(1);
    let per_gpu = |a: f64| 140.0 + a * 490.0;
    let job_j: f64 = step
        .phases
        .iter()
        .map(|x| x.duration_s * (per_gpu(x.activity) + 547.5))
        .sum::<f64>()
        * gpus
        * 40.0;
    let spare_j = 1000.0 * (140.0 + 547.5) * 40.0 * step.step_s();
    assert!(rel(staged.energy_j(), job_j + spare_j) < 1e-9);
    let sample_ramp = |t: &Trace| {
        t.w.windows(2)
            .map(|p| (p[1] - p[0]).abs())
            .fold(0.0, f64::max)
            / t.dt_s
    };
    let (ra, rs) = (sample_ramp(&aligned), sample_ramp(&staged));
    // Strictly smaller, though not by much at 10 ms: in 1F1B every stage but the last ends its
    // warm-up forwards at the same instant, p t_f, and waits for the first backward (4.30 ->
    // 3.91 GW/s here).
    assert!(rs < ra, "ramp {rs} vs aligned {ra}");
    assert!(staged.swing_w() <= aligned.swing_w() * (1.0 + 1e-12));
    // All stages compute together in the middle of the step: the peak is the aligned peak.
    assert!(rel(staged.peak_w(), aligned.peak_w()) < 1e-9);
    let code = preset("ercot-large-load").unwrap();
    let (ma, _) = grid::metrics(&aligned.facility(1.14), &code);
    let (ms, _) = grid::metrics(&staged.facility(1.14), &code);
    // The grid code's metered ramp (1 s means) is smaller too (10.1 -> 8.0 MW/s here).
    assert!(ms.max_ramp_w_per_s < ma.max_ramp_w_per_s);
    assert!(rel(ms.mean_w, ma.mean_w) < 1e-9);
    // Per-state means are the aligned ones (each stage's mean activity is the step's), with a
    // floor and filler too (the same time at each activity on every stage).
    for m in [
        GpuMitigation::none(),
        GpuMitigation {
            floor_fraction: 0.6,
            filler_activity: Some(0.5),
            ..GpuMitigation::none()
        },
    ] {
        let a = state_it_mean_w(
            &staged_cluster(gpus, 1),
            &default_step(1),
            power::profile::RunState::Training,
            &m,
        );
        let s = state_it_mean_w(
            &staged_cluster(gpus, 16),
            &default_step(16),
            power::profile::RunState::Training,
            &m,
        );
        assert!(rel(s, a) < 1e-12, "{s} vs {a}");
    }
}

#[test]
fn one_stage_gives_the_identical_trace() {
    // A one-stage step: whatever stage the groups say, the trace is the aligned one, bit for bit.
    let step = default_step(1);
    let plain = trace(&staged_cluster(98_304.0, 1), &step, 7.3);
    let mut labelled = staged_cluster(98_304.0, 1);
    for (i, g) in labelled.groups.iter_mut().enumerate() {
        g.stage = i as u32 * 5;
    }
    assert_eq!(trace(&labelled, &step, 7.3).w, plain.w);
    // A pipelined job whose step has no bubble to arrange: every stage runs the step as given,
    // and the stage groups add up to the aligned job exactly (16 x 3,072 GPUs).
    let mut no_bubble = default_step(16);
    no_bubble
        .phases
        .retain(|x| !x.name.starts_with("pipeline_"));
    let one = StepShape {
        pipeline_stages: 1,
        ..no_bubble.clone()
    };
    let mut one_hall = staged_cluster(98_304.0, 1);
    one_hall.groups.remove(1);
    one_hall.groups[0].gpus = 98_304.0;
    assert_eq!(
        trace(&staged_cluster(98_304.0, 16), &no_bubble, 7.3).w,
        trace(&one_hall, &one, 7.3).w
    );
}

/// The pipelined trace is summed segment by segment (not group by group); it matches the sum of
/// the groups' own per-GPU traces, with restarts, offsets, spares, floors and filler, in a window
/// that is not a whole number of steps or bins. GPU ramp limits take the per-group path and pay
/// for what they move.
#[test]
fn pipelined_trace_is_the_sum_of_its_stage_groups() {
    use power::profile::{RunInterval, RunState};
    use power::trace::group_gpu_trace;
    let run = vec![
        RunInterval {
            start_s: 0.0,
            end_s: 31.7,
            state: RunState::Training,
        },
        RunInterval {
            start_s: 31.7,
            end_s: 40.0,
            state: RunState::Restart,
        },
        RunInterval {
            start_s: 40.0,
            end_s: 50.3,
            state: RunState::CheckpointWrite,
        },
        RunInterval {
            start_s: 50.3,
            end_s: 500.0,
            state: RunState::Training,
        },
    ];
    let mut cluster = staged_cluster(98_304.0, 8);
    cluster.groups[3].offset_s = 0.37;
    cluster.groups[9].gpu = GpuDraw::from_tdp(1000.0, 0.2, 0.9);
    let step = odd_step(8);
    let (t0, dt, n) = (1.234, 0.007, 20_000);
    for m in [
        GpuMitigation::none(),
        GpuMitigation {
            floor_fraction: 0.55,
            filler_activity: Some(0.6),
            ..GpuMitigation::none()
        },
        GpuMitigation {
            ramp_up_w_per_s: Some(2_000.0),
            ramp_down_w_per_s: Some(5_000.0),
            ..GpuMitigation::none()
        },
    ] {
        let got = it_trace(&cluster, &step, &run, t0, dt, n, &m);
        let mut want = Trace::zeros(t0, dt, n);
        let mut deferred = 0.0;
        for g in &cluster.groups {
            let gt = group_gpu_trace(g, &step, &run, t0, dt, n, &m);
            let free = GpuMitigation {
                ramp_up_w_per_s: None,
                ramp_down_w_per_s: None,
                ..m
            };
            let demand = group_gpu_trace(g, &step, &run, t0, dt, n, &free);
            deferred += g.gpus * power::trace::deferred_energy_j(&demand.w, &gt.w, dt);
            for (o, x) in want.w.iter_mut().zip(&gt.w) {
                *o += g.gpus * x + g.constant_w();
            }
        }
        let worst = got
            .it
            .w
            .iter()
            .zip(&want.w)
            .map(|(a, b)| rel(*a, *b))
            .fold(0.0, f64::max);
        assert!(worst < 1e-9, "{m:?}: {worst}");
        assert!(rel(got.deferred_j.max(1.0), deferred.max(1.0)) < 1e-9);
        if m.ramp_up_w_per_s.is_some() {
            assert!(got.deferred_j > 0.0);
        }
    }
}

/// A scenario's job splits into its pipeline's stages in every hall (an equal share each); spares
/// stay one group; a step without a pipeline keeps one group per hall.
#[test]
fn scenario_halls_split_into_stage_groups() {
    let s = spec::scenario::load_scenario(None, &[]).expect("default scenario");
    let site = pipeline::bind::power_site(&s, 0, &pipeline::Placement::of(&s));
    let (c1, c16) = (
        &power::site::cluster(&site, 1),
        &power::site::cluster(&site, 16),
    );
    let job = |c: &Cluster| c.groups.iter().filter(|g| !g.spare).count();
    assert!(c1.groups.iter().all(|g| g.stage == 0));
    assert_eq!(job(c16), 16 * job(c1));
    assert!(rel(c16.gpus(), c1.gpus()) < 1e-12);
    for hall in c1.groups.iter().filter(|g| !g.spare) {
        let stages: Vec<&Group> = c16
            .groups
            .iter()
            .filter(|g| g.name.starts_with(&format!("{} stage ", hall.name)))
            .collect();
        assert_eq!(stages.len(), 16);
        for (i, g) in stages.iter().enumerate() {
            assert_eq!(g.stage, i as u32);
            assert_eq!(g.name, format!("{} stage {}/16", hall.name, i + 1));
            assert!(rel(g.gpus * 16.0, hall.gpus) < 1e-12);
            assert_eq!((g.gpu, g.host_w_per_gpu), (hall.gpu, hall.host_w_per_gpu));
        }
    }
    let spares =
        |c: &Cluster| -> Vec<Group> { c.groups.iter().filter(|g| g.spare).cloned().collect() };
    assert_eq!(spares(c1), spares(c16));
}

/// Per-state means use the step's time at each activity, which every stage shares, also under a
/// floor or filler (non-linear in activity); with fill and drain at different activities the idle
/// pieces take the bubble's mean, and so does the mix.
#[test]
fn stages_share_the_time_mix_used_for_state_means() {
    let mean_of = |s: &StepShape, f: &dyn Fn(f64) -> f64| -> f64 {
        s.phases
            .iter()
            .map(|x| x.duration_s * f(x.activity))
            .sum::<f64>()
            / s.step_s()
    };
    let floor = |a: f64| a.max(0.25);
    let filler = |a: f64| a.max(0.6) * 490.0 + 140.0;
    let mut uneven = default_step(12);
    uneven.phases[0].activity = 0.05; // fill
    uneven.phases[6].activity = 0.3; // drain
    for step in [default_step(12), odd_step(5), uneven] {
        let mix = step.time_mix();
        assert!(rel(mix.step_s(), step.step_s()) < 1e-15);
        for s in 0..step.pipeline_stages {
            let sh = step.stage_shape(s);
            for f in [&floor as &dyn Fn(f64) -> f64, &filler] {
                assert!(rel(mean_of(&sh, f), mean_of(&mix, f)) < 1e-12, "stage {s}");
            }
        }
    }
    // fill and drain alike: the mix is the step itself
    assert!(matches!(
        default_step(12).time_mix(),
        std::borrow::Cow::Borrowed(_)
    ));
}
