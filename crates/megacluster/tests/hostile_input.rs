//! Hostile and extreme input through the binary: every case here panicked, aborted, hung,
//! printed an impossible figure or clobbered a file before (the comment on each says how); now
//! each is a located error (exit 2, nothing on stdout) or a bounded, honest answer.

mod common;
use common::*;
use std::process::{Command, Stdio};

/// The minimal scenario of the reports: one site, one hall of 8 H100.
fn minimal(site_name: &str) -> String {
    format!(
        "name = \"x\"\n[[site]]\nname = \"{site_name}\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"roce-400g-3tier\"\n"
    )
}

#[test]
fn a_long_site_name_is_refused_not_a_panic() {
    // before: `plan` and `run` panicked in report/src/fmt.rs ("Formatting argument out of
    // range") at 65,514 characters and `validate` accepted it
    let long = "s".repeat(65_600);
    rejects_with(
        &["validate", "plan", "run"],
        "long-name.toml",
        &minimal(&long),
        &[
            "long-name.toml:3:8",
            "site[0].name",
            "longer than the 200 allowed",
        ],
    );
}

#[test]
fn a_closed_stdout_ends_quietly_and_a_full_one_is_an_error() {
    // before: "failed printing to stdout" panics (exit 101)
    let p = write("pipe.toml", &minimal("a"));
    let mut child = bin()
        .args(["--json", "plan"])
        .arg(&p)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away at once, like `| head -c0`
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    if std::path::Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = bin().arg("validate").arg(&p).stdout(full).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("cannot write to stdout"), "{err}");
    }
}

#[test]
fn replica_counts_are_bounded() {
    // before: u64::MAX panicked ("capacity overflow"), 10^9 and "1e12" aborted on a 248 GB /
    // 248 TB allocation
    let p = write("replicas.toml", &minimal("a"));
    for n in ["18446744073709551615", "1000000000"] {
        let out = bin()
            .args(["simulate", "--replicas", n])
            .arg(&p)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{n}: {err}");
        assert!(err.contains("--replicas must be at most 100000"), "{err}");
    }
    rejects_with(
        &["validate", "simulate"],
        "replicas-1e12.toml",
        &format!("{}[reliability]\nreplicas = \"1e12\"\n", minimal("a")),
        &[
            "replicas-1e12.toml:9:12",
            "reliability.replicas",
            "more than the 100000",
        ],
    );
}

#[test]
fn absurd_quantities_are_located_errors() {
    // before: rate_scale = 1e300 printed "standby_nodes": 18446744073709551615; "$1e308/MWh"
    // printed opex and TCO as null; "1e300 km" gave figures near 1e306
    let m = minimal("a");
    rejects_with(
        &["validate", "run"],
        "rate-scale.toml",
        &format!("{m}[reliability]\nrate_scale = 1e300\nlength = \"1 s\"\n"),
        &["rate-scale.toml:9:14", "reliability.rate_scale", "beyond"],
    );
    rejects_with(
        &["validate", "plan"],
        "price.toml",
        &m.replace(
            "name = \"a\"\n",
            "name = \"a\"\nelectricity = \"$1e308/MWh\"\n",
        ),
        &[
            "price.toml:4:15",
            "site[0].electricity",
            "beyond the largest value",
        ],
    );
    let two = "name = \"x\"\n[[site]]\nname = \"a\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"roce-400g-3tier\"\n[[site]]\nname = \"b\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"roce-400g-3tier\"\n";
    rejects_with(
        &["validate"],
        "far.toml",
        &format!("{two}[[link]]\nbetween = [\"a\", \"b\"]\ndistance = \"1e300 km\"\ncapacity = \"1 Tbps\"\n"),
        &["far.toml:16:12", "link[0].distance", "beyond the largest value"],
    );
    // a duplicated link: before, accepted with the capacities added
    rejects_with(
        &["validate"],
        "dup-link.toml",
        &format!("{two}[[link]]\nbetween = [\"a\", \"b\"]\ndistance = \"10 km\"\ncapacity = \"1 Tbps\"\n[[link]]\nbetween = [\"b\", \"a\"]\ndistance = \"10 km\"\ncapacity = \"1 Tbps\"\n"),
        &["dup-link.toml:19:11", "link[1].between", "already joined by link[0]"],
    );
}

