//! Clock servos: from offset measurements to clock corrections.
//!
//! IEEE 1588-2019 specifies how a slave measures its offset from the master
//! (clause 11.3 for the delay request-response mechanism, 11.4 for peer
//! delay) but leaves the correction of the local clock to the implementation
//! (clause 11.1; Annex A of the 2008 edition sketched a PI loop). This module
//! offers two servos behind one interface, [`Servo`]:
//!
//! - [`PiServo`]: the proportional-integral servo of linuxptp's `ptp4l`,
//!   with the same gains, the same two-sample frequency estimate and the same
//!   step rules. It is the baseline.
//! - [`KalmanServo`]: a two-state (phase, frequency) Kalman filter whose
//!   measurement noise is derived from each sample's path delay, with
//!   outlier rejection and re-acquisition. See `docs/algorithm/servo.md`.
//!
//! [`AnyServo`] selects one of them from a [`ServoConfig`].
//!
//! # Conventions
//!
//! - A [`ServoSample::offset`] is offsetFromMaster (clause 11.3.2):
//!   **local clock minus master clock**, positive when the local clock is
//!   ahead. This is also the sign of ptp4l's "master offset".
//! - A [`ServoAction`] frequency is the **absolute** adjustment to apply with
//!   [`crate::clock::Clock::adjust_frequency`], positive = faster.
//! - A step is the duration to **add** to the clock
//!   ([`crate::clock::Clock::step`]); it is the negated offset.
//!
//! The servos never read a clock: all times come in with the samples.

mod kalman;
mod min_delay;
mod pi;

pub use kalman::{KalmanConfig, KalmanServo};
pub use pi::{PiConfig, PiServo};

use crate::clock::Clock;
use crate::time::{Duration, Time};

/// One measurement of the local clock against its master.
///
/// For the delay request-response mechanism the best sample is one complete
/// exchange (a Sync with t1, t2 and the Delay_Req sent after it, with t3,
/// t4): then `offset` and `path_delay` are the offsetFromMaster and
/// meanPathDelay of clause 11.3.2 computed from the same four timestamps,
/// and a large `path_delay` flags a sample disturbed by queuing, which
/// [`KalmanServo`] weighs down. A port may also pass offsets computed with a
/// filtered meanPathDelay (as ptp4l does); the servos accept both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ServoSample {
    /// offsetFromMaster: local clock minus master clock (clause 11.3.2,
    /// 11.4.2), corrections and delayAsymmetry already applied.
    pub offset: Duration,
    /// meanPathDelay (E2E) or meanLinkDelay (P2P) used to compute `offset`.
    pub path_delay: Duration,
    /// The local (steered) clock's time at which `offset` holds. For an E2E
    /// exchange that is the midpoint of t2 and t3; for a Sync combined with a
    /// filtered delay, t2.
    pub local_time: Time,
    /// The local clock's time at which the caller applies the servo's answer
    /// (usually the receive time of the message that completed the sample).
    /// Pass `local_time` if unknown. [`KalmanServo`] uses it to account for
    /// the clock's drift between the measurement and the correction;
    /// [`PiServo`] ignores it, like ptp4l.
    pub now: Time,
}

impl ServoSample {
    /// A sample taken and handled at the same instant (`now == local_time`).
    #[must_use]
    pub const fn new(offset: Duration, path_delay: Duration, local_time: Time) -> Self {
        Self {
            offset,
            path_delay,
            local_time,
            now: local_time,
        }
    }
}

/// What the caller must do to the clock after a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ServoAction {
    /// Leave the clock alone.
    None,
    /// Set the frequency adjustment to `ppb` (absolute; positive = faster).
    Frequency {
        /// The frequency adjustment, parts per billion.
        ppb: f64,
    },
    /// Set the frequency adjustment to `frequency_ppb`, then step the clock
    /// by adding `by` to it (ptp4l's "s1" state).
    Step {
        /// The duration to add to the clock (the negated offset).
        by: Duration,
        /// The frequency adjustment to set first, parts per billion.
        frequency_ppb: f64,
    },
}

impl ServoAction {
    /// Applies the action to `clock`: sets the frequency, then steps.
    ///
    /// # Errors
    /// The first error the clock reports.
    pub fn apply<C: Clock + ?Sized>(&self, clock: &mut C) -> Result<(), C::Error> {
        match *self {
            Self::None => Ok(()),
            Self::Frequency { ppb } => clock.adjust_frequency(ppb),
            Self::Step { by, frequency_ppb } => {
                clock.adjust_frequency(frequency_ppb)?;
                clock.step(by)
            }
        }
    }
}

