//! `karajod check`: the example tree loads cleanly and each broken config
//! in testdata/broken fails with its expected, located message.

use std::path::{Path, PathBuf};

use crate::harness::run_karajod;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

#[test]
fn example_tree_checks_clean_and_lists_every_job_with_its_next_run() {
    let out = run_karajod(&["check", "--config", "testdata/etc/karajo/karajo.conf"], &repo_root());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for id in [
        "test_job_success",
        "every_five_minutes",
        "nightly_report",
        "backup",
        "weekly-cleanup",
        "monthly",
        "hello-world",
        "deploy_from_github",
        "sourcehut_build",
        "custom_header",
    ] {
        assert!(stdout.contains(&format!("  {id} ")), "job {id} missing:\n{stdout}");
    }
    for id in ["trigger_hello-world", "health_probe"] {
        assert!(stdout.contains(&format!("  {id} ")), "HTTP job {id} missing:\n{stdout}");
    }
    assert!(stdout.contains("jobs: 10"), "{stdout}");
    assert!(stdout.contains("HTTP jobs: 2"), "{stdout}");
    assert!(stdout.contains("users: 1 (admin)"), "{stdout}");
    assert!(stdout.contains("notifications: 0"), "mail is off in the example:\n{stdout}");
    // Every timed job shows a concrete next run; on-demand ones show "-".
    let timed = stdout.lines().filter(|l| l.contains("next run 20")).count();
    assert_eq!(timed, 9, "{stdout}");
    // The hidden and non-.conf files in job.d are not read.
    assert!(!stdout.contains("disabled") && !stdout.contains("not read"), "{stdout}");
    assert!(!stderr.contains("warning"), "the example has no warnings:\n{stderr}");
}

