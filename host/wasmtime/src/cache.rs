//! The compiled-component cache: compiling a component with Cranelift takes far longer than
//! loading its machine code, so the first start compiles and stores the result, and later
//! starts load it.
//!
//! An entry is keyed by a digest of the component's bytes and a hash of everything in the
//! engine that affects compiled code (wasmtime's `precompile_compatibility_hash`), so a
//! changed component, a new wasmtime or other engine settings never load stale code. An
//! entry that fails to load is compiled again and replaced. The cache is an optimisation
//! only: if it cannot be read or written, confine compiles and carries on.
//!
//! # What it trusts
//!
//! An entry is native code that runs with nothing checked but its header (wasmtime's): it
//! is trusted as the `confine` binary is. So the cache is used only where nobody but the
//! user running confine can have written it, as git does of a repository since
//! CVE-2022-24765 and OpenSSH's `StrictModes` of `~/.ssh`:
//!
//! - a missing directory is made `0700`, and so are the missing parents made with it;
//! - the directory must be owned by the effective user and writable by no one else (no
//!   group or other write bit);
//! - an entry is opened without following a symlink (`O_NOFOLLOW`) and loaded only if
//!   `fstat` of that descriptor shows a regular file with the same owner that no one else
//!   may write; what is loaded is that open file (mapped through `/proc/self/fd` on Linux,
//!   read through the descriptor elsewhere), never what its path names by then;
//! - an entry is written to a temp file of a random name, created exclusively (`O_CREAT |
//!   O_EXCL`, mode `0600`) in the directory, then renamed over the entry: a symlink at
//!   either name is replaced, never followed. A temp file that fails is removed.
//!
//! A directory that fails its check is neither read nor written: components are compiled
//! in memory, and [`Loaded::refusal`] says why, in a sentence for the user (the runtime
//! keeps it; the library prints nothing). An entry that fails its check is compiled
//! again and replaced, as a corrupt one is.
//!
//! Windows has no mode bits: there the directory must be inside the user's profile
//! (`%LOCALAPPDATA%` or `%USERPROFILE%`), whose ACL admits only the user and the system
//! unless someone changed it, and an entry must be a regular file (opened with
//! `FILE_FLAG_OPEN_REPARSE_POINT`, so a symlink or junction is not followed).
//!
//! # Limitations
//!
//! - The directory's parents are not checked (nor are they by git): whoever may rename in
//!   one of them may swap the directory between its check and an entry's. What is loaded
//!   is still a file of this user's that no one else may write.
//! - Nothing here defends against root, who can write anywhere. A process running as
//!   root trusts only a directory of root's (a user's cache under `sudo` is refused).

use std::collections::hash_map::DefaultHasher;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::error::Context;

/// A loaded component, and why the cache was not used when it was refused.
pub(crate) struct Loaded {
    pub(crate) component: Component,
    /// Why the cache directory was not trusted, for the user: nothing was read from it or
    /// written to it. `None` when it was used, or when there is none or it cannot be made
    /// (which costs a compile, and nothing else).
    pub(crate) refusal: Option<String>,
}

/// Loads `wasm` as a component, from `cache_dir` when a compatible entry is there.
/// `digest` is [`digest`] of `wasm` when it is known already (the embedded guest's).
pub(crate) fn load_component(
    engine: &Engine,
    wasm: &[u8],
    digest: Option<&str>,
    cache_dir: Option<&Path>,
) -> wasmtime::Result<Component> {
    Ok(load(engine, wasm, digest, cache_dir)?.component)
}

