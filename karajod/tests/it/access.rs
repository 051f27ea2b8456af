//! Who may do what, and who did it (SPEC 21), against the real daemon:
//! roles of users, API tokens with job globs, the action-binding
//! signature, `classic_signatures = false`, and the audit log (file and
//! `GET /karajo/api/audit`).

use serde_json::Value;

use crate::harness::{Daemon, Tree, client, run_karajod, wait_for};

pub(crate) const CONF: &str = "[karajo]\nsecret = s3cret\n\
[job \"deploy-web\"]\ncommand = true\n\
[job \"backup\"]\ncommand = true\n";

/// A user.conf with `viewer`, `operator` and `admin`, each of that role
/// (password `pw`), plus `extra`.
pub(crate) fn user_conf(roles: &[(&str, &str)], extra: &str) -> String {
    let hash = bcrypt::hash("pw", 4).unwrap();
    let mut text = String::new();
    for (name, role) in roles {
        text.push_str(&format!("[user \"{name}\"]\npassword = {hash}\nrole = {role}\n"));
    }
    text.push_str(extra);
    text
}

pub(crate) const ROLES: &[(&str, &str)] = &[("viewer", "viewer"), ("operator", "operator"), ("admin", "admin")];

/// A logged-in user: its cookie and CSRF token.
pub(crate) struct Login {
    pub cookie: String,
    pub csrf: String,
}

