//! The accept loops over real sockets (loopback TCP and a Unix socket) with
//! the fake engine: limits, gzip negotiation, malformed input, live SSE,
//! the trusted control socket and its removal at shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::control;
use crate::engine::RunState;
use crate::http::tests::fake::{Fake, config};
use crate::http::{State, StateOptions};
use crate::serve::Limits;

struct Served {
    addr: SocketAddr,
    sock: PathBuf,
    fake: Arc<Fake>,
    serving: super::Serving,
    _dir: tempfile::TempDir,
}

async fn serve(users: bool) -> Served {
    let hash = bcrypt::hash("pw", 4).unwrap();
    let users = if users { vec![("alice", hash.as_str())] } else { vec![] };
    let fake = Fake::new(config(users, None));
    let state = State::new(fake.clone(), StateOptions::default());
    let limits = Limits { header_read_timeout: Duration::from_millis(300), ..Limits::default() };
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("run/karajod.sock");
    let control = control::bind(&sock).unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let serving = super::start(state, crate::serve::Listener::Tcp(tcp), Some(control), limits);
    Served { addr, sock, fake, serving, _dir: dir }
}

/// Sends raw bytes, half-closes, reads the whole answer (5 s at most).
async fn raw(addr: SocketAddr, req: &[u8]) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(req).await;
    let _ = s.shutdown().await;
    read_all(&mut s).await
}

async fn read_all<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    out
}

fn status(resp: &[u8]) -> u16 {
    let text = String::from_utf8_lossy(resp);
    text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn get(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n").into_bytes()
}

#[tokio::test]
async fn gzip_only_when_accepted() {
    let s = serve(false).await;
    let plain = raw(s.addr, &get("/karajo/api/environment", "")).await;
    let text = String::from_utf8_lossy(&plain).to_ascii_lowercase();
    assert_eq!(status(&plain), 200);
    assert!(!text.contains("content-encoding"), "{text}");
    let gz = raw(s.addr, &get("/karajo/api/environment", "Accept-Encoding: gzip\r\n")).await;
    let head = String::from_utf8_lossy(&gz[..200.min(gz.len())]).to_ascii_lowercase();
    assert!(head.contains("content-encoding: gzip"), "{head}");
    let sse = raw(s.addr, &get("/karajo/api/job_exec/log/stream?id=nope", "Accept-Encoding: gzip\r\n")).await;
    assert_eq!(status(&sse), 404);
}

#[tokio::test]
async fn limits_on_bodies_headers_and_slow_clients() {
    let s = serve(false).await;
    let big = vec![b'a'; 2 * 1024 * 1024];
    let mut req =
        format!("POST /karajo/api/job_exec/run/alpha HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", big.len())
            .into_bytes();
    req.extend_from_slice(&big);
    let resp = raw(s.addr, &req).await;
    assert_eq!(status(&resp), 413);
    assert!(String::from_utf8_lossy(&resp).contains("ERR_BODY_TOO_LARGE"));
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    assert_eq!(status(&raw(s.addr, &get("/karajo/health", &many)).await), 431);
    let huge = format!("X-Big: {}\r\n", "v".repeat(100 * 1024));
    assert_eq!(status(&raw(s.addr, &get("/karajo/health", &huge)).await), 431);
    // A client that never finishes its request head is dropped.
    let mut slow = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /karajo/health HTTP/1.1\r\n").await.unwrap();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "the server closed the slow connection");
}

fn malformed(rng: &mut rand::rngs::StdRng) -> Vec<u8> {
    const PATHS: [&str; 10] = [
        "/karajo/api/job_exec",
        "/karajo/api/job_exec/log",
        "/karajo/api/job_exec/pause",
        "/karajo/api/job_http/run",
        "/karajo/api/job_exec/run/alpha",
        "/karajo/api/auth/login",
        "/karajo/api/job_exec/log/stream",
        "/karajo/metrics",
        "/karajo/app/x",
        "/../../etc/passwd",
    ];
    let junk = |rng: &mut rand::rngs::StdRng, n: usize| -> Vec<u8> {
        (0..rng.random_range(0..n)).map(|_| rng.random()).collect()
    };
    match rng.random_range(0..4) {
        0 => junk(rng, 300),
        1 => {
            let mut r = format!(
                "{} {}?",
                ["GET", "POST", "PUT", "DELETE", "XYZ"][rng.random_range(0..5)],
                PATHS[rng.random_range(0..10)]
            )
            .into_bytes();
            r.extend(junk(rng, 40).into_iter().filter(|b| !b.is_ascii_whitespace()));
            r.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
            r
        }
        2 => {
            let body = junk(rng, 200);
            let len = if rng.random_bool(0.5) { body.len().to_string() } else { format!("{}x", rng.random::<u16>()) };
            let mut r = format!("POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\nX-Karajo-Sign: {}\r\nCookie: karajo={}\r\n\r\n", PATHS[rng.random_range(0..10)], rng.random::<u64>(), rng.random::<u32>()).into_bytes();
            r.extend(body);
            r
        }
        _ => {
            let mut r = b"GET /karajo/api/job_exec/log?id=alpha&counter=".to_vec();
            r.extend(junk(rng, 30).into_iter().filter(|b| !b.is_ascii_whitespace()));
            r.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
            r
        }
    }
}

#[tokio::test]
async fn a_thousand_malformed_requests_do_not_hurt() {
    let s = serve(false).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    for _ in 0..1000 {
        let resp = raw(s.addr, &malformed(&mut rng)).await;
        let code = status(&resp);
        assert!(code == 0 || (400..500).contains(&code) || code == 200, "{}", String::from_utf8_lossy(&resp));
    }
    assert_eq!(status(&raw(s.addr, &get("/karajo/health", "")).await), 200);
}

#[tokio::test]
async fn sse_delivers_a_line_before_the_run_ends() {
    let s = serve(false).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alpha.3.running");
    std::fs::write(&path, "first line\n").unwrap();
    let (tx, rx) = tokio::sync::watch::channel((11u64, RunState::Running));
    *s.fake.live_log.lock().unwrap() = Some((path, rx));
    let mut conn = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    conn.write_all(&get("/karajo/api/job_exec/log/stream?id=alpha&counter=3", "")).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("data:first line") {
        let n = tokio::time::timeout(Duration::from_secs(5), conn.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "stream closed early");
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(!String::from_utf8_lossy(&seen).contains("event:end"));
    tx.send((11, RunState::Ended(proto::JobStatus::Failed))).unwrap();
    let rest = read_all(&mut conn).await;
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains("event:end") && rest.contains(r#"{"counter":3,"status":"failed"}"#), "{rest}");
}

#[tokio::test]
async fn the_control_socket_is_trusted_and_removed_at_shutdown() {
    let s = serve(true).await;
    let tcp = raw(s.addr, &get("/karajo/api/environment", "")).await;
    assert_eq!(status(&tcp), 401, "TCP needs a session when users exist");
    let mut u = tokio::net::UnixStream::connect(&s.sock).await.unwrap();
    u.write_all(b"POST /karajo/api/job_exec/pause HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 8\r\n\r\nid=alpha")
        .await
        .unwrap();
    let resp = read_all(&mut u).await;
    assert_eq!(status(&resp), 200, "{}", String::from_utf8_lossy(&resp));
    s.serving.stop().await;
    assert!(!s.sock.exists(), "socket removed at shutdown");
}
