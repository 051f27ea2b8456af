//! What a trigger does while its job is active (`overlap`, SPEC 17), and
//! the count of triggers refused or dropped for the metrics.
//!
//! Invariants: [`admit`] is pure on the entry's queue and says what to do;
//! the caller holds the entry's lock around it and acts on the answer. A
//! trigger that does not run is counted once, with its reason.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use proto::{JobId, JobKind};

use super::Trigger;
use crate::config::Overlap;

/// Why a trigger did not run (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DropReason {
    /// A timer tick while the job ran (every policy but `replace`).
    Running,
    /// `queue`: the queue was full (429).
    QueueFull,
    /// `skip`: refused while running (429).
    Skip,
    /// `latest`: a newer trigger took its place.
    Superseded,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Running => "running",
            DropReason::QueueFull => "queue_full",
            DropReason::Skip => "skip",
            DropReason::Superseded => "superseded",
        }
    }
}

/// What to do with a trigger for an active job.
#[derive(Debug, PartialEq, Eq)]
pub enum Admitted {
    /// Queued behind the run (maybe in place of a dropped one).
    Queued,
    /// Cancel the running run; the trigger is queued to start after it.
    Replace,
    /// Not run, answered as accepted (a timer tick).
    Dropped,
    /// Not run, answered 429.
    Refused,
}

/// Decides for `trigger` (with what travels with it, `T`: who asked)
/// while a run is active; updates `queue` and returns the reasons of what
/// did not run.
pub fn admit<T>(
    policy: Overlap,
    queue: &mut VecDeque<(Trigger, T)>,
    trigger: (Trigger, T),
) -> (Admitted, Option<DropReason>) {
    let timer = matches!(trigger.0, Trigger::Timer);
    match policy {
        Overlap::Replace => {
            queue.clear();
            queue.push_back(trigger);
            (Admitted::Replace, None)
        }
        _ if timer => (Admitted::Dropped, Some(DropReason::Running)),
        Overlap::Skip => (Admitted::Refused, Some(DropReason::Skip)),
        Overlap::Queue(n) if queue.len() >= n as usize => (Admitted::Refused, Some(DropReason::QueueFull)),
        Overlap::Queue(_) => {
            queue.push_back(trigger);
            (Admitted::Queued, None)
        }
        Overlap::Latest => {
            let superseded = queue.pop_front().map(|_| DropReason::Superseded);
            queue.clear();
            queue.push_back(trigger);
            (Admitted::Queued, superseded)
        }
    }
}

/// How many triggers of one job did not run for one reason, since start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedCount {
    pub kind: JobKind,
    pub id: JobId,
    /// [`DropReason::as_str`].
    pub reason: &'static str,
    pub count: u64,
}

/// Triggers that did not run, per job and reason, since start.
#[derive(Debug, Default)]
pub struct Dropped(Mutex<BTreeMap<(JobKind, JobId, DropReason), u64>>);

impl Dropped {
    pub fn count(&self, kind: JobKind, id: &JobId, reason: DropReason) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *m.entry((kind, id.clone(), reason)).or_default() += 1;
    }

    pub fn all(&self) -> Vec<DroppedCount> {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.iter()
            .map(|((kind, id, r), n)| DroppedCount { kind: *kind, id: id.clone(), reason: r.as_str(), count: *n })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manual() -> Trigger {
        Trigger::Manual
    }

    #[test]
    fn queue_takes_up_to_its_size_then_refuses() {
        let mut q = VecDeque::new();
        assert_eq!(admit(Overlap::Queue(2), &mut q, (manual(), ())), (Admitted::Queued, None));
        assert_eq!(admit(Overlap::Queue(2), &mut q, (manual(), ())), (Admitted::Queued, None));
        assert_eq!(admit(Overlap::Queue(2), &mut q, (manual(), ())), (Admitted::Refused, Some(DropReason::QueueFull)));
        assert_eq!(
            admit(Overlap::Queue(2), &mut q, (Trigger::Timer, ())),
            (Admitted::Dropped, Some(DropReason::Running))
        );
        assert_eq!(q.len(), 2);
    }

    #[test]
    fn skip_refuses_latest_supersedes_replace_replaces() {
        let mut q = VecDeque::new();
        assert_eq!(admit(Overlap::Skip, &mut q, (manual(), ())), (Admitted::Refused, Some(DropReason::Skip)));
        assert!(q.is_empty());
        assert_eq!(admit(Overlap::Latest, &mut q, (Trigger::Http { body: "1".into() }, ())), (Admitted::Queued, None));
        let second = admit(Overlap::Latest, &mut q, (Trigger::Http { body: "2".into() }, ()));
        assert_eq!(second, (Admitted::Queued, Some(DropReason::Superseded)));
        assert!(matches!(q.as_slices().0, [(Trigger::Http { body }, ())] if body == "2"), "{q:?}");
        assert_eq!(admit(Overlap::Replace, &mut q, (Trigger::Timer, ())), (Admitted::Replace, None));
        assert!(matches!(q.as_slices().0, [(Trigger::Timer, ())]), "{q:?}");
    }
}
