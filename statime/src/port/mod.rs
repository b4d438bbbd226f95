//! The PTP port (IEEE 1588-2019 clause 9): measurement building blocks so
//! far; the state machine follows.

pub mod e2e;
pub mod p2p;
pub mod sequence;
pub mod timers;
