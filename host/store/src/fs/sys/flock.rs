//! macOS, iOS and FreeBSD: `flock(LOCK_EX | LOCK_NB)`. The lock belongs to the open file, as
//! Linux's OFD locks do: two threads that each open the lock file exclude each other, and
//! closing some other descriptor of the file leaves it held, so no in-process gate is
//! needed. These kernels keep `flock` and `fcntl` locks on one list (`lf_advlock`), where a
//! whole-file `flock` lock conflicts with any `fcntl`/`lockf` range, so `lockf` users and
//! confine exclude each other there; their `F_GETLK` reports a `flock` holder with pid -1.
//!
//! Run on Linux with the `flock-locks` feature for its tests: Linux's `flock` excludes
//! threads and `flock` users in the same way but not `lockf` users, and its `F_GETLK` does
//! not see `flock` locks, so `holder` also probes.

use std::io;

use cap_std::fs::{Dir, File};
use rustix::fs::{FlockOperation, flock};

/// Where the holder's pid is written in the lock file: from the start (the lock is advisory).
pub(crate) const STAMP_OFFSET: u64 = 0;

/// The process-wide part of a lock; a per-open-file lock needs none.
pub(crate) struct Gate;

/// Admits at once: `flock` locks already exclude threads of this process.
pub(crate) fn enter_gate(_parent: &Dir, _lock_file: &str) -> io::Result<Option<Gate>> {
    Ok(Some(Gate))
}

/// Tries to take the exclusive lock without waiting: `Ok(false)` if someone holds it.
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Nothing to do: closing the descriptor, which follows, releases the lock.
pub(crate) fn unlock(_file: &File) {}

/// Who holds a conflicting lock: `Some(Some(pid))` for a `lockf`/`fcntl` holder,
/// `Some(None)` for a `flock` holder (no system names it), `None` if nobody holds one now.
///
/// `F_GETLK` answers for `fcntl` holders (and, on the BSD kernels, `flock` ones). Where it
/// sees nothing, a `flock` probe on this descriptor decides: taking the lock and releasing
/// it at once. A writer that tries at that instant finds it held and backs off a millisecond.
pub(crate) fn holder(file: &File) -> Option<Option<u32>> {
    if let Some(holder) = super::unix::posix_holder(file) {
        return Some(holder);
    }
    match try_lock(file) {
        Ok(true) => {
            let _ = flock(file, FlockOperation::Unlock);
            None
        }
        Ok(false) => Some(None),
        Err(_) => None,
    }
}
