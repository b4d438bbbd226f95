//! A running minimum of the path delay over a sliding window, in O(1)
//! memory: the window is cut into blocks and only each block's minimum is
//! kept.

/// Number of completed blocks remembered.
const BLOCKS: usize = 16;

/// The minimum of the last `BLOCKS * block_len` (plus up to `block_len - 1`)
/// values pushed.
#[derive(Clone, Debug)]
pub(super) struct MinTracker {
    block_len: u32,
    /// Minima of completed blocks, a ring.
    blocks: [f64; BLOCKS],
    /// Completed blocks stored (at most `BLOCKS`).
    filled: usize,
    /// Next ring slot to write.
    next: usize,
    /// Minimum of the block being filled.
    current: f64,
    /// Values in the block being filled.
    current_len: u32,
    /// Values pushed since the last reset (saturating).
    total: u32,
}

impl MinTracker {
    pub(super) fn new(block_len: u32) -> Self {
        Self {
            block_len: block_len.max(1),
            blocks: [f64::INFINITY; BLOCKS],
            filled: 0,
            next: 0,
            current: f64::INFINITY,
            current_len: 0,
            total: 0,
        }
    }

    pub(super) fn reset(&mut self) {
        *self = Self::new(self.block_len);
    }

    /// Values seen since the last reset.
    pub(super) const fn count(&self) -> u32 {
        self.total
    }

    pub(super) fn push(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.total = self.total.saturating_add(1);
        self.current = self.current.min(value);
        self.current_len += 1;
        if self.current_len >= self.block_len {
            if let Some(slot) = self.blocks.get_mut(self.next) {
                *slot = self.current;
            }
            self.next = (self.next + 1) % BLOCKS;
            self.filled = (self.filled + 1).min(BLOCKS);
            self.current = f64::INFINITY;
            self.current_len = 0;
        }
    }

    /// The window minimum, or `None` before the first value.
    pub(super) fn min(&self) -> Option<f64> {
        let m = self
            .blocks
            .iter()
            .take(self.filled)
            .fold(self.current, |a, &b| a.min(b));
        m.is_finite().then_some(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_minimum_ages_out() {
        let mut m = MinTracker::new(2);
        assert_eq!(m.min(), None);
        m.push(5.0);
        assert_eq!(m.min(), Some(5.0));
        m.push(f64::NAN);
        assert_eq!(m.count(), 1);
        m.push(3.0);
        m.push(4.0);
        assert_eq!(m.min(), Some(3.0));
        // 16 more blocks of 2 later, the 3.0 and 4.0 are gone.
        for _ in 0..(2 * BLOCKS + 2) {
            m.push(10.0);
        }
        assert_eq!(m.min(), Some(10.0));
        m.reset();
        assert_eq!(m.min(), None);
        assert_eq!(m.count(), 0);
    }
}
