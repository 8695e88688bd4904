//! Closed-form pieces of the reliability model, each written once and named after what it computes.

/// Bytes of training state per parameter for mixed-precision Adam: bf16 weights (2) + bf16 gradients
/// (2) + fp32 master weights, momentum and variance (12) = 16 (Rajbhandari et al., ZeRO, SC'20 §3.1:
/// "2Ψ + 2Ψ + KΨ" with K = 12). A checkpoint of the full training state is taken as this size.
pub const STATE_BYTES_PER_PARAM: f64 = 16.0;

/// Checkpoint state of a model with `params` parameters (bytes).
pub fn checkpoint_state_bytes(params: f64) -> f64 {
    params * STATE_BYTES_PER_PARAM
}

/// Time to move `state_bytes` through `bandwidth_bytes_per_s`, plus a fixed overhead (barrier,
/// serialisation). Used for both the blocking write and the load of a persistent checkpoint.
pub fn transfer_s(state_bytes: f64, bandwidth_bytes_per_s: f64, overhead_s: f64) -> f64 {
    if bandwidth_bytes_per_s > 0.0 && state_bytes > 0.0 {
        overhead_s + state_bytes / bandwidth_bytes_per_s
    } else {
        overhead_s
    }
}

/// Young's optimum checkpoint interval √(2δM) (Young 1974, CACM 17(9)); δ the blocking write time,
/// M the mean time between interruptions.
pub fn young_interval_s(write_s: f64, mtbi_s: f64) -> f64 {
    (2.0 * write_s * mtbi_s).sqrt()
}

/// Daly's higher-order optimum (Daly 2006, FGCS 22(3), eq. 37):
/// τ = √(2δM)·[1 + ⅓·√(δ/2M) + (1/9)·(δ/2M)] − δ for δ < 2M, else τ = M.
/// Returns at least `min_s` (one step) and never NaN.
pub fn daly_interval_s(write_s: f64, mtbi_s: f64, min_s: f64) -> f64 {
    let tau = if !(mtbi_s.is_finite()) || mtbi_s <= 0.0 {
        // no failures: checkpoint rarely; a week bounds the state lost to an unmodelled event
        7.0 * 86400.0
    } else if write_s <= 0.0 {
        min_s
    } else if write_s < 2.0 * mtbi_s {
        let x = write_s / (2.0 * mtbi_s);
        young_interval_s(write_s, mtbi_s) * (1.0 + x.sqrt() / 3.0 + x / 9.0) - write_s
    } else {
        mtbi_s
    };
    tau.max(min_s).max(write_s)
}

/// Expected ETTR of a job with whole-job restart (Kokolis et al., HPCA'25, §"ETTR model", S+):
/// `(1 − N·r·(u0 + Δt/2)) / (1 + w/Δt)`, clamped to [0, 1]. `rate_per_s` is N·r, the job's failure
/// rate; `u0_s` the restart overhead; `interval_s` Δt; `write_s` w.
pub fn kokolis_ettr(rate_per_s: f64, u0_s: f64, interval_s: f64, write_s: f64) -> f64 {
    let v = (1.0 - rate_per_s * (u0_s + interval_s / 2.0)) / (1.0 + write_s / interval_s);
    if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// A closed-form figure, or why the formula does not apply to these parameters.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedForm {
    Value(f64),
    DoesNotApply(String),
}

impl ClosedForm {
    pub fn value(&self) -> Option<f64> {
        match self {
            ClosedForm::Value(v) => Some(*v),
            ClosedForm::DoesNotApply(_) => None,
        }
    }
}

/// Kokolis et al. state their model as accurate "within 5%" of a Monte Carlo (S). The formula is the
/// first-order expansion of the loss x = N·r·(u0 + Δt/2); the neglected second-order term is about
/// x²/2 of the result 1 − x, so the 5 % holds while x²/(2(1 − x)) ≤ 0.05, i.e. x ≤ 0.27 (D).
pub const KOKOLIS_ACCURACY: f64 = 0.05;

