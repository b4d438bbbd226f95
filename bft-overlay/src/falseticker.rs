//! Per-source truechimer/falseticker state over time: since when, how often.
//!
//! [`Intersection::classify`](crate::Intersection::classify) judges one round.
//! [`FalsetickerTracker`] keeps, for every source, its current
//! [`Verdict`], the time it entered that state and how many times it changed,
//! and reports each change as an [`Event`] the daemon can log and count.
//!
//! The tracker is sans-IO: it never reads a clock. Every call carries `now`,
//! a timestamp in nanoseconds on a monotonic clock chosen by the caller
//! (normally `CLOCK_MONOTONIC`); the tracker only stores and compares it.
//!
//! Rounds that end in [`NoAgreement`](crate::IntersectError::NoAgreement) or
//! [`NoQuorum`](crate::IntersectError::NoQuorum) blame nobody (more than
//! `f` sources are faulty, but which ones is not known), so the caller should
//! not feed them to the tracker: every source keeps its last state. Status
//! Unknown for such rounds is the steering layer's business.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use crate::intersect::{FalseReason, Verdict};

/// A source entering a new state, as reported by [`FalsetickerTracker`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Event<Id> {
    /// The source's interval missed the intersection.
    BecameFalseticker {
        /// The source.
        id: Id,
        /// The `now` of the round in which it happened.
        since: u64,
        /// On which side, and how far, it missed.
        reason: FalseReason,
    },
    /// The source's interval met the intersection (again, or for the first
    /// time).
    BecameTruechimer {
        /// The source.
        id: Id,
        /// The `now` of the round in which it happened.
        since: u64,
    },
}

impl<Id: Copy> Event<Id> {
    /// The source the event is about.
    #[must_use]
    pub const fn id(&self) -> Id {
        match *self {
            Self::BecameFalseticker { id, .. } | Self::BecameTruechimer { id, .. } => id,
        }
    }

    /// The time the new state began.
    #[must_use]
    pub const fn since(&self) -> u64 {
        match *self {
            Self::BecameFalseticker { since, .. } | Self::BecameTruechimer { since, .. } => since,
        }
    }
}

impl<Id: fmt::Display> fmt::Display for Event<Id> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BecameFalseticker { id, since, reason } => {
                write!(f, "source {id} is a falseticker since {since} ns: {reason}")
            }
            Self::BecameTruechimer { id, since } => {
                write!(f, "source {id} is a truechimer since {since} ns")
            }
        }
    }
}

/// What the tracker knows about one source.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct SourceRecord {
    verdict: Verdict,
    since: u64,
    first_seen: u64,
    last_seen: u64,
    changes: u64,
    falseticker_episodes: u64,
}

impl SourceRecord {
    /// The verdict of the latest round that classified the source. While it
    /// stays a falseticker the reason (side and gap) is the latest one.
    #[must_use]
    pub const fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// Whether the source is currently a falseticker.
    #[must_use]
    pub const fn is_falseticker(&self) -> bool {
        self.verdict.is_falseticker()
    }

    /// The `now` of the round that put the source in its current state
    /// (truechimer or falseticker; a change of side while a falseticker does
    /// not reset it).
    #[must_use]
    pub const fn since(&self) -> u64 {
        self.since
    }

    /// The `now` of the first round that classified the source.
    #[must_use]
    pub const fn first_seen(&self) -> u64 {
        self.first_seen
    }

    /// The `now` of the latest round that classified the source.
    #[must_use]
    pub const fn last_seen(&self) -> u64 {
        self.last_seen
    }

    /// How long the source has been in its current state at `now`
    /// (0 if `now` is earlier than [`since`](Self::since)).
    #[must_use]
    pub const fn time_in_state(&self, now: u64) -> u64 {
        now.saturating_sub(self.since)
    }

    /// The number of state changes (truechimer to falseticker or back) after
    /// the first classification.
    #[must_use]
    pub const fn changes(&self) -> u64 {
        self.changes
    }

    /// The number of times the source became a falseticker, including a
    /// first classification as one.
    #[must_use]
    pub const fn falseticker_episodes(&self) -> u64 {
        self.falseticker_episodes
    }
}

