//! Watching a document on the filesystem: the platform's change notification (inotify,
//! FSEvents, ReadDirectoryChangesW, through `notify`) on the document's directory, the one
//! it is resolved to through the capability.
//!
//! A write replaces the document by a rename, so the file's own inode would go stale: the
//! watch is on the directory, and wakes for events that name the document (its creation,
//! a rename onto it, its removal, an in-place write by another program), for events on the
//! directory itself, and for any event the platform could not deliver in full (a queue
//! overflow asks for a rescan). Events of other entries (temp files, lock files, other
//! documents) and plain accesses (opens and reads, the watcher's own included) do not wake.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use super::resolve::Location;
use super::sys;
use crate::backend::BackendWatch;
use crate::error::{Error, Result};

/// A document's directory under watch.
pub(crate) struct FsWatch {
    /// Kept open: on Linux the watched path is this directory's descriptor.
    _location: Location,
    _watcher: RecommendedWatcher,
    events: Receiver<notify::Result<Event>>,
    directory: PathBuf,
    file: OsString,
    name: String,
}

impl FsWatch {
    /// Starts watching `location`'s directory: from now on, every change of the document
    /// reaches [`BackendWatch::wait`].
    pub(crate) fn start(location: Location) -> Result<FsWatch> {
        let name = location.name.clone();
        let failed = |op: &'static str, source: std::io::Error| Error::Io { name: name.clone(), op, source };
        let directory = sys::watch_path(&location.parent).map_err(|e| failed("find the directory to watch", e))?;
        let (sender, events) = channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            // The receiver is gone only once the watch is dropped: nobody is waiting.
            let _ = sender.send(event);
        })
        .map_err(|e| failed("start watching", notify_error(e)))?;
        watcher
            .watch(&directory, RecursiveMode::NonRecursive)
            .map_err(|e| failed("watch the document's directory", notify_error(e)))?;
        let file = OsString::from(&location.file);
        Ok(FsWatch { _location: location, _watcher: watcher, events, directory, file, name })
    }

    /// Whether `event` may be a change of the document.
    fn concerns(&self, event: &notify::Result<Event>) -> bool {
        let Ok(event) = event else { return true };
        if event.need_rescan() || event.paths.is_empty() {
            return true;
        }
        if matches!(event.kind, EventKind::Access(_)) {
            return false;
        }
        event.paths.iter().any(|path| self.names_the_document_or_its_directory(path))
    }

    fn names_the_document_or_its_directory(&self, path: &Path) -> bool {
        let in_directory = path.parent().is_some_and(|parent| same_place(parent, &self.directory));
        same_place(path, &self.directory) || !in_directory || path.file_name() == Some(self.file.as_os_str())
    }
}

impl BackendWatch for FsWatch {
    fn wait(&mut self, timeout: Duration) -> Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = match self.events.recv_timeout(left) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => return Ok(false),
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Error::Io {
                        name: self.name.clone(),
                        op: "watch the document",
                        source: std::io::Error::other("the change notification stopped"),
                    });
                }
            };
            if self.concerns(&event) {
                // Whatever else is queued is coalesced into this wake.
                while self.events.try_recv().is_ok() {}
                return Ok(true);
            }
        }
    }
}

/// Whether two paths name the same place as the notifier spells them (it may add or drop
/// a trailing separator).
fn same_place(a: &Path, b: &Path) -> bool {
    a.components().eq(b.components())
}

fn notify_error(e: notify::Error) -> std::io::Error {
    match e.kind {
        notify::ErrorKind::Io(source) => source,
        other => std::io::Error::other(format!("{other:?}")),
    }
}
