//! Finds the domain guest component that `make guest` builds, so that the runtime can
//! embed it and a binary built on this crate needs no file beside it.
//!
//! `CONFINE_GUEST_WASM` names it (the Makefile sets it from `cargo metadata`'s target
//! directory); without it, the guest is looked for in this build's own target directory.
//! It also computes the guest's digest, the key of its compiled-code cache entry.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn main() {
    println!("cargo:rerun-if-env-changed=CONFINE_GUEST_WASM");
    let wasm = match std::env::var_os("CONFINE_GUEST_WASM") {
        Some(path) => PathBuf::from(path),
        None => target_dir().join("wasm32-wasip2").join("release").join("confine_guest.wasm"),
    };
    if !wasm.is_file() {
        eprintln!(
            "error: the domain guest component {} is missing.\n\
             Build it first with `make guest` (or `make test` / `make run`, which do it for you),\n\
             or name it with CONFINE_GUEST_WASM.",
            wasm.display()
        );
        std::process::exit(1);
    }
    println!("cargo:rerun-if-changed={}", wasm.display());
    println!("cargo:rustc-env=CONFINE_GUEST_WASM={}", wasm.display());
    // The guest's cache key (as `cache::digest` spells it), so that no start hashes it.
    let bytes = std::fs::read(&wasm).unwrap_or_else(|e| {
        eprintln!("error: cannot read the domain guest component {}: {e}", wasm.display());
        std::process::exit(1);
    });
    let digest: String = Sha256::digest(&bytes)[..12].iter().map(|b| format!("{b:02x}")).collect();
    println!("cargo:rustc-env=CONFINE_GUEST_DIGEST={digest}");
}

/// The target directory of this build: `OUT_DIR` is `<target>/<profile>/build/<pkg>/out`
/// (or `<target>/<triple>/<profile>/...` when cross-compiling); the target directory is
/// the nearest ancestor holding cargo's `CACHEDIR.TAG`.
fn target_dir() -> PathBuf {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    out.ancestors().find(|dir| dir.join("CACHEDIR.TAG").is_file()).map_or_else(|| out.clone(), Path::to_path_buf)
}
