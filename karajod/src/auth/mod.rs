//! Who may do what (SPEC 21), for every transport: the [`Principal`] a
//! request proved, the [`Need`] of what it asks, and the one rule
//! [`authorise`] that decides. The transports find the principal (session,
//! token, signature, socket) and call this; no handler checks a role.
//!
//! Invariants: roles are read from the configuration in force at each
//! request, so a reload that changes a user's role applies at once; the
//! control socket and the global secret are admin; a token acts only on
//! the jobs its globs name.

pub mod audit;
pub mod audit_db;
pub mod token;

use proto::Role;

use crate::config::{Config, TokenConfig};

/// What proved a request may proceed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The control socket, trusted by its file mode.
    Trusted,
    /// A valid signature with the global secret.
    Signed,
    /// A logged-in user, by name.
    User(String),
    /// An API token of user.conf.
    Token(TokenConfig),
    /// Nobody; allowed only for reads when no users are configured.
    Anonymous,
}

/// What a request asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any read of the API or the dashboard.
    Read,
    /// Run, pause, resume, cancel.
    Operate,
    /// Reload, the audit log.
    Admin,
}

impl Need {
    fn least_role(self) -> Role {
        match self {
            Need::Read => Role::Viewer,
            Need::Operate => Role::Operator,
            Need::Admin => Role::Admin,
        }
    }
}

/// Why [`authorise`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("forbidden: the role {role} may not do this")]
    Role { role: Role },
    #[error("forbidden: this token may not act on job {0}")]
    Job(String),
}

impl Principal {
    /// The role in force for this principal under `config`.
    pub fn role(&self, config: &Config) -> Role {
        match self {
            Principal::Trusted | Principal::Signed => Role::Admin,
            Principal::User(name) => config.users.iter().find(|u| &u.name == name).map_or(Role::Viewer, |u| u.role),
            Principal::Token(t) => t.role,
            Principal::Anonymous => Role::Viewer,
        }
    }

    /// The `actor` of the audit log for a principal that is not the
    /// socket (whose actor names its peer; see `audit::socket_actor`).
    pub fn actor(&self) -> String {
        match self {
            Principal::Trusted => "socket".into(),
            Principal::Signed => "signature".into(),
            Principal::User(name) => format!("user:{name}"),
            Principal::Token(t) => format!("token:{}", t.name),
            Principal::Anonymous => "anonymous".into(),
        }
    }
}

/// The one rule: may `who` do `need` (on the job `job`, when it names one)?
pub fn authorise(config: &Config, who: &Principal, need: Need, job: Option<&str>) -> Result<(), Denied> {
    let role = who.role(config);
    if role < need.least_role() {
        return Err(Denied::Role { role });
    }
    if let (Principal::Token(t), Some(id)) = (who, job)
        && !t.allows_job(id)
    {
        return Err(Denied::Job(id.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Origin, token_hash};

    fn token(role: Role, jobs: &[&str]) -> Principal {
        Principal::Token(TokenConfig {
            name: "ci".into(),
            hash: token_hash("x"),
            role,
            jobs: jobs.iter().map(|s| s.to_string()).collect(),
            origin: Origin::default(),
        })
    }

    #[test]
    fn roles_and_globs() {
        let config = Config {
            server: crate::library::server("/nonexistent"),
            jobs: vec![],
            http_jobs: vec![],
            notifs: Default::default(),
            webhooks: Default::default(),
            checks: Vec::new(),
            users: vec![],
            tokens: vec![],
        };
        let viewer = token(Role::Viewer, &[]);
        assert!(authorise(&config, &viewer, Need::Read, None).is_ok());
        assert!(authorise(&config, &viewer, Need::Operate, Some("a")).is_err());
        let deploy = token(Role::Operator, &["deploy-*"]);
        assert!(authorise(&config, &deploy, Need::Operate, Some("deploy-web")).is_ok());
        assert_eq!(authorise(&config, &deploy, Need::Operate, Some("backup")), Err(Denied::Job("backup".into())));
        assert!(authorise(&config, &deploy, Need::Admin, None).is_err());
        assert!(authorise(&config, &Principal::Trusted, Need::Admin, None).is_ok());
        assert!(authorise(&config, &Principal::User("gone".into()), Need::Operate, None).is_err());
    }
}
