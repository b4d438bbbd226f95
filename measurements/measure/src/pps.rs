//! PPS lab plumbing for a PTP hardware clock (`/dev/ptpN`): assign a pin
//! (`PTP_PIN_SETFUNC`), time-stamp edges on it (`PTP_EXTTS_REQUEST`, events
//! read from the device), or drive a 1 Hz output from it
//! (`PTP_PEROUT_REQUEST`), as in an i210 lab: the reference NIC
//! time-stamps the device-under-test's PPS edge on one of its SDP pins, and
//! the device under test drives its PPS out of an SDP pin.
//!
//! Facts used (Linux `include/uapi/linux/ptp_clock.h`, `ptp_chardev.c`):
//! - pin functions: 0 none, 1 EXTTS, 2 PEROUT, 3 PHYSYNC; the channel is
//!   the EXTTS or PEROUT index the pin serves;
//! - EXTTS is enabled with `PTP_ENABLE_FEATURE` and an edge flag, disabled
//!   with flags 0; each event read from the device is a 32-byte
//!   `ptp_extts_event` (time, channel, flags, reserved);
//! - PEROUT with a zero period disables the output; otherwise it starts at
//!   `start` (PHC time) and repeats every `period`;
//! - every reserved field is zero.
//!
//! The ioctls are behind [`PtpPins`], so the sequences in [`start_pps_input`]
//! and friends are tested against a fake; [`PtpPinDevice`] is the real one.
//!
//! This is the crate's only module with `unsafe` code: the ioctls, the PHC
//! read, and the SIGINT/SIGTERM flag of long captures ([`install_stop_handlers`]).
#![allow(unsafe_code)] // ioctl, clock_gettime and sigaction through libc; each block says why it is sound.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Installs SIGINT and SIGTERM handlers that only set a flag
/// ([`stop_requested`]), so a capture can flush and leave cleanly.
///
/// # Errors
/// When sigaction fails.
pub fn install_stop_handlers() -> io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        // SAFETY: `sa.sa_mask` is a valid sigset_t owned by us.
        unsafe { libc::sigemptyset(&raw mut sa.sa_mask) };
        // SAFETY: `sa` is fully initialised and the handler only stores to an
        // atomic, which is async-signal-safe.
        let rc = unsafe { libc::sigaction(sig, &raw const sa, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether SIGINT or SIGTERM arrived since [`install_stop_handlers`].
#[must_use]
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// The dynamic clock id of an open PHC: `((!fd) << 3) | 3` (CLOCKFD).
#[must_use]
pub fn fd_to_clockid(fd: std::os::fd::RawFd) -> libc::clockid_t {
    ((!fd).wrapping_shl(3)) | 3
}

/// `PTP_ENABLE_FEATURE`: enable the EXTTS channel.
pub const PTP_ENABLE_FEATURE: u32 = 1 << 0;
/// `PTP_RISING_EDGE`.
pub const PTP_RISING_EDGE: u32 = 1 << 1;
/// `PTP_FALLING_EDGE`.
pub const PTP_FALLING_EDGE: u32 = 1 << 2;
/// Size of one `struct ptp_extts_event`.
pub const EXTTS_EVENT_SIZE: usize = 32;

/// What a pin does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinFunction {
    /// Nothing.
    None,
    /// External timestamp input.
    Extts,
    /// Periodic output.
    Perout,
    /// Physical-layer sync.
    PhySync,
}

impl PinFunction {
    /// The kernel's `PTP_PF_*` value.
    #[must_use]
    pub const fn code(self) -> u32 {
        match self {
            Self::None => 0,
            Self::Extts => 1,
            Self::Perout => 2,
            Self::PhySync => 3,
        }
    }
}

/// A periodic output request (PHC time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perout {
    /// PEROUT channel.
    pub channel: u32,
    /// First edge, s.
    pub start_sec: i64,
    /// First edge, ns part.
    pub start_nsec: u32,
    /// Period, ns (0 disables the output).
    pub period_ns: u64,
}

/// One external timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExttsEvent {
    /// EXTTS channel.
    pub channel: u32,
    /// PHC time of the edge, s.
    pub sec: i64,
    /// PHC time of the edge, ns part.
    pub nsec: u32,
}

impl ExttsEvent {
    /// The edge's offset from the nearest whole second of the clock that
    /// time-stamped it, ns, in (-0.5 s, +0.5 s]: a PPS edge 120 ns late reads
    /// +120, one 80 ns early reads -80.
    #[must_use]
    pub fn offset_from_second_ns(&self) -> f64 {
        let n = f64::from(self.nsec);
        if n > 5e8 { n - 1e9 } else { n }
    }

