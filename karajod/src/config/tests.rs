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
    assert_eq!(j.common.id.as_str(), "hello_world");
    assert_eq!(j.auth_kind, AuthKind::HmacSha256);
    assert_eq!(j.common.header_sign, "X-Karajo-Sign");
    assert_eq!(j.common.log_retention, 5);
    assert_eq!(j.common.secret, s.secret, "a job's secret defaults to the global one");
    assert!(j.common.timer.is_none() && j.path.is_none());
}

#[test]
fn repeated_keys_keep_their_order_and_single_keys_take_the_last() {
    let main = "[karajo]\nsecret = a\n[job \"x\"]\ncommand = one\ncommand = \"two # three\"\ncommand = four ; c\ndescription = first\ndescription = second\n";
    let l = load_tree(tree(main, &[]).path()).unwrap();
    let j = &l.config.jobs[0];
    assert_eq!(j.commands, ["one", "two # three", "four"]);
    assert_eq!(j.common.description, "second");
    assert!(l.warnings.iter().any(|w| w.key.as_deref() == Some("description") && w.line == Some(8)));
}

#[test]
fn schedule_wins_over_interval_and_short_intervals_are_raised() {
    let main = "[karajo]\nsecret = a\n[job \"s\"]\ncommand = true\ninterval = 5m\nschedule = hourly@5\n[job \"i\"]\ncommand = true\ninterval = 10s\n";
    let l = load_tree(tree(main, &[]).path()).unwrap();
    assert!(matches!(l.config.jobs[0].common.timer, Some(Timer::Schedule(_))));
    assert_eq!(l.config.jobs[1].common.timer, Some(Timer::Interval(MIN_INTERVAL)));
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
    let ids: Vec<&str> = l.config.jobs.iter().map(|j| j.common.id.as_str()).collect();
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

#[test]
fn a_comment_that_cuts_a_command_or_description_warns_where_it_is() {
    let main = "[karajo]\nsecret = a\n[job \"x\"]\ndescription = Nightly; then more\ncommand = make; make install\ncommand = \"make; make install\"\nname_ok = 1\n[job \"y\"]\ncommand = true\nschedule = hourly # at :00\n";
    let l = load_tree(tree(main, &[]).path()).unwrap();
    let j = &l.config.jobs[0];
    assert_eq!(
        (j.common.description.as_str(), j.commands.as_slice()),
        ("Nightly", &["make".to_string(), "make; make install".to_string()][..])
    );
    let cut: Vec<(Option<usize>, &str)> = l
        .warnings
        .iter()
        .filter(|w| w.message.contains("quote the value to keep it"))
        .map(|w| (w.line, w.key.as_deref().unwrap_or_default()))
        .collect();
    // Only command and description: a comment after a schedule is normal.
    assert_eq!(cut, [(Some(5), "description"), (Some(6), "command")], "{:?}", l.warnings);
}

#[test]
fn unknown_keys_are_reported_with_the_errors_and_suggest_the_near_miss() {
    let main = "[karajo]\nsecret = a\n[job \"x\"]\ncomand = make\nintervall = 1m\ncolour = blue\n";
    let errors = load_tree(tree(main, &[]).path()).unwrap_err();
    assert!(errors.errors.iter().any(|e| e.message.contains("ERR_JOB_EMPTY_COMMANDS_OR_CALL")), "{errors:?}");
    let shown: Vec<String> =
        errors.warnings.iter().map(|w| format!("{}: {}", w.key.as_deref().unwrap(), w.message)).collect();
    assert_eq!(
        shown,
        [
            "comand: unknown key, ignored; did you mean \"command\"?",
            "intervall: unknown key, ignored; did you mean \"interval\"?",
            "colour: unknown key, ignored",
        ]
    );
}

#[test]
fn an_unknown_escape_names_the_file_line_section_and_key() {
    let errors = load_tree(tree("[karajo]\nsecret = a\n[job \"x\"]\ncommand = a \\; b\n", &[]).path()).unwrap_err();
    let e = errors.errors.iter().find(|e| e.message.contains("unknown escape")).expect("the escape error");
    assert_eq!((e.line, e.section.as_deref(), e.key.as_deref()), (Some(5), Some("[job \"x\"]"), Some("command")));
}

#[test]
fn duplicates_are_found_among_many_jobs_and_name_both_places() {
    let mut main = String::from("[karajo]\nsecret = a\n");
    for i in 0..5_000 {
        main.push_str(&format!("[job \"j{i}\"]\ncommand = true\npath = /p{i}\n"));
    }
    main.push_str("[job \"J17\"]\ncommand = true\n[job \"late\"]\ncommand = true\npath = p4999\n");
    let dir = tree(&main, &[]);
    let errors = load_tree(dir.path()).unwrap_err();
    let shown: Vec<String> = errors.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown[0].contains("[job \"J17\"]: job \"J17\" has the same ID \"j17\" as job \"j17\" defined at "),
        "{shown:?}"
    );
    assert!(shown[1].contains("duplicate webhook path \"/p4999\": also used by job \"j4999\""), "{shown:?}");
}

