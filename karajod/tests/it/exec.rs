//! Where and as whom commands run (SPEC 17): `env`, `env_file`, `dir`,
//! `user`, `group` on the real daemon with real shells; values never in
//! any answer; bad values are located config errors.

use std::time::Duration;

use crate::harness::{Daemon, Tree, run_karajod, wait_run_end};

const LIMIT: Duration = Duration::from_secs(20);

/// The lines a job printed, without the log's time and job prefix.
fn printed(text: &str, id: &str) -> Vec<String> {
    let p = format!("job: {id}: ");
    text.lines().filter_map(|l| l.split_once(&p)).map(|(_, v)| v.to_string()).collect()
}

#[test]
fn env_env_file_and_dir_reach_the_commands_and_only_names_reach_the_json() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"envy\"]\ninterval = 1m\n\
         env_file = envy.env\nenv = GREETING=hello world\nenv = TOKEN=$DAEMON_TOKEN\nenv = A=from-env\n\
         dir = ../../work\n\
         command = \"echo G=$GREETING T=$TOKEN A=$A B=$B P=$PATH\"\ncommand = pwd\n",
    );
    tree.write("etc/karajo/envy.env", "# comment\nA=from-file\nB=file only\nPATH=/usr/bin:/bin\n");
    std::fs::create_dir_all(tree.path("work")).unwrap();
    let d = Daemon::start_with(&tree, &[("DAEMON_TOKEN", "tok-3141")]);
    let (status, text) = wait_run_end(&tree, "job", "envy", 1, LIMIT);
    assert_eq!(status, "success", "{text}");
    let out = printed(&text, "envy");
    assert!(out.contains(&"G=hello world T=tok-3141 A=from-env B=file only P=/usr/bin:/bin".to_string()), "{out:?}");
    let work = std::fs::canonicalize(tree.path("work")).unwrap();
    assert!(out.contains(&work.display().to_string()), "pwd is dir: {out:?}");

    let body = d.get("/karajo/api/environment").text().unwrap();
    assert!(!body.contains("tok-3141") && !body.contains("from-env") && !body.contains("file only"), "{body}");
    let env: serde_json::Value = serde_json::from_str(&body).unwrap();
    let job = &env["data"]["jobs"]["envy"];
    assert_eq!(job["env_names"], serde_json::json!(["A", "B", "PATH", "GREETING", "TOKEN"]), "{job}");
    assert!(job["env_file"].as_str().unwrap().ends_with("etc/karajo/envy.env"), "{job}");
    assert!(job["dir"].as_str().unwrap().ends_with("work"), "{job}");
    assert_eq!((job["user"].as_str(), job["group"].as_str()), (Some(""), Some("")));

    let check = std::process::Command::new(crate::harness::BIN)
        .args(["check", "--config", tree.config().to_str().unwrap()])
        .env("DAEMON_TOKEN", "tok-3141")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(stdout.contains("in ") && stdout.contains("env A, B, PATH, GREETING, TOKEN"), "{stdout}");
    assert!(!stdout.contains("tok-3141"), "{stdout}");
}

#[test]
fn a_job_with_user_runs_as_that_user_in_its_own_directory() {
    if !nix::unistd::Uid::effective().is_root() {
        crate::tool::missing("root (a job with `user` needs a daemon running as root)");
        return;
    }
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"as nobody\"]\ninterval = 1m\nuser = nobody\n\
         command = \"echo U=$(id -un) G=$(id -g)\"\ncommand = touch mine\n",
    );
    let d = Daemon::start(&tree);
    let (status, text) = wait_run_end(&tree, "job", "as_nobody", 1, LIMIT);
    assert_eq!(status, "success", "{text}");
    let nobody = nix::unistd::User::from_name("nobody").unwrap().unwrap();
    assert!(printed(&text, "as_nobody").contains(&format!("U=nobody G={}", nobody.gid)), "{text}");
    use std::os::unix::fs::MetadataExt;
    let made = std::fs::metadata(tree.path("var/lib/karajo/job/as_nobody/mine")).unwrap();
    assert_eq!(made.uid(), nobody.uid.as_raw(), "the file the command made is the user's");
    let job = &d.get("/karajo/api/environment").json::<serde_json::Value>().unwrap()["data"]["jobs"]["as nobody"];
    assert_eq!(job["user"], "nobody", "{job}");
    assert!(!job["group"].as_str().unwrap().is_empty(), "{job}");
}

#[test]
fn bad_env_user_and_group_values_are_located_errors() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"bad\"]\ncommand = true\n\
         env = KARAJO_JOB_ID=x\nenv = 9LIVES=x\nenv = T=$SURELY_UNSET_VAR_9\nenv = nothing\n\
         env_file = missing.env\nuser = no-such-user-xyz\n\
         [job \"group only\"]\ncommand = true\ngroup = root\n",
    );
    let out = run_karajod(&["check", "--config", tree.config().to_str().unwrap()], tree.base());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    for want in [
        ":7: [job \"bad\"] env: KARAJO_JOB_ID: names starting with KARAJO_ are set by karajod",
        ":8: [job \"bad\"] env: invalid variable name \"9LIVES\"",
        ":9: [job \"bad\"] env: environment variable SURELY_UNSET_VAR_9",
        ":10: [job \"bad\"] env: invalid env \"nothing\": expected NAME=value",
        ":11: [job \"bad\"] env_file: cannot read env_file",
        ":12: [job \"bad\"] user: unknown user \"no-such-user-xyz\"",
        ":15: [job \"group only\"] group: group needs user",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in:\n{stderr}");
    }
}
