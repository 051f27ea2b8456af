//! user.conf's access keys: a user's or token's `role`, and the
//! `[token "NAME"]` sections (SPEC 21) with their hash and job globs.
//!
//! Invariant: a [`TokenConfig`] holds only the SHA-256 of its token, never
//! the token; `Debug` shows no more than the hash's first 8 hex digits.

use std::fmt;
use std::path::Path;

use proto::Role;

use super::fields::Fields;
use super::model::Origin;

/// `[token "NAME"]` in user.conf: a credential for scripts.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenConfig {
    pub name: String,
    /// SHA-256 of the token.
    pub hash: [u8; 32],
    pub role: Role,
    /// Globs of the job IDs the token may act on; empty = every job.
    pub jobs: Vec<String>,
    pub origin: Origin,
}

impl fmt::Debug for TokenConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenConfig")
            .field("name", &self.name)
            .field("hash", &self.hash_prefix())
            .field("role", &self.role)
            .field("jobs", &self.jobs)
            .finish()
    }
}

impl TokenConfig {
    /// What `karajod check` shows of the hash: `sha256:` and 8 hex digits.
    pub fn hash_prefix(&self) -> String {
        format!("sha256:{}…", &hex::encode(self.hash)[..8])
    }

    /// True when the token may act on the job `id`.
    pub fn allows_job(&self, id: &str) -> bool {
        self.jobs.is_empty() || self.jobs.iter().any(|g| glob_match(g, id))
    }
}

/// The `role` key of a user or token section (default admin, as every
/// user could do everything before roles existed).
pub fn read_role(f: &mut Fields<'_>) -> Role {
    match f.string("role") {
        Some((e, v)) => Role::parse(&v).unwrap_or_else(|| {
            f.error(e, format!("unknown role \"{v}\": expected viewer, operator or admin"));
            Role::Admin
        }),
        None => Role::Admin,
    }
}

/// Reads one `[token "NAME"]`; `None` (with the error reported) when its
/// hash is missing or malformed.
pub fn read_token(f: &mut Fields<'_>, file: &Path, name: &str, line: usize) -> Option<TokenConfig> {
    let role = read_role(f);
    let jobs = read_globs(f);
    let hash = match f.string("hash") {
        Some((e, v)) => match parse_hash(&v) {
            Some(h) => h,
            None => {
                f.error(e, "expected sha256: and 64 hex digits; make one with `karajod token new NAME`");
                return None;
            }
        },
        None => {
            f.section_error("missing hash: expected sha256:HEX (see `karajod token new NAME`)");
            return None;
        }
    };
    Some(TokenConfig { name: name.to_string(), hash, role, jobs, origin: Origin { file: file.to_path_buf(), line } })
}

/// `jobs = deploy-*,backup`, repeatable; each glob holds only the bytes
/// of a job ID plus `*` and `?`.
fn read_globs(f: &mut Fields<'_>) -> Vec<String> {
    let mut globs = Vec::new();
    for (e, v) in f.list("jobs") {
        for g in v.split(',').map(str::trim).filter(|g| !g.is_empty()) {
            let ok = g.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'*' | b'?'));
            if ok {
                globs.push(g.to_ascii_lowercase());
            } else {
                f.error(e, format!("invalid job glob \"{g}\": use job IDs with * and ?, comma-separated"));
            }
        }
    }
    globs
}

fn parse_hash(v: &str) -> Option<[u8; 32]> {
    let hex_part = v.trim().strip_prefix("sha256:")?;
    let bytes = hex::decode(hex_part).ok()?;
    bytes.try_into().ok()
}

/// The SHA-256 of a token, as `hash` stores it.
pub fn token_hash(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// Shell-style match of `*` (any run) and `?` (one byte), ASCII
/// case-insensitive like job IDs.
pub fn glob_match(glob: &str, text: &str) -> bool {
    let (g, t) = (glob.as_bytes(), text.as_bytes());
    let (mut gi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if gi < g.len() && (g[gi] == b'?' || g[gi].eq_ignore_ascii_case(&t[ti])) {
            gi += 1;
            ti += 1;
        } else if gi < g.len() && g[gi] == b'*' {
            star = Some((gi, ti));
            gi += 1;
        } else if let Some((sg, st)) = star {
            gi = sg + 1;
            ti = st + 1;
            star = Some((sg, st + 1));
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("deploy-*", "deploy-web"));
        assert!(glob_match("deploy-*", "deploy-"));
        assert!(!glob_match("deploy-*", "backup"));
        assert!(glob_match("backup", "BACKUP"));
        assert!(glob_match("b?ck*p", "backup"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a*b", "acbd"));
        assert!(glob_match("*a*b", "xxaxxb"));
    }

    #[test]
    fn hashes() {
        let h = token_hash("t");
        assert_eq!(parse_hash(&format!("sha256:{}", hex::encode(h))), Some(h));
        assert_eq!(parse_hash("sha256:abcd"), None);
        assert_eq!(parse_hash(&hex::encode(h)), None);
        assert_eq!(parse_hash("sha256:zz"), None);
    }
}
