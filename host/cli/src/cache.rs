//! Where the CLI caches compiled components: the policy of a command-line tool, not of a
//! library (an embedder chooses its own directory, or none).

use std::path::PathBuf;

/// The cache directory a command-line user gets: `$CONFINE_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/confine`, else `$HOME/.cache/confine`; `None` (no cache) if
/// `CONFINE_CACHE_DIR` is empty or no home is known.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = std::env::var_os("CONFINE_CACHE_DIR") {
        return (!dir.is_empty()).then(|| PathBuf::from(dir));
    }
    var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .map(|base| base.join("confine"))
}
