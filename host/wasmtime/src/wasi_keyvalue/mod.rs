//! The standard interfaces `wasi:keyvalue/{store, atomics, batch}` (package
//! `wasi:keyvalue@0.2.0-draft`, vendored in `wit/deps/wasi-keyvalue/`) over confine
//! documents, so that a component written to that standard keeps its data durably, shares
//! it atomically with other processes and plugins, and reaches nothing outside the
//! directory granted.
//!
//! In the style of `wasmtime-wasi-keyvalue`: a context ([`WasiKeyValueCtx`]), a borrowed
//! view ([`WasiKeyValueView`]) that implements the generated `Host` traits, and
//! [`add_wasi_keyvalue_to_linker`] (and [`add_wasi_keyvalue_to_linker_async`]).
//!
//! # Buckets, keys and values
//!
//! | `wasi:keyvalue` | confine |
//! | --- | --- |
//! | a bucket, `store.open(identifier)` | the document of that name in the repository, by the usual name rules; `""` is the context's default document |
//! | a key | a top-level member of the document, named literally (`a.b` is one name, not a path) |
//! | a value set as UTF-8 bytes | a JSON string member; read back as exactly the same bytes |
//! | a member that is not a string (`8080`, `{"a":1}`, written by `confine set` or by hand) | read as its compact JSON text |
//! | a value that is not UTF-8 | refused: `other`, naming the key; nothing written |
//!
//! - `open` creates nothing: a missing document is an empty bucket, created by its first
//!   write. A name the rules refuse (absolute, `..`, a lock or temp file's name, a symlink
//!   out of the directory) is `access-denied`; a name in a directory that does not exist is
//!   `no-such-store`, as is `""` without a default document. (The WIT cases carry no text,
//!   so the reason is not told to the component.)
//! - `atomics.increment` works on a member that holds an integer or a string of decimal
//!   digits, creates a missing key at 0, is exact, refuses a result outside `u64` (the
//!   type it answers with), and leaves a JSON integer in the document.
//! - `list-keys` returns every member in document order at once, with no cursor; a cursor
//!   given is an offset (the members after the first `n`).
//! - `get-many` answers each key in order.
//!
//! # Guarantees
//!
//! Every write (`set`, `delete`, `increment`, `set-many`, `delete-many`) is one update of the
//! document under its lock, with the store's atomic, durable write: it interoperates with
//! `confine` changes and with programs that lock `<name>.lock` (`lockf`, `flock`, per
//! platform as the store's lock says), and concurrent writers of
//! one process share lock holds and fsyncs (group commit). `set-many` and `delete-many` are
//! all-or-nothing in one write, which is stronger than the draft asks (it allows partial
//! batches). Reads are lock-free snapshots of one committed version; a write is visible to
//! every reader once it returns. The document's layout is kept (a change rewrites only the
//! bytes of the members it changes).
//!
//! # Limits
//!
//! A store holds at most [`MAX_OPEN_BUCKETS`] open buckets; past that `open` answers
//! `other`. A document over the repository's size limit is refused (`other`). A document
//! that is not a JSON object answers `other` with its line and column, and is left alone.

use std::time::Instant;

use confine_domain::format::Format;
use confine_store::Repository;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use crate::deadline::lock_waits_until;
use crate::generated::wasi_keyvalue::sync::wasi::keyvalue::{atomics, batch, store};
use crate::resources::Bucket;

mod asynchronous;
mod buckets;

pub use asynchronous::add_wasi_keyvalue_to_linker_async;
pub(crate) use buckets::Document;
use buckets::{KvError, Pair};

/// How many buckets one store may hold open at once.
pub const MAX_OPEN_BUCKETS: usize = 1024;

/// What `wasi:keyvalue` answers from: the documents of a [`Repository`], or nothing.
pub struct WasiKeyValueCtx {
    grant: Option<Grant>,
    open_buckets: usize,
}

/// The repository granted, its default document, the format of its documents if not the
/// one each name says, and the deadline of its lock waits.
#[derive(Clone)]
struct Grant {
    repository: Repository,
    default_document: Option<String>,
    format: Option<Format>,
    deadline: Option<Instant>,
}

