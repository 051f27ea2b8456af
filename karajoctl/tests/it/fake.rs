//! A stand-in karajod speaking the API of SPEC 7 over a Unix socket and a
//! loopback port, with the environment of `testdata/golden/environment.json`.
//! Tests drive runs by hand (`start_run`, `line`, `finish`) so `logs -f` can
//! be checked line by line, and read back every admin call the CLI made.
//!
//! It lets the real karajoctl binary be tested end to end before the real
//! engine lands; `daemon.rs` runs the same commands against real karajod.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, channel::Channel};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

pub const SECRET: &str = "fake-secret";

/// One admin call as the fake received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub path: String,
    pub id: String,
    pub signed: bool,
    pub over_socket: bool,
}

#[derive(Default)]
struct State {
    env: Value,
    /// (id, counter) -> (lines, final status)
    runs: HashMap<(String, u64), (Vec<String>, Option<String>)>,
    calls: Vec<Call>,
    /// Like a daemon with users: reads over TCP need a signature.
    users: bool,
}

type Shared = Arc<(Mutex<State>, tokio::sync::watch::Sender<u64>)>;

/// A running fake; the server thread ends with the test process.
pub struct Fake {
    /// Holds the socket; removed with the fake.
    _dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub url: String,
    shared: Shared,
}

impl Fake {
    pub fn start() -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("karajod.sock");
        let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/golden/environment.json");
        let env: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        let state = State { env, ..State::default() };
        let shared: Shared = Arc::new((Mutex::new(state), tokio::sync::watch::channel(0).0));
        let (tx, rx) = std::sync::mpsc::channel();
        let (s2, sock2) = (shared.clone(), socket.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(serve(s2, sock2, tx));
        });
        let addr = rx.recv().unwrap();
        Fake { _dir: dir, socket, url: format!("http://{addr}"), shared }
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.shared.0.lock().unwrap());
        self.shared.1.send_modify(|v| *v += 1);
        r
    }

    /// Makes the fake behave like a daemon whose user.conf has users.
    pub fn require_signed_reads(&self) {
        self.with(|s| s.users = true);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.with(|s| s.calls.clone())
    }

    /// Starts run N+1 of job `id`; returns its counter.
    pub fn start_run(&self, id: &str) -> u64 {
        self.with(|s| {
            let job = find_any(&mut s.env, id);
            let logs = job["logs"].as_array_mut().unwrap();
            let counter = logs.iter().filter_map(|l| l["counter"].as_u64()).max().unwrap_or(0) + 1;
            logs.push(
                json!({"job_id": id, "name": format!("{id}.{counter}"), "status": "running", "counter": counter}),
            );
            job["status"] = json!("running");
            s.runs.insert((id.to_string(), counter), (Vec::new(), None));
            counter
        })
    }

    pub fn line(&self, id: &str, counter: u64, text: &str) {
        self.with(|s| s.runs.get_mut(&(id.to_string(), counter)).unwrap().0.push(text.to_string()));
    }

    pub fn finish(&self, id: &str, counter: u64, status: &str) {
        self.with(|s| {
            s.runs.get_mut(&(id.to_string(), counter)).unwrap().1 = Some(status.to_string());
            let job = find_any(&mut s.env, id);
            job["status"] = json!(status);
            for l in job["logs"].as_array_mut().unwrap() {
                if l["counter"] == counter {
                    l["status"] = json!(status);
                }
            }
        })
    }
}

fn find_any<'a>(env: &'a mut Value, id: &str) -> &'a mut Value {
    if find_mut(env, "jobs", id).is_some() {
        return find_mut(env, "jobs", id).unwrap();
    }
    find_mut(env, "http_jobs", id).expect("a job or http job of the fixture")
}

fn find_mut<'a>(env: &'a mut Value, map: &str, id: &str) -> Option<&'a mut Value> {
    env[map].as_object_mut()?.values_mut().find(|j| j["id"] == id)
}

async fn serve(shared: Shared, socket: PathBuf, ready: std::sync::mpsc::Sender<String>) {
    let unix = tokio::net::UnixListener::bind(&socket).unwrap();
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ready.send(tcp.local_addr().unwrap().to_string()).unwrap();
    loop {
        let (io, over_socket) = tokio::select! {
            Ok((s, _)) = unix.accept() => (Io::Unix(s), true),
            Ok((s, _)) = tcp.accept() => (Io::Tcp(s), false),
        };
        let shared = shared.clone();
        let svc = hyper::service::service_fn(move |req| handle(shared.clone(), req, over_socket));
        tokio::spawn(async move {
            let _ = match io {
                Io::Unix(s) => hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(s), svc).await,
                Io::Tcp(s) => hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(s), svc).await,
            };
        });
    }
}

enum Io {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
}

type Body = BoxBody<Bytes, Infallible>;

fn reply(code: u16, name: Option<&str>, message: &str, data: Option<Value>) -> Response<Body> {
    let mut v = json!({"code": code, "message": message});
    if let Some(n) = name {
        v["name"] = json!(n);
    }
    if let Some(d) = data {
        v["data"] = d;
    }
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(v.to_string())).boxed())
        .unwrap()
}

fn param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')).map(str::to_string)
}

