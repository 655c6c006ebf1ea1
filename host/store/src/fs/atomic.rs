//! Atomic, durable replacement of a document. The caller holds the document's lock.
//!
//! ```text
//! open(".<name>.<random>.tmp", O_CREAT|O_EXCL|O_NOFOLLOW, mode of <name> or 0644)
//! write(tmp, content); fchmod(tmp, mode of <name>); fsync(tmp)
//! rename(tmp, <name>)          -- readers now see the new content, never a mix
//! fsync(directory)             -- the rename survives a power loss
//! ```
//!
//! Any failure before the rename removes the temp file and leaves the document as it was.
//! A failure of the directory fsync is reported as [`Error::NotDurable`]: the new content is
//! in place but might not survive a power loss. An fsync error is never retried: after a
//! failed fsync the kernel may have dropped the dirty pages, so a second fsync that
//! "succeeds" proves nothing.

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::OpenOptions;

use super::resolve::{self, Location};
use super::step::{Seam, Step};
use super::sys;
use crate::error::{Error, IoContext, Result};
use crate::name;

/// Replaces the document at `location` with `content`.
pub(crate) fn replace(location: &Location, content: &[u8], seam: &Seam) -> Result<()> {
    let name = &location.name;
    sweep_temp_files(location, seam);
    let mode = existing_mode(location, seam)?;
    let (temp_name, mut temp) = create_temp(location, seam)?;
    let file = temp_name.as_str();
    // `move`: the temp file is closed when this ends, before a failure removes it.
    let written = (move || {
        seam.before(Step::WriteTemp { file, data: content })
            .and_then(|()| temp.write_all(content))
            .context(name, "write temp file")?;
        if let Some(mode) = mode {
            seam.before(Step::SetTempMode { file, mode })
                .and_then(|()| sys::set_mode(&temp, mode))
                .context(name, "set temp file mode")?;
        }
        seam.before(Step::SyncTemp { file }).and_then(|()| sys::sync(&temp)).context(name, "fsync temp file")?;
        seam.before(Step::Rename { from: file, to: &location.file })
            .and_then(|()| sys::replace(&location.parent, &temp, file, &location.file))
            .context(name, "rename temp file over document")
    })();
    if let Err(e) = written {
        // Best effort: if this fails too, the next writer's sweep removes the file.
        if seam.before(Step::RemoveTemp { file }).is_ok() {
            let _ = location.parent.remove_file(file);
        }
        return Err(e);
    }
    sync_directory(location, seam).map_err(|source| Error::NotDurable { name: name.clone(), source })
}

/// Removes the document, durably. The lock file stays.
pub(crate) fn remove(location: &Location, seam: &Seam) -> Result<()> {
    let removed = seam
        .before(Step::RemoveDocument { file: &location.file })
        .and_then(|()| location.parent.remove_file(&location.file));
    removed.map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => Error::NotFound { name: location.name.clone() },
        _ => Error::Io { name: location.name.clone(), op: "remove document", source },
    })?;
    sync_directory(location, seam).map_err(|source| Error::NotDurable { name: location.name.clone(), source })
}

/// fsyncs the directory that holds the document. cap-std's directory handles are
/// `O_PATH` on Linux and cannot be fsynced, so `.` is opened for reading. Windows cannot
/// fsync a directory: its replace writes through instead (`sys/windows.rs`).
fn sync_directory(location: &Location, seam: &Seam) -> io::Result<()> {
    if !sys::SYNCS_DIRECTORIES {
        return Ok(());
    }
    seam.before(Step::OpenDirectory)?;
    let dir = location.parent.open_with(".", OpenOptions::new().read(true))?;
    seam.before(Step::SyncDirectory)?;
    sys::sync(&dir)
}

/// The permission bits of the existing document, to give the new one the same; `None`
/// when there is no document yet (the temp file's 0644, less the umask, stays).
fn existing_mode(location: &Location, seam: &Seam) -> Result<Option<u32>> {
    let metadata = seam
        .before(Step::StatDocument { file: &location.file })
        .and_then(|()| location.parent.symlink_metadata(&location.file));
    match metadata {
        Ok(metadata) if metadata.is_file() => Ok(sys::mode_of(&metadata)),
        Ok(metadata) => Err(resolve::not_a_regular_file(&location.name, metadata.file_type().is_symlink())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io { name: location.name.clone(), op: "stat document", source }),
    }
}

fn create_temp(location: &Location, seam: &Seam) -> Result<(String, cap_std::fs::File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut options = OpenOptions::new();
    sys::temp_file(sys::create_mode(options.write(true).create_new(true), 0o644)).follow(FollowSymlinks::No);
    loop {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let unique = (u64::from(std::process::id()) << 32 | u64::from(nanos))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(COUNTER.fetch_add(1, Ordering::Relaxed));
        let temp_name = format!("{}{unique:016x}.tmp", location.temp_prefix());
        match seam
            .before(Step::CreateTemp { file: &temp_name })
            .and_then(|()| location.parent.open_with(&temp_name, &options))
        {
            Ok(file) => return Ok((temp_name, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(Error::Io { name: location.name.clone(), op: "create temp file", source }),
        }
    }
}

/// Removes this document's temp files left by writers that died mid-write. Only called
/// with the document's lock held: every live writer holds that lock while its temp file
/// exists, so any temp file seen now belongs to a dead one. Best effort.
fn sweep_temp_files(location: &Location, seam: &Seam) {
    let prefix = location.temp_prefix();
    let Ok(entries) = seam.before(Step::ListDirectory).and_then(|()| location.parent.entries()) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else { continue };
        if let Some(rest) = file_name.strip_prefix(&prefix) {
            // `.<file>.<16 hex>.tmp` exactly: not `.<file>.other.tmp` of another document.
            let is_ours =
                rest.len() == 20 && rest.ends_with(".tmp") && rest.bytes().take(16).all(|b| b.is_ascii_hexdigit());
            if is_ours
                && name::is_temp_name(file_name)
                && seam.before(Step::RemoveStaleTemp { file: file_name }).is_ok()
            {
                let _ = location.parent.remove_file(file_name);
            }
        }
    }
}

#[cfg(test)]
#[path = "tests/atomic.rs"]
mod tests;
