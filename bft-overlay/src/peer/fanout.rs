//! Fan-out: which `k` peers to measure in each poll round.
//!
//! The peers are visited in a cyclic order that is reshuffled (seeded
//! xorshift, so deterministic) at the start of every cycle; each round takes
//! the next `k` of them. Every peer is thus measured once per
//! `ceil(n / k)` rounds, a node sends `k` requests per round whatever `n`,
//! and the order varies from cycle to cycle so that nodes sharing a seed
//! policy do not all probe the same peer at once.

use alloc::vec::Vec;

use super::wire::NodeId;

/// A xorshift64* generator (Vigna 2016): small, seedable, no dependency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator seeded with `seed` (0 is mapped to a fixed non-zero
    /// value: xorshift has no zero state).
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub const fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`0` when `n == 0`); the modulo bias is below
    /// `n / 2^64`.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// The rotating choice of peers.
#[derive(Clone, Debug)]
pub struct FanOut {
    order: Vec<NodeId>,
    next: usize,
    k: usize,
    rng: XorShift,
}

impl FanOut {
    /// Choose `k` (at least 1) of `peers` per round, shuffled with `seed`.
    #[must_use]
    pub fn new(peers: impl IntoIterator<Item = NodeId>, k: usize, seed: u64) -> Self {
        let mut order: Vec<NodeId> = peers.into_iter().collect();
        order.sort_unstable();
        order.dedup();
        let mut s = Self {
            next: order.len(),
            order,
            k: k.max(1),
            rng: XorShift::new(seed),
        };
        s.reshuffle();
        s
    }

    /// Peers per round.
    #[must_use]
    pub const fn k(&self) -> usize {
        self.k
    }

    /// The number of peers.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are no peers.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    fn reshuffle(&mut self) {
        // Fisher-Yates.
        for i in (1..self.order.len()).rev() {
            let j = usize::try_from(self.rng.below(i as u64 + 1)).unwrap_or(0);
            self.order.swap(i, j);
        }
        self.next = 0;
    }

    /// Replace the peers (membership changed); a new, reshuffled cycle
    /// starts when the set differs.
    pub fn set_peers(&mut self, peers: impl IntoIterator<Item = NodeId>) {
        let mut order: Vec<NodeId> = peers.into_iter().collect();
        order.sort_unstable();
        order.dedup();
        let mut current = self.order.clone();
        current.sort_unstable();
        if current != order {
            self.order = order;
            self.reshuffle();
        }
    }

    /// The peers of the next round: `min(k, n)` distinct peers.
    pub fn round(&mut self) -> Vec<NodeId> {
        let want = self.k.min(self.order.len());
        let mut out = Vec::with_capacity(want);
        while out.len() < want {
            if self.next >= self.order.len() {
                self.reshuffle();
            }
            let p = self.order[self.next];
            self.next += 1;
            if out.contains(&p) {
                // Only after a reshuffle in the middle of a round; the next
                // cycle will reach it.
                continue;
            }
            out.push(p);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_peer_once_per_cycle_k_per_round() {
        let mut f = FanOut::new(1..=10, 3, 42);
        let mut count = [0u32; 11];
        // 10 rounds of 3 = 30 requests = 3 cycles.
        for _ in 0..10 {
            let r = f.round();
            assert_eq!(r.len(), 3);
            let mut d = r.clone();
            d.sort_unstable();
            d.dedup();
            assert_eq!(d.len(), 3, "distinct within a round: {r:?}");
            for p in r {
                count[usize::try_from(p).unwrap()] += 1;
            }
        }
        // Within 30 picks each of 10 peers is picked 2 to 4 times (3 full
        // cycles, but a round straddling a reshuffle may defer one).
        assert!(
            count[1..].iter().all(|&c| (2..=4).contains(&c)),
            "{count:?}"
        );
        assert_eq!(count[1..].iter().sum::<u32>(), 30);
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a: Vec<_> = (0..5).map(|_| FanOut::new(1..=8, 2, 7).round()).collect();
        let b: Vec<_> = (0..5).map(|_| FanOut::new(1..=8, 2, 7).round()).collect();
        assert_eq!(a, b);
        let mut x = FanOut::new(1..=8, 2, 7);
        let mut y = FanOut::new(1..=8, 2, 8);
        let xs: Vec<_> = (0..8).map(|_| x.round()).collect();
        let ys: Vec<_> = (0..8).map(|_| y.round()).collect();
        assert_ne!(xs, ys);
    }

    #[test]
    fn the_set_can_change() {
        let mut f = FanOut::new([1], 2, 3);
        assert_eq!(f.round(), [1]);
        f.set_peers([1, 2, 3]);
        assert_eq!(f.len(), 3);
        let mut seen: Vec<NodeId> = (0..3).flat_map(|_| f.round()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen, [1, 2, 3]);
        f.set_peers([3]);
        assert_eq!(f.round(), [3]);
    }

    #[test]
    fn small_sets() {
        assert!(FanOut::new([], 3, 1).round().is_empty());
        let mut f = FanOut::new([5, 5, 6], 3, 1);
        assert_eq!(f.len(), 2);
        let mut r = f.round();
        r.sort_unstable();
        assert_eq!(r, [5, 6]);
        assert_eq!(FanOut::new([1], 0, 1).k(), 1);
        assert_eq!(XorShift::new(0).below(0), 0);
    }
}
