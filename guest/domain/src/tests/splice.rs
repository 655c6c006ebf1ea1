use super::*;

#[test]
fn between_keeps_the_common_beginning_and_end() {
    let s = Splice::between("{\"a\": 1, \"b\": 2}", "{\"a\": 10, \"b\": 2}");
    assert_eq!((s.start, s.end, s.text.as_str()), (7, 7, "0"), "the shortest splice: insert a 0");
    assert_eq!(s.apply_to("{\"a\": 1, \"b\": 2}").unwrap(), "{\"a\": 10, \"b\": 2}");
    assert_eq!(Splice::between("same", "same"), Splice { start: 4, end: 4, text: String::new() });
    assert_eq!(Splice::between("", "new").text, "new");
    assert_eq!(Splice::between("abab", "ab"), Splice { start: 2, end: 4, text: String::new() });
}

#[test]
fn between_cuts_only_on_character_boundaries() {
    // "é" and "è" share their first byte; the splice must not start inside the character.
    let s = Splice::between("xé", "xè");
    assert_eq!((s.start, s.end, s.text.as_str()), (1, 3, "è"));
    let s = Splice::between("éa", "èa");
    assert_eq!((s.start, s.end, s.text.as_str()), (0, 2, "è"));
}

#[test]
fn a_splice_that_does_not_fit_is_refused() {
    let fit = |start, end| Splice { start, end, text: String::new() }.apply_to("aé");
    assert_eq!(fit(0, 1).as_deref(), Some("é"));
    assert_eq!(fit(2, 2), None, "inside é");
    assert_eq!(fit(1, 0), None, "reversed");
    assert_eq!(fit(0, 9), None, "past the end");
}

#[test]
fn a_draft_amounts_to_one_splice_of_the_original() {
    let original = "0123456789";
    let mut draft = Draft::new(original);
    draft.splice(Splice { start: 2, end: 3, text: "two".into() });
    assert_eq!(draft.text(), "01two3456789");
    draft.splice(Splice { start: 9, end: 11, text: String::new() });
    assert_eq!(draft.text(), "01two34569");
    let splice = draft.finish().unwrap();
    assert_eq!((splice.start, splice.end, splice.text.as_str()), (2, 9, "two3456"));
    assert_eq!(splice.apply_to(original).unwrap(), "01two34569");

    let mut one = Draft::new(original);
    one.splice(Splice { start: 0, end: 1, text: "zero".into() });
    assert_eq!(one.finish().unwrap(), Splice { start: 0, end: 1, text: "zero".into() });
    assert_eq!(Draft::new(original).finish().unwrap(), Splice::default());

    let mut void = Draft::new(original);
    void.splice(Splice { start: 3, end: 1, text: String::new() });
    assert_eq!(void.finish(), None);
}
