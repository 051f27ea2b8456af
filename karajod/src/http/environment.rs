//! `GET /karajo/api/environment` as sent: the encoded answer is kept and
//! sent again until the engine's state version moves. Encoding 1,000 jobs
//! costs a few milliseconds; an unchanged answer costs a lock and a clone.
//!
//! Invariant: the version is read before the view is built, so a change
//! made meanwhile makes the next request build again rather than be
//! served stale. A backend that has no version (route-test fakes) is
//! encoded on every request.

use std::sync::Mutex;

use bytes::Bytes;

use crate::engine::StateVersion;
use crate::http::Backend;

/// The last encoded answer and the state version it shows.
#[derive(Debug, Default)]
pub struct EnvironmentCache {
    kept: Mutex<Option<(StateVersion, Bytes)>>,
}

impl EnvironmentCache {
    /// The kept answer if nothing changed since it was encoded: cheap, so
    /// the route tries it on the async workers first.
    pub fn unchanged(&self, b: &dyn Backend) -> Option<Bytes> {
        let now = b.state_version()?;
        match &*self.lock() {
            Some((v, body)) if *v == now => Some(body.clone()),
            _ => None,
        }
    }

    /// The answer, encoded again if the state moved (keeps the new one).
    pub fn answer(&self, b: &dyn Backend) -> Result<Bytes, serde_json::Error> {
        let version = b.state_version();
        let last_len = match (&*self.lock(), version) {
            (Some((v, body)), Some(now)) if *v == now => return Ok(body.clone()),
            (Some((_, body)), _) => body.len(),
            (None, _) => 0,
        };
        // Sized from the last answer: growing 850 KB by doubling copies twice that.
        let mut bytes = Vec::with_capacity(last_len + last_len / 16);
        serde_json::to_writer(&mut bytes, &proto::Response::ok(b.environment()))?;
        let body = Bytes::from(bytes);
        if let Some(v) = version {
            *self.lock() = Some((v, body.clone()));
        }
        Ok(body)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(StateVersion, Bytes)>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}
