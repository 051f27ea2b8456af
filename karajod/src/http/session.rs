//! Dashboard sessions: random tokens (256 bits) held in memory, each with a
//! user name, a CSRF token and an expiry (24 h by default) read from the
//! injected clock.
//!
//! Invariants: tokens never reach a log or `Debug`; an expired session is
//! never returned; the store is bounded ([`MAX_SESSIONS`]) so a login flood
//! cannot grow memory without limit; a session is bound to the password
//! hash it was opened with ([`UserConfig::credential`]), so removing the user or
//! changing the password in user.conf ends it at the next request after a
//! reload (see [`SessionStore::get`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use crate::config::UserConfig;
use crate::engine::Clock;

/// How long a session lives after login.
pub const SESSION_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// At most this many live sessions; the oldest goes first past it.
pub const MAX_SESSIONS: usize = 10_000;

/// A logged-in user's session as handlers see it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub user: String,
    pub csrf_token: String,
    pub expires: DateTime<Utc>,
    /// [`UserConfig::credential`] of the password hash the user logged in with.
    credential: [u8; 32],
}

impl fmt::Debug for SessionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionInfo").field("user", &self.user).field("expires", &self.expires).finish()
    }
}

impl SessionInfo {
    /// Constant-time check of the `X-Karajo-Csrf` header.
    pub fn csrf_matches(&self, given: &str) -> bool {
        given.len() == self.csrf_token.len() && bool::from(given.as_bytes().ct_eq(self.csrf_token.as_bytes()))
    }

    /// True while `users` still holds this user with the same password.
    fn still_valid(&self, users: &[UserConfig]) -> bool {
        UserConfig::still_logs_in(users, &self.user, &self.credential)
    }

    /// The view sent to the client, with the user's role under `users`
    /// (the configuration in force, so a reload's new role shows at once).
    pub fn view(&self, users: &[UserConfig]) -> proto::Session {
        let role = users.iter().find(|u| u.name == self.user).map_or(proto::Role::Viewer, |u| u.role);
        proto::Session { name: self.user.clone(), csrf_token: self.csrf_token.clone(), role }
    }
}

/// The in-memory session table.
pub struct SessionStore {
    clock: Arc<dyn Clock>,
    ttl: Duration,
    sessions: Mutex<HashMap<String, SessionInfo>>,
}

impl fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.sessions.lock().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("SessionStore").field("ttl", &self.ttl).field("sessions", &n).finish()
    }
}

pub use crate::serve::random_token;

impl SessionStore {
    pub fn new(clock: Arc<dyn Clock>, ttl: Duration) -> SessionStore {
        SessionStore { clock, ttl, sessions: Mutex::new(HashMap::new()) }
    }

    /// Opens a session for `user`, who proved `password_hash`; returns its
    /// token (the cookie value).
    pub fn create(&self, user: &str, password_hash: &str) -> (String, SessionInfo) {
        let now = self.clock.now();
        let info = SessionInfo {
            user: user.to_string(),
            csrf_token: random_token(),
            expires: now + chrono::TimeDelta::from_std(self.ttl).unwrap_or(chrono::TimeDelta::days(1)),
            credential: UserConfig::credential(password_hash),
        };
        let token = random_token();
        let mut map = self.sessions.lock().expect("session lock");
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(token.clone(), info.clone());
        (token, info)
    }

    /// The live session of this token, if any. An expired one, or one
    /// whose user no longer has the password it logged in with in `users`
    /// (the configuration in force), is dropped.
    pub fn get(&self, token: &str, users: &[UserConfig]) -> Option<SessionInfo> {
        let now = self.clock.now();
        let mut map = self.sessions.lock().expect("session lock");
        match map.get(token) {
            Some(s) if s.expires > now && s.still_valid(users) => Some(s.clone()),
            Some(_) => {
                map.remove(token);
                None
            }
            None => None,
        }
    }

    /// Logout: the token is forgotten. True when it existed.
    pub fn remove(&self, token: &str) -> bool {
        self.sessions.lock().expect("session lock").remove(token).is_some()
    }

    /// Drops every session [`SessionStore::get`] would refuse under
    /// `users` (after a reload: frees their memory at once).
    pub fn retain_valid(&self, users: &[UserConfig]) {
        let now = self.clock.now();
        self.sessions.lock().expect("session lock").retain(|_, s| s.expires > now && s.still_valid(users));
    }
}

