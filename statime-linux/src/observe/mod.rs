//! Seeing the daemon: the state snapshot, the JSON status socket, the
//! Prometheus/OpenMetrics endpoint and the human summary of
//! `statime-ctl status`. All of them are views of one [`Snapshot`]
//! (ARCHITECTURE principle 8); the data plane publishes it and never waits
//! for a reader.

pub mod human;
pub mod metrics;
pub mod server;
pub mod snapshot;

pub use server::{ControlPlane, ControlSettings};
pub use snapshot::{SNAPSHOT_VERSION, Snapshot};
