use core::fmt;
use core::ops::{Add, Neg, Sub};

use fixed::types::I48F16;

use super::Duration;

/// A signed time interval in units of 2^-16 ns (IEEE 1588-2019 clause 5.3.2,
/// `TimeInterval`).
///
/// It is the type of the header's correctionField (clause 13.3.2.9) and of
/// delayAsymmetry. The 64-bit value is `nanoseconds * 2^16`, which is exactly
/// the fixed-point type [`I48F16`]. Operators saturate (the standard says a
/// correction too large to represent is set to the largest value,
/// clause 13.3.2.9 note); `checked_*` methods return `None` on overflow.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TimeInterval(pub I48F16);

impl TimeInterval {
    /// The zero interval.
    pub const ZERO: Self = Self(I48F16::ZERO);
    /// The largest interval; a correctionField saturates to it.
    pub const MAX: Self = Self(I48F16::MAX);
    /// The smallest (most negative) interval.
    pub const MIN: Self = Self(I48F16::MIN);

    /// Interval from its raw wire value (nanoseconds scaled by 2^16).
    #[must_use]
    pub const fn from_bits(bits: i64) -> Self {
        Self(I48F16::from_bits(bits))
    }

    /// The raw wire value (nanoseconds scaled by 2^16).
    #[must_use]
    pub const fn to_bits(self) -> i64 {
        self.0.to_bits()
    }

    /// Interval of a whole number of nanoseconds; saturates outside ±2^47 ns.
    #[must_use]
    pub const fn from_nanos(ns: i64) -> Self {
        Self(I48F16::from_bits(ns.saturating_mul(1 << 16)))
    }

    /// The whole nanoseconds of the interval, rounded towards negative infinity.
    #[must_use]
    pub const fn nanos_floor(self) -> i64 {
        self.0.to_bits() >> 16
    }

    /// The fractional nanoseconds, in units of 2^-16 ns (0..65535).
    #[must_use]
    pub const fn subnanos(self) -> u16 {
        (self.0.to_bits() & 0xFFFF) as u16
    }

    /// Sum, or `None` on overflow.
    #[must_use]
    pub fn checked_add(self, rhs: Self) -> Option<Self> {
        self.0.checked_add(rhs.0).map(Self)
    }

    /// Difference, or `None` on overflow.
    #[must_use]
    pub fn checked_sub(self, rhs: Self) -> Option<Self> {
        self.0.checked_sub(rhs.0).map(Self)
    }

    /// The interval as a [`Duration`] (always exact).
    #[must_use]
    pub fn to_duration(self) -> Duration {
        Duration::from(self)
    }
}

impl Add for TimeInterval {
    type Output = Self;
    /// Saturating addition.
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl Sub for TimeInterval {
    type Output = Self;
    /// Saturating subtraction.
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl Neg for TimeInterval {
    type Output = Self;
    /// Saturating negation (`-MIN` is `MAX`).
    fn neg(self) -> Self {
        Self(self.0.saturating_neg())
    }
}

impl fmt::Debug for TimeInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TimeInterval({} ns)", self.0)
    }
}

impl fmt::Display for TimeInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ns", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_scaling() {
        let t = TimeInterval::from_nanos(3);
        assert_eq!(t.to_bits(), 3 << 16);
        let half = TimeInterval::from_bits((5 << 16) | 0x8000);
        assert_eq!(half.nanos_floor(), 5);
        assert_eq!(half.subnanos(), 0x8000);
        let neg = TimeInterval::from_bits(-1);
        assert_eq!(neg.nanos_floor(), -1);
        assert_eq!(neg.subnanos(), 0xFFFF);
    }

    #[test]
    fn saturates_and_checks() {
        assert_eq!(
            TimeInterval::MAX + TimeInterval::from_nanos(1),
            TimeInterval::MAX
        );
        assert_eq!(
            TimeInterval::MIN - TimeInterval::from_nanos(1),
            TimeInterval::MIN
        );
        assert_eq!(-TimeInterval::MIN, TimeInterval::MAX);
        assert_eq!(
            TimeInterval::MAX.checked_add(TimeInterval::from_bits(1)),
            None
        );
        assert_eq!(
            TimeInterval::from_nanos(2).checked_sub(TimeInterval::from_nanos(5)),
            Some(TimeInterval::from_nanos(-3))
        );
        assert_eq!(TimeInterval::from_nanos(i64::MAX), TimeInterval::MAX);
    }
}
