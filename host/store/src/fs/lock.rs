//! The exclusive lock of one document: locks on `<name>.lock` beside it, the kinds that
//! other programs take on that file on this platform (`sys/mod.rs` has the table).
//!
//! The lock file is created when missing (mode 0644 before the umask, `O_NOFOLLOW`, never
//! truncated) and is never deleted: deleting it would let one process lock the old inode
//! while another locks a new one, and both would believe they hold the lock. A symlink, a
//! FIFO or anything but a regular file at the lock file's name is refused.
//!
//! A lock file with more than one link is refused too: another user could have made it a
//! hard link to a file of theirs, which stamping the holder's pid would overwrite.
//!
//! Locks are advisory: they exclude confine, and any program that locks the same file with
//! `lockf`/`fcntl` or `flock` (on Windows, `msvcrt.locking` or `LockFileEx` on byte 0), but
//! not a program that writes the document without locking.
//!
//! On Linux the locks belong to the open file description. A process forked while the
//! descriptor is open shares it until it execs or exits, so when another thread spawns a
//! process at the moment a session ends, the lock can outlive the session by that fork to
//! exec window (never end early). A waiting writer's backoff absorbs this.

use std::io;
use std::time::{Duration, Instant, SystemTime};

use cap_fs_ext::{FollowSymlinks, MetadataExt, OpenOptionsFollowExt};
use cap_std::fs::{File, OpenOptions};

use super::resolve::Location;
use super::step::{Seam, Step};
use super::sys;
use crate::backend::LockStatus;
use crate::error::{Error, IoContext, Result};

/// A held lock. Dropping it releases the lock (closing the descriptor drops every lock it
/// holds; the kernel does the same if the process dies).
pub(crate) struct DocumentLock {
    // Field order matters: the descriptor is closed (releasing its locks) before the
    // process-wide gate admits another thread.
    file: File,
    _gate: sys::Gate,
}

impl Drop for DocumentLock {
    fn drop(&mut self) {
        // Where closing is not enough (Windows), the lock is released here first.
        sys::unlock(&self.file);
    }
}

impl DocumentLock {
    /// Waits up to `timeout` for the document's lock, polling with exponential backoff and
    /// jitter (50 µs doubling to 5 ms). Short, because a lock is usually held for one write
    /// (two fsyncs, about 0.5 ms on this project's test machine): a waiter asleep for longer
    /// than that leaves the lock idle, where a blocked `lockf` would be woken at once. A
    /// blocking wait itself would need a signal to end at the timeout.
    pub(crate) fn acquire(location: &Location, timeout: Duration, seam: &Seam) -> Result<DocumentLock> {
        let name = &location.name;
        let lock_file = location.lock_file();
        let deadline = Instant::now() + timeout;
        let mut backoff = Backoff::new();
        let gate = loop {
            if let Some(gate) = sys::enter_gate(&location.parent, &lock_file).context(name, "enter lock gate")? {
                break gate;
            }
            if !backoff.wait_until(deadline) {
                // Another thread of this process holds the lock (or waits for it behind
                // another process): name this process, as the kernel would.
                let mut error = timed_out(location, timeout, None);
                if let Error::LockTimeout { holder, .. } = &mut error {
                    *holder = Some(std::process::id());
                }
                return Err(error);
            }
        };
        let file = open_lock_file(location, seam)?;
        loop {
            if seam
                .before(Step::TryLock { file: &lock_file })
                .and_then(|()| sys::try_lock(&file))
                .context(name, "lock")?
            {
                stamp_holder(&file, &lock_file, seam);
                return Ok(DocumentLock { file, _gate: gate });
            }
            if !backoff.wait_until(deadline) {
                return Err(timed_out(location, timeout, Some(&file)));
            }
        }
    }
}

/// Reports on the lock of `location` without taking it, creating nothing.
pub(crate) fn status(location: &Location) -> Result<LockStatus> {
    let name = &location.name;
    let lock_file = location.lock_file();
    let free = LockStatus::FREE;
    // Through the gate, as a writer goes: where locks belong to the process (classic
    // locks), closing the descriptor opened below would drop another thread's lock. A gate
    // that another thread of this process holds means that thread holds the lock (or is
    // about to take it, once another process lets go).
    let Some(_gate) = sys::enter_gate(&location.parent, &lock_file).context(name, "enter lock gate")? else {
        let stamped = location.parent.symlink_metadata(&lock_file).ok().and_then(|m| m.modified().ok());
        return Ok(LockStatus::held(Some(std::process::id()), stamped.map(|t| t.into_std())));
    };
    let mut options = OpenOptions::new();
    sys::nonblocking(options.read(true)).follow(FollowSymlinks::No);
    let file = match location.parent.open_with(&lock_file, &options) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(free),
        Err(e) if sys::is_symlink_refusal(&e) => {
            return Err(Error::InvalidPath {
                name: name.clone(),
                reason: format!("the lock file `{lock_file}` is a symlink; refusing to follow it"),
            });
        }
        Err(source) => return Err(Error::Io { name: name.clone(), op: "open lock file", source }),
    };
    if !file.metadata().context(name, "stat lock file")?.is_file() {
        return Err(Error::InvalidPath {
            name: name.clone(),
            reason: format!("the lock file `{lock_file}` is not a regular file"),
        });
    }
    let stamped_at = || file.metadata().ok().and_then(|m| m.modified().ok()).map(|t| t.into_std());
    Ok(match sys::holder(&file) {
        None => free,
        // A holder the kernel names: since when is known if it is the one that stamped the
        // file (a confine writer, named through its `flock` on Linux).
        Some(Some(pid)) => {
            LockStatus::held(Some(pid), if read_stamped_pid(&file) == Some(pid) { stamped_at() } else { None })
        }
        Some(None) => LockStatus::held(read_stamped_pid(&file), stamped_at()),
    })
}

