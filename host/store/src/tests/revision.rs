//! Unit tests of `revision.rs`.

#[test]
fn revision_depends_on_every_byte() {
    assert_eq!(super::of(b"{}").len(), 32);
    assert_eq!(super::of(b"{}"), super::of(b"{}"));
    assert_ne!(super::of(b"{}"), super::of(b"{} "));
}
