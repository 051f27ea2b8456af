//! Passive checks (`[check "NAME"]`, SPEC 18): jobs karajo does not run
//! ping `/karajo/ping/KEY…`; a check is `new`, `up`, `late`, `down` or
//! `paused` by its pings and the engine's clock, and says `down` and `up`
//! once per transition (to [`Checks::subscribe`], which the notifications
//! follow).
//!
//! Owns the checks' state (in memory, behind one short lock never held
//! across an await or disk I/O), the evaluator task that wakes when a
//! check turns late or down, and the writer of ping rows and logs
//! (`store`). The state machine itself is pure (`status`).

mod status;
mod store;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use proto::{Check, CheckStatus};
use tokio::sync::{Notify, broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::config::{CheckConfig, CheckTimer};
use crate::engine::Clock;
use crate::store::history::History;
pub use status::PingKind;
use status::Tracked;
pub use store::log_dir;

/// The longest ping body kept; the rest is cut, not refused.
pub const MAX_PING_BODY_BYTES: usize = 100 * 1024;
/// Transitions a slow subscriber may lag behind.
const EVENT_BACKLOG: usize = 1024;

/// A check that went down, or came up after being down.
#[derive(Debug, Clone)]
pub struct CheckEvent {
    pub id: String,
    pub name: String,
    /// `true`: down; `false`: up again.
    pub down: bool,
    pub counter: u64,
    pub at: DateTime<Utc>,
    /// The last ping's log, if it had a body.
    pub log_path: Option<PathBuf>,
}

/// Why a check call failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CheckError {
    /// An unknown key or name; says nothing of which.
    #[error("check not found")]
    NotFound,
}

struct One {
    cfg: CheckConfig,
    t: Tracked,
    /// Said `down` and not yet `up` again.
    down_said: bool,
    /// The counter of the last ping that kept its body as a log.
    last_log: Option<(u64, &'static str)>,
}

struct State {
    checks: BTreeMap<String, One>,
    /// Key → ID.
    keys: HashMap<String, String>,
}

/// The checks of one daemon; share it in an `Arc`.
pub struct Checks {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    dir_base: PathBuf,
    rows: mpsc::Sender<store::Write>,
    events: broadcast::Sender<CheckEvent>,
    /// Bumped by every change a view would show.
    version: AtomicU64,
    /// Wakes the evaluator when a check's next transition may be earlier.
    wake: Notify,
}

impl Checks {
    /// The checks of `configs`, their state read back from `history`; the
    /// evaluator task runs until `stop`, the writer as long as the checks
    /// live (a stop waits for it with [`Checks::flush`]).
    pub async fn start(
        configs: &[CheckConfig],
        clock: Arc<dyn Clock>,
        history: Option<History>,
        dir_base: PathBuf,
        stop: CancellationToken,
    ) -> Arc<Checks> {
        let mut checks = BTreeMap::new();
        for cfg in configs {
            let t = match &history {
                Some(h) => store::restore(h, cfg.id.as_str()).await,
                None => Tracked::default(),
            };
            // A check found down at start was said down before the restart.
            let down_said = status::status(cfg, &t, clock.now()).0 == CheckStatus::Down;
            checks.insert(cfg.id.to_string(), One { cfg: cfg.clone(), t, down_said, last_log: None });
        }
        let keys = key_map(configs);
        let (tx, rx) = mpsc::channel(store::WRITE_BACKLOG);
        tokio::spawn(store::writer(rx, history, dir_base.clone()));
        let c = Arc::new(Checks {
            state: Mutex::new(State { checks, keys }),
            clock,
            dir_base,
            rows: tx,
            events: broadcast::channel(EVENT_BACKLOG).0,
            version: AtomicU64::new(0),
            wake: Notify::new(),
        });
        tokio::spawn(evaluate(c.clone(), stop));
        c
    }

    /// Milliseconds, as the history keeps them: the same before and after a restart.
    fn now_ms(&self) -> DateTime<Utc> {
        chrono::SubsecRound::trunc_subsecs(self.clock.now(), 3)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits (at most `limit`) until every ping so far is written: for shutdown.
    pub async fn flush(&self, limit: std::time::Duration) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sent = self.rows.send(store::Write::Flush(tx));
        if tokio::time::timeout(limit, async {
            sent.await.ok()?;
            rx.await.ok()
        })
        .await
        .ok()
        .flatten()
        .is_none()
        {
            tracing::warn!("check pings still unwritten at shutdown");
        }
    }

