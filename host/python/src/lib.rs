//! # confine for Python (`confine._native`)
//!
//! The store (`confine-store`, with `confine-formats`' check of documents: JSON, or TOML for
//! names ending `.toml`) and the domain's rules (`confine-domain`), natively, for the Python
//! package `confine` (`python/confine`). Values cross as JSON text whatever the document's
//! format, and the package turns them into Python values and back. Nothing here is a rule
//! of its own: keys, values and refusals are the domain's, names, locks and writes the
//! store's. Every call that may wait (a lock, an fsync, a remote round trip) releases the
//! GIL.
//!
//! - `store.rs`: the class `Store` (one repository, shared by every thread that uses it,
//!   so that their updates share lock holds and fsyncs).
//! - `update.rs`: the exclusive session behind `with store.update(...)`.
//! - `watch.rs`: a document's states as they come.
//! - `errors.rs`: refusals as the package's exception classes.
#![deny(missing_docs)]

use pyo3::prelude::*;

mod errors;
mod store;
mod update;
mod watch;

/// The module `confine._native`.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<store::Store>()?;
    module.add_class::<update::Update>()?;
    module.add_class::<watch::Watch>()?;
    module.add_function(wrap_pyfunction!(store::value_at, module)?)?;
    module.add("ETCD", cfg!(feature = "etcd"))?;
    Ok(())
}
