//! Property tests of the fault-tolerant intersection.
//!
//! `honest_and_liars`: a true time `t`, `n - k` correct intervals holding it
//! and `k <= f` liars (arbitrary, or crafted just outside the truth, just
//! outside the honest hull or an honest interval's edge, all-covering, or
//! falsely narrow), shuffled. The guarantees of `intersect` must hold.
//!
//! `arbitrary_intervals`: no model of who is honest; the deterministic laws
//! (reference implementation, order independence, monotonicity in `f`, the
//! Marzullo sandwich, classification, and `marzullo` against a brute-force
//! depth count) must hold for any input.

use bft_overlay::{
    IntersectError, Interval, Verdict, intersect, intersect_with_scratch, marzullo,
    marzullo_with_scratch, max_faults,
};
use proptest::prelude::*;

/// A liar's placement, made concrete against `t` and the honest intervals.
#[derive(Clone, Debug)]
enum Liar {
    /// Anywhere near the truth, any width.
    Anywhere { offset: i64, width: u64 },
    /// Entirely above the truth, starting `gap` after it.
    AboveTruth { gap: u64, width: u64 },
    /// Entirely below the truth, ending `gap` before it.
    BelowTruth { gap: u64, width: u64 },
    /// Starting `gap` after the honest hull ends (0: touching it).
    AboveHull { gap: u64, width: u64 },
    /// Ending `gap` before the honest hull starts (0: touching it).
    BelowHull { gap: u64, width: u64 },
    /// Ending just before (or at) one honest interval's lower bound.
    UnderHonestLower { pick: usize, gap: u64, width: u64 },
    /// Starting just after (or at) one honest interval's upper bound.
    OverHonestUpper { pick: usize, gap: u64, width: u64 },
    /// The whole line.
    Everything,
    /// Around the truth with a falsely small bound.
    NarrowInside { below: u64, above: u64 },
    /// A point close to the truth.
    PointNear { offset: i64 },
}

#[derive(Clone, Debug)]
struct Scenario {
    t: i64,
    f: usize,
    /// (is a liar, interval), in random order.
    sources: Vec<(bool, Interval)>,
}

fn width() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => 0_u64..=20,
        4 => 0_u64..=1_000_000_000,
        1 => any::<u64>(),
    ]
}

fn gap() -> impl Strategy<Value = u64> {
    prop_oneof![3 => 0_u64..=3, 1 => 0_u64..=1_000_000_000]
}

fn true_time() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => -1_000_000_000_000_000_i64..=1_000_000_000_000_000,
        1 => any::<i64>(),
        1 => prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(0)],
    ]
}

fn liar() -> impl Strategy<Value = Liar> {
    prop_oneof![
        (-3_000_000_000_i64..=3_000_000_000, width())
            .prop_map(|(offset, width)| Liar::Anywhere { offset, width }),
        (1_u64..=1_000, width()).prop_map(|(gap, width)| Liar::AboveTruth { gap, width }),
        (1_u64..=1_000, width()).prop_map(|(gap, width)| Liar::BelowTruth { gap, width }),
        (gap(), width()).prop_map(|(gap, width)| Liar::AboveHull { gap, width }),
        (gap(), width()).prop_map(|(gap, width)| Liar::BelowHull { gap, width }),
        (any::<usize>(), gap(), width()).prop_map(|(pick, gap, width)| Liar::UnderHonestLower {
            pick,
            gap,
            width
        }),
        (any::<usize>(), gap(), width()).prop_map(|(pick, gap, width)| Liar::OverHonestUpper {
            pick,
            gap,
            width
        }),
        Just(Liar::Everything),
        (0_u64..=3, 0_u64..=3).prop_map(|(below, above)| Liar::NarrowInside { below, above }),
        (-5_i64..=5).prop_map(|offset| Liar::PointNear { offset }),
    ]
}

/// `[start, start + width]`, saturating.
fn from(start: i64, width: u64) -> Interval {
    Interval::new(start, start.saturating_add_unsigned(width)).unwrap()
}

