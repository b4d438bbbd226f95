//! The `struct timex` requests we send to `clock_adjtime(2)`, built by pure
//! functions so they can be checked without touching a clock.
//!
//! Facts used (Linux `include/uapi/linux/timex.h`, adjtimex(2)):
//! - `ADJ_FREQUENCY`: `freq` is in "scaled ppm", ppm with 16 fractional
//!   bits, so 1 ppb = 65.536 units. CLOCK_REALTIME accepts at most 500 ppm;
//!   a PHC accepts at most its `max_adj` (ppb) and answers ERANGE beyond.
//! - `ADJ_SETOFFSET | ADJ_NANO`: add `time` to the clock; with `ADJ_NANO`
//!   the `tv_usec` field holds nanoseconds, which must be in `0..1e9`, so a
//!   negative step borrows a second (-1.5 s is `{-2 s, 500 000 000 ns}`).
//! - `ADJ_TAI`: the TAI offset is taken from the `constant` field (the `tai`
//!   field is read-only).
//! - `ADJ_STATUS`: replaces the writable status bits; `STA_INS`/`STA_DEL`
//!   arm a leap second at the end of the current UTC day.
//! - `ADJ_TICK`: microseconds per `USER_HZ` tick; one microsecond of tick is
//!   1/nominal of frequency (100 ppm at `USER_HZ` = 100), within +-10 %.

use statime::clock::LeapIndicator;
use statime::time::Duration;

/// Scaled-ppm units per ppb (2^16 / 1000).
pub const SCALED_PPM_PER_PPB: f64 = 65.536;

/// The largest `ADJ_FREQUENCY` the kernel accepts for CLOCK_REALTIME, in ppb
/// (500 ppm, `MAXFREQ`).
pub const SYSTEM_MAX_FREQUENCY_PPB: f64 = 500_000.0;

/// `ppb` in the kernel's scaled-ppm unit, rounded to the nearest unit.
/// NaN maps to 0; values beyond `i64` saturate.
#[must_use]
#[allow(clippy::cast_possible_truncation)] // saturating float-to-int cast is intended
pub fn ppb_to_scaled_ppm(ppb: f64) -> i64 {
    if ppb.is_nan() {
        return 0;
    }
    (ppb * SCALED_PPM_PER_PPB).round() as i64
}

/// Scaled ppm back to ppb.
#[must_use]
#[allow(clippy::cast_precision_loss)] // |scaled ppm| is far below 2^53 in practice
pub fn scaled_ppm_to_ppb(scaled_ppm: i64) -> f64 {
    scaled_ppm as f64 / SCALED_PPM_PER_PPB
}

/// A `clock_adjtime` request: the fields of `struct timex` we write.
///
/// Fields not listed are zero. Build one with the constructors; turn it into
/// a `libc::timex` at the system-call boundary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timex {
    /// `ADJ_*` bits; 0 is a read-only query.
    pub modes: u32,
    /// `freq`: scaled ppm (with `ADJ_FREQUENCY`).
    pub freq: i64,
    /// `status`: `STA_*` bits (with `ADJ_STATUS`).
    pub status: i32,
    /// `constant`: the TAI offset in seconds (with `ADJ_TAI`).
    pub constant: i64,
    /// `time.tv_sec` (with `ADJ_SETOFFSET`).
    pub time_sec: i64,
    /// `time.tv_usec`, which holds nanoseconds with `ADJ_NANO`.
    pub time_usec: i64,
    /// `tick`: microseconds per `USER_HZ` tick (with `ADJ_TICK`).
    pub tick: i64,
}

impl Timex {
    /// A read-only query (`modes = 0`): changes nothing, needs no privilege.
    #[must_use]
    pub const fn query() -> Self {
        Self {
            modes: 0,
            freq: 0,
            status: 0,
            constant: 0,
            time_sec: 0,
            time_usec: 0,
            tick: 0,
        }
    }

    /// Whether this request changes nothing.
    #[must_use]
    pub const fn is_read_only(&self) -> bool {
        self.modes == 0
    }

    /// Set the frequency offset to `ppb` (absolute), `ADJ_FREQUENCY`.
    #[must_use]
    pub fn frequency(ppb: f64) -> Self {
        Self {
            modes: libc::ADJ_FREQUENCY,
            freq: ppb_to_scaled_ppm(ppb),
            ..Self::query()
        }
    }

    /// Set tick length and frequency together (`ADJ_TICK | ADJ_FREQUENCY`),
    /// for system-clock corrections beyond 500 ppm; see [`split_tick`].
    #[must_use]
    pub fn tick_and_frequency(tick_us: i64, ppb: f64) -> Self {
        Self {
            modes: libc::ADJ_TICK | libc::ADJ_FREQUENCY,
            freq: ppb_to_scaled_ppm(ppb),
            tick: tick_us,
            ..Self::query()
        }
    }

