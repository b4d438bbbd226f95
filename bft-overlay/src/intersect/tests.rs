//! Unit tests of the intersection: every branch and the boundary cases.

use super::*;

fn iv(lower: i64, upper: i64) -> Interval {
    Interval::new(lower, upper).unwrap()
}

fn bounds(result: Result<Intersection, IntersectError>) -> (i64, i64) {
    let r = result.unwrap();
    (r.lower(), r.upper())
}

#[test]
fn interval_new_rejects_inverted() {
    assert_eq!(
        Interval::new(2, 1),
        Err(InvalidInterval { lower: 2, upper: 1 })
    );
    assert_eq!(Interval::new(1, 1), Ok(Interval::point(1)));
    let e = Interval::new(2, 1).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid interval: lower bound 2 ns exceeds upper bound 1 ns"
    );
}

#[test]
fn interval_around_saturates_outward() {
    assert_eq!(Interval::around(10, 3), iv(7, 13));
    assert_eq!(Interval::around(0, 0), Interval::point(0));
    let wide = Interval::around(0, u64::MAX);
    assert_eq!((wide.lower(), wide.upper()), (i64::MIN, i64::MAX));
    let high = Interval::around(i64::MAX - 1, 5);
    assert_eq!((high.lower(), high.upper()), (i64::MAX - 6, i64::MAX));
    let low = Interval::around(i64::MIN + 1, 5);
    assert_eq!((low.lower(), low.upper()), (i64::MIN, i64::MIN + 6));
}

#[test]
fn interval_width_midpoint_half_width() {
    let full = iv(i64::MIN, i64::MAX);
    assert_eq!(full.width(), u64::MAX);
    assert_eq!(full.midpoint(), -1);
    assert_eq!(full.half_width(), 1 << 63);

    assert_eq!(iv(-3, 4).midpoint(), 0);
    assert_eq!(iv(-3, 4).half_width(), 4);
    assert_eq!(iv(-4, -3).midpoint(), -4);
    assert_eq!(iv(2, 6).midpoint(), 4);
    assert_eq!(iv(2, 6).half_width(), 2);
    assert_eq!(Interval::point(9).midpoint(), 9);
    assert_eq!(Interval::point(9).half_width(), 0);
    assert_eq!(Interval::point(9).width(), 0);
    for (lo, hi) in [(-7, 8), (0, 1), (5, 5), (-10, -3), (i64::MIN, i64::MIN + 3)] {
        let i = iv(lo, hi);
        let m = i128::from(i.midpoint());
        let h = i128::from(i.half_width());
        assert!(i.contains(i.midpoint()));
        assert!(m - h <= i128::from(lo) && i128::from(hi) <= m + h);
    }
}

#[test]
fn interval_relations() {
    let a = iv(0, 10);
    assert!(a.contains(0) && a.contains(10) && !a.contains(11) && !a.contains(-1));
    assert!(a.intersects(&iv(10, 20)));
    assert!(a.intersects(&iv(-5, 0)));
    assert!(!a.intersects(&iv(11, 20)));
    assert!(!a.intersects(&iv(-5, -1)));
    assert!(a.intersects(&iv(3, 4)) && iv(3, 4).intersects(&a));
    assert!(a.contains_interval(&iv(0, 10)));
    assert!(a.contains_interval(&iv(3, 4)));
    assert!(!a.contains_interval(&iv(3, 11)));
    assert_eq!(a.to_string(), "[0, 10] ns");
}

#[test]
fn min_sources_and_max_faults() {
    assert_eq!(min_sources(0), 1);
    assert_eq!(min_sources(1), 3);
    assert_eq!(min_sources(7), 15);
    assert_eq!(min_sources(usize::MAX), usize::MAX);
    assert_eq!(min_sources(usize::MAX / 2), usize::MAX);
    assert_eq!(max_faults(0), None);
    assert_eq!(max_faults(1), Some(0));
    assert_eq!(max_faults(2), Some(0));
    assert_eq!(max_faults(3), Some(1));
    assert_eq!(max_faults(4), Some(1));
    assert_eq!(max_faults(5), Some(2));
    for n in 1..50 {
        let f = max_faults(n).unwrap();
        assert!(min_sources(f) <= n && min_sources(f + 1) > n);
    }
}

