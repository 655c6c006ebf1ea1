//! The exclusive session behind `with store.update(...)`: the document's lock is held from
//! the block's start to its end; on a clean exit what the block changed in its copy is
//! written as in-place edits of the text read (`service::changes_between`), so the rest of
//! the file keeps its bytes, once, atomically.

use std::sync::{Mutex, MutexGuard, PoisonError};

use confine_domain::document::{self, Root};
use confine_domain::error::{Error as DomainError, ErrorKind};
use confine_domain::format::Format;
use confine_domain::service;
use confine_store::Session;
use pyo3::prelude::*;

use crate::errors::Raise;

/// An open update: the lock held, the text read and checked.
#[pyclass(frozen, module = "confine._native")]
pub(crate) struct Update {
    name: String,
    /// The text read when the session opened (`None`: no document), checked.
    text: Option<String>,
    /// How deep that text nests, as its check found: so that its edits do not walk it again.
    depth: usize,
    /// The session, until it is committed or aborted.
    session: Mutex<Option<Session>>,
}

impl Update {
    /// The update of the document `session` holds, once its text is read and checked.
    pub(crate) fn new(py: Python<'_>, session: Session) -> PyResult<Update> {
        let name = session.name().to_owned();
        let (session, read) = py.detach(move || {
            let read = session.current();
            (session, read)
        });
        let text = read.raise(py)?.map(|snapshot| snapshot.content);
        let shape =
            text.as_deref().map(|text| document::check(Format::of(&name), &name, text)).transpose().raise(py)?;
        let depth = shape.map_or(0, |shape| shape.depth);
        Ok(Update { name, text, depth, session: Mutex::new(Some(session)) })
    }

    fn session(&self) -> MutexGuard<'_, Option<Session>> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[pymethods]
impl Update {
    /// The text read, `None` where there is no document.
    fn text(&self) -> Option<String> {
        self.text.clone()
    }

    /// Writes `new` (the block's document, JSON) as the changes it makes to the text read,
    /// and ends the session. Returns the new revision, or `None` where it changes nothing
    /// (nothing is written).
    fn commit(&self, py: Python<'_>, new: &str) -> PyResult<Option<String>> {
        let Some(session) = self.session().take() else {
            return Err(DomainError::new(ErrorKind::Conflict, format!("{}: the update has ended", self.name)))
                .raise(py);
        };
        let Some(text) = self.made_of(new).raise(py)? else {
            return Ok(None);
        };
        py.detach(move || session.commit(&text)).raise(py).map(Some)
    }

    /// Ends the session without writing (also what dropping it does).
    fn abort(&self) {
        drop(self.session().take());
    }
}

impl Update {
    /// The text that `new` makes of the text read: edits in place, or a rendered new
    /// document; `None` when it changes nothing.
    fn made_of(&self, new: &str) -> Result<Option<String>, DomainError> {
        let name = &self.name;
        // The block's document crosses as JSON, whatever the document's format (the
        // package has no override: a document is in the format its name says).
        let format = Format::of(name);
        let new: Root = document::parse(Format::Json, name, new)?;
        let old = match &self.text {
            Some(old_text) => document::parse(format, name, old_text)?,
            None if new.is_empty() => return Ok(None),
            None if format == Format::Json => return document::render(name, &new).map(Some),
            None => Root::new(),
        };
        let changes = service::changes_between(&old, &new);
        if changes.is_empty() {
            return Ok(None);
        }
        let prepared = service::prepare_all(format, name, changes)?;
        let old_text = self.text.as_deref().unwrap_or_default();
        let (splice, _answers) = service::apply_prepared_to_checked(name, self.text.as_deref(), self.depth, &prepared)?;
        splice.apply_to(old_text).map(Some).ok_or_else(|| service::unfit(name))
    }
}
