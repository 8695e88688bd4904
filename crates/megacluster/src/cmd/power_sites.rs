//! Every site of a multi-site scenario through the power model, each against its own grid
//! connection: a site is its own load on its own utility, whatever the job does across sites.
//!
//! The first site's study is the power section itself; this adds one study per site for the table
//! beside it. Every site gets the first site's step shape and run states: a job that spans sites
//! steps in lock-step under synchronous data parallelism, and a restart anywhere stalls every
//! site (the multi-site model's failure domains). The `[power]` mitigations apply at every site;
//! each site keeps its own battery, generation, cooling, climate and electricity price.

use crate::CliError;
use power::scenario::Setup;
use power::Study;

/// GPUs of the job at each site: `[job] gpus` (every installed GPU when absent) taken from the
/// sites in order, as the step model and the multi-site model place the job.
pub fn job_gpus_per_site(s: &spec::Scenario) -> Vec<u64> {
    let installed: Vec<u64> = s
        .sites
        .iter()
        .map(|site| site.halls.iter().map(|h| h.gpus).sum())
        .collect();
    let mut left = s
        .job
        .as_ref()
        .and_then(|j| j.gpus)
        .unwrap_or_else(|| installed.iter().sum());
    installed
        .iter()
        .map(|&n| {
            let take = left.min(n);
            left -= take;
            take
        })
        .collect()
}

/// One study per site (no mitigation search, no traces kept), in the scenario's site order.
/// `first` is the first site's setup, whose step shape and run states every site shares.
pub fn site_studies(s: &spec::Scenario, first: &Setup) -> Result<Vec<Study>, CliError> {
    let gpu_hour_usd = plan::plan(s).tco_usd_per_gpu_hour;
    let shares = job_gpus_per_site(s);
    let mut out = vec![];
    for (site, &share) in s.sites.iter().zip(&shares) {
        let mut one = s.clone();
        one.sites = vec![site.clone()];
        one.links = vec![];
        if let Some(j) = one.job.as_mut() {
            j.gpus = Some(share);
        }
        let st = power::scenario::from_scenario(
            &one,
            Some(first.inputs.step.clone()),
            Some(first.inputs.run.clone()),
            gpu_hour_usd,
        )
        .map_err(CliError::input)?;
        out.push(power::study(&st, false, false, &|_, _| {}).0);
    }
    Ok(out)
}

/// Add the every-site table (text and JSON `sites`) to the power section when the scenario has
/// several sites.
pub fn append(
    sec: &mut report::Section,
    s: &spec::Scenario,
    first: &Setup,
) -> Result<(), CliError> {
    if s.sites.len() < 2 {
        return Ok(());
    }
    let studies = site_studies(s, first)?;
    sec.text.push_str(&report::power::sites_text(&studies));
    if let Some(o) = sec.json.as_object_mut() {
        o.insert("sites".into(), report::power::sites_json(&studies));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(file: &str) -> spec::Scenario {
        let p = format!("{}/../../examples/{file}", env!("CARGO_MANIFEST_DIR"));
        spec::load_scenario(Some(std::path::Path::new(&p)), &[]).unwrap()
    }

    #[test]
    fn the_job_fills_the_sites_in_order() {
        let mut s = scenario("five-regions.toml");
        assert_eq!(job_gpus_per_site(&s), vec![102_400; 5]);
        s.job.as_mut().unwrap().gpus = Some(150_000);
        assert_eq!(
            job_gpus_per_site(&s),
            vec![102_400, 150_000 - 102_400, 0, 0, 0]
        );
    }

    #[test]
    fn every_site_gets_a_study_and_identical_sites_agree() {
        let s = scenario("five-regions.toml");
        let first = crate::cmd::power::setup(&s, None).unwrap();
        let studies = site_studies(&s, &first).unwrap();
        assert_eq!(studies.len(), 5);
        let names: Vec<&str> = studies.iter().map(|x| x.site.as_str()).collect();
        assert_eq!(
            names,
            ["wisconsin", "atlanta", "abilene", "phoenix", "quincy"]
        );
        // Same halls, same step, same run: the same grid-import swing at every site.
        let swing0 = studies[0].analysis.raw.swing_w;
        assert!(swing0 > 0.0);
        for x in &studies {
            assert!(
                (x.analysis.raw.swing_w / swing0 - 1.0).abs() < 1e-9,
                "{}",
                x.site
            );
            assert_eq!(x.job_gpus, 102_400.0);
        }
    }
}
