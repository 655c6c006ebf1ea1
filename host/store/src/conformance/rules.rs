//! The rules every backend keeps the same: names, the size limit, what a document is, and
//! what a listing holds.

use std::convert::Infallible;

use super::{Fresh, Kind, check, content, counter, ok, refused};
use crate::MAX_FILE_NAME;

const DOC: &str = "app.json";

/// Names that are no document, each refused by every operation.
fn bad_document_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "",
        "/abs.json",
        "/",
        "../up.json",
        "sub/../app.json",
        "..",
        ".",
        "./app.json",
        "sub/./app.json",
        "a\0b.json",
        "\0",
        "x.lock",
        "sub/app.json.lock",
        ".x.1.tmp",
        "sub/.app.json.Ab3dE.tmp",
        "sub/",
        "app.json/",
        "sub//app.json",
        "//app.json",
    ]
    .map(str::to_owned)
    .into();
    names.push("n".repeat(MAX_FILE_NAME + 1));
    names.push(format!("{}/app.json", "d".repeat(256)));
    names.push(format!("{}app.json", "d/".repeat(520)));
    names
}

/// Directory names that are no directory of documents, refused by a listing.
fn bad_directory_names() -> Vec<String> {
    let mut names: Vec<String> =
        ["/", "/abs", "..", "../up", "sub/..", ".", "./sub", "a\0b", "sub/", "sub//deeper", "//"]
            .map(str::to_owned)
            .into();
    names.push("d".repeat(256));
    names.push("d/".repeat(520));
    names
}

/// A name that is not a document (absolute, `..`, `.`, empty, an empty component or a
/// trailing `/`, a NUL byte, a lock or temp file's name, too long) is refused with
/// [`Error::InvalidPath`](crate::Error::InvalidPath) by read, save, remove, open_session,
/// lock_status and update, and a directory name that is not one by list; nothing is created.
/// Names that are merely close to those (`x.lock.json`, `.hidden.json`, a file name of
/// [`MAX_FILE_NAME`] bytes) are documents.
pub fn bad_names_are_refused_by_every_operation(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("bad_names_are_refused_by_every_operation", fresh, |fresh, port| {
        fresh.make_directory("sub");
        let revision = ok(port.save(DOC, &counter(0), None), "creating a document");
        for name in bad_document_names() {
            let shown = format!("{:?}", name.chars().take(40).collect::<String>());
            let doing = |operation: &str| format!("{operation} the bad name {shown}");
            refused(port.read(&name), Kind::InvalidPath, &doing("reading"));
            refused(port.save(&name, &counter(1), None), Kind::InvalidPath, &doing("creating"));
            refused(port.save(&name, &counter(1), Some(&revision)), Kind::InvalidPath, &doing("saving"));
            refused(port.remove(&name), Kind::InvalidPath, &doing("removing"));
            refused(port.open_session(&name, None), Kind::InvalidPath, &doing("opening a session on"));
            refused(port.lock_status(&name), Kind::InvalidPath, &doing("asking the lock status of"));
            refused(port.watch(&name), Kind::InvalidPath, &doing("watching"));
            let update = port.update(&name, |_| Ok::<_, Infallible>(counter(1)));
            refused(update, Kind::InvalidPath, &doing("updating"));
        }
        for name in bad_directory_names() {
            let shown = format!("{:?}", name.chars().take(40).collect::<String>());
            refused(port.list(&name), Kind::InvalidPath, &format!("listing the bad directory name {shown}"));
        }
        assert_eq!(
            ok(port.list(""), "listing the top level"),
            vec![DOC.to_owned()],
            "a refused name created something"
        );
        assert_eq!(ok(port.list("sub"), "listing sub"), Vec::<String>::new(), "a refused name created something");
        for name in ["up.json", "abs.json", "b.json", "x", "sub/app.json"] {
            assert_eq!(content(port, name), None, "a refused name created {name}");
        }
        let longest = format!("sub/{}", "n".repeat(MAX_FILE_NAME));
        for name in ["x.lock.json", ".hidden.json", "sub/.x.1.tmp.json", "sub/lock", &longest] {
            ok(port.save(name, &counter(2), None), &format!("creating the good name {name:?}"));
            assert_eq!(content(port, name), Some(counter(2)), "reading the good name {name:?}");
        }
    })
}

