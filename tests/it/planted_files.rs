//! Files planted by another user at the names confine uses for itself, the class of
//! filelock's CVE-2025-68146: a symlink, a hard link, a FIFO, a directory or a socket at
//! `<doc>.lock` or at a temp name `.<doc>.<16 hex>.tmp`. The lock is refused, never
//! followed nor written through; a temp name is never opened; the outside victim stays
//! byte-for-byte unchanged.
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::os::unix::fs::{MetadataExt, symlink};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use crate::support::{
    add_to_figure, assert_invalid_path, assert_no_temp_files, confine, repository, run_fails, run_ok, snapshot,
};
use tempfile::TempDir;

/// Plants and refusals seen by the tests of this file, for the suite's figure.
static TALLY: Mutex<(usize, usize)> = Mutex::new((0, 0));

fn tally(plants: usize, refusals: usize) {
    add_to_figure("planted_files", &TALLY, |tally| {
        tally.0 += plants;
        tally.1 += refusals;
        format!(
            "{} files planted at lock or temp names: {} writes refused, the rest never followed, \
             the outside victim byte-for-byte unchanged",
            tally.0, tally.1
        )
    });
}

/// What another user plants at a lock or temp file's name.
#[derive(Debug, Clone, Copy)]
enum Plant {
    /// A symlink to the outside victim file.
    LinkToVictim,
    /// A symlink to an outside name that does not exist yet: following it would create it.
    LinkToNowhere,
    /// A symlink to the document itself.
    LinkToDocument,
    /// A symlink to the outside directory.
    LinkToOutsideDir,
    /// A symlink to itself.
    LinkLoop,
    /// A named pipe: opening it for reading or writing could block forever.
    Fifo,
    /// A hard link to the outside victim file.
    HardLinkToVictim,
    /// A directory holding a file.
    Directory,
    /// A unix socket.
    Socket,
}

fn plant(what: Plant, at: &Path, outside: &Path) {
    match what {
        Plant::LinkToVictim => symlink(outside.join("victim"), at).unwrap(),
        Plant::LinkToNowhere => symlink(outside.join("created.json"), at).unwrap(),
        Plant::LinkToDocument => symlink("app.json", at).unwrap(),
        Plant::LinkToOutsideDir => symlink(outside, at).unwrap(),
        Plant::LinkLoop => symlink(at.file_name().unwrap(), at).unwrap(),
        Plant::Fifo => {
            let mode = rustix::fs::Mode::from_raw_mode(0o644);
            rustix::fs::mknodat(rustix::fs::CWD, at, rustix::fs::FileType::Fifo, mode, 0).unwrap();
        }
        Plant::HardLinkToVictim => std::fs::hard_link(outside.join("victim"), at).unwrap(),
        Plant::Directory => {
            std::fs::create_dir(at).unwrap();
            std::fs::write(at.join("inside"), "keep").unwrap();
        }
        Plant::Socket => drop(UnixListener::bind(at).unwrap()),
    }
}

