//! Linux: two locks on the lock file, taken in one order and released together, because
//! Linux keeps two separate lock lists that never see each other (flock(2), "NOTES"):
//!
//! 1. an open-file-description lock (`F_OFD_SETLK`, whole file), which conflicts with the
//!    classic `fcntl`/`lockf` locks of other processes (Python's `fcntl.lockf`,
//!    `fasteners`) and, unlike those, also with other OFD locks inside this process, so two
//!    threads that each open the lock file exclude each other;
//! 2. an `flock(LOCK_EX)`, which conflicts with `flock` users (Python's `filelock` and
//!    `portalocker`, the shell's `flock(1)`).
//!
//! Both belong to the open file description: closing the descriptor (dropping the
//! `DocumentLock`), or the death of the process, releases both at once.
//!
//! Why the order cannot deadlock: neither lock is ever waited for. `try_lock` asks for both
//! without blocking, always OFD first, and when the `flock` is busy it gives the OFD lock
//! back before it returns, so a writer that waits (in `lock.rs`'s backoff) holds nothing.
//! Two confine processes therefore can never each hold one half while wanting the other,
//! and a program that takes the two in the other order, blocking, is never waited on by a
//! confine that holds its other half. The fixed order only spares two confine writers from
//! taking one half each and both backing off: the second one meets the OFD lock first.
//!
//! On NFS (since Linux 2.6.12) and CIFS/SMB (since 5.5) the kernel emulates `flock` with a
//! whole-file `fcntl` byte-range lock. There an `flock` user's lock already conflicts with
//! the OFD lock, and our own `flock` would be a second `fcntl` lock of this same session,
//! which could conflict with the first: so on those filesystems the OFD lock alone is
//! taken, and it covers both kinds of user (`flock_is_emulated`).

use std::io;
use std::os::fd::AsFd;

use cap_std::fs::{Dir, File, MetadataExt};
use nix::fcntl::{FcntlArg, fcntl};
use nix::libc;
use rustix::fs::{FlockOperation, flock};

/// Where the holder's pid is written in the lock file: from the start (the lock is advisory).
pub(crate) const STAMP_OFFSET: u64 = 0;

/// The process-wide part of a lock; Linux needs none.
pub(crate) struct Gate;

/// Admits at once: OFD and `flock` locks already exclude threads of this process.
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

/// Tries to take both locks without waiting: `Ok(true)` holding both, `Ok(false)` holding
/// neither (someone holds one of them), an error holding neither.
pub(crate) fn try_lock(file: &File) -> io::Result<bool> {
    match fcntl(file.as_fd(), FcntlArg::F_OFD_SETLK(&whole_file(libc::F_WRLCK))) {
        Ok(_) => {}
        Err(nix::errno::Errno::EAGAIN | nix::errno::Errno::EACCES) => return Ok(false),
        Err(e) => return Err(io::Error::from(e)),
    }
    let flocked = match rustix::fs::fstatfs(file) {
        // `f_type` is i64 here but narrower on other Linux targets (32-bit, s390x).
        #[allow(clippy::unnecessary_cast)]
        Ok(statfs) if flock_is_emulated(statfs.f_type as i64) => Ok(true),
        Ok(_) => match flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(true),
            Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
            Err(e) => Err(io::Error::from(e)),
        },
        Err(e) => Err(io::Error::from(e)),
    };
    if !matches!(flocked, Ok(true)) {
        // Give the first half back: a writer that waits holds nothing (see the module doc).
        let _ = fcntl(file.as_fd(), FcntlArg::F_OFD_SETLK(&whole_file(libc::F_UNLCK)));
    }
    flocked
}

/// Whether the filesystem of `f_type` (`fstatfs`) emulates `flock` with `fcntl` locks, so
/// that the OFD lock alone excludes `flock` users: NFS and CIFS/SMB (`linux/magic.h`).
fn flock_is_emulated(f_type: i64) -> bool {
    const NFS_SUPER_MAGIC: i64 = 0x6969;
    const CIFS_SUPER_MAGIC: i64 = 0xFF53_4D42;
    const SMB2_SUPER_MAGIC: i64 = 0xFE53_4D42;
    const SMB_SUPER_MAGIC: i64 = 0x517B;
    // `f_type` is signed on some targets: a magic above 2^31 may come sign-extended.
    let f_type = f_type & 0xFFFF_FFFF;
    matches!(f_type, NFS_SUPER_MAGIC | CIFS_SUPER_MAGIC | SMB2_SUPER_MAGIC | SMB_SUPER_MAGIC)
}

