//! Lock waits bounded by a store's deadline, for every binding that waits for a lock.

use std::time::Instant;

use confine_store::Repository;

/// `repository` with its lock waits cut at `deadline`, if there is one: a host call that
/// waits is not interrupted by wasmtime's epoch deadline, so the host bounds it.
pub(crate) fn lock_waits_until(repository: &Repository, deadline: Option<Instant>) -> Repository {
    match deadline {
        Some(deadline) => {
            let mut options = repository.options();
            options.lock_timeout = options.lock_timeout.min(deadline.saturating_duration_since(Instant::now()));
            repository.with_options(options)
        }
        None => repository.clone(),
    }
}
