//! The system clock. These tests never adjust CLOCK_REALTIME: they use a
//! fake system-call layer, the observe-only mode, pure conversion functions
//! and read-only (`modes = 0`) queries.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;

use statime::clock::{Clock, ClockProperties, LeapIndicator};
use statime::time::{Duration, Time};
use statime_linux::clock::{
    ClockError, ClockOps, ObserveOnly, SystemClock, Timex, TimexState, UtcOffset, leap_status,
    ppb_to_scaled_ppm, query_adjtime, round_to_nanos, scaled_ppm_to_ppb, split_step_nanos,
    split_tick, to_libc_timex,
};

/// A fake clock_gettime/clock_adjtime: a fixed time, recorded requests, an
/// optional error for every modifying request.
#[derive(Clone, Default)]
struct FakeOps {
    calls: Rc<RefCell<Vec<(libc::clockid_t, Timex)>>>,
    state: Rc<RefCell<TimexState>>,
    fail_with: Option<i32>,
}

impl ClockOps for FakeOps {
    fn gettime(&self, _clock: libc::clockid_t) -> io::Result<(i64, i64)> {
        Ok((1_700_000_000, 250))
    }

    fn adjtime(&mut self, clock: libc::clockid_t, request: &Timex) -> io::Result<TimexState> {
        self.calls.borrow_mut().push((clock, *request));
        if !request.is_read_only() {
            if let Some(errno) = self.fail_with {
                return Err(io::Error::from_raw_os_error(errno));
            }
            let mut state = self.state.borrow_mut();
            if request.modes & libc::ADJ_TAI != 0 {
                state.tai = i32::try_from(request.constant).unwrap();
            }
            if request.modes & libc::ADJ_STATUS != 0 {
                state.status = request.status;
            }
        }
        Ok(*self.state.borrow())
    }
}

fn props(offset: i16, valid: bool, leap: LeapIndicator) -> ClockProperties {
    ClockProperties {
        current_utc_offset: offset,
        current_utc_offset_valid: valid,
        leap_indicator: leap,
        ptp_timescale: true,
        ..ClockProperties::default()
    }
}

#[test]
fn read_only_query_of_realtime_works() {
    let state = query_adjtime(libc::CLOCK_REALTIME).expect("modes=0 needs no privilege");
    // USER_HZ = 100: about 10 000 us per tick.
    assert!((9_000..=11_000).contains(&state.tick), "{state:?}");
    assert!(state.frequency_ppb().abs() <= 500_000.0 + 1.0);
    let mut clock = SystemClock::observe_only(UtcOffset::default());
    assert_eq!(clock.query().unwrap().tick, state.tick);
}

#[test]
fn system_now_is_realtime_plus_tai_offset() {
    let clock = SystemClock::with_ops(FakeOps::default(), UtcOffset::new(37));
    assert_eq!(
        clock.now_utc().unwrap(),
        Time::from_secs_nanos(1_700_000_000, 250)
    );
    assert_eq!(
        clock.now().unwrap(),
        Time::from_secs_nanos(1_700_000_037, 250)
    );
}

#[test]
fn observe_only_records_and_never_adjusts() {
    let inner = FakeOps::default();
    let calls = inner.calls.clone();
    let mut clock = SystemClock::with_ops(ObserveOnly::new(inner), UtcOffset::new(37));
    clock.adjust_frequency(12_345.0).unwrap();
    clock.step(Duration::from_nanos(-1_500_000_000)).unwrap();
    clock
        .set_properties(&props(37, true, LeapIndicator::Leap61))
        .unwrap();

    // The inner layer only ever saw read-only queries.
    assert!(calls.borrow().iter().all(|(_, t)| t.is_read_only()));

    let ops = clock.ops();
    let recorded: Vec<Timex> = ops.recorded().map(|r| r.request).collect();
    assert_eq!(recorded[0], Timex::frequency(12_345.0));
    assert_eq!(
        recorded[1],
        Timex {
            modes: libc::ADJ_SETOFFSET | libc::ADJ_NANO,
            time_sec: -2,
            time_usec: 500_000_000,
            ..Timex::query()
        }
    );
    assert_eq!(recorded[2], Timex::tai_offset(37));
    assert_eq!(recorded[3].modes, libc::ADJ_STATUS);
    assert_ne!(recorded[3].status & libc::STA_INS, 0);
    assert!(ops.recorded().all(|r| r.clock == libc::CLOCK_REALTIME));
    assert_eq!(ops.total_recorded(), 4);
    assert!((ops.requested_frequency_ppb().unwrap() - 12_345.0).abs() < 0.02);
    assert_eq!(ops.requested_steps_nanos(), -1_500_000_000);
}

