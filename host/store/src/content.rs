//! The rules for a document's bytes that hold whatever its format: within the size limit,
//! and UTF-8; then the [`Check`] the repository was given. Applied here, above the backend
//! seam, once for every backend: a backend stores and returns bytes.

use crate::check::{Check, Splice};
use crate::error::{Error, Result};

/// Checks `text` offered for the document `name`: within `limit`, and a document by
/// `check`. Gives how deep it nests at most, as `check` counts.
pub(crate) fn check(check: &dyn Check, name: &str, text: &str, limit: u64) -> Result<usize> {
    within(name, text.len(), limit)?;
    check.check(name, text).map_err(|reason| Error::InvalidDocument { name: name.to_owned(), reason })
}

/// The text of stored `bytes` of the document `name` (of which a backend may have read no
/// more than `limit + 1`): within `limit`, UTF-8.
pub(crate) fn decode(name: &str, bytes: Vec<u8>, limit: u64) -> Result<String> {
    within(name, bytes.len(), limit)?;
    String::from_utf8(bytes).map_err(|e| Error::InvalidDocument {
        name: name.to_owned(),
        reason: format!("not UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to()),
    })
}

/// Makes `splice` in `held`, once its result is within `limit`; `held` is left as it was
/// when it is not, or when the splice does not fit it.
pub(crate) fn splice_in_place(name: &str, held: &mut String, splice: &Splice, limit: u64) -> Result<()> {
    if !splice.fits(held) {
        return Err(does_not_fit(name, splice));
    }
    within(name, splice.length_in(held), limit)?;
    held.replace_range(splice.range.clone(), &splice.text);
    Ok(())
}

/// The refusal of a splice whose bytes are not in the text it was made for.
pub(crate) fn does_not_fit(name: &str, splice: &Splice) -> Error {
    Error::InvalidDocument {
        name: name.to_owned(),
        reason: format!(
            "a splice of the bytes {}..{} does not fit the document's text",
            splice.range.start, splice.range.end
        ),
    }
}

/// The size rule, for a text of `size` bytes: also what a backend that can tell a stored
/// document's size before reading it refuses with.
pub(crate) fn within(name: &str, size: usize, limit: u64) -> Result<()> {
    let size = size as u64;
    if size > limit {
        return Err(Error::TooLarge { name: name.to_owned(), size, limit });
    }
    Ok(())
}

#[cfg(test)]
#[path = "tests/content.rs"]
mod tests;
