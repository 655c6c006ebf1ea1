//! Revisions: a digest of the exact bytes of a document.
//!
//! A content digest, rather than an inode number or an mtime, because both of those can
//! repeat for different content (inodes are reused as soon as they are freed; mtimes are
//! coarse), and a compare-and-swap that wrongly matches loses an update.

use sha2::{Digest, Sha256};

/// The revision of `content`: the first 128 bits of its SHA-256, in hex.
pub fn of(content: &[u8]) -> String {
    let digest = Sha256::digest(content);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "tests/revision.rs"]
mod tests;
