//! A hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva, Leone:
//! "Logical Physical Clocks", OPODIS 2014) whose physical part is held
//! inside the node's time bound, and which refuses peers that run ahead.
//!
//! An HLC timestamp is `(l, c)`: `l` the largest physical time the node has
//! heard of, `c` a counter of events at that `l`. Every event gets a larger
//! timestamp than the one before, and a received message's timestamp is
//! below the receiver's next one, so the order respects causality while `l`
//! stays close to physical time.
//!
//! Two changes make it sound against a bad clock or a lying peer:
//!
//! 1. **Clamping.** The physical reading fed in is the local clock clamped
//!    to the node's current bound `[earliest, latest]`: a local clock that is
//!    off by more than the bound cannot drag the HLC outside it. The HLC
//!    never goes back, so if the bound narrows below an earlier `l` the
//!    counter advances instead.
//! 2. **Rejection.** A correct peer's `l` is at most its own latest, which is
//!    at most true time plus the width of its bound, and true time is at
//!    most our latest: so `l_peer <= our latest + peer's width`. A peer
//!    whose `l` exceeds that (with the width capped by a configured maximum
//!    lead, so a peer cannot buy room by claiming a huge bound) is faulty:
//!    its timestamp is rejected and reported, never adopted.
//!
//! Times are `u64` ns on the clock time scale; the caller passes its bound
//! and clock reading (sans-IO).

use super::wire::HlcTimestamp;

/// A peer's HLC that [`Hlc::receive`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HlcRejected {
    /// The peer's timestamp.
    pub remote: HlcTimestamp,
    /// The largest physical part that would have been accepted.
    pub limit_ns: u64,
}

/// The hybrid logical clock of one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Hlc {
    last: HlcTimestamp,
    max_lead_ns: u64,
    rejected: u64,
}

/// `local` clamped to `[earliest, latest]` (`latest` wins if the bound is
/// inverted).
const fn clamp(earliest: u64, latest: u64, local: u64) -> u64 {
    let t = if local < earliest { earliest } else { local };
    if t > latest { latest } else { t }
}

/// The timestamp right after `(l, c)`: the counter plus one, or, in the
/// (practically unreachable) case of a full counter, the next nanosecond.
const fn next(l: u64, c: u32) -> HlcTimestamp {
    match c.checked_add(1) {
        Some(c) => HlcTimestamp {
            physical_ns: l,
            logical: c,
        },
        None => HlcTimestamp {
            physical_ns: l.saturating_add(1),
            logical: 0,
        },
    }
}

impl Hlc {
    /// A clock at zero that accepts peers at most `max_lead_ns` ahead of
    /// its latest (and never more than their own bound's width).
    #[must_use]
    pub const fn new(max_lead_ns: u64) -> Self {
        Self {
            last: HlcTimestamp {
                physical_ns: 0,
                logical: 0,
            },
            max_lead_ns,
            rejected: 0,
        }
    }

    /// The last timestamp handed out.
    #[must_use]
    pub const fn last(&self) -> HlcTimestamp {
        self.last
    }

    /// How many peer timestamps were rejected.
    #[must_use]
    pub const fn rejected(&self) -> u64 {
        self.rejected
    }

    /// `hlc_now`: the timestamp of a local event (a send, or a read by an
    /// application), given the node's bound `[earliest, latest]` and its
    /// clock reading `local`, all ns on the clock time scale.
    pub fn now(&mut self, earliest: u64, latest: u64, local: u64) -> HlcTimestamp {
        let pt = clamp(earliest, latest, local);
        self.last = if pt > self.last.physical_ns {
            HlcTimestamp {
                physical_ns: pt,
                logical: 0,
            }
        } else {
            next(self.last.physical_ns, self.last.logical)
        };
        self.last
    }

