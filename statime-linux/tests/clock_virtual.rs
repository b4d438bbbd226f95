//! The virtual clock: exact behaviour on an injected time source, and sane
//! behaviour on the real CLOCK_MONOTONIC_RAW. Nothing here adjusts a real
//! clock.

use statime::clock::Clock;
use statime::time::{Duration, Time};
use statime_linux::clock::{
    ClockError, ManualTimeSource, VirtualClock, VirtualClockConfig, realtime_now,
};

const START_UTC_NS: i128 = 1_700_000_000 * 1_000_000_000;
const TAI: i64 = 37;

fn manual(config: VirtualClockConfig) -> (ManualTimeSource, VirtualClock<ManualTimeSource>) {
    let source = ManualTimeSource::new(5_000_000_000, START_UTC_NS);
    let clock = VirtualClock::with_source(source.clone(), config).unwrap();
    (source, clock)
}

fn start_tai() -> Time {
    Time::from_secs_nanos(1_700_000_000 + TAI as u64, 0)
}

#[test]
fn starts_at_reference_plus_tai_plus_offset() {
    let (_, clock) = manual(VirtualClockConfig {
        initial_offset: Duration::from_nanos(1_000_000),
        ..VirtualClockConfig::default()
    });
    assert_eq!(
        clock.now().unwrap(),
        start_tai() + Duration::from_nanos(1_000_000)
    );
    assert_eq!(clock.true_error().unwrap(), Duration::from_nanos(1_000_000));
}

#[test]
fn frequency_error_applies_exactly() {
    let (source, clock) = manual(VirtualClockConfig {
        frequency_error_ppb: 50_000.0,
        ..VirtualClockConfig::default()
    });
    source.advance_nanos(1_000_000_000);
    assert_eq!(
        clock.now().unwrap() - start_tai(),
        Duration::from_nanos(1_000_050_000)
    );
    assert_eq!(clock.true_error().unwrap(), Duration::from_nanos(50_000));
}

#[test]
fn adjust_frequency_keeps_phase_continuous() {
    let (source, mut clock) = manual(VirtualClockConfig {
        frequency_error_ppb: 50_000.0,
        ..VirtualClockConfig::default()
    });
    source.advance_nanos(10_000_000_000);
    let before = clock.now().unwrap();
    clock.adjust_frequency(-50_000.0).unwrap();
    assert_eq!(clock.now().unwrap(), before, "no phase jump on re-anchor");
    assert_eq!(clock.adjustment_ppb(), -50_000.0);
    source.advance_nanos(10_000_000_000);
    // Error and correction cancel: the clock now runs at the true rate.
    assert_eq!(
        clock.now().unwrap() - before,
        Duration::from_nanos(10_000_000_000)
    );
    assert_eq!(clock.true_error().unwrap(), Duration::from_nanos(500_000));
}

#[test]
fn adjust_frequency_is_absolute() {
    let (source, mut clock) = manual(VirtualClockConfig::default());
    clock.adjust_frequency(1_000.0).unwrap();
    clock.adjust_frequency(1_000.0).unwrap();
    source.advance_nanos(1_000_000_000);
    assert_eq!(clock.true_error().unwrap(), Duration::from_nanos(1_000));
}

#[test]
fn step_shifts_time_and_keeps_rate() {
    let (source, mut clock) = manual(VirtualClockConfig {
        initial_offset: Duration::from_nanos(1_000_000),
        frequency_error_ppb: 50_000.0,
        ..VirtualClockConfig::default()
    });
    clock.step(Duration::from_nanos(-1_000_000)).unwrap();
    assert_eq!(clock.true_error().unwrap(), Duration::ZERO);
    source.advance_nanos(2_000_000_000);
    assert_eq!(clock.true_error().unwrap(), Duration::from_nanos(100_000));
}

#[test]
fn sub_nanosecond_step_is_kept() {
    let (_, mut clock) = manual(VirtualClockConfig::default());
    let quarter = Duration::from_nanos_f64(0.25);
    clock.step(quarter).unwrap();
    assert_eq!(clock.true_error().unwrap(), quarter);
}

#[test]
fn one_year_at_constant_rate_is_exact() {
    let (source, clock) = manual(VirtualClockConfig {
        frequency_error_ppb: 50_000.0,
        ..VirtualClockConfig::default()
    });
    let year_ns: i64 = 365 * 86_400 * 1_000_000_000;
    source.advance_nanos(year_ns);
    // 50 ppm of a year.
    assert_eq!(
        clock.true_error().unwrap(),
        Duration::from_nanos(year_ns / 1_000_000 * 50)
    );
}

