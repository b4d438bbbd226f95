//! Keeping the system clock and the PTP hardware clock together: phc2sys's
//! job, done inside the daemon. A slave steers the PHC by PTP and the system
//! clock follows the PHC; a grandmaster whose time comes from the system
//! clock steers the PHC to follow it.
//!
//! Each tick measures PHC against CLOCK_REALTIME (PTP_SYS_OFFSET_PRECISE,
//! EXTENDED or basic; see [`PhcSysOffset`]) and feeds the offset to a servo
//! of its own, whose action goes to the follower clock.

use statime::clock::Clock;
use statime::servo::{AnyServo, Servo, ServoConfig, ServoSample, ServoState};
use statime::time::{Duration, Instant, Time};

use crate::clock::{ClockError, PhcIoctl, PhcSysOffset};

/// Which clock follows which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncDirection {
    /// The system clock follows the PHC (the PHC is steered by PTP).
    PhcToSystem,
    /// The PHC follows the system clock (grandmaster with a system time source).
    SystemToPhc,
}

/// One tick's outcome, for the log (`CLOCK_REALTIME phc offset %9d s%d freq %+7.0f delay %6d`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyncReport {
    /// Follower minus leader, on one timescale.
    pub offset: Duration,
    /// The measurement's system window.
    pub delay: Duration,
    /// The servo state.
    pub state: ServoState,
    /// Whether the follower was stepped.
    pub stepped: bool,
}

/// The PHC/system synchronisation loop.
#[derive(Debug)]
pub struct SystemSync {
    direction: SyncDirection,
    sysoff: PhcSysOffset,
    servo: AnyServo,
    utc_offset: i16,
    interval: Duration,
    next: Instant,
}

impl SystemSync {
    /// A loop in `direction` measuring every `interval`, with a servo from
    /// `config`; `utc_offset` is TAI - UTC (the PHC keeps TAI, the system
    /// clock UTC).
    #[must_use]
    pub fn new(
        direction: SyncDirection,
        config: &ServoConfig,
        utc_offset: i16,
        interval: Duration,
    ) -> Self {
        let mut servo = AnyServo::new(config, 0.0);
        servo.set_sync_interval(interval.secs_f64());
        Self {
            direction,
            sysoff: PhcSysOffset::new(9),
            servo,
            utc_offset,
            interval,
            next: Instant::ZERO,
        }
    }

    /// Use another TAI - UTC offset (from the grandmaster's timePropertiesDS).
    pub fn set_utc_offset(&mut self, seconds: i16) {
        self.utc_offset = seconds;
    }

    /// When the next tick is due.
    #[must_use]
    pub const fn next_due(&self) -> Instant {
        self.next
    }

