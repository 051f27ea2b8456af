//! Loading: the main file, job.d/, job_http.d/ and user.conf, read in a
//! fixed order, validated into one [`Config`], with every error collected.
//!
//! Order of reading: parse every file, then `[karajo]`, then `[notif]`
//! (so jobs can check their notification names), then jobs, then users,
//! then the checks across jobs (`validate`). Unknown-key warnings are kept
//! also when the load fails: a misspelt key is often why.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::access::read_token;
use super::check::{CheckContext, check_unique, read_check};
use super::diag::{At, ConfigErrors, Diagnostic, Diagnostics};
use super::fields::Fields;
use super::ini::{self, Section};
use super::job::{Context, read_http_job, read_job};
use super::model::*;
use super::notif::{EnvLookup, Notif, read_notif, read_user};
use super::server;
use super::validate::validate;

/// A loaded configuration and the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
    /// Every file that was read, in order.
    pub files: Vec<PathBuf>,
}

/// What a file is, which decides the sections it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileRole {
    Main,
    JobDir,
    UserConf,
}

struct Parsed {
    path: PathBuf,
    role: FileRole,
    doc: ini::Document,
}

/// Loads `path` and everything under its `dir_base`, reading `$VAR`
/// credentials from the process environment.
pub fn load(path: &Path) -> Result<Loaded, ConfigErrors> {
    load_then(path, &mut |_| {})
}

/// [`load`], calling `on_dir_base` with `dir_base` as soon as the main
/// file gives it, before the job files are read: the daemon starts its
/// database read there, beside the rest of the load.
pub fn load_then(path: &Path, on_dir_base: &mut dyn FnMut(&Path)) -> Result<Loaded, ConfigErrors> {
    load_inner(path, &|k| std::env::var(k).ok(), on_dir_base)
}

/// [`load`] with an injected environment lookup.
pub fn load_with_env(path: &Path, env: EnvLookup) -> Result<Loaded, ConfigErrors> {
    load_inner(path, env, &mut |_| {})
}

fn load_inner(path: &Path, env: EnvLookup, on_dir_base: &mut dyn FnMut(&Path)) -> Result<Loaded, ConfigErrors> {
    let mut diag = Diagnostics::default();
    let Some(main) = read_file(path, FileRole::Main, &mut diag) else {
        return Err(ConfigErrors { errors: diag.errors, warnings: diag.warnings });
    };
    let karajo = merged_karajo_section(&main.doc);
    let dir_base = dir_base(&karajo);
    on_dir_base(&dir_base);
    let mut files = vec![main];
    let etc = dir_base.join("etc/karajo");
    for sub in ["job.d", "job_http.d"] {
        for p in conf_files(&etc.join(sub), &mut diag) {
            files.extend(read_file(&p, FileRole::JobDir, &mut diag));
        }
    }
    let user_conf = etc.join("user.conf");
    if user_conf.exists() {
        files.extend(read_file(&user_conf, FileRole::UserConf, &mut diag));
    }

    let mut f = Fields::new(&files[0].path, &karajo, &mut diag);
    let server = server::read(&mut f, dir_base);
    f.finish();
    let (notifs, webhooks) = read_notifs(&files, env, &mut diag);
    let notif_names: BTreeSet<String> = notifs.keys().chain(webhooks.keys()).cloned().collect();
    let ctx = Context { server: &server, notif_names: &notif_names, env };
    warn_misplaced(&files, &mut diag);
    let (jobs, http_jobs) = read_jobs(&files, &ctx, &mut diag);
    let checks = read_checks(&files, &CheckContext { server: &server, notif_names: &notif_names }, &mut diag);
    let users = read_users(&files, &mut diag);
    let tokens = read_tokens(&files, &mut diag);
    // Behind an Arc each, shared with the engine's entries: with 10,000 jobs
    // a copy of each was 8 MB, and the Vec's doubling 16 MB more.
    let (jobs, http_jobs) = (shared(jobs), shared(http_jobs));
    let mut config = Config { server, jobs, http_jobs, notifs, webhooks, checks, users, tokens };
    // Commands are a file job's only body; calls come from code.
    diag.errors.extend(validate(&mut config, &|_| false).iter().map(|p| p.diagnostic()));

    let order: HashMap<PathBuf, usize> = files.iter().enumerate().map(|(i, f)| (f.path.clone(), i)).collect();
    let key = |d: &Diagnostic| (order.get(&d.file).copied().unwrap_or(usize::MAX), d.line.unwrap_or(0));
    diag.errors.sort_by_key(key);
    diag.warnings.sort_by_key(key);
    if !diag.errors.is_empty() {
        return Err(ConfigErrors { errors: diag.errors, warnings: diag.warnings });
    }
    Ok(Loaded { config, warnings: diag.warnings, files: files.into_iter().map(|f| f.path).collect() })
}

