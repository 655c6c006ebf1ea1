//! confine's domain guest: the `config-service` of `wit/confine.wit`, built as a
//! `wasm32-wasip2` component whose only way to storage is the `config-repository` port.
//!
//! The logic lives in plain modules that never mention generated types ([`keypath`],
//! [`document`], [`edit`] on parsed trees, [`inplace`] on the text itself with [`scan`]
//! and [`splice`], [`service`], [`strict`]) and are unit-tested natively; `component.rs` only
//! binds them to the WIT world `domain`. It is compiled for wasm only: the component's
//! export names (`confine:config/config-service@0.1.0#get`) are not valid native symbols.

pub mod document;
pub mod edit;
pub mod error;
pub mod inplace;
pub mod keypath;
pub mod scan;
pub mod service;
pub mod splice;
pub mod strict;

#[cfg(target_arch = "wasm32")]
mod component;
