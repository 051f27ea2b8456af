//! The run task of one job: wait for a slot, open the history row and the
//! log, run the body (commands, closure or HTTP request), complete the row,
//! close the log, apply retention, announce the end, then take the queued
//! trigger if there is one.
//!
//! Invariant: one run task per entry at a time (`EntryState::active`);
//! the task owns its `RunLog`, so writing the log needs no lock. A slot of
//! `max_job_running` is held from the log's creation until the body ends;
//! the final fsync and rename happen after it is released.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::{DateTime, Utc};
use proto::JobStatus;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::attempt::{self, Outcome};
use super::registry::{ActiveRun, Entry, RunInfo, Spec};
use super::{Due, Engine, RunEnded, RunStarted, Trigger, call, history, job_http, runner};
use crate::config::RunAs;
use crate::store::history::{RunEnd, RunStart};
use crate::store::log::{self, RunLog};
use crate::store::{IoError, ensure_dir};

/// Starts the run task of an entry that has none (the caller set `active`).
/// `due` is the scheduled instant of a timer tick, for its lateness; the
/// trigger comes with who asked for it.
pub(crate) fn spawn(
    engine: &Engine,
    entry: Arc<Entry>,
    trigger: (Trigger, Option<String>),
    due: Option<Due>,
    cancel: CancellationToken,
) {
    let engine2 = engine.clone();
    engine.inner.tracker.spawn(async move { run_loop(engine2, entry, trigger, due, cancel).await });
}

async fn run_loop(
    engine: Engine,
    entry: Arc<Entry>,
    (mut trigger, mut actor): (Trigger, Option<String>),
    mut due: Option<Due>,
    mut cancel: CancellationToken,
) {
    let inner = &engine.inner;
    loop {
        let queued_at = (Instant::now(), inner.clock.now());
        let permit = tokio::select! {
            p = inner.slots.clone().acquire_owned() => p.ok(),
            _ = cancel.cancelled() => None,
            _ = inner.stopping.cancelled() => None,
        };
        let mut ended = None;
        if let Some(permit) = permit {
            let asked = (&trigger, actor.as_deref());
            ended = one_run(&engine, &entry, asked, due.take(), permit, &cancel, queued_at).await;
        }
        let next = {
            let mut st = entry.lock();
            match st.queued.pop_front() {
                Some(next) if !inner.stopping.is_cancelled() && !st.removed => {
                    cancel = CancellationToken::new();
                    st.active =
                        Some(ActiveRun { cancel: cancel.clone(), running: None, replaced_by: None, retry_wait: None });
                    Some(next)
                }
                _ => {
                    st.active = None;
                    None
                }
            }
        };
        // Announced once the job is idle (or has its next run), so whoever
        // reacts to the end sees the job ready for the next trigger.
        if let Some(ended) = ended {
            // No subscriber is fine: notifications may be off.
            let _ = inner.ended.send(ended);
        }
        match next {
            Some(next) => (trigger, actor) = next,
            None => return,
        }
    }
}

