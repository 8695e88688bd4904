//! `megacluster train [scenario]`: the step model of the scenario's job: step breakdown, MFU and
//! HFU, tokens/s, days to train, memory per GPU.

use crate::{CliError, Common};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML); the built-in default when absent.
    pub scenario: Option<PathBuf>,
}

/// A job's step profile with what the report shows beside it.
struct Trained {
    profile: perf::StepProfile,
    workload: perf::Workload,
    search: Option<perf::SearchResult>,
    installed: u64,
}

fn progress_bar(label: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} {bar:40} {pos}/{len} layout groups ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(label);
    bar
}

fn train(
    s: &spec::Scenario,
    path: Option<&std::path::Path>,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<Trained, CliError> {
    let setup = pipeline::setup(s).map_err(|e| super::setup_error(path, e))?;
    let installed = setup.installed_gpus;
    let tick = |done: u64, total: u64| {
        if let Some(b) = bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let r = pipeline::best_profile(&setup, &tick).map_err(|e| super::setup_error(path, e))?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match r {
        Some((profile, workload, search)) => {
            if !profile.step_time_s.is_finite() || profile.step_time_s <= 0.0 {
                return Err(CliError::internal(
                    "the step model returned a non-finite step time",
                ));
            }
            Ok(Trained {
                profile,
                workload,
                search,
                installed,
            })
        }
        None => Err(CliError::input(format!(
            "job.parallelism: no parallel layout of {} on {} GPUs fits in memory (searched with parallelism = \"auto\")",
            setup.workload.model.name, setup.cluster.gpus
        ))),
    }
}

fn train_section(s: &spec::Scenario, t: &Trained) -> report::Section {
    let job = s.job.as_ref();
    let accelerator = s
        .sites
        .first()
        .and_then(|site| site.halls.first())
        .map(|h| h.accelerator.name.clone())
        .unwrap_or_default();
    let precision = match t.workload.precision {
        perf::step::Precision::Bf16 => "bf16",
        perf::step::Precision::Fp8 => "fp8",
    };
    let input = report::train::TrainInput {
        scenario: &s.name,
        model: &t.workload.model.name,
        accelerator: &accelerator,
        precision,
        installed_gpus: t.installed,
        tokens: t.workload.tokens,
        seq: t.workload.seq,
        global_batch_seqs: t.workload.global_batch_seqs,
        requested_batch_tokens: job.map_or(0.0, |j| j.global_batch_tokens),
        search: t.search.as_ref(),
    };
    super::first_site_scope(report::train::section(&t.profile, &input), s)
}

pub fn run(args: &Args, common: &Common) -> Result<report::Section, CliError> {
    let s = common.scenario(args.scenario.as_deref())?;
    if s.job.is_none() {
        return Err(CliError::input(
            "job: the scenario has no [job] section to train",
        ));
    }
    let auto = matches!(
        s.job.as_ref().map(|j| &j.parallelism),
        Some(spec::job::RawParallelism::Auto)
    );
    let bar = auto.then(|| progress_bar("searching layouts"));
    let t = train(&s, args.scenario.as_deref(), bar.as_ref())?;
    Ok(train_section(&s, &t))
}

/// The training section of `megacluster run`, its charts (step breakdown and memory per GPU)
/// and the profile for the models downstream. No progress bar. A scenario without a `[job]` gets
/// a section that says so (no charts, no profile); an invalid layout is an input error naming the
/// field.
pub fn section(
    s: &spec::Scenario,
    path: Option<&std::path::Path>,
) -> Result<
    (
        report::Section,
        Vec<report::html::Figure>,
        Option<perf::StepProfile>,
    ),
    CliError,
> {
    if s.job.is_none() {
        return Ok((report::train::no_job_section(), vec![], None));
    }
    let t = train(s, path, None)?;
    let sec = train_section(s, &t);
    let phases: Vec<(String, f64)> = t
        .profile
        .phases
        .iter()
        .map(|p| (p.name.clone(), p.duration_s))
        .collect();
    let memory: Vec<(String, f64)> = report::train::memory_parts(&t.profile)
        .into_iter()
        .map(|(n, b)| (n, b / 1073741824.0))
        .collect();
    let figures = vec![
        report::html::Figure {
            section: sec.key.clone(),
            title: "Step time by phase".into(),
            svg: report::svg::stacked_bar("Step time by phase", "s", &phases),
        },
        report::html::Figure {
            section: sec.key.clone(),
            title: "Memory per GPU".into(),
            svg: report::svg::bar_chart(
                &format!(
                    "Memory per GPU ({} of {})",
                    report::fmt::bytes(t.profile.memory.total_bytes),
                    report::fmt::bytes(t.profile.memory.capacity_bytes)
                ),
                "GiB",
                &memory,
            ),
        },
    ];
    Ok((sec, figures, Some(t.profile)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_section_has_both_charts_and_the_profile() {
        let s = spec::load_scenario(None, &[]).unwrap();
        let (sec, figs, prof) = super::section(&s, None).unwrap();
        assert_eq!(sec.key, "train");
        assert_eq!(figs.len(), 2);
        assert!(figs.iter().all(|f| f.svg.contains("<svg")));
        let p = prof.unwrap();
        assert!(p.step_time_s > 0.0 && !p.phases.is_empty());
        let mut s = s;
        s.job = None;
        let (sec, figs, prof) = super::section(&s, None).unwrap();
        assert!(sec.text.contains("no [job]") && figs.is_empty() && prof.is_none());
    }
}