/// The servo's state, mirroring ptp4l's `s0`..`s3` (plus holdover).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ServoState {
    /// s0: not enough samples yet (or reset).
    #[default]
    Unlocked,
    /// s1: the clock is being stepped by this output.
    Stepping,
    /// s2: tracking the master by frequency adjustments.
    Locked,
    /// s3: locked, and the offset stayed below
    /// [`ServoConfig::stable_offset_threshold`] for
    /// [`ServoConfig::stable_sample_count`] samples.
    LockedStable,
    /// The master is lost: the clock keeps the last frequency estimate
    /// (ptp4l has no such state; it reports the last one).
    Holdover,
}

impl ServoState {
    /// The ptp4l log code: 0 unlocked, 1 step, 2 locked, 3 locked-stable
    /// (holdover reports 0).
    #[must_use]
    pub const fn ptp4l_code(self) -> u8 {
        match self {
            Self::Unlocked | Self::Holdover => 0,
            Self::Stepping => 1,
            Self::Locked => 2,
            Self::LockedStable => 3,
        }
    }

    /// Whether the servo follows the master (s2 or s3).
    #[must_use]
    pub const fn is_locked(self) -> bool {
        matches!(self, Self::Locked | Self::LockedStable)
    }
}

/// The answer to one sample.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ServoOutput {
    /// What to do to the clock.
    pub action: ServoAction,
    /// The servo's state after the sample.
    pub state: ServoState,
}

/// The servo's current view of the clock, for status reports and for the
/// fault-tolerant overlay (an interval `offset ± k·offset_uncertainty`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ServoEstimate {
    /// Estimated offset (local minus master) at the last update, seconds.
    pub offset: f64,
    /// One standard deviation of `offset`, seconds (`f64::INFINITY` while
    /// unknown; the PI servo has no uncertainty model and reports infinity).
    pub offset_uncertainty: f64,
    /// The frequency adjustment currently commanded, ppb (positive = faster).
    pub frequency_ppb: f64,
    /// One standard deviation of the frequency estimate, ppb.
    pub frequency_uncertainty_ppb: f64,
}

/// Counters a servo keeps since its creation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ServoStats {
    /// Samples received.
    pub samples: u64,
    /// Samples rejected as outliers (or as unusable, e.g. time going back).
    pub rejected: u64,
    /// Times the servo gave up its estimate to follow a consistent new offset.
    pub reacquisitions: u64,
    /// Steps commanded.
    pub steps: u64,
}

/// The servo algorithm to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ServoAlgorithm {
    /// linuxptp's PI servo ([`PiServo`]).
    Pi,
    /// The delay-weighted Kalman filter ([`KalmanServo`]).
    #[default]
    Kalman,
}

/// Settings shared by every servo, with ptp4l's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case", default))]
pub struct ServoConfig {
    /// Which servo to run.
    pub algorithm: ServoAlgorithm,
    /// ptp4l `step_threshold`, seconds: once locked, an offset above this
    /// is corrected by a step. 0 (default) never steps after the first lock.
    pub step_threshold: f64,
    /// ptp4l `first_step_threshold`, seconds: the first correction steps if
    /// the offset exceeds this (default 20 us). 0 disables the first step.
    pub first_step_threshold: f64,
    /// ptp4l `max_frequency`, ppb: the largest frequency adjustment commanded
    /// (default 900 000 000). The effective limit is the smaller of this and
    /// the clock's [`Clock::max_frequency_ppb`], set with
    /// [`Servo::set_max_frequency`].
    pub max_frequency_ppb: f64,
    /// ptp4l `servo_offset_threshold`, seconds: the offset below which the
    /// servo counts towards [`ServoState::LockedStable`]. 0 (default)
    /// disables that state.
    pub stable_offset_threshold: f64,
    /// ptp4l `servo_num_offset_values`: how many consecutive samples below
    /// `stable_offset_threshold` make the state s3 (default 10).
    pub stable_sample_count: u32,
    /// The time stamps are taken in software: selects ptp4l's software PI
    /// gains (kp 0.1, ki 0.001 instead of 0.7, 0.3) and a larger timestamp
    /// noise floor for the Kalman filter.
    pub software_timestamping: bool,
    /// Settings of the PI servo.
    pub pi: PiConfig,
    /// Settings of the Kalman servo.
    pub kalman: KalmanConfig,
}