    /// Measure and correct `follower` once, if due at `now`.
    ///
    /// # Errors
    /// When the PHC cannot be read or the follower refuses the correction.
    pub fn tick<D: PhcIoctl + ?Sized, C: Clock<Error = ClockError> + ?Sized>(
        &mut self,
        device: &D,
        follower: &mut C,
        now: Instant,
    ) -> Result<Option<SyncReport>, ClockError> {
        if now < self.next {
            return Ok(None);
        }
        self.next = now + self.interval;
        let m = self.sysoff.measure(device)?;
        // PHC minus system clock, both on the TAI timescale.
        let phc_ahead = m.offset_tai(self.utc_offset);
        let offset = match self.direction {
            SyncDirection::PhcToSystem => -phc_ahead,
            SyncDirection::SystemToPhc => phc_ahead,
        };
        let local = m.system_time().unwrap_or(Time::EPOCH);
        let out = self.servo.sample(ServoSample::new(offset, m.delay, local));
        out.action.apply(follower)?;
        Ok(Some(SyncReport {
            offset,
            delay: m.delay,
            state: out.state,
            stepped: matches!(out.action, statime::servo::ServoAction::Step { .. }),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::io;
    use std::rc::Rc;

    use super::*;
    use crate::clock::{PhcCaps, PreciseSample, SysOffsetSample};

    /// A world with true time and two clocks: offsets (ns) and frequency
    /// errors (ppb), with steering applied to the follower.
    #[derive(Debug)]
    struct World {
        t: f64,
        sys_offset: f64,
        sys_freq: f64,
        phc_offset: f64,
        phc_freq: f64,
    }

    impl World {
        fn advance(&mut self, dt: f64) {
            self.t += dt;
            self.sys_offset += dt * self.sys_freq * 1e-9;
            self.phc_offset += dt * self.phc_freq * 1e-9;
        }
        fn sys(&self, at: f64) -> i128 {
            (at + self.sys_offset) as i128
        }
        fn phc(&self, at: f64) -> i128 {
            // The PHC keeps TAI: 37 s ahead of the UTC system clock.
            (at + self.phc_offset + 37e9) as i128
        }
    }

    struct FakePhc(Rc<RefCell<World>>);

    impl PhcIoctl for FakePhc {
        fn clock_id(&self) -> libc::clockid_t {
            -1
        }
        fn name(&self) -> &str {
            "/dev/ptp-fake"
        }
        fn caps(&self) -> io::Result<PhcCaps> {
            Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
        }
        fn sys_offset_precise(&self) -> io::Result<PreciseSample> {
            Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
        }
        fn sys_offset_extended(&self, n: u32) -> io::Result<Vec<SysOffsetSample>> {
            let w = self.0.borrow();
            Ok((0..n)
                .map(|i| {
                    let t = w.t + f64::from(i) * 1000.0;
                    // A 200 ns window with the PHC read in its middle.
                    SysOffsetSample {
                        sys_before: w.sys(t),
                        phc: w.phc(t + 100.0),
                        sys_after: w.sys(t + 200.0),
                    }
                })
                .collect())
        }
        fn sys_offset(&self, n: u32) -> io::Result<Vec<SysOffsetSample>> {
            self.sys_offset_extended(n)
        }
    }

    /// The follower: the system clock of the world.
    struct FakeSystem(Rc<RefCell<World>>);

    impl Clock for FakeSystem {
        type Error = ClockError;
        fn now(&self) -> Result<Time, ClockError> {
            let w = self.0.borrow();
            Ok(Time::from_nanos(u64::try_from(w.sys(w.t)).unwrap_or(0)))
        }
        fn adjust_frequency(&mut self, ppb: f64) -> Result<(), ClockError> {
            // The oscillator runs +30 ppm; the adjustment adds to it.
            self.0.borrow_mut().sys_freq = 30_000.0 + ppb;
            Ok(())
        }
        fn step(&mut self, offset: Duration) -> Result<(), ClockError> {
            self.0.borrow_mut().sys_offset += offset.nanos_f64();
            Ok(())
        }
        fn max_frequency_ppb(&self) -> f64 {
            500_000.0
        }
    }

    #[test]
    fn system_clock_follows_the_phc() {
        let world = Rc::new(RefCell::new(World {
            t: 1.0e15,
            sys_offset: 3_000_000.0, // 3 ms off
            sys_freq: 30_000.0,
            phc_offset: 0.0,
            phc_freq: 0.0,
        }));
        let phc = FakePhc(world.clone());
        let mut sys = FakeSystem(world.clone());
        let mut sync = SystemSync::new(
            SyncDirection::PhcToSystem,
            &ServoConfig::default(),
            37,
            Duration::from_secs(1),
        );
        let mut reports = Vec::new();
        for s in 0..60u64 {
            if let Some(r) = sync.tick(&phc, &mut sys, Instant::from_secs(s)).unwrap() {
                reports.push(r);
            }
            world.borrow_mut().advance(1e9);
        }
        let w = world.borrow();
        let err = w.sys_offset - w.phc_offset;
        assert!(
            err.abs() < 100.0,
            "system clock {err} ns from the PHC after 60 s"
        );
        assert!(
            reports.iter().any(|r| r.stepped),
            "the first 3 ms are stepped"
        );
        assert!(reports.last().unwrap().state.is_locked());
        assert_eq!(reports.len(), 60);
        // Not due before the interval has passed.
        drop(w);
        assert_eq!(
            sync.tick(&phc, &mut sys, Instant::from_secs(59)).unwrap(),
            None
        );
    }

    #[test]
    fn an_unreadable_phc_is_an_error_not_a_panic() {
        struct Broken;
        impl PhcIoctl for Broken {
            fn clock_id(&self) -> libc::clockid_t {
                -1
            }
            fn name(&self) -> &str {
                "/dev/ptp-broken"
            }
            fn caps(&self) -> io::Result<PhcCaps> {
                Err(io::Error::from_raw_os_error(libc::EIO))
            }
            fn sys_offset_precise(&self) -> io::Result<PreciseSample> {
                Err(io::Error::from_raw_os_error(libc::EIO))
            }
            fn sys_offset_extended(&self, _: u32) -> io::Result<Vec<SysOffsetSample>> {
                Err(io::Error::from_raw_os_error(libc::EIO))
            }
            fn sys_offset(&self, _: u32) -> io::Result<Vec<SysOffsetSample>> {
                Err(io::Error::from_raw_os_error(libc::EIO))
            }
        }
        let world = Rc::new(RefCell::new(World {
            t: 0.0,
            sys_offset: 0.0,
            sys_freq: 0.0,
            phc_offset: 0.0,
            phc_freq: 0.0,
        }));
        let mut sys = FakeSystem(world);
        let mut sync = SystemSync::new(
            SyncDirection::PhcToSystem,
            &ServoConfig::default(),
            37,
            Duration::from_secs(1),
        );
        let err = sync.tick(&Broken, &mut sys, Instant::ZERO).unwrap_err();
        assert!(err.to_string().contains("ptp-broken"), "{err}");
    }
}
