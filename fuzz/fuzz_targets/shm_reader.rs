//! See `fuzz/harness/shm_reader.rs` for what this target checks; the same harness
//! replays `fuzz/regressions/shm_reader/` in the stable test suite.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/shm_reader.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