pub(crate) fn login(d: &Daemon, name: &str) -> Login {
    let r = client()
        .post(format!("{}/karajo/api/auth/login", d.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name={name}&password=pw"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "login {name}");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = r.json::<Value>().unwrap()["data"]["csrf_token"].as_str().unwrap().to_string();
    Login { cookie, csrf }
}

/// A request as `who` (session + CSRF): status and `name` of the answer.
pub(crate) fn as_user(d: &Daemon, who: &Login, method: &str, path: &str, body: &str) -> (u16, String) {
    let req = client()
        .request(method.parse().unwrap(), format!("{}{path}", d.url))
        .header("cookie", &who.cookie)
        .header("X-Karajo-Csrf", &who.csrf)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    answer(req)
}

fn answer(req: reqwest::blocking::RequestBuilder) -> (u16, String) {
    let r = req.send().unwrap();
    let status = r.status().as_u16();
    let v: Value = r.json().unwrap_or(Value::Null);
    (status, v["name"].as_str().unwrap_or("").to_string())
}

pub(crate) fn bearer(d: &Daemon, token: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let req = client()
        .request(method.parse().unwrap(), format!("{}{path}", d.url))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    answer(req)
}

/// GET `path` with `Authorization: Bearer TOKEN`; the raw answer.
pub(crate) fn bearer_get(d: &Daemon, token: &str, path: &str) -> reqwest::blocking::Response {
    client().get(format!("{}{path}", d.url)).header("authorization", format!("Bearer {token}")).send().unwrap()
}

/// A request signed with `X-Karajo-Signature` over exactly what it sends.
pub(crate) fn bound(d: &Daemon, method: &str, path_query: &str, body: &str, epoch: i64) -> (u16, String) {
    let sig = proto::sign::sign_bound(b"s3cret", method, path_query, epoch, body.as_bytes());
    bound_with(d, method, path_query, body, &sig)
}

fn bound_with(d: &Daemon, method: &str, path_query: &str, body: &str, sig: &str) -> (u16, String) {
    let req = client()
        .request(method.parse().unwrap(), format!("{}{path_query}", d.url))
        .header("X-Karajo-Signature", sig)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string());
    answer(req)
}

/// One request on the control socket; the raw answer.
pub(crate) fn on_socket(tree: &Tree, method: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(tree.path("var/run/karajo/karajod.sock")).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn audit_lines(tree: &Tree) -> Vec<Value> {
    let text = std::fs::read_to_string(tree.path("var/log/karajo/audit.log")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).expect("each audit line is JSON")).collect()
}

fn audited(tree: &Tree, actor: &str, action: &str, result: &str) -> bool {
    audit_lines(tree).iter().any(|e| e["actor"] == actor && e["action"] == action && e["result"] == result)
}

#[test]
fn roles_decide_what_each_user_may_do_and_every_refusal_is_audited() {
    let tree = Tree::new(CONF);
    tree.write("etc/karajo/user.conf", &user_conf(ROLES, ""));
    let d = Daemon::start(&tree);
    let (viewer, operator, admin) = (login(&d, "viewer"), login(&d, "operator"), login(&d, "admin"));
    let pause = "/karajo/api/job_exec/pause";
    for who in [&viewer, &operator, &admin] {
        assert_eq!(as_user(&d, who, "GET", "/karajo/api/environment", "").0, 200);
    }
    assert_eq!(as_user(&d, &viewer, "POST", pause, "id=backup"), (403, "ERR_FORBIDDEN".into()));
    assert_eq!(as_user(&d, &operator, "POST", pause, "id=backup").0, 200);
    assert_eq!(as_user(&d, &admin, "POST", "/karajo/api/job_exec/resume", "id=backup").0, 200);
    assert_eq!(as_user(&d, &operator, "POST", "/karajo/api/reload", "").0, 403);
    assert_eq!(as_user(&d, &operator, "GET", "/karajo/api/audit", "").0, 403);
    assert_eq!(as_user(&d, &admin, "POST", "/karajo/api/reload", "").0, 200);
    assert!(audited(&tree, "user:viewer", "job_exec/pause", "ERR_FORBIDDEN"));
    assert!(audited(&tree, "user:operator", "job_exec/pause", "ok"));
    assert!(audited(&tree, "user:operator", "reload", "ERR_FORBIDDEN"));
    assert!(audited(&tree, "user:admin", "reload", "ok"));
    assert!(audited(&tree, "user:viewer", "login", "ok"));

    let r = client().get(format!("{}/karajo/api/audit?limit=2", d.url)).header("cookie", &admin.cookie).send().unwrap();
    assert_eq!(r.status(), 200);
    let page: Value = r.json().unwrap();
    let entries = page["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let seq = |e: &Value| e["seq"].as_u64().unwrap();
    assert!(seq(&entries[0]) > seq(&entries[1]), "newest first: {page}");
    for key in ["at", "actor", "via", "source", "action", "target", "result"] {
        assert!(entries[0].get(key).is_some(), "{key} in {page}");
    }
    let older = client()
        .get(format!("{}/karajo/api/audit?before={}", d.url, seq(&entries[1])))
        .header("cookie", &admin.cookie)
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert!(older["data"].as_array().unwrap().iter().all(|e| seq(e) < seq(&entries[1])), "{older}");

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(tree.path("var/log/karajo/audit.log")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn a_reload_that_changes_a_role_applies_at_once() {
    let tree = Tree::new(CONF);
    tree.write("etc/karajo/user.conf", &user_conf(&[("alice", "viewer")], ""));
    let d = Daemon::start(&tree);
    let alice = login(&d, "alice");
    assert_eq!(as_user(&d, &alice, "POST", "/karajo/api/job_exec/pause", "id=backup").0, 403);
    let text = std::fs::read_to_string(tree.path("etc/karajo/user.conf")).unwrap();
    tree.write("etc/karajo/user.conf", &text.replace("role = viewer", "role = operator"));
    nix::sys::signal::kill(d.pid(), nix::sys::signal::Signal::SIGHUP).unwrap();
    wait_for(std::time::Duration::from_secs(10), "the new role", || {
        as_user(&d, &alice, "POST", "/karajo/api/job_exec/pause", "id=backup").0 == 200
    });
    assert!(audited(&tree, "signal:SIGHUP", "reload", "ok"));
}

/// `karajod token new` and the section it prints, pasted into user.conf.
pub(crate) fn new_token(tree: &Tree, args: &[&str]) -> String {
    let mut all = vec!["token", "new"];
    all.extend_from_slice(args);
    let out = run_karajod(&all, tree.base());
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let token = stdout.lines().next().unwrap().rsplit(' ').next().unwrap().to_string();
    let section: String = stdout
        .lines()
        .skip_while(|l| !l.starts_with("[token"))
        .take_while(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!section.contains(&token), "only the hash is stored: {section}");
    let path = tree.path("etc/karajo/user.conf");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(&section);
    tree.write("etc/karajo/user.conf", &text);
    token
}

#[test]
fn tokens_act_within_their_role_and_job_globs() {
    let tree = Tree::new(CONF);
    tree.write("etc/karajo/user.conf", &user_conf(&[("admin", "admin")], ""));
    let ci = new_token(&tree, &["ci", "--role", "operator", "--jobs", "deploy-*"]);
    let watch = new_token(&tree, &["watch", "--role", "viewer"]);
    let d = Daemon::start(&tree);
    let pause = "/karajo/api/job_exec/pause";
    assert_eq!(bearer(&d, &ci, "GET", "/karajo/api/environment", "").0, 200);
    assert_eq!(bearer(&d, &ci, "POST", pause, "id=deploy-web").0, 200, "no CSRF header needed");
    assert_eq!(bearer(&d, &ci, "POST", pause, "id=backup"), (403, "ERR_FORBIDDEN".into()));
    assert_eq!(bearer(&d, &ci, "POST", "/karajo/api/reload", "").0, 403);
    assert_eq!(bearer(&d, &watch, "GET", "/karajo/api/job_exec?id=backup", "").0, 200);
    assert_eq!(bearer(&d, &watch, "POST", pause, "id=deploy-web").0, 403);
    assert!(audited(&tree, "token:ci", "job_exec/pause", "ok"));
    assert!(audited(&tree, "token:ci", "job_exec/pause", "ERR_FORBIDDEN"));
    let log = std::fs::read_to_string(tree.path("var/log/karajo/audit.log")).unwrap();
    assert!(!log.contains(&ci) && !log.contains(&watch), "tokens never reach the audit log");
}

#[test]
fn wrong_tokens_are_refused_and_rate_limited_like_logins() {
    let tree = Tree::new(CONF);
    let good = new_token(&tree, &["ci"]);
    let d = Daemon::start(&tree);
    for _ in 0..5 {
        assert_eq!(
            bearer(&d, "karajo_guess", "POST", "/karajo/api/job_exec/pause", "id=backup"),
            (401, "ERR_AUTH_REQUIRED".into())
        );
    }
    assert_eq!(
        bearer(&d, &good, "POST", "/karajo/api/job_exec/pause", "id=backup"),
        (429, "ERR_TOO_MANY_REQUESTS".into())
    );
}

#[test]
fn the_bound_signature_covers_the_action_and_refuses_replays() {
    let tree = Tree::new(CONF);
    let d = Daemon::start(&tree);
    let now = chrono::Utc::now().timestamp();
    let path = "/karajo/api/job_exec/pause";
    let sig = proto::sign::sign_bound(b"s3cret", "POST", path, now, b"id=backup");
    assert_eq!(bound_with(&d, "POST", path, "id=backup", &sig).0, 200);
    assert_eq!(bound_with(&d, "POST", path, "id=backup", &sig), (409, "ERR_REPLAY".into()));
    assert_eq!(
        bound_with(&d, "POST", "/karajo/api/job_exec/resume", "id=backup", &sig).0,
        401,
        "a pause is not a resume"
    );
    assert_eq!(bound_with(&d, "POST", path, "id=deploy-web", &sig).0, 401, "nor a pause of another job");
    assert_eq!(bound(&d, "POST", path, "id=backup", now - 600), (409, "ERR_REPLAY".into()), "epoch outside 5m");
    assert_eq!(bound(&d, "POST", "/karajo/api/job_http/run?id=nope", "", now).0, 400, "query covered, then id checked");
    assert_eq!(bound(&d, "GET", "/karajo/api/job_exec?id=backup", "", now).0, 200);
    let classic = crate::harness::signed_action(&client(), &d, "s3cret", "resume", "backup");
    assert_eq!(classic.0, 200, "the classic form stays accepted by default");
    assert!(audited(&tree, "signature", "job_exec/pause", "ok"));
    assert!(audited(&tree, "signature", "job_exec/pause", "ERR_REPLAY"));
}

#[test]
fn classic_signatures_can_be_turned_off() {
    let tree = Tree::new(&CONF.replace("secret = s3cret\n", "secret = s3cret\nclassic_signatures = false\n"));
    let d = Daemon::start(&tree);
    assert_eq!(crate::harness::signed_action(&client(), &d, "s3cret", "pause", "backup").0, 401);
    let now = chrono::Utc::now().timestamp();
    assert_eq!(bound(&d, "POST", "/karajo/api/job_exec/pause", "id=backup", now).0, 200);
    let out = run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    assert!(String::from_utf8_lossy(&out.stdout).contains("classic signatures (X-Karajo-Sign): refused"));
}

#[test]
fn bad_roles_hashes_and_duplicate_tokens_are_located_errors() {
    let tree = Tree::new(CONF);
    let hash = format!("sha256:{}", "ab".repeat(32));
    tree.write(
        "etc/karajo/user.conf",
        &format!(
            "[token \"ci\"]\nhash = {hash}\nrole = boss\n[token \"ci\"]\nhash = {hash}\n[token \"short\"]\nhash = sha256:abc\n\
             [token \"glob\"]\nhash = {hash}\njobs = ok-*,bad/glob\n"
        ),
    );
    let out = run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("user.conf:3") && stderr.contains("role") && stderr.contains("boss"), "{stderr}");
    assert!(stderr.contains("user.conf:4") && stderr.contains("duplicate token \"ci\""), "{stderr}");
    assert!(stderr.contains("user.conf:7") && stderr.contains("hash"), "{stderr}");
    assert!(stderr.contains("user.conf:10") && stderr.contains("bad/glob"), "{stderr}");
}

#[test]
fn check_lists_tokens_without_their_hash() {
    let tree = Tree::new(CONF);
    tree.write("etc/karajo/user.conf", &user_conf(&[("ops", "operator")], ""));
    new_token(&tree, &["ci", "--role", "operator", "--jobs", "deploy-*,backup"]);
    let out = run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("role operator, jobs deploy-*,backup; hash sha256:"), "{stdout}");
    assert!(stdout.contains("ops") && stdout.contains("role operator"), "{stdout}");
    let conf = std::fs::read_to_string(tree.path("etc/karajo/user.conf")).unwrap();
    let full = conf.lines().find_map(|l| l.strip_prefix("hash = sha256:")).unwrap();
    assert!(!stdout.contains(full), "{stdout}");
}

#[test]
fn socket_callers_and_webhooks_are_audited_with_who_they_are() {
    let tree = Tree::new(&format!("{CONF}[job \"hook\"]\npath = /hook\ncommand = true\n"));
    let d = Daemon::start(&tree);
    let out = on_socket(&tree, "POST", "/karajo/api/job_exec/pause", "id=backup");
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    let uid = nix::unistd::getuid().as_raw();
    let entries = audit_lines(&tree);
    let socket = entries.iter().find(|e| e["action"] == "job_exec/pause").expect("the socket pause is audited");
    let actor = socket["actor"].as_str().unwrap();
    assert!(actor.starts_with(&format!("socket:uid={uid}(")) && actor.contains(" pid="), "{actor}");
    assert_eq!((socket["via"].as_str(), socket["target"].as_str()), (Some("socket"), Some("backup")));

    let hook = |sig: &str| {
        client()
            .post(format!("{}/karajo/api/job_exec/run/hook", d.url))
            .header("X-Karajo-Sign", sig)
            .header("X-Karajo-Delivery", "d-42")
            .body("{}")
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(hook(&proto::sign::hmac_sha256_hex(b"s3cret", b"{}")), 200);
    assert_eq!(hook("00"), 403);
    assert!(audited(&tree, "webhook:hmac-sha256 delivery=d-42", "webhook", "ok"));
    assert!(!audited(&tree, "webhook:hmac-sha256 delivery=d-42", "webhook", "ERR_JOB_FORBIDDEN"), "forgeries are not");
}

#[test]
fn an_unwritable_audit_log_never_blocks_a_request_and_is_counted() {
    let tree = Tree::new(&CONF.replace("secret = s3cret\n", "secret = s3cret\nmetrics_token = mtok\n"));
    // A directory where the file should be: every write fails.
    std::fs::create_dir_all(tree.path("var/log/karajo/audit.log")).unwrap();
    let d = Daemon::start(&tree);
    let (status, _) = crate::harness::signed_action(&client(), &d, "s3cret", "pause", "backup");
    assert_eq!(status, 200);
    let metrics =
        client().get(format!("{}/karajo/metrics", d.url)).header("authorization", "Bearer mtok").send().unwrap();
    let text = metrics.text().unwrap();
    let lost = text.lines().find_map(|l| l.strip_prefix("karajo_audit_entries_lost_total ")).unwrap_or("0");
    assert!(lost.parse::<u64>().unwrap() >= 1, "{text}");
}

#[test]
fn token_new_refuses_bad_names_and_roles() {
    let tree = Tree::new(CONF);
    for args in [&["token", "new", "a\"b"][..], &["token", "new", "ci", "--role", "boss"]] {
        let out = run_karajod(args, tree.base());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "no token is printed for a refused command");
    }
}

/// Role × action × transport: a session and a token of each role, the
/// signature and the socket (both admin), on a read, an operator call and
/// the two admin calls; each answer's status, and each refusal audited.
#[test]
fn role_action_transport_matrix() {
    let tree = Tree::new(CONF);
    tree.write("etc/karajo/user.conf", &user_conf(ROLES, ""));
    let tokens: Vec<String> =
        ["viewer", "operator", "admin"].iter().map(|r| new_token(&tree, &[&format!("t-{r}"), "--role", r])).collect();
    let d = Daemon::start(&tree);
    let calls = [
        ("GET", "/karajo/api/job_exec?id=backup", ""),
        ("POST", "/karajo/api/job_exec/pause", "id=backup"),
        ("GET", "/karajo/api/audit", ""),
        ("POST", "/karajo/api/reload", ""),
    ];
    // Allowed calls per role: viewer the read, operator also pause, admin all.
    let allowed = [1, 2, 4];
    for (r, role) in ["viewer", "operator", "admin"].iter().enumerate() {
        let session = login(&d, role);
        for (i, (method, path, body)) in calls.iter().enumerate() {
            let want = if i < allowed[r] { 200 } else { 403 };
            assert_eq!(as_user(&d, &session, method, path, body).0, want, "session {role} {method} {path}");
            assert_eq!(bearer(&d, &tokens[r], method, path, body).0, want, "token {role} {method} {path}");
        }
        if allowed[r] < calls.len() {
            let (_, path, _) = calls[allowed[r]];
            let action = path.trim_start_matches("/karajo/api/");
            assert!(audited(&tree, &format!("user:{role}"), action, "ERR_FORBIDDEN"), "{role} {action}");
            assert!(audited(&tree, &format!("token:t-{role}"), action, "ERR_FORBIDDEN"), "{role} {action}");
        }
    }
    let now = chrono::Utc::now().timestamp();
    for (method, path, body) in calls {
        assert_eq!(bound(&d, method, path, body, now).0, 200, "signature {method} {path}");
        let out = on_socket(&tree, method, path, body);
        assert!(out.starts_with("HTTP/1.1 200"), "socket {method} {path}: {out}");
    }
    let anonymous = client().get(format!("{}/karajo/api/job_exec?id=backup", d.url)).send().unwrap();
    assert_eq!(anonymous.status(), 401, "with users, no credential is no access");
}
