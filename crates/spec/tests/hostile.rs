//! Hostile input at the parser: ranges, names, links, lifetimes, error messages. Each of these
//! was accepted (or answered without a message) before.

use spec::{parse_scenario, Catalog};

const HALL: &str = "[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"roce-400g-3tier\"\n";

fn err(src: &str) -> spec::SpecError {
    parse_scenario("t.toml", src, &Catalog::embedded()).unwrap_err()
}

fn one_site(extra: &str) -> String {
    format!("name = \"x\"\n[[site]]\nname = \"a\"\n{HALL}{extra}")
}

#[test]
fn toml_errors_always_say_what_is_wrong() {
    // before: "malformed TOML: " with nothing after it
    for src in [
        "name = ",
        "name = \"x\" # a\u{1}b\n",
        "[[site]\n",
        "a = [1,\n",
    ] {
        let e = err(src);
        let m = e.message.trim_start_matches("malformed TOML:").trim();
        assert!(m.len() > 3, "{src:?}: {e}");
        assert!(e.line.is_some(), "{src:?}: {e}");
    }
    // a control character is named as the reason, where it is (before: "expected newline, `#`",
    // "invalid basic string", "invalid key")
    for (src, line, column) in [
        ("name = \"x\" # a\u{1}b\n", 1, 15),
        ("name = \"a\u{1}b\"\n", 1, 10),
        ("name = \"x\"\n\u{7f}\n", 2, 1),
    ] {
        let e = err(src);
        assert!(
            e.message.contains("control character (U+00"),
            "{src:?}: {e}"
        );
        assert_eq!(
            (e.line, e.column),
            (Some(line), Some(column)),
            "{src:?}: {e}"
        );
    }
}

/// An empty key is named `""` in the field path, not left as a trailing dot (`job.`).
#[test]
fn an_empty_key_is_named_in_the_path() {
    let e = err(&one_site("[job]\n\"\" = 1\n"));
    assert_eq!(e.path, "job.\"\"", "{e}");
    assert!(e.message.contains("an empty key"), "{e}");
    assert!(e.line.is_some(), "{e}");
}

#[test]
fn names_are_bounded_and_printable() {
    let e = err(&format!(
        "name = \"x\"\n[[site]]\nname = \"{}\"\n{HALL}",
        "s".repeat(201)
    ));
    assert_eq!(e.path, "site[0].name");
    assert_eq!(e.line, Some(3));
    let e = err(&format!(
        "name = \"x\"\n[[site]]\nname = \"a\"\n{}",
        HALL.replace("[[site.hall]]\n", "[[site.hall]]\nname = \"h\\u0007\"\n")
    ));
    assert_eq!(e.path, "site[0].hall[0].name");
    assert!(e.message.contains("control character"), "{e}");
    let e = err(&one_site("").replace("name = \"x\"", "name = \"x\\ny\""));
    assert_eq!(e.path, "name");
}

#[test]
fn a_duplicated_link_is_refused() {
    let two = format!("name = \"x\"\n[[site]]\nname = \"a\"\n{HALL}[[site]]\nname = \"b\"\n{HALL}");
    let link = |a: &str, b: &str| {
        format!(
            "[[link]]\nbetween = [\"{a}\", \"{b}\"]\ndistance = \"10 km\"\ncapacity = \"1 Tbps\"\n"
        )
    };
    let e = err(&format!("{two}{}{}", link("a", "b"), link("b", "a")));
    assert_eq!(e.path, "link[1].between");
    assert!(e.message.contains("already joined by link[0]"), "{e}");
    let e = err(&format!("{two}{}{}", link("a", "b"), link("a", "b")));
    assert_eq!(e.path, "link[1].between");
    // one link is fine
    parse_scenario(
        "t.toml",
        &format!("{two}{}", link("a", "b")),
        &Catalog::embedded(),
    )
    .unwrap();
}

#[test]
fn gpu_counts_replicas_rates_and_lifetimes_have_ranges() {
    let e = err(&format!(
        "name = \"x\"\n[[site]]\nname = \"a\"\n{}",
        HALL.replace("gpus = 8", "gpus = \"200M\"")
    ));
    assert_eq!(e.path, "site[0].hall[0].gpus");
    assert!(e.message.contains("100000000"), "{e}");
    let e = err(&one_site("[reliability]\nreplicas = 100001\n"));
    assert_eq!(e.path, "reliability.replicas");
    let e = err(&one_site("[reliability]\nrates = { gpu-hbm3 = 1e200 }\n"));
    assert!(e.path.starts_with("reliability.rates"), "{e}");
    let e = err(&one_site("[reliability]\nlifetime = { weibull = 0.001 }\n"));
    assert_eq!(e.path, "reliability.lifetime.weibull");
    let e = err(&one_site("[reliability]\nlifetime = { lognormal = 50 }\n"));
    assert_eq!(e.path, "reliability.lifetime.lognormal");
    // the measured range is accepted
    parse_scenario(
        "t.toml",
        &one_site("[reliability]\nlifetime = { lognormal = 2 }\nreplicas = 100000\n"),
        &Catalog::embedded(),
    )
    .unwrap();
}

#[test]
fn out_of_range_times_read_as_written() {
    // before: "a step time of 0.00009999999999999999 s" for "100 us" and "a resolution of
    // 0.00000010000000000000001 s" for "100 ns" (the parsed f64 printed whole)
    let e = err(&one_site("[reliability]\nstep_time = \"100 us\"\n"));
    assert_eq!(e.path, "reliability.step_time");
    assert!(e.message.contains("a step time of 0.0001 s"), "{e}");
    let e = err(&one_site(
        "[power]\nwindow = \"1 ms\"\nresolution = \"100 ns\"\n",
    ));
    assert_eq!(e.path, "power.resolution");
    assert!(e.message.contains("a resolution of 0.0000001 s"), "{e}");
}
