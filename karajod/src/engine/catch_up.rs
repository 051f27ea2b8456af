//! Missed timer slots (SPEC 17): after a start, and after a resume when
//! the job's config sets `catch_up`, the slots since the last one its
//! timer handled are run (`latest`: the newest; `all`: each, in order,
//! one after the other) when within `catch_up_window`, and recorded as
//! `missed` rows otherwise.
//!
//! Invariants: the last handled slot is kept per job (in the entry and in
//! `jobs.last_slot`), raised before a slot's run is triggered, so a slot
//! is caught up at most once; slots refused while paused stay unhandled
//! only when `catch_up` is set, so a resume can run them. Defaults keep
//! SPEC 4: an overdue interval job runs once at start through its timer
//! (trigger `timer`), a schedule skips what it missed (now recorded).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use super::registry::Entry;
use super::{Engine, EngineError, Trigger};
use crate::config::{CatchUpMode, Timer};

/// The most slots counted between two handled ones: a seconds schedule
/// down for a month stops here rather than walking 2.6 million slots.
const MAX_SLOTS: usize = 100_000;
/// The most `missed` rows one catch-up writes (the newest ones).
const MAX_MISSED_ROWS: usize = 1000;
/// At most this many missed slots of one catch-up fire `notif_on_missed`
/// (the newest); the others have their rows only.
const MAX_MISSED_ALERTS: usize = 10;

/// Before the timer loop's first sleep: the slots up to `started` (when
/// the timer was spawned). Returns the tick the loop should count from:
/// `started` when catch-up handled the past, else `None`.
pub(super) async fn at_start(
    engine: &Engine,
    entry: &Arc<Entry>,
    timer: &Timer,
    token: &CancellationToken,
    started: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let (explicit, paused) = {
        let st = entry.lock();
        (st.spec.common().catch_up.explicit, st.paused)
    };
    if paused || (!explicit && matches!(timer, Timer::Interval(_))) {
        return None;
    }
    let handled = catch_up(engine, entry, timer, token, Window::at(entry, started)).await;
    (handled && explicit).then_some(started)
}

/// The slots one catch-up considers: after `since`, up to `now`, both
/// read when it was asked for (a resume), before the timer handles any
/// newer tick.
#[derive(Debug, Clone, Copy)]
struct Window {
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
}

impl Window {
    /// The slots after the last one the job's timer handled, up to `now`.
    fn at(entry: &Entry, now: DateTime<Utc>) -> Window {
        Window { since: entry.lock().last_slot, now }
    }
}

/// After a resume: the slots refused while paused, when `catch_up` is set.
pub(super) fn after_resume(engine: &Engine, entry: &Arc<Entry>) {
    let (timer, token) = {
        let st = entry.lock();
        if !st.spec.common().catch_up.explicit {
            return;
        }
        let Some(timer) = st.spec.timer().cloned() else { return };
        (timer, st.timer.clone())
    };
    let window = Window::at(entry, engine.inner.clock.now());
    let (engine2, entry) = (engine.clone(), entry.clone());
    engine.inner.tracker.spawn(async move {
        catch_up(&engine2, &entry, &timer, &token, window).await;
    });
}

/// The timer handled `slot` (ran, dropped or refused it): it is not missed.
pub(super) fn handled(engine: &Engine, entry: &Entry, slot: DateTime<Utc>) {
    {
        let mut st = entry.lock();
        if st.last_slot.is_some_and(|s| s >= slot) {
            return;
        }
        st.last_slot = Some(slot);
    }
    let Some(h) = engine.inner.history.clone() else { return };
    let (kind, id) = (entry.kind, entry.id.clone());
    super::history::spawn_db(engine, async move {
        if let Err(e) = h.handled_slot(kind, &id, slot).await {
            tracing::warn!(job.id = %id, error = %e, "cannot record the timer's slot");
        }
    });
}

