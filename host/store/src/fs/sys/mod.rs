//! The fcntl record lock on a lock file, behind one seam per platform.
//!
//! Both variants take an exclusive write lock on the whole file (start 0, length 0 = to
//! the end and beyond): the range `lockf(fd, F_LOCK, 0)` on a freshly opened file and
//! Python's `fcntl.lockf(fd, LOCK_EX)` take, so they exclude each other.
//!
//! - `linux.rs`: open-file-description locks (`F_OFD_SETLK`), which also exclude threads.
//! - `classic.rs`: classic per-process `F_SETLK` locks and an in-process gate, for the
//!   other Unix systems. The `classic-locks` feature selects it on Linux too, so that its
//!   tests run on a machine where the other systems cannot (`make test` does both).

#[cfg(all(target_os = "linux", not(feature = "classic-locks")))]
mod linux;
#[cfg(all(target_os = "linux", not(feature = "classic-locks")))]
pub(crate) use linux::*;

#[cfg(all(unix, any(not(target_os = "linux"), feature = "classic-locks")))]
mod classic;
#[cfg(all(unix, any(not(target_os = "linux"), feature = "classic-locks")))]
pub(crate) use classic::*;
