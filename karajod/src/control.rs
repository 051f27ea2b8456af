//! The control socket (SPEC 9): the same API as the TCP port on the Unix
//! socket `control_socket`, trusted by its file mode (0660), with each
//! request logged with the peer's uid and pid.
//!
//! Invariants: the socket is never reachable with a wider mode: it is bound
//! inside a private 0700 directory, given mode 0660 there and renamed into
//! place. We refuse to start when the socket's directory, or one above it,
//! may be written by others without the sticky bit: another user could
//! put their own socket there and capture what root's karajoctl sends.
//! Any path the kernel accepts (up to [`MAX_SOCKET_PATH_BYTES`]) works:
//! the private directory has a short name and, when even that path is too
//! long, the socket is bound through `/proc/self/fd`. An existing socket
//! file is replaced only when nothing answers on it (a live daemon there
//! makes us refuse to start); a file that is not a socket is never
//! replaced. The socket is removed at shutdown if it is still ours.

use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;
use warp::filters::BoxedFilter;

use crate::serve::{self, Limits, Listener, random_token};

/// The socket's mode: the daemon's user and group.
pub const SOCKET_MODE: u32 = 0o660;
/// The mode of a runtime directory we create for it: the group must be
/// able to reach the socket inside.
pub const RUNTIME_DIR_MODE: u32 = 0o750;
/// The longest socket path Linux accepts (`sun_path` holds 108 bytes with
/// the terminating NUL).
pub const MAX_SOCKET_PATH_BYTES: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control socket {0}: another karajod is answering there; refusing to start")]
    InUse(PathBuf),
    #[error("control socket {0}: the path exists and is not a socket; refusing to replace it")]
    NotASocket(PathBuf),
    #[error(
        "control socket {path}: {dir} (mode {mode:o}) may be written by any user and has no sticky bit, \
         so another user could replace the socket; remove write access for others (chmod o-w) \
         or put control_socket elsewhere"
    )]
    UnsafeDirectory { path: PathBuf, dir: PathBuf, mode: u32 },
    #[error(
        "control socket {path}: the path is {len} bytes long; a Unix socket path has at most {MAX_SOCKET_PATH_BYTES}"
    )]
    PathTooLong { path: PathBuf, len: usize },
    #[error("control socket: {op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: std::io::Error },
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> ControlError + 'a {
    move |source| ControlError::Io { op, path: path.to_path_buf(), source }
}

/// A bound control socket.
#[derive(Debug)]
pub struct ControlSocket {
    pub path: PathBuf,
    listener: std::os::unix::net::UnixListener,
    /// (device, inode) of our socket file, to remove only our own.
    ident: (u64, u64),
}

/// Binds `path` with mode 0660 from the first instant it is reachable.
pub fn bind(path: &Path) -> Result<ControlSocket, ControlError> {
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH_BYTES {
        return Err(ControlError::PathTooLong { path: path.to_path_buf(), len });
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(RUNTIME_DIR_MODE)
            .create(parent)
            .map_err(io("creating directory", parent))?;
    }
    check_directories(path, parent)?;
    check_existing(path)?;
    let private = parent.join(format!(".kb{}", &random_token()[..6]));
    std::fs::DirBuilder::new().mode(0o700).create(&private).map_err(io("creating directory", &private))?;
    let result = bind_in(&private, path);
    let _ = std::fs::remove_dir_all(&private);
    result
}

/// Refuses a socket directory that others may write, or one above it that
/// others may write without the sticky bit (they could rename ours away).
fn check_directories(path: &Path, parent: &Path) -> Result<(), ControlError> {
    let real = std::fs::canonicalize(parent).map_err(io("resolving", parent))?;
    for dir in real.ancestors() {
        let mode = std::fs::metadata(dir).map_err(io("reading", dir))?.permissions().mode();
        if mode & 0o002 != 0 && mode & 0o1000 == 0 {
            return Err(ControlError::UnsafeDirectory {
                path: path.to_path_buf(),
                dir: dir.to_path_buf(),
                mode: mode & 0o7777,
            });
        }
    }
    Ok(())
}

fn bind_in(private: &Path, path: &Path) -> Result<ControlSocket, ControlError> {
    let tmp = private.join("s");
    let listener = bind_short(private, &tmp).map_err(io("binding", path))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(SOCKET_MODE))
        .map_err(io("setting mode of", path))?;
    // Re-check right before the rename: a daemon may have started meanwhile.
    check_existing(path)?;
    std::fs::rename(&tmp, path).map_err(io("renaming socket to", path))?;
    listener.set_nonblocking(true).map_err(io("configuring", path))?;
    let meta = std::fs::symlink_metadata(path).map_err(io("reading", path))?;
    Ok(ControlSocket { path: path.to_path_buf(), listener, ident: (meta.dev(), meta.ino()) })
}

