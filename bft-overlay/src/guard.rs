//! Guarded steering: which source the local clock may follow.
//!
//! The [`Guard`] keeps each source's latest [`SourceSample`], turns them into
//! intervals at a common `now`, intersects them tolerating `f` faults and
//! classifies every source. The clock follows one **selected** source, a
//! truechimer whose midpoint lies in the intersection (so steering to it never
//! leaves the range that holds true time); it keeps its selection while that
//! stays true, so that honest sources do not take turns, and it switches
//! (counted, reported) when the selected source becomes a falseticker, falls
//! silent, or another source is much narrower. With fewer than `2f + 1`
//! fresh sources, or no agreement (more than `f` faulty), nothing is selected:
//! the status is Unknown and the caller holds the clock over.
//!
//! Sans-IO: the caller passes `now` (ns on a monotonic time line) and acts
//! on what [`Guard::evaluate`] returns.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use crate::falseticker::{Event, FalsetickerTracker};
use crate::intersect::{Intersection, Interval, Verdict, intersect, min_sources};
use crate::source::{BoundAssumptions, SourceSample};

/// How the guard judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuardConfig {
    /// `f`: the number of faulty sources tolerated (needs `2f + 1` fresh
    /// sources).
    pub faults: usize,
    /// The bound's assumptions.
    pub assumptions: BoundAssumptions,
    /// A source with no sample for this long (ns) is left out of the
    /// intersection (it is silent, not wrong).
    pub max_age_ns: u64,
    /// Switch from a still-valid selection only to a source whose bound is
    /// below this fraction (in percent) of the selected one's (hysteresis).
    pub switch_below_percent: u64,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            faults: 1,
            assumptions: BoundAssumptions::default(),
            max_age_ns: 4_000_000_000,
            switch_below_percent: 50,
        }
    }
}

/// Whether the sources agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardStatus {
    /// At least `2f + 1` fresh sources and a non-empty intersection.
    Agreement,
    /// Fewer than `2f + 1` fresh sources: no quorum.
    TooFewSources {
        /// Fresh sources.
        have: usize,
        /// Sources needed.
        need: usize,
    },
    /// The intersection is empty: more than `f` sources are faulty.
    NoAgreement,
}

/// One source in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceState<Id> {
    /// The source.
    pub id: Id,
    /// Its interval at the round's `now`.
    pub interval: Interval,
    /// Its verdict; `None` when it is too old to take part or there was no
    /// intersection to judge against.
    pub verdict: Option<Verdict>,
    /// Quarantined (see [`QuarantinePolicy`]): never selected, whatever the
    /// verdict, until re-admitted.
    pub quarantined: bool,
}

/// When a persistent falseticker is quarantined and when it is let back
/// (issue 8, "membership"). A quarantined source still takes part in the
/// intersection (leaving it out could only lose the quorum; the fault
/// budget `f` already covers it) and is still judged every round, but it
/// is never selected, and it is re-admitted only after its intervals have
/// agreed with the intersection for `readmit_after_ns` without a break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuarantinePolicy {
    /// A source that stays a falseticker this long (ns) is quarantined.
    pub after_ns: u64,
    /// A quarantined source that stays a truechimer this long is let back.
    pub readmit_after_ns: u64,
}

/// A change of quarantine, reported by the round that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuarantineChange<Id> {
    /// `id` was a falseticker for the policy's `after_ns`.
    Quarantined {
        /// The source.
        id: Id,
        /// Since when it has been a falseticker.
        falseticker_since: u64,
    },
    /// `id` agreed for the policy's `readmit_after_ns`.
    Readmitted {
        /// The source.
        id: Id,
        /// When it was quarantined.
        quarantined_at: u64,
    },
}

/// The outcome of [`Guard::evaluate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Round<Id> {
    /// Whether the sources agree.
    pub status: GuardStatus,
    /// The intersection, when they do.
    pub intersection: Option<Intersection>,
    /// Every source with a sample, ordered by `Id`.
    pub sources: Vec<SourceState<Id>>,
    /// The source the clock may follow now.
    pub selected: Option<Id>,
    /// The selection changed in this round (from the previous one).
    pub switched: Option<Option<Id>>,
    /// Sources that changed between truechimer and falseticker.
    pub events: Vec<Event<Id>>,
    /// Sources quarantined or re-admitted in this round.
    pub quarantine: Vec<QuarantineChange<Id>>,
}

