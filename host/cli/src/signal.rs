//! Stopping a write cleanly when the user interrupts: SIGINT (Ctrl-C) or SIGTERM.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;

use confine_store::{Step, StepGate};

/// A [`StepGate`] that, once SIGINT or SIGTERM has arrived, stops every write at its next
/// step before the rename: the temp file is removed, the lock released, the document left
/// as it was, and the write fails with [`io::ErrorKind::Interrupted`]. A write that has
/// already renamed finishes making its change durable. A second signal ends the process at
/// once (exit status 128 + the signal), as the default action would; a write cut off that
/// way is still all-or-nothing, like any crash.
pub(crate) struct StopOnSignal {
    received: Arc<AtomicUsize>,
}

impl StopOnSignal {
    /// Installs the handlers for SIGINT and SIGTERM.
    ///
    /// # Errors
    /// If a handler cannot be installed.
    pub(crate) fn install() -> io::Result<StopOnSignal> {
        let received = Arc::new(AtomicUsize::new(0));
        let once = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM] {
            // Registered first, so it sees `once` as the previous signal left it.
            flag::register_conditional_shutdown(signal, 128 + signal, Arc::clone(&once))?;
            flag::register(signal, Arc::clone(&once))?;
            flag::register_usize(signal, Arc::clone(&received), signal as usize)?;
        }
        Ok(StopOnSignal { received })
    }

    /// The signal that arrived, if one did.
    pub(crate) fn received(&self) -> Option<i32> {
        i32::try_from(self.received.load(Ordering::SeqCst)).ok().filter(|&signal| signal != 0)
    }
}

impl StepGate for StopOnSignal {
    fn before(&self, step: &Step<'_>) -> io::Result<()> {
        let finishing = step.follows_the_change() || matches!(step, Step::RemoveTemp { .. });
        match self.received() {
            Some(signal) if !finishing => {
                Err(io::Error::new(io::ErrorKind::Interrupted, format!("stopped by {}", signal_name(signal))))
            }
            _ => Ok(()),
        }
    }
}

/// `SIGINT`, `SIGTERM`.
pub(crate) fn signal_name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".to_owned(),
        SIGTERM => "SIGTERM".to_owned(),
        other => format!("signal {other}"),
    }
}
