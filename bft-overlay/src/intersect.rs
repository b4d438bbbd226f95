//! Fault-tolerant intersection of time intervals.
//!
//! Each of `n` sources reports a closed interval `[lower, upper]` (an
//! [`Interval`]) that, if the source is correct, contains the true time `t`.
//! At most `f` sources are faulty and may report anything. Write `L_k` for
//! the k-th largest lower bound and `H_k` for the k-th smallest upper bound.
//! [`intersect`] returns `[L_{f+1}, H_{f+1}]` and guarantees, whenever at most
//! `f` sources are faulty and `n >= 2f+1`:
//!
//! 1. `t` lies in the result (so an empty result proves more than `f` faults);
//! 2. the result contains the intersection of all correct intervals;
//! 3. the result lies inside `[L'_{f+1}, H'_{f+1}]` computed over the correct
//!    intervals alone, hence inside the hull of the correct intervals: liars
//!    cannot move it outside what the honest sources already allow;
//! 4. its width is at most twice the width of the (f+1)-th narrowest correct
//!    interval.
//!
//! The proofs are on [`intersect`]. [`marzullo`] refines it to the hull of
//! the times lying in at least `n - f` intervals: never wider, the same
//! guarantees, and it detects more faults. A source whose interval does not
//! meet the result cannot be correct and is classified as a falseticker
//! ([`Intersection::classify`]).
//!
//! This module uses only `core`, does no I/O, reads no clock and never
//! allocates: [`intersect`] and [`marzullo`] work in fixed stack buffers
//! sized for [`MAX_SOURCES`] sources, [`intersect_with_scratch`] and
//! [`marzullo_with_scratch`] in a buffer the caller provides.

use core::fmt;

/// The largest number of sources [`intersect`] accepts; it sorts in a stack
/// buffer of this many `i64` (2 KiB). Use [`intersect_with_scratch`] for more.
pub const MAX_SOURCES: usize = 256;

/// A closed interval `[lower, upper]` of signed nanoseconds, `lower <= upper`.
///
/// For a time source it is the range, relative to the local clock, in which
/// the source claims true time lies: `offset ± bound`. Zero width (a point)
/// is allowed. The invariant `lower <= upper` is enforced by every
/// constructor, so a faulty source cannot hand the intersection an inverted
/// interval.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Interval {
    lower: i64,
    upper: i64,
}

/// The error of [`Interval::new`]: the lower bound exceeds the upper bound.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct InvalidInterval {
    /// The rejected lower bound.
    pub lower: i64,
    /// The rejected upper bound (smaller than `lower`).
    pub upper: i64,
}

impl fmt::Display for InvalidInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid interval: lower bound {} ns exceeds upper bound {} ns",
            self.lower, self.upper
        )
    }
}

impl core::error::Error for InvalidInterval {}

impl Interval {
    /// The interval `[lower, upper]`, or an error if `lower > upper`.
    pub const fn new(lower: i64, upper: i64) -> Result<Self, InvalidInterval> {
        if lower <= upper {
            Ok(Self { lower, upper })
        } else {
            Err(InvalidInterval { lower, upper })
        }
    }

    /// The zero-width interval `[t, t]`.
    #[must_use]
    pub const fn point(t: i64) -> Self {
        Self { lower: t, upper: t }
    }

    /// The interval `offset ± bound`.
    ///
    /// Ends that would overflow saturate at `i64::MIN` / `i64::MAX`; that
    /// only widens the interval, which keeps a correct source correct.
    #[must_use]
    pub const fn around(offset: i64, bound: u64) -> Self {
        Self {
            lower: offset.saturating_sub_unsigned(bound),
            upper: offset.saturating_add_unsigned(bound),
        }
    }

    /// The lower bound in nanoseconds.
    #[must_use]
    pub const fn lower(&self) -> i64 {
        self.lower
    }

    /// The upper bound in nanoseconds.
    #[must_use]
    pub const fn upper(&self) -> i64 {
        self.upper
    }

