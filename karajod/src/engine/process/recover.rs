//! At start-up, before the logs are recovered: the processes of the runs a
//! killed daemon left (found from their records) are ended the way a
//! cancel ends them, then the records and empty groups go.
//!
//! What counts as such a process: a member of the run's recorded cgroup;
//! a member of a recorded process group whose leader is still the process
//! recorded (same pid, start time and boot); any process whose initial
//! environment carries the run's tag. A pid reused by someone else
//! matches none of these.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::procfs::{self, Stat};
use super::{cgroup, end, record};

/// Ends what the old daemon's runs left running; returns how many
/// processes it signalled. Blocking: it waits up to `grace` + 1 s.
pub(crate) fn end_old_runs(dir_base: &Path, grace: Duration) -> usize {
    let dir = record::dir(dir_base);
    let old = record::read_all(&dir);
    if old.is_empty() {
        return 0;
    }
    let boot = procfs::boot_id();
    let cgroups: Vec<PathBuf> = old.iter().filter_map(|o| o.cgroup.clone()).collect();
    let tags: Vec<Vec<u8>> = old.iter().filter_map(|o| o.tag.clone().map(String::into_bytes)).collect();
    let groups: HashSet<i32> = old
        .iter()
        .flat_map(|o| &o.groups)
        .filter(|(pgid, start, b)| *b == boot && procfs::stat(*pgid).is_some_and(|s| s.start == *start))
        .map(|(pgid, _, _)| *pgid)
        .collect();
    // Environments are read once per process: (pid, start) -> carries a tag.
    let mut tagged: HashMap<(i32, u64), bool> = HashMap::new();
    let me = std::process::id() as i32;
    let members = || -> Vec<Stat> {
        let mut out: Vec<Stat> = cgroups.iter().flat_map(|c| cgroup::members(c)).collect();
        let seen: HashSet<i32> = out.iter().map(|s| s.pid).collect();
        for s in procfs::all() {
            if s.zombie || s.pid == me || seen.contains(&s.pid) {
                continue;
            }
            let ours = groups.contains(&s.pgid)
                || *tagged.entry((s.pid, s.start)).or_insert_with(|| tags.iter().any(|t| procfs::has_env(s.pid, t)));
            if ours {
                out.push(s);
            }
        }
        out
    };
    let n = end(grace, members, || {
        for c in &cgroups {
            let _ = cgroup::kill(c);
        }
    });
    for c in &cgroups {
        let _ = cgroup::remove(c);
    }
    for o in old {
        let _ = std::fs::remove_file(&o.path);
    }
    if n > 0 {
        tracing::warn!(processes = n, "ended the processes of runs the previous daemon left");
    }
    n
}
