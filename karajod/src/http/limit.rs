//! Login rate limiting: after [`MAX_LOGIN_FAILURES`] failed logins from one
//! address within [`LOGIN_WINDOW`], further attempts from it are refused
//! (429) until the window that started with the first failure has passed.
//!
//! Invariants: an attempt is counted as a failure when it starts, in the
//! same locked step that admits it, and forgiven only when it succeeds: so
//! parallel attempts cannot all pass the check before any is counted, and
//! at most [`MAX_LOGIN_FAILURES`] password checks run per address and
//! window. The table is bounded ([`MAX_TRACKED`] addresses); time comes
//! from the injected clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::engine::Clock;

/// Failed logins allowed per address and window.
pub const MAX_LOGIN_FAILURES: u32 = 5;
/// The window failures are counted over.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// At most this many addresses are tracked.
pub const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    since: DateTime<Utc>,
    failures: u32,
}

/// Failed-login counters by client address.
pub struct LoginLimiter {
    clock: Arc<dyn Clock>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for LoginLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginLimiter").finish_non_exhaustive()
    }
}

impl LoginLimiter {
    pub fn new(clock: Arc<dyn Clock>) -> LoginLimiter {
        LoginLimiter { clock, entries: Mutex::new(HashMap::new()) }
    }

    fn window() -> chrono::TimeDelta {
        chrono::TimeDelta::from_std(LOGIN_WINDOW).expect("small duration")
    }

    /// Admits and counts one attempt from `addr` (false: refuse it, 429).
    /// The attempt counts as failed until [`LoginLimiter::succeeded`].
    pub fn attempt(&self, addr: &str) -> bool {
        let now = self.clock.now();
        let mut map = self.entries.lock().expect("limiter lock");
        if map.len() >= MAX_TRACKED && !map.contains_key(addr) {
            map.retain(|_, e| now - e.since < Self::window());
            if map.len() >= MAX_TRACKED
                && let Some(k) = map.iter().min_by_key(|(_, e)| e.since).map(|(k, _)| k.clone())
            {
                map.remove(&k);
            }
        }
        let e = map.entry(addr.to_string()).or_insert(Entry { since: now, failures: 0 });
        if now - e.since >= Self::window() {
            *e = Entry { since: now, failures: 0 };
        }
        if e.failures >= MAX_LOGIN_FAILURES {
            return false;
        }
        e.failures += 1;
        true
    }

    /// A successful login clears the address's failures.
    pub fn succeeded(&self, addr: &str) {
        self.entries.lock().expect("limiter lock").remove(addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::session::tests::ManualClock;

    #[test]
    fn blocks_after_the_limit_until_the_window_passes() {
        let clock = ManualClock::at(Utc::now());
        let l = LoginLimiter::new(clock.clone());
        for _ in 0..MAX_LOGIN_FAILURES {
            assert!(l.attempt("1.2.3.4"));
        }
        assert!(!l.attempt("1.2.3.4"));
        assert!(l.attempt("5.6.7.8"), "other addresses are not affected");
        clock.advance(LOGIN_WINDOW);
        assert!(l.attempt("1.2.3.4"));
    }

    #[test]
    fn success_resets() {
        let l = LoginLimiter::new(ManualClock::at(Utc::now()));
        for _ in 0..MAX_LOGIN_FAILURES {
            assert!(l.attempt("a"));
        }
        l.succeeded("a");
        assert!(l.attempt("a"));
    }

    #[test]
    fn parallel_attempts_are_admitted_up_to_the_limit() {
        let l = Arc::new(LoginLimiter::new(ManualClock::at(Utc::now())));
        let admitted: u32 = std::thread::scope(|s| {
            let hs: Vec<_> = (0..60).map(|_| s.spawn(|| u32::from(l.attempt("a")))).collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(admitted, MAX_LOGIN_FAILURES);
    }

    #[test]
    fn the_table_is_bounded() {
        let l = LoginLimiter::new(ManualClock::at(Utc::now()));
        for i in 0..MAX_TRACKED + 10 {
            l.attempt(&i.to_string());
        }
        assert!(l.entries.lock().unwrap().len() <= MAX_TRACKED);
    }
}