    /// `upper - lower` in nanoseconds (exact: it cannot overflow a `u64`).
    #[must_use]
    pub const fn width(&self) -> u64 {
        self.upper.abs_diff(self.lower)
    }

    /// The midpoint, rounded towards negative infinity.
    #[must_use]
    pub const fn midpoint(&self) -> i64 {
        // lower + floor(width / 2) stays within [lower, upper]: no overflow.
        self.lower.saturating_add_unsigned(self.width() / 2)
    }

    /// Half the width, rounded up, so that `midpoint() ± half_width()` covers
    /// the whole interval (it may reach 1 ns below `lower` when the width is
    /// odd, never less far than the interval).
    #[must_use]
    pub const fn half_width(&self) -> u64 {
        self.width().div_ceil(2)
    }

    /// Whether `t` lies in the interval (ends included).
    #[must_use]
    pub const fn contains(&self, t: i64) -> bool {
        self.lower <= t && t <= self.upper
    }

    /// Whether `other` lies entirely inside this interval.
    #[must_use]
    pub const fn contains_interval(&self, other: &Self) -> bool {
        self.lower <= other.lower && other.upper <= self.upper
    }

    /// Whether the two intervals share at least one point (touching ends
    /// count: the intervals are closed).
    #[must_use]
    pub const fn intersects(&self, other: &Self) -> bool {
        self.lower <= other.upper && other.lower <= self.upper
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}] ns", self.lower, self.upper)
    }
}

/// The smallest number of sources that tolerates `f` faulty ones: `2f + 1`
/// (saturating at `usize::MAX`, a count no slice reaches).
#[must_use]
pub const fn min_sources(f: usize) -> usize {
    f.saturating_mul(2).saturating_add(1)
}

/// The largest `f` that `n` sources tolerate: `(n - 1) / 2`, or `None` for
/// `n = 0`.
#[must_use]
pub const fn max_faults(n: usize) -> Option<usize> {
    match n.checked_sub(1) {
        Some(m) => Some(m / 2),
        None => None,
    }
}

/// Why [`intersect`] gave no result.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum IntersectError {
    /// Fewer than `2f + 1` sources: with `f` of them possibly faulty the
    /// result would not be bounded by the correct sources.
    TooFewSources {
        /// The number of intervals given.
        n: usize,
        /// The number needed, `2f + 1`.
        needed: usize,
    },
    /// More sources than the sorting buffer holds ([`MAX_SOURCES`] for
    /// [`intersect`], the scratch length for [`intersect_with_scratch`]).
    TooManySources {
        /// The number of intervals given.
        n: usize,
        /// The buffer's capacity.
        capacity: usize,
    },
    /// The (f+1)-th largest lower bound exceeds the (f+1)-th smallest upper
    /// bound. No time is consistent with `n - f` sources, so this proves that
    /// more than `f` are faulty. It cannot happen with `n = 2f + 1`.
    NoAgreement {
        /// The (f+1)-th largest lower bound.
        lower: i64,
        /// The (f+1)-th smallest upper bound, smaller than `lower`.
        upper: i64,
    },
    /// From [`marzullo`]: no time lies in `n - f` of the intervals, which
    /// proves that more than `f` sources are faulty.
    NoQuorum {
        /// The number of intervals a time must lie in, `n - f`.
        quorum: usize,
        /// The most intervals any single time lies in (less than `quorum`).
        best: usize,
    },
}

impl fmt::Display for IntersectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::TooFewSources { n, needed } => write!(
                f,
                "{n} sources cannot tolerate the configured faults: {needed} needed"
            ),
            Self::TooManySources { n, capacity } => {
                write!(f, "{n} sources exceed the buffer of {capacity}")
            }
            Self::NoAgreement { lower, upper } => write!(
                f,
                "no agreement: lower bound {lower} ns exceeds upper bound {upper} ns, \
                 more sources are faulty than tolerated"
            ),
            Self::NoQuorum { quorum, best } => write!(
                f,
                "no quorum: no time lies in {quorum} intervals (at most {best}), \
                 more sources are faulty than tolerated"
            ),
        }
    }
}

impl core::error::Error for IntersectError {}

