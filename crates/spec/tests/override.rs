//! A partial override of a catalogue entry changes only the fields it names, nested tables
//! included: `model = { from = "deepseek-v3", moe = { routed_experts = 512 } }` keeps DeepSeek-V3's
//! top-8 routing, shared expert, expert size and dense layers.

fn scenario(model: &str) -> String {
    format!(
        "name = \"x\"\n[[site]]\nname = \"a\"\n[[site.hall]]\nsystem = \"hgx-h800\"\ngpus = 2048\nfabric = \"ib-ndr-3tier\"\n\
         [job]\nmodel = {model}\ntokens = \"14.8T\"\nglobal_batch = \"62.9M\"\n"
    )
}

fn parse(src: &str) -> Result<spec::Scenario, spec::SpecError> {
    spec::parse_scenario("x.toml", src, &spec::Catalog::embedded())
}

#[test]
fn a_nested_field_overrides_one_field_of_the_base() {
    let s = parse(&scenario(
        "{ from = \"deepseek-v3\", moe = { routed_experts = 512 } }",
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let m = s.job.unwrap().model;
    let moe = m.moe.expect("moe kept");
    assert_eq!(moe.routed_experts, 512);
    assert_eq!(
        (
            moe.shared_experts,
            moe.top_k,
            moe.expert_ffn,
            moe.dense_layers
        ),
        (1, 8, 2048, 3)
    );
    assert_eq!(m.layers, 61);
    assert!(m.mla.is_some());
}

#[test]
fn a_user_catalogue_entry_from_another_overrides_nested_fields_too() {
    let mut cat = spec::Catalog::embedded();
    cat.add_file(
        "mine.toml",
        "[model.ds-512]\nfrom = \"deepseek-v3\"\nmoe = { routed_experts = 512 }\nsource = \"test (A)\"\n",
    )
    .unwrap();
    let s = spec::parse_scenario("x.toml", &scenario("\"ds-512\""), &cat)
        .unwrap_or_else(|e| panic!("{e}"));
    let moe = s.job.unwrap().model.moe.unwrap();
    assert_eq!((moe.routed_experts, moe.top_k), (512, 8));
}

#[test]
fn an_inline_entry_without_from_still_must_give_every_field() {
    let e = parse(&scenario("{ layers = 2 }")).unwrap_err();
    assert!(
        e.to_string()
            .contains("without `from` must give every field"),
        "{e}"
    );
}
