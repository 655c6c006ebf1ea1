//! Linux: open-file-description locks (`F_OFD_SETLK`). They conflict with classic
//! `F_SETLK`/`lockf` locks of other processes, and, unlike those, also with each other
//! inside one process: two threads that each open the lock file exclude each other. The
//! lock belongs to the open file description and is released when its descriptor is
//! closed, not when some other descriptor of the same file is.

use std::io;
use std::os::fd::AsFd;

use cap_std::fs::{Dir, File};
use nix::fcntl::{FcntlArg, fcntl};
use nix::libc;

/// Where the holder's pid is written in the lock file: from the start (the lock is advisory).
pub(crate) const STAMP_OFFSET: u64 = 0;

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
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    match fcntl(file.as_fd(), FcntlArg::F_OFD_SETLK(&whole_file(libc::F_WRLCK))) {
        Ok(_) => Ok(true),
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EACCES) => Ok(false),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Nothing to do: closing the descriptor, which follows, releases the lock.
pub(crate) fn unlock(_file: &File) {}

/// Who holds a conflicting lock: `Some(Some(pid))` for a classic (`lockf`, `F_SETLK`)
/// holder, `Some(None)` for an OFD holder (the kernel does not say which process),
/// `None` if nobody holds one now.
pub(crate) fn holder(file: &File) -> Option<Option<u32>> {
    super::unix::posix_holder(file)
}
