//! `megacluster serve`: the web planner. An HTTP server (axum on tokio) with the page's assets
//! embedded, and a JSON API over the same library calls as the CLI.
//!
//! Architecture invariant: the server computes nothing itself. A posted scenario goes through
//! `spec` (as the CLI loads a file, without files of its own: `catalog = [...]` is refused),
//! `pipeline` and `report::run` — the functions `megacluster run` calls — so `POST /api/run`
//! answers the bytes of `megacluster run --json` for the same scenario. What it adds is
//! transport: limits on body size, time and concurrent computations; cancellation; streaming
//! sections as they are ready; the knobs that edit a scenario's TOML text.
//!
//! API (every scenario is posted as TOML text; `?file=NAME` names it in errors, a label only):
//! - `POST /api/run` → `run --json`'s bytes; `POST /api/run.csv` → the same values as
//!   `field,value` rows; `POST /api/report.html` → `run --html`'s page.
//! - `POST /api/stream` → the sections as newline-delimited JSON, the cheap ones first and the
//!   power study (the mitigation solve) last, each with its charts (SVG from `report`) and
//!   headline figures; a newer stream from the same `x-megacluster-client` cancels the older.
//! - `POST /api/validate` → `{valid, …, knobs}` or the located error.
//! - `POST /api/knobs` (`{"toml": …, "set": [{"knob": …, "value": …}]}`) → the edited text and
//!   its knobs.
//! - `GET /api/catalog`, `GET /api/catalog/{kind}/{name}` → as `megacluster catalog --json`;
//!   `GET /api/examples` → the default scenario and every `examples/*.toml`.
//!
//! Errors are JSON `{"error": {status, file, line, column, field, message, hint, text}}`: 400 for a
//! body that is not UTF-8 or not the JSON asked for, 413 over the size limit, 422 for a scenario
//! problem (the CLI's located error, `text` its message after `error: `), 503 when the server is
//! at its bound of computations or a computation passed its time limit, 500 for a model failure
//! (logged; never a stack trace).

mod compute;
pub mod examples;
pub mod scenario;
pub mod work;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use compute::{Cancel, CancelOnDrop, Failure, Limits};
use serde::Deserialize;
use serde_json::{json, Value};
use spec::SpecError;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use work::Mode;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    /// Computations at once (each uses the machine's cores through the models' own threads).
    pub max_running: usize,
    /// Requests that may wait for a computation slot; beyond them the answer is 503.
    pub max_queued: usize,
    /// Longest a request waits for a slot.
    pub queue_wait: Duration,
    /// Longest one computation may run.
    pub time_limit: Duration,
    /// Largest request body, bytes.
    pub body_limit: usize,
    /// The `megacluster` executable to run each computation in (`megacluster serve --worker`);
    /// `None`: on a thread of the server (a model that aborts the process then ends the server).
    pub worker: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_running: 2,
            max_queued: 16,
            queue_wait: Duration::from_secs(20),
            time_limit: Duration::from_secs(60),
            body_limit: 256 * 1024,
            worker: None,
        }
    }
}

struct AppState {
    cfg: Config,
    limits: Limits,
    /// The latest stream of each page (its `x-megacluster-client`), cancelled by the next.
    clients: Mutex<HashMap<String, Cancel>>,
}

type Shared = Arc<AppState>;

/// The router with every route (for tests: serve it on any listener).
pub fn router(cfg: Config) -> Router {
    let state = Arc::new(AppState {
        limits: Limits::new(cfg.max_running, cfg.max_queued, cfg.queue_wait),
        clients: Mutex::new(HashMap::new()),
        cfg: cfg.clone(),
    });
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route("/api/catalog", get(catalog))
        .route("/api/catalog/{kind}/{name}", get(catalog_entry))
        .route("/api/examples", get(examples_list))
        .route("/api/validate", post(validate))
        .route("/api/knobs", post(knobs))
        .route("/api/run", post(run))
        .route("/api/run.csv", post(run_csv))
        .route("/api/report.html", post(report_html))
        .route("/api/stream", post(stream))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such page or API route") })
        .layer(DefaultBodyLimit::max(cfg.body_limit))
        .with_state(state)
}

/// Serve until Ctrl-C, printing where to open the page.
pub fn serve(cfg: Config) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(cfg.addr).await?;
        let addr = listener.local_addr()?;
        println!("megacluster serve: open http://{addr}/ in a browser (Ctrl-C stops)");
        if !addr.ip().is_loopback() {
            println!(
                "megacluster serve: warning: {} is reachable from other machines; the planner has no login",
                addr.ip()
            );
        }
        axum::serve(listener, router(cfg))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
    })
}

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    let mut t = serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into());
    t.push('\n');
    typed(status, "application/json", t)
}

fn typed(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// An error without a place in a scenario.
fn error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        &json!({"error": {"status": status.as_u16(), "message": message, "text": message}}),
    )
}

fn input_error(e: &SpecError) -> Response {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({"error": work::spec_error_json(e)}),
    )
}

