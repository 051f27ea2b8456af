//! Live run logs as Server-Sent Events (`/job_exec/log/stream`,
//! `/job_http/log/stream`): one `data:` event per log line, the lines
//! written so far first, then live ones, and finally `event: end` with
//! `{"counter": N, "status": "..."}`.
//!
//! Invariants: the log is read from its file in bounded chunks, never held
//! whole; a line longer than [`MAX_LINE_BYTES`] is sent in pieces; the
//! stream ends (without `end`) when the daemon shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
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
use crate::http::error::ApiError;
use crate::http::input::Params;

/// Longest line sent as one event.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
const READ_CHUNK_BYTES: usize = 64 * 1024;
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Opens the stream of the run `counter` (default: the latest).
pub fn stream(state: &Arc<State>, kind: JobKind, q: &Params) -> Result<warp::reply::Response, ApiError> {
    let id = log_job(&*state.backend, kind, q)?;
    let counter = q.counter()?;
    let follow = state.backend.follow_log(kind, &id, counter).map_err(|e| match e {
        crate::engine::EngineError::JobNotFound(_) => ApiError::LogJobNotFound(id.to_string()),
        e => ApiError::from_engine(kind, e),
    })?;
    let events = log_events(follow, state.shutdown.clone());
    Ok(warp::sse::reply(warp::sse::keep_alive().interval(KEEP_ALIVE).stream(events)).into_response())
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