/// One run from its row and log's creation to its end. `None` when no log could be made.
async fn one_run(
    engine: &Engine,
    entry: &Arc<Entry>,
    (trigger, actor): (&Trigger, Option<&str>),
    due: Option<Due>,
    slot: tokio::sync::OwnedSemaphorePermit,
    cancel: &CancellationToken,
    (queued, queued_at): (Instant, DateTime<Utc>),
) -> Option<RunEnded> {
    let inner = &engine.inner;
    let queue_wait = queued.elapsed();
    let spec = entry.lock().spec.clone();
    let (counter, started, mut log, mut opened) = open_run(engine, entry, (trigger, actor), due, queued_at).await?;
    inner.running.fetch_add(1, Ordering::SeqCst);
    let span = tracing::info_span!("run", job.id = %entry.id, run.counter = counter, trigger = trigger.as_str());
    // Negative only if the wall clock was stepped back: count that as on time.
    let timer_lateness =
        due.filter(|_| matches!(trigger, Trigger::Timer)).map(|d| (started - d.at).to_std().unwrap_or_default());
    if let Some(late) = timer_lateness {
        span.in_scope(|| tracing::debug!(lateness_us = late.as_micros() as u64, "timer run started"));
    }
    log.note(started, &format!("=== BEGIN #{counter} (trigger: {})", trigger.as_str()));
    // No subscriber is fine: alerts may be off.
    let _ = inner.run_started.send(RunStarted {
        kind: entry.kind,
        id: entry.id.clone(),
        counter,
        trigger: trigger.as_str(),
        log_path: log.path().to_path_buf(),
        started,
        due: due.filter(|_| matches!(trigger, Trigger::Timer)).map(|d| d.at),
    });
    if let Some(note) = opened.note.take() {
        log.note(inner.clock.now(), &note);
    }
    let t0 = Instant::now();
    let this = ThisRun { spec: &spec, counter, trigger, slot: trigger.slot(due) };
    let done = attempt::run_all(engine, entry, &this, cancel, &mut log, slot).instrument(span.clone()).await;
    let status = done.last.status;
    let replaced_by = entry.lock().active.as_ref().and_then(|a| a.replaced_by);
    if let Some(next) = replaced_by.filter(|_| status == JobStatus::Canceled) {
        log.note(inner.clock.now(), &format!("--- replaced by #{next}"));
    }
    // The attempts gave the slot back as each ended: it goes to the next
    // run now, not after the fsyncs below (~4 ms on ext4), which would
    // otherwise cap runs at max_job_running per fsync time. The job itself
    // stays active (and its log `.running`) until the log is final, so one
    // run per job still holds.
    let status = if log.is_broken() && status == JobStatus::Success { JobStatus::Failed } else { status };
    // The row is completed before the log is final, so a failed write can
    // still be noted in the log.
    let ended_at = inner.clock.now();
    let mut end = run_end(entry, counter, status, ended_at, t0.elapsed().as_millis() as i64);
    (end.attempts, end.exit_code) = (done.count, done.last.exit_code.map(i64::from));
    if let Some(note) = history::close(engine, entry, &mut opened, end).await {
        log.note(ended_at, &note);
    }
    let final_path =
        tokio::task::spawn_blocking(move || log.finish(status)).await.expect("finishing a log never panics");
    // A log that could not be written turns a success into a failure.
    let (log_path, status) = match final_path {
        Ok(done) => done,
        Err(e) => {
            span.in_scope(|| tracing::error!(error = %e, "cannot close the run log"));
            (e.path, status)
        }
    };
    // A failed run is a warning, so `journalctl -p warning` lists failures.
    span.in_scope(|| match status {
        JobStatus::Failed => tracing::warn!(status = %status, "run ended"),
        _ => tracing::info!(status = %status, "run ended"),
    });
    retain(engine, entry, &spec, counter, status, &log_path).await;
    Some(RunEnded {
        kind: entry.kind,
        id: entry.id.clone(),
        counter,
        status,
        trigger: trigger.as_str(),
        log_path,
        started,
        duration: t0.elapsed(),
        queue_wait,
        timer_lateness,
    })
}