impl Default for ServoConfig {
    fn default() -> Self {
        Self {
            algorithm: ServoAlgorithm::default(),
            step_threshold: 0.0,
            first_step_threshold: 20e-6,
            max_frequency_ppb: 900_000_000.0,
            stable_offset_threshold: 0.0,
            stable_sample_count: 10,
            software_timestamping: false,
            pi: PiConfig::default(),
            kalman: KalmanConfig::default(),
        }
    }
}

/// The interface of every servo.
///
/// Feed each offset measurement to [`Servo::sample`] and apply the returned
/// [`ServoAction`] to the clock. Call [`Servo::holdover`] when the master is
/// lost, and [`Servo::reset`] when a different master is selected.
pub trait Servo {
    /// Processes one measurement and answers with the clock correction.
    fn sample(&mut self, sample: ServoSample) -> ServoOutput;

    /// The master is lost (for example on the sync receipt timeout): keep the
    /// clock running on the last frequency estimate, without any phase
    /// correction, until samples resume. Returns the action that does so
    /// (the frequency to hold).
    fn holdover(&mut self) -> ServoOutput;

    /// Forgets everything learned about the clock's offset (not the frequency
    /// hint) and starts a new acquisition. The next samples may step the
    /// clock only if `step_threshold` allows it.
    fn reset(&mut self);

    /// The state after the last call.
    fn state(&self) -> ServoState;

    /// Tells the servo the master's Sync interval in seconds
    /// (2^logSyncInterval, clause 7.7.2.3); the PI servo derives its gains
    /// from it.
    fn set_sync_interval(&mut self, seconds: f64);

    /// Lowers the frequency limit to the clock's (`min(config, clock)`),
    /// typically with [`Clock::max_frequency_ppb`].
    fn set_max_frequency(&mut self, ppb: f64);

    /// The servo's current estimate.
    fn estimate(&self) -> ServoEstimate;

    /// The servo's counters.
    fn stats(&self) -> ServoStats;
}

/// Either servo, chosen at run time from [`ServoConfig::algorithm`], without
/// allocation or dynamic dispatch.
#[derive(Clone, Debug)]
// No allocator to box the larger variant; a few hundred bytes is fine.
#[allow(clippy::large_enum_variant)]
pub enum AnyServo {
    /// The PI servo.
    Pi(PiServo),
    /// The Kalman servo.
    Kalman(KalmanServo),
}

impl AnyServo {
    /// The servo `config.algorithm` names. `current_frequency_ppb` is the
    /// clock's frequency adjustment when the servo starts (0 if unknown).
    #[must_use]
    pub fn new(config: &ServoConfig, current_frequency_ppb: f64) -> Self {
        match config.algorithm {
            ServoAlgorithm::Pi => Self::Pi(PiServo::new(config, current_frequency_ppb)),
            ServoAlgorithm::Kalman => Self::Kalman(KalmanServo::new(config, current_frequency_ppb)),
        }
    }

    fn inner(&self) -> &dyn Servo {
        match self {
            Self::Pi(s) => s,
            Self::Kalman(s) => s,
        }
    }

    fn inner_mut(&mut self) -> &mut dyn Servo {
        match self {
            Self::Pi(s) => s,
            Self::Kalman(s) => s,
        }
    }
}

impl Servo for AnyServo {
    fn sample(&mut self, sample: ServoSample) -> ServoOutput {
        self.inner_mut().sample(sample)
    }
    fn holdover(&mut self) -> ServoOutput {
        self.inner_mut().holdover()
    }
    fn reset(&mut self) {
        self.inner_mut().reset();
    }
    fn state(&self) -> ServoState {
        self.inner().state()
    }
    fn set_sync_interval(&mut self, seconds: f64) {
        self.inner_mut().set_sync_interval(seconds);
    }
    fn set_max_frequency(&mut self, ppb: f64) {
        self.inner_mut().set_max_frequency(ppb);
    }
    fn estimate(&self) -> ServoEstimate {
        self.inner().estimate()
    }
    fn stats(&self) -> ServoStats {
        self.inner().stats()
    }
}

/// Clamps `ppb` to `±max` (NaN becomes 0).
fn clamp_ppb(ppb: f64, max: f64) -> f64 {
    if ppb.is_nan() {
        0.0
    } else {
        ppb.clamp(-max, max)
    }
}

/// A sanitised frequency limit: positive and finite, else ptp4l's default.
fn sane_limit(ppb: f64) -> f64 {
    if ppb.is_finite() && ppb > 0.0 {
        ppb
    } else {
        900_000_000.0
    }
}

