//! The web API's error paths and limits, over a real socket on loopback (the server computing on
//! its own threads; `crates/megacluster/tests/serve_cli.rs` runs it with worker processes and
//! compares its answers with the CLI's bytes).

use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DEFAULT: &str = spec::scenario::DEFAULT_SCENARIO;
const SMALL: &str = include_str!("../../../examples/xai-colossus.toml");

async fn server(cfg: web::Config) -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, web::router(cfg)).await.unwrap() });
    addr
}

fn cfg() -> web::Config {
    web::Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..web::Config::default()
    }
}

async fn send(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // a body over the limit may be refused before it is all sent
    let _ = s.write_all(body).await;
    s
}

/// Status, headers (lower case) and body of one request.
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = send(addr, method, path, body).await;
    let mut raw = vec![];
    let _ = s.read_to_end(&mut raw).await;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status = head[9..12].parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, head, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = vec![];
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(std::str::from_utf8(&b[..i]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
    out
}

fn json(b: &[u8]) -> Value {
    serde_json::from_slice(b).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(b)))
}

#[tokio::test]
async fn an_oversized_body_is_413_with_a_json_error() {
    let addr = server(web::Config {
        body_limit: 1024,
        ..cfg()
    })
    .await;
    let big = format!("name = \"{}\"\n", "x".repeat(4096));
    let (status, _, body) = request(addr, "POST", "/api/run", big.as_bytes()).await;
    assert_eq!(status, 413);
    let e = json(&body);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("larger than the server's limit"));
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_400() {
    let addr = server(cfg()).await;
    let (status, _, body) = request(addr, "POST", "/api/validate", &[0xff, 0xfe, 0x00]).await;
    assert_eq!(status, 400);
    assert_eq!(
        json(&body)["error"]["message"],
        "the request body is not UTF-8 text"
    );
}

#[tokio::test]
async fn malformed_toml_is_422_located_as_the_cli_locates_it() {
    let addr = server(cfg()).await;
    let src = "name = \"x\"\n[[site]\ngrid = 1\n";
    for path in [
        "/api/validate?file=a.toml",
        "/api/run?file=a.toml",
        "/api/stream?file=a.toml",
    ] {
        let (status, _, body) = request(addr, "POST", path, src.as_bytes()).await;
        assert_eq!(status, 422, "{path}");
        let e = &json(&body)["error"];
        let want = spec::parse_scenario("a.toml", src, &spec::Catalog::embedded()).unwrap_err();
        assert_eq!(e["line"], 2, "{path}: {e}");
        assert_eq!(e["text"], want.to_string(), "{path}");
        assert!(e["text"].as_str().unwrap().starts_with("a.toml:2:"), "{e}");
    }
}