impl WasiKeyValueCtx {
    /// Grants the documents of `repository` as buckets, `default_document` as the bucket of
    /// the empty identifier. The component gets no other access to the repository.
    pub fn new(repository: Repository, default_document: Option<&str>) -> WasiKeyValueCtx {
        let grant =
            Grant { repository, default_document: default_document.map(str::to_owned), format: None, deadline: None };
        WasiKeyValueCtx { grant: Some(grant), open_buckets: 0 }
    }

    /// Grants nothing: every `open` is `access-denied`.
    pub fn none() -> WasiKeyValueCtx {
        WasiKeyValueCtx { grant: None, open_buckets: 0 }
    }

    /// Ends every wait for a document's lock at `deadline`, as
    /// [`ConfineCtx::with_deadline`](crate::ConfineCtx::with_deadline) does.
    pub fn with_deadline(self, deadline: Instant) -> WasiKeyValueCtx {
        let grant = self.grant.map(|grant| Grant { deadline: Some(deadline), ..grant });
        WasiKeyValueCtx { grant, ..self }
    }

    /// Reads and changes every bucket's document in `format`, whatever its name says (a
    /// command's `--format`); give the repository the same ([`Documents::all`](crate::Documents::all)).
    pub fn with_format(self, format: Format) -> WasiKeyValueCtx {
        let grant = self.grant.map(|grant| Grant { format: Some(format), ..grant });
        WasiKeyValueCtx { grant, ..self }
    }

    /// The repository granted, if any.
    pub fn repository(&self) -> Option<&Repository> {
        self.grant.as_ref().map(|grant| &grant.repository)
    }

    /// The repository, its lock waits cut at the deadline.
    fn granted(&self) -> Option<Repository> {
        self.grant.as_ref().map(|grant| lock_waits_until(&grant.repository, grant.deadline))
    }
}

/// A borrowed view of a store's `wasi:keyvalue` state: what the generated `Host` traits are
/// implemented on. Build one from your store data in the closure given to
/// [`add_wasi_keyvalue_to_linker`].
pub struct WasiKeyValueView<'a> {
    /// The interfaces' context.
    pub ctx: &'a mut WasiKeyValueCtx,
    /// The table that holds the component's bucket resources.
    pub table: &'a mut ResourceTable,
}

/// Adds `wasi:keyvalue/store`, `atomics` and `batch` to `linker`. `view` picks the context
/// and the resource table out of your store data.
///
/// ```no_run
/// use confine::{Options, Repository, WasiKeyValueCtx, WasiKeyValueView};
/// use cap_std::{ambient_authority, fs::Dir};
/// use wasmtime::component::{Linker, ResourceTable};
///
/// struct State { keyvalue: WasiKeyValueCtx, table: ResourceTable /* , your WASI ctx ... */ }
///
/// # fn main() -> wasmtime::Result<()> {
/// let dir = Dir::open_ambient_dir("/etc/myapp", ambient_authority())?;
/// let engine = wasmtime::Engine::default();
/// let mut linker = Linker::<State>::new(&engine);
/// confine::add_wasi_keyvalue_to_linker(&mut linker, |s: &mut State| WasiKeyValueView {
///     ctx: &mut s.keyvalue,
///     table: &mut s.table,
/// })?;
/// let repository = Repository::new(dir, Options::default(), confine::Documents::default());
/// let state = State { keyvalue: WasiKeyValueCtx::new(repository, Some("app.json")), table: ResourceTable::new() };
/// # let _ = state; Ok(()) }
/// ```
///
/// # Errors
/// If an interface is already defined in `linker`.
pub fn add_wasi_keyvalue_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> WasiKeyValueView<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasWasiKeyValue>(linker, view)?;
    atomics::add_to_linker::<T, HasWasiKeyValue>(linker, view)?;
    batch::add_to_linker::<T, HasWasiKeyValue>(linker, view)
}

struct HasWasiKeyValue;

impl HasData for HasWasiKeyValue {
    type Data<'a> = WasiKeyValueView<'a>;
}

type Answer<T> = wasmtime::Result<Result<T, store::Error>>;

