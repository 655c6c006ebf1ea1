//! A document, a splice of it and its text, one per line (`doc\nSTART END\nTEXT`): whenever
//! `checked::splice_keeps` shows that the splice keeps the text a document without walking
//! it, the strict check agrees, so the store may make it in place and skip its walk (see
//! `guest/domain/src/checked.rs`).

#![no_main]

use confine_domain::checked;
use confine_domain::splice::Splice;
use confine_domain::strict;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let mut lines = input.splitn(3, '\n');
    let (Some(text), Some(range), Some(with)) = (lines.next(), lines.next(), lines.next()) else { return };
    let Some((start, end)) = range.split_once(' ') else { return };
    let (Ok(start), Ok(end)) = (start.parse(), end.parse()) else { return };
    let Ok(shape) = strict::check(text) else { return };
    if !shape.is_object {
        return;
    }
    let splice = Splice { start, end, text: with.to_owned() };
    if let Some(depth) = checked::splice_keeps(text, shape.depth, start..end, with) {
        let new = splice.apply_to(text).expect("a splice shown to keep a document fits it");
        let after = strict::check(&new).expect("what is shown to be a document is one");
        assert!(after.is_object, "what is shown to be a document has an object at its root");
        assert!(after.depth <= depth, "what is shown nests no deeper than it says");
    }
});
