//! The filesystem's half of `an_update_trusts_no_proof_it_did_not_make` (the conformance
//! suite's): a text another program wrote, which is not a document, and a change that calls
//! it checked without asking the repository and splices it. The splice would keep the key
//! that appears twice; it is refused, and the file stays as it was.

use std::convert::Infallible;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_domain::checked::Checked;
use confine_domain::splice::Splice;
use confine_store::{Current, Error, Options, Repository};

#[test]
fn a_splice_of_a_text_the_repository_never_checked_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let repository =
        Repository::new(Dir::open_ambient_dir(dir.path(), ambient_authority()).unwrap(), Options::default());
    let twice = "{\"n\": 1, \"n\": 2}";
    std::fs::write(dir.path().join("app.json"), twice).unwrap();
    let forged = repository.update_in_place("app.json", |current| {
        let text = current.map_or("", Current::text);
        let splice = Splice { start: text.len() - 2, end: text.len() - 1, text: "3".to_owned() };
        Ok::<_, Infallible>((Checked::trusted(text, 1).spliced(splice).unwrap(), ()))
    });
    match forged {
        Err(Error::InvalidDocument { name, reason }) => {
            assert_eq!(name, "app.json");
            assert!(reason.contains("duplicate"), "{reason}");
        }
        other => panic!("a splice of a text never checked was written: {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("app.json")).unwrap(), twice);
}
