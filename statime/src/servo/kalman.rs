//! A delay-weighted Kalman servo (see `docs/algorithm/servo.md`).
//!
//! State: the clock's offset from its master `x` (ns, local minus master)
//! and the clock's own frequency error `f` (ppb, positive = fast). Between
//! samples the offset moves at `f + u`, where `u` is the frequency adjustment
//! the servo commanded (known). Process noise comes from a clock stability
//! model: random-walk frequency noise (`frequency_wander`, ppb/sqrt(s)) and
//! white frequency noise (`white_frequency_noise`, ppb).
//!
//! Each measurement's variance is built from its path delay: with
//! `excess = path_delay - min(recent path delays)`, the queueing that made
//! the delay exceed its floor also bounds the offset error (|error| <=
//! excess for any non-negative queueing in the two directions), so
//! `R = ts² + w·excess² + r_extra`, where `w` is 1/3 for an error uniform
//! within that bound, `ts` the timestamp noise and `r_extra` a learnt
//! variance for noise the delay does not explain.
//!
//! Innovations beyond `k·sqrt(S)` (with a floor) are rejected and counted.
//! After `reacquire_after` consecutive rejections the rejected innovations
//! are examined: if they agree with each other (a real phase jump of the
//! master) the filter re-acquires the new phase; if not (noise larger than
//! modelled, or garbage) it widens the gate for a few samples. A single wild
//! sample never moves the clock.
//!
//! Control: `u = -f̂ - x̂/T`, which cancels the estimated frequency error and
//! removes the estimated offset over the time constant `T` (one Sync
//! interval by default), evaluated at the sample's `now`.

use super::min_delay::MinTracker;
use super::{
    ServoAction, ServoConfig, ServoEstimate, ServoOutput, ServoSample, ServoState, ServoStats,
    StableCounter, clamp_ppb, sane_limit, secs_between,
};
use crate::time::{Duration, Time};

/// Most rejected innovations remembered for the re-acquisition test.
const MAX_REJECT_WINDOW: usize = 16;
/// Path delays needed before the delay weighting is trusted.
const MIN_DELAY_SAMPLES: u32 = 8;

/// Settings of [`KalmanServo`]. Times in seconds, frequencies in ppb.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case", default))]
pub struct KalmanConfig {
    /// Random-walk frequency noise of the local oscillator, ppb per
    /// sqrt(second): the standard deviation of the frequency change over one
    /// second. Default 1.0 (an uncompensated crystal; a TCXO is nearer 0.1).
    pub frequency_wander: f64,
    /// White frequency noise of the local oscillator, ppb (its phase
    /// wanders by this many ns per sqrt(second)). Default 0.1.
    pub white_frequency_noise: f64,
    /// Timestamp noise with hardware timestamping, seconds (default 4 ns).
    pub timestamp_noise: f64,
    /// Timestamp noise with software timestamping, seconds (default 50 ns).
    pub software_timestamp_noise: f64,
    /// Weight `w` of the squared excess path delay in the measurement
    /// variance (default 1/3: error uniform within ±excess).
    pub delay_weight: f64,
    /// Samples per block of the sliding path-delay minimum; the window is 16
    /// blocks (default 16, a 256-sample window).
    pub delay_window_block: u32,
    /// Innovations beyond this many standard deviations are rejected
    /// (default 5).
    pub outlier_sigma: f64,
    /// Innovations within this many seconds are never rejected (default
    /// 100 ns).
    pub outlier_floor: f64,
    /// Consecutive rejections that trigger the re-acquisition test (default
    /// 4, at most 16).
    pub reacquire_after: u8,
    /// Time constant of the phase correction, in Sync intervals (default 1:
    /// remove the estimated offset by the next sample).
    pub phase_time_constant: f64,
    /// Measurement noise assumed before any is learnt, seconds (default
    /// 1 us; a larger value is only slower, never unsafe).
    pub initial_noise: f64,
    /// Floor of the rate at which the extra measurement variance is learnt
    /// (exponential forgetting, default 0.02 per sample).
    pub noise_learning_rate: f64,
}

impl Default for KalmanConfig {
    fn default() -> Self {
        Self {
            frequency_wander: 1.0,
            white_frequency_noise: 0.1,
            timestamp_noise: 4e-9,
            software_timestamp_noise: 50e-9,
            delay_weight: 1.0 / 3.0,
            delay_window_block: 16,
            outlier_sigma: 5.0,
            outlier_floor: 100e-9,
            reacquire_after: 4,
            phase_time_constant: 1.0,
            initial_noise: 1e-6,
            noise_learning_rate: 0.02,
        }
    }
}

