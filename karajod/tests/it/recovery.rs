//! Crash and restart: `kill -9` of the daemon during a run keeps the log,
//! marks it failed with a note at the next start, and the next run takes
//! the next counter. Pause flags survive a restart.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::harness::{Daemon, Tree, find_log, group_alive, wait_for, wait_run_end};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn kill_9_during_a_run_keeps_the_log_and_counters_go_on() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"crash\"]\ninterval = 1m\n\
         command = \"test -e ../once && exit 0; touch ../once; echo $$ > ../pgid; echo before the crash; sleep 300\"\n",
    );
    let mut d = Daemon::start(&tree);
    let running = tree.path("var/log/karajo/job/crash/crash.1.running");
    // The command's own output line, not its `--- Execute` line (which holds the same words).
    let output = |t: String| t.contains("job: crash: before the crash\n");
    wait_for(LIMIT, "output", || std::fs::read_to_string(&running).is_ok_and(output));
    nix::sys::signal::kill(d.pid(), Signal::SIGKILL).unwrap();
    d.child.wait().unwrap();
    // The orphaned command is not the daemon's any more; clear it away.
    let pgid: i32 = std::fs::read_to_string(tree.path("var/lib/karajo/job/pgid")).unwrap().trim().parse().unwrap();
    let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), Signal::SIGKILL);
    wait_for(LIMIT, "the orphan to go", || !group_alive(pgid));

    // last_run is the crashed run's start (SPEC 15), so the interval is not
    // overdue: the next run is asked for by hand.
    let d = Daemon::start(&tree);
    let (status, text) = wait_run_end(&tree, "job", "crash", 1, LIMIT);
    assert_eq!(status, "failed");
    assert!(text.contains("job: crash: before the crash\n"), "{text}");
    assert!(text.lines().last().unwrap().contains("the daemon stopped during the run"), "{text}");
    let (code, _) = crate::harness::signed_action(&crate::harness::client(), &d, "s", "run", "crash");
    assert_eq!(code, 200);
    let (status, _) = wait_run_end(&tree, "job", "crash", 2, LIMIT);
    assert_eq!(status, "success");
    assert!(find_log(&tree, "job", "crash", 1).is_some(), "the crashed run's log is kept");
}

#[test]
fn a_pause_flag_survives_a_restart() {
    let tree = Tree::new(
        "[karajo]\nsecret = s\n[job \"p\"]\ninterval = 1m\ncommand = echo ran\n\
         [job \"q\"]\ninterval = 1m\ncommand = echo ran\n",
    );
    let id = proto::JobId::from_name("p");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let loaded = karajod::config::load(&tree.config()).unwrap();
        let engine = karajod::engine::Engine::new(loaded.config, karajod::engine::EngineOptions::new("")).unwrap();
        engine.pause(proto::JobKind::Job, &id).unwrap();
        engine.shutdown().await;
    });
    let mut d = Daemon::start(&tree);
    // Both timers fire at start; once q has run, p's tick was refused.
    wait_run_end(&tree, "job", "q", 1, LIMIT);
    assert!(d.signal_and_wait(Signal::SIGTERM).success());
    assert!(find_log(&tree, "job", "p", 1).is_none());
    rt.block_on(async {
        let loaded = karajod::config::load(&tree.config()).unwrap();
        let engine = karajod::engine::Engine::new(loaded.config, karajod::engine::EngineOptions::new("")).unwrap();
        assert_eq!(engine.job(&id).unwrap().base.status, proto::JobStatus::Paused);
        engine.resume(proto::JobKind::Job, &id).unwrap();
        assert_eq!(engine.job(&id).unwrap().base.status, proto::JobStatus::Started);
    });
}
