//! An embedder whose engine has async support uses `add_to_linker_async`: the plugin runs
//! with the `*_async` calls, and the port's blocking work (a wait for a lock, fsyncs) runs
//! off the executor, which keeps serving its other tasks meanwhile.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine::{ConfineCtx, ConfineView, Options, Repository};
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

/// Runs the probe plugin with `args` on `dir` in an async engine.
async fn run_plugin(dir: &std::path::Path, args: &[&str]) -> wasmtime::Result<Result<(), String>> {
    let engine = Engine::new(&Config::new())?;
    let mut linker = Linker::<Host>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    confine::add_to_linker_async(&mut linker, |h: &mut Host| ConfineView { ctx: &mut h.confine, table: &mut h.table })?;

    let granted = Dir::open_ambient_dir(dir, ambient_authority())?;
    let host = Host {
        confine: ConfineCtx::new(Repository::new(granted, Options::default())),
        wasi: WasiCtx::builder().build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&engine, host);
    let component = Component::from_file(&engine, support::probe_plugin())?;
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
    assert_eq!(support::repository(dir.path()).read("app.json").unwrap().content, "{\"n\":5}");
    let refused = executor.block_on(run_plugin(dir.path(), &["read", "../x.json"])).unwrap();
    assert!(refused.unwrap_err().contains("InvalidPath"));
}

#[test]
fn a_lock_wait_does_not_block_the_executor() {
    let dir = tempfile::tempdir().unwrap();
    let repository = support::repository(dir.path());
    // Another thread holds the document for a while; the plugin's session waits for it.
    let session = repository.open_session("app.json", None).unwrap();
    let holder = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(400));
        drop(session);
    });
    // One thread runs everything async: if the wait blocked it, the ticker could not tick.
    let executor = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ticks = Arc::new(AtomicUsize::new(0));
    let answer = executor.block_on(async {
        let counter = Arc::clone(&ticks);
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(5)).await;
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        let answer = run_plugin(dir.path(), &["incr", "app.json", "n", "1"]).await;
        ticker.abort();
        answer
    });
    holder.join().unwrap();
    assert_eq!(answer.unwrap(), Ok(()));
    assert_eq!(repository.read("app.json").unwrap().content, "{\"n\":1}");
    let ticks = ticks.load(Ordering::SeqCst);
    assert!(ticks >= 10, "the executor was blocked during the lock wait: {ticks} ticks in 400 ms");
}
