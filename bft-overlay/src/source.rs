//! A time source's interval: from one measurement and stated assumptions to
//! the range `[lower, upper]` (relative to the local clock) that must hold
//! true time if the source is correct.
//!
//! The bound is the sum of four terms (written up in
//! `docs/algorithm/source-bounds.md`):
//!
//! 1. **Path**: half the exchange's round trip (the mean path delay of that
//!    one exchange). For a Sync sent at `t1`, received at `t2`, a Delay_Req
//!    sent at `t3` and received at `t4` (IEEE 1588-2019 clause 11.3), both
//!    one-way delays are non-negative, so the offset lies in
//!    `[-(t4 - t3), t2 - t1]`: the measured offset plus or minus the
//!    exchange's mean path delay, whatever the asymmetry.
//! 2. **Asymmetry/time stamp bound**: a configured allowance for what the
//!    path term cannot see (time stamps taken on the wrong side of a queue,
//!    a transparent clock's residence-time error).
//! 3. **Advertised error**: what the source says of itself: its published
//!    bound, or what its clockAccuracy implies (clause 7.6.2.6, table 5).
//! 4. **Drift**: the local clock's maximum frequency error times the age of
//!    the measurement.

use crate::intersect::Interval;

/// The stated assumptions that turn a measurement into an interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoundAssumptions {
    /// Extra allowance for asymmetry and time-stamping error the path term
    /// does not cover, ns.
    pub asymmetry_ns: u64,
    /// The local clock's largest frequency error against true time, in parts
    /// per billion (15 ppm = 15,000: what ClockBound assumes).
    pub max_drift_ppb: u64,
}

impl Default for BoundAssumptions {
    fn default() -> Self {
        Self {
            asymmetry_ns: 0,
            max_drift_ppb: 15_000,
        }
    }
}

/// One measurement of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceSample {
    /// Source time minus local time, ns (the negative of PTP's
    /// offsetFromMaster).
    pub offset_ns: i64,
    /// Half the round trip of the exchange that produced the offset (its
    /// own mean path delay, not a filtered one), ns; negative values are
    /// taken as their magnitude.
    pub path_delay_ns: i64,
    /// The error the source advertises for its own time, ns.
    pub advertised_error_ns: u64,
    /// When it was measured, on the caller's monotonic time line, ns.
    pub measured_at_ns: u64,
}

impl SourceSample {
    /// The bound (half-width) of the sample's interval at `now_ns`.
    #[must_use]
    pub fn bound_at(&self, now_ns: u64, a: &BoundAssumptions) -> u64 {
        let age = now_ns.saturating_sub(self.measured_at_ns);
        let drift = u64::try_from(u128::from(age) * u128::from(a.max_drift_ppb) / 1_000_000_000)
            .unwrap_or(u64::MAX);
        self.path_delay_ns
            .unsigned_abs()
            .saturating_add(a.asymmetry_ns)
            .saturating_add(self.advertised_error_ns)
            .saturating_add(drift)
    }

    /// The interval `offset ± bound` at `now_ns`, clamped to the `i64`
    /// range (never inverted).
    #[must_use]
    pub fn interval_at(&self, now_ns: u64, a: &BoundAssumptions) -> Interval {
        let bound = i64::try_from(self.bound_at(now_ns, a)).unwrap_or(i64::MAX);
        let lower = self.offset_ns.saturating_sub(bound);
        let upper = self.offset_ns.saturating_add(bound);
        Interval::new(lower, upper).unwrap_or_else(|_| Interval::point(self.offset_ns))
    }
}

