//! STUB (replaced by the sched branch).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DurationError(pub String);
pub fn parse(_s: &str) -> Result<i64, DurationError> {
    todo!()
}
pub fn format(_nanos: i64) -> String {
    todo!()
}