/// Finite and non-negative, else `default`.
fn nonneg(v: f64, default: f64) -> f64 {
    if v.is_finite() && v >= 0.0 {
        v
    } else {
        default
    }
}

/// The configuration with every value checked, in ns and ppb.
#[derive(Clone, Copy, Debug)]
struct Params {
    /// Random-walk FM intensity, ppb²/s.
    q_f: f64,
    /// White FM intensity, ns²/s.
    q_x: f64,
    /// Timestamp noise variance, ns².
    ts_var: f64,
    delay_weight: f64,
    outlier_k2: f64,
    outlier_floor2: f64,
    reacquire_after: usize,
    phase_tc: f64,
    initial_var: f64,
    learning_rate: f64,
}

impl Params {
    fn new(c: &KalmanConfig, software: bool) -> Self {
        let d = KalmanConfig::default();
        let wander = nonneg(c.frequency_wander, d.frequency_wander);
        let white = nonneg(c.white_frequency_noise, d.white_frequency_noise);
        let ts = if software {
            nonneg(c.software_timestamp_noise, d.software_timestamp_noise)
        } else {
            nonneg(c.timestamp_noise, d.timestamp_noise)
        } * 1e9;
        let k = nonneg(c.outlier_sigma, d.outlier_sigma).max(1.0);
        let floor = nonneg(c.outlier_floor, d.outlier_floor) * 1e9;
        let tc = nonneg(c.phase_time_constant, d.phase_time_constant).max(0.1);
        let init = nonneg(c.initial_noise, d.initial_noise).max(1e-12) * 1e9;
        let rate = nonneg(c.noise_learning_rate, d.noise_learning_rate).clamp(1e-4, 1.0);
        Self {
            q_f: wander * wander,
            q_x: white * white,
            // At least (0.1 ns)^2 keeps the filter away from zero variance.
            ts_var: (ts * ts).max(0.01),
            delay_weight: nonneg(c.delay_weight, d.delay_weight),
            outlier_k2: k * k,
            outlier_floor2: floor * floor,
            reacquire_after: usize::from(c.reacquire_after).clamp(1, MAX_REJECT_WINDOW),
            phase_tc: tc,
            initial_var: init * init,
            learning_rate: rate,
        }
    }
}

/// The shortest time between the two samples of the initial frequency
/// estimate, seconds.
const MIN_BASELINE_S: f64 = 0.5;
/// After this long the initial estimate takes any second sample, seconds.
const MAX_BASELINE_S: f64 = 4.0;
/// The servo reports a lock only when the phase variance is below (1 us)^2
/// (ns^2) ...
const LOCK_PHASE_VARIANCE: f64 = 1.0e6;
/// ... and the frequency variance below (1 ppm)^2 (ppb^2).
const LOCK_FREQUENCY_VARIANCE: f64 = 1.0e6;

#[derive(Clone, Copy, Debug)]
enum Phase {
    /// No sample yet.
    Empty,
    /// One sample stored, waiting for a second to estimate the frequency.
    One {
        offset: f64,
        local: Time,
        delay: f64,
    },
    /// The filter runs.
    Tracking,
}

/// The delay-weighted Kalman servo (see the module documentation).
#[derive(Clone, Debug)]
pub struct KalmanServo {
    p: Params,
    phase: Phase,
    /// Offset estimate at `t`, ns (local minus master).
    x: f64,
    /// The clock's own frequency error, ppb (positive = fast).
    f: f64,
    /// Covariance of (x, f).
    p00: f64,
    p01: f64,
    p11: f64,
    /// The frequency adjustment in force since `t`, ppb (positive = faster).
    u: f64,
    /// When `x` and the covariance hold (local clock time).
    t: Time,
    /// Learnt measurement variance not explained by the path delay, ns².
    r_extra: f64,
    /// Temporary widening after inconsistent rejections, ns²; shrinks
    /// fourfold with every accepted sample.
    r_widen: f64,
    /// Accepted samples since the learning started (for its rate).
    learnt: u32,
    /// Correction applied since the filter started, ns: the integral of
    /// `u` plus the steps. `offset - applied` is the free-running phase.
    applied: f64,
    /// The last accepted samples as (time, free-running phase, model
    /// variance), oldest first, for the filter-independent noise estimate.
    history: [(Time, f64, f64); 2],
    history_len: usize,
    min_delay: MinTracker,
    /// The latest consecutive rejected samples as (time, innovation),
    /// oldest first; `rejects_len` of them are valid.
    rejects: [(Time, f64); MAX_REJECT_WINDOW],
    rejects_len: usize,
    consecutive_rejects: usize,
    first_update: bool,
    /// The lock criterion has been met since the last acquisition: later
    /// samples keep the lock (hysteresis) until a step or a restart.
    certain: bool,
    step_threshold_ns: f64,
    first_step_threshold_ns: f64,
    max_frequency: f64,
    sync_interval: f64,
    stable: StableCounter,
    state: ServoState,
    stats: ServoStats,
}

