//! # confine-guest
//!
//! confine's domain guest: the `config-service` of `wit/confine.wit`, built as a
//! `wasm32-wasip2` component whose only way to storage is the `config-repository` port it
//! imports. This crate is the WIT binding alone; the rules are `confine-domain`'s plain
//! modules, unit-tested natively. It is compiled for wasm only: the component's export
//! names (`confine:config/config-service@0.1.0#get`) are not valid native symbols.
#![cfg(target_arch = "wasm32")]

use confine_domain::error::{Error, ErrorKind};
use confine_domain::format::Format;
use confine_domain::service;

#[allow(unsafe_code, unreachable_pub, missing_docs)]
mod bindings {
    wit_bindgen::generate!({ path: "../../wit", world: "domain" });
    use super::Component;
    export!(Component);
}

use bindings::confine::config::config_repository as port;
use bindings::exports::confine::config::config_service::{self as exported, Guest};

struct Component;

impl Guest for Component {
    fn get(document: String, key: String, format: Option<exported::Format>) -> Result<String, exported::Error> {
        service::get(chosen(format, &document), &Port, &document, &key).map_err(to_wit)
    }
    fn cat(document: String, format: Option<exported::Format>) -> Result<String, exported::Error> {
        service::cat(chosen(format, &document), &Port, &document).map_err(to_wit)
    }
    fn prepare(
        document: String,
        changes: Vec<exported::Change>,
        format: Option<exported::Format>,
    ) -> Result<(), exported::Refusal> {
        let changes = changes.into_iter().map(from_wit).collect();
        let prepared = service::prepare_all(chosen(format, &document), &document, changes);
        let prepared = prepared.map_err(to_wit_refusal)?;
        PREPARED.with(|kept| *kept.borrow_mut() = prepared);
        Ok(())
    }

    fn apply(document: String, current: Option<String>, depth: u32) -> Result<exported::Applied, exported::Refusal> {
        // A depth beyond `usize` cannot be (a text nests at most as deep as it is long).
        let depth = usize::try_from(depth).unwrap_or(usize::MAX);
        let applied = PREPARED
            .with(|kept| service::apply_prepared_to_checked(&document, current.as_deref(), depth, &kept.borrow()));
        let (splice, answers) = applied.map_err(to_wit_refusal)?;
        Ok(exported::Applied { start: splice.start as u64, end: splice.end as u64, text: splice.text, answers })
    }
}

std::thread_local! {
    /// The changes `prepare` parsed, for `apply` (an instance serves one update, on one
    /// thread: wasm32-wasip2 has no other).
    static PREPARED: std::cell::RefCell<Vec<service::Prepared>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn to_wit_refusal(refusal: service::Refusal) -> exported::Refusal {
    exported::Refusal {
        // A list longer than u32::MAX cannot cross the boundary: the index fits.
        index: refusal.index.and_then(|index| u32::try_from(index).ok()),
        error: to_wit(refusal.error),
    }
}

/// The format of `document`: the one its host gave, else the one its name says; decided
/// here once for the call.
fn chosen(given: Option<exported::Format>, document: &str) -> Format {
    let given = given.map(|format| match format {
        exported::Format::Json => Format::Json,
        exported::Format::Toml => Format::Toml,
    });
    Format::chosen(given, document)
}

fn from_wit(change: exported::Change) -> service::Change {
    use exported::Change as C;
    match change {
        C::Set((key, value)) => service::Change::Set { key, value },
        C::Unset(key) => service::Change::Unset { key },
        C::Incr((key, delta)) => service::Change::Incr { key, delta },
        C::Merge((key, patch)) => service::Change::Merge { key, patch },
    }
}

/// The imported `config-repository`, seen through the domain's trait.
struct Port;

impl service::Repository for Port {
    fn read(&self, name: &str) -> Result<String, Error> {
        port::read(name).map(|snapshot| snapshot.content).map_err(from_port)
    }
}

/// The one mapping from the port's errors to the domain's.
fn from_port(e: port::Error) -> Error {
    use port::Error as P;
    let (kind, detail) = match e {
        P::NotFound(d) => (ErrorKind::NotFound, d),
        P::InvalidPath(d) => (ErrorKind::InvalidPath, d),
        P::Conflict(d) => (ErrorKind::Conflict, d),
        P::LockTimeout(d) => (ErrorKind::LockTimeout, d),
        P::TooLarge(d) => (ErrorKind::TooLarge, d),
        P::InvalidDocument(d) => (ErrorKind::InvalidDocument, d),
        P::Io(d) => (ErrorKind::Io, d),
    };
    Error { kind, detail }
}

/// The one mapping from the domain's errors to the service's.
fn to_wit(e: Error) -> exported::Error {
    use exported::Error as S;
    match e.kind {
        ErrorKind::NotFound => S::NotFound(e.detail),
        ErrorKind::InvalidPath => S::InvalidPath(e.detail),
        ErrorKind::InvalidKey => S::InvalidKey(e.detail),
        ErrorKind::InvalidValue => S::InvalidValue(e.detail),
        ErrorKind::TypeMismatch => S::TypeMismatch(e.detail),
        ErrorKind::Conflict => S::Conflict(e.detail),
        ErrorKind::LockTimeout => S::LockTimeout(e.detail),
        ErrorKind::TooLarge => S::TooLarge(e.detail),
        ErrorKind::InvalidDocument => S::InvalidDocument(e.detail),
        ErrorKind::Io => S::Io(e.detail),
        ErrorKind::Internal => S::Internal(e.detail),
    }
}
