//! `retry*` and `catch_up*` (SPEC 17): what a failed run tries again and
//! what a timer does with the slots it missed while karajod was down.
//!
//! Defaults keep SPEC 4: no retry; after a start an overdue interval job
//! runs once, a schedule skips what it missed; nothing after a resume.

use std::time::Duration;

use super::fields::Fields;
use super::ini::Entry;
use super::model::Timer;

/// `retry_delay` when absent.
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(10);
/// `retry_max_delay` when absent.
pub const DEFAULT_RETRY_MAX_DELAY: Duration = Duration::from_secs(600);
/// `catch_up_window` when absent.
pub const DEFAULT_CATCH_UP_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// The most attempts a run may have: a retry count past this is a typo.
const MAX_RETRIES: i64 = 100;

/// How a run tries again after a failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// Attempts after the first (`retry`); 0 = none.
    pub times: u32,
    pub delay: Duration,
    /// Each wait is the previous one times this (`retry_backoff`, >= 1).
    pub backoff: f64,
    pub max_delay: Duration,
    /// Which failures are retried; empty = every failure.
    pub on: Vec<Cause>,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry { times: 0, delay: DEFAULT_RETRY_DELAY, backoff: 1.0, max_delay: DEFAULT_RETRY_MAX_DELAY, on: Vec::new() }
    }
}

impl Retry {
    /// The wait before attempt `attempt` (2 for the first retry): the delay
    /// times the backoff per earlier retry, never above `max_delay`.
    pub fn wait_before(&self, attempt: u32) -> Duration {
        let n = attempt.saturating_sub(2).min(1000) as i32;
        let secs = self.delay.as_secs_f64() * self.backoff.powi(n);
        let max = self.max_delay.as_secs_f64();
        if secs.is_finite() && secs < max { Duration::from_secs_f64(secs) } else { self.max_delay }
    }

    /// Whether a failure of this cause gets another attempt.
    pub fn covers(&self, cause: Option<Cause>) -> bool {
        self.on.is_empty() || cause.is_some_and(|c| self.on.iter().any(|o| o.matches(c)))
    }

    /// `retry_on` as written back: `1,75`, `5xx,timeout`; empty for any failure.
    pub fn on_text(&self) -> String {
        self.on.iter().map(Cause::to_string).collect::<Vec<_>>().join(",")
    }
}

/// Why an attempt failed, as far as `retry_on` can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A command exited with this code.
    Exit(i32),
    /// The HTTP job's server answered this status.
    Status(u16),
    /// Any 5xx answer (only in `retry_on`).
    Status5xx,
    /// The run's (or request's) `timeout` passed.
    Timeout,
    /// The HTTP job could not connect.
    Connect,
}

impl Cause {
    fn matches(self, actual: Cause) -> bool {
        match (self, actual) {
            (Cause::Status5xx, Cause::Status(s)) => (500..600).contains(&s),
            (want, got) => want == got,
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Exit(c) => write!(f, "{c}"),
            Cause::Status(s) => write!(f, "{s}"),
            Cause::Status5xx => f.write_str("5xx"),
            Cause::Timeout => f.write_str("timeout"),
            Cause::Connect => f.write_str("connect"),
        }
    }
}

/// Which kind of job a `retry_on` belongs to: its words differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryFor {
    Commands,
    Http,
}

/// Reads `retry`, `retry_delay`, `retry_backoff`, `retry_max_delay`, `retry_on`.
pub fn read_retry(f: &mut Fields<'_>, kind: RetryFor) -> Retry {
    let mut r = Retry::default();
    let mut valid = true;
    match f.int("retry") {
        Some((_, n)) if (0..=MAX_RETRIES).contains(&n) => r.times = n as u32,
        Some((e, _)) => {
            valid = false;
            f.error(e, format!("must be a whole number from 0 to {MAX_RETRIES} (attempts after the first)"));
        }
        None => {}
    }
    if let Some(d) = positive(f, "retry_delay", "the wait before the first retry") {
        r.delay = d;
    }
    if let Some(d) = positive(f, "retry_max_delay", "the longest wait between two attempts") {
        r.max_delay = d;
    }
    if let Some((e, v)) = f.string("retry_backoff") {
        match v.trim().parse::<f64>() {
            Ok(b) if b.is_finite() && (1.0..=100.0).contains(&b) => r.backoff = b,
            _ => f.error(e, format!("invalid retry_backoff \"{v}\": expected a number from 1 to 100, like 2")),
        }
    }
    if let Some((e, v)) = f.string("retry_on") {
        r.on = parse_causes(f, e, &v, kind);
        if r.times == 0 && valid {
            f.warn(e, "ignored: retry is 0, so no failed run is tried again");
        }
    }
    r
}