/// The bookkeeping of bucket resources, shared by the sync and the async bindings.
impl WasiKeyValueView<'_> {
    /// The repository and the document of `bucket`.
    fn bucket(&self, bucket: &Resource<Bucket>) -> wasmtime::Result<Result<(Repository, Document), KvError>> {
        let document = self.table.get(bucket)?.document.clone();
        Ok(self.ctx.granted().map(|repository| (repository, document)).ok_or(KvError::AccessDenied))
    }

    /// Checks that another bucket may be opened: the grant, and the limit.
    fn may_open(&self) -> Result<Grant, KvError> {
        let grant = self.ctx.grant.clone().ok_or(KvError::AccessDenied)?;
        if self.ctx.open_buckets >= MAX_OPEN_BUCKETS {
            return Err(KvError::Other(format!(
                "too many open buckets (at most {MAX_OPEN_BUCKETS} per component instance)"
            )));
        }
        Ok(Grant { repository: lock_waits_until(&grant.repository, grant.deadline), ..grant })
    }

    fn push_bucket(&mut self, document: Document) -> wasmtime::Result<Resource<Bucket>> {
        let bucket = self.table.push(Bucket { document })?;
        self.ctx.open_buckets += 1;
        Ok(bucket)
    }

    fn drop_bucket(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        self.ctx.open_buckets -= 1;
        Ok(())
    }
}

/// Runs `work` on the bucket's repository and document, and answers in the WIT's terms.
fn on_bucket<T>(
    view: &WasiKeyValueView<'_>,
    bucket: &Resource<Bucket>,
    work: impl FnOnce(&Repository, &Document) -> Result<T, KvError>,
) -> Answer<T> {
    Ok(view.bucket(bucket)?.and_then(|(repository, document)| work(&repository, &document)).map_err(Into::into))
}

impl store::Host for WasiKeyValueView<'_> {
    fn open(&mut self, identifier: String) -> Answer<Resource<Bucket>> {
        match self.may_open().and_then(|grant| {
            buckets::open(&grant.repository, grant.default_document.as_deref(), grant.format, &identifier)
        }) {
            Ok(document) => self.push_bucket(document).map(Ok),
            Err(e) => Ok(Err(e.into())),
        }
    }
}

impl store::HostBucket for WasiKeyValueView<'_> {
    fn get(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<Option<Vec<u8>>> {
        on_bucket(self, &bucket, |repository, document| buckets::get(repository, document, &key))
    }

    fn set(&mut self, bucket: Resource<Bucket>, key: String, value: Vec<u8>) -> Answer<()> {
        on_bucket(self, &bucket, |repository, document| buckets::set_many(repository, document, vec![(key, value)]))
    }

    fn delete(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<()> {
        on_bucket(self, &bucket, |repository, document| buckets::delete_many(repository, document, vec![key]))
    }

    fn exists(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<bool> {
        on_bucket(self, &bucket, |repository, document| buckets::exists(repository, document, &key))
    }

    fn list_keys(&mut self, bucket: Resource<Bucket>, cursor: Option<u64>) -> Answer<store::KeyResponse> {
        on_bucket(self, &bucket, |repository, document| {
            buckets::list_keys(repository, document, cursor).map(|keys| store::KeyResponse { keys, cursor: None })
        })
    }

    fn drop(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.drop_bucket(bucket)
    }
}

impl atomics::Host for WasiKeyValueView<'_> {
    fn increment(&mut self, bucket: Resource<Bucket>, key: String, delta: u64) -> Answer<u64> {
        on_bucket(self, &bucket, |repository, document| buckets::increment(repository, document, &key, delta))
    }
}

impl batch::Host for WasiKeyValueView<'_> {
    fn get_many(&mut self, bucket: Resource<Bucket>, keys: Vec<String>) -> Answer<Vec<Option<Pair>>> {
        on_bucket(self, &bucket, |repository, document| buckets::get_many(repository, document, keys))
    }

    fn set_many(&mut self, bucket: Resource<Bucket>, key_values: Vec<Pair>) -> Answer<()> {
        on_bucket(self, &bucket, |repository, document| buckets::set_many(repository, document, key_values))
    }

    fn delete_many(&mut self, bucket: Resource<Bucket>, keys: Vec<String>) -> Answer<()> {
        on_bucket(self, &bucket, |repository, document| buckets::delete_many(repository, document, keys))
    }
}
