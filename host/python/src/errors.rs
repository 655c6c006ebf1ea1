//! Refusals and failures as the package's exception classes (`confine/_errors.py`, where
//! each also derives from the Python exception it is a kind of: `LockTimeout` is a
//! `TimeoutError`, `StoreError` an `OSError` with the errno). Messages are the CLI's.

use confine_domain::error::{Error as DomainError, ErrorKind};
use confine_domain::service::Refusal;
use confine_store::Error as StoreError;
use pyo3::prelude::*;

/// Why a call failed, before it becomes a Python exception (which needs the GIL).
#[derive(Debug)]
pub(crate) enum Failure {
    /// The store's: names, locks, reads and writes.
    Store(StoreError),
    /// The domain's: keys, values, the document's content.
    Domain(DomainError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

impl From<DomainError> for Failure {
    fn from(e: DomainError) -> Failure {
        Failure::Domain(e)
    }
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Failure {
        Failure::Domain(refusal.error)
    }
}

impl Failure {
    /// The exception, of the package's class for the failure's kind.
    pub(crate) fn into_py(self, py: Python<'_>) -> PyErr {
        let (class, message, errno) = match self {
            Failure::Store(e) => {
                let (class, errno) = match &e {
                    StoreError::NotFound { .. } => ("NotFound", None),
                    StoreError::InvalidPath { .. } => ("InvalidName", None),
                    StoreError::Conflict { .. } => ("Conflict", None),
                    StoreError::LockTimeout { .. } => ("LockTimeout", None),
                    StoreError::TooLarge { .. } => ("TooLarge", None),
                    StoreError::InvalidDocument { .. } => ("InvalidDocument", None),
                    StoreError::Io { source, .. } | StoreError::NotDurable { source, .. } => {
                        ("StoreError", Some(source.raw_os_error().unwrap_or(0)))
                    }
                    StoreError::Internal { .. } => ("InternalError", None),
                    // A kind this mapping does not know yet (the store's errors may gain
                    // some): the store failed, and its sentence says how.
                    _ => ("StoreError", Some(0)),
                };
                (class, e.to_string(), errno)
            }
            Failure::Domain(e) => {
                let class = match e.kind {
                    ErrorKind::NotFound => "NotFound",
                    ErrorKind::InvalidPath => "InvalidName",
                    ErrorKind::InvalidKey => "InvalidKey",
                    ErrorKind::InvalidValue => "InvalidValue",
                    ErrorKind::TypeMismatch => "TypeMismatch",
                    ErrorKind::Conflict => "Conflict",
                    ErrorKind::LockTimeout => "LockTimeout",
                    ErrorKind::TooLarge => "TooLarge",
                    ErrorKind::InvalidDocument => "InvalidDocument",
                    ErrorKind::Io => "StoreError",
                    ErrorKind::Internal => "InternalError",
                };
                let errno = (e.kind == ErrorKind::Io).then_some(0);
                (class, e.detail, errno)
            }
        };
        raise(py, class, message, errno)
    }
}

/// An exception of the class `class` of `confine._errors`, with `message` (and, for an
/// `OSError`, `errno` first, which Python keeps as `.errno`).
fn raise(py: Python<'_>, class: &str, message: String, errno: Option<i32>) -> PyErr {
    let made = || -> PyResult<PyErr> {
        let class = py.import("confine._errors")?.getattr(class)?;
        let value = match errno {
            Some(errno) => class.call1((errno, message.clone()))?,
            None => class.call1((message.clone(),))?,
        };
        Ok(PyErr::from_value(value))
    };
    // The package ships the classes; were they missing, the error says so, and why.
    made().unwrap_or_else(|e| e)
}

/// A result whose failure is raised as the package's exception.
pub(crate) trait Raise<T> {
    /// The value, or the failure as a Python exception.
    fn raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T, E: Into<Failure>> Raise<T> for Result<T, E> {
    fn raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| e.into().into_py(py))
    }
}
