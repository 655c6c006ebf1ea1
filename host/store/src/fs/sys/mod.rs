//! What differs between platforms, behind one seam: the document lock's primitive (one
//! file per primitive) and the few calls of the write protocol that are not the same
//! everywhere (`unix.rs`, `windows.rs`).
//!
//! | platform | lock on `<name>.lock` | excludes | file |
//! |---|---|---|---|
//! | Linux | `F_OFD_SETLK` and then `flock(LOCK_EX)`, both whole file, released together (on NFS and CIFS, which emulate `flock` with `fcntl` locks, the OFD lock alone) | `lockf`/`fcntl` users (`fcntl.lockf`, `fasteners`), `flock` users (`filelock`, `portalocker`, `flock(1)`), threads | `linux.rs` |
//! | macOS, iOS, FreeBSD | `flock(LOCK_EX)` | `flock` users, and `lockf`/`fcntl` users (one lock list there), threads | `flock.rs` |
//! | other Unix | classic `F_SETLK` + an in-process gate | `lockf`/`fcntl` users, threads (through the gate) | `classic.rs` |
//! | Windows | `LockFileEx` on byte 0 | `msvcrt.locking` users (`portalocker`, `fasteners`), `LockFile(Ex)` users of byte 0 (`filelock`), threads | `lockfile_ex.rs` |
//!
//! Why not one primitive everywhere: on Linux `flock` and `fcntl` locks are separate lists
//! that never exclude each other, so either one alone would let the other kind of user in;
//! Linux's OFD locks are `fcntl` locks that belong to the open file, which is what a lock
//! held by one thread needs, so Linux takes an OFD lock and an `flock` (`linux.rs` says why
//! the pair cannot deadlock). macOS and FreeBSD have no OFD locks, but their kernels keep
//! `flock` and `fcntl` locks on one list (`lf_advlock`), so one `flock` lock, which belongs
//! to the open file, excludes both kinds of user. Classic `F_SETLK` locks belong to the
//! process: closing any descriptor of the file drops them, and threads do not exclude each
//! other, hence the gate.
//!
//! Every lock module offers the same items: `Gate` and `enter_gate` (the process-wide part,
//! empty where the lock belongs to the open file), `try_lock`, `unlock`, `holder` and
//! `STAMP_OFFSET` (where the holder's pid is written in the lock file).
//!
//! The features `classic-locks` and `flock-locks` select those two modules on Linux, so
//! that their code runs on a machine where the other systems cannot (`make test` runs
//! both). Linux's `flock` does not exclude `lockf`, so under `flock-locks` only confine's
//! own exclusion (and `flock` users') holds: that is what the tests then check.
//!
//! Windows' `msvcrt.locking` is `_locking`, a `LockFile` on a byte range from the file's
//! position: the libraries lock byte 0 of a file they have just opened, the byte
//! `LockFileEx` holds.

#[cfg(all(feature = "classic-locks", feature = "flock-locks"))]
compile_error!("`classic-locks` and `flock-locks` select different locks: enable one");

#[cfg(all(target_os = "linux", not(feature = "classic-locks"), not(feature = "flock-locks")))]
mod linux;
#[cfg(all(target_os = "linux", not(feature = "classic-locks"), not(feature = "flock-locks")))]
pub(crate) use linux::*;

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
