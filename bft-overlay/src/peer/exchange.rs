//! From one four-timestamp exchange to a [`SourceSample`].
//!
//! The requester sends at `t1` (its clock), the responder receives at `t2`
//! and answers at `t3` (its clock), the requester receives at `t4`. Write
//! `θ` for responder clock minus requester clock. Both one-way delays are
//! not negative, so
//!
//! ```text
//! t3 - t4  <=  θ  <=  t2 - t1
//! ```
//!
//! whatever the asymmetry: the usual offset `((t2 - t1) + (t3 - t4)) / 2`
//! plus or minus half the round trip `δ = (t4 - t1) - (t3 - t2)`. Time
//! stamps taken on the safe side keep this true: a transmit stamp read
//! before the datagram left (`t1`, `t3`) and a receive stamp read after it
//! arrived (`t2`, `t4`) only lengthen the apparent one-way delays. So a
//! software reading is always usable and a precise (hardware) transmit
//! stamp, known only after sending, merely narrows the interval.
//!
//! The responder also states its own bound: true time minus its clock lies
//! in `[lower, upper]`. Adding the two ranges, true time minus our clock lies
//! in `[t3 - t4 + lower, t2 - t1 + upper]`. The sample's offset is that
//! range's midpoint (rounded down), its path delay half the round trip and
//! its advertised error half the responder's width (both rounded up), so
//! `offset ± (path + advertised)` covers the whole range.

use crate::intersect::Interval;
use crate::source::SourceSample;

/// The four timestamps of one exchange and the responder's stated bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The request's transmit time, our clock.
    pub t1: u64,
    /// The request's receive time, the responder's clock.
    pub t2: u64,
    /// The response's transmit time, the responder's clock.
    pub t3: u64,
    /// The response's receive time, our clock.
    pub t4: u64,
    /// The responder's bound: true time minus its clock, ns.
    pub peer_bound: Interval,
}

/// Why an exchange gives no sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExchangeError {
    /// The round trip is negative beyond the tolerance (ns given): a time
    /// stamp is wrong or a party lies.
    NegativeDelay(i64),
}

fn sat_i64(x: i128) -> i64 {
    i64::try_from(x).unwrap_or(if x < 0 { i64::MIN } else { i64::MAX })
}

impl Exchange {
    /// `θ`'s range `[t3 - t4, t2 - t1]` (exact; may be inverted).
    #[must_use]
    pub fn path_range(&self) -> (i128, i128) {
        (
            i128::from(self.t3) - i128::from(self.t4),
            i128::from(self.t2) - i128::from(self.t1),
        )
    }

    /// The round trip `δ = (t4 - t1) - (t3 - t2)`, ns, saturated.
    #[must_use]
    pub fn round_trip(&self) -> i64 {
        let (lo, hi) = self.path_range();
        sat_i64(hi - lo)
    }