/// `[end - width, end]`, saturating.
fn until(end: i64, width: u64) -> Interval {
    Interval::new(end.saturating_sub_unsigned(width), end).unwrap()
}

fn place(liar: &Liar, t: i64, honest: &[Interval]) -> Interval {
    let hull_lower = honest.iter().map(Interval::lower).min().unwrap();
    let hull_upper = honest.iter().map(Interval::upper).max().unwrap();
    match *liar {
        Liar::Anywhere { offset, width } => from(t.saturating_add(offset), width),
        Liar::AboveTruth { gap, width } => from(t.saturating_add_unsigned(gap), width),
        Liar::BelowTruth { gap, width } => until(t.saturating_sub_unsigned(gap), width),
        Liar::AboveHull { gap, width } => from(hull_upper.saturating_add_unsigned(gap), width),
        Liar::BelowHull { gap, width } => until(hull_lower.saturating_sub_unsigned(gap), width),
        Liar::UnderHonestLower { pick, gap, width } => until(
            honest[pick % honest.len()]
                .lower()
                .saturating_sub_unsigned(gap),
            width,
        ),
        Liar::OverHonestUpper { pick, gap, width } => from(
            honest[pick % honest.len()]
                .upper()
                .saturating_add_unsigned(gap),
            width,
        ),
        Liar::Everything => Interval::new(i64::MIN, i64::MAX).unwrap(),
        Liar::NarrowInside { below, above } => Interval::new(
            t.saturating_sub_unsigned(below),
            t.saturating_add_unsigned(above),
        )
        .unwrap(),
        Liar::PointNear { offset } => Interval::point(t.saturating_add(offset)),
    }
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (1_usize..=15)
        .prop_flat_map(|n| (Just(n), 0..=max_faults(n).unwrap()))
        // Mostly the worst case, k = f liars.
        .prop_flat_map(|(n, f)| (Just(n), Just(f), prop_oneof![2 => Just(f), 1 => 0..=f]))
        .prop_flat_map(|(n, f, k)| {
            (
                Just(f),
                true_time(),
                prop::collection::vec((width(), width()), n - k),
                prop::collection::vec(liar(), k),
            )
        })
        .prop_flat_map(|(f, t, honest_widths, liars)| {
            let honest: Vec<Interval> = honest_widths
                .iter()
                .map(|&(below, above)| {
                    Interval::new(
                        t.saturating_sub_unsigned(below),
                        t.saturating_add_unsigned(above),
                    )
                    .unwrap()
                })
                .collect();
            let mut sources: Vec<(bool, Interval)> =
                honest.iter().map(|&interval| (false, interval)).collect();
            sources.extend(liars.iter().map(|liar| (true, place(liar, t, &honest))));
            Just(sources)
                .prop_shuffle()
                .prop_map(move |sources| Scenario { t, f, sources })
        })
}

/// The k-th (1-based) largest of `values`.
fn kth_largest(values: impl Iterator<Item = i64>, k: usize) -> i64 {
    let mut v: Vec<i64> = values.collect();
    v.sort_unstable_by(|a, b| b.cmp(a));
    v[k - 1]
}

/// The k-th (1-based) smallest of `values`.
fn kth_smallest(values: impl Iterator<Item = i64>, k: usize) -> i64 {
    let mut v: Vec<i64> = values.collect();
    v.sort_unstable();
    v[k - 1]
}

