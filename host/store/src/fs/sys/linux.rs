//! Linux: open-file-description locks (`F_OFD_SETLK`). They conflict with classic
//! `F_SETLK`/`lockf` locks of other processes, and, unlike those, also with each other
//! inside one process: two threads that each open the lock file exclude each other. The
//! lock belongs to the open file description and is released when its descriptor is
//! closed, not when some other descriptor of the same file is.

use std::io;
use std::os::fd::AsFd;

use cap_std::fs::Dir;
use nix::fcntl::{FcntlArg, fcntl};
use nix::libc;

/// The process-wide part of a lock; Linux needs none.
pub(crate) struct Gate;

/// Admits at once: OFD locks already exclude threads of this process.
pub(crate) fn enter_gate(_parent: &Dir, _lock_file: &str) -> io::Result<Option<Gate>> {
    Ok(Some(Gate))
}

fn whole_file(l_type: libc::c_int) -> libc::flock {
    libc::flock {
        l_type: l_type as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    }
}

/// Tries to take the exclusive lock without waiting: `Ok(false)` if someone holds it.
pub(crate) fn try_lock(file: impl AsFd) -> io::Result<bool> {
    match fcntl(file.as_fd(), FcntlArg::F_OFD_SETLK(&whole_file(libc::F_WRLCK))) {
        Ok(_) => Ok(true),
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EACCES) => Ok(false),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Who holds a conflicting lock: `Some(Some(pid))` for a classic (`lockf`, `F_SETLK`)
/// holder, `Some(None)` for an OFD holder (the kernel does not say which process),
/// `None` if nobody holds one now.
pub(crate) fn holder(file: impl AsFd) -> Option<Option<u32>> {
    let mut probe = whole_file(libc::F_WRLCK);
    fcntl(file.as_fd(), FcntlArg::F_GETLK(&mut probe)).ok()?;
    if probe.l_type == libc::F_UNLCK as libc::c_short {
        return None;
    }
    Some(u32::try_from(probe.l_pid).ok().filter(|pid| *pid > 0))
}
