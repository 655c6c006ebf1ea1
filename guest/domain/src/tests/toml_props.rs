//! Property tests of `toml.rs`: any change on any TOML document either is refused, with
//! the words the same change on its JSON value gets (or, where only TOML cannot hold the
//! result, a refusal that says so), or gives a TOML document whose value is exactly the old
//! value with that change; and a change of one value in a table rewrites that value's line
//! alone, its comment kept.
//!
//! Documents are JSON trees written as TOML (standard tables, inline arrays and tables),
//! with comments and blank lines added around and after every line, and a few hand-written
//! ones with every construct (dotted keys, arrays of tables, multi-line arrays, literal
//! strings, other spellings of numbers).

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::*;
use crate::edit;
use crate::service::{Change, apply};

#[allow(clippy::duplicate_mod)]
#[path = "properties.rs"]
mod properties;

static SUITE: properties::Suite = properties::Suite::new(
    "toml",
    "TOML edits",
    &["any_change_is_refused_as_on_json_or_gives_exactly_its_value", "a_changed_value_rewrites_its_line_alone"],
);

const WRITTEN: &[&str] = &[
    "# top\nname = 'literal' # c\nn = 0xff\nbig = 1_000\nf = 6.5e-1\n\n[a] # header\nb = [\n  1, # one\n  2,\n]\nc.d = true\n\n[[t]]\nx = 1\n\n[[t]]\nx = 2\n",
    "a = { b = 1, c = [ 'x', \"y\" ] }\nd = 1979-05-27T07:32:00Z\n[e.f]\ng = \"\"\"multi\nline\"\"\"\n",
    "",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![8 => prop::sample::select(vec!["a", "b", "c"]).prop_map(String::from), 1 => "\\PC{0,3}"]
}

/// A value TOML can hold, or (rarely, for changes) `null`.
fn value(null: bool) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        u32::from(null) => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        2 => any::<i64>().prop_map(Value::from),
        1 => (-1e9f64..1e9).prop_map(Value::from),
        2 => "[a-z\"' #\\n]{0,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            2 => prop::collection::vec((key(), inner), 0..4).prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// A TOML text: a tree written by this module, with comments and blank lines added (none
/// inside a multi-line string, which the trees' strings never are), or a hand-written one.
fn document() -> impl Strategy<Value = String> {
    let tree = prop::collection::vec((key(), value(false)), 0..5)
        .prop_map(|members| members.into_iter().collect::<Map<_, _>>());
    let written = (tree, any::<bool>()).prop_map(|(tree, comments)| {
        let mut edit = Edit::new("d.toml", None).expect("empty");
        edit.change(&KeyPath { segments: vec![] }, |root| {
            *root = tree;
            Ok(String::new())
        })
        .expect("a tree without null is TOML");
        let text = edit.finish("d.toml", "").expect("written").text;
        if !comments {
            return text;
        }
        text.lines().map(|line| format!("\n# above\n{line} # after\n")).collect()
    });
    prop_oneof![3 => written, 1 => prop::sample::select(WRITTEN).prop_map(String::from)]
}

fn path() -> impl Strategy<Value = KeyPath> {
    let segment = prop_oneof![
        3 => prop::sample::select(vec!["a", "b", "c", "x", "t", "n", "big"]).prop_map(|k| Segment::Key(k.to_owned())),
        1 => (0usize..3).prop_map(Segment::Index),
    ];
    prop::collection::vec(segment, 0..4).prop_map(|segments| KeyPath { segments })
}

fn change() -> impl Strategy<Value = Change> {
    let json = || value(true).prop_map(|value| value.to_string());
    (path(), 0..4u8, json(), prop_oneof![any::<i64>().prop_map(Value::from), (-1e3f64..1e3).prop_map(Value::from)])
        .prop_map(|(path, op, value, delta)| {
            let key = path.to_string();
            match op {
                0 => Change::Set { key, value },
                1 => Change::Unset { key },
                2 => Change::Incr { key, delta: delta.to_string() },
                _ => Change::Merge { key, patch: value },
            }
        })
}

/// The change on the JSON tree: the new tree and the answer, or the refusal.
fn on_tree(mut root: Root, change: &Change) -> Result<(Root, String), Error> {
    let parse = |text: &str| crate::document::parse_value("the value", text);
    let key = |key: &str| KeyPath::parse(key).map_err(|e| Error::new(ErrorKind::InvalidKey, e.to_string()));
    let answer = match change {
        Change::Set { key: k, value } => edit::set(&mut root, &key(k)?, parse(value)?).map(|()| String::new()),
        Change::Unset { key: k } => edit::unset(&mut root, &key(k)?).map(|_| String::new()),
        Change::Incr { key: k, delta } => edit::incr(&mut root, &key(k)?, &parse(delta)?).map(|n| n.to_string()),
        Change::Merge { key: k, patch } => edit::merge(&mut root, &key(k)?, parse(patch)?).map(|()| String::new()),
    }?;
    Ok((root, answer))
}