/// The run's row and log, created now: its counter, start time, log and
/// history handle. `None` when no log could be made (the row then says failed).
async fn open_run(
    engine: &Engine,
    entry: &Arc<Entry>,
    (trigger, actor): (&Trigger, Option<&str>),
    due: Option<Due>,
    queued_at: DateTime<Utc>,
) -> Option<(u64, DateTime<Utc>, RunLog, history::Opened)> {
    let inner = &engine.inner;
    let floor = entry.lock().counter;
    // Milliseconds, as the history keeps it: last_run is the same before and after a restart.
    let started = chrono::SubsecRound::trunc_subsecs(inner.clock.now(), 3);
    let start = RunStart {
        kind: entry.kind,
        job_id: &entry.id,
        floor,
        trigger: trigger.as_str(),
        slot: trigger.slot(due),
        queued_at,
        started_at: started,
        node: None,
        actor,
    };
    let mut opened = history::open(engine, entry, start).await;
    let counter = opened.counter;
    entry.lock().counter = floor.max(counter);
    let dir = log::log_dir(&inner.dir_base, entry.kind, &entry.id);
    // On the blocking pool: with a hundred runs starting on the same second,
    // creating their logs on the worker (ext4 inode allocation, ~1 ms each
    // when old logs are deleted meanwhile) made the last ones start late.
    let (kind, id) = (entry.kind, entry.id.clone());
    let created = tokio::task::spawn_blocking(move || RunLog::create(&dir, kind, &id, counter)).await;
    let log = match created.expect("creating a log never panics") {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(job.id = %entry.id, run.counter = counter, error = %e, "cannot create the run log");
            let end = run_end(entry, counter, JobStatus::Failed, started, 0);
            let _ = history::close(engine, entry, &mut opened, end).await;
            return None;
        }
    };
    {
        let mut st = entry.lock();
        let info = RunInfo { counter, path: log.path().to_path_buf(), progress: log.subscribe() };
        if let Some(a) = st.active.as_mut() {
            a.running = Some(info);
        }
        st.last_run = Some(started);
    }
    Some((counter, started, log, opened))
}

/// Log retention after a run, and its effect on the history rows.
async fn retain(
    engine: &Engine,
    entry: &Entry,
    spec: &Spec,
    counter: u64,
    status: JobStatus,
    log_path: &std::path::Path,
) {
    let expired = {
        let mut st = entry.lock();
        st.logs.push(log::LogFile { counter, status, path: log_path.to_path_buf() });
        st.last_status = Some(status);
        if let Some(a) = st.active.as_mut() {
            a.running = None;
        }
        let expired = log::expire(&mut st.logs, spec.common().log_retention as usize);
        let oldest = st.logs.first().map_or(counter, |l| l.counter);
        st.recent.keep_rows(|c| c >= oldest);
        expired
    };
    history::after_run(engine, entry.kind, &entry.id, expired.counters(), spec.common().history_retention);
    if !expired.is_empty() {
        let _ = tokio::task::spawn_blocking(move || expired.delete()).await;
    }
}

fn run_end(entry: &Entry, counter: u64, status: JobStatus, ended_at: DateTime<Utc>, duration_ms: i64) -> RunEnd<'_> {
    RunEnd { kind: entry.kind, job_id: &entry.id, counter, status, ended_at, duration_ms, attempts: 1, exit_code: None }
}

/// What every attempt of a run shares.
pub(super) struct ThisRun<'a> {
    pub spec: &'a Spec,
    pub counter: u64,
    pub trigger: &'a Trigger,
    /// `KARAJO_JOB_SLOT` of a timer or catch-up run.
    pub slot: Option<DateTime<Utc>>,
}

/// Runs what the job does, once (attempt `attempt`, 1-based); writes its
/// outcome line; returns how it ended.
pub(super) async fn body(
    engine: &Engine,
    run: &ThisRun<'_>,
    attempt: u32,
    cancel: &CancellationToken,
    log: &mut RunLog,
) -> Outcome {
    let inner = &engine.inner;
    match run.spec {
        Spec::Http(cfg) => job_http::run(cfg, &inner.self_url, &inner.clients, &inner.clock, cancel, log).await,
        Spec::Job(cfg) => {
            let call = inner.calls.get(&cfg.common.id).cloned();
            let deadline = cfg.timeout.map(|t| tokio::time::Instant::now() + t);
            match call {
                Some(call) => run_call(engine, &call, cfg, run, attempt, (cancel, deadline), log).await,
                None => run_commands(engine, cfg, run, attempt, (cancel, deadline), log).await,
            }
        }
    }
}

