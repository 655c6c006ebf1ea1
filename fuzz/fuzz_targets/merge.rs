//! A document and a merge patch, as JSON text separated by the first newline: merging at the
//! root never panics, agrees with RFC 7396 (its pseudocode, in guest/domain/src/tests/rfc7396.rs) member order
//! included, is refused exactly when the result would nest deeper than `MAX_DEPTH`, and
//! merging the same patch again changes nothing.

#![no_main]

use confine_domain::document::Root;
use confine_domain::edit::{self, MAX_DEPTH};
use confine_domain::keypath::KeyPath;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[path = "../../guest/domain/src/tests/rfc7396.rs"]
mod rfc7396;
use rfc7396::reference_merge;

fn text(root: &Root) -> String {
    serde_json::to_string(root).expect("a JSON value serializes")
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let Some((doc, patch)) = input.split_once('\n') else { return };
    let (Ok(Value::Object(mut root)), Ok(patch)) = (serde_json::from_str(doc), serde_json::from_str::<Value>(patch))
    else {
        return;
    };
    if !patch.is_object() {
        assert!(edit::merge(&mut root, &KeyPath::default(), patch).is_err(), "a non-object patch at the root");
        return;
    }
    let expected = reference_merge(&Value::Object(root.clone()), &patch);
    match edit::merge(&mut root, &KeyPath::default(), patch.clone()) {
        Ok(()) => {
            assert_eq!(text(&root), serde_json::to_string(&expected).unwrap(), "merge differs from RFC 7396");
            assert!(edit::depth(&expected) <= MAX_DEPTH, "a result deeper than {MAX_DEPTH} was accepted");
            let stored = text(&root);
            assert!(serde_json::from_str::<Value>(&stored).is_ok(), "the result cannot be read back");
            edit::merge(&mut root, &KeyPath::default(), patch).expect("merging the same patch again");
            assert_eq!(text(&root), stored, "merging the same patch twice is not merging it once");
        }
        Err(err) => assert!(edit::depth(&expected) > MAX_DEPTH, "merge refused: {err}"),
    }
});
