//! Measuring a PHC against CLOCK_REALTIME, the basis of phc2sys-like
//! synchronisation (PHC -> system clock, and system clock -> PHC when we are
//! grandmaster).
//!
//! Three kernel interfaces exist (Linux `ptp_clock.h`), best first:
//! - `PTP_SYS_OFFSET_PRECISE`: a hardware cross-timestamp (PTM and the
//!   like): one simultaneous `{device, realtime, monoraw}` triple, no window.
//! - `PTP_SYS_OFFSET_EXTENDED`: `n` samples of `{sys, phc, sys}` where the
//!   driver brackets just the PHC register read.
//! - `PTP_SYS_OFFSET`: `2n + 1` alternating readings `sys, phc, sys, phc,
//!   ..., sys`, bracketing the whole driver call.
//!
//! [`PhcSysOffset`] tries them in that order (as phc2sys does), remembers
//! what works, and from a batch of samples keeps the one with the shortest
//! system window: `offset = phc - (sys_before + sys_after) / 2`,
//! `delay = sys_after - sys_before`.
//!
//! The ioctls sit behind [`PhcIoctl`] so the selection logic can be tested
//! with canned data; `super::phc::PhcDevice` is the real implementation.

use std::io;

use fixed::types::I96F32;
use statime::time::{Duration, Time};

use super::error::ClockError;
use super::tai::{NS_PER_S, time_from_nanos};

/// `struct ptp_clock_time` in nanoseconds (`sec * 1e9 + nsec`).
#[must_use]
pub fn ptp_clock_time_nanos(t: &libc::ptp_clock_time) -> i128 {
    i128::from(t.sec) * NS_PER_S + i128::from(t.nsec)
}

/// One bracketed reading: system clock, PHC, system clock (nanoseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysOffsetSample {
    /// CLOCK_REALTIME before the PHC read.
    pub sys_before: i128,
    /// The PHC.
    pub phc: i128,
    /// CLOCK_REALTIME after the PHC read.
    pub sys_after: i128,
}

impl SysOffsetSample {
    /// The width of the system window, ns.
    #[must_use]
    pub fn window(&self) -> i128 {
        self.sys_after - self.sys_before
    }
}

/// A hardware cross-timestamp (nanoseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreciseSample {
    /// The PHC.
    pub device: i128,
    /// CLOCK_REALTIME at the same instant.
    pub sys_realtime: i128,
    /// CLOCK_MONOTONIC_RAW at the same instant.
    pub sys_monoraw: i128,
}

impl From<&libc::ptp_sys_offset_precise> for PreciseSample {
    fn from(p: &libc::ptp_sys_offset_precise) -> Self {
        Self {
            device: ptp_clock_time_nanos(&p.device),
            sys_realtime: ptp_clock_time_nanos(&p.sys_realtime),
            sys_monoraw: ptp_clock_time_nanos(&p.sys_monoraw),
        }
    }
}

/// The samples of a `PTP_SYS_OFFSET_EXTENDED` answer (`n_samples` of them,
/// at most 25).
#[must_use]
pub fn samples_from_extended(x: &libc::ptp_sys_offset_extended) -> Vec<SysOffsetSample> {
    let n = usize::try_from(x.n_samples).unwrap_or(0).min(x.ts.len());
    x.ts[..n]
        .iter()
        .map(|[before, phc, after]| SysOffsetSample {
            sys_before: ptp_clock_time_nanos(before),
            phc: ptp_clock_time_nanos(phc),
            sys_after: ptp_clock_time_nanos(after),
        })
        .collect()
}

/// The samples of a `PTP_SYS_OFFSET` answer: `ts[2i], ts[2i+1], ts[2i+2]`
/// are system, PHC, system for sample `i` (consecutive samples share a
/// system reading).
#[must_use]
pub fn samples_from_basic(x: &libc::ptp_sys_offset) -> Vec<SysOffsetSample> {
    let n = usize::try_from(x.n_samples)
        .unwrap_or(0)
        .min((x.ts.len() - 1) / 2);
    (0..n)
        .map(|i| SysOffsetSample {
            sys_before: ptp_clock_time_nanos(&x.ts[2 * i]),
            phc: ptp_clock_time_nanos(&x.ts[2 * i + 1]),
            sys_after: ptp_clock_time_nanos(&x.ts[2 * i + 2]),
        })
        .collect()
}

