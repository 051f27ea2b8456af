//! The identity a job's shells take (`user`, `group`; SPEC 17): the
//! user's groups, then the group, then the user, set in the child between
//! fork and exec, so nothing of the command ever runs as karajod.

use std::io;

use crate::config::RunAs;

/// Makes the command's process drop to `r` before it execs. Register it
/// after every step that needs karajod's own rights.
pub fn prepare(cmd: &mut std::process::Command, r: &RunAs) {
    use std::os::unix::process::CommandExt;
    let groups: Vec<nix::libc::gid_t> = r.groups.clone();
    let (uid, gid) = (r.uid, r.gid);
    // SAFETY: setgroups, setgid and setuid are async-signal-safe system
    // calls on memory allocated before the fork; nothing here allocates.
    unsafe {
        cmd.pre_exec(move || {
            let check = |rc: nix::libc::c_int| if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) };
            if nix::libc::geteuid() == 0 {
                check(nix::libc::setgroups(groups.len() as _, groups.as_ptr()))?;
            }
            check(nix::libc::setgid(gid))?;
            check(nix::libc::setuid(uid))
        });
    }
}
