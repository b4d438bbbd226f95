//! A histogram of non-negative values in logarithmic bins, for medians over
//! millions of rounds without keeping every value.
//!
//! Bin `k >= 1` holds the values in `[r^(k-1), r^k)` with `r = 1.001`
//! (0.1 % wide); bin 0 holds the values below 1. A quantile is reported as
//! the geometric middle of its bin, so it is within 0.05 % of the exact
//! nearest-rank quantile (or below 1 when that is).

/// The ratio between the ends of a bin.
const RATIO: f64 = 1.001;

/// Counts per logarithmic bin, kept densely over the bins touched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogHistogram {
    /// The bin of `counts[0]`.
    first: u32,
    counts: Vec<u64>,
    total: u64,
}

impl LogHistogram {
    /// An empty histogram.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            first: 0,
            counts: Vec::new(),
            total: 0,
        }
    }

    fn bin(v: f64) -> u32 {
        if v.is_nan() || v < 1.0 {
            return 0;
        }
        // ln(1e300) / ln(1.001) is about 6.9e5: far inside u32.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let k = (v.ln() / RATIO.ln()).floor().min(f64::from(u32::MAX - 1)) as u32;
        k + 1
    }

    fn value(bin: u32) -> f64 {
        if bin == 0 {
            0.0
        } else {
            (RATIO.ln() * (f64::from(bin) - 0.5)).exp()
        }
    }

    /// Adds `c` to bin `k`, growing the dense range as needed.
    fn bump(&mut self, k: u32, c: u64) {
        if self.counts.is_empty() {
            self.first = k;
        } else if k < self.first {
            let grow = (self.first - k) as usize;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first = k;
        }
        let i = (k - self.first) as usize;
        if i >= self.counts.len() {
            self.counts.resize(i + 1, 0);
        }
        self.counts[i] += c;
        self.total += c;
    }

    /// Counts `v` (negative values count as 0).
    pub fn add(&mut self, v: f64) {
        self.bump(Self::bin(v), 1);
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Self) {
        for (i, &c) in other.counts.iter().enumerate() {
            if c > 0 {
                #[allow(clippy::cast_possible_truncation)]
                self.bump(other.first + i as u32, c);
            }
        }
    }

    /// The number of values counted.
    #[must_use]
    pub const fn len(&self) -> u64 {
        self.total
    }

    /// No value counted.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The nearest-rank quantile `q` (0..=1), `None` when empty.
    #[must_use]
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.total == 0 {
            return None;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let rank = ((self.total as f64) * q.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        let mut last = self.first;
        for (i, &c) in self.counts.iter().enumerate() {
            #[allow(clippy::cast_possible_truncation)]
            let k = self.first + i as u32;
            if c > 0 {
                last = k;
            }
            seen += c;
            if seen >= rank {
                return Some(Self::value(k));
            }
        }
        Some(Self::value(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_within_a_twentieth_of_a_percent() {
        let mut h = LogHistogram::new();
        for v in 1..=1001 {
            h.add(f64::from(v) * 10.0);
        }
        let m = h.quantile(0.5).unwrap();
        assert!((m - 5010.0).abs() / 5010.0 < 0.0005, "{m}");
        assert_eq!(h.len(), 1001);
        let mut g = LogHistogram::new();
        g.add(0.2);
        g.add(-3.0);
        assert_eq!(g.quantile(1.0), Some(0.0));
        g.merge(&h);
        assert_eq!(g.len(), 1003);
        assert!(LogHistogram::new().quantile(0.5).is_none());
    }
}
