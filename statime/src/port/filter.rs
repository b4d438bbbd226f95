//! The mean path delay filter: a moving median, as linuxptp's default
//! `delay_filter moving_median` (length 10), which ignores the occasional
//! queued exchange that a mean would smear into every later offset.

use arrayvec::ArrayVec;

use crate::time::Duration;

/// Largest window the filter holds.
pub const MAX_DELAY_FILTER_LENGTH: usize = 16;

/// Median over the last `length` path delay measurements.
#[derive(Clone, Debug)]
pub struct MedianFilter {
    length: usize,
    samples: ArrayVec<Duration, MAX_DELAY_FILTER_LENGTH>,
}

impl MedianFilter {
    /// A filter over `length` samples (clamped to 1..=16).
    #[must_use]
    pub fn new(length: usize) -> Self {
        Self {
            length: length.clamp(1, MAX_DELAY_FILTER_LENGTH),
            samples: ArrayVec::new(),
        }
    }

    /// Forget every sample.
    pub fn reset(&mut self) {
        self.samples.clear();
    }

    /// Add a sample and return the new median.
    pub fn push(&mut self, d: Duration) -> Duration {
        if self.samples.len() >= self.length {
            self.samples.remove(0);
        }
        // Capacity is at least `length`, so this cannot fail.
        let _ = self.samples.try_push(d);
        self.median().unwrap_or(d)
    }

    /// The median (mean of the two middle values for an even count).
    #[must_use]
    pub fn median(&self) -> Option<Duration> {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        match n {
            0 => None,
            _ if n % 2 == 1 => sorted.get(n / 2).copied(),
            _ => Some((*sorted.get(n / 2 - 1)? + *sorted.get(n / 2)?).half()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_window() {
        let mut f = MedianFilter::new(3);
        assert_eq!(f.median(), None);
        assert_eq!(f.push(Duration::from_nanos(10)), Duration::from_nanos(10));
        assert_eq!(f.push(Duration::from_nanos(30)), Duration::from_nanos(20));
        assert_eq!(f.push(Duration::from_nanos(1000)), Duration::from_nanos(30));
        // 10 falls out of the window.
        assert_eq!(f.push(Duration::from_nanos(40)), Duration::from_nanos(40));
        f.reset();
        assert_eq!(f.median(), None);
        assert_eq!(MedianFilter::new(0).length, 1);
        assert_eq!(MedianFilter::new(99).length, MAX_DELAY_FILTER_LENGTH);
    }
}
