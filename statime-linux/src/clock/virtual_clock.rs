//! A software clock for tests and labs: it never adjusts a real clock.
//!
//! The virtual clock runs on a raw time source (CLOCK_MONOTONIC_RAW, or an
//! injected source in unit tests) with an injected initial offset and
//! frequency error, and implements [`Clock`] so the real servo can steer it:
//!
//! ```text
//! time(raw) = anchor_time + (raw - anchor_raw) * (1 + (freq_error + adjustment) / 1e9)
//! ```
//!
//! A frequency change re-anchors (the phase stays continuous); a step moves
//! the anchor. All arithmetic is integer, in units of 2^-32 ns, with the
//! rate as ppb * 2^32: every reading is computed from the last anchor (no
//! accumulation), so a long run stays exact to well below a nanosecond.
//!
//! The clock keeps PTP time (TAI): at creation it is the reference clock
//! (CLOCK_REALTIME, UTC) plus the configured TAI - UTC offset plus the
//! initial offset; [`VirtualClock::true_error`] measures it against that
//! same reference.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use fixed::types::{I96F32, U96F32};
use statime::clock::Clock;
use statime::time::{Duration, Time};

use super::error::ClockError;
use super::sys::{monotonic_raw_nanos, realtime_nanos};
use super::tai::{DEFAULT_UTC_OFFSET, NS_PER_S};

/// Where a [`VirtualClock`] gets its time: a free-running raw clock, and a
/// reference ("true") UTC clock to start from and to measure against.
pub trait RawTimeSource {
    /// The raw clock in nanoseconds (arbitrary origin, never slewed).
    ///
    /// # Errors
    /// When the clock cannot be read.
    fn raw_nanos(&self) -> Result<i128, ClockError>;

    /// The reference clock: UTC nanoseconds since 1970.
    ///
    /// # Errors
    /// When the clock cannot be read.
    fn reference_nanos(&self) -> Result<i128, ClockError>;
}

/// The real source: CLOCK_MONOTONIC_RAW, with CLOCK_REALTIME as reference.
#[derive(Clone, Copy, Debug, Default)]
pub struct MonotonicRaw;

impl RawTimeSource for MonotonicRaw {
    fn raw_nanos(&self) -> Result<i128, ClockError> {
        monotonic_raw_nanos()
    }

    fn reference_nanos(&self) -> Result<i128, ClockError> {
        realtime_nanos()
    }
}

/// A deterministic source for tests: time moves only when told to.
///
/// Clones share the same time, so a test keeps one handle to advance the
/// time of a clock that owns another. The reference clock runs at exactly
/// the raw rate: `reference = reference_start + (raw - raw_start)`.
#[derive(Clone, Debug)]
pub struct ManualTimeSource {
    raw: Arc<AtomicI64>,
    raw_start: i64,
    reference_start: i128,
}

impl ManualTimeSource {
    /// Starts the raw clock at `raw_start` ns and the reference at
    /// `reference_start` ns since 1970 (UTC).
    #[must_use]
    pub fn new(raw_start: i64, reference_start: i128) -> Self {
        Self {
            raw: Arc::new(AtomicI64::new(raw_start)),
            raw_start,
            reference_start,
        }
    }

    /// Moves time forward (or back, for negative `ns`) by `ns` nanoseconds.
    pub fn advance_nanos(&self, ns: i64) {
        self.raw.fetch_add(ns, Ordering::SeqCst);
    }

    /// Moves time forward by `d`, truncated to whole nanoseconds.
    pub fn advance(&self, d: std::time::Duration) {
        self.advance_nanos(i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    }

    /// The current raw time in nanoseconds.
    #[must_use]
    pub fn raw(&self) -> i64 {
        self.raw.load(Ordering::SeqCst)
    }
}

impl RawTimeSource for ManualTimeSource {
    fn raw_nanos(&self) -> Result<i128, ClockError> {
        Ok(i128::from(self.raw()))
    }

    fn reference_nanos(&self) -> Result<i128, ClockError> {
        Ok(self.reference_start + i128::from(self.raw()) - i128::from(self.raw_start))
    }
}

/// How a [`VirtualClock`] is set up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VirtualClockConfig {
    /// Added to the true time at creation (e.g. +1 ms).
    pub initial_offset: Duration,
    /// The simulated oscillator error in ppb (e.g. +50 000 for +50 ppm).
    pub frequency_error_ppb: f64,
    /// TAI - UTC in seconds, added to the UTC reference: the clock keeps PTP
    /// time. Use 0 for a clock on the UTC timescale (e.g. against a ptp4l
    /// master that serves CLOCK_REALTIME unchanged).
    pub utc_offset: i16,
    /// The largest |adjustment| accepted, in ppb; larger values are clamped.
    pub max_frequency_ppb: f64,
}

