//! The PI servo of linuxptp (`clock_servo pi`), reimplemented from its
//! documented behaviour.
//!
//! - Gains from the Sync interval `s` (seconds):
//!   `kp = min(kp_scale · s^kp_exponent, kp_norm_max / s)` and
//!   `ki = min(ki_scale · s^ki_exponent, ki_norm_max / s)`, with scales 0.7 and
//!   0.3 for hardware time stamps, 0.1 and 0.001 for software ones,
//!   exponents -0.3 and 0.4, norm maxima 0.7 and 0.3. Explicit constants
//!   replace the scales and disable the exponents.
//! - Sample 1 is stored. Sample 2 (at least `0.016 / ki` seconds later)
//!   estimates the frequency error from the two offsets; the clock then gets
//!   that frequency and, if the offset is beyond the (first) step threshold,
//!   a step.
//! - Afterwards `freq = kp·offset + drift + ki·offset`, clamped to the
//!   frequency limit; the integral `drift` only accumulates when not clamped.
//! - An offset beyond a non-zero `step_threshold` restarts the acquisition.
//!
//! Internally the frequency is kept in ptp4l's sign (the clock's own
//! frequency error, positive = fast); the output is its negation.

use super::{
    ServoAction, ServoConfig, ServoEstimate, ServoOutput, ServoSample, ServoState, ServoStats,
    StableCounter, clamp_ppb, sane_limit, secs_between,
};
use crate::time::Time;

/// Settings of [`PiServo`] (ptp4l's `pi_*` options). A zero constant or
/// scale means "automatic", as in ptp4l.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case", default))]
pub struct PiConfig {
    /// `pi_proportional_const`: fixed kp (0 = derive from the Sync interval).
    pub proportional_const: f64,
    /// `pi_integral_const`: fixed ki (0 = derive from the Sync interval).
    pub integral_const: f64,
    /// `pi_proportional_scale` (0 = 0.7 hardware / 0.1 software).
    pub proportional_scale: f64,
    /// `pi_proportional_exponent` (-0.3).
    pub proportional_exponent: f64,
    /// `pi_proportional_norm_max` (0.7).
    pub proportional_norm_max: f64,
    /// `pi_integral_scale` (0 = 0.3 hardware / 0.001 software).
    pub integral_scale: f64,
    /// `pi_integral_exponent` (0.4).
    pub integral_exponent: f64,
    /// `pi_integral_norm_max` (0.3).
    pub integral_norm_max: f64,
}

impl Default for PiConfig {
    fn default() -> Self {
        Self {
            proportional_const: 0.0,
            integral_const: 0.0,
            proportional_scale: 0.0,
            proportional_exponent: -0.3,
            proportional_norm_max: 0.7,
            integral_scale: 0.0,
            integral_exponent: 0.4,
            integral_norm_max: 0.3,
        }
    }
}

/// Gains derivation parameters after resolving the automatic values.
#[derive(Clone, Copy, Debug)]
struct GainRule {
    kp_scale: f64,
    kp_exponent: f64,
    kp_norm_max: f64,
    ki_scale: f64,
    ki_exponent: f64,
    ki_norm_max: f64,
}

impl GainRule {
    fn new(pi: &PiConfig, software: bool) -> Self {
        if pi.proportional_const > 0.0 && pi.integral_const > 0.0 {
            // Constants as configured; the norm maxima only guard stability.
            return Self {
                kp_scale: pi.proportional_const,
                kp_exponent: 0.0,
                kp_norm_max: 1.0,
                ki_scale: pi.integral_const,
                ki_exponent: 0.0,
                ki_norm_max: 2.0,
            };
        }
        let (kp_default, ki_default) = if software { (0.1, 0.001) } else { (0.7, 0.3) };
        let (kp_scale, ki_scale) = if pi.proportional_scale > 0.0 && pi.integral_scale > 0.0 {
            (pi.proportional_scale, pi.integral_scale)
        } else {
            (kp_default, ki_default)
        };
        Self {
            kp_scale,
            kp_exponent: pi.proportional_exponent,
            kp_norm_max: pi.proportional_norm_max,
            ki_scale,
            ki_exponent: pi.integral_exponent,
            ki_norm_max: pi.integral_norm_max,
        }
    }