#[test]
fn observe_only_on_the_real_clock_reads() {
    // Only read paths touch the real CLOCK_REALTIME here; the suppression of
    // adjustments is proven above with a fake underneath, so a bug can never
    // move this machine's clock.
    let clock = SystemClock::observe_only(UtcOffset::new(37));
    let utc = clock.now_utc().unwrap();
    let tai = clock.now().unwrap();
    let diff = (tai - utc).nanos_f64() - 37e9;
    assert!((0.0..1e9).contains(&diff), "{diff}");
    assert_eq!(clock.ops().total_recorded(), 0);
}

#[test]
fn steering_path_builds_the_right_requests() {
    let ops = FakeOps::default();
    let calls = ops.calls.clone();
    let mut clock = SystemClock::with_ops(ops, UtcOffset::new(37));
    clock.adjust_frequency(1e6).unwrap(); // beyond 500 ppm: clamped
    clock.step(Duration::from_nanos(2_250_000_000)).unwrap();
    let calls = calls.borrow();
    assert_eq!(calls[0].1, Timex::frequency(500_000.0));
    assert_eq!(calls[0].1.freq, 32_768_000);
    assert_eq!(calls[1].1.time_sec, 2);
    assert_eq!(calls[1].1.time_usec, 250_000_000);
    assert_eq!(clock.max_frequency_ppb(), 500_000.0);
}

#[test]
fn tick_adjustment_extends_the_range() {
    let ops = FakeOps::default();
    let calls = ops.calls.clone();
    let mut clock = SystemClock::with_ops(ops, UtcOffset::new(37)).with_tick_adjustment(true);
    clock.adjust_frequency(1_030_000.0).unwrap();
    let req = calls.borrow()[0].1;
    assert_eq!(req.modes, libc::ADJ_TICK | libc::ADJ_FREQUENCY);
    assert_eq!(req.tick, 10_010);
    assert_eq!(req.freq, ppb_to_scaled_ppm(30_000.0));
}

#[test]
fn set_properties_only_writes_changes() {
    let ops = FakeOps::default();
    let calls = ops.calls.clone();
    let mut clock = SystemClock::with_ops(ops, UtcOffset::new(36));
    let p = props(37, true, LeapIndicator::NoLeap);
    clock.set_properties(&p).unwrap();
    assert_eq!(clock.utc_offset().seconds(), 37);
    let writes =
        |c: &Vec<(libc::clockid_t, Timex)>| c.iter().filter(|(_, t)| !t.is_read_only()).count();
    assert_eq!(writes(&calls.borrow()), 1, "ADJ_TAI once");
    clock.set_properties(&p).unwrap();
    assert_eq!(writes(&calls.borrow()), 1, "nothing new to write");
    clock
        .set_properties(&props(37, true, LeapIndicator::Leap59))
        .unwrap();
    let last = calls.borrow().last().unwrap().1;
    assert_eq!(last.modes, libc::ADJ_STATUS);
    assert_ne!(last.status & libc::STA_DEL, 0);
    // An invalid offset is not applied anywhere.
    clock
        .set_properties(&props(10, false, LeapIndicator::Leap59))
        .unwrap();
    assert_eq!(clock.utc_offset().seconds(), 37);
}

