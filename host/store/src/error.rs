//! The repository's errors. Each names the document (as the caller named it, relative to
//! the granted directory: never a host path) and the cause.

use std::io;
use std::time::Duration;

/// Why a repository operation failed. Whenever one is returned, the document is as it was
/// before the call, except for [`Error::NotDurable`] and [`Error::Internal`].
///
/// New kinds may be added: a `match` outside this crate needs an arm for the others.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The document does not exist.
    #[error("{name}: no such document")]
    NotFound {
        /// The document's name.
        name: String,
    },

    /// The name is not a document inside the granted directory.
    #[error("{name:?}: {reason}")]
    InvalidPath {
        /// The name as given.
        name: String,
        /// Why it is refused.
        reason: String,
    },

    /// A compare-and-swap found another revision, or a session was used after it ended.
    #[error("{name}: {reason}")]
    Conflict {
        /// The document's name.
        name: String,
        /// What conflicted.
        reason: String,
    },

    /// The document's lock stayed held past the timeout.
    #[error("{name}: lock {lock} still held after {timeout:?}{}", holder_text(*.holder))]
    LockTimeout {
        /// The document's name.
        name: String,
        /// The lock file's name.
        lock: String,
        /// How long confine waited.
        timeout: Duration,
        /// The process holding the lock, where the OS or the lock file tells.
        holder: Option<u32>,
    },

    /// The document, or the content offered for it, is over the size limit.
    #[error("{name}: {size} bytes is over the size limit of {limit} bytes")]
    TooLarge {
        /// The document's name.
        name: String,
        /// The size found or offered.
        size: u64,
        /// The limit in force.
        limit: u64,
    },

    /// The content is not a document: not UTF-8, or refused by the repository's
    /// [`Check`](crate::Check) (with confine's, `confine_formats::Documents`: not JSON whose
    /// root is an object, or not TOML, as the document's name says, that its strict rules
    /// accept), or a [`Splice`](crate::Splice) that does not fit the text it was made for.
    #[error("{name}: {reason}")]
    InvalidDocument {
        /// The document's name.
        name: String,
        /// What is wrong, with line and column where there are some.
        reason: String,
    },

    /// An operating-system call failed; nothing was changed.
    #[error("{name}: {op} failed: {source}")]
    Io {
        /// The document's name.
        name: String,
        /// What confine was doing (`"fsync temp file"`, `"rename"`, ...).
        op: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },

    /// The new content was renamed into place, but the directory fsync failed: readers see
    /// the new content, yet after a power loss the document may revert to the old one.
    #[error("{name}: written, but the directory fsync failed, so the change may not be durable: {source}")]
    NotDurable {
        /// The document's name.
        name: String,
        /// The OS error from fsync.
        #[source]
        source: io::Error,
    },

    /// confine broke one of its own rules (a backend panicked while it wrote a batch of
    /// [`Repository::update`](crate::Repository::update)s): a bug to report, neither the
    /// caller's input nor a failure of the storage. Whether the write it broke off was made
    /// is not known: read the document to tell.
    #[error("{name}: {reason} (a bug in confine: please report it)")]
    Internal {
        /// The document's name.
        name: String,
        /// What broke.
        reason: String,
    },
}

impl Error {
    /// The same error again (for each caller of a batch that failed as one, for a watch's
    /// state that is reported and kept). An OS error keeps its code and message.
    pub fn duplicate(&self) -> Error {
        let again = |e: &io::Error| match e.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(e.kind(), e.to_string()),
        };
        match self {
            Error::NotFound { name } => Error::NotFound { name: name.clone() },
            Error::InvalidPath { name, reason } => Error::InvalidPath { name: name.clone(), reason: reason.clone() },
            Error::Conflict { name, reason } => Error::Conflict { name: name.clone(), reason: reason.clone() },
            Error::LockTimeout { name, lock, timeout, holder } => {
                Error::LockTimeout { name: name.clone(), lock: lock.clone(), timeout: *timeout, holder: *holder }
            }
            Error::TooLarge { name, size, limit } => Error::TooLarge { name: name.clone(), size: *size, limit: *limit },
            Error::InvalidDocument { name, reason } => {
                Error::InvalidDocument { name: name.clone(), reason: reason.clone() }
            }
            Error::Io { name, op, source } => Error::Io { name: name.clone(), op, source: again(source) },
            Error::NotDurable { name, source } => Error::NotDurable { name: name.clone(), source: again(source) },
            Error::Internal { name, reason } => Error::Internal { name: name.clone(), reason: reason.clone() },
        }
    }
}

fn holder_text(holder: Option<u32>) -> String {
    holder.map(|pid| format!(" (held by process {pid})")).unwrap_or_default()
}

/// A `Result` whose error is the repository's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attaches the document's name and the operation to an `io::Error`.
pub(crate) trait IoContext<T> {
    fn context(self, name: &str, op: &'static str) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn context(self, name: &str, op: &'static str) -> Result<T> {
        self.map_err(|source| Error::Io { name: name.to_owned(), op, source })
    }
}
