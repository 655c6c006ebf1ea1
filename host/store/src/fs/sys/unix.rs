//! The Unix calls of the write protocol: non-blocking opens (a FIFO planted at a name must
//! not hang anyone), `ELOOP` as the symlink refusal, positioned writes, permission bits,
//! and durable syncs (`F_FULLFSYNC` on Apple systems).

use std::io;
use std::os::fd::AsFd;

use cap_std::fs::{Dir, File, Metadata, OpenOptions, OpenOptionsExt, Permissions, PermissionsExt};
use nix::fcntl::{FcntlArg, fcntl};
use nix::libc;

/// Unix fsyncs a directory to make a rename in it durable (`atomic.rs`).
pub(crate) const SYNCS_DIRECTORIES: bool = true;

/// Opens without blocking: a FIFO planted at the name must not hang the open.
pub(crate) fn nonblocking(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
}

/// A new file's permission bits, before the umask.
pub(crate) fn create_mode(options: &mut OpenOptions, mode: u32) -> &mut OpenOptions {
    options.mode(mode)
}

/// The permission bits to give a document's replacement: those of the one it replaces.
pub(crate) fn mode_of(metadata: &Metadata) -> Option<u32> {
    Some(metadata.permissions().mode() & 0o7777)
}

pub(crate) fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    file.set_permissions(Permissions::from_mode(mode))
}

/// Whether an open failed with `ELOOP`: a symlink met where `O_NOFOLLOW` forbids one, or a
/// symlink loop.
pub(crate) fn is_symlink_refusal(e: &io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

/// Whether an open failed because the name holds a directory, a socket or a device.
pub(crate) fn is_not_a_file_refusal(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error().map(rustix::io::Errno::from_raw_os_error),
        Some(rustix::io::Errno::ISDIR | rustix::io::Errno::NXIO)
    )
}

/// Writes `bytes` at `offset`, leaving the file position alone.
pub(crate) fn write_at(file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    let written = rustix::io::pwrite(file, bytes, offset)?;
    if written == bytes.len() { Ok(()) } else { Err(io::ErrorKind::WriteZero.into()) }
}

/// Reads into `buffer` from `offset`, leaving the file position alone.
pub(crate) fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    Ok(rustix::io::pread(file, buffer, offset)?)
}

/// Nothing to add for a temp file on Unix.
pub(crate) fn temp_file(options: &mut OpenOptions) -> &mut OpenOptions {
    options
}

/// Renames the temp file `from` over `to` in one directory: atomic on every Unix
/// filesystem confine supports (readers see the old file or the new one).
pub(crate) fn replace(parent: &Dir, _temp: &File, from: &str, to: &str) -> io::Result<()> {
    parent.rename(from, parent, to)
}

/// Who holds a lock that conflicts with a whole-file write lock, as `F_GETLK` tells:
/// `Some(Some(pid))` for a classic (`lockf`, `F_SETLK`) holder, `Some(None)` for a holder
/// the kernel does not name (an OFD or `flock` lock, reported with pid -1), `None` if
/// nobody it sees holds one.
pub(crate) fn posix_holder(file: &File) -> Option<Option<u32>> {
    // Zeroed rather than a struct literal: its other fields differ between systems.
    // SAFETY: `flock` is plain old data; all-zero is a valid value of it.
    #[allow(unsafe_code)]
    let mut probe: libc::flock = unsafe { std::mem::zeroed() };
    probe.l_type = libc::F_WRLCK as libc::c_short;
    probe.l_whence = libc::SEEK_SET as libc::c_short;
    fcntl(file.as_fd(), FcntlArg::F_GETLK(&mut probe)).ok()?;
    if probe.l_type == libc::F_UNLCK as libc::c_short {
        return None;
    }
    Some(u32::try_from(probe.l_pid).ok().filter(|pid| *pid > 0))
}

