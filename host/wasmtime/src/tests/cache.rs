//! Unit tests of `cache.rs`: what the compiled-code cache trusts. Each plants what someone
//! else could have left (valid code of another component, a symlink) and shows that it is
//! neither run nor written through. The tests run as root in CI: a test that needs another
//! user's file (chown) says so and does nothing elsewhere.

use std::fs::Permissions;
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown, symlink};

use super::*;

/// A component that exports nothing.
const PLAIN: &[u8] = b"\0asm\x0d\0\x01\0";
/// A component that exports a core module: its code, loaded in place of [`PLAIN`]'s, shows
/// that a planted entry was run.
const PLANTED: &[u8] = b"\0asm\x0d\0\x01\0\x01\x08\0asm\x01\0\0\0\x0b\x08\x01\0\x01m\0\x11\0\0";

/// The uid of `nobody`, the other user.
const OTHER_USER: u32 = 65534;

fn engine() -> Engine {
    Engine::default()
}

/// Where the cache entry of `wasm` goes in `dir`.
fn entry_of(engine: &Engine, wasm: &[u8], dir: &Path) -> PathBuf {
    entry_path(engine, digest(wasm), dir)
}

/// Compiled code of [`PLANTED`], as this engine would load it: what an attacker plants.
fn planted_code(engine: &Engine) -> Vec<u8> {
    Component::new(engine, PLANTED).expect("compile the planted component").serialize().expect("serialize")
}

/// Whether `component` is [`PLANTED`]'s code rather than [`PLAIN`]'s.
fn runs_planted_code(engine: &Engine, component: &Component) -> bool {
    component.component_type().exports(engine).count() != 0
}

/// Loads [`PLAIN`] with `dir` as its cache.
fn load_plain(engine: &Engine, dir: &Path) -> Loaded {
    load(engine, PLAIN, None, Some(dir)).expect("load the component")
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).expect("list").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    names.sort();
    names
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, Permissions::from_mode(mode)).expect("chmod");
}

/// Gives `path` to [`OTHER_USER`]; false (and the test does nothing) if this process may
/// not, as a user that is not root may not.
fn give_to_other_user(path: &Path) -> bool {
    match chown(path, Some(OTHER_USER), Some(OTHER_USER)) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!("skipped: chown needs root ({e})");
            false
        }
        Err(e) => panic!("chown {}: {e}", path.display()),
    }
}

#[test]
fn a_cache_directory_others_may_write_is_neither_read_nor_written() {
    let engine = engine();
    for mode in [0o777, 0o770, 0o1777, 0o720] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("cache");
        std::fs::create_dir(&dir).expect("mkdir");
        set_mode(&dir, mode);
        let entry = entry_of(&engine, PLAIN, &dir);
        std::fs::write(&entry, planted_code(&engine)).expect("plant");
        let planted = std::fs::read(&entry).expect("read");

        let loaded = load_plain(&engine, &dir);
        assert!(!runs_planted_code(&engine, &loaded.component), "mode {mode:o}: the planted entry was loaded");
        let refusal = loaded.refusal.expect("a refusal");
        assert!(refusal.contains("is writable by its group or by others"), "mode {mode:o}: {refusal}");
        assert!(refusal.contains(&dir.display().to_string()), "{refusal}");
        assert_eq!(std::fs::read(&entry).expect("read"), planted, "mode {mode:o}: the entry was rewritten");
        assert_eq!(names_in(&dir), [entry.file_name().unwrap().to_string_lossy()], "mode {mode:o}: a file was added");

        // Nor is an entry written to an empty one.
        std::fs::remove_file(&entry).expect("rm");
        assert!(load_plain(&engine, &dir).refusal.is_some());
        assert!(names_in(&dir).is_empty(), "mode {mode:o}: an entry was written");
    }
}

#[test]
fn a_cache_directory_of_another_user_is_neither_read_nor_written() {
    let engine = engine();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("cache");
    std::fs::create_dir(&dir).expect("mkdir");
    set_mode(&dir, 0o755);
    let entry = entry_of(&engine, PLAIN, &dir);
    std::fs::write(&entry, planted_code(&engine)).expect("plant");
    if !give_to_other_user(&dir) {
        return;
    }

    let loaded = load_plain(&engine, &dir);
    assert!(!runs_planted_code(&engine, &loaded.component), "the planted entry was loaded");
    let refusal = loaded.refusal.expect("a refusal");
    assert!(refusal.contains("is owned by another user"), "{refusal}");
    assert_eq!(std::fs::read(&entry).expect("read"), planted_code(&engine));

    std::fs::remove_file(&entry).expect("rm");
    assert!(load_plain(&engine, &dir).refusal.is_some());
    assert!(names_in(&dir).is_empty(), "an entry was written");
}

#[test]
fn an_entry_of_another_user_is_not_loaded_and_is_replaced() {
    let engine = engine();
    let dir = tempfile::tempdir().expect("temp dir");
    let entry = entry_of(&engine, PLAIN, dir.path());
    std::fs::write(&entry, planted_code(&engine)).expect("plant");
    set_mode(&entry, 0o600);
    if !give_to_other_user(&entry) {
        return;
    }

    let loaded = load_plain(&engine, dir.path());
    assert!(!runs_planted_code(&engine, &loaded.component), "the planted entry was loaded");
    assert_eq!(loaded.refusal, None, "the directory is trusted");
    let meta = std::fs::symlink_metadata(&entry).expect("stat");
    assert_eq!(meta.uid(), rustix::process::geteuid().as_raw(), "the entry is this user's again");
}

