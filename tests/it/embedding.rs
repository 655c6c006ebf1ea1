//! An embedder's own wasmtime host gives components the port with `add_to_linker`, exactly
//! as docs/embedding.md shows, and the runtime's service answers with typed errors. An embedder
//! whose components are called with the `*_async` methods uses `add_to_linker_async`: the
//! port's blocking work (a wait for a lock, fsyncs) then runs off the executor, which keeps
//! serving its other tasks meanwhile.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine::{
    ConfineCtx, ConfineView, Options, Repository, Runtime, RuntimeOptions, ServiceErrorKind, WasiKeyValueCtx,
    WasiKeyValueView,
};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
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
        confine: ConfineCtx::new(Repository::new(granted, Options::default(), confine::Documents::default())),
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&engine, host);
    let component = Component::from_file(&engine, crate::support::probe_plugin())?;
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
    let repo = crate::support::repository(dir.path());
    let runtime =
        Runtime::new(RuntimeOptions { cache_dir: Some(crate::support::cache_dir()), ..RuntimeOptions::default() })
            .unwrap();
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
    runtime.set(&crate::support::repository(dir.path()), "a.json", "k", "1").unwrap();
    assert_eq!(std::fs::read(&entry).unwrap(), bytes);
    assert_eq!(entries(), [entry]);
}

/// Runs the probe plugin with `args` on `dir` in an async engine.
async fn run_plugin(dir: &std::path::Path, args: &[&str]) -> wasmtime::Result<Result<(), String>> {
    let engine = Engine::new(&Config::new())?;
    let mut linker = Linker::<Host>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    confine::add_to_linker_async(&mut linker, |h: &mut Host| ConfineView { ctx: &mut h.confine, table: &mut h.table })?;

    let granted = Dir::open_ambient_dir(dir, ambient_authority())?;
    let host = Host {
        confine: ConfineCtx::new(Repository::new(granted, Options::default(), confine::Documents::default())),
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&engine, host);
    let component = Component::from_file(&engine, crate::support::probe_plugin())?;
    let instance = linker.instantiate_async(&mut store, &component).await?;
    let run = instance.get_typed_func::<(Vec<String>,), (Result<(), String>,)>(&mut store, "run")?;
    let (answer,) = run.call_async(&mut store, (args.iter().map(|a| a.to_string()).collect(),)).await?;
    Ok(answer)
}

#[test]
fn async_embedder_runs_a_plugin_with_add_to_linker_async() {
    let dir = tempfile::tempdir().unwrap();
    let executor = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let answer = executor.block_on(run_plugin(dir.path(), &["incr", "app.json", "n", "3"])).unwrap();
    assert_eq!(answer, Ok(()));
    let answer = executor.block_on(run_plugin(dir.path(), &["cas-incr", "app.json", "n", "2"])).unwrap();
    assert_eq!(answer, Ok(()));
    assert_eq!(crate::support::repository(dir.path()).read("app.json").unwrap().content, "{\"n\":5}");
    let refused = executor.block_on(run_plugin(dir.path(), &["read", "../x.json"])).unwrap();
    assert!(refused.unwrap_err().contains("InvalidPath"));
}

/// Holds `document`'s lock from another thread for `time`, then lets go.
fn hold_for(repository: &Repository, document: &str, time: Duration) -> std::thread::JoinHandle<()> {
    let session = repository.open_session(document, None).unwrap();
    std::thread::spawn(move || {
        std::thread::sleep(time);
        drop(session);
    })
}

/// Runs `work` on a one-thread executor beside a task that ticks every 5 ms, and returns
/// its output and the ticks counted meanwhile: if `work` blocked the thread, none would be.
fn counting_ticks<T>(executor: &tokio::runtime::Runtime, work: impl Future<Output = T>) -> (T, usize) {
    let ticks = Arc::new(AtomicUsize::new(0));
    let output = executor.block_on(async {
        let counter = Arc::clone(&ticks);
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let output = work.await;
        ticker.abort();
        output
    });
    (output, ticks.load(Ordering::SeqCst))
}

#[test]
fn a_lock_wait_does_not_block_the_executor() {
    let dir = tempfile::tempdir().unwrap();
    let repository = crate::support::repository(dir.path());
    // Another thread holds the document for a while; the plugin's session waits for it.
    // Held long enough that a free executor ticks well over 10 times even on a machine the
    // parallel suites load (400 ms once gave fewer there).
    let holder = hold_for(&repository, "app.json", Duration::from_millis(1000));
    let executor = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (answer, ticks) = counting_ticks(&executor, run_plugin(dir.path(), &["incr", "app.json", "n", "1"]));
    holder.join().unwrap();
    assert_eq!(answer.unwrap(), Ok(()));
    assert_eq!(repository.read("app.json").unwrap().content, "{\"n\":1}");
    assert!(ticks >= 10, "the executor was blocked during the lock wait: {ticks} ticks in 1 s");
}

