//! PTP hardware clocks: `/dev/ptpN`, steered with `clock_adjtime` on the
//! dynamic clock id of the open device, plus discovery of an interface's
//! PHC with `ETHTOOL_GET_TS_INFO`.
//!
//! Facts used (Linux `ptp_clock.h`, `ethtool.h`, `posix-timers.h`):
//! - open the device read-write; `clockid = ((!fd) << 3) | 3` (CLOCKFD).
//! - `PTP_CLOCK_GETCAPS` gives `max_adj` in ppb; `clock_adjtime` answers
//!   ERANGE beyond it, so we clamp first.
//! - a PHC usually keeps TAI (linuxptp and statime put TAI there).
#![allow(unsafe_code)] // open and ioctl via libc; each block states why it is sound.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::net::NetError;

use statime::clock::Clock;
use statime::time::{Duration, Time};

use super::error::ClockError;
use super::sys::{ClockOps, LibcClockOps};
use super::sysoff::{
    PhcCaps, PhcIoctl, PreciseSample, SysOffsetSample, samples_from_basic, samples_from_extended,
};
use super::tai::time_from_timespec;
use super::timex::Timex;

/// `CLOCKFD` from the kernel's posix-timers: the low bits of a dynamic
/// clock id made from a file descriptor.
const CLOCKFD: libc::clockid_t = 3;

/// The dynamic clock id of an open PHC: `((!fd) << 3) | 3`.
#[must_use]
pub fn fd_to_clockid(fd: RawFd) -> libc::clockid_t {
    ((!fd).wrapping_shl(3)) | CLOCKFD
}

/// The device path of PHC number `index`.
#[must_use]
pub fn phc_path(index: u32) -> String {
    format!("/dev/ptp{index}")
}

/// An open `/dev/ptpN`: the real [`PhcIoctl`].
#[derive(Debug)]
pub struct PhcDevice {
    fd: OwnedFd,
    path: String,
}

impl PhcDevice {
    /// Opens PHC number `index`. `interface` only improves the error
    /// message when the device is missing.
    ///
    /// # Errors
    /// [`ClockError::PhcNotFound`] when the device does not exist,
    /// [`ClockError::DeviceAccess`] without permission.
    pub fn open(index: u32, interface: Option<&str>) -> Result<Self, ClockError> {
        Self::open_path(&phc_path(index), interface)
    }