    /// (kp, ki) for a Sync interval of `s` seconds.
    fn gains(&self, s: f64) -> (f64, f64) {
        let s = if s.is_finite() && s > 0.0 { s } else { 1.0 };
        let kp = (self.kp_scale * libm::pow(s, self.kp_exponent)).min(self.kp_norm_max / s);
        let ki = (self.ki_scale * libm::pow(s, self.ki_exponent)).min(self.ki_norm_max / s);
        (kp, ki)
    }
}

#[derive(Clone, Copy, Debug)]
enum Phase {
    /// No sample yet.
    Empty,
    /// One sample stored (ptp4l count 1); `latest` is overwritten while
    /// waiting for the frequency-estimation interval.
    One { offset: f64, local: Time },
    /// Locked (ptp4l count 2).
    Running,
}

/// linuxptp's PI servo (see the module documentation).
#[derive(Clone, Debug)]
pub struct PiServo {
    rule: GainRule,
    kp: f64,
    ki: f64,
    /// ptp4l `drift`: the clock's own frequency error, ppb (+ = fast).
    drift: f64,
    /// The frequency last commanded, in ptp4l's sign.
    last_freq: f64,
    /// The frequency hint given at creation (ptp4l's sign).
    initial_drift: f64,
    phase: Phase,
    first_update: bool,
    step_threshold_ns: f64,
    first_step_threshold_ns: f64,
    max_frequency: f64,
    stable: StableCounter,
    state: ServoState,
    last_offset: f64,
    stats: ServoStats,
}

impl PiServo {
    /// A PI servo with `config` (its `pi` part and the shared thresholds), for
    /// a clock whose frequency adjustment is currently
    /// `current_frequency_ppb` (positive = faster; 0 if unknown). The Sync
    /// interval starts at 1 s; see [`super::Servo::set_sync_interval`].
    #[must_use]
    pub fn new(config: &ServoConfig, current_frequency_ppb: f64) -> Self {
        let rule = GainRule::new(&config.pi, config.software_timestamping);
        let (kp, ki) = rule.gains(1.0);
        let max_frequency = sane_limit(config.max_frequency_ppb);
        let drift = clamp_ppb(-current_frequency_ppb, max_frequency);
        Self {
            rule,
            kp,
            ki,
            drift,
            last_freq: drift,
            initial_drift: drift,
            phase: Phase::Empty,
            first_update: true,
            step_threshold_ns: threshold_ns(config.step_threshold),
            first_step_threshold_ns: threshold_ns(config.first_step_threshold),
            max_frequency,
            stable: StableCounter::new(config),
            state: ServoState::Unlocked,
            last_offset: 0.0,
            stats: ServoStats::default(),
        }
    }

    /// The current gains (kp, ki).
    #[must_use]
    pub const fn gains(&self) -> (f64, f64) {
        (self.kp, self.ki)
    }

    fn unlocked(&mut self) -> ServoOutput {
        self.state = ServoState::Unlocked;
        self.stable.reset();
        ServoOutput {
            action: ServoAction::None,
            state: self.state,
        }
    }

    fn step_allowed(&self, abs_offset: f64) -> bool {
        (self.first_update
            && self.first_step_threshold_ns > 0.0
            && abs_offset > self.first_step_threshold_ns)
            || (self.step_threshold_ns > 0.0 && abs_offset > self.step_threshold_ns)
    }
}

/// Seconds to nanoseconds; non-positive or non-finite means "disabled" (0).
fn threshold_ns(seconds: f64) -> f64 {
    if seconds.is_finite() && seconds > 0.0 {
        seconds * 1e9
    } else {
        0.0
    }
}

