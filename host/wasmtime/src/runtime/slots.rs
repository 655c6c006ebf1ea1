//! The domain guest's pool slots as a counting semaphore: a domain call waits for a free
//! slot rather than fail when every instance of the pool is in use.

use std::sync::{Condvar, Mutex, PoisonError};

/// A counting semaphore over the pool's slots.
pub(super) struct Slots {
    free: Mutex<u32>,
    freed: Condvar,
}

impl Slots {
    pub(super) fn new(count: u32) -> Slots {
        Slots { free: Mutex::new(count), freed: Condvar::new() }
    }

    /// Waits for a free slot; it is given back when the guard drops.
    pub(super) fn take(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        SlotGuard(self)
    }
}

pub(super) struct SlotGuard<'a>(&'a Slots);

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
#[path = "tests/slots.rs"]
mod tests;