impl Default for VirtualClockConfig {
    fn default() -> Self {
        Self {
            initial_offset: Duration::ZERO,
            frequency_error_ppb: 0.0,
            utc_offset: DEFAULT_UTC_OFFSET,
            max_frequency_ppb: 10_000_000.0,
        }
    }
}

/// ppb as a signed fixed-point number with 32 fractional bits.
#[allow(clippy::cast_possible_truncation)] // bounded by the caller's clamp; saturating cast
fn ppb_fixed(ppb: f64) -> i128 {
    (ppb * 4_294_967_296.0).round() as i128
}

/// A software clock over a [`RawTimeSource`]; see the module documentation.
#[derive(Debug)]
pub struct VirtualClock<S: RawTimeSource = MonotonicRaw> {
    source: S,
    /// Raw time of the anchor, ns.
    anchor_raw: i128,
    /// Clock time at the anchor, ns * 2^32 (signed: a step may take it
    /// below the epoch; readings there are errors).
    anchor_bits: i128,
    /// freq_error, ppb * 2^32.
    error_fixed: i128,
    /// adjustment, ppb * 2^32.
    adjust_fixed: i128,
    frequency_error_ppb: f64,
    adjustment_ppb: f64,
    utc_offset: i16,
    max_frequency_ppb: f64,
}

impl VirtualClock<MonotonicRaw> {
    /// A virtual clock over CLOCK_MONOTONIC_RAW, starting at CLOCK_REALTIME
    /// + `config.utc_offset` + `config.initial_offset`.
    ///
    /// # Errors
    /// When the clocks cannot be read.
    pub fn new(config: VirtualClockConfig) -> Result<Self, ClockError> {
        Self::with_source(MonotonicRaw, config)
    }
}

impl<S: RawTimeSource> VirtualClock<S> {
    /// A virtual clock over `source`.
    ///
    /// # Errors
    /// When the source cannot be read, or the start time is out of range.
    pub fn with_source(source: S, config: VirtualClockConfig) -> Result<Self, ClockError> {
        let (raw, reference) = paired_reading(&source)?;
        let start_ns = reference + i128::from(config.utc_offset) * NS_PER_S;
        let anchor_bits = (start_ns << 32)
            .checked_add(config.initial_offset.fixed_nanos().to_bits())
            .ok_or(ClockError::TimeOutOfRange {
                what: "virtual clock start",
            })?;
        let error = if config.frequency_error_ppb.is_finite() {
            config.frequency_error_ppb
        } else {
            0.0
        };
        Ok(Self {
            source,
            anchor_raw: raw,
            anchor_bits,
            error_fixed: ppb_fixed(error),
            adjust_fixed: 0,
            frequency_error_ppb: error,
            adjustment_ppb: 0.0,
            utc_offset: config.utc_offset,
            max_frequency_ppb: config.max_frequency_ppb.abs(),
        })
    }

    /// The time source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The simulated oscillator error in ppb.
    #[must_use]
    pub fn frequency_error_ppb(&self) -> f64 {
        self.frequency_error_ppb
    }

    /// The adjustment last applied with [`Clock::adjust_frequency`], ppb.
    #[must_use]
    pub fn adjustment_ppb(&self) -> f64 {
        self.adjustment_ppb
    }

    /// The TAI - UTC offset the clock was set up with.
    #[must_use]
    pub fn utc_offset(&self) -> i16 {
        self.utc_offset
    }

    /// Clock time at raw time `raw_ns`, in ns * 2^32.
    fn bits_at(&self, raw_ns: i128) -> Result<i128, ClockError> {
        const OVERFLOW: ClockError = ClockError::TimeOutOfRange {
            what: "virtual clock",
        };
        let elapsed = raw_ns - self.anchor_raw;
        let rate = self.error_fixed + self.adjust_fixed;
        let extra = elapsed
            .checked_mul(rate)
            .ok_or(OVERFLOW)?
            .div_euclid(NS_PER_S);
        elapsed
            .checked_mul(1 << 32)
            .and_then(|e| e.checked_add(extra))
            .and_then(|d| d.checked_add(self.anchor_bits))
            .ok_or(OVERFLOW)
    }

