//! The same promises for TOML documents (named `*.toml`), where the check the repository
//! is handed knows TOML as confine's does (`confine_formats::Documents`): what is not a
//! TOML document is never written, whichever way it comes; concurrent updates of one lose
//! none, and their texts are written as given, byte for byte; and a splice of a TOML text
//! is checked whole.

use std::convert::Infallible;

use super::group::concurrently;
use super::{Fresh, Kind, check, content, ok, refused};
use crate::{NewContent, Splice};

const DOC: &str = "app.toml";
const KEPT: &str = "# kept as written\n[server]\nport = 8080 # the default\n";

/// What is not a TOML document (invalid TOML with a key or a table twice, an integer
/// beyond 64 bits, a JSON object) is refused with
/// [`Error::InvalidDocument`](crate::Error::InvalidDocument) by a save, a commit and an
/// update of a `*.toml` name, and nothing is written; a TOML text is refused for a JSON
/// name. A TOML text is stored byte for byte.
pub fn toml_documents_are_checked_as_toml(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("toml_documents_are_checked_as_toml", fresh, |_, port| {
        let revision = ok(port.save(DOC, KEPT, None), "creating a TOML document");
        assert_eq!(content(port, DOC).as_deref(), Some(KEPT), "a TOML text was not stored as given");
        let invalid = [
            "a = 1\na = 2\n",
            "[a]\nx = 1\n[a]\ny = 2\n",
            "n = 9223372036854775808\n",
            "{\"server\": {\"port\": 8080}}",
            "[server\n",
            "s = \"open\n",
        ];
        for text in invalid {
            let doing = |operation: &str| format!("{operation} {text:?}");
            refused(port.save("new.toml", text, None), Kind::InvalidDocument, &doing("creating a TOML document of"));
            refused(port.save(DOC, text, Some(&revision)), Kind::InvalidDocument, &doing("saving"));
            let session = ok(port.open_session(DOC, None), "opening a session");
            refused(port.commit(session, text), Kind::InvalidDocument, &doing("committing"));
            let owned = text.to_owned();
            let update = port.update(DOC, move |_| Ok::<_, Infallible>(owned.clone()));
            refused(update, Kind::InvalidDocument, &doing("updating to"));
        }
        refused(port.save("app.json", KEPT, None), Kind::InvalidDocument, "saving a TOML text as a JSON document");
        let read = ok(port.read(DOC), "reading the document");
        assert_eq!((read.content.as_str(), read.revision), (KEPT, revision), "an invalid document was written");
        assert_eq!(ok(port.list(""), "listing"), vec![DOC.to_owned()], "an invalid document was created");
    })
}

/// Updates of one TOML counter by 8 threads at once lose none, and the text each writes
/// is stored as it gave it (its comment too).
pub fn toml_updates_lose_no_update(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("toml_updates_lose_no_update", fresh, |_, port| {
        const EACH: u64 = 12;
        let text = |n: u64| format!("# a counter\nn = {n} # updated by everyone\n");
        let value = |text: &str| -> u64 {
            let digits = text.split("n = ").nth(1).and_then(|rest| rest.split(' ').next());
            digits.and_then(|n| n.parse().ok()).expect("the counter's text")
        };
        let results = concurrently(port, EACH, |port, _| {
            port.update("count.toml", move |current| Ok::<_, Infallible>(text(current.map_or(0, value) + 1)))
        });
        for (id, outcome) in results {
            assert!(matches!(outcome, Ok(Ok(_))), "update {id} of the TOML counter failed");
        }
        let total = 8 * EACH;
        assert_eq!(content(port, "count.toml"), Some(text(total)), "updates of a TOML document were lost");
    })
}

/// A splice of a TOML text is never taken as shown: one that keeps it a document is
/// written in place, one that makes a key twice is refused and writes nothing.
pub fn a_toml_splice_is_checked_whole(fresh: &dyn Fn() -> Fresh) -> u64 {
    check("a_toml_splice_is_checked_whole", fresh, |_, port| {
        let revision = ok(port.save(DOC, KEPT, None), "creating a TOML document");
        let port_at = KEPT.find("8080").expect("the port's value");
        let splice = |text: &'static str| {
            move |_: Option<crate::Current<'_>>| {
                Ok::<_, Infallible>((NewContent::Splice(Splice { range: port_at..port_at + 4, text: text.into() }), ()))
            }
        };
        let twice = port.count(port.repository.update_in_place(DOC, splice("1\nport = 2")));
        refused(twice.map(|never| never.unwrap_or_else(|e| match e {})), Kind::InvalidDocument, "a key twice");
        assert_eq!(ok(port.read(DOC), "reading").revision, revision, "a splice making a key twice was written");
        let made = port.count(port.repository.update_in_place(DOC, splice("8443")));
        ok(made, "splicing a new port").unwrap_or_else(|never| match never {});
        assert_eq!(content(port, DOC), Some(KEPT.replace("8080", "8443")), "the splice was not made in place");
    })
}
