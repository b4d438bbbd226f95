//! The `overlay_guard` harness: arbitrary sequences of `bft_overlay::Guard`
//! calls (`observe`, `evaluate`, `clear_samples`, `note_local_frequency`)
//! with arbitrary samples, configurations and a monotonic `now`, and
//! `intersect` / `marzullo` on arbitrary intervals.
//!
//! Shared by `fuzz/fuzz_targets/overlay_guard.rs` and
//! `bft-overlay/tests/fuzz_regressions.rs`. [`run`] panics when a property
//! breaks. A model of the guard's inputs (latest sample per source, slew)
//! is kept alongside, and every round is checked against it:
//!
//! - the round lists every source with a sample, in `Id` order, with the
//!   interval `SourceSample::interval_at` gives at `now`, `max_drift`
//!   widened by the range of the local frequency settings in force over
//!   the last `max_age` (recomputed from the model's full history, so a
//!   setting the guard forgot too early shows);
//! - the status is `TooFewSources` exactly when fewer than `2f + 1` samples
//!   are fresh; `Agreement` comes with an intersection equal to
//!   `intersect()` of the fresh intervals, non-empty and inside their hull;
//!   otherwise there is no intersection and no verdict;
//! - verdicts are given to the fresh sources exactly, and agree with
//!   `Intersection::classify`;
//! - `selected`, if any, is a truechimer whose interval midpoint lies in
//!   the intersection; with agreement and such a candidate something is
//!   selected; `switched` and `Guard::selected` follow the selection.
//!
//! And for `intersect`: the result is `[L_{f+1}, H_{f+1}]` of the sorted
//! bounds, inside the hull, with at most `f` falsetickers on each side;
//! `n = 2f + 1` never disagrees; Marzullo's result lies inside it and its
//! ends each lie in at least `n - f` intervals; `best_truechimer` is a
//! truechimer with its midpoint inside.

#![allow(dead_code, unreachable_pub)]

#[path = "input.rs"]
mod input;

use std::collections::BTreeMap;

use bft_overlay::{
    BoundAssumptions, Guard, GuardConfig, GuardStatus, IntersectError, Interval, MAX_SOURCES,
    SourceSample, Verdict, intersect, intersect_with_scratch, marzullo, min_sources,
};
use input::Input;

const MAX_OPS: usize = 256;

/// Counts of what a run reached.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Rounds evaluated.
    pub rounds: u64,
    /// Rounds that agreed.
    pub agreements: u64,
    /// Rounds that selected a source.
    pub selections: u64,
    /// Falseticker verdicts given.
    pub falsetickers: u64,
    /// `intersect` calls that succeeded.
    pub intersections: u64,
}

fn sample(u: &mut Input<'_>, now: u64) -> SourceSample {
    let offset_ns = match u.u8() % 8 {
        0 => u.i64(),
        1 => i64::MAX - i64::from(u.u16()),
        2 => i64::MIN + i64::from(u.u16()),
        _ => i64::from(u.i16()) * 1_000,
    };
    let path_delay_ns = match u.u8() % 4 {
        0 => u.i64(),
        _ => i64::from(u.u16()) * 100,
    };
    let advertised_error_ns = match u.u8() % 4 {
        0 => u.u64(),
        1 => 0,
        _ => u64::from(u.u16()) * 100,
    };
    let measured_at_ns = match u.u8() % 8 {
        0 => u.u64(),
        1 => now.saturating_add(u64::from(u.u32())),
        _ => now.saturating_sub(u64::from(u.u16()) * 1_000_000),
    };
    SourceSample {
        offset_ns,
        path_delay_ns,
        advertised_error_ns,
        measured_at_ns,
    }
}

fn interval(u: &mut Input<'_>) -> Interval {
    match u.u8() % 4 {
        0 => {
            let (a, b) = (u.i64(), u.i64());
            Interval::new(a.min(b), a.max(b)).expect("ordered")
        }
        1 => Interval::around(u.i64(), u.u64()),
        _ => Interval::around(i64::from(u.i16()) * 10, u64::from(u.u16())),
    }
}

