//! The port's timers: one deadline per kind, on the caller's monotonic
//! clock ([`Instant`]); `poll_timeout` is the earliest of them.

use crate::time::{Duration, Instant};

/// Every timer a port runs (IEEE 1588-2019 clause 9.2.6 events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// Send the next Announce (MASTER).
    Announce,
    /// Send the next Sync (MASTER).
    Sync,
    /// Send the next Delay_Req (SLAVE/UNCALIBRATED, E2E).
    DelayReq,
    /// Send the next Pdelay_Req (P2P, every state but DISABLED/FAULTY).
    PdelayReq,
    /// ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES (clause 9.2.6.12).
    AnnounceReceipt,
    /// SYNC_RECEIPT_TIMEOUT_EXPIRES (clause 9.2.6.13).
    SyncReceipt,
    /// QUALIFICATION_TIMEOUT_EXPIRES: PRE_MASTER to MASTER (clause 9.2.6.11).
    Qualification,
    /// Leave FAULTY and re-initialise (clause 9.2.6.8, implementation specific).
    FaultRecovery,
    /// A TX timestamp did not arrive in time.
    TxTimestamp,
}

const ALL: [Timer; 9] = [
    Timer::Announce,
    Timer::Sync,
    Timer::DelayReq,
    Timer::PdelayReq,
    Timer::AnnounceReceipt,
    Timer::SyncReceipt,
    Timer::Qualification,
    Timer::FaultRecovery,
    Timer::TxTimestamp,
];

/// One optional deadline per [`Timer`].
#[derive(Clone, Debug, Default)]
pub struct TimerTable([Option<Instant>; 9]);

impl TimerTable {
    fn slot(t: Timer) -> usize {
        t as usize
    }

    /// Arm `t` to expire at `at` (replacing an earlier deadline).
    pub fn set(&mut self, t: Timer, at: Instant) {
        if let Some(s) = self.0.get_mut(Self::slot(t)) {
            *s = Some(at);
        }
    }

    /// Disarm `t`.
    pub fn stop(&mut self, t: Timer) {
        if let Some(s) = self.0.get_mut(Self::slot(t)) {
            *s = None;
        }
    }

    /// Disarm every timer.
    pub fn stop_all(&mut self) {
        self.0 = [None; 9];
    }

    /// The deadline of `t`, if armed.
    #[must_use]
    pub fn get(&self, t: Timer) -> Option<Instant> {
        self.0.get(Self::slot(t)).copied().flatten()
    }

    /// The earliest deadline of all.
    #[must_use]
    pub fn earliest(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }

    /// Disarm and return one timer whose deadline is at or before `now`,
    /// the earliest first.
    pub fn pop_expired(&mut self, now: Instant) -> Option<Timer> {
        let t = ALL
            .iter()
            .filter_map(|&t| self.get(t).filter(|d| *d <= now).map(|d| (d, t)))
            .min_by_key(|(d, _)| *d)?
            .1;
        self.stop(t);
        Some(t)
    }
}

/// A small deterministic PRNG (xorshift64*) for the randomised intervals
/// of clause 9.5.11.2 and the announce receipt timeout. Seeded by the
/// caller: the core has no entropy source of its own.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced by a fixed odd constant).
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A duration uniform in `[0, max)`; zero when `max` is not positive.
    pub fn below(&mut self, max: Duration) -> Duration {
        let ns = max.nanos_floor();
        match u64::try_from(ns) {
            Ok(n) if n > 0 => Duration::from_nanos(i64::try_from(self.next_u64() % n).unwrap_or(0)),
            _ => Duration::ZERO,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let mut t = TimerTable::default();
        assert_eq!(t.earliest(), None);
        t.set(Timer::Sync, Instant::from_secs(3));
        t.set(Timer::Announce, Instant::from_secs(2));
        t.set(Timer::TxTimestamp, Instant::from_secs(9));
        assert_eq!(t.earliest(), Some(Instant::from_secs(2)));
        assert_eq!(t.pop_expired(Instant::from_secs(1)), None);
        assert_eq!(t.pop_expired(Instant::from_secs(5)), Some(Timer::Announce));
        assert_eq!(t.pop_expired(Instant::from_secs(5)), Some(Timer::Sync));
        assert_eq!(t.pop_expired(Instant::from_secs(5)), None);
        t.stop(Timer::TxTimestamp);
        assert_eq!(t.earliest(), None);
    }

    #[test]
    fn rng_is_deterministic_and_bounded() {
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for _ in 0..100 {
            let x = a.below(Duration::from_secs(1));
            assert_eq!(x, b.below(Duration::from_secs(1)));
            assert!(x >= Duration::ZERO && x < Duration::from_secs(1));
        }
        assert_eq!(Rng::new(0).below(Duration::ZERO), Duration::ZERO);
    }
}
