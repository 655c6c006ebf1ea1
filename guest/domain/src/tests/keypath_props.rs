//! Property tests of `keypath.rs`: every path can be written and read back, and no text
//! makes the parser panic or report a position outside the text.

use std::fmt::Write;

use proptest::prelude::*;

use super::*;

// Each property suite includes the runner: the crate root has no test-only module to hold one.
#[allow(clippy::duplicate_mod)]
#[path = "properties.rs"]
mod properties;

static SUITE: properties::Suite = properties::Suite::new(
    "keypath",
    "key paths",
    &[
        "display_parses_back_to_the_same_path",
        "fully_quoted_text_parses_to_the_same_path",
        "any_text_parses_or_says_where_not",
    ],
);

/// Keys of every kind: bare ones, ones made of the grammar's own characters (and the empty
/// key), and any string at all, unicode and control characters included.
fn key() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9_-]{1,8}", "[a.\\[\\]\"\\\\ 0-9]{0,6}", any::<String>()]
}

fn segment() -> impl Strategy<Value = Segment> {
    prop_oneof![
        3 => key().prop_map(Segment::Key),
        1 => (0usize..12).prop_map(Segment::Index),
        1 => any::<usize>().prop_map(Segment::Index),
    ]
}

fn path() -> impl Strategy<Value = KeyPath> {
    prop::collection::vec(segment(), 0..6).prop_map(|segments| KeyPath { segments })
}

/// Writes `path` with every key quoted and every character outside printable ASCII as a
/// `\u` escape: a second writer, independent of `Display`, which writes bare keys.
fn write_fully_quoted(path: &KeyPath) -> String {
    let mut text = String::new();
    for segment in &path.segments {
        match segment {
            Segment::Index(n) => write!(text, "[{n}]").unwrap(),
            Segment::Key(key) => {
                text.push_str("[\"");
                for c in key.chars() {
                    match c {
                        '"' => text.push_str("\\\""),
                        '\\' => text.push_str("\\\\"),
                        ' '..='~' => text.push(c),
                        _ => {
                            for unit in c.encode_utf16(&mut [0; 2]) {
                                write!(text, "\\u{unit:04x}").unwrap();
                            }
                        }
                    }
                }
                text.push_str("\"]");
            }
        }
    }
    text
}

/// Text near the grammar: characters it gives meaning to, valid paths with one character
/// inserted or removed, and any string.
fn text() -> impl Strategy<Value = String> {
    let mutated = (path(), any::<prop::sample::Index>(), prop::option::of("[.\\[\\]\"\\\\0-9a]")).prop_map(
        |(path, at, insert)| {
            let mut text = path.to_string();
            let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let at = boundaries[at.index(boundaries.len())];
            match insert {
                Some(s) => text.insert_str(at, &s),
                None if at < text.len() => {
                    text.remove(at);
                }
                None => {}
            }
            text
        },
    );
    prop_oneof!["[a.\\[\\]\"\\\\0-9 ]{0,16}", "[a.\\[\\]\"\\\\u0-9]{0,16}", mutated, any::<String>()]
}

#[test]
fn display_parses_back_to_the_same_path() {
    SUITE.check("display_parses_back_to_the_same_path", path(), |path| {
        let text = path.to_string();
        prop_assert_eq!(KeyPath::parse(&text), Ok(path), "text {:?}", text);
        Ok(())
    });
}

#[test]
fn fully_quoted_text_parses_to_the_same_path() {
    SUITE.check("fully_quoted_text_parses_to_the_same_path", path(), |path| {
        let text = write_fully_quoted(&path);
        prop_assert_eq!(KeyPath::parse(&text), Ok(path), "text {:?}", text);
        Ok(())
    });
}

#[test]
fn any_text_parses_or_says_where_not() {
    SUITE.check("any_text_parses_or_says_where_not", text(), |text| {
        match KeyPath::parse(&text) {
            Ok(path) => {
                // What parses has one canonical form, which reads back as the same path.
                let canonical = path.to_string();
                let again = KeyPath::parse(&canonical);
                prop_assert_eq!(again.as_ref(), Ok(&path), "canonical {:?}", canonical);
                prop_assert_eq!(again.map(|p| p.to_string()), Ok(canonical));
            }
            Err(err) => {
                prop_assert_eq!(&err.path, &text);
                prop_assert!(err.offset <= text.len() && text.is_char_boundary(err.offset), "{err}");
                prop_assert!(!text.is_empty(), "the empty path is the root, not an error");
                let message = err.to_string();
                let offset = format!("offset {}", err.offset);
                prop_assert!(message.contains(err.reason) && message.contains(&offset), "{}", message);
            }
        }
        Ok(())
    });
}
