//! The overlay-level engine: one local clock, `n` sources measured by
//! four-timestamp exchanges, the real [`Guard`] and the real servo.
//!
//! Time is true time in ns since the start, `f64`. Every source is polled
//! once per poll interval (with a random phase). One exchange:
//!
//! 1. the Sync leaves at true time `T1`; the source stamps
//!    `t1 = T1 + e(T1) (+ shrink)`, where `e` is its clock's error (honest:
//!    uniform noise within its advertised accuracy; a liar: its behaviour);
//! 2. it arrives at `T2 = T1 + d_ms`, stamped by the local clock `t2`;
//! 3. the Delay_Req leaves at `T3 = T2 + gap` (uniform in
//!    `[0, delay-req-gap-s)`), stamped `t3`;
//! 4. it arrives at `T4 = T3 + d_sm`, stamped `t4 = T4 + e(T4) (- shrink)`;
//! 5. the Delay_Resp carrying `t4` arrives at `T4 + d_back`: the exchange is
//!    complete.
//!
//! Delays are `base + jitter (+ attack)` per direction. From the four stamps
//! the offset and the exchange's mean path delay are computed exactly as
//! IEEE 1588-2019 clause 11.3 does, and turned into a [`SourceSample`]
//! exactly as the daemon does (`statime-linux/src/daemon/overlay.rs`:
//! `offset_ns = -floor(offsetFromMaster)`, `path_delay_ns =
//! floor(meanPathDelay)`, the advertised error from the clockAccuracy code,
//! `measured_at` = the time the exchange completed, or, with
//! `measured-at = "sync-receipt"`, the time its Sync arrived). Then, as the
//! daemon:
//! `observe`, `evaluate`, and the servo takes the sample only if its source
//! is the guard's `selected` one; a servo step voids every stored sample
//! (`clear_samples`) and every exchange in flight whose Sync was stamped
//! before it. The published interval is the round's intersection.
//!
//! Every completed exchange is one guard round, one "sample" of the
//! figures: whether true time (`true - local` at that instant) lies in
//! the intersection, how many fresh intervals miss it (the sources that
//! are faulty at that instant), the status, the verdicts.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use bft_overlay::{
    BoundAssumptions, Guard, GuardConfig, GuardStatus, Interval, SourceSample, clock_accuracy_ns,
};
use statime::bmca::ComparisonDataset;
use statime::clock::Clock;
use statime::servo::{AnyServo, Servo, ServoAction, ServoAlgorithm, ServoConfig, ServoSample};
use statime::time::{Duration, Time};
use statime::wire::{ClockAccuracy, ClockQuality, PortIdentity};

use super::hist::LogHistogram;
use super::scenario::{Direction, MeasuredAt, OverlayScenario};
use crate::clock::{EPOCH_NS, NS, SimClock};
use crate::rng::Rng;
use crate::scenario::ServoKind;
use crate::sim::identity;

/// Poll intervals within which a liar that crossed the bound must be a
/// falseticker (issue 8's requirement).
pub const DETECTION_POLLS: f64 = 3.0;

/// One liar's crossing of the bound and its detection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detection {
    /// The source (index in the scenario).
    pub source: usize,
    /// Detection minus the first crossing, s (0: in the round that
    /// crossed).
    pub delay_s: f64,
    /// Detection minus the start of the latest uninterrupted stretch
    /// across the bound, s (the liar may fall back within reach of an
    /// honest interval and cross again; this counts only the last
    /// stretch).
    pub continuous_s: f64,
    /// The liar's true clock error when it crossed, ns.
    pub error_at_cross_ns: f64,
    /// The liar's true clock error when it was detected, ns.
    pub error_at_detect_ns: f64,
}

/// What one source's exchanges looked like (from `reset-s`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SourceStats {
    /// Completed exchanges.
    pub exchanges: u64,
    /// Sum of (measured offset - true offset), ns: the offset error.
    pub bias_sum: f64,
    /// Sum of the exchanges' mean path delays, ns.
    pub path_sum: f64,
    /// Smallest `bound - |offset error|` at the measurement, ns (negative:
    /// the fresh interval missed true time).
    pub min_slack: f64,
    /// Fresh intervals (at the measurement) that missed true time.
    pub misses: u64,
    /// Agreement rounds in which this source was the selected one.
    pub selected: u64,
}

