//! Logins under concurrency, signed reads and where a replay epoch comes from.

use super::now;
use crate::api::{CONF, post, sign};
use crate::harness::{Daemon, Tree};

/// A tree whose user.conf has `alice` with password `pw` (bcrypt cost 8,
/// slow enough that parallel attempts overlap).
fn tree_with_user() -> Tree {
    let tree = Tree::new(CONF);
    let hash = bcrypt::hash("pw", 8).unwrap();
    tree.write("etc/karajo/user.conf", &format!("[user \"alice\"]\npassword = {hash}\n"));
    tree
}

fn login(d: &Daemon, password: &str) -> u16 {
    crate::auth::login(d, password).status().as_u16()
}

#[test]
fn issue_14_the_login_limit_holds_under_concurrency() {
    let tree = tree_with_user();
    let d = Daemon::start(&tree);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..60).map(|_| s.spawn(|| login(&d, "wrong"))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let checked = statuses.iter().filter(|&&s| s == 400).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(checked + refused, 60, "{statuses:?}");
    assert_eq!(checked, 5, "only the limit's worth of bcrypt checks ran: {statuses:?}");
    assert_eq!(login(&d, "pw"), 429, "the right password is refused too until the window passes");
}

fn signed_get(d: &Daemon, path: &str, query: &str, signed_over: &str) -> (u16, serde_json::Value) {
    let url = if query.is_empty() { format!("{}{path}", d.url) } else { format!("{}{path}?{query}", d.url) };
    let r = crate::harness::client().get(url).header("X-Karajo-Sign", sign(signed_over.as_bytes())).send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or(serde_json::Value::Null))
}

#[test]
fn issue_14_a_signed_read_must_sign_a_fresh_epoch() {
    let tree = tree_with_user();
    let d = Daemon::start(&tree);
    let env = "/karajo/api/environment";
    let (s, v) = signed_get(&d, env, "", "");
    assert_ne!(s, 200, "HMAC(secret, \"\") grants nothing: {v}");
    assert!(v["data"].is_null());
    let fresh = format!("_karajo_epoch={}", now());
    assert_eq!(signed_get(&d, env, &fresh, &fresh).0, 200);
    assert_eq!(signed_get(&d, env, &fresh, &fresh).0, 200, "without replay_window a read may repeat");
    let stale = format!("_karajo_epoch={}", now() - 600);
    let (s, v) = signed_get(&d, env, &stale, &stale);
    assert_eq!((s, v["name"].as_str()), (409, Some("ERR_REPLAY")));
    // The epoch in an unsigned query does not make the fixed signature fresh.
    assert_eq!(signed_get(&d, env, &fresh, "").0, 401);
    let job = format!("id=alpha&_karajo_epoch={}", now());
    assert_eq!(signed_get(&d, "/karajo/api/job_exec", &job, &job).0, 200);
    assert_eq!(signed_get(&d, "/karajo/api/job_exec", "id=alpha", "id=alpha").0, 400);
    assert_eq!(signed_get(&d, "/karajo/metrics", "", "").0, 401, "metrics too");
    assert_eq!(signed_get(&d, "/karajo/metrics", &fresh, &fresh).0, 200);
}

fn replay_tree(users: bool) -> Tree {
    let tree = Tree::new(&CONF.replacen("[karajo]\n", "[karajo]\nreplay_window = 5m\n", 1));
    if users {
        let hash = bcrypt::hash("pw", 4).unwrap();
        tree.write("etc/karajo/user.conf", &format!("[user \"alice\"]\npassword = {hash}\n"));
    }
    tree
}

#[test]
fn issue_14_signed_reads_fall_under_the_replay_window() {
    let tree = replay_tree(true);
    let d = Daemon::start(&tree);
    let q = format!("_karajo_epoch={}&n=1", now());
    assert_eq!(signed_get(&d, "/karajo/api/environment", &q, &q).0, 200);
    let (s, v) = signed_get(&d, "/karajo/api/environment", &q, &q);
    assert_eq!((s, v["name"].as_str()), (409, Some("ERR_REPLAY")), "an exact replay");
    assert_eq!(signed_get(&d, "/karajo/api/job_http", &format!("id=ping&{q}"), &format!("id=ping&{q}")).0, 200);
}

#[test]
fn issue_14_with_a_replay_window_the_epoch_comes_from_the_signed_bytes_only() {
    let tree = replay_tree(false);
    let d = Daemon::start(&tree);
    let fresh = format!("_karajo_epoch={}", now());
    // job_exec signs the form body: an epoch in the (unsigned) query is not taken.
    let path = format!("/karajo/api/job_exec/pause?{fresh}");
    let (s, v) = post(&d, &path, &[("X-Karajo-Sign", &sign(b"id=alpha"))], b"id=alpha".to_vec());
    assert_eq!((s, v["name"].as_str()), (400, Some("ERR_BAD_REQUEST")), "{v}");
    // Nor for a webhook, whose body is signed.
    let path = format!("/karajo/api/job_exec/run/alpha?{fresh}");
    let (s, v) = post(&d, &path, &[("X-Karajo-Sign", &sign(b"{}"))], b"{}".to_vec());
    assert_eq!((s, v["name"].as_str()), (400, Some("ERR_BAD_REQUEST")), "{v}");
    // A signed fresh epoch passes once.
    let body = format!("{{\"_karajo_epoch\":{}}}", now());
    let hook =
        |b: &str| post(&d, "/karajo/api/job_exec/run/alpha", &[("X-Karajo-Sign", &sign(b.as_bytes()))], b.into());
    assert_eq!(hook(&body).0, 200);
    assert_eq!(hook(&body).1["name"], "ERR_REPLAY");
    let form = format!("{fresh}&id=alpha");
    assert_eq!(
        post(&d, "/karajo/api/job_exec/pause", &[("X-Karajo-Sign", &sign(form.as_bytes()))], form.into()).0,
        200
    );
}