#[tokio::test]
async fn an_unknown_field_is_422_with_its_hint() {
    let addr = server(cfg()).await;
    let src = DEFAULT.replace("grid = ", "grd = ");
    let (status, _, body) = request(addr, "POST", "/api/run", src.as_bytes()).await;
    assert_eq!(status, 422);
    let e = &json(&body)["error"];
    assert_eq!(e["field"], "site[0].grd");
    assert_eq!(e["hint"], "did you mean `grid`?");
    assert_eq!(e["file"], "scenario.toml");
    assert!(e["line"].as_u64().unwrap() > 1);
    assert!(e["column"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn a_catalogue_file_is_refused_and_never_read() {
    let addr = server(cfg()).await;
    // a file that exists: the answer must not depend on it
    let src = format!("catalog = [\"{}\"]\n{DEFAULT}", env!("CARGO_MANIFEST_PATH"));
    for path in [
        "/api/validate",
        "/api/run",
        "/api/stream",
        "/api/report.html",
    ] {
        let (status, _, body) = request(addr, "POST", path, src.as_bytes()).await;
        assert_eq!(status, 422, "{path}");
        let e = &json(&body)["error"];
        assert_eq!(e["field"], "catalog");
        assert_eq!(
            (e["line"].as_u64(), e["column"].as_u64()),
            (Some(1), Some(1))
        );
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("reads nothing from disk"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_model_error_found_after_loading_is_422_at_its_field() {
    let addr = server(cfg()).await;
    // a fixed layout that does not divide the job's GPUs: the step model's error, located
    let src = DEFAULT.replace(
        "parallelism = \"auto\"",
        "parallelism = { tp = 8, pp = 7, dp = 3 }",
    );
    assert_ne!(src, DEFAULT);
    let (status, _, body) = request(addr, "POST", "/api/run", src.as_bytes()).await;
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    let e = &json(&body)["error"];
    assert!(
        e["field"].as_str().unwrap().starts_with("job.parallelism"),
        "{e}"
    );
    assert!(e["line"].as_u64().is_some(), "{e}");
}

#[tokio::test]
async fn bad_knob_requests_are_4xx() {
    let addr = server(cfg()).await;
    let (status, _, _) = request(addr, "POST", "/api/knobs", b"not json").await;
    assert_eq!(status, 400);
    let body = serde_json::json!({"toml": "name = \"no sites\"\n", "set": [{"knob": "grid_w", "value": 1e8}]});
    let (status, _, b) = request(addr, "POST", "/api/knobs", body.to_string().as_bytes()).await;
    assert_eq!(status, 422);
    assert_eq!(json(&b)["error"]["field"], "site[0]");
    let body = serde_json::json!({"toml": DEFAULT, "set": [{"knob": "gpus", "value": 131072}]});
    let (status, _, b) = request(addr, "POST", "/api/knobs", body.to_string().as_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!(json(&b)["knobs"]["gpus"], 131072);
}

#[tokio::test]
async fn unknown_routes_and_entries_are_404() {
    let addr = server(cfg()).await;
    assert_eq!(request(addr, "GET", "/etc/passwd", b"").await.0, 404);
    assert_eq!(
        request(addr, "GET", "/api/catalog/system/nope", b"")
            .await
            .0,
        404
    );
    let (s, _, b) = request(addr, "GET", "/api/catalog/system/hgx-h100", b"").await;
    assert_eq!(s, 200);
    assert!(json(&b).get("source").is_some());
}

#[tokio::test]
async fn the_examples_are_every_file_in_examples() {
    let addr = server(cfg()).await;
    let (s, _, b) = request(addr, "GET", "/api/examples", b"").await;
    assert_eq!(s, 200);
    let list = json(&b);
    let served: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("examples/{n}"))
        .collect();
    files.sort();
    assert_eq!(served[0], "<default scenario>");
    assert_eq!(
        served[1..].to_vec(),
        files,
        "embed every example in crates/web/src/examples.rs"
    );
    for e in list.as_array().unwrap() {
        let path = format!("/api/validate?file={}", e["id"].as_str().unwrap());
        let (s, _, _) = request(addr, "POST", &path, e["toml"].as_str().unwrap().as_bytes()).await;
        assert_eq!(s, 200, "{}", e["id"]);
    }
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_with_no_network_reference() {
    let addr = server(cfg()).await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/app.css", "text/css"),
    ] {
        let (s, head, b) = request(addr, "GET", path, b"").await;
        assert_eq!(s, 200);
        assert!(head.contains(kind), "{head}");
        let t = String::from_utf8(b).unwrap();
        assert!(
            !t.contains("http://") && !t.contains("https://"),
            "{path} references the network"
        );
    }
}

#[tokio::test]
async fn a_computation_past_its_time_limit_is_503_and_the_server_goes_on() {
    let addr = server(web::Config {
        time_limit: Duration::from_millis(30),
        ..cfg()
    })
    .await;
    let (s, _, b) = request(addr, "POST", "/api/run", DEFAULT.as_bytes()).await;
    assert_eq!(s, 503, "{}", String::from_utf8_lossy(&b));
    assert!(json(&b)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("time limit"));
    let (s, _, _) = request(addr, "POST", "/api/validate", DEFAULT.as_bytes()).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn beyond_the_concurrency_bound_the_answer_is_503_then_it_recovers() {
    let addr = server(web::Config {
        max_running: 1,
        max_queued: 0,
        ..cfg()
    })
    .await;
    // a long computation holds the one slot: its stream has started
    let mut long = send(addr, "POST", "/api/stream", DEFAULT.as_bytes()).await;
    let mut seen = vec![];
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"type\":\"start\"") {
        let n = long.read(&mut buf).await.unwrap();
        assert!(n > 0, "the stream ended early");
        seen.extend_from_slice(&buf[..n]);
    }
    let (s, head, b) = request(addr, "POST", "/api/run", SMALL.as_bytes()).await;
    assert_eq!(s, 503, "{}", String::from_utf8_lossy(&b));
    assert!(head.contains("retry-after: 1"), "{head}");
    assert!(json(&b)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("bound of concurrent computations"));
    // cheap routes never wait for a slot
    assert_eq!(
        request(addr, "POST", "/api/validate", SMALL.as_bytes())
            .await
            .0,
        200
    );
    // the page goes away: its computation is cancelled and the slot frees
    drop(long);
    let mut ok = None;
    for _ in 0..600 {
        let (s, _, b) = request(addr, "POST", "/api/run", SMALL.as_bytes()).await;
        if s == 200 {
            ok = Some(b);
            break;
        }
        assert_eq!(s, 503);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let b = ok.expect("the server recovers once the slot is free");
    assert_eq!(
        json(&b)["scenario"],
        "xAI Colossus, Memphis: 100k then 200k H100/H200"
    );
}

#[tokio::test]
async fn a_newer_stream_from_the_same_page_cancels_the_older() {
    let addr = server(web::Config {
        max_running: 1,
        max_queued: 4,
        ..cfg()
    })
    .await;
    let stream = |id: &'static str| async move {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /api/stream HTTP/1.1\r\nHost: x\r\nx-megacluster-client: {id}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{DEFAULT}",
            DEFAULT.len()
        );
        s.write_all(head.as_bytes()).await.unwrap();
        s
    };
    let mut first = stream("page-1").await;
    let mut buf = [0u8; 4096];
    let n = first.read(&mut buf).await.unwrap();
    assert!(n > 0);
    // the same page again, while the first is still computing: the first stops, the second runs
    let mut second = stream("page-1").await;
    let mut out = vec![];
    let _ = tokio::time::timeout(Duration::from_secs(300), second.read_to_end(&mut out)).await;
    let t = String::from_utf8_lossy(&out);
    assert!(t.contains("\"type\":\"done\""), "{t}");
    let mut rest = vec![];
    let _ = first.read_to_end(&mut rest).await;
    let r = String::from_utf8_lossy(&rest);
    assert!(
        !r.contains("\"type\":\"done\""),
        "the replaced stream ran to its end"
    );
}
