//! Helpers the schedule tests share.

use chrono::{DateTime, Utc};

use super::Schedule;

pub(super) fn sched(s: &str) -> Schedule {
    s.parse().unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

pub(super) fn err(s: &str) -> String {
    match s.parse::<Schedule>() {
        Ok(ok) => panic!("{s:?} should fail, parsed as {ok}"),
        Err(e) => e.to_string(),
    }
}

pub(super) fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("bad test instant {s:?}: {e}"))
}

pub(super) fn next(s: &str, t: &str) -> DateTime<Utc> {
    sched(s).next_after(at(t))
}