#[test]
fn microsecond_steps_and_resolutions_are_refused() {
    // before: [reliability] step_time = "100 us" without a job reached 6.4 GB and aborted;
    // [power] step_time = "1 us" took 54 s; resolution = "100 ns" asked for 48 GB with --solve
    let m = minimal("a");
    rejects_with(
        &["validate", "power"],
        "step.toml",
        &format!("{m}[reliability]\nstep_time = \"100 us\"\n"),
        &["step.toml:9:13", "reliability.step_time", "outside 0.01 s"],
    );
    rejects_with(
        &["validate", "power"],
        "pstep.toml",
        &format!("{m}[power]\nstep_time = \"1 us\"\n"),
        &["pstep.toml:9:13", "power.step_time"],
    );
    rejects_with(
        &["validate", "power"],
        "res.toml",
        &format!("{m}[power]\nwindow = \"1 ms\"\nresolution = \"100 ns\"\n"),
        &["res.toml:10:14", "power.resolution", "finer than"],
    );
}

#[test]
fn devices_fifos_and_big_files_are_not_read() {
    // before: `validate /dev/zero` grew to 5.6 GB, `--catalog /dev/zero` to 8.5 GB, a FIFO
    // blocked forever
    let out = bin().args(["validate", "/dev/zero"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    let p = write("cat.toml", &minimal("a"));
    let out = bin()
        .args(["--catalog", "/dev/zero", "validate"])
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/zero") && err.contains("not a regular file"),
        "{err}"
    );
    let fifo = dir().join("fifo.toml");
    let _ = std::fs::remove_file(&fifo);
    if Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        let out = bin().arg("validate").arg(&fifo).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
}

#[test]
fn bad_utf8_and_empty_toml_errors_are_located() {
    // before: the file name only ("stream did not contain valid UTF-8"), and "malformed TOML: "
    // with nothing after it
    let p = dir().join("latin1.toml");
    std::fs::write(&p, b"name = \"x\"\n# caf\xe9\n").unwrap();
    let out = bin().arg("validate").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("latin1.toml:2:6"), "{err}");
    assert!(err.contains("0xe9"), "{err}");
    for (name, body) in [
        ("eq.toml", "name = "),
        ("ctl.toml", "name = \"x\" # a\u{1}b\n"),
    ] {
        let p = write(name, body);
        let out = bin().arg("validate").arg(&p).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        let msg = err.split("malformed TOML:").nth(1).unwrap_or("");
        assert!(msg.trim().len() > 3, "{name}: {err:?}");
        assert!(err.contains(&format!("{name}:1:")), "{name}: {err:?}");
    }
}

#[test]
fn sweep_names_must_say_csv_and_nothing_is_half_written() {
    // before: `--sweep out.svg` wrote the CSV then overwrote it with the SVG (exit 0);
    // `--sweep data.txt` silently wrote data.svg; with FILE.svg a directory the CSV was left
    // behind and the command exited 2 after the whole computation
    let d = dir().join("sweep-names");
    std::fs::create_dir_all(&d).unwrap();
    let two = write(
        "sweep-two.toml",
        "name = \"x\"\n[[site]]\nname = \"a\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 1024\nfabric = \"roce-400g-3tier\"\n[[site]]\nname = \"b\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 1024\nfabric = \"roce-400g-3tier\"\n[[link]]\nbetween = [\"a\", \"b\"]\ndistance = \"100 km\"\ncapacity = \"10 Tbps\"\n[job]\nmodel = \"llama3-8b\"\ntokens = \"1T\"\nglobal_batch = \"4M\"\n",
    );
    for name in ["out.svg", "data.txt"] {
        let out = bin()
            .args(["multisite", "--sweep"])
            .arg(d.join(name))
            .arg(&two)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains("must end in .csv"), "{err}");
    }
    std::fs::create_dir_all(d.join("blocked.svg")).unwrap();
    let out = bin()
        .args(["multisite", "--sweep"])
        .arg(d.join("blocked.csv"))
        .arg(&two)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is a directory"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        vec!["blocked.svg".to_string()],
        "left behind: {left:?}"
    );
}

