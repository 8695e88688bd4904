//! Scenario files written in code, for tests, benchmarks and sweeps that vary a field or two: the
//! builder writes the TOML a person would write and [`ScenarioBuilder::build`] parses it like any
//! file, so a built scenario is resolved and validated exactly as a file is.
//!
//! ```
//! let s = spec::builder::ScenarioBuilder::h100_llama3_405b(16_384)
//!     .table("reliability", "preset = \"llama3\"\nlength = \"54 d\"")
//!     .build()
//!     .unwrap();
//! assert_eq!(s.total_gpus(), 16_384);
//! ```

use crate::catalog::Catalog;
use crate::error::SpecError;
use crate::scenario::{parse_scenario, Scenario};

/// A scenario's TOML, assembled piece by piece.
#[derive(Clone, Debug, Default)]
pub struct ScenarioBuilder {
    name: String,
    seed: Option<u64>,
    sites: Vec<String>,
    links: Vec<String>,
    job: Vec<String>,
    tables: Vec<(String, String)>,
}

impl ScenarioBuilder {
    pub fn new(name: &str) -> ScenarioBuilder {
        ScenarioBuilder {
            name: name.to_string(),
            ..ScenarioBuilder::default()
        }
    }

    /// `gpus` H100 (HGX H100, RoCE 400G three-tier fabric) at one site training Llama 3 405B on
    /// 15.6T tokens at seq 8,192 and 16M-token batches: the job of Meta's Llama 3 paper on a
    /// cluster of the given size, the reliability tests' and benchmarks' standard case.
    pub fn h100_llama3_405b(gpus: u64) -> ScenarioBuilder {
        ScenarioBuilder::new("llama3-405b on h100")
            .site("x", "hgx-h100", gpus, "roce-400g-3tier")
            .job("llama3-405b", "15.6T", 8192, "16M")
    }

    /// AIReSim's Table 1 default scenario (arXiv 2603.07041; github.com/karthikp-ubc/airesim
    /// `params.py`, A): a job of 4,096 servers of 8 GPUs with 16 warm standbys in a working pool
    /// of 4,160 servers (48 idle), a spare pool of 200, 256 days of work at 10 s steps, and
    /// checkpoints "assumed frequent": every step, nothing to write or load.
    pub fn airesim_table1() -> ScenarioBuilder {
        ScenarioBuilder::new("airesim table 1")
            .site("x", "hgx-h100", 4_160 * 8, "roce-400g-3tier")
            .table(
                "reliability",
                "preset = \"airesim\"\njob_gpus = 32768\nspares = 16\nspare_pool = 200\nstep_time = \"10 s\"\ncheckpoint = \"10 s\"\ncheckpoint_state = 0\nwork = \"256 d\"",
            )
    }

    pub fn seed(mut self, seed: u64) -> ScenarioBuilder {
        self.seed = Some(seed);
        self
    }

    /// A site with one hall of `gpus` GPUs of `system` on `fabric`.
    pub fn site(self, name: &str, system: &str, gpus: u64, fabric: &str) -> ScenarioBuilder {
        self.site_toml(&format!(
            "[[site]]\nname = \"{name}\"\n[[site.hall]]\nsystem = \"{system}\"\ngpus = {gpus}\nfabric = \"{fabric}\"\n"
        ))
    }

    /// A site written out in full (`[[site]]` and its `[[site.hall]]`s).
    pub fn site_toml(mut self, toml: &str) -> ScenarioBuilder {
        self.sites.push(toml.to_string());
        self
    }

    /// A link between two sites of `capacity` (`"10 Tbps"`) over `distance` (`"1000 km"`).
    pub fn link(mut self, a: &str, b: &str, distance: &str, capacity: &str) -> ScenarioBuilder {
        self.links.push(format!(
            "[[link]]\nbetween = [\"{a}\", \"{b}\"]\ndistance = \"{distance}\"\ncapacity = \"{capacity}\"\n"
        ));
        self
    }

    /// The `[job]`: a catalogue model, training tokens (`"15.6T"`), sequence length and global
    /// batch in tokens (`"16M"`).
    pub fn job(
        mut self,
        model: &str,
        tokens: &str,
        seq: u32,
        global_batch: &str,
    ) -> ScenarioBuilder {
        self.job = vec![
            format!("model = \"{model}\""),
            format!("tokens = \"{tokens}\""),
            format!("seq = {seq}"),
            format!("global_batch = \"{global_batch}\""),
        ];
        self
    }

    /// One more line of the `[job]` table (`"gpus = 1024"`, `"parallelism = { tp = 8 }"`).
    pub fn job_line(mut self, line: &str) -> ScenarioBuilder {
        self.job.push(line.to_string());
        self
    }

    /// A top-level table (`"reliability"`, `"power"`, `"job.sync"`) and its body; a table given
    /// twice gets both bodies.
    pub fn table(mut self, name: &str, body: &str) -> ScenarioBuilder {
        match self.tables.iter_mut().find(|(n, _)| n == name) {
            Some((_, b)) => {
                b.push('\n');
                b.push_str(body);
            }
            None => self.tables.push((name.to_string(), body.to_string())),
        }
        self
    }

    /// The scenario file's text.
    pub fn toml(&self) -> String {
        let mut out = format!("name = \"{}\"\n", self.name);
        if let Some(s) = self.seed {
            out.push_str(&format!("seed = {s}\n"));
        }
        for s in &self.sites {
            out.push_str(s);
        }
        for l in &self.links {
            out.push_str(l);
        }
        if !self.job.is_empty() {
            out.push_str("[job]\n");
            for l in &self.job {
                out.push_str(l);
                out.push('\n');
            }
        }
        for (name, body) in &self.tables {
            out.push_str(&format!("[{name}]\n{body}\n"));
        }
        out
    }

    /// Parse the text against the embedded catalogue, as the file `<name>.toml`.
    pub fn build(&self) -> Result<Scenario, SpecError> {
        parse_scenario(
            &format!("{}.toml", self.name),
            &self.toml(),
            &Catalog::embedded(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_scenarios_parse_and_locate_errors_in_their_own_text() {
        let s = ScenarioBuilder::h100_llama3_405b(1024)
            .table("reliability", "preset = \"meta-rsc-low\"")
            .build()
            .unwrap();
        assert_eq!(s.total_gpus(), 1024);
        assert_eq!(s.reliability.model.preset, "meta-rsc-low");
        let e = ScenarioBuilder::h100_llama3_405b(1024)
            .table("reliability", "rate_scale = -1")
            .build()
            .unwrap_err();
        assert_eq!(e.path, "reliability.rate_scale");
        // name, [[site]] (2 lines), [[site.hall]] (4), [job] (5), [reliability] header: line 14
        assert_eq!(e.line, Some(14), "{e}");
    }
}
