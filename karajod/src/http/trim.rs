//! Gives freed memory back to the system after costly reads.
//!
//! `/environment` with 1,000 jobs builds a few MB of short-lived
//! allocations on blocking-pool threads. glibc keeps freed memory in its
//! per-thread arenas, so without a trim the daemon stays at its high-water
//! mark (measured with bench/api.sh: 11 MiB idle, 35 MiB after 16
//! concurrent clients, 13 MiB after a trim). A trim makes the next read
//! fault its pages back in, so it runs once reads have stopped for
//! [`TRIM_AFTER`], not after each one.
//!
//! Invariants: a read ending while a trim runs is not lost (it starts a
//! new quiet period); the task ends at shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long reads must have stopped before memory is given back.
pub const TRIM_AFTER: Duration = Duration::from_secs(1);

/// Trims once costly reads have stopped for a while.
#[derive(Debug)]
pub struct Trimmer {
    ended: Notify,
    quiet: Duration,
    release: fn(),
}

impl Default for Trimmer {
    fn default() -> Self {
        Trimmer { ended: Notify::new(), quiet: TRIM_AFTER, release: release_free_memory }
    }
}

impl Trimmer {
    /// A costly read just ended.
    pub fn read_ended(&self) {
        self.ended.notify_one();
    }

    /// Runs until `shutdown`: after each burst of reads, once quiet for
    /// [`TRIM_AFTER`], gives freed memory back (on the blocking pool: a
    /// trim walks the whole heap).
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = self.ended.notified() => {}
                _ = shutdown.cancelled() => return,
            }
            loop {
                tokio::select! {
                    _ = self.ended.notified() => continue,
                    _ = tokio::time::sleep(self.quiet) => break,
                    _ = shutdown.cancelled() => return,
                }
            }
            if let Err(e) = tokio::task::spawn_blocking(self.release).await {
                tracing::warn!("giving memory back after reads failed: {e}");
            }
        }
    }
}

/// Caps glibc's malloc arenas at one per core (its default is eight per
/// core). Each thread that allocates gets an arena, and blocking-pool
/// threads come and go: with the default, 16 clients of `/environment`
/// left ~23 MiB behind even after a trim, with one per core ~14 MiB
/// (bench/api.sh, 2 cores), at no measurable CPU cost. Call it first in
/// `main`, before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn limit_malloc_arenas() {
    const M_ARENA_MAX: std::ffi::c_int = -8;
    unsafe extern "C" {
        fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
    // SAFETY: mallopt only sets a glibc tunable; called before other threads exist.
    unsafe {
        mallopt(M_ARENA_MAX, std::ffi::c_int::try_from(cores).unwrap_or(8));
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn limit_malloc_arenas() {}

/// Gives glibc's freed heap back to the system now (also after the
/// start-up reconcile, whose batched reads free tens of MB with many jobs).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks;
    // any thread may call it at any time.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    static TRIMS: AtomicUsize = AtomicUsize::new(0);

    fn count() {
        TRIMS.fetch_add(1, Ordering::SeqCst);
    }

    async fn trims_reach(n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TRIMS.load(Ordering::SeqCst) < n {
            assert!(Instant::now() < deadline, "no trim #{n} within 10 s");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn one_trim_per_burst_once_reads_stop() {
        let quiet = Duration::from_millis(400);
        let t = Arc::new(Trimmer { ended: Notify::new(), quiet, release: count });
        let stop = CancellationToken::new();
        let task = tokio::spawn(t.clone().run(stop.clone()));
        for _ in 0..5 {
            t.read_ended();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(TRIMS.load(Ordering::SeqCst), 0, "trimmed while reads went on");
        trims_reach(1).await;
        t.read_ended();
        trims_reach(2).await;
        tokio::time::sleep(quiet * 3).await;
        assert_eq!(TRIMS.load(Ordering::SeqCst), 2, "trimmed without reads");
        stop.cancel();
        task.await.unwrap();
    }
}