#[test]
fn too_few_sources() {
    assert_eq!(
        intersect(&[], 0),
        Err(IntersectError::TooFewSources { n: 0, needed: 1 })
    );
    let two = [iv(0, 1), iv(0, 1)];
    assert_eq!(
        intersect(&two, 1),
        Err(IntersectError::TooFewSources { n: 2, needed: 3 })
    );
    let four = [iv(0, 1); 4];
    assert_eq!(
        intersect(&four, 2),
        Err(IntersectError::TooFewSources { n: 4, needed: 5 })
    );
    // Exactly 2f + 1 is enough.
    assert!(intersect(&[iv(0, 1); 5], 2).is_ok());
    // A huge f does not overflow.
    assert_eq!(
        intersect(&four, usize::MAX),
        Err(IntersectError::TooFewSources {
            n: 4,
            needed: usize::MAX
        })
    );
}

#[test]
fn too_many_sources() {
    let many = [iv(0, 1); MAX_SOURCES + 1];
    assert_eq!(
        intersect(&many, 0),
        Err(IntersectError::TooManySources {
            n: MAX_SOURCES + 1,
            capacity: MAX_SOURCES
        })
    );
    assert_eq!(
        bounds(intersect(&many[..MAX_SOURCES], 0)),
        (0, 1),
        "exactly MAX_SOURCES fits"
    );
    let mut scratch = [0_i64; 2];
    assert_eq!(
        intersect_with_scratch(&[iv(0, 1); 3], 1, &mut scratch),
        Err(IntersectError::TooManySources { n: 3, capacity: 2 })
    );
    // TooFewSources is reported before the capacity check.
    assert_eq!(
        intersect_with_scratch(&[iv(0, 1); 3], 2, &mut scratch),
        Err(IntersectError::TooFewSources { n: 3, needed: 5 })
    );
}

#[test]
fn scratch_variant_handles_more_than_max_sources() {
    let mut intervals = [iv(0, 0); 1001];
    for (i, slot) in intervals.iter_mut().enumerate() {
        let i = i64::try_from(i).unwrap();
        *slot = iv(-i, i);
    }
    let mut scratch = [7_i64; 1001];
    // Lower bounds are 0, -1, ..., -1000; the 501st largest is -500.
    assert_eq!(
        bounds(intersect_with_scratch(&intervals, 500, &mut scratch)),
        (-500, 500)
    );
    // A longer scratch buffer is fine too.
    let mut long = [0_i64; 2000];
    assert_eq!(
        bounds(intersect_with_scratch(&intervals, 0, &mut long)),
        (0, 0)
    );
}

#[test]
fn f_zero_is_plain_intersection() {
    assert_eq!(
        bounds(intersect(&[iv(0, 10), iv(5, 20), iv(-3, 7)], 0)),
        (5, 7)
    );
    assert_eq!(bounds(intersect(&[iv(-4, 9)], 0)), (-4, 9));
    assert_eq!(
        intersect(&[iv(0, 1), iv(2, 3)], 0),
        Err(IntersectError::NoAgreement { lower: 2, upper: 1 })
    );
}

#[test]
fn all_agree_identical() {
    let r = intersect(&[iv(-5, 5); 7], 3).unwrap();
    assert_eq!(r.interval(), iv(-5, 5));
    assert_eq!((r.sources(), r.faults()), (7, 3));
    assert_eq!((r.midpoint(), r.half_width()), (0, 5));
    assert!(r.classify_all(&[iv(-5, 5); 7]).all(|v| v.is_truechimer()));
}

#[test]
fn n_equals_2f_plus_1_is_median_of_bounds() {
    // Lowers 0, 3, 9 -> median 3; uppers 10, 12, 20 -> median 12.
    let r = intersect(&[iv(9, 12), iv(0, 20), iv(3, 10)], 1).unwrap();
    assert_eq!(r.interval(), iv(3, 12));
}

