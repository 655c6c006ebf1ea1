//! The hostile-name battery. Names that climb out, are absolute, hold `.` or empty
//! components or NUL bytes, are too long or not UTF-8, name lock or temp files, go through
//! symlinks out of the root or round a loop, or are themselves symlinks, directories, FIFOs
//! or sockets: every command refuses each with exit status 2 and a message that names it and
//! the cause, and the directory and the outside stay byte-for-byte unchanged. Odd names that
//! are legal are accepted and stay inside. (Files planted at lock and temp names:
//! planted_files.rs.)
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use crate::support::{
    add_to_figure, assert_invalid_path, assert_no_temp_files, confine, repository, run_fails, run_ok, snapshot,
};
use confine_store::MAX_FILE_NAME;
use tempfile::TempDir;

/// The CLI commands each name goes through: the verb, then the arguments after the name.
const COMMANDS: [(&str, &[&str]); 8] = [
    ("get", &["k"]),
    ("set", &["k", "1"]),
    ("unset", &["k"]),
    ("unset", &["k", "j"]),
    ("incr", &["k"]),
    ("merge", &["{}"]),
    ("apply", &["/dev/null"]),
    ("cat", &[]),
];
/// The library calls each name goes through: read, save, open_session, remove (and list).
const LIBRARY_CALLS: usize = 5;
/// The parents of the documents at depth 2, 3 and 4.
const PARENTS: [&str; 3] = ["sub", "deep", "deeper"];

/// A name that must be refused, the cause its message must give, and whether `list` must
/// refuse it as a directory name too.
struct Refused {
    name: String,
    cause: &'static str,
    as_directory: bool,
}

fn refused(name: impl Into<String>, cause: &'static str, as_directory: bool) -> Refused {
    Refused { name: name.into(), cause, as_directory }
}

/// A root with documents at depths 1 to 4, a FIFO, a socket, and symlinks that lead out,
/// loop, or stay inside; beside it, an outside directory holding a secret.
fn world() -> (TempDir, TempDir) {
    let (dir, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (root, out) = (dir.path(), outside.path());
    std::fs::write(out.join("secret.json"), "{\"secret\": true}\n").unwrap();
    for depth in 1..=4 {
        let parent = root.join(PARENTS[..depth - 1].join("/"));
        std::fs::create_dir_all(&parent).unwrap();
        std::fs::write(parent.join("app.json"), "{\"k\": 1}\n").unwrap();
        std::fs::write(parent.join("app.json.lock"), "").unwrap();
    }
    std::fs::create_dir(root.join("dir.json")).unwrap();
    for fifo in ["fifo.json", "sub/fifo.json"] {
        let mode = rustix::fs::Mode::from_raw_mode(0o644);
        rustix::fs::mknodat(rustix::fs::CWD, root.join(fifo), rustix::fs::FileType::Fifo, mode, 0).unwrap();
    }
    drop(UnixListener::bind(root.join("sock.json")).unwrap());
    let links: [(PathBuf, &str); 15] = [
        (out.to_owned(), "out"),
        (out.join("secret.json"), "link.json"),
        (out.join("secret.json"), "sub/link.json"),
        (out.join("new.json"), "dangling_out.json"),
        (root.join("sub"), "abs_in"),
        ("app.json".into(), "inlink.json"),
        ("nowhere.json".into(), "dangling.json"),
        ("sub".into(), "insub"),
        ("..".into(), "sub/up"),
        ("../..".into(), "sub/esc"),
        ("../../..".into(), "sub/deep/esc"),
        ("loop".into(), "loop"),
        ("loop".into(), "sub/loop"),
        ("pong".into(), "ping"),
        ("ping".into(), "pong"),
    ];
    for (target, link) in links {
        symlink(target, root.join(link)).unwrap();
    }
    (dir, outside)
}

/// The document's components at `depth`: `app.json`, `sub/app.json`, ...
fn document_at(depth: usize) -> Vec<&'static str> {
    PARENTS[..depth - 1].iter().copied().chain(["app.json"]).collect()
}

