//! The checks that need the whole configuration rather than one section:
//! every job has a body, IDs are unique per kind, webhook paths are unique,
//! and a job without its own secret takes the global one.
//!
//! One function serves both ways of building a [`Config`]: the file loader
//! turns each problem into a located diagnostic, the library API into a
//! [`LibraryError`](crate::library::LibraryError). Lookups go through hash
//! sets, so a check is linear in the number of jobs.

use std::collections::HashMap;
use std::sync::Arc;

use proto::JobId;

use super::diag::Diagnostic;
use super::ini::section_title;
use super::model::{Config, Origin};

/// Which of the two job kinds a problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Job,
    Http,
}

impl Kind {
    /// As messages name it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Job => "job",
            Kind::Http => "HTTP job",
        }
    }

    fn section(self) -> &'static str {
        match self {
            Kind::Job => "job",
            Kind::Http => "job.http",
        }
    }
}

/// A job as a problem names it: its name and where it was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub name: String,
    pub origin: Origin,
}

/// One cross-section problem; the later of two clashing jobs is `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// `ERR_JOB_EMPTY_COMMANDS_OR_CALL`: neither commands nor a call.
    EmptyJob {
        at: Place,
    },
    DuplicateId {
        kind: Kind,
        id: JobId,
        at: Place,
        first: Place,
    },
    DuplicatePath {
        path: String,
        at: Place,
        first: Place,
    },
}

impl Invalid {
    /// The problem located at the section of the later job, naming both places.
    pub fn diagnostic(&self) -> Diagnostic {
        let (kind, at, message) = match self {
            Invalid::EmptyJob { at } => {
                (Kind::Job, at, "ERR_JOB_EMPTY_COMMANDS_OR_CALL: a job needs at least one `command`".to_string())
            }
            Invalid::DuplicateId { kind, id, at, first } => {
                let label = kind.label();
                let message = if at.name == first.name {
                    format!("duplicate {label} \"{}\": also defined at {}", at.name, first.origin)
                } else {
                    format!(
                        "{label} \"{}\" has the same ID \"{id}\" as {label} \"{}\" defined at {}",
                        at.name, first.name, first.origin
                    )
                };
                (*kind, at, message)
            }
            Invalid::DuplicatePath { path, at, first } => {
                let message = format!(
                    "duplicate webhook path \"{path}\": also used by job \"{}\" at {}",
                    first.name, first.origin
                );
                (Kind::Job, at, message)
            }
        };
        Diagnostic {
            file: at.origin.file.clone(),
            line: Some(at.origin.line),
            section: Some(section_title(kind.section(), Some(&at.name))),
            key: None,
            message,
        }
    }
}

/// Checks `config` as a whole, fills each empty job secret with the
/// global one and derives each job's `description_html`. `has_call` says whether a job has a code body (the library
/// API's closures), which stands in for commands. Returns every problem,
/// in job order; of two clashing jobs the later one is reported, naming
/// the first.
pub fn validate(config: &mut Config, has_call: &dyn Fn(&JobId) -> bool) -> Vec<Invalid> {
    let mut problems = Vec::new();
    let global = config.server.secret.clone();
    let mut ids: HashMap<&JobId, Place> = HashMap::new();
    let mut paths: HashMap<&str, Place> = HashMap::new();
    for j in &config.jobs {
        let at = || Place { name: j.common.name.clone(), origin: j.common.origin.clone() };
        if j.commands.is_empty() && !has_call(&j.common.id) {
            problems.push(Invalid::EmptyJob { at: at() });
        }
        if let Some(first) = ids.get(&j.common.id) {
            problems.push(Invalid::DuplicateId {
                kind: Kind::Job,
                id: j.common.id.clone(),
                at: at(),
                first: first.clone(),
            });
        } else if let Some(first) = j.path.as_deref().and_then(|p| paths.get(p)) {
            let path = j.path.clone().unwrap_or_default();
            problems.push(Invalid::DuplicatePath { path, at: at(), first: first.clone() });
        } else {
            ids.insert(&j.common.id, at());
            if let Some(p) = j.path.as_deref() {
                paths.insert(p, at());
            }
        }
    }
    let mut http_ids: HashMap<&JobId, Place> = HashMap::new();
    for j in &config.http_jobs {
        let at = Place { name: j.common.name.clone(), origin: j.common.origin.clone() };
        match http_ids.get(&j.common.id) {
            Some(first) => problems.push(Invalid::DuplicateId {
                kind: Kind::Http,
                id: j.common.id.clone(),
                at,
                first: first.clone(),
            }),
            None => {
                http_ids.insert(&j.common.id, at);
            }
        }
    }
    // Each job is still only the config's (make_mut clones nothing).
    let commons = config.jobs.iter_mut().map(|j| &mut Arc::make_mut(j).common);
    for c in commons.chain(config.http_jobs.iter_mut().map(|j| &mut Arc::make_mut(j).common)) {
        if c.secret.is_empty() {
            c.secret = global.clone();
        }
        c.description_html = super::description::html(&c.description);
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library;

    fn config(jobs: &[(&str, Option<&str>)]) -> Config {
        let mut k = library::server("/tmp");
        k.secret = crate::config::Secret::new("global");
        let jobs = jobs
            .iter()
            .enumerate()
            .map(|(i, (name, path))| {
                let mut j = library::job(name);
                j.commands = vec!["true".into()];
                j.path = path.map(str::to_string);
                j.common.origin = Origin { file: "k.conf".into(), line: i + 1 };
                Arc::new(j)
            })
            .collect();
        Config {
            server: k,
            jobs,
            http_jobs: vec![],
            notifs: Default::default(),
            webhooks: Default::default(),
            checks: vec![],
            users: vec![],
            tokens: vec![],
        }
    }

    #[test]
    fn the_later_of_two_clashing_jobs_is_named_with_the_first() {
        let mut c = config(&[("a", Some("/h")), ("A", None), ("b", Some("/h")), ("c", None)]);
        let problems = validate(&mut c, &|_| false);
        let shown: Vec<String> = problems.iter().map(|p| p.diagnostic().to_string()).collect();
        assert_eq!(
            shown,
            [
                "k.conf:2: [job \"A\"]: job \"A\" has the same ID \"a\" as job \"a\" defined at k.conf:1",
                "k.conf:3: [job \"b\"]: duplicate webhook path \"/h\": also used by job \"a\" at k.conf:1",
            ]
        );
    }

    #[test]
    fn a_call_is_a_body_and_empty_secrets_take_the_global_one() {
        let mut c = config(&[("code", None), ("own", None)]);
        Arc::make_mut(&mut c.jobs[0]).commands.clear();
        Arc::make_mut(&mut c.jobs[1]).common.secret = crate::config::Secret::new("mine");
        assert!(matches!(validate(&mut c.clone(), &|_| false)[..], [Invalid::EmptyJob { .. }]));
        assert!(validate(&mut c, &|id| id.as_str() == "code").is_empty());
        assert_eq!((c.jobs[0].common.secret.expose(), c.jobs[1].common.secret.expose()), ("global", "mine"));
    }
}