/// The first fresh honest interval that missed true time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HonestMiss {
    /// The seed.
    pub seed: u64,
    /// True time, s.
    pub t_s: f64,
    /// The guard round (from 1).
    pub round: u64,
    /// The source.
    pub source: usize,
    /// How far outside its interval true time was, ns.
    pub by_ns: f64,
    /// The local clock's frequency error against true time then, ppb.
    pub freq_error_ppb: f64,
}

/// The first round in which true time fell outside the intersection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Violation {
    /// The seed.
    pub seed: u64,
    /// True time, s.
    pub t_s: f64,
    /// The guard round (from 1).
    pub round: u64,
    /// True time minus local time, ns.
    pub truth_ns: f64,
    /// The intersection's bounds, ns.
    pub lower_ns: i64,
    /// The intersection's upper bound, ns.
    pub upper_ns: i64,
    /// Fresh intervals that missed true time in that round.
    pub faulty: usize,
}

/// The figures of one run (one seed).
#[derive(Clone, Debug, Default)]
pub struct RunMetrics {
    /// The seed.
    pub seed: u64,
    /// Guard rounds (completed exchanges).
    pub samples: u64,
    /// Simulated time, s.
    pub simulated_s: f64,
    /// Rounds with status Agreement (published Synchronized).
    pub agreement: u64,
    /// Rounds with too few fresh sources (Unknown).
    pub too_few: u64,
    /// Rounds with an empty intersection (Unknown).
    pub no_agreement: u64,
    /// Agreement rounds with true time outside the intersection while at
    /// most `f` fresh intervals missed it (the guarantee says: none).
    pub outside_le_f: u64,
    /// Agreement rounds with true time outside the intersection, however
    /// many were faulty (a confident wrong answer).
    pub outside_any: u64,
    /// The first of the `outside_le_f` rounds.
    pub first_violation: Option<Violation>,
    /// Rounds in which a fresh interval of an honest source missed true
    /// time (a broken assumption of the bound: must stay 0).
    pub honest_misses: u64,
    /// The first of them.
    pub first_honest_miss: Option<HonestMiss>,
    /// Rounds in which the guard called an honest source a falseticker
    /// while at most `f` fresh intervals missed true time (the guarantee
    /// says: none).
    pub honest_falsetickers: u64,
    /// The first Agreement round with true time outside, however many
    /// were faulty.
    pub first_wrong: Option<Violation>,
    /// The most fresh intervals missing true time in one round.
    pub max_faulty: usize,
    /// Rounds with more than `f` fresh intervals missing true time.
    pub rounds_beyond_f: u64,
    /// Agreement rounds in which a liar's reported interval met no honest
    /// interval (so it provably misses the intersection).
    pub provable_rounds: u64,
    /// Of those, rounds in which the guard did not call it a falseticker
    /// (the theorem says: none).
    pub provable_missed: u64,
    /// Every crossing (by true error) that was detected. A liar crosses
    /// when its own bound around its clock's true error, widened by half
    /// its latest exchange's asymmetry, meets no honest interval (of the
    /// latest samples alone): no honest interval could absorb it any more,
    /// and wherever the asymmetry put the interval it reported, an
    /// interval test can see it. A crossing lasts from the first such
    /// round until the liar has been absorbable again for more than
    /// [`DETECTION_POLLS`] polls. (Until 2026-12-07 the asymmetry was left
    /// out: see `blind_*`.)
    pub detections: Vec<Detection>,
    /// Crossings still undetected [`DETECTION_POLLS`] polls after they
    /// began.
    pub overdue: u64,
    /// Crossings that ended, undetected, within [`DETECTION_POLLS`] polls
    /// (the liar touched the bound and fell back): flickers at the edge.
    pub brief_undetected: u64,
    /// Crossings undetected when the run ended.
    pub open: u64,
    /// Asymmetry-blind crossings (the definition until 2026-12-07: the
    /// liar's own bound around its true error, ignoring how far its
    /// exchange's asymmetry moved what it reported) that were detected.
    pub blind_detected: u64,
    /// Of the asymmetry-blind crossings, those undetected after
    /// [`DETECTION_POLLS`] polls.
    pub blind_overdue: u64,
    /// The longest detection of an asymmetry-blind crossing, s.
    pub blind_detect_max_s: f64,
    /// Published half-widths (Agreement rounds from `reset-s`), ns.
    pub half_widths: LogHistogram,
    /// Per source, the half-width of each of its fresh intervals (age 0)
    /// from `reset-s`, ns.
    pub source_bounds: Vec<LogHistogram>,
    /// Per source, its exchanges and selections.
    pub sources: Vec<SourceStats>,
    /// Sum of squared true clock errors (local minus true, at every round
    /// from `reset-s`), ns².
    pub err_sum_sq: f64,
    /// Rounds in `err_sum_sq`.
    pub err_count: u64,
    /// Largest |true clock error| from `reset-s`, ns.
    pub err_max: f64,
    /// Selection changes.
    pub switches: u64,
    /// Servo steps.
    pub steps: u64,
    /// Samples fed to the servo.
    pub servo_samples: u64,
    /// Agreement rounds in which the selected source was a liar.
    pub liar_selected: u64,
    /// Agreement rounds in which the selected source was a liar whose
    /// interval missed true time at that instant.
    pub faulty_selected: u64,
    /// The source BMCA would pick (best announced data set).
    pub bmca_pick: usize,
    /// Agreement rounds in which the guard followed BMCA's pick.
    pub bmca_followed: u64,
    /// Rounds in which BMCA's pick was a falseticker and selected anyway
    /// (the guard's rule says: never).
    pub falseticker_selected: u64,
    /// Largest |frequency error| of the local clock against true time,
    /// ppb.
    pub max_freq_error_ppb: f64,
    /// Rounds with |frequency error| above the guard's `max-drift`.
    pub drift_breaches: u64,
    /// Exchanges lost on the network.
    pub lost: u64,
    /// Exchanges voided by a clock step.
    pub voided: u64,
}