#[test]
fn an_entry_others_may_write_is_not_loaded() {
    let engine = engine();
    let dir = tempfile::tempdir().expect("temp dir");
    let entry = entry_of(&engine, PLAIN, dir.path());
    std::fs::write(&entry, planted_code(&engine)).expect("plant");
    set_mode(&entry, 0o666);

    let loaded = load_plain(&engine, dir.path());
    assert!(!runs_planted_code(&engine, &loaded.component), "the planted entry was loaded");
    assert_eq!(std::fs::metadata(&entry).expect("stat").mode() & 0o777, 0o600, "replaced by a private entry");
}

#[test]
fn a_new_cache_directory_and_the_parents_made_with_it_are_private() {
    let engine = engine();
    let tmp = tempfile::tempdir().expect("temp dir");
    set_mode(tmp.path(), 0o755);
    let dir = tmp.path().join("home/.cache/confine");

    let loaded = load_plain(&engine, &dir);
    assert_eq!(loaded.refusal, None);
    for made in ["home", "home/.cache", "home/.cache/confine"] {
        let mode = std::fs::metadata(tmp.path().join(made)).expect("stat").mode() & 0o7777;
        assert_eq!(mode, 0o700, "{made} is {mode:o}");
    }
    assert!(entry_of(&engine, PLAIN, &dir).is_file(), "the entry is stored");
    assert_eq!(
        std::fs::metadata(tmp.path()).expect("stat").mode() & 0o7777,
        0o755,
        "an existing parent is left as it is"
    );
}

#[test]
fn a_symlink_at_the_old_predictable_temp_name_is_not_followed() {
    let engine = engine();
    let dir = tempfile::tempdir().expect("temp dir");
    let outside = tempfile::tempdir().expect("temp dir");
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "the user's file").expect("write victim");
    let entry = entry_of(&engine, PLAIN, dir.path());
    // The name the cache once wrote its temp file at, known in advance.
    let predictable = entry.with_extension(format!("{}.tmp", std::process::id()));
    symlink(&victim, &predictable).expect("plant symlink");

    load_plain(&engine, dir.path());
    assert_eq!(std::fs::read(&victim).expect("read victim"), b"the user's file", "the victim was written");
    assert!(std::fs::symlink_metadata(&entry).expect("stat").is_file(), "the entry is a file of its own");
    assert!(std::fs::symlink_metadata(&predictable).expect("stat").file_type().is_symlink(), "left alone");
}

#[test]
fn a_symlink_at_the_entry_name_is_not_followed() {
    let engine = engine();
    let dir = tempfile::tempdir().expect("temp dir");
    let outside = tempfile::tempdir().expect("temp dir");
    let victim = outside.path().join("victim.cwasm");
    std::fs::write(&victim, planted_code(&engine)).expect("write victim");
    set_mode(&victim, 0o600);
    let entry = entry_of(&engine, PLAIN, dir.path());
    symlink(&victim, &entry).expect("plant symlink");

    let loaded = load_plain(&engine, dir.path());
    assert!(!runs_planted_code(&engine, &loaded.component), "the symlink's target was loaded");
    assert_eq!(std::fs::read(&victim).expect("read victim"), planted_code(&engine), "the target was written");
    assert!(std::fs::symlink_metadata(&entry).expect("stat").is_file(), "the symlink is replaced by an entry");
}

#[test]
fn a_cache_of_this_users_alone_is_written_then_loaded_without_a_warning() {
    let engine = engine();
    let fresh = tempfile::tempdir().expect("temp dir");
    let existing = tempfile::tempdir().expect("temp dir");
    set_mode(existing.path(), 0o755);
    for dir in [fresh.path().join("cache"), existing.path().to_owned()] {
        let entry = entry_of(&engine, PLAIN, &dir);
        assert_eq!(load_plain(&engine, &dir).refusal, None, "{}", dir.display());
        let meta = std::fs::symlink_metadata(&entry).expect("the entry is stored");
        assert!(meta.is_file());
        assert_eq!(meta.mode() & 0o777, 0o600, "the entry is private");
        assert_eq!(names_in(&dir), [entry.file_name().unwrap().to_string_lossy()], "no temp file is left");

        // What is there is what the next start runs (shown with other code put there).
        std::fs::write(&entry, planted_code(&engine)).expect("replace the entry");
        let again = load_plain(&engine, &dir);
        assert!(runs_planted_code(&engine, &again.component), "the entry was not loaded");
        assert_eq!(again.refusal, None);
    }
}

#[test]
fn a_cache_that_cannot_be_made_costs_a_compile_and_no_warning() {
    let engine = engine();
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("file");
    std::fs::write(&file, "not a directory").expect("write");

    let loaded = load_plain(&engine, &file.join("cache"));
    assert_eq!(loaded.refusal, None);
    assert!(!runs_planted_code(&engine, &loaded.component));
}
