//! Property tests of `edit.rs`: merge is RFC 7396 (checked against a transcription of its
//! pseudocode), set/unset agree with get, and incr is exact 64-bit arithmetic. And the
//! same changes made on the text in place (`inplace.rs`) give what these give on the tree.
//!
//! Documents and paths draw keys from a small set so that patches and paths meet what is
//! there. Results are compared as text, so the order of members counts too.

use proptest::prelude::*;
use serde_json::Map;

use super::*;

// Each property suite includes the runner: the crate root has no test-only module to hold one.
#[allow(clippy::duplicate_mod)]
#[path = "properties.rs"]
mod properties;

static SUITE: properties::Suite = properties::Suite::new(
    "edit",
    "edits",
    &[
        "merge_at_the_root_is_rfc_7396",
        "merge_at_a_key_is_rfc_7396_on_that_member",
        "merging_a_patch_twice_is_merging_it_once",
        "merging_an_empty_patch_changes_nothing",
        "set_succeeds_exactly_when_the_path_can_be_made_and_get_finds_the_value",
        "unset_succeeds_exactly_when_get_finds_a_value_and_removes_it",
        "incr_by_a_then_b_is_incr_by_a_plus_b_unless_it_overflows",
        "changes_in_place_on_confines_own_text_are_the_tree_rendered_byte_for_byte",
        "changes_in_place_on_any_layout_give_the_tree_s_document",
        "an_update_of_several_changes_is_each_change_made_in_turn",
    ],
);

#[path = "rfc7396.rs"]
mod rfc7396;
use rfc7396::reference_merge;

fn text(value: &Value) -> String {
    serde_json::to_string(value).unwrap()
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![8 => prop::sample::select(vec!["a", "b", "c"]).prop_map(String::from), 1 => "\\PC{0,3}"]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        2 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => (-1e9f64..1e9).prop_map(Value::from),
        1 => "[a-z]{0,3}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            2 => prop::collection::vec((key(), inner), 0..4).prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn root() -> impl Strategy<Value = Root> {
    prop::collection::vec((key(), value()), 0..5).prop_map(|members| members.into_iter().collect())
}

fn object_patch() -> impl Strategy<Value = Value> {
    root().prop_map(Value::Object)
}

/// Paths of one to four steps over the keys and the first indexes documents hold.
fn path() -> impl Strategy<Value = KeyPath> {
    let segment = prop_oneof![
        2 => prop::sample::select(vec!["a", "b", "c"]).prop_map(|k| Segment::Key(k.to_owned())),
        1 => (0usize..3).prop_map(Segment::Index),
    ];
    prop::collection::vec(segment, 1..5).prop_map(|segments| KeyPath { segments })
}

/// Every path in `doc` that addresses a value, outermost first.
fn locations(doc: &Value, prefix: &mut Vec<Segment>, out: &mut Vec<KeyPath>) {
    let children: Vec<(Segment, &Value)> = match doc {
        Value::Object(members) => members.iter().map(|(k, v)| (Segment::Key(k.clone()), v)).collect(),
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (Segment::Index(i), v)).collect(),
        _ => Vec::new(),
    };
    for (segment, child) in children {
        prefix.push(segment);
        out.push(KeyPath { segments: prefix.clone() });
        locations(child, prefix, out);
        prefix.pop();
    }
}

/// A document and a path, half the time one that addresses a value in it.
fn root_and_path() -> impl Strategy<Value = (Root, KeyPath)> {
    (root(), path(), any::<bool>(), any::<prop::sample::Index>()).prop_map(|(root, path, existing, pick)| {
        let mut found = Vec::new();
        locations(&Value::Object(root.clone()), &mut Vec::new(), &mut found);
        match found.len() {
            n if existing && n > 0 => (root, found.swap_remove(pick.index(n))),
            _ => (root, path),
        }
    })
}

/// Whether `set` can reach `path` in `doc`: each step is a member of an object, an element
/// or the append slot of an array, or lies under a container that `set` creates (empty, so
/// only index 0 can follow).
fn settable(doc: &Value, path: &[Segment]) -> bool {
    let mut here = Some(doc);
    for segment in path {
        here = match (segment, here) {
            (Segment::Key(k), Some(Value::Object(members))) => members.get(k),
            (Segment::Index(i), Some(Value::Array(items))) if *i <= items.len() => items.get(*i),
            (Segment::Key(_) | Segment::Index(0), None) => None,
            _ => return false,
        };
    }
    true
}