impl KalmanServo {
    /// A Kalman servo with `config` (its `kalman` part and the shared
    /// thresholds), for a clock whose frequency adjustment is currently
    /// `current_frequency_ppb` (positive = faster; 0 if unknown).
    #[must_use]
    pub fn new(config: &ServoConfig, current_frequency_ppb: f64) -> Self {
        let p = Params::new(&config.kalman, config.software_timestamping);
        let max_frequency = sane_limit(config.max_frequency_ppb);
        let u = clamp_ppb(current_frequency_ppb, max_frequency);
        Self {
            p,
            phase: Phase::Empty,
            x: 0.0,
            f: -u,
            p00: f64::INFINITY,
            p01: 0.0,
            p11: f64::INFINITY,
            u,
            t: Time::EPOCH,
            r_extra: p.initial_var,
            r_widen: 0.0,
            learnt: 0,
            applied: 0.0,
            history: [(Time::EPOCH, 0.0, 0.0); 2],
            history_len: 0,
            min_delay: MinTracker::new(config.kalman.delay_window_block),
            rejects: [(Time::EPOCH, 0.0); MAX_REJECT_WINDOW],
            rejects_len: 0,
            consecutive_rejects: 0,
            first_update: true,
            certain: false,
            step_threshold_ns: threshold_ns(config.step_threshold),
            first_step_threshold_ns: threshold_ns(config.first_step_threshold),
            max_frequency,
            sync_interval: 1.0,
            stable: StableCounter::new(config),
            state: ServoState::Unlocked,
            stats: ServoStats::default(),
        }
    }

    /// The variance currently learnt for noise the path delay does not
    /// explain, seconds².
    #[must_use]
    pub fn extra_noise_variance(&self) -> f64 {
        self.r_extra * 1e-18
    }

    /// The current path-delay floor (minimum over the window), seconds.
    #[must_use]
    pub fn min_path_delay(&self) -> Option<f64> {
        self.min_delay.min().map(|d| d * 1e-9)
    }

    /// Propagates the state and covariance to `to`.
    fn predict(&mut self, to: Time) {
        let dt = secs_between(to, self.t);
        let dt = if dt.is_finite() { dt } else { 0.0 };
        let a = libm::fabs(dt);
        let q = &self.p;
        self.x += (self.f + self.u) * dt;
        self.applied += self.u * dt;
        let p00 = self.p00 + 2.0 * dt * self.p01 + dt * dt * self.p11;
        let p01 = self.p01 + dt * self.p11;
        self.p00 = p00 + q.q_x * a + q.q_f * a * a * a / 3.0;
        self.p01 = p01 + q.q_f * a * a / 2.0;
        self.p11 += q.q_f * a;
        self.t = to;
    }

    /// Measurement variance explained by timestamping and the path delay.
    fn model_variance(&self, path_delay: f64) -> f64 {
        let excess = match self.min_delay.min() {
            Some(min) if self.min_delay.count() >= MIN_DELAY_SAMPLES => (path_delay - min).max(0.0),
            _ => 0.0,
        };
        self.p.ts_var + self.p.delay_weight * excess * excess
    }

    /// The frequency command: cancel `f`, remove `x` over the time constant.
    fn control(&mut self) {
        let tc = self.p.phase_tc * self.sync_interval;
        self.u = clamp_ppb(-self.f - self.x / tc, self.max_frequency);
    }

    fn step_allowed(&self, abs_offset: f64) -> bool {
        (self.first_update
            && self.first_step_threshold_ns > 0.0
            && abs_offset > self.first_step_threshold_ns)
            || (self.step_threshold_ns > 0.0 && abs_offset > self.step_threshold_ns)
    }