    /// The clock's time at raw time `raw_ns` (for example a receive
    /// timestamp taken on the raw clock).
    ///
    /// # Errors
    /// When the result is before the epoch or overflows.
    pub fn time_at_raw(&self, raw_ns: i128) -> Result<Time, ClockError> {
        let bits = self.bits_at(raw_ns)?;
        let bits = u128::try_from(bits).map_err(|_| ClockError::TimeOutOfRange {
            what: "virtual clock (before the epoch)",
        })?;
        Ok(Time::from_fixed_nanos(U96F32::from_bits(bits)))
    }

    /// The clock's time at the moment the reference clock (CLOCK_REALTIME)
    /// read `reference_utc`: converts a software timestamp (UTC) to this
    /// clock. Assumes raw and reference run at the same rate over the short
    /// time since the timestamp.
    ///
    /// # Errors
    /// When the clocks cannot be read or the result is out of range.
    pub fn time_at_reference(&self, reference_utc: Time) -> Result<Time, ClockError> {
        let (raw, reference) = paired_reading(&self.source)?;
        let stamp = i128::try_from(reference_utc.fixed_nanos().to_bits() >> 32).map_err(|_| {
            ClockError::TimeOutOfRange {
                what: "reference timestamp",
            }
        })?;
        self.time_at_raw(raw - (reference - stamp))
    }

    /// Virtual time minus true time (the reference clock plus the TAI - UTC
    /// offset): the error a servo steering this clock should drive to zero.
    /// For lab measurements; positive means the virtual clock is ahead.
    ///
    /// # Errors
    /// When the clocks cannot be read or the result overflows.
    pub fn true_error(&self) -> Result<Duration, ClockError> {
        let (raw, reference) = paired_reading(&self.source)?;
        let truth = (reference + i128::from(self.utc_offset) * NS_PER_S)
            .checked_mul(1 << 32)
            .ok_or(ClockError::TimeOutOfRange { what: "true time" })?;
        let virt = self.bits_at(raw)?;
        Ok(Duration::from_fixed_nanos(I96F32::from_bits(virt - truth)))
    }
}

/// A raw reading and a reference reading taken as close together as
/// possible: raw before and after the reference, the raw midpoint kept; of
/// a few such pairs the tightest (a preemption between the reads widens a
/// pair and moves its midpoint, so one pair alone can be off by the length
/// of a time slice).
fn paired_reading<S: RawTimeSource>(source: &S) -> Result<(i128, i128), ClockError> {
    let mut best: Option<(i128, i128, i128)> = None;
    for _ in 0..PAIR_ATTEMPTS {
        let before = source.raw_nanos()?;
        let reference = source.reference_nanos()?;
        let after = source.raw_nanos()?;
        let width = after - before;
        if best.is_none_or(|(w, _, _)| width < w) {
            best = Some((width, before + width / 2, reference));
        }
        if width <= TIGHT_PAIR_NS {
            break;
        }
    }
    let (_, raw, reference) = best.ok_or(ClockError::InvalidArgument {
        operation: "read",
        clock: "the virtual clock's reference".to_owned(),
    })?;
    Ok((raw, reference))
}

/// Pairs tried by [`paired_reading`] at most.
const PAIR_ATTEMPTS: usize = 5;
/// A pair this tight (ns between the raw reads) is taken at once.
const TIGHT_PAIR_NS: i128 = 2_000;

impl<S: RawTimeSource> Clock for VirtualClock<S> {
    type Error = ClockError;

    fn now(&self) -> Result<Time, ClockError> {
        self.time_at_raw(self.source.raw_nanos()?)
    }

    fn adjust_frequency(&mut self, ppb: f64) -> Result<(), ClockError> {
        if !ppb.is_finite() {
            return Err(ClockError::InvalidArgument {
                operation: "adjust the frequency of",
                clock: "the virtual clock".to_owned(),
            });
        }
        let ppb = ppb.clamp(-self.max_frequency_ppb, self.max_frequency_ppb);
        let raw = self.source.raw_nanos()?;
        self.anchor_bits = self.bits_at(raw)?;
        self.anchor_raw = raw;
        self.adjust_fixed = ppb_fixed(ppb);
        self.adjustment_ppb = ppb;
        Ok(())
    }

    fn step(&mut self, offset: Duration) -> Result<(), ClockError> {
        self.anchor_bits = self
            .anchor_bits
            .checked_add(offset.fixed_nanos().to_bits())
            .ok_or(ClockError::TimeOutOfRange {
                what: "virtual clock step",
            })?;
        Ok(())
    }

    fn max_frequency_ppb(&self) -> f64 {
        self.max_frequency_ppb
    }
}
