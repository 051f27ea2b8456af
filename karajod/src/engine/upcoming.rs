//! The timer runs due soon (SPEC 16 "upcoming runs"), computed from each
//! timer as it would fire: the slots of a schedule after now, or an
//! interval from the last run, each moved by the job's jitter.
//!
//! Invariant: paused jobs are left out; the first run listed for a job is
//! its `next_run`. Entry locks are held only to copy the timer out.

use chrono::{DateTime, TimeDelta, Utc};
use proto::Upcoming;

use super::Engine;
use crate::config::Timer;
use crate::schedule::jitter;

impl Engine {
    /// The runs due within `horizon` from now, sorted by start time (then
    /// kind and ID), at most `limit`.
    pub fn upcoming(&self, horizon: TimeDelta, limit: usize) -> Vec<Upcoming> {
        let now = self.inner.clock.now();
        let until = now.checked_add_signed(horizon).unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut all = Vec::new();
        for entry in self.entries() {
            let (timer, name, jitter, last_run) = {
                let st = entry.lock();
                let c = st.spec.common();
                if st.paused {
                    continue;
                }
                let Some(timer) = c.timer.clone() else { continue };
                (timer, c.name.clone(), c.jitter, st.last_run)
            };
            let slots = slots(&timer, now, last_run).take_while(|s| *s <= until).take(limit);
            for slot in slots {
                let at = jitter::delayed(entry.id.as_str(), slot, jitter);
                if at <= until {
                    all.push(Upcoming { kind: entry.kind, id: entry.id.clone(), name: name.clone(), at, slot });
                }
            }
        }
        all.sort_by(|a, b| (a.at, a.kind, &a.id).cmp(&(b.at, b.kind, &b.id)));
        all.truncate(limit);
        all
    }
}

/// A timer's slots from now on, as `timer::next_due` finds them (also
/// `karajod check --next`).
pub(crate) fn slots(
    timer: &Timer,
    now: DateTime<Utc>,
    last_run: Option<DateTime<Utc>>,
) -> impl Iterator<Item = DateTime<Utc>> {
    let mut next = super::timer::next_due(timer, now, last_run, None);
    let timer = timer.clone();
    std::iter::from_fn(move || {
        let slot = next;
        if slot == DateTime::<Utc>::MAX_UTC {
            return None;
        }
        next = match &timer {
            Timer::Schedule(s) => s.next_after(slot),
            Timer::Interval(d) => slot.checked_add_signed(TimeDelta::from_std(*d).ok()?)?,
        };
        Some(slot)
    })
}