#[test]
fn touching_intervals_meet_at_a_point() {
    // Two correct sources share exactly the point 10.
    let r = intersect(&[iv(0, 10), iv(10, 20)], 0).unwrap();
    assert_eq!(r.interval(), Interval::point(10));
    // A source touching the result from outside is a truechimer.
    let r = intersect(&[iv(0, 10), iv(5, 15), iv(6, 12)], 1).unwrap();
    assert_eq!(r.interval(), iv(5, 12));
    assert_eq!(r.classify(&iv(-3, 5)), Verdict::Truechimer);
    assert_eq!(r.classify(&iv(12, 40)), Verdict::Truechimer);
    assert_eq!(
        r.classify(&iv(-3, 4)),
        Verdict::Falseticker {
            reason: FalseReason::Below { by: 1 }
        }
    );
    assert_eq!(
        r.classify(&iv(13, 40)),
        Verdict::Falseticker {
            reason: FalseReason::Above { by: 1 }
        }
    );
}

#[test]
fn zero_width_intervals() {
    // Three perfect clocks agreeing on one point.
    let r = intersect(&[Interval::point(42); 3], 1).unwrap();
    assert_eq!(r.interval(), Interval::point(42));
    // Two honest points at t = 42 and a liar point elsewhere.
    let sources = [
        Interval::point(42),
        Interval::point(1_000),
        Interval::point(42),
    ];
    let r = intersect(&sources, 1).unwrap();
    assert_eq!(r.interval(), Interval::point(42));
    let verdicts: [Verdict; 3] = core::array::from_fn(|i| r.classify(&sources[i]));
    assert_eq!(
        verdicts,
        [
            Verdict::Truechimer,
            Verdict::Falseticker {
                reason: FalseReason::Above { by: 958 }
            },
            Verdict::Truechimer
        ]
    );
    // Two correct point sources that disagree prove a fault when f = 0.
    assert_eq!(
        intersect(&[Interval::point(1), Interval::point(2)], 0),
        Err(IntersectError::NoAgreement { lower: 2, upper: 1 })
    );
}

#[test]
fn f_liars_on_one_side() {
    // t = 100; honest sources around it; two liars far above.
    let sources = [
        iv(90, 110),
        iv(1_000, 1_010),
        iv(95, 130),
        iv(1_005, 2_000),
        iv(80, 104),
    ];
    let r = intersect(&sources, 2).unwrap();
    // Lowers sorted descending: 1005, 1000, 95, 90, 80 -> L_3 = 95.
    // Uppers ascending: 104, 110, 130, 1010, 2000 -> H_3 = 130.
    assert_eq!(r.interval(), iv(95, 130));
    assert!(r.contains(100));
    let falsetickers: [bool; 5] =
        core::array::from_fn(|i| r.classify(&sources[i]).is_falseticker());
    assert_eq!(falsetickers, [false, true, false, true, false]);
    assert_eq!(
        r.classify(&sources[1]),
        Verdict::Falseticker {
            reason: FalseReason::Above { by: 870 }
        }
    );
}

#[test]
fn f_liars_on_both_sides() {
    let sources = [
        iv(-1_000, -900),
        iv(90, 110),
        iv(95, 130),
        iv(80, 104),
        iv(900, 1_000),
    ];
    let r = intersect(&sources, 2).unwrap();
    // Lowers descending: 900, 95, 90, 80, -1000 -> L_3 = 90.
    // Uppers ascending: -900, 104, 110, 130, 1000 -> H_3 = 110.
    assert_eq!(r.interval(), iv(90, 110));
    assert_eq!(
        r.classify(&sources[0]),
        Verdict::Falseticker {
            reason: FalseReason::Below { by: 990 }
        }
    );
    assert_eq!(
        r.classify(&sources[4]),
        Verdict::Falseticker {
            reason: FalseReason::Above { by: 790 }
        }
    );
    assert_eq!(
        r.classify_all(&sources)
            .filter(Verdict::is_falseticker)
            .count(),
        2
    );
}

#[test]
fn liars_inside_the_honest_range_are_truechimers() {
    // A liar with a falsely small bound, placed inside: it is not caught
    // and may even be the best truechimer, but the result still holds t.
    let sources = [iv(0, 100), iv(20, 120), iv(99, 101)];
    let r = intersect(&sources, 1).unwrap();
    assert_eq!(r.interval(), iv(20, 101));
    assert!(r.classify_all(&sources).all(|v| v.is_truechimer()));
    assert_eq!(r.best_truechimer(&sources), Some(2));
}

#[test]
fn wide_liar_cannot_widen_beyond_honest() {
    // The result can reach the honest hull [0, 20] but not beyond.
    let sources = [iv(i64::MIN, i64::MAX), iv(0, 10), iv(5, 20)];
    let r = intersect(&sources, 1).unwrap();
    assert_eq!(r.interval(), iv(0, 20));
    assert!(r.classify(&sources[0]).is_truechimer());
}