impl super::Servo for PiServo {
    fn sample(&mut self, sample: ServoSample) -> ServoOutput {
        self.stats.samples += 1;
        let offset = sample.offset.nanos_f64();
        let local = sample.local_time;
        self.last_offset = offset;
        match self.phase {
            Phase::Empty => {
                self.phase = Phase::One { offset, local };
                self.unlocked()
            }
            Phase::One {
                offset: first_offset,
                local: first_local,
            } => {
                if local <= first_local {
                    // Time went back: start over with this sample.
                    self.stats.rejected += 1;
                    self.phase = Phase::Empty;
                    return self.unlocked();
                }
                let dt = secs_between(local, first_local);
                // ptp4l waits 0.016 / ki (at most 1000 s) before estimating.
                let wait = if self.ki > 0.0 {
                    (0.016 / self.ki).min(1000.0)
                } else {
                    1000.0
                };
                if dt * 1.001 < wait {
                    return self.unlocked();
                }
                let rate = (offset - first_offset) / dt; // ns/s = ppb
                self.drift = clamp_ppb(
                    self.drift + (1.0 - self.drift * 1e-9) * rate,
                    self.max_frequency,
                );
                self.phase = Phase::Running;
                self.last_freq = self.drift;
                let freq = -self.drift;
                if self.step_allowed(libm::fabs(offset)) {
                    self.first_update = false;
                    self.stats.steps += 1;
                    self.stable.reset();
                    self.state = ServoState::Stepping;
                    ServoOutput {
                        action: ServoAction::Step {
                            by: -sample.offset,
                            frequency_ppb: freq,
                        },
                        state: self.state,
                    }
                } else {
                    self.first_update = false;
                    self.state = self.stable.locked(offset);
                    ServoOutput {
                        action: ServoAction::Frequency { ppb: freq },
                        state: self.state,
                    }
                }
            }
            Phase::Running => {
                if self.step_threshold_ns > 0.0 && libm::fabs(offset) > self.step_threshold_ns {
                    // Re-estimate the frequency and step, as at start-up.
                    self.phase = Phase::Empty;
                    return self.unlocked();
                }
                let ki_term = self.ki * offset;
                let mut ppb = self.kp * offset + self.drift + ki_term;
                if ppb < -self.max_frequency {
                    ppb = -self.max_frequency;
                } else if ppb > self.max_frequency {
                    ppb = self.max_frequency;
                } else {
                    self.drift += ki_term;
                }
                if ppb.is_nan() {
                    ppb = self.drift;
                }
                self.last_freq = ppb;
                self.state = self.stable.locked(offset);
                ServoOutput {
                    action: ServoAction::Frequency { ppb: -ppb },
                    state: self.state,
                }
            }
        }
    }

    fn holdover(&mut self) -> ServoOutput {
        // Keep the integral (the frequency estimate) without the
        // proportional term of the last offset.
        self.last_freq = self.drift;
        self.state = ServoState::Holdover;
        self.stable.reset();
        ServoOutput {
            action: ServoAction::Frequency { ppb: -self.drift },
            state: self.state,
        }
    }

    fn reset(&mut self) {
        self.phase = Phase::Empty;
        self.state = ServoState::Unlocked;
        self.stable.reset();
    }

    fn state(&self) -> ServoState {
        self.state
    }

    fn set_sync_interval(&mut self, seconds: f64) {
        let (kp, ki) = self.rule.gains(seconds);
        self.kp = kp;
        self.ki = ki;
    }

    fn set_max_frequency(&mut self, ppb: f64) {
        if ppb.is_finite() && ppb > 0.0 && ppb < self.max_frequency {
            self.max_frequency = ppb;
            self.drift = clamp_ppb(self.drift, ppb);
            self.initial_drift = clamp_ppb(self.initial_drift, ppb);
        }
    }

    fn estimate(&self) -> ServoEstimate {
        ServoEstimate {
            offset: self.last_offset * 1e-9,
            offset_uncertainty: f64::INFINITY,
            frequency_ppb: -self.last_freq,
            frequency_uncertainty_ppb: f64::INFINITY,
        }
    }

    fn stats(&self) -> ServoStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::super::Servo;
    use super::*;
    use crate::time::Duration;

    fn t(s: f64) -> Time {
        Time::from_secs_nanos(1000, 0) + Duration::from_nanos_f64(s * 1e9)
    }

    fn sample(offset_ns: f64, at: f64) -> ServoSample {
        ServoSample::new(
            Duration::from_nanos_f64(offset_ns),
            Duration::from_nanos(100),
            t(at),
        )
    }

    #[test]
    fn gains_follow_ptp4l() {
        let hw = GainRule::new(&PiConfig::default(), false);
        let (kp, ki) = hw.gains(1.0);
        assert!((kp - 0.7).abs() < 1e-12 && (ki - 0.3).abs() < 1e-12);
        let (kp, ki) = hw.gains(0.125);
        // 0.7 * 0.125^-0.3 = 1.304 > 0.7/0.125 = 5.6? no: min(1.304, 5.6)
        assert!((kp - 0.7 * libm::pow(0.125, -0.3)).abs() < 1e-9);
        assert!((ki - 0.3 * libm::pow(0.125, 0.4)).abs() < 1e-9);
        let (kp, _) = hw.gains(16.0);
        assert!((kp - 0.7 / 16.0).abs() < 1e-12);
        let sw = GainRule::new(&PiConfig::default(), true);
        let (kp, ki) = sw.gains(1.0);
        assert!((kp - 0.1).abs() < 1e-12 && (ki - 0.001).abs() < 1e-12);
        let fixed = GainRule::new(
            &PiConfig {
                proportional_const: 0.5,
                integral_const: 0.05,
                ..PiConfig::default()
            },
            false,
        );
        let (kp, ki) = fixed.gains(0.25);
        assert!((kp - 0.5).abs() < 1e-12 && (ki - 0.05).abs() < 1e-12);
    }

