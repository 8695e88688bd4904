//! One computation, as lines of JSON: the sections of a stream as they are ready, or one `body`
//! line with a whole answer (`run --json`'s bytes, the CSV, the HTML report), or an `error` line.
//! The same function runs on a thread of the server or in a worker process
//! (`megacluster serve --worker`, which reads the request on stdin and writes the lines on
//! stdout), so a model that aborts the process (an allocation that fails, say) takes down only its
//! worker, never the server.

use crate::compute::{self, Cancel};
use report::run::Part;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

/// What to compute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The sections one by one, cheapest first ([`STREAM_ORDER`]).
    Stream,
    /// `run --json`'s bytes.
    Json,
    /// The report's values as CSV.
    Csv,
    /// `run --html`'s page.
    Html,
}

/// The order the stream computes sections in: cheapest first, the power study (with its
/// mitigation solve) last. Each section's JSON is the one `run --json` holds under its key.
pub const STREAM_ORDER: [Part; 6] = [
    Part::Plan,
    Part::Programme,
    Part::Train,
    Part::Reliability,
    Part::MultiSite,
    Part::Power,
];

/// A request to a worker process.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub mode: Mode,
    pub file: String,
    pub toml: String,
    pub time_limit_s: f64,
}

pub fn spec_error_json(e: &spec::SpecError) -> Value {
    json!({
        "status": 422,
        "file": e.file,
        "line": e.line,
        "column": e.column,
        "field": e.path,
        "message": e.message,
        "hint": e.hint,
        "text": e.to_string(),
    })
}

pub fn pipeline_error_json(e: &pipeline::Error) -> Value {
    match e {
        pipeline::Error::Input(e) => spec_error_json(e),
        pipeline::Error::Model(m) => json!({"status": 500, "message": m, "text": m}),
    }
}

pub fn failure_json(f: &compute::Failure) -> Value {
    let (s, m) = match f {
        compute::Failure::Cancelled => (503, "the computation was cancelled".to_string()),
        compute::Failure::TimedOut(d) => (
            503,
            format!(
                "the computation passed the server's time limit of {} s; run it with `megacluster run` on the command line",
                d.as_secs_f64()
            ),
        ),
        compute::Failure::Panicked(_) => (
            500,
            "internal error: a model failed on this scenario (logged on the server)".to_string(),
        ),
    };
    json!({"status": s, "message": m, "text": m})
}

/// A line that ends a computation.
pub fn is_last(v: &Value) -> bool {
    matches!(
        v.get("type").and_then(Value::as_str),
        Some("done" | "body" | "error")
    )
}

/// Compute `mode` for `scenario`, handing each line to `send` (which answers false once nobody
/// listens: the computation then stops). Unwinds when `cancel` is set or `deadline` passes (the
/// caller catches it, [`compute::run`]).
pub fn lines(
    scenario: spec::Scenario,
    mode: Mode,
    cancel: &Cancel,
    deadline: Instant,
    start: Instant,
    send: &mut dyn FnMut(Value) -> bool,
) {
    let charts = matches!(mode, Mode::Stream | Mode::Html);
    let p = compute::pipeline(scenario, report::run::options(charts), cancel, deadline);
    let mut send = |v: Value| {
        if !send(v) {
            cancel.cancel();
        }
    };
    if mode != Mode::Stream {
        let r = report::run::report(&p, charts).and_then(|(r, f)| match mode {
            Mode::Json => report::run::json_text(&r),
            Mode::Csv => Ok(report::run::csv_text(&r)),
            _ => Ok(report::html::page(&r, &f)),
        });
        send(match r {
            Ok(text) => json!({"type": "body", "text": text}),
            Err(e) => json!({"type": "error", "error": pipeline_error_json(&e)}),
        });
        return;
    }
    send(
        json!({"type": "start", "scenario": p.scenario().name, "order": STREAM_ORDER.map(Part::key)}),
    );
    for part in STREAM_ORDER {
        if cancel.is_cancelled() {
            return;
        }
        let t0 = Instant::now();
        match report::run::part(&p, part, true) {
            Ok(Some((sec, figs))) => send(json!({
                "type": "section",
                "key": sec.key,
                "title": sec.title,
                "json": sec.json,
                "text": sec.text,
                "headline": report::headline::of(&sec),
                "figures": figs.iter().map(|f| json!({"title": f.title, "svg": f.svg})).collect::<Vec<_>>(),
                "section_ms": t0.elapsed().as_secs_f64() * 1e3,
                "ms": start.elapsed().as_secs_f64() * 1e3,
            })),
            Ok(None) => send(json!({"type": "absent", "key": part.key()})),
            Err(e) => {
                send(json!({"type": "error", "key": part.key(), "error": pipeline_error_json(&e)}));
                return;
            }
        }
    }
    send(json!({"type": "done", "ms": start.elapsed().as_secs_f64() * 1e3}));
}

/// `megacluster serve --worker`: one request on stdin, its lines on stdout. Returns the exit
/// code (0 when a last line was written).
pub fn worker_main() -> u8 {
    let start = Instant::now();
    let mut input = String::new();
    let stdin = std::io::stdin();
    let mut lock = stdin.lock();
    while let Ok(n) = lock.read_line(&mut input) {
        if n == 0 {
            break;
        }
    }
    let out = std::io::stdout();
    let mut write = |v: Value| -> bool {
        let mut o = out.lock();
        serde_json::to_writer(&mut o, &v).is_ok() && o.write_all(b"\n").is_ok() && o.flush().is_ok()
    };
    let req: Request = match serde_json::from_str(&input) {
        Ok(r) => r,
        Err(e) => {
            write(
                json!({"type": "error", "error": {"status": 400, "message": format!("bad worker request: {e}"), "text": "bad worker request"}}),
            );
            return 2;
        }
    };
    let s = match crate::scenario::parse(&req.file, &req.toml) {
        Ok(s) => s,
        Err(e) => {
            write(json!({"type": "error", "error": spec_error_json(&e)}));
            return 0;
        }
    };
    let limit = Duration::from_secs_f64(req.time_limit_s.clamp(0.001, 86400.0));
    let deadline = start + limit;
    let cancel = Cancel::default();
    let r = compute::catch(&cancel, deadline, limit, || {
        lines(s, req.mode, &cancel, deadline, start, &mut write)
    });
    if let Err(f) = r {
        write(json!({"type": "error", "error": failure_json(&f)}));
    }
    0
}