/// Remembers each source's truechimer/falseticker state and since when.
///
/// `Id` names a source (an index, or the source type's identifier). The
/// sources are kept in a map ordered by `Id`.
///
/// ```
/// use bft_overlay::{Event, FalsetickerTracker, Interval, intersect};
///
/// let ids = ["gm-a", "gm-b", "peer-c"];
/// let mut tracker = FalsetickerTracker::new();
///
/// let round = [Interval::around(0, 100), Interval::around(30, 100), Interval::around(9_000, 50)];
/// let result = intersect(&round, 1)?;
/// let events = tracker.observe_round(1_000, ids.into_iter().zip(result.classify_all(&round)));
/// assert_eq!(events.len(), 3); // first classification of every source
/// assert!(matches!(events[2], Event::BecameFalseticker { id: "peer-c", since: 1_000, .. }));
///
/// // Next round the same verdicts: no events, `since` is kept.
/// let events = tracker.observe_round(2_000, ids.into_iter().zip(result.classify_all(&round)));
/// assert!(events.is_empty());
/// assert_eq!(tracker.get(&"peer-c").map(|r| r.since()), Some(1_000));
/// # Ok::<(), bft_overlay::IntersectError>(())
/// ```
#[derive(Clone, Debug)]
pub struct FalsetickerTracker<Id> {
    records: BTreeMap<Id, SourceRecord>,
}

impl<Id> Default for FalsetickerTracker<Id> {
    fn default() -> Self {
        Self {
            records: BTreeMap::new(),
        }
    }
}

