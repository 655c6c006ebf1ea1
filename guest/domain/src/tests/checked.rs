//! Unit tests of `checked.rs`.

use super::*;

const DOC: &str = "{\n  \"n\": 1,\n  \"list\": [10, {\"deep\": \"x\"}],\n  \"s\": \"text\"\n}\n";

/// What `splice_keeps` says of replacing `of` (its first occurrence in `text`) with `with`.
fn keeps(text: &str, depth: usize, of: &str, with: &str) -> Option<usize> {
    let start = text.find(of).unwrap();
    splice_keeps(text, depth, start..start + of.len(), with)
}

#[test]
fn a_value_replaced_by_a_value_is_shown_to_keep_a_document() {
    for (of, with) in [("1", "2"), ("10", "{\"a\": [null]}"), ("\"x\"", "-0.5"), ("[10, {\"deep\": \"x\"}]", "{}")] {
        assert!(keeps(DOC, 3, of, with).is_some(), "{of} -> {with}");
    }
}

#[test]
fn anything_else_is_left_to_a_check() {
    assert_eq!(keeps(DOC, 3, "\"n\"", "\"m\""), None, "a key");
    assert_eq!(keeps(DOC, 3, "text", "more"), None, "part of a string");
    for with in ["2, \"m\": 3", "", "{", "1 2", "123456789012345678901234567890", "{\"a\": 1, \"a\": 2}"] {
        assert_eq!(keeps(DOC, 3, "1", with), None, "{with:?} is not one value the rules accept");
    }
    let start = DOC.find('1').unwrap();
    assert_eq!(splice_keeps(DOC, 3, start..start, "0"), None, "an insertion");
    assert_eq!(splice_keeps(DOC, 3, 0..DOC.len(), "{}"), None, "the root");
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert_eq!(keeps(DOC, 3, "1", &deep), None, "nesting past the edits' limit");
}

#[test]
fn a_shown_splice_says_how_deep_the_text_nests_at_most() {
    assert_eq!(strict::check(DOC).unwrap().depth, 3);
    assert_eq!(keeps(DOC, 3, "1", "2"), Some(3), "as deep as before");
    assert_eq!(keeps(DOC, 3, "\"x\"", "[[{}]]"), Some(6), "as deep as the new value reaches");
    // Removing the deepest value leaves the text shallower; the depth said is still the
    // old one, which is at least the text's: a bound, as the edits need it.
    assert_eq!(keeps(DOC, 3, "[10, {\"deep\": \"x\"}]", "0"), Some(3));
    assert_eq!(keeps(DOC, 7, "1", "2"), Some(7), "the depth given is kept as a bound");
}

#[test]
fn a_splice_that_does_not_fit_shows_nothing() {
    assert_eq!(splice_keeps(DOC, 3, 3..DOC.len() + 1, ""), None);
}

proptest::proptest! {
    /// What is shown to be a document is one: the check agrees on every splice shown.
    #[test]
    fn what_is_shown_passes_the_check(
        start in 0..DOC.len(),
        len in 0..12usize,
        with in proptest::sample::select(vec!["0", "\"a\"", "[]", "{\"k\": {}}", "1, 2", "\"", "}", " 7 ", "[[1]]"]),
    ) {
        let end = (start + len).min(DOC.len());
        let splice = crate::splice::Splice { start, end, text: with.into() };
        if let Some(depth) = splice_keeps(DOC, 3, start..end, with) {
            let new = splice.apply_to(DOC).unwrap_or_default();
            let shape = strict::check(&new);
            proptest::prop_assert!(shape.is_ok(), "{:?}", new);
            proptest::prop_assert!(shape.is_ok_and(|shape| shape.is_object && shape.depth <= depth), "{:?}", new);
        }
    }
}
