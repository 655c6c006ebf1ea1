//! Windows: `LockFileEx` (exclusive, fail at once) on byte 0 of the lock file.
//!
//! Python's `msvcrt.locking(fd, LK_NBLCK, 1)` on a freshly opened file locks byte 0 too
//! (the C runtime's `_locking` is `LockFile` from the file position), and any two locks
//! over one byte exclude each other, so confine and such programs exclude each other.
//! Windows locks belong to the handle: two threads that each open the lock file exclude
//! each other, and no in-process gate is needed.
//!
//! Windows locks are mandatory for the range they cover: other handles cannot read or write
//! byte 0 while it is locked. The holder's pid is therefore written after it, from byte 1,
//! where `lock_status` can read it. A holder clears its stamp before it lets go, so a
//! program that is not confine and holds the lock is not named by a stale pid. The lock is
//! released explicitly before the handle closes: Windows frees a closed handle's locks
//! "after a delay that is not specified", which the next writer would wait out.

// Calls into the Windows API, each with its SAFETY argument.
#![allow(unsafe_code)]
use std::io;
use std::os::windows::io::AsRawHandle;

use cap_std::fs::{Dir, File};
use windows_sys::Win32::Foundation::{ERROR_LOCK_VIOLATION, HANDLE};
use windows_sys::Win32::Storage::FileSystem::{
    LOCKFILE_EXCLUSIVE_LOCK, LOCKFILE_FAIL_IMMEDIATELY, LockFileEx, UnlockFileEx,
};
use windows_sys::Win32::System::IO::OVERLAPPED;

/// Where the holder's pid is written in the lock file: after the locked byte.
pub(crate) const STAMP_OFFSET: u64 = 1;

/// The locked range: byte 0 alone, as `msvcrt.locking(fd, mode, 1)` takes it.
const LOCKED_BYTES: u32 = 1;

/// The process-wide part of a lock; a per-handle lock needs none.
pub(crate) struct Gate;

/// Admits at once: `LockFileEx` locks already exclude threads of this process.
pub(crate) fn enter_gate(_parent: &Dir, _lock_file: &str) -> io::Result<Option<Gate>> {
    Ok(Some(Gate))
}

/// An `OVERLAPPED` that names offset 0 (the only thing it carries for a synchronous handle).
fn at_byte_zero() -> OVERLAPPED {
    // SAFETY: OVERLAPPED is plain old data; all-zero is offset 0 and no event.
    unsafe { std::mem::zeroed() }
}

fn handle(file: &File) -> HANDLE {
    file.as_raw_handle() as HANDLE
}

/// Tries to take the exclusive lock without waiting: `Ok(false)` if someone holds it.
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    let mut overlapped = at_byte_zero();
    // SAFETY: the handle is open for the whole call, `overlapped` outlives it, and the
    // handle is synchronous, so the call is complete when it returns.
    let locked = unsafe {
        LockFileEx(
            handle(file),
            LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY,
            0,
            LOCKED_BYTES,
            0,
            &mut overlapped,
        )
    };
    if locked != 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() == Some(ERROR_LOCK_VIOLATION as i32) { Ok(false) } else { Err(error) }
}

/// Clears the stamp and releases the lock; the handle closes after this.
pub(crate) fn unlock(file: &File) {
    let _ = file.set_len(0);
    release(file);
}

fn release(file: &File) {
    let mut overlapped = at_byte_zero();
    // SAFETY: as in `try_lock`.
    unsafe {
        UnlockFileEx(handle(file), 0, LOCKED_BYTES, 0, &mut overlapped);
    }
}

/// Who holds the lock: `Some(None)` if someone does (Windows does not say who; the
/// stamp may), `None` if it is free now. Found by taking the lock and releasing it at
/// once: a writer that tries at that instant finds it held and backs off a millisecond.
pub(crate) fn holder(file: &File) -> Option<Option<u32>> {
    match try_lock(file) {
        Ok(true) => {
            release(file);
            None
        }
        Ok(false) => Some(None),
        Err(_) => None,
    }
}
