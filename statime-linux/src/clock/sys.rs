//! The clock system calls, through libc (ARCHITECTURE.md principle 4: no
//! raw `syscall()`, so clknetsim's LD_PRELOAD sees every call).
//!
//! [`ClockOps`] is the seam: [`LibcClockOps`] performs the calls, tests and
//! [`super::ObserveOnly`] stand in for it.
#![allow(unsafe_code)] // clock_gettime and clock_adjtime via libc; each block states why it is sound.

use std::io;

use statime::time::Time;

use super::error::ClockError;
use super::tai::{time_from_timespec, timespec_nanos};
use super::timex::{Timex, TimexState};

/// `clock_gettime` and `clock_adjtime` on a clock id.
pub trait ClockOps {
    /// Reads `clock` as `(seconds, nanoseconds)`.
    ///
    /// # Errors
    /// The operating system's error.
    fn gettime(&self, clock: libc::clockid_t) -> io::Result<(i64, i64)>;

    /// Applies `request` to `clock` (a read-only query when its `modes` is
    /// 0) and returns the kernel's state after it.
    ///
    /// # Errors
    /// The operating system's error.
    fn adjtime(&mut self, clock: libc::clockid_t, request: &Timex) -> io::Result<TimexState>;
}

/// The real system calls.
#[derive(Clone, Copy, Debug, Default)]
pub struct LibcClockOps;

impl ClockOps for LibcClockOps {
    fn gettime(&self, clock: libc::clockid_t) -> io::Result<(i64, i64)> {
        clock_gettime(clock)
    }

    fn adjtime(&mut self, clock: libc::clockid_t, request: &Timex) -> io::Result<TimexState> {
        clock_adjtime(clock, request)
    }
}

/// `clock_gettime(clock)` as `(seconds, nanoseconds)`.
///
/// # Errors
/// EINVAL for an unknown clock id, ENODEV/EBADF for a closed PHC.
pub fn clock_gettime(clock: libc::clockid_t) -> io::Result<(i64, i64)> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec that outlives the call; the
    // kernel only writes into it.
    let rc = unsafe { libc::clock_gettime(clock, &raw mut ts) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((ts.tv_sec, ts.tv_nsec))
}

/// `clock_adjtime(clock, request)`.
///
/// With `request.modes == 0` this only reads. **Any other request changes
/// the clock**: never call it on CLOCK_REALTIME from tests.
///
/// # Errors
/// EPERM without CAP_SYS_TIME, EINVAL for bad values, ERANGE for a PHC
/// frequency beyond `max_adj`, EOPNOTSUPP when the driver lacks the feature.
pub fn clock_adjtime(clock: libc::clockid_t, request: &Timex) -> io::Result<TimexState> {
    let mut tx = to_libc_timex(request);
    // SAFETY: `tx` is a fully initialised timex owned by this frame; the
    // kernel reads and writes only within it.
    let rc = unsafe { libc::clock_adjtime(clock, &raw mut tx) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(TimexState {
        clock_state: rc,
        status: tx.status,
        freq: tx.freq,
        tai: tx.tai,
        tick: tx.tick,
        maxerror: tx.maxerror,
        esterror: tx.esterror,
    })
}

/// A read-only `clock_adjtime(clock, modes = 0)`: needs no privilege.
///
/// # Errors
/// As [`clock_adjtime`].
pub fn query_adjtime(clock: libc::clockid_t) -> io::Result<TimexState> {
    clock_adjtime(clock, &Timex::query())
}

/// A `libc::timex` carrying `request`, every other field zero.
#[must_use]
pub fn to_libc_timex(request: &Timex) -> libc::timex {
    // SAFETY: `timex` is a plain C struct of integers (and, on some targets,
    // private padding); all-zero bytes are a valid value of every field.
    let mut tx: libc::timex = unsafe { std::mem::zeroed() };
    tx.modes = request.modes;
    tx.freq = request.freq;
    tx.status = request.status;
    tx.constant = request.constant;
    tx.time.tv_sec = request.time_sec;
    tx.time.tv_usec = request.time_usec;
    tx.tick = request.tick;
    tx
}

/// CLOCK_REALTIME (UTC) now.
///
/// # Errors
/// When the clock cannot be read or is before 1970.
pub fn realtime_now() -> Result<Time, ClockError> {
    let (s, ns) = clock_gettime(libc::CLOCK_REALTIME)
        .map_err(|e| ClockError::from_io("read", "CLOCK_REALTIME", &e))?;
    time_from_timespec(s, ns).ok_or(ClockError::TimeOutOfRange {
        what: "CLOCK_REALTIME",
    })
}

/// CLOCK_MONOTONIC_RAW in nanoseconds.
///
/// # Errors
/// When the clock cannot be read.
pub fn monotonic_raw_nanos() -> Result<i128, ClockError> {
    let (s, ns) = clock_gettime(libc::CLOCK_MONOTONIC_RAW)
        .map_err(|e| ClockError::from_io("read", "CLOCK_MONOTONIC_RAW", &e))?;
    Ok(timespec_nanos(s, ns))
}

/// CLOCK_REALTIME in nanoseconds since 1970 (UTC).
///
/// # Errors
/// When the clock cannot be read.
pub fn realtime_nanos() -> Result<i128, ClockError> {
    let (s, ns) = clock_gettime(libc::CLOCK_REALTIME)
        .map_err(|e| ClockError::from_io("read", "CLOCK_REALTIME", &e))?;
    Ok(timespec_nanos(s, ns))
}
