//! Replay protection: a sliding window of sequence numbers.
//!
//! Each (peer, key id) has a window: the highest sequence number accepted
//! and a 64-bit bitmap of which of the 64 numbers ending there were seen. A
//! number above the highest moves the window; one inside it is accepted
//! once; one below it is too old. The window is updated only after the
//! message authenticated, so forged numbers cannot move it (the caller
//! checks the MAC first, as IPsec's anti-replay window does).
//!
//! Sequence number 0 is never accepted (a sender starts at 1 or above).

/// The width of the window (numbers that may arrive out of order).
pub const WINDOW: u64 = 64;

/// Why a sequence number was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReplayError {
    /// Seen before.
    Duplicate,
    /// Below the window (or 0).
    TooOld,
}

/// One sender's window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    /// The highest number accepted (0: none yet).
    highest: u64,
    /// Bit `i` set: `highest - i` was accepted.
    seen: u64,
}

impl ReplayWindow {
    /// A window that has accepted nothing.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            highest: 0,
            seen: 0,
        }
    }

    /// The highest number accepted so far (0: none).
    #[must_use]
    pub const fn highest(&self) -> u64 {
        self.highest
    }

    /// Whether `seq` would be accepted (does not record it).
    ///
    /// # Errors
    ///
    /// [`ReplayError`] when it was seen or is too old.
    pub const fn check(&self, seq: u64) -> Result<(), ReplayError> {
        if seq == 0 {
            return Err(ReplayError::TooOld);
        }
        if seq > self.highest {
            return Ok(());
        }
        let back = self.highest - seq;
        if back >= WINDOW {
            return Err(ReplayError::TooOld);
        }
        if self.seen & (1 << back) != 0 {
            Err(ReplayError::Duplicate)
        } else {
            Ok(())
        }
    }

    /// Accept `seq` if it is new, recording it.
    ///
    /// # Errors
    ///
    /// [`ReplayError`] when it was seen or is too old (nothing recorded).
    pub fn accept(&mut self, seq: u64) -> Result<(), ReplayError> {
        self.check(seq)?;
        if seq > self.highest {
            let shift = seq - self.highest;
            self.seen = if shift >= WINDOW {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.highest = seq;
        } else {
            self.seen |= 1 << (self.highest - seq);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_out_of_order_duplicate_and_old() {
        let mut w = ReplayWindow::new();
        assert_eq!(w.accept(0), Err(ReplayError::TooOld));
        assert_eq!(w.accept(10), Ok(()));
        assert_eq!(w.accept(10), Err(ReplayError::Duplicate));
        assert_eq!(w.accept(12), Ok(()));
        assert_eq!(w.accept(11), Ok(()), "late but inside the window");
        assert_eq!(w.accept(11), Err(ReplayError::Duplicate));
        assert_eq!(w.highest(), 12);
        assert_eq!(w.accept(12 + WINDOW - 1), Ok(()));
        // 12 is now the oldest number in the window; 11 fell out.
        assert_eq!(w.accept(12), Err(ReplayError::Duplicate));
        assert_eq!(w.accept(11), Err(ReplayError::TooOld));
        assert_eq!(w.accept(13), Ok(()));
        // A big jump clears the bitmap.
        assert_eq!(w.accept(u64::MAX), Ok(()));
        assert_eq!(w.accept(u64::MAX), Err(ReplayError::Duplicate));
        assert_eq!(w.accept(u64::MAX - 1), Ok(()));
        assert_eq!(w.accept(u64::MAX - WINDOW), Err(ReplayError::TooOld));
    }

    #[test]
    fn matches_a_set_model() {
        // Every number is accepted at most once, and every accepted number
        // is within the window of the highest at that moment.
        let mut w = ReplayWindow::new();
        let mut accepted = alloc::collections::BTreeSet::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let seq = 1 + (x % 300);
            let highest = accepted.iter().next_back().copied().unwrap_or(0);
            let fresh = !accepted.contains(&seq) && seq + WINDOW > highest;
            assert_eq!(w.accept(seq).is_ok(), fresh, "seq {seq} highest {highest}");
            if fresh {
                accepted.insert(seq);
            }
        }
    }
}
