//! The overlay-level simulator (issue 8, "Verify / Simulator"): the real
//! [`bft_overlay::Guard`] and the real servo of the core steering one local
//! clock from `n` time sources, some of which lie.
//!
//! - [`scenario`]: the TOML format of `measurements/scenarios/overlay/*.toml`
//!   (sources, their paths, liar behaviours, one-way delay attacks);
//! - [`engine`]: the discrete-event run: four-timestamp exchanges computed
//!   from true time, the sources' clocks and the path delays, the guard
//!   fed exactly as the daemon feeds it, the servo fed only by the
//!   selected source, and the figures of every guard round;
//! - [`hist`]: logarithmic histograms for the medians;
//! - [`report`]: seeds and threads, the Markdown tables, the requirements
//!   each scenario met or missed.
//!
//! `ptp-sim overlay FILES...` runs it. Runs are deterministic: the same
//! scenario, seed and sample count give the same figures, whatever the
//! thread count.

pub mod engine;
pub mod hist;
pub mod report;
pub mod scenario;

pub use engine::{
    DETECTION_POLLS, Detection, HonestMiss, RunMetrics, SourceStats, Violation, bmca_pick, run,
};
pub use report::{ScenarioOutcome, Summary, beyond_f_table, details, main_table, run_all};
pub use scenario::{
    AttackSpec, Direction, GuardSpec, LiarSpec, LocalSpec, MeasuredAt, OverlayScenario, SourceSpec,
};
