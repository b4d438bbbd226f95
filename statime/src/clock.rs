//! The steering interface of a local clock.
//!
//! IEEE 1588-2019 leaves the adjustment of the local clock to the
//! implementation (clause 11.1: "the method of adjusting the local clock is
//! implementation-specific"). This crate decides *how much* to adjust (see
//! [`crate::servo`]); the platform decides *how*: the Linux crate implements
//! [`Clock`] for the system clock, for a PTP hardware clock (PHC) and for a
//! virtual clock, and tests implement it for simulated clocks.
//!
//! # Sans-IO
//!
//! Nothing in this crate calls [`Clock::now`] on its own: the core only
//! computes with times it is handed. `now` is in the trait because the
//! platform side reads the very clock it steers (to produce the `now` of
//! every input, or to timestamp in software), and one trait per clock keeps
//! both operations together.
//!
//! # Sign conventions
//!
//! - [`Clock::adjust_frequency`]: **absolute** frequency offset in parts per
//!   billion relative to the clock's nominal rate. Positive makes the clock
//!   run **faster** (the same sign as `clock_adjtime(ADJ_FREQUENCY)` on Linux).
//!   Calling it twice with the same value does not compound.
//! - [`Clock::step`]: the duration **added** to the clock's current time:
//!   a clock 3 us ahead of its master is corrected by `step(-3 us)`.

use crate::time::{Duration, Time};

/// The leap second announced for the end of the current UTC day
/// (IEEE 1588-2019 clause 8.2.4.4 and 8.2.4.5, flags leap61 and leap59).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LeapIndicator {
    /// No leap second is announced.
    #[default]
    NoLeap,
    /// The last minute of the current UTC day has 61 seconds (leap61).
    Leap61,
    /// The last minute of the current UTC day has 59 seconds (leap59).
    Leap59,
}

/// What a clock is told about the timescale it follows: the parts of the
/// timePropertiesDS (IEEE 1588-2019 clause 8.2.4) a platform clock can act on
/// (for instance the kernel's TAI offset and leap-second state).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClockProperties {
    /// currentUtcOffset: TAI - UTC in seconds (clause 8.2.4.2).
    pub current_utc_offset: i16,
    /// currentUtcOffsetValid (clause 8.2.4.3).
    pub current_utc_offset_valid: bool,
    /// The announced leap second, if any.
    pub leap_indicator: LeapIndicator,
    /// ptpTimescale: the grandmaster's timescale is PTP (TAI), not ARB
    /// (clause 8.2.4.8).
    pub ptp_timescale: bool,
    /// timeTraceable (clause 8.2.4.6).
    pub time_traceable: bool,
    /// frequencyTraceable (clause 8.2.4.7).
    pub frequency_traceable: bool,
}

/// A local clock that the servo can steer.
///
/// Implemented by the platform (system clock, PHC, virtual clock) and by
/// test harnesses. Apply a servo's decision with
/// [`crate::servo::ServoAction::apply`].
pub trait Clock {
    /// Why an operation on the clock failed (for example the PHC device went
    /// away, or the process lacks the capability to adjust the clock).
    type Error: core::fmt::Debug;

    /// The current time of this clock on the PTP timescale.
    ///
    /// For the platform side only: the core never calls it (see the module
    /// documentation).
    ///
    /// # Errors
    /// When the clock cannot be read.
    fn now(&self) -> Result<Time, Self::Error>;

    /// Sets the clock's frequency offset to `ppb` parts per billion of its
    /// nominal rate (absolute, not incremental). Positive runs the clock
    /// faster. Callers keep `|ppb|` within [`Clock::max_frequency_ppb`].
    ///
    /// # Errors
    /// When the adjustment is refused.
    fn adjust_frequency(&mut self, ppb: f64) -> Result<(), Self::Error>;

    /// Adds `offset` to the clock's time at once (a phase step; negative moves
    /// it back). The frequency is left unchanged.
    ///
    /// # Errors
    /// When the step is refused.
    fn step(&mut self, offset: Duration) -> Result<(), Self::Error>;

    /// The largest frequency offset, in ppb, the clock accepts (a PHC's
    /// `max_adj`; 500 000 for the Linux system clock without tick changes).
    fn max_frequency_ppb(&self) -> f64;

    /// Informs the clock of the timescale properties of its time source
    /// (UTC offset, leap seconds). The default does nothing, which suits
    /// clocks that keep TAI and have no leap-second machinery.
    ///
    /// # Errors
    /// When the platform refuses the update.
    fn set_properties(&mut self, properties: &ClockProperties) -> Result<(), Self::Error> {
        let _ = properties;
        Ok(())
    }
}