/// The largest loss term x = N·r·(u0 + Δt/2) for which the first-order formula keeps
/// `KOKOLIS_ACCURACY`: the root of x² + 2·a·x − 2·a = 0 with a = `KOKOLIS_ACCURACY` (D).
pub fn kokolis_max_loss() -> f64 {
    let a = KOKOLIS_ACCURACY;
    -a + (a * a + 2.0 * a).sqrt()
}

/// Kokolis et al.'s E\[ETTR\] where it applies: its derivation counts failures per wall-clock hour
/// (also while the job restarts) and expands to first order in the loss, so it needs failures that
/// are rare against the checkpoint interval and the restart (x = N·r·(u0 + Δt/2) ≤ 0.27, see
/// `kokolis_max_loss`). Elsewhere it says why instead of returning a figure.
pub fn kokolis_ettr_checked(
    rate_per_s: f64,
    u0_s: f64,
    interval_s: f64,
    write_s: f64,
    failures_while_down: bool,
) -> ClosedForm {
    if !failures_while_down {
        return ClosedForm::DoesNotApply(
            "failures are drawn only while the job computes; the formula counts them per wall-clock hour".into(),
        );
    }
    let x = rate_per_s * (u0_s + interval_s / 2.0);
    let max = kokolis_max_loss();
    if x.is_nan() || x > max {
        return ClosedForm::DoesNotApply(format!(
            "failures are not rare against the restart and the checkpoint interval: N·r·(u0 + Δt/2) = {x:.2}, the first-order formula holds to 5 % up to {max:.2}"
        ));
    }
    ClosedForm::Value(kokolis_ettr(rate_per_s, u0_s, interval_s, write_s))
}

/// λ·t / (e^{λ·c} − 1) without cancellation: the share of a cycle of length `c` that is useful
/// work `t` when failures at rate λ lose the cycle in progress (renewal argument; → t/c as λ → 0).
pub fn useful_share(rate_per_s: f64, t: f64, c: f64) -> f64 {
    let x = rate_per_s * c;
    if x <= 0.0 {
        return if c > 0.0 { t / c } else { 1.0 };
    }
    rate_per_s * t / x.exp_m1()
}

/// ETTR of whole-job checkpoint/restart with Poisson failures at `rate_per_s` (exponential
/// renewal; Daly 2006, FGCS 22(3), the complete model with restart cost, P): cycles of
/// `interval_s` of compute and a blocking `write_s`; a failure loses the cycle in progress and
/// costs a restart `u0_s`, which starts over when a failure hits it (`failures_while_down`) or
/// cannot fail. `λτ·e^{−λu0} / (e^{λ(τ+w)} − 1)`, or `λτ / ((e^{λ(τ+w)} − 1)(1 + λu0))`.
pub fn restart_renewal_ettr(
    rate_per_s: f64,
    u0_s: f64,
    interval_s: f64,
    write_s: f64,
    failures_while_down: bool,
) -> f64 {
    let share = useful_share(rate_per_s, interval_s, interval_s + write_s);
    let restart = if failures_while_down {
        (-rate_per_s * u0_s).exp()
    } else {
        1.0 / (1.0 + rate_per_s * u0_s)
    };
    let v = share * restart;
    if v.is_finite() {
        v.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// ETTR factor of failures the job rides through in memory (hot spares, partial restart): each
/// failure at `rate_per_s` discards the step in flight (half a step on average) and stalls the
/// whole job for `downtime_s`, which starts over when a failure hits it (exponential renewal, D):
/// `(1 − λ·s/2)·e^{−λ·d}`.
pub fn contained_stall_factor(rate_per_s: f64, downtime_s: f64, step_s: f64) -> f64 {
    ((1.0 - rate_per_s * step_s / 2.0) * (-rate_per_s * downtime_s).exp()).clamp(0.0, 1.0)
}

/// Communicator re-initialisation at `gpus`: `ref_s × (gpus / ref_gpus)^exponent`.
/// Default calibration NCCLX (arXiv 2510.20171, S): ~4 s at 8K GPUs and ~24 s at 96K GPUs gives
/// exponent ln(24/4)/ln(98,304/8,192) = ln 6 / ln 12 = 0.721 (D). MegaScale (NSDI'24 §3.5, P):
/// <5 s at 2,048 and <30 s at >10,000 GPUs — the NCCLX law gives 1.5 s and 4.6 s there, so MegaScale
/// is the slower reference (exponent ln 6 / ln 4.88 = 1.13, D).
pub fn reinit_s(ref_s: f64, ref_gpus: f64, exponent: f64, gpus: f64) -> f64 {
    if ref_s <= 0.0 || ref_gpus <= 0.0 || gpus <= 0.0 {
        return 0.0;
    }
    ref_s * (gpus / ref_gpus).powf(exponent)
}

/// Poisson quantile: the smallest k with P(X ≤ k) ≥ q for X ~ Poisson(mean).
/// Used for the warm-standby rule of ByteRobust (SOSP'25, S): the P99 of simultaneous failures.
pub fn poisson_quantile(mean: f64, q: f64) -> u64 {
    if !(mean > 0.0) || !mean.is_finite() {
        return 0;
    }
    if mean > 500.0 {
        // normal approximation with continuity correction
        let z = inverse_normal_cdf(q.clamp(1e-12, 1.0 - 1e-12));
        return (mean + z * mean.sqrt() + 0.5).max(0.0).ceil() as u64;
    }
    let mut p = (-mean).exp();
    let mut cdf = p;
    let mut k = 0u64;
    while cdf < q && k < 100_000 {
        k += 1;
        p *= mean / k as f64;
        cdf += p;
    }
    k
}

/// Γ(x) for x > 0 by the Lanczos approximation (g = 7, n = 9; Numerical Recipes 3rd ed. §6.1).
pub fn gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma(1.0 - x))
    } else {
        let x = x - 1.0;
        let mut a = C[0];
        let t = x + G + 0.5;
        for (i, c) in C.iter().enumerate().skip(1) {
            a += c / (x + i as f64);
        }
        (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * a
    }
}

