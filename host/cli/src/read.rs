//! The CLI's reads (`get`, `cat`, `watch`): the domain's rules run natively, as the Python
//! package's do, so that a read never starts wasm (its engine, the guest's code, an
//! instance). Every change still runs in the sandboxed domain guest.
//!
//! A read answers exactly what the guest answers: the same domain functions
//! (`confine_domain::service`), in the format decided once for the command, on a text the
//! store read and size-checked, with the store's errors in the words and kinds the port
//! gives them to the guest.

use confine::{Format, ServiceError};
use confine_domain::error::{Error as DomainError, ErrorKind};
use confine_domain::service;
use confine_store::{Memory, Repository};

/// The value at `key` of `doc` (the whole document for `""`), as compact JSON.
pub(crate) fn get(
    repository: &Repository,
    format: Option<Format>,
    doc: &str,
    key: &str,
) -> Result<String, ServiceError> {
    Ok(service::get(Format::chosen(format, doc), &Port(repository), doc, key)?)
}

/// The whole document: JSON pretty-printed, TOML as it is written.
pub(crate) fn cat(repository: &Repository, format: Option<Format>, doc: &str) -> Result<String, ServiceError> {
    Ok(service::cat(Format::chosen(format, doc), &Port(repository), doc)?)
}

/// [`get`] of exactly `content`, a state of `doc` that a watch saw: read back through a
/// repository of that one text, so that it is size-checked and named as any read is.
pub(crate) fn get_in(
    content: &str,
    options: confine_store::Options,
    format: Option<Format>,
    doc: &str,
    key: &str,
) -> Result<String, ServiceError> {
    let memory = Memory::new();
    memory.plant(doc, content)?;
    let check = confine::Documents { format };
    get(&Repository::with_backend(memory, options, check), format, doc, key)
}

/// The store as the domain's reads see it: a lock-free read, whose errors are the port's.
struct Port<'r>(&'r Repository);

impl service::Repository for Port<'_> {
    fn read(&self, name: &str) -> Result<String, DomainError> {
        self.0.read(name).map(|snapshot| snapshot.content).map_err(|e| {
            // The kind and the sentence the guest is given for the same error.
            let e = ServiceError::from(e);
            DomainError::new(e.kind().unwrap_or(ErrorKind::Io), e.to_string())
        })
    }
}
