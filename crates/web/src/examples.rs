//! The presets the page offers: the built-in default scenario and every `examples/*.toml`,
//! embedded in the binary (a test checks that none is missing).

/// One preset.
pub struct Example {
    /// Short name (the file's stem; `default` for the built-in scenario).
    pub id: &'static str,
    /// The name errors give it, as the CLI names it: the path from the repository's root, or
    /// `<default scenario>`.
    pub file: &'static str,
    pub toml: &'static str,
}

impl Example {
    /// The scenario's own `name`.
    pub fn name(&self) -> String {
        toml::from_str::<toml::Table>(self.toml)
            .ok()
            .and_then(|t| t.get("name").and_then(|v| v.as_str()).map(String::from))
            .unwrap_or_else(|| self.id.to_string())
    }
}

macro_rules! example {
    ($id:literal) => {
        Example {
            id: $id,
            file: concat!("examples/", $id, ".toml"),
            toml: include_str!(concat!("../../../examples/", $id, ".toml")),
        }
    };
}

pub const ALL: &[Example] = &[
    Example {
        id: "default",
        file: spec::scenario::DEFAULT_SCENARIO_NAME,
        toml: spec::scenario::DEFAULT_SCENARIO,
    },
    example!("anthropic-trainium"),
    example!("deepseek-v3"),
    example!("five-regions"),
    example!("google-multisite-tpu"),
    example!("meta-2gw"),
    example!("meta-llama3"),
    example!("million-gpus"),
    example!("stargate-abilene"),
    example!("xai-colossus"),
];
