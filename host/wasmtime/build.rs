//! Finds the domain guest component to embed, so that a binary built on this crate needs no
//! file beside it: the one `CONFINE_GUEST_WASM` names (the Makefile sets it to the guest it
//! has just built), or else the one shipped in this crate (`guest/confine_guest.wasm`, built
//! reproducibly by `make ship-guest`; `make test` fails when a fresh build differs from it),
//! so that `cargo install` and `cargo package` need no make. It also computes the guest's
//! digest, the key of its compiled-code cache entry.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

fn main() {
    println!("cargo:rerun-if-env-changed=CONFINE_GUEST_WASM");
    let wasm = match std::env::var_os("CONFINE_GUEST_WASM") {
        Some(path) => PathBuf::from(path),
        None => shipped(),
    };
    if !wasm.is_file() {
        eprintln!(
            "error: the domain guest component {} is missing.\n\
             Build it with `make guest` and name it with CONFINE_GUEST_WASM, or restore the\n\
             one this crate ships (guest/confine_guest.wasm).",
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

/// The guest this crate ships.
fn shipped() -> PathBuf {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    manifest.join("guest").join("confine_guest.wasm")
}
