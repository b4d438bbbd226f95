//! The Linux system clock (CLOCK_REALTIME), steered with `clock_adjtime`,
//! and the observe-only stand-in that records instead of adjusting.
//!
//! CLOCK_REALTIME keeps UTC; PTP time is TAI. [`SystemClock::now`] reads
//! CLOCK_REALTIME and adds the TAI - UTC offset itself (no CLOCK_TAI, see
//! ARCHITECTURE.md principle 4), and [`Clock::set_properties`] keeps the
//! kernel's TAI offset and leap-second state in step with the grandmaster.

use std::collections::VecDeque;
use std::io;

use statime::clock::{Clock, ClockProperties, LeapIndicator};
use statime::time::{Duration, Time};

use super::error::ClockError;
use super::sys::{ClockOps, LibcClockOps};
use super::tai::{UtcOffset, time_from_timespec};
use super::timex::{SYSTEM_MAX_FREQUENCY_PPB, Timex, TimexState, leap_status, split_tick};

/// `1e6 / USER_HZ` with `USER_HZ` = 100, the value on every Linux
/// architecture: microseconds per tick.
pub const NOMINAL_TICK_US: i64 = 10_000;

/// One adjustment an [`ObserveOnly`] clock would have made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordedAdjustment {
    /// The clock it was meant for.
    pub clock: libc::clockid_t,
    /// The request that was not sent.
    pub request: Timex,
}

/// How many adjustments an [`ObserveOnly`] keeps (oldest dropped first).
pub const OBSERVE_ONLY_HISTORY: usize = 4096;

/// A [`ClockOps`] that reads through to `inner` but never adjusts: every
/// request that would change a clock is recorded instead, and answered with
/// a read-only query. Used for tests, labs and the `observe-only` mode.
#[derive(Debug, Default)]
pub struct ObserveOnly<O: ClockOps = LibcClockOps> {
    inner: O,
    recorded: VecDeque<RecordedAdjustment>,
    total: u64,
    frequency_ppb: Option<f64>,
    stepped_ns: i128,
}

impl<O: ClockOps> ObserveOnly<O> {
    /// Wraps `inner` (which will only ever see read-only calls).
    pub fn new(inner: O) -> Self {
        Self {
            inner,
            recorded: VecDeque::new(),
            total: 0,
            frequency_ppb: None,
            stepped_ns: 0,
        }
    }

    /// The most recent recorded adjustments, oldest first.
    pub fn recorded(&self) -> impl ExactSizeIterator<Item = &RecordedAdjustment> {
        self.recorded.iter()
    }

    /// How many adjustments were suppressed in total.
    #[must_use]
    pub fn total_recorded(&self) -> u64 {
        self.total
    }

    /// The frequency offset last requested, ppb.
    #[must_use]
    pub fn requested_frequency_ppb(&self) -> Option<f64> {
        self.frequency_ppb
    }

    /// The sum of all requested steps, in nanoseconds.
    #[must_use]
    pub fn requested_steps_nanos(&self) -> i128 {
        self.stepped_ns
    }
}

impl<O: ClockOps> ClockOps for ObserveOnly<O> {
    fn gettime(&self, clock: libc::clockid_t) -> io::Result<(i64, i64)> {
        self.inner.gettime(clock)
    }

    fn adjtime(&mut self, clock: libc::clockid_t, request: &Timex) -> io::Result<TimexState> {
        if !request.is_read_only() {
            if request.modes & libc::ADJ_FREQUENCY != 0 {
                let mut ppb = super::timex::scaled_ppm_to_ppb(request.freq);
                if request.modes & libc::ADJ_TICK != 0 {
                    #[allow(clippy::cast_precision_loss)] // tick deltas are tiny
                    let tick_ppb =
                        (request.tick - NOMINAL_TICK_US) as f64 * 1e9 / NOMINAL_TICK_US as f64;
                    ppb += tick_ppb;
                }
                self.frequency_ppb = Some(ppb);
            }
            if request.modes & libc::ADJ_SETOFFSET != 0 {
                let unit: i128 = if request.modes & libc::ADJ_NANO != 0 {
                    1
                } else {
                    1000
                };
                self.stepped_ns += i128::from(request.time_sec) * 1_000_000_000
                    + i128::from(request.time_usec) * unit;
            }
            if self.recorded.len() == OBSERVE_ONLY_HISTORY {
                self.recorded.pop_front();
            }
            self.recorded.push_back(RecordedAdjustment {
                clock,
                request: *request,
            });
            self.total += 1;
        }
        self.inner.adjtime(clock, &Timex::query())
    }
}

/// CLOCK_REALTIME as a PTP clock.
///
/// Steering needs CAP_SYS_TIME. Build it with [`SystemClock::observe_only`]
/// to read the clock and record, but never make, adjustments.
#[derive(Debug)]
pub struct SystemClock<O: ClockOps = LibcClockOps> {
    ops: O,
    utc_offset: UtcOffset,
    use_tick: bool,
    kernel_tai: Option<i16>,
    kernel_leap: Option<LeapIndicator>,
}

impl SystemClock<LibcClockOps> {
    /// The real, steerable system clock, assuming TAI - UTC = `utc_offset`
    /// until a grandmaster says otherwise.
    #[must_use]
    pub fn new(utc_offset: UtcOffset) -> Self {
        Self::with_ops(LibcClockOps, utc_offset)
    }
}

