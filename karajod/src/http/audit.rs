//! The HTTP side of the audit trail: [`State::record`] turns a request's
//! outcome into an entry of `crate::auth::audit`, and `GET
//! /karajo/api/audit?limit=&before=` (admin) answers the newest entries:
//! rows of the run database's `audit` table (`seq` is the row id) when the
//! daemon has one, else the audit log file (`seq` is the line number).

use proto::AuditEntry;

use crate::auth::Principal;
use crate::auth::audit::{origin_of, read_newest, socket_actor};
use crate::http::State;
use crate::http::api::Reply;
use crate::http::auth::Caller;
use crate::http::error::{ApiError, ok};
use crate::http::input::Params;

/// The default and largest `limit` of `GET /audit`.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

impl State {
    /// Records one audited request: `who` did `action` on `target` with
    /// `result` (`ok`, or the error's `ERR_*` name).
    pub fn record<T>(
        &self,
        caller: &Caller,
        who: Option<&Principal>,
        action: &str,
        target: &str,
        result: &Result<T, ApiError>,
    ) {
        self.record_as(caller, actor_of(caller, who), action, target, result);
    }

    /// [`State::record`] with an actor of its own (webhooks, logins).
    pub fn record_as<T>(
        &self,
        caller: &Caller,
        actor: String,
        action: &str,
        target: &str,
        result: &Result<T, ApiError>,
    ) {
        let (via, source) = origin_of(caller);
        self.record_from(via, source, actor, action, target, result);
    }

    /// [`State::record_as`] for what came by no connection (a signal).
    pub fn record_from<T>(
        &self,
        via: &str,
        source: String,
        actor: String,
        action: &str,
        target: &str,
        result: &Result<T, ApiError>,
    ) {
        let result = match result {
            Ok(_) => "ok".to_string(),
            Err(e) => e.name().map_or_else(|| format!("HTTP {}", e.status().as_u16()), |n| n.as_str().to_string()),
        };
        self.audit.record(AuditEntry {
            at: self.clock.now(),
            actor,
            via: via.into(),
            source,
            action: action.into(),
            target: target.into(),
            result,
        });
    }
}

/// SPEC 21's actor form of whoever made a request: the socket's peer, or
/// the principal it proved.
pub fn actor_of(caller: &Caller, who: Option<&Principal>) -> String {
    match (caller, who) {
        (Caller::Socket { uid, pid }, _) => socket_actor(*uid, *pid),
        (_, Some(p)) => p.actor(),
        (_, None) => "anonymous".into(),
    }
}

/// `GET /audit`: newest first, `limit` (default 100, at most 1000) entries
/// whose `seq` is below `before`.
pub async fn list(state: &State, q: &Params) -> Reply {
    let limit = match q.get("limit").filter(|v| !v.is_empty()) {
        None => DEFAULT_LIMIT,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| ApiError::BadRequest(format!("invalid limit \"{v}\": expected 1 to {MAX_LIMIT}")))?,
    };
    let before = match q.get("before").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::BadRequest(format!("invalid before \"{v}\": expected an entry's seq")))?,
        ),
    };
    if let Some(history) = state.backend.history() {
        let before = before.map(|b| i64::try_from(b).unwrap_or(i64::MAX));
        return match history.audit_rows(limit as u32, before).await {
            Ok(rows) => Ok(ok(rows)),
            Err(e) => {
                tracing::error!("reading the audit rows: {e}");
                Err(ApiError::Unavailable)
            }
        };
    }
    let Some(path) = state.audit.path().map(|p| p.to_path_buf()) else {
        return Ok(ok(Vec::<proto::AuditRecord>::new()));
    };
    let read = tokio::task::spawn_blocking(move || read_newest(&path, limit, before)).await;
    match read {
        Ok(Ok(entries)) => Ok(ok(entries)),
        Ok(Err(e)) => {
            tracing::error!("reading the audit log: {e}");
            Err(ApiError::Internal)
        }
        Err(_) => Err(ApiError::Internal),
    }
}
