//! # confine-formats
//!
//! What a document is, for the store. `confine-store` knows names, text and revisions; the
//! [`Check`] it is handed says which texts are documents and which splices keep them so.
//! This crate makes that check from the domain's rules (`confine-domain`), so that the
//! store and the domain depend on nothing of each other and the guest builds as before.
//!
//! ```
//! use confine_formats::Json;
//! use confine_store::{Error, Memory, Options, Repository};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let repository = Repository::with_backend(Memory::new(), Options::default(), Json);
//! repository.save("app.json", r#"{"port": 8080}"#, None)?;
//! let twice = repository.save("app.json", r#"{"a": 1, "a": 2}"#, None);
//! assert!(matches!(twice, Err(Error::InvalidDocument { .. })));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

use confine_domain::{checked, document};
use confine_store::{Check, Splice};

/// confine's JSON documents: strict JSON (no duplicate key, no integer beyond 64 bits) whose
/// root is an object ([`document::check`]). A splice keeps one where it replaces one whole
/// value with one value ([`checked::splice_keeps`]), which a change of an existing key
/// makes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Check for Json {
    fn check(&self, _name: &str, text: &str) -> Result<usize, String> {
        document::shape(text).map(|shape| shape.depth)
    }

    fn splice_keeps(&self, _name: &str, text: &str, depth: usize, splice: &Splice) -> Option<usize> {
        checked::splice_keeps(text, depth, splice.range.clone(), &splice.text)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