/// The fault-tolerant intersection `[L_{f+1}, H_{f+1}]` of `n` intervals, as
/// returned by [`intersect`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Intersection {
    interval: Interval,
    sources: usize,
    faults: usize,
}

impl Intersection {
    /// The resulting interval; it contains true time when at most
    /// [`faults`](Self::faults) sources are faulty.
    #[must_use]
    pub const fn interval(&self) -> Interval {
        self.interval
    }

    /// The result's lower bound, the (f+1)-th largest lower bound.
    #[must_use]
    pub const fn lower(&self) -> i64 {
        self.interval.lower
    }

    /// The result's upper bound, the (f+1)-th smallest upper bound.
    #[must_use]
    pub const fn upper(&self) -> i64 {
        self.interval.upper
    }

    /// The result's midpoint (rounded towards negative infinity): the
    /// estimate that minimises the worst-case error.
    #[must_use]
    pub const fn midpoint(&self) -> i64 {
        self.interval.midpoint()
    }

    /// The result's half-width (rounded up): the worst-case error of
    /// [`midpoint`](Self::midpoint).
    #[must_use]
    pub const fn half_width(&self) -> u64 {
        self.interval.half_width()
    }

    /// The number of intervals intersected, `n`.
    #[must_use]
    pub const fn sources(&self) -> usize {
        self.sources
    }

    /// The number of faulty sources tolerated, `f`.
    #[must_use]
    pub const fn faults(&self) -> usize {
        self.faults
    }

    /// Whether `t` lies in the result.
    #[must_use]
    pub const fn contains(&self, t: i64) -> bool {
        self.interval.contains(t)
    }

    /// Classifies one source by its interval.
    ///
    /// A correct source's interval contains true time, and true time lies in
    /// the result, so a correct source's interval meets the result. An
    /// interval that misses it therefore belongs to a faulty source: a
    /// [`Verdict::Falseticker`]. The converse does not hold: a faulty source
    /// may well report an interval that meets the result, and is then a
    /// truechimer for this round (it did no harm it could be caught at).
    #[must_use]
    pub const fn classify(&self, interval: &Interval) -> Verdict {
        if interval.upper < self.interval.lower {
            Verdict::Falseticker {
                reason: FalseReason::Below {
                    by: self.interval.lower.abs_diff(interval.upper),
                },
            }
        } else if interval.lower > self.interval.upper {
            Verdict::Falseticker {
                reason: FalseReason::Above {
                    by: interval.lower.abs_diff(self.interval.upper),
                },
            }
        } else {
            Verdict::Truechimer
        }
    }

    /// Classifies every interval, in order (normally the intervals that were
    /// intersected).
    pub fn classify_all<'a>(
        &'a self,
        intervals: &'a [Interval],
    ) -> impl ExactSizeIterator<Item = Verdict> + 'a {
        intervals.iter().map(|interval| self.classify(interval))
    }

    /// The index of the narrowest interval whose midpoint lies in the result
    /// (ties go to the lowest index), or `None` if no midpoint does.
    ///
    /// Such a source is a truechimer. Steering to its midpoint never leaves
    /// the result, so the error stays within the result's width even if that
    /// source is in fact a liar reporting a falsely small bound. A truechimer
    /// whose midpoint lies outside the result is not offered: its estimate is
    /// provably not true time.
    #[must_use]
    pub fn best_truechimer(&self, intervals: &[Interval]) -> Option<usize> {
        intervals
            .iter()
            .enumerate()
            .filter(|(_, interval)| self.contains(interval.midpoint()))
            .min_by_key(|(_, interval)| interval.width())
            .map(|(index, _)| index)
    }
}

impl fmt::Display for Intersection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (n = {}, f = {})",
            self.interval, self.sources, self.faults
        )
    }
}

/// A source's classification against an [`Intersection`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Verdict {
    /// The source's interval meets the result: it may be correct.
    Truechimer,
    /// The source's interval misses the result: it is certainly faulty (as
    /// long as at most `f` sources are).
    Falseticker {
        /// On which side it misses, and by how much.
        reason: FalseReason,
    },
}