fn busy() -> Response {
    let mut r = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is at its bound of concurrent computations; try again in a moment",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

#[derive(Deserialize)]
struct FileQuery {
    file: Option<String>,
}

/// The posted text, or the answer for a body that cannot be one.
fn body_text(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<String, Box<Response>> {
    let b = body.map_err(|r| {
        let s = r.status();
        Box::new(if s == StatusCode::PAYLOAD_TOO_LARGE {
            error(
                s,
                "the request body is larger than the server's limit for a scenario",
            )
        } else {
            error(s, &r.body_text())
        })
    })?;
    String::from_utf8(b.to_vec()).map_err(|_| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "the request body is not UTF-8 text",
        ))
    })
}

/// Parse a posted scenario.
fn posted(
    q: &FileQuery,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(String, String, spec::Scenario), Box<Response>> {
    let text = body_text(body)?;
    let file = scenario::label(q.file.as_deref());
    let s = scenario::parse(&file, &text).map_err(|e| Box::new(input_error(&e)))?;
    Ok((file, text, s))
}

async fn catalog() -> Response {
    let cat = scenario::catalog();
    let mut m = serde_json::Map::new();
    for k in spec::catalog::KINDS {
        m.insert(k.to_string(), json!(cat.names(k)));
    }
    json_response(StatusCode::OK, &Value::Object(m))
}

async fn catalog_entry(Path((kind, name)): Path<(String, String)>) -> Response {
    match scenario::catalog().raw(&kind, &name) {
        Ok(t) => match serde_json::to_value(&t) {
            Ok(v) => json_response(StatusCode::OK, &v),
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        },
        Err(e) => json_response(
            StatusCode::NOT_FOUND,
            &json!({"error": {"status": 404, "message": e, "text": e}}),
        ),
    }
}

async fn examples_list() -> Response {
    let list: Vec<Value> = examples::ALL
        .iter()
        .map(|e| json!({"id": e.id, "file": e.file, "name": e.name(), "toml": e.toml}))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

async fn validate(
    Query(q): Query<FileQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let (file, _, s) = match posted(&q, body) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let halls: usize = s.sites.iter().map(|x| x.halls.len()).sum();
    json_response(
        StatusCode::OK,
        &json!({
            "file": file,
            "valid": true,
            "name": s.name,
            "sites": s.sites.len(),
            "halls": halls,
            "gpus": s.total_gpus(),
            "knobs": scenario::knobs(&s),
        }),
    )
}

#[derive(Deserialize)]
struct KnobsBody {
    toml: String,
    #[serde(default)]
    set: Vec<scenario::Set>,
}

async fn knobs(
    Query(q): Query<FileQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let text = match body_text(body) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let b: KnobsBody = match serde_json::from_str(&text) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not {{\"toml\": TEXT, \"set\": [{{\"knob\": NAME, \"value\": V}}]}}: {e}"),
            )
        }
    };
    let file = scenario::label(q.file.as_deref());
    let mut t = b.toml;
    for s in &b.set {
        t = match scenario::apply(&file, &t, s) {
            Ok(t) => t,
            Err(e) => return input_error(&e),
        };
    }
    match scenario::parse(&file, &t) {
        Ok(s) => json_response(
            StatusCode::OK,
            &json!({"toml": t, "knobs": scenario::knobs(&s)}),
        ),
        Err(e) => {
            let mut r = input_error(&e);
            // the edited text comes back too, so the editor can show where the edit went wrong
            if let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&format!(
                "{{\"error\": {}}}",
                work::spec_error_json(&e)
            )) {
                m.insert("toml".into(), Value::String(t));
                r = json_response(StatusCode::UNPROCESSABLE_ENTITY, &Value::Object(m));
            }
            r
        }
    }
}

/// Start computing `mode` for a posted scenario: lines of JSON on the returned channel, ending
/// with a last line ([`work::is_last`]) unless the client went away. In a worker process when the
/// server has one, else on a blocking thread.
fn start(
    st: &Shared,
    permit: tokio::sync::OwnedSemaphorePermit,
    cancel: Cancel,
    mode: Mode,
    file: String,
    text: String,
    scenario: spec::Scenario,
) -> tokio::sync::mpsc::Receiver<Bytes> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let limit = st.cfg.time_limit;
    let started = Instant::now();
    let deadline = started + limit;
    match st.cfg.worker.clone() {
        None => {
            let c = cancel.clone();
            let tx2 = tx.clone();
            let job = compute::run(permit, cancel, deadline, limit, move || {
                work::lines(scenario, mode, &c, deadline, started, &mut |v| {
                    tx2.blocking_send(line(&v)).is_ok()
                })
            });
            tokio::spawn(async move {
                if let Err(f) = job.await {
                    if f != Failure::Cancelled {
                        let e = json!({"type": "error", "error": work::failure_json(&f)});
                        let _ = tx.send(line(&e)).await;
                    }
                }
            });
        }
        Some(exe) => {
            let req = work::Request {
                mode,
                file,
                toml: text,
                time_limit_s: limit.as_secs_f64(),
            };
            tokio::spawn(async move {
                let r = in_worker(&exe, &req, &cancel, deadline, limit, &tx).await;
                drop(permit);
                if let Err(e) = r {
                    let _ = tx.send(line(&json!({"type": "error", "error": e}))).await;
                }
            });
        }
    }
    rx
}