/// The checks of `intersect` (and `marzullo`) on `intervals` with `f`.
pub fn check_intersect(intervals: &[Interval], f: usize) -> bool {
    for i in intervals {
        assert!(i.lower() <= i.upper());
        assert!(i.contains(i.midpoint()), "midpoint of {i:?}");
        let hw = i.half_width();
        assert!(
            i128::from(i.midpoint()) - i128::from(hw) <= i128::from(i.lower())
                && i128::from(i.midpoint()) + i128::from(hw) >= i128::from(i.upper()),
            "half width of {i:?}"
        );
    }
    let n = intervals.len();
    let r = intersect(intervals, f);
    let m = marzullo(intervals, f);
    if n < min_sources(f) {
        assert_eq!(
            r,
            Err(IntersectError::TooFewSources {
                n,
                needed: min_sources(f)
            })
        );
        assert!(m.is_err());
        return false;
    }
    if n > MAX_SOURCES {
        assert!(matches!(r, Err(IntersectError::TooManySources { .. })));
        return false;
    }
    // A scratch buffer one short is refused, never indexed out of bounds.
    let mut short = vec![0_i64; n - 1];
    assert!(matches!(
        intersect_with_scratch(intervals, f, &mut short),
        Err(IntersectError::TooManySources { .. })
    ));
    let mut lowers: Vec<i64> = intervals.iter().map(Interval::lower).collect();
    let mut uppers: Vec<i64> = intervals.iter().map(Interval::upper).collect();
    lowers.sort_unstable();
    uppers.sort_unstable();
    let (l, h) = (lowers[n - 1 - f], uppers[f]);
    let x = match r {
        Ok(x) => x,
        Err(IntersectError::NoAgreement { lower, upper }) => {
            assert_eq!((lower, upper), (l, h));
            assert!(l > h);
            assert!(n > min_sources(f), "n = 2f + 1 cannot disagree");
            assert!(m.is_err(), "Marzullo agrees where intersect does not");
            return false;
        }
        Err(e) => panic!("unexpected {e:?}"),
    };
    assert_eq!((x.lower(), x.upper()), (l, h));
    assert!(x.lower() <= x.upper());
    assert_eq!((x.sources(), x.faults()), (n, f));
    assert!(
        lowers[0] <= x.lower() && x.upper() <= uppers[n - 1],
        "outside the hull"
    );
    let (mut below, mut above) = (0, 0);
    for v in x.classify_all(intervals) {
        match v {
            Verdict::Truechimer => {}
            Verdict::Falseticker { reason } => {
                if reason.gap() == 0 {
                    panic!("a falseticker at distance 0");
                }
                match reason {
                    bft_overlay::FalseReason::Below { .. } => below += 1,
                    bft_overlay::FalseReason::Above { .. } => above += 1,
                }
            }
        }
    }
    assert!(
        below <= f && above <= f,
        "{below} below, {above} above, f = {f}"
    );
    if let Some(i) = x.best_truechimer(intervals) {
        assert!(x.contains(intervals[i].midpoint()));
        assert!(x.classify(&intervals[i]).is_truechimer());
    }
    if let Ok(mz) = m {
        assert!(
            x.interval().contains_interval(&mz.interval()),
            "Marzullo {mz:?} outside {x:?}"
        );
        for end in [mz.lower(), mz.upper()] {
            let k = intervals.iter().filter(|i| i.contains(end)).count();
            assert!(k >= n - f, "Marzullo end {end} in only {k} intervals");
        }
    }
    true
}

/// Run one input; panics on a broken property.
pub fn run(data: &[u8]) -> Stats {
    let mut u = Input::new(data);
    let mut stats = Stats::default();
    let faults = match u.u8() {
        0xFF => usize::try_from(u.u64()).unwrap_or(usize::MAX),
        0xFE => 4 + usize::from(u.u8() % 64),
        v => usize::from(v % 4),
    };
    let assumptions = BoundAssumptions {
        asymmetry_ns: if u.bool() {
            u.u64()
        } else {
            u64::from(u.u16())
        },
        max_drift_ppb: if u.bool() {
            u.u64()
        } else {
            u64::from(u.u16())
        },
    };
    let config = GuardConfig {
        faults,
        assumptions,
        max_age_ns: if u.bool() {
            u.u64()
        } else {
            u64::from(u.u16()) * 1_000_000
        },
        switch_below_percent: u64::from(u.u8()),
    };
    let mut guard: Guard<u8> = Guard::new(config);
    let mut latest: BTreeMap<u8, SourceSample> = BTreeMap::new();
    // Every local frequency setting noted: (since, ppb).
    let mut freqs: Vec<(u64, i64)> = Vec::new();
    let mut now = u64::from(u.u32());

    for _ in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        match u.u8() % 12 {
            0..=3 => {
                let id = u.u8() % 12;
                let s = sample(&mut u, now);
                guard.observe(id, s);
                latest.insert(id, s);
            }
            4..=6 => {
                let slew = slew_model(&freqs, now, config.max_age_ns);
                let round = guard.evaluate(now);
                check_round(&guard, &round, &latest, slew, now, &mut stats);
            }
            7 => {
                now = match u.u8() {
                    0xFF => now.saturating_add(u.u64()),
                    _ => now.saturating_add(u64::from(u.u32())),
                };
            }
            8 => {
                guard.clear_samples();
                latest.clear();
            }
            9 => {
                let ppb = if u.bool() {
                    u.i64()
                } else {
                    i64::from(u.i16())
                };
                guard.note_local_frequency(now, ppb);
                if freqs.last().is_none_or(|&(_, f)| f != ppb) {
                    freqs.push((now, ppb));
                }
                assert_eq!(
                    guard.local_slew_ppb(now),
                    slew_model(&freqs, now, config.max_age_ns)
                );
            }
            _ => {
                let f = match u.u8() {
                    0xFF => usize::try_from(u.u64()).unwrap_or(usize::MAX),
                    v => usize::from(v % 8),
                };
                let n = u.below(24);
                let mut intervals: Vec<Interval> = (0..n).map(|_| interval(&mut u)).collect();
                if u.u8() == 0xFF {
                    // Past the stack buffer.
                    let last = intervals.last().copied().unwrap_or(Interval::point(0));
                    intervals.resize(MAX_SOURCES + 1 + u.below(4), last);
                }
                if check_intersect(&intervals, f) {
                    stats.intersections += 1;
                }
            }
        }
    }
    stats
}

