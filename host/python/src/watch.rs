//! A document's states as they come, for `store.watch(...)`: each wait releases the GIL and
//! ends at a timeout the Python side chooses, so that the loop around it stays
//! interruptible (Ctrl-C).

use std::sync::{Mutex, PoisonError};

use confine_store::WatchEvent;
use pyo3::prelude::*;

use crate::errors::{Failure, Raise};
use crate::store::seconds;

/// A watch of one document.
#[pyclass(frozen, module = "confine._native")]
pub(crate) struct Watch {
    inner: Mutex<confine_store::Watch>,
}

impl Watch {
    pub(crate) fn new(watch: confine_store::Watch) -> Watch {
        Watch { inner: Mutex::new(watch) }
    }
}

/// What a wait saw: nothing new in the time given (`None`), or the document's state:
/// whether it exists, and its text and revision (empty when it does not). Why it cannot be
/// read is raised.
type Seen = Option<(bool, String, String)>;

#[pymethods]
impl Watch {
    /// The next state within `timeout` seconds: `None` if none came, else `(exists, text,
    /// revision)`. A state that cannot be read raises its error (the watch goes on). A
    /// timeout that is negative, NaN or infinite raises `ValueError`: a wait without end
    /// could not be interrupted (Ctrl-C), so the Python side waits in slices.
    fn next(&self, py: Python<'_>, timeout: f64) -> PyResult<Seen> {
        let timeout = seconds(timeout)?;
        let seen = py.detach(|| {
            let mut watch = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            match watch.next(timeout)? {
                None => Ok(None),
                Some(WatchEvent::Absent) => Ok(Some((false, String::new(), String::new()))),
                Some(WatchEvent::Present(snapshot)) => {
                    Ok(Some((true, snapshot.content.clone(), snapshot.revision.clone())))
                }
                Some(WatchEvent::Unreadable(e)) => Err(Failure::Store(e.duplicate())),
            }
        });
        seen.raise(py)
    }

    /// What the backend says once, beside the states (changes that may have been missed).
    fn take_notice(&self) -> Option<String> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).take_notice()
    }
}