/// One exchange in flight.
#[derive(Clone, Copy, Debug)]
struct Exchange {
    src: usize,
    number: u64,
    t1: f64,
    /// True time the Sync arrived.
    at2: f64,
    t2: f64,
    t3: f64,
    t4: f64,
    gap: f64,
    d_sm: f64,
    d_back: f64,
    noise4: f64,
    epoch: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Poll,
    SyncArrives,
    DelayReqLeaves,
    Complete,
}

#[derive(Clone, Copy, Debug)]
struct Ev {
    at: f64,
    seq: u64,
    step: Step,
    ex: Exchange,
}

impl PartialEq for Ev {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Ev {}
impl PartialOrd for Ev {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ev {
    fn cmp(&self, o: &Self) -> Ordering {
        self.at.total_cmp(&o.at).then(self.seq.cmp(&o.seq))
    }
}

/// What one round did to an [`Episode`].
enum Step2 {
    /// Detected (`source` to be filled in).
    Detected(Detection),
    /// Ended undetected within [`DETECTION_POLLS`] polls.
    Brief,
    /// Undetected [`DETECTION_POLLS`] polls after it began.
    Overdue,
}

impl Episode {
    /// One judged round: `crossed` by the episode's definition, the
    /// guard's verdict, the liar's true error. An episode runs from the
    /// first crossing until the liar has stayed absorbable for more than
    /// `limit` (ns): flickering back and forth across the bound does not
    /// restart the clock.
    fn step(
        &mut self,
        crossed: bool,
        falseticker: bool,
        now: f64,
        err: f64,
        limit: f64,
    ) -> Option<Step2> {
        if crossed {
            if !self.active {
                *self = Self {
                    active: true,
                    start: now,
                    last_crossed: now,
                    stretch: None,
                    error_at_start: err,
                    detected: false,
                    overdue: false,
                };
            }
            self.last_crossed = now;
            self.stretch.get_or_insert(now);
        } else {
            self.stretch = None;
        }
        if !self.active {
            return None;
        }
        if falseticker && !self.detected {
            self.detected = true;
            return Some(Step2::Detected(Detection {
                source: 0,
                delay_s: (now - self.start) / NS,
                continuous_s: self.stretch.map_or(0.0, |t| (now - t) / NS),
                error_at_cross_ns: self.error_at_start,
                error_at_detect_ns: err,
            }));
        }
        if !crossed && now - self.last_crossed > limit {
            let brief = !self.detected && !self.overdue;
            *self = Self::default();
            return brief.then_some(Step2::Brief);
        }
        if !self.detected && !self.overdue && now - self.start > limit {
            self.overdue = true;
            return Some(Step2::Overdue);
        }
        None
    }
}

/// Per liar: the crossing (by true error) in progress.
#[derive(Clone, Copy, Debug, Default)]
struct Episode {
    active: bool,
    start: f64,
    last_crossed: f64,
    /// Start of the current uninterrupted stretch across the bound.
    stretch: Option<f64>,
    error_at_start: f64,
    detected: bool,
    overdue: bool,
}

/// The source BMCA would pick among the scenario's sources (IEEE 1588-2019
/// clause 9.3.4, figure 33, via the core's own comparison).
#[must_use]
pub fn bmca_pick(sc: &OverlayScenario) -> usize {
    let ds = |i: usize| {
        let s = &sc.sources[i];
        let id = identity(i);
        ComparisonDataset {
            grandmaster_priority1: s.priority1,
            grandmaster_identity: id,
            grandmaster_clock_quality: ClockQuality {
                clock_class: s.clock_class,
                clock_accuracy: ClockAccuracy::from(s.accuracy),
                offset_scaled_log_variance: 0xFFFF,
            },
            grandmaster_priority2: s.priority2,
            steps_removed: 0,
            sender: PortIdentity {
                clock_identity: id,
                port_number: 1,
            },
            receiver: PortIdentity {
                clock_identity: identity(MAX_ID),
                port_number: 1,
            },
            local_priority: 128,
            comparison: statime::datasets::DatasetComparison::Ieee1588,
        }
    };
    (1..sc.sources.len()).fold(0, |best, j| {
        if ds(j).compare(&ds(best)).is_better() {
            j
        } else {
            best
        }
    })
}

/// The local node's identity index (beyond every source's).
const MAX_ID: usize = 1000;

fn to_time(local_ns: f64) -> Time {
    Time::from_nanos(EPOCH_NS) + Duration::from_nanos_f64(local_ns)
}

#[allow(clippy::cast_possible_truncation)]
fn floor_i64(v: f64) -> i64 {
    // `as` saturates; the values here are far from the limits.
    v.floor() as i64
}

fn contains(i: &Interval, t: f64) -> bool {
    #[allow(clippy::cast_precision_loss)]
    let (lo, hi) = (i.lower() as f64, i.upper() as f64);
    lo <= t && t <= hi
}

/// Runs `sc` with `seed` for `samples` guard rounds.
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn run(sc: &OverlayScenario, seed: u64, samples: u64) -> RunMetrics {
    let n = sc.sources.len();
    let f = sc.faults;
    let poll = sc.poll_interval_s * NS;
    let gap_max = sc.gap_s() * NS;
    let reset = sc.reset_s * NS;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let assumptions = BoundAssumptions {
        asymmetry_ns: sc.guard.asymmetry_ns,
        max_drift_ppb: (sc.guard.max_drift_ppm * 1000.0).round().max(0.0) as u64,
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let max_age_ns = (sc.guard.max_age_s * NS).round() as u64;
    let mut guard: Guard<usize> = Guard::new(GuardConfig {
        faults: f,
        assumptions,
        max_age_ns,
        switch_below_percent: sc.guard.switch_below_percent,
    });
    guard.set_history_depth(sc.guard.history_depth);
    guard.set_switch_persistence(sc.guard.switch_persistence_rounds);
    guard.set_judge_at_completion(sc.guard.judge_at_completion);
    // The servo starts with no adjustment.
    guard.note_local_frequency(0, 0);
    let l = &sc.local;
    let mut clock = SimClock::new(
        0.0,
        l.initial_offset_ns,
        l.frequency_ppm * 1000.0,
        l.wander_ppb,
        l.max_frequency_ppb,
        Rng::derive(seed, "overlay-wander", 0),
    );
    let cfg = ServoConfig {
        algorithm: match sc.servo {
            ServoKind::Pi => ServoAlgorithm::Pi,
            ServoKind::Kalman => ServoAlgorithm::Kalman,
        },
        max_frequency_ppb: l.max_frequency_ppb,
        ..ServoConfig::default()
    };
    let mut servo = AnyServo::new(&cfg, 0.0);
    servo.set_sync_interval(sc.poll_interval_s);
    servo.set_max_frequency(clock.max_frequency_ppb());

    let advertised: Vec<u64> = sc
        .sources
        .iter()
        .map(|s| clock_accuracy_ns(s.accuracy).unwrap_or(0))
        .collect();
    let liar: Vec<bool> = sc.sources.iter().map(|s| s.liar.is_some()).collect();
    let mut rngs: Vec<Rng> = (0..n)
        .map(|i| Rng::derive(seed, "overlay-source", i as u64))
        .collect();
    let mut latest: Vec<Option<SourceSample>> = vec![None; n];
    let mut last_number: Vec<u64> = vec![0; n];
    let mut episodes: Vec<Episode> = vec![Episode::default(); n];
    let mut blind_episodes: Vec<Episode> = vec![Episode::default(); n];
    // Per source: its latest measured offset minus its true offset (half
    // its exchange's asymmetry, and noise), ns.
    let mut shift: Vec<f64> = vec![0.0; n];
    let mut m = RunMetrics {
        seed,
        source_bounds: vec![LogHistogram::new(); n],
        sources: vec![
            SourceStats {
                min_slack: f64::INFINITY,
                ..SourceStats::default()
            };
            n
        ],
        bmca_pick: bmca_pick(sc),
        ..RunMetrics::default()
    };
    let max_drift = f64::from(u32::try_from(assumptions.max_drift_ppb).unwrap_or(u32::MAX));

    let mut queue: BinaryHeap<Reverse<Ev>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |queue: &mut BinaryHeap<Reverse<Ev>>, at: f64, step: Step, ex: Exchange| {
        seq += 1;
        queue.push(Reverse(Ev { at, seq, step, ex }));
    };
    let mut phase_rng = Rng::derive(seed, "overlay-phase", 0);
    for src in 0..n {
        let at = phase_rng.uniform() * poll;
        let ex = Exchange {
            src,
            number: 0,
            t1: 0.0,
            at2: 0.0,
            t2: 0.0,
            t3: 0.0,
            t4: 0.0,
            gap: 0.0,
            d_sm: 0.0,
            d_back: 0.0,
            noise4: 0.0,
            epoch: 0,
        };
        push(&mut queue, at, Step::Poll, ex);
    }
    let mut epoch = 0u64;
    let mut now = 0.0f64;
    let detect_limit = DETECTION_POLLS * poll;

    while m.samples < samples {
        let Some(Reverse(ev)) = queue.pop() else {
            break;
        };
        now = ev.at;
        let mut ex = ev.ex;
        let s = &sc.sources[ex.src];
        let lie_at =
            |t: f64, number: u64| s.liar.as_ref().map_or(0.0, |l| l.error_at(t / NS, number));
        let shrink = s
            .liar
            .as_ref()
            .map_or(0.0, super::scenario::LiarSpec::path_shrink_ns);
        let attack =
            |dir: Direction, t: f64| s.attack.as_ref().map_or(0.0, |a| a.extra(dir, t / NS));
        match ev.step {
            Step::Poll => {
                let next = Exchange {
                    number: ex.number + 1,
                    ..ex
                };
                push(&mut queue, now + poll, Step::Poll, next);
                // Every draw in a fixed order, lost or not.
                let r = &mut rngs[ex.src];
                let lost = r.chance(s.loss);
                let d_ms = s.to_local.base_ns + s.to_local.jitter.sample(r);
                let gap = r.uniform() * gap_max;
                let d_sm = s.to_source.base_ns + s.to_source.jitter.sample(r);
                let d_back = s.to_local.base_ns + s.to_local.jitter.sample(r);
                let noise1 = (2.0 * r.uniform() - 1.0) * s.noise_ns;
                let noise4 = (2.0 * r.uniform() - 1.0) * s.noise_ns;
                if lost {
                    m.lost += 1;
                    continue;
                }
                ex.t1 = now + lie_at(now, ex.number) + noise1 + shrink;
                ex.gap = gap;
                ex.d_sm = d_sm;
                ex.d_back = d_back;
                ex.noise4 = noise4;
                let arrive = now + d_ms + attack(Direction::ToLocal, now);
                push(&mut queue, arrive, Step::SyncArrives, ex);
            }
            Step::SyncArrives => {
                ex.at2 = now;
                ex.t2 = now + clock.error_at(now);
                ex.epoch = epoch;
                push(&mut queue, now + ex.gap, Step::DelayReqLeaves, ex);
            }
            Step::DelayReqLeaves => {
                ex.t3 = now + clock.error_at(now);
                let t4_true = now + ex.d_sm + attack(Direction::ToSource, now);
                ex.t4 = t4_true + lie_at(t4_true, ex.number) + ex.noise4 - shrink;
                let done = t4_true + ex.d_back + attack(Direction::ToLocal, t4_true);
                push(&mut queue, done, Step::Complete, ex);
            }
            Step::Complete => {
                if ex.epoch != epoch {
                    m.voided += 1;
                    continue;
                }
                let src = ex.src;
                last_number[src] = ex.number;
                // Clause 11.3: offsetFromMaster (local - master) and the
                // exchange's own meanPathDelay.
                let ms = ex.t2 - ex.t1;
                let sm = ex.t4 - ex.t3;
                let offset = f64::midpoint(ms, -sm);
                let mean = f64::midpoint(ms, sm);
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let ns = |t: f64| t.max(0.0).floor() as u64;
                let now_ns = ns(now);
                let sample = SourceSample {
                    offset_ns: floor_i64(offset).saturating_neg(),
                    path_delay_ns: floor_i64(mean),
                    advertised_error_ns: advertised[src],
                    measured_at_ns: match sc.measured_at {
                        MeasuredAt::Completion => now_ns,
                        MeasuredAt::SyncReceipt => ns(ex.at2),
                        MeasuredAt::IngressTwice => {
                            // The daemon's view: local clock readings.
                            let local_now = now + clock.error_at(now);
                            let ingress = f64::midpoint(ex.t2, ex.t3);
                            ns(now - 2.0 * (local_now - ingress))
                        }
                    },
                };
                guard.observe(src, sample);
                {
                    let err = s
                        .liar
                        .as_ref()
                        .map_or(0.0, |l| l.error_at(now / NS, ex.number));
                    #[allow(clippy::cast_precision_loss)]
                    let measured = sample.offset_ns as f64;
                    shift[src] = measured - (-clock.error_at(now) + err);
                }
                latest[src] = Some(sample);
                let round = guard.evaluate(now_ns);
                m.samples += 1;
                // The assumptions the guard used this round: max-drift plus
                // the range of the servo's settings over max-age.
                let eff = BoundAssumptions {
                    max_drift_ppb: assumptions
                        .max_drift_ppb
                        .saturating_add(guard.local_slew_ppb(now_ns)),
                    ..assumptions
                };
                let x = clock.error_at(now);
                let truth = -x;
                let after_reset = now >= reset;
                if after_reset {
                    #[allow(clippy::cast_precision_loss)]
                    let bound = sample.bound_at(now_ns, &eff) as f64;
                    m.source_bounds[src].add(bound);
                    #[allow(clippy::cast_precision_loss)]
                    let bias = sample.offset_ns as f64 - truth;
                    let st = &mut m.sources[src];
                    st.exchanges += 1;
                    st.bias_sum += bias;
                    st.path_sum += mean;
                    st.min_slack = st.min_slack.min(bound - bias.abs());
                    if !contains(&sample.interval_at(now_ns, &eff), truth) {
                        st.misses += 1;
                    }
                }

                // Fresh intervals of the latest samples alone: the yardstick
                // of the crossings below (unchanged since 2026-11-22).
                let single: Vec<Option<Interval>> = latest
                    .iter()
                    .map(|s| {
                        s.filter(|s| now_ns.saturating_sub(s.measured_at_ns) <= max_age_ns)
                            .map(|s| s.interval_at(now_ns, &eff))
                    })
                    .collect();
                // Fresh intervals as the guard used them (with a history
                // depth above 1, each narrowed by the source's earlier
                // samples): these are what must hold true time, and what
                // counts as faulty.
                let mut fresh: Vec<Option<Interval>> = vec![None; n];
                for s in &round.sources {
                    if single[s.id].is_some() {
                        fresh[s.id] = Some(s.interval);
                    }
                }
                let faulty = fresh
                    .iter()
                    .flatten()
                    .filter(|i| !contains(i, truth))
                    .count();
                m.max_faulty = m.max_faulty.max(faulty);
                if faulty > f {
                    m.rounds_beyond_f += 1;
                }
                let honest_miss = fresh
                    .iter()
                    .zip(&liar)
                    .enumerate()
                    .find_map(|(k, (i, &l))| match i {
                        Some(i) if !l && !contains(i, truth) => Some((k, *i)),
                        _ => None,
                    });
                if let Some((k, i)) = honest_miss {
                    m.honest_misses += 1;
                    #[allow(clippy::cast_precision_loss)]
                    let by = (i.lower() as f64 - truth).max(truth - i.upper() as f64);
                    m.first_honest_miss.get_or_insert(HonestMiss {
                        seed,
                        t_s: now / NS,
                        round: m.samples,
                        source: k,
                        by_ns: by,
                        freq_error_ppb: clock.frequency_error_ppb(),
                    });
                }
                if faulty <= f
                    && round
                        .sources
                        .iter()
                        .any(|s| !liar[s.id] && s.verdict.is_some_and(|v| v.is_falseticker()))
                {
                    m.honest_falsetickers += 1;
                }
                match round.status {
                    GuardStatus::Agreement => m.agreement += 1,
                    GuardStatus::TooFewSources { .. } => m.too_few += 1,
                    GuardStatus::NoAgreement => m.no_agreement += 1,
                }
                if let Some(xs) = round.intersection {
                    if !contains(&xs.interval(), truth) {
                        let v = Violation {
                            seed,
                            t_s: now / NS,
                            round: m.samples,
                            truth_ns: truth,
                            lower_ns: xs.lower(),
                            upper_ns: xs.upper(),
                            faulty,
                        };
                        m.outside_any += 1;
                        m.first_wrong.get_or_insert(v);
                        if faulty <= f {
                            m.outside_le_f += 1;
                            m.first_violation.get_or_insert(v);
                        }
                    }
                    if after_reset {
                        #[allow(clippy::cast_precision_loss)]
                        m.half_widths.add(xs.half_width() as f64);
                    }
                    if let Some(sel) = round.selected {
                        m.sources[sel].selected += 1;
                        if liar[sel] {
                            m.liar_selected += 1;
                            if fresh[sel].is_some_and(|i| !contains(&i, truth)) {
                                m.faulty_selected += 1;
                            }
                        }
                        if sel == m.bmca_pick {
                            m.bmca_followed += 1;
                        }
                        let verdict = round.sources.iter().find(|s| s.id == sel);
                        if verdict
                            .and_then(|s| s.verdict)
                            .is_some_and(|v| v.is_falseticker())
                        {
                            m.falseticker_selected += 1;
                        }
                    }
                }

                // Crossings, judged only when the guard could judge (at
                // least 2f + 1 fresh sources).
                let judged = !matches!(round.status, GuardStatus::TooFewSources { .. });
                let hull_of = |ivs: &[Option<Interval>]| {
                    ivs.iter()
                        .zip(&liar)
                        .filter(|&(_, &l)| !l)
                        .filter_map(|(i, _)| *i)
                        .fold(None, |h: Option<(i64, i64)>, i| {
                            Some(h.map_or((i.lower(), i.upper()), |(lo, hi)| {
                                (lo.min(i.lower()), hi.max(i.upper()))
                            }))
                        })
                };
                // The provable rule judges what the guard saw; crossings
                // are judged against the single-sample yardstick.
                let hull = hull_of(&fresh);
                let yardstick = hull_of(&single);
                for k in (0..n).filter(|&k| liar[k] && judged) {
                    let (Some((lo, hi)), Some((ylo, yhi)), Some(iv), Some(ls)) =
                        (hull, yardstick, fresh[k], latest[k])
                    else {
                        continue;
                    };
                    let falseticker = round
                        .sources
                        .iter()
                        .find(|s| s.id == k)
                        .and_then(|s| s.verdict)
                        .is_some_and(|v| v.is_falseticker());
                    // Provable: the interval it reported meets no honest
                    // interval, so it cannot meet the intersection either.
                    if round.status == GuardStatus::Agreement
                        && faulty <= f
                        && (iv.upper() < lo || iv.lower() > hi)
                    {
                        m.provable_rounds += 1;
                        if !falseticker {
                            m.provable_missed += 1;
                        }
                    }
                    // True error: the interval it would report if its
                    // measured offset were exactly its clock's error (its
                    // own bound around truth + error) meets no honest
                    // interval.
                    let err = sc.sources[k]
                        .liar
                        .as_ref()
                        .map_or(0.0, |l| l.error_at(now / NS, last_number[k]));
                    #[allow(clippy::cast_precision_loss)]
                    let (b, lo, hi) = (ls.bound_at(now_ns, &eff) as f64, ylo as f64, yhi as f64);
                    let centre = truth + err;
                    // Asymmetry-blind (the definition until 2026-12-07):
                    // the liar's own bound around its true error.
                    let blind = centre + b < lo || centre - b > hi;
                    // Visible: widened by half its exchange's asymmetry
                    // (its measured offset minus its true error), so that
                    // wherever the asymmetry put its reported interval,
                    // that interval meets no honest interval: an interval
                    // test can see it. A blind crossing by less than that
                    // is one no interval test of that round can see.
                    let wide = b + shift[k].abs();
                    let crossed = centre + wide < lo || centre - wide > hi;
                    if let Some(d) = episodes[k].step(crossed, falseticker, now, err, detect_limit)
                    {
                        match d {
                            Step2::Detected(d) => m.detections.push(Detection { source: k, ..d }),
                            Step2::Brief => m.brief_undetected += 1,
                            Step2::Overdue => m.overdue += 1,
                        }
                    }
                    match blind_episodes[k].step(blind, falseticker, now, err, detect_limit) {
                        Some(Step2::Detected(d)) => {
                            m.blind_detect_max_s = m.blind_detect_max_s.max(d.delay_s);
                            m.blind_detected += 1;
                        }
                        Some(Step2::Overdue) => m.blind_overdue += 1,
                        _ => {}
                    }
                }

                if after_reset {
                    m.err_sum_sq += x * x;
                    m.err_count += 1;
                    m.err_max = m.err_max.max(x.abs());
                }

                // The daemon's rule: only the selected source steers.
                if guard.selected() == Some(src) {
                    let s = ServoSample {
                        offset: Duration::from_nanos_f64(offset),
                        path_delay: Duration::from_nanos_f64(mean),
                        local_time: to_time(f64::midpoint(ex.t2, ex.t3)),
                        now: to_time(now + x),
                    };
                    let out = servo.sample(s);
                    m.servo_samples += 1;
                    let stepped = matches!(out.action, ServoAction::Step { .. });
                    let Ok(()) = out.action.apply(&mut clock);
                    // The daemon's rule: the guard hears every setting.
                    #[allow(clippy::cast_possible_truncation)]
                    guard.note_local_frequency(now_ns, clock.adjustment_ppb().round() as i64);
                    if stepped {
                        m.steps += 1;
                        guard.clear_samples();
                        latest.fill(None);
                        epoch += 1;
                    }
                }
                let fe = clock.frequency_error_ppb().abs();
                m.max_freq_error_ppb = m.max_freq_error_ppb.max(fe);
                // Beyond what the guard allows: max-drift plus the range
                // of the servo's settings over max-age.
                #[allow(clippy::cast_precision_loss)]
                let allowed = max_drift + guard.local_slew_ppb(now_ns) as f64;
                if fe > allowed {
                    m.drift_breaches += 1;
                }
            }
        }
    }
    m.open = episodes
        .iter()
        .filter(|e| e.active && !e.detected && !e.overdue)
        .count() as u64;
    m.switches = guard.switches();
    m.simulated_s = now / NS;
    m
}
