//! Requests through the real warp router over a real engine (a temp-dir
//! config with webhook jobs of each auth kind, a paused one, a plain job and
//! an HTTP job). The input picks among the known paths, parameters and
//! headers, and sometimes signs the request correctly so it gets past the
//! signature checks. Checks: no panic; every status is one SPEC 7 allows;
//! every API answer is the JSON wrapper with `code` = status and an `ERR_*`
//! name on errors; nothing outside the public dir is ever served; no
//! response shows a secret; the engine stays alive.
#![no_main]

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arbitrary::Arbitrary;
use ed25519_dalek::{Signer, SigningKey};
use karajod::engine::{Engine, EngineOptions};
use karajod::http::{State, StateOptions, router};
use libfuzzer_sys::fuzz_target;
use proto::{JobId, JobKind};
use warp::filters::BoxedFilter;
use warp::http::{HeaderName, HeaderValue, Method, Uri};

const SECRET: &str = "fuzz-global-secret-5b1e";
const GH_SECRET: &str = "fuzz-github-secret-90c2";
const HOOK_SECRET: &str = "fuzz-hook-secret-d41f";
/// In a file next to (not inside) the public dir, reachable by a symlink in it.
const CANARY: &str = "CANARY-outside-public-3e8d1";
const PUBLIC: [(&str, &str); 3] =
    [("index.html", "PUBLIC-INDEX"), ("a.txt", "PUBLIC-A"), ("sub/index.html", "PUBLIC-SUB")];
/// Where the test signs SourceHut payloads; the router trusts its public half.
const SRHT_KEY: [u8; 32] = [7; 32];

struct World {
    rt: tokio::runtime::Runtime,
    router: BoxedFilter<(warp::reply::Response,)>,
    engine: Engine,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let base = scratch_base();
        let dir = tempfile::Builder::new().prefix("karajo-fuzz-request").tempdir_in(base).expect("a temp dir_base");
        let root = dir.path().canonicalize().expect("canonical temp dir");
        let public = root.join("srv/public");
        std::fs::create_dir_all(public.join("sub")).expect("create the public dir");
        for (name, content) in PUBLIC {
            std::fs::write(public.join(name), content).expect("write a public file");
        }
        std::fs::write(root.join("srv/outside.txt"), CANARY).expect("write the canary");
        std::os::unix::fs::symlink(root.join("srv/outside.txt"), public.join("link-out.txt")).expect("symlink out");
        std::os::unix::fs::symlink(root.join("srv"), public.join("dir-out")).expect("symlink dir out");
        let conf = root.join("karajo.conf");
        std::fs::write(&conf, config_text(&root, &public)).expect("write the config");
        let loaded = karajod::config::load(&conf).unwrap_or_else(|e| panic!("the fuzz config {}: {e}", conf.display()));
        // One worker: triggered runs (`true`, or an HTTP job against port 9)
        // go on in the background between requests, as in the daemon.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let _enter = rt.enter();
        let engine = Engine::new(loaded.config, EngineOptions::new("http://127.0.0.1:9")).expect("the engine");
        engine.pause(JobKind::Job, &JobId::from_name("paused hook")).expect("pause a job");
        let key = SigningKey::from_bytes(&SRHT_KEY).verifying_key();
        let opts = StateOptions { sourcehut_key: key, ..Default::default() };
        let state = State::new(Arc::new(engine.clone()), opts);
        let router = router(state);
        World { rt, router, engine, _dir: dir }
    })
}

