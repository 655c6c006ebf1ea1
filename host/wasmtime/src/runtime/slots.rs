//! The domain guest's pool slots as a counting semaphore: a domain call waits for a free
//! slot rather than fail when every instance of the pool is in use.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// A counting semaphore over the pool's slots.
pub(super) struct Slots {
    free: Mutex<u32>,
    freed: Condvar,
}

impl Slots {
    pub(super) fn new(count: u32) -> Slots {
        Slots { free: Mutex::new(count), freed: Condvar::new() }
    }

    /// Waits for a free slot; it is given back when the guard drops. The guard owns its
    /// share of the slots, so that it can travel with the instance it stands for.
    pub(super) fn take(self: &Arc<Self>) -> SlotGuard {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        SlotGuard(Arc::clone(self))
    }
}

pub(super) struct SlotGuard(Arc<Slots>);

impl Drop for SlotGuard {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
#[path = "tests/slots.rs"]
mod tests;
