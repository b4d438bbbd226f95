//! Steering: the glue between an instance's measurements, a servo and the
//! local clock (IEEE 1588-2019 clause 11.1 leaves this to the
//! implementation).
//!
//! [`Steering::handle_event`] takes every [`InstanceEvent`]: measurements go
//! to the servo and its action to the [`Clock`]; the servo's lock state
//! drives the port's UNCALIBRATED/SLAVE transition (MASTER_CLOCK_SELECTED
//! and SYNCHRONIZATION_FAULT, clause 9.2.5); losing the parent puts the
//! servo into holdover. The simulator and the Linux daemon share it.

use crate::clock::Clock;
use crate::instance::{InstanceEvent, PtpInstance};
use crate::port::Measurement;
use crate::servo::{
    AnyServo, Servo, ServoAction, ServoAlgorithm, ServoConfig, ServoSample, ServoState,
};
use crate::time::{Duration, Instant};
use crate::wire::tlv::PortState;

/// What one servo update did, for logs and status (linuxptp prints it as
/// `master offset %d s%d freq %+.0f path delay %d`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SteeringReport {
    /// The port the sample came from.
    pub port: usize,
    /// offsetFromMaster of the sample (local - master).
    pub offset: Duration,
    /// The path delay used.
    pub path_delay: Duration,
    /// The servo state after the sample.
    pub state: ServoState,
    /// The frequency adjustment now applied, ppb.
    pub frequency_ppb: f64,
    /// Whether the clock was stepped.
    pub stepped: bool,
    /// The servo rejected the sample as an outlier (it changed nothing):
    /// do not log it as a measurement or publish time from it.
    pub rejected: bool,
}

/// A servo bound to an instance and a clock.
#[derive(Clone, Debug)]
pub struct Steering {
    servo: AnyServo,
    /// Kalman wants whole E2E exchanges when the port provides them.
    prefer_exchanges: bool,
    /// An exchange has been seen from the current parent.
    exchanges_seen: bool,
    frequency_ppb: f64,
    slave_ports: u32,
    /// The parent port and grandmaster the servo is tracking.
    parent: Option<(crate::wire::PortIdentity, crate::wire::ClockIdentity)>,
    /// The parent changed: the next sample decides whether the servo
    /// starts afresh.
    reset_pending: bool,
}

/// A new parent whose first offset is within this (or four path delays)
/// does not restart the servo.
const RESUME_WITHIN: Duration = Duration::from_nanos(50_000);

impl Steering {
    /// A servo from `config`, starting from the clock's current frequency
    /// adjustment.
    #[must_use]
    pub fn new(config: &ServoConfig, current_frequency_ppb: f64) -> Self {
        Self {
            servo: AnyServo::new(config, current_frequency_ppb),
            prefer_exchanges: config.algorithm == ServoAlgorithm::Kalman,
            exchanges_seen: false,
            frequency_ppb: current_frequency_ppb,
            slave_ports: 0,
            parent: None,
            reset_pending: false,
        }
    }

    /// Steering with a servo built by the caller (for settings beyond
    /// [`ServoConfig`], such as the sync interval); `prefer_exchanges`
    /// picks whole E2E exchanges over per-Sync samples when a port gives
    /// both.
    #[must_use]
    pub fn with_servo(servo: AnyServo, prefer_exchanges: bool, current_frequency_ppb: f64) -> Self {
        Self {
            servo,
            prefer_exchanges,
            exchanges_seen: false,
            frequency_ppb: current_frequency_ppb,
            slave_ports: 0,
            parent: None,
            reset_pending: false,
        }
    }

    /// The servo (for its state, estimate and statistics).
    #[must_use]
    pub const fn servo(&self) -> &AnyServo {
        &self.servo
    }

    /// The frequency adjustment last applied, ppb.
    #[must_use]
    pub const fn frequency_ppb(&self) -> f64 {
        self.frequency_ppb
    }

    /// Hold the clock over although the instance still has a parent: the
    /// caller stopped feeding samples (the overlay's guard follows nobody).
    /// The servo keeps its frequency estimate without the phase term
    /// (clause 9.2.5's holdover, as when the last parent is lost); the next
    /// sample resumes tracking. Returns the frequency now applied, ppb.
    ///
    /// # Errors
    /// The clock's error when setting the frequency failed.
    pub fn holdover<C: Clock + ?Sized>(&mut self, clock: &mut C) -> Result<f64, C::Error> {
        let out = self.servo.holdover();
        self.apply(out.action, clock)?;
        Ok(self.frequency_ppb)
    }

