//! A complete wasmtime host for confine plugins: everything an embedder writes to grant a
//! plugin component one directory of configuration documents and run it.
//!
//! Usage: `confine-example-embedder DIR PLUGIN.wasm [ARGS...]`
//!
//! The plugin (a component of the `plugin` world in wit/confine.wit) reaches the documents
//! of DIR through `confine:config/config-repository`, and nothing else: its WASI context
//! has no files, no environment and no network, only stdout and stderr. The plugin's
//! error, or a host error (unreadable DIR, not a plugin, a trap), is printed on stderr and
//! the exit status is 1.
//!
//! A host that runs plugins it does not trust also bounds their memory and time
//! (`Store::limiter`, epoch deadlines, `ConfineCtx::with_deadline`), as `confine::Runtime`
//! does; they are left out here to keep the essentials in view.

use cap_std::{ambient_authority, fs::Dir};
use confine::{ConfineCtx, ConfineView, Options, Repository};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::error::Context;
use wasmtime::{Engine, Result, Store, bail};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

// Typed access to the `plugin` world: `Plugin::instantiate` checks that the component is
// one, `call_run` calls its `run` export. Its import, the repository port, is not
// implemented here: `confine::add_to_linker` provides it.
#[allow(dead_code)]
mod bindings {
    wasmtime::component::bindgen!({ path: "../../wit", world: "plugin" });
}

/// What each store holds: the granted directory, the WASI context and their resources.
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

fn main() -> Result<()> {
    let mut argv = std::env::args().skip(1);
    let (Some(dir), Some(wasm)) = (argv.next(), argv.next()) else {
        bail!("usage: confine-example-embedder DIR PLUGIN.wasm [ARGS...]");
    };
    let args: Vec<String> = argv.collect();

    // One engine and one linker serve any number of plugins and stores.
    let engine = Engine::default();
    let mut linker = Linker::<Host>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?; // what Rust's std needs on wasm32-wasip2
    confine::add_to_linker(&mut linker, |h: &mut Host| ConfineView { ctx: &mut h.confine, table: &mut h.table })?;

    // The plugin's one capability: the documents of DIR. Ambient authority is used here only.
    let granted = Dir::open_ambient_dir(&dir, ambient_authority()).with_context(|| format!("cannot open {dir}"))?;
    let host = Host {
        confine: ConfineCtx::new(Repository::new(granted, Options::default(), confine::Documents::default())),
        wasi: WasiCtx::builder().inherit_stdout().inherit_stderr().build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&engine, host);

    let component = Component::from_file(&engine, &wasm).with_context(|| format!("cannot load {wasm}"))?;
    let plugin = bindings::Plugin::instantiate(&mut store, &component, &linker)
        .with_context(|| format!("{wasm} is not a component of the `plugin` world"))?;
    match plugin.call_run(&mut store, &args)? {
        Ok(()) => {
            eprintln!("{wasm}: ok");
            Ok(())
        }
        Err(message) => bail!("the plugin reported: {message}"),
    }
}