    /// Ends a sample handled in the filter: predicts to `now`, steps if
    /// allowed, otherwise commands the frequency.
    fn finish(&mut self, now: Time, may_step: bool) -> ServoOutput {
        self.predict(now);
        if may_step && self.step_allowed(libm::fabs(self.x)) {
            let by = Duration::from_nanos_f64(-self.x);
            self.applied -= self.x;
            self.x = 0.0;
            self.control();
            self.first_update = false;
            self.certain = false;
            self.stats.steps += 1;
            self.stable.reset();
            // The delay floor was measured while the clock was far off.
            self.min_delay.reset();
            self.state = ServoState::Stepping;
            return ServoOutput {
                action: ServoAction::Step {
                    by,
                    frequency_ppb: self.u,
                },
                state: self.state,
            };
        }
        self.first_update = false;
        self.control();
        // Locked only once the filter is sure of phase and frequency: right
        // after acquisition the frequency may still be far off.
        self.certain |= self.p00 < LOCK_PHASE_VARIANCE && self.p11 < LOCK_FREQUENCY_VARIANCE;
        self.state = if self.certain {
            self.stable.locked(self.x)
        } else {
            self.stable.reset();
            ServoState::Unlocked
        };
        ServoOutput {
            action: ServoAction::Frequency { ppb: self.u },
            state: self.state,
        }
    }

    fn unlocked(&mut self) -> ServoOutput {
        self.state = ServoState::Unlocked;
        self.stable.reset();
        ServoOutput {
            action: ServoAction::None,
            state: self.state,
        }
    }

    /// Second sample of an acquisition: initialise the filter.
    ///
    /// The two-point frequency estimate divides the offset noise by the
    /// time between the samples, so it waits for a baseline of at least
    /// [`MIN_BASELINE_S`] and for an end sample whose path delay is close to
    /// the anchor's (a queued exchange can be off by its excess delay); a
    /// later sample with a lower path delay than the anchor becomes the new
    /// anchor. After [`MAX_BASELINE_S`] it takes whatever comes.
    fn start(
        &mut self,
        first_offset: f64,
        first_local: Time,
        first_delay: f64,
        sample: &ServoSample,
    ) -> ServoOutput {
        let z = sample.offset.nanos_f64();
        let dt = secs_between(sample.local_time, first_local);
        let delay = sample.path_delay.nanos_f64();
        if dt.is_finite() && dt > 0.0 && dt < MAX_BASELINE_S {
            let quiet = delay <= first_delay * 1.5 + 1_000.0;
            if dt < MIN_BASELINE_S || !quiet {
                if delay < first_delay {
                    self.phase = Phase::One {
                        offset: z,
                        local: sample.local_time,
                        delay,
                    };
                }
                return self.unlocked();
            }
        }
        if !(dt.is_finite() && dt > 0.0) {
            self.stats.rejected += 1;
            self.phase = Phase::One {
                offset: z,
                local: sample.local_time,
                delay: sample.path_delay.nanos_f64(),
            };
            return self.unlocked();
        }
        // The clock ran at f + u between the two samples.
        let f = (z - first_offset) / dt - self.u;
        if !f.is_finite() || libm::fabs(f) > self.max_frequency {
            // Not a clock this servo can follow: start over from this one.
            self.stats.rejected += 1;
            self.phase = Phase::One {
                offset: z,
                local: sample.local_time,
                delay: sample.path_delay.nanos_f64(),
            };
            return self.unlocked();
        }
        let r = self.model_variance(sample.path_delay.nanos_f64()) + self.r_extra;
        self.x = z;
        self.f = f;
        self.p00 = r;
        self.p01 = r / dt;
        self.p11 = 2.0 * r / (dt * dt) + self.p.q_f * dt;
        self.t = sample.local_time;
        self.phase = Phase::Tracking;
        self.certain = false;
        self.consecutive_rejects = 0;
        self.rejects_len = 0;
        self.applied = 0.0;
        self.history = [(sample.local_time, z, r - self.r_extra); 2];
        self.history_len = 1;
        self.finish(sample.now, true)
    }