    /// Add `ns` nanoseconds to the clock (`ADJ_SETOFFSET | ADJ_NANO`),
    /// borrowing a second for negative values so that `0 <= tv_usec < 1e9`.
    /// `None` when the seconds do not fit in `i64`.
    #[must_use]
    pub fn step_nanos(ns: i128) -> Option<Self> {
        let (sec, nsec) = split_step_nanos(ns)?;
        Some(Self {
            modes: libc::ADJ_SETOFFSET | libc::ADJ_NANO,
            time_sec: sec,
            time_usec: nsec,
            ..Self::query()
        })
    }

    /// Add `offset` to the clock, rounded to the nearest nanosecond; see
    /// [`Timex::step_nanos`].
    #[must_use]
    pub fn step(offset: Duration) -> Option<Self> {
        Self::step_nanos(round_to_nanos(offset))
    }

    /// Set the kernel's TAI - UTC offset (`ADJ_TAI`, value in `constant`).
    #[must_use]
    pub fn tai_offset(seconds: i16) -> Self {
        Self {
            modes: libc::ADJ_TAI,
            constant: i64::from(seconds),
            ..Self::query()
        }
    }

    /// Replace the writable status bits (`ADJ_STATUS`).
    #[must_use]
    pub fn status(status: i32) -> Self {
        Self {
            modes: libc::ADJ_STATUS,
            status,
            ..Self::query()
        }
    }
}

/// A step in nanoseconds as `(tv_sec, tv_nsec)` with `0 <= tv_nsec < 1e9`:
/// negative steps borrow a second. `None` when the seconds overflow `i64`.
#[must_use]
pub fn split_step_nanos(ns: i128) -> Option<(i64, i64)> {
    const NS: i128 = 1_000_000_000;
    let sec = i64::try_from(ns.div_euclid(NS)).ok()?;
    let nsec = i64::try_from(ns.rem_euclid(NS)).ok()?;
    Some((sec, nsec))
}

/// A duration rounded to the nearest whole nanosecond (halves round up).
#[must_use]
pub fn round_to_nanos(d: Duration) -> i128 {
    let bits = d.fixed_nanos().to_bits();
    bits.saturating_add(1 << 31) >> 32
}

/// Splits a system-clock frequency offset into a tick length and a residual
/// `ADJ_FREQUENCY` value, as needed beyond the 500 ppm the frequency field
/// allows. `nominal_tick_us` is `1e6 / USER_HZ` (10 000 on Linux).
///
/// Returns `(tick_us, residual_ppb)`; the tick stays within +-10 % of nominal
/// (the kernel's limit) and the residual within +-half a tick step, unless
/// `ppb` is beyond what the tick range can reach.
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)] // bounded values
pub fn split_tick(ppb: f64, nominal_tick_us: i64) -> (i64, f64) {
    if !ppb.is_finite() || nominal_tick_us <= 0 {
        return (nominal_tick_us, 0.0);
    }
    // One microsecond of tick changes the rate by 1 / nominal.
    let ppb_per_tick_us = 1e9 / nominal_tick_us as f64;
    let max_delta = nominal_tick_us / 10;
    let delta = ((ppb / ppb_per_tick_us).round() as i64).clamp(-max_delta, max_delta);
    let residual = ppb - delta as f64 * ppb_per_tick_us;
    (nominal_tick_us + delta, residual)
}

/// The status word to write for `leap`: `current` with `STA_INS`/`STA_DEL`
/// replaced, every other writable bit kept.
#[must_use]
pub fn leap_status(current: i32, leap: LeapIndicator) -> i32 {
    let base = current & !(libc::STA_INS | libc::STA_DEL) & !libc::STA_RONLY;
    match leap {
        LeapIndicator::NoLeap => base,
        LeapIndicator::Leap61 => base | libc::STA_INS,
        LeapIndicator::Leap59 => base | libc::STA_DEL,
    }
}

/// What `clock_adjtime` reports back (the kernel's current values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimexState {
    /// The return value: `TIME_OK`, `TIME_INS`, `TIME_DEL`, `TIME_OOP`,
    /// `TIME_WAIT` or `TIME_ERROR`.
    pub clock_state: i32,
    /// `status`: `STA_*` bits.
    pub status: i32,
    /// `freq`: scaled ppm.
    pub freq: i64,
    /// `tai`: TAI - UTC in seconds as the kernel knows it (0 when never set).
    pub tai: i32,
    /// `tick`: microseconds per tick.
    pub tick: i64,
    /// `maxerror` in microseconds.
    pub maxerror: i64,
    /// `esterror` in microseconds.
    pub esterror: i64,
}

impl TimexState {
    /// The frequency offset in ppb.
    #[must_use]
    pub fn frequency_ppb(&self) -> f64 {
        scaled_ppm_to_ppb(self.freq)
    }

    /// Whether the kernel considers the clock unsynchronised (`STA_UNSYNC`).
    #[must_use]
    pub const fn unsynchronized(&self) -> bool {
        self.status & libc::STA_UNSYNC != 0
    }

    /// The leap second the kernel has armed.
    #[must_use]
    pub const fn leap(&self) -> LeapIndicator {
        if self.status & libc::STA_INS != 0 {
            LeapIndicator::Leap61
        } else if self.status & libc::STA_DEL != 0 {
            LeapIndicator::Leap59
        } else {
            LeapIndicator::NoLeap
        }
    }
}