/// Run one request in a worker process, forwarding its lines; killed when cancelled, when the
/// client goes away or past the deadline. An error to answer when it gave no last line.
async fn in_worker(
    exe: &std::path::Path,
    req: &work::Request,
    cancel: &Cancel,
    deadline: Instant,
    limit: Duration,
    tx: &tokio::sync::mpsc::Sender<Bytes>,
) -> Result<(), Value> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let internal = |m: String| {
        eprintln!("megacluster serve: {m}");
        json!({"status": 500, "message": "internal error: a model failed on this scenario (logged on the server)", "text": "internal error: a model failed on this scenario (logged on the server)"})
    };
    let mut child = tokio::process::Command::new(exe)
        .args(["serve", "--worker"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| internal(format!("cannot start a worker ({}): {e}", exe.display())))?;
    let body = serde_json::to_string(req).map_err(|e| internal(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(body.as_bytes())
            .await
            .map_err(|e| internal(format!("cannot write to a worker: {e}")))?;
    }
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| internal("no worker output".into()))?;
    let mut stderr = child.stderr.take();
    let mut reader = tokio::io::BufReader::new(stdout).lines();
    let mut last = false;
    let until = tokio::time::Instant::from_std(deadline + Duration::from_secs(1));
    loop {
        tokio::select! {
            l = reader.next_line() => match l {
                Ok(Some(l)) => {
                    last = serde_json::from_str::<Value>(&l).map(|v| work::is_last(&v)).unwrap_or(false);
                    let mut b = l.into_bytes();
                    b.push(b'\n');
                    if tx.send(Bytes::from(b)).await.is_err() {
                        return Ok(()); // the client went away: kill_on_drop ends the worker
                    }
                }
                _ => break,
            },
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep_until(until) => {
                let f = Failure::TimedOut(limit);
                return Err(work::failure_json(&f));
            }
        }
    }
    let status = child.wait().await;
    if last {
        return Ok(());
    }
    let mut err = String::new();
    if let Some(e) = stderr.as_mut() {
        let _ = e.read_to_string(&mut err).await;
    }
    let first = err
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    Err(internal(format!(
        "a worker failed on a posted scenario ({}): {first}",
        status
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string())
    )))
}

/// Compute a whole answer (`run --json`, CSV or HTML) for a posted scenario.
async fn whole(
    st: Shared,
    q: FileQuery,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    mode: Mode,
    content_type: &'static str,
) -> Response {
    let (file, text, s) = match posted(&q, body) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let Ok(permit) = st.limits.admit().await else {
        return busy();
    };
    let cancel = Cancel::default();
    let _guard = CancelOnDrop(cancel.clone());
    let mut rx = start(&st, permit, cancel, mode, file, text, s);
    while let Some(b) = rx.recv().await {
        let Ok(v) = serde_json::from_slice::<Value>(&b) else {
            continue;
        };
        match v.get("type").and_then(Value::as_str) {
            Some("body") => {
                let t = v
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                return typed(StatusCode::OK, content_type, t);
            }
            Some("error") => {
                let e = v.get("error").cloned().unwrap_or(Value::Null);
                let code = e.get("status").and_then(Value::as_u64).unwrap_or(500) as u16;
                let s = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return json_response(s, &json!({ "error": e }));
            }
            _ => {}
        }
    }
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error: the computation ended without an answer (logged on the server)",
    )
}

async fn run(
    State(st): State<Shared>,
    Query(q): Query<FileQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    whole(st, q, body, Mode::Json, "application/json").await
}

async fn run_csv(
    State(st): State<Shared>,
    Query(q): Query<FileQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    whole(st, q, body, Mode::Csv, "text/csv; charset=utf-8").await
}

async fn report_html(
    State(st): State<Shared>,
    Query(q): Query<FileQuery>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    whole(st, q, body, Mode::Html, "text/html; charset=utf-8").await
}

/// A response body fed line by line from the computation.
struct Lines(tokio::sync::mpsc::Receiver<Bytes>);

impl http_body::Body for Lines {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|o| o.map(|b| Ok(http_body::Frame::data(b))))
    }
}

fn line(v: &Value) -> Bytes {
    let mut t = serde_json::to_string(v).unwrap_or_else(|_| "{}".into());
    t.push('\n');
    Bytes::from(t)
}

async fn stream(
    State(st): State<Shared>,
    Query(q): Query<FileQuery>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let (file, text, s) = match posted(&q, body) {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let cancel = Cancel::default();
    if let Some(id) = headers
        .get("x-megacluster-client")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64)
    {
        let mut m = st.clients.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() > 1024 {
            m.clear();
        }
        if let Some(old) = m.insert(id.to_string(), cancel.clone()) {
            old.cancel();
        }
    }
    let Ok(permit) = st.limits.admit().await else {
        return busy();
    };
    if cancel.is_cancelled() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "replaced by a newer request",
        );
    }
    let rx = start(&st, permit, cancel, Mode::Stream, file, text, s);
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::new(Lines(rx)))
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "cannot start the stream"))
}