/// The capabilities of a PHC (`PTP_CLOCK_GETCAPS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhcCaps {
    /// The largest frequency offset, ppb.
    pub max_adj_ppb: i32,
    /// Programmable alarms.
    pub n_alarm: i32,
    /// External timestamp channels.
    pub n_ext_ts: i32,
    /// Periodic output channels.
    pub n_per_out: i32,
    /// Whether the clock can produce kernel PPS events.
    pub pps: bool,
    /// Programmable pins.
    pub n_pins: i32,
    /// Whether `PTP_SYS_OFFSET_PRECISE` is supported.
    pub cross_timestamping: bool,
    /// Whether phase adjustment (`ADJ_OFFSET`) is supported.
    pub adjust_phase: bool,
    /// The largest phase adjustment, ns (0 when unknown).
    pub max_phase_adj_ns: i32,
}

impl From<&libc::ptp_clock_caps> for PhcCaps {
    fn from(c: &libc::ptp_clock_caps) -> Self {
        Self {
            max_adj_ppb: c.max_adj,
            n_alarm: c.n_alarm,
            n_ext_ts: c.n_ext_ts,
            n_per_out: c.n_per_out,
            pps: c.pps != 0,
            n_pins: c.n_pins,
            cross_timestamping: c.cross_timestamping != 0,
            adjust_phase: c.adjust_phase != 0,
            max_phase_adj_ns: c.max_phase_adj,
        }
    }
}

/// The PHC ioctls, so tests can substitute canned answers.
pub trait PhcIoctl {
    /// The dynamic clock id for `clock_gettime`/`clock_adjtime`.
    fn clock_id(&self) -> libc::clockid_t;

    /// The device, for messages (e.g. `/dev/ptp0`).
    fn name(&self) -> &str;

    /// `PTP_CLOCK_GETCAPS`.
    ///
    /// # Errors
    /// The operating system's error.
    fn caps(&self) -> io::Result<PhcCaps>;

    /// `PTP_SYS_OFFSET_PRECISE`.
    ///
    /// # Errors
    /// EOPNOTSUPP when the driver has no cross-timestamping.
    fn sys_offset_precise(&self) -> io::Result<PreciseSample>;

    /// `PTP_SYS_OFFSET_EXTENDED` with `n_samples` (1..=25) against
    /// CLOCK_REALTIME.
    ///
    /// # Errors
    /// EOPNOTSUPP when the driver lacks `gettimex64`; ENOTTY on old kernels.
    fn sys_offset_extended(&self, n_samples: u32) -> io::Result<Vec<SysOffsetSample>>;

    /// `PTP_SYS_OFFSET` with `n_samples` (1..=25).
    ///
    /// # Errors
    /// The operating system's error.
    fn sys_offset(&self, n_samples: u32) -> io::Result<Vec<SysOffsetSample>>;
}

/// Which interface a measurement used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SysOffsetMethod {
    /// `PTP_SYS_OFFSET_PRECISE`.
    Precise,
    /// `PTP_SYS_OFFSET_EXTENDED`.
    Extended,
    /// `PTP_SYS_OFFSET`.
    Basic,
}

impl SysOffsetMethod {
    const ORDER: [Self; 3] = [Self::Precise, Self::Extended, Self::Basic];

    fn index(self) -> usize {
        match self {
            Self::Precise => 0,
            Self::Extended => 1,
            Self::Basic => 2,
        }
    }
}

/// One PHC vs CLOCK_REALTIME measurement.
///
/// The PHC usually keeps TAI and CLOCK_REALTIME UTC, so `offset` includes
/// the TAI - UTC offset; see [`SysOffset::offset_tai`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SysOffset {
    /// The interface used.
    pub method: SysOffsetMethod,
    /// PHC minus CLOCK_REALTIME at the same instant (positive: the PHC
    /// reads later).
    pub offset: Duration,
    /// The system window of the chosen sample (0 for a cross-timestamp): an
    /// upper bound on the measurement's uncertainty.
    pub delay: Duration,
    /// CLOCK_REALTIME (UTC, ns since 1970) at the instant of the
    /// measurement (the window's midpoint).
    pub system_nanos: i128,
}

impl SysOffset {
    /// PHC minus (CLOCK_REALTIME + `utc_offset` s): the offset of a TAI
    /// PHC from a UTC system clock on the same timescale. Zero when the two
    /// are in step.
    #[must_use]
    pub fn offset_tai(&self, utc_offset: i16) -> Duration {
        self.offset - Duration::from_secs(i64::from(utc_offset))
    }

    /// The system time of the measurement, UTC.
    #[must_use]
    pub fn system_time(&self) -> Option<Time> {
        time_from_nanos(self.system_nanos)
    }
}

/// Whether an ioctl error means "this interface is not available here"
/// (so the next one should be tried) rather than a real failure.
#[must_use]
pub fn is_unsupported(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::ENOTTY | libc::EINVAL | libc::ENOSYS)
    )
}

