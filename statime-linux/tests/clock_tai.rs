//! TAI/UTC conversion and the `timespec` helpers.

use statime::clock::ClockProperties;
use statime::time::Time;
use statime_linux::clock::{
    DEFAULT_UTC_OFFSET, UtcOffset, effective_utc_offset, tai_to_utc, time_from_timespec,
    time_to_timespec, utc_to_tai,
};

#[test]
fn utc_tai_round_trip() {
    let utc = Time::from_secs_nanos(1_700_000_000, 123);
    let tai = utc_to_tai(utc, 37).unwrap();
    assert_eq!(tai, Time::from_secs_nanos(1_700_000_037, 123));
    assert_eq!(tai_to_utc(tai, 37), Some(utc));
    assert_eq!(tai_to_utc(Time::from_secs_nanos(10, 0), 37), None);
}

#[test]
fn offset_comes_from_valid_properties_only() {
    let mut p = ClockProperties {
        current_utc_offset: 38,
        current_utc_offset_valid: false,
        ..ClockProperties::default()
    };
    assert_eq!(effective_utc_offset(&p, DEFAULT_UTC_OFFSET), 37);
    let mut offset = UtcOffset::default();
    assert!(!offset.update(&p));
    p.current_utc_offset_valid = true;
    assert!(offset.update(&p));
    assert_eq!(offset.seconds(), 38);
    assert_eq!(
        offset.to_tai(Time::from_secs_nanos(100, 0)),
        Some(Time::from_secs_nanos(138, 0))
    );
}

#[test]
fn timespec_conversions() {
    assert_eq!(time_from_timespec(5, 7), Some(Time::from_secs_nanos(5, 7)));
    assert_eq!(time_from_timespec(-1, 0), None);
    assert_eq!(
        time_to_timespec(Time::from_secs_nanos(9, 999_999_999)),
        Some((9, 999_999_999))
    );
}
