//! Loader tests on real files in a temp dir_base: defaults, lists,
//! precedence, credentials from the environment, ignored files.

use std::path::Path;
use std::time::Duration;

use super::*;

fn tree(main: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().display().to_string();
    let text = main.replacen("[karajo]\n", &format!("[karajo]\ndir_base = {base}\n"), 1);
    for (rel, body) in std::iter::once(&("etc/karajo/karajo.conf", text.as_str())).chain(extra) {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    dir
}

fn load_tree(dir: &Path) -> Result<Loaded, ConfigErrors> {
    let env = |k: &str| (k == "SMTP_PW").then(|| "from-env".to_string());
    load_with_env(&dir.join("etc/karajo/karajo.conf"), &env)
}

#[test]
fn defaults_apply_when_keys_are_absent() {
    let dir = tree("[karajo]\n[job \"Hello World\"]\ncommand = true\n", &[]);
    let l = load_tree(dir.path()).unwrap();
    let s = &l.config.server;
    assert_eq!(s.name, "karajo");
    assert_eq!(s.listen_address, DEFAULT_LISTEN_ADDRESS);
    assert_eq!(s.http_timeout, Duration::from_secs(300));
    assert_eq!(s.max_job_running, 1);
    assert!(s.secret_generated && s.secret.expose().len() == 32);
    assert_eq!(s.control_socket, dir.path().join("var/run/karajo/karajod.sock"));
    assert_eq!(s.replay_window, None);
    let j = &l.config.jobs[0];
    assert_eq!(j.id.as_str(), "hello_world");
    assert_eq!(j.auth_kind, AuthKind::HmacSha256);
    assert_eq!(j.header_sign, "X-Karajo-Sign");
    assert_eq!(j.log_retention, 5);
    assert_eq!(j.secret, s.secret, "a job's secret defaults to the global one");
    assert!(j.timer.is_none() && j.path.is_none());
}

#[test]
fn repeated_keys_keep_their_order_and_single_keys_take_the_last() {
    let main = "[karajo]\nsecret = a\n[job \"x\"]\ncommand = one\ncommand = \"two # three\"\ncommand = four ; c\ndescription = first\ndescription = second\n";
    let l = load_tree(tree(main, &[]).path()).unwrap();
    let j = &l.config.jobs[0];
    assert_eq!(j.commands, ["one", "two # three", "four"]);
    assert_eq!(j.description, "second");
    assert!(l.warnings.iter().any(|w| w.key.as_deref() == Some("description") && w.line == Some(8)));
}

#[test]
fn schedule_wins_over_interval_and_short_intervals_are_raised() {
    let main = "[karajo]\nsecret = a\n[job \"s\"]\ncommand = true\ninterval = 5m\nschedule = hourly@5\n[job \"i\"]\ncommand = true\ninterval = 10s\n";
    let l = load_tree(tree(main, &[]).path()).unwrap();
    assert!(matches!(l.config.jobs[0].timer, Some(Timer::Schedule(_))));
    assert_eq!(l.config.jobs[1].timer, Some(Timer::Interval(MIN_INTERVAL)));
    assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
}

#[test]
fn job_dirs_read_only_visible_conf_files_in_name_order() {
    let extra = [
        ("etc/karajo/job.d/b.conf", "[job \"b\"]\ncommand = true\n"),
        ("etc/karajo/job.d/a.conf", "[job \"a\"]\ncommand = true\n"),
        ("etc/karajo/job.d/.hidden.conf", "[job \"hidden\"]\ncommand = true\n"),
        ("etc/karajo/job.d/c.conf.off", "[job \"off\"]\ncommand = true\n"),
        ("etc/karajo/job_http.d/p.conf", "[job.http \"p\"]\nhttp_url = /x\nhttp_timeout = -1s\n"),
    ];
    let l = load_tree(tree("[karajo]\nsecret = a\n", &extra).path()).unwrap();
    let ids: Vec<&str> = l.config.jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(l.config.http_jobs[0].http_timeout, None, "negative means no timeout");
}

#[test]
fn smtp_passwords_resolve_from_the_environment() {
    let main = "[karajo]\nsecret = a\n[notif \"m\"]\nkind = email\nsmtp_server = smtps://mail.example.com\nsmtp_user = u\nsmtp_password = $SMTP_PW\nfrom = a@b\nto = Ops <ops@example.com>\n";
    let l = load_tree(tree(main, &[]).path()).unwrap();
    let n = &l.config.notifs["m"];
    assert_eq!(n.smtp_password.expose(), "from-env");
    assert_eq!((n.scheme, n.port), (SmtpScheme::Smtps, 465));
    assert_eq!(format!("{:?}", n.smtp_password), "***", "secrets never print");
}

#[test]
fn users_come_only_from_user_conf() {
    let hash = "$2b$10$KPTCEJNY1QygTk8JwnAAk.pXCVB.no5ceFQXARprfHn.WLKfnotqm";
    let main = format!("[karajo]\nsecret = a\n[user \"ignored\"]\npassword = {hash}\n");
    let user = format!("[user \"admin\"]\npassword = {hash}\n");
    let l = load_tree(tree(&main, &[("etc/karajo/user.conf", &user)]).path()).unwrap();
    let names: Vec<&str> = l.config.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["admin"]);
    assert!(l.warnings.iter().any(|w| w.message.contains("only read from user.conf")));
}