/// Content over the size limit
/// ([`Options::max_document_size`](crate::Options::max_document_size)) is refused with
/// [`Error::TooLarge`](crate::Error::TooLarge) by save, commit and update, and nothing is
/// written; content of exactly the limit is a document. A stored document over the limit
/// in force is refused by read and by a session's current, and an update of it writes
/// nothing.
pub fn content_over_the_size_limit_is_refused(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("content_over_the_size_limit_is_refused", fresh, |_, port| {
        const LIMIT: usize = 64;
        let small = port.with(|options| options.with_max_document_size(LIMIT as u64));
        let sized = |size: usize| format!("{{\"fill\": \"{}\"}}", "x".repeat(size - 12));
        let (exactly, over) = (sized(LIMIT), sized(LIMIT + 1));
        assert_eq!((exactly.len(), over.len()), (LIMIT, LIMIT + 1), "the suite's own documents");
        refused(small.save("big.json", &over, None), Kind::TooLarge, "creating a document over the limit");
        assert_eq!(content(port, "big.json"), None, "a document over the limit was created");
        ok(small.save("exact.json", &exactly, None), "creating a document of exactly the limit");
        assert_eq!(content(&small, "exact.json"), Some(exactly), "reading a document of exactly the limit");
        let revision = ok(small.save(DOC, &counter(1), None), "creating a small document");
        refused(small.save(DOC, &over, Some(&revision)), Kind::TooLarge, "saving content over the limit");
        let session = ok(small.open_session(DOC, None), "opening a session");
        refused(small.commit(session, &over), Kind::TooLarge, "committing content over the limit");
        let grown = over.clone();
        let update = small.update(DOC, move |_| Ok::<_, Infallible>(grown.clone()));
        refused(update, Kind::TooLarge, "updating to content over the limit");
        assert_eq!(content(port, DOC), Some(counter(1)), "content over the limit was written");
        assert!(!ok(port.lock_status(DOC), "asking the lock status").held, "a refused commit kept the lock");

        ok(port.save("big.json", &over, None), "creating a document over the small limit, under the default");
        refused(small.read("big.json"), Kind::TooLarge, "reading a document over the limit");
        let session = ok(small.open_session("big.json", None), "opening a session on a document over the limit");
        refused(small.current(&session), Kind::TooLarge, "reading a document over the limit in a session");
        drop(session);
        let update = small.update("big.json", |_| Ok::<_, Infallible>(counter(2)));
        refused(update, Kind::TooLarge, "updating a document over the limit");
        assert_eq!(content(port, "big.json"), Some(over), "an update of a document over the limit wrote");
    })
}

