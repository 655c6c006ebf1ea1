//! # confine-domain
//!
//! The domain layer of confine: the rules of reading and changing configuration
//! documents (JSON, and TOML), with no I/O and no wasm. The domain guest component (`confine-guest`) binds
//! these modules to the WIT `config-service`; the store (`confine-store`) is handed a check
//! made of [`document::check`] and [`checked::splice_keeps`] (crate `confine-formats`) for
//! every document it writes.
//!
//! - [`keypath`]: key paths (`server.port`, `hosts["eu.west"]`, `[0]`).
//! - [`format`](mod@format): what a document is written in, from its name (`.toml` is TOML).
//! - [`strict`]: what JSON is accepted (no duplicate keys, no integer beyond 64 bits).
//! - [`toml`]: TOML documents, read as JSON values and changed with their layout kept.
//! - [`document`]: parsing a document's text into an object, and rendering one.
//! - [`edit`]: set/unset/incr/merge on a parsed tree; the same on the text itself (crate
//!   modules `inplace`, and `scan` for the offsets of a checked text), answered as a
//!   [`splice`] (the change as bytes), is what [`service::apply`] does.
//! - [`service`]: the operations of `config-service` (`get`, `cat`, `apply`).
//! - [`checked`]: texts known to be documents, and the splices shown to keep them so (a
//!   large document is then walked once per update).
//! - [`error`]: the domain's error kinds.

pub mod checked;
pub mod document;
pub mod edit;
pub mod error;
pub mod format;
pub(crate) mod inplace;
pub mod keypath;
pub(crate) mod scan;
pub mod service;
pub mod splice;
pub mod strict;
pub mod toml;