/// Distinct names and refusals seen by the tests of this file, for the suite's figure.
static TALLY: Mutex<(BTreeSet<Vec<u8>>, usize)> = Mutex::new((BTreeSet::new(), 0));

fn tally(names: impl IntoIterator<Item = Vec<u8>>, refusals: usize) {
    add_to_figure("hostile_names", &TALLY, |tally| {
        tally.0.extend(names);
        tally.1 += refusals;
        let (names, commands) = (tally.0.len(), COMMANDS.len() + LIBRARY_CALLS);
        format!(
            "{names} hostile names x up to {commands} commands ({} CLI, {LIBRARY_CALLS} library): {} refusals, \
             each exit 2 naming the name and the cause, directory and outside byte-for-byte unchanged",
            COMMANDS.len(),
            tally.1
        )
    });
}

/// Every command refuses every name of the battery (made for the world's root) with exit
/// status 2 and a message naming it and its cause, through the CLI too when `via_cli`;
/// nothing changes, inside or out.
fn assert_refused_everywhere(battery: impl FnOnce(&Path) -> Vec<Refused>, via_cli: bool) {
    let (dir, outside) = world();
    let (root, repo) = (dir.path(), repository(dir.path()));
    let battery = battery(root);
    let mut refusals = 0;
    for Refused { name, cause, as_directory } in &battery {
        let (before, outside_before) = (snapshot(root), snapshot(outside.path()));
        if via_cli {
            let shown = format!("{name:?}");
            for (verb, rest) in COMMANDS {
                let stderr = run_fails(confine(root).arg(verb).arg(name).args(rest), 2);
                assert!(stderr.starts_with("confine: "), "{verb} {shown}: {stderr}");
                assert!(stderr.contains(&shown) && stderr.contains(cause), "{verb} {shown}: want {cause:?}: {stderr}");
            }
        }
        assert_invalid_path("read", name, cause, repo.read(name));
        assert_invalid_path("save", name, cause, repo.save(name, "{}", None));
        assert_invalid_path("open_session", name, cause, repo.open_session(name, Some(Duration::ZERO)));
        assert_invalid_path("remove", name, cause, repo.remove(name));
        if *as_directory {
            assert_invalid_path("list", name, cause, repo.list(name));
        }
        refusals += if via_cli { COMMANDS.len() } else { 0 } + 4 + usize::from(*as_directory);
        assert_eq!(snapshot(root), before, "{name:?} changed the directory");
        assert_eq!(snapshot(outside.path()), outside_before, "{name:?} changed the outside");
        assert_no_temp_files(root);
    }
    tally(battery.iter().map(|r| r.name.as_bytes().to_vec()), refusals);
}

/// `.` and `..` in every position of 1- to 4-component names (3^n - 1 names of n parts).
fn dot_names() -> Vec<Refused> {
    let mut names = Vec::new();
    for depth in 1..=4 {
        let plain = document_at(depth);
        for choice in 1..3_usize.pow(depth as u32) {
            let parts: Vec<&str> = (0..depth)
                .map(|i| ["", ".", ".."][choice / 3_usize.pow(i as u32) % 3])
                .zip(&plain)
                .map(|(dot, part)| if dot.is_empty() { *part } else { dot })
                .collect();
            names.push(refused(parts.join("/"), "`.` and `..` are not allowed", true));
        }
    }
    names
}

#[test]
fn names_with_dot_or_dot_dot_in_any_position_are_refused_everywhere() {
    assert_refused_everywhere(|_| dot_names(), true);
}

