//! The store's interface used directly: counters, rows, pages, retention,
//! audit rows — the same assertions on SQLite and on PostgreSQL.

use chrono::{Duration, TimeZone, Utc};
use karajod::store::history::{History, Location, RunEnd, RunQuery, RunStart};
use proto::{JobId, JobKind, JobStatus};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn start<'a>(id: &'a JobId, floor: u64, at: i64) -> RunStart<'a> {
    let t = Utc.timestamp_opt(at, 0).unwrap();
    RunStart {
        kind: JobKind::Job,
        job_id: id,
        floor,
        trigger: "manual",
        slot: None,
        queued_at: t,
        started_at: t,
        node: None,
        actor: None,
    }
}

async fn end(h: &History, id: &JobId, counter: u64, status: JobStatus) {
    let at = Utc.timestamp_opt(1_000_000 + counter as i64, 0).unwrap();
    let e = RunEnd {
        kind: JobKind::Job,
        job_id: id,
        counter,
        status,
        ended_at: at,
        duration_ms: counter as i64 * 10,
        attempts: 1,
        exit_code: Some(0),
    };
    h.end_run(&e).await.unwrap();
}

/// Everything the engine relies on, on one backend.
async fn exercise(h: History) {
    let id = JobId::from_name("backup");
    assert_eq!(h.begin_run(&start(&id, 0, 100)).await.unwrap(), 1);
    assert_eq!(h.begin_run(&start(&id, 0, 101)).await.unwrap(), 2, "counters go up");
    assert_eq!(h.begin_run(&start(&id, 9, 102)).await.unwrap(), 10, "never below the floor from disk");
    for (c, s) in [(1, JobStatus::Success), (2, JobStatus::Failed), (10, JobStatus::Success)] {
        end(&h, &id, c, s).await;
    }
    let q = |limit, before, status| RunQuery { kind: JobKind::Job, job_id: &id, limit, before, status };
    let all = h.runs(&q(50, None, None)).await.unwrap();
    let counters: Vec<u64> = all.iter().map(|r| r.counter).collect();
    assert_eq!(counters, [10, 2, 1], "newest first");
    let top = &all[0];
    assert_eq!((top.status.as_str(), top.trigger.as_deref(), top.duration_ms), ("success", Some("manual"), Some(100)));
    assert_eq!(top.started_at, Some(Utc.timestamp_opt(102, 0).unwrap()));
    assert_eq!(top.attempts, 1);
    assert!(top.log && top.slot.is_none() && top.node.is_none());
    assert_eq!(h.runs(&q(1, Some(10), None)).await.unwrap()[0].counter, 2, "before is a counter");
    let failed = h.runs(&q(50, None, Some("failed"))).await.unwrap();
    assert_eq!(failed.iter().map(|r| r.counter).collect::<Vec<_>>(), [2]);

    let s = h.summary(JobKind::Job, &id, 20).await.unwrap();
    assert_eq!(s.last.unwrap().counter, 10);
    assert_eq!(s.recent.len(), 3);

    h.log_gone(JobKind::Job, &id, &[1]).await.unwrap();
    let logged: Vec<u64> = h.with_logs(JobKind::Job, &id).await.unwrap().iter().map(|r| r.counter).collect();
    assert_eq!(logged, [2, 10], "a row whose log retention deleted keeps its history");
    assert!(!h.runs(&q(50, None, None)).await.unwrap()[2].log);

    assert_eq!(h.trim(JobKind::Job, &id, 1).await.unwrap(), 2);
    assert_eq!(h.runs(&q(50, None, None)).await.unwrap().len(), 1);
    assert_eq!(h.trim(JobKind::Job, &id, 0).await.unwrap(), 1);
    assert_eq!(h.begin_run(&start(&id, 0, 103)).await.unwrap(), 11, "never reused, also with no row left");

    let mut imported = proto::Run::new(JobKind::Job, &id, 40, "success");
    imported.started_at = Some(Utc.timestamp_opt(5, 0).unwrap());
    h.insert(&[imported.clone(), imported]).await.unwrap();
    assert_eq!(h.last_counter(JobKind::Job, &id).await.unwrap(), 40, "an import raises the allocator");
    let other = JobId::from_name("other");
    assert_eq!(h.begin_run(&start(&other, 0, 1)).await.unwrap(), 1, "counters are per job");
    // Starts of one job at the same moment (a webhook burst, two nodes)
    // each take their own counter, with none skipped.
    let starts: Vec<_> = (0..16)
        .map(|n| {
            let (h, id) = (h.clone(), other.clone());
            tokio::spawn(async move { h.begin_run(&start(&id, 0, 2 + n)).await.unwrap() })
        })
        .collect();
    let mut taken = Vec::new();
    for s in starts {
        taken.push(s.await.unwrap());
    }
    taken.sort_unstable();
    assert_eq!(taken, (2..=17).collect::<Vec<u64>>(), "concurrent starts take distinct counters");

    let at = Utc.timestamp_opt(7, 0).unwrap();
    let row = |action: &str| proto::AuditEntry {
        at: at + Duration::seconds(1),
        actor: "user:ana".into(),
        via: "http".into(),
        source: "127.0.0.1".into(),
        action: action.into(),
        target: "job:backup".into(),
        result: "ok".into(),
    };
    let a = h.audit(&row("pause")).await.unwrap();
    let b = h.audit(&row("resume")).await.unwrap();
    assert!(b > a);
    let page = h.audit_rows(10, None).await.unwrap();
    assert_eq!(page.iter().map(|e| e.entry.action.as_str()).collect::<Vec<_>>(), ["resume", "pause"]);
    assert_eq!(h.audit_rows(10, Some(b)).await.unwrap().len(), 1);
    // A batch keeps its order and every field, after the single rows.
    let many: Vec<_> = (0..karajod::store::history::AUDIT_BATCH).map(|n| row(&format!("run {n}"))).collect();
    h.audit_many(&many).await.unwrap();
    let page = h.audit_rows(2000, None).await.unwrap();
    assert_eq!(page.len(), 2 + many.len());
    let newest: Vec<&str> = page.iter().take(2).map(|e| e.entry.action.as_str()).collect();
    let last = many.len() - 1;
    assert_eq!(newest, [format!("run {last}"), format!("run {}", last - 1)]);
    assert_eq!(page[many.len() - 1].entry, many[0]);
    assert_eq!(page[many.len()].entry.action, "resume");
    h.close().await;
}