impl SystemClock<ObserveOnly<LibcClockOps>> {
    /// The system clock in observe-only mode: reads CLOCK_REALTIME, records
    /// every adjustment, makes none.
    #[must_use]
    pub fn observe_only(utc_offset: UtcOffset) -> Self {
        Self::with_ops(ObserveOnly::new(LibcClockOps), utc_offset)
    }
}

impl<O: ClockOps> SystemClock<O> {
    /// The system clock over the given system-call layer.
    pub fn with_ops(ops: O, utc_offset: UtcOffset) -> Self {
        Self {
            ops,
            utc_offset,
            use_tick: false,
            kernel_tai: None,
            kernel_leap: None,
        }
    }

    /// Also move the tick length (`ADJ_TICK`), as ptp4l does, so frequency
    /// offsets up to +-10 % are possible instead of +-500 ppm.
    #[must_use]
    pub fn with_tick_adjustment(mut self, enabled: bool) -> Self {
        self.use_tick = enabled;
        self
    }

    /// The system-call layer (for an [`ObserveOnly`], its records).
    pub fn ops(&self) -> &O {
        &self.ops
    }

    /// The TAI - UTC offset in use.
    #[must_use]
    pub fn utc_offset(&self) -> UtcOffset {
        self.utc_offset
    }

    /// Reads the kernel's clock state without changing it.
    ///
    /// # Errors
    /// When the query fails.
    pub fn query(&mut self) -> Result<TimexState, ClockError> {
        self.adjtime("query", &Timex::query())
    }

    /// CLOCK_REALTIME (UTC) now.
    ///
    /// # Errors
    /// When the clock cannot be read or is before 1970.
    pub fn now_utc(&self) -> Result<Time, ClockError> {
        let (s, ns) = self
            .ops
            .gettime(libc::CLOCK_REALTIME)
            .map_err(|e| ClockError::from_io("read", "CLOCK_REALTIME", &e))?;
        time_from_timespec(s, ns).ok_or(ClockError::TimeOutOfRange {
            what: "CLOCK_REALTIME",
        })
    }

    /// The request [`Clock::adjust_frequency`] sends for `ppb`.
    #[must_use]
    pub fn frequency_request(&self, ppb: f64) -> Timex {
        let max = Clock::max_frequency_ppb(self);
        let ppb = if ppb.is_nan() {
            0.0
        } else {
            ppb.clamp(-max, max)
        };
        if self.use_tick {
            let (tick, residual) = split_tick(ppb, NOMINAL_TICK_US);
            Timex::tick_and_frequency(tick, residual)
        } else {
            Timex::frequency(ppb)
        }
    }

    fn adjtime(
        &mut self,
        operation: &'static str,
        request: &Timex,
    ) -> Result<TimexState, ClockError> {
        self.ops
            .adjtime(libc::CLOCK_REALTIME, request)
            .map_err(|e| ClockError::from_io(operation, "CLOCK_REALTIME", &e))
    }
}

impl<O: ClockOps> Clock for SystemClock<O> {
    type Error = ClockError;

    /// CLOCK_REALTIME plus the TAI - UTC offset.
    fn now(&self) -> Result<Time, ClockError> {
        self.utc_offset
            .to_tai(self.now_utc()?)
            .ok_or(ClockError::TimeOutOfRange {
                what: "CLOCK_REALTIME + TAI offset",
            })
    }

    fn adjust_frequency(&mut self, ppb: f64) -> Result<(), ClockError> {
        let request = self.frequency_request(ppb);
        self.adjtime("adjust the frequency of", &request).map(drop)
    }

    fn step(&mut self, offset: Duration) -> Result<(), ClockError> {
        let request = Timex::step(offset).ok_or(ClockError::TimeOutOfRange {
            what: "system clock step",
        })?;
        self.adjtime("step", &request).map(drop)
    }

    fn max_frequency_ppb(&self) -> f64 {
        if self.use_tick {
            // The tick may move +-10 % (see `split_tick`).
            100_000_000.0
        } else {
            SYSTEM_MAX_FREQUENCY_PPB
        }
    }

    /// Takes the UTC offset when the grandmaster flags it valid and, on the
    /// PTP timescale, mirrors it and the announced leap second into the
    /// kernel (`ADJ_TAI`, `STA_INS`/`STA_DEL`), only when they change.
    fn set_properties(&mut self, properties: &ClockProperties) -> Result<(), ClockError> {
        self.utc_offset.update(properties);
        if !properties.ptp_timescale {
            // An ARB timescale has no defined UTC offset or leap seconds.
            return Ok(());
        }
        if properties.current_utc_offset_valid {
            let tai = properties.current_utc_offset;
            if self.kernel_tai.is_none() {
                self.kernel_tai = i16::try_from(self.query()?.tai).ok();
            }
            if self.kernel_tai != Some(tai) && tai >= 0 {
                self.adjtime("set the TAI offset of", &Timex::tai_offset(tai))?;
                self.kernel_tai = Some(tai);
            }
        }
        if self.kernel_leap != Some(properties.leap_indicator) {
            let state = self.query()?;
            if state.leap() != properties.leap_indicator {
                let status = leap_status(state.status, properties.leap_indicator);
                self.adjtime("set the leap-second state of", &Timex::status(status))?;
            }
            self.kernel_leap = Some(properties.leap_indicator);
        }
        Ok(())
    }
}
