//! Readiness and shutdown notices to systemd (`Type=notify` in the packaged
//! `karajod.service`), over `$NOTIFY_SOCKET`.
//!
//! Invariants: a no-op when not started by systemd (no `$NOTIFY_SOCKET`),
//! and never fatal: a notice that cannot be sent is logged, because the
//! daemon serving is worth more than systemd knowing it. The variable is
//! left in place so the later `STOPPING=1` can still be sent; jobs never
//! see it, as they run in a clean environment (SPEC 4).

use sd_notify::NotifyState;

/// Tells systemd the daemon is serving: call once every listener (TCP and
/// control socket) is bound and the engine has started, so that units
/// ordered `After=karajod.service` can talk to it at once.
pub fn ready() {
    send(&[NotifyState::Ready]);
}

/// Tells systemd the daemon is stopping: call when shutdown begins, so that
/// `systemctl status` says so while running jobs get their grace period.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

fn send(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::warn!("cannot notify systemd ($NOTIFY_SOCKET): {e}");
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::net::UnixDatagram;

    /// The whole protocol in one test (the environment is process-wide):
    /// without a socket nothing happens; with one, both notices arrive.
    #[test]
    fn notices_reach_the_notify_socket_and_are_optional() {
        // SAFETY: no other test in this crate reads or writes NOTIFY_SOCKET.
        unsafe { std::env::remove_var("NOTIFY_SOCKET") };
        super::ready();

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let sock = UnixDatagram::bind(&path).unwrap();
        unsafe { std::env::set_var("NOTIFY_SOCKET", &path) };
        super::ready();
        super::stopping();
        unsafe { std::env::remove_var("NOTIFY_SOCKET") };

        let mut buf = [0u8; 64];
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\n");
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1\n");
    }
}