    /// The sample of this exchange, dated `measured_at_ns` (on the
    /// caller's monotonic line, no later than `t1`). A round trip down to
    /// `-tolerance_ns` is taken as its magnitude (time stamps a little off);
    /// below that it is refused.
    ///
    /// # Errors
    ///
    /// [`ExchangeError::NegativeDelay`].
    pub fn sample(
        &self,
        measured_at_ns: u64,
        tolerance_ns: u64,
    ) -> Result<SourceSample, ExchangeError> {
        let (lo, hi) = self.path_range();
        let delta = hi - lo;
        if delta < -i128::from(tolerance_ns) {
            return Err(ExchangeError::NegativeDelay(sat_i64(delta)));
        }
        let lower = lo + i128::from(self.peer_bound.lower());
        let upper = hi + i128::from(self.peer_bound.upper());
        let offset = (lower + upper).div_euclid(2);
        let path = (delta.unsigned_abs()).div_ceil(2);
        Ok(SourceSample {
            offset_ns: sat_i64(offset),
            path_delay_ns: i64::try_from(path).unwrap_or(i64::MAX),
            advertised_error_ns: self.peer_bound.half_width(),
            measured_at_ns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::BoundAssumptions;

    const NONE: BoundAssumptions = BoundAssumptions {
        asymmetry_ns: 0,
        max_drift_ppb: 0,
    };

    #[test]
    fn offset_and_delay_of_a_textbook_exchange() {
        // Responder 1 ms ahead, 30 us out, 50 us back, 10 us inside.
        let x = Exchange {
            t1: 1_000_000_000,
            t2: 1_000_000_000 + 30_000 + 1_000_000,
            t3: 1_000_000_000 + 40_000 + 1_000_000,
            t4: 1_000_000_000 + 90_000,
            peer_bound: Interval::point(0),
        };
        assert_eq!(x.round_trip(), 80_000);
        let s = x.sample(5, 0).unwrap();
        // ((t2 - t1) + (t3 - t4)) / 2 = (1_030_000 + 950_000) / 2.
        assert_eq!(s.offset_ns, 990_000);
        assert_eq!(s.path_delay_ns, 40_000);
        assert_eq!(s.advertised_error_ns, 0);
        assert_eq!(s.measured_at_ns, 5);
        assert!(s.interval_at(5, &NONE).contains(1_000_000));
    }

    #[test]
    fn the_peer_bound_shifts_and_widens() {
        // The responder's clock is 2 us behind true time, +-1 us: its bound
        // is [1 us, 3 us]. Symmetric 10 us paths, clocks equal.
        let x = Exchange {
            t1: 100,
            t2: 10_100,
            t3: 10_200,
            t4: 20_200,
            peer_bound: Interval::new(1_000, 3_000).unwrap(),
        };
        let s = x.sample(0, 0).unwrap();
        assert_eq!(s.offset_ns, 2_000);
        assert_eq!(s.path_delay_ns, 10_000);
        assert_eq!(s.advertised_error_ns, 1_000);
        let i = s.interval_at(0, &NONE);
        assert_eq!((i.lower(), i.upper()), (-9_000, 13_000));
    }

    #[test]
    fn negative_round_trips() {
        let mut x = Exchange {
            t1: 1_000,
            t2: 1_000,
            t3: 1_100,
            t4: 1_050,
            peer_bound: Interval::point(0),
        };
        assert_eq!(x.round_trip(), -50);
        assert_eq!(x.sample(0, 10), Err(ExchangeError::NegativeDelay(-50)));
        let s = x.sample(0, 50).unwrap();
        assert_eq!(s.path_delay_ns, 25);
        x.t4 = 1_101;
        assert_eq!(x.round_trip(), 1);
        assert_eq!(x.sample(0, 0).unwrap().path_delay_ns, 1, "rounded up");
    }

    #[test]
    fn rounding_always_covers_the_exact_range() {
        let mut seed: u64 = 0x1234_5678_9ABC_DEF1;
        let mut r = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % 1_000
        };
        for _ in 0..20_000 {
            let t1 = 10_000 + r();
            let t2 = t1 + r();
            let t3 = t2 + r();
            let t4 = t3 + r();
            let a = i64::try_from(r()).unwrap() - 500;
            let peer_bound = Interval::new(a, a + i64::try_from(r()).unwrap()).unwrap();
            let x = Exchange {
                t1,
                t2,
                t3,
                t4,
                peer_bound,
            };
            let (lo, hi) = x.path_range();
            let i = x.sample(0, 0).unwrap().interval_at(0, &NONE);
            let lo = i64::try_from(lo).unwrap() + peer_bound.lower();
            let hi = i64::try_from(hi).unwrap() + peer_bound.upper();
            assert!(i.lower() <= lo && hi <= i.upper(), "{i:?} vs [{lo}, {hi}]");
        }
    }

    #[test]
    fn extreme_timestamps_saturate() {
        let x = Exchange {
            t1: 0,
            t2: u64::MAX,
            t3: u64::MAX,
            t4: 0,
            peer_bound: Interval::new(i64::MIN, i64::MAX).unwrap(),
        };
        let s = x.sample(0, 0).unwrap();
        assert_eq!(s.path_delay_ns, 0);
        assert_eq!(s.advertised_error_ns, u64::MAX / 2 + 1);
        let x = Exchange {
            t2: 0,
            t3: u64::MAX,
            t4: 0,
            ..x
        };
        assert!(x.sample(0, u64::MAX).is_ok());
    }
}
