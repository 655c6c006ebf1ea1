//! Unit tests of `repository.rs`: what the public types show of themselves.

use std::time::Duration;

use crate::testing::{Braces, root};
use crate::{Filesystem, Memory, Options, Repository};

const SECRET: &str = "{\"password\": \"hunter2\"}";

#[test]
fn debug_shows_what_a_value_is_and_never_a_document_s_content() {
    let memory = Memory::new();
    let repository = Repository::with_backend(memory.clone(), Options::default(), Braces);
    let revision = repository.save("app.json", SECRET, None).unwrap();

    let shown = format!("{repository:?}");
    assert!(shown.starts_with("Repository { backend: \"confine_store::memory::Memory\""), "{shown}");
    assert!(shown.contains("check: \"confine_store::testing::Braces\""), "{shown}");
    assert!(shown.contains("lock_timeout: 5s"), "{shown}");

    let session = repository.open_session("app.json", None).unwrap();
    assert_eq!(format!("{session:?}"), "Session { name: \"app.json\", limit: 16777216, .. }");
    assert_eq!(format!("{memory:?}"), "Memory { documents: 1, sessions: 1, .. }");
    drop(session);

    let mut watch = repository.watch("app.json").unwrap();
    assert_eq!(format!("{watch:?}"), "Watch { document: \"app.json\", last: None, .. }");
    watch.next(Duration::ZERO).unwrap();
    let shown = format!("{watch:?}");
    assert_eq!(
        shown,
        format!("Watch {{ document: \"app.json\", last: Some(\"present at revision {revision}\"), .. }}")
    );

    let (_tmp, dir) = root();
    let shown = format!("{:?}", Filesystem::new(dir));
    assert!(shown.starts_with("Filesystem { root: Dir { ") && shown.ends_with(" }, gated: false }"), "{shown}");

    for shown in [format!("{repository:?}"), format!("{memory:?}"), format!("{watch:?}")] {
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