/// Each broken case lists its expected messages: a `# expect: ` comment in
/// a single file (relative to that file), or an `expect` file in a tree
/// (relative to the tree, which is its dir_base).
#[test]
fn every_broken_config_fails_with_its_located_message() {
    let dir = repo_root().join("testdata/broken");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 30, "only {} broken cases", cases.len());
    let empty = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let (config, cwd, expects) = if case.is_dir() {
            let expects = std::fs::read_to_string(case.join("expect")).unwrap();
            let expects: Vec<String> = expects.lines().map(|e| format!("{}/{e}", case.display())).collect();
            (case.join("etc/karajo/karajo.conf"), case.clone(), expects)
        } else {
            let text = std::fs::read_to_string(case).unwrap();
            let expects: Vec<String> = text
                .lines()
                .filter_map(|l| l.strip_prefix("# expect: "))
                .map(|e| format!("{}{e}", case.display()))
                .collect();
            (case.clone(), empty.path().to_path_buf(), expects)
        };
        assert!(!expects.is_empty(), "{} has no expectation", case.display());
        let out = run_karajod(&["check", "--config", config.to_str().unwrap()], &cwd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.code() != Some(1) {
            failures.push(format!("{}: exit {:?}, expected 1\n{stderr}", case.display(), out.status.code()));
        }
        for e in &expects {
            if !stderr.contains(e.trim_end()) {
                failures.push(format!("{}: missing\n  {e}\nin\n{stderr}", case.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn unknown_keys_warn_with_their_place_but_do_not_fail() {
    let tree = crate::harness::Tree::new("[karajo]\nsecret = x\n\n[job \"a\"]\ncommand = true\ncolour = blue\n");
    let out = run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let conf = tree.config();
    let expected = format!("warning: {}:8: [job \"a\"] colour: unknown key, ignored", conf.display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert_eq!(stderr.matches("colour").count(), 1, "warned once:\n{stderr}");
}

#[test]
fn version_flag_prints_the_version() {
    let out = run_karajod(&["--version"], &repo_root());
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("karajod {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_missing_config_file_is_named() {
    let out = run_karajod(&["check", "--config", "/nonexistent/karajo.conf"], &repo_root());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/karajo.conf: cannot read the file"), "{stderr}");
}

fn check(tree: &crate::harness::Tree) -> (Option<i32>, String, String) {
    let out = run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Issue 14: `command = make; make install` silently ran `make` only.
#[test]
fn issue14_a_comment_cutting_a_command_warns_at_check_and_at_start() {
    let tree = crate::harness::Tree::new(
        "[karajo]\nsecret = x\n\n[job \"build\"]\ndescription = Builds; then installs\ncommand = make; make install\n",
    );
    let conf = tree.config().display().to_string();
    let (code, _, stderr) = check(&tree);
    assert_eq!(code, Some(0), "{stderr}");
    for (line, key) in [(7, "description"), (8, "command")] {
        let want = format!("warning: {conf}:{line}: [job \"build\"] {key}: an unquoted ';' starts a comment");
        assert!(stderr.contains(&want), "{want}\nnot in\n{stderr}");
    }
    assert_eq!(stderr.matches("quote the value to keep it").count(), 2, "{stderr}");
    let (_daemon, stderr) = crate::harness::Daemon::launch(&tree, &crate::harness::Launch::default());
    let at_start = stderr.text();
    assert!(at_start.contains(&format!("warning: {conf}:8: [job \"build\"] command:")), "{at_start}");
    assert!(at_start.contains("quote the value to keep it"), "{at_start}");
}

/// Issue 14: a 50 MB file of NUL bytes gave a 52 MB message.
#[test]
fn issue14_a_file_of_nul_bytes_gives_a_short_message() {
    let tree = crate::harness::Tree::new("[karajo]\nsecret = x\n");
    tree.write("etc/karajo/job.d/nul.conf", &"\0".repeat(8 << 20));
    let (code, _, stderr) = check(&tree);
    assert_eq!(code, Some(1));
    assert!(stderr.len() < 2_000, "{} bytes of stderr", stderr.len());
    assert!(stderr.contains("nul.conf:1: invalid key \"\\0\\0"), "{stderr}");
}

#[test]
fn issue14_thousands_of_errors_print_the_first_ones_and_how_many_more() {
    let tree = crate::harness::Tree::new("[karajo]\nsecret = x\n");
    tree.write(
        "etc/karajo/job.d/bad.conf",
        &("[job \"a\"]\ncommand = true\n".to_string() + &"1bad = x\n".repeat(5_000)),
    );
    let (code, _, stderr) = check(&tree);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("invalid configuration (5000 error(s))"), "{stderr}");
    assert!(stderr.contains("… and 4950 more errors"), "{stderr}");
    assert!(stderr.lines().count() < 60, "{stderr}");
}

#[test]
fn issue14_an_unknown_escape_names_the_section_and_key() {
    let tree = crate::harness::Tree::new("[karajo]\nsecret = x\n\n[job \"a\"]\ncommand = echo one \\; echo two\n");
    let (code, _, stderr) = check(&tree);
    assert_eq!(code, Some(1));
    let want = format!("{}:7: [job \"a\"] command: unknown escape \"\\;\"", tree.config().display());
    assert!(stderr.contains(&want), "{want}\nnot in\n{stderr}");
    assert!(stderr.contains("double quotes"), "{stderr}");
}

#[test]
fn issue14_unknown_keys_warn_also_when_there_are_errors_with_did_you_mean() {
    let tree = crate::harness::Tree::new("[karajo]\nsecret = x\n\n[job \"a\"]\ncomand = make\nschedule = hourly@61\n");
    let (code, _, stderr) = check(&tree);
    assert_eq!(code, Some(1), "{stderr}");
    let want = format!(
        "warning: {}:7: [job \"a\"] comand: unknown key, ignored; did you mean \"command\"?",
        tree.config().display()
    );
    assert!(stderr.contains(&want), "{want}\nnot in\n{stderr}");
    assert!(stderr.contains("ERR_JOB_EMPTY_COMMANDS_OR_CALL") && stderr.contains("hourly@61"), "{stderr}");
}

/// Runs karajod with stdout a pipe whose reading end is already closed, as
/// `karajod man | head` leaves it once head is done.
fn into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (read, write) = nix::unistd::pipe().unwrap();
    drop(read);
    std::process::Command::new(crate::harness::BIN)
        .args(args)
        .current_dir(repo_root())
        .stdout(std::process::Stdio::from(write))
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

/// Issue 14: `karajod man | head` printed a broken-pipe error.
#[test]
fn issue14_output_into_a_closed_pipe_ends_quietly() {
    for args in [&["man"][..], &["completions", "bash"], &["check", "--config", "testdata/etc/karajo/karajo.conf"]] {
        let out = into_closed_pipe(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

/// The example tree copied to a temp dir_base, on a free port.
fn example_tree() -> crate::harness::Tree {
    let tree = crate::harness::Tree { dir: tempfile::tempdir().unwrap() };
    let etc = repo_root().join("testdata/etc/karajo");
    for rel in ["karajo.conf", "user.conf", "job.d/schedules.conf", "job.d/webhooks.conf", "job_http.d/ping.conf"] {
        let text = std::fs::read_to_string(etc.join(rel)).unwrap();
        let text = if rel == "karajo.conf" {
            let base = tree.base().display();
            text.lines()
                .map(|l| match l.split_once('=').map(|(k, _)| k.trim()) {
                    Some("dir_base") => format!("dir_base = {base}"),
                    Some("dir_public") => format!("dir_public = {base}/srv/karajo"),
                    Some("listen_address") => "listen_address = 127.0.0.1:0".to_string(),
                    _ => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            text
        };
        tree.write(&format!("etc/karajo/{rel}"), &text);
    }
    tree.write("srv/karajo/index.html", "<p>public</p>\n");
    tree
}

/// Issue 14: the example mailed a server that does not run and warned
/// every minute. Out of the box it now runs without a warning, and its
/// `backup` job archives etc/ under var/.
#[test]
fn issue14_the_example_runs_quietly_and_its_backup_job_works() {
    use crate::harness::{Daemon, Launch, signed_form, wait_run_end};
    let tree = example_tree();
    let (d, stderr) = Daemon::launch(&tree, &Launch::default());
    // Overdue interval jobs run at once: one that succeeds, one HTTP job.
    let limit = std::time::Duration::from_secs(20);
    assert_eq!(wait_run_end(&tree, "job", "test_job_success", 1, limit).0, "success");
    assert_eq!(wait_run_end(&tree, "job_http", "trigger_hello-world", 1, limit).0, "success");
    let (body, sign) = signed_form("s3cret", "backup");
    let resp = crate::harness::client()
        .post(format!("{}/karajo/api/job_exec/run", d.url))
        .header("X-Karajo-Sign", sign)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, log) = wait_run_end(&tree, "job", "backup", 1, limit);
    assert_eq!(status, "success", "{log}");
    assert!(tree.path("var/lib/karajo/job/backup/etc-backup.tgz").is_file(), "{log}");
    let text = stderr.text();
    for noisy in ["WARN", "ERROR", "warning:"] {
        assert!(!text.contains(noisy), "the example is not quiet ({noisy:?}):\n{text}");
    }
}

#[test]
fn check_shows_zones_jitter_dst_changes_and_the_next_runs() {
    let tree = crate::harness::Tree::new(
        "[karajo]\nsecret = x\ntimezone = Europe/Berlin\n\n\
         [job \"nightly\"]\ncommand = true\nschedule = 30 2 * * *\njitter = 30s\n\n\
         [job \"noon\"]\ncommand = true\nschedule = 0 0 12 * * MON-FRI\ntimezone = Asia/Kolkata\n",
    );
    let out = run_karajod(&["check", "--config", tree.config().to_str().unwrap(), "--next", "3"], tree.base());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = |id: &str| stdout.lines().find(|l| l.starts_with(&format!("  {id} "))).unwrap_or_default().to_string();
    assert!(line("nightly").contains("at 02:30; timezone Europe/Berlin; jitter 30s;"), "{stdout}");
    assert!(line("noon").contains("at 12:00 on Monday-Friday; timezone Asia/Kolkata;"), "{stdout}");
    // Every year has one spring gap and one autumn overlap in Berlin (366
    // days can hold a third); Kolkata has none.
    let warnings: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  warning: [job \"nightly\"]")).collect();
    assert!((2..=3).contains(&warnings.len()), "{stdout}");
    let count = format!("DST changes that move a scheduled run in the next 366 days: {}", warnings.len());
    assert!(stdout.contains(&count), "{stdout}");
    assert!(warnings.iter().any(|w| w.contains("Europe/Berlin skips 02:00-03:00")), "{stdout}");
    assert!(warnings.iter().any(|w| w.contains("Europe/Berlin shows 02:00-03:00 twice")), "{stdout}");
    // --next 3: each job's next runs, in its zone and in UTC.
    let after = |head: &str| -> Vec<String> {
        let i = stdout.lines().position(|l| l.starts_with(head)).unwrap_or_else(|| panic!("no {head:?}:\n{stdout}"));
        stdout.lines().skip(i + 1).take(3).map(str::to_string).collect()
    };
    for run in after("[job \"noon\"]") {
        assert!(run.contains(" 12:00:00 IST  (") && run.ends_with(" 06:30:00 UTC)"), "{run}");
    }
    for run in after("[job \"nightly\"]") {
        // 03:00 on the day of the spring gap.
        assert!((run.contains(" 02:30:") || run.contains(" 03:00:")) && run.contains(" UTC)"), "{run}");
    }
}

#[test]
fn check_shows_retries_and_catch_up_when_set() {
    let tree = crate::harness::Tree::new(
        "[karajo]\nsecret = s\n[job \"backup\"]\nschedule = daily@02:30\nretry = 3\nretry_delay = 30s\n\
         retry_backoff = 2\nretry_on = 1,75\ncatch_up = all\ncatch_up_window = 6h\ncommand = true\n\
         [job.http \"ping\"]\ninterval = 5m\nhttp_url = http://127.0.0.1:9/\nretry = 1\nretry_on = 5xx,connect\n\
         [job \"plain\"]\nschedule = daily@02:30\ncommand = true\n",
    );
    let (code, out, err) = check(&tree);
    assert_eq!(code, Some(0), "{err}");
    let line = |id: &str| out.lines().find(|l| l.trim_start().starts_with(id)).unwrap_or_default().to_string();
    assert!(line("backup").contains("; retry 3 (30s x2 up to 10m0s, on 1,75); catch_up all within 6h0m0s"), "{out}");
    assert!(line("ping").contains("; retry 1 (10s x1 up to 10m0s, on 5xx,connect)"), "{out}");
    assert!(!line("plain").contains("retry") && !line("plain").contains("catch_up"), "defaults are not shown: {out}");
}