#[test]
fn cron_schedules_timezones_and_jitter_are_read() {
    let main = "[karajo]\nsecret = a\ntimezone = America/New_York\n\
        [job \"berlin\"]\ncommand = true\nschedule = 30 2 * * 1-5\ntimezone = Europe/Berlin\njitter = 30s\n\
        [job \"default\"]\ncommand = true\nschedule = @daily\n\
        [job.http \"ping\"]\nhttp_url = /x\ninterval = 5m\njitter = 1m\n";
    let l = load_tree(tree(main, &[]).path()).unwrap();
    let (berlin, default) = (&l.config.jobs[0].common, &l.config.jobs[1].common);
    assert_eq!((berlin.timezone, berlin.jitter), (crate::schedule::Tz::Europe__Berlin, Duration::from_secs(30)));
    let Some(Timer::Schedule(s)) = &berlin.timer else { panic!("{:?}", berlin.timer) };
    assert_eq!(s.zone(), crate::schedule::Tz::Europe__Berlin, "the schedule is read in the job's zone");
    assert_eq!(default.timezone, crate::schedule::Tz::America__New_York, "[karajo] timezone is the default");
    assert_eq!(default.jitter, Duration::ZERO);
    assert_eq!(l.config.http_jobs[0].common.jitter, Duration::from_secs(60));
    assert_eq!(l.config.server.timezone, crate::schedule::Tz::America__New_York);
}

#[test]
fn bad_cron_zones_and_jitter_are_located_errors() {
    let main = "[karajo]\nsecret = a\n\
        [job \"x\"]\ncommand = true\nschedule = 0 0 * * 8\n\
        [job \"y\"]\ncommand = true\nschedule = daily\ntimezone = Mars/Olympus\n\
        [job \"z\"]\ncommand = true\nschedule = */5 * * * *\njitter = 5m\n\
        [job \"w\"]\ncommand = true\ninterval = 5m\njitter = -1s\n";
    let errs = load_tree(tree(main, &[]).path()).unwrap_err();
    let text: Vec<String> = errs.errors.iter().map(ToString::to_string).collect();
    let has = |needle: &str| assert!(text.iter().any(|e| e.contains(needle)), "no {needle:?} in {text:#?}");
    has(":6: [job \"x\"] schedule: day-of-week \"8\" out of 0-7");
    has(":10: [job \"y\"] timezone: unknown time zone \"Mars/Olympus\": expected an IANA name");
    has(":14: [job \"z\"] jitter: 5m0s must be less than the shortest time between two runs of this timer (5m0s)");
    has(":18: [job \"w\"] jitter: must be a duration of 0 or more");
    assert_eq!(errs.errors.len(), 4, "{text:#?}");
}

#[test]
fn history_retention_defaults_to_karajo_and_is_validated_with_its_place() {
    let main = "[karajo]\nsecret = a\nhistory_retention = 50\n[job \"a\"]\ncommand = true\n\
                [job \"b\"]\ncommand = true\nhistory_retention = 7\n[job.http \"h\"]\nhttp_url = /x\n";
    let l = load_tree(tree(main, &[]).path()).unwrap();
    assert_eq!(l.config.server.history_retention, 50);
    assert_eq!(l.config.jobs[0].common.history_retention, 50, "[karajo] is the default");
    assert_eq!(l.config.jobs[1].common.history_retention, 7);
    assert_eq!(l.config.http_jobs[0].common.history_retention, 50);
    let plain = load_tree(tree("[karajo]\nsecret = a\n[job \"a\"]\ncommand = true\n", &[]).path()).unwrap();
    assert_eq!(plain.config.jobs[0].common.history_retention, DEFAULT_HISTORY_RETENTION);
    for bad in ["0", "-1", "many"] {
        let main = format!("[karajo]\nsecret = a\n[job \"a\"]\ncommand = true\nhistory_retention = {bad}\n");
        let errors = load_tree(tree(&main, &[]).path()).unwrap_err();
        let e = errors.errors.iter().find(|e| e.key.as_deref() == Some("history_retention")).expect("located");
        assert_eq!(e.line, Some(6), "{e}");
    }
}