impl Verdict {
    /// Whether this is [`Verdict::Truechimer`].
    #[must_use]
    pub const fn is_truechimer(&self) -> bool {
        matches!(self, Self::Truechimer)
    }

    /// Whether this is [`Verdict::Falseticker`].
    #[must_use]
    pub const fn is_falseticker(&self) -> bool {
        matches!(self, Self::Falseticker { .. })
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truechimer => f.write_str("truechimer"),
            Self::Falseticker { reason } => write!(f, "falseticker ({reason})"),
        }
    }
}

/// Why a source is a falseticker: its interval lies entirely on one side of
/// the result.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FalseReason {
    /// The source's upper bound is below the result's lower bound: it claims
    /// a time earlier than true time can be.
    Below {
        /// The gap in nanoseconds (at least 1).
        by: u64,
    },
    /// The source's lower bound is above the result's upper bound: it claims
    /// a time later than true time can be.
    Above {
        /// The gap in nanoseconds (at least 1).
        by: u64,
    },
}

impl FalseReason {
    /// The gap between the source's interval and the result, in nanoseconds.
    #[must_use]
    pub const fn gap(&self) -> u64 {
        match *self {
            Self::Below { by } | Self::Above { by } => by,
        }
    }
}

impl fmt::Display for FalseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Below { by } => write!(f, "{by} ns below the intersection"),
            Self::Above { by } => write!(f, "{by} ns above the intersection"),
        }
    }
}

/// Intersects `intervals` tolerating `f` faulty ones: returns
/// `[L_{f+1}, H_{f+1}]`, the (f+1)-th largest lower bound and the (f+1)-th
/// smallest upper bound.
///
/// Requires `n >= 2f + 1` intervals ([`IntersectError::TooFewSources`]) and
/// `n <=` [`MAX_SOURCES`] ([`IntersectError::TooManySources`]); returns
/// [`IntersectError::NoAgreement`] when `L_{f+1} > H_{f+1}`. The cost is
/// O(n) on average (two selections, no full sort) and nothing is allocated.
///
/// # Guarantees and their proofs
///
/// Let `C` be the set of correct sources (each interval contains the true
/// time `t`); at most `f` sources are outside `C`.
///
/// * **`t` is in the result.** Every lower bound greater than `t` belongs to
///   a faulty source, so at most `f` lower bounds exceed `t` and the (f+1)-th
///   largest is `<= t`. Symmetrically at most `f` upper bounds are below `t`,
///   so `H_{f+1} >= t`. This needs no bound on `n`. Consequently
///   `NoAgreement` proves that more than `f` sources are faulty.
/// * **The result contains the intersection of the correct intervals**
///   `[max_C lower, min_C upper]` (which holds `t`). Only faulty lower bounds
///   can exceed `max_C lower`, at most `f` of them, so
///   `L_{f+1} <= max_C lower`; symmetrically `H_{f+1} >= min_C upper`. In
///   particular, when all sources are correct the result contains the plain
///   intersection of all intervals.
/// * **The result is bounded by the correct sources.** Adding values to a
///   multiset never lowers its k-th largest element, so `L_{f+1}` is at least
///   the (f+1)-th largest lower bound among `C` alone, which exists because
///   `|C| >= n - f >= f + 1`: this is where `n >= 2f + 1` is needed.
///   Symmetrically `H_{f+1}` is at most the (f+1)-th smallest upper bound in
///   `C`. Both lie within the hull `[min_C lower, max_C upper]`. Without the
///   requirement, `f` liars could drag the result arbitrarily far (e.g. with
///   `n = 2f` the result could be bounded by liars alone).
/// * **Width.** For `i` in `C`, `t - lower_i <= width_i` and
///   `upper_i - t <= width_i`. Order statistics are monotone, so
///   `t - L'_{f+1}` and `H'_{f+1} - t` are each at most the (f+1)-th smallest
///   width in `C`, and the result is at most twice that wide. The factor 2
///   is reached (`f = 1`: `[t-w, t]`, `[t, t+w]` and a wide liar).
/// * **Monotone in `f`.** Raising `f` takes a lower order statistic of the
///   lower bounds and a higher one of the upper bounds, so the result only
///   grows; a result found for some `f` is contained in the result for any
///   larger admissible `f`.
/// * **`n = 2f + 1` never gives `NoAgreement`.** `L_{f+1} > H_{f+1}` needs
///   `f + 1` intervals with `lower >= L_{f+1}` (hence `upper > H_{f+1}`) and
///   `f + 1` other intervals with `upper <= H_{f+1}`, so `n >= 2f + 2`. With
///   exactly `2f + 1` sources the result is `[median lower, median upper]`,
///   never empty, so `f + 1` colluding liars there go undetected and can
///   move the result off `t`. Beyond `f` faults nothing is guaranteed.
///
/// # Example
///
/// ```
/// use bft_overlay::{Interval, Verdict, intersect};
///
/// let sources = [
///     Interval::around(100, 50),   // [50, 150]
///     Interval::around(120, 40),   // [80, 160]
///     Interval::around(5_000, 10), // a liar: [4990, 5010]
/// ];
/// let result = intersect(&sources, 1)?;
/// assert_eq!((result.lower(), result.upper()), (80, 160));
/// assert!(result.classify(&sources[2]).is_falseticker());
/// assert_eq!(result.classify(&sources[0]), Verdict::Truechimer);
/// # Ok::<(), bft_overlay::IntersectError>(())
/// ```
pub fn intersect(intervals: &[Interval], f: usize) -> Result<Intersection, IntersectError> {
    let mut scratch = [0_i64; MAX_SOURCES];
    intersect_with_scratch(intervals, f, &mut scratch)
}