#[test]
fn many_adjustments_stay_exact() {
    let (source, mut clock) = manual(VirtualClockConfig {
        frequency_error_ppb: 50_000.0,
        ..VirtualClockConfig::default()
    });
    // 100 000 segments of 1 ms with changing integer-ppb adjustments; the
    // exact expected error is sum(1e6 ns * (50 000 + adj) / 1e9).
    let mut numerator: i128 = 0; // in ns * 1e9
    for i in 0..100_000_i64 {
        let adj = (i % 7 - 3) * 1_234 - 50_000;
        clock.adjust_frequency(adj as f64).unwrap();
        source.advance_nanos(1_000_000);
        numerator += 1_000_000 * i128::from(50_000 + adj);
    }
    let expected_ns = numerator as f64 / 1e9;
    let got = clock.true_error().unwrap().nanos_f64();
    assert!(
        (got - expected_ns).abs() < 1e-3,
        "got {got} ns, expected {expected_ns} ns"
    );
}

#[test]
fn adjustment_is_clamped_and_nan_rejected() {
    let (_, mut clock) = manual(VirtualClockConfig {
        max_frequency_ppb: 1_000_000.0,
        ..VirtualClockConfig::default()
    });
    clock.adjust_frequency(5e9).unwrap();
    assert_eq!(clock.adjustment_ppb(), 1_000_000.0);
    assert_eq!(clock.max_frequency_ppb(), 1_000_000.0);
    assert!(matches!(
        clock.adjust_frequency(f64::NAN),
        Err(ClockError::InvalidArgument { .. })
    ));
}

#[test]
fn converts_reference_timestamps() {
    let (source, clock) = manual(VirtualClockConfig {
        initial_offset: Duration::from_nanos(1_000),
        frequency_error_ppb: 100_000.0,
        ..VirtualClockConfig::default()
    });
    source.advance_nanos(3_000_000_000);
    // A software timestamp taken 1 s ago on the reference (UTC) clock.
    let stamp_utc = Time::from_secs_nanos(1_700_000_002, 0);
    let expected =
        start_tai() + Duration::from_nanos(1_000) + Duration::from_nanos(2_000_000_000 + 200_000);
    assert_eq!(clock.time_at_reference(stamp_utc).unwrap(), expected);
}

#[test]
fn before_epoch_is_an_error_not_a_panic() {
    let (_, mut clock) = manual(VirtualClockConfig::default());
    clock.step(Duration::from_secs(-3_000_000_000)).unwrap();
    assert!(matches!(
        clock.now(),
        Err(ClockError::TimeOutOfRange { .. })
    ));
}

#[test]
fn real_monotonic_raw_starts_at_requested_offset() {
    let clock = VirtualClock::new(VirtualClockConfig {
        initial_offset: Duration::from_nanos(1_000_000),
        frequency_error_ppb: 50_000.0,
        ..VirtualClockConfig::default()
    })
    .unwrap();
    let error = clock.true_error().unwrap().nanos_f64();
    assert!(
        (error - 1_000_000.0).abs() < 20_000.0,
        "true error {error} ns, expected about +1 ms"
    );
    // now() is CLOCK_REALTIME + 37 s + about 1 ms.
    let real = realtime_now().unwrap();
    let diff = (clock.now().unwrap() - real).nanos_f64() - 37e9;
    assert!((diff - 1_000_000.0).abs() < 1_000_000.0, "diff {diff}");
}

#[test]
fn real_true_error_sign_follows_offset() {
    let clock = VirtualClock::new(VirtualClockConfig {
        initial_offset: Duration::from_nanos(-2_000_000),
        ..VirtualClockConfig::default()
    })
    .unwrap();
    let error = clock.true_error().unwrap().nanos_f64();
    assert!(error < -1_900_000.0 && error > -2_100_000.0, "{error}");
}

#[test]
fn real_frequency_error_shows_over_time() {
    let clock = VirtualClock::new(VirtualClockConfig {
        frequency_error_ppb: 1_000_000.0, // 1000 ppm: 20 us over 20 ms
        ..VirtualClockConfig::default()
    })
    .unwrap();
    let e0 = clock.true_error().unwrap().nanos_f64();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let e1 = clock.true_error().unwrap().nanos_f64();
    assert!(e1 - e0 > 10_000.0, "drift {} ns", e1 - e0);
}
