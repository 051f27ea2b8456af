//! Live run logs as Server-Sent Events (`/job_exec/log/stream`,
//! `/job_http/log/stream`): one `data:` event per log line, the lines
//! written so far first, then live ones, and finally `event: end` with
//! `{"counter": N, "status": "..."}`.
//!
//! Invariants: the log is read from its file in bounded chunks, never held
//! whole; a line longer than [`MAX_LINE_BYTES`] is sent in pieces; the
//! stream ends (without `end`) when the daemon shuts down. At most
//! [`MAX_STREAMS_PER_CLIENT`] streams are open per client address (or
//! socket uid) and [`MAX_STREAMS`] in all: each holds a connection and a
//! file, and unbounded ones once exhausted the daemon's descriptors. A
//! stream's slot is taken before its log is opened and given back when the
//! stream is dropped: when it ended, or when a write finds the client gone
//! (the next line, or the keep-alive comment within [`KEEP_ALIVE`]).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::Stream;
use proto::{JobKind, JobStatus};
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;
use warp::Reply;
use warp::sse::Event;

use crate::engine::{LogFollow, RunState};
use crate::http::State;
use crate::http::api::log_job;
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::input::Params;

/// Longest line sent as one event.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
const READ_CHUNK_BYTES: usize = 64 * 1024;
/// How often an idle stream gets a comment line: proxies keep it open, and
/// a write is how a gone client is noticed.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Open streams allowed per client address (TCP) or uid (control socket).
pub const MAX_STREAMS_PER_CLIENT: usize = 16;
/// Open streams allowed in all.
pub const MAX_STREAMS: usize = 256;

/// Opens the stream of the run `counter` (default: the latest) for `caller`.
pub fn stream(
    state: &Arc<State>,
    caller: Caller,
    kind: JobKind,
    q: &Params,
) -> Result<warp::reply::Response, ApiError> {
    let id = log_job(&*state.backend, kind, q)?;
    let counter = q.counter()?;
    let slot = state.streams.take(caller.rate_key())?;
    let follow = state.backend.follow_log(kind, &id, counter).map_err(|e| match e {
        crate::engine::EngineError::JobNotFound(_) => ApiError::LogJobNotFound(id.to_string()),
        e => ApiError::from_engine(kind, e),
    })?;
    let events = log_events(follow, state.shutdown.clone());
    // The stream owns the slot: it is given back when hyper drops the body.
    let events = futures_util::StreamExt::map(events, move |ev| {
        let _owned = &slot;
        ev
    });
    Ok(warp::sse::reply(warp::sse::keep_alive().interval(KEEP_ALIVE).stream(events)).into_response())
}

/// The open streams, in all and per client.
#[derive(Debug, Default)]
pub struct StreamSlots {
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_client: HashMap<String, usize>,
}

/// One open stream's place; given back on drop.
#[derive(Debug)]
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    client: String,
}

impl StreamSlots {
    /// A slot for one more stream of `client`, or 429 when it or the daemon
    /// has as many open as allowed.
    pub fn take(self: &Arc<Self>, client: String) -> Result<StreamSlot, ApiError> {
        let mut open = self.open.lock().expect("stream slots lock");
        let mine = open.by_client.get(&client).copied().unwrap_or(0);
        if open.total >= MAX_STREAMS || mine >= MAX_STREAMS_PER_CLIENT {
            return Err(ApiError::TooManyStreams);
        }
        open.total += 1;
        open.by_client.insert(client.clone(), mine + 1);
        Ok(StreamSlot { slots: self.clone(), client })
    }

