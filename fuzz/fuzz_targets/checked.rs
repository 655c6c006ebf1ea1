//! A document, a splice of it and its text, one per line (`doc\nSTART END\nTEXT`): whenever
//! `Checked::spliced` shows that the splice keeps the text a document without walking it,
//! the strict check agrees, so the store may make it in place and skip its walk (see
//! `guest/domain/src/checked.rs`); and whatever it answers is the text the splice makes.

#![no_main]

use confine_domain::checked::{Checked, NewContent, NewText};
use confine_domain::splice::Splice;
use confine_domain::strict;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let mut lines = input.splitn(3, '\n');
    let (Some(text), Some(range), Some(with)) = (lines.next(), lines.next(), lines.next()) else { return };
    let Some((start, end)) = range.split_once(' ') else { return };
    let (Ok(start), Ok(end)) = (start.parse(), end.parse()) else { return };
    let Ok(checked) = Checked::new("d.json", text) else { return };
    let splice = Splice { start, end, text: with.to_owned() };
    match checked.spliced(splice.clone()) {
        None => assert!(!splice.fits(text), "a splice that fits was refused"),
        Some(NewContent::Spliced(spliced)) => {
            assert!(spliced.is_of(text), "a shown splice is of the text it was shown on");
            let new = spliced.into_text();
            let shape = strict::check(new.as_str()).expect("what is shown to be a document is one");
            assert!(shape.is_object, "what is shown to be a document has an object at its root");
            let NewText::Document(document) = &new else { panic!("a shown splice's text is a document") };
            assert!(shape.depth <= document.depth(), "what is shown nests no deeper than it says");
            assert_eq!(Some(new.as_str().to_owned()), splice.apply_to(text));
        }
        Some(NewContent::Text(new)) => assert_eq!(Some(new.as_str().to_owned()), splice.apply_to(text)),
    }
});
