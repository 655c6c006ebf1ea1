//! Document names: one set of rules for every backend, checked here and nowhere else.
//!
//! A name is a relative path of plain components separated by `/` (`app.json`,
//! `services/web.json`). Refused: the empty name, NUL bytes, absolute paths, `.` and `..`
//! components, empty components, names over 1024 bytes, directory names over 255 bytes, file
//! names over [`MAX_FILE_NAME`] bytes, and the names confine uses for itself beside a
//! document (`*.lock`, `.*.tmp`, in any case).
//!
//! Also refused, on every platform, what Windows cannot hold, so that a store can move
//! between systems: the characters `\ : * ? " < > |` and control characters (`\` is a
//! separator there, `:` names an alternate data stream), components that end in a dot or a
//! space (Windows drops those, so `a.json.` would be `a.json`), and the reserved device
//! names (`CON`, `PRN`, `AUX`, `NUL`, `COM1`-`COM9`, `LPT1`-`LPT9`, in any case and with any
//! extension: `nul.json` is the null device there). A [`DocumentName`] or [`DirectoryName`] can only be
//! made by these rules, so a backend is never handed a name that broke them. What a backend
//! checks on top is its own (the filesystem backend: symlinks out of the directory, files
//! that are not regular).

use crate::error::{Error, Result};

/// The longest file name a document may have, in bytes: the temp file beside it adds 22
/// bytes and must still fit the usual 255-byte limit of a file name.
pub const MAX_FILE_NAME: usize = 200;

/// The longest whole name, in bytes.
const MAX_NAME: usize = 1024;

/// The longest directory name, in bytes: the usual limit of a file name (NAME_MAX).
const MAX_COMPONENT: usize = 255;

/// The name of a document that passed the rules of this module.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentName {
    name: String,
}

impl DocumentName {
    /// Checks `name` against the rules.
    ///
    /// # Errors
    /// [`Error::InvalidPath`], naming the name and the rule it breaks.
    pub fn parse(name: &str) -> Result<DocumentName> {
        let components = components(name, false)?;
        let Some((file, parents)) = components.split_last() else {
            return Err(invalid(name, "the empty name is not a document"));
        };
        if file.len() > MAX_FILE_NAME {
            return Err(invalid(name, &format!("the file name is longer than {MAX_FILE_NAME} bytes")));
        }
        if is_lock_name(file) {
            return Err(invalid(name, "names ending in `.lock` are lock files, not documents"));
        }
        if is_temp_name(file) {
            return Err(invalid(name, "names of the form `.*.tmp` are temp files, not documents"));
        }
        check_directory_lengths(name, parents)?;
        Ok(DocumentName { name: name.to_owned() })
    }

    /// The name as the caller gave it.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The last component: the document's file name in its directory.
    pub fn file(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// The directories the document is in, outermost first (none at the top level).
    pub fn parents(&self) -> impl Iterator<Item = &str> {
        let mut components: Vec<&str> = self.name.split('/').collect();
        components.pop();
        components.into_iter()
    }

    /// The directory that holds the document, as a name (`""` at the top level).
    pub fn directory(&self) -> &str {
        self.name.rsplit_once('/').map_or("", |(directory, _)| directory)
    }
}

impl std::fmt::Display for DocumentName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// The name of a directory of documents that passed the rules; `""` is the top level.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirectoryName {
    name: String,
}

impl DirectoryName {
    /// Checks `name` against the rules (the empty name is the top level).
    ///
    /// # Errors
    /// [`Error::InvalidPath`], naming the name and the rule it breaks.
    pub fn parse(name: &str) -> Result<DirectoryName> {
        let components = components(name, true)?;
        check_directory_lengths(name, &components)?;
        Ok(DirectoryName { name: name.to_owned() })
    }

    /// The name as the caller gave it.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Its components, outermost first (none for the top level).
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.name.split('/').filter(|component| !component.is_empty())
    }

    /// The name of `file` inside this directory, as a document name would give it.
    pub fn join(&self, file: &str) -> String {
        if self.name.is_empty() { file.to_owned() } else { format!("{}/{file}", self.name) }
    }
}

/// Whether `file` is one of confine's temp-file names (`.*.tmp`, in any case: on a
/// case-insensitive filesystem `.a.TMP` is `.a.tmp`). No [`DocumentName`] is one; a
/// backend that lists the files of a directory leaves these out, as it does lock files
/// ([`is_lock_name`]).
pub fn is_temp_name(file: &str) -> bool {
    file.starts_with('.') && ends_with_ignoring_case(file, ".tmp")
}

/// Whether `file` is one of confine's lock-file names (`*.lock`, in any case). No
/// [`DocumentName`] ends so, which keeps `<name>.lock` free for the document's lock beside
/// it on the filesystem; a backend that lists the files of a directory
/// ([`Backend::list`](crate::Backend::list)) leaves these out.
pub fn is_lock_name(file: &str) -> bool {
    ends_with_ignoring_case(file, ".lock")
}

fn ends_with_ignoring_case(file: &str, suffix: &str) -> bool {
    file.len() >= suffix.len() && file.as_bytes()[file.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Why Windows cannot hold `component` as a file or directory name, if it cannot.
fn windows_refusal(component: &str) -> Option<String> {
    if let Some(c) =
        component.chars().find(|c| matches!(c, '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control())
    {
        return Some(format!(
            "{c:?} is not allowed in names (Windows cannot hold it: `\\` separates, `:` names a data stream)"
        ));
    }
    if component.ends_with('.') || component.ends_with(' ') {
        return Some(format!("`{component}` ends in a dot or a space, which Windows drops from names"));
    }
    let stem = component.split('.').next().unwrap_or(component).trim_end_matches(' ');
    let reserved = ["CON", "PRN", "AUX", "NUL"].iter().any(|device| stem.eq_ignore_ascii_case(device))
        || (stem.len() == 4
            && (stem.as_bytes()[..3].eq_ignore_ascii_case(b"COM")
                || stem.as_bytes()[..3].eq_ignore_ascii_case(b"LPT"))
            && matches!(stem.as_bytes()[3], b'1'..=b'9'));
    reserved.then(|| format!("`{stem}` is a device name on Windows, whatever the extension"))
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
            _ => {
                if let Some(reason) = windows_refusal(component) {
                    return Err(invalid(name, &reason));
                }
            }
        }
    }
    Ok(components)
}

fn check_directory_lengths(name: &str, directories: &[&str]) -> Result<()> {
    if directories.iter().any(|directory| directory.len() > MAX_COMPONENT) {
        return Err(invalid(name, &format!("a directory name is longer than {MAX_COMPONENT} bytes")));
    }
    Ok(())
}

pub(crate) fn invalid(name: &str, reason: &str) -> Error {
    Error::InvalidPath { name: name.to_owned(), reason: reason.to_owned() }
}

#[cfg(test)]
#[path = "tests/name.rs"]
mod tests;