async fn run_call(
    engine: &Engine,
    call: &call::JobCall,
    cfg: &crate::config::JobConfig,
    run: &ThisRun<'_>,
    attempt: u32,
    (cancel, deadline): (&CancellationToken, Option<tokio::time::Instant>),
    log: &mut RunLog,
) -> Outcome {
    let clock = engine.inner.clock.clone();
    let trigger = run.trigger;
    let body = match trigger {
        Trigger::Http { body } => Some(body.clone()),
        _ => None,
    };
    // A child token: a timeout cancels the closure, not the run's own token.
    let ctx = call::JobContext {
        id: cfg.common.id.clone(),
        counter: run.counter,
        slot: run.slot,
        attempt,
        trigger: trigger.as_str(),
        cancel: cancel.child_token(),
    };
    let outcome = call::run(call, ctx, body, log, deadline, || clock.now()).await;
    let (text, outcome) = match outcome {
        call::CallOutcome::Ok => ("=== DONE".to_string(), Outcome::of(JobStatus::Success)),
        call::CallOutcome::Err(e) => (format!("!!! failed: {e}"), Outcome::of(JobStatus::Failed)),
        call::CallOutcome::Canceled => ("=== CANCELED".to_string(), Outcome::of(JobStatus::Canceled)),
        call::CallOutcome::TimedOut => {
            let d = cfg.timeout.map(|d| format!(" after {d:?}")).unwrap_or_default();
            (format!("!!! timed out{d}"), Outcome::failed(crate::config::Cause::Timeout))
        }
    };
    log.note(clock.now(), &text);
    outcome
}

async fn run_commands(
    engine: &Engine,
    cfg: &crate::config::JobConfig,
    run: &ThisRun<'_>,
    attempt: u32,
    (cancel, deadline): (&CancellationToken, Option<tokio::time::Instant>),
    log: &mut RunLog,
) -> Outcome {
    let (counter, trigger) = (run.counter, run.trigger);
    let inner = &engine.inner;
    let clock = inner.clock.clone();
    let own_dir = cfg.exec.dir.is_none();
    let workdir =
        cfg.exec.dir.clone().unwrap_or_else(|| inner.dir_base.join("var/lib/karajo/job").join(cfg.common.id.as_str()));
    let run_as = cfg.exec.run_as.clone().map(Arc::new);
    let body_file = match trigger {
        Trigger::Http { body } => match write_body(engine, cfg, counter, body).await {
            Ok(p) => Some(p),
            Err(e) => {
                log.note(clock.now(), &format!("!!! failed: {e}"));
                return Outcome::of(JobStatus::Failed);
            }
        },
        _ => None,
    };
    let setup = {
        let (w, tracking, id) = (workdir.clone(), inner.processes.clone(), cfg.common.id.clone());
        let (owner, body) = (run_as.clone(), body_file.clone());
        tokio::task::spawn_blocking(move || {
            if own_dir {
                ensure_dir(&w).map_err(|e| e.to_string())?;
            }
            if let Some(r) = &owner {
                hand_over(r, own_dir.then_some(w.as_path()), body.as_deref())?;
            }
            tracking
                .run(proto::JobKind::Job, &id, counter)
                .map_err(|e| format!("cannot track the run's processes: {e}"))
        })
        .await
        .expect("mkdir never panics")
    };
    let (outcome, procs) = match setup {
        Ok(procs) => {
            let c = runner::Commands {
                commands: &cfg.commands,
                workdir,
                env: command_env(cfg, run, attempt, body_file.as_deref(), procs.tag()),
                cancel,
                deadline,
                timeout: cfg.timeout,
                clock: clock.clone(),
                kill_grace: inner.processes.kill_grace,
                leave_processes: cfg.leave_processes,
                run_as,
            };
            let (outcome, procs) = runner::run(&c, procs, log).await;
            (outcome, Some(procs))
        }
        Err(e) => {
            log.note(clock.now(), &format!("!!! failed: {e}"));
            (Outcome::of(JobStatus::Failed), None)
        }
    };
    let _ = tokio::task::spawn_blocking(move || {
        if let Some(p) = procs {
            p.release();
        }
        if let Some(p) = body_file {
            let _ = std::fs::remove_file(&p);
        }
    })
    .await;
    outcome
}