    /// Merge a peer's timestamp `remote` received with a message, given our
    /// bound and clock reading, and the width (latest minus earliest) of
    /// the bound the peer stated in that message (0 when it stated none).
    /// Returns our new timestamp, which is above both our last and
    /// `remote`.
    ///
    /// # Errors
    ///
    /// [`HlcRejected`] when `remote` is ahead of `latest + min(width,
    /// max lead)`: the peer is faulty, and our clock is left as it was.
    pub fn receive(
        &mut self,
        earliest: u64,
        latest: u64,
        local: u64,
        remote: HlcTimestamp,
        remote_width_ns: u64,
    ) -> Result<HlcTimestamp, HlcRejected> {
        let limit_ns = latest.saturating_add(remote_width_ns.min(self.max_lead_ns));
        if remote.physical_ns > limit_ns {
            self.rejected = self.rejected.saturating_add(1);
            return Err(HlcRejected { remote, limit_ns });
        }
        let pt = clamp(earliest, latest, local);
        let old = self.last;
        let l = pt.max(old.physical_ns).max(remote.physical_ns);
        self.last = if l == old.physical_ns && l == remote.physical_ns {
            next(l, old.logical.max(remote.logical))
        } else if l == old.physical_ns {
            next(l, old.logical)
        } else if l == remote.physical_ns {
            next(l, remote.logical)
        } else {
            HlcTimestamp {
                physical_ns: l,
                logical: 0,
            }
        };
        Ok(self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn ts(physical_ns: u64, logical: u32) -> HlcTimestamp {
        HlcTimestamp {
            physical_ns,
            logical,
        }
    }

    #[test]
    fn the_physical_part_is_clamped_to_the_bound() {
        let mut h = Hlc::new(1_000);
        // Local clock 500 ns behind the earliest: the HLC uses earliest.
        assert_eq!(h.now(10_000, 10_100, 9_500), ts(10_000, 0));
        // Local clock ahead of latest: latest.
        assert_eq!(h.now(10_000, 10_100, 20_000), ts(10_100, 0));
        // The bound narrows below the last physical part: the counter moves.
        assert_eq!(h.now(10_020, 10_050, 10_030), ts(10_100, 1));
        assert_eq!(h.now(10_200, 10_300, 10_250), ts(10_250, 0));
    }

    #[test]
    fn receive_follows_the_hlc_rules() {
        let mut h = Hlc::new(1_000);
        h.now(0, 100, 50);
        // Remote ahead of us (within latest + its width): adopted.
        assert_eq!(h.receive(0, 100, 50, ts(120, 4), 30), Ok(ts(120, 5)));
        // Remote equal to our last: max counter + 1.
        assert_eq!(h.receive(0, 100, 60, ts(120, 9), 30), Ok(ts(120, 10)));
        // Remote behind: ours advances.
        assert_eq!(h.receive(0, 100, 60, ts(10, 99), 30), Ok(ts(120, 11)));
        // Physical time passes everything: counter resets.
        assert_eq!(h.receive(100, 200, 150, ts(130, 0), 30), Ok(ts(150, 0)));
        assert_eq!(h.rejected(), 0);
    }

    #[test]
    fn a_far_future_peer_is_rejected_and_changes_nothing() {
        let mut h = Hlc::new(1_000);
        let before = h.now(1_000, 2_000, 1_500);
        // Ahead of latest + its width (300).
        let e = h.receive(1_000, 2_000, 1_500, ts(2_301, 0), 300);
        assert_eq!(
            e,
            Err(HlcRejected {
                remote: ts(2_301, 0),
                limit_ns: 2_300
            })
        );
        // A peer claiming a huge bound gets no more than the maximum lead.
        let e = h.receive(1_000, 2_000, 1_500, ts(3_001, 0), u64::MAX);
        assert!(e.is_err());
        assert_eq!(h.last(), before);
        assert_eq!(h.rejected(), 2);
        assert_eq!(
            h.receive(1_000, 2_000, 1_500, ts(3_000, 0), u64::MAX),
            Ok(ts(3_000, 1))
        );
    }

    #[test]
    fn a_full_counter_moves_to_the_next_nanosecond() {
        let mut h = Hlc::new(0);
        h.receive(0, 10, 10, ts(10, u32::MAX - 1), 0).unwrap();
        assert_eq!(h.last(), ts(10, u32::MAX));
        assert_eq!(h.now(0, 10, 10), ts(11, 0));
    }
}
