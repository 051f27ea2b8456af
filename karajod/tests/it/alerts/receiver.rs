//! A real HTTP receiver on loopback for the webhook, ping and check tests:
//! it records every request (method, path, headers, body) and answers the
//! statuses it is told to, in order (then 200), or hangs without answering.
//! Plain `std::net`, one thread per connection, keep-alive understood.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Names lowered.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct Script {
    got: Vec<Received>,
    answers: VecDeque<u16>,
    hang: bool,
}

/// The receiver; it stops accepting when dropped (hung connections end
/// with the test process's threads).
pub struct Receiver {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl Receiver {
    pub fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let script: Arc<Mutex<Script>> = Arc::default();
        let s = script.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let s = s.clone();
                std::thread::spawn(move || serve(conn, s));
            }
        });
        Receiver { url, script }
    }

    /// The next requests are answered with these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.script.lock().unwrap().answers.extend(statuses);
    }

    /// Every request from now on is recorded and never answered.
    pub fn hang(&self) {
        self.script.lock().unwrap().hang = true;
    }

    pub fn requests(&self) -> Vec<Received> {
        self.script.lock().unwrap().got.clone()
    }

    /// Waits until `n` requests arrived (deadline `limit`) and returns them all.
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        crate::harness::wait_for(limit, &format!("{n} request(s) at the receiver"), || self.requests().len() >= n);
        self.requests()
    }
}

fn serve(conn: TcpStream, script: Arc<Mutex<Script>>) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut out = conn;
    while let Some(req) = read_request(&mut reader) {
        let (status, hang) = {
            let mut s = script.lock().unwrap();
            s.got.push(req);
            let status = s.answers.pop_front().unwrap_or(200);
            (status, s.hang)
        };
        if hang {
            // Never answer; the client's timeout is what ends this.
            std::thread::sleep(Duration::from_secs(600));
            return;
        }
        let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok");
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':')?;
        headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let len: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Received { method, path, headers, body })
}
