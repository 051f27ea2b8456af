//! API tokens (SPEC 21): finding the `[token]` a bearer token belongs to,
//! and making new ones for `karajod token new`.
//!
//! Invariants: only hashes are compared, in constant time, against every
//! configured token (so the time taken does not say which one nearly
//! matched); a token never reaches a log, and is printed once, by `new`.

use proto::Role;
use subtle::ConstantTimeEq;

use crate::config::{TokenConfig, token_hash};

/// The prefix new tokens carry, so a leaked one is easy to spot and grep.
pub const TOKEN_PREFIX: &str = "karajo_";

/// The `[token]` whose hash is that of `token`, if any.
pub fn find<'a>(tokens: &'a [TokenConfig], token: &str) -> Option<&'a TokenConfig> {
    let hash = token_hash(token.trim());
    let mut found = None;
    for t in tokens {
        if bool::from(t.hash.ct_eq(&hash)) {
            found = Some(t);
        }
    }
    found
}

/// The token of an `Authorization: Bearer TOKEN` header value.
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, rest) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim()).filter(|t| !t.is_empty())
}

/// A fresh random token and the user.conf section that accepts it.
pub fn new(name: &str, role: Role, jobs: Option<&str>) -> (String, String) {
    let token = format!("{TOKEN_PREFIX}{}", crate::serve::random_token());
    let mut section =
        format!("[token \"{name}\"]\nhash = sha256:{}\nrole = {}\n", hex::encode(token_hash(&token)), role.as_str());
    if let Some(globs) = jobs.filter(|g| !g.trim().is_empty()) {
        section.push_str(&format!("jobs = {}\n", globs.trim()));
    }
    (token, section)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;

    #[test]
    fn a_new_token_is_found_by_its_hash_only() {
        let (token, section) = new("ci", Role::Operator, Some("deploy-*"));
        assert!(token.starts_with(TOKEN_PREFIX));
        assert!(!section.contains(&token), "{section}");
        assert!(section.contains("role = operator") && section.contains("jobs = deploy-*"), "{section}");
        let t = TokenConfig {
            name: "ci".into(),
            hash: token_hash(&token),
            role: Role::Operator,
            jobs: vec![],
            origin: Origin::default(),
        };
        let list = [t];
        assert_eq!(find(&list, &token).map(|t| t.name.as_str()), Some("ci"));
        assert!(find(&list, "karajo_nope").is_none());
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
    }
}
