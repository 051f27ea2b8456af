//! Deliveries counted by notification and result, for
//! `karajo_notifications_total{notif,result}`. Shared by every
//! [`super::Notifier`] the daemon builds (one per configuration), so the
//! counters only grow across reloads.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The result labels.
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";
pub const DROPPED: &str = "dropped";

/// Counts per (notification name, result). Bounded by the names configured.
#[derive(Debug, Default)]
pub struct Counts {
    by: Mutex<BTreeMap<(String, &'static str), u64>>,
}

impl Counts {
    pub fn add(&self, notif: &str, result: &'static str) {
        let mut by = self.by.lock().unwrap_or_else(|e| e.into_inner());
        *by.entry((notif.to_string(), result)).or_default() += 1;
    }

    /// Every count so far, sorted by name and result.
    pub fn snapshot(&self) -> Vec<(String, &'static str, u64)> {
        let by = self.by.lock().unwrap_or_else(|e| e.into_inner());
        by.iter().map(|((n, r), c)| (n.clone(), *r, *c)).collect()
    }

    /// One count, for tests and `karajod` logs.
    pub fn get(&self, notif: &str, result: &'static str) -> u64 {
        let by = self.by.lock().unwrap_or_else(|e| e.into_inner());
        by.get(&(notif.to_string(), result)).copied().unwrap_or(0)
    }
}
