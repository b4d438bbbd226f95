//! The Byzantine-fault-tolerant overlay: cross-check many time sources and
//! decide which of them the local clock may follow.
//!
//! Every independent reference the daemon measures (the master of each PTP
//! domain, a unicast master, an overlay peer) yields an [`Interval`]: the
//! range, relative to the local clock, in which that source claims true time
//! lies. With at most `f` faulty sources among `n >= 2f+1`, [`intersect()`]
//! narrows them to a range that provably contains true time, or proves that
//! more than `f` are faulty. Sources whose interval misses that range are
//! falsetickers; [`FalsetickerTracker`] remembers since when, so the daemon can
//! log and count every change.
//!
//! # Modules
//!
//! - [`mod@intersect`]: the pure fault-tolerant intersection, as the
//!   order-statistics rule ([`intersect()`]) and as Marzullo's tighter form
//!   ([`marzullo`]). It does no I/O, reads no clock and does not allocate
//!   (only `core` is used).
//! - [`falseticker`]: the per-source truechimer/falseticker bookkeeping. It is
//!   sans-IO (the caller passes `now`) and uses `alloc` for its map.
//! - [`source`]: a source's interval from one measurement and stated
//!   assumptions (path, asymmetry, advertised error, drift × age).
//! - [`guard`]: guarded steering: intersect the sources, classify them and
//!   choose the one the clock may follow (none without a quorum).
//! - [`peer`]: the peer layer: overlay nodes measure each other with
//!   four-timestamp exchanges authenticated by HMAC-SHA256 under per-pair
//!   keys, with replay windows, `k`-peer fan-out and a hybrid logical clock
//!   held inside the node's bound; sans-IO ([`PeerNode`]: the daemon's poll
//!   loop feeds it datagrams, time stamps and `now`). Written up in
//!   `docs/algorithm/peer-protocol.md`.
//! - [`shm`]: publication of the resulting bound to applications: a
//!   seqlocked shared-memory time file ([`shm::Publisher`]), its reader
//!   ([`shm::Client`]: `now() -> {earliest, latest, status}`) and a writer of
//!   ClockBound's v2 layout. The only module with `unsafe` code (mmap and
//!   clock reads, in `shm/sys.rs`); written up in
//!   `docs/algorithm/publication.md`.
//!
//! The algorithm, its proof and its relation to Marzullo's algorithm, NTP's
//! selection and Welch-Lynch are written up in `docs/algorithm/intersection.md`.
//!
//! # Units
//!
//! Bounds are signed nanoseconds, as `i64`, relative to whatever reference
//! the caller measures against (normally the local clock, so a bound is an
//! offset "true time minus local time"). That covers about ±292 years, far
//! more than any offset the overlay can meaningfully compare. A caller
//! converting from a finer fixed-point type must round the lower bound down
//! and the upper bound up, so the interval only ever grows.

extern crate alloc;

pub mod falseticker;
pub mod guard;
pub mod intersect;
pub mod peer;
pub mod shm;
pub mod source;

pub use falseticker::{Event, FalsetickerTracker, SourceRecord};
pub use guard::{
    DEFAULT_HISTORY_DEPTH, DEFAULT_SWITCH_PERSISTENCE, Guard, GuardConfig, GuardStatus,
    QuarantineChange, QuarantinePolicy, Round, SourceState,
};
pub use intersect::{
    FalseReason, IntersectError, Intersection, Interval, InvalidInterval, MAX_SOURCES, Verdict,
    intersect, intersect_with_scratch, marzullo, marzullo_with_scratch, max_faults, min_sources,
};
pub use peer::{PeerConfig, PeerNode};
pub use source::{BoundAssumptions, SourceSample, clock_accuracy_ns};