#[test]
fn width_bound_factor_two_is_reached() {
    // t = 0, w = 10: honest [-10, 0] and [0, 10], a wide liar.
    let sources = [iv(-10, 0), iv(0, 10), iv(-1_000, 1_000)];
    let r = intersect(&sources, 1).unwrap();
    assert_eq!(r.interval(), iv(-10, 10));
    assert_eq!(r.interval().width(), 2 * 10);
}

#[test]
fn f_plus_one_liars_at_2f_plus_1_give_a_wrong_answer() {
    // n = 3, f = 1, but two colluding liars: the result excludes t = 5
    // and the one honest source is blamed. No error can be raised: with
    // n = 2f + 1 the result is never empty.
    let sources = [iv(0, 10), iv(100, 110), iv(100, 110)];
    let r = intersect(&sources, 1).unwrap();
    assert_eq!(r.interval(), iv(100, 110));
    assert!(!r.contains(5));
    assert_eq!(
        r.classify(&sources[0]),
        Verdict::Falseticker {
            reason: FalseReason::Below { by: 90 }
        }
    );
}

#[test]
fn f_plus_one_liars_may_be_detected_with_2f_plus_2() {
    // n = 4, f = 1, two honest sources around t = 5 and two liars agreeing
    // elsewhere: the result is empty, which proves more than one fault.
    let sources = [iv(0, 10), iv(20, 30), iv(1, 9), iv(21, 29)];
    assert_eq!(
        intersect(&sources, 1),
        Err(IntersectError::NoAgreement {
            lower: 20,
            upper: 10
        })
    );
    // But colluding liars that overlap the honest ones are not caught, and
    // the result moves away from t = 5.
    let sources = [iv(0, 10), iv(9, 30), iv(1, 9), iv(9, 29)];
    let r = intersect(&sources, 1).unwrap();
    assert_eq!(r.interval(), iv(9, 10));
    assert!(!r.contains(5));
}

#[test]
fn raising_f_never_shrinks() {
    let sources = [iv(0, 10), iv(2, 12), iv(4, 14), iv(6, 16), iv(8, 18)];
    let r0 = intersect(&sources, 0).unwrap().interval();
    let r1 = intersect(&sources, 1).unwrap().interval();
    let r2 = intersect(&sources, 2).unwrap().interval();
    assert_eq!((r0, r1, r2), (iv(8, 10), iv(6, 12), iv(4, 14)));
    assert!(r1.contains_interval(&r0) && r2.contains_interval(&r1));
}

#[test]
fn order_does_not_matter() {
    let a = [iv(3, 9), iv(-2, 4), iv(1, 20), iv(0, 5), iv(7, 8)];
    let mut b = a;
    b.reverse();
    b.swap(0, 2);
    for f in 0..=2 {
        assert_eq!(intersect(&a, f), intersect(&b, f));
    }
}

#[test]
fn extreme_bounds() {
    let sources = [
        iv(i64::MIN, i64::MIN),
        iv(i64::MAX, i64::MAX),
        iv(i64::MIN, i64::MAX),
    ];
    let r = intersect(&sources, 1).unwrap();
    assert_eq!(r.interval(), iv(i64::MIN, i64::MAX));
    assert_eq!(
        intersect(&sources[..2], 0),
        Err(IntersectError::NoAgreement {
            lower: i64::MAX,
            upper: i64::MIN
        })
    );
    let r = intersect(&[iv(i64::MIN, i64::MIN + 1)], 0).unwrap();
    assert_eq!(r.midpoint(), i64::MIN);
    let narrow = intersect(&[iv(0, 0)], 0).unwrap();
    assert_eq!(
        narrow.classify(&Interval::point(i64::MAX)),
        Verdict::Falseticker {
            reason: FalseReason::Above {
                by: i64::MAX.unsigned_abs()
            }
        }
    );
    let low = intersect(&[iv(i64::MAX, i64::MAX)], 0).unwrap();
    assert_eq!(
        low.classify(&Interval::point(i64::MIN)),
        Verdict::Falseticker {
            reason: FalseReason::Below { by: u64::MAX }
        }
    );
}

