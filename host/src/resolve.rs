//! Turning a caller's document name into a place inside the granted directory, or a clear
//! refusal.
//!
//! A name is a relative path of plain components separated by `/`. Refused, before any
//! filesystem call: the empty name, NUL bytes, absolute paths, `.` and `..` components,
//! empty components, file names over [`MAX_FILE_NAME`] bytes, and the names confine uses
//! for itself (`*.lock`, `.*.tmp`). The parent directories are then opened through cap-std,
//! which follows a symlink only while it stays inside the granted directory; one that
//! leads out is refused. The document itself must not be a symlink (a rename would replace
//! the link, not its target).

use std::io;

use cap_std::fs::Dir;

use crate::error::{Error, Result};

/// The longest file name a document may have, in bytes: the temp file beside it adds 22
/// bytes and must still fit the usual 255-byte limit of a file name.
pub const MAX_FILE_NAME: usize = 200;

/// The longest whole name, in bytes.
const MAX_NAME: usize = 1024;

/// The longest directory name, in bytes: the usual limit of a file name (NAME_MAX).
const MAX_COMPONENT: usize = 255;

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
pub(crate) fn document(root: &Dir, name: &str) -> Result<Location> {
    let components = components(name, false)?;
    let Some((file, parents)) = components.split_last() else {
        return Err(invalid(name, "the empty name is not a document"));
    };
    if file.len() > MAX_FILE_NAME {
        return Err(invalid(name, &format!("the file name is longer than {MAX_FILE_NAME} bytes")));
    }
    if file.ends_with(".lock") {
        return Err(invalid(name, "names ending in `.lock` are lock files, not documents"));
    }
    if is_temp_name(file) {
        return Err(invalid(name, "names of the form `.*.tmp` are temp files, not documents"));
    }
    let parent = open_parents(root, name, parents)?;
    // Refused here, before a lock file is created beside it. Every later open also uses
    // O_NOFOLLOW, so a symlink planted after this check is refused there.
    if let Ok(metadata) = parent.symlink_metadata(file)
        && !metadata.is_file()
    {
        return Err(not_a_regular_file(name, metadata.file_type().is_symlink()));
    }
    Ok(Location { parent, file: (*file).to_owned(), name: name.to_owned() })
}

/// Resolves a directory name inside `root` (`""` is `root` itself).
pub(crate) fn directory(root: &Dir, name: &str) -> Result<Dir> {
    let components = components(name, true)?;
    open_parents(root, name, &components)
}

/// Whether `file` is one of confine's temp-file names.
pub(crate) fn is_temp_name(file: &str) -> bool {
    file.starts_with('.') && file.ends_with(".tmp")
}

/// Whether `file` is one of confine's lock-file names.
pub(crate) fn is_lock_name(file: &str) -> bool {
    file.ends_with(".lock")
}

fn components(name: &str, empty_is_root: bool) -> Result<Vec<&str>> {
    if name.is_empty() {
        return if empty_is_root { Ok(Vec::new()) } else { Err(invalid(name, "the empty name is not a document")) };
    }
    if name.contains('\0') {
        return Err(invalid(name, "names may not contain a NUL byte"));
    }
    if name.len() > MAX_NAME {
        return Err(invalid(name, &format!("the name is longer than {MAX_NAME} bytes")));
    }
    if name.starts_with('/') {
        return Err(invalid(name, "absolute paths are refused: names are relative to the granted directory"));
    }
    let components: Vec<&str> = name.split('/').collect();
    for component in &components {
        match *component {
            "" => return Err(invalid(name, "names may not have empty components (`//` or a trailing `/`)")),
            "." | ".." => return Err(invalid(name, "`.` and `..` are not allowed in names")),
            _ => {}
        }
    }
    Ok(components)
}

fn open_parents(root: &Dir, name: &str, parents: &[&str]) -> Result<Dir> {
    if parents.is_empty() {
        return root.try_clone().map_err(|source| Error::Io {
            name: name.to_owned(),
            op: "clone directory handle",
            source,
        });
    }
    if parents.iter().any(|parent| parent.len() > MAX_COMPONENT) {
        return Err(invalid(name, &format!("a directory name is longer than {MAX_COMPONENT} bytes")));
    }
    let path = parents.join("/");
    root.open_dir(&path).map_err(|source| match source.kind() {
        _ if is_escape(&source) => invalid(name, &format!("`{path}` leads outside the granted directory")),
        _ if is_symlink_refusal(&source) => invalid(name, &format!("`{path}` is a symlink loop")),
        io::ErrorKind::NotFound => Error::NotFound { name: name.to_owned() },
        io::ErrorKind::NotADirectory => invalid(name, &format!("`{path}` is not a directory")),
        _ => Error::Io { name: name.to_owned(), op: "open parent directory", source },
    })
}

/// Whether cap-std refused a path because it would leave the granted directory (it reports
/// that as `PermissionDenied` with this message).
pub(crate) fn is_escape(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied && e.to_string().contains("outside of the filesystem")
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

/// Whether an open failed with `ELOOP`: a symlink met where `O_NOFOLLOW` forbids one, or a
/// symlink loop.
pub(crate) fn is_symlink_refusal(e: &io::Error) -> bool {
    e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

fn invalid(name: &str, reason: &str) -> Error {
    Error::InvalidPath { name: name.to_owned(), reason: reason.to_owned() }
}

#[cfg(test)]
#[path = "tests/resolve.rs"]
mod tests;
