//! Unit tests of `name.rs`.

use super::*;

fn refused(name: &str) -> String {
    match DocumentName::parse(name) {
        Err(Error::InvalidPath { reason, .. }) => reason,
        Err(other) => panic!("{name:?}: expected invalid-path, got {other}"),
        Ok(_) => panic!("{name:?}: expected invalid-path, got a name"),
    }
}

#[test]
fn plain_names_pass_and_split_into_directory_and_file() {
    let name = DocumentName::parse("services/eu/web.json").expect("a plain name");
    assert_eq!((name.as_str(), name.file(), name.directory()), ("services/eu/web.json", "web.json", "services/eu"));
    assert_eq!(name.parents().collect::<Vec<_>>(), ["services", "eu"]);
    let top = DocumentName::parse("app.json").expect("a plain name");
    assert_eq!((top.file(), top.directory(), top.parents().count()), ("app.json", "", 0));
}

#[test]
fn escapes_and_reserved_names_are_refused() {
    for name in [
        "",
        "/etc/passwd",
        "../x.json",
        "a/../../x.json",
        "a/..",
        "./a.json",
        "a//b",
        "a/",
        "a\0b",
        "app.json.lock",
        ".app.json.1234.tmp",
        &"x".repeat(MAX_FILE_NAME + 1),
        &format!("{}/a.json", "d".repeat(256)),
        &"a/".repeat(600),
    ] {
        refused(name);
    }
}

#[test]
fn each_refusal_says_why() {
    assert!(refused("/etc/passwd").contains("absolute"));
    assert!(refused("a/../b").contains("`..`"));
    assert!(refused("a.lock").contains("lock files"));
    assert!(refused(".a.1.tmp").contains("temp files"));
    assert!(refused("a\0").contains("NUL"));
}

#[test]
fn directories_allow_the_top_level_and_refuse_escapes() {
    assert_eq!(DirectoryName::parse("").expect("the top level").components().count(), 0);
    let sub = DirectoryName::parse("a/b").expect("a plain directory");
    assert_eq!(sub.components().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(sub.join("c.json"), "a/b/c.json");
    for name in ["/", "..", "a/../..", "a//b", "a\0"] {
        assert!(matches!(DirectoryName::parse(name), Err(Error::InvalidPath { .. })), "{name:?}");
    }
}

#[test]
fn names_windows_cannot_hold_are_refused_everywhere() {
    for (name, why) in [
        ("a:b.json", "data stream"),
        ("app.json:stream", "data stream"),
        ("dir\\app.json", "separates"),
        ("a*.json", "not allowed"),
        ("a?.json", "not allowed"),
        ("a\"b.json", "not allowed"),
        ("a<b>.json", "not allowed"),
        ("a|b.json", "not allowed"),
        ("a\tb.json", "not allowed"),
        ("app.json.", "dot or a space"),
        ("app.json ", "dot or a space"),
        ("dir./app.json", "dot or a space"),
        ("con", "device name"),
        ("NUL.json", "device name"),
        ("Aux.tar.gz", "device name"),
        ("prn", "device name"),
        ("com1.json", "device name"),
        ("LPT9", "device name"),
        ("sub/nul/app.json", "device name"),
        ("app.json.LOCK", "lock files"),
        (".app.json.0123456789abcdef.TMP", "temp files"),
    ] {
        let reason = refused(name);
        assert!(reason.contains(why), "{name:?}: {reason}");
    }
}

#[test]
fn names_that_only_resemble_windows_devices_pass() {
    for name in [
        "console.json",
        "nul-device.json",
        "com10.json",
        "com0.json",
        "lpt.json",
        "a€.json",
        "aux1.json",
        "connection/app.json",
    ] {
        DocumentName::parse(name).unwrap_or_else(|e| panic!("{name:?} should pass: {e}"));
    }
}