#[test]
fn best_truechimer_choice() {
    let sources = [
        iv(0, 100),
        iv(40, 60),
        iv(45, 55),
        iv(200, 201),
        iv(-50, 50),
    ];
    let r = intersect(&sources, 2).unwrap();
    // Lowers descending 200, 45, 40, 0, -50 -> 40; uppers 50, 55, 60, 100, 201 -> 60.
    assert_eq!(r.interval(), iv(40, 60));
    assert_eq!(r.best_truechimer(&sources), Some(2));
    // Every midpoint 5, 10, 5 lies in [2, 11]; [9, 11] is narrowest.
    let sources = [iv(0, 10), iv(9, 11), iv(2, 8), iv(-100, 100), iv(3, 30)];
    let r = intersect(&sources, 2).unwrap();
    assert_eq!(r.interval(), iv(2, 11));
    assert_eq!(r.best_truechimer(&sources), Some(1));
    // A narrow truechimer whose midpoint lies outside is skipped.
    let edge = [iv(0, 10), iv(0, 10), iv(-4, 0)];
    let r2 = intersect(&edge, 1).unwrap();
    assert_eq!(r2.interval(), iv(0, 10));
    assert!(r2.classify(&edge[2]).is_truechimer());
    assert_eq!(
        r2.best_truechimer(&edge),
        Some(0),
        "ties go to the lowest index"
    );
    // No midpoint inside: None.
    assert_eq!(r2.best_truechimer(&[iv(-30, 2), iv(9, 40)]), None);
    assert_eq!(r.best_truechimer(&[]), None);
}

#[test]
fn display() {
    let r = intersect(&[iv(0, 10)], 0).unwrap();
    assert_eq!(r.to_string(), "[0, 10] ns (n = 1, f = 0)");
    assert_eq!(Verdict::Truechimer.to_string(), "truechimer");
    assert_eq!(
        Verdict::Falseticker {
            reason: FalseReason::Below { by: 3 }
        }
        .to_string(),
        "falseticker (3 ns below the intersection)"
    );
    assert_eq!(
        FalseReason::Above { by: 4 }.to_string(),
        "4 ns above the intersection"
    );
    assert_eq!(FalseReason::Above { by: 4 }.gap(), 4);
    assert_eq!(FalseReason::Below { by: 9 }.gap(), 9);
    assert_eq!(
        IntersectError::TooFewSources { n: 2, needed: 3 }.to_string(),
        "2 sources cannot tolerate the configured faults: 3 needed"
    );
    assert_eq!(
        IntersectError::TooManySources {
            n: 300,
            capacity: 256
        }
        .to_string(),
        "300 sources exceed the buffer of 256"
    );
    assert!(
        IntersectError::NoAgreement { lower: 2, upper: 1 }
            .to_string()
            .starts_with("no agreement: lower bound 2 ns exceeds upper bound 1 ns")
    );
}

#[test]
fn marzullo_is_tighter_than_order_statistics() {
    // Three honest sources holding [4, 10], two liars straddling edges.
    let sources = [iv(0, 10), iv(2, 12), iv(4, 14), iv(-20, 1), iv(13, 30)];
    assert_eq!(intersect(&sources, 2).unwrap().interval(), iv(2, 12));
    let m = marzullo(&sources, 2).unwrap();
    assert_eq!(m.interval(), iv(4, 10));
    assert_eq!((m.sources(), m.faults()), (5, 2));
    // A liar that meets the order-statistics result but lies in too few
    // intervals is caught only by Marzullo's form.
    let sources = [iv(0, 10), iv(0, 10), iv(4, 14), iv(13, 30), iv(12, 12)];
    let r = intersect(&sources, 2).unwrap();
    let m = marzullo(&sources, 2).unwrap();
    assert_eq!((r.interval(), m.interval()), (iv(4, 12), iv(4, 10)));
    assert!(r.classify(&sources[4]).is_truechimer());
    assert_eq!(
        m.classify(&sources[4]),
        Verdict::Falseticker {
            reason: FalseReason::Above { by: 2 }
        }
    );
}

