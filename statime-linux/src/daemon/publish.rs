//! Publishing the time with an error bound for applications (the
//! `bft_overlay::shm` file; `statime-ctl now` reads it).
//!
//! After each measurement the true time lies within the measured offset
//! plus or minus the exchange's mean path delay: both one-way delays are
//! non-negative and sum to twice the mean, so their asymmetry, the only
//! error a timestamped exchange cannot see, is at most the mean path delay
//! (IEEE 1588-2019 clause 11.6 and annex on asymmetry). Between
//! measurements the bound grows with [`MAX_DRIFT_PPB`].

use std::path::Path;

use bft_overlay::shm::{Publisher, Snapshot, Status, clock_monotonic_raw_ns, clock_realtime_ns};
use statime::steering::SteeringReport;
use statime::time::Duration;

use super::clock::DaemonClock;

/// Drift assumed between updates: a steered clock drifts far less, but the
/// bound must hold if the daemon stalls (15 ppm, as ClockBound assumes).
pub const MAX_DRIFT_PPB: u32 = 15_000;
/// Readers report Unknown when no update came for this long.
pub const VOID_AFTER: Duration = Duration::from_secs(10);

/// The publisher of one daemon.
pub struct TimePublisher {
    publisher: Publisher,
    /// TAI - UTC of the clock's timescale (0 when it keeps UTC).
    clock_utc_offset: i16,
    /// The last Synchronized publication: CLOCK_MONOTONIC_RAW, true time
    /// minus the clock, bound (ns); what holdover grows from.
    last_synchronized: Option<(i64, i128, u64)>,
}

impl TimePublisher {
    /// Create (or replace) the file at `path`.
    ///
    /// # Errors
    /// A one-line reason naming the path.
    pub fn create(path: &Path, clock_utc_offset: i16) -> Result<Self, String> {
        let publisher =
            Publisher::create(path).map_err(|e| format!("time-file {}: {e}", path.display()))?;
        Ok(Self {
            publisher,
            clock_utc_offset,
            last_synchronized: None,
        })
    }

    /// While the servo holds over (no parent, or the overlay follows
    /// nobody): publish FreeRunning with the last synchronized interval's
    /// offset and its bound grown by [`MAX_DRIFT_PPB`] over the time since,
    /// so that readers keep an honest, widening interval instead of
    /// falling to Unknown at `void_after`. Nothing is published without a
    /// synchronized interval to grow from. The bound grows from the last
    /// measurement, never shrinks, and assumes the held frequency stays
    /// within [`MAX_DRIFT_PPB`] of the truth (the servo's holdover keeps
    /// its last frequency estimate).
    pub fn refresh_holdover(&mut self, clock: &DaemonClock) -> Option<()> {
        let (at, true_minus_clock, bound) = self.last_synchronized?;
        let now = clock_monotonic_raw_ns()?;
        let elapsed = u64::try_from(now.saturating_sub(at)).unwrap_or(0);
        let grown = holdover_bound(bound, elapsed);
        self.publish_raw(clock, true_minus_clock, grown, Status::FreeRunning)
    }

    /// Publish after a servo sample; `None` for clocks this cannot map onto
    /// CLOCK_MONOTONIC_RAW (a PHC).
    pub fn publish(&mut self, clock: &DaemonClock, r: &SteeringReport) -> Option<()> {
        // offset = clock - master: the master's time is the clock minus it.
        let bound = r.path_delay.abs().nanos_floor().unsigned_abs() + 1;
        let status = if r.state.is_locked() {
            Status::Synchronized
        } else {
            Status::Unknown
        };
        self.publish_interval(
            clock,
            -r.offset.nanos_floor(),
            u64::try_from(bound).ok()?,
            status,
        )
    }

    /// Publish the interval `clock + true_minus_clock_ns ± bound_ns` with
    /// `status` (the overlay's intersection, or Unknown without a quorum).
    pub fn publish_interval(
        &mut self,
        clock: &DaemonClock,
        true_minus_clock_ns: i128,
        bound_ns: u64,
        status: Status,
    ) -> Option<()> {
        self.publish_raw(clock, true_minus_clock_ns, bound_ns, status)?;
        if status == Status::Synchronized {
            let raw = clock_monotonic_raw_ns()?;
            self.last_synchronized = Some((raw, true_minus_clock_ns, bound_ns));
        }
        Some(())
    }

    fn publish_raw(
        &mut self,
        clock: &DaemonClock,
        true_minus_clock_ns: i128,
        bound_ns: u64,
        status: Status,
    ) -> Option<()> {
        let raw = clock_monotonic_raw_ns()?;
        let clock_now_utc_ns: i128 = match clock {
            DaemonClock::Virtual(v) => {
                let t = v.time_at_raw(i128::from(raw)).ok()?;
                (t.fixed_nanos().to_bits() >> 32) as i128
                    - i128::from(self.clock_utc_offset) * 1_000_000_000
            }
            DaemonClock::System(_) | DaemonClock::ObserveOnly(_) => {
                i128::from(clock_realtime_ns()?)
            }
            DaemonClock::Phc(_) => return None,
        };
        let mid = clock_now_utc_ns + true_minus_clock_ns;
        let snapshot = Snapshot {
            as_of_raw_ns: u64::try_from(raw).ok()?,
            time_at_as_of_ns: i64::try_from(mid).ok()?,
            freq_offset: 0,
            bound_ns,
            max_drift_ppb: MAX_DRIFT_PPB,
            void_after_raw_ns: u64::try_from(raw).ok()?
                + VOID_AFTER.nanos_floor().unsigned_abs() as u64,
            status,
            tai_offset_s: 37,
        };
        self.publisher.publish(&snapshot).ok()
    }
}

/// `bound` grown by [`MAX_DRIFT_PPB`] over `elapsed_ns` (rounded up).
#[must_use]
pub fn holdover_bound(bound: u64, elapsed_ns: u64) -> u64 {
    let drift = (u128::from(elapsed_ns) * u128::from(MAX_DRIFT_PPB)).div_ceil(1_000_000_000);
    bound.saturating_add(u64::try_from(drift).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_holdover_bound_grows_with_the_drift_allowance() {
        assert_eq!(holdover_bound(1_000, 0), 1_000);
        // 15 ppm over 2 s: 30 us.
        assert_eq!(holdover_bound(1_000, 2_000_000_000), 31_000);
        // Rounded up, never down.
        assert_eq!(holdover_bound(0, 1), 1);
        assert_eq!(holdover_bound(u64::MAX - 1, u64::MAX), u64::MAX);
    }
}