fn kth_smallest_u64(values: impl Iterator<Item = u64>, k: usize) -> u64 {
    let mut v: Vec<u64> = values.collect();
    v.sort_unstable();
    v[k - 1]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// With at most f liars among n >= 2f+1: the result exists, holds t,
    /// lies inside the honest hull (and the tighter honest order-statistic
    /// interval), contains every point all honest sources agree on, is at
    /// most twice as wide as the (f+1)-th narrowest honest interval, never
    /// marks an honest source a falseticker, and only grows with f.
    #[test]
    fn honest_and_liars(s in scenario()) {
        let f = s.f;
        let n = s.sources.len();
        let intervals: Vec<Interval> = s.sources.iter().map(|&(_, i)| i).collect();
        let honest: Vec<Interval> =
            s.sources.iter().filter(|(liar, _)| !liar).map(|&(_, i)| i).collect();
        prop_assert!(honest.len() > f);

        let result = intersect(&intervals, f);
        prop_assert!(result.is_ok(), "{:?}", result);
        let r = result.unwrap();
        prop_assert!(r.contains(s.t), "{} does not hold t = {}", r, s.t);
        prop_assert_eq!((r.sources(), r.faults()), (n, f));

        // Inside the honest hull, and inside the honest order statistics.
        let hull_lower = honest.iter().map(Interval::lower).min().unwrap();
        let hull_upper = honest.iter().map(Interval::upper).max().unwrap();
        prop_assert!(hull_lower <= r.lower() && r.upper() <= hull_upper);
        let honest_l = kth_largest(honest.iter().map(Interval::lower), f + 1);
        let honest_h = kth_smallest(honest.iter().map(Interval::upper), f + 1);
        prop_assert!(honest_l <= r.lower() && r.upper() <= honest_h);

        // Contains the intersection of the honest intervals.
        let core_lower = honest.iter().map(Interval::lower).max().unwrap();
        let core_upper = honest.iter().map(Interval::upper).min().unwrap();
        prop_assert!(r.lower() <= core_lower && core_upper <= r.upper());

        // Width at most twice the (f+1)-th narrowest honest interval.
        let w = kth_smallest_u64(honest.iter().map(Interval::width), f + 1);
        prop_assert!(u128::from(r.interval().width()) <= 2 * u128::from(w));

        // Falsetickers are liars; the best truechimer's midpoint is inside.
        for ((liar, interval), verdict) in s.sources.iter().zip(r.classify_all(&intervals)) {
            prop_assert!(*liar || verdict == Verdict::Truechimer, "honest {} blamed", interval);
        }
        if let Some(best) = r.best_truechimer(&intervals) {
            prop_assert!(r.contains(intervals[best].midpoint()));
            prop_assert!(r.classify(&intervals[best]).is_truechimer());
        }

        // Same answer with a caller buffer.
        let mut scratch = vec![0_i64; n];
        prop_assert_eq!(intersect_with_scratch(&intervals, f, &mut scratch), Ok(r));

        // Marzullo's form: also holds t and the honest core, inside ours,
        // blames no honest source.
        let m = marzullo(&intervals, f);
        prop_assert!(m.is_ok(), "{:?}", m);
        let m = m.unwrap();
        prop_assert!(m.contains(s.t));
        prop_assert!(r.interval().contains_interval(&m.interval()));
        prop_assert!(m.lower() <= core_lower && core_upper <= m.upper());
        for ((liar, _), verdict) in s.sources.iter().zip(m.classify_all(&intervals)) {
            prop_assert!(*liar || verdict == Verdict::Truechimer);
        }
        let mut scratch = vec![0_i64; 2 * n];
        prop_assert_eq!(marzullo_with_scratch(&intervals, f, &mut scratch), Ok(m));

        // Raising f keeps every guarantee and never shrinks the result.
        let mut previous_m = m.interval();
        for larger in f + 1..=max_faults(n).unwrap() {
            let wider = marzullo(&intervals, larger).unwrap();
            prop_assert!(wider.interval().contains_interval(&previous_m));
            previous_m = wider.interval();
        }
        let mut previous = r.interval();
        for larger in f + 1..=max_faults(n).unwrap() {
            let wider = intersect(&intervals, larger).unwrap();
            prop_assert!(wider.contains(s.t));
            prop_assert!(wider.interval().contains_interval(&previous));
            previous = wider.interval();
        }
    }
}

/// Arbitrary intervals: many ties on a small grid, some wide or extreme.
fn arbitrary_interval() -> impl Strategy<Value = Interval> {
    prop_oneof![
        4 => (-30_i64..=30, 0_u64..=25).prop_map(|(lower, width)| from(lower, width)),
        1 => (any::<i64>(), any::<u64>()).prop_map(|(lower, width)| from(lower, width)),
        1 => Just(Interval::new(i64::MIN, i64::MAX).unwrap()),
    ]
}

