//! One module per command; each returns a `report::Section` (or, for `run`, the whole output).

pub mod catalog;
pub mod multisite;
pub mod plan;
pub mod power;
pub mod power_sites;
pub mod progress;
pub mod run;
pub mod search;
pub mod simulate;
pub mod train;
pub mod validate;

/// The job's step profile from the step model: the fixed layout, or the fastest layout the search
/// finds for `parallelism = "auto"`. `Ok(None)` when the scenario has no job or no layout fits;
/// `Err` when the job's layout is invalid (the message names the field).
pub fn step_profile(s: &spec::Scenario) -> Result<Option<perf::StepProfile>, String> {
    if s.job.is_none() {
        return Ok(None);
    }
    let setup = perf::setup(s).map_err(|e| e.to_string())?;
    Ok(perf::best_profile(&setup, &|_, _| {})
        .map_err(|e| e.to_string())?
        .map(|(p, _, _)| p))
}

/// Simulation parameters of a scenario with the step time taken from the step model unless
/// `[reliability] step_time` sets it. Returns where the step time came from.
pub fn sim_params(
    s: &spec::Scenario,
    path: Option<&std::path::Path>,
) -> Result<(sim::Params, sim::scenario::RunOptions, &'static str), crate::CliError> {
    let (mut p, opts) = sim::from_scenario(s).map_err(|e| spec_error(path, e))?;
    let fixed = s.reliability.as_ref().and_then(|r| r.step_time_s).is_some();
    let source = if fixed {
        "[reliability] step_time"
    } else {
        match step_profile(s) {
            Ok(Some(prof)) if prof.step_time_s.is_finite() && prof.step_time_s > 0.0 => {
                p.step_s = prof.step_time_s;
                // a data-parallel replica is the layout's model-parallel group
                let explicit = s
                    .reliability
                    .as_ref()
                    .and_then(|r| r.containment.replica_gpus);
                if explicit.is_none() && prof.config.dp > 0 {
                    p.containment.replica_gpus =
                        (prof.gpus / prof.config.dp as u64).min(p.job_gpus);
                }
                "step model"
            }
            _ if s.job.is_some() => "6·N·tokens at 40% MFU (the step model found no valid layout)",
            _ => "default (no job in the scenario)",
        }
    };
    Ok((p, opts, source))
}

/// A scenario problem a model found after loading, located in the scenario file when the model
/// could not place it itself (exit code 2).
pub fn spec_error(path: Option<&std::path::Path>, e: spec::SpecError) -> crate::CliError {
    if e.line.is_some() {
        return crate::CliError::input(e);
    }
    let mut located = spec::scenario::error_at(path, &e.path, e.message);
    located.hint = e.hint;
    crate::CliError::input(located)
}

/// In a multi-site scenario the step model and the reliability timeline run the job on the first
/// site alone: say so in the section (text and JSON `scope`), and where the whole job is.
pub fn first_site_scope(mut sec: report::Section, s: &spec::Scenario) -> report::Section {
    if s.sites.len() < 2 {
        return sec;
    }
    let gpus = |site: &spec::scenario::Site| site.halls.iter().map(|h| h.gpus).sum::<u64>();
    let all: u64 = s.sites.iter().map(gpus).sum();
    let scope = format!(
        "the first site alone (`{}`, {} of the {} GPUs of {} sites); the power section's step and the multi-site section run the job over every site",
        s.sites[0].name,
        report::fmt::thousands(gpus(&s.sites[0]) as f64),
        report::fmt::thousands(all as f64),
        s.sites.len()
    );
    sec.text.push_str(&format!("  Scope: {scope}\n"));
    if let serde_json::Value::Object(m) = &mut sec.json {
        m.insert("scope".into(), scope.into());
    }
    sec
}

/// A step-model input problem as a located error in the scenario file (exit code 2).
pub fn setup_error(path: Option<&std::path::Path>, e: perf::SetupError) -> crate::CliError {
    crate::CliError::input(spec::scenario::error_at(path, &e.field, e.message))
}
