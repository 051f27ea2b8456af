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

/// A clock that only moves when told: `set` and `advance` wake every
/// sleeper whose time has come. For tests of timer logic and for library
/// users who simulate time.
#[derive(Debug)]
pub struct ManualClock {
    now: tokio::sync::watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock { now: tokio::sync::watch::channel(start).0 }
    }

    /// A new clock at `start`, shared: what most tests hand to the parts they drive.
    pub fn at(start: DateTime<Utc>) -> std::sync::Arc<ManualClock> {
        std::sync::Arc::new(ManualClock::new(start))
    }

    /// Moves the clock to `t` (it may go backwards, like a stepped wall clock).
    pub fn set(&self, t: DateTime<Utc>) {
        self.now.send_replace(t);
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: std::time::Duration) {
        let d = chrono::TimeDelta::from_std(d).expect("a sane duration");
        self.now.send_modify(|t| *t += d);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, t: DateTime<Utc>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock; if it goes, nobody will wake us.
            while *rx.borrow_and_update() < t {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_when_their_time_comes() {
        let t0 = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let clock = std::sync::Arc::new(ManualClock::new(t0));
        let sleeper = tokio::spawn(clock.sleep_until(t0 + chrono::TimeDelta::seconds(60)));
        clock.advance(std::time::Duration::from_secs(59));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(std::time::Duration::from_secs(1));
        tokio::time::timeout(std::time::Duration::from_secs(5), sleeper).await.unwrap().unwrap();
        assert_eq!(clock.now(), t0 + chrono::TimeDelta::seconds(60));
    }
}
