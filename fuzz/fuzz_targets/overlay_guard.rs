//! See `fuzz/harness/overlay_guard.rs` for what this target checks; the same harness
//! replays `fuzz/regressions/overlay_guard/` in the stable test suite.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/overlay_guard.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