    /// Down and up transitions, for notifications.
    pub fn subscribe(&self) -> broadcast::Receiver<CheckEvent> {
        self.events.subscribe()
    }

    /// Changes since start; equal versions mean equal views.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    /// A ping for `key`. The body (cut at [`MAX_PING_BODY_BYTES`]) becomes
    /// the ping's log. Returns at once; the row is written in the background.
    pub fn ping(&self, key: &str, kind: PingKind, mut body: Bytes) -> Result<(), CheckError> {
        body.truncate(MAX_PING_BODY_BYTES);
        let now = self.now_ms();
        let moved;
        let (row, event) = {
            let mut st = self.lock();
            let id = st.keys.get(key).ok_or(CheckError::NotFound)?.clone();
            let one = st.checks.get_mut(&id).ok_or(CheckError::NotFound)?;
            let before = status::status(&one.cfg, &one.t, now).0;
            one.t.counter += 1;
            one.t.ping(kind, now);
            // Only a new status can bring the next transition forward; a
            // ping that keeps a check up moves it later, which the
            // evaluator finds when it wakes at the earlier time anyway.
            moved = status::status(&one.cfg, &one.t, now).0 != before;
            if !body.is_empty() {
                one.last_log = Some((one.t.counter, kind.row_status()));
            }
            let event = self.transition(one, now);
            let row = store::Row {
                id,
                counter: one.t.counter,
                status: kind.row_status(),
                trigger: "ping",
                at: now,
                exit_code: kind.exit_code(),
                body,
            };
            (row, event)
        };
        self.changed(event, moved);
        if self.rows.try_send(store::Write::Row(row)).is_err() {
            tracing::warn!("check pings are arriving faster than they are recorded; a ping's row was dropped");
        }
        Ok(())
    }

    /// The event `one` owes now, if its status crossed into or out of down.
    fn transition(&self, one: &mut One, now: DateTime<Utc>) -> Option<CheckEvent> {
        let (status, _) = status::status(&one.cfg, &one.t, now);
        let down = match status {
            CheckStatus::Down if !one.down_said => true,
            CheckStatus::Up if one.down_said => false,
            _ => return None,
        };
        one.down_said = down;
        let log_path = one
            .last_log
            .map(|(n, s)| store::log_dir(&self.dir_base, one.cfg.id.as_str()).join(format!("{}.{n}.{s}", one.cfg.id)));
        Some(CheckEvent {
            id: one.cfg.id.to_string(),
            name: one.cfg.name.clone(),
            down,
            counter: one.t.counter,
            at: now,
            log_path,
        })
    }

    /// A view changed; `wake`: the evaluator's next wake-up may be too late now.
    fn changed(&self, event: Option<CheckEvent>, wake: bool) {
        self.version.fetch_add(1, Ordering::Relaxed);
        if wake {
            self.wake.notify_one();
        }
        if let Some(e) = event {
            // No subscriber is fine: notifications may be off.
            let _ = self.events.send(e);
        }
    }

    /// One check by name or ID (case-insensitive ID).
    pub fn get(&self, name: &str) -> Result<Check, CheckError> {
        let st = self.lock();
        let one = find(&st, name).ok_or(CheckError::NotFound)?;
        Ok(view(one, self.clock.now()))
    }

    /// Every check by name.
    pub fn all(&self) -> BTreeMap<String, Check> {
        let now = self.clock.now();
        self.lock().checks.values().map(|o| (o.cfg.name.clone(), view(o, now))).collect()
    }

    /// How many checks are in each status (for `karajo_checks{status}`).
    pub fn census(&self) -> Vec<(CheckStatus, u64)> {
        let now = self.clock.now();
        let st = self.lock();
        CheckStatus::ALL
            .iter()
            .map(|s| (*s, st.checks.values().filter(|o| status::status(&o.cfg, &o.t, now).0 == *s).count() as u64))
            .collect()
    }

