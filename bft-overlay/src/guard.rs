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
//! Optionally ([`Guard::set_history_depth`]) a source's interval is the
//! intersection of its last few samples, each widened by drift x its own
//! age: a correct source's every interval holds true time, so their
//! intersection does too, and it is narrower than the newest one alone
//! (the exchange with the least asymmetry bounds each side). This is what
//! lets a liar walking slowly across the edge of the honest bound be seen
//! within a poll or two of crossing it, instead of whenever one exchange
//! happens to be asymmetric in the right direction.
//!
//! Optionally ([`Guard::set_judge_at_completion`]) every source is also
//! judged against the intersection of all fresh sources at the middle of
//! its own latest exchange, where its interval is not widened by its age.
//!
//! Optionally ([`Guard::set_switch_persistence`]) a source must stay the
//! better candidate for several consecutive rounds before the guard
//! switches to it from a still-valid selection.
//!
//! Sans-IO: the caller passes `now` (ns on a monotonic time line) and acts
//! on what [`Guard::evaluate`] returns.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use crate::falseticker::{Event, FalsetickerTracker};
use crate::intersect::{Intersection, Interval, Verdict, intersect, min_sources};
use crate::source::{BoundAssumptions, SourceSample};

/// A source's earlier samples and when each completed, oldest first.
type History = VecDeque<(SourceSample, u64)>;

/// The history depth the daemon and the simulator use
/// ([`Guard::set_history_depth`]): a source's latest two samples. An older
/// sample is wider than the newest by max-drift x one poll (1.9 us at
/// 15 ppm and 8 exchanges a second), about the spread of the path jitter,
/// so a third one seldom narrows it (the overlay simulator's detection
/// figures are the same with 2, 4 and 8).
pub const DEFAULT_HISTORY_DEPTH: usize = 2;

