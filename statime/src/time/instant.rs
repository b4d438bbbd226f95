use core::fmt;
use core::ops::{Add, Sub};

use fixed::types::{I96F32, U96F32};

use super::{Duration, NS_PER_S};

/// A point in time: nanoseconds since the PTP epoch (IEEE 1588-2019 clause
/// 7.2.3, 1970-01-01 00:00:00 TAI) with 32 fractional bits.
///
/// `Time` cannot be negative. Adding or subtracting a [`Duration`] saturates
/// at zero and at the maximum; `checked_*` methods return `None` instead.
/// `Time - Time` is a [`Duration`] (saturating, never wrong for any two
/// times whose difference fits in ±2^95 ns, which all wire times do).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Time(U96F32);

impl Time {
    /// The PTP epoch.
    pub const EPOCH: Self = Self(U96F32::ZERO);
    /// The largest representable time.
    pub const MAX: Self = Self(U96F32::MAX);

    /// From whole seconds and nanoseconds since the epoch. Nanoseconds of a
    /// billion or more carry into the seconds.
    #[must_use]
    pub const fn from_secs_nanos(secs: u64, nanos: u32) -> Self {
        let ns = secs as u128 * NS_PER_S as u128 + nanos as u128;
        Self(U96F32::from_bits(ns << 32))
    }

    /// From whole nanoseconds since the epoch.
    #[must_use]
    pub const fn from_nanos(ns: u64) -> Self {
        Self(U96F32::from_bits((ns as u128) << 32))
    }

    /// From fixed-point nanoseconds since the epoch.
    #[must_use]
    pub const fn from_fixed_nanos(ns: U96F32) -> Self {
        Self(ns)
    }

    /// Fixed-point nanoseconds since the epoch.
    #[must_use]
    pub const fn fixed_nanos(self) -> U96F32 {
        self.0
    }

    /// Whole seconds since the epoch.
    #[must_use]
    pub const fn secs(self) -> u128 {
        (self.0.to_bits() >> 32) / NS_PER_S as u128
    }

    /// Whole nanoseconds within the second (0..1e9).
    #[must_use]
    pub const fn subsec_nanos(self) -> u32 {
        ((self.0.to_bits() >> 32) % NS_PER_S as u128) as u32
    }

    /// Fraction of a nanosecond in units of 2^-32 ns.
    #[must_use]
    pub const fn subnano_bits(self) -> u32 {
        self.0.to_bits() as u32
    }

    /// `self + d`, or `None` below the epoch or above [`Time::MAX`].
    #[must_use]
    pub fn checked_add(self, d: Duration) -> Option<Self> {
        let bits = self.0.to_bits();
        let delta = d.fixed_nanos().to_bits();
        let sum = if delta >= 0 {
            bits.checked_add(delta.unsigned_abs())?
        } else {
            bits.checked_sub(delta.unsigned_abs())?
        };
        Some(Self(U96F32::from_bits(sum)))
    }

    /// `self - d`, or `None` below the epoch or above [`Time::MAX`].
    #[must_use]
    pub fn checked_sub(self, d: Duration) -> Option<Self> {
        let bits = self.0.to_bits();
        let delta = d.fixed_nanos().to_bits();
        let diff = if delta >= 0 {
            bits.checked_sub(delta.unsigned_abs())?
        } else {
            bits.checked_add(delta.unsigned_abs())?
        };
        Some(Self(U96F32::from_bits(diff)))
    }

    /// `self - earlier` as a duration, or `None` if it does not fit.
    #[must_use]
    pub fn checked_duration_since(self, earlier: Self) -> Option<Duration> {
        let (a, b) = (self.0.to_bits(), earlier.0.to_bits());
        let diff = if a >= b {
            i128::try_from(a - b).ok()?
        } else {
            // -(b - a); the most negative i128 is representable too.
            let m = b - a;
            if m == 1u128 << 127 {
                i128::MIN
            } else {
                -i128::try_from(m).ok()?
            }
        };
        Some(Duration::from_fixed_nanos(I96F32::from_bits(diff)))
    }
}

impl Add<Duration> for Time {
    type Output = Self;
    /// Saturating: clamps to [`Time::EPOCH`] and [`Time::MAX`].
    fn add(self, d: Duration) -> Self {
        self.checked_add(d).unwrap_or(if d < Duration::ZERO {
            Self::EPOCH
        } else {
            Self::MAX
        })
    }
}

impl Sub<Duration> for Time {
    type Output = Self;
    /// Saturating: clamps to [`Time::EPOCH`] and [`Time::MAX`].
    fn sub(self, d: Duration) -> Self {
        self.checked_sub(d).unwrap_or(if d > Duration::ZERO {
            Self::EPOCH
        } else {
            Self::MAX
        })
    }
}

impl Sub for Time {
    type Output = Duration;
    /// Saturating difference.
    fn sub(self, rhs: Self) -> Duration {
        self.checked_duration_since(rhs).unwrap_or(if self < rhs {
            Duration::MIN
        } else {
            Duration::MAX
        })
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Time({}.{:09})", self.secs(), self.subsec_nanos())
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:09}", self.secs(), self.subsec_nanos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let t = Time::from_secs_nanos(1_700_000_000, 123_456_789);
        assert_eq!(t.secs(), 1_700_000_000);
        assert_eq!(t.subsec_nanos(), 123_456_789);
        assert_eq!(Time::from_secs_nanos(1, 1_500_000_000).secs(), 2);
    }

    #[test]
    fn arithmetic() {
        let a = Time::from_secs_nanos(10, 0);
        let b = Time::from_secs_nanos(9, 999_999_999);
        assert_eq!(a - b, Duration::from_nanos(1));
        assert_eq!(b - a, Duration::from_nanos(-1));
        assert_eq!(b + Duration::from_nanos(1), a);
        assert_eq!(a - Duration::from_secs(11), Time::EPOCH);
        assert_eq!(a.checked_sub(Duration::from_secs(11)), None);
        assert_eq!(Time::MAX + Duration::from_nanos(1), Time::MAX);
        assert_eq!(Time::MAX - Time::EPOCH, Duration::MAX);
        assert_eq!(Time::EPOCH - Time::MAX, Duration::MIN);
        // The top half of the range works too.
        assert_eq!(
            Time::MAX - Duration::from_nanos(1) + Duration::from_nanos(1),
            Time::MAX
        );
        assert_eq!(Time::MAX - Time::MAX, Duration::ZERO);
        assert_eq!(Time::MAX.checked_add(Duration::ZERO), Some(Time::MAX));
    }
}
