//! Clocks the daemon reads and steers, all behind [`statime::clock::Clock`]
//! (ARCHITECTURE.md principle 6):
//!
//! - [`SystemClock`]: CLOCK_REALTIME via `clock_adjtime`, reporting TAI
//!   (CLOCK_REALTIME + the TAI - UTC offset); with [`ObserveOnly`] it reads
//!   and records but never adjusts.
//! - [`PhcClock`]: a PTP hardware clock, `/dev/ptpN`, found for an interface
//!   with [`phc_for_interface`]; [`PhcSysOffset`] measures it against the
//!   system clock (phc2sys's job).
//! - [`VirtualClock`]: a software clock over CLOCK_MONOTONIC_RAW with an
//!   injected offset and frequency error, for tests and labs; it never
//!   touches a real clock.
//!
//! Every failure is a [`ClockError`] whose message is one line with the fix.
//!
//! `unsafe` code lives in `sys.rs` (clock system calls) and `phc.rs`
//! (device open, ioctls); everything else here is safe.

mod error;
mod phc;
mod sys;
mod sysoff;
mod system;
mod tai;
mod timex;
mod virtual_clock;

pub use error::ClockError;
pub use phc::{PhcClock, PhcDevice, fd_to_clockid, phc_for_interface, phc_path};
pub use sys::{
    ClockOps, LibcClockOps, clock_adjtime, clock_gettime, monotonic_raw_nanos, query_adjtime,
    realtime_nanos, realtime_now, to_libc_timex,
};
pub use sysoff::{
    PhcCaps, PhcIoctl, PhcSysOffset, PreciseSample, SysOffset, SysOffsetMethod, SysOffsetSample,
    best_sample, is_unsupported, precise_offset, ptp_clock_time_nanos, samples_from_basic,
    samples_from_extended,
};
pub use system::{
    NOMINAL_TICK_US, OBSERVE_ONLY_HISTORY, ObserveOnly, RecordedAdjustment, SystemClock,
};
pub use tai::{
    DEFAULT_UTC_OFFSET, UtcOffset, duration_from_nanos, effective_utc_offset, tai_to_utc,
    time_from_nanos, time_from_timespec, time_to_timespec, timespec_nanos, utc_to_tai,
};
pub use timex::{
    SCALED_PPM_PER_PPB, SYSTEM_MAX_FREQUENCY_PPB, Timex, TimexState, leap_status,
    ppb_to_scaled_ppm, round_to_nanos, scaled_ppm_to_ppb, split_step_nanos, split_tick,
};
pub use virtual_clock::{
    ManualTimeSource, MonotonicRaw, RawTimeSource, VirtualClock, VirtualClockConfig,
};
