//! See `fuzz/harness/port_two_port.rs` for what this target checks; the same harness
//! replays `fuzz/regressions/port_two_port/` in the stable test suite.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/port_two_port.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