/// [`intersect`] with a caller-provided sorting buffer, for any number of
/// sources: `scratch` needs at least `intervals.len()` entries (else
/// [`IntersectError::TooManySources`]); its contents on entry are ignored and
/// on return are unspecified.
pub fn intersect_with_scratch(
    intervals: &[Interval],
    f: usize,
    scratch: &mut [i64],
) -> Result<Intersection, IntersectError> {
    let n = intervals.len();
    let needed = min_sources(f);
    if n < needed {
        return Err(IntersectError::TooFewSources { n, needed });
    }
    let capacity = scratch.len();
    let Some(buffer) = scratch.get_mut(..n) else {
        return Err(IntersectError::TooManySources { n, capacity });
    };

    // n >= 2f + 1, so both indices below are in 0..n.
    // The (f+1)-th largest lower bound sits at ascending index n - 1 - f.
    for (slot, interval) in buffer.iter_mut().zip(intervals) {
        *slot = interval.lower;
    }
    let (_, &mut lower, _) = buffer.select_nth_unstable(n - 1 - f);

    // The (f+1)-th smallest upper bound sits at ascending index f.
    for (slot, interval) in buffer.iter_mut().zip(intervals) {
        *slot = interval.upper;
    }
    let (_, &mut upper, _) = buffer.select_nth_unstable(f);

    match Interval::new(lower, upper) {
        Ok(interval) => Ok(Intersection {
            interval,
            sources: n,
            faults: f,
        }),
        Err(_) => Err(IntersectError::NoAgreement { lower, upper }),
    }
}

