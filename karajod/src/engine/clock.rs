//! The injectable clock: wall time for schedules and logs, and sleeping
//! until a wall time, so tests can run a year of timers in milliseconds.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};

/// Wall-clock time and sleeping until a wall-clock instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves at (or just after) `t`.
    fn sleep_until(&self, t: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            // Re-check after waking: the wall clock may have been stepped.
            loop {
                let left = t - Utc::now();
                if left <= chrono::TimeDelta::zero() {
                    return;
                }
                tokio::time::sleep(left.to_std().unwrap_or_default()).await;
            }
        })
    }
}