fn config_text(root: &Path, public: &Path) -> String {
    format!(
        r#"[karajo]
name = fuzz
listen_address = 127.0.0.1:9
dir_base = {root}
dir_public = {public}
secret = {SECRET}
max_job_running = 1
replay_window = 5m

[job "hmac hook"]
path = /hmac
header_sign = X-Hook-Sign
secret = {HOOK_SECRET}
log_retention = 2
command = true

[job "github hook"]
path = /gh
auth_kind = github
secret = {GH_SECRET}
log_retention = 2
command = true

[job "sourcehut hook"]
path = /srht/x
auth_kind = sourcehut
log_retention = 2
command = true

[job "paused hook"]
path = /paused
log_retention = 2
command = true

[job "plain"]
log_retention = 2
command = true

[job.http "ping"]
http_url = /karajo/health
http_timeout = 1s
log_retention = 2
"#,
        root = root.display(),
        public = public.display()
    )
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Kind {
    Exec,
    Http,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Action {
    Pause,
    Resume,
    Cancel,
    Run,
}

#[derive(Arbitrary, Debug)]
enum Seg {
    Name(String),
    DotDot,
    EncodedDotDot,
    Dot,
    EncodedSlash,
    Backslash,
    Nul,
    Empty,
    Known(u8),
}

#[derive(Arbitrary, Debug)]
enum Target {
    Webhook(u8, Vec<Seg>),
    Admin(Kind, Action),
    Job(Kind),
    Log(Kind),
    Stream(Kind),
    Environment,
    Login,
    Logout,
    Session,
    Health,
    Metrics,
    App(Vec<Seg>),
    KarajoIndex,
    Public(Vec<Seg>),
    /// `host:port`, the authority form of CONNECT (hyper hands it over
    /// with any method).
    Authority(String, u16),
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Key {
    Id,
    Counter,
    Epoch,
    Name,
    Password,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Value {
    KnownId(u8),
    Number(u64),
    Negative(i64),
    Now,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
enum Params {
    Pairs(Vec<(Key, Value)>),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Sign {
    None,
    /// `X-Karajo-Sign` with the global secret over the body (job_exec) or query (job_http).
    Global,
    /// The webhook job's own scheme, correct.
    Webhook,
    GithubSha1,
    Garbage(String),
}

#[derive(Arbitrary, Debug)]
enum HeaderPick {
    Sign,
    HookSign,
    Hub256,
    Hub1,
    PayloadSig,
    PayloadNonce,
    Csrf,
    Cookie,
    Authorization,
    ContentType,
    Range,
    IfModifiedSince,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Req {
    method: u8,
    target: Target,
    query: Option<Params>,
    body: Params,
    headers: Vec<(HeaderPick, String)>,
    sign: Sign,
}

const RESET: [(JobKind, &str); 6] = [
    (JobKind::Job, "hmac hook"),
    (JobKind::Job, "github hook"),
    (JobKind::Job, "sourcehut hook"),
    (JobKind::Job, "paused hook"),
    (JobKind::Job, "plain"),
    (JobKind::JobHttp, "ping"),
];
const IDS: [&str; 8] = ["hmac_hook", "github_hook", "sourcehut_hook", "paused_hook", "plain", "ping", "PLAIN", "nope"];
const HOOKS: [&str; 5] = ["hmac", "gh", "srht/x", "paused", "unknown"];
const APP: [&str; 4] = ["index.html", "job.html", "x/../../karajo.conf", ""];
const FILES: [&str; 6] = ["index.html", "a.txt", "sub", "link-out.txt", "dir-out", "outside.txt"];

fuzz_target!(|req: Req| {
    let w = world();
    let Some((method, path, headers, body)) = build(&req) else { return };
    // Each input starts from the same pause flags, so it replays alike and
    // the fuzzer cannot pause every webhook for good.
    for (kind, id) in RESET {
        let id = JobId::from_name(id);
        let _ = if id.as_str() == "paused_hook" { w.engine.pause(kind, &id) } else { w.engine.resume(kind, &id) };
    }
    let mut r = warp::test::request().method(method.as_str()).path(&path).body(body.clone());
    for (k, v) in &headers {
        r = r.header(k.clone(), v.clone());
    }
    let run = async { tokio::time::timeout(Duration::from_secs(20), r.reply(&w.router)).await };
    let resp = w.rt.block_on(run).unwrap_or_else(|_| panic!("{method} {path} took over 20 s"));
    if std::env::var_os("KARAJO_FUZZ_DEBUG").is_some() {
        eprintln!("{method} {path} -> {}", resp.status().as_u16());
    }
    check(&method, &path, &headers, &body, resp.status().as_u16(), resp.body());
    assert!(w.engine.is_alive(), "the engine died after {method} {path}");
});

/// Method, path with query, headers, body: a request warp::test accepts.
type Built = (Method, String, Vec<(HeaderName, HeaderValue)>, Vec<u8>);

fn build(req: &Req) -> Option<Built> {
    const METHODS: [&str; 10] =
        ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW", "CONNECT", "TRACE"];
    let method = Method::from_bytes(METHODS[usize::from(req.method) % METHODS.len()].as_bytes()).ok()?;
    let (path, kind) = target_path(&req.target);
    let query = String::from_utf8(req.query.as_ref().map(encode).unwrap_or_default()).ok()?;
    let body = encode(&req.body);
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    let mut add = |k: &str, v: &str| {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            headers.push((k, v));
        }
    };
    for (h, v) in &req.headers {
        let name = match h {
            HeaderPick::Sign => "X-Karajo-Sign",
            HeaderPick::HookSign => "X-Hook-Sign",
            HeaderPick::Hub256 => "X-Hub-Signature-256",
            HeaderPick::Hub1 => "X-Hub-Signature",
            HeaderPick::PayloadSig => "X-Payload-Signature",
            HeaderPick::PayloadNonce => "X-Payload-Nonce",
            HeaderPick::Csrf => "X-Karajo-Csrf",
            HeaderPick::Cookie => "Cookie",
            HeaderPick::Authorization => "Authorization",
            HeaderPick::ContentType => "Content-Type",
            HeaderPick::Range => "Range",
            HeaderPick::IfModifiedSince => "If-Modified-Since",
            HeaderPick::Raw(s) => s.as_str(),
        };
        add(name, v);
    }
    match &req.sign {
        Sign::None => {}
        Sign::Global => {
            let over = if matches!(kind, Some(Kind::Http)) { query.as_bytes() } else { &body[..] };
            add("X-Karajo-Sign", &proto::sign::hmac_sha256_hex(SECRET.as_bytes(), over));
        }
        Sign::Webhook => {
            add("X-Hook-Sign", &proto::sign::hmac_sha256_hex(HOOK_SECRET.as_bytes(), &body));
            let gh = proto::sign::hmac_sha256_hex(GH_SECRET.as_bytes(), &body);
            add("X-Hub-Signature-256", &format!("sha256={gh}"));
            let nonce = "fuzz-nonce";
            let mut signed = body.clone();
            signed.extend_from_slice(nonce.as_bytes());
            let sig = SigningKey::from_bytes(&SRHT_KEY).sign(&signed);
            add("X-Payload-Signature", &base64(&sig.to_bytes()));
            add("X-Payload-Nonce", nonce);
        }
        Sign::GithubSha1 => {
            let gh = proto::sign::hmac_sha1_hex(GH_SECRET.as_bytes(), &body);
            add("X-Hub-Signature", &format!("sha1={gh}"));
        }
        Sign::Garbage(s) => add("X-Karajo-Sign", s),
    }
    let full = if query.is_empty() { path } else { format!("{path}?{query}") };
    // warp::test panics on what no HTTP parser would hand the router;
    // hyper does hand over the authority form (no path at all).
    let uri: Uri = full.parse().ok()?;
    let authority_form = uri.path_and_query().is_none();
    if !authority_form && (uri.scheme().is_some() || uri.authority().is_some() || !full.starts_with('/')) {
        return None;
    }
    Some((method, full, headers, body))
}

fn target_path(t: &Target) -> (String, Option<Kind>) {
    let seg = |k: Kind| match k {
        Kind::Exec => "job_exec",
        Kind::Http => "job_http",
    };
    let api = "/karajo/api";
    match t {
        Target::Webhook(i, rest) => {
            let hook = HOOKS[usize::from(*i) % HOOKS.len()];
            (format!("{api}/job_exec/run/{hook}{}", segments(rest, &HOOKS)), Some(Kind::Exec))
        }
        Target::Admin(k, a) => {
            let a = match a {
                Action::Pause => "pause",
                Action::Resume => "resume",
                Action::Cancel => "cancel",
                Action::Run => "run",
            };
            (format!("{api}/{}/{a}", seg(*k)), Some(*k))
        }
        Target::Job(k) => (format!("{api}/{}", seg(*k)), Some(*k)),
        Target::Log(k) => (format!("{api}/{}/log", seg(*k)), Some(*k)),
        Target::Stream(k) => (format!("{api}/{}/log/stream", seg(*k)), Some(*k)),
        Target::Environment => (format!("{api}/environment"), None),
        Target::Login => (format!("{api}/auth/login"), None),
        Target::Logout => (format!("{api}/auth/logout"), None),
        Target::Session => (format!("{api}/auth/session"), None),
        Target::Health => ("/karajo/health".into(), None),
        Target::Metrics => ("/karajo/metrics".into(), None),
        Target::App(rest) => (format!("/karajo/app{}", segments(rest, &APP)), None),
        Target::KarajoIndex => ("/karajo/".into(), None),
        Target::Public(rest) => (segments(rest, &FILES), None),
        Target::Authority(host, port) => (format!("{host}:{port}"), None),
        Target::Raw(s) => (s.clone(), None),
    }
}

fn segments(segs: &[Seg], known: &[&str]) -> String {
    let mut out = String::new();
    for s in segs {
        out.push('/');
        match s {
            Seg::Name(n) => out.push_str(n),
            Seg::DotDot => out.push_str(".."),
            Seg::EncodedDotDot => out.push_str("%2e%2E"),
            Seg::Dot => out.push('.'),
            Seg::EncodedSlash => out.push_str("%2f"),
            Seg::Backslash => out.push_str("%5c"),
            Seg::Nul => out.push_str("%00"),
            Seg::Empty => {}
            Seg::Known(i) => out.push_str(known[usize::from(*i) % known.len()]),
        }
    }
    if out.is_empty() { "/".into() } else { out }
}

fn encode(p: &Params) -> Vec<u8> {
    match p {
        Params::Raw(b) => b.clone(),
        Params::Pairs(pairs) => {
            let now = chrono::Utc::now().timestamp();
            let mut s = String::new();
            for (k, v) in pairs {
                if !s.is_empty() {
                    s.push('&');
                }
                let k = match k {
                    Key::Id => "id",
                    Key::Counter => "counter",
                    Key::Epoch => "_karajo_epoch",
                    Key::Name => "name",
                    Key::Password => "password",
                    Key::Raw(r) => r.as_str(),
                };
                let v = match v {
                    Value::KnownId(i) => IDS[usize::from(*i) % IDS.len()].to_string(),
                    Value::Number(n) => n.to_string(),
                    Value::Negative(n) => n.to_string(),
                    Value::Now => now.to_string(),
                    Value::Raw(r) => r.clone(),
                };
                s.push_str(&format!("{}={}", urlencode(k), urlencode(&v)));
            }
            s.into_bytes()
        }
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn check(
    method: &Method,
    path: &str,
    headers: &[(HeaderName, HeaderValue)],
    req_body: &[u8],
    status: u16,
    body: &[u8],
) {
    let what = format!("{method} {path} -> {status}");
    let in_request = |needle: &str| {
        path.contains(needle)
            || contains(req_body, needle.as_bytes())
            || headers.iter().any(|(_, v)| contains(v.as_bytes(), needle.as_bytes()))
    };
    for secret in [SECRET, GH_SECRET, HOOK_SECRET, CANARY] {
        assert!(in_request(secret) || !contains(body, secret.as_bytes()), "{what} shows {secret:?}");
    }
    let route = path.split('?').next().unwrap_or_default();
    let under_karajo = route == "/karajo" || route.starts_with("/karajo/");
    if !under_karajo && matches!(status, 200 | 206) {
        let served: Vec<&str> = PUBLIC.iter().map(|(_, c)| *c).collect();
        let ok = body.is_empty() || served.iter().any(|c| contains(c.as_bytes(), body));
        assert!(ok, "{what} served something not in the public dir: {:?}", String::from_utf8_lossy(body));
        return;
    }
    // What warp's file server answers to Range and conditional requests.
    if !under_karajo && matches!(status, 304 | 412 | 416) {
        return;
    }
    let allowed: &[u16] = &[200, 303, 304, 400, 401, 403, 404, 405, 409, 412, 413, 429];
    assert!(
        allowed.contains(&status),
        "{what}: status not allowed by SPEC 7; body {:?}",
        String::from_utf8_lossy(body)
    );
    let json_expected = route.starts_with("/karajo/api/") || status >= 400;
    if !json_expected || method == Method::HEAD {
        return;
    }
    if route.contains("/log/stream") && status == 200 {
        return; // Server-Sent Events
    }
    let v: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{what}: body is not JSON ({e}): {:?}", String::from_utf8_lossy(body)));
    assert_eq!(v["code"].as_u64(), Some(u64::from(status)), "{what}: code differs from the status: {v}");
    assert!(v["message"].is_string(), "{what}: no message: {v}");
    if status >= 400 {
        match v["name"].as_str() {
            Some(name) => assert!(name.starts_with("ERR_"), "{what}: error name {name:?}"),
            None => assert!(
                status == 401 && v["message"] == "empty or invalid signature",
                "{what}: an error without an ERR_ name: {v}"
            ),
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// `$KARAJO_FUZZ_DIR` (fuzz/run.sh points it at a dir it removes at the end:
/// statics are never dropped, so the temp dir outlives the process), else
/// /dev/shm (tmpfs), else the temp dir.
fn scratch_base() -> std::path::PathBuf {
    if let Some(d) = std::env::var_os("KARAJO_FUZZ_DIR") {
        return d.into();
    }
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() }
}
