//! A progress bar on stderr that appears only once the work has taken more than a moment, so quick
//! commands print nothing extra and output piped to a file stays clean (indicatif draws nothing
//! when stderr is not a terminal).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long work runs before its bar appears.
const SHOW_AFTER: Duration = Duration::from_millis(400);

pub struct LateBar {
    bar: indicatif::ProgressBar,
    start: Instant,
    shown: AtomicBool,
}

impl LateBar {
    /// A bar of `len` steps labelled by its message (`set_message`), e.g. "searching mitigations".
    pub fn new(len: u64, what: &str) -> LateBar {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(len),
            indicatif::ProgressDrawTarget::hidden(),
        );
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {bar:40} {pos}/{len} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(what.to_string());
        LateBar {
            bar,
            start: Instant::now(),
            shown: AtomicBool::new(false),
        }
    }

    fn show_if_late(&self) {
        if !self.shown.load(Ordering::Relaxed) && self.start.elapsed() > SHOW_AFTER {
            self.shown.store(true, Ordering::Relaxed);
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    /// `done` of `total` steps of the current stage.
    pub fn set(&self, done: u64, total: u64) {
        self.show_if_late();
        self.bar.set_length(total.max(1));
        self.bar.set_position(done);
    }

    /// A new stage: its label and its number of steps.
    pub fn stage(&self, what: &str, total: u64) {
        self.set(0, total);
        self.bar.set_message(what.to_string());
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
