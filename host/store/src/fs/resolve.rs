//! Where a checked name lives inside the granted directory, or a clear refusal.
//!
//! The names' own rules are [`crate::name`]'s; this is what the filesystem adds. The parent
//! directories are opened through cap-std, which follows a symlink only while it stays
//! inside the granted directory; one that leads out is refused. The document itself must
//! not be a symlink (a rename would replace the link, not its target).

use std::io;

use cap_std::fs::Dir;

use super::sys;
use crate::error::{Error, Result};
use crate::name::{DirectoryName, DocumentName, invalid};

/// Where a document lives: its parent directory (a capability) and its file name there.
pub(crate) struct Location {
    /// The directory that holds the document, its lock file and its temp files.
    pub(crate) parent: Dir,
    /// The document's file name inside `parent`.
    pub(crate) file: String,
    /// The name as the caller gave it, for messages.
    pub(crate) name: String,
}

impl Location {
    /// The lock file's name inside `parent`: `<file>.lock`.
    pub(crate) fn lock_file(&self) -> String {
        format!("{}.lock", self.file)
    }

    /// The prefix of this document's temp files inside `parent`: `.<file>.`.
    pub(crate) fn temp_prefix(&self) -> String {
        format!(".{}.", self.file)
    }
}

/// Resolves a document name inside `root`.
pub(crate) fn document(root: &Dir, name: &DocumentName) -> Result<Location> {
    let parents: Vec<&str> = name.parents().collect();
    let (name, file) = (name.as_str(), name.file());
    let parent = open_parents(root, name, &parents)?;
    // Refused here, before a lock file is created beside it. Every later open also uses
    // O_NOFOLLOW, so a symlink planted after this check is refused there.
    if let Ok(metadata) = parent.symlink_metadata(file)
        && !metadata.is_file()
    {
        return Err(not_a_regular_file(name, metadata.file_type().is_symlink()));
    }
    Ok(Location { parent, file: file.to_owned(), name: name.to_owned() })
}

/// Resolves a directory name inside `root` (`""` is `root` itself).
pub(crate) fn directory(root: &Dir, name: &DirectoryName) -> Result<Dir> {
    let components: Vec<&str> = name.components().collect();
    open_parents(root, name.as_str(), &components)
}

fn open_parents(root: &Dir, name: &str, parents: &[&str]) -> Result<Dir> {
    if parents.is_empty() {
        return root.try_clone().map_err(|source| Error::Io {
            name: name.to_owned(),
            op: "clone directory handle",
            source,
        });
    }
    let path = parents.join("/");
    root.open_dir(&path).map_err(|source| match source.kind() {
        _ if is_escape(&source) => invalid(name, &format!("`{path}` leads outside the granted directory")),
        _ if sys::is_symlink_refusal(&source) => invalid(name, &format!("`{path}` is a symlink loop")),
        io::ErrorKind::NotFound => Error::NotFound { name: name.to_owned() },
        io::ErrorKind::NotADirectory => invalid(name, &format!("`{path}` is not a directory")),
        _ => Error::Io { name: name.to_owned(), op: "open parent directory", source },
    })
}

/// Whether cap-std refused a path because it would leave the granted directory. It makes
/// that refusal itself, as `PermissionDenied` with no OS error code (where the kernel
/// refuses, `EXDEV` from Linux's `openat2` or `ENOTCAPABLE` from FreeBSD's, cap-std
/// replaces its code with that refusal); a permission the system denies keeps its code
/// (`EACCES`, `ERROR_ACCESS_DENIED`). Told apart by that shape, not by cap-std's wording;
/// the tests pin the shape on every platform.
pub(crate) fn is_escape(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied && e.raw_os_error().is_none()
}

/// The refusal of a document name that holds a symlink, a directory or anything but a
/// regular file.
pub(crate) fn not_a_regular_file(name: &str, is_symlink: bool) -> Error {
    invalid(
        name,
        if is_symlink {
            "is a symlink; documents must be regular files (confine neither follows nor replaces links)"
        } else {
            "is not a regular file"
        },
    )
}

#[cfg(test)]
#[path = "tests/resolve.rs"]
mod tests;
