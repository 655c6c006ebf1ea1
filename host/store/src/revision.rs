//! Revisions: a digest of the exact bytes of a document.
//!
//! A content digest, rather than an inode number or an mtime, because both of those can
//! repeat for different content (inodes are reused as soon as they are freed; mtimes are
//! coarse), and a compare-and-swap that wrongly matches loses an update. A cryptographic
//! digest, so that no writer can make two contents share a revision on purpose: BLAKE3,
//! which costs a quarter of SHA-256's time on a large document (an update of a 16 MiB
//! document digests its new text once, a session's read digests the old one too).

/// The revision of `content`: the first 128 bits of its BLAKE3 digest, in hex.
pub fn of(content: &[u8]) -> String {
    of_digest(&blake3::hash(content))
}

/// The revision of the content whose whole BLAKE3 digest is `digest`.
pub(crate) fn of_digest(digest: &blake3::Hash) -> String {
    digest.as_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "tests/revision.rs"]
mod tests;