/// [`load_component`], saying why the cache was refused if it was.
pub(crate) fn load(
    engine: &Engine,
    wasm: &[u8],
    digest: Option<&str>,
    cache_dir: Option<&Path>,
) -> wasmtime::Result<Loaded> {
    let compile =
        |refusal| Ok(Loaded { component: Component::new(engine, wasm).context("compile component")?, refusal });
    let Some(dir) = cache_dir else { return compile(None) };
    match usable(dir) {
        Ok(true) => {}
        Ok(false) => return compile(None),
        Err(refusal) => return compile(Some(refusal)),
    }
    let entry = entry_path(engine, digest.map_or_else(|| self::digest(wasm), str::to_owned), dir);
    if let Some(code) = open_entry(&entry) {
        // SAFETY: deserializing trusts that the code is what this engine compiled (wasmtime
        // checks its header and the engine's settings, not the code). The code is the
        // content of one open file, opened without following a symlink, that `trust_entry`
        // accepted by its descriptor's metadata (Unix: a regular file owned by this
        // effective user, writable by no one else; Windows: a regular file, no reparse
        // point), in a directory that `usable` accepted (Unix: the same owner, writable by
        // no one else; Windows: inside the user's profile). So only this user (or root) can
        // have put it there, and this cache only ever writes `Component::serialize`'s
        // output, whole (temp file + rename). What is mapped or read is that open file, not
        // what its path names by then (`EntryCode`).
        #[allow(unsafe_code)]
        let loaded = unsafe {
            match &code {
                #[cfg(any(target_os = "linux", target_os = "android"))]
                EntryCode::Mapped { by_descriptor, .. } => Component::deserialize_file(engine, by_descriptor),
                EntryCode::Read(bytes) => Component::deserialize(engine, bytes),
            }
        };
        if let Ok(component) = loaded {
            return Ok(Loaded { component, refusal: None });
        }
    }
    let loaded = compile(None)?;
    store(&loaded.component, dir, &entry);
    Ok(loaded)
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

/// Whether `dir` may hold the cache, made (with its missing parents) if it is missing.
/// `Err` says why a directory that is there is not trusted; `Ok(false)` is one that cannot
/// be made or is not a directory, which only costs a compile, as before this check.
fn usable(dir: &Path) -> Result<bool, String> {
    if !dir.exists() && sys::create_dir(dir).is_err() {
        return Ok(false);
    }
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => match sys::distrust_dir(dir, &meta) {
            None => Ok(true),
            Some(why) => Err(format!(
                "the compiled-code cache {} {why}, so it was not used: compiling in memory ({})",
                dir.display(),
                sys::REMEDY
            )),
        },
        _ => Ok(false),
    }
}

/// The code of an entry that passed its check, as wasmtime is given it: the one file that
/// was checked, whatever its path names by the time wasmtime opens or reads it.
enum EntryCode {
    /// Linux: `/proc/self/fd/N` opens the checked file itself again, so wasmtime maps it
    /// (sharing the page cache) as it maps a file by path. Reading and copying the guest's
    /// 2 MB of code instead made a cold `confine get` take 9.5 ms rather than 4.7.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Mapped { by_descriptor: PathBuf, _file: File },
    /// Elsewhere (and without `/proc`): the bytes read through the checked descriptor.
    Read(Vec<u8>),
}

/// The code of `entry` if it is a regular file that only this user can have written.
fn open_entry(entry: &Path) -> Option<EntryCode> {
    let file = sys::open_no_follow(entry).ok()?;
    let meta = file.metadata().ok()?;
    if !sys::trust_entry(&meta) {
        return None;
    }
    sys::entry_code(file, meta.len()).ok()
}

/// The whole content of `file`, of `len` bytes by its fstat.
fn read_all(mut file: File, len: u64) -> std::io::Result<EntryCode> {
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.read_to_end(&mut bytes)?;
    Ok(EntryCode::Read(bytes))
}

/// Best effort: a cache that cannot be written only costs the next start a compile. A temp
/// file that is not renamed is removed when it is dropped.
fn store(component: &Component, dir: &Path, entry: &Path) {
    let Ok(bytes) = component.serialize() else { return };
    let Some(name) = entry.file_name() else { return };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(mut temp) = tempfile::Builder::new().prefix(&prefix).suffix(".tmp").tempfile_in(dir) else { return };
    if temp.write_all(&bytes).is_ok() {
        let _ = temp.persist(entry);
    }
}

/// Who the cache trusts, per platform: see the module docs.
#[cfg(unix)]
mod sys {
    use std::fs::{DirBuilder, File, Metadata};
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    use std::path::Path;

    use rustix::fs::{Mode, OFlags};

