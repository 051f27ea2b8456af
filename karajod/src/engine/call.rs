//! Jobs whose body is Rust code (the library API): an async closure
//! `(ctx, log writer, Option<request body>) -> Result<(), CallError>`.
//!
//! The closure never touches the log file: its [`LogWriter`] sends lines
//! over a bounded channel to the run task, which owns the file. So a
//! closure that logs fast is slowed down, never buffered without bound.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use proto::JobId;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Trigger;
use crate::store::log::RunLog;

/// What a closure job returns on failure; its text goes to the log.
pub type CallError = Box<dyn std::error::Error + Send + Sync>;

type CallFuture = Pin<Box<dyn Future<Output = Result<(), CallError>> + Send>>;
type CallFn = dyn Fn(JobContext, LogWriter, Option<Bytes>) -> CallFuture + Send + Sync;

/// A job body written in Rust.
#[derive(Clone)]
pub struct JobCall(Arc<CallFn>);

impl JobCall {
    pub fn new<F, Fut>(f: F) -> JobCall
    where
        F: Fn(JobContext, LogWriter, Option<Bytes>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), CallError>> + Send + 'static,
    {
        JobCall(Arc::new(move |ctx, log, body| Box::pin(f(ctx, log, body))))
    }
}

impl fmt::Debug for JobCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JobCall(..)")
    }
}

/// What a closure knows about its run.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub id: JobId,
    pub counter: u64,
    /// The nominal slot of a timer or catch-up run (`KARAJO_JOB_SLOT`).
    pub slot: Option<chrono::DateTime<chrono::Utc>>,
    /// 1 for the first attempt of the run, 2 for its first retry (`KARAJO_JOB_ATTEMPT`).
    pub attempt: u32,
    /// `timer`, `http` or `manual`, as `KARAJO_JOB_TRIGGER`.
    pub trigger: &'static str,
    /// Canceled when the run is canceled; the closure is dropped soon after anyway.
    pub cancel: CancellationToken,
}

/// Writes prefixed lines to the run's log.
#[derive(Debug, Clone)]
pub struct LogWriter {
    tx: mpsc::Sender<Bytes>,
}

impl LogWriter {
    /// Writes output as is (lines are prefixed as they are completed).
    pub async fn write(&self, bytes: impl Into<Bytes>) {
        // The receiver only goes away when the run ended; nothing to report then.
        let _ = self.tx.send(bytes.into()).await;
    }

    /// Writes one line.
    pub async fn line(&self, text: impl AsRef<str>) {
        let mut s = String::with_capacity(text.as_ref().len() + 1);
        s.push_str(text.as_ref());
        s.push('\n');
        self.write(s).await;
    }
}

/// How a closure run ended.
pub(crate) enum CallOutcome {
    Ok,
    Err(String),
    Canceled,
    /// The job's `timeout` passed: the closure was dropped.
    TimedOut,
}

/// Runs the closure, streaming what it writes into `log`, until it ends,
/// `cancel` fires or `deadline` (the job's `timeout`) passes.
pub(crate) async fn run(
    call: &JobCall,
    ctx: JobContext,
    body: Option<Bytes>,
    log: &mut RunLog,
    deadline: Option<tokio::time::Instant>,
    now: impl Fn() -> chrono::DateTime<chrono::Utc>,
) -> CallOutcome {
    let far = || tokio::time::Instant::now() + std::time::Duration::from_secs(86400 * 365);
    let (tx, mut rx) = mpsc::channel::<Bytes>(64);
    let cancel = ctx.cancel.clone();
    let mut fut = (call.0)(ctx, LogWriter { tx }, body);
    let outcome = loop {
        tokio::select! {
            res = &mut fut => break match res {
                Ok(()) => CallOutcome::Ok,
                Err(e) => CallOutcome::Err(e.to_string()),
            },
            Some(chunk) = rx.recv() => log.output_or_report(now(), &chunk),
            _ = cancel.cancelled() => break CallOutcome::Canceled,
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(far)), if deadline.is_some() => {
                // The closure's own token tells it to stop what it spawned.
                cancel.cancel();
                break CallOutcome::TimedOut;
            }
        }
    };
    drop(fut);
    // A closure that returns because it saw the cancel was still canceled.
    let outcome = match outcome {
        CallOutcome::TimedOut => CallOutcome::TimedOut,
        _ if cancel.is_cancelled() => CallOutcome::Canceled,
        o => o,
    };
    while let Ok(chunk) = rx.try_recv() {
        log.output_or_report(now(), &chunk);
    }
    outcome
}

impl Trigger {
    /// The word exported as `KARAJO_JOB_TRIGGER`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Trigger::Timer => "timer",
            Trigger::Http { .. } => "http",
            Trigger::Manual => "manual",
            Trigger::CatchUp { .. } => "catch_up",
        }
    }
}