/// The guard over sources named by `Id`.
#[derive(Clone, Debug)]
pub struct Guard<Id: Ord + Copy> {
    config: GuardConfig,
    latest: BTreeMap<Id, SourceSample>,
    tracker: FalsetickerTracker<Id>,
    selected: Option<Id>,
    switches: u64,
    /// The local clock's frequency settings (ns, ppb) over the last
    /// max-age, oldest first, plus the one in force at the window's start.
    frequencies: VecDeque<(u64, i64)>,
    /// Which sources may be selected (all when `None`).
    followable: Option<fn(&Id) -> bool>,
    quarantine: Option<QuarantinePolicy>,
    /// Quarantined sources and when.
    quarantined: BTreeMap<Id, u64>,
}

impl<Id: Ord + Copy> Guard<Id> {
    /// A guard with no sources yet.
    #[must_use]
    pub const fn new(config: GuardConfig) -> Self {
        Self {
            config,
            latest: BTreeMap::new(),
            tracker: FalsetickerTracker::new(),
            selected: None,
            switches: 0,
            frequencies: VecDeque::new(),
            followable: None,
            quarantine: None,
            quarantined: BTreeMap::new(),
        }
    }

    /// Quarantine persistent falsetickers by `policy` (`None`, the
    /// default: never). Turning it off lets every quarantined source back.
    pub fn set_quarantine(&mut self, policy: Option<QuarantinePolicy>) {
        self.quarantine = policy;
        if policy.is_none() {
            self.quarantined.clear();
        }
    }

    /// The quarantine policy, if any.
    #[must_use]
    pub const fn quarantine_policy(&self) -> Option<QuarantinePolicy> {
        self.quarantine
    }

    /// Whether `id` is quarantined.
    #[must_use]
    pub fn is_quarantined(&self, id: &Id) -> bool {
        self.quarantined.contains_key(id)
    }

