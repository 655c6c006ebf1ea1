//! An embedder's own wasmtime host gives components the port with `add_to_linker`, exactly
//! as the README shows, and the runtime's service answers with typed errors.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod support;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine::{ConfineCtx, ConfineView, Options, Repository, Runtime, RuntimeOptions, ServiceErrorKind};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

struct Host {
    confine: ConfineCtx,
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

#[test]
fn embedder_runs_a_plugin_with_add_to_linker() -> wasmtime::Result<()> {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::default();
    let mut linker = Linker::<Host>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    confine::add_to_linker(&mut linker, |h: &mut Host| ConfineView { ctx: &mut h.confine, table: &mut h.table })?;

    let granted = Dir::open_ambient_dir(dir.path(), ambient_authority())?;
    let host = Host {
        confine: ConfineCtx::new(Repository::new(granted, Options::default())),
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&engine, host);
    let component = Component::from_file(&engine, support::probe_plugin())?;
    let instance = linker.instantiate(&mut store, &component)?;
    let run = instance.get_typed_func::<(Vec<String>,), (Result<(), String>,)>(&mut store, "run")?;
    let args = ["incr", "app.json", "n", "3"].map(String::from).to_vec();
    let (answer,) = run.call(&mut store, (args,))?;
    assert_eq!(answer, Ok(()));
    assert_eq!(store.data().confine.repository().read("app.json").unwrap().content, "{\"n\":3}");
    Ok(())
}

#[test]
fn service_errors_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    let repo = support::repository(dir.path());
    let runtime =
        Runtime::new(RuntimeOptions { cache_dir: Some(support::cache_dir()), ..RuntimeOptions::default() }).unwrap();
    runtime.set(&repo, "a.json", "s", "\"x\"").unwrap();
    let kind = |r: Result<String, confine::ServiceError>| r.unwrap_err().kind();
    assert_eq!(kind(runtime.get(&repo, "b.json", "")), Some(ServiceErrorKind::NotFound));
    assert_eq!(kind(runtime.get(&repo, "a.json", "zz")), Some(ServiceErrorKind::NotFound));
    assert_eq!(kind(runtime.get(&repo, "../a.json", "")), Some(ServiceErrorKind::InvalidPath));
    assert_eq!(kind(runtime.get(&repo, "a.json", "a..b")), Some(ServiceErrorKind::InvalidKey));
    assert_eq!(kind(runtime.incr(&repo, "a.json", "s", "1")), Some(ServiceErrorKind::TypeMismatch));
    assert_eq!(kind(runtime.incr(&repo, "a.json", "n", "x")), Some(ServiceErrorKind::InvalidValue));
    assert_eq!(runtime.incr(&repo, "a.json", "n", "2.5").unwrap(), "2.5");
    assert_eq!(runtime.cat(&repo, "a.json").unwrap(), "{\n  \"s\": \"x\",\n  \"n\": 2.5\n}\n");
}

#[test]
fn compiled_guest_is_cached_and_a_corrupt_entry_is_replaced() {
    let cache = tempfile::tempdir().unwrap();
    let options = || RuntimeOptions { cache_dir: Some(cache.path().to_owned()), ..RuntimeOptions::default() };
    let entries =
        || -> Vec<std::path::PathBuf> { std::fs::read_dir(cache.path()).unwrap().map(|e| e.unwrap().path()).collect() };
    Runtime::new(options()).unwrap();
    let [entry] = entries().try_into().expect("one cache entry after the first start");
    let (bytes, modified) = (std::fs::read(&entry).unwrap(), std::fs::metadata(&entry).unwrap().modified().unwrap());

    // A second start loads the entry: it does not compile and store it again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    Runtime::new(options()).unwrap();
    assert_eq!(std::fs::metadata(&entry).unwrap().modified().unwrap(), modified);

    // A corrupt entry is not trusted: the guest is compiled again and the entry rewritten.
    std::fs::write(&entry, b"not machine code").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runtime = Runtime::new(options()).unwrap();
    runtime.set(&support::repository(dir.path()), "a.json", "k", "1").unwrap();
    assert_eq!(std::fs::read(&entry).unwrap(), bytes);
    assert_eq!(entries(), [entry]);
}
