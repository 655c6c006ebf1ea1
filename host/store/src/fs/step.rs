//! The filesystem steps of reads and writes, and the one seam they all pass through.
//!
//! A [`StepGate`] given to [`Filesystem::with_gate`](crate::Filesystem::with_gate) sees
//! every step before it runs and may stop it with an error, which the step then returns as
//! if the system call had failed. The CLI uses this to stop a write cleanly on SIGINT or
//! SIGTERM; confine's tests use it to fail each step in turn with ENOSPC, EIO and the
//! like, to kill the process at each step, and to record the steps for a power-loss model.

use std::io;
use std::sync::Arc;

/// One filesystem step, named by what it does. `file` names are relative to the document's
/// directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step<'a> {
    /// Opening (creating if missing) the lock file.
    OpenLock {
        /// The lock file.
        file: &'a str,
    },
    /// One attempt to take the lock; a writer that waits makes many.
    TryLock {
        /// The lock file.
        file: &'a str,
    },
    /// Writing the holder's pid into the lock file (diagnostics only: a failure is ignored).
    StampLock {
        /// The lock file.
        file: &'a str,
    },
    /// Opening the document for reading.
    OpenDocument {
        /// The document's file.
        file: &'a str,
    },
    /// Reading the document's metadata (type, size, mode).
    StatDocument {
        /// The document's file.
        file: &'a str,
    },
    /// Reading the document's bytes.
    ReadDocument {
        /// The document's file.
        file: &'a str,
    },
    /// Listing the directory to find temp files of writers that died (best effort).
    ListDirectory,
    /// Removing a dead writer's temp file (best effort).
    RemoveStaleTemp {
        /// The temp file.
        file: &'a str,
    },
    /// Creating this write's temp file (`O_CREAT|O_EXCL|O_NOFOLLOW`).
    CreateTemp {
        /// The temp file.
        file: &'a str,
    },
    /// Writing the new content into the temp file.
    WriteTemp {
        /// The temp file.
        file: &'a str,
        /// All of the new content.
        data: &'a [u8],
    },
    /// Giving the temp file the old document's permission bits.
    SetTempMode {
        /// The temp file.
        file: &'a str,
        /// The permission bits.
        mode: u32,
    },
    /// fsync of the temp file.
    SyncTemp {
        /// The temp file.
        file: &'a str,
    },
    /// Renaming the temp file over the document: the new content becomes visible.
    Rename {
        /// The temp file.
        from: &'a str,
        /// The document's file.
        to: &'a str,
    },
    /// Removing this write's temp file after a failure (cleanup).
    RemoveTemp {
        /// The temp file.
        file: &'a str,
    },
    /// Removing the document (`Repository::remove`).
    RemoveDocument {
        /// The document's file.
        file: &'a str,
    },
    /// Opening the directory to fsync it.
    OpenDirectory,
    /// fsync of the directory: the rename or removal becomes durable.
    SyncDirectory,
}

impl Step<'_> {
    /// Whether the document may already have changed when this step runs: the steps after
    /// the rename or removal, which make the change durable. A write stopped before such a
    /// step leaves the document as it was.
    pub fn follows_the_change(&self) -> bool {
        matches!(self, Step::OpenDirectory | Step::SyncDirectory)
    }
}

/// Sees each filesystem step before it runs.
///
/// Returning an error stops the step: the operation then fails exactly as if the system
/// call had returned that error (the temp file is removed, the lock released, the error
/// reported with the document's name and the step).
pub trait StepGate: Send + Sync {
    /// Called before `step` runs.
    ///
    /// # Errors
    /// The error the step is to fail with.
    fn before(&self, step: &Step<'_>) -> io::Result<()>;
}

/// The gate in force, if any; what the filesystem code calls.
#[derive(Clone, Default)]
pub(crate) struct Seam(Option<Arc<dyn StepGate>>);

impl Seam {
    pub(crate) fn new(gate: Arc<dyn StepGate>) -> Seam {
        Seam(Some(gate))
    }

    /// Whether a gate sees the steps.
    pub(crate) fn is_gated(&self) -> bool {
        self.0.is_some()
    }

    /// Asks the gate whether `step` may run.
    pub(crate) fn before(&self, step: Step<'_>) -> io::Result<()> {
        match &self.0 {
            Some(gate) => gate.before(&step),
            None => Ok(()),
        }
    }
}