    /// Learns the measurement variance the delay model misses from the
    /// accepted samples alone, independently of the filter's state: the
    /// free-running phase (offset minus the corrections applied) is
    /// extrapolated linearly from the two previous samples, and the
    /// prediction error's variance, less what the model explains, is
    /// averaged (running mean at first, then exponential forgetting).
    /// Each contribution is clipped, so a burst of wild samples inflates the
    /// estimate by a bounded factor per sample.
    fn learn_noise(&mut self, at: Time, z: f64, r_model: f64) {
        let y = z - self.applied;
        if self.history_len >= 2 {
            let [(t0, y0, r0), (t1, y1, r1)] = self.history;
            let dt1 = secs_between(t1, t0);
            let dt2 = secs_between(at, t1);
            if dt1 > 0.0 && dt2 > 0.0 && dt1.is_finite() && dt2.is_finite() {
                let rho = dt2 / dt1;
                let e = y - (y1 + (y1 - y0) * rho);
                let a = 1.0 + rho;
                let known = r_model
                    + a * a * r1
                    + rho * rho * r0
                    + self.p.q_x * dt2 * a
                    + self.p.q_f * dt2 * dt2 * (dt1 + dt2) / 3.0;
                let denom = 1.0 + a * a + rho * rho;
                let cap = self.p.outlier_k2 * (known + denom * self.r_extra);
                let inst = ((e * e).min(cap) - known) / denom;
                self.learnt = self.learnt.saturating_add(1);
                let rate = (1.0 / f64::from(self.learnt)).max(self.p.learning_rate);
                self.r_extra = (self.r_extra + rate * (inst - self.r_extra)).max(0.0);
            }
        }
        if self.history_len == 0 {
            self.history = [(at, y, r_model); 2];
        } else {
            self.history[0] = self.history[1];
            self.history[1] = (at, y, r_model);
        }
        self.history_len = (self.history_len + 1).min(2);
    }

    /// Remembers a rejected innovation (keeping the last
    /// `reacquire_after`).
    fn remember_rejection(&mut self, at: Time, nu: f64) {
        let n = self.p.reacquire_after;
        if self.rejects_len >= n {
            self.rejects.copy_within(1..n, 0);
            self.rejects_len = n - 1;
        }
        if let Some(slot) = self.rejects.get_mut(self.rejects_len) {
            *slot = (at, nu);
            self.rejects_len += 1;
        }
        self.consecutive_rejects += 1;
    }

    /// The re-acquisition test on the last `reacquire_after` consecutive
    /// rejections. A line is fitted through their innovations over time: if
    /// every innovation lies within a quarter of the largest one, and within
    /// twice the current gate, from that line, the master's phase (and
    /// perhaps frequency) moved and the filter follows the line; returns
    /// true then. After twice as many
    /// inconsistent rejections the gate is widened instead (noise larger
    /// than modelled, or garbage).
    fn reacquire(&mut self, last_variance: f64, gate: f64) -> bool {
        let window = self.rejects.get(..self.rejects_len).unwrap_or(&[]);
        let Some(&(t_last, _)) = window.last() else {
            return false;
        };
        let n = window.len() as f64;
        // Least squares: nu = a + b * (t - t_last), t in seconds.
        let (mut st, mut sv, mut stt, mut stv, mut largest) = (0.0, 0.0, 0.0, 0.0, 0.0_f64);
        for &(t, v) in window {
            let x = secs_between(t, t_last);
            st += x;
            sv += v;
            stt += x * x;
            stv += x * v;
            largest = largest.max(libm::fabs(v));
        }
        let det = n * stt - st * st;
        let (a, b) = if det > 1e-9 {
            ((sv * stt - st * stv) / det, (n * stv - st * sv) / det)
        } else {
            (sv / n, 0.0)
        };
        let worst = window.iter().fold(0.0_f64, |m, &(t, v)| {
            m.max(libm::fabs(v - a - b * secs_between(t, t_last)))
        });
        if window.len() >= self.p.reacquire_after && worst <= (0.25 * largest).min(2.0 * gate) {
            // Consistent: follow the line from the latest sample.
            self.x += a;
            self.f += b;
            self.p00 = last_variance;
            self.p01 = 0.0;
            self.p11 += b * b;
            self.stats.reacquisitions += 1;
            self.min_delay.reset();
            self.history_len = 0;
            self.rejects_len = 0;
            self.consecutive_rejects = 0;
            return true;
        }
        if self.consecutive_rejects >= 2 * self.p.reacquire_after {
            // Widen the gate for a while so that such innovations are about
            // two standard deviations; the learnt variance catches up if
            // they persist, and the widening fades if they stop.
            let mean_square = window.iter().map(|&(_, v)| v * v).sum::<f64>() / n;
            self.r_widen = self.r_widen.max(mean_square / 4.0);
            self.rejects_len = 0;
            self.consecutive_rejects = 0;
        }
        false
    }