    /// Pauses or resumes a check; recorded as a row so it survives a restart.
    pub fn set_paused(&self, name: &str, paused: bool) -> Result<Check, CheckError> {
        let now = self.now_ms();
        let (row, check, event) = {
            let mut st = self.lock();
            let id = find(&st, name).ok_or(CheckError::NotFound)?.cfg.id.to_string();
            let one = st.checks.get_mut(&id).ok_or(CheckError::NotFound)?;
            one.t.paused = paused;
            one.t.counter += 1;
            // A resumed check starts over: no down said for the paused time.
            let event = if paused { None } else { self.transition(one, now) };
            let status = if paused { "paused" } else { "resumed" };
            let row = store::Row {
                id,
                counter: one.t.counter,
                status,
                trigger: "manual",
                at: now,
                exit_code: None,
                body: Bytes::new(),
            };
            (row, view(one, now), event)
        };
        self.changed(event, true);
        if self.rows.try_send(store::Write::Row(row)).is_err() {
            tracing::warn!("the check's pause flag could not be queued for the history");
        }
        Ok(check)
    }

    /// Applies a reloaded configuration: checks added and removed; a kept
    /// check keeps its pings.
    pub fn reload(&self, configs: &[CheckConfig]) {
        {
            let mut st = self.lock();
            let mut old = std::mem::take(&mut st.checks);
            for cfg in configs {
                let one = match old.remove(cfg.id.as_str()) {
                    Some(o) => One { cfg: cfg.clone(), ..o },
                    None => One { cfg: cfg.clone(), t: Tracked::default(), down_said: false, last_log: None },
                };
                st.checks.insert(cfg.id.to_string(), one);
            }
            st.keys = key_map(configs);
        }
        self.changed(None, true);
    }

    /// Says every transition due by `now`; returns the next instant one may be.
    fn due_transitions(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut events = Vec::new();
        let mut next: Option<DateTime<Utc>> = None;
        {
            let mut st = self.lock();
            for one in st.checks.values_mut() {
                events.extend(self.transition(one, now));
                if let (_, Some(at)) = status::status(&one.cfg, &one.t, now) {
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
            }
        }
        for e in events {
            // The evaluator itself: it computes its next wake-up right after.
            self.changed(Some(e), false);
        }
        next
    }
}

/// Wakes at each check's next transition (or when a ping or reload may
/// have moved it) until `stop`.
async fn evaluate(c: Arc<Checks>, stop: CancellationToken) {
    loop {
        let woken = c.wake.notified();
        let next = c.due_transitions(c.clock.now());
        let sleep = async {
            match next {
                Some(at) => c.clock.sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            // Time alone moved a status (up to late, late to down): views change.
            _ = sleep => { c.version.fetch_add(1, Ordering::Relaxed); }
            _ = woken => {}
            _ = stop.cancelled() => return,
        }
    }
}

fn key_map(configs: &[CheckConfig]) -> HashMap<String, String> {
    configs.iter().map(|c| (c.key.expose().to_string(), c.id.to_string())).collect()
}

fn find<'a>(st: &'a State, name: &str) -> Option<&'a One> {
    let id = proto::JobId::from_name(name);
    st.checks.get(id.as_str()).or_else(|| st.checks.values().find(|o| o.cfg.name == name))
}

fn view(one: &One, now: DateTime<Utc>) -> Check {
    let (status, _) = status::status(&one.cfg, &one.t, now);
    let c = &one.cfg;
    let (period, schedule, schedule_text) = match &c.timer {
        CheckTimer::Period(d) => (i64::try_from(d.as_nanos()).unwrap_or(i64::MAX), String::new(), String::new()),
        CheckTimer::Schedule(s) => (0, c.timer_text.clone(), s.describe()),
    };
    let next_due = match status {
        CheckStatus::Up | CheckStatus::Late => one.t.last_ok.map(|ok| status::due_after(c, ok)),
        _ => None,
    };
    Check {
        id: c.id.to_string(),
        name: c.name.clone(),
        status,
        period,
        schedule,
        schedule_text,
        timezone: c.timezone.name().to_string(),
        grace: i64::try_from(c.grace.as_nanos()).unwrap_or(i64::MAX),
        last_ping: one.t.last_ping.map(|(t, _)| t),
        last_ping_kind: one.t.last_ping.map(|(_, k)| k.word()).unwrap_or_default(),
        next_due,
        pings: one.t.counter,
        notif_on_down: c.notif_on_down.clone(),
        notif_on_up: c.notif_on_up.clone(),
    }
}
