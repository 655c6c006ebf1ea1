//! Unit tests of `checked.rs`.

use super::*;

const DOC: &str = "{\n  \"n\": 1,\n  \"list\": [10, {\"deep\": \"x\"}],\n  \"s\": \"text\"\n}\n";

fn spliced(text: &str, start: usize, end: usize, with: &str) -> NewText {
    let checked = Checked::new("d.json", text).unwrap();
    checked.spliced(Splice { start, end, text: with.into() }).expect("the splice fits").into_text()
}

fn span(text: &str, of: &str) -> (usize, usize) {
    let start = text.find(of).unwrap();
    (start, start + of.len())
}

#[test]
fn a_value_replaced_by_a_value_is_shown_to_keep_a_document() {
    for (of, with) in [("1", "2"), ("10", "{\"a\": [null]}"), ("\"x\"", "-0.5"), ("[10, {\"deep\": \"x\"}]", "{}")] {
        let (start, end) = span(DOC, of);
        let new = spliced(DOC, start, end, with);
        assert!(matches!(new, NewText::Document(_)), "{of} -> {with}");
        assert!(strict::check(new.as_str()).is_ok());
    }
}

#[test]
fn anything_else_is_left_to_a_check() {
    let unchecked = |start, end, with| matches!(spliced(DOC, start, end, with), NewText::Unchecked(_));
    let (start, end) = span(DOC, "\"n\"");
    assert!(unchecked(start, end, "\"m\""), "a key");
    let (start, end) = span(DOC, "text");
    assert!(unchecked(start, end, "more"), "part of a string");
    let (start, end) = span(DOC, "1");
    for with in ["2, \"m\": 3", "", "{", "1 2", "123456789012345678901234567890", "{\"a\": 1, \"a\": 2}"] {
        assert!(unchecked(start, end, with), "{with:?} is not one value the rules accept");
    }
    assert!(unchecked(start, start, "0"), "an insertion");
    assert!(unchecked(0, DOC.len(), "{}"), "the root");
    let deep = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(unchecked(start, end, &deep), "nesting past the edits' limit");
}

#[test]
fn a_shown_splice_says_how_deep_the_text_nests_at_most() {
    let depth = |of: &str, with: &str| {
        let (start, end) = span(DOC, of);
        match spliced(DOC, start, end, with) {
            NewText::Document(document) => document.depth(),
            NewText::Unchecked(_) => panic!("{of} -> {with} is shown"),
        }
    };
    assert_eq!(strict::check(DOC).unwrap().depth, 3);
    assert_eq!(depth("1", "2"), 3, "as deep as before");
    assert_eq!(depth("\"x\"", "[[{}]]"), 6, "as deep as the new value reaches");
    // Removing the deepest value leaves the text shallower; the depth said is still the
    // old one, which is at least the text's: a bound, as the edits need it.
    assert_eq!(depth("[10, {\"deep\": \"x\"}]", "0"), 3);
    let trusted = Checked::trusted(DOC, 7);
    let (start, end) = span(DOC, "1");
    let Some(NewContent::Spliced(spliced)) = trusted.spliced(Splice { start, end, text: "2".into() }) else {
        panic!("a number for a number is shown");
    };
    assert_eq!(spliced.depth(), 7, "a trusted text's depth is kept");
}

#[test]
fn a_splice_that_does_not_fit_gives_nothing() {
    let checked = Checked::new("d.json", DOC).unwrap();
    assert_eq!(checked.spliced(Splice { start: 3, end: DOC.len() + 1, text: String::new() }), None);
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
        if let Some(NewText::Document(document)) =
            Checked::new("d.json", DOC).unwrap().spliced(Splice { start, end, text: with.into() }).map(NewContent::into_text)
        {
            let shape = strict::check(document.as_str());
            proptest::prop_assert!(shape.is_ok(), "{:?}", document.as_str());
            proptest::prop_assert!(shape.is_ok_and(|shape| shape.depth <= document.depth()), "{:?}", document.as_str());
        }
    }
}

#[test]
fn a_shown_splice_is_handed_over_tied_to_its_text() {
    let (start, end) = span(DOC, "1");
    let checked = Checked::new("d.json", DOC).unwrap();
    let Some(NewContent::Spliced(spliced)) = checked.spliced(Splice { start, end, text: "22".into() }) else {
        panic!("a number for a number is shown");
    };
    assert!(spliced.is_of(DOC), "the text it was shown on");
    let copy = DOC.to_owned();
    assert!(!spliced.is_of(&copy), "the same bytes elsewhere are another text");
    assert!(!spliced.is_of(&DOC[..DOC.len() - 1]), "a part of the text is another text");
    let made = spliced.clone().into_splice();
    assert_eq!((made.start, made.end, made.text.as_str()), (start, end, "22"));
    assert_eq!(spliced.into_text(), self::spliced(DOC, start, end, "22"), "the copy is the text `splice` makes");

    let (start, end) = span(DOC, "\"n\"");
    let unshown = checked.spliced(Splice { start, end, text: "\"m\"".into() });
    assert_eq!(unshown, Some(NewContent::Text(NewText::Unchecked(DOC.replacen("\"n\"", "\"m\"", 1)))));
    assert_eq!(checked.spliced(Splice { start: 3, end: DOC.len() + 1, text: String::new() }), None);
}
