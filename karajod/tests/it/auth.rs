//! Logins, sessions, CSRF and login rate limiting against the real daemon.
//! (Session expiry runs with an injected clock in the unit tests.)

use crate::api::CONF;
use crate::harness::{Daemon, Tree, client, wait_for};

fn tree_with_user() -> Tree {
    let tree = Tree::new(CONF);
    let hash = bcrypt::hash("pw", 4).unwrap();
    tree.write("etc/karajo/user.conf", &format!("[user \"alice\"]\npassword = {hash}\n"));
    tree
}

/// `POST /auth/login` as `alice`.
pub fn login(d: &Daemon, password: &str) -> reqwest::blocking::Response {
    client()
        .post(format!("{}/karajo/api/auth/login", d.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name=alice&password={password}"))
        .send()
        .unwrap()
}

#[test]
fn login_session_csrf_logout() {
    let tree = tree_with_user();
    let d = Daemon::start(&tree);
    assert_eq!(d.get("/karajo/api/environment").status(), 401);
    assert_eq!(login(&d, "wrong").status(), 400);
    let r = login(&d, "pw");
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = r.json::<serde_json::Value>().unwrap()["data"]["csrf_token"].as_str().unwrap().to_string();
    let c = client();
    let env = c.get(format!("{}/karajo/api/environment", d.url)).header("cookie", &cookie).send().unwrap();
    assert_eq!(env.status(), 200);
    let pause = |csrf: Option<&str>| {
        let mut req = c.post(format!("{}/karajo/api/job_exec/pause", d.url)).header("cookie", &cookie).body("id=alpha");
        if let Some(t) = csrf {
            req = req.header("X-Karajo-Csrf", t);
        }
        req.send().unwrap().status().as_u16()
    };
    assert_eq!(pause(None), 403);
    assert_eq!(pause(Some(&csrf)), 200);
    let out = c.post(format!("{}/karajo/api/auth/logout", d.url)).header("cookie", &cookie).send().unwrap();
    assert_eq!(out.status(), 200);
    let sess = c.get(format!("{}/karajo/api/auth/session", d.url)).header("cookie", &cookie).send().unwrap();
    assert_eq!(sess.status(), 401);
}

#[test]
fn failed_logins_are_rate_limited() {
    let tree = tree_with_user();
    let d = Daemon::start(&tree);
    for _ in 0..5 {
        assert_eq!(login(&d, "wrong").status(), 400);
    }
    assert_eq!(login(&d, "pw").status(), 429);
}

/// The dashboard learns its role from the login answer and `/auth/session`
/// (to hide the controls a role may not use); the role is the one in force,
/// so a reload that changes it shows at the next ask.
#[test]
fn the_session_answers_the_users_role() {
    let tree = Tree::new(CONF);
    let hash = bcrypt::hash("pw", 4).unwrap();
    let users = |role: &str| {
        format!("[user \"alice\"]\npassword = {hash}\nrole = {role}\n[user \"root\"]\npassword = {hash}\n")
    };
    tree.write("etc/karajo/user.conf", &users("viewer"));
    let d = Daemon::start(&tree);
    let r = login(&d, "pw");
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert_eq!(r.json::<serde_json::Value>().unwrap()["data"]["role"], "viewer");
    let role = || {
        let s = client().get(format!("{}/karajo/api/auth/session", d.url)).header("cookie", &cookie).send().unwrap();
        assert_eq!(s.status(), 200);
        let data = &s.json::<serde_json::Value>().unwrap()["data"];
        assert_eq!(data["name"], "alice");
        assert!(data["csrf_token"].as_str().is_some_and(|t| !t.is_empty()));
        data["role"].as_str().unwrap().to_string()
    };
    assert_eq!(role(), "viewer");
    tree.write("etc/karajo/user.conf", &users("operator"));
    nix::sys::signal::kill(d.pid(), nix::sys::signal::Signal::SIGHUP).unwrap();
    wait_for(std::time::Duration::from_secs(10), "the new role", || role() == "operator");
    // A user without `role` is admin (the default of SPEC 21).
    let root = client()
        .post(format!("{}/karajo/api/auth/login", d.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=root&password=pw")
        .send()
        .unwrap();
    assert_eq!(root.json::<serde_json::Value>().unwrap()["data"]["role"], "admin");
}