/// The `Set-Cookie` value of a fresh session.
pub fn session_cookie(token: &str, ttl: Duration) -> String {
    format!("{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}", proto::session::SESSION_COOKIE, ttl.as_secs())
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn expired_cookie() -> String {
    format!("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0", proto::session::SESSION_COOKIE)
}

/// Checks a password against a bcrypt hash (`$2a$`, `$2b$`, `$2y$`).
/// Slow on purpose: call it from a blocking thread.
pub fn verify_password(password: &str, hash: &str) -> bool {
    bcrypt::verify(password, hash).unwrap_or(false)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::{Origin, Secret};
    pub use crate::engine::ManualClock;

    const HASH: &str = "$2b$04$abcdefghijklmnopqrstuu5Ba4lyzYv3iIYQ5b1dN5H3tq8bAJl6";

    fn users(list: &[(&str, &str)]) -> Vec<UserConfig> {
        list.iter()
            .map(|(n, h)| UserConfig {
                name: n.to_string(),
                password_hash: Secret::new(*h),
                role: proto::Role::Admin,
                origin: Origin::default(),
            })
            .collect()
    }

    #[test]
    fn sessions_expire_after_their_ttl() {
        let clock = ManualClock::at(Utc::now());
        let store = SessionStore::new(clock.clone(), SESSION_TTL);
        let alice = users(&[("alice", HASH)]);
        let (token, info) = store.create("alice", HASH);
        assert_eq!(token.len(), 64);
        assert_eq!(store.get(&token, &alice).unwrap().user, "alice");
        assert!(info.csrf_matches(&info.csrf_token));
        assert!(!info.csrf_matches("nope"));
        clock.advance(SESSION_TTL - Duration::from_secs(1));
        assert!(store.get(&token, &alice).is_some());
        clock.advance(Duration::from_secs(1));
        assert!(store.get(&token, &alice).is_none());
    }

    #[test]
    fn logout_forgets_the_token() {
        let store = SessionStore::new(ManualClock::at(Utc::now()), SESSION_TTL);
        let (token, _) = store.create("bob", HASH);
        assert!(store.remove(&token));
        assert!(store.get(&token, &users(&[("bob", HASH)])).is_none());
        assert!(!store.remove(&token));
    }

    #[test]
    fn tokens_are_distinct_and_not_in_debug() {
        let store = SessionStore::new(ManualClock::at(Utc::now()), SESSION_TTL);
        let (a, ia) = store.create("u", HASH);
        let (b, _) = store.create("u", HASH);
        assert_ne!(a, b);
        let dbg = format!("{ia:?} {store:?}");
        assert!(!dbg.contains(&a) && !dbg.contains(&ia.csrf_token), "{dbg}");
    }

    #[test]
    fn the_store_is_bounded() {
        let store = SessionStore::new(ManualClock::at(Utc::now()), SESSION_TTL);
        for _ in 0..MAX_SESSIONS + 5 {
            store.create("u", HASH);
        }
        assert_eq!(store.sessions.lock().unwrap().len(), MAX_SESSIONS);
    }

    #[test]
    fn a_session_ends_when_its_user_goes_or_its_password_changes() {
        let store = SessionStore::new(ManualClock::at(Utc::now()), SESSION_TTL);
        let (token, _) = store.create("alice", HASH);
        assert!(store.get(&token, &users(&[("alice", HASH)])).is_some());
        assert!(store.get(&token, &users(&[("alice", "$2b$04$other")])).is_none(), "password changed");
        assert!(store.get(&token, &users(&[("alice", HASH)])).is_none(), "a refused session stays gone");
        let (kept, _) = store.create("bob", HASH);
        let (gone, _) = store.create("carol", HASH);
        store.retain_valid(&users(&[("bob", HASH)]));
        assert_eq!(store.sessions.lock().unwrap().len(), 1);
        assert!(store.get(&kept, &users(&[("bob", HASH)])).is_some());
        assert!(store.get(&gone, &users(&[("bob", HASH), ("carol", HASH)])).is_none());
    }

    #[test]
    fn bcrypt_variants_verify() {
        let hash = bcrypt::hash_with_salt("pw", 4, [7u8; 16]).unwrap();
        for v in [bcrypt::Version::TwoA, bcrypt::Version::TwoB, bcrypt::Version::TwoY] {
            let h = hash.format_for_version(v);
            assert!(verify_password("pw", &h), "{h}");
            assert!(!verify_password("px", &h));
        }
        assert!(!verify_password("pw", "not a hash"));
    }

    #[test]
    fn cookies_have_the_required_attributes() {
        let c = session_cookie("tok", SESSION_TTL);
        for part in ["karajo=tok", "HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(expired_cookie().contains("Max-Age=0"));
    }
}