/// Makes the file's data and metadata durable.
///
/// On Apple systems `fsync` only hands the data to the drive, whose cache may lose it on
/// power loss; `F_FULLFSYNC` asks the drive to flush. Some filesystems (SMB, some network
/// and FUSE ones) refuse `F_FULLFSYNC` as unsupported, and only for those answers confine
/// falls back to `fsync`, as Go does (`internal/poll/fd_fsync_darwin.go`, Go issue 64215)
/// and LevelDB (`SyncFd` in `util/env_posix.cc`). Any other error, EIO above all, is the
/// answer: a failed sync is never retried into a success, since the kernel may have
/// dropped the dirty pages it could not write.
pub(crate) fn sync(file: &File) -> io::Result<()> {
    #[cfg(target_vendor = "apple")]
    {
        full_fsync_or_fsync(
            || fcntl(file.as_fd(), FcntlArg::F_FULLFSYNC).map(drop).map_err(io::Error::from),
            || rustix::fs::fsync(file).map_err(io::Error::from),
        )
    }
    #[cfg(not(target_vendor = "apple"))]
    {
        file.sync_all()
    }
}

/// `full`, then `plain` only if `full` answered that the filesystem does not support it.
#[cfg(any(target_vendor = "apple", test))]
fn full_fsync_or_fsync(
    full: impl FnOnce() -> io::Result<()>,
    plain: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    match full() {
        Err(e) if is_unsupported(&e) => plain(),
        other => other,
    }
}

/// ENOTSUP (EOPNOTSUPP on Linux), EINVAL and ENOTTY: "this file cannot do F_FULLFSYNC".
#[cfg(any(target_vendor = "apple", test))]
fn is_unsupported(e: &io::Error) -> bool {
    use rustix::io::Errno;
    matches!(e.raw_os_error().map(Errno::from_raw_os_error), Some(Errno::NOTSUP | Errno::INVAL | Errno::NOTTY))
}

/// A path by which the platform's change notification can watch `dir`: on Linux the
/// descriptor's own entry in `/proc`, so that the watch is on exactly the directory this
/// capability holds, whatever has been renamed since.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn watch_path(dir: &Dir) -> io::Result<std::path::PathBuf> {
    use std::os::fd::AsRawFd;
    Ok(std::path::PathBuf::from(format!("/proc/self/fd/{}", dir.as_fd().as_raw_fd())))
}

/// A path by which FSEvents can watch `dir`: the one the kernel gives for its descriptor
/// (`F_GETPATH`).
#[cfg(target_vendor = "apple")]
pub(crate) fn watch_path(dir: &Dir) -> io::Result<std::path::PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let path = rustix::fs::getpath(dir)?;
    Ok(std::path::PathBuf::from(std::ffi::OsString::from_vec(path.into_bytes())))
}

/// Elsewhere a directory's path cannot be had from its descriptor, and watching needs it.
#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
pub(crate) fn watch_path(_dir: &Dir) -> io::Result<std::path::PathBuf> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "watching needs the directory's path, which this system does not give for a descriptor",
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::cell::Cell;
    use std::io;

    use super::full_fsync_or_fsync;

    fn errno(code: rustix::io::Errno) -> io::Error {
        io::Error::from_raw_os_error(code.raw_os_error())
    }

    #[test]
    fn an_unsupported_full_fsync_falls_back_to_fsync() {
        for refusal in [rustix::io::Errno::NOTSUP, rustix::io::Errno::INVAL, rustix::io::Errno::NOTTY] {
            let fell_back = Cell::new(false);
            full_fsync_or_fsync(
                || Err(errno(refusal)),
                || {
                    fell_back.set(true);
                    Ok(())
                },
            )
            .unwrap();
            assert!(fell_back.get(), "{refusal:?} should fall back to fsync");
        }
    }

    #[test]
    fn a_failed_full_fsync_is_the_answer_and_is_not_retried() {
        for failure in [rustix::io::Errno::IO, rustix::io::Errno::NOSPC, rustix::io::Errno::BADF] {
            let fell_back = Cell::new(false);
            let error = full_fsync_or_fsync(
                || Err(errno(failure)),
                || {
                    fell_back.set(true);
                    Ok(())
                },
            )
            .unwrap_err();
            assert_eq!(error.raw_os_error(), Some(failure.raw_os_error()));
            assert!(!fell_back.get(), "{failure:?} must not be retried as fsync");
        }
    }

    #[test]
    fn a_full_fsync_that_succeeds_is_not_followed_by_fsync() {
        let fell_back = Cell::new(false);
        full_fsync_or_fsync(
            || Ok(()),
            || {
                fell_back.set(true);
                Ok(())
            },
        )
        .unwrap();
        assert!(!fell_back.get());
    }
}
