//! Other Unix systems: classic `F_SETLK` locks. Those belong to the process, so threads of
//! one process do not exclude each other, and closing *any* descriptor of the lock file
//! would drop the process's lock. A process-wide gate keyed by the lock file's
//! directory (device, inode) and name therefore admits one holder per process at a time, and a thread opens
//! the lock file only after it has passed the gate, so no other descriptor of a held lock
//! file is ever opened (or closed) inside the process.

use std::collections::HashSet;
use std::io;
use std::os::fd::AsFd;
use std::sync::{Mutex, PoisonError};

use cap_std::fs::{Dir, MetadataExt};
use rustix::fs::{FlockOperation, fcntl_lock};

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
    Ok(held.get_or_insert_with(HashSet::new).insert(key.clone()).then_some(Gate { key }))
}

/// Tries to take the exclusive lock without waiting: `Ok(false)` if another process holds it.
pub(crate) fn try_lock(file: impl AsFd) -> io::Result<bool> {
    match fcntl_lock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::AGAIN | rustix::io::Errno::ACCESS) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Who holds a conflicting lock; this platform's seam does not ask the kernel.
pub(crate) fn holder(_file: impl AsFd) -> Option<Option<u32>> {
    Some(None)
}