fn absolute_and_empty_component_names(root: &Path) -> Vec<Refused> {
    const ABSOLUTE: &str = "absolute paths are refused";
    const EMPTY: &str = "names may not have empty components";
    let mut names: Vec<Refused> = ["/", "//", "/..", "/etc/passwd", "//app.json", "/tmp/x.json"]
        .into_iter()
        .map(|name| refused(name, ABSOLUTE, true))
        .collect();
    names.push(refused(root.join("app.json").to_str().unwrap(), ABSOLUTE, true)); // leads back inside: still refused
    names.push(refused("", "the empty name is not a document", false));
    for depth in 1..=4 {
        let plain = document_at(depth);
        names.push(refused(format!("/{}", plain.join("/")), ABSOLUTE, true));
        names.push(refused(format!("{}//", plain.join("/")), EMPTY, true));
        for gap in 1..=depth {
            let mut parts = plain.clone();
            parts.insert(gap, "");
            names.push(refused(parts.join("/"), EMPTY, true));
        }
    }
    names
}

#[test]
fn absolute_names_and_empty_components_are_refused_everywhere() {
    assert_refused_everywhere(absolute_and_empty_component_names, true);
}

fn overlong_names() -> Vec<Refused> {
    let mut names = Vec::new();
    for depth in 1..=4 {
        for length in [MAX_FILE_NAME + 1, 255, 256, 800] {
            let parents = PARENTS[..depth - 1].iter().map(|p| format!("{p}/")).collect::<String>();
            names.push(refused(
                format!("{parents}{}", "x".repeat(length)),
                "file name is longer than 200 bytes",
                false,
            ));
        }
    }
    let too_long = "the name is longer than 1024 bytes";
    names.push(refused(vec!["x".repeat(MAX_FILE_NAME); 6].join("/"), too_long, true));
    names.push(refused("sub/".repeat(1100) + "app.json", too_long, true)); // beyond PATH_MAX
    names.push(refused("../".repeat(400) + "etc/passwd", too_long, true));
    names
}

#[test]
fn overlong_names_are_refused_everywhere() {
    assert_refused_everywhere(|_| overlong_names(), true);
}

fn lock_and_temp_names() -> Vec<Refused> {
    let mut names = Vec::new();
    for depth in 1..=4 {
        let parents = PARENTS[..depth - 1].iter().map(|p| format!("{p}/")).collect::<String>();
        for lock in ["app.json.lock", "x.lock", ".lock", "..lock", "app.json.lock.lock"] {
            names.push(refused(format!("{parents}{lock}"), "are lock files, not documents", false));
        }
        for temp in [".app.json.0123456789abcdef.tmp", ".x.tmp", ".tmp", "..tmp", ".app.json.lock.tmp"] {
            names.push(refused(format!("{parents}{temp}"), "are temp files, not documents", false));
        }
    }
    names
}

#[test]
fn lock_and_temp_file_names_are_refused_at_every_depth() {
    assert_refused_everywhere(|_| lock_and_temp_names(), true);
}

/// Names Windows cannot hold, refused on every system so that a store can move between
/// them; and lock and temp names in another case, which a case-insensitive filesystem
/// (Windows, macOS) takes for the real ones.
fn names_windows_cannot_hold() -> Vec<Refused> {
    let mut names = Vec::new();
    for parents in ["", "sub/"] {
        for (name, cause) in [
            ("a\\b.json", "is not allowed in names"),
            ("a:b.json", "is not allowed in names"),
            ("app.json:stream", "is not allowed in names"),
            ("a\nb.json", "is not allowed in names"),
            ("a|b.json", "is not allowed in names"),
            ("a*.json", "is not allowed in names"),
            ("...", "ends in a dot or a space"),
            ("a.json.", "ends in a dot or a space"),
            ("trail.json ", "ends in a dot or a space"),
            ("con", "is a device name on Windows"),
            ("NUL.json", "is a device name on Windows"),
            ("com1.json", "is a device name on Windows"),
            ("Lpt9.txt", "is a device name on Windows"),
            ("aux.tar.gz", "is a device name on Windows"),
        ] {
            names.push(refused(format!("{parents}{name}"), cause, true));
        }
        for (name, cause) in [("app.json.LOCK", "are lock files"), (".app.json.0123456789abcdef.TMP", "are temp files")]
        {
            names.push(refused(format!("{parents}{name}"), cause, false));
        }
    }
    names.push(refused("nul/app.json", "is a device name on Windows", true));
    names.push(refused("dir./app.json", "ends in a dot or a space", true));
    names
}