/// The clean environment of a command (SPEC 4) and the run's tag.
fn command_env(
    cfg: &crate::config::JobConfig,
    run: &ThisRun<'_>,
    attempt: u32,
    body_file: Option<&std::path::Path>,
    tag: &str,
) -> Vec<(String, String)> {
    let mut env = vec![
        ("PATH".to_string(), runner::JOB_PATH.to_string()),
        ("KARAJO_JOB_ATTEMPT".to_string(), attempt.to_string()),
        ("KARAJO_JOB_COUNTER".to_string(), run.counter.to_string()),
        ("KARAJO_JOB_ID".to_string(), cfg.common.id.to_string()),
        ("KARAJO_JOB_TRIGGER".to_string(), run.trigger.as_str().to_string()),
        (super::process::TAG_ENV.to_string(), tag.to_string()),
    ];
    if let Some(slot) = run.slot {
        let slot = slot.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        env.push(("KARAJO_JOB_SLOT".to_string(), slot));
    }
    if let Some(p) = body_file {
        env.push(("KARAJO_REQUEST_BODY".to_string(), p.display().to_string()));
    }
    // `env_file`, then `env`: a later value of a name wins, PATH included.
    for v in &cfg.exec.env {
        env.retain(|(name, _)| *name != v.name);
        env.push((v.name.clone(), v.value.clone()));
    }
    env
}

/// A job with `user` gets its own working directory and the request body
/// as that user: both are karajod's 0700 / 0600 otherwise. The directories
/// above them that karajod made 0700 become 0711: passable by name, not
/// listable.
fn hand_over(r: &RunAs, own_dir: Option<&std::path::Path>, body: Option<&std::path::Path>) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let (uid, gid) = (Some(nix::unistd::Uid::from_raw(r.uid)), Some(nix::unistd::Gid::from_raw(r.gid)));
    let parents = |p: &std::path::Path| p.ancestors().skip(1).take(3).map(|a| a.to_path_buf()).collect::<Vec<_>>();
    let files: Vec<&std::path::Path> = own_dir.into_iter().chain(body).collect();
    for dir in files.iter().flat_map(|p| parents(p)) {
        let Ok(meta) = std::fs::metadata(&dir) else { continue };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o011 != 0o011 {
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode | 0o011));
        }
    }
    for p in files {
        nix::unistd::chown(p, uid, gid).map_err(|e| format!("cannot give {} to user {}: {e}", p.display(), r.user))?;
    }
    Ok(())
}

/// Writes a webhook body to a 0600 file for `KARAJO_REQUEST_BODY`.
async fn write_body(
    engine: &Engine,
    cfg: &crate::config::JobConfig,
    counter: u64,
    body: &bytes::Bytes,
) -> Result<std::path::PathBuf, IoError> {
    let dir = request_dir(&engine.inner.dir_base);
    let path = dir.join(format!("{}.{counter}.body", cfg.common.id));
    let body = body.clone();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        ensure_dir(&dir)?;
        // The command runs in its own working directory: a path relative
        // to the daemon's (a relative dir_base) would name nothing there.
        let path = std::path::absolute(&path).map_err(IoError::at("resolve request body path", &path))?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(IoError::at("create request body file", &path))?;
        f.write_all(&body).map_err(IoError::at("write request body file", &path))?;
        Ok(path)
    })
    .await
    .expect("writing a file never panics")
}

/// Where webhook bodies wait for their run (`KARAJO_REQUEST_BODY`).
pub(crate) fn request_dir(dir_base: &std::path::Path) -> std::path::PathBuf {
    dir_base.join("var/run/karajo/request")
}