/// The sample with the shortest non-negative system window, as a
/// measurement; `None` when there is none (no samples, or every window
/// negative because CLOCK_REALTIME was stepped during the call).
#[must_use]
pub fn best_sample(samples: &[SysOffsetSample], method: SysOffsetMethod) -> Option<SysOffset> {
    let best = samples
        .iter()
        .filter(|s| s.window() >= 0)
        .min_by_key(|s| s.window())?;
    // offset = phc - (before + after) / 2, exactly, in units of 2^-32 ns.
    let twice = 2 * best.phc - best.sys_before - best.sys_after;
    let offset = twice.checked_mul(1 << 31)?;
    let delay = best.window().checked_mul(1 << 32)?;
    Some(SysOffset {
        method,
        offset: Duration::from_fixed_nanos(I96F32::from_bits(offset)),
        delay: Duration::from_fixed_nanos(I96F32::from_bits(delay)),
        system_nanos: best.sys_before + best.window() / 2,
    })
}

/// A cross-timestamp as a measurement.
#[must_use]
pub fn precise_offset(sample: &PreciseSample) -> Option<SysOffset> {
    let offset = (sample.device - sample.sys_realtime).checked_mul(1 << 32)?;
    Some(SysOffset {
        method: SysOffsetMethod::Precise,
        offset: Duration::from_fixed_nanos(I96F32::from_bits(offset)),
        delay: Duration::ZERO,
        system_nanos: sample.sys_realtime,
    })
}

/// Measures a PHC against CLOCK_REALTIME with the best interface it
/// supports; see the module documentation.
#[derive(Clone, Debug)]
pub struct PhcSysOffset {
    n_samples: u32,
    method: Option<SysOffsetMethod>,
}

impl Default for PhcSysOffset {
    fn default() -> Self {
        Self::new(5)
    }
}

impl PhcSysOffset {
    /// Takes `n_samples` (clamped to 1..=25) samples per measurement, as
    /// phc2sys's `-N` option.
    #[must_use]
    pub fn new(n_samples: u32) -> Self {
        Self {
            n_samples: n_samples.clamp(1, libc::PTP_MAX_SAMPLES),
            method: None,
        }
    }

    /// Skips the probe and starts with `method` (still falling back if it
    /// turns out to be unsupported).
    #[must_use]
    pub fn starting_with(mut self, method: SysOffsetMethod) -> Self {
        self.method = Some(method);
        self
    }

    /// The interface that worked last, if any.
    #[must_use]
    pub fn method(&self) -> Option<SysOffsetMethod> {
        self.method
    }

    /// Samples per measurement.
    #[must_use]
    pub fn n_samples(&self) -> u32 {
        self.n_samples
    }

    /// Measures `device` against CLOCK_REALTIME: the interface that worked
    /// last, else PRECISE, EXTENDED, then basic `PTP_SYS_OFFSET`.
    ///
    /// # Errors
    /// [`ClockError::Unsupported`] when no interface works; the operating
    /// system's error when one fails for another reason (that interface is
    /// then kept for the next attempt).
    pub fn measure<D: PhcIoctl + ?Sized>(&mut self, device: &D) -> Result<SysOffset, ClockError> {
        let start = self.method.map_or(0, SysOffsetMethod::index);
        for method in &SysOffsetMethod::ORDER[start..] {
            let result = match method {
                SysOffsetMethod::Precise => device.sys_offset_precise().map(|s| precise_offset(&s)),
                SysOffsetMethod::Extended => device
                    .sys_offset_extended(self.n_samples)
                    .map(|s| best_sample(&s, *method)),
                SysOffsetMethod::Basic => device
                    .sys_offset(self.n_samples)
                    .map(|s| best_sample(&s, *method)),
            };
            match result {
                Ok(Some(measurement)) => {
                    self.method = Some(*method);
                    return Ok(measurement);
                }
                Ok(None) => {
                    // The interface works but gave no usable sample (e.g.
                    // the system clock stepped mid-call): try again later.
                    self.method = Some(*method);
                    return Err(ClockError::NoUsableSample {
                        clock: device.name().to_owned(),
                    });
                }
                Err(e) if is_unsupported(&e) => {}
                Err(e) => {
                    self.method = Some(*method);
                    return Err(ClockError::from_io(
                        "measure the system-clock offset of",
                        device.name(),
                        &e,
                    ));
                }
            }
        }
        self.method = None;
        Err(ClockError::Unsupported {
            operation: "measure the system-clock offset of",
            clock: device.name().to_owned(),
        })
    }
}