#[test]
fn names_windows_cannot_hold_are_refused_everywhere() {
    assert_refused_everywhere(|_| names_windows_cannot_hold(), true);
}

fn symlink_and_special_file_names() -> Vec<Refused> {
    let out = "leads outside the granted directory";
    let symlink = "is a symlink; documents must be regular files";
    let groups: [(&[&str], &'static str, bool); 8] = [
        (&["out/secret.json", "out/new.json", "out/x/y.json", "sub/esc/app.json", "sub/esc/new.json"], out, true),
        (&["sub/deep/esc/new.json", "abs_in/app.json", "insub/esc/new.json", "sub/up/sub/esc/x.json"], out, true),
        (
            &["loop/x.json", "ping/x.json", "pong/app.json", "sub/loop/x.json", "insub/loop/x.json"],
            "is a symlink loop",
            true,
        ),
        (
            &["link.json", "sub/link.json", "insub/link.json", "inlink.json", "dangling.json", "dangling_out.json"],
            symlink,
            false,
        ),
        (&["out", "insub", "sub/up", "sub/esc", "abs_in", "loop", "ping"], symlink, false),
        (
            &["dir.json", "sub", "sub/deep", "fifo.json", "sub/fifo.json", "insub/fifo.json", "sock.json"],
            "is not a regular file",
            false,
        ),
        (
            &["app.json/x.json", "sub/app.json/x.json", "fifo.json/x.json", "sock.json/x.json"],
            "is not a directory",
            true,
        ),
        (&["inlink.json/x.json"], "is not a directory", true),
    ];
    groups.into_iter().flat_map(|(names, cause, dir)| names.iter().map(move |n| refused(*n, cause, dir))).collect()
}

#[test]
fn names_through_symlinks_out_or_loops_and_names_of_links_dirs_fifos_are_refused_everywhere() {
    assert_refused_everywhere(|_| symlink_and_special_file_names(), true);
}

/// A NUL byte at every position of `app.json` and `sub/app.json` (argv cannot carry one).
fn nul_names() -> Vec<Refused> {
    let mut names = Vec::new();
    for plain in ["app.json", "sub/app.json"] {
        for at in 0..=plain.len() {
            names.push(refused(format!("{}\0{}", &plain[..at], &plain[at..]), "may not contain a NUL byte", true));
        }
    }
    names
}

#[test]
fn names_with_a_nul_byte_anywhere_are_refused_by_the_library() {
    assert_refused_everywhere(|_| nul_names(), false);
}

const NON_UTF8_NAMES: [&[u8]; 8] = [
    b"caf\xe9.json",
    b"\xff",
    b"sub/\xfe.json",
    b"\xc0\xaf",
    b"..\xff/x.json",
    b"app.json\x80",
    b"\xed\xa0\x80",
    b"/\xff",
];

#[test]
fn non_utf8_names_are_refused_by_the_cli() {
    let (dir, outside) = world();
    let (before, outside_before) = (snapshot(dir.path()), snapshot(outside.path()));
    for name in NON_UTF8_NAMES {
        for (verb, rest) in COMMANDS {
            let stderr = run_fails(confine(dir.path()).arg(verb).arg(std::ffi::OsStr::from_bytes(name)).args(rest), 2);
            assert!(stderr.contains("invalid UTF-8"), "{verb} {name:?}: {stderr}");
        }
    }
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(snapshot(outside.path()), outside_before);
    tally(NON_UTF8_NAMES.iter().map(|n| n.to_vec()), NON_UTF8_NAMES.len() * COMMANDS.len());
}

#[test]
fn the_battery_holds_over_200_distinct_names() {
    let root = Path::new("/nonexistent");
    let names: BTreeSet<Vec<u8>> = [dot_names(), absolute_and_empty_component_names(root), overlong_names()]
        .into_iter()
        .chain([lock_and_temp_names(), symlink_and_special_file_names(), nul_names(), names_windows_cannot_hold()])
        .flatten()
        .map(|r| r.name.into_bytes())
        .chain(NON_UTF8_NAMES.iter().map(|n| n.to_vec()))
        .collect();
    assert!(names.len() > 200, "only {} distinct names", names.len());
}

/// Odd names that are legal: each document lands under its own name in the root.
const ODD_BUT_LEGAL: [&str; 13] = [
    "..a.json",
    ".json",
    " lead.json",
    "app\u{2024}json",   // one dot leader, not a `.`
    "\u{2025}",          // two dot leader, not `..`
    "sub\u{2215}x.json", // division slash, not `/`
    "sub\u{ff0f}x.json", // fullwidth solidus
    "%2e%2e%2fx.json",
    "caf\u{e9}.json",
    "cafe\u{301}.json", // the same word decomposed: another file
    "x.lock.json",
    ".app.json.0123456789abcdef.tm",
    "$HOME",
];

/// Names through symlinks that stay inside, and where the document lands.
const THROUGH_INNER_LINKS: [(&str, &str); 3] = [
    ("insub/odd.json", "sub/odd.json"),
    ("sub/up/odd.json", "odd.json"),
    ("sub/up/sub/up/sub/odd2.json", "sub/odd2.json"),
];

#[test]
fn odd_but_legal_names_are_accepted_and_stay_inside() {
    let (dir, outside) = world();
    let (root, repo) = (dir.path(), repository(dir.path()));
    let outside_before = snapshot(outside.path());
    let longest = "x".repeat(MAX_FILE_NAME);
    let as_themselves = ODD_BUT_LEGAL.into_iter().chain([longest.as_str()]).map(|name| (name, name));
    for (name, lands) in as_themselves.chain(THROUGH_INNER_LINKS) {
        let before: BTreeSet<PathBuf> = snapshot(root).into_keys().collect();
        run_ok(confine(root).args(["set", name, "k", "1"]));
        assert_eq!(run_ok(confine(root).args(["get", name, "k"])), "1\n", "{name:?}");
        assert_eq!(run_ok(confine(root).args(["incr", name, "k"])), "2\n", "{name:?}");
        run_ok(confine(root).args(["merge", name, "{\"m\": true}"]));
        run_ok(confine(root).args(["unset", name, "m"]));
        assert_eq!(run_ok(confine(root).args(["cat", name])), "{\n  \"k\": 2\n}\n", "{name:?}");
        assert_eq!(repo.read(name).unwrap().content, std::fs::read_to_string(root.join(lands)).unwrap());
        let after: BTreeSet<PathBuf> = snapshot(root).into_keys().collect();
        let added: BTreeSet<PathBuf> = after.difference(&before).cloned().collect();
        assert_eq!(added, BTreeSet::from([PathBuf::from(lands), PathBuf::from(format!("{lands}.lock"))]), "{name:?}");
    }
    assert_eq!(snapshot(outside.path()), outside_before);
    assert_no_temp_files(root);
}

/// Known to fail today: a parent component over the OS limit of 255 bytes can never exist,
/// yet it is reported as an I/O error (exit 5, "File name too long").
#[test]
fn a_parent_component_longer_than_the_os_allows_is_bad_input() {
    let (dir, _outside) = world();
    let name = format!("{}/app.json", "y".repeat(256));
    let stderr = run_fails(confine(dir.path()).args(["set", &name, "k", "1"]), 2);
    assert!(stderr.contains(&name), "{stderr}");
}