#[test]
fn merge_at_the_root_is_rfc_7396() {
    SUITE.check("merge_at_the_root_is_rfc_7396", (root(), object_patch()), |(mut root, patch)| {
        let expected = reference_merge(&Value::Object(root.clone()), &patch);
        prop_assert!(merge(&mut root, &KeyPath::default(), patch).is_ok());
        prop_assert_eq!(text(&Value::Object(root)), text(&expected));
        Ok(())
    });
}

#[test]
fn merge_at_a_key_is_rfc_7396_on_that_member() {
    SUITE.check("merge_at_a_key_is_rfc_7396_on_that_member", (root(), key(), value()), |(mut root, key, patch)| {
        let mut expected = root.clone();
        if patch.is_null() {
            expected.shift_remove(&key);
        } else {
            let merged = reference_merge(expected.get(&key).unwrap_or(&Value::Null), &patch);
            expected.insert(key.clone(), merged);
        }
        let path = KeyPath { segments: vec![Segment::Key(key)] };
        prop_assert!(merge(&mut root, &path, patch).is_ok());
        prop_assert_eq!(text(&Value::Object(root)), text(&Value::Object(expected)));
        Ok(())
    });
}

#[test]
fn merging_a_patch_twice_is_merging_it_once() {
    SUITE.check("merging_a_patch_twice_is_merging_it_once", (root(), object_patch()), |(mut root, patch)| {
        merge(&mut root, &KeyPath::default(), patch.clone()).unwrap();
        let once = text(&Value::Object(root.clone()));
        merge(&mut root, &KeyPath::default(), patch).unwrap();
        prop_assert_eq!(text(&Value::Object(root)), once);
        Ok(())
    });
}

#[test]
fn merging_an_empty_patch_changes_nothing() {
    SUITE.check("merging_an_empty_patch_changes_nothing", (root(), prop::option::of(key())), |(mut root, key)| {
        let before = text(&Value::Object(root.clone()));
        let key_name = key.clone();
        let segments: Vec<Segment> = key.map(Segment::Key).into_iter().collect();
        let target_is_object = match &segments[..] {
            [Segment::Key(k)] => root.get(k).is_some_and(Value::is_object),
            _ => true,
        };
        merge(&mut root, &KeyPath { segments }, Value::Object(Map::new())).unwrap();
        // `{}` leaves an object as it is; anything else becomes `{}` (RFC 7396).
        if target_is_object {
            prop_assert_eq!(text(&Value::Object(root)), before);
        } else if let Some(key) = &key_name {
            prop_assert_eq!(root.get(key), Some(&Value::Object(Map::new())));
        }
        Ok(())
    });
}

#[test]
fn set_succeeds_exactly_when_the_path_can_be_made_and_get_finds_the_value() {
    let name = "set_succeeds_exactly_when_the_path_can_be_made_and_get_finds_the_value";
    SUITE.check(name, (root_and_path(), value()), |((mut root, path), value)| {
        let can = settable(&Value::Object(root.clone()), &path.segments);
        match set(&mut root, &path, value.clone()) {
            Ok(()) => {
                prop_assert!(can, "set succeeded where the model says it cannot");
                prop_assert_eq!(get(&root, &path), Some(&value));
            }
            Err(err) => {
                prop_assert!(!can, "set refused a path the model can make: {}", err);
                prop_assert!(matches!(err.kind, ErrorKind::TypeMismatch | ErrorKind::NotFound), "{:?}", err);
            }
        }
        Ok(())
    });
}

#[test]
fn unset_succeeds_exactly_when_get_finds_a_value_and_removes_it() {
    let name = "unset_succeeds_exactly_when_get_finds_a_value_and_removes_it";
    SUITE.check(name, root_and_path(), |(mut root, path)| {
        let before = get(&root, &path).cloned();
        // Removing an element shifts the next one into its place.
        let after = match path.split_last() {
            Some((parents, Segment::Index(i))) => {
                let mut next = parents.to_vec();
                next.push(Segment::Index(i + 1));
                get(&root, &KeyPath { segments: next }).cloned()
            }
            _ => None,
        };
        match unset(&mut root, &path) {
            Ok(removed) => {
                prop_assert_eq!(Some(removed), before);
                prop_assert_eq!(get(&root, &path).cloned(), after);
            }
            Err(err) => {
                prop_assert_eq!(before, None);
                prop_assert!(matches!(err.kind, ErrorKind::TypeMismatch | ErrorKind::NotFound), "{:?}", err);
            }
        }
        Ok(())
    });
}

