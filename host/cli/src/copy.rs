//! `confine copy`: documents from one store to another (a directory to etcd, say), each
//! with its exact bytes, so each keeps its revision.

use std::io::Write;

use confine_store::{Error, Repository};

use crate::report::{Failure, Outcome, repository_failure, status};

/// Copies the documents directly in each of `directories` (the top level if none) from
/// `from` to `to`. A document `to` already holds with the same bytes is left as it is; one
/// with other bytes is refused, never overwritten. One line a document; exits 4 if any
/// was refused.
pub(crate) fn run(
    from: &Repository,
    to: &Repository,
    directories: &[String],
    json: bool,
    out: &mut impl Write,
) -> Result<Outcome, Failure> {
    let top = [String::new()];
    let directories = if directories.is_empty() { &top[..] } else { directories };
    let mut refused = 0;
    for directory in directories {
        for name in from.list(directory).map_err(repository_failure)? {
            let snapshot = from.read(&name).map_err(repository_failure)?;
            let (what, ok) = match to.save(&name, &snapshot.content, None) {
                Ok(_) => ("copied", true),
                Err(Error::Conflict { .. }) => match to.read(&name) {
                    Ok(there) if there.revision == snapshot.revision => ("same", true),
                    Ok(_) => ("refused: the destination holds other content; nothing overwritten", false),
                    Err(e) => return Err(repository_failure(e)),
                },
                Err(e) => return Err(repository_failure(e)),
            };
            refused += usize::from(!ok);
            let line = if json {
                format!(
                    "{{\"ok\":{ok},\"document\":{},\"revision\":\"{}\",\"outcome\":{}}}",
                    serde_json::Value::from(name.as_str()),
                    snapshot.revision,
                    serde_json::Value::from(what)
                )
            } else {
                format!("{what} {name} {}", snapshot.revision)
            };
            writeln!(out, "{line}").map_err(|e| Failure::new(status::IO, "io", format!("cannot write stdout: {e}")))?;
        }
    }
    Ok(Outcome::Streamed { status: if refused > 0 { status::BUSY } else { 0 } })
}