/// Nothing to do: closing the descriptor, which follows, releases both locks.
pub(crate) fn unlock(_file: &File) {}

/// Who holds a lock that conflicts with either half: `Some(Some(pid))` for a classic
/// (`lockf`, `F_SETLK`) holder, as `F_GETLK` names it, or for an `flock` holder (a
/// `filelock`, `portalocker` or `flock(1)` user, or a confine writer), as `/proc/locks`
/// names it; `Some(None)` for a holder nobody names (an OFD lock alone, or an `flock` where
/// `/proc/locks` cannot be read); `None` if nobody holds one now.
pub(crate) fn holder(file: &File) -> Option<Option<u32>> {
    let posix = super::unix::posix_holder(file);
    if matches!(posix, Some(Some(_))) {
        return posix;
    }
    if let Some(pid) = flock_holder_in_proc_locks(file) {
        return Some(Some(pid));
    }
    if posix.is_some() {
        return Some(None);
    }
    // Nothing `/proc/locks` tells (unreadable, or the file's device numbered otherwise
    // there, as under some stacked filesystems): taking the `flock` and giving it back at
    // once decides. A writer that tries at that instant finds it held and backs off.
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {
            let _ = flock(file, FlockOperation::Unlock);
            None
        }
        Err(rustix::io::Errno::WOULDBLOCK) => Some(None),
        Err(_) => None,
    }
}

/// The pid of the process that took an `flock` on `file`'s inode, from `/proc/locks` (the
/// one place Linux names an `flock` holder; it reads system-wide lock state, not a path of
/// the user's). `None` if there is none, or the table cannot be read.
fn flock_holder_in_proc_locks(file: &File) -> Option<u32> {
    let metadata = file.metadata().ok()?;
    let dev = metadata.dev();
    let inode = format!("{:02x}:{:02x}:{}", rustix::fs::major(dev), rustix::fs::minor(dev), metadata.ino());
    flock_holder(&std::fs::read_to_string("/proc/locks").ok()?, &inode)
}

/// In the text of `/proc/locks`, the pid of a granted `FLOCK` on `inode` (`MAJ:MIN:INO`,
/// as the kernel prints it). A line reads `1: FLOCK  ADVISORY  WRITE 4634 fe:00:1001 0 EOF`;
/// a waiter's line has `->` after the number and holds nothing.
fn flock_holder(proc_locks: &str, inode: &str) -> Option<u32> {
    proc_locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            [_, "FLOCK", _, _, pid, on, ..] if *on == inode => pid.parse().ok().filter(|pid| *pid > 0),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{flock_holder, flock_is_emulated};

    #[test]
    fn nfs_and_cifs_emulate_flock_and_local_filesystems_do_not() {
        for emulated in [0x6969, 0xFF53_4D42, 0xFE53_4D42, 0x517B, 0xFF53_4D42_u32 as i32 as i64] {
            assert!(flock_is_emulated(emulated), "{emulated:#x}");
        }
        // ext4, xfs, btrfs, tmpfs, overlayfs, FUSE
        for native in [0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0x794C_7630, 0x6573_5546] {
            assert!(!flock_is_emulated(native), "{native:#x}");
        }
    }

    #[test]
    fn proc_locks_names_a_granted_flock_on_the_inode_only() {
        let table = "1: POSIX  ADVISORY  WRITE 4634 fe:00:10010894 0 EOF\n\
                     2: OFDLCK ADVISORY  WRITE -1 fe:00:10010893 0 EOF\n\
                     2: -> FLOCK  ADVISORY  WRITE 77 fe:00:10010893 0 EOF\n\
                     3: FLOCK  ADVISORY  WRITE 3282 fe:00:100108930 0 EOF\n\
                     4: FLOCK  ADVISORY  WRITE 4635 fe:00:10010893 0 EOF\n";
        assert_eq!(flock_holder(table, "fe:00:10010893"), Some(4635));
        assert_eq!(flock_holder(table, "fe:00:10010894"), None, "a POSIX lock is F_GETLK's to name");
        assert_eq!(flock_holder("", "fe:00:10010893"), None);
    }
}
