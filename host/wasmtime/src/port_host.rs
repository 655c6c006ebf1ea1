//! The port's host: the wasmtime binding of the WIT port `confine:config/config-repository`, in the style
//! of wasmtime's own `wasi-*` crates: a context, a borrowed view that implements the
//! generated `Host` traits, and one [`add_to_linker`] (and
//! [`add_to_linker_async`](crate::add_to_linker_async) for async engines).
//!
//! Two error layers: a `wasmtime::Result` error is a trap (a host bug or a bad resource
//! handle); the inner `Result<_, error>` is an answer the guest can act on. The mapping from
//! the store's `Error` to the WIT `error` is [`crate::errors::to_port`], the one place it
//! happens.

use std::time::{Duration, Instant};

use confine_store::{Repository, Session, Snapshot};
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::deadline::lock_waits_until;
use crate::errors::{session_ended, to_port, too_many_sessions};
use crate::generated::port;
use crate::resources::GuestSession;

/// How many sessions one store may hold open at once; each holds a descriptor and a lock.
pub const MAX_OPEN_SESSIONS: usize = 64;

/// The state the port needs in a store: the repository a component may use.
pub struct ConfineCtx {
    repository: Repository,
    open_sessions: usize,
    deadline: Option<Instant>,
}

impl ConfineCtx {
    /// Grants the component the documents of `repository`, and nothing else.
    pub fn new(repository: Repository) -> ConfineCtx {
        ConfineCtx { repository, open_sessions: 0, deadline: None }
    }

    /// Ends every wait for a lock at `deadline` (with
    /// [`Error::LockTimeout`](confine_store::Error::LockTimeout)). A host call that waits is not
    /// interrupted by wasmtime's epoch deadline, so a store with a deadline should give it
    /// here too: then a component that keeps waiting for locks is stopped on time.
    pub fn with_deadline(self, deadline: Instant) -> ConfineCtx {
        ConfineCtx { deadline: Some(deadline), ..self }
    }

    /// The repository granted.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The repository, with its lock waits cut at the deadline.
    pub(crate) fn until_deadline(&self) -> Repository {
        lock_waits_until(&self.repository, self.deadline)
    }

    /// Why an `open` is refused (an `io` error), if it would exceed [`MAX_OPEN_SESSIONS`].
    pub(crate) fn refuse_another_session<E: crate::errors::PortError>(&self, name: &str) -> Option<E> {
        (self.open_sessions >= MAX_OPEN_SESSIONS).then(|| {
            too_many_sessions(format!(
                "{name}: too many open sessions (at most {MAX_OPEN_SESSIONS} per component instance)"
            ))
        })
    }
}

/// A borrowed view of a store's state: what the generated `Host` traits are implemented on.
/// Build one from your store data in the closure given to [`add_to_linker`].
pub struct ConfineView<'a> {
    /// The port's context.
    pub ctx: &'a mut ConfineCtx,
    /// The table that holds the component's session resources.
    pub table: &'a mut ResourceTable,
}

/// Adds the `confine:config/config-repository` interface to `linker`. `view` picks the
/// port's state out of your store data.
///
/// ```no_run
/// use confine::{ConfineCtx, ConfineView, Options, Repository};
/// use cap_std::{ambient_authority, fs::Dir};
/// use wasmtime::component::{Linker, ResourceTable};
///
/// struct State { confine: ConfineCtx, table: ResourceTable }
///
/// # fn main() -> wasmtime::Result<()> {
/// let dir = Dir::open_ambient_dir("/etc/myapp", ambient_authority())?;
/// let engine = wasmtime::Engine::default();
/// let mut linker = Linker::<State>::new(&engine);
/// confine::add_to_linker(&mut linker, |s: &mut State| ConfineView { ctx: &mut s.confine, table: &mut s.table })?;
/// let state = State { confine: ConfineCtx::new(Repository::new(dir, Options::default(), confine::Documents::default())), table: ResourceTable::new() };
/// # let _ = state; Ok(()) }
/// ```
///
/// # Errors
/// If the interface is already defined in `linker`.
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, view: fn(&mut T) -> ConfineView<'_>) -> wasmtime::Result<()> {
    port::add_to_linker::<T, HasConfine>(linker, view)
}