    /// The quarantined sources and since when.
    pub fn quarantined(&self) -> impl Iterator<Item = (Id, u64)> + '_ {
        self.quarantined.iter().map(|(&id, &at)| (id, at))
    }

    /// Only sources for which `followable` holds may be selected; the
    /// others are still intersected and judged (a daemon whose servo
    /// follows PTP domains but cross-checks them with overlay peers).
    pub const fn set_followable(&mut self, followable: fn(&Id) -> bool) {
        self.followable = Some(followable);
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &GuardConfig {
        &self.config
    }

    /// Record `id`'s latest measurement.
    pub fn observe(&mut self, id: Id, sample: SourceSample) {
        self.latest.insert(id, sample);
    }

    /// Forget every stored measurement (the local clock was stepped: offsets
    /// measured before mean nothing now). Verdicts are kept.
    pub fn clear_samples(&mut self) {
        self.latest.clear();
    }

    /// The local clock's servo applies `ppb` from `now` on.
    ///
    /// `max_drift` bounds how fast the *disciplined* clock wanders from true
    /// time at a constant setting; a servo that slews (while it acquires
    /// lock, or after a switch) moves the clock further, by up to the
    /// change of its setting times a sample's age. Each [`Guard::evaluate`]
    /// therefore adds the range of the settings in force over the last
    /// `max_age` (highest minus lowest, plus 1 ppb for rounding) to
    /// `max_drift` for every interval: wide while the servo moves the clock,
    /// narrow again once its setting settles. Settings before the first
    /// call are unknown and not counted: call it once with the setting in
    /// force when the guard starts.
    pub fn note_local_frequency(&mut self, now: u64, ppb: i64) {
        if self.frequencies.back().is_some_and(|&(_, f)| f == ppb) {
            return;
        }
        self.frequencies.push_back((now, ppb));
        self.forget_frequencies(now);
    }

    /// The range of the local clock's frequency settings over the last
    /// `max_age` before `now`, ppb (0 with one setting or none).
    #[must_use]
    pub fn local_slew_ppb(&self, now: u64) -> u64 {
        let start = now.saturating_sub(self.config.max_age_ns);
        let in_window = self
            .frequencies
            .iter()
            .enumerate()
            .filter(|&(i, _)| {
                // A setting counts if it was still in force at the window's
                // start, i.e. the next one came after it.
                self.frequencies.get(i + 1).is_none_or(|&(t, _)| t > start)
            })
            .map(|(_, &(_, f))| f);
        let (lo, hi) = in_window.fold((i64::MAX, i64::MIN), |(lo, hi), f| (lo.min(f), hi.max(f)));
        if lo >= hi {
            return 0;
        }
        hi.abs_diff(lo).saturating_add(1)
    }

    fn forget_frequencies(&mut self, now: u64) {
        let start = now.saturating_sub(self.config.max_age_ns);
        while self.frequencies.get(1).is_some_and(|&(t, _)| t <= start) {
            self.frequencies.pop_front();
        }
    }

    /// The source currently selected.
    #[must_use]
    pub const fn selected(&self) -> Option<Id> {
        self.selected
    }

    /// How many times the selection changed.
    #[must_use]
    pub const fn switches(&self) -> u64 {
        self.switches
    }

    /// The falseticker bookkeeping (since when, how often).
    #[must_use]
    pub const fn tracker(&self) -> &FalsetickerTracker<Id> {
        &self.tracker
    }

    /// Intersect the fresh sources at `now`, classify them and choose whom
    /// to follow.
    pub fn evaluate(&mut self, now: u64) -> Round<Id> {
        self.forget_frequencies(now);
        let mut a = self.config.assumptions;
        a.max_drift_ppb = a.max_drift_ppb.saturating_add(self.local_slew_ppb(now));
        let max_age = self.config.max_age_ns;
        let mut sources: Vec<SourceState<Id>> = self
            .latest
            .iter()
            .map(|(&id, s)| SourceState {
                id,
                interval: s.interval_at(now, &a),
                verdict: None,
                quarantined: false,
            })
            .collect();
        let fresh = |id: &Id| {
            self.latest
                .get(id)
                .is_some_and(|s| now.saturating_sub(s.measured_at_ns) <= max_age)
        };
        let intervals: Vec<Interval> = sources
            .iter()
            .filter(|s| fresh(&s.id))
            .map(|s| s.interval)
            .collect();
        let f = self.config.faults;
        // Saturating: a huge `faults` must not overflow (found by fuzzing).
        let need = min_sources(f);
        let (status, intersection) = if intervals.len() < need {
            (
                GuardStatus::TooFewSources {
                    have: intervals.len(),
                    need,
                },
                None,
            )
        } else {
            match intersect(&intervals, f) {
                Ok(i) => (GuardStatus::Agreement, Some(i)),
                Err(_) => (GuardStatus::NoAgreement, None),
            }
        };
        let mut events = Vec::new();
        if let Some(x) = &intersection {
            for s in sources.iter_mut().filter(|s| fresh(&s.id)) {
                let v = x.classify(&s.interval);
                s.verdict = Some(v);
                events.extend(self.tracker.observe(s.id, v, now));
            }
        }
        let quarantine = self.update_quarantine(now);
        for s in &mut sources {
            s.quarantined = self.quarantined.contains_key(&s.id);
        }
        let selected = intersection.and_then(|x| self.choose(&x, &sources));
        let switched = (selected != self.selected).then_some(self.selected);
        if switched.is_some() {
            self.switches = self.switches.saturating_add(1);
            self.selected = selected;
        }
        Round {
            status,
            intersection,
            sources,
            selected,
            switched,
            events,
            quarantine,
        }
    }

    /// Quarantine falsetickers of long standing, re-admit sources that have
    /// agreed long enough.
    fn update_quarantine(&mut self, now: u64) -> Vec<QuarantineChange<Id>> {
        let Some(p) = self.quarantine else {
            return Vec::new();
        };
        let mut changes = Vec::new();
        for (id, r) in self.tracker.iter() {
            let held = self.quarantined.get(&id).copied();
            match held {
                None if r.is_falseticker() && r.time_in_state(now) >= p.after_ns => {
                    changes.push(QuarantineChange::Quarantined {
                        id,
                        falseticker_since: r.since(),
                    });
                }
                Some(at) if !r.is_falseticker() && r.time_in_state(now) >= p.readmit_after_ns => {
                    changes.push(QuarantineChange::Readmitted {
                        id,
                        quarantined_at: at,
                    });
                }
                _ => {}
            }
        }
        for c in &changes {
            match *c {
                QuarantineChange::Quarantined { id, .. } => {
                    self.quarantined.insert(id, now);
                }
                QuarantineChange::Readmitted { id, .. } => {
                    self.quarantined.remove(&id);
                }
            }
        }
        changes
    }

    /// Keep the current selection while its midpoint lies in the
    /// intersection and no candidate is much narrower; otherwise take the
    /// narrowest candidate. Widths are compared as measured (without the
    /// drift term): at a common `now` the source measured last always looks
    /// narrowest, and comparing aged widths made honest sources of equal
    /// quality take turns as their exchanges interleaved.
    fn choose(&self, x: &Intersection, sources: &[SourceState<Id>]) -> Option<Id> {
        let a = self.config.assumptions;
        let width = |s: &SourceState<Id>| {
            self.latest
                .get(&s.id)
                .map_or(u64::MAX, |m| m.bound_at(m.measured_at_ns, &a))
        };
        let candidates = || {
            sources.iter().filter(|s| {
                s.verdict.is_some_and(|v| v.is_truechimer())
                    && x.contains(s.interval.midpoint())
                    && self.followable.is_none_or(|f| f(&s.id))
                    && !s.quarantined
            })
        };
        let best = candidates().min_by_key(|s| width(s))?;
        let current = self
            .selected
            .and_then(|id| candidates().find(|s| s.id == id));
        match current {
            Some(c)
                if u128::from(width(best)) * 100
                    >= u128::from(width(c)) * u128::from(self.config.switch_below_percent) =>
            {
                Some(c.id)
            }
            _ => Some(best.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(offset_ns: i64, path_delay_ns: i64, at: u64) -> SourceSample {
        SourceSample {
            offset_ns,
            path_delay_ns,
            advertised_error_ns: 0,
            measured_at_ns: at,
        }
    }

    fn guard() -> Guard<u8> {
        Guard::new(GuardConfig {
            faults: 1,
            assumptions: BoundAssumptions {
                asymmetry_ns: 0,
                max_drift_ppb: 0,
            },
            ..GuardConfig::default()
        })
    }

    #[test]
    fn a_liar_a_millisecond_off_is_a_falseticker_and_never_followed() {
        let mut g = guard();
        g.observe(1, sample(1_000_000, 20_000, 0)); // the liar: best bound
        let r = g.evaluate(0);
        assert_eq!(r.status, GuardStatus::TooFewSources { have: 1, need: 3 });
        assert_eq!(r.selected, None, "no quorum: follow nobody");
        g.observe(2, sample(300, 30_000, 0));
        g.observe(3, sample(-200, 40_000, 0));
        let r = g.evaluate(0);
        assert_eq!(r.status, GuardStatus::Agreement);
        let verdict = |id| {
            r.sources
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.verdict)
        };
        assert!(verdict(1).is_some_and(|v| v.is_falseticker()));
        assert!(verdict(2).is_some_and(|v| v.is_truechimer()));
        assert_eq!(r.selected, Some(2), "the narrowest truechimer");
        assert_eq!(r.switched, Some(None));
        assert!(
            r.events
                .iter()
                .any(|e| matches!(e, Event::BecameFalseticker { id: 1, .. }))
        );
    }

    #[test]
    fn only_followable_sources_are_selected_but_all_are_judged() {
        let mut g = guard();
        // Sources 10 and up stand for peers: judged, never followed.
        g.set_followable(|&id| id < 10);
        g.observe(10, sample(0, 1_000, 0)); // the narrowest
        g.observe(11, sample(1_000_000, 1_000, 0)); // a liar
        g.observe(1, sample(200, 30_000, 0));
        let r = g.evaluate(0);
        assert_eq!(r.status, GuardStatus::Agreement);
        assert_eq!(r.selected, Some(1));
        let liar = r
            .sources
            .iter()
            .find(|s| s.id == 11)
            .and_then(|s| s.verdict);
        assert!(liar.is_some_and(|v| v.is_falseticker()));
    }

    #[test]
    fn the_selection_sticks_until_it_fails_or_a_much_better_source_appears() {
        let mut g = guard();
        g.observe(1, sample(0, 30_000, 0));
        g.observe(2, sample(100, 25_000, 0));
        g.observe(3, sample(-100, 40_000, 0));
        assert_eq!(g.evaluate(0).selected, Some(2));
        // Source 1 becomes a bit narrower than 2: no switch.
        g.observe(1, sample(0, 20_000, 1));
        let r = g.evaluate(1);
        assert_eq!((r.selected, r.switched), (Some(2), None));
        // Much narrower (below 50 %): switch.
        g.observe(1, sample(0, 5_000, 2));
        let r = g.evaluate(2);
        assert_eq!((r.selected, r.switched), (Some(1), Some(Some(2))));
        // The selected source goes silent: it ages out, the others remain
        // (2 < 2f + 1: no quorum, nothing selected).
        let late = g.config().max_age_ns + 10;
        g.observe(2, sample(100, 25_000, late));
        g.observe(3, sample(-100, 40_000, late));
        let r = g.evaluate(late);
        assert_eq!(r.status, GuardStatus::TooFewSources { have: 2, need: 3 });
        assert_eq!(r.selected, None);
        assert_eq!(g.switches(), 3);
    }

    #[test]
    fn disagreement_beyond_f_gives_no_confident_answer() {
        // With n = 2f + 1 the rule always finds a non-empty result (f + 1
        // lower bounds above the result and f + 1 upper bounds below it
        // would need 2f + 2 sources); with four sources split two and two,
        // more than f = 1 are provably faulty.
        let mut g = guard();
        g.observe(1, sample(1_000_000, 10_000, 0));
        g.observe(2, sample(1_000_000, 10_000, 0));
        g.observe(3, sample(0, 10_000, 0));
        g.observe(4, sample(0, 10_000, 0));
        let r = g.evaluate(0);
        assert_eq!(r.status, GuardStatus::NoAgreement);
        assert_eq!(r.selected, None);
        assert!(r.intersection.is_none());
    }

    #[test]
    fn a_step_forgets_the_samples() {
        let mut g = guard();
        for id in 1..=3 {
            g.observe(id, sample(0, 1_000, 0));
        }
        assert_eq!(g.evaluate(0).status, GuardStatus::Agreement);
        g.clear_samples();
        assert!(matches!(
            g.evaluate(0).status,
            GuardStatus::TooFewSources { have: 0, .. }
        ));
    }

    #[test]
    fn the_selection_compares_sources_as_measured_not_as_aged() {
        // Two sources of the same quality measured at different times: at
        // a common `now` the later one's interval is narrower only by its
        // drift term, which must not make the guard switch to it.
        let mut g = Guard::new(GuardConfig {
            faults: 1,
            assumptions: BoundAssumptions {
                asymmetry_ns: 0,
                max_drift_ppb: 15_000,
            },
            switch_below_percent: 90,
            ..GuardConfig::default()
        });
        g.observe(1, sample(0, 10_000, 0));
        g.observe(2, sample(0, 10_000, 0));
        g.observe(3, sample(0, 40_000, 0));
        let first = g.evaluate(0).selected;
        let other = if first == Some(1) { 2 } else { 1 };
        // One second later only `other` has a new sample: the selected
        // one's interval is 15 us wider by now, below 90 % of its width.
        g.observe(other, sample(0, 10_000, 1_000_000_000));
        let r = g.evaluate(1_000_000_000);
        assert_eq!((r.selected, r.switched), (first, None));
        // A source that really is much narrower still wins.
        g.observe(other, sample(0, 5_000, 1_000_000_000));
        assert_eq!(g.evaluate(1_000_000_000).selected, Some(other));
    }

    #[test]
    fn the_local_slew_widens_every_interval_by_its_rate_times_age() {
        let mut g = guard();
        for id in 1..=3 {
            g.observe(id, sample(0, 1_000, 0));
        }
        let s = 1_000_000_000;
        let width_before = g.evaluate(2 * s).sources[0].interval.half_width();
        // The servo moved its setting from 0 to 50 ppm at 1 s: over the
        // 2 s age, up to 50 001 ppb x 2 s more.
        g.note_local_frequency(0, 0);
        g.note_local_frequency(s, 50_000);
        assert_eq!(g.local_slew_ppb(2 * s), 50_001);
        let r = g.evaluate(2 * s);
        assert_eq!(r.sources[0].interval.half_width(), width_before + 100_002);
        assert_eq!(r.status, GuardStatus::Agreement);
    }

    #[test]
    fn the_slew_counts_the_settings_in_force_over_max_age() {
        let mut g = guard(); // max_age 4 s
        let s = 1_000_000_000;
        assert_eq!(g.local_slew_ppb(0), 0);
        g.note_local_frequency(10 * s, 1_000);
        g.note_local_frequency(11 * s, 51_000);
        g.note_local_frequency(12 * s, 20_000);
        g.note_local_frequency(12 * s + 1, 20_000); // unchanged: not kept
        assert_eq!(g.local_slew_ppb(12 * s), 50_001);
        // At 15.5 s the window starts at 11.5 s: 1000 (replaced at 11 s) is
        // out, 51000 (in force until 12 s) is in.
        assert_eq!(g.local_slew_ppb(15 * s + s / 2), 31_001);
        let _ = g.evaluate(17 * s);
        assert_eq!(
            g.local_slew_ppb(17 * s),
            0,
            "one setting for the whole window"
        );
        assert_eq!(g.frequencies.len(), 1);
    }

    #[test]
    fn a_huge_fault_count_needs_more_sources_than_exist_and_never_overflows() {
        // Found by the overlay_guard fuzz target: `2 * f + 1` overflowed.
        let mut g = Guard::new(GuardConfig {
            faults: usize::MAX / 2 + 1,
            ..GuardConfig::default()
        });
        g.observe(1_u8, sample(0, 10, 0));
        let r = g.evaluate(0);
        assert_eq!(
            r.status,
            GuardStatus::TooFewSources {
                have: 1,
                need: usize::MAX
            }
        );
        assert_eq!(r.selected, None);
    }

    #[test]
    fn a_persistent_falseticker_is_quarantined_and_readmitted_only_after_agreeing() {
        let mut g = guard();
        g.set_quarantine(Some(QuarantinePolicy {
            after_ns: 10,
            readmit_after_ns: 20,
        }));
        let honest = |g: &mut Guard<u8>, t: u64| {
            g.observe(1, sample(0, 30_000, t));
            g.observe(2, sample(100, 30_000, t));
        };
        // Source 3 is the narrowest but 1 ms off from t = 0 to 14.
        let mut log = Vec::new();
        for t in 0..40u64 {
            honest(&mut g, t);
            let off = if t < 15 { 1_000_000 } else { 50 };
            g.observe(3, sample(off, 1_000, t));
            let r = g.evaluate(t);
            log.extend(r.quarantine.iter().copied());
            let s3 = r.sources.iter().find(|s| s.id == 3).unwrap();
            assert_eq!(s3.quarantined, g.is_quarantined(&3));
            if g.is_quarantined(&3) {
                assert_ne!(r.selected, Some(3), "t = {t}");
            }
            match t {
                0..=9 => assert!(!g.is_quarantined(&3), "t = {t}"),
                10..=34 => assert!(g.is_quarantined(&3), "t = {t}"),
                _ => assert!(!g.is_quarantined(&3), "t = {t}"),
            }
        }
        // Agreeing from t = 15 on: let back at 35; then it is the
        // narrowest truechimer, and selected.
        assert_eq!(
            log,
            vec![
                QuarantineChange::Quarantined {
                    id: 3,
                    falseticker_since: 0
                },
                QuarantineChange::Readmitted {
                    id: 3,
                    quarantined_at: 10
                },
            ]
        );
        assert_eq!(g.selected(), Some(3));
        // A relapse during re-admission restarts the wait.
        let mut g2 = guard();
        g2.set_quarantine(Some(QuarantinePolicy {
            after_ns: 1,
            readmit_after_ns: 5,
        }));
        for t in 0..20u64 {
            honest(&mut g2, t);
            let off = if t < 3 || t == 6 { 1_000_000 } else { 0 };
            g2.observe(3, sample(off, 1_000, t));
            let _ = g2.evaluate(t);
            let expect = (1..12).contains(&t);
            assert_eq!(g2.is_quarantined(&3), expect, "t = {t}");
        }
        g2.set_quarantine(None);
        assert_eq!(g2.quarantined().count(), 0);
    }
}
