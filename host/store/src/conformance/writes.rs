//! One writer at a time: reads, compare-and-swap saves, revisions, removal, and sessions
//! that end without a commit.

use super::{Fresh, Kind, check, content, ok, refused};
use crate::revision;

const DOC: &str = "app.json";
const OLD: &str = r#"{"server": {"port": 8080}}"#;
const NEW: &str = r#"{"server": {"port": 8081}}"#;

/// Reading a document that does not exist is [`Error::NotFound`](crate::Error::NotFound), at
/// the top level and in a directory, and reading creates nothing.
pub fn read_of_a_missing_document_is_not_found(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("read_of_a_missing_document_is_not_found", fresh, |fresh, port| {
        fresh.make_directory("sub");
        refused(port.read(DOC), Kind::NotFound, "reading a missing document");
        refused(port.read("sub/app.json"), Kind::NotFound, "reading a missing document in a directory");
        assert_eq!(ok(port.list(""), "listing the top level"), Vec::<String>::new(), "a read created a document");
        ok(port.save(DOC, OLD, None), "creating the document");
        ok(port.remove(DOC), "removing it");
        refused(port.read(DOC), Kind::NotFound, "reading a removed document");
    })
}

/// A save expecting no document (`expected: None`) creates it, and is refused with
/// [`Error::Conflict`](crate::Error::Conflict) once it exists, leaving it as it was.
pub fn save_without_a_revision_creates_and_then_conflicts(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("save_without_a_revision_creates_and_then_conflicts", fresh, |_, port| {
        let revision = ok(port.save(DOC, OLD, None), "creating a document with `expected: None`");
        let read = ok(port.read(DOC), "reading the created document");
        assert_eq!((read.content.as_str(), read.revision.as_str()), (OLD, revision.as_str()), "the created document");
        refused(port.save(DOC, NEW, None), Kind::Conflict, "saving with `expected: None` over an existing document");
        assert_eq!(content(port, DOC).as_deref(), Some(OLD), "a refused create changed the document");
    })
}

/// A save expecting a revision the document no longer has is refused with
/// [`Error::Conflict`](crate::Error::Conflict), and the document is unchanged; so is a save
/// expecting a revision of a document that does not exist.
pub fn save_refuses_a_stale_revision(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("save_refuses_a_stale_revision", fresh, |_, port| {
        let stale = revision::of(b"{}");
        refused(port.save(DOC, OLD, Some(&stale)), Kind::Conflict, "saving with a revision over no document");
        assert_eq!(content(port, DOC), None, "a refused save created the document");
        let first = ok(port.save(DOC, OLD, None), "creating the document");
        let second = ok(port.save(DOC, NEW, Some(&first)), "saving with the current revision");
        let third = r#"{"server": {"port": 8082}}"#;
        refused(port.save(DOC, third, Some(&first)), Kind::Conflict, "saving with a stale revision");
        let read = ok(port.read(DOC), "reading after the refused save");
        assert_eq!((read.content.as_str(), read.revision), (NEW, second), "a refused save changed the document");
    })
}

/// A save expecting the document's current revision succeeds, and returns the revision of
/// the content saved: the one the next read reports and the next save expects.
pub fn save_with_the_current_revision_returns_the_content_revision(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("save_with_the_current_revision_returns_the_content_revision", fresh, |_, port| {
        let mut expected = ok(port.save(DOC, &super::counter(0), None), "creating the document");
        for value in 1..=5 {
            let new = super::counter(value);
            let returned = ok(port.save(DOC, &new, Some(&expected)), "saving with the current revision");
            assert_eq!(returned, revision::of(new.as_bytes()), "the revision returned is not that of the content");
            let read = ok(port.read(DOC), "reading after the save");
            assert_eq!((read.content, &read.revision), (new, &returned), "the read after a save");
            expected = returned;
        }
    })
}

