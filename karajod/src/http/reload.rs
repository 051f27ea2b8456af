//! `POST /karajo/api/reload`: the HTTP door to the one reload path
//! (`crate::reload`), used by `karajoctl reload` over the control socket
//! and by the unit's `ExecReload`. Access is that of any mutation (the
//! socket, a signature, or a session with its CSRF token).
//!
//! Answers 200 with what changed, or 400 `ERR_CONFIG` with every error of
//! a refused configuration (the old one stays in force).

use crate::http::State;
use crate::http::api::Reply;
use crate::http::error::{ApiError, ok};
use crate::reload::ReloadError;

/// Reloads the configuration file and says what changed.
pub async fn reload(state: &State) -> Reply {
    let Some(reloader) = state.reloader.clone() else {
        return Err(ApiError::BadRequest("this karajod runs without a configuration file: nothing to reload".into()));
    };
    match reloader.reload().await {
        Ok(report) => {
            tracing::info!(config = %report.config_file, "configuration reloaded on request");
            Ok(ok(report))
        }
        Err(ReloadError::Refused(refused)) => {
            tracing::error!("reload refused, the old configuration stays in force:\n{}", refused.errors.join("\n"));
            Err(ApiError::ConfigRefused(refused))
        }
        Err(e @ ReloadError::Failed(_)) => {
            tracing::error!("{e}");
            Err(ApiError::Internal)
        }
    }
}
