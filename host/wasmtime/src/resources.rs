//! The resource types the generated bindings name (`with:`): a port session and a
//! `wasi:keyvalue` bucket. They depend on nothing generated, so that the generated code,
//! the hosts that implement it and the error mapping form no cycle.

use confine_store::Session;

/// A session resource as the component holds it: `None` once committed or aborted. Public
/// only because the generated bindings name it.
#[doc(hidden)]
pub struct GuestSession(pub(crate) Option<Session>);

/// A bucket as a component holds it: the name of its document, and the format it is read
/// and changed in (decided once, when the bucket was opened). Public only because the
/// generated bindings name it.
#[doc(hidden)]
pub struct Bucket {
    pub(crate) document: crate::wasi_keyvalue::Document,
}