    #[test]
    fn first_two_samples_estimate_frequency_and_step() {
        let mut s = PiServo::new(&ServoConfig::default(), 0.0);
        let o = s.sample(sample(100_000_000.0, 0.0));
        assert_eq!(o.action, ServoAction::None);
        assert_eq!(o.state, ServoState::Unlocked);
        // +100 ppm: the offset grows 100 us per second.
        let o = s.sample(sample(100_100_000.0, 1.0));
        assert_eq!(o.state, ServoState::Stepping);
        match o.action {
            ServoAction::Step { by, frequency_ppb } => {
                assert_eq!(by, Duration::from_nanos(-100_100_000));
                assert!((frequency_ppb + 100_000.0).abs() < 20.0, "{frequency_ppb}");
            }
            other => panic!("{other:?}"),
        }
        // Locked afterwards: a positive offset slows the clock further.
        let o = s.sample(sample(50.0, 2.0));
        assert_eq!(o.state, ServoState::Locked);
        match o.action {
            ServoAction::Frequency { ppb } => assert!(ppb < -100_000.0),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.stats().steps, 1);
    }

    #[test]
    fn small_first_offset_does_not_step_and_later_ones_never_do() {
        let mut s = PiServo::new(&ServoConfig::default(), 0.0);
        s.sample(sample(1000.0, 0.0));
        let o = s.sample(sample(1010.0, 1.0));
        assert_eq!(o.state, ServoState::Locked);
        // step_threshold 0: even a huge offset only slews (clamped).
        let o = s.sample(sample(1e12, 2.0));
        assert_eq!(
            o.action,
            ServoAction::Frequency {
                ppb: -900_000_000.0
            }
        );
    }

    #[test]
    fn step_threshold_restarts_acquisition() {
        let cfg = ServoConfig {
            step_threshold: 1e-3,
            ..ServoConfig::default()
        };
        let mut s = PiServo::new(&cfg, 0.0);
        s.sample(sample(10.0, 0.0));
        s.sample(sample(10.0, 1.0));
        let o = s.sample(sample(5e6, 2.0));
        assert_eq!(o.state, ServoState::Unlocked);
        s.sample(sample(5e6, 3.0));
        let o = s.sample(sample(5e6, 4.0));
        assert!(matches!(o.action, ServoAction::Step { .. }));
    }

    #[test]
    fn software_waits_for_frequency_estimate_and_time_must_advance() {
        let cfg = ServoConfig {
            software_timestamping: true,
            ..ServoConfig::default()
        };
        let mut s = PiServo::new(&cfg, 0.0);
        s.sample(sample(0.0, 0.0));
        // 0.016 / 0.001 = 16 s.
        assert_eq!(s.sample(sample(10.0, 5.0)).state, ServoState::Unlocked);
        assert_eq!(s.sample(sample(160.0, 16.0)).state, ServoState::Locked);
        let mut s = PiServo::new(&ServoConfig::default(), 0.0);
        s.sample(sample(0.0, 5.0));
        assert_eq!(s.sample(sample(0.0, 4.0)).state, ServoState::Unlocked);
        assert_eq!(s.stats().rejected, 1);
    }

    #[test]
    fn holdover_keeps_integral_and_limits_apply() {
        let mut s = PiServo::new(&ServoConfig::default(), 250.0);
        let o = s.holdover();
        assert_eq!(o.action, ServoAction::Frequency { ppb: 250.0 });
        assert_eq!(o.state, ServoState::Holdover);
        s.set_max_frequency(100.0);
        assert_eq!(s.holdover().action, ServoAction::Frequency { ppb: 100.0 });
        s.set_sync_interval(0.125);
        assert!(s.gains().0 > 0.7);
        s.reset();
        assert_eq!(s.state(), ServoState::Unlocked);
        assert!(s.estimate().offset_uncertainty.is_infinite());
    }
}