#[test]
fn history_store_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("var/lib/karajo/karajo.db");
    let loc = Location::Sqlite(file.clone());
    rt().block_on(async {
        exercise(History::open(&loc).await.unwrap()).await;
        // Reopened: migrations are not applied twice, the counters go on.
        let h = History::open(&loc).await.unwrap();
        let id = JobId::from_name("backup");
        assert_eq!(h.begin_run(&start(&id, 0, 1)).await.unwrap(), 41);
        h.close().await;
    });
    let mode =
        |p: &std::path::Path| std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).unwrap().permissions());
    assert_eq!(mode(file.parent().unwrap()) & 0o777, 0o700);
    // The last close checkpoints the WAL: give the CLI a busy timeout.
    let journal = std::process::Command::new("sqlite3")
        .args(["-cmd", ".timeout 5000"])
        .arg(&file)
        .arg("PRAGMA journal_mode")
        .output();
    if let Ok(out) = journal {
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "wal", "{}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn history_store_on_postgres() {
    let Some(pg) = crate::postgres::Postgres::start() else { return };
    let url = pg.database("store");
    rt().block_on(async {
        let loc = Location::Postgres(url);
        exercise(History::open(&loc).await.unwrap()).await;
        let h = History::open(&loc).await.unwrap();
        let id = JobId::from_name("backup");
        assert_eq!(h.begin_run(&start(&id, 0, 1)).await.unwrap(), 41);
        h.close().await;
    });
}

#[test]
fn history_second_daemon_on_one_sqlite_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Sqlite(dir.path().join("karajo.db"));
    rt().block_on(async {
        let _first = History::open(&loc).await.unwrap();
        let err = History::open(&loc).await.unwrap_err().to_string();
        assert!(err.contains("karajo.db"), "{err}");
    });
}

#[test]
fn history_corrupt_sqlite_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("karajo.db");
    std::fs::write(&file, vec![b'x'; 8192]).unwrap();
    rt().block_on(async {
        let err = History::open(&Location::Sqlite(file)).await.unwrap_err().to_string();
        assert!(err.contains("karajo.db"), "{err}");
    });
}

