//! Replay protection (SPEC 13), on only when `[karajo] replay_window` is
//! set: a signed request must carry `_karajo_epoch` within the window of
//! the server clock, and the same request (endpoint + signed bytes) is
//! accepted once per window. Signed reads (SPEC 21) always need an epoch
//! within [`READ_WINDOW`], and fall under these rules too when they are on.
//! The action-binding `X-Karajo-Signature` form is always guarded, within
//! `replay_window` or [`BOUND_WINDOW`] when that is off.
//!
//! Invariants: the epoch is taken from the signed bytes only, never from
//! an unsigned part of the request (so a fresh epoch cannot be attached to
//! an old signature); only requests whose signature already verified are
//! recorded, so strangers cannot fill the table; the table is bounded
//! ([`MAX_SEEN`]) and entries are dropped once outside the window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::engine::Clock;
use crate::http::error::ApiError;

/// The most requests remembered at once.
pub const MAX_SEEN: usize = 100_000;
/// The parameter that carries the signer's clock.
pub const EPOCH_PARAM: &str = "_karajo_epoch";
/// How far a signed read's epoch may be from the server clock.
pub const READ_WINDOW: Duration = Duration::from_secs(5 * 60);
/// The replay window of `X-Karajo-Signature` when `replay_window` is off.
pub const BOUND_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Signed requests seen inside the window.
pub struct ReplayGuard {
    clock: Arc<dyn Clock>,
    seen: Mutex<HashMap<[u8; 32], DateTime<Utc>>>,
}

impl std::fmt::Debug for ReplayGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayGuard").finish_non_exhaustive()
    }
}

impl ReplayGuard {
    pub fn new(clock: Arc<dyn Clock>) -> ReplayGuard {
        ReplayGuard { clock, seen: Mutex::new(HashMap::new()) }
    }

    /// Accepts a verified request once: `scope` names the endpoint, `signed`
    /// is what the signature covers (form or JSON body, or raw query) and
    /// must hold `_karajo_epoch`.
    pub fn check(&self, window: Duration, scope: &str, signed: &[u8]) -> Result<(), ApiError> {
        let window = delta(window);
        let now = self.fresh(signed, window)?;
        self.remember(window, now, scope, signed)
    }

    /// Accepts a verified read: its signed query must hold an epoch within
    /// [`READ_WINDOW`] (and within `replay_window` when set, which also
    /// refuses an exact replay).
    pub fn check_read(&self, replay_window: Option<Duration>, scope: &str, query: &[u8]) -> Result<(), ApiError> {
        let window = delta(replay_window.map_or(READ_WINDOW, |w| w.min(READ_WINDOW)));
        let now = self.fresh(query, window)?;
        match replay_window {
            Some(_) => self.remember(window, now, scope, query),
            None => Ok(()),
        }
    }

    /// Accepts a verified `X-Karajo-Signature` request once: its epoch
    /// (`t=`) within `window` (default [`BOUND_WINDOW`]), and `payload`
    /// (method, path, epoch and body) not seen inside it.
    pub fn check_bound(&self, window: Option<Duration>, epoch: i64, payload: &[u8]) -> Result<(), ApiError> {
        let window = delta(window.unwrap_or(BOUND_WINDOW));
        let now = self.fresh_epoch(epoch, window)?;
        self.remember(window, now, "bound", payload)
    }

    /// The clock now, when the epoch in `signed` is within `window` of it.
    fn fresh(&self, signed: &[u8], window: chrono::TimeDelta) -> Result<DateTime<Utc>, ApiError> {
        let epoch = find_epoch(signed)
            .ok_or_else(|| ApiError::BadRequest(format!("missing or invalid signed {EPOCH_PARAM}")))?;
        self.fresh_epoch(epoch, window)
    }

    fn fresh_epoch(&self, epoch: i64, window: chrono::TimeDelta) -> Result<DateTime<Utc>, ApiError> {
        let now = self.clock.now();
        let sent = DateTime::<Utc>::from_timestamp(epoch, 0).ok_or(ApiError::Replay("request epoch out of range"))?;
        if (now - sent).abs() > window {
            return Err(ApiError::Replay("request epoch outside the replay window"));
        }
        Ok(now)
    }

