//! A document in any layout, a change and its JSON, one per line (`doc\nOP KEY\nJSON`, OP one
//! of `s` set, `u` unset, `i` incr, `m` merge): the change made on the text in place (what
//! `config-service.apply` does) never panics, its splice fits the text and gives a valid
//! document, and that document is the one the change makes on the parsed tree (member order
//! included), or both refuse with the same error. On confine's own layout the text is
//! identical byte for byte.

#![no_main]

use confine_domain::document::{self, Root};
use confine_domain::edit;
use confine_domain::error::Error;
use confine_domain::format::Format;
use confine_domain::keypath::KeyPath;
use confine_domain::service::{Change, apply};
use confine_domain::strict;
use libfuzzer_sys::fuzz_target;

const DOC: &str = "d.json";

/// The change made on the tree, the document rendered whole.
fn on_tree(root: &mut Root, op: &str, key: &str, json: &str) -> Result<(String, String), Error> {
    let in_document = |e: Error| Error::new(e.kind, format!("{DOC}: {}", e.detail));
    let path = KeyPath::parse(key).expect("checked by apply first");
    let value = || document::parse_value("the value", json).expect("checked by apply first");
    let answer = match op {
        "s" => edit::set(root, &path, value()).map(|()| String::new()),
        "u" => edit::unset(root, &path).map(|_| String::new()),
        "i" => edit::incr(root, &path, &value()).map(|n| n.to_string()),
        _ => edit::merge(root, &path, value()).map(|()| String::new()),
    }
    .map_err(in_document)?;
    Ok((document::render(DOC, root).expect("a tree renders"), answer))
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let mut lines = input.splitn(3, '\n');
    let (Some(text), Some(change), json) = (lines.next(), lines.next(), lines.next().unwrap_or("1")) else { return };
    let Some((op, key)) = change.split_once(' ') else { return };
    let change = match op {
        "s" => Change::Set { key: key.into(), value: json.into() },
        "u" => Change::Unset { key: key.into() },
        "i" => Change::Incr { key: key.into(), delta: json.into() },
        "m" => Change::Merge { key: key.into(), patch: json.into() },
        _ => return,
    };
    let in_place = apply(Format::Json, DOC, Some(text), change);
    let Ok(mut root) = document::parse(Format::Json, DOC, text) else {
        assert!(in_place.is_err(), "a change to a document that does not parse was made");
        return;
    };
    let uses_json = op != "u";
    if KeyPath::parse(key).is_err() || (uses_json && document::parse_value("the value", json).is_err()) {
        assert!(in_place.is_err(), "a change with a bad key or JSON was made");
        return;
    }
    let canonical = document::render(DOC, &root).expect("a tree renders") == text;
    let expected = on_tree(&mut root, op, key, json);
    match in_place {
        Ok((splice, answer)) => {
            let made = splice.apply_to(text).expect("the splice fits the text");
            strict::check(&made).expect("the text made in place is valid JSON");
            let reparsed = document::parse(Format::Json, DOC, &made).expect("the text made in place is a document");
            assert_eq!(
                Ok((document::render(DOC, &reparsed).expect("a tree renders"), answer.clone())),
                expected,
                "in place differs from the tree"
            );
            if canonical {
                assert_eq!(Ok((made, answer)), expected, "confine's own layout changed");
            }
        }
        Err(refused) => assert_eq!(Err(refused), expected, "in place refused differently"),
    }
});
