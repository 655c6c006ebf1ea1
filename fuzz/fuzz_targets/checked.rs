//! A document, a splice of it and its text, one per line (`doc\nSTART END\nTEXT`): whenever
//! `Checked::splice` says the text it makes is a document without walking it, the strict
//! check agrees, so the store may skip its walk (see `guest/domain/src/checked.rs`); and
//! `Checked::spliced`, which hands the splice over for the store to make in place, shows
//! exactly what `Checked::splice` shows, and makes the same text.

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
    let handed = checked.spliced(splice.clone());
    let copied = checked.splice(&splice);
    assert_eq!(matches!(handed, Some(NewContent::Spliced(_))), matches!(copied, Some(NewText::Document(_))));
    assert_eq!(handed.map(NewContent::into_text), copied);
    match copied {
        None => assert!(!splice.fits(text), "a splice that fits was refused"),
        Some(NewText::Document(new)) => {
            let shape = strict::check(new.as_str()).expect("what is shown to be a document is one");
            assert!(shape.is_object, "what is shown to be a document has an object at its root");
            assert_eq!(Some(new.as_str().to_owned()), splice.apply_to(text));
        }
        Some(NewText::Unchecked(new)) => assert_eq!(Some(new), splice.apply_to(text)),
    }
});
