//! Finds the domain guest component that `make guest` builds, so that the `confine`
//! binary can embed it and needs no file beside it.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=CONFINE_GUEST_WASM");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    let wasm = match std::env::var_os("CONFINE_GUEST_WASM") {
        Some(path) => PathBuf::from(path),
        None => {
            let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| manifest.join("..").join("target"));
            target.join("wasm32-wasip2").join("release").join("confine_guest.wasm")
        }
    };
    if !wasm.is_file() {
        eprintln!(
            "error: the domain guest component {} is missing.\n\
             Build it first with `make guest` (or `make test` / `make run`, which do it for you).",
            wasm.display()
        );
        std::process::exit(1);
    }
    println!("cargo:rerun-if-changed={}", wasm.display());
    println!("cargo:rustc-env=CONFINE_GUEST_WASM={}", wasm.display());
}
