//! Runs a module's property tests and, once every one of them has held, records how many
//! inputs were tried in `<target>/tmp/figures/properties-<suite>.txt` (`make test` sets
//! `CONFINE_FIGURES` to that folder and prints it).
//!
//! Each `*_props.rs` file includes this with `#[path]`, so each gets its own [`Suite`].

use std::sync::Mutex;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Cases per property: enough to reach the corners the strategies aim at, few enough that
/// the guest's unit tests stay within seconds.
pub(super) const CASES: u32 = 512;

/// Where the figures go: `CONFINE_FIGURES`, else the workspace's own `target/tmp/figures`.
fn figures() -> std::path::PathBuf {
    std::env::var_os("CONFINE_FIGURES").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tmp/figures"),
        std::path::PathBuf::from,
    )
}

/// The properties of one module, and those that have held in this test run.
pub(super) struct Suite {
    file: &'static str,
    what: &'static str,
    properties: &'static [&'static str],
    held: Mutex<Vec<&'static str>>,
}

impl Suite {
    pub(super) const fn new(file: &'static str, what: &'static str, properties: &'static [&'static str]) -> Suite {
        Suite { file, what, properties, held: Mutex::new(Vec::new()) }
    }

    /// Runs `property` on [`CASES`] inputs drawn from `strategy`; panics with the smallest
    /// failing input proptest finds. A failure is not persisted to the source tree: the
    /// panic message holds the input to copy into a unit test.
    pub(super) fn check<S: Strategy>(
        &self,
        name: &'static str,
        strategy: S,
        property: impl Fn(S::Value) -> Result<(), TestCaseError>,
    ) {
        assert!(self.properties.contains(&name), "{name} is missing from the suite's list of properties");
        let config = Config { cases: CASES, failure_persistence: None, ..Config::default() };
        if let Err(failure) = TestRunner::new(config).run(&strategy, property) {
            panic!("property {name} does not hold: {failure}");
        }
        self.held(name);
    }

    fn held(&self, name: &'static str) {
        let mut held = self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        held.push(name);
        if held.len() != self.properties.len() {
            return;
        }
        let count = self.properties.len();
        let cases = u64::from(CASES);
        let line = format!(
            "properties ({}): {count} properties x {cases} cases = {} inputs tried, every property held\n",
            self.what,
            count as u64 * cases
        );
        let figures = figures();
        std::fs::create_dir_all(&figures).unwrap();
        std::fs::write(figures.join(format!("properties-{}.txt", self.file)), line).unwrap();
    }
}
