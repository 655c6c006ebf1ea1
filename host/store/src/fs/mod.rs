//! The filesystem backend: documents as files in one capability directory
//! ([`cap_std::fs::Dir`]), an exclusive lock on `<name>.lock` beside each (an OFD lock and an
//! `flock` on Linux, `flock`, a classic fcntl lock or `LockFileEx` elsewhere), and the write
//! protocol of `atomic.rs` (temp
//! file, fsync, rename, directory fsync).
//!
//! - `resolve`: a checked name to a place inside the directory (symlinks out refused).
//! - `lock`: the document's exclusive lock.
//! - `sys/`: what differs between platforms (one file per lock primitive, one per OS family).
//! - `atomic`: atomic, durable replacement and removal.
//! - `step`: the one seam every filesystem step passes, for interruption and fault injection.
//! - `watch`: change notification on a document's directory.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use cap_fs_ext::{FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::{Dir, OpenOptions};

use crate::backend::{Backend, BackendSession, BackendWatch, LockStatus};
use crate::content;
use crate::error::{Error, IoContext, Result};
use crate::name::{self, DirectoryName, DocumentName};

mod atomic;
mod lock;
mod resolve;
mod step;
mod sys;
mod watch;

use lock::DocumentLock;
use resolve::Location;
use step::Seam;
pub use step::{Step, StepGate};

/// Documents in one directory: the only directory this backend will ever touch.
pub struct Filesystem {
    root: Dir,
    seam: Seam,
}

impl Filesystem {
    /// The documents of `root`.
    pub fn new(root: Dir) -> Filesystem {
        Filesystem { root, seam: Seam::default() }
    }

    /// The same, with `gate` seeing every filesystem step of its reads and writes before it
    /// runs (see [`StepGate`]).
    pub fn with_gate(self, gate: Arc<dyn StepGate>) -> Filesystem {
        Filesystem { seam: Seam::new(gate), ..self }
    }

    fn lock(&self, name: &DocumentName, timeout: Duration) -> Result<(Location, DocumentLock)> {
        let location = resolve::document(&self.root, name)?;
        let lock = DocumentLock::acquire(&location, timeout, &self.seam)?;
        Ok((location, lock))
    }
}

/// The directory's handle (never its path) and whether a [`StepGate`] sees the steps.
impl std::fmt::Debug for Filesystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filesystem").field("root", &self.root).field("gated", &self.seam.is_gated()).finish()
    }
}

impl Backend for Filesystem {
    fn read(&self, name: &DocumentName, limit: u64) -> Result<Option<Vec<u8>>> {
        read_at(&resolve::document(&self.root, name)?, limit, &self.seam)
    }

    fn open_session(&self, name: &DocumentName, timeout: Duration, limit: u64) -> Result<Box<dyn BackendSession>> {
        let (location, lock) = self.lock(name, timeout)?;
        Ok(Box::new(FsSession { location, _lock: lock, limit, seam: self.seam.clone() }))
    }

    fn remove(&self, name: &DocumentName, timeout: Duration) -> Result<()> {
        let (location, _lock) = self.lock(name, timeout)?;
        atomic::remove(&location, &self.seam)
    }

    fn list(&self, directory: &DirectoryName) -> Result<Vec<String>> {
        let shown = directory.as_str();
        let dir = resolve::directory(&self.root, directory)?;
        let mut names = Vec::new();
        for entry in dir.entries().context(shown, "list directory")? {
            let entry = entry.context(shown, "list directory")?;
            let is_file = entry.file_type().context(shown, "stat directory entry")?.is_file();
            let Ok(file) = entry.file_name().into_string() else { continue };
            if is_file && !name::is_lock_name(&file) && !name::is_temp_name(&file) {
                names.push(directory.join(&file));
            }
        }
        names.sort();
        Ok(names)
    }

    fn lock_status(&self, name: &DocumentName) -> Result<LockStatus> {
        lock::status(&resolve::document(&self.root, name)?)
    }

    fn watch(&self, name: &DocumentName) -> Result<Box<dyn BackendWatch>> {
        Ok(Box::new(watch::FsWatch::start(resolve::document(&self.root, name)?)?))
    }
}

/// A held lock on a document, and where the document is.
struct FsSession {
    location: Location,
    _lock: DocumentLock,
    limit: u64,
    seam: Seam,
}

impl BackendSession for FsSession {
    fn current(&self) -> Result<Option<Vec<u8>>> {
        read_at(&self.location, self.limit, &self.seam)
    }

    fn commit(self: Box<Self>, content: &str) -> Result<()> {
        atomic::replace(&self.location, content.as_bytes(), &self.seam)
    }
}

/// The document's bytes, `None` if there is none; refuses anything but a regular file, and
/// one over `limit` bytes by its size, before reading it.
fn read_at(location: &Location, limit: u64, seam: &Seam) -> Result<Option<Vec<u8>>> {
    let name = &location.name;
    let file_name = location.file.as_str();
    let mut options = OpenOptions::new();
    // Non-blocking: a FIFO planted at the name must not hang the reader.
    sys::nonblocking(options.read(true)).follow(FollowSymlinks::No);
    let opened = seam
        .before(Step::OpenDocument { file: file_name })
        .and_then(|()| location.parent.open_with(file_name, &options));
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if sys::is_symlink_refusal(&e) => return Err(resolve::not_a_regular_file(name, true)),
        Err(source) => return Err(Error::Io { name: name.clone(), op: "open document", source }),
    };
    let metadata = seam
        .before(Step::StatDocument { file: file_name })
        .and_then(|()| file.metadata())
        .context(name, "stat document")?;
    if !metadata.is_file() {
        return Err(resolve::not_a_regular_file(name, false));
    }
    let size = usize::try_from(metadata.len()).unwrap_or(usize::MAX);
    content::within(name, size, limit)?;
    let mut bytes = Vec::with_capacity(size);
    // `take` bounds a file that grows between the stat and the read: the repository
    // refuses what is over the limit.
    seam.before(Step::ReadDocument { file: file_name })
        .and_then(|()| file.take(limit.saturating_add(1)).read_to_end(&mut bytes))
        .context(name, "read document")?;
    Ok(Some(bytes))
}
