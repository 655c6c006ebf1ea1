//! The fcntl record lock on a lock file, behind one seam per platform.
//!
//! Both variants take an exclusive write lock on the whole file (start 0, length 0 = to
//! the end and beyond): the range `lockf(fd, F_LOCK, 0)` on a freshly opened file and
//! Python's `fcntl.lockf(fd, LOCK_EX)` take, so they exclude each other.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(all(unix, not(target_os = "linux")))]
mod other;
#[cfg(all(unix, not(target_os = "linux")))]
pub(crate) use other::*;