#[test]
fn permission_error_is_one_line_with_the_fix() {
    let ops = FakeOps {
        fail_with: Some(libc::EPERM),
        ..FakeOps::default()
    };
    let mut clock = SystemClock::with_ops(ops, UtcOffset::default());
    let err = clock.adjust_frequency(10.0).unwrap_err();
    assert!(matches!(err, ClockError::PermissionDenied { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("need CAP_SYS_TIME to adjust the clock"),
        "{msg}"
    );
    assert!(msg.contains("observe-only"), "{msg}");
    assert!(!msg.contains('\n'));

    let ops = FakeOps {
        fail_with: Some(libc::EINVAL),
        ..FakeOps::default()
    };
    let mut clock = SystemClock::with_ops(ops, UtcOffset::default());
    let err = clock.step(Duration::from_nanos(5)).unwrap_err();
    assert!(matches!(err, ClockError::InvalidArgument { .. }), "{err}");
    assert!(err.to_string().contains("CLOCK_REALTIME"));
}

#[test]
fn negative_steps_borrow_a_second() {
    assert_eq!(split_step_nanos(-1_500_000_000), Some((-2, 500_000_000)));
    assert_eq!(split_step_nanos(-1), Some((-1, 999_999_999)));
    assert_eq!(split_step_nanos(-1_000_000_000), Some((-1, 0)));
    assert_eq!(split_step_nanos(0), Some((0, 0)));
    assert_eq!(split_step_nanos(1_000_000_001), Some((1, 1)));
    assert_eq!(split_step_nanos(i128::MAX), None);

    let t = Timex::step(Duration::from_nanos(-3)).unwrap();
    assert_eq!(t.modes, libc::ADJ_SETOFFSET | libc::ADJ_NANO);
    assert_eq!((t.time_sec, t.time_usec), (-1, 999_999_997));
    // Rounded to the nearest nanosecond.
    assert_eq!(round_to_nanos(Duration::from_nanos_f64(-2.6)), -3);
    assert_eq!(round_to_nanos(Duration::from_nanos_f64(2.4)), 2);
}

#[test]
fn libc_timex_carries_the_request() {
    let t = Timex::step_nanos(-1_500_000_000).unwrap();
    let tx = to_libc_timex(&t);
    assert_eq!(tx.modes, libc::ADJ_SETOFFSET | libc::ADJ_NANO);
    assert_eq!(tx.time.tv_sec, -2);
    assert_eq!(tx.time.tv_usec, 500_000_000);
    assert_eq!(tx.freq, 0);

    let tx = to_libc_timex(&Timex::tai_offset(37));
    assert_eq!(tx.modes, libc::ADJ_TAI);
    assert_eq!(tx.constant, 37, "ADJ_TAI takes the offset from `constant`");
}

#[test]
fn scaled_ppm_conversion() {
    assert_eq!(ppb_to_scaled_ppm(1_000.0), 65_536);
    assert_eq!(ppb_to_scaled_ppm(-500_000.0), -32_768_000);
    assert_eq!(ppb_to_scaled_ppm(1.0), 66); // 65.536 rounds up
    assert_eq!(ppb_to_scaled_ppm(f64::NAN), 0);
    assert!((scaled_ppm_to_ppb(65_536) - 1_000.0).abs() < 1e-9);
    let ppb = 12_345.678;
    assert!((scaled_ppm_to_ppb(ppb_to_scaled_ppm(ppb)) - ppb).abs() < 1.0 / 65.536);
}

#[test]
fn tick_split() {
    assert_eq!(split_tick(600_000.0, 10_000), (10_006, 0.0));
    let (tick, residual) = split_tick(-649_000.0, 10_000);
    assert_eq!(tick, 9_994);
    assert!((residual - (-49_000.0)).abs() < 1e-6);
    // Beyond +-10 % the tick saturates.
    assert_eq!(split_tick(5e8, 10_000).0, 11_000);
}

#[test]
fn leap_status_replaces_only_leap_bits() {
    let current = libc::STA_PLL | libc::STA_UNSYNC | libc::STA_DEL | libc::STA_NANO;
    let s = leap_status(current, LeapIndicator::Leap61);
    assert_eq!(s, libc::STA_PLL | libc::STA_UNSYNC | libc::STA_INS);
    assert_eq!(
        leap_status(s, LeapIndicator::NoLeap),
        libc::STA_PLL | libc::STA_UNSYNC
    );
}

#[test]
fn arb_timescale_leaves_the_kernel_alone() {
    let ops = FakeOps::default();
    let calls = ops.calls.clone();
    let mut clock = SystemClock::with_ops(ops, UtcOffset::new(37));
    let mut p = props(40, true, LeapIndicator::Leap61);
    p.ptp_timescale = false;
    clock.set_properties(&p).unwrap();
    assert!(calls.borrow().is_empty());
}
