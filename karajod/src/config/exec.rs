//! How a job's commands run (SPEC 17): `env`, `env_file`, `dir`, `user`
//! and `group`, read and checked at load so a run never meets a bad value.
//!
//! Invariants: names are shell-safe (`[A-Za-z_][A-Za-z0-9_]*`) and never
//! `KARAJO_*` (karajod sets those); `$VAR` values and `env_file` contents
//! were read at load (a reload reads them again); values never reach a
//! view or a log, only their names. `user`/`group` resolved to IDs, and a
//! user other than the daemon's own only when the daemon runs as root.

use std::path::{Path, PathBuf};

use super::fields::Fields;
use super::ini::Entry;
use super::notif::EnvLookup;

/// A job's `env`, `env_file`, `dir`, `user` and `group`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Exec {
    /// In the order they apply: `env_file` lines first, then `env` keys;
    /// a later value of a name replaces the earlier one.
    pub env: Vec<EnvVar>,
    /// As written (resolved against the config file's directory).
    pub env_file: Option<PathBuf>,
    /// The working directory; `None` = the job's own under `dir_base`.
    pub dir: Option<PathBuf>,
    pub run_as: Option<RunAs>,
}

/// One variable of a command's environment. The value is never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

impl std::fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}=***", self.name)
    }
}

/// The identity a job's commands run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub user: String,
    pub uid: u32,
    pub group: String,
    pub gid: u32,
    /// The user's supplementary groups (with `gid`), as `initgroups` sets them.
    pub groups: Vec<u32>,
}

impl Exec {
    /// The names of `env` without repeats, in order: what views show.
    pub fn env_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for v in &self.env {
            if !names.contains(&v.name) {
                names.push(v.name.clone());
            }
        }
        names
    }
}

/// Reads the keys of [`Exec`] from a `[job]` section in `file`.
pub fn read_exec(f: &mut Fields<'_>, file: &Path, env: EnvLookup<'_>) -> Exec {
    let base = file.parent().unwrap_or(Path::new("."));
    let mut exec = Exec::default();
    if let Some((e, v)) = f.string("env_file").filter(|(_, v)| !v.trim().is_empty()) {
        let path = join_clean(base, v.trim());
        match read_env_file(&path) {
            Ok(vars) => exec.env.extend(vars),
            Err(msg) => f.error(e, msg),
        }
        exec.env_file = Some(path);
    }
    for (e, v) in f.list("env") {
        match parse_env(&v, env) {
            Ok(var) => exec.env.push(var),
            Err(msg) => f.error(e, msg),
        }
    }
    if let Some((e, v)) = f.string("dir").filter(|(_, v)| !v.trim().is_empty()) {
        let dir = join_clean(base, v.trim());
        if !dir.is_dir() {
            f.warn(e, format!("{} is not a directory (yet): runs fail until it is", dir.display()));
        }
        exec.dir = Some(dir);
    }
    exec.run_as = read_run_as(f);
    exec
}

/// `rel` against `base` with `.` and `..` taken out, so views show a plain path.
fn join_clean(base: &Path, rel: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// `NAME=value`; a value `$VAR` is the daemon's `VAR` (which must be set).
fn parse_env(v: &str, env: EnvLookup<'_>) -> Result<EnvVar, String> {
    let Some((name, value)) = v.split_once('=') else {
        return Err(format!("invalid env \"{v}\": expected NAME=value"));
    };
    let name = check_name(name.trim())?;
    let value = match value.strip_prefix('$') {
        Some(var) => env(var).ok_or_else(|| format!("environment variable {var} (from \"${var}\") is not set"))?,
        None => value.to_string(),
    };
    Ok(EnvVar { name, value })
}

fn check_name(name: &str) -> Result<String, String> {
    let mut chars = name.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !ok_first || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "invalid variable name \"{name}\": expected letters, digits and _, not starting with a digit"
        ));
    }
    if name.starts_with("KARAJO_") {
        return Err(format!("{name}: names starting with KARAJO_ are set by karajod for each run"));
    }
    Ok(name.to_string())
}

/// `NAME=value` lines; blank lines and `#` comments are skipped. Values
/// are taken as written (no quotes, no `$` expansion).
fn read_env_file(path: &Path) -> Result<Vec<EnvVar>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read env_file {}: {e}", path.display()))?;
    let mut vars = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |msg: String| format!("{}:{}: {msg}", path.display(), n + 1);
        let (name, value) = line.split_once('=').ok_or_else(|| at(format!("expected NAME=value, found \"{line}\"")))?;
        vars.push(EnvVar { name: check_name(name.trim()).map_err(at)?, value: value.to_string() });
    }
    Ok(vars)
}

