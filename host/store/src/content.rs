//! What the repository accepts as a document: UTF-8 JSON whose root is an object, within
//! the size limit, with no duplicate keys and no integer beyond 64 bits (the domain's
//! [`confine_domain::strict`] rules). Checked above the backend seam before anything is
//! written, so neither a buggy or hostile guest nor a backend can store a document that the
//! next reader could not parse.

use confine_domain::checked::NewText;
use confine_domain::splice::Splice;
use confine_domain::strict::Shape;

use crate::error::{Error, Result};

/// Checks `content` offered for the document `name`, and gives its shape.
pub(crate) fn check(name: &str, content: &str, limit: u64) -> Result<Shape> {
    check_size(name, content, limit)?;
    if !content.trim_start().starts_with('{') {
        return Err(Error::InvalidDocument {
            name: name.to_owned(),
            reason: "the content offered is not a JSON object (its root must be `{...}`)".into(),
        });
    }
    // `check`, not `parse`: the same rules without a tree of the whole document in memory.
    confine_domain::strict::check(content)
        .map_err(|e| Error::InvalidDocument { name: name.to_owned(), reason: format!("the content offered is {e}") })
}

/// The text of `new`, offered for the document `name`, once it is accepted, and how deep it
/// nests at most. Checked whole, even a text the domain calls shown
/// ([`NewText::Document`]): its proof holds only on a text known to be a document, and
/// `Checked::trusted` lets anyone call a text that; a proof on a text the repository knows
/// is made in place instead ([`splice_in_place`]).
pub(crate) fn accept(name: &str, new: NewText, limit: u64) -> Result<(String, usize)> {
    let text = match new {
        NewText::Document(document) => document.into_string(),
        NewText::Unchecked(text) => text,
    };
    let depth = check(name, &text, limit)?.depth;
    Ok((text, depth))
}

/// Makes `splice`, shown to keep `held` a document (see
/// [`Spliced`](confine_domain::checked::Spliced)), in `held`, once its result is within the
/// size limit; `held` is left as it was when it is not.
pub(crate) fn splice_in_place(name: &str, held: &mut String, splice: &Splice, limit: u64) -> Result<()> {
    // It fits the text it was shown on, which is `held`; checked again, as it is cheap,
    // so that no mistake can panic in `replace_range`.
    if !splice.fits(held) {
        return Err(Error::InvalidDocument {
            name: name.to_owned(),
            reason: format!("a splice of the bytes {}..{} does not fit the document's text", splice.start, splice.end),
        });
    }
    let size = held.len() - (splice.end - splice.start) + splice.text.len();
    check_length(name, size, limit)?;
    held.replace_range(splice.start..splice.end, &splice.text);
    Ok(())
}

fn check_size(name: &str, content: &str, limit: u64) -> Result<()> {
    check_length(name, content.len(), limit)
}

fn check_length(name: &str, size: usize, limit: u64) -> Result<()> {
    let size = size as u64;
    if size > limit {
        return Err(Error::TooLarge { name: name.to_owned(), size, limit });
    }
    Ok(())
}

/// Decodes stored bytes as UTF-8, naming the first bad byte.
pub(crate) fn decode(name: &str, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| Error::InvalidDocument {
        name: name.to_owned(),
        reason: format!("not UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to()),
    })
}

#[cfg(test)]
#[path = "tests/content.rs"]
mod tests;