#[test]
fn outputs_never_overwrite_the_scenario_or_follow_a_symlink_out() {
    // before: `--events` at the scenario overwrote it; `run --html DIR` followed a symlink at
    // DIR/index.html to a file outside DIR
    let body = minimal("a");
    let p = write("victim.csv", &body);
    let out = bin()
        .args(["simulate", "--replicas", "2", "--events"])
        .arg(&p)
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(&p).unwrap(), body);

    #[cfg(unix)]
    {
        let html = dir().join("html-out");
        std::fs::create_dir_all(&html).unwrap();
        let outside = dir().join("outside.txt");
        std::fs::write(&outside, "keep me").unwrap();
        let link = html.join("index.html");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let s = write("html.toml", &body);
        let out = bin()
            .args(["run", "--html"])
            .arg(&html)
            .arg(&s)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep me");
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.is_file(), "index.html is a file now, not the link");
        assert!(std::fs::read_to_string(&link).unwrap().contains("<html"));
    }
}

#[test]
fn outputs_never_overwrite_a_catalogue_file_the_scenario_names() {
    // before: only the scenario and `--catalog` files were guarded; `catalog = [...]` inside the
    // scenario was not, so `--events` at one overwrote it
    let cat = "[system.my-h100]\nlike = \"hgx-h100\"\n";
    let c = write("named-cat.csv", cat);
    let s = write(
        "names-a-catalogue.toml",
        &minimal("a").replace(
            "name = \"x\"\n",
            "name = \"x\"\ncatalog = [\"named-cat.csv\"]\n",
        ),
    );
    let out = bin()
        .args(["simulate", "--replicas", "2", "--events"])
        .arg(&c)
        .arg(&s)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(&c).unwrap(), cat);
}

