//! Every binding generated from `wit/`, in one place, as wasmtime's `wasi-keyvalue` keeps
//! them. The generated modules are private to the crate; what it exposes are its own
//! types ([`GuestSession`](crate::GuestSession) is public only because `with:` needs it).

/// Synchronous hosts: the `domain` world (the port imported, `config-service` exported) and
/// the `plugin` world, which shares the port's generated module.
pub(crate) mod sync {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "domain",
        imports: { default: trappable },
        with: { "confine:config/config-repository.session": crate::resources::GuestSession },
    });

    pub(crate) mod plugin {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "plugin",
            imports: { default: trappable },
            with: { "confine:config/config-repository": super::confine::config::config_repository },
        });
    }
}

/// Async hosts (components called with wasmtime's `*_async` methods): the port, whose
/// host functions then run their blocking work off the executor.
pub(crate) mod asynchronous {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "plugin",
        imports: { default: async | trappable },
        with: { "confine:config/config-repository.session": crate::resources::GuestSession },
    });
}

/// The published `wasi:config/store` (vendored in `wit/deps/wasi-config`).
pub(crate) mod wasi_config {
    wasmtime::component::bindgen!({
        path: "wit/deps/wasi-config",
        world: "imports",
        imports: { default: trappable },
    });
}

/// The published `wasi:keyvalue@0.2.0-draft` (vendored in `wit/deps/wasi-keyvalue`), for
/// sync hosts and for async ones.
pub(crate) mod wasi_keyvalue {
    pub(crate) mod sync {
        wasmtime::component::bindgen!({
            path: "wit/deps/wasi-keyvalue",
            world: "imports",
            imports: { default: trappable },
            with: { "wasi:keyvalue/store.bucket": crate::resources::Bucket },
        });
    }

    pub(crate) mod asynchronous {
        wasmtime::component::bindgen!({
            path: "wit/deps/wasi-keyvalue",
            world: "imports",
            imports: { default: async | trappable },
            with: { "wasi:keyvalue/store.bucket": crate::resources::Bucket },
        });
    }
}

pub(crate) use asynchronous::confine::config::config_repository as async_port;
pub(crate) use sync::confine::config::config_repository as port;
pub(crate) use sync::exports::confine::config::config_service as service;
pub(crate) use wasi_config::wasi::config::store as wasi_config_store;