/// How many of `intervals` contain `x`.
fn depth(intervals: &[Interval], x: i64) -> usize {
    intervals.iter().filter(|i| i.contains(x)).count()
}

/// Points where the depth may change, plus the given extra points.
fn candidates(intervals: &[Interval], extra: &[i64]) -> Vec<i64> {
    let mut points: Vec<i64> = extra.to_vec();
    for i in intervals {
        points.extend([
            i.lower().saturating_sub(1),
            i.lower(),
            i.upper(),
            i.upper().saturating_add(1),
        ]);
    }
    points
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Laws that hold for any intervals and any admissible f, for both forms.
    #[test]
    fn arbitrary_intervals(
        (intervals, shuffled) in prop::collection::vec(arbitrary_interval(), 1..=15)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
    ) {
        let n = intervals.len();
        let mut previous: Option<Interval> = None;
        let mut previous_m: Option<Interval> = None;
        for f in 0..=max_faults(n).unwrap() {
            let result = intersect(&intervals, f);

            // Reference: sort and index.
            let l = kth_largest(intervals.iter().map(Interval::lower), f + 1);
            let h = kth_smallest(intervals.iter().map(Interval::upper), f + 1);
            if l <= h {
                prop_assert_eq!(result.map(|r| r.interval()), Ok(Interval::new(l, h).unwrap()));
            } else {
                prop_assert_eq!(result, Err(IntersectError::NoAgreement { lower: l, upper: h }));
            }

            // Order does not matter.
            prop_assert_eq!(intersect(&shuffled, f), result);

            // With exactly 2f + 1 sources the result is never empty.
            if n == 2 * f + 1 {
                prop_assert!(result.is_ok());
            }

            // Marzullo sandwich: points in >= n - f intervals lie in the
            // result; points of the result lie in >= n - 2f intervals.
            for x in candidates(&intervals, &[l, h]) {
                let d = depth(&intervals, x);
                if d >= n - f {
                    prop_assert!(result.is_ok_and(|r| r.contains(x)), "x = {} depth {}", x, d);
                }
                if result.is_ok_and(|r| r.contains(x)) {
                    prop_assert!(d >= n - 2 * f, "x = {} depth {}", x, d);
                }
            }

            // Marzullo's form against brute force: the hull of the candidate
            // points of depth >= n - f (its ends are interval ends, which
            // are candidates), and the greatest depth when there is none.
            let points = candidates(&intervals, &[]);
            let deep: Vec<i64> =
                points.iter().copied().filter(|&x| depth(&intervals, x) >= n - f).collect();
            let m = marzullo(&intervals, f);
            match (deep.iter().min(), deep.iter().max()) {
                (Some(&lo), Some(&hi)) => {
                    prop_assert_eq!(m.map(|m| m.interval()), Ok(Interval::new(lo, hi).unwrap()));
                    // A refinement of the order-statistics result.
                    let inner = m.unwrap().interval();
                    prop_assert!(result.is_ok_and(|r| r.interval().contains_interval(&inner)));
                }
                _ => {
                    let best = points.iter().map(|&x| depth(&intervals, x)).max().unwrap();
                    prop_assert_eq!(m, Err(IntersectError::NoQuorum { quorum: n - f, best }));
                }
            }
            prop_assert_eq!(marzullo(&shuffled, f), m);
            if let Some(p) = previous_m {
                prop_assert!(m.is_ok_and(|m| m.interval().contains_interval(&p)));
            }
            previous_m = m.ok().map(|m| m.interval());

            if let Ok(r) = result {
                // Falseticker exactly when the interval misses the result.
                for (interval, verdict) in intervals.iter().zip(r.classify_all(&intervals)) {
                    prop_assert_eq!(verdict.is_falseticker(), !interval.intersects(&r.interval()));
                }
                // Monotone in f.
                if let Some(p) = previous {
                    prop_assert!(r.interval().contains_interval(&p));
                }
                previous = Some(r.interval());
            } else {
                // Once empty for f, the result for smaller f was empty too.
                prop_assert!(previous.is_none());
            }
        }
    }
}
