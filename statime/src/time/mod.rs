//! Time types.
//!
//! Two families live here:
//!
//! - [`TimeInterval`] is the wire type of IEEE 1588-2019 clause 5.3.2: signed
//!   nanoseconds multiplied by 2^16 in 64 bits, exactly `fixed::types::I48F16`.
//!   The correctionField of every header uses it.
//! - [`Instant`] is the caller's monotonic clock, on which timers run.
//! - [`Time`] and [`Duration`] are what the servo and the port compute with:
//!   nanoseconds with 32 fractional bits (sub-nanosecond resolution), wide
//!   enough (96 integer bits) that no realistic PTP time overflows them.
//!
//! # Overflow
//!
//! No operation here overflows silently. The operators (`+`, `-`, `*`)
//! **saturate** at the type's bounds, and every operation also exists as a
//! `checked_*` method that returns `None` instead. Conversions between the
//! families are checked (`TryFrom`) or saturating (named `saturating_*`).
//!
//! The wire timestamp (48-bit seconds, 32-bit nanoseconds, clause 5.3.3) is
//! [`crate::wire::Timestamp`]; it converts to and from [`Time`].

mod duration;
mod instant;
mod interval;
mod monotonic;

pub use duration::Duration;
pub use instant::Time;
pub use interval::TimeInterval;
pub use monotonic::Instant;

/// Nanoseconds in one second.
pub(crate) const NS_PER_S: u64 = 1_000_000_000;
