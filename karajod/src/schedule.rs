//! STUB (replaced by the sched branch).
use chrono::{DateTime, Utc};
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);
impl std::str::FromStr for Schedule {
    type Err = ScheduleError;
    fn from_str(_s: &str) -> Result<Self, Self::Err> {
        todo!()
    }
}
impl std::fmt::Display for Schedule {
    fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        todo!()
    }
}
impl Schedule {
    pub fn next_after(&self, _t: DateTime<Utc>) -> DateTime<Utc> {
        todo!()
    }
    pub fn describe(&self) -> String {
        todo!()
    }
}