fn read_run_as(f: &mut Fields<'_>) -> Option<RunAs> {
    let user = f.string("user").filter(|(_, v)| !v.trim().is_empty());
    let group = f.string("group").filter(|(_, v)| !v.trim().is_empty());
    let (ue, name) = match (user, &group) {
        (None, None) => return None,
        (None, Some((ge, _))) => {
            f.error(ge, "group needs user: set the user the commands run as");
            return None;
        }
        (Some(u), _) => u,
    };
    match resolve(&name, ue, group.as_ref().map(|(e, v)| (*e, v.as_str()))) {
        Ok(r) => Some(r),
        Err((e, msg)) => {
            f.error(e, msg);
            None
        }
    }
}

type Located<'a> = (&'a Entry, String);

fn resolve<'a>(user: &str, ue: &'a Entry, group: Option<(&'a Entry, &str)>) -> Result<RunAs, Located<'a>> {
    use nix::unistd::{Gid, Group, Uid, User, getgrouplist};
    let user = user.trim();
    let u = match User::from_name(user) {
        Ok(Some(u)) => u,
        Ok(None) => return Err((ue, format!("unknown user \"{user}\": expected a name from the passwd database"))),
        Err(e) => return Err((ue, format!("cannot look up user \"{user}\": {e}"))),
    };
    let me = Uid::effective();
    if !me.is_root() && u.uid != me {
        return Err((
            ue,
            format!("karajod runs as uid {me}, not root: its jobs can run only as itself, not as \"{user}\""),
        ));
    }
    let (gname, gid) = match group {
        None => {
            let name = Group::from_gid(u.gid).ok().flatten().map_or_else(|| u.gid.to_string(), |g| g.name);
            (name, u.gid)
        }
        Some((ge, g)) => match Group::from_name(g.trim()) {
            Ok(Some(found)) => (found.name, found.gid),
            Ok(None) => {
                return Err((ge, format!("unknown group \"{}\": expected a name from the group database", g.trim())));
            }
            Err(e) => return Err((ge, format!("cannot look up group \"{}\": {e}", g.trim()))),
        },
    };
    if !me.is_root() && gid != Gid::effective() {
        return Err((ue, format!("karajod is not root: its jobs cannot run as group \"{gname}\"")));
    }
    let cname = std::ffi::CString::new(u.name.clone()).map_err(|_| (ue, "a user name with a NUL".to_string()))?;
    let mut groups: Vec<u32> = getgrouplist(&cname, gid)
        .map(|g| g.iter().map(|g| g.as_raw()).collect())
        .unwrap_or_else(|_| vec![gid.as_raw()]);
    if !groups.contains(&gid.as_raw()) {
        groups.insert(0, gid.as_raw());
    }
    Ok(RunAs { user: u.name, uid: u.uid.as_raw(), group: gname, gid: gid.as_raw(), groups })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines_are_checked_and_dollar_values_read_at_load() {
        let env = |k: &str| (k == "TOKEN").then(|| "t-1".to_string());
        assert_eq!(parse_env("A=b=c", &env).unwrap(), EnvVar { name: "A".into(), value: "b=c".into() });
        assert_eq!(parse_env("A=$TOKEN", &env).unwrap().value, "t-1");
        assert_eq!(parse_env("A=", &env).unwrap().value, "");
        assert!(parse_env("A=$UNSET", &env).unwrap_err().contains("UNSET"));
        assert!(parse_env("no equals", &env).unwrap_err().contains("NAME=value"));
        assert!(parse_env("1A=x", &env).unwrap_err().contains("invalid variable name"));
        assert!(parse_env("KARAJO_JOB_ID=x", &env).unwrap_err().contains("set by karajod"));
        assert_eq!(format!("{:?}", parse_env("A=secret", &env).unwrap()), "A=***");
    }

    #[test]
    fn an_env_file_says_which_line_is_wrong() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("job.env");
        std::fs::write(&p, "# comment\n\nA=1\n  B = two words\n").unwrap();
        let vars = read_env_file(&p).unwrap();
        assert_eq!(
            vars.iter().map(|v| (v.name.as_str(), v.value.as_str())).collect::<Vec<_>>(),
            [("A", "1"), ("B", " two words")]
        );
        std::fs::write(&p, "A=1\nbroken\n").unwrap();
        assert!(read_env_file(&p).unwrap_err().ends_with(":2: expected NAME=value, found \"broken\""));
        assert!(read_env_file(&d.path().join("missing")).unwrap_err().contains("cannot read env_file"));
    }
}
