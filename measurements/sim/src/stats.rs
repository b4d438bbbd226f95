//! The figures of baselines.md section 1, computed from the once-per-second
//! samples of a node's true clock error.
//!
//! - RMS, mean, max |offset| and p99 |offset| (nearest rank) over the
//!   samples at or after the reset time;
//! - RMS frequency error (ppb) over the same samples;
//! - the sync time: the first sample after which |offset| <= the offset
//!   bound and |frequency error| <= the frequency bound hold for good, in
//!   seconds since the start of the run (clknetsim's convention) and since
//!   the node started. `None` when the last sample is still outside.
//!
//! Over several seeds ([`Aggregate`]): RMS, mean, p99 and RMS frequency
//! are the means of the seeds' figures, max is the worst seed's, and the
//! sync times are reported as their range.

use crate::scenario::Convergence;

/// One sample of a node's clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// True time, s.
    pub t_s: f64,
    /// PTP clock minus true time, ns.
    pub offset_ns: f64,
    /// Total frequency error (oscillator + adjustment), ppb.
    pub freq_ppb: f64,
    /// The node's first port state (short name).
    pub state: &'static str,
    /// The servo's ptp4l state code (0..3), or -1 without a servo.
    pub servo: i8,
}

/// The figures of one node in one run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Samples used (at or after the reset time).
    pub samples: usize,
    /// RMS of the offset, ns.
    pub rms_ns: f64,
    /// Mean offset, ns.
    pub mean_ns: f64,
    /// Max |offset|, ns.
    pub max_ns: f64,
    /// 99th percentile of |offset| (nearest rank), ns.
    pub p99_ns: f64,
    /// RMS frequency error, ppb.
    pub rms_freq_ppb: f64,
    /// Sync time since the start of the run, s.
    pub sync_s: Option<f64>,
    /// Sync time since the node started, s.
    pub sync_after_start_s: Option<f64>,
}

/// The nearest-rank percentile `q` (0..1) of `v` (sorted in place).
#[must_use]
pub fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((v.len() as f64) * q).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

impl Stats {
    /// The figures of `series` (in time order) for a node that started at
    /// `start_s`, with statistics from `reset_s`.
    #[must_use]
    pub fn compute(series: &[Sample], reset_s: f64, start_s: f64, conv: &Convergence) -> Self {
        let used: Vec<&Sample> = series.iter().filter(|s| s.t_s >= reset_s).collect();
        #[allow(clippy::cast_precision_loss)]
        let n = used.len().max(1) as f64;
        let mut abs: Vec<f64> = used.iter().map(|s| s.offset_ns.abs()).collect();
        let rms_ns = (used.iter().map(|s| s.offset_ns * s.offset_ns).sum::<f64>() / n).sqrt();
        let mean_ns = used.iter().map(|s| s.offset_ns).sum::<f64>() / n;
        let max_ns = abs.iter().copied().fold(0.0, f64::max);
        let rms_freq_ppb = (used.iter().map(|s| s.freq_ppb * s.freq_ppb).sum::<f64>() / n).sqrt();
        let p99_ns = percentile(&mut abs, 0.99);
        let bad =
            |s: &Sample| s.offset_ns.abs() > conv.offset_ns || s.freq_ppb.abs() > conv.freq_ppb;
        let after_start: Vec<&Sample> = series.iter().filter(|s| s.t_s >= start_s).collect();
        let sync_s = match after_start.iter().rposition(|s| bad(s)) {
            None => after_start.first().map(|s| s.t_s),
            Some(i) => after_start.get(i + 1).map(|s| s.t_s),
        };
        Self {
            samples: used.len(),
            rms_ns,
            mean_ns,
            max_ns,
            p99_ns,
            rms_freq_ppb,
            sync_s,
            sync_after_start_s: sync_s.map(|s| s - start_s),
        }
    }
}

/// Figures of one node aggregated over seeds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Aggregate {
    /// Seeds aggregated.
    pub runs: usize,
    /// Mean of the seeds' RMS, ns.
    pub rms_ns: f64,
    /// Mean of the seeds' mean, ns.
    pub mean_ns: f64,
    /// Worst seed's max |offset|, ns.
    pub max_ns: f64,
    /// Mean of the seeds' p99, ns.
    pub p99_ns: f64,
    /// Mean of the seeds' RMS frequency error, ppb.
    pub rms_freq_ppb: f64,
    /// Shortest and longest sync time since the run's start, s (`None`
    /// entries are seeds that never converged).
    pub sync_s: Vec<Option<f64>>,
    /// The same since the node's start.
    pub sync_after_start_s: Vec<Option<f64>>,
}

impl Aggregate {
    /// Aggregates the figures of several seeds.
    #[must_use]
    pub fn of(stats: &[Stats]) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let n = stats.len().max(1) as f64;
        let mean = |f: fn(&Stats) -> f64| stats.iter().map(f).sum::<f64>() / n;
        Self {
            runs: stats.len(),
            rms_ns: mean(|s| s.rms_ns),
            mean_ns: mean(|s| s.mean_ns),
            max_ns: stats.iter().map(|s| s.max_ns).fold(0.0, f64::max),
            p99_ns: mean(|s| s.p99_ns),
            rms_freq_ppb: mean(|s| s.rms_freq_ppb),
            sync_s: stats.iter().map(|s| s.sync_s).collect(),
            sync_after_start_s: stats.iter().map(|s| s.sync_after_start_s).collect(),
        }
    }

    /// The sync times as "lo..hi" (or "lo"), with the count of seeds that
    /// never converged.
    #[must_use]
    pub fn sync_range(v: &[Option<f64>]) -> String {
        let ok: Vec<f64> = v.iter().flatten().copied().collect();
        let never = v.len() - ok.len();
        if ok.is_empty() {
            return "never".into();
        }
        let lo = ok.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ok.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut s = if (hi - lo).abs() < 0.5 {
            format!("{lo:.0}")
        } else {
            format!("{lo:.0}..{hi:.0}")
        };
        if never > 0 {
            s.push_str(&format!(" ({never}/{} never)", v.len()));
        }
        s
    }

    /// The longest sync time after the node's start, `None` if any seed
    /// never converged.
    #[must_use]
    pub fn worst_sync_after_start(&self) -> Option<f64> {
        self.sync_after_start_s
            .iter()
            .try_fold(0.0f64, |acc, s| s.map(|s| acc.max(s)))
    }
}

/// Formats nanoseconds with a unit that keeps 3 significant digits.
#[must_use]
pub fn fmt_ns(ns: f64) -> String {
    let a = ns.abs();
    if a >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if a >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if a >= 1e4 {
        format!("{:.1} us", ns / 1e3)
    } else if a >= 1e3 {
        format!("{:.2} us", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}