/// The switch persistence the daemon and the simulator use
/// ([`Guard::set_switch_persistence`]), in rounds (a round is one
/// evaluation, normally one per completed exchange of any source). In the
/// overlay simulator's three narrow liars (n = 7, 8 exchanges a second
/// each) it cut the switches in 3 x 10^6 rounds from 75 850 to 413 (8
/// rounds: 13 116).
pub const DEFAULT_SWITCH_PERSISTENCE: u32 = 16;

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
    /// Per source, its samples before the latest one, newest last (at most
    /// `history_depth - 1`).
    /// (`u64::MAX`: completion not known yet, stamped by the next round).
    history: BTreeMap<Id, History>,
    history_depth: usize,
    /// When each latest sample was known complete: the `now` of the first
    /// round after [`Guard::observe`] (absent until then).
    completed: BTreeMap<Id, u64>,
    /// Also judge each source at its own latest completion.
    judge_at_completion: bool,
    /// Rounds a challenger must stay better before a switch to it.
    persistence: u32,
    /// The source that would replace a still-valid selection, and for how
    /// many consecutive rounds it has.
    challenger: Option<(Id, u32)>,
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
            history: BTreeMap::new(),
            history_depth: 1,
            completed: BTreeMap::new(),
            judge_at_completion: false,
            persistence: 1,
            challenger: None,
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

    /// The largest history depth [`Guard::set_history_depth`] accepts.
    pub const MAX_HISTORY_DEPTH: usize = 32;

    /// Judge each source by the intersection of its last `depth` samples
    /// (each aged to the round's `now`, those older than max-age left out)
    /// instead of its latest one alone; 1 (the default) is the latest only.
    /// Clamped to `1..=MAX_HISTORY_DEPTH`.
    ///
    /// Sound under the same assumptions as one sample: if the source is
    /// correct and the local clock within max-drift (plus the servo's slew)
    /// every one of its intervals holds true time, and so does their
    /// intersection. A source whose own recent intervals do not overlap is
    /// judged by its latest sample alone (it may have been corrected; the
    /// intersection over all sources still tolerates it as one of `f`).
    pub fn set_history_depth(&mut self, depth: usize) {
        self.history_depth = depth.clamp(1, Self::MAX_HISTORY_DEPTH);
        let keep = self.history_depth - 1;
        for h in self.history.values_mut() {
            while h.len() > keep {
                h.pop_front();
            }
        }
        self.history.retain(|_, h| !h.is_empty());
    }

    /// Also judge every source at the time its latest sample completed
    /// (default: off, judged at the round's `now` only).
    ///
    /// At `now` every interval is widened by drift x its age, the judged
    /// source's own too: a liar measured a poll ago looks a poll's drift
    /// wider than it measured, and may keep touching the intersection long
    /// after its centre crossed. A sample brackets true time between its
    /// Sync's arrival and its Delay_Req's departure, both inside
    /// `[measured_at, completion]`, so at any time `T` it holds true time
    /// widened by drift x the larger distance from `T` to either end (at
    /// `T >= completion` that is its age, as at `now`). Intersecting every
    /// fresh source at the judged source's own completion is therefore as
    /// sound as at `now` (the same at most `f` faulty, the same
    /// assumptions), and the judged source is widened only by its own
    /// exchange's duration. A source outside that intersection is a
    /// falseticker even if it still meets the one at `now`; the
    /// intersection published is always the one at `now`.
    pub const fn set_judge_at_completion(&mut self, on: bool) {
        self.judge_at_completion = on;
    }

    /// Whether sources are also judged at their own completion.
    #[must_use]
    pub const fn judges_at_completion(&self) -> bool {
        self.judge_at_completion
    }

    /// The history depth (1: the latest sample only).
    #[must_use]
    pub const fn history_depth(&self) -> usize {
        self.history_depth
    }

    /// Switch from a selection that is still valid to a better candidate
    /// only after that same candidate has been the better one (below
    /// `switch_below_percent` of the selection's width) in `rounds`
    /// consecutive rounds; 1 (the default) switches at once, 0 counts as 1.
    /// A selection that stops being a valid candidate (a falseticker, its
    /// midpoint outside the intersection, silent, quarantined) is replaced
    /// at once whatever this says.
    pub const fn set_switch_persistence(&mut self, rounds: u32) {
        self.persistence = if rounds == 0 { 1 } else { rounds };
    }

    /// Rounds a candidate must stay better before the guard switches to it.
    #[must_use]
    pub const fn switch_persistence(&self) -> u32 {
        self.persistence
    }

    /// Record `id`'s latest measurement.
    pub fn observe(&mut self, id: Id, sample: SourceSample) {
        let previous = self.latest.insert(id, sample);
        let completed = self.completed.remove(&id).unwrap_or(u64::MAX);
        if let Some(prev) = previous.filter(|_| self.history_depth > 1) {
            let h = self.history.entry(id).or_default();
            h.push_back((prev, completed));
            while h.len() >= self.history_depth {
                h.pop_front();
            }
        }
    }

    /// Forget every stored measurement (the local clock was stepped: offsets
    /// measured before mean nothing now). Verdicts are kept.
    pub fn clear_samples(&mut self) {
        self.latest.clear();
        self.history.clear();
        self.completed.clear();
    }

    /// `id`'s interval at `now`: its latest sample's, narrowed by its
    /// earlier samples that are still within max-age (see
    /// [`Guard::set_history_depth`]).
    ///
    /// At `at` (`now`, or an earlier time when judging at a completion):
    /// each sample is widened by drift x the larger distance from `at` to
    /// its `measured_at` or its completion (see
    /// [`Guard::set_judge_at_completion`]); at `at >= completion` that is
    /// its age.
    fn source_interval(
        &self,
        id: &Id,
        latest: &SourceSample,
        now: u64,
        at: u64,
        a: &BoundAssumptions,
    ) -> Interval {
        let completed = self.completed.get(id).copied().unwrap_or(u64::MAX);
        narrowed(
            latest,
            completed,
            self.history.get(id),
            now,
            at,
            self.config.max_age_ns,
            a,
        )
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
        // Samples observed since the last round completed by `now`.
        for &id in self.latest.keys() {
            self.completed.entry(id).or_insert(now);
        }
        for h in self.history.values_mut() {
            for (_, c) in h.iter_mut().filter(|(_, c)| *c == u64::MAX) {
                *c = now;
            }
        }
        let mut a = self.config.assumptions;
        a.max_drift_ppb = a.max_drift_ppb.saturating_add(self.local_slew_ppb(now));
        let max_age = self.config.max_age_ns;
        let mut sources: Vec<SourceState<Id>> = self
            .latest
            .iter()
            .map(|(&id, s)| SourceState {
                id,
                interval: self.source_interval(&id, s, now, now, &a),
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
            let judged: Vec<(Id, Verdict)> = sources
                .iter()
                .filter(|s| fresh(&s.id))
                .map(|s| (s.id, x.classify(&s.interval)))
                .collect();
            let late = if self.judge_at_completion {
                let ids: Vec<Id> = judged.iter().map(|&(id, _)| id).collect();
                self.judge_at_completion(&ids, &|k| judged[k].1.is_truechimer(), now, &a)
            } else {
                Vec::new()
            };
            for (k, &(id, v)) in judged.iter().enumerate() {
                // A falseticker at its own completion is one now.
                let v = match late.get(k).copied().flatten() {
                    Some(l) if l.is_falseticker() => l,
                    _ => v,
                };
                if let Some(s) = sources.iter_mut().find(|s| s.id == id) {
                    s.verdict = Some(v);
                }
                events.extend(self.tracker.observe(id, v, now));
            }
        }
        let quarantine = self.update_quarantine(now);
        for s in &mut sources {
            s.quarantined = self.quarantined.contains_key(&s.id);
        }
        let selected = match intersection {
            Some(x) => self.choose(&x, &sources),
            None => {
                self.challenger = None;
                None
            }
        };
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

    /// Each fresh source's verdict against the intersection of every
    /// fresh source at the middle of its own latest sample's window
    /// (`measured_at` to completion; see
    /// [`Guard::set_judge_at_completion`]), for the sources `judge` picks;
    /// `None` where not judged, or without an agreement there. Aligned
    /// with `fresh`.
    fn judge_at_completion(
        &self,
        fresh: &[Id],
        judge: &dyn Fn(usize) -> bool,
        now: u64,
        a: &BoundAssumptions,
    ) -> Vec<Option<Verdict>> {
        let max_age = self.config.max_age_ns;
        let entries: Vec<(&SourceSample, u64, Option<&History>)> = fresh
            .iter()
            .filter_map(|id| {
                let s = self.latest.get(id)?;
                let c = self.completed.get(id).copied().unwrap_or(u64::MAX);
                Some((s, c, self.history.get(id)))
            })
            .collect();
        if entries.len() != fresh.len() {
            return alloc::vec![None; fresh.len()];
        }
        let mut buffer: Vec<Interval> = Vec::with_capacity(entries.len());
        (0..fresh.len())
            .map(|k| {
                if !judge(k) {
                    return None;
                }
                let (own, completed, _) = entries[k];
                if completed == u64::MAX {
                    return None;
                }
                let measured = own.measured_at_ns.min(completed);
                // The middle of the judged sample's own window: its
                // interval is widened least there (drift x half the window).
                let at = measured + (completed - measured) / 2;
                buffer.clear();
                buffer.extend(
                    entries
                        .iter()
                        .map(|&(s, c, h)| narrowed(s, c, h, now, at, max_age, a)),
                );
                let x = intersect(&buffer, self.config.faults).ok()?;
                Some(x.classify(&buffer[k]))
            })
            .collect()
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
    /// intersection and no candidate has been much narrower for
    /// `persistence` consecutive rounds; otherwise take the narrowest
    /// candidate. Widths are compared as measured (without the
    /// drift term): at a common `now` the source measured last always looks
    /// narrowest, and comparing aged widths made honest sources of equal
    /// quality take turns as their exchanges interleaved.
    fn choose(&mut self, x: &Intersection, sources: &[SourceState<Id>]) -> Option<Id> {
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
        let Some(best) = candidates().min_by_key(|s| width(s)) else {
            self.challenger = None;
            return None;
        };
        let current = self
            .selected
            .and_then(|id| candidates().find(|s| s.id == id));
        let Some(c) = current else {
            // No valid selection: take the best at once.
            self.challenger = None;
            return Some(best.id);
        };
        if u128::from(width(best)) * 100
            >= u128::from(width(c)) * u128::from(self.config.switch_below_percent)
        {
            self.challenger = None;
            return Some(c.id);
        }
        // `best` is much narrower than the valid selection: switch once it
        // has been so for `persistence` consecutive rounds.
        let rounds = match self.challenger {
            Some((id, n)) if id == best.id => n.saturating_add(1),
            _ => 1,
        };
        if rounds >= self.persistence {
            self.challenger = None;
            Some(best.id)
        } else {
            self.challenger = Some((best.id, rounds));
            Some(c.id)
        }
    }
}

/// `s`'s interval at `at`, for a sample that completed at `completed`:
/// widened by drift x the larger of `|at - measured_at|` and
/// `|at - completed|` (its age when `at >= completed`).
fn interval_between(s: &SourceSample, completed: u64, at: u64, a: &BoundAssumptions) -> Interval {
    let spread = at
        .abs_diff(s.measured_at_ns)
        .max(at.abs_diff(completed.max(s.measured_at_ns)));
    s.interval_at(s.measured_at_ns.saturating_add(spread), a)
}

/// A source's interval at `at` from its latest sample (completed at
/// `completed`) narrowed by its earlier samples still within `max_age` of
/// `now`. Samples that do not overlap (the source contradicts itself: it
/// is faulty, or was corrected) leave the latest one alone, as without
/// history.
fn narrowed(
    latest: &SourceSample,
    completed: u64,
    history: Option<&History>,
    now: u64,
    at: u64,
    max_age: u64,
    a: &BoundAssumptions,
) -> Interval {
    let newest = interval_between(latest, completed, at, a);
    let Some(h) = history else {
        return newest;
    };
    let (mut lo, mut hi) = (newest.lower(), newest.upper());
    for (old, c) in h
        .iter()
        .filter(|(s, _)| now.saturating_sub(s.measured_at_ns) <= max_age)
    {
        let i = interval_between(old, *c, at, a);
        lo = lo.max(i.lower());
        hi = hi.min(i.upper());
    }
    Interval::new(lo, hi).unwrap_or(newest)
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

    #[test]
    fn a_challenger_must_stay_better_for_the_persistence_rounds() {
        let mut g = guard();
        g.set_switch_persistence(3);
        assert_eq!(g.switch_persistence(), 3);
        g.observe(1, sample(0, 30_000, 0));
        g.observe(2, sample(100, 25_000, 0));
        g.observe(3, sample(-100, 40_000, 0));
        // The first selection is immediate.
        assert_eq!(g.evaluate(0).selected, Some(2));
        // Source 1 becomes much narrower: kept out for two rounds...
        g.observe(1, sample(0, 5_000, 1));
        for t in 1..3 {
            let r = g.evaluate(t);
            assert_eq!((r.selected, r.switched), (Some(2), None), "t = {t}");
        }
        // ...and followed in the third in a row.
        let r = g.evaluate(3);
        assert_eq!((r.selected, r.switched), (Some(1), Some(Some(2))));
        assert_eq!(g.switches(), 2);

        // A challenger that drops out restarts the count: source 2 much
        // narrower for two rounds, then not, then again for two.
        let narrow = |g: &mut Guard<u8>, t: u64, path: i64| {
            g.observe(2, sample(100, path, t));
            g.evaluate(t)
        };
        assert_eq!(narrow(&mut g, 4, 1_000).selected, Some(1));
        assert_eq!(narrow(&mut g, 5, 1_000).selected, Some(1));
        assert_eq!(narrow(&mut g, 6, 25_000).selected, Some(1));
        assert_eq!(narrow(&mut g, 7, 1_000).selected, Some(1));
        assert_eq!(narrow(&mut g, 8, 1_000).selected, Some(1));
        assert_eq!(narrow(&mut g, 9, 1_000).selected, Some(2));

        // A selection that stops being valid is left at once: source 2
        // jumps 1 ms away (a falseticker).
        g.observe(2, sample(1_000_000, 1_000, 10));
        let r = g.evaluate(10);
        assert_eq!((r.selected, r.switched), (Some(1), Some(Some(2))));
    }

    #[test]
    fn persistence_one_or_zero_switches_at_once() {
        let mut g = guard();
        g.set_switch_persistence(0);
        assert_eq!(g.switch_persistence(), 1);
        g.observe(1, sample(0, 30_000, 0));
        g.observe(2, sample(100, 25_000, 0));
        g.observe(3, sample(-100, 40_000, 0));
        assert_eq!(g.evaluate(0).selected, Some(2));
        g.observe(1, sample(0, 5_000, 1));
        assert_eq!(g.evaluate(1).selected, Some(1));
    }

    fn drifting_guard() -> Guard<u8> {
        Guard::new(GuardConfig {
            faults: 1,
            assumptions: BoundAssumptions {
                asymmetry_ns: 0,
                max_drift_ppb: 10_000,
            },
            ..GuardConfig::default()
        })
    }

    #[test]
    fn history_narrows_a_source_to_what_all_its_samples_allow() {
        let ms = 1_000_000;
        let mut g = drifting_guard();
        g.set_history_depth(2);
        assert_eq!(g.history_depth(), 2);
        // An exchange 100 ms ago: [-10 us, +30 us]; one now: [0, 40 us]
        // (10 ppm x 100 ms = 1 us of drift on the older one).
        g.observe(1, sample(10_000, 20_000, 0));
        let _ = g.evaluate(0);
        g.observe(1, sample(20_000, 20_000, 100 * ms));
        let r = g.evaluate(100 * ms);
        let i = r.sources[0].interval;
        assert_eq!((i.lower(), i.upper()), (0, 31_000));
        // Without history: the newest alone.
        let mut plain = drifting_guard();
        plain.observe(1, sample(10_000, 20_000, 0));
        plain.observe(1, sample(20_000, 20_000, 100 * ms));
        let i = plain.evaluate(100 * ms).sources[0].interval;
        assert_eq!((i.lower(), i.upper()), (0, 40_000));
        // Samples that contradict each other: the newest alone.
        g.observe(1, sample(500_000, 20_000, 200 * ms));
        let i = g.evaluate(200 * ms).sources[0].interval;
        assert_eq!((i.lower(), i.upper()), (480_000, 520_000));
        // A step forgets the history too.
        g.clear_samples();
        g.observe(1, sample(0, 20_000, 300 * ms));
        let i = g.evaluate(300 * ms).sources[0].interval;
        assert_eq!((i.lower(), i.upper()), (-20_000, 20_000));
    }

    #[test]
    fn a_liar_is_judged_at_its_own_completion_not_widened_by_its_age() {
        // Source 1 and the liar 3 complete at 0, source 2 (measured at 0)
        // is first seen at 200 ms, the round. At 200 ms every interval is
        // 2 us wider (10 ppm x 200 ms) and the liar's [29, 73] us meets the
        // intersection [-14, 30] us; at its own completion (0) it is
        // [31, 71] us against [-14, 30] us: 1 us above.
        let ms = 1_000_000;
        let run = |judge: bool| {
            let mut g = drifting_guard();
            g.set_judge_at_completion(judge);
            assert_eq!(g.judges_at_completion(), judge);
            g.observe(1, sample(0, 20_000, 0)); // [-20, 20] us at 0
            g.observe(3, sample(51_000, 20_000, 0)); // [31, 71] us at 0
            let r = g.evaluate(0);
            assert!(matches!(r.status, GuardStatus::TooFewSources { .. }));
            g.observe(2, sample(8_000, 20_000, 0)); // [-12, 28] us at 0
            g.evaluate(200 * ms)
        };
        let verdict = |r: &Round<u8>, id: u8| {
            r.sources
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.verdict)
                .unwrap()
        };
        let classic = run(false);
        assert!(verdict(&classic, 3).is_truechimer(), "29 us < 30 us at now");
        let judged = run(true);
        assert_eq!(
            verdict(&judged, 3),
            Verdict::Falseticker {
                reason: crate::intersect::FalseReason::Above { by: 1_000 }
            }
        );
        // Honest sources are not blamed, and the published intersection is
        // the one at now either way.
        assert!(verdict(&judged, 1).is_truechimer() && verdict(&judged, 2).is_truechimer());
        assert_eq!(judged.intersection, classic.intersection);
    }
}