    fn remember(
        &self,
        window: chrono::TimeDelta,
        now: DateTime<Utc>,
        scope: &str,
        signed: &[u8],
    ) -> Result<(), ApiError> {
        let key: [u8; 32] = Sha256::new().chain_update(scope).chain_update([0]).chain_update(signed).finalize().into();
        let mut seen = self.seen.lock().expect("replay lock");
        if seen.len() >= MAX_SEEN {
            seen.retain(|_, t| now - *t <= window);
        }
        match seen.get(&key) {
            Some(t) if now - *t <= window => return Err(ApiError::Replay("request already seen")),
            _ if seen.len() >= MAX_SEEN => return Err(ApiError::TooManyRequests),
            _ => {}
        }
        seen.insert(key, now);
        Ok(())
    }
}

fn delta(d: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)
}

/// `_karajo_epoch` from a JSON object or a form/query string.
pub fn find_epoch(source: &[u8]) -> Option<i64> {
    let trimmed = source.trim_ascii_start();
    if trimmed.starts_with(b"{") {
        let v: serde_json::Value = serde_json::from_slice(trimmed).ok()?;
        return match v.get(EPOCH_PARAM)? {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(source).ok()?;
    pairs.into_iter().find(|(k, _)| k == EPOCH_PARAM).and_then(|(_, v)| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::session::tests::ManualClock;

    const W: Duration = Duration::from_secs(300);

    #[test]
    fn epochs_are_found_in_json_forms_and_queries() {
        assert_eq!(find_epoch(br#"{"_karajo_epoch":1677350854}"#), Some(1677350854));
        assert_eq!(find_epoch(br#" {"_karajo_epoch":"12"}"#), Some(12));
        assert_eq!(find_epoch(b"id=x&_karajo_epoch=5"), Some(5));
        assert_eq!(find_epoch(b"id=x"), None);
        assert_eq!(find_epoch(b"{not json"), None);
        assert_eq!(find_epoch(b"_karajo_epoch=abc"), None);
    }

    #[test]
    fn a_replay_inside_the_window_is_refused() {
        let clock = ManualClock::at(Utc::now());
        let g = ReplayGuard::new(clock.clone());
        let body = format!("_karajo_epoch={}&id=a", clock.now().timestamp());
        g.check(W, "pause", body.as_bytes()).unwrap();
        let again = g.check(W, "pause", body.as_bytes());
        assert_eq!(again, Err(ApiError::Replay("request already seen")));
        // Another endpoint with the same bytes is another request.
        g.check(W, "resume", body.as_bytes()).unwrap();
    }

    #[test]
    fn stale_future_and_missing_epochs_are_refused() {
        let clock = ManualClock::at(Utc::now());
        let g = ReplayGuard::new(clock.clone());
        let now = clock.now().timestamp();
        for epoch in [now - 301, now + 301, i64::MAX] {
            let b = format!("_karajo_epoch={epoch}");
            assert_eq!(g.check(W, "s", b.as_bytes()).unwrap_err().status(), 409, "{epoch}");
        }
        assert_eq!(g.check(W, "s", b"id=x").unwrap_err().status(), 400);
    }

    #[test]
    fn reads_need_a_fresh_signed_epoch_and_replays_count_only_with_the_window() {
        let clock = ManualClock::at(Utc::now());
        let g = ReplayGuard::new(clock.clone());
        let now = clock.now().timestamp();
        assert_eq!(g.check_read(None, "/env", b"").unwrap_err().status(), 400, "a fixed string never passes");
        let stale = format!("_karajo_epoch={}", now - 301);
        assert_eq!(g.check_read(None, "/env", stale.as_bytes()).unwrap_err().status(), 409);
        let q = format!("_karajo_epoch={now}");
        g.check_read(None, "/env", q.as_bytes()).unwrap();
        g.check_read(None, "/env", q.as_bytes()).unwrap();
        let w = Some(Duration::from_secs(60));
        let near = format!("_karajo_epoch={}", now - 90);
        assert_eq!(g.check_read(w, "/env", near.as_bytes()).unwrap_err().status(), 409, "the narrower window");
        g.check_read(w, "/env", q.as_bytes()).unwrap();
        assert_eq!(g.check_read(w, "/env", q.as_bytes()), Err(ApiError::Replay("request already seen")));
    }
}