/// Equal revisions mean equal content: a revision is `revision::of` the content, on every
/// backend; the same content saved twice has the same revision, different content (even
/// by one byte, or by layout alone) a different one.
pub fn equal_revisions_mean_equal_content(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("equal_revisions_mean_equal_content", fresh, |fresh, port| {
        fresh.make_directory("other");
        let contents = [OLD, NEW, r#"{"server":{"port":8080}}"#, "{}", "{ }", "{}\n"];
        let mut revisions = Vec::new();
        for (i, text) in contents.iter().enumerate() {
            let name = format!("doc-{i}.json");
            let saved = ok(port.save(&name, text, None), "saving a document");
            assert_eq!(saved, revision::of(text.as_bytes()), "a save returned another revision than of its content");
            assert_eq!(ok(port.read(&name), "reading it").revision, saved, "a read reported another revision");
            revisions.push(saved);
        }
        for (i, a) in revisions.iter().enumerate() {
            for b in &revisions[i + 1..] {
                assert_ne!(a, b, "two different contents have the same revision");
            }
        }
        // The same content under another name, and again after a change and back.
        let again = ok(port.save("other/copy.json", OLD, None), "saving the same content elsewhere");
        assert_eq!(again, revisions[0], "the same content saved twice has different revisions");
        let changed = ok(port.save("doc-0.json", NEW, Some(&revisions[0])), "changing a document");
        let back = ok(port.save("doc-0.json", OLD, Some(&changed)), "changing it back");
        assert_eq!(back, revisions[0], "the same content has a new revision after a round trip");
        ok(port.save("doc-0.json", NEW, Some(&revisions[0])), "saving with the revision of equal content");
    })
}

/// Removing a document deletes it: a read is then
/// [`Error::NotFound`](crate::Error::NotFound), a second remove too, listing leaves it out,
/// and it can be created again.
pub fn remove_deletes_and_then_is_not_found(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("remove_deletes_and_then_is_not_found", fresh, |fresh, port| {
        refused(port.remove(DOC), Kind::NotFound, "removing a document that never existed");
        fresh.make_directory("sub");
        ok(port.save("keep.json", OLD, None), "creating a neighbour");
        for name in [DOC, "sub/app.json"] {
            ok(port.save(name, OLD, None), "creating a document");
            ok(port.remove(name), "removing the document");
            refused(port.read(name), Kind::NotFound, "reading a removed document");
            refused(port.remove(name), Kind::NotFound, "removing a removed document");
            let directory = name.rsplit_once('/').map_or("", |(directory, _)| directory);
            let listed = ok(port.list(directory), "listing its directory");
            assert!(!listed.iter().any(|listed| listed == name), "a removed document is listed: {listed:?}");
            assert_eq!(content(port, "keep.json").as_deref(), Some(OLD), "a remove touched another document");
            let created = ok(port.save(name, NEW, None), "creating the removed document again (`expected: None`)");
            assert_eq!(ok(port.read(name), "reading it").revision, created, "the document created again");
            ok(port.remove(name), "removing it again");
        }
    })
}

/// A session that ends without a commit, by [`Session::abort`](crate::Session::abort) or by
/// being dropped, writes nothing: an existing document keeps its content and revision, a
/// missing one stays missing.
pub fn abort_and_drop_write_nothing(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("abort_and_drop_write_nothing", fresh, |_, port| {
        let revision = ok(port.save(DOC, OLD, None), "creating the document");
        for drop_it in [false, true] {
            let how = if drop_it { "dropped" } else { "aborted" };
            for name in [DOC, "missing.json"] {
                let session = ok(port.open_session(name, None), "opening a session");
                let current = ok(port.current(&session), "reading in the session").map(|snapshot| snapshot.content);
                let before = content(port, name);
                assert_eq!(current, before, "the session's current content differs from a read");
                if drop_it {
                    drop(session);
                } else {
                    port.abort(session);
                }
                assert_eq!(content(port, name), before, "a session {how} without commit changed {name}");
            }
            assert_eq!(ok(port.read(DOC), "reading").revision, revision, "a session {how} changed the revision");
            assert_eq!(ok(port.list(""), "listing"), vec![DOC.to_owned()], "a session {how} created a document");
        }
    })
}
