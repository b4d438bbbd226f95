use core::fmt;
use core::ops::{Add, Sub};

use super::Duration;

/// A reading of the caller's monotonic clock, in nanoseconds from an
/// arbitrary origin (for example CLOCK_MONOTONIC, or virtual time in the
/// simulator).
///
/// Timers run on this clock, never on the PTP clock being steered, so a
/// step of the PTP clock cannot fire or starve a timer. Arithmetic
/// saturates at 0 and `u64::MAX` ns (584 years).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Instant(u64);

impl Instant {
    /// The origin.
    pub const ZERO: Self = Self(0);

    /// From nanoseconds since the origin.
    #[must_use]
    pub const fn from_nanos(ns: u64) -> Self {
        Self(ns)
    }

    /// From whole seconds since the origin (saturating).
    #[must_use]
    pub const fn from_secs(s: u64) -> Self {
        Self(s.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the origin.
    #[must_use]
    pub const fn nanos(self) -> u64 {
        self.0
    }

    /// `self - earlier`, zero if `earlier` is later.
    #[must_use]
    pub fn saturating_since(self, earlier: Self) -> Duration {
        Duration::from_nanos(i64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(i64::MAX))
    }
}

impl Add<Duration> for Instant {
    type Output = Self;
    /// Saturating; sub-nanosecond parts are truncated.
    fn add(self, d: Duration) -> Self {
        let ns = d.nanos_floor();
        if ns >= 0 {
            Self(u64::try_from(ns).map_or(u64::MAX, |n| self.0.saturating_add(n)))
        } else {
            Self(u64::try_from(-ns).map_or(0, |n| self.0.saturating_sub(n)))
        }
    }
}

impl Sub for Instant {
    type Output = Duration;
    /// Signed difference (saturating at ±2^63 ns).
    fn sub(self, rhs: Self) -> Duration {
        let d = i128::from(self.0) - i128::from(rhs.0);
        Duration::from_nanos(i64::try_from(d).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX }))
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Instant({}.{:09})",
            self.0 / 1_000_000_000,
            self.0 % 1_000_000_000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let a = Instant::from_secs(5);
        assert_eq!(a + Duration::from_nanos(-6_000_000_000), Instant::ZERO);
        assert_eq!(a + Duration::from_secs(1), Instant::from_secs(6));
        assert_eq!(
            Instant::from_nanos(u64::MAX) + Duration::from_secs(1),
            Instant::from_nanos(u64::MAX)
        );
        assert_eq!(a - Instant::from_secs(7), Duration::from_secs(-2));
        assert_eq!(a.saturating_since(Instant::from_secs(7)), Duration::ZERO);
        assert_eq!(
            Instant::from_secs(7).saturating_since(a),
            Duration::from_secs(2)
        );
    }
}