    /// Opens the PHC at `path` (e.g. `/dev/ptp0`).
    ///
    /// # Errors
    /// As [`PhcDevice::open`].
    pub fn open_path(path: &str, interface: Option<&str>) -> Result<Self, ClockError> {
        let not_found = || ClockError::PhcNotFound {
            path: path.to_owned(),
            interface: interface.map(str::to_owned),
        };
        let c_path = CString::new(path).map_err(|_| not_found())?;
        // SAFETY: `c_path` is a NUL-terminated string that outlives the call;
        // open has no other memory effects.
        let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if fd < 0 {
            let err = io::Error::last_os_error();
            return Err(match err.raw_os_error() {
                Some(libc::ENOENT | libc::ENODEV | libc::ENXIO) => not_found(),
                Some(libc::EACCES | libc::EPERM) => ClockError::DeviceAccess {
                    path: path.to_owned(),
                },
                _ => ClockError::from_io("open", path, &err),
            });
        }
        // SAFETY: `fd` was just returned by a successful open and is owned by
        // nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self {
            fd,
            path: path.to_owned(),
        })
    }

    /// `ioctl(fd, request, arg)` on the device.
    fn ioctl<T>(&self, request: libc::Ioctl, arg: &mut T) -> io::Result<()> {
        // SAFETY: every caller passes the `T` the request number encodes
        // (the libc constants are built from the struct sizes), `arg` is a
        // valid exclusive reference for the duration of the call, and the fd
        // is open.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), request, std::ptr::from_mut(arg)) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl PhcIoctl for PhcDevice {
    fn clock_id(&self) -> libc::clockid_t {
        fd_to_clockid(self.fd.as_raw_fd())
    }

    fn name(&self) -> &str {
        &self.path
    }

    fn caps(&self) -> io::Result<PhcCaps> {
        // SAFETY: all-zero bytes are a valid `ptp_clock_caps` (integers only).
        let mut caps: libc::ptp_clock_caps = unsafe { std::mem::zeroed() };
        self.ioctl(libc::PTP_CLOCK_GETCAPS, &mut caps)?;
        Ok(PhcCaps::from(&caps))
    }

    fn sys_offset_precise(&self) -> io::Result<PreciseSample> {
        // SAFETY: all-zero bytes are a valid `ptp_sys_offset_precise`.
        let mut p: libc::ptp_sys_offset_precise = unsafe { std::mem::zeroed() };
        self.ioctl(libc::PTP_SYS_OFFSET_PRECISE, &mut p)?;
        Ok(PreciseSample::from(&p))
    }

    fn sys_offset_extended(&self, n_samples: u32) -> io::Result<Vec<SysOffsetSample>> {
        // SAFETY: all-zero bytes are a valid `ptp_sys_offset_extended`; a
        // zero clockid (rsv[0] on older kernels) selects CLOCK_REALTIME.
        let mut x: libc::ptp_sys_offset_extended = unsafe { std::mem::zeroed() };
        x.n_samples = n_samples.clamp(1, libc::PTP_MAX_SAMPLES);
        self.ioctl(libc::PTP_SYS_OFFSET_EXTENDED, &mut x)?;
        Ok(samples_from_extended(&x))
    }

    fn sys_offset(&self, n_samples: u32) -> io::Result<Vec<SysOffsetSample>> {
        // SAFETY: all-zero bytes are a valid `ptp_sys_offset`.
        let mut x: libc::ptp_sys_offset = unsafe { std::mem::zeroed() };
        x.n_samples = n_samples.clamp(1, libc::PTP_MAX_SAMPLES);
        self.ioctl(libc::PTP_SYS_OFFSET, &mut x)?;
        Ok(samples_from_basic(&x))
    }
}

/// A PTP hardware clock as a PTP [`Clock`].
///
/// Generic over the ioctl layer and the clock system calls so tests can run
/// it without hardware; [`PhcClock::open`] gives the real one.
#[derive(Debug)]
pub struct PhcClock<D: PhcIoctl = PhcDevice, O: ClockOps = LibcClockOps> {
    device: D,
    ops: O,
    caps: PhcCaps,
}

impl PhcClock<PhcDevice, LibcClockOps> {
    /// Opens `/dev/ptp{index}` and reads its capabilities.
    ///
    /// # Errors
    /// When the device is missing or inaccessible, or GETCAPS fails.
    pub fn open(index: u32) -> Result<Self, ClockError> {
        Self::from_parts(PhcDevice::open(index, None)?, LibcClockOps)
    }

    /// Opens the PHC of network interface `interface`.
    ///
    /// # Errors
    /// [`ClockError::NoPhc`] when the interface has no PHC; otherwise as
    /// [`PhcClock::open`].
    pub fn for_interface(interface: &str) -> Result<Self, ClockError> {
        let index = phc_for_interface(interface)?.ok_or_else(|| ClockError::NoPhc {
            interface: interface.to_owned(),
        })?;
        Self::from_parts(PhcDevice::open(index, Some(interface))?, LibcClockOps)
    }
}

impl<D: PhcIoctl, O: ClockOps> PhcClock<D, O> {
    /// A PHC over `device` and `ops`; reads the capabilities.
    ///
    /// # Errors
    /// When `PTP_CLOCK_GETCAPS` fails.
    pub fn from_parts(device: D, ops: O) -> Result<Self, ClockError> {
        let caps = device
            .caps()
            .map_err(|e| ClockError::from_io("read the capabilities of", device.name(), &e))?;
        Ok(Self { device, ops, caps })
    }