fn read_file(path: &Path, role: FileRole, diag: &mut Diagnostics) -> Option<Parsed> {
    let at = At { file: path, line: None, section: None, key: None };
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                diag.error(at, format!("not valid UTF-8 (at byte {})", e.utf8_error().valid_up_to()));
                return None;
            }
        },
        Err(e) => {
            diag.error(at, format!("cannot read the file: {e}"));
            return None;
        }
    };
    let (doc, errors) = ini::parse(&text);
    for e in errors {
        let at = At { line: Some(e.line), section: e.section.as_deref(), key: e.key.as_deref(), ..at };
        diag.error(at, e.message);
    }
    Some(Parsed { path: path.to_path_buf(), role, doc })
}

/// Regular files ending in `.conf`, not hidden, sorted by name; a missing
/// directory is fine.
fn conf_files(dir: &Path, diag: &mut Diagnostics) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            diag.error(
                At { file: dir, line: None, section: None, key: None },
                format!("cannot list the directory: {e}"),
            );
            return Vec::new();
        }
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.ends_with(".conf") && !name.starts_with('.') && e.path().is_file()
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// git-config semantics: several `[karajo]` sections act as one.
fn merged_karajo_section(doc: &ini::Document) -> Section {
    let mut all = doc.sections.iter().filter(|s| s.name == "karajo" && s.sub.is_none());
    let mut merged =
        all.next().cloned().unwrap_or(Section { name: "karajo".into(), sub: None, line: 0, entries: vec![] });
    for s in all {
        merged.entries.extend(s.entries.iter().cloned());
    }
    merged
}

fn dir_base(karajo: &Section) -> PathBuf {
    let given = karajo.entries.iter().rev().find(|e| e.key == "dir_base").and_then(|e| e.value.clone());
    match given.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
        Some(v) => PathBuf::from(v),
        None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
    }
}

/// Sections of `files` with this name, each with its file; a missing
/// subsection name is reported here.
fn named_sections<'a>(
    files: &'a [Parsed],
    name: &'static str,
    diag: &mut Diagnostics,
) -> Vec<(&'a Parsed, &'a Section, &'a str)> {
    let mut out = Vec::new();
    for p in files {
        for s in p.doc.sections.iter().filter(|s| s.name == name) {
            match s.sub.as_deref().map(str::trim) {
                Some(sub) if !sub.is_empty() => out.push((p, s, s.sub.as_deref().unwrap())),
                _ => {
                    let title = s.title();
                    let at = At { file: &p.path, line: Some(s.line), section: Some(&title), key: None };
                    diag.error(at, format!("a {name} section needs a name: [{name} \"NAME\"]"));
                }
            }
        }
    }
    out
}

fn warn_misplaced(files: &[Parsed], diag: &mut Diagnostics) {
    for p in files {
        for s in &p.doc.sections {
            let allowed = matches!(
                (s.name.as_str(), p.role),
                ("job" | "job.http", FileRole::Main | FileRole::JobDir)
                    | ("karajo" | "notif" | "check", FileRole::Main)
                    | ("user" | "token", FileRole::UserConf)
            );
            if !allowed {
                let title = s.title();
                let at = At { file: &p.path, line: Some(s.line), section: Some(&title), key: None };
                let why = match s.name.as_str() {
                    "karajo" | "notif" | "check" => "only read from the main config file",
                    "user" | "token" => "only read from user.conf",
                    "job" | "job.http" => "not read from user.conf",
                    _ => "unknown section (expected karajo, job, job.http, notif, check, user or token)",
                };
                diag.warn(at, format!("ignored: {why}"));
            }
        }
    }
}

/// The email and the webhook notifications, one namespace of names.
type Notifs = (BTreeMap<String, NotifConfig>, BTreeMap<String, WebhookConfig>);

