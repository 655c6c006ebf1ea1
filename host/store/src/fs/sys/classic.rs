//! Other Unix systems: classic `F_SETLK` locks. Those belong to the process, so threads of
//! one process do not exclude each other, and closing *any* descriptor of the lock file
//! would drop the process's lock. A process-wide gate keyed by the lock file's directory
//! (device, inode) and name therefore admits one holder per process at a time, and a thread
//! opens the lock file only after it has passed the gate, so no other descriptor of a held
//! lock file is ever opened (or closed) inside the process: not by a writer, and not by
//! `lock_status`, which passes the same gate.

use std::collections::HashSet;
use std::io;
use std::sync::{Mutex, PoisonError};

use cap_std::fs::{Dir, File, MetadataExt};
use rustix::fs::{FlockOperation, fcntl_lock};

/// Where the holder's pid is written in the lock file: from the start (the lock is advisory).
pub(crate) const STAMP_OFFSET: u64 = 0;

type Key = (u64, u64, String);

static HELD: Mutex<Option<HashSet<Key>>> = Mutex::new(None);

/// One thread's pass through the gate of one lock file; leaving it on drop.
pub(crate) struct Gate {
    key: Key,
}

impl Drop for Gate {
    fn drop(&mut self) {
        let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = held.as_mut() {
            set.remove(&self.key);
        }
    }
}

/// Passes the gate (`Some`) if no other thread of this process holds that lock file.
pub(crate) fn enter_gate(parent: &Dir, lock_file: &str) -> io::Result<Option<Gate>> {
    let dir = parent.dir_metadata()?;
    let key = (dir.dev(), dir.ino(), lock_file.to_owned());
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    // Make a Gate only once the key is ours: a Gate dropped on refusal would take the
    // holder's key out of the set (and, dropped under this lock, deadlock on it), which
    // `bool::then_some(Gate { .. })` did, since it builds its argument either way.
    if held.get_or_insert_with(HashSet::new).insert(key.clone()) { Ok(Some(Gate { key })) } else { Ok(None) }
}

/// Tries to take the exclusive lock without waiting: `Ok(false)` if another process holds it.
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    match fcntl_lock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::AGAIN | rustix::io::Errno::ACCESS) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Nothing to do: closing the descriptor, which follows, releases the lock.
pub(crate) fn unlock(_file: &File) {}

/// Who holds a conflicting lock, as the kernel tells (`F_GETLK`): `Some(Some(pid))` for a
/// holder in another process, `None` if nobody else holds one now. A lock of this process
/// does not conflict with itself, so the gate answers for those.
pub(crate) fn holder(file: &File) -> Option<Option<u32>> {
    super::unix::posix_holder(file)
}
