//! A progress bar on stderr fed by the pipeline's progress events. A late bar appears only once
//! the work has taken more than a moment, so quick commands print nothing extra; output piped to
//! a file stays clean either way (indicatif draws nothing when stderr is not a terminal).

use pipeline::{Progress, Stage};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long work runs before a late bar appears.
const SHOW_AFTER: Duration = Duration::from_millis(400);

pub struct Bar {
    bar: indicatif::ProgressBar,
    start: Instant,
    late: bool,
    shown: AtomicBool,
    /// The stage the bar shows: sections evaluated at the same time (the Monte Carlo beside the
    /// power study) each report progress; the bar follows the one that started last, and a
    /// stage still running once that one has finished.
    stage: Mutex<Option<Stage>>,
}

/// What the bar says for a stage.
fn label(stage: Stage) -> &'static str {
    match stage {
        Stage::Plan => "plan",
        Stage::LayoutSearch => "searching layouts",
        Stage::MultiSiteLayoutSearch => "searching the multi-site layout",
        Stage::Reliability => "simulating replicas",
        Stage::Designs => "comparing recovery designs",
        Stage::Timeline => "reliability timeline",
        Stage::Power => "power trace and mitigations",
        Stage::PowerSites => "power of every site",
        Stage::MultiSite => "multi-site strategies",
    }
}

impl Bar {
    /// A bar that shows at once (when stderr is a terminal).
    pub fn now() -> Arc<Bar> {
        Bar::new(false)
    }

    /// A bar that shows once the work has taken more than [`SHOW_AFTER`].
    pub fn late() -> Arc<Bar> {
        Bar::new(true)
    }

    fn new(late: bool) -> Arc<Bar> {
        let target = if late {
            indicatif::ProgressDrawTarget::hidden()
        } else {
            indicatif::ProgressDrawTarget::stderr()
        };
        let bar = indicatif::ProgressBar::with_draw_target(Some(1), target);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} {bar:40} {pos}/{len} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Arc::new(Bar {
            bar,
            start: Instant::now(),
            late,
            shown: AtomicBool::new(!late),
            stage: Mutex::new(None),
        })
    }

    fn show_if_late(&self) {
        if self.late && !self.shown.load(Ordering::Relaxed) && self.start.elapsed() > SHOW_AFTER {
            self.shown.store(true, Ordering::Relaxed);
            self.bar
                .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }

    fn on(&self, p: Progress) {
        self.show_if_late();
        let mut shown = self.stage.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Start(stage) => {
                *shown = Some(stage);
                self.bar.set_message(label(stage));
                self.bar.set_length(1);
                self.bar.set_position(0);
            }
            // a stage still running takes the bar over once the one shown has finished
            Progress::Advance { stage, done, total } if shown.is_none_or(|s| s == stage) => {
                if *shown != Some(stage) {
                    *shown = Some(stage);
                    self.bar.set_message(label(stage));
                }
                self.bar.set_length(total.max(1));
                self.bar.set_position(done);
                if done >= total {
                    *shown = None;
                }
            }
            Progress::Advance { .. } => {}
        }
    }

    /// The pipeline's progress callback, drawing on this bar.
    pub fn callback(self: &Arc<Self>) -> impl Fn(Progress) + Send + Sync + 'static {
        let b = Arc::clone(self);
        move |p| b.on(p)
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