/// A host of standard commands with `wasi:keyvalue`.
struct KeyValueHost {
    wasi: WasiCtx,
    table: ResourceTable,
    keyvalue: WasiKeyValueCtx,
}

impl WasiView for KeyValueHost {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// Runs the keyvalue probe command with `args` over `dir` in an async engine; its exit.
async fn run_keyvalue_command(dir: &std::path::Path, args: &[&str]) -> wasmtime::Result<Result<(), ()>> {
    let engine = Engine::new(&Config::new())?;
    let mut linker = Linker::<KeyValueHost>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    confine::add_wasi_keyvalue_to_linker_async(&mut linker, |h: &mut KeyValueHost| WasiKeyValueView {
        ctx: &mut h.keyvalue,
        table: &mut h.table,
    })?;
    let granted = Dir::open_ambient_dir(dir, ambient_authority())?;
    let host = KeyValueHost {
        wasi: WasiCtx::builder().args(&[&["probe"], args].concat()).build(),
        table: ResourceTable::new(),
        keyvalue: WasiKeyValueCtx::new(
            Repository::new(granted, Options::default(), confine::Documents::default()),
            Some("kv.json"),
        ),
    };
    let mut store = Store::new(&engine, host);
    let component = Component::from_file(&engine, crate::support::keyvalue_probe())?;
    let command = wasmtime_wasi::p2::bindings::Command::instantiate_async(&mut store, &component, &linker).await?;
    command.wasi_cli_run().call_run(&mut store).await
}

#[test]
fn async_embedder_runs_a_wasi_keyvalue_command_and_its_lock_waits_leave_the_executor_free() {
    let dir = tempfile::tempdir().unwrap();
    let repository = crate::support::repository(dir.path());
    let holder = hold_for(&repository, "kv.json", Duration::from_millis(1000));
    let executor = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (exit, ticks) = counting_ticks(&executor, run_keyvalue_command(dir.path(), &["incr", "", "n", "2", "10"]));
    holder.join().unwrap();
    assert_eq!(exit.unwrap(), Ok(()), "the command's increments all succeeded");
    let stored: serde_json::Value = serde_json::from_str(&repository.read("kv.json").unwrap().content).unwrap();
    assert_eq!(stored["n"], 20, "10 increments of 2 through the async binding");
    assert!(ticks >= 10, "the executor was blocked during the lock wait: {ticks} ticks in 1 s");
    // A name outside the grant is refused, and the command says so by a failing exit.
    match executor.block_on(run_keyvalue_command(dir.path(), &["open", "../x.json"])) {
        Ok(Err(())) => {}
        Err(e) => assert!(matches!(e.downcast_ref::<wasmtime_wasi::I32Exit>(), Some(code) if code.0 != 0), "{e:#}"),
        Ok(Ok(())) => panic!("the open of ../x.json succeeded"),
    }
}

/// A runtime without an instance pool (what a one-command process uses) gives the same
/// answers and keeps the same memory limit as the pooled one.
#[test]
fn the_runtime_without_a_pool_answers_alike_and_keeps_the_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let repo = crate::support::repository(dir.path());
    let big = format!("{{\"n\": 1, \"pad\": \"{}\"}}", "x".repeat(3 << 20));
    std::fs::write(dir.path().join("big.json"), &big).unwrap();
    for instance_pool in [true, false] {
        let runtime = Runtime::new(RuntimeOptions {
            cache_dir: Some(crate::support::cache_dir()),
            memory_limit: 4 << 20,
            instance_pool,
            ..RuntimeOptions::default()
        })
        .unwrap();
        runtime.set(&repo, "a.json", "k", "1").unwrap();
        assert_eq!(runtime.incr(&repo, "a.json", "k", "2").unwrap(), "3", "pool: {instance_pool}");
        match runtime.incr(&repo, "big.json", "n", "1") {
            Err(confine::ServiceError::Guest(message)) => {
                assert!(message.contains("past the limit of 4194304 bytes"), "pool: {instance_pool}: {message}");
            }
            other => panic!("pool: {instance_pool}: a 3 MiB document in 4 MiB of guest memory: {other:?}"),
        }
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("big.json")).unwrap(), big, "nothing written");
}