/// The error a PTP clockAccuracy code promises (IEEE 1588-2019 clause
/// 7.6.2.6, table 5), ns; `None` for "unknown" (0xFE) and reserved codes.
#[must_use]
pub const fn clock_accuracy_ns(code: u8) -> Option<u64> {
    Some(match code {
        // 1 ps .. 1 ns: rounded up to whole nanoseconds.
        0x17..=0x1D => 1,
        0x1E => 3,
        0x1F => 10,
        0x20 => 25,
        0x21 => 100,
        0x22 => 250,
        0x23 => 1_000,
        0x24 => 2_500,
        0x25 => 10_000,
        0x26 => 25_000,
        0x27 => 100_000,
        0x28 => 250_000,
        0x29 => 1_000_000,
        0x2A => 2_500_000,
        0x2B => 10_000_000,
        0x2C => 25_000_000,
        0x2D => 100_000_000,
        0x2E => 250_000_000,
        0x2F => 1_000_000_000,
        0x30 => 10_000_000_000,
        // "greater than 10 s": no bound at all.
        0x31 => u64::MAX,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_the_sum_of_its_terms() {
        let a = BoundAssumptions {
            asymmetry_ns: 100,
            max_drift_ppb: 15_000,
        };
        let s = SourceSample {
            offset_ns: -2_000,
            path_delay_ns: 30_000,
            advertised_error_ns: 250,
            measured_at_ns: 1_000_000_000,
        };
        // At the measurement: path + asymmetry + advertised.
        assert_eq!(s.bound_at(1_000_000_000, &a), 30_350);
        // One second later 15 ppm adds 15 us.
        assert_eq!(s.bound_at(2_000_000_000, &a), 45_350);
        let i = s.interval_at(2_000_000_000, &a);
        assert_eq!((i.lower(), i.upper()), (-47_350, 43_350));
        // A time before the measurement adds nothing.
        assert_eq!(s.bound_at(0, &a), 30_350);
    }

    #[test]
    fn the_path_term_bounds_any_asymmetry() {
        // Offset +500 ns (source ahead), one-way delays 0 and 20 us in
        // either direction: the measured offset is off by up to the mean
        // path delay, and the interval always holds the truth.
        let truth = 500i64;
        for (d_ms, d_sm) in [(0i64, 20_000i64), (20_000, 0), (7_000, 13_000)] {
            // t1 = 0 master; t2 = t1 + d_ms - truth (local = master - truth).
            let t2 = d_ms - truth;
            let t3 = t2 + 1_000;
            let t4 = t3 + truth + d_sm;
            let offset_from_master = ((t2) - (t4 - t3)) / 2;
            let mean = (t2 + (t4 - t3)) / 2;
            let s = SourceSample {
                offset_ns: -offset_from_master,
                path_delay_ns: mean,
                advertised_error_ns: 0,
                measured_at_ns: 0,
            };
            let i = s.interval_at(0, &BoundAssumptions::default());
            assert!(i.contains(truth), "{i:?} misses {truth} for {d_ms}/{d_sm}");
        }
    }

    #[test]
    fn huge_values_saturate_instead_of_wrapping() {
        let s = SourceSample {
            offset_ns: i64::MAX - 5,
            path_delay_ns: i64::MIN,
            advertised_error_ns: u64::MAX,
            measured_at_ns: 0,
        };
        let a = BoundAssumptions {
            asymmetry_ns: u64::MAX,
            max_drift_ppb: u64::MAX,
        };
        assert_eq!(s.bound_at(u64::MAX, &a), u64::MAX);
        let i = s.interval_at(u64::MAX, &a);
        assert_eq!((i.lower(), i.upper()), (-5, i64::MAX));
    }

    #[test]
    fn clock_accuracy_table() {
        assert_eq!(clock_accuracy_ns(0x21), Some(100));
        assert_eq!(clock_accuracy_ns(0x27), Some(100_000));
        assert_eq!(clock_accuracy_ns(0x20), Some(25));
        assert_eq!(clock_accuracy_ns(0x17), Some(1));
        assert_eq!(clock_accuracy_ns(0x29), Some(1_000_000));
        assert_eq!(clock_accuracy_ns(0xFE), None);
        assert_eq!(clock_accuracy_ns(0x10), None);
    }
}