fn parse_causes(f: &mut Fields<'_>, e: &Entry, v: &str, kind: RetryFor) -> Vec<Cause> {
    let mut out = Vec::new();
    for word in v.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let cause = match (word.to_ascii_lowercase().as_str(), kind) {
            ("timeout", _) => Some(Cause::Timeout),
            ("5xx", RetryFor::Http) => Some(Cause::Status5xx),
            ("connect", RetryFor::Http) => Some(Cause::Connect),
            (w, RetryFor::Commands) => w.parse::<u8>().ok().filter(|c| *c > 0).map(|c| Cause::Exit(i32::from(c))),
            (w, RetryFor::Http) => w.parse::<u16>().ok().filter(|s| (100..600).contains(s)).map(Cause::Status),
        };
        match cause {
            Some(c) => out.push(c),
            None => {
                let expected = match kind {
                    RetryFor::Commands => "exit codes from 1 to 255 or timeout, like 1,75",
                    RetryFor::Http => "5xx, timeout, connect or HTTP status codes, like 5xx,429",
                };
                f.error(e, format!("unknown retry_on value \"{word}\": expected {expected}"));
            }
        }
    }
    out
}

/// What a timer does with slots it missed (`catch_up`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatchUpMode {
    None,
    Latest,
    All,
}

impl CatchUpMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CatchUpMode::None => "none",
            CatchUpMode::Latest => "latest",
            CatchUpMode::All => "all",
        }
    }
}

/// `catch_up` and `catch_up_window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUp {
    pub mode: CatchUpMode,
    /// Slots older than this before now are recorded as missed, never run.
    pub window: Duration,
    /// `catch_up` was written: then it also applies after a resume, and
    /// its runs say `catch_up`; the default keeps SPEC 4's start-up.
    pub explicit: bool,
}

impl CatchUp {
    /// SPEC 4's behaviour for a timer of this kind.
    pub fn default_for(timer: Option<&Timer>) -> CatchUp {
        let mode = match timer {
            Some(Timer::Interval(_)) => CatchUpMode::Latest,
            _ => CatchUpMode::None,
        };
        CatchUp { mode, window: DEFAULT_CATCH_UP_WINDOW, explicit: false }
    }
}

/// Reads `catch_up` and `catch_up_window`; they need a timer.
pub fn read_catch_up(f: &mut Fields<'_>, timer: Option<&Timer>) -> CatchUp {
    let mut c = CatchUp::default_for(timer);
    if let Some(w) = positive(f, "catch_up_window", "how far back missed slots are run") {
        c.window = w;
    }
    if let Some((e, v)) = f.string("catch_up") {
        let mode = match v.trim().to_ascii_lowercase().as_str() {
            "none" => Some(CatchUpMode::None),
            "latest" => Some(CatchUpMode::Latest),
            "all" => Some(CatchUpMode::All),
            _ => {
                f.error(e, format!("unknown catch_up \"{v}\": expected none, latest or all"));
                None
            }
        };
        if let Some(mode) = mode {
            c = CatchUp { mode, explicit: true, ..c };
            if timer.is_none() {
                f.warn(e, "ignored: the job has no schedule or interval, so it has no slots to catch up");
            }
        }
    }
    c
}

/// A duration key that must be above zero.
fn positive(f: &mut Fields<'_>, key: &'static str, what: &str) -> Option<Duration> {
    let (e, n) = f.duration(key)?;
    if n <= 0 {
        f.error(e, format!("must be a duration above 0, like 30s ({what})"));
        return None;
    }
    Some(Duration::from_nanos(n as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_by_the_backoff_and_stop_at_the_cap() {
        let r = Retry {
            times: 5,
            delay: Duration::from_secs(10),
            backoff: 2.0,
            max_delay: Duration::from_secs(60),
            on: vec![],
        };
        let waits: Vec<u64> = (2..=6).map(|a| r.wait_before(a).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 60, 60]);
        let flat = Retry { backoff: 1.0, ..r };
        assert_eq!(flat.wait_before(6), Duration::from_secs(10));
    }

    #[test]
    fn retry_on_matches_only_its_causes() {
        let any = Retry::default();
        assert!(any.covers(None) && any.covers(Some(Cause::Exit(3))));
        let some = Retry { on: vec![Cause::Exit(75), Cause::Status5xx, Cause::Timeout], ..Retry::default() };
        assert!(some.covers(Some(Cause::Exit(75))));
        assert!(!some.covers(Some(Cause::Exit(1))));
        assert!(some.covers(Some(Cause::Status(503))));
        assert!(!some.covers(Some(Cause::Status(404))));
        assert!(some.covers(Some(Cause::Timeout)));
        assert!(!some.covers(None), "a failure of no known cause is not in a list");
        assert_eq!(some.on_text(), "75,5xx,timeout");
    }
}