    /// The device (for [`super::PhcSysOffset::measure`]).
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The clock system-call layer.
    pub fn ops(&self) -> &O {
        &self.ops
    }

    /// The capabilities read at open.
    #[must_use]
    pub fn caps(&self) -> PhcCaps {
        self.caps
    }

    /// The request [`Clock::adjust_frequency`] sends for `ppb`: clamped to
    /// `max_adj`.
    #[must_use]
    pub fn frequency_request(&self, ppb: f64) -> Timex {
        let max = Clock::max_frequency_ppb(self);
        let ppb = if ppb.is_nan() {
            0.0
        } else {
            ppb.clamp(-max, max)
        };
        Timex::frequency(ppb)
    }

    fn adjtime(&mut self, operation: &'static str, request: &Timex) -> Result<(), ClockError> {
        let clock = self.device.clock_id();
        self.ops
            .adjtime(clock, request)
            .map(drop)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ERANGE) => ClockError::FrequencyOutOfRange {
                    #[allow(clippy::cast_possible_truncation)]
                    requested_ppb: super::timex::scaled_ppm_to_ppb(request.freq) as i64,
                    max_ppb: i64::from(self.caps.max_adj_ppb),
                },
                _ => ClockError::from_io(operation, self.device.name(), &e),
            })
    }
}

impl<D: PhcIoctl, O: ClockOps> Clock for PhcClock<D, O> {
    type Error = ClockError;

    /// The PHC's time, taken to be TAI.
    fn now(&self) -> Result<Time, ClockError> {
        let (s, ns) = self
            .ops
            .gettime(self.device.clock_id())
            .map_err(|e| ClockError::from_io("read", self.device.name(), &e))?;
        time_from_timespec(s, ns).ok_or(ClockError::TimeOutOfRange {
            what: "PHC reading",
        })
    }

    fn adjust_frequency(&mut self, ppb: f64) -> Result<(), ClockError> {
        let request = self.frequency_request(ppb);
        self.adjtime("adjust the frequency of", &request)
    }

    fn step(&mut self, offset: Duration) -> Result<(), ClockError> {
        let request = Timex::step(offset).ok_or(ClockError::TimeOutOfRange { what: "PHC step" })?;
        self.adjtime("step", &request)
    }

    fn max_frequency_ppb(&self) -> f64 {
        f64::from(self.caps.max_adj_ppb.max(0))
    }
}

/// The PHC index of `interface`: `Some(n)` for `/dev/ptpN`, `None` when the
/// interface has no PHC (software timestamping only, as veth and lo).
///
/// Uses the net module's `ETHTOOL_GET_TS_INFO` query
/// ([`crate::net::timestamping_info`]).
///
/// # Errors
/// [`ClockError::NoSuchInterface`] for an unknown or invalid name; the
/// operating system's error otherwise.
pub fn phc_for_interface(interface: &str) -> Result<Option<u32>, ClockError> {
    const QUERY: &str = "query the timestamping capabilities of";
    match crate::net::timestamping_info(interface) {
        Ok(info) => Ok(info.phc_index),
        Err(NetError::InterfaceNotFound { .. } | NetError::InvalidInterfaceName { .. }) => {
            Err(ClockError::NoSuchInterface {
                interface: interface.to_owned(),
            })
        }
        Err(NetError::Io { source, .. }) => match source.raw_os_error() {
            // No ethtool support at all: certainly no PHC.
            Some(libc::EOPNOTSUPP) => Ok(None),
            Some(libc::ENODEV | libc::ENXIO) => Err(ClockError::NoSuchInterface {
                interface: interface.to_owned(),
            }),
            _ => Err(ClockError::from_io(QUERY, interface, &source)),
        },
        Err(other) => Err(ClockError::Interface {
            message: other.to_string(),
        }),
    }
}
