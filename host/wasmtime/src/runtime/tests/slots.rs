#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::*;

#[test]
fn a_domain_call_waits_for_a_free_slot_rather_than_fail() {
    let slots = Arc::new(Slots::new(2));
    let (first, second) = (slots.take(), slots.take());
    let got = Arc::new(AtomicUsize::new(0));
    let waiter = {
        let (slots, got) = (Arc::clone(&slots), Arc::clone(&got));
        std::thread::spawn(move || {
            let _third = slots.take();
            got.store(1, Ordering::SeqCst);
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(got.load(Ordering::SeqCst), 0, "a third call got a slot while two were taken");
    drop(first);
    waiter.join().unwrap();
    assert_eq!(got.load(Ordering::SeqCst), 1);
    drop(second);
    assert_eq!(*slots.free.lock().unwrap(), 2, "every slot is given back");
}
