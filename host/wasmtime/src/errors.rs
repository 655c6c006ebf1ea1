//! The errors at the wasm boundary, each mapped in one place:
//! - the store's [`Error`] to the port's WIT `error` ([`to_port`], for the sync and the
//!   async binding alike);
//! - the service's WIT `error`, and the domain's own [`confine_domain::error::Error`], to
//!   [`ServiceError`];
//! - the store's [`Error`] to [`ServiceError`], for changes the runtime writes itself.

use confine_domain::error::{Error as DomainError, ErrorKind};
use confine_store::Error;

use crate::generated::{async_port, port, service};

/// What kind of answer the domain service gave; decides what a caller can do about it.
/// The domain's own error kinds (`confine_domain::error::ErrorKind`).
pub type ServiceErrorKind = ErrorKind;

/// Why a service call failed. Whenever one is returned, nothing was written (except for
/// an `Io` error that says the change may not be durable).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The service answered with an error.
    #[error("{detail}")]
    Answer {
        /// The kind of error.
        kind: ServiceErrorKind,
        /// A sentence naming the document, the key and the cause.
        detail: String,
    },
    /// One change of an update of several ([`Runtime::apply`](crate::Runtime::apply))
    /// refused, so none of them was made.
    #[error("{error} (change {n}; none of the update's changes was made)", n = index + 1)]
    Refused {
        /// The change's position in the update, from 0.
        index: usize,
        /// Why it refused.
        error: Box<ServiceError>,
    },
    /// The guest trapped, ran past its deadline or out of memory, or did not instantiate.
    #[error("the domain guest failed: {0}")]
    Guest(String),
}

impl ServiceError {
    /// The kind of answer, `None` for a guest failure.
    pub fn kind(&self) -> Option<ServiceErrorKind> {
        match self {
            ServiceError::Answer { kind, .. } => Some(*kind),
            ServiceError::Refused { error, .. } => error.kind(),
            ServiceError::Guest(_) => None,
        }
    }
}

/// The case of the port's WIT `error` that a store error is.
fn port_case(e: &Error) -> ErrorKind {
    match e {
        Error::NotFound { .. } => ErrorKind::NotFound,
        Error::InvalidPath { .. } => ErrorKind::InvalidPath,
        Error::Conflict { .. } => ErrorKind::Conflict,
        Error::LockTimeout { .. } => ErrorKind::LockTimeout,
        Error::TooLarge { .. } => ErrorKind::TooLarge,
        Error::InvalidDocument { .. } => ErrorKind::InvalidDocument,
        Error::Io { .. } | Error::NotDurable { .. } => ErrorKind::Io,
        Error::Internal { .. } => ErrorKind::Internal,
        // A kind this mapping does not know yet (the store's errors may gain some): the
        // store failed, and its sentence says how.
        _ => ErrorKind::Io,
    }
}

/// A store error as the service reports it: the same kind, the same sentence. The runtime
/// meets these when it writes a change itself (group commit).
impl From<Error> for ServiceError {
    fn from(e: Error) -> ServiceError {
        ServiceError::Answer { kind: port_case(&e), detail: e.to_string() }
    }
}

/// An error of the domain's code run natively (the host checks a change with it).
impl From<DomainError> for ServiceError {
    fn from(e: DomainError) -> ServiceError {
        ServiceError::Answer { kind: e.kind, detail: e.detail }
    }
}

/// The service's WIT answer.
impl From<service::Error> for ServiceError {
    fn from(e: service::Error) -> ServiceError {
        use service::Error as W;
        let (kind, detail) = match e {
            W::NotFound(d) => (ErrorKind::NotFound, d),
            W::InvalidPath(d) => (ErrorKind::InvalidPath, d),
            W::InvalidKey(d) => (ErrorKind::InvalidKey, d),
            W::InvalidValue(d) => (ErrorKind::InvalidValue, d),
            W::TypeMismatch(d) => (ErrorKind::TypeMismatch, d),
            W::Conflict(d) => (ErrorKind::Conflict, d),
            W::LockTimeout(d) => (ErrorKind::LockTimeout, d),
            W::TooLarge(d) => (ErrorKind::TooLarge, d),
            W::InvalidDocument(d) => (ErrorKind::InvalidDocument, d),
            W::Io(d) => (ErrorKind::Io, d),
            W::Internal(d) => (ErrorKind::Internal, d),
        };
        ServiceError::Answer { kind, detail }
    }
}

/// The service's WIT refusal of an update of several changes.
impl From<service::Refusal> for ServiceError {
    fn from(refusal: service::Refusal) -> ServiceError {
        let error = ServiceError::from(refusal.error);
        match refusal.index.and_then(|index| usize::try_from(index).ok()) {
            Some(index) => ServiceError::Refused { index, error: Box::new(error) },
            None => error,
        }
    }
}

/// The port's WIT `error`, as each generated binding (sync, async) spells it.
pub(crate) trait PortError {
    /// The case for `kind` (one of the port's seven), with its sentence.
    fn of(kind: ErrorKind, text: String) -> Self;
}

/// The one mapping from the store's errors to the port's.
pub(crate) fn to_port<E: PortError>(e: Error) -> E {
    E::of(port_case(&e), e.to_string())
}

/// The refusal of a session resource used after its commit or abort.
pub(crate) fn session_ended<E: PortError>() -> E {
    E::of(ErrorKind::Conflict, "the session has already ended (committed or aborted)".into())
}

/// The refusal of an `open` past the store's limit of open sessions.
pub(crate) fn too_many_sessions<E: PortError>(refusal: String) -> E {
    E::of(ErrorKind::Io, refusal)
}

macro_rules! spell_port_error {
    ($port:ident) => {
        impl PortError for $port::Error {
            fn of(kind: ErrorKind, text: String) -> $port::Error {
                match kind {
                    ErrorKind::NotFound => $port::Error::NotFound(text),
                    ErrorKind::InvalidPath => $port::Error::InvalidPath(text),
                    ErrorKind::Conflict => $port::Error::Conflict(text),
                    ErrorKind::LockTimeout => $port::Error::LockTimeout(text),
                    ErrorKind::TooLarge => $port::Error::TooLarge(text),
                    ErrorKind::InvalidDocument => $port::Error::InvalidDocument(text),
                    // The port has no key or value to refuse, and no case of its own for a
                    // bug (its WIT is what plugins are built against): the service's other
                    // kinds never come from the store, and a store's bug says so in its text.
                    ErrorKind::Io
                    | ErrorKind::Internal
                    | ErrorKind::InvalidKey
                    | ErrorKind::InvalidValue
                    | ErrorKind::TypeMismatch => $port::Error::Io(text),
                }
            }
        }
    };
}

// The two generated types are the same WIT type spelled twice; one spelling serves both.
spell_port_error!(port);
spell_port_error!(async_port);
