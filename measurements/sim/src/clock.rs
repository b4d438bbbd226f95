//! The virtual clock of a node.
//!
//! Time in the simulator is **true time** `t`, in nanoseconds since the start
//! of the run, kept as `f64` (at 3000 s its resolution is below 1 ps).
//!
//! Each node has an oscillator and a PTP clock driven by it. The PTP clock
//! is described by its phase `x(t)`: the clock reads `EPOCH + t + x(t)`, so
//! `x` is exactly the **true clock error** the simulator reports. The phase
//! moves at the clock's total frequency error
//!
//! ```text
//! dx/dt = (f_osc(t) + u) * 1e-9        (f in ppb)
//! ```
//!
//! where `f_osc` is the oscillator's own error: a base frequency error
//! (`frequency-ppm`) plus a random walk that moves it by N(0, sigma) at every
//! whole simulated second (sigma = `wander-ppb`, i.e. ppb/sqrt(s), as
//! clknetsim does), and `u` is the frequency adjustment the servo commanded
//! (additive, like Linux's `ADJ_FREQUENCY` to first order). A step adds to
//! `x` at once.
//!
//! Timers (`statime::time::Instant`) run on true time: the core's timer
//! intervals are then exact, which differs from a real monotonic clock by
//! the oscillator's error (100 ppm of a 1 s interval is 100 us), far below
//! anything a timer decides. Only timestamps and the clock error use the
//! steered PTP clock.

use statime::clock::Clock;
use statime::time::{Duration, Time};

use crate::rng::Rng;

/// The PTP epoch offset of true time 0: 2023-11-14T22:13:20 TAI, a whole
/// second (and a multiple of every timestamp granularity of interest).
pub const EPOCH_NS: u64 = 1_700_000_000_000_000_000;

/// Nanoseconds per second as `f64`.
pub const NS: f64 = 1e9;

/// A drifting, steerable clock in true time.
#[derive(Clone, Debug)]
pub struct SimClock {
    /// True time up to which `x` is integrated, ns.
    t: f64,
    /// Phase: clock minus true time, ns.
    x: f64,
    /// The oscillator's own frequency error, ppb (base + wander so far).
    f_osc: f64,
    /// The servo's frequency adjustment, ppb.
    u: f64,
    /// Random walk: N(0, wander) ppb at every whole second.
    wander_ppb: f64,
    next_wander: f64,
    rng: Rng,
    /// Largest |u| accepted, ppb.
    max_frequency_ppb: f64,
    /// Steps applied so far.
    steps: u64,
}

impl SimClock {
    /// A clock at true time `t0_ns` with phase `offset_ns`, frequency error
    /// `frequency_ppb`, random-walk wander `wander_ppb` per sqrt(s) drawn
    /// from `rng`, and the given adjustment limit.
    #[must_use]
    pub fn new(
        t0_ns: f64,
        offset_ns: f64,
        frequency_ppb: f64,
        wander_ppb: f64,
        max_frequency_ppb: f64,
        rng: Rng,
    ) -> Self {
        Self {
            t: t0_ns,
            x: offset_ns,
            f_osc: frequency_ppb,
            u: 0.0,
            wander_ppb,
            next_wander: (t0_ns / NS).floor() * NS + NS,
            rng,
            max_frequency_ppb,
            steps: 0,
        }
    }

    /// Integrates the phase up to true time `to_ns` (never backwards),
    /// applying the random walk at every whole second on the way.
    pub fn advance(&mut self, to_ns: f64) {
        if to_ns <= self.t {
            return;
        }
        while self.next_wander <= to_ns {
            let tick = self.next_wander;
            self.x += (self.f_osc + self.u) * 1e-9 * (tick - self.t);
            self.t = tick;
            if self.wander_ppb > 0.0 {
                self.f_osc += self.wander_ppb * self.rng.normal();
            }
            self.next_wander += NS;
        }
        self.x += (self.f_osc + self.u) * 1e-9 * (to_ns - self.t);
        self.t = to_ns;
    }

    /// The phase (clock minus true time) at true time `t_ns`, ns.
    pub fn error_at(&mut self, t_ns: f64) -> f64 {
        self.advance(t_ns);
        self.x
    }

    /// The phase at the last advance, ns.
    #[must_use]
    pub const fn error(&self) -> f64 {
        self.x
    }

    /// The total frequency error (oscillator plus adjustment), ppb.
    #[must_use]
    pub fn frequency_error_ppb(&self) -> f64 {
        self.f_osc + self.u
    }

    /// The frequency adjustment in force, ppb.
    #[must_use]
    pub const fn adjustment_ppb(&self) -> f64 {
        self.u
    }

    /// Steps applied so far.
    #[must_use]
    pub const fn steps(&self) -> u64 {
        self.steps
    }

    /// The clock's reading at true time `t_ns`, plus `extra_ns` (timestamp
    /// latency), floored to a multiple of `granularity_ns` if that is > 0.
    pub fn read(&mut self, t_ns: f64, extra_ns: f64, granularity_ns: f64) -> Time {
        self.advance(t_ns);
        let mut since_epoch = t_ns + self.x + extra_ns;
        if granularity_ns > 0.0 {
            since_epoch = (since_epoch / granularity_ns).floor() * granularity_ns;
        }
        Time::from_nanos(EPOCH_NS) + Duration::from_nanos_f64(since_epoch)
    }

    /// The reading at the current integration time (for [`Clock::now`]).
    #[must_use]
    pub fn now_time(&self) -> Time {
        Time::from_nanos(EPOCH_NS) + Duration::from_nanos_f64(self.t + self.x)
    }
}

impl Clock for SimClock {
    type Error = core::convert::Infallible;

    fn now(&self) -> Result<Time, Self::Error> {
        Ok(self.now_time())
    }

    fn adjust_frequency(&mut self, ppb: f64) -> Result<(), Self::Error> {
        self.u = ppb.clamp(-self.max_frequency_ppb, self.max_frequency_ppb);
        Ok(())
    }

    fn step(&mut self, offset: Duration) -> Result<(), Self::Error> {
        self.x += offset.nanos_f64();
        self.steps += 1;
        Ok(())
    }

    fn max_frequency_ppb(&self) -> f64 {
        self.max_frequency_ppb
    }
}
