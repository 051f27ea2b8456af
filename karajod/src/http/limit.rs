//! Login rate limiting: after [`MAX_LOGIN_FAILURES`] failed logins from one
//! address within [`LOGIN_WINDOW`], further attempts from it are refused
//! (429) until the window that started with the first failure has passed.
//!
//! Invariants: the table is bounded ([`MAX_TRACKED`] addresses); time comes
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

    /// True when `addr` may try to log in now.
    pub fn allowed(&self, addr: &str) -> bool {
        let now = self.clock.now();
        let map = self.entries.lock().expect("limiter lock");
        match map.get(addr) {
            Some(e) if now - e.since < Self::window() => e.failures < MAX_LOGIN_FAILURES,
            _ => true,
        }
    }

    /// Counts a failed login from `addr`.
    pub fn failed(&self, addr: &str) {
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
        e.failures += 1;
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
            assert!(l.allowed("1.2.3.4"));
            l.failed("1.2.3.4");
        }
        assert!(!l.allowed("1.2.3.4"));
        assert!(l.allowed("5.6.7.8"), "other addresses are not affected");
        clock.advance(LOGIN_WINDOW);
        assert!(l.allowed("1.2.3.4"));
    }

    #[test]
    fn success_resets() {
        let l = LoginLimiter::new(ManualClock::at(Utc::now()));
        for _ in 0..MAX_LOGIN_FAILURES {
            l.failed("a");
        }
        l.succeeded("a");
        assert!(l.allowed("a"));
    }

    #[test]
    fn the_table_is_bounded() {
        let l = LoginLimiter::new(ManualClock::at(Utc::now()));
        for i in 0..MAX_TRACKED + 10 {
            l.failed(&i.to_string());
        }
        assert!(l.entries.lock().unwrap().len() <= MAX_TRACKED);
    }
}
