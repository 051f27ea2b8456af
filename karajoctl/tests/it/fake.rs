//! A stand-in for karajod that answers what the real one never does: bodies
//! that are not the API's JSON, a success without `data`, `data` of the
//! wrong shape, an error page from a proxy, and an event stream cut off
//! before its `end`. Every other karajoctl test runs the real karajod
//! (`karajod.rs`); this one exists only because those answers cannot be
//! had from it.
//!
//! Each connection gets one canned answer, picked by the request path,
//! then `Connection: close`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};

/// A listening stand-in; its thread ends with the test process.
pub struct Fake {
    pub url: String,
}

impl Fake {
    pub fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || answer(conn));
            }
        });
        Fake { url }
    }
}

/// The status line, content type and body the stand-in sends for a path.
fn canned(path: &str) -> (&'static str, &'static str, &'static str) {
    let json = "application/json";
    match path {
        // `list` and `env`: not JSON at all.
        "/karajo/api/environment" => ("200 OK", "text/html", "<html>a captive portal</html>"),
        // `job show`: the wrapper without the promised data.
        "/karajo/api/job_exec" => ("200 OK", json, r#"{"code":200,"message":"OK"}"#),
        // `http show`: data, but not a JobHttp.
        "/karajo/api/job_http" => ("200 OK", json, r#"{"code":200,"message":"OK","data":{"id":5,"logs":"none"}}"#),
        // `logs`: a log whose content is not base64.
        "/karajo/api/job_exec/log" => (
            "200 OK",
            json,
            r#"{"code":200,"message":"OK","data":{"job_id":"x","name":"x.1","status":"success","counter":1,"content":"*not base64*"}}"#,
        ),
        // `logs -f`: one line, then the stream ends without `event: end`.
        "/karajo/api/job_exec/log/stream" => ("200 OK", "text/event-stream", "data: the only line\n\n"),
        // Admin calls: a proxy's error page instead of the API's error.
        _ => ("502 Bad Gateway", "text/html", "<html><h1>502 Bad Gateway</h1></html>"),
    }
}

fn answer(conn: TcpStream) {
    let mut reader = BufReader::new(conn);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut body_len = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            body_len = value.trim().parse().unwrap_or(0);
        }
    }
    let _ = reader.by_ref().take(body_len as u64).read_to_end(&mut Vec::new());
    let target = request_line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    // The `job_exec` lookup of `logs ID` must find the job before the log
    // is asked for: give it one run.
    let (status, content_type, body) = match path {
        "/karajo/api/job_exec" if target.contains("id=withlog") => (
            "200 OK",
            "application/json",
            concat!(
                r#"{"code":200,"message":"OK","data":{"id":"withlog","name":"withlog","description":"","#,
                r#""status":"success","schedule":"","interval":0,"last_run":"0001-01-01T00:00:00Z","#,
                r#""next_run":"0001-01-01T00:00:00Z","path":"","auth_kind":"hmac-sha256","header_sign":"","#,
                r#""commands":["true"],"log_retention":5,"notif_on_success":[],"notif_on_failed":[],"#,
                r#""logs":[{"job_id":"withlog","name":"withlog.1","status":"success","counter":1}]}}"#
            ),
        ),
        _ => canned(path),
    };
    let mut conn = reader.into_inner();
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes()).and_then(|_| conn.write_all(body.as_bytes()));
}
