//! # confine
//!
//! The wasmtime layer of confine: what a wasmtime embedder adds to the store
//! ([`confine_store`], re-exported as [`store`]) so that WebAssembly components read and
//! change configuration documents with its guarantees: no lost update, no torn file, no
//! name that escapes what was granted.
//!
//! - [`add_to_linker`] and [`add_to_linker_async`]: give any component the WIT port
//!   `confine:config/config-repository` over a [`Repository`], for sync and async hosts,
//!   with a [`ConfineCtx`] in your store and a [`ConfineView`] of it.
//! - [`add_wasi_config_to_linker`]: gives a component the standard `wasi:config/store`
//!   over one document, flattened to keys like `server.port` (see [`WasiConfigCtx`]).
//! - [`add_wasi_keyvalue_to_linker`] (and [`add_wasi_keyvalue_to_linker_async`]): gives a
//!   component the standard `wasi:keyvalue` (`store`, `atomics`, `batch`), a bucket being a
//!   document and a key its top-level member, every write locked, atomic and durable (see
//!   [`WasiKeyValueCtx`]).
//! - [`Runtime`]: runs confine's domain guest (`config-service`), plugin components, and
//!   standard `wasi:cli` commands ([`Runtime::run_command`]), each call in a fresh
//!   instance under a memory limit and a deadline; [`Runtime::apply`] makes several
//!   [`Change`]s as one all-or-nothing update.
//!
//! The repository may be over any backend of the store ([`store::Filesystem`], the
//! default; [`store::Memory`], for tests): everything here works over each unchanged.
//!
//! # Errors
//!
//! The store's [`Error`]s reach components as the WIT `error` variant, each naming the
//! document and the cause; the [`Runtime`] reports the service's answers as
//! [`ServiceError`], plugin failures as [`PluginError`] and commands' as [`CommandError`].
//! A `wasmtime::Error` from a binding is a trap, never an answer. When an error is
//! returned, nothing was written (but for the store's `NotDurable`).
//!
//! # Limitations
//!
//! - A guest call that is running when the process is asked to stop is not cut short: its
//!   next write step fails (with the CLI's gate), and its deadline bounds the rest.
//! - See [`confine_store`] for the guarantees and limits of the store itself.
#![deny(missing_docs)]

mod cache;
mod deadline;
mod errors;
mod generated;
mod port_host;
mod port_host_async;
mod resources;
mod runtime;
mod wasi_config;
mod wasi_keyvalue;

pub use confine_domain::service::Change;
pub use confine_formats::{self as formats, Documents, Format, Json};
pub use confine_store::{self as store, Error, Options, Repository};
pub use errors::{ServiceError, ServiceErrorKind};
pub use port_host::{ConfineCtx, ConfineView, MAX_OPEN_SESSIONS, add_to_linker};
pub use port_host_async::add_to_linker_async;
pub use resources::{Bucket, GuestSession};
pub use runtime::{CommandError, CommandImports, PluginError, Runtime, RuntimeOptions};
pub use wasi_config::{WasiConfigCtx, WasiConfigView, add_wasi_config_to_linker};
pub use wasi_keyvalue::{
    MAX_OPEN_BUCKETS, WasiKeyValueCtx, WasiKeyValueView, add_wasi_keyvalue_to_linker, add_wasi_keyvalue_to_linker_async,
};