/// Φ⁻¹(p), the standard normal quantile, by Acklam's rational approximation (relative error
/// < 1.15e-9).
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let p = p.clamp(1e-300, 1.0 - 1e-16);
    let lo = 0.02425;
    if p < lo {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - lo {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

/// The `q`-quantile of sorted values (linear interpolation); 0 for an empty slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    let f = pos - i as f64;
    sorted[i] * (1.0 - f) + sorted[j] * f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_known_values() {
        assert!((gamma(1.0) - 1.0).abs() < 1e-12);
        assert!((gamma(5.0) - 24.0).abs() < 1e-9);
        assert!((gamma(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn normal_quantile_known_values() {
        assert!(inverse_normal_cdf(0.5).abs() < 1e-9);
        assert!((inverse_normal_cdf(0.975) - 1.959_963_985).abs() < 1e-6);
        assert!((inverse_normal_cdf(0.001) + 3.090_232_306).abs() < 1e-6);
    }

    #[test]
    fn daly_close_to_young_for_small_writes() {
        let y = young_interval_s(10.0, 11_135.0);
        let d = daly_interval_s(10.0, 11_135.0, 1.0);
        assert!((y - 472.0).abs() < 1.0, "{y}");
        assert!(d < y * 1.05 && d > y * 0.95, "{d} {y}");
        assert_eq!(daly_interval_s(100.0, 10.0, 1.0), 100.0);
    }

    #[test]
    fn poisson_quantiles() {
        // mean 15.5, P99 = 25 (calibration note §6, D)
        assert_eq!(poisson_quantile(15.5, 0.99), 25);
        assert_eq!(poisson_quantile(0.0, 0.99), 0);
    }

    #[test]
    fn kokolis_matches_calibration_worked_example() {
        // 16,384 GPUs at 3.79e-3 per node-day: MTBI 185.6 min; w = 10 s at Young's optimum, u0 = 5 min
        // → 0.93 (calibration note §2.4, D).
        let rate = 2048.0 * 3.79e-3 / 86400.0;
        let w = 10.0;
        let dt = young_interval_s(w, 1.0 / rate);
        let e = kokolis_ettr(rate, 300.0, dt, w);
        assert!((e - 0.93).abs() < 0.006, "{e}");
    }
}
