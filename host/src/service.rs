//! The errors of the domain service (`config-service`) as the host sees them.

use crate::binding::generated::exports::confine::config::config_service::Error as WitError;

/// What kind of answer the domain guest gave; decides what a caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceErrorKind {
    /// The document or the key does not exist.
    NotFound,
    /// The document name was refused.
    InvalidPath,
    /// The key path does not parse.
    InvalidKey,
    /// The value, delta or patch is not acceptable.
    InvalidValue,
    /// A value on the key path has the wrong type, or an integer would overflow.
    TypeMismatch,
    /// A compare-and-swap kept conflicting.
    Conflict,
    /// The document's lock stayed held past the timeout.
    LockTimeout,
    /// The document would exceed the size limit.
    TooLarge,
    /// The stored document is not a JSON object.
    InvalidDocument,
    /// Storage failed.
    Io,
}

/// Why a service call failed. Whenever one is returned, nothing was written (except for
/// an `Io` error that says the change may not be durable).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The guest answered with an error.
    #[error("{detail}")]
    Answer {
        /// The kind of error.
        kind: ServiceErrorKind,
        /// A sentence naming the document, the key and the cause.
        detail: String,
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
            ServiceError::Guest(_) => None,
        }
    }
}

pub(crate) fn to_service_error(e: WitError) -> ServiceError {
    use ServiceErrorKind as K;
    let (kind, detail) = match e {
        WitError::NotFound(d) => (K::NotFound, d),
        WitError::InvalidPath(d) => (K::InvalidPath, d),
        WitError::InvalidKey(d) => (K::InvalidKey, d),
        WitError::InvalidValue(d) => (K::InvalidValue, d),
        WitError::TypeMismatch(d) => (K::TypeMismatch, d),
        WitError::Conflict(d) => (K::Conflict, d),
        WitError::LockTimeout(d) => (K::LockTimeout, d),
        WitError::TooLarge(d) => (K::TooLarge, d),
        WitError::InvalidDocument(d) => (K::InvalidDocument, d),
        WitError::Io(d) => (K::Io, d),
    };
    ServiceError::Answer { kind, detail }
}

/// A repository error as the service reports it: the same kind, the same sentence. The
/// runtime meets these when it writes a change itself (group commit).
impl From<crate::Error> for ServiceError {
    fn from(e: crate::Error) -> ServiceError {
        use crate::Error as E;
        use ServiceErrorKind as K;
        let kind = match &e {
            E::NotFound { .. } => K::NotFound,
            E::InvalidPath { .. } => K::InvalidPath,
            E::Conflict { .. } => K::Conflict,
            E::LockTimeout { .. } => K::LockTimeout,
            E::TooLarge { .. } => K::TooLarge,
            E::InvalidDocument { .. } => K::InvalidDocument,
            E::Io { .. } | E::NotDurable { .. } => K::Io,
        };
        ServiceError::Answer { kind, detail: e.to_string() }
    }
}

/// An error of the guest's domain code run natively (the host checks a change with it).
pub(crate) fn from_domain(e: confine_guest::error::Error) -> ServiceError {
    use ServiceErrorKind as K;
    use confine_guest::error::ErrorKind as D;
    let kind = match e.kind {
        D::NotFound => K::NotFound,
        D::InvalidPath => K::InvalidPath,
        D::InvalidKey => K::InvalidKey,
        D::InvalidValue => K::InvalidValue,
        D::TypeMismatch => K::TypeMismatch,
        D::Conflict => K::Conflict,
        D::LockTimeout => K::LockTimeout,
        D::TooLarge => K::TooLarge,
        D::InvalidDocument => K::InvalidDocument,
        D::Io => K::Io,
    };
    ServiceError::Answer { kind, detail: e.detail }
}
