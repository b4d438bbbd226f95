//! PHC code against fakes of the ioctl and clock layers (this machine has
//! no /dev/ptp*), plus the user-facing errors for missing devices.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;

use statime::clock::Clock;
use statime::time::{Duration, Time};
use statime_linux::clock::{
    ClockError, ClockOps, PhcCaps, PhcClock, PhcDevice, PhcIoctl, PhcSysOffset, PreciseSample,
    SysOffsetMethod, SysOffsetSample, Timex, TimexState, best_sample, fd_to_clockid,
    phc_for_interface, ppb_to_scaled_ppm, samples_from_basic, samples_from_extended,
};

fn errno(e: i32) -> io::Error {
    io::Error::from_raw_os_error(e)
}

/// Canned ioctl answers: `Err(errno)` or data; counts calls per method.
struct FakePhc {
    precise: Result<PreciseSample, i32>,
    extended: Result<Vec<SysOffsetSample>, i32>,
    basic: Result<Vec<SysOffsetSample>, i32>,
    calls: [Cell<u32>; 3],
    caps: PhcCaps,
}

impl Default for FakePhc {
    fn default() -> Self {
        Self {
            precise: Err(libc::EOPNOTSUPP),
            extended: Err(libc::EOPNOTSUPP),
            basic: Err(libc::EOPNOTSUPP),
            calls: Default::default(),
            caps: PhcCaps {
                max_adj_ppb: 62_499_999,
                n_ext_ts: 2,
                n_per_out: 2,
                pps: true,
                n_pins: 4,
                ..PhcCaps::default()
            },
        }
    }
}

impl FakePhc {
    fn calls(&self) -> [u32; 3] {
        [
            self.calls[0].get(),
            self.calls[1].get(),
            self.calls[2].get(),
        ]
    }
}

impl PhcIoctl for FakePhc {
    fn clock_id(&self) -> libc::clockid_t {
        -29
    }

    fn name(&self) -> &str {
        "/dev/ptp7"
    }

    fn caps(&self) -> io::Result<PhcCaps> {
        Ok(self.caps)
    }

    fn sys_offset_precise(&self) -> io::Result<PreciseSample> {
        self.calls[0].set(self.calls[0].get() + 1);
        self.precise.map_err(errno)
    }

    fn sys_offset_extended(&self, n: u32) -> io::Result<Vec<SysOffsetSample>> {
        self.calls[1].set(self.calls[1].get() + 1);
        assert!((1..=25).contains(&n));
        self.extended.clone().map_err(errno)
    }

    fn sys_offset(&self, n: u32) -> io::Result<Vec<SysOffsetSample>> {
        self.calls[2].set(self.calls[2].get() + 1);
        assert!((1..=25).contains(&n));
        self.basic.clone().map_err(errno)
    }
}

/// A sample centred on `sys` with the given window and PHC offset (ns).
fn sample(sys: i128, window: i128, offset: i128) -> SysOffsetSample {
    SysOffsetSample {
        sys_before: sys - window / 2,
        phc: sys + offset,
        sys_after: sys - window / 2 + window,
    }
}

const T: i128 = 1_700_000_000_000_000_000;
const TAI_NS: i128 = 37_000_000_000;

#[test]
fn precise_unsupported_falls_back_to_extended() {
    let phc = FakePhc {
        extended: Ok(vec![sample(T, 400, TAI_NS + 10)]),
        basic: Ok(vec![sample(T, 100, 999)]),
        ..FakePhc::default()
    };
    let mut sysoff = PhcSysOffset::default();
    let m = sysoff.measure(&phc).unwrap();
    assert_eq!(m.method, SysOffsetMethod::Extended);
    assert_eq!(m.offset, Duration::from_nanos(37_000_000_010));
    assert_eq!(m.offset_tai(37), Duration::from_nanos(10));
    assert_eq!(m.delay, Duration::from_nanos(400));
    assert_eq!(sysoff.method(), Some(SysOffsetMethod::Extended));
    // The working interface is remembered: PRECISE is not probed again.
    sysoff.measure(&phc).unwrap();
    assert_eq!(phc.calls(), [1, 2, 0]);
}

#[test]
fn extended_unsupported_falls_back_to_basic() {
    let phc = FakePhc {
        extended: Err(libc::ENOTTY), // a kernel without the ioctl
        basic: Ok(vec![sample(T, 2_000, -5)]),
        ..FakePhc::default()
    };
    let mut sysoff = PhcSysOffset::new(9);
    let m = sysoff.measure(&phc).unwrap();
    assert_eq!(m.method, SysOffsetMethod::Basic);
    assert_eq!(m.offset, Duration::from_nanos(-5));
    assert_eq!(m.delay, Duration::from_nanos(2_000));
    assert_eq!(m.system_nanos, T);
    assert_eq!(phc.calls(), [1, 1, 1]);
}

