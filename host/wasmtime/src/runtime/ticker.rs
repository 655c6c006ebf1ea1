//! The epoch ticker: deadlines of guest calls are counted in its ticks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances; deadlines are counted in these ticks.
pub(super) const TICK: Duration = Duration::from_millis(10);

/// Advances the engine's epoch every [`TICK`] until the runtime is dropped.
pub(super) struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    pub(super) fn start(engines: &[&Engine]) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, weak) = (Arc::clone(&stop), engines.iter().map(|e| e.weak()).collect::<Vec<_>>());
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                for engine in &weak {
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => return,
                    }
                }
            }
        });
        Ticker { stop }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
