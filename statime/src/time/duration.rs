use core::fmt;
use core::ops::{Add, AddAssign, Mul, Neg, Sub, SubAssign};

use fixed::types::{I48F16, I96F32};

use super::{NS_PER_S, TimeInterval};

/// A signed span of time in nanoseconds with 32 fractional bits.
///
/// Used for offsets, path delays and servo arithmetic. Its range (±2^95 ns,
/// about ±1.2e12 years) holds any difference of two PTP timestamps. Operators
/// saturate; `checked_*` methods return `None` on overflow.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Duration(I96F32);

impl Duration {
    /// Zero.
    pub const ZERO: Self = Self(I96F32::ZERO);
    /// The largest duration.
    pub const MAX: Self = Self(I96F32::MAX);
    /// The smallest (most negative) duration.
    pub const MIN: Self = Self(I96F32::MIN);

    /// From whole nanoseconds (always exact).
    #[must_use]
    pub const fn from_nanos(ns: i64) -> Self {
        Self(I96F32::from_bits((ns as i128) << 32))
    }

    /// From whole seconds (always exact).
    #[must_use]
    pub const fn from_secs(s: i64) -> Self {
        Self(I96F32::from_bits((s as i128 * NS_PER_S as i128) << 32))
    }

    /// From the underlying fixed-point nanoseconds.
    #[must_use]
    pub const fn from_fixed_nanos(ns: I96F32) -> Self {
        Self(ns)
    }

    /// The underlying fixed-point nanoseconds.
    #[must_use]
    pub const fn fixed_nanos(self) -> I96F32 {
        self.0
    }

    /// Whole nanoseconds, rounded towards negative infinity.
    #[must_use]
    pub const fn nanos_floor(self) -> i128 {
        self.0.to_bits() >> 32
    }

    /// Nanoseconds as `f64` (for the servo and for display).
    #[must_use]
    pub fn nanos_f64(self) -> f64 {
        self.0.to_num::<f64>()
    }

    /// Seconds as `f64`.
    #[must_use]
    pub fn secs_f64(self) -> f64 {
        self.nanos_f64() / 1e9
    }

    /// From nanoseconds as `f64`; NaN maps to zero, out-of-range values saturate.
    #[must_use]
    pub fn from_nanos_f64(ns: f64) -> Self {
        if ns.is_nan() {
            return Self::ZERO;
        }
        Self(I96F32::saturating_from_num(ns))
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

    /// Absolute value (saturating: `MIN.abs()` is `MAX`).
    #[must_use]
    pub fn abs(self) -> Self {
        Self(self.0.saturating_abs())
    }

    /// Half of the duration, rounded towards negative infinity at 2^-32 ns.
    #[must_use]
    pub fn half(self) -> Self {
        Self(self.0 >> 1)
    }

    /// The duration as a correctionField value, or `None` if it does not fit
    /// (|d| >= 2^47 ns, about 39 hours). Sub-2^-16 ns bits are truncated
    /// towards negative infinity.
    #[must_use]
    pub fn to_interval(self) -> Option<TimeInterval> {
        let bits = self.0.to_bits() >> 16;
        i64::try_from(bits).ok().map(TimeInterval::from_bits)
    }

    /// The duration as a correctionField value, saturating at its bounds.
    #[must_use]
    pub fn saturating_to_interval(self) -> TimeInterval {
        self.to_interval().unwrap_or(if self.0.is_negative() {
            TimeInterval::MIN
        } else {
            TimeInterval::MAX
        })
    }
}

impl From<TimeInterval> for Duration {
    fn from(t: TimeInterval) -> Self {
        let v: I48F16 = t.0;
        Self(I96F32::from_bits(i128::from(v.to_bits()) << 16))
    }
}

impl Add for Duration {
    type Output = Self;
    /// Saturating addition.
    fn add(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Duration {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl Sub for Duration {
    type Output = Self;
    /// Saturating subtraction.
    fn sub(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }
}

impl SubAssign for Duration {
    fn sub_assign(&mut self, rhs: Self) {
        *self = *self - rhs;
    }
}

impl Neg for Duration {
    type Output = Self;
    /// Saturating negation.
    fn neg(self) -> Self {
        Self(self.0.saturating_neg())
    }
}

impl Mul<i64> for Duration {
    type Output = Self;
    /// Saturating multiplication by an integer.
    fn mul(self, rhs: i64) -> Self {
        Self(self.0.saturating_mul_int(i128::from(rhs)))
    }
}

impl fmt::Debug for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Duration({} ns)", self.0)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ns", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(Duration::from_secs(2), Duration::from_nanos(2_000_000_000));
        assert_eq!(Duration::from_nanos(-7).nanos_floor(), -7);
        let ti = TimeInterval::from_bits((-5 << 16) | 0x4000);
        let d = Duration::from(ti);
        assert_eq!(d.to_interval(), Some(ti));
        assert!((d.nanos_f64() - (-4.75)).abs() < 1e-12);
        assert_eq!(Duration::from_nanos_f64(f64::NAN), Duration::ZERO);
        assert_eq!(Duration::from_nanos_f64(1e300), Duration::MAX);
    }

    #[test]
    fn interval_range() {
        assert_eq!(Duration::from_secs(200_000).to_interval(), None);
        assert_eq!(
            Duration::from_secs(200_000).saturating_to_interval(),
            TimeInterval::MAX
        );
        assert_eq!(
            Duration::from_secs(-200_000).saturating_to_interval(),
            TimeInterval::MIN
        );
    }

    #[test]
    fn saturating_ops() {
        assert_eq!(Duration::MAX + Duration::from_nanos(1), Duration::MAX);
        assert_eq!(Duration::MIN - Duration::from_nanos(1), Duration::MIN);
        assert_eq!(Duration::MAX.checked_add(Duration::from_nanos(1)), None);
        assert_eq!(Duration::from_nanos(3) * -2, Duration::from_nanos(-6));
        assert_eq!(Duration::MAX * 2, Duration::MAX);
        assert_eq!(
            Duration::from_nanos(-3).half(),
            Duration::from_nanos_f64(-1.5)
        );
        assert_eq!(Duration::MIN.abs(), Duration::MAX);
    }
}