/// Binds `tmp` (inside `private`), through `/proc/self/fd` when its own
/// path is longer than the kernel takes: the final path may be up to the
/// limit, and the temporary one is a few bytes longer when its name is short.
fn bind_short(private: &Path, tmp: &Path) -> std::io::Result<std::os::unix::net::UnixListener> {
    if tmp.as_os_str().as_bytes().len() <= MAX_SOCKET_PATH_BYTES {
        return std::os::unix::net::UnixListener::bind(tmp);
    }
    let dir = std::fs::File::open(private)?;
    let via = format!("/proc/self/fd/{}/s", std::os::fd::AsRawFd::as_raw_fd(&dir));
    std::os::unix::net::UnixListener::bind(via)
}

/// Refuses a live daemon's socket or a non-socket file; a stale socket
/// (nothing answers) may be replaced.
fn check_existing(path: &Path) -> Result<(), ControlError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io("reading", path)(e)),
    };
    if !meta.file_type().is_socket() {
        return Err(ControlError::NotASocket(path.to_path_buf()));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(ControlError::InUse(path.to_path_buf())),
        Err(e) if matches!(e.kind(), ErrorKind::ConnectionRefused | ErrorKind::NotFound) => {
            tracing::info!("replacing stale control socket {}", path.display());
            Ok(())
        }
        Err(e) => Err(io("probing", path)(e)),
    }
}

impl ControlSocket {
    /// Serves `router` until `shutdown`, then removes the socket file.
    /// Must run inside the tokio runtime.
    pub async fn serve(
        self,
        router: BoxedFilter<(warp::reply::Response,)>,
        limits: Limits,
        shutdown: CancellationToken,
    ) {
        let listener = match tokio::net::UnixListener::from_std(self.listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("control socket {}: {e}", self.path.display());
                return;
            }
        };
        tracing::info!("control socket listening on {}", self.path.display());
        serve::serve(Listener::Unix(listener), router, limits, shutdown).await;
        remove_if_ours(&self.path, self.ident);
    }
}

fn remove_if_ours(path: &Path, ident: (u64, u64)) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if (m.dev(), m.ino()) == ident => {
            if let Err(e) = std::fs::remove_file(path) {
                tracing::warn!("removing control socket {}: {e}", path.display());
            }
        }
        _ => tracing::debug!("control socket {} is no longer ours; left alone", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_with_mode_0660_and_creates_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/karajo/karajod.sock");
        let s = bind(&path).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, SOCKET_MODE);
        let parent = std::fs::metadata(path.parent().unwrap()).unwrap();
        assert_eq!(parent.permissions().mode() & 0o777, RUNTIME_DIR_MODE);
        // No private bind directory is left behind.
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
        drop(s);
    }

    #[test]
    fn replaces_a_stale_socket_but_not_a_live_one_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists(), "a stale socket file is left");
        let live = bind(&path).expect("stale socket replaced");
        assert!(matches!(bind(&path), Err(ControlError::InUse(_))));
        drop(live);
        let file = dir.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        assert!(matches!(bind(&file), Err(ControlError::NotASocket(_))));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    }

    #[test]
    fn refuses_a_directory_others_may_write_without_the_sticky_bit() {
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = bind(&open.join("k.sock")).unwrap_err();
        assert!(
            matches!(&err, ControlError::UnsafeDirectory { dir, .. } if *dir == std::fs::canonicalize(&open).unwrap()),
            "{err}"
        );
        let below = open.join("run");
        std::fs::create_dir(&below).unwrap();
        assert!(matches!(bind(&below.join("k.sock")), Err(ControlError::UnsafeDirectory { .. })), "an open ancestor");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        drop(bind(&open.join("k.sock")).expect("a sticky directory like /tmp is fine"));
    }

    #[test]
    fn any_path_the_kernel_accepts_binds() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().as_os_str().len();
        let deep = dir.path().join("d".repeat(MAX_SOCKET_PATH_BYTES - base - 4));
        for name in ["k", "ab"] {
            let path = deep.join(name);
            let len = path.as_os_str().len();
            assert!(len <= MAX_SOCKET_PATH_BYTES, "{len}");
            let s = bind(&path).unwrap_or_else(|e| panic!("{len} bytes: {e}"));
            std::os::unix::net::UnixStream::connect(&path).expect("connect on the long path");
            drop(s);
        }
        let too_long = deep.join("abc");
        assert!(matches!(bind(&too_long), Err(ControlError::PathTooLong { len: 108, .. })));
    }

    #[test]
    fn removes_only_its_own_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.sock");
        let s = bind(&path).unwrap();
        let ident = s.ident;
        // Ours moves away (keeping its inode busy); another takes the path.
        std::fs::rename(&path, dir.path().join("old.sock")).unwrap();
        let _other = std::os::unix::net::UnixListener::bind(&path).unwrap();
        drop(s);
        remove_if_ours(&path, ident);
        assert!(path.exists(), "another socket at the path is left alone");
    }
}
