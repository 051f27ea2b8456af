//! Token job globs on reads (SPEC 21 `jobs = deploy-*`): a token limited
//! to some jobs reads only those — one job, its logs, its log stream, its
//! runs — and `/environment` lists only those; other tokens see all.

use serde_json::Value;

use crate::access::{CONF, bearer, bearer_get, new_token, user_conf};
use crate::harness::{Daemon, Tree, client, signed_action, wait_run_end};

fn environment_jobs(d: &Daemon, token: &str) -> Vec<String> {
    let r = bearer_get(d, token, "/karajo/api/environment");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().unwrap();
    let mut names: Vec<String> = body["data"]["jobs"].as_object().unwrap().keys().cloned().collect();
    names.sort();
    names
}

#[test]
fn a_token_reads_only_the_jobs_its_globs_name() {
    let tree = Tree::new(CONF);
    tree.write("etc/karajo/user.conf", &user_conf(&[("admin", "admin")], ""));
    let ci = new_token(&tree, &["ci", "--role", "viewer", "--jobs", "deploy-*"]);
    let all = new_token(&tree, &["all", "--role", "viewer"]);
    let d = Daemon::start(&tree);
    for id in ["backup", "deploy-web"] {
        assert_eq!(signed_action(&client(), &d, "s3cret", "run", id).0, 200);
        wait_run_end(&tree, "job", id, 1, std::time::Duration::from_secs(20));
    }
    let reads = [
        "/karajo/api/job_exec?id=",
        "/karajo/api/job_exec/log?counter=1&id=",
        "/karajo/api/job_exec/runs?id=",
        "/karajo/api/job_exec/log/stream?counter=1&id=",
    ];
    for read in reads {
        assert_eq!(bearer(&d, &ci, "GET", &format!("{read}deploy-web"), "").0, 200, "{read}deploy-web");
        for other in ["backup", "BACKUP"] {
            assert_eq!(bearer(&d, &ci, "GET", &format!("{read}{other}"), ""), (403, "ERR_FORBIDDEN".into()), "{read}");
        }
        assert_eq!(bearer(&d, &all, "GET", &format!("{read}backup"), "").0, 200, "an unlimited token: {read}");
    }
    assert_eq!(environment_jobs(&d, &ci), ["deploy-web"]);
    assert_eq!(environment_jobs(&d, &all), ["backup", "deploy-web"]);
}