/// Integers across the whole range a JSON number may hold exactly here (i64 and u64),
/// often near the ends, where sums overflow.
fn integer() -> impl Strategy<Value = i128> {
    let (min, max) = (i128::from(i64::MIN), i128::from(u64::MAX));
    let ends = prop::sample::select(vec![min, -1, 0, i128::from(i64::MAX), max]);
    prop_oneof![
        any::<i64>().prop_map(i128::from),
        any::<u64>().prop_map(i128::from),
        (ends, -3i128..=3).prop_map(move |(end, d)| (end + d).clamp(min, max)),
    ]
}

/// `n` as a JSON number, `None` if it fits neither i64 nor u64.
fn number(n: i128) -> Option<Number> {
    i64::try_from(n).map(Number::from).or_else(|_| u64::try_from(n).map(Number::from)).ok()
}

#[test]
fn incr_by_a_then_b_is_incr_by_a_plus_b_unless_it_overflows() {
    let name = "incr_by_a_then_b_is_incr_by_a_plus_b_unless_it_overflows";
    SUITE.check(name, (integer(), integer()), |(a, b)| {
        let path = KeyPath { segments: vec![Segment::Key("n".to_owned())] };
        let (a_number, b_number) = (number(a).unwrap(), number(b).unwrap());
        let mut root = Root::new();
        prop_assert_eq!(incr(&mut root, &path, &Value::Number(a_number.clone())), Ok(a_number.clone()));
        let result = incr(&mut root, &path, &Value::Number(b_number));
        match number(a + b) {
            Some(sum) => {
                prop_assert_eq!(result, Ok(sum.clone()));
                let mut fresh = Root::new();
                prop_assert_eq!(incr(&mut fresh, &path, &Value::Number(sum.clone())), Ok(sum));
                prop_assert_eq!(text(&Value::Object(fresh)), text(&Value::Object(root)));
            }
            None => {
                let err = result.unwrap_err();
                prop_assert_eq!(err.kind, ErrorKind::TypeMismatch);
                prop_assert!(err.detail.contains("overflows"), "{}", err.detail);
                prop_assert_eq!(get(&root, &path), Some(&Value::Number(a_number)), "a refused incr changed the value");
            }
        }
        Ok(())
    });
}

/// Any change, at the path drawn with the document (or at the root, for `MergeRoot`).
#[derive(Debug, Clone)]
enum Op {
    Set(Value),
    Unset,
    Incr(Value),
    Merge(Value),
    MergeRoot(Value),
}

fn op() -> impl Strategy<Value = Op> {
    let delta = prop_oneof![
        3 => integer().prop_filter_map("fits 64 bits", number).prop_map(Value::Number),
        1 => (-1e3f64..1e3).prop_map(Value::from),
        1 => value(),
    ];
    prop_oneof![
        value().prop_map(Op::Set),
        Just(Op::Unset),
        delta.prop_map(Op::Incr),
        value().prop_map(Op::Merge),
        object_patch().prop_map(Op::MergeRoot),
    ]
}

/// The change made on the tree, and the document rendered whole: what confine wrote
/// before changes were made in place.
fn on_tree(root: &Root, path: &KeyPath, op: &Op) -> Result<(String, String), Error> {
    let mut root = root.clone();
    let none = |()| String::new();
    let answer = match op {
        Op::Set(value) => set(&mut root, path, value.clone()).map(none),
        Op::Unset => unset(&mut root, path).map(|_| String::new()),
        Op::Incr(delta) => incr(&mut root, path, delta).map(|n| n.to_string()),
        Op::Merge(patch) => merge(&mut root, path, patch.clone()).map(none),
        Op::MergeRoot(patch) => merge(&mut root, &KeyPath::default(), patch.clone()).map(none),
    }?;
    Ok((crate::document::render("d", &root).unwrap(), answer))
}

/// The change made on `text` in place; `None` where it is left to the tree.
fn in_place(text: &str, path: &KeyPath, op: &Op) -> Option<Result<(String, String), Error>> {
    use crate::inplace;
    let doc = inplace::Text::new(text, crate::strict::check(text).unwrap());
    let unanswered = |splice| Ok((splice, String::new()));
    let done = match op {
        Op::Set(value) => inplace::set(doc, path, value).map(unanswered),
        Op::Unset => inplace::unset(doc, path).map(unanswered),
        Op::Incr(delta) => inplace::incr(doc, path, delta).map(|r| r.map(|(splice, n)| (splice, n.to_string()))),
        Op::Merge(patch) => inplace::merge(doc, path, patch).map(unanswered),
        Op::MergeRoot(patch) => inplace::merge(doc, &KeyPath::default(), patch).map(unanswered),
    }?;
    Some(done.map(|(splice, answer)| (splice.apply_to(text).expect("the splice fits the text"), answer)))
}