/// ptp4l's s3 bookkeeping: counts consecutive small offsets.
#[derive(Clone, Copy, Debug)]
struct StableCounter {
    threshold_ns: f64,
    needed: u32,
    remaining: u32,
}

impl StableCounter {
    fn new(config: &ServoConfig) -> Self {
        let threshold_ns = if config.stable_offset_threshold.is_finite() {
            config.stable_offset_threshold * 1e9
        } else {
            0.0
        };
        Self {
            threshold_ns,
            needed: config.stable_sample_count,
            remaining: config.stable_sample_count,
        }
    }

    fn reset(&mut self) {
        self.remaining = self.needed;
    }

    /// Locked or LockedStable after a locked sample with `offset_ns`.
    fn locked(&mut self, offset_ns: f64) -> ServoState {
        if self.threshold_ns <= 0.0 {
            return ServoState::Locked;
        }
        if libm::fabs(offset_ns) < self.threshold_ns {
            self.remaining = self.remaining.saturating_sub(1);
        } else {
            self.remaining = self.needed;
        }
        if self.remaining == 0 {
            ServoState::LockedStable
        } else {
            ServoState::Locked
        }
    }
}

/// Seconds from `earlier` to `later` as `f64` (negative if reversed).
fn secs_between(later: Time, earlier: Time) -> f64 {
    (later - earlier).secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder {
        freq: f64,
        stepped: Duration,
    }

    impl Clock for Recorder {
        type Error = ();
        fn now(&self) -> Result<Time, ()> {
            Ok(Time::EPOCH)
        }
        fn adjust_frequency(&mut self, ppb: f64) -> Result<(), ()> {
            self.freq = ppb;
            Ok(())
        }
        fn step(&mut self, offset: Duration) -> Result<(), ()> {
            self.stepped += offset;
            Ok(())
        }
        fn max_frequency_ppb(&self) -> f64 {
            500_000.0
        }
    }

    #[test]
    fn apply_actions() {
        let mut c = Recorder::default();
        ServoAction::Frequency { ppb: 12.5 }.apply(&mut c).unwrap();
        assert!((c.freq - 12.5).abs() < 1e-12);
        ServoAction::Step {
            by: Duration::from_nanos(-5),
            frequency_ppb: -3.0,
        }
        .apply(&mut c)
        .unwrap();
        assert!((c.freq + 3.0).abs() < 1e-12);
        assert_eq!(c.stepped, Duration::from_nanos(-5));
        ServoAction::None.apply(&mut c).unwrap();
        assert_eq!(c.stepped, Duration::from_nanos(-5));
        assert!(
            c.set_properties(&crate::clock::ClockProperties::default())
                .is_ok()
        );
    }

    #[test]
    fn state_codes() {
        assert_eq!(ServoState::Unlocked.ptp4l_code(), 0);
        assert_eq!(ServoState::Stepping.ptp4l_code(), 1);
        assert_eq!(ServoState::Locked.ptp4l_code(), 2);
        assert_eq!(ServoState::LockedStable.ptp4l_code(), 3);
        assert!(ServoState::LockedStable.is_locked());
        assert!(!ServoState::Holdover.is_locked());
    }

    #[test]
    fn clamps() {
        assert!((clamp_ppb(f64::NAN, 5.0)).abs() < 1e-12);
        assert!((clamp_ppb(10.0, 5.0) - 5.0).abs() < 1e-12);
        assert!((clamp_ppb(-10.0, 5.0) + 5.0).abs() < 1e-12);
        assert!((sane_limit(-1.0) - 900_000_000.0).abs() < 1e-3);
        assert!((sane_limit(f64::INFINITY) - 900_000_000.0).abs() < 1e-3);
    }

    #[test]
    fn stable_counter() {
        let mut cfg = ServoConfig::default();
        let mut off = StableCounter::new(&cfg);
        assert_eq!(off.locked(0.0), ServoState::Locked);
        cfg.stable_offset_threshold = 100e-9;
        cfg.stable_sample_count = 2;
        let mut c = StableCounter::new(&cfg);
        assert_eq!(c.locked(50.0), ServoState::Locked);
        assert_eq!(c.locked(-50.0), ServoState::LockedStable);
        assert_eq!(c.locked(500.0), ServoState::Locked);
        c.reset();
        assert_eq!(c.locked(1.0), ServoState::Locked);
    }
}
