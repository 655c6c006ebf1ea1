//! The compiled-component cache: compiling a component with Cranelift takes far longer than
//! loading its machine code, so the first start compiles and stores the result, and later
//! starts load it.
//!
//! An entry is keyed by a digest of the component's bytes and a hash of everything in the
//! engine that affects compiled code (wasmtime's `precompile_compatibility_hash`), so a
//! changed component, a new wasmtime or other engine settings never load stale code.
//! Entries are written by temp file and rename, so a crash never leaves a torn entry; an
//! entry that fails to load is compiled again and replaced. The cache is an optimisation
//! only: if it cannot be read or written, confine compiles and carries on.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::error::Context;

/// Loads `wasm` as a component, from `cache_dir` when a compatible entry is there.
/// `digest` is [`digest`] of `wasm` when it is known already (the embedded guest's).
pub(crate) fn load_component(
    engine: &Engine,
    wasm: &[u8],
    digest: Option<&str>,
    cache_dir: Option<&Path>,
) -> wasmtime::Result<Component> {
    let Some(entry) =
        cache_dir.map(|dir| entry_path(engine, digest.map_or_else(|| self::digest(wasm), str::to_owned), dir))
    else {
        return Component::new(engine, wasm).context("compile component");
    };
    if entry.is_file() {
        // SAFETY: `deserialize_file` trusts that the file holds code that this engine
        // compiled. The cache directory belongs to the user running confine, its entries
        // are only ever written whole (temp file + rename) by `store` below from
        // `Component::serialize`, and wasmtime itself checks the header and the engine
        // compatibility before using one. Someone who can write into this directory can
        // already run code as this user.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &entry) };
        if let Ok(component) = loaded {
            return Ok(component);
        }
    }
    let component = Component::new(engine, wasm).context("compile component")?;
    store(&component, &entry);
    Ok(component)
}

/// The part of a cache entry's name that names the component: 96 bits of its SHA-256, in
/// hex. The build script computes the embedded guest's in the same way.
pub(crate) fn digest(wasm: &[u8]) -> String {
    Sha256::digest(wasm)[..12].iter().map(|b| format!("{b:02x}")).collect()
}

fn entry_path(engine: &Engine, component: String, dir: &Path) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    dir.join(format!("{component}-{:016x}.cwasm", hasher.finish()))
}

/// Best effort: a cache that cannot be written only costs the next start a compile.
fn store(component: &Component, entry: &Path) {
    let Some(dir) = entry.parent() else { return };
    let Ok(bytes) = component.serialize() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let temp = entry.with_extension(format!("{}.tmp", std::process::id()));
    if std::fs::write(&temp, bytes).is_ok() && std::fs::rename(&temp, entry).is_ok() {
        return;
    }
    let _ = std::fs::remove_file(&temp);
}
