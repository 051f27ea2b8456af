//! Replay protection (SPEC 13), on only when `[karajo] replay_window` is
//! set: a signed request must carry `_karajo_epoch` within the window of
//! the server clock, and the same request (endpoint + signed bytes) is
//! accepted once per window.
//!
//! Invariants: only requests whose signature already verified are
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
    /// is what the signature covers, `sources` are where `_karajo_epoch`
    /// may be (form or JSON body, raw query).
    pub fn check(&self, window: Duration, scope: &str, signed: &[u8], sources: &[&[u8]]) -> Result<(), ApiError> {
        let epoch = sources
            .iter()
            .find_map(|s| find_epoch(s))
            .ok_or_else(|| ApiError::BadRequest(format!("missing or invalid {EPOCH_PARAM}")))?;
        let now = self.clock.now();
        let window = chrono::TimeDelta::from_std(window).unwrap_or(chrono::TimeDelta::MAX);
        let sent = DateTime::<Utc>::from_timestamp(epoch, 0).ok_or(ApiError::Replay("request epoch out of range"))?;
        if (now - sent).abs() > window {
            return Err(ApiError::Replay("request epoch outside the replay window"));
        }
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
        g.check(W, "pause", body.as_bytes(), &[body.as_bytes()]).unwrap();
        let again = g.check(W, "pause", body.as_bytes(), &[body.as_bytes()]);
        assert_eq!(again, Err(ApiError::Replay("request already seen")));
        // Another endpoint with the same bytes is another request.
        g.check(W, "resume", body.as_bytes(), &[body.as_bytes()]).unwrap();
    }

    #[test]
    fn stale_future_and_missing_epochs_are_refused() {
        let clock = ManualClock::at(Utc::now());
        let g = ReplayGuard::new(clock.clone());
        let now = clock.now().timestamp();
        for epoch in [now - 301, now + 301, i64::MAX] {
            let b = format!("_karajo_epoch={epoch}");
            assert_eq!(g.check(W, "s", b.as_bytes(), &[b.as_bytes()]).unwrap_err().status(), 409, "{epoch}");
        }
        assert_eq!(g.check(W, "s", b"id=x", &[b"id=x"]).unwrap_err().status(), 400);
        // Found in the second source (the query) when the body has none.
        let q = format!("_karajo_epoch={now}");
        g.check(W, "s", b"{}", &[b"{}", q.as_bytes()]).unwrap();
    }
}