impl<Id: Ord + Copy> FalsetickerTracker<Id> {
    /// An empty tracker.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            records: BTreeMap::new(),
        }
    }

    /// Records one source's verdict for the round at `now`.
    ///
    /// Returns an event when the source enters a new state: on its first
    /// classification, and whenever it goes from truechimer to falseticker or
    /// back. A falseticker that changes side or gap stays a falseticker
    /// without an event; its record holds the latest reason.
    pub fn observe(&mut self, id: Id, verdict: Verdict, now: u64) -> Option<Event<Id>> {
        let record = match self.records.get_mut(&id) {
            Some(record) => {
                record.last_seen = now;
                let changed = record.verdict.is_falseticker() != verdict.is_falseticker();
                record.verdict = verdict;
                if !changed {
                    return None;
                }
                record.changes = record.changes.saturating_add(1);
                record.since = now;
                record
            }
            None => self.records.entry(id).or_insert(SourceRecord {
                verdict,
                since: now,
                first_seen: now,
                last_seen: now,
                changes: 0,
                falseticker_episodes: 0,
            }),
        };
        Some(match verdict {
            Verdict::Truechimer => Event::BecameTruechimer { id, since: now },
            Verdict::Falseticker { reason } => {
                record.falseticker_episodes = record.falseticker_episodes.saturating_add(1);
                Event::BecameFalseticker {
                    id,
                    since: now,
                    reason,
                }
            }
        })
    }

    /// Records a whole round at `now` (pairs of source and verdict, e.g.
    /// `ids.zip(intersection.classify_all(&intervals))`) and returns the
    /// events in the order the sources were given.
    pub fn observe_round<I>(&mut self, now: u64, verdicts: I) -> Vec<Event<Id>>
    where
        I: IntoIterator<Item = (Id, Verdict)>,
    {
        verdicts
            .into_iter()
            .filter_map(|(id, verdict)| self.observe(id, verdict, now))
            .collect()
    }

    /// The record of one source, if it was ever classified.
    #[must_use]
    pub fn get(&self, id: &Id) -> Option<&SourceRecord> {
        self.records.get(id)
    }

    /// Forgets a source (it was removed from the configuration or
    /// quarantined elsewhere) and returns its last record.
    pub fn remove(&mut self, id: &Id) -> Option<SourceRecord> {
        self.records.remove(id)
    }

    /// Every tracked source with its record, ordered by `Id`.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (Id, &SourceRecord)> + '_ {
        self.records.iter().map(|(id, record)| (*id, record))
    }

    /// The sources that are currently falsetickers, ordered by `Id`.
    pub fn falsetickers(&self) -> impl Iterator<Item = (Id, &SourceRecord)> + '_ {
        self.iter().filter(|(_, record)| record.is_falseticker())
    }

    /// The number of tracked sources.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no source is tracked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intersect::{Interval, intersect};
    use proptest::prelude::*;

    const BELOW: Verdict = Verdict::Falseticker {
        reason: FalseReason::Below { by: 5 },
    };
    const ABOVE: Verdict = Verdict::Falseticker {
        reason: FalseReason::Above { by: 7 },
    };

    #[test]
    fn first_classification_emits_an_event() {
        let mut t = FalsetickerTracker::new();
        assert!(t.is_empty());
        assert_eq!(
            t.observe(1_u32, Verdict::Truechimer, 10),
            Some(Event::BecameTruechimer { id: 1, since: 10 })
        );
        assert_eq!(
            t.observe(2, BELOW, 10),
            Some(Event::BecameFalseticker {
                id: 2,
                since: 10,
                reason: FalseReason::Below { by: 5 }
            })
        );
        assert_eq!(t.len(), 2);
        let r1 = t.get(&1).unwrap();
        assert_eq!((r1.since(), r1.first_seen(), r1.last_seen()), (10, 10, 10));
        assert_eq!((r1.changes(), r1.falseticker_episodes()), (0, 0));
        let r2 = t.get(&2).unwrap();
        assert_eq!((r2.changes(), r2.falseticker_episodes()), (0, 1));
        assert!(r2.is_falseticker() && !r1.is_falseticker());
    }

    #[test]
    fn same_state_keeps_since_and_updates_reason() {
        let mut t = FalsetickerTracker::new();
        t.observe('a', BELOW, 100);
        assert_eq!(t.observe('a', ABOVE, 200), None, "side change is no event");
        let r = t.get(&'a').unwrap();
        assert_eq!(r.verdict(), ABOVE);
        assert_eq!((r.since(), r.last_seen(), r.changes()), (100, 200, 0));
        assert_eq!(r.time_in_state(250), 150);
        assert_eq!(r.time_in_state(50), 0, "a clock going back saturates");
        assert_eq!(t.observe('a', ABOVE, 300), None);
    }

    #[test]
    fn transitions_are_counted_and_reported() {
        let mut t = FalsetickerTracker::new();
        t.observe(7_u8, Verdict::Truechimer, 0);
        assert_eq!(
            t.observe(7, ABOVE, 10),
            Some(Event::BecameFalseticker {
                id: 7,
                since: 10,
                reason: FalseReason::Above { by: 7 }
            })
        );
        assert_eq!(
            t.observe(7, Verdict::Truechimer, 25),
            Some(Event::BecameTruechimer { id: 7, since: 25 })
        );
        assert!(t.observe(7, BELOW, 40).is_some());
        let r = t.get(&7).unwrap();
        assert_eq!((r.changes(), r.falseticker_episodes()), (3, 2));
        assert_eq!((r.since(), r.first_seen(), r.last_seen()), (40, 0, 40));
    }

    #[test]
    fn listing_and_removal() {
        let mut t = FalsetickerTracker::new();
        let events = t.observe_round(5, [(3_u16, BELOW), (1, Verdict::Truechimer), (2, ABOVE)]);
        assert_eq!(events.iter().map(Event::id).collect::<Vec<_>>(), [3, 1, 2]);
        assert!(events.iter().all(|e| e.since() == 5));
        assert_eq!(t.iter().map(|(id, _)| id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(
            t.falsetickers().map(|(id, _)| id).collect::<Vec<_>>(),
            [2, 3]
        );
        let removed = t.remove(&2).unwrap();
        assert_eq!(removed.verdict(), ABOVE);
        assert!(t.get(&2).is_none() && t.remove(&2).is_none());
        assert_eq!(t.len(), 2);
        // A removed source that comes back starts afresh.
        assert!(t.observe(2, ABOVE, 9).is_some());
        assert_eq!(t.get(&2).unwrap().first_seen(), 9);
    }

    #[test]
    fn works_with_intersection() {
        let mut t = FalsetickerTracker::default();
        let round1 = [
            Interval::around(0, 10),
            Interval::around(5, 10),
            Interval::around(100, 1),
        ];
        let r = intersect(&round1, 1).unwrap();
        let events = t.observe_round(1, (0_usize..).zip(r.classify_all(&round1)));
        assert_eq!(events.len(), 3);
        assert_eq!(
            events[2],
            Event::BecameFalseticker {
                id: 2,
                since: 1,
                reason: FalseReason::Above { by: 84 }
            }
        );
        let round2 = [
            Interval::around(0, 10),
            Interval::around(5, 10),
            Interval::around(4, 1),
        ];
        let r = intersect(&round2, 1).unwrap();
        let events = t.observe_round(2, (0_usize..).zip(r.classify_all(&round2)));
        assert_eq!(events, [Event::BecameTruechimer { id: 2, since: 2 }]);
    }

    #[test]
    fn event_display() {
        let e = Event::BecameFalseticker {
            id: "gm1",
            since: 3,
            reason: FalseReason::Below { by: 8 },
        };
        assert_eq!(
            e.to_string(),
            "source gm1 is a falseticker since 3 ns: 8 ns below the intersection"
        );
        let e = Event::BecameTruechimer { id: 4, since: 9 };
        assert_eq!(e.to_string(), "source 4 is a truechimer since 9 ns");
    }

    fn verdict() -> impl Strategy<Value = Verdict> {
        prop_oneof![
            Just(Verdict::Truechimer),
            (1_u64..100).prop_map(|by| Verdict::Falseticker {
                reason: FalseReason::Below { by }
            }),
            (1_u64..100).prop_map(|by| Verdict::Falseticker {
                reason: FalseReason::Above { by }
            }),
        ]
    }

    proptest! {
        /// The tracker agrees with a straightforward model: per source the
        /// list of rounds it was seen in.
        #[test]
        fn tracker_matches_model(
            rounds in prop::collection::vec(
                (1_u64..1_000, prop::collection::vec((0_u8..5, verdict()), 0..6)),
                0..40,
            )
        ) {
            let mut tracker = FalsetickerTracker::new();
            let mut now = 0_u64;
            // Per source: every (now, verdict) it was observed with.
            let mut history: BTreeMap<u8, Vec<(u64, Verdict)>> = BTreeMap::new();
            for (step, observations) in rounds {
                now += step;
                for (id, v) in observations {
                    let seen = history.entry(id).or_default();
                    let expected_event = seen
                        .last()
                        .is_none_or(|(_, last)| last.is_falseticker() != v.is_falseticker());
                    seen.push((now, v));
                    let event = tracker.observe(id, v, now);
                    prop_assert_eq!(event.is_some(), expected_event);
                    if let Some(event) = event {
                        prop_assert_eq!(event.id(), id);
                        prop_assert_eq!(event.since(), now);
                        match (event, v) {
                            (Event::BecameTruechimer { .. }, Verdict::Truechimer) => {}
                            (
                                Event::BecameFalseticker { reason, .. },
                                Verdict::Falseticker { reason: r },
                            ) => prop_assert_eq!(reason, r),
                            _ => prop_assert!(false, "event does not match verdict"),
                        }
                    }
                }
            }
            prop_assert_eq!(tracker.len(), history.len());
            for (id, seen) in &history {
                let record = tracker.get(id).unwrap();
                let (last_now, last_verdict) = *seen.last().unwrap();
                prop_assert_eq!(record.verdict(), last_verdict);
                prop_assert_eq!(record.last_seen(), last_now);
                prop_assert_eq!(record.first_seen(), seen[0].0);
                let flips: Vec<usize> = (1..seen.len())
                    .filter(|&i| seen[i].1.is_falseticker() != seen[i - 1].1.is_falseticker())
                    .collect();
                prop_assert_eq!(record.changes(), flips.len() as u64);
                let since = flips.last().map_or(seen[0].0, |&i| seen[i].0);
                prop_assert_eq!(record.since(), since);
                let episodes = u64::from(seen[0].1.is_falseticker())
                    + flips.iter().filter(|&&i| seen[i].1.is_falseticker()).count() as u64;
                prop_assert_eq!(record.falseticker_episodes(), episodes);
            }
        }
    }
}