/// Start-up reads every job at once (`start_state`); each job must get
/// what `job_start` reads for it alone: jobs with a left-over `running`
/// row, logs deleted by retention, trimmed rows, a timer slot, an HTTP
/// job, and one whose recent window is too thin (summary left to the caller).
async fn batched_start_agrees(h: History) {
    let (a, b, c, d) = (JobId::from_name("a"), JobId::from_name("b"), JobId::from_name("c"), JobId::from_name("d"));
    for n in 1..=70u64 {
        let counter = h.begin_run(&start(&a, 0, n as i64)).await.unwrap();
        end(&h, &a, counter, if n % 3 == 0 { JobStatus::Failed } else { JobStatus::Success }).await;
    }
    h.log_gone(JobKind::Job, &a, &(1..=60).collect::<Vec<_>>()).await.unwrap();
    h.handled_slot(JobKind::Job, &a, Utc.timestamp_opt(5_000, 0).unwrap()).await.unwrap();
    for n in 1..=3 {
        let counter = h.begin_run(&start(&b, 0, n)).await.unwrap();
        if n < 3 {
            end(&h, &b, counter, JobStatus::Success).await;
        }
    }
    for (id, runs, keep) in [(&c, 30, 5), (&d, 100, 10)] {
        for n in 1..=runs {
            let counter = h.begin_run(&start(id, 0, n)).await.unwrap();
            end(&h, id, counter, JobStatus::Success).await;
        }
        h.trim(JobKind::Job, id, keep).await.unwrap();
    }
    // Its newest row has no log (a missed slot), the older ones have.
    let e = JobId::from_name("e");
    for n in 1..=4 {
        let counter = h.begin_run(&start(&e, 0, n)).await.unwrap();
        end(&h, &e, counter, JobStatus::Success).await;
    }
    let mut missed = proto::Run::new(JobKind::Job, &e, 5, "missed");
    missed.log = false;
    h.insert(&[missed]).await.unwrap();
    let web = JobId::from_name("web");
    let mut s = start(&web, 0, 7);
    s.kind = JobKind::JobHttp;
    h.begin_run(&s).await.unwrap();
    // Imported rows whose triggers the one-text read must keep apart:
    // none, empty, `-` (the text's "none"), one with its field separator;
    // and a job whose triggers hold every separator and characters of
    // several bytes.
    let imported = |id: &JobId, triggers: &[Option<&str>]| -> Vec<proto::Run> {
        (1..=triggers.len() as u64)
            .map(|n| {
                let mut r = proto::Run::new(JobKind::Job, id, n, "success");
                r.trigger = triggers[n as usize - 1].map(String::from);
                r.started_at = Some(Utc.timestamp_opt(n as i64 * 60, 0).unwrap());
                r.duration_ms = (n % 2 == 0).then_some(n as i64);
                r
            })
            .collect()
    };
    let colon = JobId::from_name("colon");
    h.insert(&imported(&colon, &[None, Some(""), Some("-"), Some("webhook:github:push")])).await.unwrap();
    let odd = JobId::from_name("odd");
    h.insert(&imported(&odd, &[Some("http"), Some("a\u{1e}b:c;7:"), Some("gr\u{fc}\u{df}e \u{2192} \u{1f600}")]))
        .await
        .unwrap();

    // What start-up reads of a row with a log: the whole row while it is
    // `running`, else the fields the logs and the reconcile use.
    let as_read = |r: &proto::Run| match r.status.as_str() {
        "running" => r.clone(),
        _ => proto::Run {
            slot: None,
            queued_at: None,
            exit_code: None,
            node: None,
            fence: None,
            actor: None,
            ..r.clone()
        },
    };
    let mut all = h.start_state(20).await.unwrap();
    assert_eq!(all.len(), 8, "{:?}", all.keys().collect::<Vec<_>>());
    for (kind, id) in [
        (JobKind::Job, &a),
        (JobKind::Job, &b),
        (JobKind::Job, &c),
        (JobKind::Job, &d),
        (JobKind::Job, &e),
        (JobKind::JobHttp, &web),
        (JobKind::Job, &odd),
        (JobKind::Job, &colon),
    ] {
        let one = h.job_start(kind, id, 20).await.unwrap();
        let got = all.remove(&(kind.as_str().to_string(), id.as_str().to_string())).unwrap();
        let whole = |rows: &[proto::Run]| rows.iter().map(as_read).collect::<Vec<_>>();
        assert!(!got.with_logs.is_empty() || id == &e, "{id}: rows with logs read");
        assert_eq!(got.with_logs, whole(&one.with_logs), "{id}");
        assert_eq!((got.last_counter, got.last_slot), (one.last_counter, one.last_slot), "{id}");
        match &got.summary {
            Some(s) => {
                assert_eq!(s.recent, one.summary.as_ref().unwrap().recent, "{id}");
                let last = |s: &karajod::store::history::Summary| s.last.as_ref().map(as_read);
                assert_eq!(last(s), last(one.summary.as_ref().unwrap()), "{id}");
            }
            // Trimmed to 5 and 10 rows, below 20 ended runs: read alone.
            None => assert!(id == &c || id == &d, "{id}: only c's and d's windows are too thin"),
        }
    }
    let a_one = h.job_start(JobKind::Job, &a, 20).await.unwrap();
    assert_eq!(a_one.with_logs.len(), 10, "the logs retention kept");
    assert_eq!(a_one.summary.unwrap().recent.len(), 20);
    let e_one = h.job_start(JobKind::Job, &e, 20).await.unwrap().summary.unwrap();
    assert_eq!(e_one.last.map(|r| r.status), Some("missed".to_string()), "the newest row, without a log");
    assert_eq!(e_one.recent.len(), 5);
    h.close().await;
}

#[test]
fn batched_start_agrees_with_one_job_at_a_time_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Sqlite(dir.path().join("karajo.db"));
    rt().block_on(async { batched_start_agrees(History::open(&loc).await.unwrap()).await });
}

#[test]
fn batched_start_agrees_with_one_job_at_a_time_on_postgres() {
    let Some(pg) = crate::postgres::Postgres::start() else { return };
    let url = pg.database("start");
    rt().block_on(async { batched_start_agrees(History::open(&Location::Postgres(url)).await.unwrap()).await });
}