fn read_notifs(files: &[Parsed], env: EnvLookup, diag: &mut Diagnostics) -> Notifs {
    let (mut emails, mut webhooks) = (BTreeMap::new(), BTreeMap::new());
    let mut seen: HashMap<String, Origin> = HashMap::new();
    let main: Vec<&Parsed> = files.iter().filter(|p| p.role == FileRole::Main).collect();
    for (p, s, name) in named_sections(files, "notif", diag) {
        if !main.iter().any(|m| std::ptr::eq(*m, p)) {
            continue;
        }
        let mut f = Fields::new(&p.path, s, diag);
        if let Some(first) = seen.get(name) {
            f.section_error(format!("duplicate notification \"{name}\": also defined at {first}"));
            continue;
        }
        seen.insert(name.to_string(), Origin { file: p.path.clone(), line: s.line });
        let n = read_notif(&mut f, &p.path, name, s.line, env);
        f.finish();
        match n {
            Some(Notif::Email(n)) => drop(emails.insert(name.to_string(), n)),
            Some(Notif::Webhook(w)) => drop(webhooks.insert(name.to_string(), w)),
            None => {}
        }
    }
    (emails, webhooks)
}

/// The `[check]` sections of the main file, then the checks across them.
fn read_checks(files: &[Parsed], ctx: &CheckContext<'_>, diag: &mut Diagnostics) -> Vec<CheckConfig> {
    let mut out = Vec::new();
    for (p, s, name) in named_sections(files, "check", diag) {
        if p.role != FileRole::Main {
            continue;
        }
        let mut f = Fields::new(&p.path, s, diag);
        let c = read_check(&mut f, &p.path, name, s.line, ctx);
        f.finish();
        out.extend(c);
    }
    for (origin, msg) in check_unique(&out) {
        let name = out.iter().find(|c| c.origin == origin).map(|c| c.name.clone()).unwrap_or_default();
        let title = super::ini::section_title("check", Some(&name));
        diag.error(At { file: &origin.file, line: Some(origin.line), section: Some(&title), key: None }, msg);
    }
    out
}

/// Each value behind an `Arc`, in a Vec of their size. Not `collect()`:
/// it reuses the source's buffer in place, and 10,000 `JobConfig`s' buffer
/// (13.5 MB) then stayed allocated behind 80 KB of pointers.
fn shared<T>(values: Vec<T>) -> Vec<Arc<T>> {
    let mut out = Vec::with_capacity(values.len());
    out.extend(values.into_iter().map(Arc::new));
    out
}

/// Every job section in file order, duplicates included: `validate` finds
/// those once all are read.
fn read_jobs(files: &[Parsed], ctx: &Context<'_>, diag: &mut Diagnostics) -> (Vec<JobConfig>, Vec<JobHttpConfig>) {
    let mut jobs: Vec<JobConfig> = Vec::new();
    for (p, s, name) in named_sections(files, "job", diag) {
        if p.role == FileRole::UserConf {
            continue;
        }
        let mut f = Fields::new(&p.path, s, diag);
        jobs.push(read_job(&mut f, &p.path, name, s.line, ctx));
        f.finish();
    }
    let mut http_jobs: Vec<JobHttpConfig> = Vec::new();
    for (p, s, name) in named_sections(files, "job.http", diag) {
        if p.role == FileRole::UserConf {
            continue;
        }
        let mut f = Fields::new(&p.path, s, diag);
        http_jobs.push(read_http_job(&mut f, &p.path, name, s.line, ctx));
        f.finish();
    }
    (jobs, http_jobs)
}

fn read_users(files: &[Parsed], diag: &mut Diagnostics) -> Vec<UserConfig> {
    read_user_conf(files, "user", diag, read_user, |u| &u.origin)
}

fn read_tokens(files: &[Parsed], diag: &mut Diagnostics) -> Vec<TokenConfig> {
    read_user_conf(files, "token", diag, read_token, |t| &t.origin)
}

/// The `[KIND "NAME"]` sections of user.conf, each read by `read`; a
/// duplicate name is an error naming both places.
fn read_user_conf<T>(
    files: &[Parsed],
    kind: &'static str,
    diag: &mut Diagnostics,
    read: fn(&mut Fields<'_>, &Path, &str, usize) -> Option<T>,
    origin: fn(&T) -> &Origin,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    let mut seen: HashMap<&str, Origin> = HashMap::new();
    for (p, s, name) in named_sections(files, kind, diag) {
        if p.role != FileRole::UserConf {
            continue;
        }
        let mut f = Fields::new(&p.path, s, diag);
        if let Some(first) = seen.get(name) {
            f.section_error(format!("duplicate {kind} \"{name}\": also defined at {first}"));
            continue;
        }
        let item = read(&mut f, &p.path, name, s.line);
        f.finish();
        if let Some(item) = item {
            seen.insert(name, origin(&item).clone());
            out.push(item);
        }
    }
    out
}