/// Runs or records the slots of `window` missed since the last handled
/// one, after any catch-up before it. Returns whether there was a last
/// handled slot to count from.
async fn catch_up(
    engine: &Engine,
    entry: &Arc<Entry>,
    timer: &Timer,
    token: &CancellationToken,
    window: Window,
) -> bool {
    let mut caught_up = entry.caught_up.lock().await;
    let cu = entry.lock().spec.common().catch_up;
    let Some(last) = window.since.max(*caught_up) else { return false };
    let now = window.now;
    let missed = slots_between(timer, last, now);
    if missed.is_empty() {
        return true;
    }
    let oldest_run = now - TimeDelta::from_std(cu.window).unwrap_or(TimeDelta::MAX);
    let split = missed.partition_point(|s| *s < oldest_run);
    let (old, recent) = missed.split_at(split);
    let (skip, run): (Vec<_>, Vec<_>) = match cu.mode {
        CatchUpMode::None => (missed.clone(), vec![]),
        CatchUpMode::All => (old.to_vec(), recent.to_vec()),
        CatchUpMode::Latest => match recent.split_last() {
            Some((newest, rest)) => ([old, rest].concat(), vec![*newest]),
            None => (missed.clone(), vec![]),
        },
    };
    tracing::info!(
        job.id = %entry.id, missed = missed.len(), run = run.len(), mode = cu.mode.as_str(),
        "timer slots missed since {last}"
    );
    record_missed(engine, entry, &skip).await;
    *caught_up = (*caught_up).max(skip.last().copied());
    let ran = run_in_order(engine, entry, &run, token).await;
    *caught_up = (*caught_up).max(ran);
    true
}

/// The slots after `last` up to `now`, oldest first (at most [`MAX_SLOTS`]).
fn slots_between(timer: &Timer, last: DateTime<Utc>, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut t = last;
    while out.len() < MAX_SLOTS {
        let next = match timer {
            Timer::Interval(d) => t.checked_add_signed(TimeDelta::from_std(*d).unwrap_or(TimeDelta::MAX)),
            Timer::Schedule(s) => Some(s.next_after(t)),
        };
        match next {
            Some(n) if n > t && n <= now => {
                out.push(n);
                t = n;
            }
            _ => break,
        }
    }
    out
}

async fn record_missed(engine: &Engine, entry: &Entry, slots: &[DateTime<Utc>]) {
    let Some(newest) = slots.last().copied() else { return };
    let kept = &slots[slots.len().saturating_sub(MAX_MISSED_ROWS)..];
    if kept.len() < slots.len() {
        tracing::warn!(job.id = %entry.id, missed = slots.len(), recorded = kept.len(), "only the newest missed slots get rows");
    }
    // `notif_on_missed`: each slot with a row, the newest first few only,
    // so a week down does not become a thousand messages.
    let told = &kept[kept.len().saturating_sub(MAX_MISSED_ALERTS)..];
    for slot in told {
        engine.announce_missed(entry.kind, &entry.id, *slot);
    }
    if told.len() < slots.len() {
        tracing::warn!(job.id = %entry.id, missed = slots.len(), told = told.len(), "only the newest missed slots are notified");
    }
    let Some(h) = engine.inner.history.clone() else {
        handled(engine, entry, newest);
        return;
    };
    let floor = entry.lock().counter;
    match h.missed(entry.kind, &entry.id, floor, kept).await {
        Ok(counter) => {
            let mut st = entry.lock();
            st.counter = st.counter.max(counter);
            st.last_slot = st.last_slot.max(Some(newest));
        }
        Err(e) => {
            tracing::warn!(job.id = %entry.id, error = %e, "cannot record missed slots");
            handled(engine, entry, newest);
        }
    }
}

/// Triggers each slot's run once the job is idle, one after the other;
/// returns the newest slot it triggered.
async fn run_in_order(
    engine: &Engine,
    entry: &Arc<Entry>,
    slots: &[DateTime<Utc>],
    token: &CancellationToken,
) -> Option<DateTime<Utc>> {
    let mut ran = None;
    for slot in slots.iter().copied() {
        let mut ended = engine.inner.ended.subscribe();
        loop {
            if !idle(entry, &mut ended, token).await {
                return ran;
            }
            match engine.trigger_entry_due(entry, Trigger::CatchUp { slot }, None) {
                Ok(()) => break,
                // Another trigger took the job meanwhile: wait for it.
                Err(EngineError::AlreadyQueued) => continue,
                Err(e) => {
                    tracing::debug!(job.id = %entry.id, error = %e, "catch-up stops");
                    return ran;
                }
            }
        }
        handled(engine, entry, slot);
        ran = Some(slot);
    }
    ran
}

/// Waits until the job has no active run; `false` when stopped first.
async fn idle(
    entry: &Entry,
    ended: &mut tokio::sync::broadcast::Receiver<super::RunEnded>,
    token: &CancellationToken,
) -> bool {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        if entry.lock().active.is_none() {
            return true;
        }
        tokio::select! {
            r = ended.recv() => if let Err(RecvError::Closed) = r { return false },
            _ = token.cancelled() => return false,
        }
    }
}
