//! The vocabulary that karajod and karajoctl must agree on: job IDs and
//! statuses, the JSON views of jobs and logs, the `{code, message, data}`
//! response wrapper with its `ERR_*` names, the request signatures, and how
//! credentials are shown (hidden).
//!
//! Invariant: nothing here depends on a runtime, a web framework or a CLI
//! library, so both sides (and third-party clients) can link it cheaply.

pub mod access;
pub mod check;
pub mod job;
pub mod redact;
pub mod reload;
pub mod response;
pub mod run;
pub mod session;
pub mod sign;
pub mod status;
pub mod time;
pub mod upcoming;
pub mod words;

pub use access::{AuditEntry, AuditRecord, Role};
pub use check::{Check, CheckStatus};
pub use job::{
    AnyJob, Environment, Job, JobAlerts, JobBase, JobHttp, JobId, JobKind, JobLog, JobLogContent, JobStatus, log_name,
};
pub use reload::{ReloadRefused, ReloadReport};
pub use response::{ErrorName, Response};
pub use run::Run;
pub use session::Session;
pub use status::Status;
pub use upcoming::Upcoming;