/// Opens (creating if missing) the lock file, refusing anything but a regular file.
fn open_lock_file(location: &Location, seam: &Seam) -> Result<File> {
    let name = &location.name;
    let lock_file = location.lock_file();
    let mut options = OpenOptions::new();
    // Non-blocking: a FIFO planted at the name must not block the open.
    sys::nonblocking(sys::create_mode(options.read(true).write(true).create(true), 0o644)).follow(FollowSymlinks::No);
    let opened =
        seam.before(Step::OpenLock { file: &lock_file }).and_then(|()| location.parent.open_with(&lock_file, &options));
    let refused =
        |what: &str| Error::InvalidPath { name: name.clone(), reason: format!("the lock file `{lock_file}` {what}") };
    let file = opened.map_err(|source| match () {
        _ if sys::is_symlink_refusal(&source) => refused("is a symlink; refusing to follow it"),
        // A directory, or a socket or device, planted at the name.
        _ if sys::is_not_a_file_refusal(&source) => refused("is not a regular file"),
        _ => Error::Io { name: name.clone(), op: "open lock file", source },
    })?;
    let metadata = file.metadata().context(name, "stat lock file")?;
    if !metadata.is_file() {
        return Err(refused("is not a regular file"));
    }
    if metadata.nlink() != 1 {
        return Err(refused(&format!(
            "has {} hard links; refusing to write into a file shared with another name",
            metadata.nlink()
        )));
    }
    Ok(file)
}

/// Writes our pid into the lock file (which also stamps its mtime), so that a writer who
/// times out, and a person looking, can tell who holds the lock and since when. Only
/// diagnostics: a failure here does not fail the lock.
fn stamp_holder(file: &File, lock_file: &str, seam: &Seam) {
    let text = format!("{}\n", std::process::id());
    if seam.before(Step::StampLock { file: lock_file }).is_ok()
        && sys::write_at(file, text.as_bytes(), sys::STAMP_OFFSET).is_ok()
    {
        let _ = file.set_len(sys::STAMP_OFFSET + text.len() as u64);
    }
}

fn timed_out(location: &Location, timeout: Duration, file: Option<&File>) -> Error {
    let holder = file.and_then(|file| match sys::holder(file)? {
        Some(pid) => Some(pid),
        // A holder the kernel does not name (an OFD lock): a confine holder wrote its pid.
        None => read_stamped_pid(file),
    });
    Error::LockTimeout { name: location.name.clone(), lock: location.lock_file(), timeout, holder }
}

fn read_stamped_pid(file: &File) -> Option<u32> {
    let mut buffer = [0u8; 32];
    let length = sys::read_at(file, &mut buffer, sys::STAMP_OFFSET).ok()?;
    std::str::from_utf8(&buffer[..length]).ok()?.trim().parse().ok()
}

/// Exponential backoff with jitter, so that waiters do not wake in lockstep.
struct Backoff {
    delay: Duration,
    seed: u64,
}

impl Backoff {
    const FIRST: Duration = Duration::from_micros(50);
    const MAX: Duration = Duration::from_millis(5);

    fn new() -> Backoff {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
        Backoff { delay: Self::FIRST, seed: nanos ^ (u64::from(std::process::id()) << 32) | 1 }
    }

    /// Sleeps for the next delay, cut at `deadline`; `false` if the deadline has passed.
    fn wait_until(&mut self, deadline: Instant) -> bool {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        // xorshift64: cheap, and good enough to spread waiters apart.
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let jitter = 0.5 + (self.seed % 1000) as f64 / 1000.0; // 0.5x to 1.5x
        let sleep = self.delay.mul_f64(jitter).min(deadline - now);
        std::thread::sleep(sleep);
        self.delay = (self.delay * 2).min(Self::MAX);
        true
    }
}

#[cfg(test)]
#[path = "tests/lock.rs"]
mod tests;
