//! What differs between platforms, behind one seam: the document lock's primitive (one
//! file per primitive) and the few calls of the write protocol that are not the same
//! everywhere (`unix.rs`, `windows.rs`).
//!
//! | platform | lock on `<name>.lock` | excludes | file |
//! |---|---|---|---|
//! | Linux | `F_OFD_SETLK`, whole file | `lockf`/`fcntl` users, threads | `ofd.rs` |
//! | macOS, iOS, FreeBSD | `flock(LOCK_EX)` | `flock` users, and `lockf`/`fcntl` users (one lock list there), threads | `flock.rs` |
//! | other Unix | classic `F_SETLK` + an in-process gate | `lockf`/`fcntl` users, threads (through the gate) | `classic.rs` |
//! | Windows | `LockFileEx` on byte 0 | `msvcrt.locking`, `LockFile(Ex)` users, threads | `lockfile_ex.rs` |
//!
//! Why not one primitive everywhere: on Linux `flock` and `fcntl` locks are separate and do
//! not exclude each other, so `flock` would let a `lockf` user in; Linux's OFD locks are
//! `fcntl` locks that belong to the open file, which is what a lock held by one thread needs.
//! macOS and FreeBSD have no OFD locks, but their kernels keep `flock` and `fcntl` locks on
//! one list (`lf_advlock`), so a `flock` lock, which belongs to the open file, excludes
//! `lockf` users too. Classic `F_SETLK` locks belong to the process: closing any descriptor
//! of the file drops them, and threads do not exclude each other, hence the gate.
//!
//! Every lock module offers the same items: `Gate` and `enter_gate` (the process-wide part,
//! empty where the lock belongs to the open file), `try_lock`, `unlock`, `holder` and
//! `STAMP_OFFSET` (where the holder's pid is written in the lock file).
//!
//! The features `classic-locks` and `flock-locks` select those two modules on Linux, so
//! that their code runs on a machine where the other systems cannot (`make test` runs
//! both). Linux's `flock` does not exclude `lockf`, so under `flock-locks` only confine's
//! own exclusion (and `flock` users') holds: that is what the tests then check.

#[cfg(all(feature = "classic-locks", feature = "flock-locks"))]
compile_error!("`classic-locks` and `flock-locks` select different locks: enable one");

#[cfg(all(target_os = "linux", not(feature = "classic-locks"), not(feature = "flock-locks")))]
mod ofd;
#[cfg(all(target_os = "linux", not(feature = "classic-locks"), not(feature = "flock-locks")))]
pub(crate) use ofd::*;

#[cfg(any(
    target_vendor = "apple",
    target_os = "freebsd",
    all(target_os = "linux", feature = "flock-locks", not(feature = "classic-locks"))
))]
mod flock;
#[cfg(any(
    target_vendor = "apple",
    target_os = "freebsd",
    all(target_os = "linux", feature = "flock-locks", not(feature = "classic-locks"))
))]
pub(crate) use flock::*;

#[cfg(all(
    unix,
    not(target_vendor = "apple"),
    not(target_os = "freebsd"),
    any(not(target_os = "linux"), feature = "classic-locks")
))]
mod classic;
#[cfg(all(
    unix,
    not(target_vendor = "apple"),
    not(target_os = "freebsd"),
    any(not(target_os = "linux"), feature = "classic-locks")
))]
pub(crate) use classic::*;

#[cfg(windows)]
mod lockfile_ex;
#[cfg(windows)]
pub(crate) use lockfile_ex::*;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;
