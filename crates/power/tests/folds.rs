//! The four-lane folds of the trace figures (`Trace::peak_w`, `Trace::min_w`,
//! `grid::max_sample_step_w`) and the comparison-based window range give exactly the values of
//! the one-lane folds they replace, NaNs, infinities and signed zeros included.

use power::grid::{max_sample_step_w, max_window_range_w, RangeMeter};
use power::trace::{lanes_fold, Trace};
use proptest::prelude::*;

fn sample() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => 0.0f64..1e9,
        1 => -1e9f64..1e9,
        1 => prop::sample::select(vec![0.0, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e-300]),
    ]
}

fn bits(x: f64) -> u64 {
    if x.is_nan() {
        f64::NAN.to_bits()
    } else {
        x.to_bits()
    }
}

proptest! {
    #[test]
    fn lane_folds_equal_one_lane_folds(w in prop::collection::vec(sample(), 0..67)) {
        let t = Trace { t0_s: 0.0, dt_s: 0.01, w: w.clone() };
        let peak = w.iter().copied().fold(0.0, f64::max);
        let min = if w.is_empty() { 0.0 } else { w.iter().copied().fold(f64::INFINITY, f64::min) };
        // (a max or min over values that include both zeros may pick either: compare as numbers)
        prop_assert!(bits(t.peak_w()) == bits(peak) || t.peak_w() == peak);
        prop_assert!(bits(t.min_w()) == bits(min) || t.min_w() == min);
        prop_assert_eq!(bits(lanes_fold(&w, -1.0, f64::max)), bits(w.iter().copied().fold(-1.0, f64::max)));
        let step = w.windows(2).map(|p| (p[1] - p[0]).abs()).fold(0.0, f64::max);
        prop_assert_eq!(bits(max_sample_step_w(&w)), bits(step));
    }

    #[test]
    fn window_range_equals_the_monotonic_deques(
        w in prop::collection::vec(1.0f64..1e9, 0..200),
        m in 1usize..40,
    ) {
        let mut r = RangeMeter::new(m);
        for &x in &w {
            r.push(x);
        }
        prop_assert_eq!(max_window_range_w(&w, m).to_bits(), r.best_w().to_bits());
    }
}
