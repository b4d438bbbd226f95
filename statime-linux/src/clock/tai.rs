//! TAI and UTC.
//!
//! PTP time is TAI (IEEE 1588-2019 clause 7.2.1, with the PTP timescale), but
//! the Linux system clock (CLOCK_REALTIME) is UTC, and software timestamps
//! come from it. Following ARCHITECTURE.md principle 4 we never read
//! CLOCK_TAI: we read CLOCK_REALTIME and add the TAI - UTC offset ourselves,
//! taken from the grandmaster's timePropertiesDS when it is valid, else from
//! a configured default (37 s since 2017-01-01).
//!
//! Both timescales are carried in [`Time`] (nanoseconds since 1970-01-01
//! 00:00:00 of the respective timescale).

use statime::clock::ClockProperties;
use statime::time::{Duration, Time};

/// TAI - UTC in seconds since 2017-01-01 (the value to assume when no valid
/// currentUtcOffset has been received).
pub const DEFAULT_UTC_OFFSET: i16 = 37;

/// Nanoseconds per second.
pub(crate) const NS_PER_S: i128 = 1_000_000_000;

/// UTC to TAI: `utc + utc_offset` seconds. `None` below the epoch.
#[must_use]
pub fn utc_to_tai(utc: Time, utc_offset: i16) -> Option<Time> {
    utc.checked_add(Duration::from_secs(i64::from(utc_offset)))
}

/// TAI to UTC: `tai - utc_offset` seconds. `None` below the epoch.
///
/// Around a leap second the result is ambiguous (UTC repeats a second);
/// like the kernel we map the inserted second onto the next one.
#[must_use]
pub fn tai_to_utc(tai: Time, utc_offset: i16) -> Option<Time> {
    tai.checked_sub(Duration::from_secs(i64::from(utc_offset)))
}

/// The TAI - UTC offset to use: the grandmaster's currentUtcOffset when it
/// flags it valid, else `fallback`.
#[must_use]
pub fn effective_utc_offset(properties: &ClockProperties, fallback: i16) -> i16 {
    if properties.current_utc_offset_valid {
        properties.current_utc_offset
    } else {
        fallback
    }
}

/// The TAI - UTC offset in force, updated from the timePropertiesDS of the
/// current time source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcOffset {
    seconds: i16,
}

impl Default for UtcOffset {
    fn default() -> Self {
        Self::new(DEFAULT_UTC_OFFSET)
    }
}

impl UtcOffset {
    /// Starts from `seconds` (normally [`DEFAULT_UTC_OFFSET`] or a configured
    /// value).
    #[must_use]
    pub const fn new(seconds: i16) -> Self {
        Self { seconds }
    }

    /// TAI - UTC in seconds.
    #[must_use]
    pub const fn seconds(self) -> i16 {
        self.seconds
    }

    /// Takes the grandmaster's currentUtcOffset when it is valid; returns
    /// whether the offset changed.
    pub fn update(&mut self, properties: &ClockProperties) -> bool {
        let new = effective_utc_offset(properties, self.seconds);
        let changed = new != self.seconds;
        self.seconds = new;
        changed
    }

    /// UTC to TAI with this offset.
    #[must_use]
    pub fn to_tai(self, utc: Time) -> Option<Time> {
        utc_to_tai(utc, self.seconds)
    }

    /// TAI to UTC with this offset.
    #[must_use]
    pub fn to_utc(self, tai: Time) -> Option<Time> {
        tai_to_utc(tai, self.seconds)
    }
}

/// Nanoseconds of a `timespec`-like pair (`sec` may be negative; `nsec` is
/// taken as is, so non-normalised pairs also work).
#[must_use]
pub fn timespec_nanos(sec: i64, nsec: i64) -> i128 {
    i128::from(sec) * NS_PER_S + i128::from(nsec)
}

/// A [`Time`] from whole nanoseconds since the epoch; `None` when negative
/// or too large.
#[must_use]
pub fn time_from_nanos(ns: i128) -> Option<Time> {
    let ns = u128::try_from(ns).ok()?;
    let bits = ns.checked_mul(1 << 32)?;
    Some(Time::from_fixed_nanos(fixed::types::U96F32::from_bits(
        bits,
    )))
}

/// A [`Time`] from a `timespec`-like pair; `None` before the epoch.
#[must_use]
pub fn time_from_timespec(sec: i64, nsec: i64) -> Option<Time> {
    time_from_nanos(timespec_nanos(sec, nsec))
}

/// A [`Time`] as `(seconds, nanoseconds)` with the sub-nanosecond part
/// truncated; `None` when the seconds do not fit in `i64`.
#[must_use]
pub fn time_to_timespec(time: Time) -> Option<(i64, i64)> {
    let secs = i64::try_from(time.secs()).ok()?;
    Some((secs, i64::from(time.subsec_nanos())))
}

/// A [`Duration`] from whole nanoseconds, `None` when it does not fit.
#[must_use]
pub fn duration_from_nanos(ns: i128) -> Option<Duration> {
    let bits = ns.checked_mul(1 << 32)?;
    Some(Duration::from_fixed_nanos(fixed::types::I96F32::from_bits(
        bits,
    )))
}