    pub(super) const REMEDY: &str = "make it yours and 0700 to use it";

    pub(super) fn create_dir(dir: &Path) -> std::io::Result<()> {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }

    /// Why `meta` (of a directory or an entry) may have been written by someone else.
    fn distrust(meta: &Metadata) -> Option<&'static str> {
        if meta.uid() != rustix::process::geteuid().as_raw() {
            Some("is owned by another user")
        } else if meta.mode() & 0o022 != 0 {
            Some("is writable by its group or by others")
        } else {
            None
        }
    }

    pub(super) fn distrust_dir(_dir: &Path, meta: &Metadata) -> Option<&'static str> {
        distrust(meta)
    }

    pub(super) fn open_no_follow(path: &Path) -> std::io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
    }

    /// `meta` is of the opened descriptor (fstat), not of the path.
    pub(super) fn trust_entry(meta: &Metadata) -> bool {
        meta.is_file() && distrust(meta).is_none()
    }

    pub(super) fn entry_code(file: File, len: u64) -> std::io::Result<super::EntryCode> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use std::os::fd::AsRawFd;
            let by_descriptor = std::path::PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
            if by_descriptor.exists() {
                return Ok(super::EntryCode::Mapped { by_descriptor, _file: file });
            }
        }
        super::read_all(file, len)
    }
}

#[cfg(windows)]
mod sys {
    use std::fs::{File, Metadata, OpenOptions};
    use std::os::windows::fs::OpenOptionsExt;
    use std::path::Path;

    /// Opens a symlink or junction itself rather than its target.
    const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;

    pub(super) const REMEDY: &str = "use a directory in your profile to cache";

    /// A new directory inherits its parent's ACL: the profile's, in the profile.
    pub(super) fn create_dir(dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    /// Trusted inside the user's profile, where by default only the user and the system
    /// may write; no owner check (it would take the security API's unsafe calls).
    pub(super) fn distrust_dir(dir: &Path, _meta: &Metadata) -> Option<&'static str> {
        let Ok(dir) = std::fs::canonicalize(dir) else { return Some("cannot be resolved") };
        let inside = |var| {
            std::env::var_os(var)
                .filter(|base| !base.is_empty())
                .and_then(|base| std::fs::canonicalize(base).ok())
                .is_some_and(|base| dir.starts_with(base))
        };
        let trusted = inside("LOCALAPPDATA") || inside("USERPROFILE");
        (!trusted).then_some("is outside your profile (%LOCALAPPDATA%, %USERPROFILE%)")
    }

    pub(super) fn open_no_follow(path: &Path) -> std::io::Result<File> {
        OpenOptions::new().read(true).custom_flags(FILE_FLAG_OPEN_REPARSE_POINT).open(path)
    }

    /// `meta` is of the opened handle: a reparse point opened as itself is not a file.
    pub(super) fn trust_entry(meta: &Metadata) -> bool {
        meta.is_file()
    }

    pub(super) fn entry_code(file: File, len: u64) -> std::io::Result<super::EntryCode> {
        super::read_all(file, len)
    }
}

/// Elsewhere nothing here says who may write a directory: the cache is not used (and not
/// made).
#[cfg(not(any(unix, windows)))]
mod sys {
    use std::fs::{File, Metadata};
    use std::path::Path;

    pub(super) const REMEDY: &str = "this platform has no check of who may write it";

    pub(super) fn create_dir(_dir: &Path) -> std::io::Result<()> {
        Err(std::io::ErrorKind::Unsupported.into())
    }

    pub(super) fn distrust_dir(_dir: &Path, _meta: &Metadata) -> Option<&'static str> {
        Some("cannot be checked")
    }

    pub(super) fn open_no_follow(path: &Path) -> std::io::Result<File> {
        File::open(path)
    }

    pub(super) fn trust_entry(_meta: &Metadata) -> bool {
        false
    }

    pub(super) fn entry_code(file: File, len: u64) -> std::io::Result<super::EntryCode> {
        super::read_all(file, len)
    }
}

#[cfg(all(test, unix))]
#[path = "tests/cache.rs"]
mod tests;