    fn track(&mut self, sample: &ServoSample) -> ServoOutput {
        let z = sample.offset.nanos_f64();
        let d = sample.path_delay.nanos_f64();
        if !(z.is_finite() && d.is_finite()) {
            self.stats.rejected += 1;
            return self.finish(sample.now, false);
        }
        self.predict(sample.local_time);
        let r_model = self.model_variance(d);
        let s_model = self.p00 + r_model;
        let s_base = s_model + self.r_extra;
        let s = s_base + self.r_widen;
        let nu = z - self.x;
        let nu2 = nu * nu;
        let gate2 = (self.p.outlier_k2 * s).max(self.p.outlier_floor2);
        // NaN (never expected) counts as rejected.
        let within = matches!(
            nu2.partial_cmp(&gate2),
            Some(core::cmp::Ordering::Less | core::cmp::Ordering::Equal)
        );
        if !within {
            self.stats.rejected += 1;
            self.remember_rejection(sample.local_time, nu);
            if self.reacquire(s, libm::sqrt(gate2)) {
                return self.finish(sample.now, true);
            }
            return self.finish(sample.now, false);
        }
        self.consecutive_rejects = 0;
        self.rejects_len = 0;

        self.learn_noise(sample.local_time, z, r_model);
        self.r_widen = if self.r_widen > 1.0 {
            self.r_widen / 4.0
        } else {
            0.0
        };

        // Kalman update with H = [1, 0].
        let k0 = self.p00 / s;
        let k1 = self.p01 / s;
        self.x += k0 * nu;
        self.f += k1 * nu;
        let p00 = (1.0 - k0) * self.p00;
        let p01 = (1.0 - k0) * self.p01;
        let p11 = self.p11 - k1 * self.p01;
        self.p00 = p00.max(0.0);
        self.p01 = p01;
        self.p11 = p11.max(0.0);

        // Feed the delay floor only once the frequency is known well (a
        // clock off in frequency biases the measured path delay).
        if self.p11 < 400.0 && d >= 0.0 {
            self.min_delay.push(d);
        }
        self.finish(sample.now, self.step_threshold_ns > 0.0)
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

impl super::Servo for KalmanServo {
    fn sample(&mut self, sample: ServoSample) -> ServoOutput {
        self.stats.samples += 1;
        match self.phase {
            Phase::Empty => {
                self.phase = Phase::One {
                    offset: sample.offset.nanos_f64(),
                    local: sample.local_time,
                    delay: sample.path_delay.nanos_f64(),
                };
                self.unlocked()
            }
            Phase::One {
                offset,
                local,
                delay,
            } => self.start(offset, local, delay, &sample),
            Phase::Tracking => self.track(&sample),
        }
    }

    fn holdover(&mut self) -> ServoOutput {
        if matches!(self.phase, Phase::Tracking) {
            self.u = clamp_ppb(-self.f, self.max_frequency);
        }
        self.state = ServoState::Holdover;
        self.stable.reset();
        ServoOutput {
            action: ServoAction::Frequency { ppb: self.u },
            state: self.state,
        }
    }

    fn reset(&mut self) {
        self.phase = Phase::Empty;
        self.certain = false;
        self.consecutive_rejects = 0;
        self.rejects_len = 0;
        self.min_delay.reset();
        self.r_extra = self.p.initial_var;
        self.r_widen = 0.0;
        self.learnt = 0;
        self.history_len = 0;
        self.p00 = f64::INFINITY;
        self.p11 = f64::INFINITY;
        self.p01 = 0.0;
        self.state = ServoState::Unlocked;
        self.stable.reset();
    }

    fn state(&self) -> ServoState {
        self.state
    }

    fn set_sync_interval(&mut self, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            self.sync_interval = seconds;
        }
    }

    fn set_max_frequency(&mut self, ppb: f64) {
        if ppb.is_finite() && ppb > 0.0 && ppb < self.max_frequency {
            self.max_frequency = ppb;
            self.u = clamp_ppb(self.u, ppb);
        }
    }

    fn estimate(&self) -> ServoEstimate {
        let tracking = matches!(self.phase, Phase::Tracking);
        ServoEstimate {
            offset: if tracking { self.x * 1e-9 } else { 0.0 },
            offset_uncertainty: if tracking {
                libm::sqrt(self.p00) * 1e-9
            } else {
                f64::INFINITY
            },
            frequency_ppb: self.u,
            frequency_uncertainty_ppb: if tracking {
                libm::sqrt(self.p11)
            } else {
                f64::INFINITY
            },
        }
    }

    fn stats(&self) -> ServoStats {
        self.stats
    }
}