pub(crate) struct HasConfine;

impl HasData for HasConfine {
    type Data<'a> = ConfineView<'a>;
}

type Answer<T> = wasmtime::Result<Result<T, port::Error>>;

/// How long `open` waits: the guest's timeout, capped at the repository's lock timeout
/// (already cut at the store's deadline by [`ConfineCtx::until_deadline`]).
pub(crate) fn session_limit(repository: &Repository, timeout_ms: Option<u32>) -> Duration {
    let limit = repository.options().lock_timeout;
    timeout_ms.map_or(limit, |ms| Duration::from_millis(ms.into()).min(limit))
}

/// The session bookkeeping shared by the sync and async bindings.
impl ConfineView<'_> {
    pub(crate) fn push_session(&mut self, session: Session) -> wasmtime::Result<Resource<GuestSession>> {
        let handle = self.table.push(GuestSession(Some(session)))?;
        self.ctx.open_sessions += 1;
        Ok(handle)
    }

    /// Takes the session out of its resource (committed or aborted); `None` if it had ended.
    pub(crate) fn end_session(&mut self, this: &Resource<GuestSession>) -> wasmtime::Result<Option<Session>> {
        let session = self.table.get_mut(this)?.0.take();
        if session.is_some() {
            self.ctx.open_sessions -= 1;
        }
        Ok(session)
    }

    pub(crate) fn delete_session(&mut self, this: Resource<GuestSession>) -> wasmtime::Result<()> {
        if self.table.delete(this)?.0.is_some() {
            self.ctx.open_sessions -= 1;
        }
        Ok(())
    }
}

impl port::Host for ConfineView<'_> {
    fn read(&mut self, name: String) -> Answer<port::Snapshot> {
        Ok(self.ctx.repository.read(&name).map(to_wit_snapshot).map_err(to_port))
    }

    fn save(&mut self, name: String, content: String, expected: Option<String>) -> Answer<String> {
        Ok(self.ctx.until_deadline().save(&name, &content, expected.as_deref()).map_err(to_port))
    }

    fn remove(&mut self, name: String) -> Answer<()> {
        Ok(self.ctx.until_deadline().remove(&name).map_err(to_port))
    }

    fn list_documents(&mut self, directory: String) -> Answer<Vec<String>> {
        Ok(self.ctx.repository.list(&directory).map_err(to_port))
    }
}

impl port::HostSession for ConfineView<'_> {
    /// A guest's timeout is capped at the repository's lock timeout, and at the store's
    /// deadline if it has one: a host call that sleeps is not interrupted by the epoch
    /// deadline, so the host bounds it.
    fn open(&mut self, name: String, timeout_ms: Option<u32>) -> Answer<Resource<GuestSession>> {
        if let Some(refusal) = self.ctx.refuse_another_session(&name) {
            return Ok(Err(refusal));
        }
        let repository = self.ctx.until_deadline();
        match repository.open_session(&name, Some(session_limit(&repository, timeout_ms))) {
            Ok(session) => self.push_session(session).map(Ok),
            Err(e) => Ok(Err(to_port(e))),
        }
    }

    fn current(&mut self, this: Resource<GuestSession>) -> Answer<Option<port::Snapshot>> {
        Ok(match &self.table.get(&this)?.0 {
            Some(session) => session.current().map(|s| s.map(to_wit_snapshot)).map_err(to_port),
            None => Err(session_ended()),
        })
    }

    fn commit(&mut self, this: Resource<GuestSession>, content: String) -> Answer<String> {
        Ok(match self.end_session(&this)? {
            Some(session) => session.commit(&content).map_err(to_port),
            None => Err(session_ended()),
        })
    }

    fn abort(&mut self, this: Resource<GuestSession>) -> wasmtime::Result<()> {
        drop(self.end_session(&this)?);
        Ok(())
    }

    fn drop(&mut self, this: Resource<GuestSession>) -> wasmtime::Result<()> {
        self.delete_session(this)
    }
}

fn to_wit_snapshot(snapshot: Snapshot) -> port::Snapshot {
    port::Snapshot { content: snapshot.content, revision: snapshot.revision }
}