/// A root with `app.json` and `sub/app.json` (no lock files yet), and an outside directory
/// with a victim file that the planting user hopes confine will write through.
fn victim_world() -> (TempDir, TempDir) {
    let (dir, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    std::fs::write(outside.path().join("victim"), "precious\n").unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    for document in ["app.json", "sub/app.json"] {
        std::fs::write(dir.path().join(document), "{\"k\": 1}\n").unwrap();
    }
    (dir, outside)
}

/// The CLI commands that write, each of which takes the document's lock.
const WRITES: [&[&str]; 4] = [&["set", "k", "5"], &["incr", "k"], &["merge", "{\"m\": 1}"], &["unset", "k"]];

fn write_command(root: &Path, document: &str, write: &[&str]) -> Command {
    let mut command = confine(root);
    command.arg(write[0]).arg(document).args(&write[1..]);
    command
}

/// Something planted at `<doc>.lock` makes every write refuse, naming the lock file and the
/// cause, and nothing is written through it, created beside it or changed outside. Reads,
/// which take no lock, still work.
fn assert_lock_plant_refused(what: Plant, cause: &str) {
    for document in ["app.json", "sub/app.json"] {
        let (dir, outside) = victim_world();
        let (root, repo) = (dir.path(), repository(dir.path()));
        let lock = format!("{document}.lock");
        plant(what, &root.join(&lock), outside.path());
        let (before, outside_before) = (snapshot(root), snapshot(outside.path()));
        for write in WRITES {
            let stderr = run_fails(&mut write_command(root, document, write), 2);
            let lock_file = Path::new(&lock).file_name().unwrap().to_str().unwrap();
            assert!(stderr.contains(document) && stderr.contains(lock_file), "{what:?} {write:?}: {stderr}");
            assert!(stderr.contains(cause), "{what:?} {write:?}: want {cause:?}: {stderr}");
        }
        assert_invalid_path("save", document, cause, repo.save(document, "{}", None));
        assert_invalid_path("open_session", document, cause, repo.open_session(document, Some(Duration::ZERO)));
        assert_invalid_path("remove", document, cause, repo.remove(document));
        assert_eq!(run_ok(confine(root).args(["get", document, "k"])), "1\n");
        assert_eq!(repo.read(document).unwrap().content, "{\"k\": 1}\n");
        assert_eq!(snapshot(root), before, "{what:?} at {lock}: the directory changed");
        assert_eq!(snapshot(outside.path()), outside_before, "{what:?} at {lock}: the outside changed");
    }
}

#[test]
fn symlinks_and_fifos_planted_at_the_lock_name_are_refused_and_never_followed() {
    let plants = [
        (Plant::LinkToVictim, "is a symlink; refusing to follow it"),
        (Plant::LinkToNowhere, "is a symlink; refusing to follow it"),
        (Plant::LinkToDocument, "is a symlink; refusing to follow it"),
        (Plant::LinkToOutsideDir, "is a symlink; refusing to follow it"),
        (Plant::LinkLoop, "is a symlink; refusing to follow it"),
        (Plant::Fifo, "is not a regular file"),
    ];
    for (what, cause) in plants {
        assert_lock_plant_refused(what, cause);
    }
    tally(plants.len() * 2, plants.len() * 2 * (WRITES.len() + 3));
}

/// Known to fail today: the lock file is a regular file, so it is opened, and the holder's
/// pid is written into it, which overwrites the victim.
#[test]
fn a_hard_link_planted_at_the_lock_name_is_never_written_through() {
    let (dir, outside) = victim_world();
    plant(Plant::HardLinkToVictim, &dir.path().join("app.json.lock"), outside.path());
    let output = write_command(dir.path(), "app.json", WRITES[0]).output().unwrap();
    let victim = std::fs::read_to_string(outside.path().join("victim")).unwrap();
    assert_eq!(victim, "precious\n", "written through the lock's hard link ({})", output.status);
    assert_lock_plant_refused(Plant::HardLinkToVictim, "lock file");
}

/// Known to fail today: exit status 5 ("open lock file failed: Is a directory" or "No such
/// device or address"), and the message does not name the lock file.
#[test]
fn a_directory_or_socket_planted_at_the_lock_name_is_refused_as_bad_input() {
    assert_lock_plant_refused(Plant::Directory, "is not a regular file");
    assert_lock_plant_refused(Plant::Socket, "is not a regular file");
}

/// A temp file's name is only ever created with `O_EXCL|O_NOFOLLOW`, and whatever sits at
/// one of this document's temp names is removed, never opened: every write succeeds, the
/// victim and the outside stay unchanged, and no temp name is left.
#[test]
fn files_planted_at_temp_names_are_never_followed() {
    let plants = [Plant::LinkToVictim, Plant::LinkToNowhere, Plant::LinkToOutsideDir, Plant::Fifo];
    let plants = plants.into_iter().chain([Plant::HardLinkToVictim, Plant::Socket, Plant::LinkLoop]);
    let mut planted = 0;
    for what in plants {
        let (dir, outside) = victim_world();
        let root = dir.path();
        let outside_before = snapshot(outside.path());
        for document in ["app.json", "sub/app.json"] {
            let (parent, file) = document.rsplit_once('/').unwrap_or(("", document));
            for write in WRITES {
                let temp = root.join(parent).join(format!(".{file}.0123456789abcdef.tmp"));
                plant(what, &temp, outside.path());
                planted += 1;
                run_ok(&mut write_command(root, document, write));
                assert!(std::fs::symlink_metadata(&temp).is_err(), "{what:?} at {}: not removed", temp.display());
                assert_eq!(snapshot(outside.path()), outside_before, "{what:?} {write:?}: the outside changed");
            }
            assert_eq!(std::fs::read_to_string(root.join(document)).unwrap(), "{\"m\": 1}\n", "its layout kept");
        }
        assert_no_temp_files(root);
    }
    tally(planted, 0);
}

/// A directory at a temp name cannot be removed by the sweep: it is left alone, with its
/// content, and the write goes through another temp name.
#[test]
fn a_directory_planted_at_a_temp_name_is_left_alone() {
    let (dir, outside) = victim_world();
    let temp = dir.path().join(".app.json.0123456789abcdef.tmp");
    plant(Plant::Directory, &temp, outside.path());
    run_ok(confine(dir.path()).args(["set", "app.json", "k", "2"]));
    assert_eq!(std::fs::read_to_string(temp.join("inside")).unwrap(), "keep");
    assert_eq!(std::fs::read_to_string(dir.path().join("app.json")).unwrap(), "{\"k\": 2}\n", "its layout kept");
    tally(1, 0);
}

/// A hard link at the document's own name is replaced by the rename, not written through.
#[test]
fn a_hard_link_at_the_document_name_is_replaced_not_written_through() {
    let (dir, outside) = victim_world();
    std::fs::write(outside.path().join("victim"), "{\"victim\": 1}\n").unwrap();
    std::fs::remove_file(dir.path().join("app.json")).unwrap();
    std::fs::hard_link(outside.path().join("victim"), dir.path().join("app.json")).unwrap();
    let outside_before = snapshot(outside.path());
    for write in WRITES {
        run_ok(&mut write_command(dir.path(), "app.json", write));
    }
    assert_eq!(snapshot(outside.path()), outside_before);
    let document = std::fs::symlink_metadata(dir.path().join("app.json")).unwrap();
    assert!(document.is_file() && document.nlink() == 1, "the link was replaced by a file of its own");
    tally(1, 0);
}
