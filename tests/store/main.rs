//! The store's conformance suite (`confine_store::conformance`, feature `conformance`) run
//! unchanged against each backend of the crate: `conformance::memory::*` over
//! [`Memory`](confine_store::Memory), `conformance::fs::*` over the filesystem in a fresh
//! temporary directory per check. Each backend's figure line (promises held, port
//! operations made) goes to `$CARGO_TARGET_TMPDIR/figures/conformance-<backend>.txt`.
//! `locks::*`: the filesystem lock across threads and processes. With the feature
//! `classic-locks` all of it runs on the other Unix systems' lock, with `flock-locks` on
//! macOS's and FreeBSD's. `proofs`: a splice of a text another program wrote.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

#[cfg(unix)]
#[path = "../it/support/other_locker.rs"]
mod other_locker;
/// The call the other program locks with: `flock` when confine does (`flock-locks` on Linux,
/// where `flock` and `lockf` do not exclude each other), `lockf` otherwise.
#[cfg(unix)]
const LOCK_CALL: &str = if cfg!(feature = "flock-locks") { "flock" } else { "lockf" };
#[cfg(unix)]
mod locks;
#[cfg(windows)]
#[path = "locks_windows.rs"]
mod locks;

mod proofs;

/// The filesystem backend's name in the figures: which lock it ran with.
const FS: &str = if cfg!(feature = "classic-locks") {
    "fs-classic-locks"
} else if cfg!(feature = "flock-locks") {
    "fs-flock-locks"
} else if cfg!(windows) {
    "fs-windows"
} else {
    "fs"
};

mod conformance {
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::sync::Mutex;

    /// What the checks that held so far made, per backend.
    #[derive(Default)]
    struct Totals {
        promises: u64,
        operations: u64,
    }

    static TOTALS: Mutex<BTreeMap<&str, Totals>> = Mutex::new(BTreeMap::new());

    /// Adds a check that held to `backend`'s totals and rewrites its figure line, under the
    /// lock, so that the last check to finish leaves the final totals.
    fn record(backend: &'static str, operations: u64) {
        let mut totals = TOTALS.lock().unwrap();
        let totals = totals.entry(backend).or_default();
        totals.promises += 1;
        totals.operations += operations;
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("figures");
        std::fs::create_dir_all(&dir).unwrap();
        let line = format!(
            "conformance ({backend}): {} promises held, {} port operations \
             (CAS, sessions across 8 threads, group commit, names, limits, listing)\n",
            totals.promises, totals.operations,
        );
        std::fs::write(dir.join(format!("conformance-{backend}.txt")), line).unwrap();
    }

    mod memory {
        use confine_formats::Documents;
        use confine_store::conformance::Fresh;
        use confine_store::{Memory, Options, Repository};

        fn fresh() -> Fresh {
            Fresh::new(Repository::with_backend(Memory::new(), Options::default(), Documents::default()))
        }

        confine_store::conformance_suite!(fresh, |_promise, operations| super::record("memory", operations));
    }

    mod fs {
        use std::sync::OnceLock;
        use std::time::Duration;

        use cap_std::ambient_authority;
        use cap_std::fs::Dir;
        use confine_formats::Documents;
        use confine_store::conformance::Fresh;
        use confine_store::{Options, Repository};

        /// A repository over a fresh temporary directory, which lives as long as the check.
        fn fresh() -> Fresh {
            let tmp = tempfile::tempdir().unwrap();
            let open = || Dir::open_ambient_dir(tmp.path(), ambient_authority()).unwrap();
            let directories = open();
            let fresh = Fresh::new(Repository::new(open(), Options::default(), Documents::default()))
                .with_directories(move |name| directories.create_dir_all(name));
            let fresh = if readers_block_replace() { fresh.with_reader_rest(Duration::from_millis(1)) } else { fresh };
            fresh.keeping(tmp)
        }

        /// Whether a file that a reader holds open (sharing delete access) cannot be
        /// renamed over here: Windows without POSIX rename semantics (Wine, FAT, Windows
        /// before 10 1607). Tried once, as confine's replace would meet it.
        fn readers_block_replace() -> bool {
            static BLOCK: OnceLock<bool> = OnceLock::new();
            *BLOCK.get_or_init(|| {
                if !cfg!(windows) {
                    return false;
                }
                // std's rename tries POSIX semantics first, as confine's replace does.
                let tmp = tempfile::tempdir().unwrap();
                let (document, new) = (tmp.path().join("probe.json"), tmp.path().join("new.json"));
                std::fs::write(&document, "{}").unwrap();
                std::fs::write(&new, "[]").unwrap();
                let _reader = std::fs::File::open(&document).unwrap();
                let blocked = std::fs::rename(&new, &document).is_err();
                if blocked {
                    eprintln!("readers block replaces on this system: the fs checks' readers rest 1 ms between reads");
                }
                blocked
            })
        }

        confine_store::conformance_suite!(fresh, |_promise, operations| super::record(crate::FS, operations));
    }
}
