//! The filesystem's half of `an_update_checks_every_splice_it_cannot_show` (the conformance
//! suite's): a text another program wrote, which is not a document, and a change that
//! splices it without asking the repository to check it. The splice would keep the key that
//! appears twice; it is refused, and the file stays as it was.

use std::convert::Infallible;

use cap_std::ambient_authority;
use cap_std::fs::Dir;
use confine_formats::Documents;
use confine_store::{Current, Error, NewContent, Options, Repository, Splice};

#[test]
fn a_splice_of_a_text_the_repository_never_checked_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let repository = Repository::new(
        Dir::open_ambient_dir(dir.path(), ambient_authority()).unwrap(),
        Options::default(),
        Documents::default(),
    );
    let twice = "{\"n\": 1, \"n\": 2}";
    std::fs::write(dir.path().join("app.json"), twice).unwrap();
    let spliced = repository.update_in_place("app.json", |current| {
        let text = current.map_or("", Current::text);
        let splice = Splice { range: text.len() - 2..text.len() - 1, text: "3".to_owned() };
        Ok::<_, Infallible>((NewContent::Splice(splice), ()))
    });
    match spliced {
        Err(Error::InvalidDocument { name, reason }) => {
            assert_eq!(name, "app.json");
            assert!(reason.contains("duplicate"), "{reason}");
        }
        other => panic!("a splice of a text never checked was written: {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(dir.path().join("app.json")).unwrap(), twice);
}