#[test]
fn any_change_is_refused_as_on_json_or_gives_exactly_its_value() {
    SUITE.check(
        "any_change_is_refused_as_on_json_or_gives_exactly_its_value",
        (document(), change()),
        |(text, change)| {
            let old = parse("d.toml", &text).expect("the documents drawn are TOML");
            let expected = on_tree(old, &change);
            match (apply(crate::format::Format::Toml, "d.toml", Some(&text), change.clone()), expected) {
                (Ok((splice, answer)), Ok((tree, expected_answer))) => {
                    let new = splice.apply_to(&text).expect("the splice fits");
                    let value = parse("d.toml", &new).map_err(|e| TestCaseError::fail(format!("{e}\n{new}")))?;
                    prop_assert_eq!(&value, &tree, "{:?} on\n{}\ngave\n{}", change, text, new);
                    prop_assert_eq!(answer, expected_answer);
                }
                (Err(refused), Ok((tree, _))) => {
                    prop_assert!(!can_hold(&Value::Object(tree)), "{:?} refused: {}", change, refused);
                    prop_assert!(
                        matches!(refused.kind, ErrorKind::InvalidValue | ErrorKind::TypeMismatch),
                        "{}",
                        refused
                    );
                }
                (Err(refused), Err(expected)) => {
                    prop_assert_eq!(refused.kind, expected.kind);
                    prop_assert!(refused.detail.starts_with("d.toml: "), "{}", refused);
                }
                (Ok(_), Err(expected)) => {
                    prop_assert!(false, "{:?} on\n{}\nshould be refused: {}", change, text, expected)
                }
            }
            Ok(())
        },
    );
}

#[test]
fn a_changed_value_rewrites_its_line_alone() {
    let name = "a_changed_value_rewrites_its_line_alone";
    let scalar = prop_oneof![
        any::<i64>().prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from)
    ];
    SUITE.check(name, (document(), any::<prop::sample::Index>(), scalar), |(text, pick, value)| {
        // The values that stand on a line of their own: scalars of tables, reached by keys.
        let old = parse("d.toml", &text).expect("TOML");
        let mut lines = Vec::new();
        scalars_of_tables(&old, &mut Vec::new(), &mut lines);
        if lines.is_empty() {
            return Ok(());
        }
        let path = &lines[pick.index(lines.len())];
        let change = Change::Set { key: path.to_string(), value: value.to_string() };
        let (splice, _) = apply(crate::format::Format::Toml, "d.toml", Some(&text), change)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let new = splice.apply_to(&text).expect("fits");
        let (old_lines, new_lines): (Vec<&str>, Vec<&str>) = (text.lines().collect(), new.lines().collect());
        prop_assert_eq!(old_lines.len(), new_lines.len(), "{} = {} on\n{}\ngave\n{}", path, value, text, new);
        let changed: Vec<usize> = (0..old_lines.len()).filter(|&i| old_lines[i] != new_lines[i]).collect();
        prop_assert!(
            changed.len() <= 1,
            "{} = {} changed lines {:?} of\n{}\ngiving\n{}",
            path,
            value,
            changed,
            text,
            new
        );
        if let Some(&line) = changed.first() {
            // What followed the value on its line (a comment) is still there.
            let comment = old_lines[line].find(" # ").map(|at| &old_lines[line][at..]);
            if let Some(comment) = comment.filter(|c| !c.contains('"') && !c.contains('\'')) {
                prop_assert!(new_lines[line].ends_with(comment), "{} lost its comment: {}", path, new_lines[line]);
            }
        }
        Ok(())
    });
}

/// The paths of the scalars that stand as `key = value` in a table of `tree` (its members
/// reached through objects alone), as [`document`] writes them.
fn scalars_of_tables(tree: &Map<String, Value>, path: &mut Vec<Segment>, out: &mut Vec<KeyPath>) {
    for (key, value) in tree {
        path.push(Segment::Key(key.clone()));
        match value {
            Value::Object(members) => scalars_of_tables(members, path, out),
            Value::Array(_) => {}
            // A string of many lines may be written over many.
            Value::String(text) if text.contains('\n') => {}
            _ => out.push(KeyPath { segments: path.clone() }),
        }
        path.pop();
    }
}