#[test]
fn marzullo_detects_what_order_statistics_miss() {
    // n = 2f + 1: no time lies in two intervals, yet the order statistics
    // give [2, 3].
    let sources = [iv(0, 1), iv(2, 3), iv(4, 5)];
    assert_eq!(intersect(&sources, 1).unwrap().interval(), iv(2, 3));
    assert_eq!(
        marzullo(&sources, 1),
        Err(IntersectError::NoQuorum { quorum: 2, best: 1 })
    );
    // n = 4, f = 1: [5, 5] from the order statistics lies in only two.
    let sources = [iv(0, 10), iv(0, 1), iv(9, 10), iv(5, 5)];
    assert_eq!(intersect(&sources, 1).unwrap().interval(), iv(5, 5));
    assert_eq!(
        marzullo(&sources, 1),
        Err(IntersectError::NoQuorum { quorum: 3, best: 2 })
    );
}

#[test]
fn marzullo_hull_spans_a_gap() {
    // Times in >= 2 of 3: [0, 1] and [9, 10]; the hull is [0, 10].
    let sources = [iv(0, 10), iv(0, 1), iv(9, 10)];
    assert_eq!(marzullo(&sources, 1).unwrap().interval(), iv(0, 10));
}

#[test]
fn marzullo_edge_cases() {
    assert_eq!(
        marzullo(&[], 0),
        Err(IntersectError::TooFewSources { n: 0, needed: 1 })
    );
    assert_eq!(
        marzullo(&[iv(0, 1); 2], 1),
        Err(IntersectError::TooFewSources { n: 2, needed: 3 })
    );
    assert_eq!(
        marzullo(&[iv(0, 1); MAX_SOURCES + 1], 0),
        Err(IntersectError::TooManySources {
            n: MAX_SOURCES + 1,
            capacity: MAX_SOURCES
        })
    );
    assert_eq!(
        marzullo(&[iv(0, 1); MAX_SOURCES], 100).unwrap().interval(),
        iv(0, 1)
    );
    let mut scratch = [0_i64; 5];
    assert_eq!(
        marzullo_with_scratch(&[iv(0, 1); 3], 1, &mut scratch),
        Err(IntersectError::TooManySources { n: 3, capacity: 2 })
    );
    let mut scratch = [0_i64; 6];
    assert_eq!(
        marzullo_with_scratch(&[iv(0, 1); 3], 1, &mut scratch)
            .unwrap()
            .interval(),
        iv(0, 1)
    );
    // Points, touching ends, ties and the extremes.
    assert_eq!(
        marzullo(&[Interval::point(7); 3], 1).unwrap().interval(),
        Interval::point(7)
    );
    assert_eq!(
        marzullo(&[iv(0, 10), iv(10, 20)], 0).unwrap().interval(),
        Interval::point(10)
    );
    assert_eq!(
        marzullo(&[Interval::point(1), Interval::point(2)], 0),
        Err(IntersectError::NoQuorum { quorum: 2, best: 1 })
    );
    let extremes = [
        iv(i64::MIN, i64::MIN),
        iv(i64::MAX, i64::MAX),
        iv(i64::MIN, i64::MAX),
    ];
    assert_eq!(
        marzullo(&extremes, 1).unwrap().interval(),
        iv(i64::MIN, i64::MAX)
    );
    assert_eq!(
        marzullo(&extremes, 0),
        Err(IntersectError::NoQuorum { quorum: 3, best: 2 })
    );
    assert_eq!(
        IntersectError::NoQuorum { quorum: 3, best: 2 }.to_string(),
        "no quorum: no time lies in 3 intervals (at most 2), \
         more sources are faulty than tolerated"
    );
}

#[test]
fn marzullo_with_f_liars() {
    // The same one-sided and two-sided cases as for `intersect`.
    let one_side = [
        iv(90, 110),
        iv(1_000, 1_010),
        iv(95, 130),
        iv(1_005, 2_000),
        iv(80, 104),
    ];
    assert_eq!(marzullo(&one_side, 2).unwrap().interval(), iv(95, 104));
    let both_sides = [
        iv(-1_000, -900),
        iv(90, 110),
        iv(95, 130),
        iv(80, 104),
        iv(900, 1_000),
    ];
    assert_eq!(marzullo(&both_sides, 2).unwrap().interval(), iv(95, 104));
    // A scratch buffer with stale contents gives the same answer.
    let mut scratch = [i64::MAX; 10];
    assert_eq!(
        marzullo_with_scratch(&both_sides, 2, &mut scratch),
        marzullo(&both_sides, 2)
    );
}
