//! `wasi:keyvalue` for async hosts (components called with wasmtime's `*_async` methods):
//! the same calls as the sync binding, each run on tokio's blocking pool (lock waits,
//! reads and fsyncs block), so the executor keeps serving other tasks.

use confine_store::Repository;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::runtime::spawn_blocking;

use super::buckets::{self, Document, KvError, Pair};
use super::{Bucket, HasWasiKeyValue, WasiKeyValueView};
use crate::generated::wasi_keyvalue::asynchronous::wasi::keyvalue::{atomics, batch, store};

type Answer<T> = wasmtime::Result<Result<T, store::Error>>;

/// Adds `wasi:keyvalue/store`, `atomics` and `batch` to a `linker` whose components are
/// instantiated and called with wasmtime's `*_async` methods; otherwise as
/// [`add_wasi_keyvalue_to_linker`](crate::add_wasi_keyvalue_to_linker).
///
/// # Errors
/// If an interface is already defined in `linker`.
pub fn add_wasi_keyvalue_to_linker_async<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> WasiKeyValueView<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasWasiKeyValue>(linker, view)?;
    atomics::add_to_linker::<T, HasWasiKeyValue>(linker, view)?;
    batch::add_to_linker::<T, HasWasiKeyValue>(linker, view)
}

/// Runs `work` on the bucket's repository and document off the executor. The bucket is
/// looked up before the future starts, so the future holds nothing of the store's table.
fn on_bucket<T: Send + 'static>(
    view: &WasiKeyValueView<'_>,
    bucket: &Resource<Bucket>,
    work: impl FnOnce(&Repository, &Document) -> Result<T, KvError> + Send + 'static,
) -> impl Future<Output = Answer<T>> + Send + 'static {
    let found = view.bucket(bucket);
    async move {
        let (repository, document) = match found? {
            Ok(found) => found,
            Err(e) => return Ok(Err(e.into())),
        };
        Ok(spawn_blocking(move || work(&repository, &document)).await.map_err(Into::into))
    }
}

impl store::Host for WasiKeyValueView<'_> {
    async fn open(&mut self, identifier: String) -> Answer<Resource<Bucket>> {
        let grant = match self.may_open() {
            Ok(grant) => grant,
            Err(e) => return Ok(Err(e.into())),
        };
        let opened = spawn_blocking(move || {
            buckets::open(&grant.repository, grant.default_document.as_deref(), grant.format, &identifier)
        })
        .await;
        match opened {
            Ok(document) => self.push_bucket(document).map(Ok),
            Err(e) => Ok(Err(e.into())),
        }
    }
}

impl store::HostBucket for WasiKeyValueView<'_> {
    async fn get(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<Option<Vec<u8>>> {
        on_bucket(self, &bucket, move |repository, document| buckets::get(repository, document, &key)).await
    }

    async fn set(&mut self, bucket: Resource<Bucket>, key: String, value: Vec<u8>) -> Answer<()> {
        on_bucket(self, &bucket, move |repository, document| {
            buckets::set_many(repository, document, vec![(key, value)])
        })
        .await
    }

    async fn delete(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<()> {
        on_bucket(self, &bucket, move |repository, document| buckets::delete_many(repository, document, vec![key]))
            .await
    }

    async fn exists(&mut self, bucket: Resource<Bucket>, key: String) -> Answer<bool> {
        on_bucket(self, &bucket, move |repository, document| buckets::exists(repository, document, &key)).await
    }

    async fn list_keys(&mut self, bucket: Resource<Bucket>, cursor: Option<u64>) -> Answer<store::KeyResponse> {
        on_bucket(self, &bucket, move |repository, document| {
            buckets::list_keys(repository, document, cursor).map(|keys| store::KeyResponse { keys, cursor: None })
        })
        .await
    }

    async fn drop(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.drop_bucket(bucket)
    }
}

impl atomics::Host for WasiKeyValueView<'_> {
    async fn increment(&mut self, bucket: Resource<Bucket>, key: String, delta: u64) -> Answer<u64> {
        on_bucket(self, &bucket, move |repository, document| buckets::increment(repository, document, &key, delta))
            .await
    }
}

impl batch::Host for WasiKeyValueView<'_> {
    async fn get_many(&mut self, bucket: Resource<Bucket>, keys: Vec<String>) -> Answer<Vec<Option<Pair>>> {
        on_bucket(self, &bucket, move |repository, document| buckets::get_many(repository, document, keys)).await
    }

    async fn set_many(&mut self, bucket: Resource<Bucket>, key_values: Vec<Pair>) -> Answer<()> {
        on_bucket(self, &bucket, move |repository, document| buckets::set_many(repository, document, key_values)).await
    }

    async fn delete_many(&mut self, bucket: Resource<Bucket>, keys: Vec<String>) -> Answer<()> {
        on_bucket(self, &bucket, move |repository, document| buckets::delete_many(repository, document, keys)).await
    }
}