/// Marzullo's form of the intersection: the hull of the times that lie in at
/// least `n - f` of the intervals.
///
/// Same requirements and result type as [`intersect`], of which it is a
/// refinement: when it succeeds its result lies inside [`intersect`]'s, so
/// it keeps every guarantee listed there (true time inside, the correct
/// intervals' intersection inside, bounded by the correct intervals, width,
/// monotone in `f`). It can be strictly narrower, and it detects more faults:
/// [`IntersectError::NoQuorum`] is returned when no single time lies in
/// `n - f` intervals, which [`intersect`] can miss (it is possible even with
/// `n = 2f + 1`).
///
/// Proof of the refinement: a time `x < L_{f+1}` lies below `f + 1` lower
/// bounds, so it misses at least `f + 1` intervals and lies in at most
/// `n - f - 1`; symmetrically above `H_{f+1}`. True time lies in every correct
/// interval, at least `n - f` of them, so it is one of the times counted.
///
/// Cost: two sorts of `n` values, O(n log n), in a stack buffer of
/// `2 *` [`MAX_SOURCES`] `i64` (4 KiB); nothing is allocated.
///
/// ```
/// use bft_overlay::{Interval, intersect, marzullo};
///
/// let iv = |lo, hi| Interval::new(lo, hi).unwrap();
/// // Three correct sources holding [4, 10], two liars straddling the edges.
/// let sources = [iv(0, 10), iv(2, 12), iv(4, 14), iv(-20, 1), iv(13, 30)];
/// assert_eq!(intersect(&sources, 2)?.interval(), iv(2, 12));
/// assert_eq!(marzullo(&sources, 2)?.interval(), iv(4, 10));
/// # Ok::<(), bft_overlay::IntersectError>(())
/// ```
pub fn marzullo(intervals: &[Interval], f: usize) -> Result<Intersection, IntersectError> {
    let mut scratch = [0_i64; 2 * MAX_SOURCES];
    marzullo_with_scratch(intervals, f, &mut scratch)
}

/// [`marzullo`] with a caller-provided sorting buffer of at least
/// `2 * intervals.len()` entries (else [`IntersectError::TooManySources`],
/// whose `capacity` is half the buffer); its contents on entry are ignored
/// and on return are unspecified.
pub fn marzullo_with_scratch(
    intervals: &[Interval],
    f: usize,
    scratch: &mut [i64],
) -> Result<Intersection, IntersectError> {
    let n = intervals.len();
    let needed = min_sources(f);
    if n < needed {
        return Err(IntersectError::TooFewSources { n, needed });
    }
    let capacity = scratch.len() / 2;
    let Some(buffer) = scratch.get_mut(..2 * n) else {
        return Err(IntersectError::TooManySources { n, capacity });
    };
    let (lowers, uppers) = buffer.split_at_mut(n);
    for ((lower, upper), interval) in lowers.iter_mut().zip(uppers.iter_mut()).zip(intervals) {
        *lower = interval.lower;
        *upper = interval.upper;
    }
    lowers.sort_unstable();
    uppers.sort_unstable();
    let quorum = n - f;

    // The depth (number of intervals holding x) rises only at lower bounds,
    // so the leftmost time of depth >= quorum, and the greatest depth, are
    // found at lower bounds: depth(v) = #(lower <= v) - #(upper < v).
    let mut best = 0;
    let mut left = None;
    let mut below = 0; // #(upper < v)
    for (i, &v) in lowers.iter().enumerate() {
        if lowers.get(i + 1) == Some(&v) {
            continue; // count a run of equal lower bounds once, at its end
        }
        while uppers.get(below).is_some_and(|&u| u < v) {
            below += 1;
        }
        let depth = (i + 1).saturating_sub(below);
        best = best.max(depth);
        if depth >= quorum {
            left = Some(v);
            break;
        }
    }
    let Some(lower) = left else {
        return Err(IntersectError::NoQuorum { quorum, best });
    };

    // Symmetrically the rightmost such time is an upper bound:
    // depth(v) = #(upper >= v) - #(lower > v). The scan stops at the latest
    // at `lower`, whose depth is known to reach the quorum.
    let mut upper = lower;
    let mut not_above = n; // lowers[..not_above] are <= v
    for (i, &v) in uppers.iter().enumerate().rev() {
        if i > 0 && uppers.get(i - 1) == Some(&v) {
            continue; // count a run of equal upper bounds once, at its start
        }
        while not_above > 0 && lowers.get(not_above - 1).is_some_and(|&l| l > v) {
            not_above -= 1;
        }
        let depth = (n - i).saturating_sub(n - not_above);
        if depth >= quorum {
            upper = v;
            break;
        }
    }

    Ok(Intersection {
        interval: Interval { lower, upper },
        sources: n,
        faults: f,
    })
}

#[cfg(test)]
mod tests;