/// Content that is not a document (not JSON, empty, a root that is not an object, the
/// same key twice, an integer beyond 64 bits, trailing text) is refused with
/// [`Error::InvalidDocument`](crate::Error::InvalidDocument) by save, commit and update,
/// and nothing is written.
pub fn invalid_documents_are_refused(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("invalid_documents_are_refused", fresh, |_, port| {
        let invalid = [
            "not json",
            "",
            "  \n",
            "[1, 2]",
            "\"text\"",
            "42",
            "null",
            "{",
            r#"{"a": 1, "a": 2}"#,
            r#"{"outer": {"a": 1, "b": {}, "a": 2}}"#,
            r#"{"n": 99999999999999999999}"#,
            r#"{"n": -99999999999999999999}"#,
            r#"{"a": 1} trailing"#,
            r#"{"a": 1}{"b": 2}"#,
        ];
        let revision = ok(port.save(DOC, &counter(1), None), "creating a document");
        for text in invalid {
            let doing = |operation: &str| format!("{operation} {text:?}");
            refused(port.save("new.json", text, None), Kind::InvalidDocument, &doing("creating a document of"));
            refused(port.save(DOC, text, Some(&revision)), Kind::InvalidDocument, &doing("saving"));
            let session = ok(port.open_session(DOC, None), "opening a session");
            refused(port.commit(session, text), Kind::InvalidDocument, &doing("committing"));
            let session = ok(port.open_session("new.json", None), "opening a session");
            refused(port.commit(session, text), Kind::InvalidDocument, &doing("committing a new document of"));
            let owned = text.to_owned();
            refused(
                port.update(DOC, move |_| Ok::<_, Infallible>(owned.clone())),
                Kind::InvalidDocument,
                &doing("updating to"),
            );
            let owned = text.to_owned();
            let update = port.update("new.json", move |_| Ok::<_, Infallible>(owned.clone()));
            refused(update, Kind::InvalidDocument, &doing("updating a new document to"));
        }
        let read = ok(port.read(DOC), "reading the document");
        assert_eq!((read.content, read.revision), (counter(1), revision), "an invalid document was written");
        assert_eq!(ok(port.list(""), "listing"), vec![DOC.to_owned()], "an invalid document was created");
        for valid in [r#"{"n": 18446744073709551615}"#, r#"{"n": -9223372036854775808, "x": 1.5e300}"#, " {}\n"] {
            ok(port.save(&format!("valid-{}.json", valid.len()), valid, None), &format!("saving {valid:?}"));
        }
    })
}

/// `list(directory)` returns the documents directly in that directory (`""`: the top
/// level), in byte order, as names relative to the top level (`sub/a.json`): not those of
/// nested directories, not directories, not lock or temp files, not removed documents, and
/// nothing for a directory that holds none.
pub fn list_returns_the_documents_directly_in_a_directory(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("list_returns_the_documents_directly_in_a_directory", fresh, |fresh, port| {
        let listed = |directory: &str| ok(port.list(directory), &format!("listing {directory:?}"));
        assert_eq!(listed(""), Vec::<String>::new(), "a fresh store lists documents");
        fresh.make_directory("sub/deeper");
        fresh.make_directory("empty");
        let documents = [
            "b.json",
            "sub/c.json",
            // Differs from the others by more than case: on a case-insensitive filesystem
            // (Windows, macOS by default) `B.json` would be `b.json`.
            "Z.json",
            "sub/deeper/x.json",
            "a.json",
            "sub/a.json",
            "sub/a-b.json",
            "a.json.bak",
        ];
        for (i, name) in documents.into_iter().enumerate() {
            ok(port.save(name, &counter(i as u64), None), &format!("creating {name}"));
        }
        let top = ["Z.json", "a.json", "a.json.bak", "b.json"];
        let sub = ["sub/a-b.json", "sub/a.json", "sub/c.json"];
        assert_eq!(listed(""), top, "listing the top level");
        assert_eq!(listed("sub"), sub, "listing sub");
        assert_eq!(listed("sub/deeper"), ["sub/deeper/x.json"], "listing sub/deeper");
        assert_eq!(listed("empty"), Vec::<String>::new(), "listing a directory with no document");
        // Sessions (which may leave lock files) add nothing, ended or open.
        port.abort(ok(port.open_session("sub/pending.json", None), "opening a session on a new document"));
        let open = ok(port.open_session("sub/c.json", None), "opening a session");
        assert_eq!(listed("sub"), sub, "listing sub after sessions");
        ok(port.commit(open, &counter(99)), "committing");
        ok(port.remove("sub/c.json"), "removing sub/c.json");
        assert_eq!(listed("sub"), &sub[..2], "listing sub after a remove");
        assert_eq!(listed(""), top, "listing the top level at the end");
    })
}
