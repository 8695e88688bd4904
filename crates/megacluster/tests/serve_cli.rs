//! `megacluster serve` end to end: the server as a user starts it (a worker process per
//! computation), its answers compared with the CLI's bytes for the same scenario and seed.

mod common;

use common::bin;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `megacluster serve` on a free loopback port and read where it listens.
fn serve() -> Server {
    let mut child = bin()
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");
    Server { child, addr }
}

fn request(addr: &str, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = vec![];
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    assert!(!head.to_lowercase().contains("chunked"), "{head}");
    (head[9..12].parse().unwrap(), raw[split + 4..].to_vec())
}

#[test]
fn api_run_is_run_json_byte_for_byte() {
    let srv = serve();
    for (file, label) in [
        (None, "%3Cdefault%20scenario%3E"),
        (
            Some("examples/xai-colossus.toml"),
            "examples/xai-colossus.toml",
        ),
        (
            Some("examples/google-multisite-tpu.toml"),
            "examples/google-multisite-tpu.toml",
        ),
    ] {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut cli = bin();
        cli.current_dir(root).args(["run", "--json"]);
        let text = match file {
            Some(f) => {
                cli.arg(f);
                std::fs::read_to_string(format!("{root}/{f}")).unwrap()
            }
            None => spec::scenario::DEFAULT_SCENARIO.to_string(),
        };
        let out = cli.output().unwrap();
        assert!(out.status.success());
        let (status, body) = request(
            &srv.addr,
            "POST",
            &format!("/api/run?file={label}"),
            text.as_bytes(),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert!(
            body == out.stdout,
            "{file:?}: POST /api/run differs from megacluster run --json"
        );
    }
}

#[test]
fn api_errors_and_catalogue_are_the_clis() {
    let srv = serve();
    let (status, body) = request(&srv.addr, "GET", "/api/catalog", b"");
    assert_eq!(status, 200);
    let out = bin().args(["catalog", "--json"]).output().unwrap();
    assert!(
        body == out.stdout,
        "GET /api/catalog differs from megacluster catalog --json"
    );

    let bad = spec::scenario::DEFAULT_SCENARIO.replace("\"150 MW\"", "\"150 MV\"");
    let p = common::write("serve-bad.toml", &bad);
    let out = bin().args(["run", "--json"]).arg(&p).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let label = p.display().to_string();
    for route in ["/api/run", "/api/validate", "/api/stream"] {
        let (status, body) = request(
            &srv.addr,
            "POST",
            &format!("{route}?file={label}"),
            bad.as_bytes(),
        );
        assert_eq!(status, 422, "{route}");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            format!("error: {}\n", v["error"]["text"].as_str().unwrap()),
            String::from_utf8_lossy(&out.stderr),
            "{route}"
        );
    }
}
