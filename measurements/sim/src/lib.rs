//! `statime-sim`: a deterministic simulator that runs nodes of the real
//! `statime` core (port state machine, BMCA, delay mechanisms, servos) over
//! virtual clocks and a virtual network, and measures their **true clock
//! error** the way clknetsim does for ptp4l.
//!
//! - [`rng`]: the seeded PRNG (xoshiro256**) and the delay distributions;
//! - [`clock`]: the drifting, steerable node clock in true time;
//! - [`network`]: links and shared segments with delay, asymmetry, loss,
//!   up/down;
//! - [`scenario`]: the TOML scenario format;
//! - [`sim`]: the event loop driving the instances and servos;
//! - [`stats`]: RMS, max, p99, sync time;
//! - [`report`]: seeds and servo variants, the summary table, CSV;
//! - [`overlay`] and [`peers`]: the overlay guard and the peer-layer scale
//!   simulators (`ptp-sim overlay`, `ptp-sim peers`).
//!
//! The same scenario and seed always give the same numbers, bit for bit:
//! every random draw comes from a stream derived from the seed, and the
//! event order is total.

pub mod clock;
pub mod network;
pub mod overlay;
pub mod peers;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod stats;

pub use report::{ScenarioReport, run_one, run_scenario};
pub use scenario::Scenario;
pub use sim::{RunConfig, RunResult, Simulation};
