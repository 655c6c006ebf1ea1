//! The domain's errors: one enum, each case with a sentence that names the document and,
//! where there is one, the key.

use std::fmt;

/// What went wrong, in the terms of the `config-service` interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The document or the key does not exist.
    NotFound,
    /// The document name was refused by the repository.
    InvalidPath,
    /// The key path does not parse.
    InvalidKey,
    /// The value, delta or patch given is not acceptable.
    InvalidValue,
    /// A value on the path has the wrong type, or an integer would overflow.
    TypeMismatch,
    /// A compare-and-swap kept conflicting.
    Conflict,
    /// The document's lock stayed held past the timeout.
    LockTimeout,
    /// The document would exceed the host's size limit.
    TooLarge,
    /// The stored document is not a document in its format: not a JSON object, not TOML.
    InvalidDocument,
    /// The host's storage failed.
    Io,
    /// confine broke one of its own rules (an edit that does not fit the text it was made
    /// for, a value it wrote that does not read back): a bug to report, never the user's
    /// input or the storage.
    Internal,
}

/// An error with the sentence shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The case, which decides what a caller can do about it.
    pub kind: ErrorKind,
    /// A sentence for a human.
    pub detail: String,
}

impl Error {
    /// An error of `kind` with the sentence `detail`.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Error {
        Error { kind, detail: detail.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for Error {}
