//! A TOML document, a change and its JSON, one per line after the document, which ends at
//! a line `---` (`doc\n---\nOP KEY\nJSON`, OP one of `s` set, `u` unset, `i` incr, `m`
//! merge): the change on the TOML text never panics; it is refused as the same change on
//! the document's JSON value is (or, where only TOML cannot hold the result, as
//! `invalid-value` or `type-mismatch`), or gives a TOML document whose value is exactly
//! that change's, every line before and after the lines it rewrote kept byte for byte (the
//! splice's), and setting a value to what `get` reads changes no byte.

#![no_main]

use confine_domain::document::{self, Root};
use confine_domain::edit;
use confine_domain::error::{Error, ErrorKind};
use confine_domain::format::Format;
use confine_domain::keypath::KeyPath;
use confine_domain::service::{Change, apply, value_at};
use confine_domain::toml::can_hold;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const DOC: &str = "d.toml";

/// The change made on the JSON tree.
fn on_tree(mut root: Root, op: &str, path: &KeyPath, value: Value) -> Result<(Root, String), ErrorKind> {
    let answer = match op {
        "s" => edit::set(&mut root, path, value).map(|()| String::new()),
        "u" => edit::unset(&mut root, path).map(|_| String::new()),
        "i" => edit::incr(&mut root, path, &value).map(|n| n.to_string()),
        _ => edit::merge(&mut root, path, value).map(|()| String::new()),
    }
    .map_err(|e: Error| e.kind)?;
    Ok((root, answer))
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let Some((text, rest)) = input.split_once("\n---\n") else { return };
    let mut lines = rest.splitn(2, '\n');
    let (Some(change), json) = (lines.next(), lines.next().unwrap_or("1")) else { return };
    let Some((op, key)) = change.split_once(' ') else { return };
    let change = match op {
        "s" => Change::Set { key: key.into(), value: json.into() },
        "u" => Change::Unset { key: key.into() },
        "i" => Change::Incr { key: key.into(), delta: json.into() },
        "m" => Change::Merge { key: key.into(), patch: json.into() },
        _ => return,
    };
    let made = apply(Format::Toml, DOC, Some(text), change);
    let Ok(root) = document::parse(Format::Toml, DOC, text) else {
        assert!(made.is_err(), "a change to a text that is not TOML was made");
        return;
    };
    let (Ok(path), Ok(value)) =
        (KeyPath::parse(key), document::parse_value("the value", if op == "u" { "1" } else { json }))
    else {
        assert!(made.is_err(), "a change with a bad key or JSON was made");
        return;
    };
    // What get reads, set back, changes no byte.
    if let Ok(read) = value_at(Format::Toml, DOC, text, &path) {
        let (splice, _) = apply(Format::Toml, DOC, Some(text), Change::Set { key: key.into(), value: read.clone() })
            .unwrap_or_else(|e| panic!("setting {key} to what get read ({read}) was refused: {e}"));
        assert_eq!(splice.apply_to(text).as_deref(), Some(text), "setting {key} to {read} changed the text");
    }
    match (made, on_tree(root, op, &path, value)) {
        (Ok((splice, answer)), Ok((tree, expected))) => {
            let new = splice.apply_to(text).expect("the splice fits the text");
            let value = document::parse(Format::Toml, DOC, &new).expect("the text made is TOML");
            assert_eq!(value, tree, "the TOML made does not hold the change's value");
            assert_eq!(answer, expected);
        }
        (Err(refused), Ok((tree, _))) => {
            assert!(!can_hold(&Value::Object(tree)), "refused only in TOML: {refused}");
            assert!(matches!(refused.kind, ErrorKind::InvalidValue | ErrorKind::TypeMismatch), "{refused}");
        }
        (Err(refused), Err(kind)) => assert_eq!(refused.kind, kind, "refused differently: {refused}"),
        (Ok(_), Err(kind)) => panic!("made, where the change on the value is refused ({kind:?})"),
    }
});