#[test]
fn precise_is_preferred_when_supported() {
    let phc = FakePhc {
        precise: Ok(PreciseSample {
            device: T + TAI_NS - 3,
            sys_realtime: T,
            sys_monoraw: 42,
        }),
        extended: Ok(vec![sample(T, 10, 0)]),
        ..FakePhc::default()
    };
    let m = PhcSysOffset::default().measure(&phc).unwrap();
    assert_eq!(m.method, SysOffsetMethod::Precise);
    assert_eq!(m.offset_tai(37), Duration::from_nanos(-3));
    assert_eq!(m.delay, Duration::ZERO);
    assert_eq!(
        m.system_time(),
        Some(Time::from_secs_nanos(1_700_000_000, 0))
    );
    assert_eq!(phc.calls(), [1, 0, 0]);
}

#[test]
fn nothing_supported_is_a_clear_error() {
    let phc = FakePhc::default();
    let err = PhcSysOffset::default().measure(&phc).unwrap_err();
    assert!(matches!(err, ClockError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("/dev/ptp7"));
}

#[test]
fn real_failures_do_not_fall_back() {
    let phc = FakePhc {
        extended: Err(libc::EIO),
        basic: Ok(vec![sample(T, 10, 0)]),
        ..FakePhc::default()
    };
    let mut sysoff = PhcSysOffset::default();
    let err = sysoff.measure(&phc).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EIO));
    assert_eq!(phc.calls(), [1, 1, 0]);
}

#[test]
fn picks_the_narrowest_window() {
    let samples = [
        sample(T, 500, 50),
        sample(T + 1_000, 101, 7),
        sample(T + 2_000, 300, 30),
        // A negative window (the system clock stepped back mid-read) is
        // never chosen.
        sample(T + 3_000, -50, 99),
    ];
    let m = best_sample(&samples, SysOffsetMethod::Extended).unwrap();
    assert_eq!(m.delay, Duration::from_nanos(101));
    // phc - midpoint, exactly: the window [sys - 50, sys + 51] puts the
    // midpoint on sys + 0.5 ns, and the PHC reads sys + 7.
    assert_eq!(m.offset, Duration::from_nanos_f64(6.5));
    assert!(best_sample(&[], SysOffsetMethod::Basic).is_none());
    assert!(best_sample(&samples[3..], SysOffsetMethod::Basic).is_none());
}

fn pct(sec: i64, nsec: u32) -> libc::ptp_clock_time {
    libc::ptp_clock_time {
        sec,
        nsec,
        reserved: 0,
    }
}

#[test]
fn basic_layout_is_interleaved() {
    let mut ts = [pct(0, 0); 51];
    // sys, phc, sys, phc, sys
    ts[0] = pct(100, 0);
    ts[1] = pct(137, 500);
    ts[2] = pct(100, 1_000);
    ts[3] = pct(137, 1_400);
    ts[4] = pct(100, 1_800);
    let x = libc::ptp_sys_offset {
        n_samples: 2,
        rsv: [0; 3],
        ts,
    };
    let s = samples_from_basic(&x);
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].sys_before, 100_000_001_000);
    assert_eq!(s[1].phc, 137_000_001_400);
    assert_eq!(s[1].sys_after, 100_000_001_800);
    let m = best_sample(&s, SysOffsetMethod::Basic).unwrap();
    assert_eq!(m.offset_tai(37), Duration::from_nanos(0));
    assert_eq!(m.delay, Duration::from_nanos(800));
}

#[test]
fn extended_layout_is_triples() {
    let mut ts = [[pct(0, 0); 3]; 25];
    ts[0] = [pct(5, 10), pct(42, 30), pct(5, 40)];
    let x = libc::ptp_sys_offset_extended {
        n_samples: 1,
        clockid: 0,
        rsv: [0; 2],
        ts,
    };
    let s = samples_from_extended(&x);
    assert_eq!(
        s,
        vec![SysOffsetSample {
            sys_before: 5_000_000_010,
            phc: 42_000_000_030,
            sys_after: 5_000_000_040,
        }]
    );
    // A corrupt count is bounded by the array.
    let x = libc::ptp_sys_offset_extended { n_samples: 99, ..x };
    assert_eq!(samples_from_extended(&x).len(), 25);
}

#[test]
fn caps_conversion() {
    let c = libc::ptp_clock_caps {
        max_adj: 62_499_999,
        n_alarm: 0,
        n_ext_ts: 2,
        n_per_out: 2,
        pps: 1,
        n_pins: 4,
        cross_timestamping: 0,
        adjust_phase: 0,
        max_phase_adj: 0,
        rsv: [0; 11],
    };
    let caps = PhcCaps::from(&c);
    assert_eq!(caps.max_adj_ppb, 62_499_999);
    assert!(caps.pps && !caps.cross_timestamping);
    assert_eq!(caps.n_pins, 4);
}