async fn handle(shared: Shared, req: Request<Incoming>, over_socket: bool) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().strip_prefix("/karajo/api").unwrap_or("").to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let sign = req.headers().get("x-karajo-sign").and_then(|v| v.to_str().ok()).map(str::to_string);
    let post = req.method() == hyper::Method::POST;
    let body = req.into_body().collect().await.unwrap().to_bytes();
    if path.ends_with("/log/stream") {
        return Ok(stream(shared, &path, &query));
    }
    let mut st = shared.0.lock().unwrap();
    let resp = if post {
        let signed_over = if path.starts_with("/job_exec") { body.to_vec() } else { query.clone().into_bytes() };
        let signed = sign.is_some_and(|s| proto::sign::verify_hmac_sha256(SECRET.as_bytes(), &signed_over, &s));
        let params = String::from_utf8(signed_over).unwrap();
        let id = param(&params, "id").unwrap_or_default();
        st.calls.push(Call { path: path.clone(), id: id.clone(), signed, over_socket });
        if !over_socket && !signed {
            reply(401, None, "empty or invalid signature", None)
        } else {
            act(&mut st, &path, &id)
        }
    } else {
        let valid = sign.as_ref().map(|s| proto::sign::verify_hmac_sha256(SECRET.as_bytes(), query.as_bytes(), s));
        match (over_socket, valid) {
            (false, Some(false)) => reply(401, None, "empty or invalid signature", None),
            (false, None) if st.users => reply(401, Some("ERR_AUTH_REQUIRED"), "authentication required", None),
            _ => read(&st, &path, &query),
        }
    };
    drop(st);
    shared.1.send_modify(|v| *v += 1);
    Ok(resp)
}

fn lookup<'a>(st: &'a State, path: &str, query: &str) -> Result<(&'a Value, String), Box<Response<Body>>> {
    let id = param(query, "id").unwrap_or_default().to_ascii_lowercase();
    let (map, err) = if path.starts_with("/job_http") {
        ("http_jobs", reply(400, Some("ERR_INVALID_JOB_ID"), &format!("invalid or empty job id: {id}"), None))
    } else {
        ("jobs", reply(404, Some("ERR_JOB_NOT_FOUND"), &format!("job not found: {id}"), None))
    };
    st.env[map].as_object().unwrap().values().find(|j| j["id"] == id.as_str()).map(|j| (j, id)).ok_or(Box::new(err))
}

fn read(st: &State, path: &str, query: &str) -> Response<Body> {
    if path == "/environment" {
        return reply(200, None, "OK", Some(st.env.clone()));
    }
    let (job, id) = match lookup(st, path, query) {
        Ok(j) => j,
        Err(resp) => return *resp,
    };
    if !path.ends_with("/log") {
        return reply(200, None, "OK", Some(job.clone()));
    }
    let counter: u64 = param(query, "counter").and_then(|c| c.parse().ok()).unwrap_or(0);
    match st.runs.get(&(id.clone(), counter)) {
        Some((lines, status)) => {
            let content: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let log = proto::JobLogContent {
                job_id: proto::JobId::from_name(&id),
                name: format!("{id}.{counter}"),
                status: proto::JobStatus::parse(status.as_deref().unwrap_or("running")).unwrap(),
                counter,
                content: content.into_bytes(),
            };
            reply(200, None, "OK", Some(serde_json::to_value(log).unwrap()))
        }
        None => reply(404, Some("ERR_LOG_NOT_FOUND"), &format!("log #{counter} not found"), None),
    }
}

fn act(st: &mut State, path: &str, id: &str) -> Response<Body> {
    let id = &id.to_ascii_lowercase();
    let map = if path.starts_with("/job_http") { "http_jobs" } else { "jobs" };
    let Some(job) = find_mut(&mut st.env, map, id) else {
        return reply(404, Some("ERR_JOB_NOT_FOUND"), &format!("job not found: {id}"), None);
    };
    let status = job["status"].as_str().unwrap_or("").to_string();
    match path.rsplit('/').next().unwrap() {
        "pause" => job["status"] = json!("paused"),
        "resume" => job["status"] = json!("success"),
        "run" if status == "paused" => {
            return reply(412, Some("ERR_JOB_PAUSED"), "job is paused", None);
        }
        "run" if status == "running" => {
            return reply(429, Some("ERR_JOB_ALREADY_RUN"), "job already run", None);
        }
        "cancel" if status != "running" => {
            return reply(200, None, "job is not running", Some(job.clone()));
        }
        "cancel" => job["status"] = json!("canceled"),
        _ => {}
    }
    reply(200, None, "OK", Some(job.clone()))
}

/// SSE of one run: its lines so far, live ones, then `event: end`.
fn stream(shared: Shared, path: &str, query: &str) -> Response<Body> {
    let id = param(query, "id").unwrap_or_default();
    let counter: Option<u64> = param(query, "counter").and_then(|c| c.parse().ok());
    let st = shared.0.lock().unwrap();
    let counter = counter.or_else(|| st.runs.keys().filter(|(i, _)| *i == id).map(|(_, c)| *c).max());
    let Some(counter) = counter.filter(|c| st.runs.contains_key(&(id.clone(), *c))) else {
        let _ = path;
        return reply(404, Some("ERR_LOG_NOT_FOUND"), "log not found", None);
    };
    drop(st);
    let (mut tx, body) = Channel::<Bytes, Infallible>::new(16);
    let mut changes = shared.1.subscribe();
    tokio::spawn(async move {
        let mut sent = 0;
        loop {
            changes.borrow_and_update();
            let (lines, end) = {
                let st = shared.0.lock().unwrap();
                let (lines, status) = &st.runs[&(id.clone(), counter)];
                (lines[sent..].to_vec(), status.clone())
            };
            sent += lines.len();
            for l in lines {
                if tx.send_data(Bytes::from(format!("data: {l}\n\n"))).await.is_err() {
                    return;
                }
            }
            if let Some(status) = end {
                let ev = format!("event: end\ndata: {}\n\n", json!({"counter": counter, "status": status}));
                let _ = tx.send_data(Bytes::from(ev)).await;
                return;
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    });
    Response::builder().header("content-type", "text/event-stream").body(body.boxed()).unwrap()
}