    /// Handle one event of `instance`; returns a report when the servo ran.
    ///
    /// # Errors
    /// The clock's error when applying the servo's action failed (the
    /// caller decides whether that is fatal; the servo state is kept).
    pub fn handle_event<C: Clock + ?Sized, const P: usize, const F: usize>(
        &mut self,
        event: &InstanceEvent,
        instance: &mut PtpInstance<P, F>,
        clock: &mut C,
        now: Instant,
    ) -> Result<Option<SteeringReport>, C::Error> {
        match *event {
            InstanceEvent::Measurement { port, measurement } => {
                if self.prefer_exchanges && self.exchanges_seen {
                    return Ok(None);
                }
                self.sample(
                    port,
                    &measurement,
                    measurement.mean_path_delay,
                    instance,
                    clock,
                    now,
                )
            }
            InstanceEvent::Exchange { port, measurement } => {
                if !self.prefer_exchanges {
                    return Ok(None);
                }
                self.exchanges_seen = true;
                self.sample(
                    port,
                    &measurement,
                    measurement.raw_path_delay,
                    instance,
                    clock,
                    now,
                )
            }
            InstanceEvent::ParentChanged => {
                // A new parent port or grandmaster to follow: its time base
                // may be far from the old one. Whether to start afresh is
                // decided by its first sample (see `sample`): a new parent
                // that agrees with the servo's estimate (the same
                // grandmaster again after a rogue master came and went, or
                // a redundant grandmaster on the same time) keeps the lock.
                // A change of other attributes (priorities, quality) is no
                // reason to drop the lock, and a single stray Announce
                // cannot change the grandmaster (the foreign-master table
                // waits for a confirmation). With no parent the servo stays
                // in holdover.
                let ds = &instance.data_sets().parent;
                let parent = (ds.parent_port_identity, ds.grandmaster_identity);
                if self.slave_ports > 0 && self.parent.is_some_and(|p| p != parent) {
                    self.exchanges_seen = false;
                    self.reset_pending = true;
                }
                self.parent = Some(parent);
                Ok(None)
            }
            InstanceEvent::PortState { from, to, .. } => {
                let following =
                    |s: PortState| matches!(s, PortState::Slave | PortState::Uncalibrated);
                match (following(from), following(to)) {
                    (false, true) => {
                        if self.slave_ports == 0 && self.servo.state() == ServoState::Holdover {
                            self.servo.reset();
                        }
                        self.slave_ports = self.slave_ports.saturating_add(1);
                    }
                    (true, false) => {
                        self.slave_ports = self.slave_ports.saturating_sub(1);
                        if self.slave_ports == 0 {
                            // No parent left: keep the last good frequency.
                            let out = self.servo.holdover();
                            self.apply(out.action, clock)?;
                        }
                    }
                    _ => {}
                }
                Ok(None)
            }
        }
    }

    fn sample<C: Clock + ?Sized, const P: usize, const F: usize>(
        &mut self,
        port: usize,
        m: &Measurement,
        path_delay: Duration,
        instance: &mut PtpInstance<P, F>,
        clock: &mut C,
        now: Instant,
    ) -> Result<Option<SteeringReport>, C::Error> {
        if self.reset_pending {
            self.reset_pending = false;
            // The new parent agrees with where the servo is if its first
            // offset is within what the path (or 50 us) explains.
            let d = path_delay.abs();
            let agrees = self.servo.state().is_locked()
                && m.offset.abs() <= (d + d + d + d).max(RESUME_WITHIN);
            if !agrees {
                self.servo.reset();
            }
        }
        let applied_at = clock.now().unwrap_or(m.ingress);
        let sample = ServoSample {
            offset: m.offset,
            path_delay,
            local_time: m.ingress,
            now: applied_at,
        };
        let rejected_before = self.servo.stats().rejected;
        let out = self.servo.sample(sample);
        let rejected = self.servo.stats().rejected > rejected_before;
        let stepped = matches!(out.action, ServoAction::Step { .. });
        self.apply(out.action, clock)?;
        if stepped {
            instance.clock_stepped();
        }
        instance.update_current(
            m.offset.saturating_to_interval(),
            path_delay.saturating_to_interval(),
        );
        if out.state.is_locked() {
            instance.set_calibrated(now);
        } else if stepped || out.state == ServoState::Unlocked {
            instance.set_uncalibrated(now);
        }
        Ok(Some(SteeringReport {
            port,
            offset: m.offset,
            path_delay,
            state: out.state,
            frequency_ppb: self.frequency_ppb,
            stepped,
            rejected,
        }))
    }

    fn apply<C: Clock + ?Sized>(
        &mut self,
        action: ServoAction,
        clock: &mut C,
    ) -> Result<(), C::Error> {
        match action {
            ServoAction::None => {}
            ServoAction::Frequency { ppb } => self.frequency_ppb = ppb,
            ServoAction::Step { frequency_ppb, .. } => self.frequency_ppb = frequency_ppb,
        }
        action.apply(clock)
    }
}