/// Fake clock system calls for the PHC's dynamic clock id.
#[derive(Clone, Default)]
struct FakeOps {
    calls: Rc<RefCell<Vec<(libc::clockid_t, Timex)>>>,
    fail_with: Option<i32>,
}

impl ClockOps for FakeOps {
    fn gettime(&self, clock: libc::clockid_t) -> io::Result<(i64, i64)> {
        assert_eq!(clock, -29);
        Ok((1_700_000_037, 5))
    }

    fn adjtime(&mut self, clock: libc::clockid_t, request: &Timex) -> io::Result<TimexState> {
        self.calls.borrow_mut().push((clock, *request));
        match self.fail_with {
            Some(e) => Err(errno(e)),
            None => Ok(TimexState::default()),
        }
    }
}

#[test]
fn phc_clock_steers_through_its_clock_id() {
    let ops = FakeOps::default();
    let calls = ops.calls.clone();
    let mut phc = PhcClock::from_parts(FakePhc::default(), ops).unwrap();
    assert_eq!(phc.max_frequency_ppb(), 62_499_999.0);
    assert_eq!(phc.now().unwrap(), Time::from_secs_nanos(1_700_000_037, 5));
    phc.adjust_frequency(1e9).unwrap(); // clamped to max_adj
    phc.step(Duration::from_nanos(-500_000_000)).unwrap();
    let calls = calls.borrow();
    assert!(calls.iter().all(|(id, _)| *id == -29));
    assert_eq!(calls[0].1.freq, ppb_to_scaled_ppm(62_499_999.0));
    assert_eq!(
        (calls[1].1.time_sec, calls[1].1.time_usec),
        (-1, 500_000_000)
    );
}

#[test]
fn phc_errors_are_explained() {
    let ops = FakeOps {
        fail_with: Some(libc::ERANGE),
        ..FakeOps::default()
    };
    let mut phc = PhcClock::from_parts(FakePhc::default(), ops).unwrap();
    let err = phc.adjust_frequency(1_000.0).unwrap_err();
    assert!(
        matches!(err, ClockError::FrequencyOutOfRange { .. }),
        "{err}"
    );

    let ops = FakeOps {
        fail_with: Some(libc::EACCES),
        ..FakeOps::default()
    };
    let mut phc = PhcClock::from_parts(FakePhc::default(), ops).unwrap();
    let msg = phc.step(Duration::from_nanos(1)).unwrap_err().to_string();
    assert!(
        msg.contains("/dev/ptp7") && msg.contains("CAP_SYS_TIME"),
        "{msg}"
    );
}

#[test]
fn clock_id_from_fd() {
    assert_eq!(fd_to_clockid(3), -29);
    assert_eq!(fd_to_clockid(0), -5);
    // Always the CLOCKFD type in the low bits.
    assert_eq!(fd_to_clockid(12345) & 7, 3);
}

#[test]
fn missing_phc_says_what_to_check() {
    let err = PhcDevice::open(99, Some("eth0")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "PHC /dev/ptp99 not found: does the NIC support hardware timestamping? `ethtool -T eth0`"
    );
    let err = PhcClock::open(99).unwrap_err();
    assert!(matches!(err, ClockError::PhcNotFound { .. }));
    assert!(!err.to_string().contains('\n'));
}

#[test]
fn interface_discovery() {
    // Loopback has software timestamping only: no PHC.
    assert_eq!(phc_for_interface("lo").unwrap(), None);
    let err = phc_for_interface("nosuchif0").unwrap_err();
    assert!(matches!(err, ClockError::NoSuchInterface { .. }), "{err}");
    assert!(matches!(
        phc_for_interface("a-name-much-too-long-for-ifnamsiz"),
        Err(ClockError::NoSuchInterface { .. })
    ));
    let err = PhcClock::for_interface("lo").unwrap_err();
    assert!(matches!(err, ClockError::NoPhc { .. }), "{err}");
    assert!(err.to_string().contains("ethtool -T lo"));
}

#[test]
fn stepped_system_clock_gives_a_retryable_error() {
    let phc = FakePhc {
        extended: Ok(vec![sample(T, -10, 0)]),
        ..FakePhc::default()
    };
    let mut sysoff = PhcSysOffset::default();
    let err = sysoff.measure(&phc).unwrap_err();
    assert!(matches!(err, ClockError::NoUsableSample { .. }), "{err}");
    // The interface itself works and is kept.
    assert_eq!(sysoff.method(), Some(SysOffsetMethod::Extended));
}
