//! The overlay scale simulator (issue 8, "Verify / Scale"): `N` in-process
//! [`bft_overlay::peer::PeerNode`]s (the real protocol code: per-pair
//! HMAC-SHA256 keys, replay windows, fan-out `k`, two-step follow-ups),
//! each with its own real [`bft_overlay::Guard`], over a simulated network
//! and simulated clocks.
//!
//! - [`scenario`]: the TOML format of `measurements/scenarios/peers/*.toml`
//!   (`N`, the degree `m`, `k`, `f`, references, clocks, steering, network,
//!   liar groups);
//! - [`engine`]: the discrete-event run and its figures;
//! - [`report`]: seeds and threads, the Markdown tables.
//!
//! Membership is static: each node is configured with `m` peers (a random
//! symmetric graph) and holds a key for each of them only. Discovery,
//! gossip and key distribution are not part of this step.
//!
//! `ptp-sim peers FILES...` runs it. Runs are deterministic: the same
//! scenario, seed and duration give the same figures, whatever the thread
//! count (wall-clock time aside).

pub mod engine;
pub mod report;
pub mod scenario;

pub use engine::{PeersMetrics, overlay_graph, run};
pub use report::{bounds_table, details, failures, load_table, run_all};
pub use scenario::{LiarGroup, LiarKind, LiarKindName, PeersScenario};