    /// How many streams are open.
    pub fn open(&self) -> usize {
        self.open.lock().expect("stream slots lock").total
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().expect("stream slots lock");
        open.total -= 1;
        if let Some(n) = open.by_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

struct Follower {
    file: tokio::fs::File,
    counter: u64,
    progress: tokio::sync::watch::Receiver<(u64, RunState)>,
    partial: Vec<u8>,
    queue: VecDeque<Event>,
    done: bool,
    sender_gone: Option<JobStatus>,
    shutdown: CancellationToken,
}

/// The events of one followed run.
pub fn log_events(
    follow: LogFollow,
    shutdown: CancellationToken,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let f = Follower {
        file: tokio::fs::File::from_std(follow.file),
        counter: follow.counter,
        progress: follow.progress,
        partial: Vec::new(),
        queue: VecDeque::new(),
        done: false,
        sender_gone: None,
        shutdown,
    };
    futures_util::stream::unfold(f, |mut f| async move {
        let ev = f.next_event().await?;
        Some((Ok(ev), f))
    })
}

impl Follower {
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Some(ev);
            }
            if self.done {
                return None;
            }
            // Mark the state seen before reading, so a write after our
            // read wakes the wait below.
            let state = match self.sender_gone {
                Some(status) => RunState::Ended(status),
                None => self.progress.borrow_and_update().1,
            };
            match self.read_to_eof().await {
                Err(_) => {
                    self.finish(JobStatus::Failed);
                    continue;
                }
                // More to read once the queue drains.
                Ok(false) => continue,
                Ok(true) => {}
            }
            if let RunState::Ended(status) = state {
                self.finish(status);
                continue;
            }
            if !self.queue.is_empty() {
                // Send what we have before waiting for more.
                continue;
            }
            tokio::select! {
                changed = self.progress.changed() => {
                    if changed.is_err() {
                        // The run's sender is gone: read what is left, then end.
                        self.sender_gone = Some(match self.progress.borrow().1 {
                            RunState::Ended(s) => s,
                            RunState::Running => JobStatus::Failed,
                        });
                    }
                }
                _ = self.shutdown.cancelled() => self.done = true,
            }
        }
    }

    /// Reads until end of file (`true`) or until enough events are queued
    /// that the client should drain them first (`false`).
    async fn read_to_eof(&mut self) -> std::io::Result<bool> {
        let mut buf = vec![0u8; READ_CHUNK_BYTES];
        loop {
            let n = self.file.read(&mut buf).await?;
            if n == 0 {
                return Ok(true);
            }
            self.push_bytes(&buf[..n]);
            if self.queue.len() > 256 {
                return Ok(false);
            }
        }
    }

    fn push_bytes(&mut self, mut bytes: &[u8]) {
        while let Some(pos) = bytes.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&bytes[..pos]);
            self.flush_line();
            bytes = &bytes[pos + 1..];
        }
        self.partial.extend_from_slice(bytes);
        while self.partial.len() >= MAX_LINE_BYTES {
            let rest = self.partial.split_off(MAX_LINE_BYTES);
            self.flush_line();
            self.partial = rest;
        }
    }

    fn flush_line(&mut self) {
        let line = std::mem::take(&mut self.partial);
        let text = String::from_utf8_lossy(&line);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        self.queue.push_back(Event::default().data(text.replace('\r', "")));
    }

    fn finish(&mut self, status: JobStatus) {
        if !self.partial.is_empty() {
            self.flush_line();
        }
        let data = serde_json::json!({"counter": self.counter, "status": status.as_str()});
        self.queue.push_back(Event::default().event("end").data(data.to_string()));
        self.done = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_per_client_and_in_all_and_given_back() {
        let slots = Arc::new(StreamSlots::default());
        let mine: Vec<_> = (0..MAX_STREAMS_PER_CLIENT).map(|_| slots.take("a".into()).unwrap()).collect();
        assert_eq!(slots.take("a".into()).unwrap_err(), ApiError::TooManyStreams);
        drop(mine);
        assert_eq!(slots.open(), 0);
        let all: Vec<_> = (0..MAX_STREAMS).map(|i| slots.take(format!("c{}", i % 100)).unwrap()).collect();
        assert_eq!(slots.take("new".into()).unwrap_err(), ApiError::TooManyStreams);
        drop(all);
        assert!(slots.take("new".into()).is_ok());
        assert!(slots.open.lock().unwrap().by_client.is_empty(), "no entry is left behind");
    }
}
