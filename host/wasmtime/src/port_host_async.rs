//! The binding of `confine:config/config-repository` for async hosts, which instantiate
//! and call components with wasmtime's `*_async` methods: [`add_to_linker_async`].
//!
//! The port's work blocks (lock waits, reads, fsyncs), so each call runs it on tokio's
//! blocking pool (wasmtime-wasi's `spawn_blocking`) and awaits it: the executor thread stays
//! free for other tasks. The semantics are those of [`add_to_linker`](crate::add_to_linker),
//! with the same context, view, session resource and error mapping.

use confine_store::Snapshot;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::runtime::spawn_blocking;

use crate::errors::{session_ended, to_port};
use crate::generated::async_port as port;
use crate::port_host::{ConfineView, HasConfine, session_limit};
use crate::resources::GuestSession;

type Answer<T> = wasmtime::Result<Result<T, port::Error>>;

fn to_wit_snapshot(snapshot: Snapshot) -> port::Snapshot {
    port::Snapshot { content: snapshot.content, revision: snapshot.revision }
}

/// Adds the `confine:config/config-repository` interface to a `linker` whose components are
/// instantiated and called with wasmtime's `*_async` methods (what
/// `Config::async_support(true)` used to select); `view` picks the port's state out of your store data, as for
/// [`add_to_linker`](crate::add_to_linker). Instantiate and call with the `*_async` methods.
///
/// # Errors
/// If the interface is already defined in `linker`.
pub fn add_to_linker_async<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> ConfineView<'_>,
) -> wasmtime::Result<()> {
    port::add_to_linker::<T, HasConfine>(linker, view)
}

/// Runs blocking work off the executor and waits for it.
async fn blocking<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> R {
    spawn_blocking(work).await
}

impl port::Host for ConfineView<'_> {
    async fn read(&mut self, name: String) -> Answer<port::Snapshot> {
        let repository = self.ctx.until_deadline();
        Ok(blocking(move || repository.read(&name).map(to_wit_snapshot).map_err(to_port)).await)
    }

    async fn save(&mut self, name: String, content: String, expected: Option<String>) -> Answer<String> {
        let repository = self.ctx.until_deadline();
        Ok(blocking(move || repository.save(&name, &content, expected.as_deref()).map_err(to_port)).await)
    }

    async fn remove(&mut self, name: String) -> Answer<()> {
        let repository = self.ctx.until_deadline();
        Ok(blocking(move || repository.remove(&name).map_err(to_port)).await)
    }

    async fn list_documents(&mut self, directory: String) -> Answer<Vec<String>> {
        let repository = self.ctx.until_deadline();
        Ok(blocking(move || repository.list(&directory).map_err(to_port)).await)
    }
}

impl port::HostSession for ConfineView<'_> {
    async fn open(&mut self, name: String, timeout_ms: Option<u32>) -> Answer<Resource<GuestSession>> {
        if let Some(refusal) = self.ctx.refuse_another_session(&name) {
            return Ok(Err(refusal));
        }
        let repository = self.ctx.until_deadline();
        let timeout = session_limit(&repository, timeout_ms);
        match blocking(move || repository.open_session(&name, Some(timeout))).await {
            Ok(session) => self.push_session(session).map(Ok),
            Err(e) => Ok(Err(to_port(e))),
        }
    }

    async fn current(&mut self, this: Resource<GuestSession>) -> Answer<Option<port::Snapshot>> {
        // The session moves to the blocking pool for the read and back into the table.
        let Some(session) = self.table.get_mut(&this)?.0.take() else {
            return Ok(Err(session_ended()));
        };
        let (session, current) = blocking(move || {
            let current = session.current();
            (session, current)
        })
        .await;
        self.table.get_mut(&this)?.0 = Some(session);
        Ok(current.map(|s| s.map(to_wit_snapshot)).map_err(to_port))
    }

    async fn commit(&mut self, this: Resource<GuestSession>, content: String) -> Answer<String> {
        let Some(session) = self.end_session(&this)? else {
            return Ok(Err(session_ended()));
        };
        Ok(blocking(move || session.commit(&content).map_err(to_port)).await)
    }

    async fn abort(&mut self, this: Resource<GuestSession>) -> wasmtime::Result<()> {
        // Releasing the lock is a close(2): quick, no need for the blocking pool.
        drop(self.end_session(&this)?);
        Ok(())
    }

    async fn drop(&mut self, this: Resource<GuestSession>) -> wasmtime::Result<()> {
        self.delete_session(this)
    }
}