#[test]
fn an_unwritable_output_is_refused_before_computing() {
    // before: reported only after the whole computation
    let p = write("early.toml", &minimal("a"));
    let f = write("a-file", "x");
    let out = bin()
        .args(["run", "--html"])
        .arg(&f)
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not a directory"), "{err}");
    assert!(out.stdout.is_empty());
    let out = bin()
        .args(["simulate", "--events"])
        .arg(dir().join("no-such-dir").join("e.csv"))
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn a_job_that_cannot_make_progress_stops_and_says_so() {
    // before: 3M–10M GPUs hung `simulate` for minutes (a Monte Carlo over simulated millennia);
    // 4,194,304 H100 at tp 8 · pp 16 · dp 32,768
    let body = "name = \"x\"\n[[site]]\nname = \"a\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 4194304\nfabric = \"roce-400g-3tier\"\n[job]\nmodel = \"llama3-405b\"\ntokens = \"15.6T\"\nglobal_batch = \"16M\"\nparallelism = { tp = 8, pp = 16, dp = 32768, microbatch = 1, recompute = \"full\" }\n[reliability]\nreplicas = 4\n";
    let p = write("4m.toml", body);
    let out = bin().args(["--json", "simulate"]).arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stalled = j["stalled_fraction"].as_f64().unwrap_or(0.0);
    assert!(stalled > 0.0, "{j}");
    assert!(j["progress_note"]
        .as_str()
        .unwrap_or("")
        .contains("cannot make progress"));
    assert!(j["ettr"]["mean"].as_f64().unwrap() < 0.01);
}

#[test]
fn search_top_is_bounded() {
    // before: --top 10,000 took 6 s and 100,000 over 120 s (quadratic in k); the search keeps
    // its top list in a bounded heap now, and the longest list is the one printed
    let out = bin().args(["search", "--top", "10001"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--top must be at most 10000"), "{err}");
    assert!(out.stdout.is_empty());
    // the longest list: every layout the default scenario has up to that many, best first
    let out = bin()
        .args(["--json", "search", "--top", "10000"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = j["top"].as_array().map_or(0, |a| a.len());
    assert_eq!(
        rows,
        10_000,
        "{}",
        &String::from_utf8_lossy(&out.stdout)[..300]
    );
}

#[test]
fn no_layout_says_why() {
    // before: "no parallel layout … fits in memory" even when every layout broke a rule
    let body = "name = \"x\"\n[[site]]\nname = \"a\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 8\nfabric = \"roce-400g-3tier\"\n[job]\nmodel = \"llama3-405b\"\ntokens = \"15.6T\"\nglobal_batch = \"16M\"\n";
    let p = write("nolayout.toml", body);
    let out = bin().arg("train").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nolayout.toml:8:1"), "{err}");
    assert!(err.contains("job.parallelism"), "{err}");
    assert!(
        err.contains("need more memory than a GPU has") || err.contains("break a parallelism rule"),
        "{err}"
    );
}

#[test]
fn round_off_never_prints_negative_energy_or_dollars() {
    // before: battery losses −1.5e-4 J, mitigation energy −2.86 J/yr and cost −4.9e-8 $/yr with a
    // lossless battery (efficiency 100 %): round-off of quantities that are never negative
    let body = format!(
        "{}[power.mitigation]\nbattery = {{ power = \"500 MW\", energy = \"1 kWh\", efficiency = \"100%\" }}\n",
        minimal("a").replace("gpus = 8", "gpus = 16384")
    );
    let p = write("lossless.toml", &body);
    let out = bin().args(["--json", "power"]).arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    fn walk(path: &str, v: &serde_json::Value, bad: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    walk(&format!("{path}.{k}"), x, bad)
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(path, x, bad)),
            serde_json::Value::Number(n) => {
                let key = path.rsplit('.').next().unwrap_or("");
                let never_negative = key.contains("losses")
                    || key.starts_with("energy_overhead")
                    || key.ends_with("usd_per_year");
                if never_negative && n.as_f64().is_some_and(|x| x < 0.0) {
                    bad.push(format!("{path} = {n}"));
                }
            }
            _ => {}
        }
    }
    let mut bad = vec![];
    walk("power", &j, &mut bad);
    assert!(bad.is_empty(), "{bad:?}");
}

#[test]
fn a_catalogue_the_scenario_names_and_big_files_are_bounded_too() {
    // before: `catalog = ["/dev/zero"]` in a scenario grew past 1.6 GB in 5 s, and a 5 MB
    // scenario or catalogue file was read whole
    let m = minimal("a");
    rejects_with(
        &["validate", "run"],
        "names-dev-zero.toml",
        &m.replace(
            "name = \"x\"\n",
            "name = \"x\"\ncatalog = [\"/dev/zero\"]\n",
        ),
        &[
            "names-dev-zero.toml:2:12",
            "catalog[0]",
            "not a regular file",
        ],
    );
    let big = format!("{m}{}\n", "#".repeat(5_000_000));
    rejects_with(
        &["validate"],
        "big.toml",
        &big,
        &["big.toml", "4194304-byte limit"],
    );
    write("big-cat.toml", &big);
    rejects_with(
        &["validate"],
        "names-big.toml",
        &m.replace(
            "name = \"x\"\n",
            "name = \"x\"\ncatalog = [\"big-cat.toml\"]\n",
        ),
        &["names-big.toml:2:12", "catalog[0]", "4194304-byte limit"],
    );
}

#[test]
fn layouts_that_all_break_a_rule_are_not_called_a_memory_problem() {
    // before: "no parallel layout of llama3-405b on 10000000 GPUs fits in memory" when every
    // layout broke a parallelism rule (pp), and `validate` accepted the scenario
    let body = "name = \"x\"\n[[site]]\nname = \"a\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = 10000000\nfabric = \"roce-400g-3tier\"\n[job]\nmodel = \"llama3-405b\"\ntokens = \"15.6T\"\nglobal_batch = \"16M\"\n";
    rejects_with(
        &["validate", "train", "run"],
        "10m-auto.toml",
        body,
        &[
            "10m-auto.toml:8:1",
            "job.parallelism",
            "is valid: all",
            "break a parallelism rule (by field: pp",
        ],
    );
    let p = write("10m-auto-msg.toml", body);
    let out = bin().arg("train").arg(&p).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("fits in memory"), "{err}");
}

#[test]
fn too_many_spares_are_located_at_the_spares() {
    // before: `spares = "2e8"` was reported at `field \`reliability\`` (the table's header, no
    // field), then at `site[0].hall[0].gpus` (the hall, which holds 8 GPUs)
    let m = minimal("a");
    rejects_with(
        &["validate", "simulate"],
        "spares.toml",
        &format!("{m}[reliability]\nspares = \"2e8\"\n"),
        &["spares.toml:9:10", "reliability.spares", "10^8"],
    );
    rejects_with(
        &["validate", "simulate"],
        "spare-pool.toml",
        &format!("{m}[reliability]\nspare_pool = \"2e8\"\n"),
        &["spare-pool.toml:9:14", "reliability.spare_pool", "10^8"],
    );
}

/// Peak resident memory of the binary on `args`, in kB, from `wait4` on that child alone (the
/// tests of this file run concurrently, so `getrusage(RUSAGE_CHILDREN)` would mix them).
#[cfg(target_os = "linux")]
#[allow(clippy::zombie_processes)] // reaped by the `wait4` below, which std cannot see
fn peak_rss_kb(args: &[&std::ffi::OsStr]) -> i64 {
    let child = bin()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain C structs written by the kernel; the pid is our own child, not yet waited on
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(got, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{args:?}: status {status}"
    );
    ru.ru_maxrss
}

#[cfg(target_os = "linux")]
#[test]
fn a_power_study_s_memory_does_not_grow_with_the_gpu_count() {
    // before: `power --json` on Llama 3 405B at tp 8 · pp 16 took 19 MB at 1M GPUs, 483 MB at
    // 4M and 1.1 GB at 10M (the reliability timeline of a job that could not make progress,
    // recorded over simulated years); now 28-31 MB at each
    let job = |gpus: u64, dp: u64| {
        format!("name = \"x\"\n[[site]]\nname = \"a\"\n[[site.hall]]\nsystem = \"hgx-h100\"\ngpus = {gpus}\nfabric = \"roce-400g-3tier\"\n[job]\nmodel = \"llama3-405b\"\ntokens = \"15.6T\"\nglobal_batch = \"16M\"\nparallelism = {{ tp = 8, pp = 16, dp = {dp}, microbatch = 1, recompute = \"full\" }}\n")
    };
    let one = write("mem-1m.toml", &job(1_048_576, 8192));
    let ten = write("mem-10m.toml", &job(10_000_000, 78_125));
    fn args(p: &std::path::Path) -> Vec<&std::ffi::OsStr> {
        vec!["--json".as_ref(), "power".as_ref(), p.as_os_str()]
    }
    let at_1m = peak_rss_kb(&args(&one));
    let at_10m = peak_rss_kb(&args(&ten));
    // ten times the GPUs: the same memory within allocator noise, and far from the 1.1 GB
    assert!(
        at_10m < 2 * at_1m && at_10m < 256 * 1024,
        "peak RSS {at_1m} kB at 1M GPUs, {at_10m} kB at 10M"
    );
}
