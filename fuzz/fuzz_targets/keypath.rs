//! Any text given as a key path: the parser never panics, an error points inside the text,
//! and what parses has a canonical form that reads back as the same path.

#![no_main]

use confine_domain::keypath::KeyPath;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match KeyPath::parse(text) {
        Ok(path) => {
            let canonical = path.to_string();
            let again = KeyPath::parse(&canonical);
            assert_eq!(again.as_ref(), Ok(&path), "{text:?} parses, but its canonical form {canonical:?} does not");
            assert_eq!(again.map(|p| p.to_string()), Ok(canonical), "{text:?}: the canonical form is not stable");
        }
        Err(err) => {
            assert_eq!(err.path, text);
            assert!(err.offset <= text.len() && text.is_char_boundary(err.offset), "{text:?}: {err}");
        }
    }
});
