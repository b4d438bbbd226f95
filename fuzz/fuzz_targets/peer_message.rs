//! See `fuzz/harness/peer_message.rs` for what this target checks; the same harness
//! replays `fuzz/regressions/peer_message/` in the stable test suite.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../harness/peer_message.rs"]
mod harness;

fuzz_target!(|data: &[u8]| {
    harness::run(data);
});