/// Other ways a person or a program lays a document out.
fn layout(root: &Root, style: usize) -> String {
    use serde::Serialize;
    let indent: &[u8] = match style {
        0 => return serde_json::to_string(root).unwrap(),
        1 => b"\t",
        _ => b"    ",
    };
    let mut out = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(indent));
    root.serialize(&mut serializer).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn changes_in_place_on_confines_own_text_are_the_tree_rendered_byte_for_byte() {
    let name = "changes_in_place_on_confines_own_text_are_the_tree_rendered_byte_for_byte";
    SUITE.check(name, (root_and_path(), op()), |((root, path), op)| {
        let text = crate::document::render("d", &root).unwrap();
        let expected = on_tree(&root, &path, &op);
        match in_place(&text, &path, &op) {
            Some(done) => prop_assert_eq!(done, expected),
            None => prop_assert!(expected.is_err(), "a change that succeeds was left to the tree"),
        }
        Ok(())
    });
}

#[test]
fn changes_in_place_on_any_layout_give_the_tree_s_document() {
    let name = "changes_in_place_on_any_layout_give_the_tree_s_document";
    SUITE.check(name, (root_and_path(), op(), 0usize..3), |((root, path), op, style)| {
        let text = layout(&root, style);
        let expected = on_tree(&root, &path, &op);
        match in_place(&text, &path, &op) {
            Some(Ok((done, answer))) => {
                let reparsed = crate::document::render(
                    "d",
                    &crate::document::parse(crate::format::Format::Json, "d.json", &done).unwrap(),
                )
                .unwrap();
                prop_assert_eq!(Ok((reparsed, answer)), expected);
            }
            Some(Err(refused)) => prop_assert_eq!(Err(refused), expected),
            None => prop_assert!(expected.is_err(), "a change that succeeds was left to the tree"),
        }
        Ok(())
    });
}

/// `op` at `path` as the service takes a change.
fn change_of(path: &KeyPath, op: &Op) -> crate::service::Change {
    use crate::service::Change;
    let key = path.to_string();
    match op {
        Op::Set(value) => Change::Set { key, value: text(value) },
        Op::Unset => Change::Unset { key },
        Op::Incr(delta) => Change::Incr { key, delta: text(delta) },
        Op::Merge(patch) => Change::Merge { key, patch: text(patch) },
        Op::MergeRoot(patch) => Change::Merge { key: String::new(), patch: text(patch) },
    }
}

/// An update of several changes (one draft, the text not checked again between changes)
/// gives exactly what the changes give one by one, each on the checked result of the one
/// before: the same text and answers, or the same refusal by the same change.
#[test]
fn an_update_of_several_changes_is_each_change_made_in_turn() {
    use crate::format::Format;
    use crate::service::{apply, apply_all};
    let name = "an_update_of_several_changes_is_each_change_made_in_turn";
    let changes = prop::collection::vec((root_and_path(), op()), 1..5);
    SUITE.check(name, (root(), changes, 0usize..3), |(root, changes, style)| {
        let original = layout(&root, style);
        let changes: Vec<_> = changes.iter().map(|((_, path), op)| change_of(path, op)).collect();
        let mut turn: Result<(String, Vec<String>), (usize, Error)> = Ok((original.clone(), Vec::new()));
        for (index, change) in changes.iter().enumerate() {
            turn = turn.and_then(|(text, mut answers)| {
                let (splice, answer) =
                    apply(Format::Json, "d.json", Some(&text), change.clone()).map_err(|e| (index, e))?;
                answers.push(answer);
                Ok((splice.apply_to(&text).expect("the splice fits"), answers))
            });
        }
        let together = apply_all(Format::Json, "d.json", Some(&original), changes)
            .map(|(splice, answers)| (splice.apply_to(&original).expect("the splice fits"), answers))
            .map_err(|refusal| (refusal.index.unwrap_or(usize::MAX), refusal.error));
        prop_assert_eq!(together, turn);
        Ok(())
    });
}