    /// The whole second the edge belongs to (the nearest one).
    #[must_use]
    pub fn second(&self) -> i64 {
        if self.nsec > 500_000_000 {
            self.sec + 1
        } else {
            self.sec
        }
    }
}

/// Parses the events in `buf` (whole 32-byte records; a trailing partial
/// record is ignored).
#[must_use]
pub fn parse_events(buf: &[u8]) -> Vec<ExttsEvent> {
    buf.chunks_exact(EXTTS_EVENT_SIZE)
        .map(|r| {
            let mut sec = [0u8; 8];
            sec.copy_from_slice(&r[0..8]);
            let mut nsec = [0u8; 4];
            nsec.copy_from_slice(&r[8..12]);
            let mut ch = [0u8; 4];
            ch.copy_from_slice(&r[16..20]);
            ExttsEvent {
                channel: u32::from_ne_bytes(ch),
                sec: i64::from_ne_bytes(sec),
                nsec: u32::from_ne_bytes(nsec),
            }
        })
        .collect()
}

/// The pin, EXTTS and PEROUT operations of a PHC.
pub trait PtpPins {
    /// `PTP_PIN_SETFUNC`.
    ///
    /// # Errors
    /// The ioctl's error.
    fn set_pin_function(&mut self, pin: u32, function: PinFunction, channel: u32)
    -> io::Result<()>;
    /// `PTP_EXTTS_REQUEST` with these flags (0 disables).
    ///
    /// # Errors
    /// The ioctl's error.
    fn request_extts(&mut self, channel: u32, flags: u32) -> io::Result<()>;
    /// `PTP_PEROUT_REQUEST`.
    ///
    /// # Errors
    /// The ioctl's error.
    fn request_perout(&mut self, req: &Perout) -> io::Result<()>;
    /// Reads pending events into `buf` (`WouldBlock` when none).
    ///
    /// # Errors
    /// The read's error.
    fn read_events(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// The PHC's time (s, ns).
    ///
    /// # Errors
    /// The clock read's error.
    fn now(&mut self) -> io::Result<(i64, u32)>;
}

/// Enables time-stamping of rising edges on `pin` as EXTTS `channel`.
///
/// # Errors
/// The first failing ioctl, with what it was for.
pub fn start_pps_input<D: PtpPins>(dev: &mut D, pin: u32, channel: u32) -> io::Result<()> {
    dev.set_pin_function(pin, PinFunction::Extts, channel)
        .map_err(|e| {
            context(
                e,
                &format!("PTP_PIN_SETFUNC pin {pin} -> EXTTS channel {channel}"),
            )
        })?;
    dev.request_extts(channel, PTP_ENABLE_FEATURE | PTP_RISING_EDGE)
        .map_err(|e| context(e, &format!("PTP_EXTTS_REQUEST enable channel {channel}")))
}

/// Disables EXTTS `channel` and frees `pin`.
///
/// # Errors
/// The first failing ioctl.
pub fn stop_pps_input<D: PtpPins>(dev: &mut D, pin: u32, channel: u32) -> io::Result<()> {
    dev.request_extts(channel, 0)
        .map_err(|e| context(e, &format!("PTP_EXTTS_REQUEST disable channel {channel}")))?;
    dev.set_pin_function(pin, PinFunction::None, channel)
        .map_err(|e| context(e, &format!("PTP_PIN_SETFUNC pin {pin} -> none")))
}

/// Drives a 1 Hz output on `pin` from PEROUT `channel`, its edges on the
/// PHC's whole seconds, starting two seconds from now. Returns the request.
///
/// # Errors
/// The first failing call.
pub fn start_pps_output<D: PtpPins>(dev: &mut D, pin: u32, channel: u32) -> io::Result<Perout> {
    dev.set_pin_function(pin, PinFunction::Perout, channel)
        .map_err(|e| {
            context(
                e,
                &format!("PTP_PIN_SETFUNC pin {pin} -> PEROUT channel {channel}"),
            )
        })?;
    let (sec, _) = dev.now().map_err(|e| context(e, "reading the PHC"))?;
    let req = Perout {
        channel,
        start_sec: sec + 2,
        start_nsec: 0,
        period_ns: 1_000_000_000,
    };
    dev.request_perout(&req).map_err(|e| {
        context(
            e,
            &format!("PTP_PEROUT_REQUEST channel {channel}, 1 s period"),
        )
    })?;
    Ok(req)
}

/// Stops PEROUT `channel` and frees `pin`.
///
/// # Errors
/// The first failing ioctl.
pub fn stop_pps_output<D: PtpPins>(dev: &mut D, pin: u32, channel: u32) -> io::Result<()> {
    dev.request_perout(&Perout {
        channel,
        start_sec: 0,
        start_nsec: 0,
        period_ns: 0,
    })
    .map_err(|e| context(e, &format!("PTP_PEROUT_REQUEST disable channel {channel}")))?;
    dev.set_pin_function(pin, PinFunction::None, channel)
        .map_err(|e| context(e, &format!("PTP_PIN_SETFUNC pin {pin} -> none")))
}

/// Reads every pending event (none: an empty vector).
///
/// # Errors
/// Read errors other than `WouldBlock`/`Interrupted`.
pub fn read_pending<D: PtpPins>(dev: &mut D) -> io::Result<Vec<ExttsEvent>> {
    let mut out = Vec::new();
    let mut buf = [0u8; EXTTS_EVENT_SIZE * 16];
    loop {
        match dev.read_events(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => {
                out.extend(parse_events(&buf[..n]));
                if n < buf.len() {
                    return Ok(out);
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(out);
            }
            Err(e) => return Err(e),
        }
    }
}

fn context(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// An open `/dev/ptpN` for pin, EXTTS and PEROUT requests (non-blocking
/// reads).
#[derive(Debug)]
pub struct PtpPinDevice {
    file: File,
}

impl PtpPinDevice {
    /// Opens the device read-write and non-blocking.
    ///
    /// # Errors
    /// The open error, naming the path.
    pub fn open(path: &str) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| context(e, path))?;
        Ok(Self { file })
    }

    fn ioctl<T>(&self, request: libc::Ioctl, arg: &mut T) -> io::Result<()> {
        // SAFETY: the descriptor is open for the lifetime of `self`, and `arg`
        // is a valid, exclusively borrowed value of the exact struct type the
        // request encodes (callers pass the matching libc struct); the kernel
        // reads (and for _IOWR writes) only its `size_of::<T>()` bytes.
        let rc = unsafe { libc::ioctl(self.file.as_raw_fd(), request, std::ptr::from_mut(arg)) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}

fn clock_time(sec: i64, nsec: u32) -> libc::ptp_clock_time {
    libc::ptp_clock_time {
        sec,
        nsec,
        reserved: 0,
    }
}

impl PtpPins for PtpPinDevice {
    fn set_pin_function(
        &mut self,
        pin: u32,
        function: PinFunction,
        channel: u32,
    ) -> io::Result<()> {
        let mut desc = libc::ptp_pin_desc {
            name: [0; 64],
            index: pin,
            func: function.code(),
            chan: channel,
            rsv: [0; 5],
        };
        self.ioctl(libc::PTP_PIN_SETFUNC, &mut desc)
    }

    fn request_extts(&mut self, channel: u32, flags: u32) -> io::Result<()> {
        let mut req = libc::ptp_extts_request {
            index: channel,
            flags,
            rsv: [0; 2],
        };
        self.ioctl(libc::PTP_EXTTS_REQUEST, &mut req)
    }

    fn request_perout(&mut self, r: &Perout) -> io::Result<()> {
        let period_sec = i64::try_from(r.period_ns / 1_000_000_000).unwrap_or(i64::MAX);
        let period_nsec = u32::try_from(r.period_ns % 1_000_000_000).unwrap_or(0);
        let mut req = libc::ptp_perout_request {
            anonymous_1: libc::__c_anonymous_ptp_perout_request_1 {
                start: clock_time(r.start_sec, r.start_nsec),
            },
            period: clock_time(period_sec, period_nsec),
            index: r.channel,
            flags: 0,
            anonymous_2: libc::__c_anonymous_ptp_perout_request_2 { rsv: [0; 4] },
        };
        self.ioctl(libc::PTP_PEROUT_REQUEST, &mut req)
    }

    fn read_events(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }

    fn now(&mut self) -> io::Result<(i64, u32)> {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let id = fd_to_clockid(self.file.as_raw_fd());
        // SAFETY: `ts` is a valid, writable timespec and `id` is the dynamic
        // clock id of a descriptor that stays open during the call.
        let rc = unsafe { libc::clock_gettime(id, &raw mut ts) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((ts.tv_sec, u32::try_from(ts.tv_nsec).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records every request; serves canned events.
    #[derive(Default)]
    struct Fake {
        calls: Vec<String>,
        events: Vec<u8>,
        fail_extts: bool,
    }

    impl PtpPins for Fake {
        fn set_pin_function(
            &mut self,
            pin: u32,
            function: PinFunction,
            channel: u32,
        ) -> io::Result<()> {
            self.calls.push(format!(
                "setfunc pin {pin} func {} chan {channel}",
                function.code()
            ));
            Ok(())
        }
        fn request_extts(&mut self, channel: u32, flags: u32) -> io::Result<()> {
            if self.fail_extts {
                return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
            }
            self.calls
                .push(format!("extts chan {channel} flags {flags:#x}"));
            Ok(())
        }
        fn request_perout(&mut self, r: &Perout) -> io::Result<()> {
            self.calls.push(format!(
                "perout chan {} start {}.{:09} period {}",
                r.channel, r.start_sec, r.start_nsec, r.period_ns
            ));
            Ok(())
        }
        fn read_events(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.events.is_empty() {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.events.len());
            buf[..n].copy_from_slice(&self.events[..n]);
            self.events.drain(..n);
            Ok(n)
        }
        fn now(&mut self) -> io::Result<(i64, u32)> {
            Ok((1_000, 700_000_000))
        }
    }

    fn event(sec: i64, nsec: u32, channel: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(sec.to_ne_bytes());
        v.extend(nsec.to_ne_bytes());
        v.extend(0u32.to_ne_bytes());
        v.extend(channel.to_ne_bytes());
        v.extend(PTP_RISING_EDGE.to_ne_bytes());
        v.extend([0u8; 8]);
        v
    }

    #[test]
    fn abi_matches_the_kernel_header() {
        assert_eq!(size_of::<libc::ptp_pin_desc>(), 96);
        assert_eq!(size_of::<libc::ptp_extts_request>(), 16);
        assert_eq!(size_of::<libc::ptp_perout_request>(), 56);
        assert_eq!(size_of::<libc::ptp_extts_event>(), EXTTS_EVENT_SIZE);
        // _IOW('=', nr, size) = 1 << 30 | size << 16 | '=' << 8 | nr
        assert_eq!(libc::PTP_EXTTS_REQUEST, 0x4010_3d02);
        assert_eq!(libc::PTP_PEROUT_REQUEST, 0x4038_3d03);
        assert_eq!(libc::PTP_PIN_SETFUNC, 0x4060_3d07);
    }

    #[test]
    fn input_and_output_sequences() {
        let mut f = Fake::default();
        start_pps_input(&mut f, 1, 0).expect("enable");
        stop_pps_input(&mut f, 1, 0).expect("disable");
        let req = start_pps_output(&mut f, 0, 0).expect("perout");
        assert_eq!(req.start_sec, 1002);
        stop_pps_output(&mut f, 0, 0).expect("stop");
        assert_eq!(
            f.calls,
            [
                "setfunc pin 1 func 1 chan 0",
                "extts chan 0 flags 0x3",
                "extts chan 0 flags 0x0",
                "setfunc pin 1 func 0 chan 0",
                "setfunc pin 0 func 2 chan 0",
                "perout chan 0 start 1002.000000000 period 1000000000",
                "perout chan 0 start 0.000000000 period 0",
                "setfunc pin 0 func 0 chan 0",
            ]
        );
    }

    #[test]
    fn errors_say_which_request_failed() {
        let mut f = Fake {
            fail_extts: true,
            ..Fake::default()
        };
        let e = start_pps_input(&mut f, 1, 2).expect_err("fails");
        assert!(
            e.to_string()
                .starts_with("PTP_EXTTS_REQUEST enable channel 2"),
            "{e}"
        );
    }

    #[test]
    fn events_are_parsed_and_folded_to_the_nearest_second() {
        let mut f = Fake::default();
        assert!(read_pending(&mut f).expect("none").is_empty());
        for (s, n) in [(10, 120), (11, 999_999_920)] {
            f.events.extend(event(s, n, 1));
        }
        for k in 0..20 {
            f.events.extend(event(100 + k, 5, 1));
        }
        f.events.extend([0u8; 7]); // a partial record is ignored
        let ev = read_pending(&mut f).expect("events");
        assert_eq!(ev.len(), 22);
        assert_eq!(
            ev[0],
            ExttsEvent {
                channel: 1,
                sec: 10,
                nsec: 120
            }
        );
        assert_eq!(ev[0].offset_from_second_ns(), 120.0);
        assert_eq!(ev[1].offset_from_second_ns(), -80.0);
        assert_eq!(ev[1].second(), 12);
        assert_eq!(ev[21].sec, 119);
    }

    #[test]
    fn missing_device_is_a_clear_error() {
        let e = PtpPinDevice::open("/dev/ptp-does-not-exist").expect_err("absent");
        assert!(e.to_string().contains("/dev/ptp-does-not-exist"));
    }
}
