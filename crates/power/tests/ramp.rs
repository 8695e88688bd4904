//! The throughput a GPU ramp-up limit costs, at run level: checked against the closed form of a
//! recovery from idle at a constant compute demand, and against the run's own mix of states.

use power::draw::{Cluster, GpuDraw, Group};
use power::profile::{PhaseDraw, RunInterval, RunState, StepShape};
use power::trace::{run_deferred_fraction, GpuMitigation};

fn cluster() -> Cluster {
    Cluster {
        groups: vec![Group {
            name: "hall".into(),
            gpus: 1000.0,
            gpu: GpuDraw::from_tdp(700.0, 0.2, 0.9),
            host_w_per_gpu: 420.0,
            other_it_w_per_gpu: 127.5,
            offset_s: 0.0,
            spare: false,
            stage: 0,
        }],
        pue: 1.1,
    }
}

fn step(phases: &[(f64, f64)]) -> StepShape {
    StepShape {
        phases: phases
            .iter()
            .map(|&(s, a)| PhaseDraw {
                name: "p".into(),
                duration_s: s,
                activity: a,
            })
            .collect(),
        pipeline_stages: 1,
    }
}

/// Training with `n` restarts of `restart_s` spread over `length_s`.
fn run(length_s: f64, n: usize, restart_s: f64) -> Vec<RunInterval> {
    let mut out = vec![];
    let gap = length_s / (n + 1) as f64;
    let mut t = 0.0;
    for k in 1..=n {
        let r0 = gap * k as f64;
        out.push(RunInterval {
            start_s: t,
            end_s: r0,
            state: RunState::Training,
        });
        out.push(RunInterval {
            start_s: r0,
            end_s: r0 + restart_s,
            state: RunState::Restart,
        });
        t = r0 + restart_s;
    }
    out.push(RunInterval {
        start_s: t,
        end_s: length_s,
        state: RunState::Training,
    });
    out
}

fn limit(r: f64) -> GpuMitigation {
    GpuMitigation {
        ramp_up_w_per_s: Some(r),
        ramp_down_w_per_s: Some(r),
        ..GpuMitigation::none()
    }
}

#[test]
fn no_ramp_up_limit_defers_nothing() {
    let st = step(&[(0.8, 1.0), (0.2, 0.2)]);
    let m = GpuMitigation {
        ramp_down_w_per_s: Some(5.0),
        ..GpuMitigation::none()
    };
    assert_eq!(
        run_deferred_fraction(&cluster(), &st, &run(86_400.0, 10, 600.0), &m),
        0.0
    );
}

/// Constant compute demand: only the climbs after restarts defer work. From idle (140 W) to
/// compute (630 W) at r W/s the shortfall is a triangle of (630 − 140)² / (2r) J per GPU; over the
/// run's stepping time × (630 − 140) W of work that is n × 490 / (2 r × stepping).
#[test]
fn recoveries_defer_the_triangle_under_the_climb() {
    let st = step(&[(1.0, 1.0)]);
    let (length, n, restart, r) = (86_400.0, 12, 600.0, 7.0);
    let stepping = length - n as f64 * restart;
    let want = n as f64 * 490.0 / (2.0 * r * stepping);
    let got = run_deferred_fraction(&cluster(), &st, &run(length, n, restart), &limit(r));
    assert!((got / want - 1.0).abs() < 0.02, "{got} vs {want}");
    // twice the restarts, twice the deferral (same stepping time per restart-free stretch aside)
    let got2 = run_deferred_fraction(&cluster(), &st, &run(length, 2 * n, restart), &limit(r));
    let want2 = 2.0 * n as f64 * 490.0 / (2.0 * r * (length - 2.0 * n as f64 * restart));
    assert!((got2 / want2 - 1.0).abs() < 0.02, "{got2} vs {want2}");
}

/// Steady stepping with a communication dip of t = 0.35 s to 238 W (activity 0.2): a limit r
/// too slow to reach the dip's floor sags r·t and climbs back in t, deferring ½·r·t² per step,
/// against (0.9 + 0.35 × 0.2) × 490 J of work. A limit that reaches the floor at once (a fast
/// slew) defers nothing the 31 ms bins can see.
#[test]
fn steady_dips_defer_half_r_t_squared() {
    let st = step(&[(0.9, 1.0), (0.35, 0.2)]);
    let r = run(86_400.0, 0, 0.0);
    let work_per_step = (0.9 + 0.35 * 0.2) * 490.0;
    for rate in [7.0, 30.0, 200.0] {
        let want = 0.5 * rate * 0.35 * 0.35 / work_per_step;
        let got = run_deferred_fraction(&cluster(), &st, &r, &limit(rate));
        assert!(
            (got / want - 1.0).abs() < 0.1,
            "{rate} W/s: {got} vs {want}"
        );
    }
    let fast = run_deferred_fraction(&cluster(), &st, &r, &limit(1e6));
    assert!(fast < 1e-4, "{fast}");
}

/// The same dips burn what the slow fall keeps above the demand: the GPU falls r·τ in the dip's
/// first τ seconds from 630 W while the demand sits at 238 W, so each step burns
/// 392·t − ½·r·t² J per GPU; the run's total is that times its steps and GPUs.
#[test]
fn steady_dips_burn_what_the_slow_fall_keeps() {
    use power::trace::run_ramp_effect;
    let st = step(&[(0.9, 1.0), (0.35, 0.2)]);
    let r = run(86_400.0, 0, 0.0);
    let steps = 86_400.0 / 1.25;
    for rate in [7.0, 200.0] {
        let e = run_ramp_effect(&cluster(), &st, &r, &limit(rate));
        let want = 1000.0 * steps * (392.0 * 0.35 - 0.5 * rate * 0.35 * 0.35);
        assert!(
            (e.burned_j / want - 1.0).abs() < 0.05,
            "{rate} W/s: {} vs {want}",
            e.burned_j
        );
    }
    // a ramp-up limit alone burns nothing
    let up_only = GpuMitigation {
        ramp_up_w_per_s: Some(7.0),
        ..GpuMitigation::none()
    };
    assert_eq!(run_ramp_effect(&cluster(), &st, &r, &up_only).burned_j, 0.0);
}
