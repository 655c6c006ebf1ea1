//! Any document name given to the repository's `read`, `list`, `open_session` and `save`:
//! no call panics, a name that is accepted is a plain relative name that stays inside the
//! granted directory, and nothing outside that directory (nor any link planted inside it)
//! is created or changed.
//!
//! The directory holds, once per process: a document, a subdirectory, symlinks that lead
//! outside (absolute, relative, and a document link), a symlink loop, and links that stay
//! inside. It sits three levels below a private base, so that `..` escapes land where the
//! check looks.

#![no_main]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use cap_std::fs::Dir;
use confine_store::{Options, Repository};
use libfuzzer_sys::fuzz_target;

const PREFIX: &str = "confine-fuzz-resolve-";
const CONTENT: &str = "{\"fuzz\": true}\n";

#[derive(Debug, PartialEq, Eq)]
enum Entry {
    Dir,
    File(Vec<u8>),
    Link(PathBuf),
    Other,
}

type Tree = BTreeMap<PathBuf, Entry>;

struct Fixture {
    base: PathBuf,
    root: PathBuf,
    repository: Repository,
    /// Everything under `base` but the granted directory.
    outside: Tree,
    /// What the fixture planted inside the granted directory.
    planted: Tree,
}

fn entry(path: &Path) -> Entry {
    let metadata = fs::symlink_metadata(path).unwrap();
    if metadata.is_symlink() {
        Entry::Link(fs::read_link(path).unwrap())
    } else if metadata.is_dir() {
        Entry::Dir
    } else if metadata.is_file() {
        Entry::File(fs::read(path).unwrap())
    } else {
        Entry::Other
    }
}

fn snapshot(dir: &Path, skip: &Path, tree: &mut Tree) {
    for child in fs::read_dir(dir).unwrap() {
        let path = child.unwrap().path();
        if path == skip {
            continue;
        }
        let entry = entry(&path);
        if entry == Entry::Dir {
            snapshot(&path, skip, tree);
        }
        tree.insert(path, entry);
    }
}

/// Removes the bases of fuzzing processes that have ended (libFuzzer exits without running
/// destructors).
fn remove_stale_bases(parent: &Path) {
    for child in fs::read_dir(parent).into_iter().flatten().flatten() {
        let name = child.file_name().into_string().unwrap_or_default();
        let Some(pid) = name.strip_prefix(PREFIX) else { continue };
        if !Path::new("/proc").join(pid).exists() {
            let _ = fs::remove_dir_all(child.path());
        }
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // tmpfs where there is one: every save fsyncs.
        let parent = Some(PathBuf::from("/dev/shm")).filter(|p| p.is_dir()).unwrap_or_else(std::env::temp_dir);
        remove_stale_bases(&parent);
        let base = parent.join(format!("{PREFIX}{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("a/b/root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir_all(base.join("outside")).unwrap();
        fs::write(base.join("outside/secret.json"), "{\"secret\": 1}\n").unwrap();
        fs::write(root.join("doc.json"), "{\"a\": 1}\n").unwrap();
        fs::write(root.join("sub/inner.json"), "{\"b\": 2}\n").unwrap();
        symlink(base.join("outside"), root.join("out")).unwrap();
        symlink("../..", root.join("up")).unwrap();
        symlink(base.join("outside/secret.json"), root.join("secret.json")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        symlink("doc.json", root.join("link.json")).unwrap();
        symlink("sub", root.join("subl")).unwrap();
        symlink("..", root.join("sub/back")).unwrap();
        symlink("../../..", root.join("sub/escape")).unwrap();
        let dir = Dir::open_ambient_dir(&root, cap_std::ambient_authority()).unwrap();
        let options = Options::default().with_lock_timeout(Duration::from_millis(200));
        let mut outside = Tree::new();
        snapshot(&base, &root, &mut outside);
        let mut planted = Tree::new();
        snapshot(&root, Path::new(""), &mut planted);
        let root = root.canonicalize().unwrap();
        Fixture { base, root, repository: Repository::new(dir, options, confine_formats::Documents::default()), outside, planted }
    })
}

/// An accepted document name: relative, plain components, not one of confine's own files.
fn assert_plain(name: &str) {
    assert!(!name.is_empty() && !name.starts_with('/') && !name.contains('\0'), "accepted {name:?}");
    for component in name.split('/') {
        assert!(!matches!(component, "" | "." | ".."), "accepted {name:?}");
    }
    let file = name.rsplit('/').next().unwrap_or(name);
    assert!(!file.ends_with(".lock"), "accepted the lock file {name:?}");
    assert!(!(file.starts_with('.') && file.ends_with(".tmp")), "accepted the temp file {name:?}");
}

/// `name`, or its parent if it does not exist, is inside the granted directory once every
/// link is followed.
fn assert_inside(fixture: &Fixture, name: &str) {
    let path = fixture.root.join(name);
    let real = path.canonicalize().or_else(|_| path.parent().unwrap().canonicalize());
    let real = real.unwrap_or_else(|e| panic!("{name:?} was accepted, but {} does not resolve: {e}", path.display()));
    assert!(real.starts_with(&fixture.root), "{name:?} was accepted and resolves to {}", real.display());
}

fn assert_nothing_else_changed(fixture: &Fixture, name: &str) {
    let mut outside = Tree::new();
    snapshot(&fixture.base, &fixture.root, &mut outside);
    assert!(outside == fixture.outside, "after {name:?}, outside the granted directory: {outside:#?}");
    for (path, planted) in &fixture.planted {
        assert_eq!(&entry(path), planted, "after {name:?}: {}", path.display());
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else { return };
    let fixture = fixture();
    let repository = &fixture.repository;
    if repository.read(name).is_ok() {
        assert_plain(name);
        assert_inside(fixture, name);
    }
    if let Ok(names) = repository.list(name) {
        let prefix = if name.is_empty() { String::new() } else { format!("{name}/") };
        for listed in names {
            assert!(listed.starts_with(&prefix), "list({name:?}) gave {listed:?}");
            assert_plain(&listed);
            assert_inside(fixture, &listed);
        }
    }
    if let Ok(session) = repository.open_session(name, Some(Duration::from_millis(200))) {
        assert_plain(name);
        assert_eq!(session.name(), name);
        assert_inside(fixture, name);
    }
    // Only a document that did not exist is written, and it is removed again.
    if repository.save(name, CONTENT, None).is_ok() {
        assert_plain(name);
        assert_inside(fixture, name);
        assert_eq!(fs::read_to_string(fixture.root.join(name)).ok().as_deref(), Some(CONTENT), "{name:?}");
        repository.remove(name).unwrap_or_else(|e| panic!("{name:?} was saved but cannot be removed: {e}"));
    }
    assert_nothing_else_changed(fixture, name);
});