/// The range (highest minus lowest, plus 1) of the settings in force at
/// some point of `[now - max_age, now]`; 0 with fewer than two.
fn slew_model(freqs: &[(u64, i64)], now: u64, max_age: u64) -> u64 {
    let start = now.saturating_sub(max_age);
    let in_force: Vec<i64> = freqs
        .iter()
        .enumerate()
        .filter(|&(i, _)| freqs.get(i + 1).is_none_or(|&(t, _)| t > start))
        .map(|(_, &(_, f))| f)
        .collect();
    match (in_force.iter().min(), in_force.iter().max()) {
        (Some(lo), Some(hi)) if lo < hi => hi.abs_diff(*lo).saturating_add(1),
        _ => 0,
    }
}

fn check_round(
    guard: &Guard<u8>,
    round: &bft_overlay::Round<u8>,
    latest: &BTreeMap<u8, SourceSample>,
    slew: u64,
    now: u64,
    stats: &mut Stats,
) {
    stats.rounds += 1;
    let config = guard.config();
    let mut a = config.assumptions;
    a.max_drift_ppb = a.max_drift_ppb.saturating_add(slew);
    let ids: Vec<u8> = round.sources.iter().map(|s| s.id).collect();
    let expected: Vec<u8> = latest.keys().copied().collect();
    assert_eq!(ids, expected, "the round lists every source with a sample");
    let fresh = |id: u8| now.saturating_sub(latest[&id].measured_at_ns) <= config.max_age_ns;
    let mut fresh_intervals = Vec::new();
    for s in &round.sources {
        assert_eq!(
            s.interval,
            latest[&s.id].interval_at(now, &a),
            "interval of {}",
            s.id
        );
        if fresh(s.id) {
            fresh_intervals.push(s.interval);
        }
    }
    let need = min_sources(config.faults);
    match round.status {
        GuardStatus::TooFewSources { have, need: n } => {
            assert_eq!((have, n), (fresh_intervals.len(), need));
            assert!(have < need);
            assert!(round.intersection.is_none());
        }
        GuardStatus::Agreement => {
            stats.agreements += 1;
            assert!(fresh_intervals.len() >= need);
            let x = round.intersection.expect("agreement has an intersection");
            assert!(x.lower() <= x.upper(), "empty intersection {x:?}");
            let lo = fresh_intervals
                .iter()
                .map(Interval::lower)
                .min()
                .expect("fresh");
            let hi = fresh_intervals
                .iter()
                .map(Interval::upper)
                .max()
                .expect("fresh");
            assert!(
                lo <= x.lower() && x.upper() <= hi,
                "{x:?} outside [{lo}, {hi}]"
            );
            assert_eq!(intersect(&fresh_intervals, config.faults), Ok(x));
        }
        GuardStatus::NoAgreement => {
            assert!(fresh_intervals.len() >= need);
            assert!(round.intersection.is_none());
            assert!(intersect(&fresh_intervals, config.faults).is_err());
        }
    }
    for s in &round.sources {
        match (&round.intersection, fresh(s.id)) {
            (Some(x), true) => {
                let v = s.verdict.expect("a fresh source is judged");
                assert_eq!(v, x.classify(&s.interval));
                if v.is_falseticker() {
                    stats.falsetickers += 1;
                }
            }
            _ => assert!(s.verdict.is_none(), "verdict without a fresh intersection"),
        }
    }
    let candidate = |s: &&bft_overlay::SourceState<u8>| {
        s.verdict.is_some_and(|v| v.is_truechimer())
            && round
                .intersection
                .is_some_and(|x| x.contains(s.interval.midpoint()))
    };
    match round.selected {
        Some(id) => {
            stats.selections += 1;
            let s = round
                .sources
                .iter()
                .find(|s| s.id == id)
                .expect("the selected source is in the round");
            assert!(
                candidate(&s),
                "selected {s:?} is no truechimer inside the intersection"
            );
        }
        None => assert!(
            !round.sources.iter().any(|s| candidate(&s)),
            "a candidate exists but nothing is selected"
        ),
    }
    assert_eq!(guard.selected(), round.selected);
    if let Some(previous) = round.switched {
        assert_ne!(previous, round.selected);
    }
}
