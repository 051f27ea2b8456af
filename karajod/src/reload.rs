//! The one reload path (SIGHUP, `POST /karajo/api/reload`, `karajoctl
//! reload`): read the configuration file again, and either refuse it with
//! every error (the old one stays in force) or apply it to every part
//! that holds configuration.
//!
//! How each part follows: the engine is handed the new config (jobs
//! added, removed, changed; running runs untouched); the HTTP side and the
//! notifier read the config in force from the engine on each request or
//! run, so they follow the moment the engine has it; sessions are checked
//! against the users in force on every request (a removed user or a
//! changed password ends the session at once) and pruned from memory by
//! `http::State::apply_reload`; settings only a restart can apply (the
//! listeners, `dir_base`) are named in the report's warnings.
//!
//! Invariant: reloads run one at a time; a secret generated at start
//! stays for the daemon's life.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proto::reload::Changes;
use proto::{ReloadRefused, ReloadReport};

use crate::config::{self, Config, SharedKeys, UserConfig};
use crate::engine::Engine;

/// Reloads `path` into `engine`; shared by the signal handler and the API.
pub struct Reloader {
    engine: Engine,
    path: PathBuf,
    one_at_a_time: tokio::sync::Mutex<()>,
    applied: tokio::sync::watch::Sender<Arc<Config>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Why a reload did not apply.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new configuration has errors; the old one stays in force.
    #[error("configuration refused, the old one stays in force:\n{}", .0.errors.join("\n"))]
    Refused(ReloadRefused),
    /// Loading could not run at all.
    #[error("reload failed: {0}")]
    Failed(String),
}

impl Reloader {
    pub fn new(engine: Engine, path: PathBuf) -> Reloader {
        let (applied, _) = tokio::sync::watch::channel(engine.config());
        Reloader { engine, path, one_at_a_time: tokio::sync::Mutex::new(()), applied }
    }

    /// The configuration file reloads read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Announces each applied configuration (after the engine has it).
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Arc<Config>> {
        self.applied.subscribe()
    }

    /// Reads the file again and applies it, or refuses it with every error.
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let _one = self.one_at_a_time.lock().await;
        let path = self.path.clone();
        let loaded = tokio::task::spawn_blocking(move || config::load(&path))
            .await
            .map_err(|e| ReloadError::Failed(e.to_string()))?
            .map_err(|errors| {
                // Capped as karajod check prints them: a huge broken file gives a short answer.
                let lines = |list, noun| config::render_capped(list, "", noun).lines().map(String::from).collect();
                ReloadError::Refused(ReloadRefused {
                    errors: lines(&errors.errors, "error"),
                    warnings: lines(&errors.warnings, "warning"),
                })
            })?;
        let old = self.engine.config();
        let new = keep_generated_secret(&old, loaded.config);
        let mut report = report(&old, &new);
        report.config_file = self.path.display().to_string();
        report.warnings.splice(0..0, loaded.warnings.iter().map(|w| w.to_string()));
        self.engine.reload(new);
        self.applied.send_replace(self.engine.config());
        Ok(report)
    }
}

/// What differs between `old` and `new`, as the report says it.
fn report(old: &Config, new: &Config) -> ReloadReport {
    let (jobs, http_jobs) = (changes(&old.jobs, &new.jobs), changes(&old.http_jobs, &new.http_jobs));
    let sessions_ended_for = old
        .users
        .iter()
        .filter(|u| !UserConfig::still_logs_in(&new.users, &u.name, &UserConfig::credential(u.password_hash.expose())))
        .map(|u| u.name.clone())
        .collect();
    let (o, n) = (&old.server, &new.server);
    let mut warnings = Vec::new();
    for (key, differs) in [
        ("listen_address", o.listen_addr != n.listen_addr),
        ("control_socket", o.control_socket != n.control_socket),
        ("dir_base", o.dir_base != n.dir_base),
    ] {
        if differs {
            warnings.push(format!("[karajo] {key} changed: it takes effect at the next start"));
        }
    }
    ReloadReport { config_file: String::new(), jobs, http_jobs, sessions_ended_for, warnings }
}

fn same_but_place<T: SharedKeys + Clone + PartialEq>(before: &T, after: &T) -> bool {
    let (mut a, mut b) = (before.clone(), after.clone());
    a.common_mut().origin = config::Origin::default();
    b.common_mut().origin = config::Origin::default();
    a == b
}

/// The IDs `new` adds to, removes from or changes in `old`.
fn changes<T: SharedKeys + Clone + PartialEq>(old: &[T], new: &[T]) -> Changes {
    let id = |j: &T| j.common().id.to_string();
    let mut c = Changes::default();
    for n in new {
        match old.iter().find(|o| o.common().id == n.common().id) {
            None => c.added.push(id(n)),
            Some(o) if !same_but_place(o, n) => c.changed.push(id(n)),
            Some(_) => {}
        }
    }
    c.removed = old.iter().filter(|o| !new.iter().any(|n| n.common().id == o.common().id)).map(id).collect();
    c
}

/// A secret generated at start stays for the daemon's life: a reload must
/// not change what signed requests are checked against.
fn keep_generated_secret(old: &Config, mut new: Config) -> Config {
    if !(old.server.secret_generated && new.server.secret_generated) {
        return new;
    }
    let (fresh, kept) = (new.server.secret.clone(), old.server.secret.clone());
    new.server.secret = kept.clone();
    let commons = new.jobs.iter_mut().map(|j| j.common_mut()).chain(new.http_jobs.iter_mut().map(|j| j.common_mut()));
    for c in commons.filter(|c| c.secret == fresh) {
        c.secret = kept.clone();
    }
    new
}
