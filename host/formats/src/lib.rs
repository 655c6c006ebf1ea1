//! # confine-formats
//!
//! What a document is, for the store. `confine-store` knows names, text and revisions; the
//! [`Check`] it is handed says which texts are documents and which splices keep them so.
//! This crate makes that check from the domain's rules (`confine-domain`), so that the
//! store and the domain depend on nothing of each other and the guest builds as before.
//!
//! [`Documents`] is confine's: each document in the format its name says (`.toml` is
//! TOML, anything else JSON), or in one format given for all. [`Json`] is JSON alone.
//!
//! ```
//! use confine_formats::Documents;
//! use confine_store::{Error, Memory, Options, Repository};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let repository = Repository::with_backend(Memory::new(), Options::default(), Documents::default());
//! repository.save("app.json", r#"{"port": 8080}"#, None)?;
//! repository.save("Cargo.toml", "[package]\nname = \"demo\"\n", None)?;
//! let twice = repository.save("app.json", r#"{"a": 1, "a": 2}"#, None);
//! assert!(matches!(twice, Err(Error::InvalidDocument { .. })));
//! let twice = repository.save("Cargo.toml", "[a]\n[a]\n", None);
//! assert!(matches!(twice, Err(Error::InvalidDocument { .. })));
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

use confine_domain::{checked, document};
use confine_store::{Check, Splice};

pub use confine_domain::format::Format;

/// confine's documents: each in the format its name says ([`Format::of`]: `.toml` is TOML,
/// anything else JSON), or all in `format` where one is given (a command's `--format`).
/// JSON is checked as [`Json`] checks it; TOML by the domain's TOML rules (no key or table
/// defined twice, integers within 64 bits signed, no `nan` or `inf`), and a splice of a
/// TOML text is never taken as shown: its result is checked whole.
#[derive(Debug, Clone, Copy, Default)]
pub struct Documents {
    /// The format of every document, if not the one its name says.
    pub format: Option<Format>,
}

impl Documents {
    /// Every document in `format`, whatever its name.
    pub fn all(format: Format) -> Documents {
        Documents { format: Some(format) }
    }

    /// The format of the document `name`.
    pub fn format_of(&self, name: &str) -> Format {
        Format::chosen(self.format, name)
    }

    /// The value of `text`, the document `name`, as JSON (a TOML document by the mapping
    /// of `confine_domain::toml`); why not, if it is not a document.
    pub fn value_of(&self, name: &str, text: &str) -> Result<serde_json::Value, String> {
        document::parse(self.format_of(name), name, text).map(serde_json::Value::Object).map_err(|e| e.detail)
    }
}

impl Check for Documents {
    fn check(&self, name: &str, text: &str) -> Result<usize, String> {
        document::shape(self.format_of(name), text).map(|shape| shape.depth)
    }

    fn splice_keeps(&self, name: &str, text: &str, depth: usize, splice: &Splice) -> Option<usize> {
        match self.format_of(name) {
            Format::Json => Json.splice_keeps(name, text, depth, splice),
            Format::Toml => None,
        }
    }
}

/// confine's JSON documents: strict JSON (no duplicate key, no integer beyond 64 bits) whose
/// root is an object ([`document::check`]). A splice keeps one where it replaces one whole
/// value with one value ([`checked::splice_keeps`]), which a change of an existing key
/// makes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Check for Json {
    fn check(&self, _name: &str, text: &str) -> Result<usize, String> {
        document::shape(Format::Json, text).map(|shape| shape.depth)
    }

    fn splice_keeps(&self, _name: &str, text: &str, depth: usize, splice: &Splice) -> Option<usize> {
        checked::splice_keeps(text, depth, splice.range.clone(), &splice.text)
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
