//! Who may do what, and who did it (SPEC 21): the roles both sides name,
//! and the audit entry the daemon writes and karajoctl prints.
//!
//! Invariant: roles are ordered (`Viewer < Operator < Admin`); a role may
//! do everything a lower one may.

use serde::{Deserialize, Serialize};

/// A user's or token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads only.
    Viewer,
    /// Reads, and run, pause, resume, cancel.
    Operator,
    /// Everything, including reload and the audit log.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// The role named `s` (case-insensitive), if any.
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Operator, Role::Admin].into_iter().find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the audit log, and one entry of `GET /karajo/api/audit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339 UTC.
    pub at: chrono::DateTime<chrono::Utc>,
    /// `user:NAME`, `token:NAME`, `socket:uid=U(NAME) pid=P`, `signature`,
    /// `webhook:KIND delivery=ID`, or `anonymous`.
    pub actor: String,
    /// The transport: `tcp` or `socket`.
    pub via: String,
    /// The peer address (TCP) or `uid=U` (socket).
    pub source: String,
    /// e.g. `job_exec/pause`, `login`, `logout`, `reload`.
    pub action: String,
    /// The job ID or user name acted on; empty when none.
    pub target: String,
    /// `ok`, or the `ERR_*` name of the refusal.
    pub result: String,
}

/// An audit entry as `GET /karajo/api/audit` answers it: with `seq`, its
/// place in the log (pass it as `before` for the next, older page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    #[serde(flatten)]
    pub entry: AuditEntry,
}
